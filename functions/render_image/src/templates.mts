// Templates as code: each has typed props (JSON Schema, checked before anything is drawn, so a
// bad prop is refused naming it) and a render function returning a Satori element tree.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { describeAjvError } from './contract.mjs';
import type { CardChild, CardElement } from './font_chain.mjs';

const ajv = new Ajv2020({ allErrors: false, strict: true });

type Style = Record<string, unknown>;
// What a template draws with: the card's size, the brand's colours, its images as data: URIs.
export interface RenderContext {
  width: number;
  height: number;
  unit: number; // 1 at 1,080 pixels on the short side
  colors: { primary: string; accent: string; background: string; text: string };
  images: Record<string, string | null | undefined>;
}

// A template's props as its JSON Schema (below) admits them.
interface QuoteProps { quote: string; author: string; role?: string; avatar?: string }
interface PromoProps {
  headline: string; price: number; currency?: string; original_price?: number; cta: string;
  badge?: string; image?: string;
}
interface SlideProps { title: string; body?: string; index: number; total: number; image?: string }
interface LinkProps { title: string; description?: string; site: string; url?: string; image?: string }

export interface Template<P extends object = object> {
  sizes: string[];
  props: Record<string, unknown>; // its JSON Schema
  images: string[]; // the props that name an image to fetch
  check?(p: P): string | null;
  render(p: P, ctx: RenderContext): CardElement;
  validate: ValidateFunction<P>;
}

function template<P extends object>(spec: Omit<Template<P>, 'validate'>): Template<P> {
  return { ...spec, validate: ajv.compile<P>(spec.props) };
}
const imageRef = { type: 'string', maxLength: 2048, pattern: '^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+|https://[^\\s]+)$' };
const text = (max: number): Style => ({ type: 'string', minLength: 1, maxLength: max });
const CARD_SIZES = ['square', 'portrait', 'landscape'];

const h = (type: string, style: Style, ...children: (CardChild | CardChild[])[]): CardElement => ({
  type, props: { style, children: children.flat().filter((c) => c !== null && c !== undefined && c !== false) },
});
const img = (src: string, style: Style): CardElement => ({ type: 'img', props: { src, style } });

function frame(ctx: RenderContext, style: Style, ...children: CardChild[]): CardElement {
  return h('div', {
    width: '100%', height: '100%', boxSizing: 'border-box', display: 'flex', flexDirection: 'column',
    backgroundColor: ctx.colors.background, color: ctx.colors.text, fontFamily: 'body',
    position: 'relative', ...style,
  }, ...children);
}

function logo(ctx: RenderContext, corner = 'bottom-right'): CardElement | null {
  if (!ctx.images.logo) return null;
  const size = Math.round(110 * ctx.unit);
  const pad = Math.round(48 * ctx.unit);
  const [v = 'bottom', hz = 'right'] = corner.split('-');
  return img(ctx.images.logo, { position: 'absolute', width: size, height: size, objectFit: 'contain', [v]: pad, [hz]: pad });
}

function money(amount: number, currency: string): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(amount);
}

