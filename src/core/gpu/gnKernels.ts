/**
 * The WGSL machinery shared by the Gauss–Newton products on the GPU (gnStack.ts for dense stacks,
 * gnPairs.ts for token-pair models): a program is a fixed list of dispatches over buffers that
 * are all allocated when the operator is built; a product uploads v, records every dispatch into
 * one compute pass of one command buffer, copies the gradient buffer G (d floats) to a staging
 * buffer, submits once and maps once.
 *
 * Kernels:
 * - `matmul`: C[M, N] = epilogue(A₁·B₁ [K₁] + A₂·B₂ [K₂]), each operand an (offset, row stride,
 *   column stride) view of a flat buffer, so transposes, the weight blocks inside the flat θ/v and
 *   the gradient blocks inside G cost nothing. Epilogue, in order: + bias[n]; max(·, 0) (ReLU);
 *   zero where mask[m, n] ≤ 0 (a ReLU mask read from the activations) or × mask[m, n] (a GELU
 *   derivative); × scale. Optionally B₁'s row index or C's column index goes through a u32 list
 *   (the first layer on the kept input columns). 32×32 output tiles per workgroup of 16×16 threads (2×2 outputs per
 *   thread, 64 multiply-adds per pair of barriers), A [32×16] and B [16×32] tiles staged in
 *   workgroup memory. Split-K: a plain product with a long reduction (K₁ ≥ 512, the gradients
 *   summed over the rows) and few output tiles is cut into up to 64 chunks of K₁, one workgroup
 *   layer each (about 128 workgroups in all), writing partials that `reduce` sums and scales.
 * - `gatherAdd` (pairs): Y[r, i] = D[r, i]·(T[a_r, i] + T[p + b_r, i]) for token pairs (a_r, b_r).
 * - `segmentSum` (pairs): S[t, i] = Σ_{j ∈ seg t} X[idx_j, i] over a CSR list of rows per segment
 *   (no float atomics in WGSL: the rows of each token are listed once, when the operator is built).
 */

// GPUBufferUsage / GPUMapMode values (the globals are missing in Node until a WebGPU module installs them).
export const USAGE_MAP_READ = 0x1, USAGE_COPY_SRC = 0x4, USAGE_COPY_DST = 0x8, USAGE_UNIFORM = 0x40, USAGE_STORAGE = 0x80;
const MAP_READ = 0x1;
export const TILE = 16;
const WG = 256;
export const MAX_GROUPS = 65535;

/** Why the WGSL product cannot be had for this operator (the caller falls back to the tfjs passes). */
export class GpuGnUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuGnUnavailable';
  }
}

const F_BIAS = 1, F_MASK = 2, F_RELU = 4, F_MUL = 8, F_BIDX = 16, F_CIDX = 32;

/** Output tile of a workgroup (rows × columns), each of its 16×16 threads computing 2×2 outputs; K step. */
const TM = 2 * TILE, TN = 2 * TILE, TK = TILE;

/** One operand pair's loop over K in TK steps: A and B tiles staged in workgroup memory. */
const segment = (A: string, B: string, k0: string, kEnd: string, a: string, b: string, mapped: boolean): string => /* wgsl */ `
  for (var k0 = ${k0}; k0 < ${kEnd}; k0 += ${TK}u) {
    let ka = k0 + lid.x;
    let kb = k0 + lid.y;
    for (var i = 0u; i < 2u; i++) {
      let m = m0 + lid.y + i * ${TILE}u;
      var x = 0.0;
      if (m < p.M && ka < ${kEnd}) { x = ${A}[p.${a}o + m * p.${a}m + ka * p.${a}k]; }
      ta[(lid.y + i * ${TILE}u) * ${TK}u + lid.x] = x;
      let n = n0 + lid.x + i * ${TILE}u;
      var y = 0.0;
      if (n < p.N && kb < ${kEnd}) {
        ${mapped ? `var kk = kb;
        if ((p.flags & ${F_BIDX}u) != 0u) { kk = Idx[kb]; }` : 'let kk = kb;'}
        y = ${B}[p.${b}o + kk * p.${b}k + n * p.${b}n];
      }
      tb[lid.y * ${TN}u + lid.x + i * ${TILE}u] = y;
    }
    workgroupBarrier();
    for (var k = 0u; k < ${TK}u; k++) {
      let x0 = ta[lid.y * ${TK}u + k];
      let x1 = ta[(lid.y + ${TILE}u) * ${TK}u + k];
      let y0 = tb[k * ${TN}u + lid.x];
      let y1 = tb[k * ${TN}u + lid.x + ${TILE}u];
      acc[0] += x0 * y0;
      acc[1] += x0 * y1;
      acc[2] += x1 * y0;
      acc[3] += x1 * y1;
    }
    workgroupBarrier();
  }`;

