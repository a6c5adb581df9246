// Inputs for a card: fonts (brand kit, else the fonts layer), the logo and prop images.
// S3 only from allowed buckets; https only through the SSRF guard; everything size-capped
// and type-checked from its bytes; fonts and the logo cached while the function is warm.
import fs from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { FontChain } from './font_chain.mjs';
import { codepoints } from './font_coverage.mjs';
import { checkImage } from './image_header.mjs';
import { InvalidRequestError, UnsafeMediaError } from './runner.mjs';
import { guardedFetch } from './ssrf.mjs';

const MAX_FONT_BYTES = 20 * 1024 * 1024;
const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
const FONT_MAGIC = { '00010000': 'ttf', '4f54544f': 'otf', '74727565': 'ttf', '774f4646': 'woff' };
const cache = new Map();
const coverage = new WeakMap();

export function settings(env = process.env) {
  const list = (v) => (v || '').split(',').map((s) => s.trim()).filter(Boolean);
  const assetBuckets = list(env.SMM_ASSET_BUCKETS);
  if (!assetBuckets.length || !env.SMM_OUTPUT_BUCKET) {
    throw new Error('SMM_ASSET_BUCKETS and SMM_OUTPUT_BUCKET must be set');
  }
  return { assetBuckets, outputBucket: env.SMM_OUTPUT_BUCKET, imageHosts: list(env.SMM_IMAGE_HOSTS),
    fontsDir: env.SMM_FONTS_DIR || '/opt/fonts' };
}

export function s3Client(env = process.env) {
  // A custom endpoint (moto, MinIO, LocalStack) wants path-style addressing.
  return new S3Client({ forcePathStyle: Boolean(env.AWS_ENDPOINT_URL) });
}

function parseS3(uri) {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m ? { bucket: m[1], key: m[2] } : null;
}

export class Assets {
  constructor(s3, config) { this.s3 = s3; this.config = config; }

  // The fonts layer's fallback chain, read once per process.
  get chain() {
    if (!this._chain) this._chain = new FontChain(this.config.fontsDir);
    return this._chain;
  }

  // The code points a brand font draws, read once per font file (by its bytes' identity).
  covers(data) {
    if (!coverage.has(data)) coverage.set(data, codepoints(data));
    return coverage.get(data);
  }

  async s3Bytes(field, uri, maxBytes) {
    const loc = parseS3(uri);
    if (!loc) throw new InvalidRequestError(`${field}: ${uri} is not an s3:// URI`);
    if (!this.config.assetBuckets.includes(loc.bucket)) {
      throw new InvalidRequestError(`${field}: bucket '${loc.bucket}' is not an allowed asset source (allowed: ${this.config.assetBuckets.join(', ')}); upload the file there first`);
    }
    let head;
    try {
      head = await this.s3.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    } catch (err) {
      if (err?.$metadata?.httpStatusCode === 404 || err?.name === 'NotFound') {
        throw new InvalidRequestError(`${field}: ${uri} does not exist`);
      }
      throw err;
    }
    if (head.ContentLength > maxBytes) throw new UnsafeMediaError(`${field}: ${uri} is over ${maxBytes} bytes`);
    const cacheKey = `${uri}\0${head.ETag}`;
    if (cache.has(cacheKey)) return cache.get(cacheKey);
    const obj = await this.s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    const bytes = Buffer.from(await obj.Body.transformToByteArray());
    if (cache.size > 64) cache.clear();
    cache.set(cacheKey, bytes);
    return bytes;
  }

  async font(field, uri) {
    const bytes = await this.s3Bytes(field, uri, MAX_FONT_BYTES);
    const magic = bytes.subarray(0, 4).toString('hex');
    if (magic === '774f4632') {
      throw new InvalidRequestError(`${field}: WOFF2 is not supported by Satori; upload the TTF, OTF or WOFF file`);
    }
    if (!FONT_MAGIC[magic]) throw new InvalidRequestError(`${field}: not a TTF, OTF or WOFF font file`);
    return bytes;
  }

  async layerFont(name) {
    const file = path.join(this.config.fontsDir, name);
    if (!cache.has(file)) cache.set(file, await fs.readFile(file));
    return cache.get(file);
  }

  async fonts(brand) {
    const load = async (role, fallback, weight) => ({
      name: role, weight, style: 'normal',
      data: brand.fonts[role] ? await this.font(`brand.fonts.${role}`, brand.fonts[role])
        : await this.layerFont(fallback),
    });
    return [await load('heading', 'Lato-Bold.ttf', 700), await load('body', 'Lato-Regular.ttf', 400)];
  }

  async image(field, ref) {
    const bytes = ref.startsWith('s3://')
      ? await this.s3Bytes(field, ref, MAX_IMAGE_BYTES)
      : await guardedFetch(ref, { allowHosts: this.config.imageHosts, maxBytes: MAX_IMAGE_BYTES })
        .catch((err) => { throw new UnsafeMediaError(`${field}: ${err.message}`); });
    const type = checkImage(field, bytes); // before Satori or resvg decodes a pixel
    return `data:${type};base64,${bytes.toString('base64')}`;
  }

  async finished(output, fingerprint) {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: output.bucket, Key: output.key }));
      return head.Metadata?.['request-sha256'] === fingerprint ? head : null;
    } catch (err) {
      if (err?.$metadata?.httpStatusCode === 404 || err?.name === 'NotFound') return null;
      throw err;
    }
  }

  async publish(output, png, fingerprint) {
    await this.s3.send(new PutObjectCommand({ Bucket: output.bucket, Key: output.key, Body: png,
      ContentType: 'image/png', Metadata: { 'request-sha256': fingerprint } }));
  }
}
