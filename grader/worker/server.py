"""The worker: the only process in which student code runs.

Started by :class:`grader.worker.client.Worker` as
``python -m grader.worker.server SUBMISSION_DIR READ_FD WRITE_FD SANDBOX_CONFIG FILES`` (the last two
JSON: the limits :func:`grader.worker.sandbox.apply` takes, and each part's file as the rubric names
it, ``{"conv": "conv.py", ...}``). It answers one
request at a time on its private pipes; the student's prints go to its stdout and
stderr, which the grader never reads as protocol.

Requests:

- ``{"op": "call", "target": "conv.conv2d_forward" | {"handle": h, "path": [...], "attr": "forward"},
  "args": tree, "kwargs": tree, "depth": d, "echo_args": bool}``: runs the call,
  keeps its result under a new handle and answers with the result encoded to
  ``depth`` (deeper containers stay in the worker), the seconds it took (wall clock, and
  the CPU time of the thread that ran it) and, with
  ``echo_args``, the arguments as they are after the call; with ``"shapes": true`` the
  result's arrays cross as ``{"shape", "dtype"}`` only (a 1 GB state dict stays put);
- ``{"op": "get", "handle": h, "path": [...], "attr": name | null, "depth": d, "shapes": bool}``:
  reads a value;
- ``{"op": "keep", "value": tree}``: keeps a value (a dict to update across calls) under a handle;
- ``{"op": "import", "module": part}``: imports the part's file of the submission (a call's
  target ``"part.name"`` imports it too);
- ``{"op": "release", "handles": [...]}``; ``{"op": "held"}``: how many values it keeps.

Before the first request the worker says ``{"ok": true, "ready": true, "skipped": [...]}`` (the
sandbox steps this platform did not allow). Answers are ``{"ok": true, ...}`` or
``{"ok": false, "error": {...}}`` as :func:`grader.worker.protocol.error_answer` builds it, its
``kind`` a :class:`grader.worker.protocol.ErrorKind` (``no file``, ``import``, ``missing``,
``violation``, ``exception`` or ``protocol``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import traceback

import numpy as np

from grader.worker import protocol, sandbox
from grader.worker.protocol import ErrorKind

MAX_REQUEST_BYTES = 1 << 31


class Worker:
    def __init__(self, submission_dir: str, files: dict | None = None):
        self.submission_dir = submission_dir
        self.files = dict(files or {})  # part -> its file name (the rubric's [parts])
        self.modules: dict = {}
        self.kept: dict[int, object] = {}
        self.next_handle = 1

    def module(self, part: str):
        if part not in self.modules:
            file = self.files.get(part, part + ".py")
            name = file[:-len(".py")]
            path = os.path.join(self.submission_dir, file)
            if not os.path.isfile(path):
                raise _Failure(ErrorKind.NO_FILE, "FileNotFoundError", f"{file} is missing from the submission")
            imported = sys.modules.get(name)  # by another file of the submission: one module object
            if imported is not None and os.path.abspath(getattr(imported, "__file__", None) or "") == \
                    os.path.abspath(path):
                self.modules[part] = imported
                return imported
            try:
                spec = importlib.util.spec_from_file_location(name, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                spec.loader.exec_module(module)
            except BaseException as error:  # noqa: BLE001 - anything the import does is the student's
                sys.modules.pop(name, None)
                kind, forbidden = _kind(error, ErrorKind.IMPORT)
                not_found = error.name if isinstance(error, ModuleNotFoundError) else None
                raise _Failure(kind, type(error).__name__, _short(error), _student_traceback(error),
                               module=forbidden or not_found) from None
            self.modules[part] = module
        return self.modules[part]

    def resolve_target(self, target):
        if isinstance(target, str) and target.count(".") == 1:
            part, name = target.split(".")
            module = self.module(part)
            if not hasattr(module, name):
                raise _Failure(ErrorKind.MISSING, "AttributeError",
                               f"{self.files.get(part, part + '.py')} does not define {name}")
            return getattr(module, name)
        if isinstance(target, dict):
            owner = self.lookup(target.get("handle"), target.get("path"))
            attr = target.get("attr")
            if not isinstance(attr, str):
                raise _Failure(ErrorKind.PROTOCOL, "ProtocolError", "malformed target")
            try:
                return getattr(owner, attr)
            except AttributeError:
                raise _Failure(ErrorKind.MISSING, "AttributeError",
                               f"{type(owner).__name__} has no attribute {attr}") from None
        raise _Failure(ErrorKind.PROTOCOL, "ProtocolError", "malformed target")

    def lookup(self, handle, path):
        if handle not in self.kept or not isinstance(path, list):
            raise _Failure(ErrorKind.PROTOCOL, "ProtocolError", "unknown handle")
        value = self.kept[handle]
        for step in path:
            value = value[step]
        return value

    def keep(self, value) -> int:
        handle = self.next_handle
        self.next_handle += 1
        self.kept[handle] = value
        return handle

    def decode(self, tree, buffers):
        return protocol.decode(
            tree, buffers,
            on_ref=lambda handle, path: self.lookup(handle, path),
            on_rng=lambda seed: np.random.default_rng(seed),
            writable=True,
        )

    def handle(self, request: dict, buffers: list) -> tuple[dict, list]:
        op = request.get("op")
        out: list = []
        if op == "call":
            function = self.resolve_target(request.get("target"))
            args = self.decode(request.get("args", {"t": "list", "items": []}), buffers)
            kwargs = self.decode(request.get("kwargs", {"t": "dict", "items": []}), buffers)
            # the thread's CPU clock: under RLIMIT_CPU the process's advances in ticks of 4 ms
            start, cpu_start = time.perf_counter(), time.thread_time()
            try:
                result = function(*args, **kwargs)
            except BaseException as error:  # noqa: BLE001 - SystemExit included: it is the student's
                kind, forbidden = _kind(error, ErrorKind.EXCEPTION)
                raise _Failure(kind, type(error).__name__, _short(error), _student_traceback(error),
                               _classes(error), module=forbidden) from None
            elapsed, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
            handle = self.keep(result)
            answer = {"ok": True, "handle": handle, "seconds": elapsed, "cpu_seconds": cpu,
                      "result": protocol.encode(result, out, request.get("depth", 1), handle=handle,
                                                shapes=request.get("shapes") is True)}
            if request.get("echo_args"):
                answer["args_after"] = protocol.encode(
                    [_rng_state(a) for a in args], out, 2)
                answer["kwargs_after"] = protocol.encode(
                    {k: _rng_state(v) for k, v in kwargs.items()}, out, 2)
            _raise_if_forbidden_import()
            return answer, out
        if op == "get":
            value = self.lookup(request.get("handle"), request.get("path", []))
            attr = request.get("attr")
            if attr is not None:
                try:
                    value = getattr(value, attr)
                except AttributeError:
                    raise _Failure(ErrorKind.MISSING, "AttributeError",
                                   f"{type(value).__name__} has no attribute {attr}") from None
            handle = self.keep(value)
            return {"ok": True, "handle": handle,
                    "result": protocol.encode(value, out, request.get("depth", 1), handle=handle,
                                              shapes=request.get("shapes") is True)}, out
        if op == "import":
            part = request.get("module")
            if not isinstance(part, str) or not part.isidentifier():
                raise _Failure(ErrorKind.PROTOCOL, "ProtocolError", "malformed module name")
            self.module(part)
            _raise_if_forbidden_import()
            return {"ok": True}, out
        if op == "keep":
            return {"ok": True, "handle": self.keep(self.decode(request.get("value"), buffers))}, out
        if op == "held":
            return {"ok": True, "count": len(self.kept)}, out
        if op == "release":
            for handle in request.get("handles", []):
                self.kept.pop(handle, None)
            return {"ok": True}, out
        raise _Failure(ErrorKind.PROTOCOL, "ProtocolError", f"unknown op {op!r}")


def _plain_file(file) -> bool:
    """A file name the worker imports: ``name.py`` in the submission's folder itself."""
    return isinstance(file, str) and file.endswith(".py") and file[:-3].isidentifier()


