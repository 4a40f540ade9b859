"""What every check shares: the registry, the verdict, and the property-test loop.

A check is a function ``check(ctx) -> None`` registered under a rubric id. It
passes by returning and fails by raising :class:`Failed`; most checks call
:meth:`Context.for_all` with a hypothesis strategy and a body that runs one
example in the worker, computes the torch reference and compares.
"""

from __future__ import annotations

from grader.i18n import _

import contextlib
import weakref
import zlib
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.configuration import set_hypothesis_home_dir

from grader import results
from grader.config import DEFAULTS, Settings, cache_folder
from grader.checks.harness.metric import Mismatch, describe_type, output_name
from grader.results import diagnosis, message_kind
from grader.worker.client import (CallTimeout, StudentException, StudentMissingName, StudentViolation,
                                  Worker, WorkerCrashed, WorkerProblem)

CHECKS: dict = {}

# hypothesis keeps a cache in ./.hypothesis by default: never in the folder a student grades from
set_hypothesis_home_dir(cache_folder("hypothesis"))

# Derandomised, no example database, no deadline: the same examples for every student
# and every run, and slow-but-correct code is never failed for its speed.
GRADING_SETTINGS = settings(
    settings.get_profile("ci"), derandomize=True, database=None, deadline=None,
    print_blob=False, report_multiple_bugs=False, suppress_health_check=list(HealthCheck),
    phases=(Phase.generate, Phase.shrink),
)


def check(check_id: str):
    """Registers a check function under its rubric id."""
    def register(function):
        if check_id in CHECKS:
            raise ValueError(f"duplicate check id {check_id}")
        CHECKS[check_id] = function
        return function
    return register


class Failed(Exception):
    """A check failed; ``summary`` is one line, ``lines`` the evidence, ``example`` where,
    ``diagnosis`` what was found (:func:`grader.results.diagnosis`; by default the identity of
    the summary's message)."""

    def __init__(self, summary: str, lines: list[str] | None = None, example: str | None = None,
                 violation: bool = False, unwritten: bool = False, diagnosis: dict | None = None,
                 compared: tuple | None = None, once: bool = False):
        super().__init__(summary)
        self.once = once  # a file that does not import: said under its first check only
        self.compared = compared  # (actual, expected) of the comparison that failed, if one did
        self.summary = summary
        self.lines = lines or []
        self.example = example
        self.violation = violation
        self.unwritten = unwritten  # the function is not written yet (raises NotImplementedError)
        self.diagnosis = diagnosis or results.diagnosis(message_kind(summary))


class Partial(Exception):
    """A check that earns ``fraction`` of its points (e.g. by accuracy); 1.0 is a pass."""

    def __init__(self, fraction: float, summary: str, lines: list[str] | None = None):
        super().__init__(summary)
        self.fraction = min(max(float(fraction), 0.0), 1.0)
        self.summary = summary
        self.lines = lines or []
        self.diagnosis = results.diagnosis(message_kind(summary))


