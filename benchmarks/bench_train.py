"""How long the reference ``train_lenet`` takes, against the same training in torch.

    python benchmarks/bench_train.py [--seed 0] [--threads 2] [--no-float32] [--digits N]

Runs, on the training split of the kit's digits:

1. ``solutions/train.py``'s ``train_lenet`` (NumPy, float64), the reference
   solution that the grader's time limit has to leave room for;
2. the SAME network, initial weights, batches, augmentation, learning-rate
   schedule and SGD (momentum, weight decay) in torch, float64: what the NumPy
   code would cost if its layers were torch's kernels; both compute the same
   function, so their held-out accuracies agree closely;
3. the same in torch float32 (torch's usual precision; skip with ``--no-float32``).

It prints each run's wall time, its held-out accuracy, and the ratio of the
NumPy time to each torch time. Both libraries get the same number of threads.
Each run is a fresh Python process, so that one library's idle thread pool (NumPy's
OpenBLAS threads spin for a while after each call) cannot slow the next run
down; even so, torch's many small multi-threaded kernels suffer badly when the
machine is busy with anything else, so benchmark on an idle machine.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads for torch and for NumPy's BLAS (default: all cores)")
    parser.add_argument("--no-float32", action="store_true", help="skip the torch float32 run")
    parser.add_argument("--digits", type=int, help="train on the first DIGITS training digits only (default: all)")
    parser.add_argument("--run", choices=["numpy", "float64", "float32"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run is None:
        return compare(args)

    # BLAS reads its thread count when NumPy is first imported.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(ROOT / "solutions"))
    sys.path.insert(0, str(ROOT))
    from grader.data import load_mnist
    from grader.references.networks import build

    train = importlib.import_module("train")  # solutions/train.py
    from networks import LeNet5

    X, y = load_mnist("train")
    X, y = X[:args.digits], y[:args.digits]
    Xh, yh = load_mnist("heldout")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{args.threads} threads; numpy {np.__version__}, torch {torch.__version__}")
    print(f"train_lenet: {len(y)} digits, {train._EPOCHS} epochs of batches of {train._BATCH_SIZE}, "
          f"seed {args.seed}\n")

    def numpy_run():
        model = train.train_lenet(X, y, np.random.default_rng(args.seed))
        return (model.forward(Xh).argmax(axis=1) == yh).mean()

    def torch_run(dtype):
        # The loop of train_lenet, step for step, drawing from rng in the same order.
        rng = np.random.default_rng(args.seed)
        init = LeNet5(activation="relu")
        train._init_like_torch(init, rng)
        model = build("LeNet5", activation="relu", dtype=dtype)
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in init.state_dict().items()})
        opt = torch.optim.SGD(model.parameters(), lr=train._LR, momentum=train._MOMENTUM,
                              weight_decay=train._WEIGHT_DECAY)
        yt = torch.from_numpy(y)
        n, bs = len(y), train._BATCH_SIZE
        total, step = train._EPOCHS * -(-n // bs), 0
        for _ in range(train._EPOCHS):
            order = rng.permutation(n)
            for start in range(0, n, bs):
                idx = order[start:start + bs]
                xb = train._random_shift(X[idx], rng, train._MAX_SHIFT) if train._MAX_SHIFT else X[idx]
                loss = F.cross_entropy(model(torch.from_numpy(np.ascontiguousarray(xb)).to(dtype)),
                                       yt[idx])
                opt.zero_grad()
                loss.backward()
                for group in opt.param_groups:
                    group["lr"] = train._LR * 0.5 * (1.0 + np.cos(np.pi * step / total))
                opt.step()
                step += 1
        with torch.no_grad():
            return (model(torch.from_numpy(Xh).to(dtype)).argmax(1).numpy() == yh).mean()

    start = time.perf_counter()
    accuracy = numpy_run() if args.run == "numpy" else torch_run(getattr(torch, args.run))
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "accuracy": float(accuracy)}))


def compare(args) -> None:
    """Runs each variant in its own process and prints the table."""
    runs = [("numpy", "numpy float64 (solutions/train.py)"), ("float64", "torch float64, same loop")]
    if not args.no_float32:
        runs.append(("float32", "torch float32, same loop"))
    times = []
    for i, (run, name) in enumerate(runs):
        command = [sys.executable, __file__, "--seed", str(args.seed), "--threads", str(args.threads),
                   "--run", run] + (["--digits", str(args.digits)] if args.digits else [])
        lines = subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()
        if i == 0:
            print("\n".join(lines[:-1]))  # the header that the first run printed
        result = json.loads(lines[-1])
        times.append(result["seconds"])
        print(f"{name:38s} {result['seconds']:7.1f} s   held-out accuracy {result['accuracy']:.1%}", flush=True)
    print()
    for (_, name), t in zip(runs[1:], times[1:]):
        print(f"numpy / {name.split(',')[0]}: {times[0] / t:.1f}x")

if __name__ == "__main__":
    main()
