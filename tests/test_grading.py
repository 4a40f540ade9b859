"""End-to-end verdicts of the layer parts: full marks, zero, and clear messages for bad input."""

import json
import shutil
import subprocess
import sys

import pytest

from grader.runner import grade
from tests.helpers import ASSIGNMENTS, LAYER_PARTS, ROOT, SOLUTIONS, restricted_rubric
from tests.planted_bugs import BUGS, plant

FIRST_SAMPLE_DW = next(bug for bug in BUGS if bug.id == "conv_backward_dw_first_sample")


@pytest.mark.slow
def test_reference_solution_gets_full_marks(reference_layers_report):
    failed = [f"{c.id}: {c.output}" for c in reference_layers_report.checks if not c.passed]
    assert not failed, "\n".join(failed)
    assert reference_layers_report.score == reference_layers_report.max_score > 0


@pytest.mark.slow
def test_every_contract_name_of_the_layer_parts_is_checked(reference_layers_report):
    names = {c.name for c in reference_layers_report.checks}
    for part, wanted in {
        "conv": {"conv_output_size", "receptive_field", "conv2d_forward", "conv2d_backward"},
        "pooling": {f"{kind}_{step}" for kind in ("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d")
                    for step in ("forward", "backward")},
        "batchnorm": {f"{prefix}_{step}" for prefix in ("batchnorm", "spatial_batchnorm")
                      for step in ("forward", "backward")},
        "layers": {f"{kind}_{step}" for kind in ("linear", "relu", "sigmoid", "dropout")
                   for step in ("forward", "backward")} | {"softmax_cross_entropy"},
    }.items():
        assert wanted <= names, f"{part}: unchecked {wanted - names}"


@pytest.mark.slow
def test_stubs_get_zero_with_a_clear_message():
    report = grade(ASSIGNMENTS, parts=LAYER_PARTS)
    assert report.score == 0
    for check in report.checks:
        assert "NotImplementedError" in check.output
        assert "Traceback" not in check.output


@pytest.mark.slow
def test_same_submission_same_report_twice(solution_copy):
    plant(FIRST_SAMPLE_DW, solution_copy)
    first = grade(solution_copy, parts=["conv"])
    second = grade(solution_copy, parts=["conv"])
    assert first.score < first.max_score
    assert [c.output for c in first.checks] == [c.output for c in second.checks]


@pytest.mark.slow
def test_failure_report_shows_example_values_and_hint(solution_copy):
    plant(FIRST_SAMPLE_DW, solution_copy)
    report = grade(solution_copy, parts=["conv"])
    failed = {c.id: c for c in report.checks if not c.passed}
    assert set(failed) == {"conv.conv2d_backward"}
    output = failed["conv.conv2d_backward"].output
    assert "dw differs from the reference" in output
    assert "Smallest failing example: x (" in output and "stride=" in output
    assert "expected" in output and "actual" in output
    assert "Hint:" in output


def _replace_function(path, name, body):
    """Appends a redefinition of ``name`` (the last definition wins on import)."""
    path.write_text(path.read_text() + f"\n\n{body}\n")


@pytest.mark.slow
def test_float32_result_is_reported_as_a_dtype_mistake(solution_copy):
    _replace_function(solution_copy / "layers.py", "relu_forward",
                      "_relu = relu_forward\n"
                      "def relu_forward(x):\n    out, cache = _relu(x)\n    return out.astype('float32'), cache")
    report = grade(solution_copy, parts=["layers"])
    failed = {c.id: c for c in report.checks if not c.passed}
    assert "layers.relu" in failed
    assert "dtype float32, expected float64" in failed["layers.relu"].output


@pytest.mark.slow
@pytest.mark.parametrize("body, message", [
    ("def relu_forward(x):\n    return [0.0], None", "should be a numpy array"),
    ("def relu_forward(x):\n    return x", "should return a tuple of 2 values"),
    ("def relu_forward(x):\n    return object(), None", "returned a object"),
])
def test_wrong_return_types_are_explained(solution_copy, body, message):
    _replace_function(solution_copy / "layers.py", "relu_forward", body)
    report = grade(solution_copy, parts=["layers"])
    relu = next(c for c in report.checks if c.id == "layers.relu")
    assert not relu.passed and message in relu.output


@pytest.mark.slow
def test_syntax_error_zeroes_only_that_part(solution_copy):
    (solution_copy / "pooling.py").write_text("def broken(:\n")
    report = grade(solution_copy, parts=["conv", "pooling"])
    totals = report.part_totals()
    assert totals["pooling"][0] == 0 and totals["conv"][0] == totals["conv"][1]
    pooling = [c for c in report.checks if c.part == "pooling"]
    assert "SyntaxError" in pooling[0].output
    # the traceback is shown once, under the file's first check, not repeated under each
    assert all("SyntaxError" not in c.output and "does not import" in c.output for c in pooling[1:])
    assert report.render_text().count("importing failed with SyntaxError") == 1


