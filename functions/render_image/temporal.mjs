// The Temporal connection, from the same TEMPORAL_* settings the Python side reads (Temporal's
// environment configuration): one AsyncCompletionClient per process, reused while warm.
import fs from 'node:fs';
import { AsyncCompletionClient, Connection } from '@temporalio/client';
import { dataConverter } from './codec.mjs';
import { secretString } from './secrets.mjs';

export const DEFAULT_NAMESPACE = 'smm-hub-core';

export class TemporalConfigError extends Error {}

export function connectConfig(env = process.env) {
  const namespace = env.TEMPORAL_NAMESPACE || DEFAULT_NAMESPACE;
  if (namespace === 'default' && env.SMM_ALLOW_DEFAULT_NAMESPACE !== '1') {
    throw new TemporalConfigError(
      "TEMPORAL_NAMESPACE is 'default', which belongs to Postiz on the shared server: use " +
        "'smm-hub-core' (or set SMM_ALLOW_DEFAULT_NAMESPACE=1 if you really mean it)");
  }
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const flag = (env.TEMPORAL_TLS || '').toLowerCase();
  const certPath = env.TEMPORAL_TLS_CLIENT_CERT_PATH;
  // As in the Temporal CLI: an API key or client certificate implies TLS unless disabled.
  const wantTls = flag === 'true' || (flag !== 'false' && (apiKey || certPath));
  let tls;
  if (wantTls) {
    tls = {};
    if (env.TEMPORAL_TLS_SERVER_NAME) tls.serverNameOverride = env.TEMPORAL_TLS_SERVER_NAME;
    if (env.TEMPORAL_TLS_SERVER_CA_CERT_PATH) {
      tls.serverRootCACertificate = fs.readFileSync(env.TEMPORAL_TLS_SERVER_CA_CERT_PATH);
    }
    if (certPath) {
      tls.clientCertPair = {
        crt: fs.readFileSync(certPath),
        key: fs.readFileSync(env.TEMPORAL_TLS_CLIENT_KEY_PATH || ''),
      };
    }
  }
  return { address: env.TEMPORAL_ADDRESS || 'localhost:7233', namespace, apiKey, tls };
}

let cached;

export async function completionClient(env = process.env) {
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
