"""The worker survives hostile student code, and only validated data crosses back."""

import io
import json
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from grader.runner import grade
from grader.worker import protocol
from grader.worker.client import (CallTimeout, Ref, StudentException, StudentViolation, Worker,
                                  WorkerCrashed)
from tests.helpers import SOLUTIONS

HOSTILE = '''
import os, sys, numpy as np

def loop_forever():
    while True:
        pass

def exit_hard():
    os._exit(3)

def exit_politely():
    raise SystemExit(0)

def segfault():
    import ctypes
    ctypes.string_at(0)

def shout(x):
    print("SCORE: 100/100", flush=True)
    sys.stdout.write("\\x00\\x00\\x00\\x05{}")
    return x * 2, None

class Liar(np.ndarray):
    def __eq__(self, other):
        return True
    def tobytes(self, *args, **kwargs):
        return b""

def lie(x):
    return np.zeros_like(x).view(Liar), None

def patch_numpy(x):
    np.allclose = lambda *a, **k: True
    np.array_equal = lambda *a, **k: True
    return x, None
'''


@pytest.fixture
def hostile(tmp_path):
    (tmp_path / "bad.py").write_text(HOSTILE)
    with Worker(str(tmp_path), call_timeout=3) as worker:
        yield worker


@pytest.mark.slow
def test_endless_loop_is_stopped_and_the_worker_restarts(hostile):
    with pytest.raises(CallTimeout, match="did not finish within 3 s"):
        hostile.call("bad.loop_forever")
    assert hostile.call("bad.shout", np.ones(2)).value[0].tolist() == [2.0, 2.0]


@pytest.mark.slow
@pytest.mark.parametrize("target, error, message", [
    ("bad.exit_hard", WorkerCrashed, "exited with status 3"),
    ("bad.segfault", WorkerCrashed, "segmentation fault"),
    ("bad.exit_politely", StudentException, "SystemExit"),
])
def test_exits_and_crashes_are_reported(hostile, target, error, message):
    with pytest.raises(error, match=message):
        hostile.call(target)
    assert hostile.call("bad.shout", np.ones(1)).value[0].tolist() == [2.0]


@pytest.mark.slow
def test_printing_cannot_forge_protocol_messages(hostile):
    out, cache = hostile.call("bad.shout", np.arange(3.0)).value
    assert out.tolist() == [0.0, 2.0, 4.0] and cache is None
    assert "SCORE" in hostile.output_since(0)


@pytest.mark.slow
def test_array_subclasses_arrive_as_plain_data(hostile):
    out, _ = hostile.call("bad.lie", np.ones(3)).value
    assert type(out) is np.ndarray and out.tolist() == [0.0, 0.0, 0.0]
    assert not (out == np.ones(3)).any()


@pytest.mark.slow
def test_cached_objects_stay_in_the_worker(hostile):
    returned = hostile.call("bad.shout", np.ones(2))
    with pytest.raises(WorkerCrashed, match="protocol error"):
        hostile.call("bad.shout", Ref(returned.handle + 100, ()))


@pytest.mark.slow
def test_monkeypatched_numpy_in_the_worker_cannot_pass_a_check(tmp_path):
    for name in ("conv", "pooling", "batchnorm", "layers"):
        (tmp_path / f"{name}.py").write_text((SOLUTIONS / f"{name}.py").read_text())
    (tmp_path / "layers.py").write_text((tmp_path / "layers.py").read_text() + (
        "\nimport numpy as _np\n_np.allclose = lambda *a, **k: True\n"
        "_np.testing.assert_allclose = lambda *a, **k: None\n"
        "def relu_forward(x):\n    return x * 0.5, None\n"))
    report = grade(tmp_path, parts=["layers"])
    relu = next(c for c in report.checks if c.id == "layers.relu")
    assert not relu.passed and "differs from the reference" in relu.output


def _message(header: dict, buffers=()) -> bytes:
    stream = io.BytesIO()
    protocol.write_message(stream, header, list(buffers))
    return stream.getvalue()


def _read(data: bytes):
    stream = io.BytesIO(data)
    return protocol.read_message(stream.read, 1 << 20)


@pytest.mark.parametrize("tree, buffers", [
    ({"t": "array", "dtype": "|O", "shape": [1], "buf": 0}, [b"\0" * 8]),
    ({"t": "array", "dtype": "<f8", "shape": [2], "buf": 0}, [b"\0" * 8]),
    ({"t": "array", "dtype": "<f8", "shape": [-1], "buf": 0}, [b"\0" * 8]),
    ({"t": "array", "dtype": "<f8", "shape": [1], "buf": 3}, [b"\0" * 8]),
    ({"t": "pickle", "v": "gASV"}, []),
    ({"t": "ref", "handle": 1, "path": []}, []),
    ({"t": "int", "v": "1"}, []),
])
def test_malformed_values_are_refused(tree, buffers):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(tree, list(buffers))