const matmulWgsl = /* wgsl */ `
struct P {
  M: u32, N: u32, K1: u32, K2: u32,
  a1o: u32, a1m: u32, a1k: u32, b1o: u32,
  b1k: u32, b1n: u32, a2o: u32, a2m: u32,
  a2k: u32, b2o: u32, b2k: u32, b2n: u32,
  co: u32, cm: u32, cn: u32, flags: u32,
  bo: u32, mo: u32, mm: u32, mn: u32,
  scale: f32, kc: u32, cz: u32, p3: u32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A1: array<f32>;
@group(0) @binding(2) var<storage, read> B1: array<f32>;
@group(0) @binding(3) var<storage, read> A2: array<f32>;
@group(0) @binding(4) var<storage, read> B2: array<f32>;
@group(0) @binding(5) var<storage, read> Bias: array<f32>;
@group(0) @binding(6) var<storage, read> Mask: array<f32>;
@group(0) @binding(7) var<storage, read_write> C: array<f32>;
@group(0) @binding(8) var<storage, read> Idx: array<u32>;
var<workgroup> ta: array<f32, ${TM * TK}>;
var<workgroup> tb: array<f32, ${TK * TN}>;

fn finish(m: u32, n: u32, z: u32, acc: f32) {
  if (m >= p.M || n >= p.N) { return; }
  var r = acc;
  if ((p.flags & ${F_BIAS}u) != 0u) { r += Bias[p.bo + n]; }
  if ((p.flags & ${F_RELU}u) != 0u) { r = max(r, 0.0); }
  if ((p.flags & ${F_MASK}u) != 0u) { if (!(Mask[p.mo + m * p.mm + n * p.mn] > 0.0)) { r = 0.0; } }
  if ((p.flags & ${F_MUL}u) != 0u) { r *= Mask[p.mo + m * p.mm + n * p.mn]; }
  var nn = n;
  if ((p.flags & ${F_CIDX}u) != 0u) { nn = Idx[n]; }
  C[p.co + z * p.cz + m * p.cm + nn * p.cn] = r * p.scale;
}

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let m0 = wg.y * ${TM}u;
  let n0 = wg.x * ${TN}u;
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  // Split-K: workgroup z takes K₁'s rows z·kc … (z+1)·kc (kc = K₁ and z = 0 when not split).
  let k1 = wg.z * p.kc;
  let k1End = min(p.K1, k1 + p.kc);
${segment('A1', 'B1', 'k1', 'k1End', 'a1', 'b1', true)}
${segment('A2', 'B2', '0u', 'p.K2', 'a2', 'b2', false)}
  let m = m0 + lid.y;
  let n = n0 + lid.x;
  finish(m, n, wg.z, acc[0]);
  finish(m, n + ${TILE}u, wg.z, acc[1]);
  finish(m + ${TILE}u, n, wg.z, acc[2]);
  finish(m + ${TILE}u, n + ${TILE}u, wg.z, acc[3]);
}
`;

/** Split-K's second step: C[m, n] = scale · Σ_z Part[z·M·N + m·N + n]. */
const reduceWgsl = /* wgsl */ `
struct P { M: u32, N: u32, splits: u32, co: u32, cm: u32, cn: u32, mapped: u32, scale: f32 }
@group(0) @binding(0) var<uniform> q: P;
@group(0) @binding(1) var<storage, read> Part: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<storage, read> Idx: array<u32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let idx = gid.x + gid.y * nw.x * ${WG}u;
  let mn = q.M * q.N;
  if (idx >= mn) { return; }
  let m = idx / q.N;
  let n = idx - m * q.N;
  var acc = 0.0;
  for (var z = 0u; z < q.splits; z++) { acc += Part[z * mn + idx]; }
  var nn = n;
  if (q.mapped != 0u) { nn = Idx[n]; }
  C[q.co + m * q.cm + nn * q.cn] = acc * q.scale;
}
`;

