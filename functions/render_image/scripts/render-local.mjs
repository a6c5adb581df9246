// Render cards in-process from local files, no network: goldens and the warm-render benchmark.
// Usage: node scripts/render-local.mjs JOBS.json OUT_DIR [--bench N]
// JOBS.json: {"fonts": {"heading": path, "body": path}, "logo": path|null, "colors": {...},
//             "cases": [{"name", "template", "width", "height", "props"}]}
import fs from 'node:fs';
import path from 'node:path';
import { renderCard } from '../render.mjs';

const [jobsFile, outDir, flag, count] = process.argv.slice(2);
const jobs = JSON.parse(fs.readFileSync(jobsFile, 'utf8'));
const fonts = [
  { name: 'heading', weight: 700, style: 'normal', data: fs.readFileSync(jobs.fonts.heading) },
  { name: 'body', weight: 400, style: 'normal', data: fs.readFileSync(jobs.fonts.body) },
];
const images = { logo: jobs.logo ? `data:image/png;base64,${fs.readFileSync(jobs.logo).toString('base64')}` : null };
fs.mkdirSync(outDir, { recursive: true });
if (flag === '--bench') {
  const card = jobs.cases.find((c) => c.width === 1080 && c.height === 1080) ?? jobs.cases[0];
  const times = [];
  for (let i = 0; i < 5; i += 1) await renderCard({ ...card, colors: jobs.colors, fonts, images });
  for (let i = 0; i < Number(count || 50); i += 1) {
    const t = process.hrtime.bigint();
    await renderCard({ ...card, colors: jobs.colors, fonts, images });
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ template: card.template, n: times.length,
    median_ms: times[Math.floor(times.length / 2)], p90_ms: times[Math.floor(times.length * 0.9)] }));
} else {
  for (const c of jobs.cases) {
    const png = await renderCard({ ...c, colors: jobs.colors, fonts, images });
    fs.writeFileSync(path.join(outDir, `${c.name}.png`), png);
    console.log(`${c.name}.png ${png.length} bytes`);
  }
}
