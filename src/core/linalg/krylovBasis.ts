/**
 * The Lanczos/SLQ Krylov basis: up to `capacity` orthonormal vectors of length d, stored in Float64
 * or (when Float64 does not fit the memory budget) Float32, with the Gram–Schmidt kernels that
 * reorthogonalize against it, the thick-restart change of basis, and the plan that picks the
 * storage precision and the number of vectors for a memory budget. The recurrence and every dot
 * product stay Float64; a Float32 basis stores each vector rounded.
 *
 * Where WebAssembly SIMD is available the vectors live in one wasm memory and the Gram–Schmidt
 * sweeps (dots, project, combine) run on the f64x2 kernels of wasmKernels.ts, eight vectors per
 * pass over w: 3.5–3.8× the scalar JS loops (600 × 86,197 Float32 basis, one sweep 17.8 ms vs
 * 67.6 ms; the top-1,000 Lanczos run on modadd spends 54 s in sweeps instead of 286 s).
 */
import { BadInputError } from '../errors';
import type { JobContext } from '../jobs';
import { gemm, GEMM_WORK } from './blas';
import { KERNEL_NAMES, wasmInstance, wasmKernelsEnabled, wasmThreadedInstance, type ThreadedKernels, type WasmKernels } from './wasmKernels';
import { splitRange, type Segment } from '../wasm/threads';

export type BasisStorage = 'f64' | 'f32';

/** 512 MiB: the default bound on the Lanczos basis. */
export const DEFAULT_MEMORY_BUDGET = 512 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Basis storage and the reorthogonalization kernels (separate Float64/Float32 copies keep each
// call site monomorphic for the JIT).

function dots64(vs: Float64Array[], i0: number, i1: number, w: Float64Array, h: Float64Array, d: number): void {
  let i = i0;
  for (; i + 3 < i1; i += 4) {
    const a = vs[i], b = vs[i + 1], c = vs[i + 2], e = vs[i + 3];
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < d; j++) {
      const x = w[j];
      s0 += a[j] * x; s1 += b[j] * x; s2 += c[j] * x; s3 += e[j] * x;
    }
    h[i] = s0; h[i + 1] = s1; h[i + 2] = s2; h[i + 3] = s3;
  }
  for (; i < i1; i++) {
    const a = vs[i];
    let s0 = 0;
    for (let j = 0; j < d; j++) s0 += a[j] * w[j];
    h[i] = s0;
  }
}

function axpy64(vs: Float64Array[], i0: number, i1: number, w: Float64Array, h: Float64Array, d: number): void {
  let i = i0;
  for (; i + 3 < i1; i += 4) {
    const a = vs[i], b = vs[i + 1], c = vs[i + 2], e = vs[i + 3];
    const ha = h[i], hb = h[i + 1], hc = h[i + 2], he = h[i + 3];
    for (let j = 0; j < d; j++) w[j] -= ha * a[j] + hb * b[j] + hc * c[j] + he * e[j];
  }
  for (; i < i1; i++) {
    const a = vs[i], ha = h[i];
    for (let j = 0; j < d; j++) w[j] -= ha * a[j];
  }
}

function dots32(vs: Float32Array[], i0: number, i1: number, w: Float64Array, h: Float64Array, d: number): void {
  let i = i0;
  for (; i + 3 < i1; i += 4) {
    const a = vs[i], b = vs[i + 1], c = vs[i + 2], e = vs[i + 3];
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < d; j++) {
      const x = w[j];
      s0 += a[j] * x; s1 += b[j] * x; s2 += c[j] * x; s3 += e[j] * x;
    }
    h[i] = s0; h[i + 1] = s1; h[i + 2] = s2; h[i + 3] = s3;
  }
  for (; i < i1; i++) {
    const a = vs[i];
    let s0 = 0;
    for (let j = 0; j < d; j++) s0 += a[j] * w[j];
    h[i] = s0;
  }
}

function axpy32(vs: Float32Array[], i0: number, i1: number, w: Float64Array, h: Float64Array, d: number): void {
  let i = i0;
  for (; i + 3 < i1; i += 4) {
    const a = vs[i], b = vs[i + 1], c = vs[i + 2], e = vs[i + 3];
    const ha = h[i], hb = h[i + 1], hc = h[i + 2], he = h[i + 3];
    for (let j = 0; j < d; j++) w[j] -= ha * a[j] + hb * b[j] + hc * c[j] + he * e[j];
  }
  for (; i < i1; i++) {
    const a = vs[i], ha = h[i];
    for (let j = 0; j < d; j++) w[j] -= ha * a[j];
  }
}


