// Render cards in-process from local files, no network: goldens and the warm-render benchmark.
// Usage: node scripts/render-local.mjs JOBS.json OUT_DIR [--bench N [FONTS_DIR]]
// With FONTS_DIR (the fonts layer), each bench render does what the function does: the chain
// check of every text prop, the chain's base fonts beside the brand's, and its loader for
// other scripts and emoji; a second, multi-script card is timed too.
// JOBS.json: {"fonts": {"heading": path, "body": path}, "logo": path|null, "colors": {...},
//             "cases": [{"name", "template", "width", "height", "props"}]}
import fs from 'node:fs';
import path from 'node:path';
import { FontChain } from '../dist/font_chain.mjs';
import { codepoints } from '../dist/font_coverage.mjs';
import { renderCard } from '../dist/render.mjs';

const [jobsFile, outDir, flag, count, fontsDir] = process.argv.slice(2);
const jobs = JSON.parse(fs.readFileSync(jobsFile, 'utf8'));
const fonts = [
  { name: 'heading', weight: 700, style: 'normal', data: fs.readFileSync(jobs.fonts.heading) },
  { name: 'body', weight: 400, style: 'normal', data: fs.readFileSync(jobs.fonts.body) },
];
const images = { logo: jobs.logo ? `data:image/png;base64,${fs.readFileSync(jobs.logo).toString('base64')}` : null };
fs.mkdirSync(outDir, { recursive: true });
const MULTI = { title: 'Καλημέρα · 你好世界 · مرحبا بالعالم 🎉', body: 'Один пост, every script: नमस्ते 👋🏽' };

// Median and p90 of `n` warm renders of `card` (after five unmeasured ones).
async function timeRenders(card, n, chain) {
  const brand = fonts.map((f) => codepoints(f.data));
  const render = () => {
    if (!chain) return renderCard({ ...card, colors: jobs.colors, fonts, images });
    const texts = Object.entries(card.props).filter(([, v]) => typeof v === 'string')
      .map(([k, v]) => [`props.${k}`, v]);
    chain.check(texts, brand);
    return renderCard({ ...card, colors: jobs.colors, fonts: [...fonts, ...chain.baseFonts()], images,
      loadAdditionalAsset: chain.loader(texts.map(([, v]) => v).join('\n')) });
  };
  for (let i = 0; i < 5; i += 1) await render();
  const times = [];
  for (let i = 0; i < n; i += 1) {
    const t = process.hrtime.bigint();
    await render();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { template: card.template, n, median_ms: times[Math.floor(n / 2)], p90_ms: times[Math.floor(n * 0.9)] };
}

if (flag === '--bench') {
  const card = jobs.cases.find((c) => c.width === 1080 && c.height === 1080) ?? jobs.cases[0];
  const n = Number(count || 50);
  const chain = fontsDir ? new FontChain(fontsDir) : null;
  const figures = await timeRenders(card, n, chain);
  if (chain) {
    const slide = jobs.cases.find((c) => c.template === 'carousel_slide') ?? card;
    figures.multi_script = await timeRenders({ ...slide, props: { ...slide.props, ...MULTI } }, n, chain);
  }
  console.log(JSON.stringify(figures));
} else {
  for (const c of jobs.cases) {
    const png = await renderCard({ ...c, colors: jobs.colors, fonts, images });
    fs.writeFileSync(path.join(outDir, `${c.name}.png`), png);
    console.log(`${c.name}.png ${png.length} bytes`);
  }
}
