"""The grader's side of the worker: starts it, sends calls, reads answers, kills it when it hangs."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from grader.config import DEFAULTS, ROOT, THREAD_ENV, Settings
from grader import replay
from grader.i18n import _
from grader.worker import protocol
from grader.worker.sandbox import end_user_processes, worker_user
from grader.worker.protocol import ErrorKind
from grader.worker.protocol import Opaque, Ref, Rng  # noqa: F401 - re-exported for checks

MAX_ANSWER_BYTES = 1 << 30
HEARTBEAT_SECONDS = 5.0
EXIT_WAIT_SECONDS = 2.0  # for a worker whose pipe closed to end, before it is taken as alive


class WorkerProblem(Exception):
    """A call did not produce an answer; ``str()`` is the message a student reads."""


class StudentImportError(WorkerProblem):
    """The file is missing or does not import; ``not_found``: the module an import did not find."""

    def __init__(self, message: str, not_found: str | None = None):
        super().__init__(message)
        self.not_found = not_found


class StudentFileMissing(StudentImportError):
    """The file is not in the submission."""


class StudentMissingName(WorkerProblem):
    """The file imports but does not define the name."""


class StudentViolation(WorkerProblem):
    """The student's code imported a forbidden module (torch, scipy, ...)."""


class StudentException(WorkerProblem):
    """The student's function raised."""

    def __init__(self, type_name: str, message: str, trace: str, classes: tuple = ()):
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name
        self.message = message
        self.trace = trace
        self.classes = tuple(classes)   # the class hierarchy, "module.qualname", most derived first

    def is_a(self, builtin: str) -> bool:
        """Whether the exception is an instance of the built-in exception class ``builtin``."""
        return f"builtins.{builtin}" in self.classes


class CallTimeout(WorkerProblem):
    """The call took longer than its limit; the worker was killed."""


class WorkerCrashed(WorkerProblem):
    """The worker died (os._exit, a segfault, the memory limit) or spoke nonsense."""


@dataclass
class Returned:
    value: object
    handle: int
    seconds: float = 0.0
    args_after: list | None = None
    kwargs_after: dict | None = None
    cpu_seconds: float = 0.0  # the CPU time of the worker's thread in the call: unlike ``seconds``, not stretched by load

    @property
    def busy_seconds(self) -> float:
        """The call's time as it would be on a machine left to it: the lesser of its wall clock
        (which a busy machine stretches) and the CPU time of the thread that ran it."""
        return min(self.seconds, self.cpu_seconds)


class CallClock:
    """A call's time against its limit: the wall clock less the time the worker waited for a
    processor that other programs held (Linux's schedstat), so that a busy machine does not turn
    a correct call into a timeout (a niced grading beside full-priority work gets ~1/70 of a
    core). Waiting for the student's own sleep, pipe or child counts; the wall clock is capped at
    ``stretch`` times the limit. Elsewhere, or without the worker's pid, the plain wall clock."""

    def __init__(self, limit: float, pid: int | None, stretch: int):
        self.limit, self.pid, self.stretch = limit, pid, stretch
        self.started = time.monotonic()
        self.waited_before = self._waited()

    def _waited(self) -> float:
        """Seconds the worker's main thread has spent runnable but not running, since it began."""
        if self.pid is None:
            return 0.0
        try:
            with open(f"/proc/{self.pid}/schedstat") as handle:
                return int(handle.read().split()[1]) / 1e9
        except (OSError, ValueError, IndexError):
            return 0.0

    def given(self) -> float:
        """The seconds the call has had of the machine."""
        return time.monotonic() - self.started - max(0.0, self._waited() - self.waited_before)

    def left(self) -> float:
        """Seconds until the call's limit, at the most by the cap on the wall clock."""
        now = time.monotonic()
        if now - self.started < self.limit:  # given() <= the wall clock: Linux need not be asked yet
            return self.limit - (now - self.started)
        return min(self.limit - self.given(), self.started + self.limit * self.stretch - now)


@dataclass(frozen=True)
class Limits:
    """What one worker may use: the sandbox's share of :class:`~grader.config.Settings`.
    ``hide``: folders made invisible to it (as root)."""

    settings: Settings = DEFAULTS
    hide: tuple = ()

    @classmethod
    def from_settings(cls, settings: Settings, hide: tuple = ()) -> "Limits":
        return cls(settings, tuple(hide))

    def config(self) -> dict:
        return {"memory_bytes": self.settings.memory_bytes, "cpu_seconds": self.settings.cpu_seconds,
                "file_bytes": self.settings.file_bytes, "processes": self.settings.processes,
                "hide": [os.path.abspath(path) for path in (GRADER_HOME, *self.hide)]}