/** Basis vectors handled between two checkpoints inside one Gram–Schmidt sweep (4× that with threads). */
const GS_CHUNK = 32;
/** Rows × stride below which a sweep stays on the calling thread (waking the helpers costs more). */
const PAR_MIN_WORK = 1 << 16;

/** The largest wasm memory the basis asks for (wasm32 allows 4 GiB; beyond this the vectors stay in JS). */
const WASM_MAX_BYTES = 3.5 * 2 ** 30;
/** Vectors added per growth of the wasm memory. */
const WASM_GROW_ROWS = 32;

/**
 * The basis in one WebAssembly memory, for the SIMD dot/axpy kernels (wasmKernels.ts krylovCode):
 * [h: capacity f64 | w: stride f64 | rows: stride entries each], stride = d rounded up to 4 so
 * every row starts 16-byte aligned; the padding stays zero. Rows are added WASM_GROW_ROWS at a
 * time; a growth detaches the old views, so they are rebuilt.
 */
interface WasmStore {
  k: WasmKernels;
  /** The same kernels in the thread pool's helpers, when there is a pool (the sweeps are then split). */
  par: ThreadedKernels | null;
  hOff: number;
  wOff: number;
  rowsOff: number;
  stride: number;
  rowBytes: number;
  rows: number;
}

function openWasmStore(d: number, storage: BasisStorage, capacity: number): WasmStore | null {
  if (!wasmKernelsEnabled()) return null;
  const stride = (d + 3) & ~3;
  const rowBytes = stride * (storage === 'f64' ? 8 : 4);
  const hOff = 0;
  const wOff = (capacity * 8 + 15) & ~15;
  const rowsOff = wOff + stride * 8;
  if (rowsOff + capacity * rowBytes > WASM_MAX_BYTES) return null;
  const par = wasmThreadedInstance();
  const k = par ?? wasmInstance();
  if (k === null) return null;
  try {
    const need = rowsOff + Math.min(capacity, WASM_GROW_ROWS) * rowBytes;
    const have = k.mem.buffer.byteLength;
    if (have < need) k.mem.grow(Math.ceil((need - have) / 65536));
  } catch {
    return null; // the memory could not grow: keep the vectors in JS
  }
  return { k, par, hOff, wOff, rowsOff, stride, rowBytes, rows: 0 };
}

/**
 * What Lanczos and SLQ need of a Krylov basis: KrylovBasis below (CPU: JS or wasm SIMD) or
 * GpuKrylovBasis (src/core/gpu/gpuBasis.ts: the vectors in float32 on a WebGPU device). The
 * recurrence's vectors (w, h, z) are Float64 on the CPU in both. `removeOne` and `subtract` are only
 * ever asked for the last two vectors pushed (the local three-term step); the async reads and
 * writes are what the end of a run uses.
 */
export interface KrylovStore {
  readonly d: number;
  readonly storage: BasisStorage;
  readonly capacity: number;
  size: number;
  readonly bytesPerVector: number;
  /** Where the sweeps run, for the job's provenance line (e.g. "cpu, wasm SIMD", "webgpu"). */
  readonly where: string;
  reset(): void;
  push(v: Float64Array): void;
  removeOne(i: number, w: Float64Array, h: Float64Array): number;
  subtract(i: number, c: number, w: Float64Array, h: Float64Array): void;
  dots(x: Float64Array, h: Float64Array, ctx?: JobContext): Promise<void>;
  combine(z: Float64Array, out: Float64Array, ctx?: JobContext): Promise<void>;
  project(w: Float64Array, h: Float64Array, ctx?: JobContext): Promise<void>;
  rotate(Y: Float64Array, l: number, ctx?: JobContext): Promise<void>;
  /** Vector i into `out` (Float64). */
  readAsync(i: number, out: Float64Array): Promise<Float64Array>;
  /** Overwrites vector i with v (rounded to the storage precision). */
  writeAsync(i: number, v: Float64Array): Promise<void>;
  /** Vectors 0..count−1 (see KrylovBasis.vectors for the CPU basis's views). */
  vectorsAsync(count: number): Promise<Float64Array[] | Float32Array[]>;
  /** Frees what the basis holds outside the JS heap (GPU buffers); a no-op on the CPU. */
  dispose(): void;
}

