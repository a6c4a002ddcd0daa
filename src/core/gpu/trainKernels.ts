/**
 * The WGSL kernels of a whole training step on the GPU (trainStep.ts) besides gnKernels.ts's
 * matmul: the minibatch gather, the pair models' hidden layer, the loss heads of train/fused.ts,
 * the batch loss's sum, and torch.optim's AdamW and SGD updates. One thread per element or row,
 * workgroups of 256 (the head: 64 rows), a 1-D grid folded into 2-D past 65,535 workgroups
 * (gnKernels.ts grid1d), so the flat index is gid.x + gid.y·(num_workgroups.x·size).
 */

/** The step's uniform, written once per step (64 bytes): the optimizer's constants for this step and the loss slot. */
export const STEP_STRUCT = /* wgsl */ `
struct Step {
  lr: f32, decay: f32, stepSize: f32, invBc2: f32,
  wd: f32, b1: f32, c1: f32, b2: f32,
  c2: f32, eps: f32, mu: f32, slot: u32,
  d: u32, p0: u32, p1: u32, p2: u32,
}`;
export const STEP_FLOATS = 16;

/** Y[r, j] = X[idx[r], j] for r < rows, j < cols (32-bit words: float rows and token pairs alike). */
export const gatherRowsWgsl = /* wgsl */ `
struct P { rows: u32, cols: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<uniform> q: P;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> Y: array<u32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i >= q.rows * q.cols) { return; }
  let r = i / q.cols;
  let j = i - r * q.cols;
  Y[i] = X[idx[r] * q.cols + j];
}
`;

/**
 * The pair models' hidden layer: z = T[a_r, i] + T[p + b_r, i] (T = [T_L; T_R], b₁ already in
 * T_L), A = act(z); for GELU also A′ = Φ(z) + z·φ(z) into Dv. Φ through erfc: Numerical Recipes'
 * Chebyshev fit (fractional error < 1.2e-7), as gnPairs.ts uses it on the CPU.
 */
export const pairHiddenWgsl = /* wgsl */ `
struct P { n: u32, h: u32, p: u32, gelu: u32 }
@group(0) @binding(0) var<uniform> q: P;
@group(0) @binding(1) var<storage, read> T: array<f32>;
@group(0) @binding(2) var<storage, read> pairs: array<u32>;
@group(0) @binding(3) var<storage, read_write> A: array<f32>;
@group(0) @binding(4) var<storage, read_write> Dv: array<f32>;
fn erfcPos(x: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * x);
  return t * exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807
    + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
}
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i >= q.n * q.h) { return; }
  let r = i / q.h;
  let c = i - r * q.h;
  let z = T[pairs[2u * r] * q.h + c] + T[(q.p + pairs[2u * r + 1u]) * q.h + c];
  if (q.gelu == 0u) { A[i] = max(z, 0.0); return; }
  let tail = 0.5 * erfcPos(abs(z) * 0.7071067811865476);
  var cdf = tail;
  if (z >= 0.0) { cdf = 1.0 - tail; }
  A[i] = z * cdf;
  Dv[i] = cdf + z * exp(-0.5 * z * z) * 0.3989422804014327;
}
`;

/**
 * The loss head per row r < B of the logits Z [B, K] (train/fused.ts): mode 0, cross-entropy
 * against the int32 label Y[src]: R[r] = log Σ exp(z − max) − (z_y − max), δ = softmax·dscale −
 * dscale·onehot (dscale = 1/B); mode 1, squared error against the float32 targets Y[src, ·]
 * (bit-cast): R[r] = Σ (f − y)², δ = dscale·(f − y) (dscale = 2·the head's scale). src = idx[r]
 * (a minibatch: the row's position in the resident data), or r for the full batch (direct = 1).
 */
export const headWgsl = /* wgsl */ `
struct P { B: u32, K: u32, mode: u32, direct: u32, dscale: f32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<uniform> q: P;
@group(0) @binding(1) var<storage, read> Z: array<f32>;
@group(0) @binding(2) var<storage, read> Y: array<u32>;
@group(0) @binding(3) var<storage, read> idx: array<u32>;
@group(0) @binding(4) var<storage, read_write> D: array<f32>;
@group(0) @binding(5) var<storage, read_write> R: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let r = gid.x + gid.y * nw.x * 64u;
  if (r >= q.B) { return; }
  var src = r;
  if (q.direct == 0u) { src = idx[r]; }
  let o = r * q.K;
  if (q.mode == 0u) {
    let y = Y[src];
    var mx = Z[o];
    for (var j = 1u; j < q.K; j++) { mx = max(mx, Z[o + j]); }
    var s = 0.0;
    for (var j = 0u; j < q.K; j++) { s += exp(Z[o + j] - mx); }
    let w = q.dscale / s;
    for (var j = 0u; j < q.K; j++) {
      var dv = exp(Z[o + j] - mx) * w;
      if (j == y) { dv -= q.dscale; }
      D[o + j] = dv;
    }
    R[r] = log(s) - (Z[o + y] - mx);
  } else {
    var acc = 0.0;
    for (var j = 0u; j < q.K; j++) {
      let e = Z[o + j] - bitcast<f32>(Y[src * q.K + j]);
      acc += e * e;
      D[o + j] = q.dscale * e;
    }
    R[r] = acc;
  }
}
`;

