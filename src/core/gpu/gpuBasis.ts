/**
 * A GPU-resident Krylov basis (issue 14, item 3): the Lanczos vectors in float32 storage buffers on
 * a WebGPU device, with the two tall-skinny products of the full reorthogonalization, h = Vᵀw and
 * u = V·c, as WGSL kernels. The recurrence (α, β, T, w, h and every vector it keeps) stays Float64
 * on the CPU, as with KrylovBasis (src/core/linalg/krylovBasis.ts), whose interface (KrylovStore)
 * this implements; Lanczos and SLQ take either.
 *
 * Precision (a compensated float32 scheme):
 * - Each stored vector is the float32 rounding of the Float64 vector pushed, and `push` overwrites
 *   the caller's vector with it (as KrylovBasis does with Float32 storage), so T describes the basis
 *   actually kept.
 * - w (Float64) goes up as two float32 halves, w_hi = fl32(w) and w_lo = fl32(w − w_hi), so
 *   w_hi + w_lo carries 48 bits of w. Coefficients z (Float64) go up the same way.
 * - Products are exact and sums compensated ("float-float"): each v_ij·w_hi,j is formed exactly as
 *   p + e by Dekker's product with Veltkamp's 12-bit split (no FMA needed), every thread adds its
 *   terms with Knuth's TwoSum (exact in float32 round-to-nearest) keeping the rounding errors, the
 *   e's and the lo-half products in a second float32, and the workgroup reduction adds (sum, error)
 *   pairs with TwoSum too. Results come back as (hi, lo) pairs and are added in Float64 on the CPU.
 *   Measured against Float64 (tests/unit/gpuBasis.test.ts): |error| ≲ 10⁻¹⁴ Σ_j |v_ij w_j|, where
 *   plain float32 kernels are off by ~10⁻⁷ of it. The extra ~15 flops per term cost nothing on a
 *   real GPU, where the sweep is bound by reading V (≥ 70 flops per float read on an H100).
 * - The caller reorthogonalizes twice where the CPU basis does (Lanczos: the first step and the one
 *   after each restart, and DGKS; SLQ: every step); one `project` is one sweep.
 *
 * Buffer layout: vector i lives in buffer ⌊i / perBuffer⌋ at float offset (i mod perBuffer)·stride,
 * stride = d rounded up to 64 floats (256 bytes); perBuffer = the most vectors one binding allows
 * (min of maxStorageBufferBindingSize and maxBufferSize, or a smaller forced limit). Beside them:
 * w (2·stride floats: hi then lo), h (2·capacity floats: (hi, lo) per vector), u (2·stride floats:
 * (sum, error) per coordinate), one uniform per vector buffer (d, stride, count, first index) and
 * a MAP_READ staging buffer.
 *
 * Dispatches per sweep (`project`): one `dots` dispatch per vector buffer (a workgroup of 256
 * threads for 4 vectors: ⌈count/4⌉ workgroups), one `combine` dispatch per vector buffer (one thread
 * per coordinate, looping over the buffer's vectors, ⌈d/256⌉ workgroups up to 65,535 with a
 * grid-stride loop beyond), then one copy of h and u to the staging buffer and one mapAsync: one
 * submission and one read-back per sweep, whatever the number of vectors. The CPU then does
 * w ← w − (u_sum + u_err) in Float64.
 *
 * `removeOne` and `subtract` (the local three-term step, on the last two vectors pushed) run on the
 * CPU from a Float64 copy of those two vectors (2·d doubles). `rotate` (thick restart, final Ritz
 * vectors) runs on the GPU too, panel by panel of coordinates, with the same compensated sums (the
 * stored results equal the CPU's Float64 gemm rounded to float32 in the test); where Y (2·m·l
 * floats) exceeds one binding it reads the panels back and multiplies them on the CPU instead. A
 * lost device makes the pending read-back throw an Error that names the loss (the worker
 * classifies it as device-lost) instead of hanging. Operations on one basis run one at a time.
 */
import type { JobContext } from '../jobs';
import { gemm, GEMM_WORK } from '../linalg/blas';
import type { BasisStorage, KrylovStore } from '../linalg/krylovBasis';

// GPUBufferUsage / GPUMapMode values (the globals are missing in Node until a WebGPU module installs them).
const USAGE_MAP_READ = 0x1, USAGE_COPY_SRC = 0x4, USAGE_COPY_DST = 0x8, USAGE_UNIFORM = 0x40, USAGE_STORAGE = 0x80;
const MAP_READ = 0x1;

/** Threads per workgroup of the combine kernel (one per coordinate) and of the dots' final reduction. */
const WG = 256;
/** Threads per workgroup of the dots kernel, vectors per workgroup (w read once per VPW vectors). */
const DWG = 64;
const VPW = 8;
/** The dots split d into at most this many coordinate chunks (a second grid dimension), summed by a second kernel. */
const MAX_CHUNKS = 32;
const MAX_GROUPS = 65535;

