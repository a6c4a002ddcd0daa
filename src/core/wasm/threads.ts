/**
 * Our own worker threads for the hand-assembled wasm kernels (issue 14 item 5): helpers that run
 * the same kernels on the same shared WebAssembly memory as the calling thread, so one large
 * kernel call (a Gram–Schmidt sweep over the Krylov basis, a big GEMM) is split in parts that run
 * at once. tfjs's own threaded wasm build is not used (PLATFORM.md: it hung under COOP/COEP).
 *
 * - A helper is a tiny plain-JS worker (HELPER_SOURCE: `eval` worker in Node, Blob URL in the
 *   browser), so nothing needs bundling. It instantiates the modules it is given against their
 *   shared memories and then waits on a control block (a SharedArrayBuffer of Int32) with
 *   Atomics.wait: a job is a few "segments", each `count` calls of one exported kernel whose i32
 *   arguments advance by fixed strides (e.g. eight basis rows per call of a dots kernel).
 * - `run` is synchronous: the caller writes each helper's job, wakes it, does its own share, and
 *   waits for the helpers with Atomics.wait. That keeps the callers (tfjs kernels, the Lanczos
 *   sweeps) synchronous, and needs a thread that may block: Node's main thread, a Web Worker (not a
 *   page's main thread, where the pool is not offered).
 * - A module/memory pair is sent to the helpers once (`attach`): the caller asks each helper to
 *   return to its event loop (command YIELD), posts the pair, and waits for the acknowledgement.
 *   Helpers keep the last ATTACH_KEEP pairs (the caller mirrors the same eviction), so a dropped
 *   Krylov basis does not stay alive in them.
 * - Available where SharedArrayBuffer, shared WebAssembly memory and workers are (Node; a browser
 *   page only when cross-origin isolated). `initThreads(n)` starts n − 1 helpers; without it, or
 *   where unavailable, everything runs on the calling thread as before.
 */

/** Words of one helper's slot in the control block. */
const SLOT = 512;
/** Slot layout: sequence number (written by the caller), done (by the helper), command, instance, segment count, ack. */
const SEQ = 0, DONE = 1, CMD = 2, INST = 3, NSEG = 4, ACK = 5, SEG0 = 8;
/** A segment: fn, count, MAX_ARGS arguments, MAX_ARGS strides. */
const MAX_ARGS = 8;
const SEGLEN = 2 + 2 * MAX_ARGS;
const MAX_SEGS = Math.floor((SLOT - SEG0) / SEGLEN);
const CMD_RUN = 1, CMD_YIELD = 2, CMD_STOP = 3;
/** Unpinned module/memory pairs a helper keeps (and the caller mirrors); pinned ones stay. */
const ATTACH_KEEP = 6;
/**
 * How long a thread spins on a control word before sleeping in Atomics.wait (ms). A futex wake
 * costs 30–50 µs here, as much as the whole gain of splitting a 0.3 ms product; jobs come in
 * bursts (the products of a training step, the sweeps of a Lanczos step), so a helper that has
 * just finished one spins this long for the next (what OpenMP runtimes do by default).
 */
const SPIN_MS = 2;
/**
 * Jobs per lateness verdict, and how long the pool runs everything on the calling thread when most
 * of them were late. On a machine busy with other work (two spinning threads and two other
 * processes on 2 cores) a split Lanczos basis rotation ran 4–5× slower than on one thread; with
 * the back-off it stays near the one-thread time and splits again once the cores are free.
 */
const LATE_WINDOW = 16, BACKOFF_MS = 1000;

/**
 * The helper: plain JS, the same text in Node (eval worker, `require` available) and in a browser
 * (Blob URL worker). Spins briefly on the sequence word before sleeping, since jobs come in bursts
 * (one per GEMM of a training step, one per sweep of a Lanczos step) and a futex wake costs tens of µs.
 */
