import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { Assets, type Settings } from '../dist/assets.mjs';
import { InvalidRequestError, UnsafeMediaError } from '../dist/runner.mjs';

// An in-memory S3 that answers the two commands the asset loader sends (HeadObject and
// GetObject). Only `send` is called; the cast stands in for the client's overloads.
interface Command { input: { Bucket: string; Key: string }; constructor: { name: string } }
function fakeS3(objects: Record<string, Buffer>): S3Client {
  const fake = {
    async send(command: Command) {
      const { Bucket, Key } = command.input;
      const body = objects[`${Bucket}/${Key}`];
      if (!body) throw Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
      if (command.constructor.name === 'HeadObjectCommand') return { ContentLength: body.length, ETag: `"${body.length}"` };
      return { Body: { transformToByteArray: async () => new Uint8Array(body) } };
    },
  };
  return fake as unknown as S3Client;
}

const config: Settings = { assetBuckets: ['assets-bucket'], outputBucket: 'out-bucket', imageHosts: [], fontsDir: '/nonexistent' };

test('a WOFF2 font is refused with a message that says what to upload', async () => {
  const assets = new Assets(fakeS3({ 'assets-bucket/f.woff2': Buffer.from('wOF2rest-of-font') }), config);
  await assert.rejects(assets.font('brand.fonts.heading', 's3://assets-bucket/f.woff2'),
    (err: unknown) => err instanceof InvalidRequestError && /^brand\.fonts\.heading: WOFF2 is not supported by Satori; upload the TTF, OTF or WOFF file$/.test(err.message));
});

test('TTF, OTF and WOFF fonts are accepted; anything else is not a font', async () => {
  const objects: Record<string, Buffer> = {
    'assets-bucket/a.ttf': Buffer.from([0, 1, 0, 0, 9]), 'assets-bucket/b.otf': Buffer.from('OTTO....'),
    'assets-bucket/c.woff': Buffer.from('wOFF....'), 'assets-bucket/d.ttf': Buffer.from('<html>'),
  };
  const assets = new Assets(fakeS3(objects), config);
  for (const name of ['a.ttf', 'b.otf', 'c.woff']) await assets.font('f', `s3://assets-bucket/${name}`);
  await assert.rejects(assets.font('f', 's3://assets-bucket/d.ttf'), /not a TTF, OTF or WOFF font file/);
});

test('assets from another bucket or of another type are refused naming the field', async () => {
  const assets = new Assets(fakeS3({ 'assets-bucket/x.gif': Buffer.from('GIF89a....') }), config);
  await assert.rejects(assets.image('props.image', 's3://other-bucket/x.png'),
    (err: unknown) => err instanceof InvalidRequestError && err.message.startsWith("props.image: bucket 'other-bucket' is not an allowed asset source"));
  await assert.rejects(assets.image('props.image', 's3://assets-bucket/x.gif'),
    (err: unknown) => err instanceof UnsafeMediaError && err.message === 'props.image: only PNG and JPEG images are allowed');
  await assert.rejects(assets.image('props.image', 's3://assets-bucket/missing.png'), /props\.image: s3:\/\/assets-bucket\/missing\.png does not exist/);
});

test('a card image is refused by the pixel count its header claims, before any decoding', async () => {
  // IHDR of a 100000x100000 RGB PNG, then IEND: nothing to inflate, only a claim.
  const chunk = (kind: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    return Buffer.concat([len, Buffer.from(kind, 'latin1'), data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(100000, 0); ihdr.writeUInt32BE(100000, 4); ihdr[8] = 8; ihdr[9] = 2;
  const iend = Buffer.from('0000000049454e44ae426082', 'hex');
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), iend]);
  const assets = new Assets(fakeS3({ 'assets-bucket/huge.png': png }), config);
  await assert.rejects(assets.image('props.image', 's3://assets-bucket/huge.png'),
    (err: unknown) => err instanceof UnsafeMediaError &&
      err.message === 'props.image: 100000x100000 is outside the allowed size (at most 67108864 pixels)');
});
