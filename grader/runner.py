"""Grades one submission: walks the rubric, runs each check against a worker, collects results.

The one path of every verdict: the CLI (or batch, Gradescope, a notebook) calls :func:`grade`;
for each rubric check, the check draws examples, the worker runs the student's function and the
trusted process computes the torch reference and compares. The results come back as one
:class:`grader.results.Report`, and an :class:`Observer` hears of each check as it finishes.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib
import importlib.util
import io
import shutil
import sys
import tempfile
import time
import tokenize
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from grader import config, i18n, replay
from grader import rubric as rubric_module
from grader.checks.harness.base import CHECKS, Context, Failed, Partial, as_failed
from grader.errors import GraderFault
from grader.i18n import N_, _
from grader.results import FAILED, GRADER_ERROR, PASSED, CheckResult, Report, diagnosis, versions
from grader.worker.client import (CallTimeout, Limits, StudentException, StudentFileMissing,
                                  StudentImportError, StudentViolation, Worker, WorkerProblem)
from grader.worker.sandbox import FORBIDDEN

PRINTED_LINES_SHOWN = 15
PRINTED_CHARS_SHOWN = 1500


class Observer:
    """Hears of the grading as it goes (the terminal streams its report from this)."""

    def part_started(self, part: str, notes=(), pending=()) -> None:
        """A part begins: ``notes`` belong at its head, ``pending`` before the first check they
        concern (see :func:`concerned`), if any."""

    def check_finished(self, result: CheckResult) -> None:
        pass

    def waiting(self, entry, elapsed: float, limit: float, printed: str) -> None:
        """A call of student code has been running ``elapsed`` of its ``limit`` seconds."""

    def checking_first(self, parts: list, earlier: list) -> None:
        """``parts`` run the files of ``earlier`` parts (not chosen), which are checked first."""

    def earlier_started(self, part: str) -> None:
        pass

    def earlier_finished(self, part: str, results: list) -> None:
        pass

    def told(self, entry, lines: list[str]) -> None:
        """A running check says ``lines`` before its result (e.g. the pace of a training)."""


class _Earlier(Observer):
    """What the live report hears of a part checked first (not chosen): no check's line, but a
    long call's progress and what a check says while it runs (e.g. that a layer is slow)."""

    def __init__(self, observer: Observer):
        self.observer = observer

    def waiting(self, entry, elapsed: float, limit: float, printed: str) -> None:
        if hasattr(self.observer, "waiting"):
            self.observer.waiting(entry, elapsed, limit, printed)

    def told(self, entry, lines: list[str]) -> None:
        if hasattr(self.observer, "told"):
            self.observer.told(entry, lines)


def load_checks(parts, include_hidden: bool = False) -> None:
    """Registers the checks of ``parts``; hidden ones only where the hidden package is installed.

    The first import brings in torch and hypothesis: hundreds of thousands of objects that live as
    long as the process. They are imported with the garbage collector paused and then frozen out
    of its reach (``gc.freeze``): walking them again and again took 0.2-0.3 s of a 3 s check of
    one part. Garbage already there is collected first, so that none is frozen for good."""
    hidden = include_hidden and importlib.util.find_spec("grader.hidden") is not None
    modules = []
    for part in parts:
        modules.append(f"grader.checks.{part}")
        if hidden and importlib.util.find_spec(f"grader.hidden.{part}") is not None:
            modules.append(f"grader.hidden.{part}")
    new = [module for module in modules if module not in sys.modules]
    if not new:
        return
    paused = gc.isenabled()
    if paused:
        gc.collect()
        gc.disable()
    try:
        for module in new:
            importlib.import_module(module)
    finally:
        if paused:
            gc.freeze()
            gc.enable()


