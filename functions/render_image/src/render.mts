// Element tree -> SVG (Satori) -> PNG (resvg). Pure: no I/O, no network (every image in the
// tree is already a data: URI, so Satori never fetches anything itself).
import { Resvg } from '@resvg/resvg-js';
import satori, { type Font } from 'satori';
import { type AssetLoader, withDirections } from './font_chain.mjs';
import { checkTemplate, type RenderContext } from './templates.mjs';

export const SIZES: Record<string, [width: number, height: number]> = { square: [1080, 1080], portrait: [1080, 1350], landscape: [1200, 675], link: [1200, 630] };

export function sizeName(width: number, height: number): string {
  return Object.entries(SIZES).find(([, [w, h]]) => w === width && h === height)?.[0] ?? 'custom';
}

export const DEFAULT_COLORS: RenderContext['colors'] = { primary: '#1E3A8A', accent: '#F59E0B', background: '#0B1220', text: '#FFFFFF' };

// `loadAdditionalAsset` answers Satori's asks for fonts of other scripts and for emoji
// (font_chain.mjs); each text element is set in its own text's direction.
export interface Card {
  template: string;
  props: Record<string, unknown>;
  width: number;
  height: number;
  colors: Record<string, string | undefined> | undefined; // the brand's; the defaults fill the rest
  fonts: Font[];
  images: RenderContext['images'];
  loadAdditionalAsset: AssetLoader;
}

export async function renderCard({ template, props, width, height, colors, fonts, images,
  loadAdditionalAsset }: Card): Promise<Buffer> {
  const spec = checkTemplate(template, props, width, height, sizeName);
  const brand = Object.fromEntries(Object.entries(colors ?? {}).filter(([, v]) => v !== undefined));
  const ctx: RenderContext = { width, height, unit: Math.min(width, height) / 1080,
    colors: { ...DEFAULT_COLORS, ...brand }, images };
  // The validated props (checkTemplate checked them against the template's schema).
  const svg = await satori(withDirections(spec.render(props, ctx)) as Parameters<typeof satori>[0], { width, height, fonts,
    embedFont: true, loadAdditionalAsset });
  return new Resvg(svg, { fitTo: { mode: 'width', value: width }, font: { loadSystemFonts: false } })
    .render().asPng();
}
