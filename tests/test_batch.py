"""`grader batch` against a class of hostile submissions: every row present, no point unearned."""

import csv
import json
import os
import signal
import stat
import subprocess
import sys
import time
import zipfile

import pytest

from grader.batch.unpack import HandInError, collect
from tests.helpers import ASSIGNMENTS, ROOT, SOLUTIONS

LAYERS = (SOLUTIONS / "layers.py").read_text()

# Each hostile student hands in the reference layers.py with something appended.
HOSTILE = {
    "loop": "def relu_forward(x):\n    while True:\n        pass\n",
    "memory_hog": "import numpy as np\n_hog = np.ones((40_000, 100_000))\n",
    "fork_burst": ("import os\ndef relu_forward(x):\n    for _ in range(200):\n        try:\n"
                   "            if os.fork() == 0:\n                import time; time.sleep(2); os._exit(0)\n"
                   "        except OSError:\n            break\n    return x * 2, None\n"),
    "hard_exit": "import os\ndef relu_forward(x):\n    os._exit(0)\n",
    "segfault": "import ctypes\ndef relu_forward(x):\n    ctypes.string_at(0)\n",
    "monkeypatch": ("import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True\n"
                    "np.testing.assert_allclose = lambda *a, **k: None\n"
                    "try:\n    import grader.checks.harness.metric as m\n    m.compare = lambda *a, **k: 0.0\nexcept Exception:\n    pass\n"
                    "def relu_forward(x):\n    return x * 3, None\n"),
    "fake_score": ("import json, os\nprint('Total: 999/999')\n"
                   "for target in [os.environ.get('OUT', ''), 'results.json', '/autograder/results/results.json']:\n"
                   "    try:\n        open(target, 'w').write(json.dumps({'score': 999}))\n    except Exception:\n        pass\n"
                   "def relu_forward(x):\n    return x * 3, None\n"),
    "always_equal": ("class Yes:\n    def __eq__(self, other): return True\n    def __array__(self, *a, **k): raise TypeError\n"
                     "def relu_forward(x):\n    return Yes(), None\n"),
    "lying_subclass": ("import numpy as np\nclass Lie(np.ndarray):\n    def __eq__(self, o): return np.ones(np.shape(o), bool)\n"
                       "    def tobytes(self, *a, **k): return np.maximum(np.asarray(self), 0).tobytes()\n"
                       "def relu_forward(x):\n    return np.zeros_like(x).view(Lie), None\n"),
    "uses_torch": ("def relu_forward(x):\n    import torch\n    return torch.relu(torch.tensor(x)).numpy(), None\n"),
    "modifies_input": ("def relu_forward(x):\n    np.maximum(x, 0, out=x)\n    return x.copy(), x > 0\n"),
}
STEAL = ("import glob\nfor _path in glob.glob('/work/**/solutions/layers.py', recursive=True) + "
         "glob.glob('/tmp/**/layers.py', recursive=True):\n"
         "    try:\n        exec(open(_path).read())\n        break\n    except Exception:\n        pass\n")


def _gradebook(out):
    with open(out / "gradebook.csv", newline="") as stream:
        return {row["id"]: row for row in csv.DictReader(stream)}


def _batch(root, out, *extra, check=True):
    run = subprocess.run([sys.executable, "-m", "grader", "batch", str(root), "--out", str(out), "--part",
                          "layers", "--timeout", "5", *extra], capture_output=True, text=True, cwd=ROOT, timeout=1200)
    if check:
        assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    (root / "reference").mkdir()
    (root / "reference" / "layers.py").write_text(LAYERS)
    for name, extra in HOSTILE.items():
        (root / name).mkdir()
        (root / name / "layers.py").write_text(LAYERS + "\n\n" + extra)
    (root / "thief").mkdir()
    (root / "thief" / "layers.py").write_text((ASSIGNMENTS / "layers.py").read_text() + "\n" + STEAL)
    out = tmp_path_factory.mktemp("out")
    run = _batch(root, out, "--jobs", "2")
    return root, out, run


