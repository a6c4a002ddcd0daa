import { describe, expect, test } from 'vitest';
import { CancelledError, createJobContext, isCancelled, PauseGate, subContext } from '../../src/core/jobs';
import { transferablesOf } from '../../src/worker/protocol';

describe('job context', () => {
  test('checkpoint throws CancelledError once aborted, and a busy loop sees the abort', async () => {
    const ac = new AbortController();
    const ctx = createJobContext({ signal: ac.signal, yieldEveryMs: 5 });
    setTimeout(() => ac.abort(), 30);
    const t0 = Date.now();
    let iterations = 0;
    const run = async () => {
      for (;;) {
        const until = Date.now() + 2;
        while (Date.now() < until) { /* work */ }
        iterations++;
        await ctx.checkpoint();
      }
    };
    const err = await run().catch((e) => e);
    expect(isCancelled(err)).toBe(true);
    expect(err).toBeInstanceOf(CancelledError);
    expect(Date.now() - t0).toBeLessThan(200);
    expect(iterations).toBeGreaterThan(3);
  });

  test('progress is clamped to [0, 1] and partials pass through', () => {
    const seen: [number, string][] = [];
    const parts: number[] = [];
    const ctx = createJobContext<number>({ onProgress: (f, p) => seen.push([f, p]), onPartial: (d) => parts.push(d) });
    ctx.progress(-1, 'a');
    ctx.progress(0.5, 'b');
    ctx.progress(7, 'c');
    ctx.partial(42);
    expect(seen).toEqual([[0, 'a'], [0.5, 'b'], [1, 'c']]);
    expect(parts).toEqual([42]);
  });
});

describe('subContext', () => {
  test('maps a phase\'s progress f ∈ [0, 1] onto [a, b] of the parent, labelled "label: phase"', () => {
    const seen: [number, string][] = [];
    const parts: unknown[] = [];
    const parent = createJobContext({ onProgress: (f, p) => seen.push([f, p]), onPartial: (d) => parts.push(d) });
    const sub = subContext(parent, 0.2, 0.6, 'SLQ');
    sub.progress(0, 'start');
    sub.progress(0.25, 'probe 1/4');
    sub.progress(1, 'done');
    // a + (b − a)·f by hand: 0.2, 0.2 + 0.4·0.25 = 0.3, 0.6
    expect(seen.map(([f]) => f)).toEqual([0.2, expect.closeTo(0.3, 15), 0.6]);
    expect(seen.map(([, p]) => p)).toEqual(['SLQ: start', 'SLQ: probe 1/4', 'SLQ: done']);
    // A phase's partials are its own; the parent's listeners never see them.
    sub.partial(42);
    expect(parts).toEqual([]);
    // Nested phases compose: [0.5, 1] of [0.2, 0.6] is [0.4, 0.6].
    const inner = subContext(sub, 0.5, 1, 'inner');
    inner.progress(0, 'x');
    inner.progress(0.5, 'y');
    expect(seen.slice(3).map(([f]) => f)).toEqual([expect.closeTo(0.4, 15), expect.closeTo(0.5, 15)]);
    expect(seen[3][1]).toBe('SLQ: inner: x');
  });

  test('cancellation and pausing are the parent\'s', async () => {
    const ac = new AbortController();
    const gate = new PauseGate();
    const parent = createJobContext({ signal: ac.signal, gate });
    const sub = subContext(parent, 0, 0.5, 'phase');
    expect(sub.signal).toBe(parent.signal);
    gate.pause();
    const waiting = sub.waitIfPaused();
    ac.abort();
    await expect(waiting).rejects.toBeInstanceOf(CancelledError);
    await expect(sub.checkpoint()).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('pause gate', () => {
  test('pause blocks, step lets exactly one through, resume releases', async () => {
    const gate = new PauseGate();
    const ac = new AbortController();
    const ctx = createJobContext({ signal: ac.signal, gate });
    let done = 0;
    const loop = (async () => {
      for (let i = 0; i < 5; i++) { await ctx.waitIfPaused(); done++; }
    })();
    gate.pause();
    await new Promise((r) => setTimeout(r, 10));
    const afterPause = done;
    gate.step();
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(afterPause + 1);
    gate.resume();
    await loop;
    expect(done).toBe(5);
  });

  test('cancelling a paused job rejects it', async () => {
    const gate = new PauseGate();
    const ac = new AbortController();
    const ctx = createJobContext({ signal: ac.signal, gate });
    gate.pause();
    const p = ctx.waitIfPaused();
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('transferables', () => {
  test('large whole-buffer typed arrays are transferred; views, small arrays and duplicates are not', () => {
    const big = new Float64Array(10_000);
    const big32 = new Float32Array(5_000);
    const small = new Float32Array(10);
    const view = new Float32Array(new ArrayBuffer(80_000), 8, 1000);
    const list = transferablesOf({ a: big, nested: { b: [big32, small, view, big] }, n: 3, s: 'x' });
    expect(list).toHaveLength(2);
    expect(list).toContain(big.buffer);
    expect(list).toContain(big32.buffer);
  });

  test('transferring really moves the buffer (zero-copy)', () => {
    const a = new Float32Array(4096);
    const { port1, port2 } = new MessageChannel();
    port1.postMessage({ a }, transferablesOf({ a }));
    expect(a.byteLength).toBe(0); // detached on the sender side
    port1.close(); port2.close();
  });
});