def test_message_size_limits():
    header, buffers = _read(_message({"ok": True}, [b"abc"]))
    assert header["ok"] is True and buffers == [b"abc"]
    too_big = struct.pack(">I", 1 << 30) + b"{}"
    with pytest.raises(protocol.ProtocolError):
        _read(too_big)
    lying = json.dumps({"buffer_sizes": [1 << 40]}).encode()
    with pytest.raises(protocol.ProtocolError):
        _read(struct.pack(">I", len(lying)) + lying)


def test_a_header_nested_past_the_recursion_limit_is_a_protocol_error():
    """Student code can write its own bytes to the worker's answer pipe (its number is in
    sys.argv): a header nested 100,000 deep raised RecursionError in the grader, a 'grader
    error' that the student's code caused, and left the pipe out of step."""
    nested = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(protocol.ProtocolError):
        _read(struct.pack(">I", len(nested)) + nested)


def test_arrays_round_trip_read_only():
    buffers: list = []
    tree = protocol.encode((np.arange(6.0).reshape(2, 3).T, 1.5, None, {"a": np.int64(2)}), buffers)
    value = protocol.decode(tree, buffers)
    assert value[0].tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    assert not value[0].flags.writeable
    assert value[1:] == (1.5, None, {"a": 2})


@pytest.mark.slow
def test_a_file_imported_by_another_file_is_the_same_module_for_the_grader(tmp_path):
    (tmp_path / "modules.py").write_text("SEEN = []\n\ndef remember(value):\n    SEEN.append(value)\n")
    (tmp_path / "networks.py").write_text("import modules\n\ndef seen():\n    return len(modules.SEEN)\n")
    with Worker(str(tmp_path)) as worker:
        worker.import_module("networks")
        worker.call("modules.remember", 1.0)
        assert worker.call("networks.seen").value == 1


@pytest.mark.slow
def test_the_worker_releases_each_check_s_results(tmp_path):
    """After a function check (many examples, passing or failing) the worker holds none of its
    results; a result a check asks to keep stays until released."""
    from grader import rubric as rubric_module
    from grader.runner import load_checks, run_check

    shutil.copyfile(SOLUTIONS / "conv.py", tmp_path / "conv.py")
    load_checks(["conv"])
    entry = next(e for e in rubric_module.load().entries if e.id == "conv.conv2d_forward")
    with Worker(str(tmp_path)) as worker:
        assert run_check(entry, worker).passed
        assert worker.held() == 0
        (tmp_path / "conv.py").write_text((SOLUTIONS / "conv.py").read_text().replace(
            "def conv2d_forward(", "def _right(", 1) + "\n\ndef conv2d_forward(x, w, b, stride=1, padding=0):\n"
            "    return _right(x, w, b, stride, padding)[0] * 2, None\n")
    with Worker(str(tmp_path)) as worker:
        assert not run_check(entry, worker).passed
        assert worker.held() == 0
        kept = worker.call("conv.conv_output_size", 5, 3)
        with worker.scope():
            worker.keep_beyond_scope(kept.handle)
            inner = worker.call("conv.conv_output_size", 5, 3)
            worker.keep_beyond_scope(inner.handle)
            worker.call("conv.conv_output_size", 7, 3)
        assert worker.held() == 2


SPIN = ("import time\n\ndef spin(cpu_seconds):\n    end = time.thread_time() + cpu_seconds\n"
        "    while time.thread_time() < end:\n        pass\n\n"
        "def nap(seconds):\n    time.sleep(seconds)\n")


@pytest.mark.slow
def test_a_call_reports_its_wall_clock_and_the_cpu_time_it_used(tmp_path):
    """The pace estimate times the student's functions by the CPU time they used, which a busy
    machine does not stretch: a call that sleeps takes wall time and almost no CPU time."""
    (tmp_path / "work.py").write_text(SPIN)
    with Worker(str(tmp_path)) as worker:
        napped, spun = worker.call("work.nap", 0.3), worker.call("work.spin", 0.3)
    assert napped.seconds >= 0.3 and napped.cpu_seconds < 0.1 and napped.busy_seconds == napped.cpu_seconds
    assert spun.cpu_seconds > 0.05 and spun.busy_seconds <= spun.seconds