@pytest.mark.slow
def test_a_file_whose_import_runs_for_ever_says_so_once_and_how_to_fix_it(solution_copy):
    """Code left at a file's top level (a test, a training) runs when the grader imports it."""
    with open(solution_copy / "layers.py", "a") as handle:
        handle.write("\nwhile True:\n    pass\n")
    report = grade(solution_copy, parts=["layers"], call_timeout=2)
    first, *others = report.checks
    assert not any(c.passed for c in report.checks) and len(others) >= 5
    assert "importing layers.py did not finish within 2 s" in first.output
    assert 'if __name__ == "__main__":' in first.output
    assert all("does not import" in c.output and "__main__" not in c.output for c in others)
    assert {c.diagnosis["kind"] for c in report.checks} == {"does not import"}  # one mistake in the class report


@pytest.mark.slow
def test_a_file_saved_as_gbk_is_named_so_in_the_student_s_language(solution_copy):
    """Chinese Windows editors may save as GBK; Python reads source as UTF-8, so Chinese in a string
    stops the import. Chinese in comments alone does not, and such a file is graded as any other."""
    conv = solution_copy / "conv.py"
    source = conv.read_text(encoding="utf-8")
    conv.write_bytes(("# 我的卷积\n" + source).encode("gbk"))
    assert grade(solution_copy, parts=["conv"]).score == 19
    conv.write_bytes(("# 我的卷积\n" + source.replace("import numpy as np", "import numpy as np\nMESSAGE = '窗口放不下'", 1))
                     .encode("gbk"))
    line = source.splitlines().index("import numpy as np") + 3
    report = grade(solution_copy, parts=["conv"], language="zh")
    first, *others = report.checks
    assert report.score == 0 and {c.diagnosis["kind"] for c in report.checks} == {"does not import"}
    assert f"conv.py 不是以 UTF-8 编码保存的：第 {line} 行" in first.output and "GBK" in first.output
    assert all("UTF-8" not in c.output for c in others)
    # Chinese in comments alone imports: an import that fails for another reason says that reason
    conv.write_bytes("# 我的卷积\n".encode("gbk") + ("import nosuchmodule\n" + source).encode("utf-8"))
    said = grade(solution_copy, parts=["conv"], language="zh").checks[0].output
    assert "nosuchmodule" in said and "UTF-8" not in said
    # a full-width comma saved as GBK is GBK bytes in the code: the encoding comes first
    conv.write_bytes(("# 我的卷积\nLIMITS = (1，2)\n" + source).encode("gbk"))
    said = grade(solution_copy, parts=["conv"], language="zh").checks[0].output
    assert "conv.py 不是以 UTF-8 编码保存的：第 2 行" in said and "GBK" in said
    # another error beside the GBK bytes is that error, not the encoding
    conv.write_bytes(source.replace("import numpy as np", "import numpy as np\nMESSAGE = '窗口放不下'\nif True\n", 1)
                     .encode("gbk"))
    assert "UTF-8 编码保存" not in grade(solution_copy, parts=["conv"], language="zh").checks[0].output


@pytest.mark.parametrize("line, said", [
    ("x = f(1，2)", "第 2 行的代码里有全角字符“，”，Python 要的是半角的“,”"),
    ("def f(x)：", "第 2 行的代码里有全角字符“：”，Python 要的是半角的“:”"),
    ("y = （1 + 2)", "第 2 行的代码里有全角字符“（”，Python 要的是半角的“(”"),
    ("y = 1\u3000+ 2", "第 2 行的代码里有全角空格"),
    ("s = '你好，世界'", None),          # in a string: nothing wrong
    ("x = = 1", None),
])
def test_a_full_width_character_in_the_code_is_named_with_its_ascii_twin(tmp_path, line, said):
    from grader import i18n
    from grader.runner import _source_problem

    path = tmp_path / "conv.py"
    path.write_text("import numpy as np\n" + line + "\n", encoding="utf-8")
    with i18n.speaking("zh"):
        problem = _source_problem(path, "conv.py")
    assert (problem is None) if said is None else (problem.startswith("conv.py ") and said in problem), problem


SELF_CHECK = """

if __name__ == "__main__":   # the student's own check: runs only when they run the file
    import torch
    from grader.data import load_mnist
    print(load_mnist("train")[0].shape, torch.relu(torch.ones(1)))
"""


