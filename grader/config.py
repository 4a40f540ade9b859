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

from grader.errors import UsageError
from grader.i18n import LANGUAGES, N_, _

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
    return _("{command} is an instructors' command: it needs the kit's solutions/ and "
             "grader/hidden/, which the student bundle does not have.").format(command=command)


def require_instructor_kit(command: str) -> None:
    """Refuses ``grader COMMAND`` (a :class:`~grader.errors.UsageError`) outside the instructors' kit."""
    refusal = instructors_only(command)
    if refusal:
        raise UsageError(refusal)


def _seconds(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf")


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _share(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1


def _language(value) -> bool:
    return isinstance(value, str) and value in LANGUAGES


#: What each kind of setting must be: the test, and how the refusal names it.
_KINDS = {
    "seconds": (_seconds, N_("a number of seconds above 0")),
    "count": (_count, N_("a whole number above 0")),
    "share": (_share, N_("a number from 0 to 1")),
    "language": (_language, N_("en or zh")),
}


BELOW_FULL_MARKS = N_("below full_marks_accuracy")
BELOW_FULL_MARKS_GAIN = N_("below full_marks_gain")


def _setting(default, kind: str):
    return dataclasses.field(default=default, metadata={"kind": kind})


class SettingsError(UsageError, ValueError):
    """A setting of the wrong kind (``call_timeout='thirty'``); the message names every one."""


@dataclass(frozen=True)
class Settings:
    """Every timeout, limit, threshold and thread count of a grading run, validated when made."""

    call_timeout: float = _setting(30.0, "seconds")          # one call of student code
    network_timeout: float = _setting(600.0, "seconds")      # one call on a whole network
    train_timeout: float = _setting(600.0, "seconds")        # train_lenet
    overfit_timeout: float = _setting(300.0, "seconds")      # the 50-digit sanity training
    augment_timeout: float = _setting(300.0, "seconds")      # one train_lenet_small run
    student_time_limit: float = _setting(3600.0, "seconds")  # one student's whole grading (batch)
    busy_stretch: int = _setting(10, "count")                # a call's wall clock, at most this times its limit (worker.client.CallClock)
    threads: int = _setting(1, "count")                      # torch threads in the grading process
    memory_bytes: int = _setting(6 << 30, "count")           # the worker's address space
    # the worker's CPU time, a backstop only (every call has its own limit): one worker runs a whole
    # grading, whose trainings alone may take 1,500 s within their limits, so never below a whole
    # grading's (student_time_limit)
    cpu_seconds: int = _setting(3600, "count")
    file_bytes: int = _setting(16 << 20, "count")            # the largest file the worker may write
    processes: int = _setting(16, "count")                   # processes the unprivileged worker may own
    copied_bytes: int = _setting(64 << 20, "count")          # the submission's .py files the worker gets
    hand_in_file_bytes: int = _setting(2 << 20, "count")     # one file of a hand-in (batch)
    hand_in_total_bytes: int = _setting(32 << 20, "count")   # a whole hand-in, unpacked
    hand_in_members: int = _setting(2000, "count")           # entries of a hand-in's archive
    full_marks_accuracy: float = _setting(0.96, "share")     # train_lenet: full marks from this accuracy
    zero_marks_accuracy: float = _setting(0.60, "share")     # ... and nothing below this one
    full_marks_gain: float = _setting(0.015, "share")        # augment: held-out accuracy gained by augmenting
    zero_marks_gain: float = _setting(0.0, "share")          # ... and nothing at or below this gain
    notebook_cell_timeout: float = _setting(3600.0, "seconds")  # nbgrader: one cell (a part's grading)
    language: str = _setting("en", "language")               # the default language; a zh release sets "zh"

    def __post_init__(self):
        problems = []
        for field in dataclasses.fields(self):
            valid, expected = _KINDS[field.metadata["kind"]]
            value = getattr(self, field.name)
            if not valid(value):
                problems.append(f"{field.name}={value!r} ({_(expected)})")
        if not problems and self.zero_marks_accuracy >= self.full_marks_accuracy:
            problems.append(f"zero_marks_accuracy={self.zero_marks_accuracy!r} ({_(BELOW_FULL_MARKS)})")
        if not problems and self.zero_marks_gain >= self.full_marks_gain:
            problems.append(f"zero_marks_gain={self.zero_marks_gain!r} ({_(BELOW_FULL_MARKS_GAIN)})")
        if problems:
            raise SettingsError(_("invalid setting(s): {problems}").format(problems="; ".join(problems)))

    def replace(self, **changes) -> "Settings":
        unknown = set(changes) - {field.name for field in dataclasses.fields(self)}
        if unknown:
            raise SettingsError(_("unknown setting(s): {names}").format(names=", ".join(sorted(unknown))))
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