/** The compensated arithmetic (`exact`), or plain float32 with the same names (for tests that show the compensation matters). */
const common = (exact: boolean): string => /* wgsl */ `
struct Params { d: u32, stride: u32, count: u32, base: u32, chunk: u32, nc: u32, cap: u32, pad: u32 }
${exact ? `
// Knuth's TwoSum: a + b = s + e exactly in round-to-nearest float32.
fn two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = a + b;
  let bb = s - a;
  return vec2<f32>(s, (a - (s - bb)) + (b - bb));
}
// Veltkamp's split at 12 bits: a = hi + lo, each with at most 12 significant bits.
fn split(a: f32) -> vec2<f32> {
  let c = 4097.0 * a;
  let hi = c - (c - a);
  return vec2<f32>(hi, a - hi);
}
// Dekker's exact product a·b = p + e (b also given split), no FMA needed.
fn two_prod(a: f32, b: f32, bs: vec2<f32>) -> vec2<f32> {
  let p = a * b;
  let as_ = split(a);
  return vec2<f32>(p, ((as_.x * bs.x - p) + as_.x * bs.y + as_.y * bs.x) + as_.y * bs.y);
}` : `
fn two_sum(a: f32, b: f32) -> vec2<f32> { return vec2<f32>(a + b, 0.0); }
fn split(a: f32) -> vec2<f32> { return vec2<f32>(a, 0.0); }
fn two_prod(a: f32, b: f32, bs: vec2<f32>) -> vec2<f32> { return vec2<f32>(a * b, 0.0); }`}
// (sum, error) pairs added with TwoSum, renormalized so the first carries the value.
fn add2(x: vec2<f32>, y: vec2<f32>) -> vec2<f32> {
  let t = two_sum(x.x, y.x);
  let e = t.y + x.y + y.y;
  let s = t.x + e;
  return vec2<f32>(s, e - (s - t.x));
}
`;

/**
 * Partial dots: workgroup (x, y) takes vectors base + VPW·x … (+VPW) and coordinates
 * y·chunk … (y+1)·chunk, and writes (sum, error) pairs to Part[y][base + i].
 */
const dotsWgsl = (exact: boolean): string => /* wgsl */ `${common(exact)}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> V: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> Part: array<f32>;
var<workgroup> red: array<vec2<f32>, ${VPW * DWG}>;

@compute @workgroup_size(${DWG})
fn main(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let v0 = g.x * ${VPW}u;
  let j1 = min(P.d, (g.y + 1u) * P.chunk);
  var acc: array<vec2<f32>, ${VPW}>;
  for (var q = 0u; q < ${VPW}u; q++) { acc[q] = vec2<f32>(0.0, 0.0); }
  let nq = min(${VPW}u, P.count - min(v0, P.count));
  for (var j = g.y * P.chunk + t; j < j1; j += ${DWG}u) {
    let wv = W[j];
    let wh = split(wv);
    let wl = W[P.stride + j];
    for (var q = 0u; q < ${VPW}u; q++) {
      if (q >= nq) { break; }
      let x = V[(v0 + q) * P.stride + j];
      let pr = two_prod(x, wv, wh);
      let ts = two_sum(acc[q].x, pr.x);
      acc[q] = vec2<f32>(ts.x, acc[q].y + ts.y + pr.y + x * wl);
    }
  }
  for (var q = 0u; q < ${VPW}u; q++) { red[q * ${DWG}u + t] = acc[q]; }
  workgroupBarrier();
  for (var s = ${DWG / 2}u; s > 0u; s = s >> 1u) {
    if (t < s) {
      for (var q = 0u; q < ${VPW}u; q++) { red[q * ${DWG}u + t] = add2(red[q * ${DWG}u + t], red[q * ${DWG}u + t + s]); }
    }
    workgroupBarrier();
  }
  if (t < nq) {
    let r = red[t * ${DWG}u];
    let o = 2u * (g.y * P.cap + P.base + v0 + t);
    Part[o] = r.x;
    Part[o + 1u] = r.y;
  }
}
`;

/** h[base + i] = Σ_y Part[y][base + i] as a (hi, lo) pair, one thread per vector. */
const reduceWgsl = (exact: boolean): string => /* wgsl */ `${common(exact)}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Part: array<f32>;
@group(0) @binding(2) var<storage, read_write> H: array<f32>;

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= P.count) { return; }
  var acc = vec2<f32>(0.0, 0.0);
  for (var y = 0u; y < P.nc; y++) {
    let o = 2u * (y * P.cap + P.base + i);
    acc = add2(acc, vec2<f32>(Part[o], Part[o + 1u]));
  }
  H[2u * (P.base + i)] = acc.x;
  H[2u * (P.base + i) + 1u] = acc.y;
}
`;