def forbidden_imports(path: Path) -> list[str]:
    """Forbidden modules that a file imports by name (read by the grader, not the worker),
    outside a top-level ``if __name__ == "__main__":``: a student's own checks there (the kit's
    loader, torch to compare with) never run when the grader imports the file, and whatever does
    run, ``__name__`` reassigned or not, meets the worker's import blocker."""
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return []
    graded = ast.Module(body=[node for node in tree.body if not _is_main_guard(node)], type_ignores=[])
    found = []
    for node in ast.walk(graded):
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


def _is_main_guard(node) -> bool:
    """``if __name__ == "__main__":`` (either way round), with no ``else``."""
    if not isinstance(node, ast.If) or node.orelse or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = {type(side).__name__: side for side in (test.left, test.comparators[0])}
    name, constant = sides.get("Name"), sides.get("Constant")
    return name is not None and constant is not None and name.id == "__name__" and constant.value == "__main__"


DEFAULT = object()


@dataclass(frozen=True)
class Plan:
    """What one grading does: the submission, the parts it reports (``chosen``) and the parts it
    grades for them (``needed``: with references, the files they use too, graded silently), the
    rubric, the settings, the reference files, the folders hidden from the worker, the language
    and whether unchanged parts' results are reused. :meth:`make` works them out from
    :func:`grade`'s arguments; :func:`execute` carries one out."""

    submission: str
    rubric: rubric_module.Rubric
    settings: config.Settings
    chosen: tuple
    needed: tuple
    references: Path | None = None
    include_hidden: bool = False
    hide: tuple = ()
    language: str = "en"
    rerun: bool = False
    named_by_name: bool = False   # see Worker

    @classmethod
    def make(cls, submission_dir, parts=None, include_hidden: bool = False, rubric=None,
             settings: config.Settings | None = None, hide: tuple = (), call_timeout: float | None = None,
             references=DEFAULT, language: str | None = None, rerun: bool = False,
             named_by_name: bool = False) -> "Plan":
        rubric = rubric or rubric_module.load()
        settings = settings or rubric.settings
        if call_timeout is not None:
            settings = settings.replace(call_timeout=call_timeout)
        rubric.check_parts(parts)
        if references is DEFAULT:
            references = config.SOLUTIONS if config.is_instructor_kit() else None
        chosen = tuple(part for part in rubric.parts if parts is None or part in parts)
        # the earlier files a chosen part runs are checked first: where one fails its own checks,
        # the part is graded with the reference in its place (the kit), or says to fix it first
        needed = tuple(part for part in rubric.parts
                       if part in chosen or any(part in rubric.uses.get(c, ()) for c in chosen))
        return cls(str(submission_dir), rubric, settings, chosen, needed, references, include_hidden,
                   tuple(hide), i18n.resolve(language, settings.language), rerun, named_by_name)

    @property
    def folder(self) -> Path:
        return Path(self.submission)

    @property
    def limits(self) -> Limits:
        return Limits.from_settings(self.settings, self.hide)

    def worker(self, folder: Path | None = None) -> Worker:
        """A worker on ``folder`` (default: the submission's) under this plan's limits."""
        return Worker(str(folder or self.folder), call_timeout=self.settings.call_timeout,
                      limits=self.limits, files=self.rubric.parts, named_by_name=self.named_by_name)


def grade(submission_dir, parts=None, include_hidden: bool = False, rubric=None,
          settings: config.Settings | None = None, observer: Observer | None = None,
          hide: tuple = (), call_timeout: float | None = None, references=DEFAULT,
          language: str | None = None, rerun: bool = False, named_by_name: bool = False) -> Report:
    """Grades ``submission_dir`` on ``parts`` (default: every part of the rubric).

    ``settings`` default to the rubric's; ``call_timeout`` overrides theirs; ``hide``: folders
    the worker must not see (the class, the results). ``references``: the folder of reference
    files (default: the kit's ``solutions/`` where it is at hand, i.e. official grading). With
    it, a part is graded with the reference file in place of each file it uses that fails its
    own checks, so that a bug costs points only in the part whose file has it. ``rerun``: reuse
    the results of the parts whose inputs did not change since the last run (see grader.rerun;
    ``grader check`` only). ``language``: --lang (see :func:`grader.i18n.resolve`).
    ``named_by_name``: tracebacks name the student's files by name alone (a staged copy)."""
    return execute(Plan.make(submission_dir, parts, include_hidden, rubric, settings, hide, call_timeout,
                             references, language, rerun, named_by_name), observer)


