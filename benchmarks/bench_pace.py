"""Is the training-time estimate of ``grader check`` right? Estimate, then train for real.

Run from anywhere:

    python benchmarks/bench_pace.py [--digits N] [--conv loops|reference]

Before ``train_lenet`` starts, the training check times the student's layer functions on
LeNet-5's calls and estimates the training at that pace (grader.checks.harness.training).
This script makes a submission from the reference solutions, with the deliberately slow
loop-based conv of ``tests/submissions/loops/conv.py`` by default, estimates a training on
the first N training digits of as many epochs and batches as the reference's ``train_lenet``
(default 64 digits: 30 epochs of 2 batches, several minutes with the loop conv), then runs
the submission's own ``train_lenet`` on those digits in the worker, and prints both and
their ratio (the goal: within a factor of 2). Both sides are timed as the check times them: the
lesser of the worker's wall clock and its CPU time (on a busy machine the wall clock stretches a
training of minutes more than a probe of seconds).
"""

import argparse
import importlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import config, data  # noqa: E402
from grader.checks.harness.base import Context  # noqa: E402
from grader.checks.harness.training import training_pace  # noqa: E402
from grader.worker.client import Rng, Worker  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=64, help="training digits (default 64)")
    parser.add_argument("--conv", choices=("loops", "reference"), default="loops")
    args = parser.parse_args()
    config.apply_threads(config.DEFAULTS)
    X, y = data.load_mnist("train")
    X, y = X[:args.digits], y[:args.digits]
    sys.path.insert(0, str(ROOT / "solutions"))
    reference_train = importlib.import_module("train")
    with tempfile.TemporaryDirectory() as folder:
        for path in (ROOT / "solutions").glob("*.py"):
            shutil.copyfile(path, Path(folder) / path.name)
        if args.conv == "loops":
            shutil.copyfile(ROOT / "tests" / "submissions" / "loops" / "conv.py", Path(folder) / "conv.py")
        settings = config.DEFAULTS.replace(call_timeout=3600.0)
        with Worker(folder, call_timeout=settings.call_timeout) as worker:
            ctx = Context(worker, "bench.pace", settings=settings)
            started = time.process_time()
            # The check estimates a fixed yardstick; here the estimate is of the training it is compared with.
            pace = training_pace(ctx, args.digits, batch=reference_train._BATCH_SIZE,
                                 epochs=reference_train._EPOCHS)
            print("\n".join(pace.lines(limit=config.DEFAULTS.train_timeout)))
            print(f"(the estimate took {time.process_time() - started:.1f} CPU-s in the grader)")
            returned = ctx.call("train.train_lenet", X, y, Rng(0), depth=0, timeout=36000)
            print(f"\nconv: {args.conv}, {args.digits} digits: estimate {pace.estimate:.1f} s, "
                  f"train_lenet {returned.busy_seconds:.1f} s (wall {returned.seconds:.1f} s, "
                  f"CPU {returned.cpu_seconds:.1f} s), ratio {pace.estimate / returned.busy_seconds:.2f}")


if __name__ == "__main__":
    main()