@dataclass
class Context:
    """What a check may use: the worker holding the submission, and how many examples to draw."""

    worker: Worker
    check_id: str
    max_examples: int = 30
    artifacts: dict = field(default_factory=dict)  # file name -> bytes, saved next to the report
    settings: Settings = DEFAULTS                  # the run's timeouts and limits
    listener: object = None                        # lines -> None: the live report, where there is one

    def call(self, target, *args, **kwargs):
        return self.worker.call(target, *args, **kwargs)

    def tell(self, lines: list[str]) -> None:
        """Says ``lines`` now, while the check goes on (e.g. before a long training), where
        someone watches; the verdict must not depend on it."""
        if self.listener is not None:
            self.listener(lines)

    @property
    def built(self) -> "Built":
        """What an earlier check of this worker built and left for a later one (see :class:`Built`)."""
        built = _BUILT.get(self.worker)
        if built is None:
            built = _BUILT[self.worker] = Built(self.worker)
        return built

    def for_all(self, strategy, body, max_examples: int | None = None, examples=()) -> None:
        """Runs ``body(example)`` on examples of ``strategy``, then on ``examples`` in order (cases
        that a few dozen drawn examples might miss); on failure raises :class:`Failed` with the
        smallest failing example hypothesis found among the drawn ones, or else the first of
        ``examples`` that fails. The drawn ones come first because hypothesis shrinks them: a
        fixed example, chosen for another bug, is seldom the simplest one that shows this one."""
        failures: list = []
        fatal: list = []

        def run(example):
            if fatal:
                raise fatal[0][1]
            recorder = getattr(self.worker, "recorder", None)
            if recorder is not None:  # the calls of this example only (grader.replay)
                recorder.clear()
            try:
                with self.worker.scope() if self.worker is not None else contextlib.nullcontext():  # an example's results are released after it
                    body(example)
            except (Mismatch, Failed, WorkerProblem) as problem:
                if isinstance(problem, (CallTimeout, WorkerCrashed)):
                    fatal.append((example, problem))
                failures.append((example, problem))
                raise

        drawn = settings(GRADING_SETTINGS, max_examples=max_examples or self.max_examples)(
            seed(zlib.crc32(self.check_id.encode()))(given(strategy)(run)))
        try:
            drawn()
        except Exception:  # noqa: BLE001 - the recorded failures below are the verdict
            if not failures:
                raise
        for explicit in () if failures else examples:
            try:
                run(explicit)
            except (Mismatch, Failed, WorkerProblem):
                break
        if not failures:
            return
        example, problem = fatal[0] if fatal else failures[-1]
        raise as_failed(problem, _describe(example))


class Built:
    """One object a check built in the worker and left for a later check, e.g. VGG-16 (building
    it writes 1.1 GB: the structure check builds it at default arguments and, finding it right,
    leaves it to the function check, which would otherwise build it again).

    It is kept under ``title`` (the constructor call, e.g. ``"VGG16()"``) and the worker's
    generation: after a restart of the worker (a crash, a timeout) the handle means nothing and
    is forgotten. At most one object is kept: leaving another, or taking any, releases the
    rest. A check that finds nothing under its title builds the object itself, so the verdicts
    do not depend on which checks ran before."""

    def __init__(self, worker):
        self._worker = weakref.ref(worker)   # the cache is keyed by the worker: no strong reference back
        self.kept: tuple | None = None       # (title, generation, handle)

    @property
    def worker(self):
        return self._worker()

    def leave(self, title: str, handle: int) -> None:
        self.take(None)
        self.worker.keep_beyond_scope(handle)
        self.kept = (title, self.worker.generation, handle)

    def take(self, title: str | None) -> int | None:
        """The handle left under ``title`` (now the caller's to release), or None."""
        kept, self.kept = self.kept, None
        if kept is None or kept[1] != self.worker.generation:
            return None
        if kept[0] == title:
            return kept[2]
        self.worker.release(kept[2])
        return None


# One per worker, gone with it (a Context lives for one check, the worker for a whole grading).
_BUILT: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def seed_layers(ctx: Context, seed: int | None) -> bool:
    """Seeds the layers' own initialisation through ``modules.manual_seed`` (given code, not
    graded), so that what a check builds starts the same on every run; where the submission
    removed or broke it, the check goes on unseeded (and this returns False)."""
    try:
        ctx.worker.release(ctx.call("modules.manual_seed", seed, depth=0).handle)
    except (StudentMissingName, StudentException):
        return False
    return True


def as_failed(problem: Exception, example: str | None = None) -> Failed:
    """The student-facing form of any problem a call or a comparison ran into."""
    if isinstance(problem, Failed):
        if example and not problem.example:
            problem.example = example
        return problem
    if isinstance(problem, Mismatch):
        return Failed(problem.summary, problem.lines, example, diagnosis=problem.diagnosis,
                      compared=problem.compared)
    if isinstance(problem, StudentException):
        if problem.type_name == "NotImplementedError":
            return Failed(_("not implemented yet (the function raises NotImplementedError)"), unwritten=True,
                          diagnosis=diagnosis("not implemented"))
        lines = ["    " + line for line in problem.trace.strip().splitlines()[-8:]]
        return Failed(_("your code raised {error}").format(error=problem), lines, example,
                      diagnosis=diagnosis("raised", pattern=problem.type_name))
    if isinstance(problem, StudentViolation):
        return Failed(str(problem), [], example, violation=True, diagnosis=diagnosis("violation"))
    if isinstance(problem, CallTimeout):
        return Failed(str(problem), [], example, diagnosis=diagnosis("timeout"))
    if isinstance(problem, WorkerCrashed):
        return Failed(str(problem), [], example, diagnosis=diagnosis("crashed"))
    if isinstance(problem, WorkerProblem):
        return Failed(str(problem), [], example, diagnosis=diagnosis(type(problem).__name__))
    raise problem