def execute(plan: Plan, observer: Observer | None = None) -> Report:
    """Carries out ``plan``; ``observer`` hears of each part and check as they go."""
    with plan.worker() as worker:
        if not plan.rerun:  # a rerun loads the checks (and torch) of the parts it grades again only
            worker.launch()  # its start-up overlaps the imports
            load_checks(plan.needed, plan.include_hidden)
            config.apply_threads(plan.settings)
        start = time.perf_counter()
        with i18n.speaking(plan.language):  # restored after
            store = None
            if plan.rerun:
                from grader.rerun import Store

                store = Store(plan.folder, plan.rubric, plan.settings, plan.language, plan.references)
            return _grade(plan, observer or Observer(), start, worker, store)


def _grade(plan: Plan, observer: Observer, start: float, worker: Worker, store=None) -> Report:
    folder, rubric, settings, references = plan.folder, plan.rubric, plan.settings, plan.references
    chosen, include_hidden = plan.chosen, plan.include_hidden
    own: dict = {}      # part -> its results, as graded for its own checks
    notes: dict = {}    # part -> what its feedback must say first
    earlier = [part for part in plan.needed if part not in chosen]
    if earlier:
        observer.checking_first([part for part in chosen if set(rubric.uses.get(part, ())) & set(earlier)],
                                earlier)
    for part in plan.needed:
        silent = part not in chosen
        if silent:
            observer.earlier_started(part)
        kept = store.load(part) if store is not None and not include_hidden else None
        if kept is not None:
            own[part], kept_notes = kept
            if silent:
                observer.earlier_finished(part, own[part])
            if kept_notes:
                notes[part] = kept_notes
            if not silent:
                reused = _("unchanged since the last check (its file, the files it uses and the grader): "
                           "its results are reused")
                if references:
                    observer.part_started(part, [*kept_notes, reused])
                else:
                    observer.part_started(part, [reused], pending=kept_notes)
                for result in own[part]:
                    observer.check_finished(result)
            continue
        if store is not None:
            load_checks([part], include_hidden)
            config.apply_threads(settings)
        entries = rubric.select([part], include_hidden)
        failing = {used: sum(not r.passed and not r.grader_error for r in own[used])
                   for used in rubric.uses.get(part, ()) if used in own}
        failing = {used: count for used, count in failing.items() if count}
        if failing:
            notes[part] = [_dependency_note(rubric.parts[used], count, (folder / rubric.parts[used]).is_file(),
                                            bool(references)) for used, count in failing.items()]
        if not silent and failing and not references:  # said before the first check it concerns
            observer.part_started(part, pending=notes[part])
        elif not silent:
            observer.part_started(part, notes.get(part, ()))
        if failing and references:
            with _composed(folder, references, failing, rubric) as composed, plan.worker(composed) as other:
                results = _grade_part(other, composed, part, entries, settings,
                                      _Earlier(observer) if silent else observer, withhold=True)
        else:
            results = _grade_part(worker, folder, part, entries, settings,
                                  _Earlier(observer) if silent else observer)
        own[part] = results
        if silent:
            observer.earlier_finished(part, results)
        if store is not None and not include_hidden:
            store.save(part, results, notes.get(part, ()))
    results = [result for part in chosen for result in own[part]]
    return Report(plan.submission, results, list(chosen), time.perf_counter() - start, versions(),
                  {part: notes[part] for part in chosen if part in notes and (references or any(
                      concerned(result) for result in own[part]))},
                  {part: rubric.parts[part] for part in chosen})


def concerned(result: CheckResult) -> bool:
    """Whether a part's note about the earlier files it runs concerns this check: it failed,
    and not merely because its own function is not written yet."""
    return not result.passed and not result.grader_error and not result.unwritten


