"""Every script of benchmarks/ runs at its smallest size and prints its figures, so that none
rots unseen (an import that moved, an argument renamed). The timings themselves are the
benchmarks' business: only that they run to the end and say what they measured is tested."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

BENCHMARKS = ROOT / "benchmarks"
# Each benchmark's smallest size, and a phrase of the last figures it prints.
SMALLEST = {
    "bench_augment.py": (["--seeds", "1", "--reruns", "1"], "1 reruns: the same verdict every time"),
    "bench_batch.py": (["--parts", "conv", "--size", "2"], "identical gradebooks: True"),
    "bench_cluster.py": (["--parts", "conv", "--size", "2"], "identical gradebooks: True"),
    "bench_layers.py": (["--quick"], "geometric mean ratio (ours / torch) per op"),
    "bench_mutation.py": (["--parts", "conv", "--sample", "1"], "grader error 0"),
    "bench_nbgrader.py": (["--parts", "conv", "--size", "2"], "same totals: True"),
    "bench_pace.py": (["--digits", "16", "--conv", "reference"], "conv: reference, 16 digits: estimate"),
    "bench_report.py": (["--students", "10", "--repeat", "1"], "signature(s)"),
    "bench_similar.py": (["--students", "2"], "2 students, 1 pairs"),
    "bench_train.py": (["--digits", "64", "--no-float32"], "numpy / torch float64"),
}


def test_every_benchmark_has_a_smallest_size():
    scripts = sorted(path.name for path in BENCHMARKS.glob("bench_*.py"))
    assert scripts == sorted(SMALLEST), "a benchmark without its smallest size in SMALLEST is never run"


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SMALLEST))
def test_benchmark_runs_at_its_smallest_size(script):
    if script == "bench_mutation.py" and importlib.util.find_spec("cosmic_ray") is None:
        pytest.skip("cosmic-ray is not installed (it is a dependency of the kit: pip install -e .)")
    arguments, figures = SMALLEST[script]
    run = subprocess.run([sys.executable, str(BENCHMARKS / script), *arguments], capture_output=True,
                         text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert figures in run.stdout, run.stdout[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("arguments, environment, allocator", [
    ([], {"MALLOC_TOP_PAD_": "12345"}, "allocator: heap kept warm for both sides (MALLOC_MMAP_THRESHOLD_=2000000000"
                                       " MALLOC_TRIM_THRESHOLD_=4000000000 MALLOC_TOP_PAD_=12345)"),
    (["--default-malloc"], {}, "allocator: the default (--default-malloc)"),
], ids=["warm heap, a variable already set kept", "default allocator"])
def test_bench_layers_times_both_sides_with_the_allocator_it_names(arguments, environment, allocator):
    """bench_layers.py re-executes itself with glibc's heap kept warm unless told otherwise, filling in
    only the variables not already set, and its output says which allocator the figures come from."""
    env = {var: value for var, value in os.environ.items() if not var.startswith("MALLOC_")} | environment
    run = subprocess.run([sys.executable, str(BENCHMARKS / "bench_layers.py"), "--quick", *arguments],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert allocator in run.stdout, run.stdout[:2000]
