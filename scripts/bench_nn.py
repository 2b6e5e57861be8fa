#!/usr/bin/env python3
"""make bench-nn: efmpi's networks in float32 against PyTorch float32, side by
side, forward+backward at batch 128, on 1 and 2 threads.

    scripts/bench_nn.py [--rounds 3] [--threads 1,2] [--models mlp,lenet,resnet20]

For every thread count and model it alternates, ROUNDS times, one efmpi
benchmark (go test -bench of nn's Benchmark<Model>/float32/threads=T, in a
test binary built once) and one PyTorch run (scripts/bench_torch.py, with
torch.set_num_threads(T), OMP_NUM_THREADS=MKL_NUM_THREADS=T, one inter-op
thread), and prints the medians in images per CPU-second and per
wall-second with the ratio efmpi : PyTorch, then efmpi's speed-up of 2
threads over 1 (wall). Without python3-torch it prints efmpi's numbers only.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GO_NAME = {"mlp": "MLP", "lenet": "LeNet", "resnet20": "ResNet20"}


def go_bench(binary, model, threads, n):
    out = subprocess.run([binary, "-test.run", "^$", "-test.bench", f"^Benchmark{GO_NAME[model]}$/^float32$/^threads={threads}$",
                          "-test.benchtime", f"{n}x"], capture_output=True, text=True, cwd=os.path.join(ROOT, "nn"))
    m = re.search(r"([\d.]+) images/cpu-s\s+([\d.]+) images/s", out.stdout)
    if not m:
        sys.exit(f"bench_nn: no result from the Go benchmark:\n{out.stdout}{out.stderr}")
    return float(m.group(2)), float(m.group(1))


def torch_bench(model, threads, iters):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "bench_torch.py"), "--threads", str(threads),
                          "--dtypes", "float32", "--models", model, "--iters", str(iters), "--quiet"],
                         capture_output=True, text=True, env=env)
    m = re.search(r"RESULT \S+ \S+ ([\d.]+) ([\d.]+)", out.stdout)
    if not m:
        sys.exit(f"bench_nn: no result from PyTorch:\n{out.stdout}{out.stderr}")
    return float(m.group(1)), float(m.group(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--models", default="mlp,lenet,resnet20")
    a = ap.parse_args()
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
        print("bench_nn: python3-torch is not installed (apt-get install python3-torch): efmpi only")
    with tempfile.TemporaryDirectory() as tmp:
        binary = os.path.join(tmp, "nn.test")
        subprocess.run([os.environ.get("GO", "go"), "test", "-c", "-o", binary, "./nn"], check=True, cwd=ROOT)
        res = {}
        for t in [int(v) for v in a.threads.split(",")]:
            for model in a.models.split(","):
                n = {"mlp": 40, "lenet": 10, "resnet20": 3}[model]
                e, p = [], []
                for _ in range(a.rounds):
                    e.append(go_bench(binary, model, t, n))
                    if have_torch:
                        p.append(torch_bench(model, t, {"mlp": 40, "lenet": 10, "resnet20": 15}[model]))
                med = lambda v, i: statistics.median(x[i] for x in v) if v else float("nan")
                res[(model, t)] = (med(e, 0), med(e, 1), med(p, 0), med(p, 1))
                w, c, pw, pc = res[(model, t)]
                print(f"{model:9s} {t} thr  efmpi {c:9.1f} img/cpu-s {w:9.1f} img/s   "
                      f"torch {pc:9.1f} img/cpu-s {pw:9.1f} img/s   ratio {c / pc:5.2f}× cpu {w / pw:5.2f}× wall", flush=True)
    print(f"\nmedians of {a.rounds} alternating rounds, float32, batch 128, forward+backward")
    print("| model | threads | efmpi img/cpu-s | PyTorch img/cpu-s | ratio | efmpi img/s | PyTorch img/s | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for (model, t), (w, c, pw, pc) in res.items():
        print(f"| {model} | {t} | {c:.0f} | {pc:.0f} | {c / pc:.2f}× | {w:.0f} | {pw:.0f} | {w / pw:.2f}× |")
    for model in a.models.split(","):
        if (model, 1) in res and (model, 2) in res:
            print(f"{model}: 2 threads / 1 thread (wall) efmpi {res[(model, 2)][0] / res[(model, 1)][0]:.2f}×, "
                  f"PyTorch {res[(model, 2)][2] / res[(model, 1)][2]:.2f}×")


if __name__ == "__main__":
    main()
