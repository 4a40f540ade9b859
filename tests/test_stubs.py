"""The stubs are generated from the solutions, import cleanly, and hold no solution code."""

import ast
import subprocess
import sys

import pytest

from grader.stubs import BEGIN, END, MarkerError, stub_sources, strip_solutions
from tests.conftest import ASSIGNMENTS, SOLUTIONS


def test_assignments_are_up_to_date():
    generated = stub_sources(SOLUTIONS)
    assert generated, "no exercise files found in solutions/"
    for name, text in generated.items():
        path = ASSIGNMENTS / name
        assert path.exists(), f"assignments/{name} is missing: run `grader stubs`"
        assert path.read_text() == text, f"assignments/{name} is stale: run `grader stubs`"


@pytest.mark.parametrize("name", sorted(stub_sources(SOLUTIONS)))
def test_stub_keeps_every_public_name_and_docstring(name):
    solution = ast.parse((SOLUTIONS / name).read_text())
    stub = ast.parse((ASSIGNMENTS / name).read_text())

    def public(tree):
        return {node.name: ast.get_docstring(node) for node in tree.body
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_")}

    assert public(stub) == public(solution)
    assert all(public(stub).values()), "every public name needs a docstring a student can work from"


def test_stubs_import_and_raise_not_implemented(tmp_path):
    code = ("import sys; sys.path.insert(0, sys.argv[1]);"
            "import conv, numpy as np\n"
            "try:\n conv.conv2d_forward(np.ones((1,1,3,3)), np.ones((1,1,2,2)), None)\n"
            "except NotImplementedError: print('ok')")
    out = subprocess.run([sys.executable, "-c", code, str(ASSIGNMENTS)], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_stubs_hold_no_solution_markers():
    for path in ASSIGNMENTS.glob("*.py"):
        text = path.read_text()
        assert BEGIN not in text and END not in text


def test_strip_solutions_rules():
    source = ("import numpy as np\n\n### BEGIN SOLUTION\ndef _helper():\n    return 1\n### END SOLUTION\n\n\n"
              "def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    return _helper()\n    ### END SOLUTION\n")
    stub = strip_solutions(source)
    assert "_helper" not in stub
    assert "    # YOUR CODE HERE\n    raise NotImplementedError()\n" in stub
    with pytest.raises(MarkerError):
        strip_solutions("### BEGIN SOLUTION\nx = 1\n")
    with pytest.raises(MarkerError):
        strip_solutions("x = 1\n### END SOLUTION\n")