/** u[j] += Σ_i (h_hi,i + h_lo,i) v_i[j] over this buffer's vectors, (sum, error) per coordinate. */
const combineWgsl = (exact: boolean): string => /* wgsl */ `${common(exact)}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> V: array<f32>;
@group(0) @binding(2) var<storage, read> H: array<f32>;
@group(0) @binding(3) var<storage, read_write> U: array<f32>;

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  for (var j = gid.x; j < P.d; j += nw.x * ${WG}u) {
    var s = 0.0;
    var c = 0.0;
    for (var i = 0u; i < P.count; i++) {
      let x = V[i * P.stride + j];
      let o = 2u * (P.base + i);
      let hv = H[o];
      let pr = two_prod(x, hv, split(hv));
      let ts = two_sum(s, pr.x);
      s = ts.x;
      c += ts.y + pr.y + H[o + 1u] * x;
    }
    let r = add2(vec2<f32>(U[2u * j], U[2u * j + 1u]), vec2<f32>(s, c));
    U[2u * j] = r.x;
    U[2u * j + 1u] = r.y;
  }
}
`;

/** Ritz rows per thread in the rotation (each V value read serves RPT outputs). */
const RPT = 4;

/**
 * Thick-restart rotation, accumulation: for the coordinates c0 … c0+cw and Ritz rows r, adds
 * Σ_i (Y_hi[i][r] + Y_lo[i][r]) v_i[c0 + jj] over this buffer's vectors into S[r][jj] as (sum,
 * error) pairs. Thread (jj, rows RPT·y … RPT·y + RPT−1).
 */
const rotAccWgsl = (exact: boolean): string => /* wgsl */ `${common(exact)}
struct Rot { stride: u32, count: u32, base: u32, c0: u32, cw: u32, l: u32, ch: u32, pad: u32 }
@group(0) @binding(0) var<uniform> R: Rot;
@group(0) @binding(1) var<storage, read> V: array<f32>;
@group(0) @binding(2) var<storage, read> Y: array<f32>;
@group(0) @binding(3) var<storage, read_write> S: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let jj = gid.x;
  let r0 = gid.y * ${RPT}u;
  if (jj >= R.cw || r0 >= R.l) { return; }
  let nr = min(${RPT}u, R.l - r0);
  var acc: array<vec2<f32>, ${RPT}>;
  for (var q = 0u; q < ${RPT}u; q++) { acc[q] = vec2<f32>(0.0, 0.0); }
  for (var i = 0u; i < R.count; i++) {
    let x = V[i * R.stride + R.c0 + jj];
    let xs = split(x);
    let yo = 2u * ((R.base + i) * R.l + r0);
    for (var q = 0u; q < ${RPT}u; q++) {
      if (q >= nr) { break; }
      let yh = Y[yo + 2u * q];
      let pr = two_prod(yh, x, xs);
      let ts = two_sum(acc[q].x, pr.x);
      acc[q] = vec2<f32>(ts.x, acc[q].y + ts.y + pr.y + Y[yo + 2u * q + 1u] * x);
    }
  }
  for (var q = 0u; q < ${RPT}u; q++) {
    if (q >= nr) { break; }
    let o = 2u * ((r0 + q) * R.ch + jj);
    let t = add2(vec2<f32>(S[o], S[o + 1u]), acc[q]);
    S[o] = t.x;
    S[o + 1u] = t.y;
  }
}
`;

/** Thick-restart rotation, write-back: v_r[c0 + jj] = fl32(S[r][jj]) for this buffer's rows r < l. */
const rotWriteWgsl = /* wgsl */ `
struct Rot { stride: u32, count: u32, base: u32, c0: u32, cw: u32, l: u32, ch: u32, pad: u32 }
@group(0) @binding(0) var<uniform> R: Rot;
@group(0) @binding(1) var<storage, read> S: array<f32>;
@group(0) @binding(2) var<storage, read_write> V: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let jj = gid.x;
  let i = gid.y;
  if (jj >= R.cw || i >= R.count) { return; }
  let o = 2u * ((R.base + i) * R.ch + jj);
  V[i * R.stride + R.c0 + jj] = S[o] + S[o + 1u];
}
`;

/** The GPU basis cannot be had (limits, out of memory, a failed pipeline): the reason, for the fallback's note. */
export class GpuBasisUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuBasisUnavailable';
  }
}

export interface GpuBasisOptions {
  /**
   * Bytes at most per vector buffer (default: the device's min(maxStorageBufferBindingSize,
   * maxBufferSize)). Tests force a small one to exercise the splitting.
   */
  maxBufferBytes?: number;
  /**
   * Compensation switches, for tests that show each part matters: `lo: false` drops w's and z's
   * low float32 halves (w rounded to float32). Default: on.
   */
  lo?: boolean;
  /** `exact: false`: plain float32 products and sums in the kernels (no TwoSum, no exact products). */
  exact?: boolean;
}

function lostError(info: GPUDeviceLostInfo): Error {
  return new Error(`The GPU device was lost during the Lanczos reorthogonalization (${info.reason}${info.message ? `: ${info.message}` : ''}); run it again (the CPU basis is used where no GPU device is available).`);
}

/** Float64 values as float32 (hi, lo) halves: hi at out[o + i·step], lo at out[o + i·step + loOff]. */
function splitInto(x: Float64Array, n: number, out: Float32Array<ArrayBuffer>, step: number, loOff: number, withLo: boolean): void {
  for (let i = 0; i < n; i++) {
    const hi = Math.fround(x[i]);
    out[i * step] = hi;
    out[i * step + loOff] = withLo ? x[i] - hi : 0;
  }
}

