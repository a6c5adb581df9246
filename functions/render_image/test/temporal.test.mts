// The warm function's Temporal client follows the API key: a rotated key in Secrets Manager
// reaches the open connection without a restart, and a refused one makes the next call read
// the secret past its cache and connect anew (as smm_runtime.temporal_conn.CachedClient).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AsyncCompletionClient } from '@temporalio/client';
import { type ClientDeps, completionClient, invalidateClient } from '../dist/temporal.mjs';

const ENV = { TEMPORAL_ADDRESS: 'localhost:7233', SMM_TEMPORAL_API_KEY_SECRET_ARN: 'arn:secret' };

function deps(keys: string[]) {
  const seen = { secretReads: [] as boolean[], connects: [] as (string | undefined)[],
    setKeys: [] as string[], clients: 0 };
  const made: ClientDeps = {
    secret: async (_arn, forceFetch) => { seen.secretReads.push(forceFetch); return keys[0] ?? ''; },
    connect: async (config) => {
      seen.connects.push(config.apiKey);
      return { setApiKey: (key: string | (() => string)) => { seen.setKeys.push(String(key)); } };
    },
    client: async () => { seen.clients += 1; return { id: seen.clients } as unknown as AsyncCompletionClient; },
  };
  return { seen, made };
}

test('a rotated key reaches the warm connection; a refusal reconnects with the key read anew', async () => {
  invalidateClient(); // whatever an earlier test cached
  const keys = ['key-one'];
  const { seen, made } = deps(keys);
  const first = await completionClient(ENV, made);
  assert.deepEqual(seen.connects, ['key-one']);
  assert.equal(seen.secretReads[0], true); // the invalidation above forces the first read

  keys[0] = 'key-two'; // rotated (the secret's cache aged out)
  const again = await completionClient(ENV, made);
  assert.equal(again, first); // same client, same connection
  assert.deepEqual(seen.connects, ['key-one']);
  assert.deepEqual(seen.setKeys, ['key-two']);

  invalidateClient(); // the server refused the credentials
  keys[0] = 'key-three';
  const fresh = await completionClient(ENV, made);
  assert.notEqual(fresh, first);
  assert.deepEqual(seen.connects, ['key-one', 'key-three']);
  assert.equal(seen.secretReads.at(-2), true); // read past the cache
});

test('a key given in the environment is used as it is, never a secret', async () => {
  invalidateClient();
  const { seen, made } = deps(['from-secret']);
  await completionClient({ ...ENV, TEMPORAL_API_KEY: 'from-env' }, made);
  assert.deepEqual(seen.connects, ['from-env']);
  assert.deepEqual(seen.secretReads, []);
  invalidateClient();
});
