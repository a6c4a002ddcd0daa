#!/usr/bin/env python3
"""LAPACK peer of `npm run bench:eigh` (bench/eigh.ts): numpy.linalg.eigh (dsyevd) on ONE thread.

Reads commands from stdin, one per line: "<path to little-endian float64 n×n file> <n>". For each it
times one numpy.linalg.eigh (eigenvalues and eigenvectors) and prints one JSON line
{"ms", "values" (descending), "maxResidualOverNorm", "orthogonality"}. The TS side alternates its own
solve with these, so both run under the same machine load. Needs only numpy.
"""
import json
import os
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402


def blas():
    try:
        import threadpoolctl
        info = threadpoolctl.threadpool_info()
        return ", ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} ×{i.get('num_threads')}" for i in info)
    except Exception:
        return os.path.realpath("/usr/lib/x86_64-linux-gnu/liblapack.so.3")


print(json.dumps({"ready": True, "numpy": np.__version__, "lapack": blas(),
                  "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}), flush=True)
for line in sys.stdin:
    path, n = line.split()
    n = int(n)
    A = np.fromfile(path, dtype="<f8").reshape(n, n)
    t = time.perf_counter()
    w, V = np.linalg.eigh(A)
    ms = (time.perf_counter() - t) * 1e3
    # Descending, and contiguous: a negative-stride view makes A @ V skip BLAS (minutes at 2000).
    w, V = w[::-1].copy(), np.ascontiguousarray(V[:, ::-1])
    resid = np.abs(A @ V - V * w).max()
    print(json.dumps({"ms": ms, "values": w.tolist(), "maxResidualOverNorm": float(resid / np.abs(w).max()),
                      "orthogonality": float(np.abs(V.T @ V - np.eye(n)).max())}), flush=True)
