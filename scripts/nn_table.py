#!/usr/bin/env python3
"""Tables of experiment (e) from the run files of configs/nn/experiment_e.sh.

    nn_table.py DIR            grid table (seed 1) and the seeds at the chosen steps
    nn_table.py --best DIR M   the γ of method M (file prefix) with the lowest
                               final training loss at seed 1
    nn_table.py --csv DIR OUT  the seed means at the chosen steps as a CSV for
                               efmpi plot -table OUT -x mbits_per_worker -y test_accuracy -by method
Reads /eval (iteration, train_loss, test_loss, test_accuracy; train_accuracy is
NaN for networks) and takes grad_norm_sq (‖∇f‖² over the training set) and
bits_per_worker from the /trajectory row of the same iteration (eval_every is a
multiple of log_every, so every evaluation has one).
"""
import glob
import os
import re
import sys

import h5py
import numpy as np


def runs(d):
    out = {}
    for f in sorted(glob.glob(os.path.join(d, "*.h5"))):
        m = re.match(r"(.+)-g([0-9.]+)-s(\d+)\.h5$", os.path.basename(f))
        if not m:
            continue
        try:
            with h5py.File(f, "r") as h:
                if h.attrs.get("status") not in ("completed", b"completed") or "eval" not in h:
                    continue
                e = {k: h["eval"][k][:] for k in h["eval"]}
                tr = h["trajectory"]
                row = {int(it): j for j, it in enumerate(tr["iteration"][:])}
                at = [row[int(it)] for it in e["iteration"]]
                for k in ("grad_norm_sq", "bits_per_worker"):
                    e[k] = tr[k][:][at]
        except (OSError, KeyError):
            continue
        out[(m.group(1), m.group(2), int(m.group(3)))] = e
    return out


GRID = ("0.03", "0.1")  # the main grid; other steps at seed 1 are shown but not chosen


def best(d, name):
    r = runs(d)
    cands = [(e["train_loss"][-1], g) for (n, g, s), e in r.items()
             if n == name and s == 1 and g in GRID and np.isfinite(e["train_loss"][-1])]
    return min(cands)[1]


def write_csv(d, out):
    r = runs(d)
    with open(out, "w") as f:
        f.write("method,iteration,mbits_per_worker,test_accuracy,test_loss,train_loss,grad_norm_sq,seeds\n")
        for n in sorted({n for (n, _, _) in r}):
            g = best(d, n)
            es = [r[(n, g, s)] for s in (1, 2, 3) if (n, g, s) in r]
            mean = {k: np.mean([e[k] for e in es], axis=0) for k in ("test_accuracy", "test_loss", "train_loss", "grad_norm_sq")}
            for j, it in enumerate(es[0]["iteration"]):
                f.write(f"{n} g={g},{it},{es[0]['bits_per_worker'][j] / 1e6:.4f},{mean['test_accuracy'][j]:.6g},"
                        f"{mean['test_loss'][j]:.6g},{mean['train_loss'][j]:.6g},{mean['grad_norm_sq'][j]:.6g},{len(es)}\n")


def main():
    if sys.argv[1] == "--best":
        print(best(sys.argv[2], sys.argv[3]))
        return
    if sys.argv[1] == "--csv":
        write_csv(sys.argv[2], sys.argv[3])
        return
    d = sys.argv[1]
    r = runs(d)
    print("grid, seed 1: final values after the last iteration")
    print(f"{'method':16s} {'gamma':>6s} {'iters':>6s} {'Mbit/worker':>12s} {'train loss':>11s} {'|grad f|^2':>11s} {'test loss':>10s} {'test acc':>9s}")
    for (n, g, s), e in sorted(r.items()):
        if s != 1:
            continue
        print(f"{n:16s} {g:>6s} {e['iteration'][-1]:6d} {e['bits_per_worker'][-1] / 1e6:12.2f} {e['train_loss'][-1]:11.4f} "
              f"{e['grad_norm_sq'][-1]:11.4g} {e['test_loss'][-1]:10.4f} {e['test_accuracy'][-1]:9.4f}")
    print()
    print("chosen steps, seeds 1-3: test accuracy (mean ± sd) against bits per worker")
    names = sorted({n for (n, _, _) in r})
    for n in names:
        try:
            g = best(d, n)
        except ValueError:
            continue
        es = [r[(n, g, s)] for s in (1, 2, 3) if (n, g, s) in r]
        if not es:
            continue
        acc = np.array([e["test_accuracy"] for e in es])
        gn = np.array([e["grad_norm_sq"] for e in es])
        bits = es[0]["bits_per_worker"] / 1e6
        it = es[0]["iteration"]
        print(f"{n} (gamma = {g}, {len(es)} seeds)")
        print(f"  {'iter':>5s} {'Mbit':>7s} {'test acc':>16s} {'|grad f|^2':>20s}")
        for j in range(acc.shape[1]):
            print(f"  {it[j]:5d} {bits[j]:7.2f} {acc[:, j].mean():8.4f} ± {acc[:, j].std():.4f} {gn[:, j].mean():11.4g} ± {gn[:, j].std():.3g}")


if __name__ == "__main__":
    main()
