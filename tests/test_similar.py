"""``grader similar``: a disguised copy stands out, the stubs alone never do.

The class is made of the kit's own correct solutions, written independently of each other
(the reference, the loops and einsum alternatives, the other modules and train), each
student over the stubs; a copier takes one of them and renames every identifier, drops and
rewrites the comments, reverses the order of the functions and reformats the code.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import cli, similar
from grader.assign.markers import SOLUTION
from grader.assign.stubs import strip_solutions

from tests.helpers import ASSIGNMENTS, ROOT, SOLUTIONS, assemble
from tests.similar_class import INDEPENDENT, make_class, read_class, stub_files, student

@pytest.mark.parametrize("original", sorted(INDEPENDENT))
def test_disguised_copy_ranks_above_every_independent_pair(original, tmp_path):
    submissions = read_class(make_class(tmp_path, copied=original))
    assert submissions["zed"] != submissions[original]
    pairs = similar.similar_pairs(submissions, stub_files())
    assert len(pairs) == 10
    assert all(0 <= pair.score <= 1 for pair in pairs)
    top, *others = pairs
    assert (top.a, top.b) == tuple(sorted((original, "zed")))
    assert top.score > max(pair.score for pair in others)


def _with_one_function(name: str) -> str:
    """The stub of ``name`` with the body of its first function filled in from the solution."""
    lines = (SOLUTIONS / name).read_text().splitlines(keepends=True)
    begin = next(i for i, line in enumerate(lines) if line.strip() == SOLUTION.begin and line[0].isspace())
    end = next(i for i in range(begin, len(lines)) if lines[i].strip() == SOLUTION.end)
    return strip_solutions("".join(lines[:begin] + lines[begin + 1:end] + lines[end + 1:]))


def test_the_stubs_alone_never_make_students_similar(tmp_path):
    stubs = stub_files()
    ana = read_class(make_class(tmp_path))["ana"]
    relaid = {name: text.replace("\n\n", "\n\n\n").replace("):\n", "):  # given\n")
              for name, text in stubs.items()}  # the stubs through another editor
    submissions = {"stub1": stubs, "stub2": relaid,
                   "conv_size": dict(stubs, **{"conv.py": _with_one_function("conv.py")}),
                   "conv_size2": dict(stubs, **{"conv.py": _with_one_function("conv.py")}),
                   "linear": dict(stubs, **{"layers.py": _with_one_function("layers.py")}),
                   "full": ana, "full2": dict(ana)}
    assert submissions["conv_size"]["conv.py"] != stubs["conv.py"] != relaid["conv.py"]
    pairs = similar.similar_pairs(submissions, stubs)
    keys = [(-pair.score, pair.a, pair.b) for pair in pairs]
    assert keys == sorted(keys)  # many ties at 0 here: by names
    scores = {(pair.a, pair.b): pair.score for pair in pairs}
    assert scores[("stub1", "stub2")] == 0
    for stub in ("stub1", "stub2"):
        for other in ("conv_size", "full", "linear"):
            assert scores[tuple(sorted((other, stub)))] == 0
    assert scores[("conv_size", "linear")] == 0
    # Two who filled in the same short function the same way share all their own code, but
    # little of it: they rank below two who share a whole submission.
    assert (pairs[0].a, pairs[0].b, pairs[0].score) == ("full", "full2", 1)
    assert 0 < scores[("conv_size", "conv_size2")] < 0.5


def test_code_that_does_not_parse_is_still_compared():
    """A copy whose middle line is badly indented and whose end is cut off mid-call: the
    tokenizer starts again after the bad line, and the copy is still found whole."""
    lines = (SOLUTIONS / "pooling.py").read_text().splitlines(keepends=True)
    middle = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].startswith("def "))
    broken = "".join(lines[:middle] + ["   oops = 1\n"] + lines[middle:]) + "x = f(\n"
    stubs = stub_files()
    with pytest.raises(IndentationError):
        ast.parse(broken)
    pairs = similar.similar_pairs({"ana": {"pooling.py": "".join(lines)},
                                   "bad": {"pooling.py": broken}}, stubs)
    assert pairs[0].score > 0.95


def _run(*argv) -> int:
    return cli.main(["similar", *map(str, argv)])


def _rows(report: Path):
    with report.open(newline="") as handle:
        return list(csv.reader(handle))


def test_report_is_sorted_csv_and_the_same_in_every_process(tmp_path):
    root = make_class(tmp_path / "class", copied="cy")
    with zipfile.ZipFile(root / "eve.zip", "w") as archive:  # a .zip hand-in is read like a folder
        for path in (SOLUTIONS / "conv.py", ASSIGNMENTS / "pooling.py"):
            archive.write(path, f"eve/{path.name}")
    report = tmp_path / "out" / "report.csv"
    assert _run(root, "--out", report, "--top", 3) == 0
    header, *rows = _rows(report)
    assert header == ["a", "b", "score"]
    students = ["ana", "ben", "cy", "dee", "eve", "zed"]
    assert sorted((a, b) for a, b, _ in rows) == [(a, b) for i, a in enumerate(students) for b in students[i + 1:]]
    keys = [(-float(score), a, b) for a, b, score in rows]
    assert keys == sorted(keys)
    assert all(0 <= float(score) <= 1 for _, _, score in rows)
    assert rows[0][:2] == ["cy", "zed"]
    pages = tmp_path / "out" / "report-pairs"
    assert sorted(path.name for path in pages.iterdir()) == [
        "index.html", "pair-001.html", "pair-002.html", "pair-003.html"]
    # Python salts hash() per process: the report must not depend on it.
    for seed in ("1", "2"):
        again = tmp_path / f"again-{seed}.csv"
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        subprocess.run([sys.executable, "-m", "grader", "similar", str(root), "--out", str(again),
                        "--top", "0"], check=True, env=env, capture_output=True)
        assert again.read_bytes() == report.read_bytes()


def test_pages_escape_the_students_code_and_names(tmp_path):
    root = tmp_path / "class"
    hostile = ('\n\ndef conv_output_size(size, kernel, stride=1, padding=0):\n'
               '    banner = "</pre><script>alert(1)</script>"\n'
               '    total = size + 2 * padding - kernel\n'
               '    if total < 0 or stride <= 0:\n'
               '        raise ValueError(banner + "<img src=x onerror=alert(2)>")\n'
               '    return total // stride + 1 if total >= 0 else -1 - len(banner)\n')
    for name in ("<b>mallory&co", "trent"):
        folder = assemble(root / name, ASSIGNMENTS)
        (folder / "conv.py").write_text((ASSIGNMENTS / "conv.py").read_text() + hostile)
    student(root / "ana", INDEPENDENT["ana"])
    pages = tmp_path / "pages"
    assert _run(root, "--out", tmp_path / "r.csv", "--html", pages) == 0
    assert _rows(tmp_path / "r.csv")[1][:2] == ["<b>mallory&co", "trent"]
    page = (pages / "pair-001.html").read_text()
    assert "<mark>" in page
    for raw in ("<script>", "<img", "<b>mallory"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;mallory&amp;co" in page
    assert "<b>mallory" not in (pages / "index.html").read_text()


def _digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path).encode() + (path.read_bytes() if path.is_file() else b"/"))
    return digest.hexdigest()


@pytest.mark.parametrize("case", ["missing", "one_student", "out_inside", "out_is_student_file",
                                  "out_is_folder", "html_inside", "negative_top"])
def test_bad_input_is_one_line_and_exit_2(case, tmp_path, capsys):
    root = make_class(tmp_path / "class")
    out, extra = tmp_path / "report.csv", []
    if case == "missing":
        root = tmp_path / "nowhere"
    elif case == "one_student":
        root = tmp_path / "small"
        student(root / "ana", INDEPENDENT["ana"])
        (root / "notes.txt").write_text("not a student")
    elif case == "out_inside":
        out = root / "report.csv"
    elif case == "out_is_student_file":
        out = root / "ana" / "conv.py"
    elif case == "out_is_folder":
        out = tmp_path / "folder"
        out.mkdir()
    elif case == "html_inside":
        extra = ["--html", root / "ana"]
    elif case == "negative_top":
        extra = ["--top", -1]
    before = _digest(tmp_path)
    capsys.readouterr()
    assert _run(root, "--out", out, *extra) == 2
    message = capsys.readouterr().err
    assert message.startswith("grader: ") and message.count("\n") == 1
    assert _digest(tmp_path) == before
