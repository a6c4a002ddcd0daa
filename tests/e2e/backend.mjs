// Backend end-to-end tests: the measured "auto" choice is remembered per device, and a real lost
// WebGPU device (GPUDevice.destroy()) restarts the worker on wasm without losing results.

/** The badge's calibration figures: { choice, fromMemory, why, timings: { name: { ms, timedOut } } }. */
export async function calibrationOf(page) {
  const c = page.getByTestId('backend-calibration');
  await c.waitFor({ state: 'visible', timeout: 10_000 });
  const timings = {};
  for (const name of ['webgpu', 'wasm', 'cpu']) {
    const t = page.getByTestId(`backend-timing-${name}`);
    if (await t.count()) timings[name] = { ms: Number(await t.getAttribute('data-ms')), timedOut: (await t.getAttribute('data-timed-out')) === 'true' };
  }
  return {
    choice: await c.getAttribute('data-choice'), fromMemory: (await c.getAttribute('data-from-memory')) === 'true',
    why: await page.getByTestId('backend-why-chosen').textContent(), text: await c.textContent(), timings,
  };
}

export function registerBackendTests({ test, openApp, waitReady, hasAdapter, backendOf, newestJob, assert, skip, IN_CI }) {
  test('the auto choice is remembered for this device: a reload measures nothing; "re-measure" measures again', async () => {
    const { page, errors } = await openApp('');
    if (!(await hasAdapter(page))) {
      await page.close();
      if (IN_CI) throw new Error('No WebGPU adapter in CI');
      skip('no WebGPU adapter on this machine (SwiftShader not available)');
    }
    await waitReady(page);
    const first = await calibrationOf(page);
    assert(!first.fromMemory, 'a fresh page found a remembered choice');
    const stored = await page.evaluate(() => localStorage.getItem('slt-backend-calibration-v1'));
    assert(stored && stored.includes(first.choice), `nothing stored: ${stored}`);
    await page.reload();
    assert((await waitReady(page)) === first.choice, 'the reload chose differently');
    const second = await calibrationOf(page);
    assert(second.fromMemory && /remembered for this device/.test(second.why), `not remembered: ${second.text}`);
    assert(JSON.stringify(second.timings) === JSON.stringify(first.timings), 'the remembered timings differ from the measured ones');
    await page.getByTestId('backend-remeasure').click();
    await page.waitForSelector('[data-testid="backend-calibration"][data-from-memory="false"]', { timeout: 60_000 });
    assert((await backendOf(page)) === 'wasm', 'after re-measuring, not wasm');
    assert(errors.length === 0, `page errors: ${errors.join(' | ')}`);
    await page.close();
  });

  test('a real lost WebGPU device (GPUDevice.destroy()): the user is told, the worker restarts on wasm, nothing computed is lost', async () => {
    // WebGPU asked for by name: auto would pick wasm over SwiftShader, and this test is the WebGPU
    // correctness coverage (a forward pass on the GPU agrees with wasm).
    const { page, errors } = await openApp('?debug=1&backend=webgpu&view=forward');
    if (!(await hasAdapter(page))) {
      await page.close();
      if (IN_CI) throw new Error('No WebGPU adapter in CI: the device-loss path must run here');
      skip('no WebGPU adapter on this machine (SwiftShader not available)');
    }
    const active = await waitReady(page);
    assert(active === 'webgpu', `backend is ${active}, expected webgpu`);
    await page.waitForSelector('[data-testid="job"][data-task="load-model-file"][data-status="done"]', { timeout: 30_000 });
    const model = await page.getByTestId('current-model').textContent();
    await page.getByTestId('forward-repeats').fill('1');
    await page.getByTestId('run-forward').click();
    await page.waitForSelector('[data-testid="forward-result"][data-backend="webgpu"]', { timeout: 120_000 });
    const gpuLoss = await page.getByTestId('forward-loss').textContent();
    const errorNotices = () => page.getByTestId('notice-error').allTextContents();
    const before = (await errorNotices()).length;

    // 1. The device goes away while idle.
    let t0 = Date.now();
    assert((await page.evaluate(() => window.__slt?.loseDevice())) === true, 'the debug hook did not reach a webgpu worker');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="notice-error"]').length > n, before, { timeout: 15_000 });
    const noticeMs = Date.now() - t0;
    const notice = (await errorNotices()).at(-1);
    assert(/GPU device was lost/.test(notice) && /restarts on wasm/.test(notice), `notice: ${notice}`);
    await page.waitForSelector('[data-testid="backend-badge"][data-backend="wasm"][data-status="ready"]', { timeout: 60_000 });
    const readyMs = Date.now() - t0;
    assert((await page.getByTestId('backend-name').textContent()) === 'wasm', 'badge does not say wasm');
    // The result computed on the GPU is still on screen, and the model is the same.
    assert((await page.getByTestId('forward-result').getAttribute('data-backend')) === 'webgpu', 'the webgpu result is gone');
    assert((await page.getByTestId('forward-loss').textContent()) === gpuLoss, 'the displayed result changed');
    assert((await page.getByTestId('current-model').textContent()) === model, 'the current model changed');
    // A new job completes on wasm and agrees with the GPU's result.
    await page.getByTestId('run-forward').click();
    await page.waitForSelector('[data-testid="forward-result"][data-backend="wasm"]', { timeout: 60_000 });
    assert((await newestJob(page, 'forward').getAttribute('data-status')) === 'done', 'the wasm forward pass did not finish');
    const wasmLoss = await page.getByTestId('forward-loss').textContent();
    assert(Math.abs(Number(wasmLoss) - Number(gpuLoss)) <= 1e-3 * Math.abs(Number(gpuLoss)) + 1e-6, `loss on wasm ${wasmLoss} vs webgpu ${gpuLoss}`);
    console.log(`    (idle loss: notice after ${noticeMs} ms, wasm ready after ${readyMs} ms; "${notice.replace(/×$/, '')}")`);

    // 2. The device goes away while a job runs on it.
    await page.getByTestId('backend-select').selectOption('webgpu');
    await page.waitForSelector('[data-testid="backend-badge"][data-backend="webgpu"][data-status="ready"]', { timeout: 60_000 });
    const before2 = (await errorNotices()).length;
    await page.getByTestId('forward-repeats').fill('1000');
    await page.getByTestId('run-forward').click();
    await page.waitForFunction(() => {
      const j = document.querySelector('[data-testid="job"][data-task="forward"]');
      const p = j?.querySelector('progress');
      return j?.getAttribute('data-status') === 'running' && p && Number(p.value) > 0;
    }, null, { timeout: 120_000 });
    const id = await newestJob(page, 'forward').getAttribute('data-job-id');
    t0 = Date.now();
    assert((await page.evaluate(() => window.__slt?.loseDevice())) === true, 'the debug hook did not reach the webgpu worker');
    const stopped = page.locator(`[data-testid="job"][data-job-id="${id}"]`);
    await page.waitForSelector(`[data-testid="job"][data-job-id="${id}"][data-status="error"]`, { timeout: 15_000 });
    const stopMs = Date.now() - t0;
    const jobError = await stopped.locator('.job-error').textContent();
    assert(/GPU device was lost/.test(jobError) && /Run it again/.test(jobError), `job error: ${jobError}`);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="notice-error"]').length > n, before2, { timeout: 15_000 });
    const added = (await errorNotices()).slice(before2);
    assert(added.length === 1, `expected one notice for the loss, got ${added.length}: ${added.join(' | ')}`);
    assert(/GPU device was lost/.test(added[0]) && /Stopped: Forward pass ×1000/.test(added[0]), `notice: ${added[0]}`);
    await page.waitForSelector('[data-testid="backend-badge"][data-backend="wasm"][data-status="ready"]', { timeout: 60_000 });
    const ready2Ms = Date.now() - t0;
    assert((await page.getByTestId('forward-loss').textContent()) === wasmLoss, 'the displayed result changed');
    assert((await page.getByTestId('current-model').textContent()) === model, 'the current model changed');
    await page.getByTestId('forward-repeats').fill('1');
    await page.getByTestId('run-forward').click();
    await page.waitForFunction((old) => {
      const j = document.querySelector('[data-testid="job"][data-task="forward"]');
      return j && j.getAttribute('data-job-id') !== old && j.getAttribute('data-status') === 'done';
    }, id, { timeout: 60_000 });
    assert((await page.getByTestId('forward-result').getAttribute('data-backend')) === 'wasm', 'the new job did not run on wasm');
    console.log(`    (loss mid-job: job failed after ${stopMs} ms, wasm ready after ${ready2Ms} ms; job: "${jobError}")`);
    const pageErrors = errors.filter((e) => !/destroy|lost/i.test(e));
    assert(pageErrors.length === 0, `page errors: ${pageErrors.join(' | ')}`);
    if (errors.length) console.log(`    (console errors around the loss: ${errors.join(' | ')})`);
    await page.close();
  });
}