def _checks(out, student):
    return {t["tags"][1] + ":" + t["name"].split(": ")[-1]: t
            for t in json.loads((out / "students" / student / "results.json").read_text())["tests"]}


def _failed_names(out, student):
    tests = json.loads((out / "students" / student / "results.json").read_text())["tests"]
    return {t["tags"][1] for t in tests if t["status"] == "failed"}


@pytest.mark.slow
def test_every_student_has_a_row_and_the_reference_full_marks(hostile_class):
    root, out, _ = hostile_class
    book = _gradebook(out)
    assert set(book) == {"reference", "thief", *HOSTILE}
    full = float(book["reference"]["total"])
    assert full > 0 and book["reference"]["status"] == "graded"
    for name in HOSTILE:
        assert float(book[name]["total"]) < full, name


@pytest.mark.slow
@pytest.mark.parametrize("student", ["loop", "fork_burst", "hard_exit", "segfault", "monkeypatch",
                                     "fake_score", "always_equal", "lying_subclass", "modifies_input"])
def test_hostile_relu_loses_the_relu_check(hostile_class, student):
    _, out, _ = hostile_class
    assert "relu_forward" in _failed_names(out, student)


@pytest.mark.slow
def test_memory_hog_and_thief_get_nothing(hostile_class):
    _, out, _ = hostile_class
    book = _gradebook(out)
    assert float(book["memory_hog"]["total"]) == 0
    assert float(book["thief"]["total"]) == 0


@pytest.mark.slow
def test_torch_is_a_violation_that_zeroes_the_file(hostile_class):
    _, out, _ = hostile_class
    row = _gradebook(out)["uses_torch"]
    assert float(row["total"]) == 0 and row["status"] == "violation"
    feedback = (out / "students" / "uses_torch" / "feedback.md").read_text()
    assert "torch" in feedback and "violation" in feedback


@pytest.mark.slow
def test_fake_results_do_not_reach_the_output(hostile_class):
    _, out, run = hostile_class
    assert "999" not in (out / "gradebook.csv").read_text()
    assert "999" not in run.stdout
    assert json.loads((out / "students" / "fake_score" / "results.json").read_text())["score"] < 999


@pytest.mark.slow
def test_timeout_and_crash_messages_reach_feedback(hostile_class):
    _, out, _ = hostile_class
    assert "did not finish within" in (out / "students" / "loop" / "feedback.md").read_text()
    assert "segmentation fault" in (out / "students" / "segfault" / "feedback.md").read_text()
    assert "modified its input x" in (out / "students" / "modifies_input" / "feedback.md").read_text()


@pytest.mark.slow
def test_batch_writes_the_class_report_beside_the_gradebook(hostile_class):
    _, out, run = hostile_class
    assert f"class report: {out / 'report.html'}" in run.stdout
    graded = [name for name in _gradebook(out) if json.loads(
        (out / "students" / name / "results.json").read_text())["tests"]]
    with open(out / "checks.csv", newline="") as stream:
        checks = list(csv.DictReader(stream))
    assert checks and all(row["check"].startswith("layers.") for row in checks)
    for row in checks:
        assert int(row["passed"]) + int(row["failed"]) + int(row["errors"]) == len(graded), row
    with open(out / "signatures.csv", newline="") as stream:
        signatures = list(csv.DictReader(stream))
    relu = [row for row in signatures if row["check"] == "layers.relu"]
    assert sum(int(row["count"]) for row in relu) == int(
        next(row for row in checks if row["check"] == "layers.relu")["failed"])
    assert any("modifies_input" in row["students"].split() and "modified its input" in row["signature"]
               for row in relu)
    # importing torch is one mistake on every check of the file, named by its type, not its words
    torch = [row for row in signatures if "uses_torch" in row["students"].split()]
    assert torch and all(row["signature"] == row["check"] + " | violation | - | torch" for row in torch), torch