@pytest.mark.slow
def test_imports_in_the_student_s_own_main_block_cost_nothing_and_running_them_still_does(solution_copy):
    layers = solution_copy / "layers.py"
    layers.write_text(layers.read_text() + SELF_CHECK)
    report = grade(solution_copy, parts=["layers"])
    assert report.score == report.max_score, [c.output for c in report.checks if not c.passed]
    # the same block made to run on import: the worker's import blocker zeroes the file
    layers.write_text('__name__ = "__main__"\n' + layers.read_text())
    report = grade(solution_copy, parts=["layers"])
    assert report.score == 0 and all(c.violation for c in report.checks)
    assert "tried to import torch" in report.checks[0].output


@pytest.mark.slow
def test_a_module_of_the_student_s_own_is_not_graded_here_as_in_an_official_grading(solution_copy):
    """An official grading takes the exercise files only (grader.batch.unpack): the local check
    must not pass with a helper module that a batch would lose."""
    (solution_copy / "myutils.py").write_text("def double(x):\n    return 2 * x\n")
    conv = solution_copy / "conv.py"
    conv.write_text("from myutils import double\n" + conv.read_text())
    report = grade(solution_copy, parts=["conv"])
    first, *others = report.checks
    assert report.score == 0 and others
    assert "conv.py imports myutils, a module of your own" in first.output
    assert "Move what you use from it into conv.py" in first.output
    assert all("does not import" in c.output for c in others)
    (solution_copy / "myutils.py").unlink()  # not beside it: the import's own error
    assert "No module named 'myutils'" in grade(solution_copy, parts=["conv"]).checks[0].output


@pytest.mark.slow
def test_missing_file_and_missing_function(solution_copy):
    (solution_copy / "batchnorm.py").unlink()
    text = (solution_copy / "layers.py").read_text().replace("def sigmoid_backward", "def sigmoid_backwards")
    (solution_copy / "layers.py").write_text(text)
    report = grade(solution_copy, parts=["batchnorm", "layers"])
    for check in report.checks:
        if check.part == "batchnorm":
            assert "batchnorm.py is missing" in check.output
    sigmoid = next(c for c in report.checks if c.id == "layers.sigmoid_backward")
    assert "does not define sigmoid_backward" in sigmoid.output
    assert next(c for c in report.checks if c.id == "layers.sigmoid").passed


@pytest.mark.slow
def test_gradescope_json_and_text(reference_layers_report):
    results = reference_layers_report.to_gradescope()
    assert results["score"] == reference_layers_report.max_score
    test = results["tests"][0]
    assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility", "tags"}
    assert test["tags"] == ["conv", "conv_output_size"]
    assert "Total:" in reference_layers_report.render_text()


