"""The zh release's code explains itself in Chinese: the docstrings of grader/assign/docstrings/zh
replace the English ones in the zh stubs and notebooks, code unchanged, and stay in step with
solutions/' English (same functions, classes and methods, the parameters and numbers the English
mentions), so that editing an English docstring without its Chinese twin fails here."""

from __future__ import annotations

import ast
import inspect
import re

import pytest

from grader import config
from grader import rubric as rubric_module
from grader.assign import docstrings
from grader.assign.stubs import stub_sources, strip_solutions

PARTS = rubric_module.load().parts
TRANSLATED = list(PARTS)
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e-?\d+)?(?![\w])")


def english(part: str) -> dict[str, str]:
    """The English docstrings a student of ``part`` reads (those of the stub: public names only)."""
    return docstrings.english_docstrings(strip_solutions((config.SOLUTIONS / PARTS[part]).read_text()))


def parameters(part: str) -> dict[str, list[str]]:
    """Qualified name -> the parameter names of that function or method (``self`` left out)."""
    tree = ast.parse((config.SOLUTIONS / PARTS[part]).read_text())
    found = {}
    for node in tree.body:
        methods = [(f"{node.name}.{m.name}", m) for m in node.body if isinstance(m, ast.FunctionDef)] \
            if isinstance(node, ast.ClassDef) else [(node.name, node)] if isinstance(node, ast.FunctionDef) else []
        for name, function in methods:
            arguments = function.args.posonlyargs + function.args.args + function.args.kwonlyargs
            found[name] = [a.arg for a in arguments if a.arg not in ("self", "cls")]
    return found


def out_of_step(english_text: str, chinese_text: str, names: list[str]) -> list[str]:
    """What the Chinese docstring lacks of the English one: a parameter it mentions, a number."""
    faults = [f"parameter {name!r}" for name in names
              if re.search(rf"\b{name}\b", english_text) and not re.search(rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_])", chinese_text)]
    faults += [f"number {number}" for number in sorted(set(NUMBER.findall(english_text)))
               if not re.search(rf"(?<![\w.]){re.escape(number)}(?![\w])", chinese_text)]
    return faults


def test_every_part_has_its_chinese_docstrings():
    missing = [str(docstrings.path(part, "zh").relative_to(config.ROOT)) for part in PARTS
               if not docstrings.path(part, "zh").is_file()]
    assert not missing, f"no Chinese docstrings: {', '.join(missing)}"


def test_out_of_step_finds_a_missing_parameter_or_number():
    assert out_of_step("``x`` of shape (N, 4)", "形状为 (N, 4) 的 ``x``", ["x"]) == []
    assert out_of_step("``x`` of shape (N, 4), eps 1e-5", "形状为 (N, 3) 的输入", ["x", "w"]) == [
        "parameter 'x'", "number 1e-5", "number 4"]


@pytest.mark.parametrize("part", TRANSLATED)
def test_the_chinese_docstrings_name_the_same_functions_parameters_and_numbers(part):
    source, chinese = english(part), docstrings.translations(part, "zh")
    where = docstrings.path(part, "zh").relative_to(config.ROOT)
    assert sorted(chinese) == sorted(source), (
        f"{where} must hold one docstring per public name of solutions/{PARTS[part]}: "
        f"missing {sorted(set(source) - set(chinese))}, unknown {sorted(set(chinese) - set(source))}")
    names = parameters(part)
    faults = [f"{name}: {fault}" for name in source
              for fault in out_of_step(source[name], chinese[name], names.get(name, []))]
    assert not faults, (f"{where} is out of step with the English docstrings of solutions/{PARTS[part]} "
                        "(edit both together):\n" + "\n".join(faults))


@pytest.mark.parametrize("part", TRANSLATED)
def test_the_zh_stub_carries_the_chinese_docstrings_and_the_same_code(part):
    english_stub = stub_sources(language="en")[PARTS[part]]
    chinese_stub = stub_sources(language="zh")[PARTS[part]]
    chinese = docstrings.english_docstrings(chinese_stub)
    for name, text in docstrings.translations(part, "zh").items():
        assert inspect.cleandoc(chinese[name]) == inspect.cleandoc(text), name

    def code(source):
        tree = ast.parse(source)
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                    and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                body[0].value.value = ""
        return ast.dump(tree)
    # the given code's messages and comments are tests/test_given_code_zh.py's
    assert code(chinese_stub) == code(docstrings.translate_given(english_stub, part, "zh"))


def test_the_english_stubs_keep_their_english_docstrings():
    for part, name in PARTS.items():
        assert stub_sources(language="en")[name] == strip_solutions((config.SOLUTIONS / name).read_text())


def test_the_zh_notebook_writes_the_file_with_chinese_docstrings():
    from grader.assign import notebooks

    part = "layers"
    cells = notebooks.student_notebook(part, language="zh").cells
    written = [cell.source for cell in cells if cell.source.startswith("%%part_file")]
    assert len(written) == 1
    source = written[0].split("\n", 1)[1]
    assert docstrings.english_docstrings(source)["linear_forward"].startswith("全连接层的前向传播")
    assert source == stub_sources(language="zh")[PARTS[part]]