export class GpuKrylovBasis implements KrylovStore {
  readonly d: number;
  readonly storage: BasisStorage = 'f32';
  readonly capacity: number;
  size = 0;
  /** Vectors per storage buffer, and the buffers. */
  readonly perBuffer: number;
  readonly stride: number;
  private readonly device: GPUDevice;
  private readonly withLo: boolean;
  private readonly exact: boolean;
  /** The rotation's pipelines, made on the first thick restart. */
  private rotPipes: { acc: GPUComputePipeline; write: GPUComputePipeline } | null = null;
  private readonly vbufs: GPUBuffer[];
  private readonly params: GPUBuffer[];
  private readonly paramCount: number[];
  private readonly wBuf: GPUBuffer;
  private readonly hBuf: GPUBuffer;
  private readonly uBuf: GPUBuffer;
  private readonly staging: GPUBuffer;
  private readonly dotsPipe: GPUComputePipeline;
  private readonly reducePipe: GPUComputePipeline;
  private readonly redBG: GPUBindGroup[];
  private readonly partBuf: GPUBuffer;
  /** Coordinates per chunk of the dots, and the number of chunks. */
  readonly chunk: number;
  readonly chunks: number;
  private readonly combPipe: GPUComputePipeline;
  private readonly dotsBG: GPUBindGroup[];
  private readonly combBG: GPUBindGroup[];
  /** Float64 copies of the last two vectors pushed (the local three-term step's v_j, v_{j−1}). */
  private readonly recent = new Map<number, Float64Array>();
  private readonly w32: Float32Array<ArrayBuffer>;
  private readonly h32: Float32Array<ArrayBuffer>;
  /**
   * The device's loss and the read-backs in flight (their rejecters). Kept in a small object so the
   * device.lost handler holds only this, not the basis (a disposed basis is not kept alive by it).
   */
  private readonly watch = { lost: null as GPUDeviceLostInfo | null, pending: new Set<(e: Error) => void>() };
  /** The operations share w, h, u and the staging buffer, so they run one at a time (in call order). */
  private tail: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(device: GPUDevice, d: number, capacity: number, perBuffer: number, withLo: boolean, exact: boolean) {
    this.device = device;
    this.d = d;
    this.capacity = capacity;
    this.perBuffer = perBuffer;
    this.withLo = withLo;
    this.exact = exact;
    this.stride = Math.ceil(d / 64) * 64;
    const nb = Math.ceil(capacity / perBuffer);
    const mk = (size: number, usage: number, label: string): GPUBuffer => device.createBuffer({ size, usage, label });
    this.vbufs = Array.from({ length: nb }, (_, b) => mk(Math.min(perBuffer, capacity - b * perBuffer) * this.stride * 4, USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST, `krylov basis ${b}`));
    this.chunk = DWG * Math.max(32, Math.ceil(d / (DWG * MAX_CHUNKS)));
    this.chunks = Math.ceil(d / this.chunk);
    this.params = Array.from({ length: nb }, (_, b) => mk(32, USAGE_UNIFORM | USAGE_COPY_DST, `krylov params ${b}`));
    this.paramCount = new Array<number>(nb).fill(-1);
    this.wBuf = mk(2 * this.stride * 4, USAGE_STORAGE | USAGE_COPY_DST, 'krylov w');
    this.hBuf = mk(2 * capacity * 4, USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST, 'krylov h');
    this.partBuf = mk(2 * this.chunks * capacity * 4, USAGE_STORAGE, 'krylov partial dots');
    this.uBuf = mk(2 * this.stride * 4, USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST, 'krylov u');
    this.staging = mk((2 * capacity + 2 * this.stride) * 4, USAGE_MAP_READ | USAGE_COPY_DST, 'krylov read-back');
    this.dotsPipe = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: dotsWgsl(exact), label: 'krylov dots' }), entryPoint: 'main' } });
    this.reducePipe = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: reduceWgsl(exact), label: 'krylov dots reduce' }), entryPoint: 'main' } });
    this.combPipe = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: combineWgsl(exact), label: 'krylov combine' }), entryPoint: 'main' } });
    const bg = (pipe: GPUComputePipeline, b: number, x: GPUBuffer, y: GPUBuffer): GPUBindGroup => device.createBindGroup({
      layout: pipe.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: this.params[b] } }, { binding: 1, resource: { buffer: this.vbufs[b] } }, { binding: 2, resource: { buffer: x } }, { binding: 3, resource: { buffer: y } }],
    });
    this.dotsBG = this.vbufs.map((_, b) => bg(this.dotsPipe, b, this.wBuf, this.partBuf));
    this.redBG = this.vbufs.map((_, b) => device.createBindGroup({
      layout: this.reducePipe.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: this.params[b] } }, { binding: 1, resource: { buffer: this.partBuf } }, { binding: 2, resource: { buffer: this.hBuf } }],
    }));
    this.combBG = this.vbufs.map((_, b) => bg(this.combPipe, b, this.hBuf, this.uBuf));
    this.w32 = new Float32Array(2 * this.stride);
    this.h32 = new Float32Array(2 * capacity);
    const watch = this.watch;
    device.lost.then((info) => {
      watch.lost = info;
      for (const reject of watch.pending) reject(lostError(info));
      watch.pending.clear();
    }).catch(() => undefined);
  }

  /**
   * A basis of `capacity` vectors of length d on `device`, all buffers allocated now (so a basis
   * that does not fit the GPU's memory is refused at the start, not mid-run). Throws
   * GpuBasisUnavailable with the reason when the limits or the memory do not allow it.
   */
  static async open(device: GPUDevice, d: number, capacity: number, opts: GpuBasisOptions = {}): Promise<GpuKrylovBasis> {
    const lim = device.limits;
    const stride = Math.ceil(d / 64) * 64;
    const maxBytes = Math.min(opts.maxBufferBytes ?? Infinity, lim.maxStorageBufferBindingSize, lim.maxBufferSize);
    // At most 65,535 vectors per buffer: the rotation's write-back dispatches one row of workgroups per vector.
    const perBuffer = Math.min(capacity, Math.floor(maxBytes / (stride * 4)), MAX_GROUPS);
    if (perBuffer < 1) {
      throw new GpuBasisUnavailable(`one vector of d = ${d.toLocaleString('en-US')} floats (${(stride * 4).toLocaleString('en-US')} bytes) exceeds the GPU's storage-buffer binding limit of ${maxBytes.toLocaleString('en-US')} bytes`);
    }
    if (2 * stride * 4 > Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize) || 2 * MAX_CHUNKS * capacity * 4 > lim.maxStorageBufferBindingSize) {
      throw new GpuBasisUnavailable(`the work vectors (2 × ${stride} floats) exceed the GPU's storage-buffer binding limit`);
    }
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    let basis: GpuKrylovBasis | null = null;
    let thrown: unknown = null;
    try {
      basis = new GpuKrylovBasis(device, d, capacity, perBuffer, opts.lo !== false, opts.exact !== false);
    } catch (e) {
      thrown = e;
    }
    // Both popped at once, so no other user of the device (tfjs) lands an error in the outer scope.
    const [oom, invalid] = await Promise.all([device.popErrorScope(), device.popErrorScope()]);
    if (thrown !== null || oom || invalid) {
      basis?.dispose();
      const bytes = capacity * stride * 4;
      if (oom) throw new GpuBasisUnavailable(`the GPU ran out of memory for a basis of ${capacity.toLocaleString('en-US')} × ${d.toLocaleString('en-US')} floats (${(bytes / 1e6).toFixed(0)} MB)`);
      const msg = invalid ? invalid.message : thrown instanceof Error ? thrown.message : String(thrown);
      throw new GpuBasisUnavailable(`the GPU basis could not be set up: ${msg}`);
    }
    return basis!;
  }

  get bytesPerVector(): number { return this.d * 4; }

  get buffers(): number { return this.vbufs.length; }

  get where(): string { return `webgpu, float32 on the GPU in ${this.vbufs.length} buffer${this.vbufs.length === 1 ? '' : 's'}`; }

  reset(): void {
    this.size = 0;
    this.recent.clear();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of [...this.vbufs, ...this.params, this.wBuf, this.hBuf, this.partBuf, this.uBuf, this.staging]) b.destroy();
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.tail.then(f, f);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private check(): void {
    if (this.watch.lost) throw lostError(this.watch.lost);
    if (this.disposed) throw new Error('GpuKrylovBasis: used after dispose');
  }

  private place(i: number): { b: number; off: number } {
    const b = Math.floor(i / this.perBuffer);
    return { b, off: (i - b * this.perBuffer) * this.stride * 4 };
  }

  /** Stores v (rounded to float32) as vector i; v is overwritten with the stored values. */
  private store(i: number, v: Float64Array): Float32Array {
    const s = Float32Array.from(v);
    for (let j = 0; j < this.d; j++) v[j] = s[j];
    const { b, off } = this.place(i);
    this.device.queue.writeBuffer(this.vbufs[b], off, s);
    return s;
  }

  push(v: Float64Array): void {
    this.check();
    if (this.size >= this.capacity) throw new Error('GpuKrylovBasis: full');
    const i = this.size++;
    this.store(i, v);
    this.recent.set(i, v.slice());
    this.recent.delete(i - 2);
  }

  private near(i: number): Float64Array {
    const v = this.recent.get(i);
    if (!v) throw new Error(`GpuKrylovBasis: vector ${i} is not one of the last two pushed (the local step needs v_j and v_{j−1})`);
    return v;
  }

  removeOne(i: number, w: Float64Array, h: Float64Array): number {
    const v = this.near(i), d = this.d;
    let c = 0;
    for (let j = 0; j < d; j++) c += v[j] * w[j];
    for (let j = 0; j < d; j++) w[j] -= c * v[j];
    h[i] = c;
    return c;
  }

  subtract(i: number, c: number, w: Float64Array, h: Float64Array): void {
    const v = this.near(i), d = this.d;
    h[i] = c;
    for (let j = 0; j < d; j++) w[j] -= c * v[j];
  }

  /** Writes the uniforms for the current size (only those that changed). */
  private syncParams(): void {
    for (let b = 0; b < this.vbufs.length; b++) {
      const count = Math.max(0, Math.min(this.perBuffer, this.size - b * this.perBuffer));
      if (count === this.paramCount[b]) continue;
      this.device.queue.writeBuffer(this.params[b], 0, new Uint32Array([this.d, this.stride, count, b * this.perBuffer, this.chunk, this.chunks, this.capacity, 0]));
      this.paramCount[b] = count;
    }
  }

  private activeBuffers(): number {
    return Math.ceil(this.size / this.perBuffer);
  }

  private encodeDots(pass: GPUComputePassEncoder): void {
    const nb = this.activeBuffers();
    pass.setPipeline(this.dotsPipe);
    for (let b = 0; b < nb; b++) {
      const count = Math.min(this.perBuffer, this.size - b * this.perBuffer);
      pass.setBindGroup(0, this.dotsBG[b]);
      pass.dispatchWorkgroups(Math.ceil(count / VPW), this.chunks);
    }
    pass.setPipeline(this.reducePipe);
    for (let b = 0; b < nb; b++) {
      const count = Math.min(this.perBuffer, this.size - b * this.perBuffer);
      pass.setBindGroup(0, this.redBG[b]);
      pass.dispatchWorkgroups(Math.ceil(count / WG));
    }
  }

  private encodeCombine(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.combPipe);
    const groups = Math.min(MAX_GROUPS, Math.ceil(this.d / WG));
    for (let b = 0; b < this.activeBuffers(); b++) {
      pass.setBindGroup(0, this.combBG[b]);
      pass.dispatchWorkgroups(groups);
    }
  }

  private uploadW(x: Float64Array): void {
    splitInto(x, this.d, this.w32, 1, this.stride, this.withLo);
    this.device.queue.writeBuffer(this.wBuf, 0, this.w32);
  }

  /** Maps the first `bytes` of `buf` (a MAP_READ buffer) and copies them out; a lost device throws, not hangs. */
  private async readBack(buf: GPUBuffer, bytes: number): Promise<Float32Array> {
    try {
      // Settles with the mapping, or rejects as soon as the device is lost (the constructor's
      // device.lost handler rejects every pending read-back), whichever comes first.
      await new Promise<void>((resolve, reject) => {
        this.watch.pending.add(reject);
        buf.mapAsync(MAP_READ, 0, bytes).then(resolve, reject).finally(() => this.watch.pending.delete(reject));
      });
    } catch (e) {
      const info = this.watch.lost ?? await Promise.race([this.device.lost, new Promise<null>((r) => setTimeout(() => r(null), 250))]);
      if (info) throw lostError(info);
      throw e;
    }
    const out = new Float32Array(buf.getMappedRange(0, bytes).slice(0));
    buf.unmap();
    return out;
  }

  /**
   * One sweep on the GPU: optionally the dots (h = Vᵀw), optionally the combination (u = V·h, with
   * h from the dots or uploaded), one submission, one read-back of h and/or u.
   */
  private async sweep(dots: boolean, combine: boolean): Promise<{ h: Float32Array | null; u: Float32Array | null }> {
    this.syncParams();
    const enc = this.device.createCommandEncoder();
    if (combine) enc.clearBuffer(this.uBuf);
    const pass = enc.beginComputePass();
    if (dots) this.encodeDots(pass);
    if (combine) this.encodeCombine(pass);
    pass.end();
    const hBytes = dots ? 2 * this.size * 4 : 0;
    const uBytes = combine ? 2 * this.d * 4 : 0;
    if (dots) enc.copyBufferToBuffer(this.hBuf, 0, this.staging, 0, hBytes);
    if (combine) enc.copyBufferToBuffer(this.uBuf, 0, this.staging, hBytes, uBytes);
    this.device.queue.submit([enc.finish()]);
    const all = await this.readBack(this.staging, hBytes + uBytes);
    return { h: dots ? all.subarray(0, 2 * this.size) : null, u: combine ? all.subarray(2 * this.size * (dots ? 1 : 0)) : null };
  }

  dots(x: Float64Array, h: Float64Array, ctx?: JobContext): Promise<void> {
    return this.serial(() => this.dotsNow(x, h, ctx));
  }

  private async dotsNow(x: Float64Array, h: Float64Array, ctx?: JobContext): Promise<void> {
    this.check();
    const n = this.size;
    if (n === 0) return;
    this.uploadW(x);
    const r = await this.sweep(true, false);
    for (let i = 0; i < n; i++) h[i] = r.h![2 * i] + r.h![2 * i + 1];
    if (ctx) await ctx.checkpoint();
  }

  combine(z: Float64Array, out: Float64Array, ctx?: JobContext): Promise<void> {
    return this.serial(() => this.combineNow(z, out, ctx));
  }

  private async combineNow(z: Float64Array, out: Float64Array, ctx?: JobContext): Promise<void> {
    this.check();
    const n = this.size, d = this.d;
    if (n === 0) { out.fill(0, 0, d); return; }
    splitInto(z, n, this.h32, 2, 1, this.withLo);
    this.device.queue.writeBuffer(this.hBuf, 0, this.h32, 0, 2 * n);
    const r = await this.sweep(false, true);
    for (let j = 0; j < d; j++) out[j] = r.u![2 * j] + r.u![2 * j + 1];
    if (ctx) await ctx.checkpoint();
  }

  project(w: Float64Array, h: Float64Array, ctx?: JobContext): Promise<void> {
    return this.serial(() => this.projectNow(w, h, ctx));
  }

  private async projectNow(w: Float64Array, h: Float64Array, ctx?: JobContext): Promise<void> {
    this.check();
    const n = this.size, d = this.d;
    if (n === 0) return;
    this.uploadW(w);
    const r = await this.sweep(true, true);
    for (let i = 0; i < n; i++) h[i] = r.h![2 * i] + r.h![2 * i + 1];
    for (let j = 0; j < d; j++) w[j] -= r.u![2 * j] + r.u![2 * j + 1];
    if (ctx) await ctx.checkpoint();
  }

  /**
   * v_r ← Σ_i Y[i][r] v_i for r < l (Y: size×l row-major); afterwards size = l. Panels of
   * coordinates are read back, multiplied in Float64 on the CPU (gemm) and written back rounded,
   * as KrylovBasis.rotate does; memory: a panel of size × ~4 MiB/size floats.
   */
  rotate(Y: Float64Array, l: number, ctx?: JobContext): Promise<void> {
    return this.serial(() => this.rotateNow(Y, l, ctx));
  }

  private async rotateNow(Y: Float64Array, l: number, ctx?: JobContext): Promise<void> {
    this.check();
    const m = this.size;
    const lim = Math.min(this.device.limits.maxStorageBufferBindingSize, this.device.limits.maxBufferSize);
    if (2 * m * l * 4 > lim || 8 * l * 64 > lim || this.rotateOnCpu) await this.rotateReadBack(Y, l, ctx);
    else await this.rotateOnGpu(Y, l, ctx);
    this.size = l;
    this.recent.clear();
  }

  /** Test switch: rotate by reading the basis back and multiplying on the CPU (also the path when Y does not fit one binding). */
  rotateOnCpu = false;

  /**
   * The rotation on the GPU: Y goes up as (hi, lo) pairs; for each panel of `ch` coordinates, the
   * accumulation kernel sums Σ_i Y[i][r] v_i over every vector buffer into S (l × ch (sum, error)
   * pairs, compensated as the sweeps are), then the write kernel stores fl32(S) into v_r. Panels
   * only read coordinates that later panels do not write, so the rotation is in place; one
   * submission per panel, one read-back at the end (which also reports a lost device).
   */
  private async rotateOnGpu(Y: Float64Array, l: number, ctx?: JobContext): Promise<void> {
    const dev = this.device, m = this.size, d = this.d;
    const lim = Math.min(dev.limits.maxStorageBufferBindingSize, dev.limits.maxBufferSize);
    this.rotPipes ??= {
      acc: dev.createComputePipeline({ layout: 'auto', compute: { module: dev.createShaderModule({ code: rotAccWgsl(this.exact), label: 'krylov rotate acc' }), entryPoint: 'main' } }),
      write: dev.createComputePipeline({ layout: 'auto', compute: { module: dev.createShaderModule({ code: rotWriteWgsl, label: 'krylov rotate write' }), entryPoint: 'main' } }),
    };
    const { acc, write } = this.rotPipes;
    const ch = Math.min(this.stride, Math.max(64, Math.floor(Math.min(64 * 2 ** 20, lim) / (8 * l)) & ~63));
    const y32 = new Float32Array(2 * m * l);
    splitInto(Y, m * l, y32, 2, 1, this.withLo);
    const made: GPUBuffer[] = [];
    const mk = (size: number, usage: number): GPUBuffer => { const b = dev.createBuffer({ size, usage, label: 'krylov rotate' }); made.push(b); return b; };
    try {
      const yBuf = mk(y32.byteLength, USAGE_STORAGE | USAGE_COPY_DST);
      dev.queue.writeBuffer(yBuf, 0, y32);
      const sBuf = mk(8 * l * ch, USAGE_STORAGE | USAGE_COPY_DST);
      const src = Math.ceil(m / this.perBuffer), dst = Math.ceil(l / this.perBuffer);
      const accP = Array.from({ length: src }, () => mk(32, USAGE_UNIFORM | USAGE_COPY_DST));
      const wP = Array.from({ length: dst }, () => mk(32, USAGE_UNIFORM | USAGE_COPY_DST));
      const accBG = accP.map((pb, b) => dev.createBindGroup({ layout: acc.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: pb } }, { binding: 1, resource: { buffer: this.vbufs[b] } }, { binding: 2, resource: { buffer: yBuf } }, { binding: 3, resource: { buffer: sBuf } }] }));
      const wBG = wP.map((pb, b) => dev.createBindGroup({ layout: write.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: pb } }, { binding: 1, resource: { buffer: sBuf } }, { binding: 2, resource: { buffer: this.vbufs[b] } }] }));
      for (let c0 = 0; c0 < d; c0 += ch) {
        const cw = Math.min(ch, d - c0);
        const count = (n: number, b: number): number => Math.min(this.perBuffer, n - b * this.perBuffer);
        accP.forEach((pb, b) => dev.queue.writeBuffer(pb, 0, new Uint32Array([this.stride, count(m, b), b * this.perBuffer, c0, cw, l, ch, 0])));
        wP.forEach((pb, b) => dev.queue.writeBuffer(pb, 0, new Uint32Array([this.stride, count(l, b), b * this.perBuffer, c0, cw, l, ch, 0])));
        const enc = dev.createCommandEncoder();
        enc.clearBuffer(sBuf);
        const pass = enc.beginComputePass();
        pass.setPipeline(acc);
        for (let b = 0; b < src; b++) { pass.setBindGroup(0, accBG[b]); pass.dispatchWorkgroups(Math.ceil(cw / 64), Math.ceil(l / RPT)); }
        pass.setPipeline(write);
        for (let b = 0; b < dst; b++) { pass.setBindGroup(0, wBG[b]); pass.dispatchWorkgroups(Math.ceil(cw / 64), count(l, b)); }
        pass.end();
        dev.queue.submit([enc.finish()]);
        if (ctx) await ctx.checkpoint();
      }
      // Wait for the panels (and see a lost device) with a read-back of 4 bytes.
      const enc = dev.createCommandEncoder();
      enc.copyBufferToBuffer(this.hBuf, 0, this.staging, 0, 4);
      dev.queue.submit([enc.finish()]);
      await this.readBack(this.staging, 4);
    } finally {
      for (const b of made) b.destroy();
    }
  }

  /** The rotation by panels read back and multiplied in Float64 on the CPU (gemm), written back rounded. */
  private async rotateReadBack(Y: Float64Array, l: number, ctx?: JobContext): Promise<void> {
    const m = this.size, d = this.d;
    const yt = new Float64Array(l * m);
    for (let i = 0; i < m; i++) for (let r = 0; r < l; r++) yt[r * m + i] = Y[i * l + r];
    const CH = Math.max(64, Math.min(d, Math.floor((1 << 20) / Math.max(1, m)))) & ~3 || 4;
    const stage = this.device.createBuffer({ size: m * CH * 4, usage: USAGE_MAP_READ | USAGE_COPY_DST, label: 'krylov rotate panel' });
    try {
      const panel = new Float64Array(m * CH), out = new Float64Array(l * CH), pk = new Float64Array(GEMM_WORK);
      const row = new Float32Array(CH);
      for (let c0 = 0; c0 < d; c0 += CH) {
        const cw = Math.min(CH, d - c0);
        const enc = this.device.createCommandEncoder();
        for (let i = 0; i < m; i++) {
          const { b, off } = this.place(i);
          enc.copyBufferToBuffer(this.vbufs[b], off + c0 * 4, stage, i * cw * 4, cw * 4);
        }
        this.device.queue.submit([enc.finish()]);
        const got = await this.readBack(stage, m * cw * 4);
        for (let t = 0; t < m * cw; t++) panel[t] = got[t];
        gemm(l, cw, m, 1, yt, 0, m, panel, 0, cw, false, out, 0, cw, pk);
        for (let r = 0; r < l; r++) {
          for (let c = 0; c < cw; c++) row[c] = out[r * cw + c];
          const { b, off } = this.place(r);
          this.device.queue.writeBuffer(this.vbufs[b], off + c0 * 4, row, 0, cw);
        }
        if (ctx) await ctx.checkpoint();
      }
    } finally {
      stage.destroy();
    }
  }

  readAsync(i: number, out: Float64Array): Promise<Float64Array> {
    return this.serial(() => this.readNow(i, out));
  }

  private async readNow(i: number, out: Float64Array): Promise<Float64Array> {
    this.check();
    const { b, off } = this.place(i);
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(this.vbufs[b], off, this.staging, 0, this.d * 4);
    this.device.queue.submit([enc.finish()]);
    const got = await this.readBack(this.staging, this.d * 4);
    for (let j = 0; j < this.d; j++) out[j] = got[j];
    return out;
  }

  writeAsync(i: number, v: Float64Array): Promise<void> {
    return this.serial(async () => {
      this.check();
      const copy = v.slice();
      this.store(i, copy);
      if (this.recent.has(i)) this.recent.set(i, copy);
    });
  }

  vectorsAsync(count: number): Promise<Float32Array[]> {
    return this.serial(async () => {
      const out: Float32Array[] = [];
      const x = new Float64Array(this.d);
      for (let i = 0; i < count; i++) out.push(Float32Array.from(await this.readNow(i, x)));
      return out;
    });
  }
}
