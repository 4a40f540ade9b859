"""Confines the worker before any student code runs.

Applied by the worker to itself, in this order: modules a student may import are
loaded while they can still be read; as root, a private mount namespace hides the
grader's own folders (solutions, other students, the results) under empty tmpfs
mounts and a private network namespace leaves only a downed loopback; resource
limits cap memory, CPU time, file size and (once unprivileged) processes; as
root, the worker becomes ``nobody``; finally forbidden imports are refused.
Every step the platform does not allow is skipped and named in ``skipped``.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.abc
import os
import resource
import signal
import sys

FORBIDDEN = frozenset({
    "torch", "torchvision", "tensorflow", "jax", "jaxlib", "scipy", "sklearn", "keras", "mxnet",
    "paddle", "cupy", "theano", "chainer", "autograd", "numba", "mlxtend", "grader",
})
PRELOAD = (
    "math", "cmath", "itertools", "functools", "collections", "collections.abc", "typing",
    "dataclasses", "numbers", "abc", "time", "random", "copy", "operator", "warnings", "string",
    "re", "enum", "statistics", "fractions", "decimal", "heapq", "bisect", "contextlib", "json",
    "numpy", "numpy.linalg", "numpy.random", "numpy.fft", "numpy.lib.stride_tricks",
    "numpy.typing", "numpy.testing", "numpy.ma", "numpy.polynomial", "ctypes",
)
UNPRIVILEGED_ID = 65534  # nobody / nogroup
CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_REC, MS_PRIVATE = 0x4000, 1 << 18


class ForbiddenImport(ImportError):
    """A student file imported a module that computes the answer for it."""


class _Blocker(importlib.abc.MetaPathFinder):
    def __init__(self):
        self.attempts: list[str] = []

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in FORBIDDEN:
            self.attempts.append(name)
            raise ForbiddenImport(f"importing {name} is not allowed in this exercise (NumPy, math and "
                                  "the standard library only)")
        return None


BLOCKER = _Blocker()


def apply(config: dict) -> list[str]:
    """Confines this process as ``config`` says; returns the steps that were skipped."""
    skipped: list[str] = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    is_root = os.geteuid() == 0
    if is_root and config.get("namespaces", True):
        skipped += _namespaces(config.get("hide", []))
    _limit(resource.RLIMIT_AS, config.get("memory_bytes"), skipped)
    _limit(resource.RLIMIT_CPU, config.get("cpu_seconds"), skipped)
    _limit(resource.RLIMIT_FSIZE, config.get("file_bytes"), skipped)
    _limit(resource.RLIMIT_CORE, 0, skipped)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails instead of killing
    if is_root and config.get("drop_privileges", True):
        try:
            os.setgroups([])
            os.setgid(UNPRIVILEGED_ID)
            os.setuid(UNPRIVILEGED_ID)
            _limit(resource.RLIMIT_NPROC, config.get("processes"), skipped)
        except OSError as error:
            skipped.append(f"dropping privileges ({error})")
    die_with_parent(signal.SIGKILL)
    for name in list(sys.modules):
        if name.partition(".")[0] in FORBIDDEN - {"grader"}:
            del sys.modules[name]
    sys.meta_path.insert(0, BLOCKER)
    return skipped


def die_with_parent(signum: int = signal.SIGKILL) -> None:
    """Asks Linux to send ``signum`` to this process when its parent dies (a killed batch or
    grader leaves no worker behind). Cleared by a change of user, so called after it."""
    PR_SET_PDEATHSIG = 1
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signum)


def _limit(which, value, skipped) -> None:
    if value is None:
        return
    try:
        resource.setrlimit(which, (int(value), int(value)))
    except (ValueError, OSError) as error:
        skipped.append(f"limit {which} ({error})")


def _namespaces(hide: list[str]) -> list[str]:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return ["network namespace (unshare failed)"]
    skipped = []
    if libc.unshare(CLONE_NEWNS) != 0 or libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return ["mount namespace (unshare failed)"]
    for path in hide:
        if os.path.isdir(path) and libc.mount(b"tmpfs", os.fsencode(path), b"tmpfs", 0, b"size=1m,mode=0755") != 0:
            skipped.append(f"hiding {path}")
    return skipped