/** Y[r, i] = D[r, i]·(T[a_r·h + i] + T[(p + b_r)·h + i]); pairs int32 [n, 2]. */
const gatherAddWgsl = /* wgsl */ `
struct P { n: u32, h: u32, p: u32, pad: u32 }
@group(0) @binding(0) var<uniform> q: P;
@group(0) @binding(1) var<storage, read> T: array<f32>;
@group(0) @binding(2) var<storage, read> D: array<f32>;
@group(0) @binding(3) var<storage, read> pairs: array<u32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let idx = gid.x + gid.y * nw.x * ${WG}u;
  if (idx >= q.n * q.h) { return; }
  let r = idx / q.h;
  let i = idx - r * q.h;
  let a = pairs[2u * r];
  let b = pairs[2u * r + 1u];
  Y[idx] = D[idx] * (T[a * q.h + i] + T[(q.p + b) * q.h + i]);
}
`;

/** S[t·h + i] = Σ_{j = off[t]}^{off[t+1]−1} X[idx[j]·h + i], t < segments. */
const segmentSumWgsl = /* wgsl */ `
struct P { segs: u32, h: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> q: P;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> off: array<u32>;
@group(0) @binding(3) var<storage, read> rowsOf: array<u32>;
@group(0) @binding(4) var<storage, read_write> S: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let idx = gid.x + gid.y * nw.x * ${WG}u;
  if (idx >= q.segs * q.h) { return; }
  let t = idx / q.h;
  let i = idx - t * q.h;
  var acc = 0.0;
  for (var j = off[t]; j < off[t + 1u]; j++) { acc += X[rowsOf[j] * q.h + i]; }
  S[idx] = acc;
}
`;

/** An operand: buffer, element offset, strides along its two indices (row index first). */
export interface Operand { buf: GPUBuffer; off: number; s0: number; s1: number }

export const view = (buf: GPUBuffer, off: number, s0: number, s1: number): Operand => ({ buf, off, s0, s1 });

/** One matmul dispatch: C[M, N] = epilogue(A₁·B₁ [K1] + A₂·B₂ [K2]). */
export interface MatmulStep {
  M: number; N: number;
  a1: Operand; b1: Operand; K1: number;
  a2?: Operand; b2?: Operand; K2?: number;
  c: Operand;
  bias?: { buf: GPUBuffer; off: number };
  /** Zero where mask ≤ 0 ('sign', a ReLU mask from the activations) or multiply by it ('mul'). */
  mask?: Operand & { mode: 'sign' | 'mul' };
  relu?: boolean;
  /**
   * A u32 index list (the kept input columns): B₁'s row index k reads row idx[k] ('b'), or C's
   * column index n writes column idx[n] ('c').
   */
  idx?: { buf: GPUBuffer; on: 'b' | 'c' };
  /** Multiplied by the product's scale (the gradient steps). */
  scaled?: boolean;
  label: string;
}

/** A recorded dispatch; `scaleAt` is the float index of the product's scale in its uniform (−1: not scaled). */
export interface Dispatch { pipe: GPUComputePipeline; bg: GPUBindGroup; groups: [number, number, number]; uniform: GPUBuffer; params: ArrayBuffer; scaleAt: number; mac: number }

/**
 * Split-K (a matmul whose reduction is long and whose output tiles are few, the weight gradients
 * summed over n rows): K₁ is cut into `splits` chunks of ≥ SPLIT_CHUNK rows, one workgroup layer
 * each, for about SPLIT_GROUPS workgroups in all, and a second kernel sums the partials.
 */
export const splitK = { minK: 512, chunk: 256, groups: 128, maxSplits: 64, maxPartialFloats: 1 << 22 };

function lostError(info: GPUDeviceLostInfo, what: string): Error {
  return new Error(`The GPU device was lost during ${what} (${info.reason}${info.message ? `: ${info.message}` : ''}); run it again (on another backend if it keeps happening).`);
}