@pytest.mark.slow
def test_a_busy_machine_does_not_turn_a_correct_call_into_a_timeout(tmp_path):
    """A call that needs 1 s of processor, limit 2 s, on a processor it shares with two busy
    programs: it takes over 3 s of wall clock, but only the time it was given counts. Each busy
    program runs in a session of its own, as the worker does: where Linux groups the processor's
    time by session (autogroup), two programs of the test's session took half of it between them,
    and the call took 2.0 s."""
    (tmp_path / "work.py").write_text(SPIN)
    cpu = min(os.sched_getaffinity(0))
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True) for _ in range(2)]
    try:
        for hog in hogs:
            os.sched_setaffinity(hog.pid, {cpu})
        with Worker(str(tmp_path), call_timeout=2) as worker:
            worker.call("work.nap", 0)   # started and greeted
            os.sched_setaffinity(worker.process.pid, {cpu})
            started = time.monotonic()
            returned = worker.call("work.spin", 1.0)
            assert time.monotonic() - started > 2, "the machine was not busy enough to show the point"
            assert returned.cpu_seconds >= 1.0
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


@pytest.mark.slow
def test_a_call_that_sleeps_past_its_limit_is_stopped_at_the_limit(tmp_path):
    """Waiting for its own sleep (or pipe, or child) is the call's time: no extension."""
    (tmp_path / "work.py").write_text(SPIN)
    with Worker(str(tmp_path), call_timeout=1) as worker:
        worker.call("work.nap", 0)
        started = time.monotonic()
        with pytest.raises(CallTimeout, match="did not finish within 1 s"):
            worker.call("work.nap", 30)
        assert time.monotonic() - started < 5


def test_a_call_starved_of_the_processor_is_stopped_at_its_stretch(monkeypatch):
    """However little of the machine a call gets, its wall clock stops at ``stretch`` times the
    limit (a student's own busy children cannot hold a grading for ever)."""
    from grader.worker.client import CallClock

    clock = CallClock(1.0, pid=None, stretch=3)
    assert 0.9 < clock.left() <= 1.0   # no pid: the plain wall clock
    monkeypatch.setattr(CallClock, "_waited", lambda self: time.monotonic())   # it only ever waited
    starved = CallClock(1.0, pid=1, stretch=3)
    for elapsed, left in ((2.5, 0.5), (3.5, -0.5)):   # seconds of wall clock, all of them waiting
        starved.started = time.monotonic() - elapsed
        starved.waited_before = starved._waited() - elapsed
        assert starved.given() < 0.1 and starved.left() == pytest.approx(left, abs=0.05)


def test_a_call_within_its_limit_by_the_wall_clock_never_reads_schedstat(monkeypatch):
    """The answer's every chunk asks how long is left: while the wall clock is below the limit,
    so is the time the call had, and /proc is not read (it was, 8,572 times in the resnet50 check)."""
    from grader.worker.client import CallClock

    reads = []
    monkeypatch.setattr(CallClock, "_waited", lambda self: reads.append(1) or 0.0)
    clock = CallClock(10.0, pid=1, stretch=3)
    assert all(9.0 < clock.left() <= 10.0 for _ in range(100)) and len(reads) == 1   # the one at the start
    clock.started -= 11.0   # past the limit by the wall clock: now the processor's share decides
    assert clock.left() == pytest.approx(-1.0, abs=0.05) and len(reads) == 2


AS_ROOT = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                             reason="the worker changes its user only when the grader runs as root")
NEIGHBOUR = '''
import os, signal, time

def reach(scratch, pid):
    tried = {}
    for name, attempt in [("list", lambda: os.listdir(scratch)),
                          ("write", lambda: open(os.path.join(scratch, "victim.py"), "a").write("x = 1")),
                          ("kill", lambda: os.kill(pid, signal.SIGKILL))]:
        try:
            attempt()
            tried[name] = "done"
        except OSError as error:
            tried[name] = type(error).__name__
    return tried

def linger():
    child = os.fork()
    if child == 0:
        os.setsid()
        time.sleep(120)
        os._exit(0)
    return child
'''


