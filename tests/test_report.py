"""The class report (grader.batch.report): report.html, checks.csv and signatures.csv, built
from a batch's stored results by `grader batch` and again by `grader report OUT`."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import batch, cli, i18n
from grader import rubric as rubric_module
from grader.batch import report as class_report
from grader.batch.students import Student
from grader.errors import EXIT_OK, EXIT_USAGE
from grader.i18n import _
from grader.results import FAILED, GRADER_ERROR, PASSED, CheckResult, Report, diagnosis, signature
from tests.helpers import SOLUTIONS
from tests.planted_bugs import BUGS, apply_bug


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _check(check_id, status, score, found=None, summary="", example=None, hidden=False, points=2.0):
    part, name = check_id.split(".")
    return CheckResult(check_id, part, name, f"the {name} check", points, score, status, summary,
                       ["    evidence line"], example, hidden=hidden, diagnosis=found)


def _write_class(out: Path, students: dict, show_hidden: bool = False, parts=("layers",)) -> None:
    """Each student's results as `grader batch` stores them: ``students`` id -> Report or a
    hand-in problem (a string)."""
    listed = []
    for number, (student_id, graded) in enumerate(students.items()):
        student = Student(student_id, re.sub(r"[^A-Za-z0-9._-]", "_", student_id), out)
        listed.append(student)
        if isinstance(graded, Report):
            batch._finish(out, student, f"key{number}", graded, [], graded.status, show_hidden)
        else:
            batch._finish(out, student, f"key{number}", None, [graded], "error: " + graded, show_hidden)
    batch.write_gradebook(out, listed, list(parts))


SCALED = diagnosis("values", "dx", "scaled by 2")
SHAPE = diagnosis("shape", "dw", "axes in another order")


def _synthetic(seconds=1.0) -> dict:
    def report(student, *checks):
        return Report(student, list(checks), ["layers"], seconds=seconds)

    return {
        "ann": report("ann", _check("layers.relu_backward", FAILED, 0, SCALED, "dx differs"),
                      _check("layers.linear_backward", PASSED, 2)),
        "bob": report("bob", _check("layers.relu_backward", FAILED, 0, SCALED, "dx differs"),
                      _check("layers.linear_backward", FAILED, 0, SHAPE, "dw has shape (3, 2)")),
        "cy d": report("cy d", _check("layers.relu_backward", PASSED, 2),
                       _check("layers.linear_backward", FAILED, 0, SHAPE, "dw has shape (3, 2)")),
        "dee": report("dee", _check("layers.relu_backward", FAILED, 0, diagnosis("values", "dx", "all zero"), "dx"),
                      _check("layers.linear_backward", GRADER_ERROR, 0, None, "internal grader error: boom")),
        "eve": "the zip file is corrupt",
    }


@pytest.fixture
def synthetic_class(tmp_path):
    out = tmp_path / "out"
    _write_class(out, _synthetic())
    return out


def test_checks_and_signatures_count_what_the_students_results_say(synthetic_class):
    class_report.write(synthetic_class)
    checks = {row["check"]: row for row in _rows((synthetic_class / "checks.csv").read_text())}
    assert list(_rows((synthetic_class / "checks.csv").read_text())[0]) == \
        ["check", "part", "title", "max_score", "passed", "failed", "errors", "mean_score"]
    relu, linear = checks["layers.relu_backward"], checks["layers.linear_backward"]
    assert (relu["passed"], relu["failed"], relu["errors"], relu["mean_score"]) == ("1", "3", "0", "0.500")
    assert (linear["passed"], linear["failed"], linear["errors"], linear["mean_score"]) == ("1", "2", "1", "0.667")
    assert relu["part"] == "layers" and relu["max_score"] == "2"
    assert relu["title"] == rubric_module.load().entries[[e.id for e in rubric_module.load().entries]
                                                        .index("layers.relu_backward")].title
    signatures = _rows((synthetic_class / "signatures.csv").read_text())
    assert [(row["signature"], row["count"], row["students"]) for row in signatures] == [
        ("layers.linear_backward | shape | dw | axes in another order", "2", "bob cy_d"),  # an id with a space: its slug
        ("layers.relu_backward | values | dx | scaled by 2", "2", "ann bob"),
        ("layers.relu_backward | values | dx | all zero", "1", "dee"),
    ]
    assert signatures[0]["check"] == "layers.linear_backward"
    assert signatures[0]["example"].startswith("dw has shape (3, 2)")


def test_the_page_has_every_section_and_loads_nothing(synthetic_class, tmp_path):
    similar = tmp_path / "similar.csv"
    similar.write_text("a,b,score\nann,bob,0.97\ncy d,dee,0.40\n")
    class_report.write(synthetic_class, similar_csv=similar)
    page = (synthetic_class / "report.html").read_text()
    for key, title in class_report.SECTIONS:
        assert f'<section id="{key}">' in page and f"<h2>{title}</h2>" in page
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page)
    assert "@media print" in page and page.count("<svg") == 3  # totals, the part, the time
    assert "the zip file is corrupt" in page and "internal grader error: boom" in page
    assert "0.970" in page


def test_hidden_inputs_stay_hidden_unless_asked(tmp_path):
    out = tmp_path / "out"
    hidden = _check("layers.relu_backward", FAILED, 0, SCALED, "dx differs from the reference",
                    example="relu_backward(x=SECRET_INPUT)", hidden=True)
    _write_class(out, {"ann": Report("ann", [hidden], ["layers"])}, show_hidden=True)
    assert "SECRET_INPUT" in (out / "students" / "ann" / "results.json").read_text()
    class_report.write(out)
    for name in ("report.html", "signatures.csv"):
        assert "SECRET_INPUT" not in (out / name).read_text()
    assert "dx differs from the reference" in (out / "signatures.csv").read_text()
    class_report.write(out, show_hidden_inputs=True)
    assert "SECRET_INPUT" in (out / "signatures.csv").read_text()


def test_grader_report_rebuilds_what_batch_wrote_and_refuses_other_folders(synthetic_class, tmp_path, capsys):
    class_report.write(synthetic_class)
    written = {name: (synthetic_class / name).read_bytes() for name in ("report.html", "checks.csv", "signatures.csv")}
    for name in written:
        (synthetic_class / name).unlink()
    assert cli.main(["report", str(synthetic_class)]) == EXIT_OK
    assert {name: (synthetic_class / name).read_bytes() for name in written} == written
    capsys.readouterr()
    (tmp_path / "empty").mkdir()
    bad_similar = tmp_path / "bad.csv"
    bad_similar.write_text("x,y\n1,2\n")
    for argv in (["report", str(tmp_path / "nowhere")], ["report", str(tmp_path / "empty")],
                 ["report", str(synthetic_class), "--similar", str(bad_similar)],
                 ["report", str(synthetic_class), "--similar", str(tmp_path / "missing.csv")]):
        assert cli.main(argv) == EXIT_USAGE
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "Traceback" not in error, error
    assert not (tmp_path / "empty" / "report.html").exists()


# -- a class of planted bugs, graded once -----------------------------------------------------------
# check -> the bugs that touch it; several students per bug, some with two bugs, one in Chinese.
CHECKS = ("pooling.max_pool2d_backward", "pooling.avg_pool2d_backward",
          "layers.linear_backward", "layers.relu_backward", "layers.softmax_cross_entropy")
PARTS = ("pooling", "layers")
CLASS = {
    "s01": ["linear_dw_transposed"], "s02": ["linear_dw_transposed"], "s03": ["linear_dw_transposed"],
    "s04": ["cross_entropy_gradient_not_averaged"], "s05": ["cross_entropy_gradient_not_averaged"],
    "s06": ["cross_entropy_summed"], "s07": ["cross_entropy_summed"],
    "s08": ["relu_gradient_one_at_zero"], "s09": ["relu_gradient_one_at_zero"],
    "s10": ["linear_dw_transposed", "cross_entropy_gradient_not_averaged"],
    "s11": [],
    "p01": ["avg_pool_backward_assign_not_add"], "p02": ["avg_pool_backward_assign_not_add"],
    "p03": ["avg_pool_backward_assign_not_add", "max_pool_backward_offset_transposed"],
    "p04": ["max_pool_backward_offset_transposed"],
    "zh1": ["linear_dw_transposed", "cross_entropy_summed"],   # graded in Chinese
}
BY_ID = {bug.id: bug for bug in BUGS}


@pytest.fixture(scope="session")
def planted_class(tmp_path_factory):
    from grader.runner import grade

    rubric = rubric_module.load()
    rubric = dataclasses.replace(rubric, entries=tuple(e for e in rubric.entries if e.id in CHECKS))
    root, out = tmp_path_factory.mktemp("planted"), tmp_path_factory.mktemp("planted-out")
    students = []
    for student_id, bugs in CLASS.items():
        folder = root / student_id
        folder.mkdir()
        for part in PARTS:
            text = (SOLUTIONS / f"{part}.py").read_text()
            for bug in bugs:
                text = apply_bug(BY_ID[bug], text) if BY_ID[bug].part == part else text
            (folder / f"{part}.py").write_text(text)
        language = "zh" if student_id.startswith("zh") else "en"
        student = Student(student_id, student_id, folder)
        with i18n.speaking(language):
            graded = grade(folder, parts=list(PARTS), rubric=rubric, include_hidden=True, language=language)
            batch._finish(out, student, student_id, graded, [], graded.status, False)
        students.append(student)
    batch.write_gradebook(out, students, list(PARTS))
    class_report.write(out)
    return out


@pytest.mark.slow
def test_a_planted_class_is_grouped_by_mistake(planted_class):
    signatures = _rows((planted_class / "signatures.csv").read_text())
    groups = {row["signature"]: set(row["students"].split()) for row in signatures}
    for row in signatures:
        assert int(row["count"]) == len(row["students"].split())
    # one group per bug on each check it touches, whoever has it, in whatever language
    expected_groups = [{"s01", "s02", "s03", "s10", "zh1"}, {"s04", "s05", "s10"}, {"s06", "s07", "zh1"},
                       {"s08", "s09"}, {"p01", "p02", "p03"}, {"p03", "p04"}]
    assert sorted(map(sorted, groups.values())) == sorted(map(sorted, expected_groups)), groups
    # two bugs on one check (the summed loss, the gradient not averaged): two signatures
    softmax = [key for key in groups if key.startswith("layers.softmax_cross_entropy")]
    assert len(softmax) == 2
    by_group = {frozenset(students): key for key, students in groups.items()}
    assert "multiplied by the batch size" in by_group[frozenset({"s04", "s05", "s10"})]
    assert by_group[frozenset({"p01", "p02", "p03"})] == \
        "pooling.avg_pool2d_backward | values | dx | wrong only where windows overlap"
    assert by_group[frozenset({"p03", "p04"})] == "pooling.max_pool2d_backward | values | dx | transposed (the last two axes)"
    # the example message is a student's, in the student's language: s01 is first, in English
    linear = next(row for row in signatures if row["check"] == "layers.linear_backward")
    assert not re.search(r"[\u4e00-\u9fff]", linear["example"])


@pytest.mark.slow
def test_the_planted_class_s_counts_are_its_results_json(planted_class):
    verdicts = {}
    for student in CLASS:
        results = json.loads((planted_class / "students" / student / "results.json").read_text())
        for test in results["tests"]:
            facts = test["extra_data"]
            verdicts.setdefault(facts["check"], []).append((facts["status"], test["score"],
                                                           signature(facts["check"], facts["diagnosis"])))
    checks = {row["check"]: row for row in _rows((planted_class / "checks.csv").read_text())}
    assert set(checks) == set(CHECKS)
    for check, seen in verdicts.items():
        row = checks[check]
        assert int(row["passed"]) == sum(status == PASSED for status, _s, _k in seen)
        assert int(row["failed"]) == sum(status == FAILED for status, _s, _k in seen)
        assert int(row["errors"]) == 0
        assert float(row["mean_score"]) == pytest.approx(sum(score for _t, score, _k in seen) / len(seen), abs=1e-3)
    assert int(checks["layers.relu_backward"]["failed"]) == 2
    assert int(checks["layers.linear_backward"]["failed"]) == 5
    assert int(checks["pooling.avg_pool2d_backward"]["failed"]) == 3
    assert int(checks["pooling.avg_pool2d_backward"]["passed"]) == len(CLASS) - 3
    # Chinese feedback, the same signature as the English students'
    zh = json.loads((planted_class / "students" / "zh1" / "results.json").read_text())
    assert re.search(r"[\u4e00-\u9fff]", "".join(test["output"] for test in zh["tests"]))
    page = (planted_class / "report.html").read_text()
    assert "s01" in page and "layers.linear_backward" in page


@pytest.mark.slow
def test_the_planted_class_s_report_in_either_language_leaves_every_other_file_as_it_was(planted_class, tmp_path):
    """A class graded for real (one student in Chinese), its report rebuilt in English then in
    Chinese: the page changes language, the CSV and JSON files do not change by a byte."""
    out = tmp_path / "out"
    shutil.copytree(planted_class, out)

    def files():
        return {str(path.relative_to(out)): path.read_bytes() for path in sorted(out.rglob("*"))
                if path.is_file() and path.name != "report.html"}

    class_report.write(out, language="en")
    english = files()
    english_page = (out / "report.html").read_text(encoding="utf-8")
    class_report.write(out, language="zh")
    assert files() == english
    page = (out / "report.html").read_text(encoding="utf-8")
    zh = i18n.catalog("zh")
    assert '<html lang="zh-CN">' in page and '<html lang="en">' in english_page
    for _key, title in class_report.SECTIONS:
        assert f"<h2>{zh[title]}</h2>" in page and f"<h2>{title}</h2>" in english_page
    # the same groups and examples on both pages: the students' words are not translated
    examples = re.findall(r"<pre>.*?</pre>", english_page, flags=re.S)
    assert examples and examples == re.findall(r"<pre>.*?</pre>", page, flags=re.S)


# -- the page in a real browser ---------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def _chromium(page: Path, profile: Path, *action) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *action, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def _fetched_by_page(netlog: Path) -> set:
    """The URLs the page asked for, from Chromium's net log: requests with an initiator (the
    browser's own update and account pings have "not an origin")."""
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return {event["params"]["url"] for event in log["events"]
            if event["type"] == start and "url" in event.get("params", {})
            and event["params"].get("initiator", "not an origin") != "not an origin"}


