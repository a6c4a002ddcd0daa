#!/usr/bin/env node
/**
 * A small mutation check: each entry below is a deliberate bug (one exact search string in one
 * file, replaced once) and the test files that must fail with it in place. Every mutation is
 * applied to a throw-away copy of the repository (src, tests and the config files, with
 * node_modules and public/ linked), so the working tree is never modified, even if this script
 * is killed. Only the named test files run.
 *
 *   npm run mutation                 all mutations
 *   npm run mutation -- lanczos-dgks  only the named ones
 *
 * Exit status 0 when every mutation is killed, 1 otherwise (or when a search string has gone
 * stale, or the unmutated tests fail).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** @type {{ id: string; file: string; search: string; replace: string; tests: string[]; why: string }[]} */
const MUTATIONS = [
  {
    id: 'bench-train-wgsl-backend',
    why: "the in-browser bench times the WGSL training row as if on wasm (it is skipped)",
    file: 'src/core/bench/browserBench.ts',
    search: "result.trainWgsl = await trainWgslRow(p.model, ds, result.backend, trainSteps, seed);",
    replace: "result.trainWgsl = await trainWgslRow(p.model, ds, 'wasm', trainSteps, seed);",
    tests: ['tests/unit/train-webgpu.test.ts'],
  },
  {
    id: 'calib-wgsl-step-unused',
    why: "auto's webgpu calibration times the tfjs op chain even where the WGSL step opened",
    file: 'src/core/backendChoice.ts',
    search: "ST = wgsl ? wgsl.launch : ops(STEP);",
    replace: "ST = ops(STEP);",
    tests: ['tests/unit/backend-auto-webgpu.test.ts'],
  },
  {
    id: 'calib-wgsl-off-webgpu',
    why: "the calibration tries the WGSL step on wasm too",
    file: 'src/core/backendChoice.ts',
    search: "if (name === 'webgpu' && (opts.wgslStep",
    replace: "if (name !== 'cpu' && (opts.wgslStep",
    tests: ['tests/unit/backend-choice.test.ts'],
  },
  {
    id: 'calib-open-timeout',
    why: "a calibration whose budget ran out while opening the WGSL step does not say it timed out",
    file: 'src/core/backendChoice.ts',
    search: "totalMs: performance.now() - t0, timedOut: true, step: 'wgsl' };",
    replace: "totalMs: performance.now() - t0, timedOut: false, step: 'wgsl' };",
    tests: ['tests/unit/backend-auto-webgpu.test.ts'],
  },
  {
    id: 'calib-fallback-reason',
    why: "the calibration loses the reason the WGSL step was refused",
    file: 'src/core/backendChoice.ts',
    search: "else stepFallback = got.reason;",
    replace: "else stepFallback = undefined;",
    tests: ['tests/unit/backend-auto-webgpu.test.ts'],
  },
  {
    id: 'chain-gpu-ring-flush',
    why: "a GPU chain's steps are not read before its ring wraps",
    file: 'src/core/llc/chain.ts',
    search: " || t + 1 - rec.readFrom >= gpuRing) await read(t + 1);",
    replace: ") await read(t + 1);",
    tests: ['tests/unit/llc-webgpu.test.ts'],
  },
  {
    id: 'chain-gpu-state-for-passes',
    why: "full-data losses and probes of a GPU chain read a stale w",
    file: 'src/core/llc/chain.ts',
    search: "native ? native.state() : g ? await g.state() : null;",
    replace: "native ? native.state() : null;",
    tests: ['tests/unit/llc-webgpu.test.ts'],
  },
  {
    id: 'chain-gpu-minibatch',
    why: "a GPU chain steps on the full batch instead of its minibatch",
    file: 'src/core/llc/chain.ts',
    search: "g.step(rows, noiseRng, consts);",
    replace: "g.step(null, noiseRng, consts);",
    tests: ['tests/unit/llc-webgpu.test.ts'],
  },
  {
    id: 'chain-gpu-final-state',
    why: "a GPU chain's final state is not read back",
    file: 'src/core/llc/chain.ts',
    search: "        else if (g) assignHost(w, await g.state());",
    replace: "",
    tests: ['tests/unit/llc-webgpu.test.ts'],
  },
  {
    id: 'chain-gpu-start',
    why: "a GPU chain ignores its start point (the calibration pilot's last state)",
    file: 'src/core/llc/chain.ts',
    search: "      else if (gpu) gpu.start(extras.start);",
    replace: "      else if (gpu) gpu.start();",
    tests: ['tests/unit/llc-webgpu.test.ts'],
  },
  {
    id: 'readback-own-offset',
    why: "the GPU ring's per-step values are placed after the tfjs reads' instead of at their start",
    file: 'src/core/llc/readback.ts',
    search: "const off = own ? 0 : vals.length;",
    replace: "const off = vals.length;",
    tests: ['tests/unit/llc-webgpu.test.ts'],
  },
  {
    id: 'target-gpu-recent-tail',
    why: "the GPU chain's recent steps are read from the ring's head, not its tail",
    file: 'src/core/llc/target.ts',
    search: "out[2 * i] = r.losses[m - k + i]; out[2 * i + 1] = r.dist2[m - k + i];",
    replace: "out[2 * i] = r.losses[i]; out[2 * i + 1] = r.dist2[i];",
    tests: ['tests/unit/llc-webgpu.test.ts'],
  },
  {
    id: 'target-gpu-behavioral-targets',
    why: "the GPU chain's behavioral targets f_w*(x) are never read",
    file: 'src/core/llc/target.ts',
    search: "for (const c of yChunks) { const v = (await c.data()) as Float32Array; yGpu.set(v, o); o += v.length; }",
    replace: "",
    tests: ['tests/unit/llc-webgpu.test.ts'],
  },
  {
    id: 'stack-split-sum',
    why: "the data-parallel stack step drops the second thread's gradient region",
    file: 'src/core/train/stackEngine.ts',
    search: 'k.addInto(this.G, this.G2, this.regionSize);',
    replace: '',
    tests: ['tests/unit/stackEngine.test.ts'],
  },
  {
    id: 'stack-split-delta-rows',
    why: "the data-parallel stack step's hidden δ rows at the layer's own stride (a thread overwrites rows another still reads)",
    file: 'src/core/train/stackEngine.ts',
    search: 'const next = hiddenBufs[(L - 1 - l) % 2] + 4 * r0 * this.hiddenWidest;',
    replace: 'const next = this.D[(l - 1) % 2] + 4 * r0 * pi;',
    tests: ['tests/unit/stackEngine.test.ts'],
  },
  {
    id: 'stack-split-sparse-rows',
    why: "the data-parallel stack step's second half reads the first half's sparse rows in the backward pass",
    file: 'src/core/train/stackEngine.ts',
    search: 'k.spmmT(sp.tB + 12 * r0, ',
    replace: 'k.spmmT(sp.tB, ',
    tests: ['tests/unit/stackEngine.test.ts'],
  },
  {
    id: 'pairs-split-divisor',
    why: "the data-parallel pairs step's softmax divides each half by its own rows, not the batch's",
    file: 'src/core/train/pairsEngine.ts',
    search: 'k.softmaxRows(this.LOG + 4 * r0 * pP, this.D + 4 * r0 * pP, this.ST + 8 * r0, real(r0, r1), pP, B);',
    replace: 'k.softmaxRows(this.LOG + 4 * r0 * pP, this.D + 4 * r0 * pP, this.ST + 8 * r0, real(r0, r1), pP, real(r0, r1));',
    tests: ['tests/unit/stackEngine.test.ts'],
  },
  {
    id: 'pairs-split-token-sums',
    why: "the data-parallel pairs step drops the second half's per-token sums S",
    file: 'src/core/train/pairsEngine.ts',
    search: 'k.addInto(this.S, this.Sb, S2);',
    replace: '',
    tests: ['tests/unit/stackEngine.test.ts'],
  },
  {
    id: 'lanczos-dgks',
    why: 'the DGKS second Gram–Schmidt sweep never runs',
    file: 'src/core/linalg/lanczos.ts',
    search: 'if (norm2(w) < DGKS_ETA * before) {',
    replace: 'if (false) {',
    tests: ['tests/unit/lanczos.test.ts'],
  },
  {
    id: 'krylov-wasm-tail',
    why: 'the wasm Gram–Schmidt sweeps (dots and axpy) skip the rows after the last full group of eight',
    file: 'src/core/linalg/krylovBasis.ts',
    search: 'for (; i < i1; i++) k1(W.rowsOff + i * W.rowBytes, W.wOff, W.hOff + 8 * i, W.rowBytes, nq);',
    replace: '',
    tests: ['tests/unit/wasmKernels.test.ts'],
  },
  {
    id: 'lanczos-sign-local',
    why: 'sign flip in the local three-term step (w + β v_{j−1}); full reorthogonalization repairs the values, so only the cost shows',
    file: 'src/core/linalg/lanczos.ts',
    search: 'basis.subtract(j - 1, betaPrev, w, h2);',
    replace: 'basis.subtract(j - 1, -betaPrev, w, h2);',
    tests: ['tests/unit/lanczos.test.ts'],
  },
  {
    id: 'lanczos-sign-next',
    why: 'sign flip of the next Lanczos vector (v_{j+1} = −w/β) while T keeps +β: Ritz values unchanged, Ritz vectors wrong',
    file: 'src/core/linalg/lanczos.ts',
    search: 'for (let i = 0; i < d; i++) vNext[i] = w[i] / beta;',
    replace: 'for (let i = 0; i < d; i++) vNext[i] = -w[i] / beta;',
    tests: ['tests/unit/lanczos.test.ts'],
  },
  {
    id: 'lanczos-sign-arrow',
    why: 'sign flip of the thick-restart coupling s = β y_m in the arrowhead',
    file: 'src/core/linalg/lanczosProjected.ts',
    search: 'const s = betaPrev * vectors[(size - 1) * size + r];',
    replace: 'const s = -betaPrev * vectors[(size - 1) * size + r];',
    tests: ['tests/unit/lanczos.test.ts'],
  },
  {
    id: 'counts-band-20se',
    why: 'the d1(ε) SLQ band widened from ±2 to ±20 standard errors',
    file: 'src/core/spectrum/counts.ts',
    search: 'lo: Math.min(s.d, Math.max(k, c.mean - 2 * se)), hi: Math.min(s.d, Math.max(k, c.mean + 2 * se))',
    replace: 'lo: Math.min(s.d, Math.max(k, c.mean - 20 * se)), hi: Math.min(s.d, Math.max(k, c.mean + 20 * se))',
    tests: ['tests/unit/counts.test.ts'],
  },
  {
    id: 'bounds-upper-d1',
    why: 'the LLC upper bound with d1/4 in place of (d − d1)/4',
    file: 'src/core/spectrum/counts.ts',
    search: 'upper: d1 / 2 + (d - d1) / 4',
    replace: 'upper: d1 / 2 + d1 / 4',
    tests: ['tests/unit/counts.test.ts'],
  },
  {
    id: 'quadratic-stderr-sqrtP',
    why: 'the quadratic-λ SLQ standard error scaled by √P (std in place of std/√P; the helper is shared)',
    file: 'src/core/stats.ts',
    search: 'stderr: std / Math.sqrt(n)',
    replace: 'stderr: std',
    tests: ['tests/unit/quadratic.test.ts'],
  },
  {
    id: 'stats-divisor-n',
    why: 'the sample standard deviation with divisor n instead of n − 1',
    file: 'src/core/stats.ts',
    search: 'Math.sqrt(ss / (n - 1))',
    replace: 'Math.sqrt(ss / n)',
    tests: ['tests/unit/quadratic.test.ts', 'tests/unit/counts.test.ts'],
  },
  {
    id: 'd1-not-strict',
    why: 'd1(ε) counting h_i ≥ ε instead of h_i > ε',
    file: 'src/core/spectrum/counts.ts',
    search: 'if (values[mid] > eps) lo = mid + 1;',
    replace: 'if (values[mid] >= eps) lo = mid + 1;',
    tests: ['tests/unit/counts.test.ts'],
  },
  {
    id: 'subcontext-progress',
    why: "subContext maps progress f to a + b·f instead of a + (b − a)·f",
    file: 'src/core/jobs.ts',
    search: 'ctx.progress(a + (b - a) * f,',
    replace: 'ctx.progress(a + b * f,',
    tests: ['tests/unit/jobs.test.ts'],
  },
  {
    id: 'cutoff-threshold-0.999',
    why: 'the accuracy-cutoff threshold multiplied by 0.999',
    file: 'src/core/spectrum/projection.ts',
    search: 'const threshold = cutoff * orig;',
    replace: 'const threshold = cutoff * orig * 0.999;',
    tests: ['tests/unit/projection.test.ts'],
  },
  {
    id: 'passes-gelu-prime',
    why: 'the tfjs-op GELU derivative (webgpu, or wasm without SIMD) drops the x·φ(x) term',
    file: 'src/core/train/wasmKernels.ts',
    search: 'derivative: () => tf.add(cdf, tf.mul(x, tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI)))),',
    replace: 'derivative: () => cdf,',
    tests: ['tests/unit/fused.test.ts'],
  },
  {
    id: 'wasm-gelu-prime',
    why: 'the f32x4 GELU kernel stores Φ(x) as the derivative, without x·φ(x)',
    file: 'src/core/train/wasmF32.ts',
    search: '[...get(2), ...get(CDF), ...get(V), ...get(S), ...mul, ...splat(INV_SQRT_2PI), ...mul, ...add, ...v128store(off)]',
    replace: '[...get(2), ...get(CDF), ...v128store(off)]',
    tests: ['tests/unit/wasmF32.test.ts', 'tests/unit/fused.test.ts'],
  },
  {
    id: 'pair-sums-right-token',
    why: 'the fused per-token sums add each row to the right table of its left token (b read as a)',
    file: 'src/core/train/wasmF32.ts',
    search: 'e(get(2), get(1), i32load(4), get(S), [MUL], [ADD], get(4), i32c(4), [SHL], [ADD], set(PB));',
    replace: 'e(get(2), get(1), i32load(0), get(S), [MUL], [ADD], get(4), i32c(4), [SHL], [ADD], set(PB));',
    tests: ['tests/unit/wasmF32.test.ts', 'tests/unit/fused.test.ts', 'tests/unit/gn.test.ts'],
  },
  {
    id: 'gemm-transposed-a',
    why: 'our GEMM copies a transposed A operand with the wrong stride (one element per row)',
    file: 'src/core/train/wasmF32.ts',
    search: 'h[dst] = a[src + i];',
    replace: 'h[dst] = a[src];',
    tests: ['tests/unit/wasmF32.test.ts'],
  },
  {
    id: 'passes-embed-scatter',
    why: 'the embedding gradient takes only the left token\'s sum (∇E = ∇T_L·W_L, the right half lost)',
    file: 'src/core/arch/passes.ts',
    search: 'grads[spec.embed] = tf.add(tf.matMul(dTL, WL), tf.matMul(dTR, WR));',
    replace: 'grads[spec.embed] = tf.matMul(dTL, WL);',
    tests: ['tests/unit/fused.test.ts', 'tests/unit/train.test.ts'],
  },
  {
    id: 'engine-langevin-mask',
    why: 'the engine\'s Langevin noise is not masked: normals land in the padding of its layout, as phantom hidden units and weights',
    file: 'src/core/train/wasmF32.ts',
    search: 'e(get(S), get(3), v128load(0), get(4), v128load(0), mul, mul, add, v128store(0));',
    replace: 'e(get(S), get(3), v128load(0), mul, add, v128store(0));',
    tests: ['tests/unit/stackEngine.test.ts'],
  },
  {
    id: 'engine-sparse-grad-zero',
    why: 'with a sparse input the first layer\'s weight gradient is not cleared before the scatter: each step adds to the last one\'s',
    file: 'src/core/train/stackEngine.ts',
    search: '    this.k.f32().fill(0, g, g + this.pw[0] * this.pw[1]);',
    replace: '',
    tests: ['tests/unit/stackEngine.test.ts'],
  },
  {
    id: 'sgld-native-mh-noise-term',
    why: 'the engine\'s Metropolis ratio takes the proposal density\'s cross term ⟨s, ξ⟩ with the wrong sign: the chain no longer samples the localized posterior exactly',
    file: 'src/core/llc/target.ts',
    search: ' + (Math.sqrt(c.eps) / 2) * t.sXi;',
    replace: ' - (Math.sqrt(c.eps) / 2) * t.sXi;',
    tests: ['tests/unit/sgld.test.ts'],
  },
  {
    id: 'wgsl-gn-relu-mask',
    why: 'the WGSL Gauss–Newton product\'s ReLU mask lets every unit through (the sign test never zeroes): the tangent and δ of switched-off units reach the result (SwiftShader; skipped without an adapter)',
    file: 'src/core/gpu/gnKernels.ts',
    search: '{ if (!(Mask[p.mo + m * p.mm + n * p.mn] > 0.0)) { r = 0.0; } }',
    replace: '{ if (!(Mask[p.mo + m * p.mm + n * p.mn] > -1e30)) { r = 0.0; } }',
    tests: ['tests/unit/gpuGn.test.ts'],
  },
  {
    id: 'wgsl-gn-gelu-derivative',
    why: 'the WGSL Gauss–Newton product ignores GELU′ (the multiplying mask): the pair model\'s tangent and δz are not scaled by act′ (SwiftShader)',
    file: 'src/core/gpu/gnKernels.ts',
    search: '{ r *= Mask[p.mo + m * p.mm + n * p.mn]; }',
    replace: '{ r *= 1.0; }',
    tests: ['tests/unit/gpuGn.test.ts'],
  },
  {
    id: 'engine-relu-mask',
    why: 'the engines\' ReLU mask lets δ through where the activation is exactly 0 (f32x4.ge for gt): every unit a ReLU switched off',
    file: 'src/core/train/wasmF32.ts',
    search: 'zero128, simd(0x44), V128_AND',
    replace: 'zero128, simd(0x46), V128_AND',
    tests: ['tests/unit/stackEngine.test.ts'],
  },
  {
    id: 'engine-split-rows',
    why: 'the resident GEMM\'s row blocks step through C at the stride of A (K) instead of C (N)',
    file: 'src/core/train/wasmF32.ts',
    search: 'strides: [mb * aRow, 0, 4 * mb * N] });',
    replace: 'strides: [mb * aRow, 0, 4 * mb * K] });',
    tests: ['tests/unit/stackEngine.test.ts'],
  },
  {
    id: 'engine-pair-gather-right',
    why: 'the pairs engine\'s gather reads the right table at the left token (T_R[a] instead of T_R[b])',
    file: 'src/core/train/wasmF32.ts',
    search: 'e(get(0), get(1), i32load(4), get(S), [MUL], [ADD], get(4), i32c(4), [SHL], [ADD], set(PB));\n  e(get(4), set(J), BLOCK, get(J), [EQZ], brIf(0), LOOP);\n  e(get(2), get(PA)',
    replace: 'e(get(0), get(1), i32load(0), get(S), [MUL], [ADD], get(4), i32c(4), [SHL], [ADD], set(PB));\n  e(get(4), set(J), BLOCK, get(J), [EQZ], brIf(0), LOOP);\n  e(get(2), get(PA)',
    tests: ['tests/unit/stackEngine.test.ts'],
  },
  {
    id: 'engine-gn-stack-tangent',
    why: 'the dense-stack Gauss–Newton product drops h_{l−1}·Ẇ_l from a layer\'s forward-mode tangent',
    file: 'src/core/train/stackEngine.ts',
    search: '        k.addInto(zl, this.Z2, B4 * po);',
    replace: '        // (dropped)',
    tests: ['tests/unit/gn.test.ts'],
  },
  {
    id: 'engine-gn-pairs-tables',
    why: 'the token-pair Gauss–Newton product drops E·Ẇ1t from the tangent tables',
    file: 'src/core/train/pairsEngine.ts',
    search: '    k.addInto(this.T, this.S, p4 * 2 * hP);',
    replace: '    // (dropped)',
    tests: ['tests/unit/gn.test.ts'],
  },
  {
    id: 'threads-axpy-slice',
    why: 'a thread of the split Gram–Schmidt axpy starts its coordinate slice of the basis rows one float late',
    file: 'src/core/linalg/krylovBasis.ts',
    search: 'if (n8) segs.push({ fn: idx8, count: n8, args: [W.rowsOff + i0 * W.rowBytes + c0 * elem,',
    replace: 'if (n8) segs.push({ fn: idx8, count: n8, args: [W.rowsOff + i0 * W.rowBytes + (c0 ? c0 + 1 : 0) * elem,',
    tests: ['tests/unit/threads.test.ts'],
  },
  {
    id: 'threads-helper-args',
    why: 'the helper threads pass a kernel only its first six arguments (the Float64 GEMM takes seven)',
    file: 'src/core/wasm/threads.ts',
    search: '        f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);\n        for (let i = 0; i < NA; i++) a[i] += st[i];',
    replace: '        f(a[0], a[1], a[2], a[3], a[4], a[5]);\n        for (let i = 0; i < NA; i++) a[i] += st[i];',
    tests: ['tests/unit/threads.test.ts'],
  },
  {
    id: 'ziggurat-wedge',
    why: 'the ziggurat accepts every wedge point without the rejection test',
    file: 'src/core/rng.ts',
    search: 'if (fn[iz] + uni() * (fn[iz - 1] - fn[iz]) < Math.exp(-0.5 * x * x))',
    replace: 'if (true)',
    tests: ['tests/unit/rng.test.ts'],
  },
  {
    id: 'wgsl-train-relu-mask',
    why: 'the WGSL training step\'s backward ReLU mask (the matmul\'s sign epilogue, shared with the GN product) lets every unit through: δ of switched-off units reaches the gradient (SwiftShader; skipped without an adapter)',
    file: 'src/core/gpu/gnKernels.ts',
    search: '{ if (!(Mask[p.mo + m * p.mm + n * p.mn] > 0.0)) { r = 0.0; } }',
    replace: '{ if (!(Mask[p.mo + m * p.mm + n * p.mn] > -1e30)) { r = 0.0; } }',
    tests: ['tests/unit/gpuTrain.test.ts'],
  },
  {
    id: 'wgsl-train-adamw-bias2',
    why: 'the WGSL AdamW update drops the second moment\'s bias correction (√v instead of √v / √(1 − β2ᵗ)) (SwiftShader; skipped without an adapter)',
    file: 'src/core/gpu/trainKernels.ts',
    search: '(m / (sqrt(v) * st.invBc2 + st.eps))',
    replace: '(m / (sqrt(v) + st.eps))',
    tests: ['tests/unit/gpuTrain.test.ts'],
  },
  {
    id: 'wgsl-train-adamw-decay',
    why: 'the WGSL AdamW update forgets the decoupled weight decay θ·(1 − lr·wd) (SwiftShader; skipped without an adapter)',
    file: 'src/core/gpu/trainKernels.ts',
    search: 'W[i] = W[i] * st.decay - st.stepSize',
    replace: 'W[i] = W[i] - st.stepSize',
    tests: ['tests/unit/gpuTrain.test.ts'],
  },
  {
    id: 'wgsl-train-sgd-momentum',
    why: 'the WGSL SGD update drops the momentum buffer\'s carry (b = d instead of μ·b + d) (SwiftShader; skipped without an adapter)',
    file: 'src/core/gpu/trainKernels.ts',
    search: 'let b = st.mu * M[i] + dv;',
    replace: 'let b = dv;',
    tests: ['tests/unit/gpuTrain.test.ts'],
  },
  {
    id: 'wgsl-train-softmax-max',
    why: 'the WGSL cross-entropy head subtracts the row\'s first logit instead of its max: exp overflows float32 on large logits (SwiftShader; skipped without an adapter)',
    file: 'src/core/gpu/trainKernels.ts',
    search: 'for (var j = 1u; j < q.K; j++) { mx = max(mx, Z[o + j]); }',
    replace: '',
    tests: ['tests/unit/gpuTrain.test.ts'],
  },
  {
    id: 'wgsl-train-batch-labels',
    why: 'the WGSL head reads a minibatch row\'s label or target at its position in the batch, not at its row in the data (SwiftShader; skipped without an adapter)',
    file: 'src/core/gpu/trainKernels.ts',
    search: 'if (q.direct == 0u) { src = idx[r]; }',
    replace: '',
    tests: ['tests/unit/gpuTrain.test.ts'],
  },
  {
    id: 'wgsl-train-gather',
    why: 'the WGSL minibatch gather copies the first B rows instead of the step\'s rows (SwiftShader; skipped without an adapter)',
    file: 'src/core/gpu/trainKernels.ts',
    search: 'Y[i] = X[idx[r] * q.cols + j];',
    replace: 'Y[i] = X[r * q.cols + j];',
    tests: ['tests/unit/gpuTrain.test.ts'],
  },
  {
    id: 'wgsl-train-pair-right',
    why: 'the WGSL pair hidden layer reads the right table at the left token (T_R[a] instead of T_R[b]) (SwiftShader; skipped without an adapter)',
    file: 'src/core/gpu/trainKernels.ts',
    search: 'T[(q.p + pairs[2u * r + 1u]) * q.h + c]',
    replace: 'T[(q.p + pairs[2u * r]) * q.h + c]',
    tests: ['tests/unit/gpuTrain.test.ts'],
  },
  {
    id: 'wgsl-train-gelu-derivative',
    why: 'the WGSL GELU derivative drops z·φ(z) (act′ = Φ only) (SwiftShader; skipped without an adapter)',
    file: 'src/core/gpu/trainKernels.ts',
    search: 'Dv[i] = cdf + z * exp(-0.5 * z * z) * 0.3989422804014327;',
    replace: 'Dv[i] = cdf;',
    tests: ['tests/unit/gpuTrain.test.ts'],
  },
  {
    id: 'wgsl-train-loss-tree',
    why: 'the WGSL batch-loss sum starts its tree at 64: the partial sums of threads 128–255 are lost (batches over 128 rows) (SwiftShader; skipped without an adapter)',
    file: 'src/core/gpu/trainKernels.ts',
    search: 'for (var w = 128u; w > 0u; w = w >> 1u) {',
    replace: 'for (var w = 64u; w > 0u; w = w >> 1u) {',
    tests: ['tests/unit/gpuTrain.test.ts'],
  },
  {
    id: 'wgsl-train-token-lists',
    why: 'the per-token lists of a batch file each row under its left token twice (the right token\'s segment is never filled right) (SwiftShader; skipped without an adapter)',
    file: 'src/core/gpu/trainStep.ts',
    search: '    rowsOf[fill[p + x[2 * s + 1]]++] = r;',
    replace: '    rowsOf[fill[p + x[2 * s]]++] = r;',
    tests: ['tests/unit/gpuTrain.test.ts'],
  },
  {
    id: 'wgsl-train-kept-columns',
    why: 'the first layer\'s weight gradient is written to the first columns, not through the list of kept input columns (MNIST\'s border dropped) (SwiftShader; skipped without an adapter)',
    file: 'src/core/gpu/trainStep.ts',
    search: 'c: view(this.G, w[l], inn, 1), ...idx(l, \'c\') }));',
    replace: 'c: view(this.G, w[l], inn, 1) }));',
    tests: ['tests/unit/gpuTrain.test.ts'],
  },
  {
    id: 'wgsl-trainer-eval-sync',
    why: 'on webgpu the Trainer evaluates without copying the GPU engine\'s θ into its tfjs variable: every evaluation after the first reads the initial θ (SwiftShader; skipped without an adapter)',
    file: 'src/core/train/trainer.ts',
    search: '      this.thetaVar.assign(t as tf.Tensor1D);',
    replace: '',
    tests: ['tests/unit/train-webgpu.test.ts'],
  },
  {
    id: 'wgsl-sgld-localization',
    why: 'the WGSL Langevin step drops the localization pull γ(w − w*) (SwiftShader; skipped without an adapter)',
    file: 'src/core/gpu/trainKernels.ts',
    search: 'W[i] = w - (q.a * G[i] + q.b * diff) + q.s * Xi[i];',
    replace: 'W[i] = w - (q.a * G[i]) + q.s * Xi[i];',
    tests: ['tests/unit/gpuTrain.test.ts'],
  },
  {
    id: 'wgsl-sgld-distance',
    why: 'the WGSL Langevin step\'s ‖w − w*‖² sums only the first half of each workgroup (SwiftShader; skipped without an adapter)',
    file: 'src/core/gpu/trainKernels.ts',
    search: 'for (var k = 128u; k > 0u; k = k >> 1u) {',
    replace: 'for (var k = 64u; k > 0u; k = k >> 1u) {',
    tests: ['tests/unit/gpuTrain.test.ts'],
  },
  {
    id: 'native-probe-log-alpha',
    why: 'the engine\'s full-batch MALA probe misreads log α (scaled by 1.5)',
    file: 'src/core/llc/chain.ts',
    search: 'native.metropolisStep(probeRng, Infinity, consts, null).logAlpha,',
    replace: 'native.metropolisStep(probeRng, Infinity, consts, null).logAlpha * 1.5,',
    tests: ['tests/unit/sgld.test.ts'],
  },
  {
    id: 'native-probe-accepts',
    why: 'the engine\'s MALA probe is not always rejected, so it moves the chain it measures',
    file: 'src/core/llc/chain.ts',
    search: 'native.metropolisStep(probeRng, Infinity, consts, null)',
    replace: 'native.metropolisStep(probeRng, 0, consts, null)',
    tests: ['tests/unit/sgld.test.ts'],
  },
];