const HELPER_SOURCE = `
'use strict';
const SLOT = ${SLOT}, SEQ = ${SEQ}, DONE = ${DONE}, CMD = ${CMD}, INST = ${INST}, NSEG = ${NSEG}, ACK = ${ACK}, SEG0 = ${SEG0}, SEGLEN = ${SEGLEN}, NA = ${MAX_ARGS};
const RUN = ${CMD_RUN}, YIELD = ${CMD_YIELD}, STOP = ${CMD_STOP}, KEEP = ${ATTACH_KEEP}, SPIN_MS = ${SPIN_MS};
let ctl = null, base = 0, last = 0;
const insts = new Map(), kept = [];
let close;
function finish(s) { Atomics.store(ctl, base + DONE, s); Atomics.notify(ctl, base + DONE); }
function loop() {
  for (;;) {
    let s = Atomics.load(ctl, base + SEQ);
    if (s === last) {
      const until = performance.now() + SPIN_MS;
      for (let spin = 1; s === last; spin++) {
        s = Atomics.load(ctl, base + SEQ);
        if ((spin & 255) === 0 && performance.now() > until) break;
      }
    }
    if (s === last) { Atomics.wait(ctl, base + SEQ, last); continue; }
    last = s;
    const cmd = ctl[base + CMD];
    if (cmd === YIELD) { finish(s); return; }
    if (cmd === STOP) { finish(s); close(); return; }
    const fns = insts.get(ctl[base + INST]);
    const n = ctl[base + NSEG];
    for (let g = 0; g < n; g++) {
      const o = base + SEG0 + g * SEGLEN;
      const f = fns[ctl[o]], count = ctl[o + 1];
      const a = ctl.slice(o + 2, o + 2 + NA), st = ctl.slice(o + 2 + NA, o + 2 + 2 * NA);
      for (let t = 0; t < count; t++) {
        f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
        for (let i = 0; i < NA; i++) a[i] += st[i];
      }
    }
    finish(s);
  }
}
function onMessage(m) {
  if (m.type === 'init') { ctl = new Int32Array(m.sab); base = m.slot * SLOT; }
  else if (m.type === 'attach') {
    const ex = new WebAssembly.Instance(m.module, { env: { mem: m.memory } }).exports;
    insts.set(m.id, m.names.map((k) => ex[k]));
    if (!m.pinned) kept.push(m.id);
    while (kept.length > KEEP) insts.delete(kept.shift());
  }
  Atomics.store(ctl, base + ACK, m.token);
  Atomics.notify(ctl, base + ACK);
  loop();
}
if (typeof self === 'undefined') {
  const { parentPort } = require('node:worker_threads');
  close = () => parentPort.close();
  parentPort.on('message', onMessage);
} else {
  close = () => self.close();
  self.onmessage = (e) => onMessage(e.data);
}
`;

/** `count` calls of one kernel; argument i advances by strides[i] per call (at most MAX_ARGS i32 arguments). */
export interface Segment {
  fn: number;
  count: number;
  args: number[];
  strides?: number[];
}

/** A module instantiated against a shared memory on the calling thread and in every helper. */
export interface Attached {
  readonly id: number;
  /** The calling thread's exports, in the order of `names`. */
  readonly fns: ((...a: number[]) => void)[];
}

interface HelperHandle {
  post(msg: unknown): void;
  terminate(): void;
}

export interface ThreadPool {
  /** Threads in all, the caller included. */
  readonly threads: number;
  /**
   * Instantiates `module` (importing env.mem) against `memory` here and in every helper. Unpinned
   * pairs (one per Krylov basis) are dropped, oldest first, beyond the last ATTACH_KEEP; `pinned`
   * ones (the process-wide kernel instances) stay.
   */
  attach(module: WebAssembly.Module, memory: WebAssembly.Memory, names: string[], pinned?: boolean): Attached;
  /**
   * Runs jobs[t] on helper t − 1 (jobs[0] on the caller), returning when all are done. An instance
   * the helpers have dropped runs all its jobs here, one after the other.
   */
  run(inst: Attached, jobs: Segment[][]): void;
  /** Stops the helpers. */
  close(): void;
}

/** Whether this thread may block (Atomics.wait): Node, or a worker; not a page's main thread. */
function canBlock(): boolean {
  const g = globalThis as { document?: unknown; process?: { versions?: { node?: string } } };
  if (g.process?.versions?.node) return true;
  return g.document === undefined;
}

