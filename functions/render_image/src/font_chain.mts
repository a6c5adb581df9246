// The fonts layer's fallback chain (chain.json) for Satori, Twemoji for emoji, and the
// never-a-box check: a card whose text has a character no font (brand or chain) can draw
// fails before any Satori work, naming the prop and the character, as the video path does.
// Satori 0.63 itself segments text by script, asks for fonts per language
// (loadAdditionalAsset), shapes Arabic and orders bidirectional text; we answer its asks.
import fs from 'node:fs';
import path from 'node:path';
import type { Font, FontWeight, SatoriOptions } from 'satori';
import { codepoints, describe, INVISIBLE } from './font_coverage.mjs';
import { InvalidRequestError } from './runner.mjs';

const EMOJI = /^\p{RGI_Emoji}$/v;
const RTL = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]|[\u{10800}-\u{10fff}]|[\u{1e800}-\u{1efff}]/u;
const LETTER = /\p{L}/u;
const segmenter = new Intl.Segmenter('und', { granularity: 'grapheme' });

// Twemoji's file name for an emoji sequence: code points in hex joined by '-', without
// VS16 unless the sequence has a ZWJ (Twemoji's own rule; font_chain.py does the same).
export function twemojiName(sequence: string): string {
  let points = [...sequence].map((c) => c.codePointAt(0) ?? 0);
  if (!points.includes(0x200d)) points = points.filter((p) => p !== 0xfe0f);
  return points.map((p) => p.toString(16)).join('-');
}

// 'rtl' when the text's first letter is of a right-to-left script (Unicode's first-strong rule).
export type Direction = 'ltr' | 'rtl';

export function directionOf(text: string): Direction {
  const first = [...text].find((c) => LETTER.test(c));
  return first && RTL.test(first) ? 'rtl' : 'ltr';
}

function cjkLang(text: string): string | null {
  if (/[\u3040-\u30ff]/u.test(text)) return 'ja-JP';
  if (/[\uac00-\ud7af\u1100-\u11ff]/u.test(text)) return 'ko-KR';
  return null;
}

// chain.json, written by layers/fonts/assemble.py: the faces in fallback order.
interface ChainFile {
  fonts: { file: string; weight: FontWeight; lang?: string }[];
  emoji: { dir: string };
}
interface ChainEntry { file: string; weight: FontWeight; lang?: string; family: string }
interface LoadedFont { data: Buffer; covers: Set<number> }
// Satori's ask for more fonts or an emoji image (SatoriOptions.loadAdditionalAsset).
export type AssetLoader = NonNullable<SatoriOptions['loadAdditionalAsset']>;

export class FontChain {
  readonly dir: string;
  readonly entries: ChainEntry[];
  readonly emojiDir: string;
  private readonly loaded = new Map<string, LoadedFont>();

  constructor(fontsDir: string) {
    this.dir = fontsDir;
    const chain = JSON.parse(fs.readFileSync(path.join(fontsDir, 'chain.json'), 'utf8')) as ChainFile;
    this.entries = chain.fonts.map((f) => ({ ...f, family: f.file.split('-')[0] ?? f.file }));
    this.emojiDir = path.join(fontsDir, chain.emoji.dir);
  }

  load(entry: ChainEntry): LoadedFont {
    let font = this.loaded.get(entry.file);
    if (!font) {
      const data = fs.readFileSync(path.join(this.dir, entry.file));
      font = { data, covers: codepoints(data) };
      this.loaded.set(entry.file, font);
    }
    return font;
  }

  emojiFile(sequence: string): string | null {
    const file = path.join(this.emojiDir, `${twemojiName(sequence)}.svg`);
    return fs.existsSync(file) ? file : null;
  }

  // Satori fonts always given: the chain's faces that have no language of their own (Noto
  // Sans for Latin, Greek, Cyrillic; Devanagari), both weights. The rest are loaded on ask.
  baseFonts(): Font[] {
    return this.entries.filter((e) => !e.lang && ['NotoSans', 'NotoSansDevanagari'].includes(e.family))
      .map((e) => ({ name: `fallback-${e.family}`, data: this.load(e).data, weight: e.weight, style: 'normal' }));
  }

