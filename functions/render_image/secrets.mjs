// Secrets Manager values, read once per cold start (the Lambda Node.js runtime ships the SDK;
// package.json pins it for local runs).
const cache = new Map();

export async function secretString(arn) {
  if (!cache.has(arn)) {
    const pending = (async () => {
      const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
      const answer = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }));
      return (answer.SecretString ?? '').trim();
    })();
    pending.catch(() => cache.delete(arn));
    cache.set(arn, pending);
  }
  return cache.get(arn);
}
