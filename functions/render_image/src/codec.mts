// Payload encryption for the image function: @smm-hub/payload-codec (./payload-codec/, the
// package Node clients such as Payload use too), with the keys from this function's
// environment: SMM_PAYLOAD_KEYS_SECRET_ARN (Secrets Manager, read once per cold start) or
// SMM_PAYLOAD_KEYS inline, both {"active": "k1", "keys": {"k1": "<base64>"}}.
import type { DataConverter } from '@temporalio/common';
import { encryptedDataConverter } from '../payload-codec/index.mjs';
import { secretString } from './secrets.mjs';

export { AesGcmCodec, parseKeys, PayloadKeyError, PlaintextPayloadError } from '../payload-codec/index.mjs';

// The data converter for this process: plain unless keys are configured.
export async function dataConverter(env: Record<string, string | undefined> = process.env):
  Promise<DataConverter | undefined> {
  if (env.SMM_PAYLOAD_KEYS_SECRET_ARN) {
    return encryptedDataConverter(await secretString(env.SMM_PAYLOAD_KEYS_SECRET_ARN),
      { source: 'SMM_PAYLOAD_KEYS_SECRET_ARN', plaintext: env.SMM_PAYLOAD_PLAINTEXT });
  }
  if (env.SMM_PAYLOAD_KEYS) {
    return encryptedDataConverter(env.SMM_PAYLOAD_KEYS, { plaintext: env.SMM_PAYLOAD_PLAINTEXT });
  }
  return undefined;
}