def _rng_state(value):
    """A generator crosses back as the next number it would draw (tells whether it was used)."""
    if isinstance(value, np.random.Generator):
        clone = np.random.default_rng()
        clone.bit_generator.state = value.bit_generator.state
        return {"next_draw": float(clone.random())}
    return value


def _forbidden_attempt() -> str | None:
    """The first forbidden import the student's code tried since the last look, if any; forgets them."""
    attempts = sandbox.BLOCKER.attempts
    first = attempts[0] if attempts else None
    attempts.clear()
    # imported past the blocker (taken off sys.meta_path): the module itself is hidden, but the
    # attempt is a violation all the same
    return first or next((name for name in sorted(sandbox.FORBIDDEN - {"grader"}) if name in sys.modules), None)


def _kind(error: BaseException, default: ErrorKind) -> tuple[ErrorKind, str | None]:
    """The error's kind, and the module of a forbidden import: that is a violation even when the
    student's code caught it and went on."""
    module = _forbidden_attempt()
    if module is not None or isinstance(error, sandbox.ForbiddenImport):
        return ErrorKind.VIOLATION, module
    return default, None


def _raise_if_forbidden_import() -> None:
    name = _forbidden_attempt()
    if name is not None:
        raise _Failure(ErrorKind.VIOLATION, "ForbiddenImport", f"your code tried to import {name}",
                       module=name)


