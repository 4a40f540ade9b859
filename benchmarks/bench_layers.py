"""Time the reference NumPy layers against PyTorch on real network layer shapes.

Run from anywhere:

    python benchmarks/bench_layers.py [--reps R] [--quick]

For each layer shape (taken from LeNet-5, VGG-16 and ResNet), it times one
forward plus one backward pass of the reference solution (``solutions/``) and
of torch (float64, CPU, backward through autograd), and prints a table of the
best time of each over ``R`` repetitions and their ratio (ours / torch), then
the geometric mean of the ratios per operation. A ratio below 1 means the
reference is faster.

This is a script, not a test: timings depend on the machine, its BLAS and its
load. The two libraries each keep a pool of worker threads that spin for a
while after a call; to keep one from slowing the other down, each side runs all
of its repetitions in a row, after a short pause.
"""

import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "solutions"))

import batchnorm  # noqa: E402
import conv  # noqa: E402
import pooling  # noqa: E402

# (label, N, C, H, W, F, kernel, stride, padding)
CONV_CASES = [
    ("LeNet conv1 6@5x5", 64, 1, 32, 32, 6, 5, 1, 0),
    ("LeNet conv2 16@5x5", 64, 6, 14, 14, 16, 5, 1, 0),
    ("VGG conv1_2 64@3x3", 8, 64, 56, 56, 64, 3, 1, 1),
    ("VGG conv3_2 256@3x3", 8, 256, 28, 28, 256, 3, 1, 1),
    ("ResNet stem 64@7x7/2", 4, 3, 112, 112, 64, 7, 2, 3),
    ("ResNet layer1 64@3x3", 8, 64, 56, 56, 64, 3, 1, 1),
    ("ResNet bottleneck 1x1 reduce", 8, 256, 56, 56, 64, 1, 1, 0),
    ("ResNet bottleneck 1x1 expand", 8, 64, 56, 56, 256, 1, 1, 0),
    ("ResNet layer2 128@3x3/2", 8, 128, 56, 56, 128, 3, 2, 1),
    ("ResNet layer4 512@3x3", 8, 512, 7, 7, 512, 3, 1, 1),
]

# (label, N, C, H, W, kernel, stride, padding)
POOL_CASES = [
    ("LeNet pool1 2/2", 64, 6, 28, 28, 2, 2, 0),
    ("VGG pool1 2/2", 8, 64, 224, 224, 2, 2, 0),
    ("VGG pool3 2/2", 8, 256, 56, 56, 2, 2, 0),
    ("ResNet stem pool 3/2 pad 1", 8, 64, 112, 112, 3, 2, 1),
    ("AlexNet pool 3/2", 8, 96, 55, 55, 3, 2, 0),
]

# (label, N, C, H, W)
BN_CASES = [
    ("ResNet bn1", 8, 64, 112, 112),
    ("ResNet layer1 bn", 8, 64, 56, 56),
    ("ResNet layer1 bn3", 8, 256, 56, 56),
    ("ResNet layer3 bn", 8, 256, 14, 14),
    ("ResNet layer4 bn", 8, 512, 7, 7),
]


def best_time(fn, reps):
    """Best wall time of ``fn()`` over ``reps`` calls, after one warm-up call."""
    fn()
    best = math.inf
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def compare(ours, theirs, reps, pause=0.15):
    """(our best time, torch's best time), each side run as one block after a pause."""
    time.sleep(pause)
    t_ours = best_time(ours, reps)
    time.sleep(pause)
    t_torch = best_time(theirs, reps)
    return t_ours, t_torch


def conv_pair(rng, N, C, H, W, Fo, k, s, p):
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((Fo, C, k, k)) / math.sqrt(C * k * k)
    b = rng.standard_normal(Fo)
    out_shape = (N, Fo, (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1)
    dout = rng.standard_normal(out_shape)

    def ours():
        out, cache = conv.conv2d_forward(x, w, b, s, p)
        conv.conv2d_backward(dout, cache)

    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tdout = torch.tensor(dout)

    def theirs():
        tx.grad = tw.grad = tb.grad = None
        F.conv2d(tx, tw, tb, s, p).backward(tdout)

    return ours, theirs


def pool_pair(rng, N, C, H, W, k, s, p):
    x = rng.standard_normal((N, C, H, W))
    dout = rng.standard_normal((N, C, (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1))

    def ours():
        out, cache = pooling.max_pool2d_forward(x, k, s, p)
        pooling.max_pool2d_backward(dout, cache)

    tx = torch.tensor(x, requires_grad=True)
    tdout = torch.tensor(dout)

    def theirs():
        tx.grad = None
        F.max_pool2d(tx, k, s, p).backward(tdout)

    return ours, theirs


def bn_pair(rng, N, C, H, W):
    x = rng.standard_normal((N, C, H, W)) * 2 + 1
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    rm, rv = np.zeros(C), np.ones(C)
    dout = rng.standard_normal((N, C, H, W))

    def ours():
        out, cache = batchnorm.spatial_batchnorm_forward(x, gamma, beta, rm, rv, training=True)
        batchnorm.spatial_batchnorm_backward(dout, cache)

    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    trm, trv = torch.zeros(C, dtype=torch.float64), torch.ones(C, dtype=torch.float64)
    tdout = torch.tensor(dout)

    def theirs():
        tx.grad = tg.grad = tb.grad = None
        F.batch_norm(tx, trm, trv, tg, tb, training=True).backward(tdout)

    return ours, theirs


def run(title, cases, make_pair, reps, rng):
    print(f"\n{title}")
    header = f"{'layer':30s} {'shape':40s} {'ours ms':>9s} {'torch ms':>9s} {'ratio':>6s}"
    print(header)
    print("-" * len(header))
    ratios = []
    for label, *shape in cases:
        ours, theirs = make_pair(rng, *shape)
        t_ours, t_torch = compare(ours, theirs, reps)
        ratio = t_ours / t_torch
        ratios.append(ratio)
        print(f"{label:30s} {str(tuple(shape)):40s} {t_ours * 1e3:9.1f} "
              f"{t_torch * 1e3:9.1f} {ratio:6.2f}", flush=True)
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print(f"{'geometric mean ratio':71s} {geo:6.2f}")
    return geo


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="timed repetitions per side (default 3)")
    parser.add_argument("--quick", action="store_true", help="one repetition, for a smoke test")
    args = parser.parse_args()
    reps = 1 if args.quick else args.reps

    print(f"numpy {np.__version__}, torch {torch.__version__}, "
          f"torch threads {torch.get_num_threads()}, cpus {os.cpu_count()}, float64; "
          f"times are forward + backward, best of {reps}")
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    geos = {
        "conv2d": run("conv2d forward + backward (shape: N, C, H, W, F, kernel, stride, padding)",
                      CONV_CASES, conv_pair, reps, rng),
        "max_pool2d": run("max_pool2d forward + backward (shape: N, C, H, W, kernel, stride, padding)",
                          POOL_CASES, pool_pair, reps, rng),
        "spatial batchnorm": run("spatial batchnorm forward + backward, training (shape: N, C, H, W)",
                                 BN_CASES, bn_pair, reps, rng),
    }
    print("\ngeometric mean ratio (ours / torch) per op: "
          + ", ".join(f"{op} {g:.2f}" for op, g in geos.items()))
    print(f"total time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
