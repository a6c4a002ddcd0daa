// Screenshots for the README: `npm run build && node scripts/screenshots.mjs` (Debian chromium).
import { chromium } from 'playwright-core';
import { serve } from '../tests/e2e/server.mjs';

const server = await serve('dist');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const only = process.argv.slice(2);

async function shot(name, query, prepare, { width = 1400, height = 1000, fullPage = true } = {}) {
  if (only.length && !only.includes(name)) return;
  const page = await browser.newPage({ viewport: { width, height } });
  await page.goto(`${server.url}/${query}`);
  await page.waitForSelector('[data-testid="backend-badge"][data-status="ready"]', { timeout: 60_000 });
  await page.waitForFunction(() => /pretrained/.test(document.querySelector('[data-testid="current-model"]')?.textContent ?? ''), null, { timeout: 60_000 });
  await prepare(page);
  await page.screenshot({ path: `docs/screenshots/${name}.png`, fullPage });
  console.log(`docs/screenshots/${name}.png`);
  await page.close();
}

// What a new user sees on load (a fresh profile, the default URL): the precomputed answer.
const firstLook = async (page) => {
  await page.waitForSelector('[data-testid="chart-projection"] .lines path[d]', { timeout: 10_000 });
  await page.waitForTimeout(300);
};
await shot('first-look', '', firstLook, { width: 1440, height: 900, fullPage: false });
await shot('first-look-1024', '', firstLook, { width: 1024, height: 768, fullPage: false });
await shot('outputs', '?backend=wasm&view=forward', async (page) => {
  await page.getByTestId('run-forward').click();
  await page.waitForSelector('[data-testid="forward-result"]', { timeout: 120_000 });
});
// matfac recomputed in the tab (the badge says so), ε from the link.
await shot('spectrum-matfac', '?backend=wasm&arch=matfac&view=spectrum&eps=1e-3', async (page) => {
  await page.waitForSelector('[data-testid="spectrum-source"][data-kind="precomputed"]', { timeout: 30_000 });
  await page.getByTestId('spectrum-run').click();
  await page.waitForSelector('[data-testid="spectrum-source"][data-kind="computed"]', { timeout: 120_000 });
  await page.waitForSelector('[data-testid="chart-projection"]', { timeout: 120_000 });
});
// The shipped modadd analysis (Lanczos top 1,100, SLQ, projection curve with k*) as it opens.
await shot('spectrum-modadd', '?backend=wasm&view=spectrum', firstLook);
await shot('train', '?backend=wasm&arch=modadd-gelu&view=train', async (page) => {
  await page.getByTestId('build-model').click();
  await page.waitForSelector('[data-testid="job"][data-task="init-model"][data-status="done"]');
  await page.getByTestId('train-steps').fill('600');
  await page.getByTestId('train-start').click();
  await page.waitForSelector('[data-testid="train-run"][data-status="done"]', { timeout: 300_000 });
});
await shot('internals', '?backend=wasm&view=internals', async (page) => {
  await page.getByTestId('internals-run').click();
  await page.waitForSelector('[data-testid="fourier-circle"] .dots circle', { timeout: 120_000 });
});
await shot('llc', '?backend=wasm&arch=matfac&view=llc&eps=1e-3', async (page) => {
  await page.waitForSelector('[data-testid="landscape-result"]', { timeout: 60_000 });
  await page.getByTestId('llc-run').click();
  await page.waitForSelector('[data-testid="llc-value"]', { timeout: 300_000 });
  await page.waitForTimeout(1500);
});
await shot('llc-training', '?backend=wasm&arch=modadd-gelu&view=train', async (page) => {
  await page.getByTestId('build-model').click();
  await page.waitForSelector('[data-testid="job"][data-task="init-model"][data-status="done"]');
  await page.getByTestId('train-steps').fill('600');
  await page.getByTestId('train-eval-every').fill('25');
  await page.getByTestId('train-checkpoint-every').fill('50');
  await page.getByTestId('train-start').click();
  await page.waitForSelector('[data-testid="train-run"][data-status="done"]', { timeout: 300_000 });
  await page.getByTestId('tab-llc').click();
  await page.getByTestId('llc-checkpoints-run').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="chart-llc-checkpoints"] .dots circle').length >= 13, null, { timeout: 600_000 });
  await page.locator('[data-testid="chart-llc-checkpoints"]').scrollIntoViewIfNeeded();
  await page.locator('.section', { has: page.getByTestId('chart-llc-checkpoints') }).screenshot({ path: 'docs/screenshots/llc-training-section.png' });
});
await shot('tour', '?backend=wasm', async (page) => {
  await page.getByTestId('tour-start').click();
  for (let i = 0; i < 3; i++) await page.getByTestId('tour-next').click();
  await page.waitForSelector('[data-testid="eps-slider"]', { timeout: 120_000 });
  await page.waitForTimeout(800);
});
// Linked views on the MNIST MLP: eigenvector 2 and neuron fc1 #19 selected through the URL.
await shot('linked', '?backend=wasm&arch=mnist-mlp&view=spectrum&eig=2&neuron=fc1:19', async (page) => {
  await page.getByTestId('spectrum-k').fill('100'); // the default (what the memory budget holds) takes minutes
  await page.getByTestId('spectrum-run').click();
  await page.waitForSelector('[data-testid="neuron-profile"]', { timeout: 600_000 });
  await page.getByTestId('linked-spectrum').screenshot({ path: 'docs/screenshots/linked-spectrum.png' });
  await page.getByTestId('tab-internals').click();
  await page.getByTestId('internals-run').click();
  await page.waitForSelector('[data-testid="raster-strip"]', { timeout: 120_000 });
  await page.waitForTimeout(300);
  const raster = page.locator('figure', { has: page.getByTestId('raster') });
  const top = await page.getByTestId('selection-bar').boundingBox();
  const bottom = await page.getByTestId('neuron-detail').boundingBox();
  await raster.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'docs/screenshots/linked-internals.png', fullPage: true, clip: { x: top.x, y: top.y, width: top.width, height: bottom.y + bottom.height - top.y + 8 } });
  // A quantity's tooltip: definition, equation, source.
  await page.getByTestId('tab-spectrum').click();
  await page.locator('.eps-control .term[data-term="d1"]').hover();
  await page.waitForSelector('[data-testid="term-tooltip"]');
  const tip = await page.getByTestId('term-tooltip').boundingBox();
  const term = await page.locator('.eps-control .term[data-term="d1"]').boundingBox();
  await page.screenshot({ path: 'docs/screenshots/tooltip.png', clip: { x: term.x - 10, y: term.y - 10, width: Math.max(tip.width, term.width) + 40, height: tip.y + tip.height - term.y + 20 } });
});
await browser.close();
await server.close();
