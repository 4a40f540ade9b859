"""The reference's held-out gain from augmentation over many seeds, and the gain check's stability.

    python benchmarks/bench_augment.py [--seeds 20] [--reruns 10] [--folder solutions]

1. For seeds 0 .. SEEDS-1, runs the gain check's own measurement (``gain_of`` of
   ``grader/checks/augment.py``: ``solutions/augment.py``'s ``train_lenet_small`` in a worker,
   without and with augmentation, on the first 500 training digits; held-out accuracy by the
   grader's torch LeNet-5) and prints each seed's accuracies and gain, then the gain's mean,
   standard deviation, min and max. The check's thresholds (``full_marks_gain``,
   ``zero_marks_gain`` in ``grader.config.Settings``) are set from these figures: a correct submission trains with other
   random numbers than the reference, so its gain is another draw from this distribution.
2. Grades the reference on the gain check alone RERUNS times (a fresh worker each time) and
   prints each verdict and its time: the verdict must be the same every time.

``--folder`` measures another submission instead of the reference (a folder holding every
file ``augment.py`` imports), e.g. to see where a correct alternative's gain falls.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import rubric as rubric_module  # noqa: E402
from grader.checks import augment as checks  # noqa: E402
from grader.checks.harness.base import Context  # noqa: E402
from grader.runner import grade  # noqa: E402
from grader.worker.client import Worker  # noqa: E402

SOLUTIONS = ROOT / "solutions"


def seeds(folder: Path, count: int) -> list[float]:
    gains = []
    print(f"{'seed':>4}  {'plain train':>11}  {'plain held':>10}  {'aug train':>9}  {'aug held':>8}  {'gain':>6}  time")
    with Worker(str(folder)) as worker:
        for seed in range(count):
            started = time.perf_counter()
            r = checks.gain_of(Context(worker, "augment.gain"), seed)
            gains.append(r["gain"])
            print(f"{seed:>4}  {r['plain_train']:>11.1%}  {r['plain_held']:>10.1%}  {r['augmented_train']:>9.1%}  "
                  f"{r['augmented_held']:>8.1%}  {100 * r['gain']:>+5.1f}  {time.perf_counter() - started:.1f} s",
                  flush=True)
    settings = rubric_module.load().settings
    spread = f"sd {100 * statistics.stdev(gains):.2f}" if count > 1 else "no sd of one seed"
    print(f"gain over {count} seeds (points): mean {100 * statistics.mean(gains):+.2f}, {spread}, "
          f"min {100 * min(gains):+.1f}, max {100 * max(gains):+.1f}; "
          f"check: full marks from {100 * settings.full_marks_gain:+.1f}, zero at {100 * settings.zero_marks_gain:+.1f} "
          f"(seed {checks.GAIN_SEED})")
    return gains


def reruns(folder: Path, count: int) -> None:
    full = rubric_module.load()
    only = rubric_module.Rubric({"augment": full.parts["augment"]},
                                tuple(e for e in full.entries if e.id == "augment.gain"))
    verdicts = []
    for run in range(count):
        (result,) = grade(folder, rubric=only).checks
        verdicts.append((result.score, result.output.splitlines()[0]))
        print(f"run {run + 1}: {result.score:g}/{result.max_score:g} in {result.seconds:.1f} s: {verdicts[-1][1]}",
              flush=True)
    print(f"{count} reruns: {'the same verdict every time' if len(set(verdicts)) == 1 else 'VERDICTS DIFFER'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds to measure the gain over (0 skips)")
    parser.add_argument("--reruns", type=int, default=10, help="gradings of the gain check (0 skips)")
    parser.add_argument("--folder", type=Path, default=SOLUTIONS, help="the submission to measure")
    args = parser.parse_args()
    if args.seeds:
        seeds(args.folder, args.seeds)
    if args.reruns:
        reruns(args.folder, args.reruns)


if __name__ == "__main__":
    main()