GRADER_HOME = str(ROOT)


class Worker:
    """One sandboxed subprocess holding one submission. Restarted on demand after a crash.

    The worker sees a scratch copy of the submission's regular files, never the folder itself.
    ``files``: each part's file (the rubric's ``[parts]``); a part it does not name is ``part.py``.
    ``named_by_name``: a traceback or a warning names the student's files by their name alone
    (a staged copy graded officially, whose folder means nothing to the student), not by their
    path in ``submission_dir``."""

    def __init__(self, submission_dir: str, call_timeout: float = DEFAULTS.call_timeout,
                 limits: Limits | None = None, files: dict | None = None, named_by_name: bool = False):
        self.submission_dir = os.path.abspath(submission_dir)
        self.named_by_name = named_by_name
        self.files = dict(files or {})
        self.call_timeout = call_timeout
        self.limits = limits or Limits()
        self.process: subprocess.Popen | None = None
        self.generation = 0
        self.output_file = None
        self.scratch: str | None = None
        self.hung: dict = {}
        self.heartbeat = None  # called as heartbeat(elapsed, limit) while a long call runs
        self.recorder: replay.Recorder | None = None  # the calls of the current example
        self.skipped: list = []  # the sandbox steps the worker's platform did not allow (for the staff)
        self._greeted = False      # the running process said it is confined and ready
        self._held: set = set()    # handles of this generation's results, until released
        self._asked: set = set()   # of those, the ones a check asked to keep beyond its scope

    # -- lifetime -------------------------------------------------------------------------
    def _make_scratch(self) -> str:
        """A copy of the exercise files (the ``.py`` files, where no ``files`` were named): a module
        of the student's own beside them would be missing from an official grading, which takes
        the exercise files only (grader.batch.unpack)."""
        scratch = tempfile.mkdtemp(prefix="grader-scratch-")
        copied = 0
        exercise = self.exercise_files()
        for entry in sorted(os.scandir(self.submission_dir), key=lambda e: e.name):
            if entry.is_file(follow_symlinks=False) and entry.name.endswith(".py") and \
                    (not exercise or entry.name in exercise):
                copied += entry.stat(follow_symlinks=False).st_size
                if copied > self.limits.settings.copied_bytes:
                    break
                shutil.copyfile(entry.path, os.path.join(scratch, entry.name), follow_symlinks=False)
        return scratch  # private; as root, the worker gives it to its own user (sandbox.apply)

    def exercise_files(self) -> list[str]:
        """The files of every part of the kit's rubric and those named by ``files`` (none when no
        ``files`` were named: then any ``.py`` file is the student's)."""
        if not self.files:
            return []
        from grader import rubric as rubric_module

        return list(dict.fromkeys([*rubric_module.load().parts.values(), *self.files.values()]))

    def launch(self) -> None:
        """Starts the worker's process without waiting for its greeting: its start-up (Python,
        NumPy, the sandbox) runs on another core while the grader goes on (imports torch and the
        checks); the first request waits for the greeting."""
        if self.process is None:
            self.start(greet=False)

    def start(self, greet: bool = True) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch = self._make_scratch()
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        if self.output_file is None:
            self.output_file = tempfile.TemporaryFile()
        env = {name: value for name, value in os.environ.items()
               if name in ("PATH", "LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
        env.update(THREAD_ENV, PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0", PYTHONUNBUFFERED="1",
                   HOME=self.scratch)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.worker.server", self.scratch,
             str(to_worker_r), str(from_worker_w), json.dumps(self.limits.config()), json.dumps(self.files)],
            stdin=subprocess.DEVNULL, stdout=self.output_file, stderr=self.output_file,
            pass_fds=(to_worker_r, from_worker_w), cwd=GRADER_HOME, env=env,
            start_new_session=True,
        )
        os.close(to_worker_r)
        os.close(from_worker_w)
        self._requests = os.fdopen(to_worker_w, "wb")
        self._answers_fd = from_worker_r
        self.generation += 1
        self._held, self._asked = set(), set()
        self._greeted = False
        if greet:
            self._hello()

    def _hello(self) -> None:
        """Reads the worker's first message: it is confined and waits for requests."""
        clock = self._clock(self.call_timeout)
        try:
            hello, _buffers = protocol.read_message(lambda n: self._read_exactly(n, clock), MAX_ANSWER_BYTES)
        except protocol.ProtocolError as error:
            self.stop()
            raise WorkerCrashed(f"the worker sent a malformed greeting ({error})") from None
        skipped = hello.get("skipped")
        if hello.get("ready") is not True or not isinstance(skipped, list):
            self.stop()
            raise WorkerCrashed("the worker sent a malformed greeting")
        self.skipped = [str(step)[:500] for step in skipped[:32]]
        self._greeted = True

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if os.geteuid() == 0:  # its children that left its process group run as its user; before
            end_user_processes(worker_user(self.process.pid))  # the wait, which frees its pid (and user)
        self.process.wait()
        for closer in (self._requests.close, lambda: os.close(self._answers_fd)):
            try:
                closer()
            except OSError:
                pass
        self.process = None

    def close(self) -> None:
        self.stop()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
        if self.output_file is not None:
            self.output_file.close()
            self.output_file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- calls ----------------------------------------------------------------------------
    def call(self, target: str | tuple, *args, depth: int = 1, echo_args: bool = False,
             timeout: float | None = None, shapes: bool = False, **kwargs) -> Returned:
        """Calls ``target`` ("part.name", or ``(Ref, "method")``) with plain values, arrays,
        :class:`Ref` and :class:`Rng` arguments. ``shapes``: the result's arrays come back
        as ``{"shape": tuple, "dtype": str}`` dicts, their bytes stay in the worker."""
        if isinstance(target, str) and target in self.hung:
            raise CallTimeout(_("{reason} (in an earlier call, so it was not called again)").format(
                reason=self.hung[target]))
        buffers: list = []
        if isinstance(target, tuple):
            ref, attr = target
            wire_target = {"handle": ref.handle, "path": list(ref.path), "attr": attr}
        else:
            wire_target = target
        request = {"op": "call", "target": wire_target, "depth": depth, "echo_args": echo_args,
                   "shapes": bool(shapes),
                   "args": protocol.encode(list(args), buffers),
                   "kwargs": protocol.encode(dict(kwargs), buffers)}
        record = self._record(target, args, kwargs)
        try:
            answer, answer_buffers = self._exchange(request, buffers, timeout)
        except CallTimeout as error:
            if isinstance(target, str):
                self.hung[target] = str(error)
            raise
        if record is not None:
            record.handle = answer.get("handle")
        try:
            value = protocol.decode(answer.get("result"), answer_buffers)
            args_after = kwargs_after = None
            if echo_args:
                args_after = protocol.decode(answer.get("args_after"), answer_buffers)
                kwargs_after = protocol.decode(answer.get("kwargs_after"), answer_buffers)
            seconds, cpu_seconds = answer.get("seconds", 0.0), answer.get("cpu_seconds", 0.0)
            if not isinstance(seconds, (int, float)) or not isinstance(cpu_seconds, (int, float)):
                raise protocol.ProtocolError("malformed timing")
            if record is not None:
                record.result = value
                if echo_args:
                    record.after = (args_after, kwargs_after)
            return Returned(value, answer.get("handle"), float(seconds), args_after, kwargs_after, float(cpu_seconds))
        except protocol.ProtocolError as error:
            self.stop()
            raise WorkerCrashed(f"the worker sent a malformed answer ({error})") from None

    def get(self, ref: Ref, attr: str | None = None, depth: int = 1, shapes: bool = False) -> Returned:
        """Reads ``ref`` (or its attribute ``attr``); ``shapes`` as in :meth:`call`."""
        request = {"op": "get", "handle": ref.handle, "path": list(ref.path), "attr": attr, "depth": depth,
                   "shapes": bool(shapes)}
        record = self._record((ref, attr), (), {}, op="get")
        answer, answer_buffers = self._exchange(request, [], None)
        if record is not None:
            record.handle = answer.get("handle")
        try:
            value = protocol.decode(answer.get("result"), answer_buffers)
            if record is not None:
                record.result = value
            return Returned(value, answer.get("handle"))
        except protocol.ProtocolError as error:
            self.stop()
            raise WorkerCrashed(f"the worker sent a malformed answer ({error})") from None

    def keep(self, value) -> Ref:
        """Stores ``value`` in the worker (e.g. a dict that calls update in place); returns its Ref."""
        buffers: list = []
        answer, _buffers = self._exchange({"op": "keep", "value": protocol.encode(value, buffers)}, buffers, None)
        handle = answer.get("handle")
        if not isinstance(handle, int) or isinstance(handle, bool):
            self.stop()
            raise WorkerCrashed("the worker sent a malformed answer")
        if self.recorder is not None:
            self.recorder.calls.append(replay.Call(None, (value,), {}, handle, op="keep"))
        return Ref(handle)

    def _record(self, target, args, kwargs, op: str = "call"):
        """Notes a call for :mod:`grader.replay` (the arrays as they were sent)."""
        if self.recorder is None:
            return None
        size = sum(a.size for a in protocol.arrays_in((args, kwargs)))
        if size > replay.MAX_ELEMENTS:  # a whole network's weights: not worth a replay file
            call = replay.Call(None, (), {}, None, op="too large")
        else:
            call = replay.Call(target, copy.deepcopy(args), copy.deepcopy(kwargs), None, op)
        self.recorder.calls.append(call)
        return call

    def import_module(self, part: str) -> None:
        """Raises :class:`StudentImportError` when the part's file is missing or fails to import."""
        self._exchange({"op": "import", "module": part}, [], None)

    def file_of(self, part: str) -> str:
        return self.files.get(part, f"{part}.py")

    def release(self, *handles: int) -> None:
        self._held.difference_update(handles)
        self._asked.difference_update(handles)
        if self.process is not None and handles:
            try:
                self._exchange({"op": "release", "handles": list(handles)}, [], None)
            except WorkerProblem:
                pass

    def keep_beyond_scope(self, handle: int) -> None:
        """Asks that ``handle`` outlive the :meth:`scope` that made it (released only by
        :meth:`release`): a result one check leaves for another."""
        if handle in self._held:
            self._asked.add(handle)

    @contextlib.contextmanager
    def scope(self):
        """Releases, on leaving, every result made inside (a check's, an example's), whether it
        passed or failed, except those asked to be kept (:meth:`keep_beyond_scope`)."""
        generation, before = self.generation, set(self._held)
        try:
            yield
        finally:
            made = self._held - self._asked - (before if self.generation == generation else set())
            if made:
                self.release(*sorted(made))

    def held(self) -> int:
        """How many results the worker holds now (it counts them itself)."""
        answer, _buffers = self._exchange({"op": "held"}, [], None)
        count = answer.get("count")
        if not isinstance(count, int) or isinstance(count, bool):
            self.stop()
            raise WorkerCrashed("the worker sent a malformed answer")
        return count

    def ref(self, returned: Returned, *path) -> Ref:
        return Ref(returned.handle, path)

    def _exchange(self, request: dict, buffers: list, timeout: float | None):
        if self.process is None:
            self.start()
        elif not self._greeted:
            self._hello()
        limit = self.call_timeout if timeout is None else timeout
        try:
            protocol.write_message(self._requests, request, buffers)
        except (BrokenPipeError, OSError):
            self._crashed_message()
        clock = self._clock(limit)
        try:
            answer, answer_buffers = protocol.read_message(lambda n: self._read_exactly(n, clock), MAX_ANSWER_BYTES)
        except protocol.ProtocolError as error:
            self.stop()
            raise WorkerCrashed(f"the worker sent a malformed answer ({error})") from None
        if answer.get("ok") is True:
            handle = answer.get("handle")
            if isinstance(handle, int) and not isinstance(handle, bool):
                self._held.add(handle)
            return answer, answer_buffers
        self._raise_for(answer.get("error"), request)

    def _raise_for(self, error, request: dict):
        """The exception for a failed request: chosen by the error's kind and fields, never by its
        text. The sentences are the grader's own, built from what it asked (the worker's text is
        the student's code speaking: only the exception's type and message are quoted from it)."""
        try:
            kind = ErrorKind(error.get("kind"))
        except (AttributeError, ValueError):
            self.stop()
            raise WorkerCrashed("the worker sent a malformed answer") from None
        type_name = str(error.get("type", "Exception"))[:100]
        message = str(error.get("message", ""))[:2000]
        trace = str(error.get("traceback", ""))[:4000]
        message, trace = self._as_the_student_knows(message), self._as_the_student_knows(trace)
        stem, name = _asked(request)
        module = error.get("module")  # a violation's forbidden module, or the one an import did not find
        module = module if isinstance(module, str) and module.replace(".", "").isidentifier() else None
        if kind is ErrorKind.NO_FILE and stem:
            raise StudentFileMissing(_("{file} is missing from the submission").format(file=self.file_of(stem)))
        if kind in (ErrorKind.NO_FILE, ErrorKind.IMPORT):
            raise StudentImportError((_("importing failed with {type}: {message}").format(
                type=type_name, message=message) + f"\n{trace}").rstrip(), not_found=module)
        if kind is ErrorKind.MISSING:
            if name and stem:
                raise StudentMissingName(_("{file} does not define {name}").format(file=self.file_of(stem),
                                                                                   name=name))
            raise StudentMissingName(message)
        if kind is ErrorKind.VIOLATION:  # the package alone: a module's name can carry data out of a hidden check
            detail = _("your code tried to import {module}").format(module=module.partition(".")[0]) if module \
                else _("your code tried to import a forbidden module")
            raise StudentViolation(_("{detail} (a violation: this file scores zero)").format(detail=detail))
        if kind is ErrorKind.EXCEPTION:
            classes = error.get("classes")
            classes = [str(c)[:200] for c in classes[:32]] if isinstance(classes, list) else []
            raise StudentException(type_name, message, trace, classes)
        self.stop()
        raise WorkerCrashed(f"the worker reported a protocol error: {message}")

    def _clock(self, limit: float) -> "CallClock":
        return CallClock(limit, self.process.pid, self.limits.settings.busy_stretch)

    def _read_exactly(self, n: int, clock: "CallClock") -> bytes:
        chunks, remaining = [], n
        while remaining:
            left = clock.left()
            if left <= 0:
                self.stop()
                raise CallTimeout(_("the call did not finish within {limit} s and was stopped "
                                    "(an endless loop, or code far too slow)").format(limit=f"{clock.limit:g}"))
            if not select.select([self._answers_fd], [], [], min(left, HEARTBEAT_SECONDS))[0]:
                if self.heartbeat and clock.left() > 0:
                    self.heartbeat(clock.given(), clock.limit)
                continue
            chunk = os.read(self._answers_fd, min(remaining, 1 << 20))
            if not chunk:
                self._crashed_message()
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _crashed_message(self):
        code = None
        if self.process is not None:
            try:
                code = self.process.wait(timeout=EXIT_WAIT_SECONDS)
            except subprocess.TimeoutExpired:  # alive, its end of the pipe closed by the student's code
                self.stop()
                raise WorkerCrashed(_("the process running your code died: {detail}").format(
                    detail=_("it closed its pipe to the grader and went on running (it was stopped)"))) from None
        self.stop()
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            detail = _("it was killed by {signal}").format(signal=name)
            if name == "SIGSEGV":
                detail += _(" (a segmentation fault)")
            elif name in ("SIGKILL", "SIGXCPU"):
                detail += _(" (a resource limit: memory or CPU time)")
        else:
            detail = _("it exited with status {code} (os._exit or a crash)").format(code=code)
        raise WorkerCrashed(_("the process running your code died: {detail}").format(detail=detail))

    def output_size(self) -> int:
        """How much the student's code has printed so far (a mark for :meth:`output_since`)."""
        if self.output_file is None:
            return 0
        return self.output_file.seek(0, os.SEEK_END)

    def output_since(self, mark: int, limit: int = 4000) -> str:
        """The last ``limit`` bytes of what the student's code printed after ``mark`` (for
        feedback only: it is the student's text, never a verdict)."""
        if self.output_file is None:
            return ""
        size = self.output_file.seek(0, os.SEEK_END)
        self.output_file.seek(max(mark, size - limit))
        return self._as_the_student_knows(self.output_file.read().decode("utf-8", "replace"))

    def _as_the_student_knows(self, text: str) -> str:
        """``text`` (a traceback, a warning) with the scratch copy's paths as the student's files."""
        if not self.scratch:
            return text
        if self.named_by_name:
            return text.replace(self.scratch + os.sep, "")
        return text.replace(self.scratch, self.submission_dir)


def _asked(request: dict) -> tuple:
    """(stem, name) of the module or function a request asked for, where it names one."""
    if request.get("op") == "import":
        return request.get("module"), None
    target = request.get("target")
    if isinstance(target, str) and target.count(".") == 1:
        return tuple(target.split("."))
    return None, None