def _outside(urls: set) -> set:
    return {url for url in urls if not url.startswith(("file:", "data:"))}


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine: install Debian's `chromium` "
                                              "package (.ci/run does where apt-get and root are at hand)")
def test_the_page_in_a_browser(synthetic_class, tmp_path):
    similar = tmp_path / "similar.csv"
    similar.write_text("a,b,score\nann,bob,0.97\n")
    class_report.write(synthetic_class, similar_csv=similar)
    page = synthetic_class / "report.html"
    shot, netlog = tmp_path / "report.png", tmp_path / "net.json"
    taken = _chromium(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2400",
                      f"--log-net-log={netlog}")
    assert shot.is_file() and shot.stat().st_size > 10_000, taken.stderr[-2000:]
    assert not _outside(_fetched_by_page(netlog))
    dom = _chromium(page, tmp_path / "profile2", "--dump-dom").stdout
    for key, title in class_report.SECTIONS:
        assert re.search(rf'<section id="{key}">\s*<h2>{title}</h2>', dom), key
    class_report.write(synthetic_class, similar_csv=similar, language="zh")
    zh_dom = _chromium(page, tmp_path / "profile4", "--dump-dom").stdout
    assert '<html lang="zh-CN">' in zh_dom
    for key, title in class_report.SECTIONS:
        assert re.search(rf'<section id="{key}">\s*<h2>{i18n.catalog("zh")[title]}</h2>', zh_dom), key
    assert dom.count("<svg") == 3 and "<rect" in dom and "ann" in dom and "scaled by 2" in dom
    assert not re.search(r"(src|href)=\"(https?:)?//", dom)
    # the net log check sees a page that does fetch from outside
    leaky = tmp_path / "leaky.html"
    leaky.write_text('<html><body><img src="http://example.invalid/x.png">leak</body></html>')
    _chromium(leaky, tmp_path / "profile3", f"--log-net-log={tmp_path / 'leaky.json'}", "--dump-dom")
    assert _outside(_fetched_by_page(tmp_path / "leaky.json")) == {"http://example.invalid/x.png"}


