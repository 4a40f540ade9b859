"""The zh release's given code speaks Chinese: the messages a student meets when they slip (the
``ValueError`` of a gradient of the wrong shape, a forgotten ``super().__init__()``) and the
comments of the code given around the stubs come from grader/assign/docstrings/zh/<part>.given.toml,
code unchanged, and stay in step with solutions/' English: a new English message or comment in
given code without its Chinese twin fails here."""

from __future__ import annotations

import ast
import copy
import sys

import numpy as np
import pytest

from grader import config
from grader import rubric as rubric_module
from grader.assign import docstrings
from grader.assign.stubs import stub_sources, strip_solutions

PARTS = rubric_module.load().parts


def english_stub(part: str) -> str:
    return strip_solutions((config.SOLUTIONS / PARTS[part]).read_text())


def placeholders(node: ast.expr) -> list[str]:
    """The placeholders of a string expression, in order, their own string constants blanked."""
    if isinstance(node, ast.Constant):
        return []
    return [ast.dump(blanked(copy.deepcopy(value))) for value in node.values if isinstance(value, ast.FormattedValue)]


def blanked(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
        if isinstance(node, ast.JoinedStr):
            node.values = [value for value in node.values if isinstance(value, ast.FormattedValue)]
    return tree


def code(source: str) -> str:
    """``source``'s AST with every string constant blanked and every f-string reduced to its
    placeholders: what no translation may change."""
    return ast.dump(blanked(ast.parse(source)))


@pytest.mark.parametrize("part", list(PARTS))
def test_every_english_message_and_comment_of_the_given_code_has_its_chinese(part):
    source = english_stub(part)
    messages, comments = docstrings.given_translations(part, "zh")
    where = docstrings.given_path(part, "zh").relative_to(config.ROOT)
    missing = [f"[messages] {key!r}" for key in docstrings.given_messages(source) if key not in messages]
    missing += [f"[comments] {key!r}" for key in docstrings.given_comments(source) if key not in comments]
    assert not missing, (f"{where} lacks the Chinese of the given code of solutions/{PARTS[part]} "
                         "(edit both together):\n" + "\n".join(missing))
    strings = {docstrings.template(node) for node in docstrings.given_strings(source)}
    stale = [f"[messages] {key!r}" for key in messages if key not in strings]
    stale += [f"[comments] {key!r}" for key in comments if key not in docstrings.given_comments(source)]
    assert not stale, f"{where} translates what the given code of solutions/{PARTS[part]} no longer says:\n" + \
        "\n".join(stale)


@pytest.mark.parametrize("part", list(PARTS))
def test_the_zh_stub_parses_and_changes_only_the_given_code_s_words(part):
    english, chinese = stub_sources(language="en")[PARTS[part]], stub_sources(language="zh")[PARTS[part]]
    assert code(chinese) == code(english)
    messages, comments = docstrings.given_translations(part, "zh")
    before, after = docstrings.given_strings(english), docstrings.given_strings(chinese)
    assert len(before) == len(after)
    for old, new in zip(before, after):
        key = docstrings.template(old)
        assert placeholders(new) == placeholders(old), f"{key!r}: other placeholders, or another order"
        if key in messages:
            assert docstrings.template(new) == "".join(docstrings.as_list(messages[key])), key
        else:
            assert docstrings.template(new) == key, "a string without a translation is left as it is"
    left = [key for key in docstrings.given_messages(chinese) + docstrings.given_comments(chinese)
            if key in messages or key in comments]
    assert not left, f"English left in the zh stub of {part}: {left}"
    kept = [line.strip() for line in english.splitlines() if line.strip() == "# YOUR CODE HERE"]
    assert kept == [line.strip() for line in chinese.splitlines() if line.strip() == "# YOUR CODE HERE"]


def test_the_english_release_keeps_its_english_given_code():
    for part, name in PARTS.items():
        assert docstrings.translate_given(english_stub(part), part, "en") == english_stub(part)


def test_the_chinese_has_full_width_punctuation():
    from tests.test_zh_style import punctuation_faults

    faults = []
    for part in PARTS:
        messages, comments = docstrings.given_translations(part, "zh")
        faults += [f"{part}: {fault}" for chinese in [*messages.values(), *comments.values()]
                   for fault in punctuation_faults("".join(docstrings.as_list(chinese)))]
    assert not faults, "\n".join(faults)


def test_the_solution_regions_are_not_given_code():
    source = ('def f(x):\n    """Doc."""\n    # the given comment\n    ### BEGIN SOLUTION\n'
              '    raise ValueError(f"the solution message {x}")  # the solution comment\n    ### END SOLUTION\n'
              'def g():\n    raise ValueError("the given message")\n')
    assert docstrings.given_messages(source) == ["the given message"]
    assert docstrings.given_comments(source) == ["the given comment"]


def test_comment_blocks_banners_and_pragmas():
    source = ("# ----------\n# Random initialisation\n# ----------\n"
              "import numpy  # noqa: F401  (one way)\n"
              "# two lines\n# of one comment.\nx = 1   # trailing\n    # ---- the tree ----------\n")
    assert docstrings.given_comments(source) == ["Random initialisation", "(one way)", "two lines of one comment.",
                                                 "trailing", "the tree"]


def test_the_zh_modules_notebook_writes_the_chinese_given_code():
    from grader.assign import notebooks

    cells = notebooks.student_notebook("modules", language="zh").cells
    written = [cell.source for cell in cells if cell.source.startswith("%%part_file")]
    assert len(written) == 1
    source = written[0].split("\n", 1)[1]
    assert source == stub_sources(language="zh")[PARTS["modules"]]
    assert "的梯度形状是 {value.shape}，" in source and "the gradient of" not in source
    assert "# 基类（已给出）" in source


def test_a_wrongly_shaped_gradient_is_reported_in_chinese():
    """What a student of the zh release reads when their backward stores a transposed gradient."""
    namespace = {"__name__": "modules_zh"}
    sys.path.insert(0, str(config.ASSIGNMENTS))
    try:
        exec(compile(stub_sources(language="zh")[PARTS["modules"]], "modules.py", "exec"), namespace)
    finally:
        sys.path.remove(str(config.ASSIGNMENTS))

    layer = namespace["Linear"](3, 2)
    with pytest.raises(ValueError, match=r"^Linear\.weight 的梯度形状是 \(3, 2\)，但参数的形状是 \(2, 3\)$"):
        layer.gradients["weight"] = np.zeros((3, 2))

    class Forgot(namespace["Module"]):
        def __init__(self):
            self.weight = np.zeros(2)
    with pytest.raises(AttributeError, match=r"Forgot\.__init__ 必须先调用 super\(\)\.__init__\(\)，才能设置属性"):
        Forgot()
