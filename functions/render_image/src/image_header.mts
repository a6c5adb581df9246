// A card image is checked from its bytes before anything decodes it, with the limits and
// messages of the Python path (smm_runtime.image_inputs): the format from the signature, the
// pixel count from the header (a decompression bomb is refused by what it claims, never
// inflated), and a file cut short is refused rather than drawn half-empty.
import { UnsafeMediaError } from './runner.mjs';

export const MAX_PIXELS = 8192 * 8192; // smm_runtime.image_inputs.MAX_PIXELS
const PNG_SIGNATURE = '89504e470d0a1a0a';
const PNG_IEND = '0000000049454e44ae426082';
// JPEG start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

interface Size { width: number; height: number }

function jpegSize(bytes: Buffer): Size | null {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes.readUInt8(at + 1);
    if (marker === 0xff) { at += 1; continue; } // fill byte
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7)) { at += 2; continue; }
    const length = bytes.readUInt16BE(at + 2);
    if (SOF.has(marker)) return { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) };
    at += 2 + length;
  }
  return null;
}

// 'image/png' or 'image/jpeg' for an image that is safe to decode; throws UnsafeMediaError
// naming `field` otherwise.
export type ImageType = 'image/png' | 'image/jpeg';

export function checkImage(field: string, bytes: Buffer, maxPixels = MAX_PIXELS): ImageType {
  const hex = bytes.subarray(0, 8).toString('hex');
  let type: ImageType; let size: Size | null;
  if (hex === PNG_SIGNATURE) {
    if (bytes.length < 33 || bytes.subarray(12, 16).toString('latin1') !== 'IHDR') {
      throw new UnsafeMediaError(`${field}: not a readable image (no PNG header)`);
    }
    type = 'image/png';
    size = { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
    // Data after IEND (some editors append it) is harmless; a missing IEND is a cut file.
    if (bytes.lastIndexOf(Buffer.from(PNG_IEND, 'hex')) < 33) {
      throw new UnsafeMediaError(`${field}: not a readable image (truncated PNG file)`);
    }
  } else if (hex.startsWith('ffd8ff')) {
    type = 'image/jpeg';
    size = jpegSize(bytes);
    if (!size) throw new UnsafeMediaError(`${field}: not a readable image (no JPEG frame header)`);
    if (bytes.lastIndexOf(Buffer.from('ffd9', 'hex')) < 4) { // end of image, trailers allowed
      throw new UnsafeMediaError(`${field}: not a readable image (truncated JPEG file)`);
    }
  } else {
    throw new UnsafeMediaError(`${field}: only PNG and JPEG images are allowed`);
  }
  const { width, height } = size;
  if (width < 1 || height < 1 || width * height > maxPixels) {
    throw new UnsafeMediaError(`${field}: ${width}x${height} is outside the allowed size ` +
      `(at most ${maxPixels} pixels)`);
  }
  return type;
}
