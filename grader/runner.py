"""Grades one submission: walks the rubric, runs each check against a worker, collects results."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from grader import rubric as rubric_module
from grader.checks.harness.base import CHECKS, Context, Failed, Partial, as_failed
from grader.worker.client import (Limits, StudentImportError, StudentViolation, Worker,
                                  WorkerProblem)
from grader.worker.sandbox import FORBIDDEN

CALL_TIMEOUT = 30.0


@dataclass
class CheckResult:
    id: str
    part: str
    name: str
    title: str
    max_score: float
    score: float
    passed: bool
    summary: str = ""
    lines: list = field(default_factory=list)
    example: str | None = None
    hint: str = ""
    hidden: bool = False
    seconds: float = 0.0
    violation: bool = False
    artifacts: dict = field(default_factory=dict, repr=False)

    @property
    def output(self) -> str:
        """The message a student reads for this check."""
        if self.passed and not self.summary:
            return "passed"
        text = [self.summary]
        if self.example:
            text.append(f"Smallest failing example: {self.example}")
        text.extend(self.lines)
        if self.hint and self.example:
            text.append(f"Hint: {self.hint}")
        return "\n".join(text)


@dataclass
class Report:
    submission: str
    checks: list
    parts: list
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(check.score for check in self.checks)

    @property
    def max_score(self) -> float:
        return sum(check.max_score for check in self.checks)

    def artifacts(self) -> dict:
        """Files the checks produced (a learning curve), by file name."""
        return {name: data for check in self.checks for name, data in check.artifacts.items()}

    def part_totals(self) -> dict:
        totals = {part: [0.0, 0.0] for part in self.parts}
        for check in self.checks:
            totals[check.part][0] += check.score
            totals[check.part][1] += check.max_score
        return {part: tuple(value) for part, value in totals.items()}


def load_checks(parts, include_hidden: bool = False) -> None:
    """Registers the checks of ``parts``; hidden ones only where the hidden package is installed."""
    for part in parts:
        importlib.import_module(f"grader.checks.{part}")
        if include_hidden and importlib.util.find_spec("grader.hidden") is not None:
            if importlib.util.find_spec(f"grader.hidden.{part}") is not None:
                importlib.import_module(f"grader.hidden.{part}")


def forbidden_imports(path: Path) -> list[str]:
    """Forbidden modules that a file imports by name (read by the grader, not the worker)."""
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value] if node.value.partition(".")[0] in FORBIDDEN - {"grader"} and \
                node.value.replace(".", "").isidentifier() else []
        found += [f"{name} (line {node.lineno})" for name in names if name.partition(".")[0] in FORBIDDEN]
    return found


def grade(submission_dir, parts=None, include_hidden: bool = False, rubric=None,
          call_timeout: float = CALL_TIMEOUT, progress=None, limits: Limits | None = None) -> Report:
    """Grades ``submission_dir`` on ``parts`` (default: every part of the rubric)."""
    rubric = rubric or rubric_module.load()
    chosen = [part for part in rubric.parts if parts is None or part in parts]
    unknown = set(parts or ()) - set(rubric.parts)
    if unknown:
        raise ValueError(f"unknown part(s): {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(rubric.parts)}")
    load_checks(chosen, include_hidden)
    torch.set_num_threads(1)  # the references are tiny: thread start-up would cost more than it saves
    entries = rubric.select(chosen, include_hidden)
    entry_of = {entry.id: entry for entry in entries}
    start = time.perf_counter()
    results = []
    with Worker(str(Path(submission_dir)), call_timeout=call_timeout, limits=limits) as worker:
        broken_parts: dict = {}
        for part in chosen:
            found = forbidden_imports(Path(submission_dir) / f"{part}.py")
            if found:
                broken_parts[part] = Failed(
                    f"{part}.py imports {', '.join(found)}: only NumPy, math and the standard library "
                    "are allowed (a violation: this file scores zero)", violation=True)
                continue
            try:
                worker.import_module(part)
            except StudentImportError as error:
                broken_parts[part] = Failed(str(error))
            except StudentViolation as error:
                broken_parts[part] = Failed(str(error), violation=True)
            except WorkerProblem as error:
                broken_parts[part] = Failed(f"importing {part}.py failed: {error}")
        for entry in entries:
            if entry.part in broken_parts:
                result = _result(entry, broken_parts[entry.part], 0.0)
            else:
                result = run_check(entry, worker)
                if result.violation:
                    broken_parts[entry.part] = Failed(result.summary, violation=True)
            results.append(result)
            if progress is not None:
                progress(result)
    results = [_result(entry_of[r.id], broken_parts[r.part], r.seconds)
               if r.part in broken_parts and (r.passed or r.violation) else r for r in results]
    return Report(str(submission_dir), results, chosen, time.perf_counter() - start)


def run_check(entry, worker: Worker) -> CheckResult:
    function = CHECKS.get(entry.id)
    started = time.perf_counter()
    if function is None:
        return _result(entry, Failed(f"the grader has no check {entry.id} (a rubric error)"), 0.0)
    context = Context(worker, entry.id)
    try:
        function(context)
    except Partial as partial:
        score = round(entry.points * partial.fraction, 2)
        return CheckResult(entry.id, entry.part, entry.name, entry.title, entry.points, score,
                           partial.fraction >= 1.0, partial.summary, partial.lines, None, entry.hint,
                           entry.hidden, time.perf_counter() - started, artifacts=context.artifacts)
    except (Failed, WorkerProblem, Exception) as problem:  # noqa: BLE001 - every problem is a verdict
        try:
            failed = as_failed(problem)
        except Exception:  # noqa: BLE001 - a bug in the grader itself must not lose the batch
            failed = Failed(f"internal grader error in {entry.id}: {type(problem).__name__}: {problem}")
        result = _result(entry, failed, time.perf_counter() - started)
        result.artifacts = context.artifacts
        return result
    return CheckResult(entry.id, entry.part, entry.name, entry.title, entry.points, entry.points, True,
                       hidden=entry.hidden, seconds=time.perf_counter() - started,
                       artifacts=context.artifacts)


def _result(entry, failed: Failed, seconds: float) -> CheckResult:
    return CheckResult(entry.id, entry.part, entry.name, entry.title, entry.points, 0.0, False,
                       failed.summary, failed.lines, failed.example, entry.hint, entry.hidden, seconds,
                       failed.violation)
