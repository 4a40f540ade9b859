"""Grades one student's files in a process of its own: the task that the local pool and a
Dask cluster both run.

:func:`grade_files` takes the files as bytes (so that a task can travel to another machine),
writes them to a private temporary folder, runs ``grader.batch.one`` on it in a process of
its own (forked from a preloaded one where it can: :mod:`grader.batch.preloaded`), which
starts the sandboxed worker as ``grader check`` does, and returns the report as a dict. The
process is killed, with its worker, when the student's time is up or the batch is stopped.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from grader import i18n
from grader.batch import preloaded
from grader.config import DEFAULTS
from grader.i18n import _

_live: dict = {}  # grading process -> the thread that started it
_live_lock = threading.Lock()


class GradingFailed(Exception):
    """The student's grading process ended without a report; the message is for the gradebook."""


def grade_files(files: dict, parts: list, settings: dict, hide: list = (),
                time_limit: float = DEFAULTS.student_time_limit, language: str | None = None) -> dict:
    """``files``: name -> bytes of the student's exercise files. Returns
    ``{"report": Report.to_dict(), "artifacts": {name: base64}}``; raises :class:`GradingFailed`
    (in ``language``: this may run on a Dask worker, which speaks its own)."""
    with i18n.speaking(language):
        return _grade_files(files, parts, settings, hide, time_limit, language)


def _grade_files(files, parts, settings, hide, time_limit, language) -> dict:
    staging = Path(tempfile.mkdtemp(prefix="grader-student-"))
    try:
        folder = staging / "submission"
        folder.mkdir()
        for name, data in files.items():
            (folder / Path(name).name).write_bytes(data)
        result_file, error_file = staging / "result.json", staging / "stderr.txt"
        argv = [str(folder), str(result_file), "--settings", json.dumps(settings)]
        for part in parts:
            argv += ["--part", part]
        if language:
            argv += ["--lang", language]
        for path in (*hide, str(staging)):
            argv += ["--hide", str(path)]
        process = preloaded.start(argv, cwd=staging, stderr=error_file)
        with _live_lock:
            _live[process] = threading.get_ident()
        try:
            process.wait(timeout=time_limit)
        except subprocess.TimeoutExpired:
            _kill(process)
            raise GradingFailed(_("grading took longer than {limit} s and was stopped").format(
                limit=f"{time_limit:g}")) from None
        finally:
            with _live_lock:
                _live.pop(process, None)
        try:
            return json.loads(result_file.read_text())
        except (OSError, ValueError):
            try:
                detail = error_file.read_bytes()[-8000:].decode("utf-8", "replace").strip()[-2000:]
            except OSError:
                detail = ""
            raise GradingFailed(_("grading did not finish") + (f": {detail}" if detail else "")) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def stop_all(threads=None) -> None:
    """Stops the grading processes of this process (Ctrl-C), or only those started by the
    given ``threads`` (idents): each one closes its worker."""
    with _live_lock:
        live = [process for process, thread in _live.items() if threads is None or thread in threads]
    for process in live:
        _kill(process)


def _kill(process) -> None:
    """Ends a grading process started by :func:`preloaded.start` (a group leader) and its worker."""
    try:
        os.killpg(process.pid, signal.SIGTERM)  # the grading process then stops its worker
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    except ProcessLookupError:
        pass


def decode_artifacts(outcome: dict) -> dict:
    return {name: base64.b64decode(data) for name, data in outcome.get("artifacts", {}).items()}
