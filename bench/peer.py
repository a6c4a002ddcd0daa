#!/usr/bin/env python3
"""The PyTorch/SciPy peer of `npm run bench` (see BENCHMARKS.md).

Loads the SAME pretrained weights (public/models/*.safetensors, read with the tiny reader below:
json + struct + numpy.frombuffer) and rebuilds the SAME data the TypeScript core uses:

- modadd / modadd-gelu: all p² pairs (a, b), index a·p + b, rows = the file's data.train_idx;
- mnist-mlp: public/data/mnist-10k.bin (gzip; "SLTM" v1, documented in scripts/build-mnist.mjs and
  src/core/data/mnist.ts), pixels/255 computed in float64 then rounded to float32 like the core,
  first 8,000 digits = the training split;
- matfac: the core's seeded data, handed over by the bench in the exchange directory.

It defines the same modules with the same state_dict names (docs/science.md §1) and measures the same
quantities: the Gauss–Newton product H·v = (2/n) Jᵀ(J v) of the behavioral loss (docs/science.md §2) in
float32, top-k eigenpairs by scipy.sparse.linalg.eigsh (ARPACK, float64) on a LinearOperator of that
product, dense eigh by numpy.linalg.eigh (LAPACK), matMul rates, training steps and SGLD steps.

Usage (the bench runs it; by hand for debugging):
  /usr/bin/python3 bench/peer.py --json --tasks gn,lanczos --exchange /tmp/x --threads 2
Prints ONE JSON document on stdout (with --json); progress goes to stderr.
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    ap.add_argument("--tasks", default="matmul,gn,lanczos,dense,train,sgld",
                    help="comma-separated: matmul,gn,lanczos,dense,train,sgld")
    ap.add_argument("--exchange", default=None, help="directory of vectors/matrices shared with the TS bench")
    ap.add_argument("--threads", type=int, default=2, help="torch and BLAS threads (default 2)")
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions (medians are reported)")
    ap.add_argument("--gn-reps", type=int, default=15, help="timed repetitions of one H·v")
    ap.add_argument("--k", type=int, default=100, help="eigsh: number of top eigenpairs")
    ap.add_argument("--tol", type=float, default=1e-3, help="eigsh tol (ARPACK: ‖r_i‖ ≤ tol·|θ_i|)")
    ap.add_argument("--lanczos-reps", type=int, default=1, help="timed eigsh runs")
    ap.add_argument("--extra-tols", default="", help="comma-separated further eigsh tols to time once each")
    ap.add_argument("--product", default="", help="lanczos: the H·v variant to use (default: the fastest on a few products)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repo", default=REPO)
    return ap.parse_args()


ARGS = parse_args()
# Thread counts must be set before numpy / torch load their BLAS and OpenMP runtimes.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torch.autograd.forward_ad as fwAD  # noqa: E402
from torch.nn.utils.stateless import functional_call  # noqa: E402

torch.set_num_threads(ARGS.threads)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass


def log(msg):
    sys.stderr.write(f"[peer] {msg}\n")
    sys.stderr.flush()


def median(xs):
    s = sorted(xs)
    m = len(s)
    return float("nan") if m == 0 else (s[m // 2] if m % 2 else 0.5 * (s[m // 2 - 1] + s[m // 2]))


def timing(xs_ms):
    return {"medianMs": median(xs_ms), "minMs": min(xs_ms), "maxMs": max(xs_ms), "reps": len(xs_ms), "samplesMs": xs_ms}


# ------------------------------------------------------------------------------------------------
# safetensors: [u64 LE header length n][n bytes JSON header][raw little-endian tensor bytes]

_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "u1"}


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        shape = info["shape"]
        count = int(np.prod(shape)) if shape else 1
        if info["dtype"] == "BF16":
            raw = np.frombuffer(buf, dtype="<u2", count=count, offset=base + b)
            arr = (raw.astype(np.uint32) << 16).view(np.float32)
        else:
            dt = np.dtype(_DTYPES[info["dtype"]])
            if count * dt.itemsize != e - b:
                raise ValueError(f"{path}: tensor {name} has {e - b} bytes for shape {shape} of {info['dtype']}")
            arr = np.frombuffer(buf, dtype=dt, count=count, offset=base + b)
        tensors[name] = arr.reshape(shape)
    return tensors, meta


# ------------------------------------------------------------------------------------------------
# Modules with the state_dict names of docs/science.md §1 (the TS parameter layout is state_dict order).

class ModAdd(nn.Module):
    """Shared embedding of a and b, concatenated, ReLU hidden layer, logits."""

    def __init__(self, p, e, h):
        super().__init__()
        self.embed = nn.Embedding(p, e)
        self.hidden = nn.Linear(2 * e, h)
        self.out = nn.Linear(h, p)

    def forward(self, x):
        z = self.embed(x).reshape(x.shape[0], -1)  # [E[a] | E[b]]
        return self.out(torch.relu(self.hidden(z)))


class ModAddGelu(nn.Module):
    """Shared embedding, two bias-free linear maps summed, GELU (exact erf), logits."""

    def __init__(self, p, e, h):
        super().__init__()
        self.embed = nn.Embedding(p, e)
        self.left = nn.Linear(e, h, bias=False)
        self.right = nn.Linear(e, h, bias=False)
        self.out = nn.Linear(h, p)

    def forward(self, x):
        ea, eb = self.embed(x[:, 0]), self.embed(x[:, 1])
        return self.out(F.gelu(self.left(ea) + self.right(eb)))


class MnistMlp(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        widths = [784, *hidden, 10]
        self.n_layers = len(widths) - 1
        for i in range(self.n_layers):
            setattr(self, f"fc{i + 1}", nn.Linear(widths[i], widths[i + 1]))

    def forward(self, x):
        for i in range(1, self.n_layers + 1):
            x = getattr(self, f"fc{i}")(x)
            if i < self.n_layers:
                x = torch.relu(x)
        return x


class Matfac(nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(widths[i], widths[i + 1], bias=False) for i in range(len(widths) - 1)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def load_model(name):
    path = os.path.join(ARGS.repo, "public", "models", f"{name}.safetensors")
    tensors, meta = read_safetensors(path)
    arch = meta.get("arch", name)
    if arch in ("modadd", "modadd-gelu"):
        p, e, h = int(meta["p"]), int(meta["e"]), int(meta["h"])
        model = ModAdd(p, e, h) if arch == "modadd" else ModAddGelu(p, e, h)
    elif arch == "mnist-mlp":
        model = MnistMlp([int(s) for s in meta["hidden"].split(",")])
    elif arch == "matfac":
        model = Matfac([int(s) for s in meta["widths"].split(",")])
    else:
        raise ValueError(f"{path}: unknown arch {arch}")
    weights = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in tensors.items() if not k.startswith("data.")}
    model.load_state_dict(weights, strict=True)
    data = {k: v for k, v in tensors.items() if k.startswith("data.")}
    return arch, model, meta, data


def modadd_rows(meta, data):
    """Token pairs of the training rows: data.train_idx (sorted, as the core sorts it)."""
    p = int(meta["p"])
    if "data.train_idx" not in data:
        raise ValueError("the modadd file carries no data.train_idx; the peer rebuilds only file-carried splits")
    idx = np.sort(np.array(data["data.train_idx"], dtype=np.int64))
    x = np.stack([idx // p, idx % p], axis=1)
    y = (x[:, 0] + x[:, 1]) % p
    return torch.from_numpy(x), torch.from_numpy(y)


def mnist_train():
    """The first 8,000 digits of public/data/mnist-10k.bin ("SLTM" v1, gzip)."""
    with open(os.path.join(ARGS.repo, "public", "data", "mnist-10k.bin"), "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if raw[:4] != b"SLTM":
        raise ValueError("mnist-10k.bin: bad magic")
    version, count, rows, cols = struct.unpack("<IIHH", raw[4:16])
    if version != 1 or rows * cols != 784:
        raise ValueError(f"mnist-10k.bin: version {version}, {rows}×{cols}")
    pix = np.frombuffer(raw, dtype=np.uint8, count=count * 784, offset=16).reshape(count, 784)
    labels = np.frombuffer(raw, dtype=np.uint8, count=count, offset=16 + count * 784)
    n = 8000
    x = (pix[:n].astype(np.float64) / 255.0).astype(np.float32)  # as the core: k/255 in float64, then float32
    return torch.from_numpy(x), torch.from_numpy(labels[:n].astype(np.int64))


def exchange_path(name):
    if not ARGS.exchange:
        raise ValueError(f"--exchange is needed for {name}")
    return os.path.join(ARGS.exchange, name)


def train_data(arch, meta, data):
    if arch in ("modadd", "modadd-gelu"):
        return modadd_rows(meta, data)
    if arch == "mnist-mlp":
        return mnist_train()
    widths = [int(s) for s in meta["widths"].split(",")]
    x = np.fromfile(exchange_path("matfac_x.f32"), dtype="<f4").reshape(-1, widths[0])
    y = np.fromfile(exchange_path("matfac_y.f32"), dtype="<f4").reshape(-1, widths[-1])
    return torch.from_numpy(x.copy()), torch.from_numpy(y.copy())


# ------------------------------------------------------------------------------------------------
# Gauss–Newton products on a flat parameter vector θ (state_dict order = the TS layout).

class GnOperator:
    """H·v = (2/n) Jᵀ (J v) at θ*, float32, three ways (the fastest is what the bench compares)."""

    def __init__(self, model, x):
        self.model = model
        self.x = x
        self.names = [k for k, _ in model.named_parameters()]
        self.shapes = [p.shape for _, p in model.named_parameters()]
        self.sizes = [p.numel() for _, p in model.named_parameters()]
        self.theta = torch.cat([p.detach().reshape(-1) for _, p in model.named_parameters()]).clone()
        self.d = self.theta.numel()
        self.n = x.shape[0]
        self.scale = 2.0 / self.n
        # Cached graph at θ* for the backward pass (variant "fwAD+cached-vjp").
        self._theta_req = self.theta.clone().requires_grad_(True)
        self._out0 = self.f(self._theta_req)
        self.functorch = None
        try:
            import functorch  # shipped with Debian's torch 1.13
            _, vjp_fn = functorch.vjp(self.f, self.theta)
            self.functorch = (functorch, vjp_fn)
        except Exception as e:  # pragma: no cover - depends on the install
            log(f"functorch unavailable ({e}); skipping that variant")

    def params(self, theta):
        out, o = {}, 0
        for name, shape, size in zip(self.names, self.shapes, self.sizes):
            out[name] = theta[o:o + size].view(shape)
            o += size
        return out

    def f(self, theta):
        return functional_call(self.model, self.params(theta), (self.x,))

    def hv_functional(self, v):
        """torch.autograd.functional: jvp (by the double-backward trick) then vjp."""
        _, u = torch.autograd.functional.jvp(self.f, self.theta, v)
        _, g = torch.autograd.functional.vjp(self.f, self.theta, u)
        return g * self.scale

    def hv_fwad(self, v):
        """Forward-mode AD for J v (dual numbers), then Jᵀ u on a graph built once at θ*."""
        with fwAD.dual_level():
            out = self.f(fwAD.make_dual(self.theta, v))
            u = fwAD.unpack_dual(out).tangent
        (g,) = torch.autograd.grad(self._out0, self._theta_req, grad_outputs=u, retain_graph=True)
        return g * self.scale

    def hv_functorch(self, v):
        """functorch.jvp (forward mode) then a vjp function built once at θ*."""
        functorch, vjp_fn = self.functorch
        _, u = functorch.jvp(self.f, (self.theta,), (v,))
        (g,) = vjp_fn(u)
        return g * self.scale

    def variants(self):
        out = {"autograd.functional": self.hv_functional, "fwAD+cached-vjp": self.hv_fwad}
        if self.functorch:
            out["functorch"] = self.hv_functorch
        return out


def np_matvec(fn):
    """float64 numpy → float32 torch → float64 numpy: the LinearOperator path (what eigsh sees)."""

    def mv(v):
        t = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).reshape(-1).astype(np.float32))
        return fn(t).detach().numpy().astype(np.float64)

    return mv


def time_calls(call, reps, warmup=2):
    for _ in range(warmup):
        call()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


GN_MODELS = {"modadd": "modadd", "mnist-mlp": "mnist-mlp"}
_ops = {}


def gn_operator(name):
    if name not in _ops:
        arch, model, meta, data = load_model(name)
        x, _ = train_data(arch, meta, data)
        _ops[name] = GnOperator(model, x)
    return _ops[name]


def task_gn(res):
    out = {}
    for name in GN_MODELS:
        t0 = time.perf_counter()
        op = gn_operator(name)
        build_ms = (time.perf_counter() - t0) * 1e3
        entry = {"d": op.d, "n": op.n, "buildMs": build_ms, "variants": {}}
        v = None
        if ARGS.exchange and os.path.exists(exchange_path(f"v_{name}.f64")):
            v = np.fromfile(exchange_path(f"v_{name}.f64"), dtype="<f8")
            if v.size != op.d:
                raise ValueError(f"v_{name}.f64 has {v.size} entries, the model has {op.d}")
        results = {}
        for vname, fn in op.variants().items():
            mv = np_matvec(fn)
            probe = v if v is not None else np.random.default_rng(ARGS.seed).standard_normal(op.d)
            ms = time_calls(lambda: mv(probe), ARGS.gn_reps)
            entry["variants"][vname] = timing(ms)
            results[vname] = mv(probe)
            log(f"gn {name} {vname}: median {median(ms):.1f} ms")
        # The variants must agree with each other (they compute the same float32 product).
        ref = results["fwAD+cached-vjp"]
        entry["variantAgreement"] = {k: float(np.linalg.norm(r - ref) / np.linalg.norm(ref)) for k, r in results.items()}
        best = min(entry["variants"], key=lambda k: entry["variants"][k]["medianMs"])
        entry["best"] = best
        entry["medianMs"] = entry["variants"][best]["medianMs"]
        if v is not None:
            results[best].astype("<f8").tofile(exchange_path(f"hv_{name}_peer.f64"))
            entry["hvFile"] = f"hv_{name}_peer.f64"
        out[name] = entry
    res["gn"] = out


def run_eigsh(op, mv, k, tol, seed):
    from scipy.sparse.linalg import LinearOperator, eigsh

    count = [0, 0.0]

    def counted(v):
        t = time.perf_counter()
        y = mv(v)
        count[0] += 1
        count[1] += time.perf_counter() - t
        return y

    A = LinearOperator((op.d, op.d), matvec=counted, dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(op.d)
    t0 = time.perf_counter()
    w, V = eigsh(A, k=k, which="LA", tol=tol, v0=v0)
    ms = (time.perf_counter() - t0) * 1e3
    order = np.argsort(w)[::-1]
    w, V = w[order], V[:, order]
    run_eigsh.product_ms = count[1] * 1e3
    return ms, count[0], w, V


def task_lanczos(res):
    op = gn_operator("modadd")
    variants = op.variants()
    if ARGS.product:
        if ARGS.product not in variants:
            raise SystemExit(f"peer.py: unknown --product {ARGS.product!r} (have: {', '.join(variants)})")
        best = ARGS.product
    elif "gn" in res:
        best = res["gn"]["modadd"]["best"]
    else:
        # Pick the fastest variant on a few products, as task_gn would.
        probe = torch.from_numpy(np.random.default_rng(1).standard_normal(op.d).astype(np.float32))
        speeds = {k: median(time_calls(lambda f=f: f(probe), 5, warmup=1)) for k, f in variants.items()}
        best = min(speeds, key=speeds.get)
    fn = variants[best]
    log(f"eigsh uses the {best} product")
    mv = np_matvec(fn)
    runs = []
    for r in range(ARGS.lanczos_reps):
        ms, mvs, w, V = run_eigsh(op, mv, ARGS.k, ARGS.tol, ARGS.seed + r)
        runs.append({"ms": ms, "matvecs": mvs, "productMs": run_eigsh.product_ms})
        log(f"eigsh k={ARGS.k} tol={ARGS.tol}: {ms / 1e3:.1f} s, {mvs} products")
    # Verified residuals ‖H v − θ v‖ of the last run (k more products, not timed).
    t0 = time.perf_counter()
    resid = np.array([np.linalg.norm(mv(V[:, i]) - w[i] * V[:, i]) for i in range(len(w))])
    verify_ms = (time.perf_counter() - t0) * 1e3
    entry = {
        "k": ARGS.k, "tol": ARGS.tol, "criterion": "ARPACK: ‖r_i‖ ≤ tol·|θ_i| per pair",
        "runs": runs, "medianMs": median([r["ms"] for r in runs]), "matvecs": runs[-1]["matvecs"], "productMs": runs[-1]["productMs"],
        "values": w.tolist(), "residuals": resid.tolist(), "maxResidualOverH1": float(resid.max() / w[0]),
        "verifyMs": verify_ms, "product": best,
    }
    extra = []
    for tol in [float(t) for t in ARGS.extra_tols.split(",") if t.strip()]:
        ms, mvs, w2, V2 = run_eigsh(op, mv, ARGS.k, tol, ARGS.seed)
        r2 = np.array([np.linalg.norm(mv(V2[:, i]) - w2[i] * V2[:, i]) for i in range(len(w2))])
        extra.append({"tol": tol, "ms": ms, "matvecs": mvs, "maxResidualOverH1": float(r2.max() / w2[0]),
                      "maxRelDiffTop20VsMain": float(np.max(np.abs(w2[:20] - w[:20]) / np.abs(w[:20])))})
        log(f"eigsh k={ARGS.k} tol={tol}: {ms / 1e3:.1f} s, {mvs} products, max residual/h1 {r2.max() / w2[0]:.2e}")
    entry["extraTols"] = extra
    res["lanczos"] = entry


def task_dense(res):
    A = np.fromfile(exchange_path("dense.f64"), dtype="<f8")
    n = int(round(math.sqrt(A.size)))
    A = A.reshape(n, n)
    holder = {}

    def run():
        holder["w"], holder["V"] = np.linalg.eigh(A)

    ms = time_calls(run, max(ARGS.reps, 5), warmup=1)
    w, V = holder["w"][::-1], holder["V"][:, ::-1]
    resid = np.linalg.norm(A @ V - V * w, axis=0)
    res["dense"] = {
        "n": n, **timing(ms), "values": w.tolist(),
        "maxResidualOverNorm": float(resid.max() / np.abs(w).max()),
        "orthogonality": float(np.abs(V.T @ V - np.eye(n)).max()),
        "lapack": "numpy.linalg.eigh (LAPACK dsyevd via " + _blas_name() + ")",
    }
    log(f"dense eigh {n}: median {median(ms):.1f} ms")


def _blas_name():
    """The BLAS/LAPACK the Debian alternatives point at (OpenBLAS when installed)."""
    for cand in ("/usr/lib/x86_64-linux-gnu/libblas.so.3", "/usr/lib/x86_64-linux-gnu/liblapack.so.3"):
        try:
            return os.path.realpath(cand)
        except OSError:
            continue
    return "system BLAS"


def task_matmul(res):
    n = 1024
    g = torch.Generator().manual_seed(ARGS.seed)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    ms = time_calls(lambda: torch.mm(a, b), max(ARGS.reps, 5))
    a64, b64 = a.double().numpy(), b.double().numpy()
    ms64 = time_calls(lambda: a64 @ b64, max(ARGS.reps, 5), warmup=1)
    flops = 2.0 * n ** 3
    res["matmul"] = {
        "n": n, "flops": flops,
        "torchF32": {**timing(ms), "gflops": flops / median(ms) / 1e6},
        "numpyF64": {**timing(ms64), "gflops": flops / median(ms64) / 1e6},
    }
    log(f"matmul {n}³: torch f32 {flops / median(ms) / 1e6:.1f} GFLOP/s, numpy f64 {flops / median(ms64) / 1e6:.1f} GFLOP/s")


# ------------------------------------------------------------------------------------------------
# Training steps and SGLD steps with the recipes of src/core/train/recipes.ts.

RECIPES = {
    "modadd": {"opt": "adamw", "lr": 0.01, "wd": 1.0, "batch": None},
    "modadd-gelu": {"opt": "adamw", "lr": 0.01, "wd": 1.0, "batch": None},
    "mnist-mlp": {"opt": "sgd", "lr": 0.1, "wd": 0.002, "momentum": 0.9, "batch": 32, "cosine": 8000},
    "matfac": {"opt": "adamw", "lr": 0.01, "wd": 0.0, "batch": None},
}


def loss_fn(arch):
    return F.mse_loss if arch == "matfac" else F.cross_entropy


class Batches:
    """Epochs of a seeded permutation (DataLoader(shuffle=True)); None = full batch."""

    def __init__(self, n, batch, seed):
        self.n, self.batch = n, batch
        self.g = torch.Generator().manual_seed(seed)
        self.order, self.cursor = None, n

    def next(self):
        if self.batch is None or self.batch >= self.n:
            return None
        if self.cursor + self.batch > self.n:
            self.order, self.cursor = torch.randperm(self.n, generator=self.g), 0
        rows = self.order[self.cursor:self.cursor + self.batch]
        self.cursor += self.batch
        return rows


def steps_per_second(step, min_block_s=0.6, blocks=5):
    """Median over `blocks` timed blocks of steps; a block runs at least min_block_s."""
    for _ in range(3):
        step()
    per, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_block_s:
        step()
        per += 1
    rates = []
    for _ in range(blocks):
        t0 = time.perf_counter()
        for _ in range(per):
            step()
        rates.append(per / (time.perf_counter() - t0))
    return {"median": median(rates), "min": min(rates), "max": max(rates), "stepsPerBlock": per, "blocks": blocks}


def task_train(res):
    out = {}
    for name, r in RECIPES.items():
        arch, model, meta, data = load_model(name)
        x, y = train_data(arch, meta, data)
        lf = loss_fn(arch)
        if r["opt"] == "adamw":
            opt = torch.optim.AdamW(model.parameters(), lr=r["lr"], weight_decay=r["wd"])
        else:
            opt = torch.optim.SGD(model.parameters(), lr=r["lr"], momentum=r["momentum"], weight_decay=r["wd"])
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=r["cosine"]) if r.get("cosine") else None
        batches = Batches(x.shape[0], r["batch"], ARGS.seed)

        def step():
            rows = batches.next()
            xb, yb = (x, y) if rows is None else (x[rows], y[rows])
            opt.zero_grad(set_to_none=True)
            loss = lf(model(xb), yb)
            loss.backward()
            opt.step()
            if sched:
                sched.step()

        out[name] = {**steps_per_second(step), "batch": r["batch"] or "full", "optimizer": r["opt"], "n": int(x.shape[0])}
        log(f"train {name}: {out[name]['median']:.1f} steps/s")
    res["train"] = out


def task_sgld(res):
    settings_path = exchange_path("sgld.json") if ARGS.exchange else None
    settings = json.load(open(settings_path)) if settings_path and os.path.exists(settings_path) else {}
    out = {}
    for name in ("modadd", "mnist-mlp"):
        s = settings.get(name)
        if not s:
            continue
        arch, model, meta, data = load_model(name)
        x, y = train_data(arch, meta, data)
        n = x.shape[0]
        lf = loss_fn(arch)
        params = list(model.parameters())
        w_star = [p.detach().clone() for p in params]
        eps, gamma, nbeta, batch = s["stepSize"], s["gamma"], s["nBeta"], s["batchSize"]
        batches = Batches(n, batch if batch < n else None, ARGS.seed)
        g = torch.Generator().manual_seed(ARGS.seed)
        sq = math.sqrt(eps)

        def step():
            rows = batches.next()
            xb, yb = (x, y) if rows is None else (x[rows], y[rows])
            loss = lf(model(xb), yb)
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for p, gr, ws in zip(params, grads, w_star):
                    drift = nbeta * gr + gamma * (p - ws)
                    p.add_(-0.5 * eps * drift + sq * torch.randn(p.shape, generator=g))
            return float(loss)  # the draw, read every step

        out[name] = {**steps_per_second(step), "batch": batch, "stepSize": eps, "gamma": gamma, "nBeta": nbeta}
        log(f"sgld {name}: {out[name]['median']:.1f} steps/s")
    res["sgld"] = out


TASKS = {"matmul": task_matmul, "gn": task_gn, "lanczos": task_lanczos, "dense": task_dense, "train": task_train, "sgld": task_sgld}


def main():
    import scipy

    res = {
        "python": sys.version.split()[0], "torch": torch.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
        "threads": ARGS.threads, "torchThreads": torch.get_num_threads(),
        "env": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_"))},
        "lapack": _blas_name(),
    }
    t0 = time.perf_counter()
    for t in [t.strip() for t in ARGS.tasks.split(",") if t.strip()]:
        if t not in TASKS:
            raise SystemExit(f"peer.py: unknown task {t!r} (known: {', '.join(TASKS)})")
        TASKS[t](res)
    res["totalMs"] = (time.perf_counter() - t0) * 1e3
    if ARGS.json:
        sys.stdout.write(json.dumps(res) + "\n")
    else:
        print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
