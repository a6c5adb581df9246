// Types of @smm-hub/payload-codec (index.mjs; .d.mts, the ES module typing TypeScript pairs with .mjs).
import type { DataConverter, PayloadCodec } from '@temporalio/common';

export class PayloadKeyError extends Error {}
export class PlaintextPayloadError extends PayloadKeyError {}

export interface PayloadKeys {
  active: string;
  keys: Map<string, Buffer>;
}

export function parseKeys(text: string, source: string): PayloadKeys;

export class AesGcmCodec implements PayloadCodec {
  constructor(keys: PayloadKeys, options?: { acceptPlaintext?: boolean });
  encode(payloads: Parameters<PayloadCodec['encode']>[0]): ReturnType<PayloadCodec['encode']>;
  decode(payloads: Parameters<PayloadCodec['decode']>[0]): ReturnType<PayloadCodec['decode']>;
}

export function encryptedDataConverter(
  keysJson: string, options?: { source?: string; plaintext?: string }): DataConverter;

export function dataConverterFromEnv(
  env?: Record<string, string | undefined>): DataConverter | undefined;
