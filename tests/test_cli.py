"""The command line as a student and an instructor meet it: exit codes, one-line refusals,
a streamed report, Ctrl-C, and never a file of the submission overwritten."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import subprocess
import sys
import time

import psutil
import pytest

from grader import rubric as rubric_module

from tests.helpers import ASSIGNMENTS, ROOT, SOLUTIONS, ctrl_c_reaches_it, grader, one_line_refusal


def test_version():
    run = grader("--version")
    assert run.returncode == 0 and run.stdout.startswith("grader ")


@pytest.mark.slow
def test_exit_codes_follow_the_verdict(tmp_path):
    assert grader("check", SOLUTIONS, "--part", "conv", "-q").returncode == 0
    assert grader("check", ASSIGNMENTS, "--part", "conv", "-q").returncode == 1


@pytest.mark.slow
def test_quiet_prints_the_totals_only():
    run = grader("check", SOLUTIONS, "--part", "conv", "-q")
    assert run.stdout.strip().splitlines() == [run.stdout.strip()] and run.stdout.startswith("Total: ")


def test_an_empty_folder_is_refused_once(tmp_path):
    message = one_line_refusal(grader("check", tmp_path))
    assert "no exercise file" in message


def test_bad_folder_and_part_are_one_line_refusals(tmp_path):
    assert "is not a folder" in one_line_refusal(grader("check", tmp_path / "nope"))
    assert "unknown part" in one_line_refusal(grader("check", SOLUTIONS, "--part", "convv"))


@pytest.mark.slow
def test_json_never_writes_over_a_submission_file(tmp_path):
    work = tmp_path / "work"
    shutil.copytree(SOLUTIONS, work)
    before = (work / "conv.py").read_bytes()
    assert ".json" in one_line_refusal(grader("check", work, "--part", "conv", "--json", work / "conv.py"))
    assert (work / "conv.py").read_bytes() == before
    one_line_refusal(grader("check", work, "--part", "conv", "--json", work / "missing" / "r.json"))
    one_line_refusal(grader("check", work, "--part", "conv", "--json", work / "conv.py" / "r.json"))
    assert sorted(p.name for p in work.iterdir()) == sorted(p.name for p in SOLUTIONS.iterdir())


@pytest.mark.slow
def test_a_replay_file_is_refreshed_by_each_check_and_a_student_s_file_of_its_name_kept(tmp_path):
    import numpy as np

    work = tmp_path / "work"
    shutil.copytree(SOLUTIONS, work)
    conv = work / "conv.py"
    # wrong only on outputs too large to be written into the snippet: the example's arrays go to the .npz
    conv.write_text(conv.read_text().replace("    return out, cache", "    return (out.tolist() if out.size > 12 else out), cache", 1))
    replay = work / "replay-conv.conv2d_forward.npz"
    np.savez(replay, a0=np.zeros(3))  # an earlier check's arrays, of another example
    run = grader("check", "--part", "conv", "--fresh", cwd=work)
    assert run.returncode == 1 and "not written" not in run.stdout
    assert np.load(replay)["a0"].ndim == 4  # this check's example: x (N, C, H, W)
    replay.write_text("my notes")
    run = grader("check", "--part", "conv", "--fresh", cwd=work)
    assert replay.read_text() == "my notes" and "replay-conv.conv2d_forward.npz not written" in run.stdout


@pytest.mark.slow
def test_json_results_have_the_execution_time(tmp_path):
    out = tmp_path / "r.json"
    assert grader("check", SOLUTIONS, "--part", "conv", "--json", out).returncode == 0
    data = json.loads(out.read_text())
    assert data["execution_time"] > 0 and all(test["extra_data"]["execution_time"] >= 0 for test in data["tests"])
    assert set(data["extra_data"]["versions"]) == {"numpy", "torch"}


@pytest.mark.slow
def test_report_streams_and_names_the_versions():
    process = subprocess.Popen([sys.executable, "-m", "grader", "check", str(SOLUTIONS), "--part", "conv",
                                "--part", "pooling", "--part", "batchnorm"], stdout=subprocess.PIPE,
                               text=True, cwd=ROOT)
    first = process.stdout.readline()
    second = process.stdout.readline()
    still_running = process.poll() is None
    rest = process.stdout.read()
    assert process.wait() == 0
    assert first.startswith("Grading ") and "numpy" in first and "torch" in first
    assert second.strip() == "" and rest.startswith("== conv.py")
    assert still_running, "the header came only when grading was over"


def _interrupt(command, ready_text):
    """Starts ``command``, waits for ``ready_text`` on stdout, sends Ctrl-C; returns the run and
    the processes it had started."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               preexec_fn=ctrl_c_reaches_it)
    seen, deadline = "", time.monotonic() + 120
    while ready_text not in seen and time.monotonic() < deadline:
        seen += process.stdout.readline()
    children = psutil.Process(process.pid).children(recursive=True)
    assert children, "nothing was running yet"
    process.send_signal(signal.SIGINT)
    with _killed_if_left(process, children):
        out, err = process.communicate(timeout=60)
    return process.returncode, seen + out, err, children


@contextlib.contextmanager
def _killed_if_left(process, children):
    """A run that does not stop in time is killed, with what it started, before the test fails."""
    try:
        yield
    except BaseException:
        _kill(process, *children)
        raise


def _kill(*processes):
    for left in processes:
        try:
            left.kill()
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass


