#!/usr/bin/env python3
"""Write a CIFAR-10 python-version folder (data_batch_1..5, test_batch) with
Python's own pickle, as the official cifar-10-batches-py holds it: a dict
with bytes keys, b'data' a numpy uint8 array of N x 3072 (R, G, B planes of
32 x 32) and b'labels' a list of ints.
    cifar_pickle.py DIR [IMAGES_PER_BATCH=2] [PROTOCOL=2]
Image r of batch b (b = 0..4 training, 5 test) has label (3b + r) mod 10 and
pixel j = (7r + 13b + j) mod 256, so a reader can be checked exactly
(datasets/cifar_py_test.go regenerates nothing: it reads the files committed
under datasets/testdata, written by this script)."""
import os
import pickle
import sys

import numpy as np

d = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2
proto = int(sys.argv[3]) if len(sys.argv) > 3 else 2
os.makedirs(d, exist_ok=True)
names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
for b, name in enumerate(names):
    labels = [(3 * b + r) % 10 for r in range(n)]
    data = np.array([[(7 * r + 13 * b + j) % 256 for j in range(3072)] for r in range(n)], dtype=np.uint8)
    obj = {b"batch_label": f"batch {b}".encode(), b"labels": labels, b"data": data,
           b"filenames": [f"img_{b}_{r}.png".encode() for r in range(n)]}
    with open(os.path.join(d, name), "wb") as f:
        pickle.dump(obj, f, protocol=proto)