# What a forward keeps for later calls (updated in place) and what it must refuse: its backward
# reads neither, so a forward failing only there does not explain a failing backward.
_NOT_READ_BY_BACKWARD = ("running_mean", "running_var", "no ValueError")


def _explains_a_backward(result: CheckResult) -> bool:
    """Whether a failing forward check may be why its backward fails too."""
    found = result.diagnosis or {}
    words = f"{found.get('kind') or ''} {found.get('output') or ''}"
    return not any(name in words for name in _NOT_READ_BY_BACKWARD)


def _forward_fails(result: CheckResult, failed_names: set) -> str:
    """The lead of a failing backward check whose forward check failed too (it uses that forward)."""
    forward = result.name.replace("_backward", "_forward")
    if forward == result.name or forward not in failed_names or not concerned(result):
        return ""
    return _("your {forward} fails too: fix it first").format(forward=forward)


@contextlib.contextmanager
def _composed(folder: Path, references: Path, replaced, rubric):
    """The student's files with the reference file in place of each part in ``replaced``."""
    with tempfile.TemporaryDirectory(prefix="grader-composed-") as composed:
        composed = Path(composed)
        for path in folder.glob("*.py"):
            if path.is_file() and not path.is_symlink():
                shutil.copyfile(path, composed / path.name)
        for part in replaced:
            shutil.copyfile(Path(references) / rubric.parts[part], composed / rubric.parts[part])
        yield composed


def _dependency_note(file: str, failing: int, handed_in: bool, references: bool) -> str:
    """What a part's feedback says first about a file it runs that fails its own checks."""
    if references and handed_in:
        return _("graded with the reference {file}, because yours fails {count} of its own checks").format(
            file=file, count=failing)
    if references:
        return _("graded with the reference {file}, because yours is missing").format(file=file)
    if handed_in:
        return _("this part runs your {file}, which fails {count} of its own checks (their points are "
                 "counted there): fix it first").format(file=file, count=failing)
    return _("this part runs your {file}, which is missing: write it first").format(file=file)


def _grade_part(worker: Worker, folder: Path, part: str, entries, settings, observer,
                withhold: bool = False) -> list:
    """Runs ``part``'s checks on ``worker``. ``withhold``: reference files are in the worker, so
    a failing check says which layer departs and nothing computed there."""
    broken = _import_part(worker, folder, part)
    results = []
    failed_names: set = set()
    for number, entry in enumerate(entries):
        if broken is not None:
            failure = broken
            if number and failure.once:
                failure = Failed(_("not graded: {file} does not import (the error is shown under "
                                   "its first check)").format(file=worker.file_of(part)),
                                 diagnosis=diagnosis("does not import"))
            result = _failed(entry, failure, 0.0)
        else:
            result = run_check(entry, worker, settings, observer)
            if result.violation:
                broken = Failed(result.summary, violation=True, diagnosis=result.diagnosis)
        if not result.passed and not result.grader_error:
            lead = _forward_fails(result, failed_names) if broken is None else ""
            if _explains_a_backward(result):
                failed_names.add(result.name)
            if withhold:
                _withhold(result)
            if lead:
                result.summary = _("{lead}. {summary}").format(lead=lead, summary=result.summary)
        results.append(result)
        if observer is not None:
            observer.check_finished(result)
    if broken is not None and broken.violation:
        # a violation found by a later check zeroes the checks of that file that passed before it
        results = [_failed(entry, broken, r.seconds) if r.passed or r.violation else r
                   for entry, r in zip(entries, results)]
    return results


