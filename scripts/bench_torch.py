#!/usr/bin/env python3
"""Forward+backward throughput of PyTorch on CPU for the models of efmpi's nn
package (same layers, same batch of 128, float64 like efmpi and float32 as
PyTorch's default), to compare with `go test -bench . ./nn`. Reports images per second of wall
time and per second of the process's CPU time (robust when other jobs share
the cores).

    /usr/bin/python3 scripts/bench_torch.py [--threads 2] [--iters 20] [--models mlp,lenet,resnet20] [--quiet]

Set OMP_NUM_THREADS and MKL_NUM_THREADS to the same count (scripts/bench_nn.py
does) so that no BLAS/OpenMP pool beyond --threads runs.

Debian: apt-get install python3-torch (1.13, CPU). Prints images/s per model.
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f1 = nn.Linear(400, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = x.flatten(1)
        return self.f3(F.relu(self.f2(F.relu(self.f1(x)))))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.pad = (cout - cin) // 2
        self.sub = stride != 1 or cin != cout

    def forward(self, x):
        out = F.relu(self.b1(self.c1(x)))
        out = self.b2(self.c2(out))
        sc = x
        if self.sub:  # option A, as the authors' code
            sc = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + sc)


class ResNet20(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.b = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for stage, ch in enumerate([16, 32, 64]):
            for i in range(3):
                layers.append(Block(cin, ch, 2 if stage > 0 and i == 0 else 1))
                cin = ch
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.layers(F.relu(self.b(self.c(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def bench(name, model, shape, iters, dtype, warm=3, quiet=False):
    model = model.to(dtype)
    x = torch.randn(128, *shape, dtype=dtype)
    y = torch.randint(0, 10, (128,))
    params = sum(p.numel() for p in model.parameters())
    for _ in range(warm):  # warm-up
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()
    t, c = time.perf_counter(), time.process_time()
    for _ in range(iters):
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()
    dt, dc = time.perf_counter() - t, time.process_time() - c
    if quiet:  # one line for scripts/bench_nn.py
        print(f"RESULT {name} {dtype} {128 * iters / dt:.3f} {128 * iters / dc:.3f}")
        return
    print(f"{name:9s} {str(dtype):14s} d={params:7d}  {128 * iters / dt:9.1f} images/s  {128 * iters / dc:9.1f} images/cpu-s  ({dt / iters * 1e3:.1f} ms per batch of 128)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--dtypes", default="float64,float32", help="comma-separated: float64, float32")
    ap.add_argument("--models", default="mlp,lenet,resnet20", help="comma-separated: mlp, lenet, resnet20")
    ap.add_argument("--quiet", action="store_true", help="one RESULT line per model: name dtype images/s images/cpu-s")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    if not a.quiet:
        print(f"torch {torch.__version__}, {a.threads} threads")
    models = {"mlp": (mlp, (1, 28, 28), 1), "lenet": (LeNet, (1, 28, 28), 1), "resnet20": (ResNet20, (3, 32, 32), 5)}
    for dtype in [getattr(torch, t) for t in a.dtypes.split(",")]:
        for name in a.models.split(","):
            make, shape, div = models[name]
            bench(name, make(), shape, max(2, a.iters // div), dtype, warm=1 if div > 1 else 3, quiet=a.quiet)


if __name__ == "__main__":
    main()
