// The README's seed 003 figures, drawn by the app's own LLC-view charts from the JSON the CLI wrote,
// and exported with the charts' SVG links (Debian chromium):
//
//   npm run -s slt -- llc-sweep … > sweep.json; npm run -s slt -- llc-checkpoints … > checkpoints.json
//   npm run build && node scripts/figures.mjs OUT_PREFIX:RESULTS.json [OUT_PREFIX:RESULTS.json …]
//
// RESULTS may join several sweep files with '+' (sum.json+random.json): their points are drawn
// together and each operation's fit is taken from the file that has it.
// writes docs/figures/OUT_PREFIX-<chart>.svg for each chart the file fills (the sweep's "λ̂ against
// p"; a checkpoint run's "λ̂ at each checkpoint" and, when the file has them, its loss curves).
import { mkdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from '../tests/e2e/server.mjs';

const jobs = process.argv.slice(2).map((a) => { const i = a.indexOf(':'); return { prefix: a.slice(0, i), file: a.slice(i + 1) }; });
if (!jobs.length || jobs.some((j) => !j.prefix || !j.file)) {
  console.error('usage: node scripts/figures.mjs OUT_PREFIX:RESULTS.json [...]');
  process.exit(2);
}
mkdirSync('docs/figures', { recursive: true });
const server = await serve('dist');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
try {
  for (const { prefix, file } of jobs) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    await page.goto(`${server.url}/?backend=wasm&view=llc&eps=1e-3`);
    await page.waitForSelector('[data-testid="backend-badge"][data-status="ready"]', { timeout: 60_000 });
    const parts = file.split('+');
    let buffer = readFileSync(parts[0]);
    if (parts.length > 1) {
      const docs = parts.map((f) => JSON.parse(readFileSync(f, 'utf8')));
      const fits = { sum: null, random: null };
      for (const d of docs) for (const op of ['sum', 'random']) if (d.fits?.[op]) fits[op] = d.fits[op];
      buffer = Buffer.from(JSON.stringify({ points: docs.flatMap((d) => d.points), fits }));
    }
    await page.getByTestId('llc-results-input').setInputFiles({ name: parts.map((f) => basename(f)).join('+'), mimeType: 'application/json', buffer });
    await page.waitForSelector('[data-testid="llc-results-note"], [data-testid="llc-results-error"]', { timeout: 10_000 });
    if (await page.locator('[data-testid="llc-results-error"]').count()) throw new Error(await page.getByTestId('llc-results-error').textContent());
    const charts = [['chart-llc-sweep', 'sweep'], ['chart-llc-checkpoints', 'checkpoints']];
    for (const [testid, name] of charts) {
      const chart = page.getByTestId(testid);
      if (!(await chart.count())) continue;
      await chart.first().scrollIntoViewIfNeeded();
      await page.waitForTimeout(300);
      const fig = page.locator('figure', { has: chart });
      const [dl] = await Promise.all([page.waitForEvent('download'), fig.getByTestId('export-svg').first().click()]);
      const out = `docs/figures/${prefix}-${name}.svg`;
      await dl.saveAs(out);
      console.log(out);
      if (name === 'checkpoints') {
        // The loss curves sit in the figure just before it (the run's train and test loss).
        const loss = page.locator('figure', { hasText: 'Loss during training' });
        if (await loss.count()) {
          const [dl2] = await Promise.all([page.waitForEvent('download'), loss.first().getByTestId('export-svg').first().click()]);
          const out2 = `docs/figures/${prefix}-loss.svg`;
          await dl2.saveAs(out2);
          console.log(out2);
        }
      }
    }
    await page.close();
  }
} finally {
  await browser.close();
  server.close?.();
}