@pytest.mark.slow
def test_regrading_gives_a_byte_identical_gradebook_and_skips_unchanged(hostile_class, tmp_path):
    root, out, _ = hostile_class
    again = _batch(root, tmp_path / "again", "--jobs", "1")
    assert (tmp_path / "again" / "gradebook.csv").read_bytes() == (out / "gradebook.csv").read_bytes()
    rerun = _batch(root, tmp_path / "again")
    assert "unchanged since the last run: skipped" in rerun.stderr
    assert (tmp_path / "again" / "gradebook.csv").read_bytes() == (out / "gradebook.csv").read_bytes()
    del again


@pytest.mark.slow
def test_killed_batch_resumes_to_the_same_gradebook(tmp_path):
    root = tmp_path / "class"
    for index in range(4):
        (root / f"s{index}").mkdir(parents=True)
        (root / f"s{index}" / "layers.py").write_text(LAYERS if index % 2 else
                                                      (ASSIGNMENTS / "layers.py").read_text())
    whole = tmp_path / "whole"
    _batch(root, whole)
    out = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-m", "grader", "batch", str(root), "--out", str(out),
                                "--part", "layers", "--timeout", "5"], cwd=ROOT, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 300
    while not list(out.glob("students/*/state.json")) and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert len(list(out.glob("students/*/state.json"))) < 4
    _batch(root, out)
    assert (out / "gradebook.csv").read_bytes() == (whole / "gradebook.csv").read_bytes()


# -- unpacking ---------------------------------------------------------------------------------

def _zip(path, entries):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data, *mode in entries:
            info = zipfile.ZipInfo(name)
            if mode:
                info.external_attr = mode[0] << 16
            archive.writestr(info, data)
    return path


def test_a_student_s_outputs_folder_keeps_a_name_of_any_script_readable_and_unique(tmp_path):
    from grader.batch.students import discover

    long = "𠀋" * 60  # 240 bytes in UTF-8: a folder name this system allows
    for name in ("张三", "李四", "bob cy", long):
        (tmp_path / name).mkdir()
    (tmp_path / "张三.zip").write_bytes(b"")  # the same id as the folder 张三
    students = discover(tmp_path)
    slugs = {student.slug for student in students}
    assert {"bob_cy", "张三", "李四", "𠀋" * 50} < slugs and len(slugs) == 5
    assert any(slug.startswith("张三-") for slug in slugs)
    for student in students:
        (tmp_path / "out" / student.slug).mkdir(parents=True)  # each a folder this system can make