/**
 * An orthonormal Krylov basis of up to `capacity` vectors of length d, stored in Float64 or
 * Float32. Vectors are allocated on first use and reused after a restart.
 */
export class KrylovBasis implements KrylovStore {
  readonly d: number;
  readonly storage: BasisStorage;
  readonly capacity: number;
  private v64: Float64Array[] = [];
  private v32: Float32Array[] = [];
  /** Active vectors: the first `size` of the pool. */
  size = 0;

  /** The vectors in wasm memory for the SIMD kernels, or null (scalar JS on separate arrays). */
  private wasm: WasmStore | null;

  constructor(d: number, storage: BasisStorage, capacity: number) {
    this.d = d;
    this.storage = storage;
    this.capacity = capacity;
    this.wasm = openWasmStore(d, storage, capacity);
  }

  /** Whether the sweeps run on the WebAssembly SIMD kernels. */
  get simd(): boolean { return this.wasm !== null; }

  get where(): string { return this.wasm === null ? 'cpu, JS' : this.wasm.par !== null ? `cpu, wasm SIMD on ${this.wasm.par.pool.threads} threads` : 'cpu, wasm SIMD'; }

  async readAsync(i: number, out: Float64Array): Promise<Float64Array> { return this.read(i, out); }

  async writeAsync(i: number, v: Float64Array): Promise<void> { this.write(i, v); }

  async vectorsAsync(count: number): Promise<Float64Array[] | Float32Array[]> { return this.vectors(count); }

  dispose(): void { /* JS heap and wasm memory only */ }

  /** Makes rows 0..n−1 exist in wasm memory (growing it), and rebuilds the views after a growth. */
  private wasmRows(n: number): void {
    const W = this.wasm!;
    if (n <= W.rows) return;
    const rows = Math.min(this.capacity, Math.max(n, W.rows + WASM_GROW_ROWS));
    const need = W.rowsOff + rows * W.rowBytes;
    const have = W.k.mem.buffer.byteLength;
    if (have < need) W.k.mem.grow(Math.ceil((need - have) / 65536));
    W.rows = rows;
    const buf = W.k.mem.buffer;
    if (this.storage === 'f64') {
      this.v64 = Array.from({ length: rows }, (_, i) => new Float64Array(buf, W.rowsOff + i * W.rowBytes, this.d));
    } else {
      this.v32 = Array.from({ length: rows }, (_, i) => new Float32Array(buf, W.rowsOff + i * W.rowBytes, this.d));
    }
  }

  /**
   * On the kernels, for i0 ≤ i < i1, with w and h in wasm memory: 'dots' sets h[i] = v_iᵀ w (h stays
   * in wasm memory); 'axpy' does w ← w − Σ h_i v_i.
   */
  private wasmSweep(kind: 'dots' | 'axpy', i0: number, i1: number): void {
    const W = this.wasm!, f = this.storage === 'f64' ? 'f64' : 'f32';
    if (W.par !== null && (i1 - i0) * W.stride >= PAR_MIN_WORK) { this.parSweep(W, W.par, kind, f, i0, i1); return; }
    const k8 = W.k.krylov[`${kind}8_${f}`], k1 = W.k.krylov[`${kind}1_${f}`], nq = W.stride / 2;
    let i = i0;
    for (; i + 8 <= i1; i += 8) k8(W.rowsOff + i * W.rowBytes, W.wOff, W.hOff + 8 * i, W.rowBytes, nq);
    for (; i < i1; i++) k1(W.rowsOff + i * W.rowBytes, W.wOff, W.hOff + 8 * i, W.rowBytes, nq);
  }

