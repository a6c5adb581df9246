// Element tree -> SVG (Satori) -> PNG (resvg). Pure: no I/O, no network (every image in the
// tree is already a data: URI, so Satori never fetches anything itself).
import { Resvg } from '@resvg/resvg-js';
import satori from 'satori';
import { withDirections } from './font_chain.mjs';
import { checkTemplate } from './templates.mjs';

export const SIZES = { square: [1080, 1080], portrait: [1080, 1350], landscape: [1200, 675], link: [1200, 630] };

export function sizeName(width, height) {
  return Object.entries(SIZES).find(([, [w, h]]) => w === width && h === height)?.[0] ?? 'custom';
}

export const DEFAULT_COLORS = { primary: '#1E3A8A', accent: '#F59E0B', background: '#0B1220', text: '#FFFFFF' };

// `loadAdditionalAsset` answers Satori's asks for fonts of other scripts and for emoji
// (font_chain.mjs); each text element is set in its own text's direction.
export async function renderCard({ template, props, width, height, colors, fonts, images, loadAdditionalAsset }) {
  const spec = checkTemplate(template, props, width, height, sizeName);
  const ctx = { width, height, unit: Math.min(width, height) / 1080,
    colors: { ...DEFAULT_COLORS, ...colors }, images };
  const svg = await satori(withDirections(spec.render(props, ctx)), { width, height, fonts,
    embedFont: true, loadAdditionalAsset });
  return new Resvg(svg, { fitTo: { mode: 'width', value: width }, font: { loadSystemFonts: false } })
    .render().asPng();
}