class _Failure(Exception):
    def __init__(self, kind: ErrorKind, type_name, message, trace="", classes=(), module=None):
        super().__init__(message)
        self.answer = protocol.error_answer(kind, type_name, message, trace, classes, module)


def _classes(error: BaseException) -> list:
    """The exception's class hierarchy, most derived first, as ``module.qualname`` (a subclass of
    ValueError is a ValueError: ``builtins.ValueError`` is among them)."""
    try:
        return [f"{cls.__module__}.{cls.__qualname__}"[:200] for cls in type(error).__mro__][:32]
    except BaseException:  # noqa: BLE001 - a hostile metaclass
        return []


def _short(error: BaseException) -> str:
    try:
        text = str(error)
    except BaseException:  # noqa: BLE001 - a student exception whose __str__ raises
        text = "<unprintable>"
    return text[:2000]


def _student_traceback(error: BaseException) -> str:
    """The traceback without the worker's own frames, at most a few lines."""
    try:
        frames = [frame for frame in traceback.extract_tb(error.__traceback__)
                  if "grader" + os.sep + "worker" not in frame.filename
                  and not frame.filename.startswith("<frozen")]
        lines = traceback.format_list(frames[-6:])
        lines += traceback.format_exception_only(type(error), error)
        return "".join(lines)[-4000:]
    except BaseException:  # noqa: BLE001
        return ""


def main(argv: list[str]) -> None:
    submission_dir, read_fd, write_fd = argv[0], int(argv[1]), int(argv[2])
    requests = os.fdopen(read_fd, "rb", buffering=0)
    answers = os.fdopen(write_fd, "wb")
    files = json.loads(argv[4]) if len(argv) > 4 else {}
    files = {part: file for part, file in files.items() if _plain_file(file)}
    skipped = sandbox.apply(json.loads(argv[3]) if len(argv) > 3 else {}, home=submission_dir)
    protocol.write_message(answers, {"ok": True, "ready": True, "skipped": list(skipped)}, [])
    os.chdir(submission_dir)
    sys.path.insert(0, submission_dir)
    worker = Worker(submission_dir, files)

    def read_exactly(n: int) -> bytes:
        chunks, remaining = [], n
        while remaining:
            chunk = requests.read(remaining)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    while True:
        try:
            request, buffers = protocol.read_message(read_exactly, MAX_REQUEST_BYTES)
        except EOFError:
            return
        try:
            answer, out = worker.handle(request, buffers)
        except _Failure as failure:
            answer, out = failure.answer, []
        except protocol.ProtocolError as error:
            answer, out = protocol.error_answer(ErrorKind.PROTOCOL, "ProtocolError", str(error)), []
        except BaseException as error:  # noqa: BLE001 - e.g. a student __getitem__ raising while decoding
            answer, out = protocol.error_answer(ErrorKind.EXCEPTION, type(error).__name__, _short(error),
                                                _student_traceback(error), _classes(error)), []
        try:
            protocol.write_message(answers, answer, out)
        except (TypeError, ValueError) as error:
            protocol.write_message(answers, protocol.error_answer(
                ErrorKind.EXCEPTION, type(error).__name__,
                f"the result could not be sent back: {_short(error)}"), [])

if __name__ == "__main__":
    main(sys.argv[1:])
