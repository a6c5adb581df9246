// Inputs for a card: fonts (brand kit, else the fonts layer), the logo and prop images.
// S3 only from allowed buckets; https only through the SSRF guard; everything size-capped
// and type-checked from its bytes; fonts and the logo cached while the function is warm.
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  GetObjectCommand, HeadObjectCommand, type HeadObjectCommandOutput, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import type { Font } from 'satori';
import type { BrandKit, S3Object } from './contract.mjs';
import { FontChain } from './font_chain.mjs';
import { codepoints } from './font_coverage.mjs';
import { checkImage } from './image_header.mjs';
import { InvalidRequestError, UnsafeMediaError } from './runner.mjs';
import { guardedFetch } from './ssrf.mjs';

const MAX_FONT_BYTES = 20 * 1024 * 1024;
const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
const FONT_MAGIC: Record<string, string> = { '00010000': 'ttf', '4f54544f': 'otf', '74727565': 'ttf', '774f4646': 'woff' };
const cache = new Map<string, Buffer>();
const coverage = new WeakMap<Buffer, Set<number>>();

export interface Settings {
  assetBuckets: string[];
  outputBucket: string;
  imageHosts: string[];
  fontsDir: string;
}

export function settings(env: Record<string, string | undefined> = process.env): Settings {
  const list = (v: string | undefined): string[] => (v || '').split(',').map((s) => s.trim()).filter(Boolean);
  const assetBuckets = list(env.SMM_ASSET_BUCKETS);
  if (!assetBuckets.length || !env.SMM_OUTPUT_BUCKET) {
    throw new Error('SMM_ASSET_BUCKETS and SMM_OUTPUT_BUCKET must be set');
  }
  return { assetBuckets, outputBucket: env.SMM_OUTPUT_BUCKET, imageHosts: list(env.SMM_IMAGE_HOSTS),
    fontsDir: env.SMM_FONTS_DIR || '/opt/fonts' };
}

export function s3Client(env: Record<string, string | undefined> = process.env): S3Client {
  // A custom endpoint (moto, MinIO, LocalStack) wants path-style addressing.
  return new S3Client({ forcePathStyle: Boolean(env.AWS_ENDPOINT_URL) });
}

function parseS3(uri: string): S3Object | null {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m?.[1] && m[2] ? { bucket: m[1], key: m[2] } : null;
}

// S3 answers 404 (HeadObject's NotFound) for an object that is not there.
const isMissing = (err: unknown): boolean => {
  const e = err as { $metadata?: { httpStatusCode?: number }; name?: string } | undefined;
  return e?.$metadata?.httpStatusCode === 404 || e?.name === 'NotFound';
};

export class Assets {
  private chainCache: FontChain | undefined;

  constructor(readonly s3: S3Client, readonly config: Settings) {}

  // The fonts layer's fallback chain, read once per process.
  get chain(): FontChain {
    this.chainCache ??= new FontChain(this.config.fontsDir);
    return this.chainCache;
  }

  // The code points a brand font draws, read once per font file (by its bytes' identity).
  covers(data: Buffer): Set<number> {
    let covers = coverage.get(data);
    if (!covers) {
      covers = codepoints(data);
      coverage.set(data, covers);
    }
    return covers;
  }

  async s3Bytes(field: string, uri: string, maxBytes: number): Promise<Buffer> {
    const loc = parseS3(uri);
    if (!loc) throw new InvalidRequestError(`${field}: ${uri} is not an s3:// URI`);
    if (!this.config.assetBuckets.includes(loc.bucket)) {
      throw new InvalidRequestError(`${field}: bucket '${loc.bucket}' is not an allowed asset source (allowed: ${this.config.assetBuckets.join(', ')}); upload the file there first`);
    }
    let head: HeadObjectCommandOutput;
    try {
      head = await this.s3.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    } catch (err) {
      if (isMissing(err)) {
        throw new InvalidRequestError(`${field}: ${uri} does not exist`);
      }
      throw err;
    }
    if ((head.ContentLength ?? 0) > maxBytes) throw new UnsafeMediaError(`${field}: ${uri} is over ${maxBytes} bytes`);
    const cacheKey = `${uri}\0${head.ETag}`;
    const cached = cache.get(cacheKey);
    if (cached) return cached;
    const obj = await this.s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    if (!obj.Body) throw new Error(`${field}: S3 answered ${uri} without a body`);
    const bytes = Buffer.from(await obj.Body.transformToByteArray());
    if (cache.size > 64) cache.clear();
    cache.set(cacheKey, bytes);
    return bytes;
  }

  async font(field: string, uri: string): Promise<Buffer> {
    const bytes = await this.s3Bytes(field, uri, MAX_FONT_BYTES);
    const magic = bytes.subarray(0, 4).toString('hex');
    if (magic === '774f4632') {
      throw new InvalidRequestError(`${field}: WOFF2 is not supported by Satori; upload the TTF, OTF or WOFF file`);
    }
    if (!FONT_MAGIC[magic]) throw new InvalidRequestError(`${field}: not a TTF, OTF or WOFF font file`);
    return bytes;
  }

  async layerFont(name: string): Promise<Buffer> {
    const file = path.join(this.config.fontsDir, name);
    let bytes = cache.get(file);
    if (!bytes) {
      bytes = await fs.readFile(file);
      cache.set(file, bytes);
    }
    return bytes;
  }

  async fonts(brand: BrandKit): Promise<Font[]> {
    const load = async (role: string, fallback: string, weight: 400 | 700): Promise<Font> => {
      const uri = brand.fonts[role];
      return {
        name: role, weight, style: 'normal',
        data: uri ? await this.font(`brand.fonts.${role}`, uri) : await this.layerFont(fallback),
      };
    };
    return [await load('heading', 'Lato-Bold.ttf', 700), await load('body', 'Lato-Regular.ttf', 400)];
  }

  async image(field: string, ref: string): Promise<string> {
    const bytes = ref.startsWith('s3://')
      ? await this.s3Bytes(field, ref, MAX_IMAGE_BYTES)
      : await guardedFetch(ref, { allowHosts: this.config.imageHosts, maxBytes: MAX_IMAGE_BYTES })
        .catch((err: Error) => { throw new UnsafeMediaError(`${field}: ${err.message}`); });
    const type = checkImage(field, bytes); // before Satori or resvg decodes a pixel
    return `data:${type};base64,${bytes.toString('base64')}`;
  }

  async finished(output: S3Object, fingerprint: string): Promise<HeadObjectCommandOutput | null> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: output.bucket, Key: output.key }));
      return head.Metadata?.['request-sha256'] === fingerprint ? head : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async publish(output: S3Object, png: Buffer, fingerprint: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: output.bucket, Key: output.key, Body: png,
      ContentType: 'image/png', Metadata: { 'request-sha256': fingerprint } }));
  }
}