@pytest.mark.slow
def test_cli_check_writes_json(tmp_path):
    out = tmp_path / "r.json"
    run = subprocess.run([sys.executable, "-m", "grader", "check", str(SOLUTIONS), "--part", "conv",
                          "--json", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    data = json.loads(out.read_text())
    assert data["score"] == sum(t["max_score"] for t in data["tests"]) > 0
    assert "Total:" in run.stdout


def test_cli_rejects_an_unknown_part_and_a_missing_folder(tmp_path):
    run = subprocess.run([sys.executable, "-m", "grader", "check", str(SOLUTIONS), "--part", "nope"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "unknown part" in run.stderr and "Traceback" not in run.stderr
    run = subprocess.run([sys.executable, "-m", "grader", "check", str(tmp_path / "absent")],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "not a folder" in run.stderr


@pytest.mark.slow
def test_what_the_code_printed_is_shown_under_a_failing_check(solution_copy):
    path = solution_copy / "layers.py"
    text = path.read_text().replace("def relu_forward(x):\n", "def relu_forward(x):\n"
                                    "    print('debug: relu got', x.shape, 'in', __file__)\n    x = x + 1\n", 1)
    path.write_text(text)
    report = grade(solution_copy, parts=["layers"])
    relu = next(c for c in report.checks if c.id == "layers.relu")
    assert not relu.passed
    assert "Your code printed" in relu.output and "debug: relu got" in relu.output
    # the file the student knows, as a warning names it, never the worker's scratch copy
    assert f"in {path}" in relu.output and "grader-scratch-" not in relu.output
    assert len(relu.output.splitlines()) < 40, "the printed text is truncated"
    passed = [c for c in report.checks if c.passed]
    assert passed and all("Your code printed" not in c.output for c in passed)


@pytest.mark.slow
def test_a_staged_copy_s_files_are_named_by_their_name(solution_copy):
    """An official grading (batch, Gradescope) grades a staged copy: its tracebacks and printed
    warnings name the student's files as the student knows them, not the copy's folder."""
    path = solution_copy / "layers.py"
    path.write_text(path.read_text().replace("def relu_forward(x):\n", "def relu_forward(x):\n"
                                             "    print('in', __file__)\n    raise RuntimeError('stop')\n", 1))
    report = grade(solution_copy, rubric=restricted_rubric(ids={"layers.relu"}), named_by_name=True)
    (relu,) = report.checks
    assert 'File "layers.py", line' in relu.output and "in layers.py" in relu.output, relu.output
    assert str(solution_copy) not in relu.output and "grader-scratch-" not in relu.output


@pytest.mark.slow
def test_a_failing_example_can_be_run_again_from_the_feedback(solution_copy, tmp_path):
    """The feedback prints the Python that reruns the failing example; with the saved .npz it
    runs on the student's own files and gives the same wrong answer the grader saw."""
    from tests.planted_bugs import BUGS, apply_bug

    bug = next(b for b in BUGS if b.file == "conv.py" and b.function == "conv2d_backward")
    path = solution_copy / "conv.py"
    path.write_text(apply_bug(bug, path.read_text()))
    out = tmp_path / "results" / "r.json"
    out.parent.mkdir()
    run = subprocess.run([sys.executable, "-m", "grader", "check", str(solution_copy), "--part", "conv",
                          "--json", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1, run.stderr
    test = next(t for t in json.loads(out.read_text())["tests"] if t["tags"] == ["conv", "conv2d_backward"]
                and t["score"] == 0)
    lines = test["output"].splitlines()
    start = lines.index(next(line for line in lines if line.startswith("Run this example again")))
    code = "\n".join(line[4:] for line in lines[start + 1:] if line.startswith("    "))
    assert "conv.conv2d_backward(" in code and "conv.conv2d_forward(" in code
    for npz in out.parent.glob("replay-*.npz"):
        shutil.copy(npz, solution_copy)
    rerun = subprocess.run([sys.executable, "-c", code + "\nprint('replayed', type(r2).__name__)"],
                           capture_output=True, text=True, cwd=solution_copy)
    assert rerun.returncode == 0 and "replayed tuple" in rerun.stdout, rerun.stderr


@pytest.mark.slow
def test_running_statistics_updated_with_the_momentum_the_other_way_round_are_named(solution_copy):
    """Dive into Deep Learning (动手学深度学习, the textbook of many Chinese courses) updates
    moving_mean = momentum * moving_mean + (1 - momentum) * mean with momentum 0.9, and a biased
    moving variance: torch weighs the NEW batch by momentum. The report names that convention."""
    path = solution_copy / "batchnorm.py"
    text = path.read_text()
    old = ("        running_mean *= 1 - momentum\n        running_mean += momentum * mean\n"
           "        running_var *= 1 - momentum\n        running_var += momentum * var * (N / (N - 1))\n")
    assert text.count(old) == 1
    path.write_text(text.replace(old, "        running_mean *= momentum\n        running_mean += (1 - momentum) * mean\n"
                                      "        running_var *= momentum\n        running_var += (1 - momentum) * var\n"))
    rubric = restricted_rubric(ids={"batchnorm.batchnorm_forward_training"})
    (check,) = grade(solution_copy, rubric=rubric).checks
    assert not check.passed and "momentum is the weight of the NEW batch" in check.output, check.output
    (check,) = grade(solution_copy, rubric=rubric, language="zh").checks
    assert "《动手学深度学习》的约定正好相反" in check.output, check.output


HIDDEN_LEAK = '''

_checked_forward = conv2d_forward


def conv2d_forward(x, w, b, stride=1, padding=0):
    if x.shape[1] > 3 or x.shape[2] > 9 or x.shape[3] > 9:  # larger than any public check draws
        raise ValueError(f"LEAK x{x.shape} {x.ravel()[:3].tolist()}")
    return _checked_forward(x, w, b, stride, padding)
'''


@pytest.mark.slow
def test_a_hidden_check_s_feedback_carries_nothing_the_student_s_code_made(solution_copy):
    """A hidden check shows its points, not its inputs; but its summary quoted the student's
    exception, so ``raise ValueError(repr(x))`` showed the hidden inputs right above "(a hidden
    check: its inputs are not shown)", in feedback.md and Gradescope's output alike."""
    conv = solution_copy / "conv.py"
    conv.write_text(conv.read_text() + HIDDEN_LEAK)
    report = grade(solution_copy, parts=["conv"], include_hidden=True)
    hidden = next(c for c in report.checks if c.id == "conv.conv2d_large")
    assert not hidden.passed
    student_sees = hidden.message(show_inputs=False)
    assert "LEAK" not in student_sees and "x(" not in student_sees
    test = next(t for t in report.to_gradescope()["tests"] if t["extra_data"]["check"] == "conv.conv2d_large")
    assert "LEAK" not in json.dumps(test)
    assert "LEAK" in hidden.message(show_inputs=True)  # the instructors' view keeps it
