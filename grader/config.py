"""Where the kit's folders are, and the settings a grading run uses: one place for both.

Paths: the kit's root is the folder above the ``grader`` package. In the instructors' kit it
holds ``solutions/``, ``assignments/``, ``notebooks/`` and ``grader/hidden/``; a student
release has only some of them (:func:`is_instructor_kit` tells which).

Settings: :class:`Settings` holds every timeout, limit and thread count. The defaults below
are the kit's; the rubric's ``[settings]`` table may override any of them, and a command-line
flag (``--timeout``) overrides the rubric.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
SOLUTIONS = ROOT / "solutions"
ASSIGNMENTS = ROOT / "assignments"
NOTEBOOKS = ROOT / "notebooks"
HIDDEN = PACKAGE / "hidden"
RUBRIC_FILE = PACKAGE / "rubric.toml"

#: Environment for every process that runs numerical code: one thread each. The grader's
#: references are small, and batch grading runs one process per core.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def cache_folder(name: str) -> Path:
    """The grader's own cache ``name`` in the platform's cache folder, never a folder the
    grader was run from (a student's)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "cnn-exercise-kit" / name


def is_instructor_kit() -> bool:
    """True where the reference solutions and the hidden checks are at hand."""
    return SOLUTIONS.is_dir() and HIDDEN.is_dir()


def instructors_only(command: str) -> str | None:
    """The one-line refusal of ``grader <command>`` in a student bundle, in the grader's
    language; ``None`` in the instructors' kit."""
    if is_instructor_kit():
        return None
    from grader.i18n import _

    return _("grader {command} is an instructors' command: it needs the kit's solutions/ and "
             "grader/hidden/, which the student bundle does not have.").format(command=command)


@dataclass(frozen=True)
class Settings:
    """Every timeout, limit and thread count of a grading run."""

    call_timeout: float = 30.0          # seconds one call of student code may take
    network_timeout: float = 600.0      # seconds one call on a whole network may take
    train_timeout: float = 600.0        # seconds train_lenet may take
    overfit_timeout: float = 300.0      # seconds the 50-digit sanity training may take
    augment_timeout: float = 300.0      # seconds one train_lenet_small run may take
    student_time_limit: float = 3600.0  # seconds one student's whole grading may take (batch)
    threads: int = 1                    # torch threads in the grading process
    memory_bytes: int = 6 << 30         # the worker's address space
    cpu_seconds: int = 1800             # the worker's CPU time
    file_bytes: int = 16 << 20          # the largest file the worker may write
    processes: int = 16                 # processes the unprivileged worker may own
    language: str = "en"                # the grader's default language (grader.i18n); a zh release sets "zh"

    def replace(self, **changes) -> "Settings":
        unknown = set(changes) - {field.name for field in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)


DEFAULTS = Settings()


def limit_numpy_threads(settings: Settings = DEFAULTS) -> None:
    """Pins NumPy's BLAS in this (already running) process to ``settings.threads`` threads, as the
    worker runs it: on a small machine NumPy's default of one thread per core makes a LeNet's
    small matrix products several times slower, not faster (issue 23: 42-54 s against 7-9 s)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(settings.threads)


def apply_threads(settings: Settings = DEFAULTS) -> None:
    """Pins this process's numerical libraries to ``settings.threads`` threads."""
    import torch

    torch.set_num_threads(settings.threads)
    for name, value in THREAD_ENV.items():
        os.environ.setdefault(name, value)
