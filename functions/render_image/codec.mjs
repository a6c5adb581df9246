// Payload encryption, the same format as smm_runtime/codec.py: AES-256-GCM over the
// serialized Payload, nonce (12 bytes) + ciphertext + tag, the key id in the metadata and
// bound as authenticated data. Keys: SMM_PAYLOAD_KEYS_SECRET_ARN (Secrets Manager, read once
// per cold start) or SMM_PAYLOAD_KEYS inline, both {"active": "k1", "keys": {"k1": "<base64>"}}.
import crypto from 'node:crypto';
import { DefaultFailureConverter, defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { secretString } from './secrets.mjs';

const ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const Payload = proto.temporal.api.common.v1.Payload;

export class PayloadKeyError extends Error {}

export function parseKeys(text, source) {
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    throw new PayloadKeyError(`${source}: not JSON; expected {"active": "k1", "keys": {...}}`);
  }
  if (!data || typeof data !== 'object' || typeof data.keys !== 'object' || !data.keys) {
    throw new PayloadKeyError(`${source}: needs an object with 'active' and 'keys'`);
  }
  const keys = new Map();
  for (const [id, encoded] of Object.entries(data.keys)) {
    const raw = Buffer.from(String(encoded), 'base64');
    if (raw.length !== 32) {
      throw new PayloadKeyError(`${source}: keys.${id} is ${raw.length} bytes; AES-256 needs 32`);
    }
    keys.set(id, raw);
  }
  if (!keys.has(data.active)) {
    throw new PayloadKeyError(`${source}: active key ${JSON.stringify(data.active)} is not one of keys`);
  }
  return { active: data.active, keys };
}

export class AesGcmCodec {
  constructor({ active, keys }) {
    this.active = active;
    this.keys = keys;
  }

  async encode(payloads) {
    return payloads.map((payload) => {
      const nonce = crypto.randomBytes(NONCE_BYTES);
      const cipher = crypto.createCipheriv('aes-256-gcm', this.keys.get(this.active), nonce);
      cipher.setAAD(Buffer.from(this.active));
      const plain = Payload.encode(payload).finish();
      const sealed = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: Buffer.from(ENCODING), [KEY_ID]: Buffer.from(this.active) },
        data: Buffer.concat([nonce, sealed]),
      };
    });
  }

  async decode(payloads) {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (!encoding || Buffer.from(encoding).toString() !== ENCODING) return payload;
      const id = Buffer.from(payload.metadata[KEY_ID] ?? []).toString();
      const key = this.keys.get(id);
      if (!key) throw new PayloadKeyError(`payload sealed with key '${id}', which is not configured`);
      const data = Buffer.from(payload.data);
      const nonce = data.subarray(0, NONCE_BYTES);
      const tag = data.subarray(data.length - TAG_BYTES);
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAAD(Buffer.from(id));
      decipher.setAuthTag(tag);
      const body = data.subarray(NONCE_BYTES, data.length - TAG_BYTES);
      try {
        return Payload.decode(Buffer.concat([decipher.update(body), decipher.final()]));
      } catch {
        throw new PayloadKeyError(`payload under key '${id}' failed authentication`);
      }
    });
  }
}

// The data converter for this process: plain unless keys are configured.
export async function dataConverter(env = process.env) {
  let keys;
  if (env.SMM_PAYLOAD_KEYS_SECRET_ARN) {
    keys = parseKeys(await secretString(env.SMM_PAYLOAD_KEYS_SECRET_ARN), 'SMM_PAYLOAD_KEYS_SECRET_ARN');
  } else if (env.SMM_PAYLOAD_KEYS) {
    keys = parseKeys(env.SMM_PAYLOAD_KEYS, 'SMM_PAYLOAD_KEYS');
  }
  if (!keys) return undefined;
  return {
    payloadConverter: defaultPayloadConverter,
    failureConverter: new DefaultFailureConverter({ encodeCommonAttributes: true }),
    payloadCodecs: [new AesGcmCodec(keys)],
  };
}
