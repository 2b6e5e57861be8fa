#!/usr/bin/env python3
"""Experiment (g) of issue 24: rates and costs from the runs of g_run.sh.

For each dataset and method: min_{t<=T} ||grad f(x^t)|| over the recorded rows
with iteration <= T, for T in {1e3, 3e3, 1e4, 3e4, 1e5} (those within the run),
the mean over seeds of its logarithm, and the least-squares slope of
log10(min) against log10(T) (its negative is the measured rate exponent);
then the bits per worker and gradient evaluations per worker at the first
recorded row with ||grad f|| <= target (median over seeds; '-' if a seed
never reaches it). Usage: g_analyse.py DIR [target_a1a target_mushrooms]
"""
import glob
import math
import os
import sys

import h5py
import numpy as np

METHODS = ["ef21-sgdm", "ef21-sgdm-q23", "ef21-igt", "ef21-storm", "ef21-hm", "ef21-rhm", "econtrol"]
THEORY = {"ef21-sgdm": "1/4", "ef21-sgdm-q23": "-", "ef21-igt": "2/7", "ef21-storm": "1/3", "ef21-hm": "1/3", "ef21-rhm": "1/3", "econtrol": "-"}
TS = [1000, 3000, 10000, 30000, 100000]


def load(path):
    with h5py.File(path, "r") as f:
        t = f["trajectory"]
        return (t["iteration"][:], np.sqrt(t["grad_norm_sq"][:]), t["bits_per_worker"][:],
                t["grad_evals"][:], f.attrs["status"])


def main():
    d = sys.argv[1]
    targets = {"a1a": 0.01, "mushrooms": 0.01}
    if len(sys.argv) == 4:
        targets = {"a1a": float(sys.argv[2]), "mushrooms": float(sys.argv[3])}
    for ds in ["a1a", "mushrooms"]:
        print(f"\n### {ds}: min_(t<=T) ||grad f(x^t)||, mean of log10 over seeds (10^value shown)\n")
        rows, cost = [], []
        for m in METHODS:
            files = sorted(glob.glob(os.path.join(d, f"{ds}_{m}_s*.h5")))
            if not files:
                continue
            runs = [load(p) for p in files]
            tmax = min(int(r[0][-1]) for r in runs)
            ts = [T for T in TS if T <= tmax]
            logs = []
            for T in ts:
                vals = []
                for it, g, _, _, _ in runs:
                    sel = g[it <= T]
                    sel = sel[np.isfinite(sel)]
                    vals.append(math.log10(sel.min()))
                logs.append(np.mean(vals))
            slope = np.polyfit(np.log10(ts), logs, 1)[0] if len(ts) > 1 else float("nan")
            # the slope over the last decade only (T >= 1e4), where transients have passed
            late = [(T, l) for T, l in zip(ts, logs) if T >= 10000]
            lslope = np.polyfit(np.log10([a for a, _ in late]), [b for _, b in late], 1)[0] if len(late) > 1 else float("nan")
            statuses = ",".join(sorted(set(str(r[4]) for r in runs)))
            rows.append((m, ts, logs, slope, lslope, len(runs), statuses, tmax))
            bits, evals = [], []
            for it, g, b, e, _ in runs:
                hit = np.nonzero(g <= targets[ds])[0]
                if len(hit):
                    bits.append(b[hit[0]]), evals.append(e[hit[0]])
            reach = f"{len(bits)}/{len(runs)}"
            cost.append((m, reach, np.median(bits) if len(bits) == len(runs) else None,
                         np.median(evals) if len(evals) == len(runs) else None))
        hdr = "| method | " + " | ".join(f"T={T:g}" for T in TS) + " | slope (all T) | slope (T ≥ 10⁴) | theory | seeds | status |"
        print(hdr)
        print("|" + "---|" * (hdr.count("|") - 1))
        for m, ts, logs, slope, lslope, n, st, tmax in rows:
            cells = [f"{10**logs[ts.index(T)]:.4g}" if T in ts else "" for T in TS]
            print(f"| {m} | " + " | ".join(cells) + f" | {slope:.3f} | {lslope:.3f} | −{THEORY[m]} | {n} | {st} |")
        print(f"\n{ds}: to ||grad f|| <= {targets[ds]} (median over seeds)\n")
        print("| method | seeds reaching | bits per worker | gradient evaluations per worker |")
        print("|---|---|---|---|")
        for m, reach, b, e in cost:
            bs = f"{b:.4g}" if b is not None else "-"
            es = f"{e:.4g}" if e is not None else "-"
            print(f"| {m} | {reach} | {bs} | {es} |")


if __name__ == "__main__":
    main()
