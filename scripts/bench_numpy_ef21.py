#!/usr/bin/env python3
"""EF21 with top-k in NumPy/SciPy, written the way the EF21 authors' experiment
code is (one sparse matrix per client, A_i.T @ (...) for the gradient, a Python
loop over the clients), for a side-by-side speed comparison with efmpi — and
an independent check of efmpi's arithmetic.

    /usr/bin/python3 scripts/bench_numpy_ef21.py RUN.h5 [--iters K]

RUN.h5 is a finished efmpi run of plain EF21 (normalize = false, top-k,
logistic regression with the nonconvex regulariser, contiguous split, the
initial g_i = ∇f_i(x^0)) with log_every = 1. The script reads the dataset path,
n, k, λ, γ, the shard sizes and x^0 from it, runs the same iterations, and
prints the time per iteration of both (efmpi's from /timing: the loop, without
setup) and the largest relative difference of ‖∇f(x^k)‖² and of x^K. Every
iteration records f and ‖∇f‖² (from the step's own gradients: the cheapest
honest way to log every iteration in NumPy).

Debian: apt-get install python3-numpy python3-scipy python3-h5py.
"""
import argparse
import os
import time

import h5py
import numpy as np
import scipy.sparse as sp


def read_libsvm(path):
    """LIBSVM text -> (CSR matrix, labels ±1): 1-based indices, the smaller
    of the two label values -> −1, the larger -> +1 (efmpi's label rule)."""
    rows, cols, vals, labels = [], [], [], []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            labels.append(float(line[0]))
            r = len(labels) - 1
            for tok in line[1:]:
                i, v = tok.split(":")
                rows.append(r)
                cols.append(int(i) - 1)
                vals.append(float(v))
    y = np.array(labels)
    lo, hi = np.unique(y)
    y = np.where(y == lo, -1.0, 1.0)
    a = sp.csr_matrix((vals, (rows, cols)), shape=(len(y), max(cols) + 1))
    return a, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--iters", type=int, default=0, help="iterations (default: the run's)")
    args = ap.parse_args()
    f = h5py.File(args.run, "r")
    at = f.attrs
    if at["method"] != "ef21" or int(at["normalize"]) != 0 or at["compressor"] != "top-k" or at["split"] != "contiguous":
        raise SystemExit("want a plain EF21 top-k run on a contiguous split")
    data = at["data_path_abs"] if "data_path_abs" in at else at["data_path"]
    n, k, lam, gamma = int(at["n_ranks"]), int(at["k"]), float(at["lambda"]), float(at["gamma"])
    sizes = f["ranks/shard_size"][:]
    x = f["x0"][:].astype(np.float64)
    gn_efmpi = f["trajectory/grad_norm_sq"][:]
    x_efmpi = f["x_final"][:]
    K = args.iters or int(at["iterations_done"])
    tm = f["timing"].attrs
    efmpi_ms = (tm["total_s"] - tm["setup_s"]) / int(at["iterations_done"]) * 1e3

    a, y = read_libsvm(data)
    d = len(x)
    if a.shape[1] < d:
        a = sp.csr_matrix((a.data, a.indices, a.indptr), shape=(a.shape[0], d))
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    A = [a[bounds[i]:bounds[i + 1]] for i in range(n)]
    AT = [ai.T.tocsr() for ai in A]
    Y = [y[bounds[i]:bounds[i + 1]] for i in range(n)]

    def grad(i, x):
        t = -Y[i] * (A[i] @ x)
        s = 1.0 / (1.0 + np.exp(-t))  # σ(t) = σ(−b aᵀx)
        loss = np.mean(np.logaddexp(0.0, t)) + lam * np.sum(x * x / (1 + x * x))
        g = AT[i] @ (-Y[i] * s) / len(Y[i]) + lam * 2 * x / (1 + x * x) ** 2
        return loss, g

    def topk(v):
        if k == 1:
            j = np.argmax(np.abs(v))  # first maximum: ties to the smaller index
            c = np.zeros_like(v)
            c[j] = v[j]
            return c
        idx = np.argsort(-np.abs(v), kind="stable")[:k]
        c = np.zeros_like(v)
        c[idx] = v[idx]
        return c

    gi = [grad(i, x)[1] for i in range(n)]
    g = np.mean(gi, axis=0)
    gn = np.empty(K + 1)
    gn[0] = np.sum(np.mean(gi, axis=0) ** 2)
    t0 = time.perf_counter()
    c0 = os.times()
    for it in range(K):
        x = x - gamma * g
        csum = np.zeros(d)
        full = np.zeros(d)
        fval = 0.0
        for i in range(n):
            li, gr = grad(i, x)
            c = topk(gr - gi[i])
            gi[i] += c
            csum += c
            full += gr
            fval += li
        g = g + csum / n
        gn[it + 1] = np.sum((full / n) ** 2)
    wall = time.perf_counter() - t0
    c1 = os.times()
    cpu = (c1.user - c0.user) + (c1.system - c0.system)
    m = min(len(gn), len(gn_efmpi))
    rel_gn = np.max(np.abs(gn[:m] - gn_efmpi[:m]) / np.maximum(np.abs(gn_efmpi[:m]), 1e-300))
    rel_x = np.max(np.abs(x - x_efmpi)) / np.max(np.abs(x_efmpi)) if K == int(at["iterations_done"]) else float("nan")
    print(f"numpy: {wall / K * 1e3:.3f} ms/iteration wall, {cpu / K * 1e3:.3f} ms CPU ({K} iterations, n = {n}, k = {k})")
    print(f"efmpi: {efmpi_ms:.3f} ms/iteration wall (the run file's loop time)")
    print(f"ratio numpy/efmpi: {wall / K * 1e3 / efmpi_ms:.1f}x")
    print(f"max relative difference: ||grad f||^2 {rel_gn:.2e} over {m} rows, x_final {rel_x:.2e}")


if __name__ == "__main__":
    main()