def _withhold(result: CheckResult) -> None:
    """Nothing the worker computed may reach the student where reference code ran beside theirs
    (their code could read it and smuggle it out through the numbers): pass or fail, and which
    layer departs first. "Not implemented yet" is the grader's own sentence: it stays."""
    if result.unwritten:
        return
    from grader.checks.harness.network import DepartureLine  # torch: only where a check ran

    kept = [line.strip() for line in result.lines if isinstance(line, DepartureLine)]
    result.summary = _("failed (graded with the reference files named above, so this check shows "
                       "no values; run it on your own files to see them)")
    result.lines, result.example = kept, None
    if result.diagnosis:  # how the values departed was computed beside reference code: not kept
        result.diagnosis = dict(result.diagnosis, pattern=None)


def _import_part(worker: Worker, folder: Path, part: str) -> Failed | None:
    """Imports the part's file; returns the verdict when it cannot be graded."""
    file = worker.file_of(part)
    found = forbidden_imports(folder / file)
    if found:
        return Failed(_("{file} imports {names}: only NumPy, math and the standard library are "
                        "allowed outside `if __name__ == \"__main__\":` (a violation: this file scores "
                        "zero)").format(
                            file=file, names=_(", ").join(found)), violation=True,
                      diagnosis=diagnosis("violation", pattern=" ".join(sorted(
                          {name.partition(" ")[0].partition(".")[0] for name in found}))))
    try:
        worker.import_module(part)
    except StudentFileMissing as error:
        return Failed(str(error), diagnosis=diagnosis("does not import"))
    except StudentImportError as error:
        problem = _source_problem(folder / file, file)
        if problem is not None:
            return Failed(problem, diagnosis=diagnosis("does not import"), once=True)
        exercise = worker.exercise_files()
        if error.not_found and (folder / f"{error.not_found}.py").is_file() \
                and f"{error.not_found}.py" not in exercise:  # a module of the student's own
            return Failed(_("{file} imports {module}, a module of your own: only the exercise files "
                            "({files}) are handed in and graded, so {module}.py would be missing. Move "
                            "what you use from it into {file}").format(
                                file=file, module=error.not_found, files=_(", ").join(exercise)),
                          diagnosis=diagnosis("does not import"), once=True)
        return Failed(str(error), diagnosis=diagnosis("does not import"), once=True)
    except StudentViolation as error:
        return Failed(str(error), violation=True, diagnosis=diagnosis("violation"))
    except CallTimeout:
        return Failed(_("importing {file} did not finish within {limit:g} s: the code at the top level of "
                        "{file} runs when the grader imports it. Put your own tests and trainings under "
                        "`if __name__ == \"__main__\":`, so that they run only when you run the file "
                        "yourself").format(file=file, limit=worker.call_timeout),
                      diagnosis=diagnosis("does not import"), once=True)
    except WorkerProblem as error:
        return Failed(_("importing {file} failed: {error}").format(file=file, error=error),
                      diagnosis=diagnosis("does not import"), once=True)
    return None


def _source_problem(path: Path, file: str) -> str | None:
    """What stops a file that does not import, in words a beginner can act on, where the grader
    can tell it from the source alone (compiled here, never run): bytes that its encoding (UTF-8
    unless the file declares another) cannot read, as in a file saved as GBK with Chinese in a
    string, where nothing else would fail; or a full-width character in the code, typed with a
    Chinese input method (Python's own message is English). None otherwise: Python's error says it."""
    try:
        data = path.read_bytes()
        encoding, _lines = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:  # no declaration, and a first line that is not UTF-8 (a GBK comment at the top)
        encoding = "utf-8"
    except (OSError, LookupError):
        return None
    stopped = _compile_error(data, path)  # as Python compiles the file
    if stopped is None:  # it compiles: what stops it runs, and Python's error says what
        return None
    try:
        data.decode(encoding)
    except UnicodeDecodeError as error:
        failure = _compile_error(data.decode(encoding, "replace"), path)
        if failure is not None and _offending_character(failure) != "\ufffd":
            return _full_width_character(failure, file)  # another fault than the bytes: name it if we can
        # the line Python stopped at (bytes in a comment do not stop it), else the first such line
        line = stopped.lineno or data.count(b"\n", 0, error.start) + 1
        try:
            data.decode("gbk")
        except UnicodeDecodeError:
            return _("{file} is not saved as UTF-8: line {line} holds bytes that UTF-8 cannot read. Python "
                     "reads a .py file as UTF-8: save it again with the encoding UTF-8 (in VS Code: click "
                     "the encoding in the status bar, then \"Save with Encoding\", UTF-8)").format(file=file, line=line)
        return _("{file} is not saved as UTF-8: line {line} holds bytes that UTF-8 cannot read (they "
                 "read as GBK, the encoding of Chinese Windows). Python reads a .py file as UTF-8: "
                 "save it again with the encoding UTF-8 (in VS Code: click the encoding in the status "
                 "bar, then \"Save with Encoding\", UTF-8)").format(file=file, line=line)
    return _full_width_character(stopped, file)


