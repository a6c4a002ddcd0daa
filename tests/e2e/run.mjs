// End-to-end tests of the production build in headless Debian Chromium (playwright-core,
// never a downloaded browser), with WebGPU through SwiftShader (flags: docs/platform.md §2.1).
// Prints one line per test and a closing "N passed, N failed, N skipped" line.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { serve } from './server.mjs';
import { registerExperienceTests } from './experience.mjs';
import { registerFirstMinutesTests } from './first-minutes.mjs';
import { calibrationOf, registerBackendTests } from './backend.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const IN_CI = !!process.env.CI;
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-angle=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

if (!existsSync('dist/index.html')) {
  console.error('dist/ is missing: run `npm run build` first.');
  process.exit(1);
}
if (!existsSync(CHROMIUM)) {
  console.error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium).`);
  process.exit(1);
}

const results = [];
const tests = [];
// E2E_ONLY=<regex> runs only the tests whose names match (for working on one test).
const ONLY = process.env.E2E_ONLY ? new RegExp(process.env.E2E_ONLY, 'i') : null;
const test = (name, fn) => { if (!ONLY || ONLY.test(name)) tests.push({ name, fn }); };
class Skip extends Error {}
const skip = (why) => { throw new Skip(why); };
const assert = (cond, msg) => { if (!cond) throw new Error(msg); };

const server = await serve('dist');
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
mkdirSync('test-results', { recursive: true });

async function openApp(query = '') {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  const requests = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`${server.url}/${query}`);
  return { page, errors, requests };
}

const backendOf = (page) => page.getByTestId('backend-badge').getAttribute('data-backend');
async function waitReady(page, timeout = 60_000) {
  await page.waitForSelector('[data-testid="backend-badge"][data-status="ready"]', { timeout });
  return backendOf(page);
}
async function hasAdapter(page) {
  return page.evaluate(async () => !!(navigator.gpu && (await navigator.gpu.requestAdapter())));
}
/** The job list entry of the newest job of a task. */
const newestJob = (page, task) => page.locator(`[data-testid="job"][data-task="${task}"]`).first();

let shared; // one page reused by the webgpu tests, to keep the run short

test('page loads, the worker starts and the backend badge says why', async () => {
  shared = await openApp('?debug&view=forward');
  const { page } = shared;
  assert((await page.title()).includes('SLT degeneracy explorer'), 'title');
  const active = await waitReady(page);
  assert(['webgpu', 'wasm', 'cpu'].includes(active), `unexpected backend ${active}`);
  const name = await page.getByTestId('backend-name').textContent();
  assert(name === active, `badge shows ${name}, worker reports ${active}`);
  // The pretrained default model is loaded (decoded and validated in the worker) on start-up.
  await page.waitForSelector('[data-testid="job"][data-task="load-model-file"][data-status="done"]', { timeout: 30_000 });
  const current = await page.getByTestId('current-model').textContent();
  assert(/modadd \(pretrained\)/.test(current), `current model: ${current}`);
  const count = await page.getByTestId('param-count').textContent();
  assert(count.includes('86,197'), `parameter count shown: ${count}`);
});

test('auto measures WebGPU (SwiftShader) and wasm, picks wasm, and the badge shows both timings and why', async () => {
  const { page } = shared;
  if (!(await hasAdapter(page))) {
    if (IN_CI) throw new Error('No WebGPU adapter in CI: the SwiftShader path must run here (check the chromium flags and package)');
    skip('no WebGPU adapter on this machine (SwiftShader not available)');
  }
  const c = await calibrationOf(page);
  assert(c.timings.webgpu && c.timings.wasm, `expected both timings in the badge: ${c.text}`);
  // SwiftShader is far slower than wasm: auto must not pick it (the 3,032 s Lanczos run).
  assert((await backendOf(page)) === 'wasm', `backend is ${await backendOf(page)}, expected wasm over SwiftShader (${c.text})`);
  assert(c.choice === 'wasm' && /wasm measured faster/.test(c.why), `why: ${c.why}`);
  assert(c.timings.webgpu.timedOut || c.timings.webgpu.ms > c.timings.wasm.ms, `webgpu ${JSON.stringify(c.timings.webgpu)} vs wasm ${JSON.stringify(c.timings.wasm)}`);
  assert(/software adapter/.test(c.text), `the badge does not say the adapter is software: ${c.text}`);
  // The calibration is short: wasm within its 300 ms budget, webgpu stopped near its 550 ms one.
  assert(c.timings.wasm.ms < 300 && c.timings.webgpu.ms < 1500, `calibration too long: ${c.text}`);
  console.log(`    (${c.text.trim()})`);
});

test('a forward pass runs with visible progress and draws a chart, computed in the worker', async () => {
  const { page } = shared;
  await page.getByTestId('forward-repeats').fill('4');
  await page.getByTestId('run-forward').click();
  const job = newestJob(page, 'forward');
  // Progress is visible while the job runs.
  await job.getByTestId('job-progress').waitFor({ state: 'visible', timeout: 30_000 });
  await page.waitForSelector('[data-testid="forward-result"]', { timeout: 120_000 });
  assert((await job.getAttribute('data-status')) === 'done', 'job not done');
  const backend = await page.getByTestId('forward-result').getAttribute('data-backend');
  assert(backend === (await backendOf(page)), `result computed on ${backend}, badge says ${await backendOf(page)}`);
  const bars = await page.locator('[data-testid="chart-outputs"] .bars rect').count();
  assert(bars > 5, `histogram has ${bars} bars`);
  const firing = await page.locator('[data-testid="chart-firing"] .bars rect').count();
  assert(firing === 256, `firing chart has ${firing} bars, expected 256 hidden neurons`);
  const acc = await page.getByTestId('forward-accuracy').textContent();
  assert(/%$/.test(acc), `accuracy text ${acc}`);
});

test('a long job can be cancelled and the worker is free again at once', async () => {
  const { page } = shared;
  await page.getByTestId('forward-repeats').fill('1000');
  await page.getByTestId('run-forward').click();
  const job = newestJob(page, 'forward');
  await page.waitForFunction(() => {
    const j = document.querySelector('[data-testid="job"][data-task="forward"]');
    const p = j?.querySelector('progress');
    return j?.getAttribute('data-status') === 'running' && p && Number(p.value) > 0;
  }, null, { timeout: 60_000 });
  const id = await job.getAttribute('data-job-id');
  await job.getByTestId('job-cancel').click();
  await page.waitForSelector(`[data-testid="job"][data-job-id="${id}"][data-status="cancelled"]`, { timeout: 2_000 });
  // Jobs run one at a time in the worker: a new job only starts once the cancelled one stopped.
  const t0 = Date.now();
  await page.getByTestId('forward-repeats').fill('1');
  await page.getByTestId('run-forward').click();
  await page.waitForFunction((old) => {
    const j = document.querySelector('[data-testid="job"][data-task="forward"]');
    return j && j.getAttribute('data-job-id') !== old && ['running', 'done'].includes(j.getAttribute('data-status'));
  }, id, { timeout: 10_000 });
  const waited = Date.now() - t0;
  assert(waited < 5_000, `the next job waited ${waited} ms for the worker`);
  console.log(`    (next job started ${waited} ms after cancel)`);
});

test('a crashed worker is replaced and the user is told', async () => {
  const { page } = shared;
  const before = await backendOf(page);
  await page.getByTestId('debug-crash').click();
  await page.waitForSelector('[data-testid="notice-error"]', { timeout: 10_000 });
  const text = await page.getByTestId('notice-error').first().textContent();
  assert(/crashed/.test(text), `notice: ${text}`);
  const after = await waitReady(page);
  assert(after === (before === 'webgpu' ? 'wasm' : before), `restarted on ${after} (was ${before})`);
  await page.getByTestId('run-forward').click();
  await page.waitForSelector('[data-testid="job"][data-task="forward"][data-status="done"]', { timeout: 60_000 });
});

test('switching to the wasm backend works and the next job runs on wasm', async () => {
  const { page } = shared;
  await page.getByTestId('backend-select').selectOption('wasm');
  await page.waitForSelector('[data-testid="backend-badge"][data-backend="wasm"][data-status="ready"]', { timeout: 60_000 });
  assert(page.url().includes('backend=wasm'), `URL not updated: ${page.url()}`);
  await page.getByTestId('forward-repeats').fill('1');
  await page.getByTestId('run-forward').click();
  await page.waitForSelector('[data-testid="forward-result"][data-backend="wasm"]', { timeout: 60_000 });
});

test('shareable settings round-trip through the URL', async () => {
  const { page, errors } = await openApp('?arch=matfac&widths=5,3,5&seed=3&view=llc&eps=0.01');
  await waitReady(page);
  assert((await page.getByTestId('arch-select').inputValue()) === 'matfac', 'arch from URL');
  const count = await page.getByTestId('param-count').textContent();
  assert(count.includes('30'), `param count for 5,3,5: ${count}`);
  await page.getByTestId('landscape-result').waitFor({ timeout: 30_000 });
  await page.getByTestId('arch-select').selectOption('modadd');
  await page.waitForFunction(() => location.search.includes('arch=modadd') === false && !location.search.includes('matfac'));
  assert(page.url().includes('eps=1e-2'), `eps kept: ${page.url()}`);
  assert(errors.length === 0, `page errors: ${errors.join(' | ')}`);
  await page.close();
});

test('the pretrained default is trained: 100 % accuracy on all pairs (wasm)', async () => {
  const { page } = shared; // now on wasm (previous test)
  await page.getByTestId('forward-split').selectOption('all');
  await page.getByTestId('run-forward').click();
  await page.waitForSelector('[data-testid="forward-result"][data-backend="wasm"]', { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="forward-accuracy"]')?.textContent === '100.00 %', null, { timeout: 60_000 });
});

test('training runs with live curves, pauses, resumes, and keeps checkpoints (matfac, wasm)', async () => {
  const { page, errors } = await openApp('?backend=wasm&arch=matfac&view=train');
  await waitReady(page);
  await page.waitForSelector('[data-testid="job"][data-task="load-model-file"][data-status="done"]', { timeout: 30_000 });
  await page.getByTestId('build-model').click();
  await page.waitForSelector('[data-testid="job"][data-task="init-model"][data-status="done"]', { timeout: 30_000 });
  // Enough steps that the run is still going when Pause is clicked: matfac's whole-step engine
  // trains at ≈ 0.01–0.02 ms a step (3,000 steps ended before the chart drew).
  await page.getByTestId('train-steps').fill('240000');
  await page.getByTestId('train-eval-every').fill('2000');
  await page.getByTestId('train-checkpoint-every').fill('20000');
  await page.getByTestId('train-start').click();
  await page.waitForSelector('[data-testid="chart-loss"] .lines path[d]', { timeout: 30_000 });
  await page.getByTestId('train-pause').click();
  await page.waitForSelector('[data-testid="train-resume"]:not([disabled])');
  await page.waitForTimeout(300); // the pause reaches the worker; its last progress arrives
  const phase1 = await newestJob(page, 'train').locator('.job-phase').textContent();
  await page.waitForTimeout(400);
  const phase2 = await newestJob(page, 'train').locator('.job-phase').textContent();
  assert(phase1 === phase2, `still moving while paused: ${phase1} → ${phase2}`);
  await page.getByTestId('train-step').click();
  await page.getByTestId('train-resume').click();
  await page.waitForSelector('[data-testid="train-run"][data-status="done"]', { timeout: 120_000 });
  const slider = page.getByTestId('checkpoint-slider');
  assert((await slider.getAttribute('max')) === '12', `checkpoints: ${await slider.getAttribute('max')} + 1`);
  const path = await page.locator('[data-testid="chart-loss"] .lines path').first().getAttribute('d');
  assert(path && path.split('L').length > 50, 'loss curve has too few points');
  // The trained model became current; its run is saved in the browser.
  assert(/trained/.test(await page.getByTestId('current-model').textContent()), 'trained model not current');
  await page.waitForSelector('[data-testid="saved-runs"] li', { timeout: 10_000 });
  await slider.fill('2');
  await page.getByTestId('checkpoint-use').click();
  await page.waitForFunction(() => /@ step 40000/.test(document.querySelector('[data-testid="current-model"]')?.textContent ?? ''));
  assert(errors.length === 0, `page errors: ${errors.join(' | ')}`);
  await page.close();
});

test('a malformed model file gets a precise error and the current model stays', async () => {
  const { page } = await openApp('?backend=wasm');
  await waitReady(page);
  await page.waitForSelector('[data-testid="job"][data-task="load-model-file"][data-status="done"]', { timeout: 30_000 });
  const before = await page.getByTestId('current-model').textContent();
  const good = readFileSync('tests/fixtures/safetensors/modadd_p5_e3_h4.safetensors');
  await page.getByTestId('file-input').setInputFiles({ name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: good.subarray(0, good.length - 40) });
  await page.waitForSelector('[data-testid="notice-error"]', { timeout: 10_000 });
  const msg = await page.getByTestId('notice-error').first().textContent();
  assert(/broken\.safetensors/.test(msg) && /truncat|bytes/i.test(msg), `message: ${msg}`);
  assert((await page.getByTestId('current-model').textContent()) === before, 'current model changed');
  // A PyTorch-layout file written by an independent writer loads, and the sizes follow it.
  await page.getByTestId('file-input').setInputFiles({ name: 'torch_modadd.safetensors', mimeType: 'application/octet-stream', buffer: good });
  await page.waitForFunction(() => /torch_modadd/.test(document.querySelector('[data-testid="current-model"]')?.textContent ?? ''));
  const count = await page.getByTestId('param-count').textContent();
  assert(count.replace(/\D/g, '') === String(5 * 3 + 4 * 6 + 4 + 5 * 4 + 5), `param count ${count}`);
  assert(page.url().includes('p=5') && page.url().includes('h=4'), `URL: ${page.url()}`);
  // Saved models survive a reload.
  await page.getByTestId('save-model').click();
  await page.waitForSelector('[data-testid="saved-models"] li');
  await page.reload();
  await page.waitForSelector('[data-testid="saved-models"] li', { timeout: 10_000 });
  assert(/torch_modadd/.test(await page.getByTestId('saved-models').textContent()), 'saved model not listed after reload');
  await page.close();
});

/** A hand-built IDX file: big-endian header, unsigned bytes. */
function idx(magic, dims, data) {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

test('MNIST: the pretrained model reaches ≥ 95 % on held-out digits, and user IDX files load (gz)', async () => {
  const { page, errors } = await openApp('?backend=wasm&arch=mnist-mlp&view=forward');
  await waitReady(page);
  await page.waitForFunction(() => /mnist-mlp \(pretrained\)/.test(document.querySelector('[data-testid="current-model"]')?.textContent ?? ''), null, { timeout: 30_000 });
  await page.getByTestId('forward-split').selectOption('test');
  await page.getByTestId('run-forward').click();
  await page.waitForSelector('[data-testid="forward-result"]', { timeout: 60_000 });
  const acc = parseFloat(await page.getByTestId('forward-accuracy').textContent());
  assert(acc >= 95, `test accuracy ${acc} %`);
  const n = 50;
  const pixels = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 37) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const { gzipSync } = await import('node:zlib');
  await page.getByTestId('idx-input').setInputFiles([
    { name: 'train-images-idx3-ubyte.gz', mimeType: 'application/gzip', buffer: gzipSync(idx(0x803, [n, 28, 28], pixels)) },
    { name: 'train-labels-idx1-ubyte', mimeType: 'application/octet-stream', buffer: idx(0x801, [n], labels) },
  ]);
  await page.waitForSelector('[data-testid="notice-info"]', { timeout: 20_000 });
  await page.getByTestId('run-forward').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="forward-result"] dd')?.textContent === '10', null, { timeout: 30_000 });
  // A labels file with a bad magic number is refused with the reason; the data stays.
  await page.getByTestId('idx-input').setInputFiles([
    { name: 'train-images-idx3-ubyte', mimeType: 'application/octet-stream', buffer: idx(0x803, [n, 28, 28], pixels) },
    { name: 'train-labels-idx1-ubyte', mimeType: 'application/octet-stream', buffer: idx(0x803, [n], labels) },
  ]);
  await page.waitForSelector('[data-testid="notice-error"]', { timeout: 20_000 });
  const msg = await page.getByTestId('notice-error').first().textContent();
  assert(/train labels/.test(msg) && /truncated/.test(msg), `message: ${msg}`);
  assert(errors.length === 0, `page errors: ${errors.join(' | ')}`);
  await page.close();
});

test('Spectrum view: matfac has d1(ε) = 400 in the gap, the slider moves it, k* = 400', async () => {
  const { page, errors } = await openApp('?backend=wasm&arch=matfac&view=spectrum&eps=1e-3');
  await waitReady(page);
  await page.waitForFunction(() => /matfac \(pretrained\)/.test(document.querySelector('[data-testid="current-model"]')?.textContent ?? ''), null, { timeout: 30_000 });
  await page.getByTestId('spectrum-run').click();
  await page.waitForSelector('[data-testid="chart-projection"]', { timeout: 60_000 });
  assert((await page.getByTestId('d1-value').textContent()) === '400', `d1 = ${await page.getByTestId('d1-value').textContent()}`);
  assert((await page.getByTestId('llc-bounds').textContent()).includes('200 ≤ λ ≤ 300'), 'bounds');
  assert(/k\* = 400/.test(await page.getByTestId('kstar').textContent()), `k*: ${await page.getByTestId('kstar').textContent()}`);
  const dots = await page.locator('[data-testid="chart-eigenvalues"] .dots circle').count();
  assert(dots > 400, `eigenvalue dots: ${dots}`);
  // Every chart exports its data: the eigenvalues as CSV, one row per eigenvalue.
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('figure', { has: page.getByTestId('chart-eigenvalues') }).getByTestId('export-csv').click()]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert(csv[0] === 'series,rank k (1 = largest eigenvalue),eigenvalue h_k (behavioral-loss curvature)' && csv.length === 801, `csv: ${csv[0]} (${csv.length} lines)`);
  // Moving ε above the largest eigenvalue leaves no direction above it; the URL follows.
  const slider = page.getByTestId('eps-slider');
  await slider.focus();
  await slider.fill(await slider.getAttribute('max'));
  await page.waitForFunction(() => document.querySelector('[data-testid="d1-value"]')?.textContent === '0');
  await page.waitForFunction(() => /eps=/.test(location.search));
  // The session (model, spectrum, settings) exports as one file and imports into a fresh page.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('session-export').click()]);
  const sessionPath = await dl.path();
  const fresh = await openApp('?backend=wasm');
  await waitReady(fresh.page);
  await fresh.page.waitForSelector('[data-testid="job"][data-task="load-model-file"][data-status="done"]', { timeout: 30_000 });
  await fresh.page.getByTestId('session-input').setInputFiles({ name: 'session.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(sessionPath) });
  await fresh.page.waitForSelector('[data-testid="spectrum-result"]', { timeout: 30_000 });
  assert((await fresh.page.getByTestId('arch-select').inputValue()) === 'matfac', 'session did not restore the model');
  assert((await fresh.page.getByTestId('d1-value').textContent()) === '0', 'session did not restore ε');
  assert(errors.length === 0 && fresh.errors.length === 0, `page errors: ${[...errors, ...fresh.errors].join(' | ')}`);
  await fresh.page.close();
  await page.close();
});

test('Internals view: MNIST blocks and N, tolerance slider regroups live, zero table; modadd Fourier circuits', async () => {
  const { page, errors } = await openApp('?backend=wasm&arch=mnist-mlp&view=internals');
  await waitReady(page);
  await page.waitForFunction(() => /mnist-mlp \(pretrained\)/.test(document.querySelector('[data-testid="current-model"]')?.textContent ?? ''), null, { timeout: 30_000 });
  await page.getByTestId('internals-run').click();
  await page.waitForSelector('[data-testid="internals-result"]', { timeout: 120_000 });
  const blocks0 = Number(await page.getByTestId('sync-blocks').textContent());
  assert(blocks0 > 10 && blocks0 <= 50, `blocks: ${blocks0}`);
  await page.getByTestId('sync-tol').fill('0.05');
  await page.waitForFunction((b) => Number(document.querySelector('[data-testid="sync-blocks"]')?.textContent) < b, blocks0, { timeout: 5_000 });
  assert(await page.locator('[data-testid="zero-table"] tbody tr').count() === 3, 'zero table rows');
  await page.close();
  const m = await openApp('?backend=wasm&view=internals');
  await waitReady(m.page);
  await m.page.waitForFunction(() => /modadd \(pretrained\)/.test(document.querySelector('[data-testid="current-model"]')?.textContent ?? ''), null, { timeout: 30_000 });
  await m.page.getByTestId('internals-run').click();
  await m.page.waitForSelector('[data-testid="fourier-circle"] .dots circle', { timeout: 120_000 });
  const keys = await m.page.getByTestId('fourier-keys').textContent();
  assert(/\d/.test(keys), `key frequencies: ${keys}`);
  assert((await m.page.locator('[data-testid="fourier-circle"] .dots circle').count()) === 53, 'one dot per token');
  assert(errors.length === 0 && m.errors.length === 0, `page errors: ${[...errors, ...m.errors].join(' | ')}`);
  await m.page.close();
});

test('the page bundle does not contain tfjs (all compute lives in the worker)', async () => {
  const { readdirSync, statSync } = await import('node:fs');
  const main = readdirSync('dist/assets').filter((f) => /^index-.*\.js$/.test(f));
  assert(main.length === 1, `main bundles: ${main.join(', ')}`);
  const size = statSync(`dist/assets/${main[0]}`).size;
  const text = readFileSync(`dist/assets/${main[0]}`, 'utf8');
  assert(!/registerKernel\(|tfjs-backend-wasm|WEBGPU_CPU_FORWARD/.test(text), 'tfjs code found in the page bundle');
  assert(size < 900_000, `page bundle is ${size} bytes`);
});

test('LLC view: exact λ(ε) of the normal crossing matches ½ − 1/(2 − ln ε)', async () => {
  const { page, errors } = await openApp('?backend=wasm&view=llc&eps=1e-3');
  await waitReady(page);
  await page.getByTestId('landscape-select').selectOption('w1w2');
  await page.waitForSelector('[data-testid="landscape-result"]', { timeout: 30_000 });
  await page.waitForFunction(() => Math.abs(Number(document.querySelector('[data-testid="landscape-llc"]')?.textContent) - (0.5 - 1 / (2 - Math.log(1e-3)))) < 2e-3, null, { timeout: 30_000 });
  assert(errors.length === 0, `page errors: ${errors.join(' | ')}`);
  await page.close();
});

test('LLC view: the JSON of slt llc-sweep and llc-checkpoints opens in its charts; a malformed one is refused and nothing drawn changes', async () => {
  const { page, errors } = await openApp('?backend=wasm&view=llc&eps=1e-3');
  await waitReady(page);
  const health = { verdict: 'doubtful', reasons: ['chains disagree'], checks: { ess: 30, rhat: 1.2, driftZ: 1, localizedShare: 0.8, meanAcceptance: 0.97 } };
  const sweep = { points: [23, 31, 41].flatMap((p, i) => [
    { p, op: 'sum', seed: 0, llc_mean: 4 * p, llc_std: 1, llc_stderr: 0.5, train_accuracy: 1, test_accuracy: 1, memorized: null, gamma: 10, step: 9e-4, health, error: null },
    { p: 5 + 5 * i, op: 'random', seed: 0, llc_mean: 0.7 * (5 + 5 * i) ** 2, llc_std: 1, llc_stderr: 0.5, train_accuracy: 1, test_accuracy: 0.05, memorized: 10, gamma: 1, step: 9e-4, health, error: null },
  ]), fits: { sum: { linear: [0, 4], quadratic: [0, 4, 0] }, random: null } };
  await page.getByTestId('llc-results-input').setInputFiles({ name: 'sweep.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(sweep)) });
  await page.waitForSelector('[data-testid="chart-llc-sweep"] .lines path[d]', { timeout: 10_000 });
  assert(/6 models/.test(await page.getByTestId('llc-results-note').textContent()), 'no note for the sweep');
  const ckpt = { source: 'test', points: [0, 60, 120].map((step, i) => ({ step, llc_mean: [28, 114, 70][i], llc_std: 1, llc_stderr: 0.5, mean_acceptance: 0.97, health, error: null })),
    training: [0, 60, 120].map((step, i) => ({ step, train_loss: [4, 1, 0.1][i], test_loss: [4, 4.3, 0.25][i], train_accuracy: null, test_accuracy: null })) };
  await page.getByTestId('llc-results-input').setInputFiles({ name: 'checkpoints.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(ckpt)) });
  await page.waitForSelector('[data-testid="chart-llc-checkpoints"] .dots circle', { timeout: 10_000 });
  const drawn = await page.locator('[data-testid="chart-llc-checkpoints"] .dots circle').count();
  assert(drawn === 3, `${drawn} checkpoint dots, expected 3`);
  await page.getByTestId('llc-results-input').setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"points": [{"p": 3, "op": "product"}]}') });
  await page.waitForSelector('[data-testid="llc-results-error"]', { timeout: 10_000 });
  assert(/bad\.json/.test(await page.getByTestId('llc-results-error').textContent()) && /product/.test(await page.getByTestId('llc-results-error').textContent()), 'error does not name the file and the field');
  assert((await page.locator('[data-testid="chart-llc-checkpoints"] .dots circle').count()) === drawn, 'the checkpoint chart changed after a refused file');
  assert((await page.locator('[data-testid="chart-llc-sweep"] .lines path[d]').count()) > 0, 'the sweep chart went away after a refused file');
  assert(errors.length === 0, `page errors: ${errors.join(' | ')}`);
  await page.close();
});

test('the guided tour walks all eight steps, each setting up its view, and resumes after a reload', async () => {
  const { page, errors } = await openApp('?backend=wasm');
  await waitReady(page);
  await page.waitForSelector('[data-testid="job"][data-task="load-model-file"][data-status="done"]', { timeout: 30_000 });
  await page.getByTestId('tour-start').click();
  const expected = [
    ['1 ·', 'llc', 'landscape-plot'], ['2 ·', 'llc', 'chart-landscape-llc'], ['3 ·', 'forward', 'run-forward'],
    ['4 ·', 'spectrum', 'eps-slider'], ['5 ·', 'spectrum', 'chart-projection'], ['6 ·', 'llc', 'llc-run'],
    ['7 ·', 'internals', 'raster'], ['8 ·', 'internals', 'interaction-table'],
  ];
  for (let i = 0; i < expected.length; i++) {
    const [title, view, target] = expected[i];
    await page.waitForFunction((t) => document.querySelector('[data-testid="tour-title"]')?.textContent?.startsWith(t), title, { timeout: 10_000 });
    assert((await page.locator(`[data-testid="tab-${view}"][aria-selected="true"]`).count()) === 1, `step ${i + 1}: view ${view} not active`);
    await page.waitForSelector(`[data-testid="${target}"]`, { timeout: 120_000 });
    assert((await page.locator('[data-testid="tour"] .katex').count()) > 0, `step ${i + 1}: no rendered formula`);
    if (i === 3) {
      await page.reload(); // resumable
      await waitReady(page);
      await page.getByTestId('tour-start').click();
      await page.waitForFunction(() => document.querySelector('[data-testid="tour-title"]')?.textContent?.startsWith('4 ·'), null, { timeout: 10_000 });
      await page.waitForSelector('[data-testid="eps-slider"]', { timeout: 120_000 });
    }
    if (i + 1 < expected.length) await page.getByTestId('tour-next').click();
  }
  await page.getByTestId('tour-finish').click();
  assert((await page.locator('[data-testid="tour"]').count()) === 0, 'tour still open');
  assert(errors.length === 0, `page errors: ${errors.join(' | ')}`);
  await page.screenshot({ path: 'test-results/tour-end.png' });
  await page.close();
});

test('absurd sizes are refused before anything is built, with the reason', async () => {
  const { page } = await openApp('?backend=wasm&arch=mnist-mlp&hidden=4000,4000');
  await waitReady(page);
  const msg = await page.getByTestId('param-count').textContent();
  assert(/more than this explorer handles/.test(msg), `message: ${msg}`);
  assert(await page.getByTestId('build-model').isDisabled(), 'build enabled for a 19M-parameter model');
  await page.close();
});

test('the in-browser benchmark reports H·v throughput, Lanczos and the matMul rate on the active backend', async () => {
  const { page, errors } = await openApp('?backend=wasm&arch=matfac&view=forward');
  await waitReady(page);
  await page.waitForFunction(() => /matfac \(pretrained\)/.test(document.querySelector('[data-testid="current-model"]')?.textContent ?? ''), null, { timeout: 30_000 });
  await page.locator('.bench-panel summary').click();
  await page.getByTestId('bench-run').click();
  await page.waitForSelector('[data-testid="bench-result"]', { timeout: 120_000 });
  const text = await page.getByTestId('bench-result').textContent();
  assert(/wasm/.test(text) && /GFLOP\/s/.test(text) && /Lanczos top/.test(text) && /our kernels on \d+ threads?/.test(text), `bench: ${text}`);
  // The WGSL rows run on the webgpu backend only; on wasm they say why they were skipped.
  assert(/training steps: WGSL engine vs tfjs ops/.test(text) && /skipped: the active backend is wasm; the WGSL training steps run on the webgpu backend/.test(await page.getByTestId('bench-train-wgsl').textContent()), `bench: ${text}`);
  assert(errors.length === 0, `page errors: ${errors.join(' | ')}`);
  await page.close();
});

test('the page is cross-origin isolated, and our kernels run on the cores (threads shown in the badge)', async () => {
  const { page, errors } = await openApp('?backend=wasm&arch=matfac&view=forward');
  await waitReady(page);
  const { isolated, cores } = await page.evaluate(() => ({ isolated: globalThis.crossOriginIsolated === true, cores: navigator.hardwareConcurrency }));
  assert(isolated, 'not cross-origin isolated: the server did not send COOP/COEP');
  const threads = Number(await page.getByTestId('backend-threads').getAttribute('data-threads'));
  const want = Math.max(1, Math.min(4, cores));
  assert(threads === want, `badge says ${threads} threads, expected ${want} (${cores} cores)`);
  assert(new RegExp(`${want} threads?`).test(await page.getByTestId('backend-threads').textContent()), 'badge text');
  assert(errors.length === 0, `page errors: ${errors.join(' | ')}`);
  await page.close();
});

test('no request leaves the app origin', async () => {
  const { requests } = shared;
  const foreign = requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('data:') && !u.startsWith('blob:'));
  assert(foreign.length === 0, `foreign requests: ${foreign.join(', ')}`);
  const errs = shared.errors.filter((e) => !/crash/i.test(e));
  assert(errs.length === 0, `console/page errors: ${errs.join(' | ')}`);
});

registerExperienceTests({ test, openApp, waitReady, assert, skip, browser, server });
registerFirstMinutesTests({ test, assert, browser, server });
registerBackendTests({ test, openApp, waitReady, hasAdapter, backendOf, newestJob, assert, skip, IN_CI });

for (const t of tests) {
  const t0 = Date.now();
  try {
    await t.fn();
    results.push({ name: t.name, status: 'passed' });
    console.log(`  ✓ ${t.name} (${Date.now() - t0} ms)`);
  } catch (e) {
    if (e instanceof Skip) {
      results.push({ name: t.name, status: 'skipped' });
      console.log(`  - ${t.name} — SKIPPED: ${e.message}`);
    } else {
      results.push({ name: t.name, status: 'failed' });
      console.log(`  ✗ ${t.name}\n      ${String(e?.stack ?? e).split('\n').slice(0, 4).join('\n      ')}`);
      if (shared?.page && !shared.page.isClosed()) {
        await shared.page.screenshot({ path: `test-results/failure-${results.length}.png` }).catch(() => undefined);
      }
    }
  }
}
await browser.close();
await server.close();
const n = (s) => results.filter((r) => r.status === s).length;
console.log(`${n('passed')} passed, ${n('failed')} failed, ${n('skipped')} skipped`);
process.exit(n('failed') ? 1 : 0);