  /**
   * `wasmSweep` split over the pool's threads: the dots by rows (each thread writes its own h_i),
   * the axpy by coordinates (each thread updates its own slice of w from every row's slice).
   */
  private parSweep(W: WasmStore, par: ThreadedKernels, kind: 'dots' | 'axpy', f: 'f32' | 'f64', i0: number, i1: number): void {
    const idx8 = KERNEL_NAMES.indexOf(`${kind}8_${f}`), idx1 = KERNEL_NAMES.indexOf(`${kind}1_${f}`);
    const T = par.pool.threads, elem = f === 'f64' ? 8 : 4;
    const jobs: Segment[][] = [];
    if (kind === 'dots') {
      const nq = W.stride / 2;
      for (const [a, b] of splitRange(i1 - i0, T, 8)) {
        const r0 = i0 + a, n8 = (b - a) >> 3, rest = (b - a) & 7, segs: Segment[] = [];
        const strides = [8 * W.rowBytes, 0, 64, 0, 0];
        if (n8) segs.push({ fn: idx8, count: n8, args: [W.rowsOff + r0 * W.rowBytes, W.wOff, W.hOff + 8 * r0, W.rowBytes, nq], strides });
        const r1 = r0 + 8 * n8;
        if (rest) segs.push({ fn: idx1, count: rest, args: [W.rowsOff + r1 * W.rowBytes, W.wOff, W.hOff + 8 * r1, W.rowBytes, nq], strides: [W.rowBytes, 0, 8, 0, 0] });
        jobs.push(segs);
      }
    } else {
      const n8 = (i1 - i0) >> 3, r1 = i0 + 8 * n8, rest = i1 - r1;
      for (const [c0, c1] of splitRange(W.stride, T, 4)) {
        const nq = (c1 - c0) / 2, segs: Segment[] = [];
        if (n8) segs.push({ fn: idx8, count: n8, args: [W.rowsOff + i0 * W.rowBytes + c0 * elem, W.wOff + 8 * c0, W.hOff + 8 * i0, W.rowBytes, nq], strides: [8 * W.rowBytes, 0, 64, 0, 0] });
        if (rest) segs.push({ fn: idx1, count: rest, args: [W.rowsOff + r1 * W.rowBytes + c0 * elem, W.wOff + 8 * c0, W.hOff + 8 * r1, W.rowBytes, nq], strides: [W.rowBytes, 0, 8, 0, 0] });
        jobs.push(segs);
      }
    }
    par.pool.run(par.attached, jobs);
  }

  /** One sweep of `kind` over vectors 0..size−1, GS_CHUNK at a time with a checkpoint after each (cancel). */
  private async wasmPass(kind: 'dots' | 'axpy', ctx?: JobContext): Promise<void> {
    const n = this.size;
    const chunk = this.wasm!.par !== null ? 4 * GS_CHUNK : GS_CHUNK;
    for (let i0 = 0; i0 < n; i0 += chunk) {
      this.wasmSweep(kind, i0, Math.min(n, i0 + chunk));
      if (ctx) await ctx.checkpoint();
    }
  }

  /** The wasm-memory copies of w (length d) and h (length capacity). */
  private wasmVectors(): { w: Float64Array; h: Float64Array } {
    const W = this.wasm!, buf = W.k.mem.buffer;
    return { w: new Float64Array(buf, W.wOff, this.d), h: new Float64Array(buf, W.hOff, this.capacity) };
  }

  /** Forgets all vectors (their storage is kept for reuse). */
  reset(): void {
    this.size = 0;
  }

  /** Bytes one stored vector takes. */
  get bytesPerVector(): number {
    return this.d * (this.storage === 'f64' ? 8 : 4);
  }

  /**
   * Appends v. With Float32 storage v is overwritten with the rounded values that were stored, so
   * the caller continues with exactly the vector the basis holds.
   */
  push(v: Float64Array): void {
    if (this.size >= this.capacity) throw new Error('KrylovBasis: full');
    const i = this.size++;
    if (this.wasm) this.wasmRows(i + 1);
    if (this.storage === 'f64') {
      if (i >= this.v64.length) this.v64.push(new Float64Array(this.d));
      this.v64[i].set(v);
    } else {
      if (i >= this.v32.length) this.v32.push(new Float32Array(this.d));
      const s = this.v32[i];
      s.set(v);
      for (let j = 0; j < this.d; j++) v[j] = s[j];
    }
  }

  /** Copies vector i into `out` (Float64). */
  read(i: number, out: Float64Array): Float64Array {
    if (this.storage === 'f64') out.set(this.v64[i]);
    else { const s = this.v32[i]; for (let j = 0; j < this.d; j++) out[j] = s[j]; }
    return out;
  }

