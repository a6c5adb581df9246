// The Temporal connection, from Temporal's own environment configuration
// (@temporalio/envconfig: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
// TEMPORAL_TLS*, and the TOML profile file, read as the Temporal CLI and the Python side's
// temporalio.envconfig read them), with the same two rules of ours as
// smm_runtime.temporal_conn: the namespace defaults to smm-hub-core, and `default` is
// refused. One AsyncCompletionClient per process, reused while warm; a rotated API key
// reaches it without a restart (a refused call reads it again and is retried with it), and
// a key refused again makes the next call reconnect.
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Interceptor, InterceptingCall } from '@grpc/grpc-js';
import {
  AsyncCompletionClient, Connection, type ConnectionOptions, defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
} from '@temporalio/client';
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

// How the client is made; tests give their own (the local stack's server takes any key).
export interface ClientDeps {
  secret: (arn: string, forceFetch: boolean) => Promise<string>;
  connect: (config: ConnectConfig) => Promise<Pick<Connection, 'setApiKey'>>;
  client: (connection: Pick<Connection, 'setApiKey'>, namespace: string, env: Env) =>
    Promise<AsyncCompletionClient>;
}

// @temporalio/client 1.24's AsyncCompletionClient turns every gRPC error but NOT_FOUND into
// an ActivityCompletionError that keeps the message and drops the status code
// (lib/async-completion-client.js, handleError), so a refused key looked like a passing
// fault. This interceptor, outermost (after the SDK's own retries), records each call's
// final status in the async context the call was made in (withStatus).
const callStatus = new AsyncLocalStorage<{ code: number | null }>();
export const recordStatus: Interceptor = (options, nextCall) => {
  const holder = callStatus.getStore();
  return new InterceptingCall(nextCall(options), {
    start: (metadata, listener, next) => next(metadata, {
      onReceiveStatus: (status, nextStatus) => {
        if (holder) holder.code = status.code;
        nextStatus(status);
      },
    }),
  });
};

// Runs one client call; an error it throws carries the call's gRPC status as `code`.
export async function withStatus<R>(call: () => Promise<R>): Promise<R> {
  const holder = { code: null as number | null };
  try {
    return await callStatus.run(holder, call);
  } catch (err) {
    const e = err as { code?: unknown } | null;
    if (e && typeof e === 'object' && typeof e.code !== 'number' && holder.code !== null) {
      Object.defineProperty(e, 'code', { value: holder.code, enumerable: true });
    }
    throw err;
  }
}

const realDeps: ClientDeps = {
  secret: secretString,
  connect: (config) => Connection.connect({ address: config.address, tls: config.tls,
    apiKey: config.apiKey,
    interceptors: [recordStatus, makeGrpcRetryInterceptor(defaultGrpcRetryOptions())] }),
  // Sealed payloads when keys are configured: the shared server sees only ciphertext.
  client: async (connection, namespace, env) => new AsyncCompletionClient({
    connection: connection as Connection, namespace, dataConverter: await dataConverter(env) }),
};

interface Cached {
  client: AsyncCompletionClient;
  connection: Pick<Connection, 'setApiKey'>;
  apiKey: string | undefined;
}

let cached: Promise<Cached> | undefined;
let refresh = false;

// The server refused this client's credentials (a revoked or rotated key): read the secret
// again past its cache and connect anew on the next call, as smm_runtime's CachedClient does.
export function invalidateClient(): void {
  cached = undefined;
  refresh = true;
}

export async function completionClient(env: Env = process.env, deps: ClientDeps = realDeps):
  Promise<AsyncCompletionClient> {
  // As on the Python side: the API key from Secrets Manager, never in the environment.
  const secretArn = env.TEMPORAL_API_KEY ? undefined : env.SMM_TEMPORAL_API_KEY_SECRET_ARN;
  if (!cached) {
    const forceFetch = refresh;
    refresh = false;
    cached = (async () => {
      const config = connectConfig(secretArn
        ? { ...env, TEMPORAL_API_KEY: await deps.secret(secretArn, forceFetch) } : env);
      const connection = await deps.connect(config);
      return { client: await deps.client(connection, config.namespace, env), connection,
        apiKey: config.apiKey };
    })();
    cached.catch(() => { cached = undefined; refresh = forceFetch; });
  }
  const current = await cached;
  if (secretArn) {
    // A rotated key reaches a warm function once the secret's cache (an hour) ages out: the
    // open connection carries the new key from its next call.
    const apiKey = await deps.secret(secretArn, false);
    if (apiKey && apiKey !== current.apiKey) {
      current.connection.setApiKey(apiKey);
      current.apiKey = apiKey;
    }
  }
  return current.client;
}

// The server refused this client's key mid-invocation: read the secret past its cache and,
// when the key changed (a rotation that revoked the old one), give it to the open
// connection. True when the refused call may be retried with it (as smm_runtime's
// CachedClient.rekey); false when the key is the same (the refusal stands).
export async function rekeyClient(env: Env = process.env, deps: ClientDeps = realDeps):
  Promise<boolean> {
  const secretArn = env.TEMPORAL_API_KEY ? undefined : env.SMM_TEMPORAL_API_KEY_SECRET_ARN;
  if (!secretArn || !cached) return false;
  const current = await cached;
  const apiKey = await deps.secret(secretArn, true);
  if (!apiKey || apiKey === current.apiKey) return false;
  current.connection.setApiKey(apiKey);
  current.apiKey = apiKey;
  return true;
}
