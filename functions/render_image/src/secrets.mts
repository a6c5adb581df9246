// Secrets Manager values through Powertools Parameters: fetched at cold start and kept an
// hour (as the Python functions' parameters.get_secret(max_age=3600)), so a rotated secret
// reaches a warm function within the hour, and a failed fetch is not cached.
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';

export async function secretString(arn: string, forceFetch = false): Promise<string> {
  const value = await getSecret(arn, { maxAge: 3600, forceFetch });
  return (typeof value === 'string' ? value : '').trim();
}
