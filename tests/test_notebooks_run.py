"""Every lesson notebook, in every language, runs without an error with the solutions filled in.

Each part's *source* notebook (its file cell holds the solution) is executed with nbclient in
a temporary folder that holds the other parts' solution files too (as the earlier notebooks'
file cells would have written them), on the kit's own digits. The graded check cells and the
report cell are left out: they run the grader, which tests/test_nbgrader.py (nbgrader's
autograde of the notebooks) and the grading tests cover. Every other cell runs: the lesson's
examples and figures, the file cell, and the figures drawn with the student's code, each of
which must then draw its figure rather than say that the code is not written yet. Each figure
is also checked as it is shown (tests/lesson_figures.py: axis labels, no overlapping texts,
texts inside their boxes, bars from zero), so the lessons' code runs once for both purposes.
A failing check cell, run in a kernel, shows the grader's explanation alone.
"""

from __future__ import annotations

import ast
import json
import os
import shutil

import pytest

from grader import rubric as rubric_module
from grader.assign import notebooks
from grader.i18n import LANGUAGES
from tests.helpers import ASSIGNMENTS, ROOT, SOLUTIONS
from tests.lesson_figures import REPORT

pytestmark = pytest.mark.slow   # every test here grades, builds or executes

PARTS = list(rubric_module.load().parts)
# what a figure cell prints instead of drawing, in each language's lessons
NOT_WRITTEN = ("not written yet", "not everything this needs", "还没有写好", "还没有全部写好")
# the numerical gradient checker's verdict on a gradient it finds wrong, in each language
GRADIENT_WRONG = ("WRONG: look at this gradient", "不对：检查这个梯度")


def figures_drawn(source: str) -> int:
    """How many times the cell itself calls plt.show() (not inside a function it defines)."""
    if source.startswith("%"):  # a magic: the file cell, or the %load_ext before it
        return 0

    def count(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return 0
        here = (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "show" and getattr(node.func.value, "id", None) == "plt")
        return here + sum(count(child) for child in ast.iter_child_nodes(node))

    return count(ast.parse(source))


def runnable(notebook):
    notebook.cells = [cell for cell in notebook.cells
                      if not cell.metadata.get("nbgrader", {}).get("grade") and "show_report(" not in cell.source]
    return notebook


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("part", PARTS)
def test_notebook_runs_with_the_solution(part, language, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    for path in SOLUTIONS.glob("*.py"):
        shutil.copyfile(path, tmp_path / path.name)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = runnable(notebooks.source_notebook(part, language=language))
    notebook.cells.insert(0, nbformat.v4.new_code_cell("from tests import lesson_figures\nlesson_figures.watch()"))
    notebook.cells.append(nbformat.v4.new_code_cell("lesson_figures.report()"))
    NotebookClient(notebook, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # raises on any error

    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        text = "".join(output.get("text", "") for output in cell.outputs)
        assert not any(words in text for words in NOT_WRITTEN), (part, cell.source[:120], text)
        assert not any(words in text for words in GRADIENT_WRONG), (part, cell.source[:120], text)
        images = sum("image/png" in output.get("data", {}) for output in cell.outputs)
        assert images >= figures_drawn(cell.source), (part, cell.source[:120])
    printed = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    problems = json.loads(printed.split(REPORT, 1)[1])
    assert not problems, f"{part} ({language}), its figures:\n" + "\n".join(problems)


def test_a_failing_check_cell_shows_the_explanation_alone(tmp_path, monkeypatch):
    """A check cell's error is what the student reads: the grader's explanation, not a traceback
    through the grader's code (nbgrader still sees an AssertionError: the cell scores 0)."""
    import nbformat
    from nbclient import NotebookClient

    shutil.copyfile(ASSIGNMENTS / "conv.py", tmp_path / "conv.py")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("GRADER_LANG", "zh")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'from grader.assign.nbgrader_course import assert_check\nassert_check("conv.conv_output_size")')])
    NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()

    [error] = [output for output in notebook.cells[0].outputs if output.output_type == "error"]
    assert error.ename == "AssertionError"
    assert error.traceback == error.evalue.splitlines()
    assert error.traceback[0].startswith("未通过 conv_output_size："), error.traceback
