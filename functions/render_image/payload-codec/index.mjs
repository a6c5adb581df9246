// @smm-hub/payload-codec: payload encryption for Node clients of the smm-hub-core namespace
// (the image function, a Payload server using @temporalio/client directly). The same format
// as smm_runtime/codec.py, tested against it: AES-256-GCM over the serialized Payload, nonce
// (12 bytes) + ciphertext + tag, the key id in the metadata and bound as authenticated data.
// Keys: {"active": "k1", "keys": {"k1": "<base64 of 32 random bytes>"}}.
import crypto from 'node:crypto';
import { DefaultFailureConverter, defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';

const ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const Payload = proto.temporal.api.common.v1.Payload;

export class PayloadKeyError extends Error {}
// An unencrypted payload reached a process that has keys: its sender has none.
export class PlaintextPayloadError extends PayloadKeyError {}

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
  // acceptPlaintext: open unencrypted payloads as they are (only while switching encryption
  // on under running executions); otherwise they are refused, naming the sender's mistake.
  constructor({ active, keys }, { acceptPlaintext = false } = {}) {
    this.active = active;
    this.keys = keys;
    this.acceptPlaintext = acceptPlaintext;
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
      const encoding = Buffer.from(payload.metadata?.encoding ?? []).toString();
      if (encoding !== ENCODING) {
        if (this.acceptPlaintext) return payload;
        throw new PlaintextPayloadError(`a payload arrived unencrypted (encoding '${encoding}') ` +
          'but this process has payload keys: its sender has none, and what it sent is readable ' +
          'on the shared server. Give every client of the namespace the same SMM_PAYLOAD_KEYS (a ' +
          'Node client: @smm-hub/payload-codec); while switching encryption on under running ' +
          'executions, set SMM_PAYLOAD_PLAINTEXT=accept');
      }
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

function plaintextPolicy(value, source) {
  if (value === undefined || value === '' || value === 'refuse') return false;
  if (value === 'accept') return true;
  throw new PayloadKeyError(`${source}: '${value}' is neither 'refuse' (the default) nor 'accept'`);
}

// A data converter that seals every payload and failure (messages and stack traces too).
export function encryptedDataConverter(keysJson, { source = 'SMM_PAYLOAD_KEYS', plaintext } = {}) {
  return {
    payloadConverter: defaultPayloadConverter,
    failureConverter: new DefaultFailureConverter({ encodeCommonAttributes: true }),
    payloadCodecs: [new AesGcmCodec(parseKeys(keysJson, source),
      { acceptPlaintext: plaintextPolicy(plaintext, 'SMM_PAYLOAD_PLAINTEXT') })],
  };
}

// The converter a client of smm-hub-core must use, from its environment (SMM_PAYLOAD_KEYS,
// SMM_PAYLOAD_PLAINTEXT). No keys is an error unless the deployment runs without encryption
// (SMM_PAYLOAD_ENCRYPTION=off): a client that forgot its keys must not leak silently.
export function dataConverterFromEnv(env = process.env) {
  if (env.SMM_PAYLOAD_KEYS) {
    return encryptedDataConverter(env.SMM_PAYLOAD_KEYS, { plaintext: env.SMM_PAYLOAD_PLAINTEXT });
  }
  if (env.SMM_PAYLOAD_ENCRYPTION === 'off') return undefined;
  throw new PayloadKeyError('SMM_PAYLOAD_KEYS: not set; give this client the keys the worker ' +
    'uses (or SMM_PAYLOAD_ENCRYPTION=off for a deployment without payload encryption)');
}