  /**
   * The stored arrays of vectors 0..count−1 (not copies). On the wasm kernels they are views into
   * the basis's one WebAssembly memory: valid while held (call this after the last push, which can
   * grow the memory), and to be copied (slice) before posting to another thread, since a posted
   * view carries its whole buffer.
   */
  vectors(count: number): Float64Array[] | Float32Array[] {
    return this.storage === 'f64' ? this.v64.slice(0, count) : this.v32.slice(0, count);
  }

  /** h[i] = v_iᵀ x for i < size (x unchanged). */
  async dots(x: Float64Array, h: Float64Array, ctx?: JobContext): Promise<void> {
    const n = this.size, d = this.d;
    if (this.wasm) {
      this.wasmVectors().w.set(x);
      await this.wasmPass('dots', ctx);
      h.set(this.wasmVectors().h.subarray(0, n));
      return;
    }
    for (let i0 = 0; i0 < n; i0 += GS_CHUNK) {
      const i1 = Math.min(n, i0 + GS_CHUNK);
      if (this.storage === 'f64') dots64(this.v64, i0, i1, x, h, d); else dots32(this.v32, i0, i1, x, h, d);
      if (ctx) await ctx.checkpoint();
    }
  }

  /** out = Σ_{i<size} z_i v_i. */
  async combine(z: Float64Array, out: Float64Array, ctx?: JobContext): Promise<void> {
    out.fill(0);
    const neg = new Float64Array(z.length);
    for (let i = 0; i < z.length; i++) neg[i] = -z[i];
    const n = this.size, d = this.d;
    if (this.wasm) {
      const v = this.wasmVectors();
      v.w.fill(0);
      v.h.set(neg.subarray(0, n));
      await this.wasmPass('axpy', ctx);
      out.set(this.wasmVectors().w);
      return;
    }
    for (let i0 = 0; i0 < n; i0 += GS_CHUNK) {
      const i1 = Math.min(n, i0 + GS_CHUNK);
      if (this.storage === 'f64') axpy64(this.v64, i0, i1, out, neg, d); else axpy32(this.v32, i0, i1, out, neg, d);
      if (ctx) await ctx.checkpoint();
    }
  }

  /** Overwrites vector i with v (rounded to the storage precision). */
  write(i: number, v: Float64Array): void {
    if (this.storage === 'f64') this.v64[i].set(v);
    else this.v32[i].set(v);
  }

  /** v_iᵀ w and then w ← w − c·v_i with c = v_iᵀ w (one vector of a sweep); returns c. `h` is scratch (≥ i + 1 long). */
  removeOne(i: number, w: Float64Array, h: Float64Array): number {
    const d = this.d;
    if (this.storage === 'f64') { dots64(this.v64, i, i + 1, w, h, d); axpy64(this.v64, i, i + 1, w, h, d); } else { dots32(this.v32, i, i + 1, w, h, d); axpy32(this.v32, i, i + 1, w, h, d); }
    return h[i];
  }

  /** w ← w − c·v_i. `h` is scratch (≥ i + 1 long). */
  subtract(i: number, c: number, w: Float64Array, h: Float64Array): void {
    h[i] = c;
    if (this.storage === 'f64') axpy64(this.v64, i, i + 1, w, h, this.d); else axpy32(this.v32, i, i + 1, w, h, this.d);
  }

  /**
   * One classical Gram–Schmidt sweep: h[i] = v_iᵀ w for i < size, then w ← w − Σ h_i v_i.
   * Checkpoints every GS_CHUNK vectors so a cancel is seen within a step. Mutates w and h.
   */
  async project(w: Float64Array, h: Float64Array, ctx?: JobContext): Promise<void> {
    const n = this.size, d = this.d;
    if (this.wasm) {
      this.wasmVectors().w.set(w);
      await this.wasmPass('dots', ctx);
      await this.wasmPass('axpy', ctx);
      const v = this.wasmVectors();
      w.set(v.w);
      h.set(v.h.subarray(0, n));
      return;
    }
    for (let i0 = 0; i0 < n; i0 += GS_CHUNK) {
      const i1 = Math.min(n, i0 + GS_CHUNK);
      if (this.storage === 'f64') dots64(this.v64, i0, i1, w, h, d); else dots32(this.v32, i0, i1, w, h, d);
      if (ctx) await ctx.checkpoint();
    }
    for (let i0 = 0; i0 < n; i0 += GS_CHUNK) {
      const i1 = Math.min(n, i0 + GS_CHUNK);
      if (this.storage === 'f64') axpy64(this.v64, i0, i1, w, h, d); else axpy32(this.v32, i0, i1, w, h, d);
      if (ctx) await ctx.checkpoint();
    }
  }