/** A 1-D grid of `threads` threads in workgroups of `wg` (256), folded into 2-D past 65,535 workgroups. */
export function grid1d(threads: number, wg = WG): [number, number, number] {
  const g = Math.max(1, Math.ceil(threads / wg));
  return g <= MAX_GROUPS ? [g, 1, 1] : [MAX_GROUPS, Math.ceil(g / MAX_GROUPS), 1];
}

/** Checks the device's limits against the buffers (float counts) a program will bind; throws GpuGnUnavailable. */
export function checkLimits(device: GPUDevice, floats: number[], maxRowsOrCols: number): void {
  const lim = device.limits;
  const maxBytes = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
  const biggest = Math.max(...floats) * 4;
  if (biggest > maxBytes) {
    throw new GpuGnUnavailable(`a buffer of ${biggest.toLocaleString('en-US')} bytes exceeds the GPU's storage-buffer binding limit of ${maxBytes.toLocaleString('en-US')} bytes`);
  }
  const maxGroups = Math.min(MAX_GROUPS, lim.maxComputeWorkgroupsPerDimension ?? MAX_GROUPS);
  if (Math.ceil(maxRowsOrCols / TM) > maxGroups) throw new GpuGnUnavailable(`${maxRowsOrCols.toLocaleString('en-US')} rows exceed the dispatch grid (${maxGroups} workgroups of ${TM})`);
  if ((lim.maxStorageBuffersPerShaderStage ?? 8) < 8) throw new GpuGnUnavailable('the device allows fewer than 8 storage buffers per shader stage');
  if ((lim.maxComputeInvocationsPerWorkgroup ?? 256) < TILE * TILE) throw new GpuGnUnavailable(`the device allows fewer than ${TILE * TILE} invocations per workgroup`);
}

/**
 * Builds a program inside validation and out-of-memory error scopes, so a device that refuses the
 * buffers or kernels gives GpuGnUnavailable (with the reason) instead of a broken operator.
 */
export async function buildScoped<T extends WgslProgram>(device: GPUDevice, make: () => T, what = 'Gauss–Newton'): Promise<T> {
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  let built: T | null = null;
  let thrown: unknown = null;
  try {
    built = make();
  } catch (e) {
    thrown = e;
  }
  const oom = await device.popErrorScope();
  const invalid = await device.popErrorScope();
  const err = oom ?? invalid;
  if (thrown instanceof GpuGnUnavailable) { built?.destroy(); throw thrown; }
  if (thrown || err) {
    built?.destroy();
    const why = err ? err.message : thrown instanceof Error ? thrown.message : String(thrown);
    throw new GpuGnUnavailable(`the GPU refused the ${what} buffers or kernels (${oom ? 'out of memory' : err ? 'validation' : 'error'}: ${why})`);
  }
  return built!;
}

/**
 * A program of WGSL dispatches over buffers all allocated when it is built, on one device: the
 * buffers (destroyed together), the pipelines (one per kernel), dispatch records (a uniform and a
 * bind group each, written once), the matmul with its split-K reduction, and read-backs that fail
 * with a clear Error when the device is lost. GnProgram (a Gauss–Newton product) and the
 * whole-step trainer (trainStep.ts) build on it.
 */
export class WgslProgram {
  protected readonly device: GPUDevice;
  private readonly buffers: GPUBuffer[] = [];
  /** A storage buffer bound where a kernel's operand is unused. */
  protected readonly dummy: GPUBuffer;
  /** A storage buffer holding 1.0 (bias gradients are δᵀ·1 with a stride-0 operand). */
  protected readonly one: GPUBuffer;
  private readonly pipes = new Map<string, GPUComputePipeline>();
  protected lost: GPUDeviceLostInfo | null = null;
  private readonly pending = new Set<(e: Error) => void>();
  protected destroyed = false;
  /** What the program computes, for error messages ('a Gauss–Newton product'). */
  protected readonly what: string;

  protected constructor(device: GPUDevice, what: string) {
    this.device = device;
    this.what = what;
    this.dummy = this.buffer(4, 'unused binding');
    this.one = this.buffer(4, '1.0', USAGE_STORAGE | USAGE_COPY_DST, new Float32Array([1, 1, 1, 1]));
    device.lost.then((info) => {
      this.lost = info;
      for (const reject of this.pending) reject(lostError(info, this.what));
      this.pending.clear();
    }).catch(() => undefined);
  }

