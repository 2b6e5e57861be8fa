#!/usr/bin/env python3
"""Write a CIFAR-10-format directory of random images (data_batch_1..5.bin,
test_batch.bin), to time ResNet-20 where the real CIFAR-10 cannot be
downloaded:  fake_cifar.py DIR [RECORDS_PER_BATCH=128] [TEST_RECORDS=128]
Each record: a label byte (i mod 10) and 3072 pixel bytes (uniform)."""
import os
import random
import sys

d = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 128
nt = int(sys.argv[3]) if len(sys.argv) > 3 else 128
os.makedirs(d, exist_ok=True)
rnd = random.Random(0)
for name, count in [(f"data_batch_{i}.bin", n) for i in range(1, 6)] + [("test_batch.bin", nt)]:
    with open(os.path.join(d, name), "wb") as f:
        for r in range(count):
            f.write(bytes([r % 10]) + bytes(rnd.getrandbits(8) for _ in range(3072)))