def _describe(example) -> str:
    describe = getattr(example, "describe", None)
    return describe() if callable(describe) else repr(example)


def unpack(value, count: int, what: str) -> tuple:
    """A tuple of ``count`` items, or a Mismatch naming what came back instead."""
    if not isinstance(value, (tuple, list)) or len(value) != count:
        got = (_("a {type} of length {length}").format(type=type(value).__name__, length=len(value))
               if isinstance(value, (tuple, list)) else _("a {type}").format(type=describe_type(value)))
        raise Mismatch(_("{what} should return a tuple of {count} values, but returned {got}").format(
            what=what, count=count, got=got),
            diagnosis=diagnosis("tuple", output_name(what), f"{type(value).__name__} of {len(value)}"
                                if isinstance(value, (tuple, list)) else describe_type(value)))
    return tuple(value)


def require_unchanged(function_name: str, names: list[str], before: list, after: list) -> None:
    """Inputs must come back from a call exactly as they went in."""
    for name, old, new in zip(names, before, after):
        if isinstance(old, np.ndarray) and (
                not isinstance(new, np.ndarray) or new.shape != old.shape
                or not np.array_equal(new, old, equal_nan=True)):
            raise Mismatch(_("{function} modified its input {name}: a function must not "
                             "change its arguments (use out-of-place operations, or copy first)").format(
                function=function_name, name=name), diagnosis=diagnosis("modified its input", f"{output_name(function_name)} {name}"))


def expect_value_error(ctx: Context, target: str, args: tuple, kwargs: dict, situation: str,
                       names: tuple = ()) -> None:
    """The call must raise a ValueError (or a subclass of it). On failure the example reported is
    this call, as it was made (``names``: the positional parameters' names), not the drawn
    example it was derived from."""
    try:
        ctx.call(target, *args, **kwargs)
    except StudentException as error:
        if error.is_a("ValueError"):
            return
        if error.type_name == "NotImplementedError":
            raise
        raise Failed(_("{situation}: expected a ValueError, got {error}").format(situation=situation, error=error),
                     example=describe_call(target, args, kwargs, names),
                     diagnosis=diagnosis("no ValueError", _situation(situation), f"raised {error.type_name}")) from None
    raise Failed(_("{situation}: expected a ValueError, but the call returned normally").format(situation=situation),
                 example=describe_call(target, args, kwargs, names),
                 diagnosis=diagnosis("no ValueError", _situation(situation), "returned normally"))


def _situation(situation) -> str:
    """Which bad call it was, whatever its figures: the situation's message, not its numbers."""
    return getattr(situation, "msgid", None) or output_name(situation)


def describe_call(target: str, args: tuple, kwargs: dict, names: tuple = ()) -> str:
    """``conv2d_forward(x (1, 1, 2, 2), w (1, 1, 4, 1), b None, stride=1, padding=0)``: arrays by
    their shape (and "all ones" where they are), everything else as written."""
    def text(value) -> str:
        if isinstance(value, np.ndarray):
            ones = _(" all ones") if value.size and np.all(value == 1) else ""
            return f"{value.shape}{ones}" if value.ndim else repr(value.item())
        return repr(value)

    shown = [text(a) if i >= len(names) else f"{names[i]} {text(a)}" if isinstance(a, np.ndarray)
             else f"{names[i]}={text(a)}" for i, a in enumerate(args)]
    shown += [f"{key}={text(value)}" for key, value in kwargs.items()]
    return f"{target.rpartition('.')[2]}({', '.join(shown)})"
