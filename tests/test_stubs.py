"""The stubs are generated from the solutions, import cleanly, and hold no solution code;
`grader stubs` never overwrites an edited stub unless told to, and refuses outside the
instructors' kit."""

import ast
import shutil
import subprocess
import sys

import pytest

from grader import cli, config
from grader import rubric as rubric_module
from grader.assign import stubs
from grader.assign.markers import SOLUTION, MarkerError
from grader.assign.stubs import stub_sources, strip_solutions
from tests.helpers import ASSIGNMENTS, ROOT, SOLUTIONS

BEGIN, END = SOLUTION.begin, SOLUTION.end


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


def test_every_part_of_the_rubric_has_its_stub():
    assert sorted(stub_sources(SOLUTIONS)) == sorted(rubric_module.load().parts.values())


def stubs_command(tmp_path, *extra):
    return subprocess.run([sys.executable, "-m", "grader", "stubs", "--out", str(tmp_path / "out"), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_stubs_command_refuses_to_overwrite_an_edited_stub(tmp_path):
    shutil.copytree(ASSIGNMENTS, tmp_path / "out")
    edited = tmp_path / "out" / "conv.py"
    edited.write_text(edited.read_text() + "# my own work\n")
    (tmp_path / "out" / "layers.py").unlink()
    result = stubs_command(tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "conv.py" in result.stderr and "--force" in result.stderr
    assert edited.read_text().endswith("# my own work\n")
    assert not (tmp_path / "out" / "layers.py").exists(), "a refused run writes nothing"

    result = stubs_command(tmp_path, "--force")
    assert result.returncode == 0, result.stderr
    assert "2 stub file(s) written" in result.stdout
    for name, text in stub_sources(SOLUTIONS).items():
        assert (tmp_path / "out" / name).read_text() == text


def test_stubs_command_refuses_outside_the_instructor_kit(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "SOLUTIONS", tmp_path / "no-solutions")
    assert cli.main(["stubs", "--out", str(tmp_path / "out")]) == 2
    assert "instructors' command" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