def test_an_example_names_the_student_s_file_not_the_grading_s_temporary_folder(tmp_path):
    out = tmp_path / "out"
    raised = _check("layers.relu_backward", FAILED, 0, diagnosis("raised", pattern="IndexError"),
                    "your code raised IndexError: index 3")
    raised.lines = ['    File "/tmp/grader-student-x1y2/submission/layers.py", line 7, in relu_backward']
    _write_class(out, {"ann": Report("ann", [raised], ["layers"])})
    class_report.write(out)
    example = _rows((out / "signatures.csv").read_text())[0]["example"]
    assert 'File "layers.py", line 7, in relu_backward' in example and "grader-student" not in example


def test_a_report_that_cannot_be_written_costs_batch_one_line(synthetic_class, capsys):
    (synthetic_class / "report.html").mkdir()
    batch.write_class_report(synthetic_class, False)
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "class report was not written" in error and "grader report" in error
    assert (synthetic_class / "gradebook.csv").is_file()


def test_two_hand_ins_of_one_id_are_two_students(tmp_path):
    out = tmp_path / "out"
    failing = _check("layers.relu_backward", FAILED, 0, SCALED, "dx differs")
    students = [Student("ann", "ann", out), Student("ann", "ann-1a2b3c4d", out)]
    batch._finish(out, students[0], "k0", Report("ann", [failing], ["layers"]), [], "graded", False)
    batch._finish(out, students[1], "k1", None, ["the zip file is corrupt"], "error: the zip file is corrupt", False)
    batch.write_gradebook(out, students, ["layers"])
    results = class_report.load(out)
    assert sorted(s.slug for s in results.students) == ["ann", "ann-1a2b3c4d"]
    assert [len(m.students) for m in results.mistakes] == [1] and len(results.not_graded) == 1
