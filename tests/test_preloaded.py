"""grader.batch.preloaded: a student's grading forked from a preloaded process is the grading a
fresh process gives, and no forked grading outlives the preloaded process."""

import os
import signal
import subprocess
import sys
import time

import pytest

from grader.batch import grading, preloaded
from tests.helpers import SOLUTIONS

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the preloaded process forks on Linux only")]

HANGS = "import time\ndef relu_forward(x):\n    time.sleep(600)\n"


def _without_times(value):
    """A report without what differs between any two gradings: clocks and the temporary folder."""
    if isinstance(value, dict):
        return {key: _without_times(item) for key, item in value.items()
                if "seconds" not in key and "time" not in key and key != "submission"}
    if isinstance(value, list):
        return [_without_times(item) for item in value]
    return value


def _layers(extra: str = "") -> dict:
    return {"layers.py": (SOLUTIONS / "layers.py").read_bytes() + extra.encode()}


def test_a_forked_grading_is_a_fresh_processs_grading(monkeypatch):
    wrong = "\ndef relu_backward(dout, cache):\n    return dout\n"   # the gradient where x <= 0 kept
    forked = [grading.grade_files(_layers(extra), ["layers"], {}) for extra in ("", wrong)]
    assert preloaded._servers and preloaded._servers[0] is not None  # they did run forked
    monkeypatch.setattr(preloaded, "_server", lambda: None)         # python -m grader.batch.one
    fresh = [grading.grade_files(_layers(extra), ["layers"], {}) for extra in ("", wrong)]
    assert [_without_times(r) for r in forked] == [_without_times(r) for r in fresh]
    right, buggy = (r["report"]["checks"] for r in forked)
    assert all(c["score"] == c["max_score"] for c in right)
    assert {c["id"] for c in buggy if c["score"] < c["max_score"]} == {"layers.relu_backward"}


def test_no_forked_grading_outlives_the_preloaded_process(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "layers.py").write_bytes(_layers(HANGS)["layers.py"])
    server = preloaded._server()
    child = preloaded.start([str(tmp_path / "s"), str(tmp_path / "r.json"), "--part", "layers"],
                            cwd=tmp_path, stderr=tmp_path / "err.txt")
    assert isinstance(child, preloaded.Forked)
    with pytest.raises(subprocess.TimeoutExpired):
        child.wait(timeout=3)                       # grading the hanging relu
    os.kill(server.process.pid, signal.SIGKILL)     # the preloaded process dies (a lost node's OOM killer)
    assert child.wait(timeout=30) != 0              # its child went with it ...
    deadline = time.monotonic() + 30
    while _alive(child.pid):                        # ... and is gone, not a zombie left running
        assert time.monotonic() < deadline, "the forked grading outlived its preloaded process"
        time.sleep(0.1)
    # the next student gets a new preloaded process
    assert grading.grade_files(_layers(), ["layers"], {})["report"]["checks"]
    assert preloaded._server() is not server


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
