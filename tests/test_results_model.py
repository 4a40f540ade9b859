"""The results model renders every form of a result, "not graded" included (no process started)."""

from grader.results import FAILED, PASSED, CheckResult, NotGraded, Report


def _report() -> Report:
    checks = [CheckResult("conv.a", "conv", "a", "title a", 2, 2, PASSED, seconds=0.25),
              CheckResult("conv.b", "conv", "b", "title b", 4, 1, FAILED, "half of it", seconds=1.5)]
    return Report("sub", checks, ["conv"], 2.0, files={"conv": "convolution.py"})


def test_a_test_s_execution_time_is_in_its_extra_data():
    """Gradescope's specification lists execution_time at the top level only."""
    data = _report().to_gradescope()
    assert data["execution_time"] == 2.0
    assert [test["extra_data"]["execution_time"] for test in data["tests"]] == [0.25, 1.5]
    assert all("execution_time" not in test for test in data["tests"])


def test_not_graded_in_every_form():
    not_graded = NotGraded("error: the zip file cannot be read", ["odd.zip skipped"], seconds=0.0)
    assert not_graded.to_gradescope() == {"score": 0.0, "execution_time": 0.0, "tests": [],
                                          "output": "odd.zip skipped\nerror: the zip file cannot be read"}
    assert not_graded.render_markdown("Feedback for alice") == (
        "# Feedback for alice\n\n> odd.zip skipped\n\n**Not graded**: error: the zip file cannot be read.\n")
    assert not_graded.gradebook_fields() == {"status": "error: the zip file cannot be read", "total": 0.0,
                                             "parts": {}}
    assert "execution_time" not in NotGraded("crashed").to_gradescope()


def test_part_totals_are_rendered_by_the_model_with_the_part_s_file():
    report = _report()
    assert report.totals_text().splitlines()[0] == "== convolution.py  3/6"
    assert report.totals_text().splitlines()[1].startswith("Total: 3/6")
    assert Report.from_dict(report.to_dict()).files == {"conv": "convolution.py"}


def test_a_notebook_s_check_lines():
    passed, partial = _report().checks
    assert passed.notebook_text() == "PASS a: title a (2/2)"
    assert partial.notebook_text() == "PARTIAL b: title b (1/4)\nhalf of it"
    partial.score = 0
    assert partial.notebook_text().startswith("FAIL b: title b (0/4)\n")


def test_the_files_a_report_produced_replace_the_grader_s_own_and_never_a_student_s(tmp_path):
    import io

    import numpy as np

    report = _report()
    arrays = io.BytesIO()
    np.savez(arrays, a0=np.ones((1, 2, 3, 4)))
    report.checks[1].artifacts = {"replay-conv.b.npz": arrays.getvalue(), "learning_curve.png": b"\x89PNG new"}
    np.savez(tmp_path / "replay-conv.b.npz", a0=np.zeros(3))  # an earlier check's example
    (tmp_path / "learning_curve.png").write_bytes(b"\x89PNG old")
    told = report.save_artifacts(tmp_path)
    assert np.load(tmp_path / "replay-conv.b.npz")["a0"].shape == (1, 2, 3, 4)
    assert (tmp_path / "learning_curve.png").read_bytes() == b"\x89PNG new" and len(told) == 2
    (tmp_path / "replay-conv.b.npz").write_text("my notes")
    (tmp_path / "learning_curve.png").write_text("my notes")
    told = report.save_artifacts(tmp_path)
    assert all("not written" in line for line in told) and len(told) == 2
    assert (tmp_path / "replay-conv.b.npz").read_text() == (tmp_path / "learning_curve.png").read_text() == "my notes"
    report.save_artifacts(tmp_path, replace_any=True)  # a results folder of the grader's
    assert (tmp_path / "learning_curve.png").read_bytes() == b"\x89PNG new"


def test_a_notebook_s_report_writes_the_replay_file_it_names(tmp_path, capsys):
    from grader.assign import nbgrader_course

    report = Report("sub", [CheckResult("conv.b", "conv", "b", "title b", 4, 0, FAILED, "wrong")], ["conv"], 1.0)
    report.checks[0].artifacts = {"replay-conv.b.npz": b"PK\x03\x04 arrays"}
    key = nbgrader_course._report_key("conv", tmp_path.resolve())
    nbgrader_course._reports[key] = report  # as graded before: show_report prints it again
    try:
        nbgrader_course.show_report("conv", tmp_path)
    finally:
        del nbgrader_course._reports[key]
    assert (tmp_path / "replay-conv.b.npz").read_bytes() == b"PK\x03\x04 arrays"
    assert "replay-conv.b.npz written to" in capsys.readouterr().out


def test_a_notebook_s_report_says_once_what_it_grades(tmp_path, capsys, monkeypatch):
    from grader import runner
    from grader.assign import nbgrader_course

    report = Report(str(tmp_path), [CheckResult("conv.b", "conv", "b", "title b", 4, 4, PASSED)], ["conv"], 1.0)
    monkeypatch.setattr(runner, "grade", lambda *args, **kwargs: report)
    monkeypatch.setattr(nbgrader_course, "_reports", {})
    nbgrader_course.show_report("conv", tmp_path)        # grades: the line saying so, no header
    nbgrader_course.show_report("conv", tmp_path)        # graded before: the report's own header
    first, second = capsys.readouterr().out.split("== conv.py  4/4", 1)
    assert first.count("Grading") == 1 and first.startswith("Grading conv.py in ")
    assert second.count("Grading") == 1 and f"Grading {tmp_path}" in second
