"""Time the reference NumPy layers against PyTorch on real network layer shapes.

Run from anywhere:

    python benchmarks/bench_layers.py [--reps R] [--threads T] [--quick] [--default-malloc]

For each layer shape (taken from LeNet-5, VGG-16 and ResNet), it times one
forward plus one backward pass of the reference solution (``solutions/``) and
of torch (float64, CPU, backward through autograd), in the same process, and
prints the best wall time and the best CPU time (``time.process_time``: every
thread of the process) of each over ``R`` repetitions, their ratios (ours /
torch), then the geometric mean of the ratios per operation. A ratio below 1
means the reference is faster.

``--threads`` (default 1, as the grader runs student code) is given to torch
and, through ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` set before NumPy is
imported, to NumPy's BLAS. NumPy's element-wise operations use one thread
whatever the setting, so with two threads the CPU ratio is the fairer one.

This is a script, not a test: timings depend on the machine, its BLAS and its
load. The two libraries each keep a pool of worker threads that spin for a
while after a call; to keep one from slowing the other down, each side runs all
of its repetitions in a row, after a short pause.

The heap is kept warm by default, for both sides alike. A forward plus backward
pass on the large shapes allocates tens of MB; glibc's default allocator hands
such blocks back to the system on every free and maps fresh pages on the next
call, so each call pays for zeroing and faulting in every page, and on those
shapes the figures measured the page faults rather than the code (torch's
BatchNorm on ResNet's bn1: about 105 ms with the default allocator, 29 ms with a
warm heap). So the script re-executes itself once with ``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_TRIM_THRESHOLD_`` and ``MALLOC_TOP_PAD_`` set (see ``WARM_HEAP``; any of
them already set in the environment is kept as it is), and says so in its first
line. ``--default-malloc`` keeps the default allocator instead. The variables
are glibc's; elsewhere they are ignored.
"""

import argparse
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOLUTIONS = os.path.join(os.path.dirname(HERE), "solutions")

# glibc's tunables: serve large blocks from the heap rather than mmap, never give freed memory back
# to the system, and grow the heap 200 MB at a time.
WARM_HEAP = {
    "MALLOC_MMAP_THRESHOLD_": "2000000000",
    "MALLOC_TRIM_THRESHOLD_": "4000000000",
    "MALLOC_TOP_PAD_": "200000000",
}

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


def best_times(fn, reps):
    """(best wall time, best CPU time) of ``fn()`` over ``reps`` calls, after one warm-up call."""
    fn()
    wall = cpu = math.inf
    for _ in range(reps):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu = min(cpu, time.process_time() - start_cpu)
        wall = min(wall, time.perf_counter() - start)
    return wall, cpu


def compare(ours, theirs, reps, pause=0.15):
    """((wall, cpu) of ours, (wall, cpu) of torch), each side run as one block after a pause."""
    time.sleep(pause)
    t_ours = best_times(ours, reps)
    time.sleep(pause)
    t_torch = best_times(theirs, reps)
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


def pool_pair(rng, N, C, H, W, k, s, p, kind="max"):
    x = rng.standard_normal((N, C, H, W))
    dout = rng.standard_normal((N, C, (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1))
    forward = getattr(pooling, f"{kind}_pool2d_forward")
    backward = getattr(pooling, f"{kind}_pool2d_backward")
    torch_pool = getattr(F, f"{kind}_pool2d")

    def ours():
        out, cache = forward(x, k, s, p)
        backward(dout, cache)

    tx = torch.tensor(x, requires_grad=True)
    tdout = torch.tensor(dout)

    def theirs():
        tx.grad = None
        torch_pool(tx, k, s, p).backward(tdout)

    return ours, theirs


def avg_pool_pair(rng, *shape):
    return pool_pair(rng, *shape, kind="avg")


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


def geometric_mean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def run(title, cases, make_pair, reps, rng):
    """Print one table; return the geometric means of the (wall, CPU) ratios."""
    print(f"\n{title}")
    header = (f"{'layer':30s} {'shape':32s} {'ours ms':>8s} {'torch ms':>8s} {'wall':>5s}"
              f" {'ours cpu':>8s} {'torch cpu':>9s} {'cpu':>5s}")
    print(header)
    print("-" * len(header))
    walls, cpus = [], []
    for label, *shape in cases:
        ours, theirs = make_pair(rng, *shape)
        (wall, cpu), (torch_wall, torch_cpu) = compare(ours, theirs, reps)
        walls.append(wall / torch_wall)
        cpus.append(cpu / torch_cpu)
        print(f"{label:30s} {str(tuple(shape)):32s} {wall * 1e3:8.1f} {torch_wall * 1e3:8.1f} "
              f"{walls[-1]:5.2f} {cpu * 1e3:8.1f} {torch_cpu * 1e3:9.1f} {cpus[-1]:5.2f}", flush=True)
    geo = geometric_mean(walls), geometric_mean(cpus)
    print(f"{'geometric mean ratio':82s} {geo[0]:5.2f}{'':19s}{geo[1]:5.2f}")
    print(f"{'largest ratio':82s} {max(walls):5.2f}{'':19s}{max(cpus):5.2f}")
    return geo


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="timed repetitions per side (default 3)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for torch and NumPy's BLAS (default 1, as the grader runs student code)")
    parser.add_argument("--quick", action="store_true",
                        help="one repetition of each op's smallest shape, for a smoke test")
    parser.add_argument("--default-malloc", action="store_true",
                        help="keep the default allocator rather than re-executing with a warm heap")
    args = parser.parse_args()
    if not args.default_malloc and any(var not in os.environ for var in WARM_HEAP):
        # The allocator reads these variables when the process starts, so only a new process obeys them.
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]],
                  {**WARM_HEAP, **os.environ})
    reps = 1 if args.quick else args.reps

    def cases(table):
        return [min(table, key=lambda case: math.prod(case[1:]))] if args.quick else table

    # BLAS reads its thread count when NumPy is first imported.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    global np, torch, F, batchnorm, conv, pooling
    import numpy as np
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    sys.path.insert(0, SOLUTIONS)
    import batchnorm
    import conv
    import pooling

    print(f"numpy {np.__version__}, torch {torch.__version__}, "
          f"torch threads {torch.get_num_threads()}, cpus {os.cpu_count()}, float64; "
          f"times are forward + backward, best of {reps}")
    malloc = " ".join(f"{var}={os.environ[var]}" for var in WARM_HEAP if var in os.environ)
    print(f"allocator: heap kept warm for both sides ({malloc})" if malloc else
          "allocator: the default (--default-malloc): large blocks are mapped afresh on every call")
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    geos = {
        "conv2d": run("conv2d forward + backward (shape: N, C, H, W, F, kernel, stride, padding)",
                      cases(CONV_CASES), conv_pair, reps, rng),
        "max_pool2d": run("max_pool2d forward + backward (shape: N, C, H, W, kernel, stride, padding)",
                          cases(POOL_CASES), pool_pair, reps, rng),
        "avg_pool2d": run("avg_pool2d forward + backward (shape: N, C, H, W, kernel, stride, padding)",
                          cases(POOL_CASES), avg_pool_pair, reps, rng),
        "spatial batchnorm": run("spatial batchnorm forward + backward, training (shape: N, C, H, W)",
                                 cases(BN_CASES), bn_pair, reps, rng),
    }
    print("\ngeometric mean ratio (ours / torch) per op, wall / cpu: "
          + ", ".join(f"{op} {wall:.2f} / {cpu:.2f}" for op, (wall, cpu) in geos.items()))
    print(f"total time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