/** losses[step.slot] = scale · Σ_{r < B} R[r], one workgroup (strided partial sums, then a tree). */
export const lossSumWgsl = /* wgsl */ `${STEP_STRUCT}
struct P { B: u32, scale: f32, p0: u32, p1: u32 }
@group(0) @binding(0) var<uniform> q: P;
@group(0) @binding(1) var<uniform> st: Step;
@group(0) @binding(2) var<storage, read> R: array<f32>;
@group(0) @binding(3) var<storage, read_write> losses: array<f32>;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  var acc = 0.0;
  for (var r = lid.x; r < q.B; r += 256u) { acc += R[r]; }
  part[lid.x] = acc;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w = w >> 1u) {
    if (lid.x < w) { part[lid.x] += part[lid.x + w]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { losses[st.slot] = part[0] * q.scale; }
}
`;

/**
 * torch.optim.AdamW over the flat θ (optimizers.ts createAdamW; the constants from the step
 * uniform: decay = 1 − lr·wd, stepSize = lr/(1 − β1ᵗ), invBc2 = 1/√(1 − β2ᵗ), c1 = 1 − β1, c2 = 1 − β2):
 *   m ← β1·m + c1·g,  v ← β2·v + c2·g²,  θ ← θ·decay − stepSize · m / (√v·invBc2 + eps).
 */
export const adamWWgsl = /* wgsl */ `${STEP_STRUCT}
@group(0) @binding(0) var<uniform> st: Step;
@group(0) @binding(1) var<storage, read_write> W: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> M: array<f32>;
@group(0) @binding(4) var<storage, read_write> V: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i >= st.d) { return; }
  let g = G[i];
  let m = st.b1 * M[i] + st.c1 * g;
  let v = st.b2 * V[i] + st.c2 * g * g;
  M[i] = m;
  V[i] = v;
  W[i] = W[i] * st.decay - st.stepSize * (m / (sqrt(v) * st.invBc2 + st.eps));
}
`;

/**
 * torch.optim.SGD (dampening 0, no Nesterov; optimizers.ts createSgd): d = g + wd·θ; with momentum
 * μ ≠ 0, b ← μ·b + d (b is zero before step 1, so b = d there, as torch's first step) and d = b;
 * θ ← θ − lr·d.
 */
export const sgdWgsl = /* wgsl */ `${STEP_STRUCT}
@group(0) @binding(0) var<uniform> st: Step;
@group(0) @binding(1) var<storage, read_write> W: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> M: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i >= st.d) { return; }
  var dv = G[i] + st.wd * W[i];
  if (st.mu != 0.0) {
    let b = st.mu * M[i] + dv;
    M[i] = b;
    dv = b;
  }
  W[i] = W[i] - st.lr * dv;
}
`;

/**
 * One unadjusted Langevin step (SGLD; train/wasmKernels.ts langevinUpdate): with a = (ε/2)·nβ,
 * b = (ε/2)·γ, s = √ε, w ← w − (a·∇L + b·(w − w*)) + s·ξ, ξ uploaded (standard normals in layout
 * order); each workgroup also writes Σ (w − w*)² over its 256 entries before the step into
 * part[workgroup], which lossSumWgsl then sums.
 */
export const langevinWgsl = /* wgsl */ `
struct P { a: f32, b: f32, s: f32, d: u32 }
@group(0) @binding(0) var<uniform> q: P;
@group(0) @binding(1) var<storage, read_write> W: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read> Ws: array<f32>;
@group(0) @binding(4) var<storage, read> Xi: array<f32>;
@group(0) @binding(5) var<storage, read_write> part: array<f32>;
var<workgroup> acc: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  var sq = 0.0;
  if (i < q.d) {
    let w = W[i];
    let diff = w - Ws[i];
    sq = diff * diff;
    W[i] = w - (q.a * G[i] + q.b * diff) + q.s * Xi[i];
  }
  acc[lid.x] = sq;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k = k >> 1u) {
    if (lid.x < k) { acc[lid.x] += acc[lid.x + k]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { part[wid.x + wid.y * nw.x] = acc[0]; }
}
`;