def _offending_character(error: SyntaxError) -> str | None:
    """The character a compile error points at, where it points at one."""
    if error.text and error.offset and 0 < error.offset <= len(error.text):
        return error.text[error.offset - 1]
    return None


def _full_width_character(error: SyntaxError, file: str) -> str | None:
    """The message for a compile error at a full-width character with a one-character ASCII twin."""
    character = _offending_character(error)
    if character is None:
        return None
    plain = unicodedata.normalize("NFKC", character)
    if unicodedata.east_asian_width(character) not in ("F", "W") or len(plain) != 1 or not plain.isascii():
        return None
    if not plain.strip():
        return _("line {line} of {file} has a full-width space in the code, where Python needs an ordinary "
                 "space (typed with the input method in Chinese mode): type it again in English "
                 "mode").format(line=error.lineno, file=file)
    return _("line {line} of {file} has the full-width character \"{character}\" in the code, where Python "
             "needs the ASCII \"{plain}\" (typed with the input method in Chinese mode): type it again in "
             "English mode").format(line=error.lineno, file=file, character=character, plain=plain)


def _compile_error(source: str | bytes, path: Path) -> SyntaxError | None:
    try:
        compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as error:
        return error
    except (ValueError, RecursionError, MemoryError):
        return SyntaxError()
    return None


def run_check(entry, worker: Worker, settings: config.Settings = config.DEFAULTS,
              observer: Observer | None = None) -> CheckResult:
    function = CHECKS.get(entry.id)
    started = time.perf_counter()
    if function is None:
        return _grader_error(entry, _("the grader has no check {id} (a rubric error)").format(id=entry.id), 0.0)
    context = Context(worker, entry.id, settings=settings)
    if observer is not None and hasattr(observer, "told"):
        context.listener = lambda lines: observer.told(entry, lines)
    printed_from = worker.output_size()
    worker.recorder = replay.Recorder()
    if observer is not None:
        worker.heartbeat = lambda elapsed, limit: observer.waiting(
            entry, elapsed, limit, worker.output_since(printed_from))
    try:
        with worker.scope():  # the check's results are released after it, pass or fail
            function(context)
    except Partial as partial:
        result = CheckResult(entry.id, entry.part, entry.name, _title(entry), entry.points,
                             score=round(entry.points * partial.fraction, 2),
                             status=PASSED if partial.fraction >= 1.0 else FAILED,
                             summary=partial.summary, lines=partial.lines, hint=_hint(entry),
                             hidden=entry.hidden, diagnosis=None if partial.fraction >= 1.0 else partial.diagnosis)
    except GraderFault as fault:
        result = _grader_error(entry, str(fault), 0.0)
    except Exception as problem:  # noqa: BLE001 - every problem is a verdict
        try:
            failed = as_failed(problem)
        except Exception:  # noqa: BLE001 - not the student's doing: a fault of the grader
            result = _grader_error(entry, f"{type(problem).__name__}: {problem}", 0.0)
        else:
            if failed.example is None and not failed.unwritten and worker.recorder.calls:
                failed.example = replay.describe(worker.recorder.calls[-1], worker.recorder.calls)  # the call that hung or broke
            result = _failed(entry, failed, 0.0)
            result.lines = result.lines + _printed(worker.output_since(printed_from))
            if failed.example and not entry.hidden:
                _add_replay(result, context, worker.recorder.calls, failed.compared)
            if entry.hidden:
                _say_nothing_the_code_made(result, problem)
    else:
        result = CheckResult(entry.id, entry.part, entry.name, _title(entry), entry.points,
                             score=entry.points, status=PASSED, hint=_hint(entry), hidden=entry.hidden)
    finally:
        worker.heartbeat = None
        worker.recorder = None
    result.seconds = time.perf_counter() - started
    result.artifacts = context.artifacts
    return result