  /** The Error for a lost device. */
  protected lostError(info: GPUDeviceLostInfo): Error {
    return lostError(info, this.what);
  }

  /** A storage buffer of `floats` floats (or u32s), optionally filled. */
  protected buffer(floats: number, label: string, usage = USAGE_STORAGE | USAGE_COPY_DST, data?: Float32Array | Uint32Array): GPUBuffer {
    const b = this.device.createBuffer({ size: Math.max(16, Math.ceil(floats / 4) * 16), usage, label });
    this.buffers.push(b);
    if (data) this.device.queue.writeBuffer(b, 0, data as Float32Array<ArrayBuffer>);
    return b;
  }

  protected pipe(name: string, code: string): GPUComputePipeline {
    let p = this.pipes.get(name);
    if (!p) {
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module: this.device.createShaderModule({ code, label: name }), entryPoint: 'main' } });
      this.pipes.set(name, p);
    }
    return p;
  }

  /** A dispatch of `pipe` with a fresh uniform holding `params` at binding 0 and `buffers` at 1, 2, …. */
  protected dispatch(pipe: GPUComputePipeline, label: string, params: ArrayBuffer, buffers: GPUBuffer[], groups: [number, number, number], scaleAt: number, mac: number): Dispatch {
    const uniform = this.buffer(params.byteLength / 4, `${label} params`, USAGE_UNIFORM | USAGE_COPY_DST);
    this.device.queue.writeBuffer(uniform, 0, params);
    return { ...this.bind(pipe, label, [uniform, ...buffers], groups), uniform, params, scaleAt, mac };
  }

  /** A dispatch of `pipe` with `buffers` (uniforms among them) at bindings 0, 1, …. */
  protected bind(pipe: GPUComputePipeline, label: string, buffers: GPUBuffer[], groups: [number, number, number]): Dispatch {
    const bg = this.device.createBindGroup({
      layout: pipe.getBindGroupLayout(0), label,
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return { pipe, bg, groups, uniform: this.dummy, params: new ArrayBuffer(0), scaleAt: -1, mac: 0 };
  }

  /** How many K₁ chunks a matmul is split into (1: not split). Only plain products (no second product, bias, mask or ReLU). */
  private splitsFor(s: MatmulStep): number {
    if (s.K2 || s.bias || s.mask || s.relu || s.K1 < splitK.minK) return 1;
    const tiles = Math.ceil(s.M / TM) * Math.ceil(s.N / TN);
    const want = Math.min(Math.ceil(s.K1 / splitK.chunk), Math.ceil(splitK.groups / tiles), splitK.maxSplits, Math.floor(splitK.maxPartialFloats / (s.M * s.N)));
    return Math.max(1, want);
  }

  protected matmulDispatch(s: MatmulStep, scale = 1, splits = 1, part?: GPUBuffer): Dispatch {
    const params = new ArrayBuffer(112);
    const u = new Uint32Array(params), f = new Float32Array(params);
    const none = view(this.dummy, 0, 0, 0);
    const a2 = s.a2 ?? none, b2 = s.b2 ?? none;
    // Split-K partials are written unmapped; the reduce step maps C's columns.
    const flags = (s.bias ? F_BIAS : 0) | (s.mask ? (s.mask.mode === 'sign' ? F_MASK : F_MUL) : 0) | (s.relu ? F_RELU : 0)
      | (s.idx?.on === 'b' ? F_BIDX : 0) | (s.idx?.on === 'c' && !part ? F_CIDX : 0);
    // Split: the partials go to part[z·M·N + m·N + n], unscaled; the reduce step scales.
    const c = part ? view(part, 0, s.N, 1) : s.c;
    const kc = Math.ceil(s.K1 / splits / TK) * TK;
    u.set([s.M, s.N, s.K1, s.K2 ?? 0, s.a1.off, s.a1.s0, s.a1.s1, s.b1.off, s.b1.s0, s.b1.s1, a2.off, a2.s0, a2.s1, b2.off, b2.s0, b2.s1,
      c.off, c.s0, c.s1, flags, s.bias?.off ?? 0, s.mask?.off ?? 0, s.mask?.s0 ?? 0, s.mask?.s1 ?? 0, 0, splits > 1 ? kc : s.K1, s.M * s.N, 0]);
    const scaled = !!s.scaled && !part;
    f[24] = scaled ? scale : 1;
    const buffers = [s.a1.buf, s.b1.buf, a2.buf, b2.buf, s.bias?.buf ?? this.dummy, s.mask?.buf ?? this.dummy, c.buf, s.idx?.buf ?? this.dummy];
    const groups: [number, number, number] = [Math.ceil(s.N / TN), Math.ceil(s.M / TM), splits];
    return this.dispatch(this.pipe('matmul', matmulWgsl), s.label, params, buffers, groups, scaled ? 24 : -1, s.M * s.N * (s.K1 + (s.K2 ?? 0)));
  }

  /** Matmuls split over K₁ so far (for tests and the bench). */
  splitSteps = 0;

  /** A matmul's dispatches (split over K₁ into two, the product then the reduction, where that pays); `scale` for a scaled step. */
  protected matmulSteps(s: MatmulStep, scale = 1): Dispatch[] {
    const splits = this.splitsFor(s);
    if (splits <= 1) return [this.matmulDispatch(s, scale)];
    this.splitSteps++;
    const part = this.buffer(splits * s.M * s.N, `${s.label} partials`);
    const params = new ArrayBuffer(32);
    new Uint32Array(params).set([s.M, s.N, splits, s.c.off, s.c.s0, s.c.s1, s.idx?.on === 'c' ? 1 : 0]);
    new Float32Array(params)[7] = s.scaled ? scale : 1;
    return [
      this.matmulDispatch(s, scale, splits, part),
      this.dispatch(this.pipe('reduce', reduceWgsl), `${s.label} reduce`, params, [part, s.c.buf, s.idx?.buf ?? this.dummy], grid1d(s.M * s.N), s.scaled ? 7 : -1, 0),
    ];
  }

  /** Y[r, i] = D[r, i]·(T[a_r, i] + T[p + b_r, i]) (T [2p, h], D and Y [n, h], pairs u32 [n, 2]). */
  protected gatherAddStep(T: GPUBuffer, D: GPUBuffer, pairs: GPUBuffer, Y: GPUBuffer, n: number, h: number, p: number): Dispatch {
    return this.dispatch(this.pipe('gatherAdd', gatherAddWgsl), 'gather', new Uint32Array([n, h, p, 0]).buffer, [T, D, pairs, Y], grid1d(n * h), -1, 0);
  }

  /** S[t, i] = Σ_{j ∈ [off[t], off[t+1])} X[rowsOf[j], i] for t < segs (X [*, h]). */
  protected segmentSumStep(X: GPUBuffer, off: GPUBuffer, rowsOf: GPUBuffer, S: GPUBuffer, segs: number, h: number): Dispatch {
    return this.dispatch(this.pipe('segmentSum', segmentSumWgsl), 'segment sum', new Uint32Array([segs, h, 0, 0]).buffer, [X, off, rowsOf, S], grid1d(segs * h), -1, 0);
  }

  /** Records the dispatches into one compute pass of one command buffer, then `after` (copies), and submits once. */
  protected encode(ds: Dispatch[], after?: (enc: GPUCommandEncoder) => void): void {
    const enc = this.device.createCommandEncoder({ label: this.what });
    const pass = enc.beginComputePass();
    for (const s of ds) {
      pass.setPipeline(s.pipe);
      pass.setBindGroup(0, s.bg);
      pass.dispatchWorkgroups(s.groups[0], s.groups[1], s.groups[2]);
    }
    pass.end();
    after?.(enc);
    this.device.queue.submit([enc.finish()]);
  }

  /** Maps `bytes` of a MAP_READ buffer (after the submission that filled it) and copies them out; a lost device gives a clear Error. */
  protected async readBack(buf: GPUBuffer, bytes: number): Promise<Float32Array> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.pending.add(reject);
        buf.mapAsync(MAP_READ, 0, bytes).then(resolve, reject).finally(() => this.pending.delete(reject));
      });
    } catch (e) {
      const info = this.lost ?? await Promise.race([this.device.lost, new Promise<null>((r) => setTimeout(() => r(null), 250))]);
      if (info) throw lostError(info, this.what);
      throw e;
    }
    const out = new Float32Array(buf.getMappedRange(0, bytes).slice(0));
    buf.unmap();
    return out;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of this.buffers) b.destroy();
  }
}

