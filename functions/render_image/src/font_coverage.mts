// Which characters a font can draw, from its cmap table (formats 12 and 4), as
// smm_runtime.font_coverage reads it in Python (a test holds the two to the same answer for
// every font of the chain). TTF, OTF, TTC and WOFF (a brand may upload WOFF for Satori).
import zlib from 'node:zlib';

// Characters that draw nothing and need no glyph: controls, joiners, variation selectors.
export const INVISIBLE = new Set([0x09, 0x0a, 0x0d, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f,
  0x2060, 0xfeff, ...Array.from({ length: 16 }, (_, i) => 0xfe00 + i),
  ...Array.from({ length: 96 }, (_, i) => 0xe0020 + i)]);

export class FontFormatError extends Error {}

function sfntCmap(data: Buffer, offset: number): Buffer | null {
  const count = data.readUInt16BE(offset + 4);
  for (let i = 0; i < count; i += 1) {
    const at = offset + 12 + 16 * i;
    if (data.toString('latin1', at, at + 4) === 'cmap') {
      const start = data.readUInt32BE(at + 8);
      return data.subarray(start, start + data.readUInt32BE(at + 12));
    }
  }
  return null;
}

function woffCmap(data: Buffer): Buffer | null {
  const count = data.readUInt16BE(12);
  for (let i = 0; i < count; i += 1) {
    const at = 44 + 20 * i;
    if (data.toString('latin1', at, at + 4) === 'cmap') {
      const [offset, comp, orig] = [data.readUInt32BE(at + 4), data.readUInt32BE(at + 8), data.readUInt32BE(at + 12)];
      const raw = data.subarray(offset, offset + comp);
      return comp < orig ? zlib.inflateSync(raw) : raw;
    }
  }
  return null;
}

function format12(cmap: Buffer, at: number, out: Set<number>): void {
  const groups = cmap.readUInt32BE(at + 12);
  for (let i = 0; i < groups; i += 1) {
    const g = at + 16 + 12 * i;
    const [start, end, glyph] = [cmap.readUInt32BE(g), cmap.readUInt32BE(g + 4), cmap.readUInt32BE(g + 8)];
    for (let c = start + (glyph === 0 ? 1 : 0); c <= end; c += 1) out.add(c);
  }
}

function format4(cmap: Buffer, at: number, out: Set<number>): void {
  const segX2 = cmap.readUInt16BE(at + 6);
  const segs = segX2 / 2;
  const rangeAt = at + 16 + 3 * segX2;
  for (let i = 0; i < segs; i += 1) {
    const end = cmap.readUInt16BE(at + 14 + 2 * i);
    const start = cmap.readUInt16BE(at + 16 + segX2 + 2 * i);
    const delta = cmap.readInt16BE(at + 16 + 2 * segX2 + 2 * i);
    const range = cmap.readUInt16BE(rangeAt + 2 * i);
    for (let c = start; c <= Math.min(end, 0xfffe); c += 1) {
      let glyph: number;
      if (range === 0) glyph = (c + delta) & 0xffff;
      else {
        glyph = cmap.readUInt16BE(rangeAt + 2 * i + range + 2 * (c - start));
        if (glyph) glyph = (glyph + delta) & 0xffff;
      }
      if (glyph) out.add(c);
    }
  }
}

// The set of code points the font (the first of a collection) maps to a glyph.
export function codepoints(data: Buffer): Set<number> {
  try {
    const magic = data.toString('latin1', 0, 4);
    let cmap: Buffer | null;
    if (magic === 'wOFF') cmap = woffCmap(data);
    else if (magic === 'ttcf') cmap = sfntCmap(data, data.readUInt32BE(12));
    else if (magic === '\x00\x01\x00\x00' || magic === 'OTTO' || magic === 'true') cmap = sfntCmap(data, 0);
    else throw new FontFormatError('not a TrueType, OpenType or WOFF font file');
    if (!cmap) throw new FontFormatError('the font has no cmap table');
    const subtables = new Map<string, number>();
    for (let i = 0; i < cmap.readUInt16BE(2); i += 1) {
      const rec = 4 + 8 * i;
      const at = cmap.readUInt32BE(rec + 4);
      subtables.set(`${cmap.readUInt16BE(rec)},${cmap.readUInt16BE(rec + 2)},${cmap.readUInt16BE(at)}`, at);
    }
    const out = new Set<number>();
    // Full Unicode first (format 12), then the Basic Multilingual Plane (format 4).
    for (const key of ['3,10,12', '0,4,12', '0,6,12', '0,3,12']) {
      const at = subtables.get(key);
      if (at !== undefined) { format12(cmap, at, out); return out; }
    }
    for (const key of ['3,1,4', '0,3,4', '0,1,4', '0,0,4']) {
      const at = subtables.get(key);
      if (at !== undefined) { format4(cmap, at, out); return out; }
    }
    throw new FontFormatError('the font has no Unicode cmap (format 4 or 12)');
  } catch (err) {
    if (err instanceof RangeError) throw new FontFormatError('the font file is truncated');
    throw err;
  }
}

// '"𓀀" (U+13000), "ꙮ" (U+A66E)': what to name in an error (as the Python path names it).
export function describe(chars: string[]): string {
  return chars.map((c) => `"${c}" (U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')})`).join(', ');
}