HIDDEN_FAILED = N_("failed (a hidden check shows nothing your code returned, raised or printed)")


def _say_nothing_the_code_made(result: CheckResult, problem: Exception) -> None:
    """A hidden check's summary, which students read, in the grader's words alone: the student's
    exception message, an exit status or the shape of a result can carry the hidden inputs out
    (``raise ValueError(repr(x))``). The instructors' view (``--show-hidden-inputs``) keeps the
    whole summary as its first line. "Not implemented", a timeout and a violation (which names
    the forbidden package alone, see Worker) name nothing the code made."""
    if result.unwritten or result.violation or (result.diagnosis or {}).get("kind") == "timeout":
        return
    result.lines = [result.summary, *result.lines]
    classes = problem.classes if isinstance(problem, StudentException) else ()
    builtin = next((name.partition(".")[2] for name in classes if name.startswith("builtins.")), None)
    result.summary = _("your code raised {error}").format(error=builtin) if builtin else _(HIDDEN_FAILED)


def _add_replay(result: CheckResult, context: Context, calls: list, compared=None) -> None:
    """The Python that reruns the failing example on the student's files, and its arrays;
    with ``compared`` (the result and the expected value), it prints the two side by side."""
    lines, arrays = replay.script(calls, compared, i18n.language(), context.worker.files)
    if not lines:
        return
    npz = f"replay-{result.id}.npz"
    if arrays:
        context.artifacts[npz] = replay.arrays_npz(arrays)
    if arrays:
        title = _("Run this example again in the folder of your files (with {npz}, saved beside "
                  "this report, in that folder):").format(npz=npz)
    else:
        title = _("Run this example again in the folder of your files:")
    result.lines = result.lines + ["", title]
    result.lines += ["    " + line.replace("{npz}", npz) for line in lines]


def _printed(text: str) -> list[str]:
    """What the student's code printed while the check ran, truncated as pytest does."""
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        return []
    shown = lines[-PRINTED_LINES_SHOWN:]
    cut = len(lines) - len(shown)
    body = "\n".join(shown)[-PRINTED_CHARS_SHOWN:]
    title = _("Your code printed ({count} earlier line(s) cut):").format(count=cut) if cut else \
        _("Your code printed:")
    return ["", title, *("    " + line for line in body.splitlines())]


def _title(entry) -> str:
    return entry.title_in(i18n.language()) if hasattr(entry, "title_in") else entry.title


def _hint(entry) -> str:
    return entry.hint_in(i18n.language()) if hasattr(entry, "hint_in") else entry.hint


def _failed(entry, failed: Failed, seconds: float) -> CheckResult:
    return CheckResult(entry.id, entry.part, entry.name, _title(entry), entry.points, 0.0, FAILED,
                       failed.summary, list(failed.lines), failed.example, _hint(entry), entry.hidden,
                       seconds, failed.violation, failed.unwritten, diagnosis=failed.diagnosis)


def _grader_error(entry, detail: str, seconds: float) -> CheckResult:
    return CheckResult(entry.id, entry.part, entry.name, _title(entry), entry.points, 0.0, GRADER_ERROR,
                       _("internal grader error (not a mistake in your code): {detail}").format(detail=detail),
                       hint=_hint(entry), hidden=entry.hidden, seconds=seconds)
