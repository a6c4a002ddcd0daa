// End-to-end tests of the linked views, canvas exports and accessibility (issue 8), registered
// into the runner in run.mjs (same helpers, same browser).
import { readFileSync } from 'node:fs';

const AXE = readFileSync(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
/** A small model (d = 365, dense spectrum in about a second on wasm) with a ReLU layer of 12 neurons. */
const SMALL = 'backend=wasm&arch=modadd&p=11&e=6&h=12';

/** WCAG 2.x contrast ratio of two '#rrggbb' / 'rgb(r, g, b)' colours. */
function contrast(a, b) {
  const rgb = (c) => (c.startsWith('#') ? [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)) : c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number));
  const lum = (c) => {
    const [r, g, bl] = rgb(c).map((v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

export function registerExperienceTests({ test, openApp, waitReady, assert, browser, server }) {
  /** The worker is ready and the small model of SMALL is built. */
  const smallModelReady = async (page) => {
    await waitReady(page);
    await page.waitForFunction(() => /modadd p=11/.test(document.querySelector('[data-testid="current-model"]')?.textContent ?? ''), null, { timeout: 30_000 });
  };

  test('linked views: an eigenvector and a neuron selected in one view are highlighted in the others, brushing shares a band, and all of it survives a reload', async () => {
    const { page, errors } = await openApp(`?${SMALL}&view=spectrum`);
    await smallModelReady(page);
    await page.getByTestId('spectrum-run').click();
    await page.waitForSelector('[data-testid="spectrum-result"]', { timeout: 60_000 });
    // Click an eigenvalue: its eigenvector is selected, with its share per tensor and per neuron.
    const eig = page.getByTestId('chart-eigenvalues');
    const box = await eig.boundingBox();
    await page.mouse.click(box.x + box.width * 0.25, box.y + box.height * 0.5);
    await page.waitForSelector('[data-testid="eigen-panel"]');
    const k = Number(new URL(page.url()).searchParams.get('eig'));
    assert(k >= 1 && k <= 365, `eig in URL: ${page.url()}`);
    assert((await page.locator('[data-testid="chart-eigenvalues"] circle.ring').getAttribute('visibility')) === 'visible', 'the selected eigenvalue is ringed');
    const shares = (await page.locator('[data-testid="eigen-tensors"] tbody td:nth-child(2)').allTextContents()).map((t) => parseFloat(t));
    assert(shares.length === 5 && Math.abs(shares.reduce((a, b) => a + b, 0) - 100) < 0.6, `tensor shares: ${shares}`);
    // Click the neuron with the largest share: it becomes the shared selected neuron.
    const bars = page.locator('[data-testid="eigen-units-hidden"] .bars rect');
    assert((await bars.count()) === 12, 'one bar per hidden neuron');
    await bars.nth(4).click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('neuron') === 'hidden:4');
    await page.waitForSelector('[data-testid="neuron-panel"] [data-testid="neuron-profile"]');
    // Drag across the eigenvalue chart: a band of eigenvalues, shown on the density chart too.
    await eig.scrollIntoViewIfNeeded();
    Object.assign(box, await eig.boundingBox());
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 6 });
    await page.mouse.up();
    await page.waitForFunction(() => new URL(location.href).searchParams.has('band'));
    assert((await page.getByTestId('chart-density-band').getAttribute('visibility')) === 'visible', 'the band shows on the density chart');
    assert(/computed eigenvalues/.test(await page.getByTestId('sel-band').textContent()), 'the selection bar counts the band');
    // The Internals view outlines the neuron, draws the eigenvector's share per neuron beside the raster, and marks the heatmap row.
    await page.getByTestId('tab-internals').click();
    await page.getByTestId('internals-run').click();
    await page.waitForSelector('[data-testid="raster-selected"]', { timeout: 60_000 });
    assert((await page.getByTestId('raster-selected').getAttribute('data-neuron')) === '4', 'raster outlines neuron 4');
    assert(await page.getByTestId('raster-strip').isVisible(), 'eigenvector strip beside the raster');
    assert(await page.getByTestId('edges-neuron-mark-row').isVisible(), 'the neuron-basis heatmap marks the neuron');
    assert(/Eigenvectors that move it most: k = \d+/.test(await page.getByTestId('neuron-detail').textContent()), 'neuron detail lists eigenvectors');
    // Keyboard: the focused raster moves the selection row by row.
    await page.getByTestId('raster').focus();
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('neuron') !== 'hidden:4');
    const moved = await page.getByTestId('raster-selected').getAttribute('data-neuron');
    assert(moved !== '4', 'arrow key moved the selection');
    // A reload restores every selection from the URL.
    const url = page.url();
    const again = await openApp(url.slice(url.indexOf('?')));
    await waitReady(again.page);
    await again.page.waitForSelector('[data-testid="sel-neuron"]');
    assert((await again.page.getByTestId('sel-neuron').textContent()).includes(`hidden #${moved}`), 'neuron from URL');
    assert((await again.page.getByTestId('sel-eigen').textContent()).includes(`k = ${k}`), 'eigenvector from URL');
    assert(await again.page.getByTestId('sel-band').isVisible(), 'band from URL');
    // Clearing from the selection bar clears it everywhere (and from the URL).
    await again.page.getByRole('button', { name: 'clear the selected neuron' }).click();
    await again.page.waitForFunction(() => !new URL(location.href).searchParams.has('neuron'));
    assert(errors.length === 0 && again.errors.length === 0, `page errors: ${[...errors, ...again.errors].join(' | ')}`);
    await again.page.close();
    await page.close();
  });

  test('canvas charts (raster, heatmaps, landscape) export as PNG, SVG and CSV', async () => {
    const { page, errors } = await openApp(`?${SMALL}&view=internals`);
    await smallModelReady(page);
    await page.getByTestId('internals-run').click();
    await page.waitForSelector('[data-testid="raster"]', { timeout: 60_000 });
    const fig = (testid) => page.locator('figure', { has: page.getByTestId(testid) });
    const grab = async (testid, which) => {
      const [dl] = await Promise.all([page.waitForEvent('download'), fig(testid).getByTestId(`export-${which}`).first().click()]);
      return { name: dl.suggestedFilename(), bytes: readFileSync(await dl.path()) };
    };
    const png = await grab('raster', 'png');
    assert(png.name.endsWith('.png') && png.bytes.subarray(1, 4).toString() === 'PNG', `raster png: ${png.name}`);
    // PNG width/height (IHDR) at 2× the displayed size.
    const w = png.bytes.readUInt32BE(16), h = png.bytes.readUInt32BE(20);
    assert(w > 800 && h > 100, `raster png is ${w}×${h}`);
    const svg = await grab('raster', 'svg');
    assert(svg.bytes.toString().startsWith('<svg') && svg.bytes.toString().includes('<image') && svg.bytes.toString().includes('data:image/png;base64,'), 'raster svg wraps the image');
    const csv = (await grab('raster', 'csv')).bytes.toString().trim().split('\n');
    assert(csv[0].startsWith('row,neuron,block') && csv.length === 13, `raster csv: ${csv[0]} (${csv.length} lines)`);
    const heat = (await grab('edges-neuron', 'csv')).bytes.toString().trim().split('\n');
    assert(heat.length === 1 + 12 * 13, `heatmap csv: ${heat.length} lines`);
    const hpng = await grab('edges-interaction', 'png');
    assert(hpng.bytes.subarray(1, 4).toString() === 'PNG', 'heatmap png');
    // The teaching landscape (LLC view) exports its grid and its picture.
    await page.getByTestId('tab-llc').click();
    await page.waitForSelector('[data-testid="landscape-plot"]', { timeout: 30_000 });
    const lpng = await grab('landscape-plot', 'png');
    assert(lpng.bytes.subarray(1, 4).toString() === 'PNG', 'landscape png');
    const lcsv = (await grab('landscape-plot', 'csv')).bytes.toString().trim().split('\n');
    assert(lcsv[0] === 'kind,w1,w2,K(w)' && lcsv.length > 100, `landscape csv: ${lcsv[0]} (${lcsv.length})`);
    assert(errors.length === 0, `page errors: ${errors.join(' | ')}`);
    await page.close();
  });

  test('accessibility: no axe WCAG 2.1 AA violations in any view, readable chart text, keyboard paths with visible focus, laptop-width layout', async () => {
    // axe is injected, so this page runs without the CSP (the CSP has its own test).
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, bypassCSP: true });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}/?${SMALL}`);
    await smallModelReady(page);
    await page.evaluate(AXE);
    const report = [];
    for (const v of ['train', 'forward', 'spectrum', 'llc', 'internals']) {
      await page.getByTestId(`tab-${v}`).click();
      if (v === 'spectrum') { await page.getByTestId('spectrum-run').click(); await page.waitForSelector('[data-testid="chart-projection"]', { timeout: 60_000 }); }
      if (v === 'internals') { await page.getByTestId('internals-run').click(); await page.waitForSelector('[data-testid="raster"]', { timeout: 60_000 }); }
      await page.waitForTimeout(300);
      const r = await page.evaluate(async () => {
        const res = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
        return res.violations.map((x) => `${x.id} (${x.nodes.length}): ${x.nodes.slice(0, 2).map((n) => n.target.join(' ')).join(', ')}`);
      });
      report.push(...r.map((x) => `${v}: ${x}`));
      // axe cannot judge text drawn in SVG; check every chart label's fill against the white chart background.
      const fills = await page.evaluate(() => [...new Set([...document.querySelectorAll('svg text')].map((t) => getComputedStyle(t).fill))]);
      for (const f of fills) if (contrast(f, '#ffffff') < 4.5) report.push(`${v}: chart text colour ${f} has contrast ${contrast(f, '#ffffff').toFixed(2)} < 4.5`);
      // No horizontal scrolling at laptop width.
      const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (over > 1) report.push(`${v}: the page scrolls sideways by ${over}px at 1366 px`);
    }
    assert(report.length === 0, `accessibility problems:\n        ${report.join('\n        ')}`);
    // Keyboard: Tab reaches the ε slider in the Spectrum view; focus is visible; arrow keys move ε.
    await page.getByTestId('tab-spectrum').click();
    await page.waitForSelector('[data-testid="eps-slider"]');
    await page.getByTestId('tab-spectrum').focus();
    let found = false;
    for (let i = 0; i < 120 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'eps-slider');
    }
    assert(found, 'Tab never reached the ε slider');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert(outline !== 'none', 'the focused slider shows no outline');
    const before = await page.getByTestId('eps-value').textContent();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction((b) => document.querySelector('[data-testid="eps-value"]')?.textContent !== b, before);
    // Every quantity's tooltip opens from the keyboard and closes with Escape.
    await page.locator('.eps-control .term[data-term="d1"]').focus();
    await page.waitForSelector('[data-testid="term-tooltip"]');
    assert(await page.locator('[data-testid="term-tooltip"] .katex').count() > 0, 'the tooltip shows the rendered equation');
    assert((await page.getByTestId('term-tooltip').textContent()).length > 40, 'the tooltip shows the definition');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="term-tooltip"]', { state: 'detached' });
    // The tabs are reachable and switch views from the keyboard.
    await page.getByTestId('tab-llc').focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('view') === 'llc');
    // A narrower laptop (1024 px) still has no sideways scrolling.
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.waitForTimeout(200);
    const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(over <= 1, `the page scrolls sideways by ${over}px at 1024 px`);
    assert(errors.length === 0, `page errors: ${errors.join(' | ')}`);
    await ctx.close();
  });
}