/** Whether the pieces threads need exist here (shared memory, SharedArrayBuffer, Atomics.wait). */
export function threadsSupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined' || typeof WebAssembly === 'undefined') return false;
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return false;
  if (!canBlock()) return false;
  try {
    const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
    return m.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

async function spawn(): Promise<HelperHandle> {
  const g = globalThis as { process?: { versions?: { node?: string } } };
  if (g.process?.versions?.node) {
    const spec = 'node:worker_threads';
    const wt = (await import(/* @vite-ignore */ spec)) as { Worker: new (code: string, opts: { eval: boolean }) => { postMessage(m: unknown): void; unref(): void; terminate(): Promise<number> } };
    const w = new wt.Worker(HELPER_SOURCE, { eval: true });
    w.unref(); // an idle helper must not keep a CLI process alive
    return { post: (m) => w.postMessage(m), terminate: () => { void w.terminate(); } };
  }
  const url = URL.createObjectURL(new Blob([HELPER_SOURCE], { type: 'text/javascript' }));
  const w = new Worker(url);
  URL.revokeObjectURL(url);
  return { post: (m) => w.postMessage(m), terminate: () => w.terminate() };
}

/** Waits (blocking) until ctl[i] equals `want`: spins up to SPIN_MS, then sleeps. */
function waitFor(ctl: Int32Array, i: number, want: number): void {
  const until = performance.now() + SPIN_MS;
  for (let spin = 1; ; spin++) {
    if (Atomics.load(ctl, i) === want) return;
    if ((spin & 255) === 0 && performance.now() > until) break;
  }
  for (;;) {
    const v = Atomics.load(ctl, i);
    if (v === want) return;
    Atomics.wait(ctl, i, v, 1000);
  }
}

async function createPool(threads: number): Promise<ThreadPool> {
  const nh = threads - 1;
  const ctl = new Int32Array(new SharedArrayBuffer(4 * SLOT * Math.max(1, nh)));
  const helpers = await Promise.all(Array.from({ length: nh }, () => spawn()));
  let token = 0, seq = 0, nextId = 1;
  const kept: number[] = [];
  const insts = new Map<number, Attached>();

  const tell = (h: number, cmd: number): void => {
    const b = h * SLOT;
    ctl[b + CMD] = cmd;
    Atomics.store(ctl, b + SEQ, ++seq);
    Atomics.notify(ctl, b + SEQ);
  };
  /** Sends a message to every helper (each back in its event loop) and waits for the acks. */
  const message = (msg: Record<string, unknown>, yieldFirst: boolean): void => {
    const t = ++token;
    for (let h = 0; h < nh; h++) {
      helpers[h].post({ ...msg, token: t });
      if (yieldFirst) tell(h, CMD_YIELD);
    }
    for (let h = 0; h < nh; h++) waitFor(ctl, h * SLOT + ACK, t);
  };
  for (let h = 0; h < nh; h++) {
    const t = ++token;
    helpers[h].post({ type: 'init', sab: ctl.buffer, slot: h, token: t });
    // The helper may not have started yet: wait without blocking this thread's event loop.
    while (Atomics.load(ctl, h * SLOT + ACK) !== t) await new Promise((r) => setTimeout(r, 1));
  }
  let closed = false;
  let backoffUntil = 0, lateSeen = 0, late = 0;

  return {
    threads,
    attach(module, memory, names, pinned = false) {
      const id = nextId++;
      const ex = new WebAssembly.Instance(module, { env: { mem: memory } }).exports as Record<string, (...a: number[]) => void>;
      const inst: Attached = { id, fns: names.map((k) => ex[k]) };
      if (nh > 0) message({ type: 'attach', id, module, memory, names, pinned }, true);
      if (!pinned) kept.push(id);
      insts.set(id, inst);
      while (kept.length > ATTACH_KEEP) insts.delete(kept.shift()!);
      return inst;
    },
    run(inst, jobs) {
      if (closed) throw new Error('thread pool: closed');
      // Not split: switched off, the helpers have dropped this instance (an old Krylov basis), or
      // backing off because the helpers have been late (the cores are busy with other work).
      if (!splitting || (nh > 0 && !insts.has(inst.id)) || performance.now() < backoffUntil) {
        for (const segs of jobs) for (const s of segs) runHere(inst.fns[s.fn], s);
        return;
      }
      const t0 = performance.now();
      const used = Math.min(jobs.length, threads);
      const started: number[] = [];
      for (let t = 1; t < used; t++) {
        const segs = jobs[t];
        if (!segs.length) continue;
        if (segs.length > MAX_SEGS) throw new Error(`thread pool: at most ${MAX_SEGS} segments a job`);
        if (segs.some((x) => x.args.length > MAX_ARGS)) throw new Error(`thread pool: at most ${MAX_ARGS} arguments a kernel`);
        const h = t - 1, b = h * SLOT;
        ctl[b + INST] = inst.id;
        ctl[b + NSEG] = segs.length;
        segs.forEach((s, g) => {
          const o = b + SEG0 + g * SEGLEN;
          ctl[o] = s.fn; ctl[o + 1] = s.count;
          for (let i = 0; i < MAX_ARGS; i++) { ctl[o + 2 + i] = s.args[i] ?? 0; ctl[o + 2 + MAX_ARGS + i] = s.strides?.[i] ?? 0; }
        });
        tell(h, CMD_RUN);
        started.push(h);
      }
      for (const s of jobs[0] ?? []) runHere(inst.fns[s.fn], s);
      const t1 = performance.now();
      for (const h of started) waitFor(ctl, h * SLOT + DONE, Atomics.load(ctl, h * SLOT + SEQ));
      // The shares are equal: a helper that finishes more than our own share's time after us has
      // not gained anything (it was waiting for a core). Mostly late over LATE_WINDOW jobs: back off.
      const t2 = performance.now();
      lateSeen++;
      if (t2 - t1 > t1 - t0 + 0.05) late++;
      if (lateSeen >= LATE_WINDOW) {
        if (late > LATE_WINDOW / 2) backoffUntil = t2 + BACKOFF_MS;
        lateSeen = late = 0;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      for (let h = 0; h < nh; h++) tell(h, CMD_STOP);
      for (const w of helpers) w.terminate();
    },
  };
}

/**
 * A fresh shared memory of at most `maxPages` pages with `module` (compiled to import it as env.mem)
 * attached to `pool`, or null where such a memory cannot be created: a shared memory reserves its
 * maximum up front, and where that much address space is not to be had (a 32-bit browser) the
 * caller runs an unshared instance on one thread instead.
 */
export function attachShared(pool: ThreadPool, module: WebAssembly.Module, maxPages: number, names: string[], pinned = false): { memory: WebAssembly.Memory; attached: Attached } | null {
  try {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: maxPages, shared: true } as WebAssembly.MemoryDescriptor);
    return { memory, attached: pool.attach(module, memory, names, pinned) };
  } catch {
    return null;
  }
}