def _all_gone(processes, seconds=15):
    """Whether ``processes`` all end within ``seconds``; those left are killed (the test fails)."""
    gone, alive = psutil.wait_procs(processes, timeout=seconds)
    _kill(*alive)
    return not alive


@pytest.mark.slow
def test_ctrl_c_on_check_stops_cleanly(tmp_path):
    # train.py alone: the parts it runs are the reference's, not checked first, so the training starts soon
    shutil.copy(SOLUTIONS / "train.py", tmp_path)
    code, out, err, children = _interrupt(
        [sys.executable, "-u", "-m", "grader", "check", str(tmp_path), "--part", "train"], "sgd_step")
    assert code == 130 and "Traceback" not in err, err
    assert err.strip().splitlines() == ["grader: interrupted (nothing left running)"]
    assert _all_gone(children)


@pytest.mark.slow
def test_ctrl_c_on_batch_stops_every_student(tmp_path):
    root = tmp_path / "class"
    for name in ("a", "b"):
        shutil.copytree(SOLUTIONS, root / name)
    command = [sys.executable, "-u", "-m", "grader", "batch", str(root), "--out", str(tmp_path / "out"),
               "--jobs", "2", "--part", "train"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               preexec_fn=ctrl_c_reaches_it)
    deadline = time.monotonic() + 60
    children = []
    while time.monotonic() < deadline and len([c for c in children if "grader.worker.server" in
                                               " ".join(c.cmdline())]) < 2:
        time.sleep(0.5)
        try:
            children = psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            break
    assert children, "the batch started no grading process"
    process.send_signal(signal.SIGINT)
    with _killed_if_left(process, children):
        out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in err, err
    assert _all_gone(children)


def test_batch_refuses_bad_folders(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    assert "no submissions" in one_line_refusal(grader("batch", root, "--out", tmp_path / "out"))
    shutil.copytree(SOLUTIONS, root / "alice")
    assert "inside the submissions folder" in one_line_refusal(grader("batch", root, "--out", root / "grades"))
    (tmp_path / "file").write_text("x")
    assert "is a file" in one_line_refusal(grader("batch", root, "--out", tmp_path / "file"))
    assert (tmp_path / "file").read_text() == "x"
    assert "not a folder" in one_line_refusal(grader("batch", tmp_path / "none", "--out", tmp_path / "o"))


@pytest.mark.slow
def test_a_grader_fault_is_a_grader_error_not_a_zero(tmp_path):
    """A wrong KIT_DATA_DIR (the digits cannot be found) is the grader's fault: the checks that
    need them are grader errors, the run exits 3, the gradebook says so and a rerun regrades.
    The hand-in is augment.py alone: the parts it runs are then the reference's, not checked first
    (AlexNet and VGG would take minutes, and have nothing to do with the digits); its part needs
    the digits as the train part does, with a training of seconds rather than a minute."""
    alice = tmp_path / "class" / "alice"
    alice.mkdir(parents=True)
    shutil.copy(SOLUTIONS / "augment.py", alice)
    run = grader("check", alice, "--part", "augment", env={"KIT_DATA_DIR": str(tmp_path)})
    assert run.returncode == 3, run.stdout
    assert "[ERROR]" in run.stdout and "not a mistake in your code" in run.stdout

    root = alice.parent
    out = tmp_path / "out"
    batch = grader("batch", root, "--out", out, "--part", "augment", env={"KIT_DATA_DIR": str(tmp_path)})
    assert batch.returncode == 3 and "grader itself failed on 1 student" in batch.stderr
    assert out.joinpath("gradebook.csv").read_text().splitlines()[1].endswith(",grader error")
    again = grader("batch", root, "--out", out, "--part", "augment", "--jobs", "1")
    assert again.returncode == 0 and "skipped" not in again.stderr
    row = out.joinpath("gradebook.csv").read_text().splitlines()[1]
    full = sum(e.points for e in rubric_module.load().select(["augment"], include_hidden=True))
    assert row.endswith(",graded") and row.startswith(f"alice,{full:g},"), row


@pytest.mark.parametrize("command", ["release", "gradescope", "notebooks", "course", "stubs"])
def test_an_instructor_command_s_out_that_is_the_wrong_kind_of_path_is_one_line(tmp_path, command):
    (tmp_path / "file").write_text("x")
    wrong = tmp_path / "file" if command != "gradescope" else tmp_path
    assert "--out" in one_line_refusal(grader(command, "--out", wrong))
    assert "is a file" in one_line_refusal(grader(command, "--out", tmp_path / "file" / "below"))
    assert (tmp_path / "file").read_text() == "x" and sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_gradescope_writes_no_zip_where_the_next_release_would_ship_it(tmp_path):
    assert "the kit ships that folder" in one_line_refusal(grader("gradescope", "--out", ROOT / "grader" / "x.zip"))
    assert not (ROOT / "grader" / "x.zip").exists()
    (tmp_path / "notes.zip").write_text("mine")
    assert "not an earlier autograder" in one_line_refusal(grader("gradescope", "--out", tmp_path / "notes.zip"))
    assert (tmp_path / "notes.zip").read_text() == "mine"


def test_every_option_of_the_instructors_commands_says_what_it_is():
    import argparse

    from grader import cli

    commands = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name in ("release", "gradescope", "stubs", "notebooks", "course", "batch", "report", "similar"):
        silent = [a.dest for a in commands.choices[name]._actions if a.help is None]
        assert silent == [], (name, silent)