export const TEMPLATES: Record<string, Template | undefined> & {
  quote_card: Template<QuoteProps>; promo_card: Template<PromoProps>;
  carousel_slide: Template<SlideProps>; link_preview: Template<LinkProps>;
} = {
  quote_card: template<QuoteProps>({
    sizes: CARD_SIZES,
    props: {
      type: 'object', additionalProperties: false, required: ['quote', 'author'],
      properties: { quote: text(280), author: text(80), role: text(80), avatar: imageRef },
    },
    images: ['avatar'],
    render(p: QuoteProps, ctx: RenderContext): CardElement {
      const u = ctx.unit;
      const size = p.quote.length > 160 ? 48 : p.quote.length > 90 ? 60 : 72;
      return frame(ctx, { backgroundColor: ctx.colors.primary, padding: 96 * u, justifyContent: 'center' },
        h('div', { fontFamily: 'heading', fontSize: 200 * u, color: ctx.colors.accent, lineHeight: 0.8, height: 120 * u }, '\u201C'),
        h('div', { fontFamily: 'heading', fontSize: size * u, lineHeight: 1.25, color: ctx.colors.text, display: 'flex' }, p.quote),
        h('div', { display: 'flex', alignItems: 'center', marginTop: 56 * u },
          ctx.images.avatar ? img(ctx.images.avatar, { width: 96 * u, height: 96 * u, borderRadius: 48 * u, marginRight: 28 * u, objectFit: 'cover' }) : null,
          h('div', { display: 'flex', flexDirection: 'column' },
            h('div', { fontFamily: 'heading', fontSize: 36 * u, color: ctx.colors.accent }, p.author),
            p.role ? h('div', { fontSize: 28 * u, opacity: 0.85, marginTop: 6 * u }, p.role) : null)),
        logo(ctx));
    },
  }),
  promo_card: template<PromoProps>({
    sizes: CARD_SIZES,
    props: {
      type: 'object', additionalProperties: false, required: ['headline', 'price', 'cta'],
      properties: {
        headline: text(80), price: { type: 'number', minimum: 0, maximum: 1e7 },
        currency: { type: 'string', pattern: '^[A-Z]{3}$' },
        original_price: { type: 'number', minimum: 0, maximum: 1e7 }, cta: text(30), badge: text(24),
        image: imageRef,
      },
    },
    images: ['image'],
    render(p: PromoProps, ctx: RenderContext): CardElement {
      const u = ctx.unit;
      const currency = p.currency || 'USD';
      return frame(ctx, { padding: 72 * u, justifyContent: 'flex-end' },
        ctx.images.image ? img(ctx.images.image, { position: 'absolute', top: 0, left: 0, width: ctx.width, height: Math.round(ctx.height * 0.55), objectFit: 'cover' }) : null,
        p.badge ? h('div', { position: 'absolute', top: 56 * u, left: 56 * u, backgroundColor: ctx.colors.accent, color: ctx.colors.background, fontFamily: 'heading', fontSize: 32 * u, padding: `${12 * u}px ${28 * u}px`, borderRadius: 40 * u }, p.badge) : null,
        h('div', { fontFamily: 'heading', fontSize: 76 * u, lineHeight: 1.1, display: 'flex' }, p.headline),
        h('div', { display: 'flex', alignItems: 'flex-end', marginTop: 28 * u },
          h('div', { fontFamily: 'heading', fontSize: 110 * u, color: ctx.colors.accent, lineHeight: 1 }, money(p.price, currency)),
          p.original_price !== undefined ? h('div', { fontSize: 44 * u, marginLeft: 28 * u, textDecoration: 'line-through', opacity: 0.7, paddingBottom: 8 * u }, money(p.original_price, currency)) : null),
        h('div', { display: 'flex', marginTop: 44 * u },
          h('div', { backgroundColor: ctx.colors.accent, color: ctx.colors.background, fontFamily: 'heading', fontSize: 40 * u, padding: `${22 * u}px ${56 * u}px`, borderRadius: 60 * u }, p.cta)),
        logo(ctx, 'bottom-right'));
    },
  }),
  carousel_slide: template<SlideProps>({
    sizes: CARD_SIZES,
    props: {
      type: 'object', additionalProperties: false, required: ['title', 'index', 'total'],
      properties: {
        title: text(80), body: text(300), index: { type: 'integer', minimum: 1, maximum: 20 },
        total: { type: 'integer', minimum: 1, maximum: 20 }, image: imageRef,
      },
    },
    images: ['image'],
    check(p: SlideProps): string | null { return p.index > p.total ? `props.index: ${p.index} is more than props.total (${p.total})` : null; },
    render(p: SlideProps, ctx: RenderContext): CardElement {
      const u = ctx.unit;
      const dots = Array.from({ length: p.total }, (_, i) => h('div', {
        width: 18 * u, height: 18 * u, borderRadius: 9 * u, marginRight: 14 * u,
        backgroundColor: i + 1 === p.index ? ctx.colors.accent : ctx.colors.text, opacity: i + 1 === p.index ? 1 : 0.35,
      }));
      return frame(ctx, { padding: 88 * u, backgroundColor: ctx.colors.primary },
        h('div', { display: 'flex', justifyContent: 'space-between', fontFamily: 'heading', fontSize: 34 * u, color: ctx.colors.accent },
          `${p.index} / ${p.total}`),
        ctx.images.image ? img(ctx.images.image, { width: ctx.width - 176 * u, height: Math.round(ctx.height * 0.38), objectFit: 'cover', borderRadius: 28 * u, marginTop: 40 * u }) : null,
        h('div', { display: 'flex', flexDirection: 'column', flexGrow: 1, justifyContent: 'center' },
          h('div', { fontFamily: 'heading', fontSize: 80 * u, lineHeight: 1.1, display: 'flex' }, p.title),
          p.body ? h('div', { fontSize: 40 * u, lineHeight: 1.35, marginTop: 28 * u, opacity: 0.92, display: 'flex' }, p.body) : null),
        h('div', { display: 'flex', alignItems: 'center' }, dots),
        logo(ctx));
    },
  }),
  link_preview: template<LinkProps>({
    sizes: ['link'],
    props: {
      type: 'object', additionalProperties: false, required: ['title', 'site'],
      properties: { title: text(120), description: text(240), site: text(60), url: text(300), image: imageRef },
    },
    images: ['image'],
    render(p: LinkProps, ctx: RenderContext): CardElement {
      const u = ctx.height / 630;
      return frame(ctx, { flexDirection: 'row', borderBottom: `${12 * u}px solid ${ctx.colors.accent}` },
        ctx.images.image ? img(ctx.images.image, { width: Math.round(ctx.width * 0.42), height: ctx.height - 12 * u, objectFit: 'cover' }) : null,
        h('div', { display: 'flex', flexDirection: 'column', justifyContent: 'center', flexGrow: 1, flexBasis: 0, padding: 56 * u },
          h('div', { fontSize: 26 * u, color: ctx.colors.accent, fontFamily: 'heading', textTransform: 'uppercase', letterSpacing: 2 }, p.site),
          h('div', { fontFamily: 'heading', fontSize: 52 * u, lineHeight: 1.15, marginTop: 18 * u, display: 'flex' }, p.title),
          p.description ? h('div', { fontSize: 28 * u, lineHeight: 1.4, marginTop: 18 * u, opacity: 0.85, display: 'flex' }, p.description) : null,
          p.url ? h('div', { fontSize: 24 * u, marginTop: 24 * u, opacity: 0.6 }, p.url) : null),
        logo(ctx, 'top-right'));
    },
  }),
};

export class TemplateError extends Error {
  constructor(message: string, readonly field: string) { super(message); }
}

export function checkTemplate(name: string, props: unknown, width: number, height: number,
  sizeOf: (width: number, height: number) => string): Template {
  const template = TEMPLATES[name];
  if (!template) {
    throw new TemplateError(`template: unknown template '${name}' (known: ${Object.keys(TEMPLATES).join(', ')})`, 'template');
  }
  if (!template.validate(props)) {
    const error = template.validate.errors?.[0] ?? { instancePath: '', keyword: 'schema', message: 'do not match' };
    const { field, message } = describeAjvError(error, 'props');
    throw new TemplateError(message, field);
  }
  const extra = template.check ? template.check(props) : null;
  if (extra) throw new TemplateError(extra, 'props');
  const size = sizeOf(width, height);
  if (!template.sizes.includes(size)) {
    throw new TemplateError(`size: ${name} is made for ${template.sizes.join(', ')}, not ${width}x${height}`, 'size');
  }
  return template;
}
