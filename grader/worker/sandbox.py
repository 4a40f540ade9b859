"""Confines the worker before any student code runs.

Applied by the worker to itself, in this order: modules a student may import are
loaded while they can still be read; as root, a private mount namespace hides the
grader's own folders (solutions, other students, the results) under empty tmpfs
mounts, gives the worker empty temporary folders of its own (/tmp, /dev/shm, ...), and a
private network namespace leaves only a downed loopback; resource
limits cap memory, CPU time, file size and (once unprivileged) processes; as
root, the worker becomes a user of its own (:func:`worker_user`, no other process has it: a
student's code cannot signal, read or write another student's worker or scratch copy, nor
a system account's processes), given its scratch copy first; finally forbidden imports are
refused.
Every step the platform does not allow is skipped and named in ``skipped``.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.abc
import importlib.util
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
# A worker's user and group: this base plus its pid, unique among live processes (pid_max is at
# most 2**22), below 2**31 (some tools read ids as signed) and far above any account's id.
WORKER_ID_BASE = 2**31 - 2**23
CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 1 << 18
SHARED_TEMPORARY = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")  # writable by every user
TEMPORARY_TMPFS = b"size=64m,mode=1777"


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


def forbidden_locations() -> list[str]:
    """The folders (or files) of the forbidden modules installed where this process imports from:
    hidden as well, since a student's code can take the blocker off ``sys.meta_path`` (the kit's
    own folder is hidden already, but an autograder's virtual environment often lies elsewhere)."""
    found = []
    for name in sorted(FORBIDDEN - {"grader"}):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        if spec.submodule_search_locations:
            found += [str(path) for path in spec.submodule_search_locations]
        elif spec.origin and os.path.isfile(spec.origin):
            found.append(spec.origin)
    return found


def unconfined() -> str | None:
    """Why a worker started by this process would run the student's code unconfined (as the
    grader's own user, seeing every folder), or None: the namespaces, the hidden folders and
    the worker's own user need root on Linux."""
    if not sys.platform.startswith("linux"):
        return f"{sys.platform} is not Linux"
    if os.geteuid() != 0:
        return "the grader is not running as root"
    return None


def worker_user(pid: int) -> int:
    """The user (and group) id the worker of process ``pid`` runs as, when started as root."""
    return WORKER_ID_BASE + pid


def apply(config: dict, home: str | None = None) -> list[str]:
    """Confines this process as ``config`` says; returns the steps that were skipped. ``home``:
    the scratch folder, given to the worker's own user (as root)."""
    skipped: list[str] = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    is_root = os.geteuid() == 0
    if is_root and config.get("namespaces", True):
        skipped += _namespaces([*config.get("hide", []), *forbidden_locations()], home)
    _limit(resource.RLIMIT_AS, config.get("memory_bytes"), skipped)
    _limit(resource.RLIMIT_CPU, config.get("cpu_seconds"), skipped)
    _limit(resource.RLIMIT_FSIZE, config.get("file_bytes"), skipped)
    _limit(resource.RLIMIT_CORE, 0, skipped)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails instead of killing
    if is_root and config.get("drop_privileges", True):
        user = worker_user(os.getpid())
        try:
            end_user_processes(user)  # left by an earlier worker of this pid whose grader was killed
            if home is not None:
                _give(home, user)
            os.setgroups([])
            os.setgid(user)
            os.setuid(user)
            _limit(resource.RLIMIT_NPROC, config.get("processes"), skipped)
        except OSError as error:
            skipped.append(f"dropping privileges ({error})")
    die_with_parent(signal.SIGKILL)
    for name in list(sys.modules):
        if name.partition(".")[0] in FORBIDDEN - {"grader"}:
            del sys.modules[name]
    sys.meta_path.insert(0, BLOCKER)
    return skipped


def _give(folder: str, user: int) -> None:
    """Makes ``folder`` (flat: the scratch copy) and its files ``user``'s, the folder private."""
    for name in os.listdir(folder):
        os.chown(os.path.join(folder, name), user, user, follow_symlinks=False)
    os.chown(folder, user, user)
    os.chmod(folder, 0o700)


def end_user_processes(user: int, rounds: int = 50) -> None:
    """Kills every process whose real, effective or saved user is ``user`` (a worker's own, as
    root): the worker's process group is killed when it stops, but a child of the student's
    that left the group (``os.setsid()``) would live on. Scans again until none is found, so a
    child forked meanwhile is found too."""
    for _round in range(rounds):
        found = False
        try:
            entries = os.listdir("/proc")
        except OSError:
            return
        for entry in entries:
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/status", "rb") as status:
                    fields = dict(line.split(b":", 1) for line in status if b":" in line)
            except OSError:
                continue
            if fields.get(b"State", b"").strip().startswith(b"Z"):  # dead, waiting to be reaped
                continue
            if str(user).encode() in fields.get(b"Uid", b"").split()[:3]:
                found = True
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except OSError:
                    pass
        if not found:
            return


def _private_temporary_folders(libc, home: str | None) -> list[str]:
    """An empty tmpfs of the worker's own over each folder that every user may write to: what a
    student's code leaves there (a reference file it found in its scratch copy, to be read by a
    friend's code graded later) vanishes with the worker. The scratch copy ``home``, which lies
    in one of them, is mounted back at its path."""
    kept = os.open(home, os.O_RDONLY | os.O_DIRECTORY) if home is not None else None
    covered = []
    try:
        for folder in SHARED_TEMPORARY:
            if os.path.isdir(folder) and not os.path.islink(folder) and libc.mount(
                    b"tmpfs", folder.encode(), b"tmpfs", 0, TEMPORARY_TMPFS) == 0:
                covered.append(folder)
        if kept is None or _same_folder(home, kept):
            return [f"a private {folder}" for folder in SHARED_TEMPORARY
                    if os.path.isdir(folder) and folder not in covered]
        try:
            os.makedirs(home, exist_ok=True)
            bound = libc.mount(f"/proc/self/fd/{kept}".encode(), os.fsencode(home), None, MS_BIND, None) == 0
        except OSError:
            bound = False
        if not bound:  # the scratch copy must stay in reach: the shared folders are put back
            for folder in reversed(covered):
                libc.umount2(folder.encode(), 0)
            return ["private temporary folders (the scratch copy could not be mounted back)"]
        return []
    finally:
        if kept is not None:
            os.close(kept)


def _same_folder(path: str, descriptor: int) -> bool:
    try:
        here, there = os.stat(path), os.fstat(descriptor)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


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


def _namespaces(hide: list[str], home: str | None = None) -> list[str]:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return ["network namespace (unshare failed)"]
    skipped = []
    if libc.unshare(CLONE_NEWNS) != 0 or libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return ["mount namespace (unshare failed)"]
    skipped += _private_temporary_folders(libc, home)
    for path in hide:
        if os.path.isdir(path):
            hidden = libc.mount(b"tmpfs", os.fsencode(path), b"tmpfs", 0, b"size=1m,mode=0755") == 0
        elif os.path.isfile(path):  # a module of one file
            hidden = libc.mount(b"/dev/null", os.fsencode(path), None, MS_BIND, None) == 0
        else:
            continue
        if not hidden:
            skipped.append(f"hiding {path}")
    return skipped
