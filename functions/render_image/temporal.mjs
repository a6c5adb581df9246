// The Temporal connection, from the same TEMPORAL_* settings the Python side reads (Temporal's
// environment configuration): one AsyncCompletionClient per process, reused while warm.
import fs from 'node:fs';
import { AsyncCompletionClient, Connection } from '@temporalio/client';

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
    const config = connectConfig(env);
    cached = (async () => {
      const connection = await Connection.connect({
        address: config.address, tls: config.tls, apiKey: config.apiKey,
      });
      return new AsyncCompletionClient({ connection, namespace: config.namespace });
    })();
    cached.catch(() => { cached = undefined; });
  }
  return cached;
}