/** Copies what the tests need into a fresh temporary directory (node_modules and public/ linked). */
function makeCopy() {
  const dir = mkdtempSync(join(tmpdir(), 'slt-mutation-'));
  for (const p of ['src', 'tests', 'package.json', 'tsconfig.json', 'vitest.config.ts']) {
    cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  symlinkSync(join(ROOT, 'public'), join(dir, 'public'));
  return dir;
}

function runTests(dir, files) {
  const r = spawnSync(join(dir, 'node_modules', '.bin', 'vitest'), ['run', ...files], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' } });
  // eslint-disable-next-line no-control-regex
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.replace(/\x1b\[[0-9;]*m/g, '');
  return { ok: r.status === 0, out };
}

const only = process.argv.slice(2);
const selected = only.length ? MUTATIONS.filter((m) => only.includes(m.id)) : MUTATIONS;
if (only.length && selected.length !== only.length) {
  console.error(`unknown mutation id(s): ${only.filter((id) => !MUTATIONS.some((m) => m.id === id)).join(', ')}`);
  process.exit(2);
}

const dir = makeCopy();
const cleanup = () => rmSync(dir, { recursive: true, force: true });
process.on('SIGINT', () => { cleanup(); process.exit(130); });
process.on('SIGTERM', () => { cleanup(); process.exit(143); });

let failed = false;
try {
  // Every search string must still be in its file exactly once.
  for (const m of selected) {
    const src = readFileSync(join(dir, m.file), 'utf8');
    const count = src.split(m.search).length - 1;
    if (count !== 1) {
      console.error(`STALE  ${m.id}: the search string occurs ${count} times in ${m.file}`);
      failed = true;
    }
  }
  if (failed) process.exitCode = 1;
  else {
    // The unmutated tests must pass, or a "kill" would mean nothing.
    const files = [...new Set(selected.flatMap((m) => m.tests))];
    const base = runTests(dir, files);
    if (!base.ok) {
      console.error(`the unmutated tests fail; fix them first:\n${base.out.slice(-4000)}`);
      process.exitCode = 1;
    } else {
      let killed = 0;
      for (const m of selected) {
        const path = join(dir, m.file);
        const original = readFileSync(path, 'utf8');
        writeFileSync(path, original.replace(m.search, m.replace));
        const t0 = Date.now();
        const r = runTests(dir, m.tests);
        writeFileSync(path, original);
        const secs = ((Date.now() - t0) / 1000).toFixed(1);
        if (!r.ok) killed++;
        const failing = [...new Set([...r.out.matchAll(/^\s*FAIL\s+(.+)$/gmu)].map((x) => x[1].trim()))].slice(0, 8);
        console.log(`${r.ok ? 'SURVIVED' : 'killed  '}  ${m.id.padEnd(24)} ${secs.padStart(5)} s  ${m.why}`);
        if (!r.ok && failing.length) for (const f of failing) console.log(`            ${f}`);
      }
      console.log(`\nmutation score: ${killed}/${selected.length} killed (${((100 * killed) / selected.length).toFixed(0)} %)`);
      if (killed < selected.length) process.exitCode = 1;
    }
  }
} finally {
  cleanup();
}
if (existsSync(dir)) console.error(`could not remove ${dir}`);