  // Throws InvalidRequestError naming the field and characters no font can draw.
  check(fields: [field: string, text: string][], brandCovers: Set<number>[]): void {
    const all = this.entries.map((e) => this.load(e).covers);
    for (const [field, text] of fields) {
      const missing: string[] = [];
      for (const { segment } of segmenter.segment(text)) {
        if (EMOJI.test(segment) && this.emojiFile(segment)) continue;
        for (const c of segment) {
          const p = c.codePointAt(0) ?? 0;
          if (INVISIBLE.has(p) || brandCovers.some((s) => s.has(p)) || all.some((s) => s.has(p))) continue;
          if (!missing.includes(c)) missing.push(c);
        }
      }
      if (missing.length) {
        const them = missing.length === 1 ? 'it' : 'them';
        throw new InvalidRequestError(`${field}: no font covers ${describe(missing)}; use a brand font that has ${them}, or remove ${them}`);
      }
    }
  }

  // Satori's loadAdditionalAsset for a card whose whole text is `text`.
  loader(text: string): AssetLoader {
    const preferred = cjkLang(text);
    return async (code, segment) => {
      if (code === 'emoji') {
        const file = this.emojiFile(segment);
        return file ? `data:image/svg+xml;base64,${fs.readFileSync(file).toString('base64')}` : '';
      }
      const codes = code.split('|');
      const lang = preferred && codes.includes(preferred) ? preferred : (codes[0] ?? code);
      const chars = [...segment].map((c) => c.codePointAt(0) ?? 0).filter((p) => !INVISIBLE.has(p));
      const has = (e: ChainEntry): boolean => chars.some((p) => this.load(e).covers.has(p));
      // CJK: every face that has some of the segment, the text's language first, so a
      // character the preferred face lacks (a simplified one in a Japanese card) is still
      // drawn by one that has it, never as a box. Other scripts: the chain's faces for them.
      let picked = this.entries.filter((e) => e.lang !== undefined && codes.includes(e.lang) && has(e));
      if (picked.length) {
        picked.sort((a, b) => Number(b.lang === lang) - Number(a.lang === lang));
        picked = [...picked, ...this.entries.filter((e) => e.lang && !picked.includes(e) && has(e))];
      } else {
        picked = this.entries.filter((e) => !e.lang && has(e));
      }
      if (!picked.length) picked = this.entries.filter(has).slice(0, 1);
      return picked.map((e): Font => ({ name: `fallback-${lang}-${e.family}`, data: this.load(e).data,
        weight: e.weight, style: 'normal', lang: lang as Font['lang'] }));
    };
  }
}

// The element tree with each text element set in the direction of its own text, and allowed
// to break inside a word longer than its line (a URL, a German compound): text never leaves
// the card. CJK needs no spaces to break in Satori.
const TEXT_STYLE = { wordBreak: 'break-word' };

// An element of the tree the templates build (a React element's shape, as Satori reads it).
export interface CardElement {
  type: string;
  props: { style?: Record<string, unknown>; children?: CardChild | CardChild[]; [prop: string]: unknown };
}
export type CardChild = CardElement | string | null | undefined | false;

export function withDirections<T extends CardChild>(node: T): T;
export function withDirections(node: CardChild): CardChild {
  if (!node || typeof node !== 'object') return node;
  const { children } = node.props;
  if (typeof children === 'string') {
    return { ...node, props: { ...node.props, style: { ...TEXT_STYLE, direction: directionOf(children), ...node.props.style } } };
  }
  if (Array.isArray(children)) {
    const own = children.filter((c) => typeof c === 'string').join('');
    const style = own ? { ...TEXT_STYLE, direction: directionOf(own), ...node.props.style } : node.props.style;
    return { ...node, props: { ...node.props, style, children: children.map(withDirections) } };
  }
  if (children && typeof children === 'object') return { ...node, props: { ...node.props, children: withDirections(children) } };
  return node;
}