@pytest.mark.slow
@AS_ROOT
def test_a_student_s_code_cannot_reach_another_student_s_worker(tmp_path):
    """Two students graded side by side (grader batch --jobs 2) ran as the same user, nobody: one's
    code could kill the other's worker (its checks then failed as crashes), read the other's code
    and rewrite it in its scratch copy before it was imported."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "hostile.py").write_text(NEIGHBOUR)
    (tmp_path / "b" / "victim.py").write_text("def answer():\n    return 42\n")
    with Worker(str(tmp_path / "a"), call_timeout=10) as a, Worker(str(tmp_path / "b"), call_timeout=10) as b:
        assert b.call("victim.answer").value == 42
        tried = a.call("hostile.reach", b.scratch, b.process.pid).value
        assert tried["kill"] == "PermissionError"
        assert {tried["list"], tried["write"]} <= {"PermissionError", "FileNotFoundError"}  # or unseen
        assert b.call("victim.answer").value == 42
        assert (Path(b.scratch) / "victim.py").read_text() == "def answer():\n    return 42\n"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@AS_ROOT
def test_a_child_that_leaves_the_worker_s_process_group_ends_with_the_worker(tmp_path):
    """Stopping a worker killed its process group; a child that called os.setsid() lived on,
    as the user of every later worker (able to kill them or rewrite their files)."""
    (tmp_path / "hostile.py").write_text(NEIGHBOUR)
    with Worker(str(tmp_path), call_timeout=10) as worker:
        child = worker.call("hostile.linger").value
        assert _alive(child)
        worker.stop()
    try:
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        if _alive(child):
            os.kill(child, 9)


UNBLOCKED = '''
import importlib, os, sys

def unblock():
    sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "_Blocker"]

def peek(folder):
    unblock()
    try:
        return sorted(os.listdir(folder))[:3]
    except OSError as error:  # a venv under /tmp (a clone there) is under the worker's own empty /tmp
        return type(error).__name__

def use():
    unblock()
    return importlib.import_module("torch").tensor([1.0, 2.0]).sum().item()
'''


@pytest.mark.slow
@AS_ROOT
def test_a_student_who_takes_the_import_blocker_away_finds_no_torch(tmp_path, monkeypatch):
    """The blocker is an object on sys.meta_path that student code can remove. On Gradescope the
    virtual environment (/autograder/venv) lies beside the kit's hidden folder, not inside it: a
    relu computed by torch that way passed, with no violation. The forbidden packages' folders
    are hidden too, and a forbidden module found imported is a violation."""
    import importlib.util

    from grader.worker import client

    kit = tmp_path / "kit"
    kit.mkdir()
    monkeypatch.setattr(client, "GRADER_HOME", str(kit))  # the venv is not inside the hidden folder
    torch_folder = importlib.util.find_spec("torch").submodule_search_locations[0]
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "cheat.py").write_text(UNBLOCKED)
    with Worker(str(tmp_path / "sub"), call_timeout=30) as worker:
        assert worker.call("cheat.peek", torch_folder).value in ([], "FileNotFoundError")
        # a violation where torch's folder is hidden, "No module named 'torch'" where it is gone
        with pytest.raises((StudentViolation, StudentException), match="torch"):
            worker.call("cheat.use")


LEAVER = '''
import os

def leave_and_look(name, left_by_the_grader):
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        with open(os.path.join(folder, name), "w") as stream:
            stream.write("a reference file found in the scratch copy")
        os.chmod(os.path.join(folder, name), 0o644)
    return os.path.exists(left_by_the_grader), sorted(os.listdir("."))
'''


@pytest.mark.slow
@AS_ROOT
def test_what_student_code_leaves_in_temporary_folders_goes_with_its_worker(tmp_path):
    """/tmp, /var/tmp and /dev/shm were shared with every later grading: a student's code graded
    with a reference file beside it (a part run with the reference in place of a failing earlier
    file) could leave that file there for a friend's code graded later, and could read what
    others left world-readable (an instructor's copy of the solutions in /tmp)."""
    import uuid

    name = f"left-{uuid.uuid4().hex}"
    theirs = Path("/tmp") / f"grader-{uuid.uuid4().hex}"
    theirs.write_text("solutions")
    theirs.chmod(0o644)
    (tmp_path / "leaver.py").write_text(LEAVER)
    try:
        with Worker(str(tmp_path), call_timeout=10) as worker:
            seen, listed = worker.call("leaver.leave_and_look", name, str(theirs), depth=2).value
        assert seen is False and listed == ["leaver.py"]  # its own scratch copy is where it was
        assert not any(os.path.exists(os.path.join(folder, name)) for folder in ("/tmp", "/var/tmp", "/dev/shm"))
    finally:
        theirs.unlink()
        for folder in ("/tmp", "/var/tmp", "/dev/shm"):
            if os.path.exists(os.path.join(folder, name)):
                os.remove(os.path.join(folder, name))


CLOSER = '''
import os, sys, time

def close_and_wait():
    os.close(int(sys.argv[3]))  # the worker's end of the answers' pipe (python -m grader.worker.server DIR R W ...)
    time.sleep(600)
'''


@pytest.mark.slow
def test_a_worker_that_closes_its_pipe_and_goes_on_is_stopped(tmp_path):
    """The grader took the end of the answers' pipe for the worker's death and waited for its
    exit status with no limit: student code that closed its pipe and slept hung the grading
    for good (its call's time limit no longer counted)."""
    import threading

    (tmp_path / "closer.py").write_text(CLOSER)
    outcome = []
    with Worker(str(tmp_path), call_timeout=30) as worker:
        def call():
            try:
                worker.call("closer.close_and_wait")
            except WorkerCrashed as error:
                outcome.append(str(error))

        thread = threading.Thread(target=call, daemon=True)
        thread.start()
        thread.join(120)
        hung = thread.is_alive()
        if hung:
            os.killpg(worker.process.pid, 9)
            thread.join(10)
    assert not hung
    assert outcome and "closed its pipe" in outcome[0]
