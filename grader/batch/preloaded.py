"""Starts each student's grading process from a preloaded one, so that a batch pays the
grader's imports (torch, hypothesis, every check: about 2 s of the 4.6 s a student's four
layer parts take) once per machine rather than once per student.

``python -m grader.batch.preloaded`` imports the runner and every part's checks, then waits
on its standard input for requests (one JSON line each: the arguments of
``grader.batch.one``, the folder to run in, the file for its standard error) and answers
each with the pid of a forked child that runs ``grader.batch.one.main`` and exits; when a
child ends it writes its exit status. Each child is still one process per student: a
session of its own (killed as a group, with its worker, when the student's time is up),
a fresh copy of the loaded modules that no other student's grading touches, and the end of
the preloaded process (or of the batch) ends it.

Only where ``fork`` is safe after importing torch, that is on Linux: elsewhere, and whenever
the preloaded process cannot start or dies, :func:`start` runs ``python -m grader.batch.one``
as before. Either way the caller gets an object with ``pid`` and ``wait(timeout)`` (raising
:class:`subprocess.TimeoutExpired`), the process being the leader of its own group.
"""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import traceback
from pathlib import Path

from grader.config import THREAD_ENV

_STARTUP_TIMEOUT = 120.0   # seconds for the imports of a preloaded process on a busy machine


def start(argv: list[str], cwd: Path, stderr: Path):
    """Runs ``grader.batch.one`` with ``argv`` in ``cwd``, its standard error to ``stderr``."""
    server = _server()
    if server is not None:
        child = server.spawn(argv, cwd, stderr)
        if child is not None:
            return child
    with open(stderr, "wb") as error:
        return subprocess.Popen([sys.executable, "-m", "grader.batch.one", *argv], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=error, env=dict(os.environ, **THREAD_ENV),
                                start_new_session=True, cwd=cwd)


_lock = threading.Lock()
_servers: list = []   # this process's preloaded server, once started (or None: not possible here)


def _server():
    with _lock:
        if _servers and _servers[0] is not None and not _servers[0].alive():
            _servers.clear()  # it died: start another
        if not _servers:
            _servers.append(_launch_from_keeper() if sys.platform.startswith("linux") else None)
        return _servers[0]


def _launch_from_keeper():
    """Starts the preloaded process from a thread that lives as long as this process: Linux ends
    a process asked to die with its parent when the THREAD that started it ends, and a pool's
    thread (Dask's) may end before the others are done with the server."""
    started: list = []
    ready = threading.Event()

    def keep():
        started.append(_Server.launch())
        ready.set()
        threading.Event().wait()

    threading.Thread(target=keep, name="preloaded-grader-parent", daemon=True).start()
    ready.wait()
    return started[0]


class Forked:
    """A child of the preloaded process, as the caller sees it (not its parent)."""

    def __init__(self, server: "_Server", pid: int):
        self.server, self.pid = server, pid

    def wait(self, timeout: float | None = None) -> int:
        with self.server.changed:
            if not self.server.changed.wait_for(lambda: self.pid in self.server.ended, timeout):
                raise subprocess.TimeoutExpired(f"grading process {self.pid}", timeout)
            return self.server.ended[self.pid]


class _Server:
    """The batch's side of a preloaded process: requests under a lock, answers read by a thread."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.requests = threading.Lock()
        self.pids: queue.Queue = queue.Queue()
        self.changed = threading.Condition()
        self.ended: dict = {}        # pid -> exit status
        self.running: set = set()    # pids not ended yet
        self.dead = False
        threading.Thread(target=self._read, name="preloaded-grader", daemon=True).start()

    @classmethod
    def launch(cls):
        try:
            process = subprocess.Popen([sys.executable, "-m", "grader.batch.preloaded"], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                       env=dict(os.environ, **THREAD_ENV), start_new_session=True)
        except OSError:
            return None
        ready, _w, _x = select.select([process.stdout], [], [], _STARTUP_TIMEOUT)
        line = process.stdout.readline() if ready else b""
        if line.strip() != b'{"ready": true}':
            process.kill()
            process.wait()
            return None
        return cls(process)

    def alive(self) -> bool:
        return not self.dead

    def spawn(self, argv: list[str], cwd: Path, stderr: Path):
        request = json.dumps({"argv": argv, "cwd": str(cwd), "stderr": str(stderr)}).encode() + b"\n"
        with self.requests:
            if self.dead:
                return None
            try:
                self.process.stdin.write(request)
                self.process.stdin.flush()
                pid = self.pids.get(timeout=_STARTUP_TIMEOUT)
            except (OSError, ValueError, queue.Empty):
                return None
        return None if pid is None else Forked(self, pid)

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "pid" in message:
                with self.changed:
                    self.running.add(message["pid"])
                self.pids.put(message["pid"])
            elif "exit" in message:
                with self.changed:
                    self.running.discard(message["exit"])
                    self.ended[message["exit"]] = message["status"]
                    self.changed.notify_all()
        # The preloaded process is gone, and its children with it (they die with their parent).
        with self.changed:
            self.dead = True
            for pid in self.running:
                self.ended[pid] = -signal.SIGKILL
            self.running.clear()
            self.changed.notify_all()
        self.pids.put(None)


# -- the preloaded process ---------------------------------------------------------------------

def serve() -> None:
    from grader.worker.sandbox import die_with_parent

    die_with_parent(signal.SIGTERM)
    from grader import rubric
    from grader.batch import one
    from grader.runner import load_checks

    load_checks(list(rubric.load().parts), include_hidden=True)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # wakes the select below
    _say({"ready": True})
    pending = b""
    while True:
        try:
            readable, _w, _x = select.select([0, wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in readable:
            os.read(wake_r, 4096)
            _reap()
        if 0 in readable:
            data = os.read(0, 65536)
            if not data:  # the batch is done (or gone): so is this process
                return
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                _say({"pid": _fork(json.loads(line), one.main, (wake_r, wake_w))})


def _say(message: dict) -> None:
    os.write(1, json.dumps(message).encode() + b"\n")


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _say({"exit": pid, "status": os.waitstatus_to_exitcode(status)})


def _fork(request: dict, main, own_fds) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in own_fds:
            os.close(fd)
        os.setsid()
        os.chdir(request["cwd"])
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
        code = main(request["argv"])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


if __name__ == "__main__":
    serve()
