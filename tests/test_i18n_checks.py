"""The checks speak Chinese: every message of grader/checks and grader/hidden has a Chinese
version in checks.po with the same placeholders, and a Chinese grading of planted bugs reports
them without an English sentence (identifiers, numbers, shapes and code excepted)."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from grader import i18n
from grader.runner import grade
from tests.helpers import restricted_rubric
from tests.planted_bugs import BUGS as LAYER_BUGS
from tests.planted_bugs import plant
from tests.planted_bugs_networks import BUGS as NETWORK_BUGS

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "grader" / "locale" / "zh" / "LC_MESSAGES" / "checks.po"
SOURCES = sorted([*(ROOT / "grader" / "checks").rglob("*.py"), *(ROOT / "grader" / "hidden").rglob("*.py")])

# One bug of each part (layers files, then modules and networks), each failing in its own way:
# a wrong formula, a wrong gradient, an array rebound instead of updated, a wrong mask,
# gradients accumulated over passes, a network whose block is blamed as a whole.
PLANTED = ("conv_output_size_no_padding", "max_pool_backward_assign_not_add", "bn_running_mean_rebound",
           "dropout_keep_inverted", "linear_gradients_accumulated", "basic_block_shortcut_gradient_not_added")


def messages() -> dict:
    """msgid -> 'path:line' of every ``_("...")`` literal of the checks."""
    found = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def placeholders(message: str) -> set:
    return {(name, conversion, spec) for _text, name, spec, conversion in string.Formatter().parse(message)
            if name is not None}


def test_every_check_message_has_a_chinese_version_with_the_same_placeholders():
    catalog = i18n.read_po(CATALOG.read_text(encoding="utf-8"))
    found = messages()
    assert len(found) > 100, "the messages of the checks were not found"
    missing = [f"{where}: {msgid!r}" for msgid, where in found.items() if not catalog.get(msgid)]
    assert not missing, "no Chinese in checks.po for:\n" + "\n".join(missing)
    differ = [f"{where}: {msgid!r} -> {catalog[msgid]!r}" for msgid, where in found.items()
              if placeholders(msgid) != placeholders(catalog[msgid])]
    assert not differ, "placeholders differ:\n" + "\n".join(differ)


def test_no_message_is_translated_at_import_time():
    """A module-level ``_()`` would fix the language when the module is imported."""
    early = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        inside = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.Lambda))
                  for n in ast.walk(f)}
        early += [f"{path.relative_to(ROOT)}:{n.lineno}" for n in ast.walk(tree)
                  if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_"
                  and id(n) not in inside]
    assert not early, early


# -- no English sentence in a Chinese report --------------------------------------------------
CODE_SPAN = re.compile(r"`[^`]*`")
NON_ASCII = re.compile(r"[^\x00-\x7f]+")   # Chinese text and symbols such as × and ±
WORD = re.compile(r"[A-Za-z]+")
NOT_WORDS = {"None", "True", "False", "NaN", "nan", "inf"}


def english_runs(text: str, length: int = 4) -> list:
    """Runs of ``length`` or more plain English words once code spans, identifiers (anything
    with _ . ( ) [ ] = or a digit), numbers and shapes are taken out: what is taken out breaks
    a run, so that ``x (2, 3), w (4, 3), b None`` is not a sentence."""
    runs, run = [], []
    for token in NON_ASCII.sub(" | ", CODE_SPAN.sub(" | ", text)).split():
        word = token.strip(",;:!?'\"")
        if WORD.fullmatch(word) and word not in NOT_WORDS:
            run.append(word)
            continue
        if len(run) >= length:
            runs.append(" ".join(run))
        run = []
    if len(run) >= length:
        runs.append(" ".join(run))
    return runs


def test_english_runs_catch_a_sentence_and_spare_code():
    assert english_runs("out 与参考结果不符：the largest error is here") == ["the largest error is here"]
    assert english_runs("x (2, 3), w (4, 3), b None; `conv2d_forward(x, w, b)` 的输出") == []
    assert english_runs("momentum=0.9, weight_decay=0.1, rng.random(x.shape) >= p 时") == []


def _grade(bug, folder: Path, language: str):
    i18n.set_language(language)
    try:
        return grade(folder, rubric=restricted_rubric(names={bug.function}))
    finally:
        i18n.set_language(None)


@pytest.mark.slow
@pytest.mark.parametrize("bug", [b for b in [*LAYER_BUGS, *NETWORK_BUGS] if b.id in PLANTED],
                         ids=lambda bug: bug.id)
def test_a_chinese_grading_of_a_planted_bug_has_no_english_sentence(bug, solution_copy):
    plant(bug, solution_copy)
    report = _grade(bug, solution_copy, "zh")
    failed = [c for c in report.checks if not c.passed]
    assert failed, f"{bug.id} failed no check"
    for check in failed:
        # the lines the check wrote: the runner adds a blank line, then its replay of the example
        own = check.lines[:check.lines.index("")] if "" in check.lines else check.lines
        texts = [check.summary, *own, check.example or ""]
        if (check.diagnosis or {}).get("kind") == "raised":
            # the student's exception is quoted, not translated: its message and its traceback
            # (indented) are their code's words
            raised = check.diagnosis["pattern"]
            texts = [check.summary.split(f"{raised}: ", 1)[0], *(line for line in own if not line.startswith("    ")),
                     check.example or ""]
        assert re.search(r"[\u4e00-\u9fff]", check.summary), check.summary
        english = [run for text in texts for run in english_runs(text)]
        assert not english, f"{check.id}: English left in {texts}: {english}"


@pytest.mark.slow
def test_the_english_grading_is_unchanged_by_a_chinese_one(solution_copy):
    """English stays the default, whatever a Chinese grading did before it in the process."""
    bug = next(b for b in LAYER_BUGS if b.id == "bn_running_mean_rebound")
    plant(bug, solution_copy)
    _grade(bug, solution_copy, "zh")
    report = grade(solution_copy, rubric=restricted_rubric(names={bug.function}))
    summaries = [c.summary for c in report.checks if not c.passed]
    assert any("running_mean was not updated in place" in s for s in summaries), summaries
    assert not any(re.search(r"[\u4e00-\u9fff]", s) for s in summaries), summaries


def test_every_speed_probe_label_is_said_in_chinese_with_full_width_brackets():
    """The lines under a training that was too slow name the timed functions; in zh the linear
    one read 'linear_forward + linear_backward (120 -> 64)：...', its label never translated."""
    from grader.checks.harness.training import speed_probes

    with i18n.speaking("zh"):
        labels = [str(probe[0]) for probe in speed_probes()]
    assert labels and all("（" in label and "(" not in label for label in labels), labels