/** One segment on the calling thread. */
export function runHere(f: (...a: number[]) => void, s: Segment): void {
  const a = s.args.slice(), st = s.strides ?? [];
  for (let t = 0; t < s.count; t++) {
    f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
    for (let i = 0; i < a.length; i++) a[i] += st[i] ?? 0;
  }
}

let pool: ThreadPool | null = null;
let splitting = true;

/**
 * Whether `run` splits jobs over the helpers (default) or runs every part on the calling thread,
 * one after the other: the same kernels on the same memory, so tests and the bench compare both.
 */
export function setThreadsSplitting(on: boolean): void {
  splitting = on;
}

/**
 * Starts (or restarts with another count) the pool with `threads` threads in all (the caller
 * included; 1 = none). Returns the thread count in use: 1 where threads are not supported.
 */
export async function initThreads(threads: number): Promise<number> {
  const n = Math.max(1, Math.floor(threads));
  if (pool && pool.threads === n) return n;
  pool?.close();
  pool = null;
  if (n === 1 || !threadsSupported()) return 1;
  pool = await createPool(n);
  return n;
}

/** The pool, or null when running on one thread. */
export function threadPool(): ThreadPool | null {
  return pool;
}

/** Threads the kernels may use now (1 without a pool). */
export function kernelThreads(): number {
  return pool?.threads ?? 1;
}

/**
 * Splits [0, n) into `parts` contiguous ranges whose bounds are multiples of `align` (the last one
 * ends at n); empty ranges are dropped.
 */
export function splitRange(n: number, parts: number, align = 1): [number, number][] {
  const out: [number, number][] = [];
  let lo = 0;
  for (let t = 0; t < parts && lo < n; t++) {
    const hi = t === parts - 1 ? n : Math.min(n, Math.ceil(((n * (t + 1)) / parts) / align) * align);
    if (hi > lo) out.push([lo, hi]);
    lo = hi;
  }
  return out;
}