/**
 * A Gauss–Newton product as a fixed list of dispatches. Subclasses allocate their buffers with
 * `buffer`, record the forward pass at θ* with `runOnce` and the product's dispatches with
 * `matmul` / `gatherAdd` / `segmentSum` (in order) in their constructors.
 */
export abstract class GnProgram extends WgslProgram {
  readonly d: number;
  readonly n: number;
  protected readonly vBuf: GPUBuffer;
  protected readonly gBuf: GPUBuffer;
  private readonly stage: GPUBuffer;
  private readonly steps: Dispatch[] = [];
  private scale = 1;
  /** The products in flight, one after another (they share v, the tangents and the staging buffer). */
  private queue: Promise<unknown> = Promise.resolve();

  protected constructor(device: GPUDevice, d: number, n: number) {
    super(device, 'a Gauss–Newton product');
    this.d = d;
    this.n = n;
    this.vBuf = this.buffer(d, 'gn v');
    this.gBuf = this.buffer(d, 'gn Jᵀ J v', USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST);
    this.stage = this.buffer(d, 'gn read-back', USAGE_MAP_READ | USAGE_COPY_DST);
  }

  /** Dispatches per product (all in one compute pass and one submission). */
  get dispatches(): number {
    return this.steps.length;
  }

  /** Floating-point operations of the matmuls' multiply-adds per product (2 × multiply-adds). */
  get flops(): number {
    return 2 * this.steps.reduce((s, x) => s + x.mac, 0);
  }

