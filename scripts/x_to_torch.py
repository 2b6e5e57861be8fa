#!/usr/bin/env python3
"""Load an efmpi network run's parameter vector (/x_final, or /x_best, or a
checkpoint's x) into a PyTorch model and save or evaluate it.

    x_to_torch.py RUN.h5 [--dataset /x_final] [--save model.pt]
                  [--eval DIR] [--input unit|standardize] [--chunk 128]
                  [--bn batch|running] [--test-samples N]

The model is rebuilt from the file's root attributes (model, and for the mlp
the widths of its parameter count) and x is cut in PyTorch's parameters()
order, each tensor row-major as PyTorch stores it (README, "Layout of x"):
convolution weights [Cout, Cin, k, k] then bias (LeNet's convolutions; the
ResNet's have none), batch norm weight (γ) then bias (β), dense weight
[out, in] then bias. --save writes the model's state_dict (torch.save);
--eval scores the test images of DIR (CIFAR-10 binary/python or MNIST IDX,
read here with numpy) and prints "test_loss L test_accuracy A", in chunks of
--chunk images in file order, as efmpi's full pass. The file holds x only, not
the ranks' batch-norm running statistics: --bn batch (the default) normalises
each chunk with its own statistics (PyTorch's train mode under no_grad; the
same function as efmpi's [nn] bn_eval = "batch"); --bn running uses the
state_dict's running statistics, which this tool leaves at PyTorch's initial
values (mean 0, variance 1) unless you load your own.

Models are defined here after efmpi's nn/models.go: "resnet20" is He et al.'s
CIFAR ResNet-20 with option-A shortcuts (the module names of the authors'
resnet.py: conv1, bn1, layer1..3, linear), "lenet" LeNet-5 (conv1, conv2, fc1,
fc2, fc3), "mlp" dense layers fc0, fc1, ... with ReLU between them."""
import argparse
import gzip
import os
import pickle
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.pad = (cout - cin) // 2
        self.stride = stride

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x
        if self.stride != 1 or self.pad:  # option A: subsample, pad channels with zeros
            s = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(y + s)


