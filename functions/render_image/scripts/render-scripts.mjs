// Cards in every script the product promises, through every template, as the image function
// draws them (brand fonts Lato, the fonts layer's chain, Twemoji): the golden images of
// tests/unit/test_image_scripts.py.   node scripts/render-scripts.mjs <fonts dir> <out dir>
import fs from 'node:fs';
import path from 'node:path';
import { FontChain } from '../dist/font_chain.mjs';
import { codepoints } from '../dist/font_coverage.mjs';
import { renderCard, SIZES } from '../dist/render.mjs';

export const CARDS = {
  quote_card: { size: 'square', props: { quote: 'مرحبا بالعالم — التصميم لكل لغة 2026 ✨',
    author: '王小明 · こんにちは', role: 'Καλημέρα · Привет · שלום 123' } },
  promo_card: { size: 'portrait', props: { headline: 'नमस्ते · สวัสดี · 안녕하세요 🎉', price: 19.9,
    currency: 'EUR', original_price: 29.9, cta: 'Kaufen 👉🏽', badge: '−33% 🇫🇷' } },
  carousel_slide: { size: 'square', props: { title: '这是一段没有空格的中文标题需要自动换行', body:
    '日本語の本文、句読点。English mixed in, עברית בתוך השורה, and a family 👨‍👩‍👧‍👦 and 1️⃣.', index: 2, total: 3 } },
  long_words: { template: 'quote_card', size: 'square', props: { quote:
    `${'Supercalifragilisticexpialidocious'.repeat(3)} https://example.com/a/very/long/path/that/never/ends`,
    author: 'Donaudampfschifffahrtsgesellschaftskapitänswitwe' } },
  link_preview: { size: 'link', props: { title: 'العربية والإنجليزية: Arabic with English inside',
    description: 'Ελληνικά, Русский, 한국어 — ✓ © ™', site: 'smm.example', url: 'https://smm.example/مرحبا' } },
};

export async function renderScripts(fontsDir, outDir) {
  const chain = new FontChain(fontsDir);
  const fonts = [
    { name: 'heading', data: fs.readFileSync(path.join(fontsDir, 'Lato-Bold.ttf')), weight: 700, style: 'normal' },
    { name: 'body', data: fs.readFileSync(path.join(fontsDir, 'Lato-Regular.ttf')), weight: 400, style: 'normal' },
    ...chain.baseFonts()];
  fs.mkdirSync(outDir, { recursive: true });
  for (const [name, { template = name, size, props }] of Object.entries(CARDS)) {
    const texts = Object.entries(props).filter(([, v]) => typeof v === 'string').map(([k, v]) => [`props.${k}`, v]);
    chain.check(texts, [codepoints(fonts[0].data), codepoints(fonts[1].data)]);
    const [width, height] = SIZES[size];
    const png = await renderCard({ template, props, width, height, colors: {}, fonts, images: {},
      loadAdditionalAsset: chain.loader(texts.map(([, v]) => v).join('\n')) });
    fs.writeFileSync(path.join(outDir, `image_${name}.png`), png);
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  await renderScripts(process.argv[2], process.argv[3]);
}