  /** Appends a matmul to the product (split over K₁ into two dispatches where that pays). */
  protected matmul(s: MatmulStep): void {
    this.steps.push(...this.matmulSteps(s, this.scale));
  }

  /** Appends Y[r, i] = D[r, i]·(T[a_r, i] + T[p + b_r, i]) (T [2p, h], D and Y [n, h], pairs u32 [n, 2]). */
  protected gatherAdd(T: GPUBuffer, D: GPUBuffer, pairs: GPUBuffer, Y: GPUBuffer, n: number, h: number, p: number): void {
    this.steps.push(this.gatherAddStep(T, D, pairs, Y, n, h, p));
  }

  /** Appends S[t, i] = Σ_{j ∈ [off[t], off[t+1])} X[rowsOf[j], i] for t < segs (X [*, h]). */
  protected segmentSum(X: GPUBuffer, off: GPUBuffer, rowsOf: GPUBuffer, S: GPUBuffer, segs: number, h: number): void {
    this.steps.push(this.segmentSumStep(X, off, rowsOf, S, segs, h));
  }

  /** Runs matmuls once now (the forward pass at θ*), in one submission. */
  protected runOnce(steps: MatmulStep[]): void {
    if (!steps.length) return;
    this.encode(steps.map((s) => this.matmulDispatch(s)));
  }

  /** out = scale · Jᵀ J v, v in float32; one submission and one read-back. Concurrent calls run one after another. */
  apply(v: Float32Array, out: Float32Array | Float64Array, scale: number): Promise<void> {
    if (v.length !== this.d || out.length !== this.d) return Promise.reject(new Error(`v and out need ${this.d} entries (got ${v.length}, ${out.length})`));
    const vc = v.slice(); // the caller may reuse v before its turn comes
    const run = this.queue.then(() => this.product(vc, out, scale));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async product(v: Float32Array, out: Float32Array | Float64Array, scale: number): Promise<void> {
    if (this.destroyed) throw new Error('Gauss–Newton GPU product used after dispose()');
    if (this.lost) throw this.lostError(this.lost);
    const { device } = this;
    if (scale !== this.scale) {
      this.scale = scale;
      for (const s of this.steps) {
        if (s.scaleAt < 0) continue;
        new Float32Array(s.params)[s.scaleAt] = scale;
        device.queue.writeBuffer(s.uniform, 0, s.params);
      }
    }
    device.queue.writeBuffer(this.vBuf, 0, v as Float32Array<ArrayBuffer>);
    const bytes = this.d * 4;
    this.encode(this.steps, (enc) => enc.copyBufferToBuffer(this.gBuf, 0, this.stage, 0, bytes));
    const g = await this.readBack(this.stage, bytes);
    for (let i = 0; i < this.d; i++) out[i] = g[i];
  }
}
