#!/usr/bin/env python3
"""PyTorch's ResNet-20 (scripts/bench_torch.py, the authors' architecture) in
float64 on weights and batches written by efmpi's nn tests, for
nn/torch_test.go:

    torch_check.py IN OUT

IN (little-endian): int64 batches, batch, C, H, W, d; d float64 parameters in
efmpi's order (which is PyTorch's registration order: conv weight, then batch
norm weight and bias, …, fc weight, fc bias); then per batch batch·C·H·W
float64 images (NCHW) and batch int64 labels.
OUT: per batch, in training mode (batch statistics; running statistics
updated, momentum 0.1), the mean cross-entropy and its gradient (d values);
then the running statistics (per batch norm in order: means, then
variances); then, in eval mode on the first batch, the loss and gradient.
"""
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torch import ResNet20  # noqa: E402


def main():
    src, dst = sys.argv[1], sys.argv[2]
    raw = open(src, "rb").read()
    nbatches, nb, c, h, w, d = struct.unpack_from("<6q", raw, 0)
    off = 48
    x = np.frombuffer(raw, "<f8", d, off)
    off += 8 * d
    batches = []
    for _ in range(nbatches):
        im = np.frombuffer(raw, "<f8", nb * c * h * w, off).reshape(nb, c, h, w)
        off += 8 * im.size
        lab = np.frombuffer(raw, "<i8", nb, off)
        off += 8 * nb
        batches.append((torch.from_numpy(im.copy()), torch.from_numpy(lab.copy())))
    model = ResNet20().double()
    params = list(model.parameters())
    if sum(p.numel() for p in params) != d:
        sys.exit(f"torch_check: {sum(p.numel() for p in params)} parameters, efmpi has {d}")
    o = 0
    with torch.no_grad():
        for p in params:
            p.copy_(torch.from_numpy(x[o:o + p.numel()].copy()).view_as(p))
            o += p.numel()
    out = []

    def step(xb, yb):
        model.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        out.append(np.array([loss.item()]))
        out.append(np.concatenate([p.grad.detach().numpy().ravel() for p in params]))

    model.train()
    for xb, yb in batches:
        step(xb, yb)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            out.append(m.running_mean.numpy().copy())
            out.append(m.running_var.numpy().copy())
    model.eval()
    step(*batches[0])
    np.concatenate(out).astype("<f8").tofile(dst)


if __name__ == "__main__":
    main()