class ResNet20(nn.Module):
    def __init__(self, cin=3, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, c = [], 16
        for ch in (16, 32, 64):
            blocks = []
            for b in range(3):
                blocks.append(Block(c, ch, 2 if (ch != 16 and b == 0) else 1))
                c = ch
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.linear(x.mean(dim=(2, 3)))


class LeNet(nn.Module):
    def __init__(self, cin=1, hw=28, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, 6, 5, 1, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        s = ((hw // 2) - 4) // 2
        self.fc1 = nn.Linear(16 * s * s, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc3(F.relu(self.fc2(x)))


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        for i in range(len(sizes) - 1):
            setattr(self, f"fc{i}", nn.Linear(sizes[i], sizes[i + 1]))
        self.n = len(sizes) - 1

    def forward(self, x):
        x = x.flatten(1)
        for i in range(self.n):
            x = getattr(self, f"fc{i}")(x)
            if i < self.n - 1:
                x = F.relu(x)
        return x


def mlp_widths(d, inp, classes):
    """The hidden widths of an mlp with d parameters: none, or one layer
    (d = (in+1)w + (w+1)c); deeper mlps need --widths."""
    if d == (inp + 1) * classes:
        return []
    w, r = divmod(d - classes, inp + 1 + classes)
    if r == 0 and w > 0:
        return [w]
    raise SystemExit(f"x_to_torch: cannot infer the mlp's widths from d = {d}: give --widths")


def build(model, d, shape, classes, widths):
    c, h, w = shape
    if model == "resnet20":
        return ResNet20(c, classes)
    if model == "lenet":
        return LeNet(c, h, classes)
    if model == "mlp":
        if widths is None:
            widths = mlp_widths(d, c * h * w, classes)
        return MLP([c * h * w] + widths + [classes])
    raise SystemExit(f"x_to_torch: unknown model {model!r}")


def load_x(model, x):
    """Copies x into model's parameters in parameters() order."""
    params = list(model.parameters())
    d = sum(p.numel() for p in params)
    if d != len(x):
        raise SystemExit(f"x_to_torch: x has {len(x)} values, the model {d}")
    off = 0
    with torch.no_grad():
        for p in params:
            n = p.numel()
            p.copy_(torch.from_numpy(np.asarray(x[off:off + n], dtype=np.float64)).view_as(p).to(p.dtype))
            off += n


def read_test(d):
    """The test images (uint8 N×C×H×W) and labels of an image folder."""
    if os.path.exists(os.path.join(d, "test_batch.bin")):
        raw = np.fromfile(os.path.join(d, "test_batch.bin"), dtype=np.uint8).reshape(-1, 3073)
        return raw[:, 1:].reshape(-1, 3, 32, 32), raw[:, 0].astype(np.int64)
    if os.path.exists(os.path.join(d, "test_batch")):
        with open(os.path.join(d, "test_batch"), "rb") as f:
            b = pickle.load(f, encoding="bytes")
        return np.asarray(b[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32), np.asarray(b[b"labels"], dtype=np.int64)

    def idx(name):
        for p in (os.path.join(d, name), os.path.join(d, name + ".gz")):
            if os.path.exists(p):
                data = (gzip.open if p.endswith(".gz") else open)(p, "rb").read()
                nd = data[3]
                dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
                return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)
        raise SystemExit(f"x_to_torch: no {name} in {d}")
    im = idx("t10k-images-idx3-ubyte")
    return im.reshape(im.shape[0], 1, im.shape[1], im.shape[2]), idx("t10k-labels-idx1-ubyte").astype(np.int64)


MEAN = {1: [0.1307], 3: [0.4914, 0.4822, 0.4465]}
STD = {1: [0.3081], 3: [0.2470, 0.2435, 0.2616]}


def evaluate(model, images, labels, inp, chunk, bn, dtype):
    x = torch.from_numpy(images.astype(np.float64) / 255).to(dtype)
    c = x.shape[1]
    if inp == "standardize":
        x = (x - torch.tensor(MEAN[c], dtype=dtype).view(1, c, 1, 1)) / torch.tensor(STD[c], dtype=dtype).view(1, c, 1, 1)
    y = torch.from_numpy(labels)
    model.train(bn == "batch")
    loss, correct = 0.0, 0
    with torch.no_grad():
        for lo in range(0, len(y), chunk):
            out = model(x[lo:lo + chunk])
            loss += F.cross_entropy(out, y[lo:lo + chunk], reduction="sum").item()
            correct += (out.argmax(1) == y[lo:lo + chunk]).sum().item()
    return loss / len(y), correct / len(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--dataset", default="/x_final")
    ap.add_argument("--save")
    ap.add_argument("--eval")
    ap.add_argument("--input", choices=["unit", "standardize"])
    ap.add_argument("--chunk", type=int)
    ap.add_argument("--bn", choices=["batch", "running"], default="batch")
    ap.add_argument("--test-samples", type=int, default=0)
    ap.add_argument("--widths", type=lambda s: [int(v) for v in s.split(",") if v])
    ap.add_argument("--float32", action="store_true", help="evaluate in float32 (default float64)")
    a = ap.parse_args()
    with h5py.File(a.run, "r") as f:
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
        x = f[a.dataset][()]
    model_name = attrs.get("model")
    if model_name is None:
        raise SystemExit(f"x_to_torch: {a.run} is not a network run (no model attribute)")
    inp = a.input or attrs.get("input", "standardize")
    chunk = a.chunk or int(attrs.get("chunk", 128))
    images = labels = None
    if a.eval:
        images, labels = read_test(a.eval)
        if a.test_samples > 0:
            images, labels = images[:a.test_samples], labels[:a.test_samples]
        shape = images.shape[1:]
    else:
        shape = {"resnet20": (3, 32, 32)}.get(model_name, (1, 28, 28))
    dtype = torch.float32 if a.float32 else torch.float64
    model = build(model_name, len(x), shape, 10, a.widths).to(dtype)
    load_x(model, x)
    if a.save:
        torch.save(model.state_dict(), a.save)
        print(f"wrote {a.save}: {model_name}, {len(x)} parameters")
    if a.eval:
        loss, acc = evaluate(model, images, labels, inp, chunk, a.bn, dtype)
        print(f"test_loss {loss:.17g} test_accuracy {acc:.17g}")


if __name__ == "__main__":
    sys.exit(main())
