// The Temporal connection, from Temporal's own environment configuration
// (@temporalio/envconfig: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
// TEMPORAL_TLS*, and the TOML profile file, read as the Temporal CLI and the Python side's
// temporalio.envconfig read them), with the same two rules of ours as
// smm_runtime.temporal_conn: the namespace defaults to smm-hub-core, and `default` is
// refused. One AsyncCompletionClient per process, reused while warm.
import { AsyncCompletionClient, Connection, type ConnectionOptions } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { dataConverter } from './codec.mjs';
import { secretString } from './secrets.mjs';

export const DEFAULT_NAMESPACE = 'smm-hub-core';

export class TemporalConfigError extends Error {}

export type Env = Record<string, string | undefined>;

export interface ConnectConfig {
  address: string;
  namespace: string;
  apiKey: string | undefined;
  tls: ConnectionOptions['tls'];
}

// The variables that are set (envconfig takes strings only).
const defined = (env: Env): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));

export function connectConfig(env: Env = process.env): ConnectConfig {
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: defined(env) });
  } catch (err) {
    throw new TemporalConfigError(`Temporal connection settings (TEMPORAL_*): ${(err as Error).message}`);
  }
  const namespace = loaded.namespace || DEFAULT_NAMESPACE;
  if (namespace === 'default' && env.SMM_ALLOW_DEFAULT_NAMESPACE !== '1') {
    throw new TemporalConfigError(
      "TEMPORAL_NAMESPACE is 'default', which belongs to Postiz on the shared server: use " +
        "'smm-hub-core' (or set SMM_ALLOW_DEFAULT_NAMESPACE=1 if you really mean it)");
  }
  const options = loaded.connectionOptions;
  return { address: options.address || 'localhost:7233', namespace,
    apiKey: typeof options.apiKey === 'string' ? options.apiKey : undefined, tls: options.tls };
}

let cached: Promise<AsyncCompletionClient> | undefined;

export async function completionClient(env: Env = process.env): Promise<AsyncCompletionClient> {
  if (!cached) {
    cached = (async () => {
      // As on the Python side: the API key from Secrets Manager, never in the environment.
      const secretArn = env.SMM_TEMPORAL_API_KEY_SECRET_ARN;
      const config = connectConfig(secretArn && !env.TEMPORAL_API_KEY
        ? { ...env, TEMPORAL_API_KEY: await secretString(secretArn) } : env);
      const connection = await Connection.connect({
        address: config.address, tls: config.tls, apiKey: config.apiKey,
      });
      // Sealed payloads when keys are configured: the shared server sees only ciphertext.
      return new AsyncCompletionClient({
        connection, namespace: config.namespace, dataConverter: await dataConverter(env),
      });
    })();
    cached.catch(() => { cached = undefined; });
  }
  return cached;
}