  /**
   * In-place change of basis: v_r ← Σ_i Y[i][r] v_i for r < l, where Y is size×l row-major
   * (e.g. the wanted Ritz vectors of T); afterwards size = l. Done in chunks of coordinates: each
   * chunk of all vectors is gathered into a Float64 panel and multiplied by Yᵀ (gemm), so only
   * l × chunk extra memory is needed.
   */
  async rotate(Y: Float64Array, l: number, ctx?: JobContext): Promise<void> {
    const m = this.size, d = this.d;
    const yt = new Float64Array(l * m);
    for (let i = 0; i < m; i++) for (let r = 0; r < l; r++) yt[r * m + i] = Y[i * l + r];
    const CH = 256;
    const panel = new Float64Array(m * CH);
    const out = new Float64Array(l * CH);
    const pk = new Float64Array(GEMM_WORK);
    for (let c0 = 0; c0 < d; c0 += CH) {
      const cw = Math.min(CH, d - c0);
      for (let i = 0; i < m; i++) {
        const o = i * cw;
        if (this.storage === 'f64') { const s = this.v64[i]; for (let c = 0; c < cw; c++) panel[o + c] = s[c0 + c]; } else { const s = this.v32[i]; for (let c = 0; c < cw; c++) panel[o + c] = s[c0 + c]; }
      }
      gemm(l, cw, m, 1, yt, 0, m, panel, 0, cw, false, out, 0, cw, pk);
      for (let r = 0; r < l; r++) {
        const o = r * cw;
        if (this.storage === 'f64') { const s = this.v64[r]; for (let c = 0; c < cw; c++) s[c0 + c] = out[o + c]; } else { const s = this.v32[r]; for (let c = 0; c < cw; c++) s[c0 + c] = out[o + c]; }
      }
      if (ctx) await ctx.checkpoint();
    }
    this.size = l;
  }
}

export interface BasisPlanOptions {
  /** Bound on the basis storage in bytes (default 512 MiB). */
  memoryBudgetBytes?: number;
  /** Force the basis precision; by default Float64 when it fits, else Float32. */
  storage?: BasisStorage;
  /** Basis size before a thick restart; default min(d, max(2k + 1, k + 32)), lowered to fit the budget. */
  maxBasis?: number;
}

/** The basis plan for a given d, k and options: storage precision and capacity (vectors). */
export function planBasis(d: number, k: number, opts: BasisPlanOptions): { storage: BasisStorage; capacity: number } {
  const budget = opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET;
  const minExtra = Math.min(d - k, Math.max(8, Math.ceil(k / 20)));
  const need = k + minExtra;
  const want = Math.min(d, Math.max(need, opts.maxBasis ?? Math.max(2 * k + 1, k + 32)));
  const fits = (s: BasisStorage): number => Math.floor(budget / (d * (s === 'f64' ? 8 : 4)));
  const refuse = (s: BasisStorage): never => {
    const per = s === 'f64' ? 8 : 4;
    throw new BadInputError(
      `Lanczos top-${k} at d = ${d} needs at least ${need} basis vectors ` +
      `(${(need * d * per).toLocaleString('en-US')} bytes in ${s === 'f64' ? 'Float64' : 'Float32'}); ` +
      `the memory budget is ${budget.toLocaleString('en-US')} bytes. Lower k or raise the budget.`,
    );
  };
  if (opts.storage) {
    const cap = Math.min(want, fits(opts.storage));
    if (cap < need) refuse(opts.storage);
    return { storage: opts.storage, capacity: cap };
  }
  if (fits('f64') >= want) return { storage: 'f64', capacity: want };
  if (fits('f32') >= want) return { storage: 'f32', capacity: want };
  if (fits('f32') >= need) return { storage: 'f32', capacity: fits('f32') };
  return refuse('f32');
}