def test_unpacking_takes_only_safe_regular_files(tmp_path):
    archive = _zip(tmp_path / "a.zip", [
        ("../../evil.py", "x = 1"), ("/abs/conv.py", "x = 1"), ("hw/conv.py", "good = 1"),
        ("hw/layers.py", "good = 2"), ("hw/link.py", "conv.py", stat.S_IFLNK | 0o777),
        ("hw/conv.py", "second copy"), ("__MACOSX/hw/conv.py", "junk")])
    notes = collect(archive, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["conv.py", "layers.py"]
    assert (tmp_path / "out" / "conv.py").read_text() == "good = 1"
    text = " ".join(notes)
    assert "unsafe path" in text and "symlink" in text and "appears twice" in text
    assert not (tmp_path / "evil.py").exists() and not (tmp_path.parent / "evil.py").exists()


def test_zip_bomb_empty_and_corrupt_zips_are_refused(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("conv.py", b"#" * (64 << 20))
    with pytest.raises(HandInError, match="zip bomb"):
        collect(bomb, tmp_path / "b")
    with pytest.raises(HandInError, match="no exercise file"):
        collect(_zip(tmp_path / "empty.zip", []), tmp_path / "e")
    (tmp_path / "corrupt.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(HandInError, match="cannot be read"):
        collect(tmp_path / "corrupt.zip", tmp_path / "c")


def test_nested_folders_and_odd_names(tmp_path):
    source = tmp_path / "alice"
    (source / "alice" / "hw2").mkdir(parents=True)
    (source / "alice" / "hw2" / "conv.py").write_text("a = 1")
    (source / "alice" / "hw2" / "pooling.py").write_text("b = 1")
    (source / "scratch.py").write_text("c = 1")
    (source / "conv.py").symlink_to("/etc/passwd")
    notes = collect(source, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["conv.py", "pooling.py"]
    assert any("alice/hw2" in note for note in notes)


@pytest.mark.slow
def test_batch_rows_for_broken_hand_ins(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    (root / "corrupt.zip").write_bytes(b"garbage")
    _zip(root / "empty.zip", [])
    weird = os.fsencode(str(root)) + b"/caf\xe9"
    os.mkdir(weird)
    with open(weird + b"/layers.py", "w") as stream:
        stream.write(LAYERS)
    nb = root / "nbstudent" / "ps1"
    nb.mkdir(parents=True)
    (nb / "layers.py").write_text(LAYERS)
    out = tmp_path / "out"
    _batch(root, out)
    book = _gradebook(out)
    assert book["corrupt"]["status"].startswith("error: the zip file cannot be read")
    assert book["empty"]["status"].startswith("error: no exercise file")
    assert float(book["nbstudent"]["total"]) > 0
    assert float(book["caf\ufffd"]["total"]) > 0


SWALLOWS_STOP = """
import sys, time
import grader.runner

def grade(*args, **kwargs):  # a cleanup that catches the stop and goes on grading
    print("grading", flush=True)
    while True:
        try:
            time.sleep(60)
        except KeyboardInterrupt:
            pass

grader.runner.grade = grade
from grader.batch import one
sys.exit(one.main(["folder", "result.json"]))
"""


@pytest.mark.slow
def test_a_grading_process_ends_after_sigterm_even_if_the_stop_is_caught(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", SWALLOWS_STOP], cwd=tmp_path, stdout=subprocess.PIPE,
                               text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert process.stdout.readline() == "grading\n"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        if process.poll() is None:
            process.kill()


def test_a_batch_that_cannot_confine_the_students_code_says_so(monkeypatch):
    """Run by an instructor's own user, a batch's workers run the students' code as that user,
    seeing solutions/, the other submissions and the --out folder (a student's code could write
    its own row of the gradebook); nothing said so."""
    import argparse

    from grader import batch

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    warning = batch.unconfined_warning(argparse.Namespace(scheduler=None))
    assert "not running as root" in warning and "--out" in warning
    assert batch.unconfined_warning(argparse.Namespace(scheduler="tcp://head:8786")) is None
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert batch.unconfined_warning(argparse.Namespace(scheduler=None)) is None


def test_a_run_that_leaves_out_parts_already_graded_in_out_is_refused(tmp_path):
    # `--part layers` into an --out graded with conv and layers regraded every student without
    # conv: the conv grades were gone from the gradebook and the students' feedback.
    from tests.helpers import grader, one_line_refusal

    root, out = tmp_path / "class", tmp_path / "grades"
    (root / "alice").mkdir(parents=True)
    (root / "alice" / "conv.py").write_bytes((SOLUTIONS / "conv.py").read_bytes())
    state = out / "students" / "alice" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"key": "k", "id": "alice", "status": "graded", "total": 46,
                                 "parts": {"conv": 21, "layers": 25}}))
    refusal = one_line_refusal(subprocess.run(
        [sys.executable, "-m", "grader", "batch", root, "--out", out, "--part", "layers"],
        capture_output=True, text=True, cwd=ROOT))
    assert "holds the grades of conv" in refusal and "--part conv" in refusal
    assert json.loads(state.read_text())["parts"] == {"conv": 21, "layers": 25}
    assert sorted(p.name for p in out.rglob("*")) == ["alice", "state.json", "students"]
