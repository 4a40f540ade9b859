"""What a failing check found (its diagnosis), in words that do not depend on the feedback's
language: the kind of message, the output that departed and how it departed."""

import json
import pickle
import types

import numpy as np
import pytest

from grader import i18n
from grader.checks.harness.base import Failed, as_failed, expect_value_error
from grader.checks.harness.metric import Mismatch, compare, compare_scalar
from grader.i18n import _
from grader.results import CheckResult, Report, diagnosis, message_kind, signature
from grader.worker.client import StudentException

RNG = np.random.default_rng(0)
EXPECTED = RNG.normal(size=(2, 3, 4, 4))


def found(actual, expected=EXPECTED, **options) -> dict:
    with pytest.raises(Mismatch) as raised:
        compare("dx", actual, expected, **options)
    return raised.value.diagnosis


def border_only():
    wrong = EXPECTED.copy()
    wrong[..., 0, 1] += 1.0
    wrong[..., 3, 2] -= 1.0
    return wrong


def one_element():
    wrong = EXPECTED.copy()
    wrong[0, 0, 1, 1] += 1.0
    return wrong


@pytest.mark.parametrize("actual, options, pattern", [
    (EXPECTED * 2, {}, "scaled by 2"),
    (EXPECTED / 4, {}, "scaled by 1/4"),
    (EXPECTED * 1.37, {}, "scaled by a constant"),
    (EXPECTED * 2, {"batch": 2}, "multiplied by the batch size"),
    (EXPECTED / 2, {"batch": 2}, "divided by the batch size"),
    (-EXPECTED, {}, "sign flipped"),
    (EXPECTED + 0.5, {}, "offset by a constant"),
    (EXPECTED + np.array([0.1, 0.2, 0.3])[None, :, None, None], {}, "offset per channel"),
    (np.zeros_like(EXPECTED), {}, "all zero"),
    (np.roll(EXPECTED, 1, axis=3), {}, "shifted by one position along axis 3"),
    (np.roll(EXPECTED, -1, axis=2), {}, "shifted by one position along axis 2"),
    (np.swapaxes(EXPECTED, -1, -2), {}, "transposed (the last two axes)"),
    (border_only(), {}, "wrong only at the border"),
    (one_element(), {}, None),
])
def test_compare_names_the_pattern_of_a_departure(actual, options, pattern):
    assert found(actual, **options) == {"kind": "values", "output": "dx", "pattern": pattern}


def test_a_region_the_check_names_is_a_pattern_only_where_the_departure_stays_inside_it():
    inside = np.zeros(EXPECTED.shape[-2:], dtype=bool)
    inside[1:3, 1:3] = True
    wrong = EXPECTED.copy()
    wrong[..., 1, 2] += 1.0
    regions = {"where windows overlap": inside}
    assert found(wrong, regions=regions)["pattern"] == "wrong only where windows overlap"
    wrong[..., 0, 0] += 1.0
    assert found(wrong, regions=regions)["pattern"] != "wrong only where windows overlap"
    assert found(wrong * 0 + EXPECTED * 2, regions={"everywhere": np.ones_like(inside)})["pattern"] == "scaled by 2"


def test_compare_names_a_wrong_type_shape_or_dtype():
    assert found([1.0]) == diagnosis("type", "dx", "list")
    assert found(EXPECTED[0]) == diagnosis("shape", "dx", "3 axes instead of 4")
    assert found(EXPECTED.transpose(0, 2, 3, 1)) == diagnosis("shape", "dx", "axes in another order")
    assert found(EXPECTED[:, :, :3]) == diagnosis("shape", "dx", "one too few along axis 2")
    assert found(EXPECTED.astype(np.float32)) == diagnosis("dtype", "dx", "float32")
    nan = EXPECTED.copy()
    nan[0, 0, 0, 0] = np.nan
    assert found(nan) == diagnosis("non-finite", "dx")
    with pytest.raises(Mismatch) as raised:
        compare_scalar("loss", 4.0, 2.0)
    assert raised.value.diagnosis == diagnosis("values", "loss", "scaled by 2")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_diagnosis_is_the_same_in_either_language(language):
    with i18n.speaking(language):
        label = _("dx (the gradient of the input)")
        assert found(EXPECTED * 3, EXPECTED) == diagnosis("values", "dx", "scaled by 3")
        with pytest.raises(Mismatch) as raised:
            compare(label, EXPECTED * 3, EXPECTED)
        assert raised.value.diagnosis["output"] == "dx (the gradient of the input)"
        failed = Failed(_("the gradient is not conserved: each window's gradient must reach the input "
                          "whole, but sum(dx) and sum(dout) differ by {lost:.3g} in some channel "
                          "(overwritten instead of accumulated where windows overlap?)").format(lost=2.0))
        assert failed.diagnosis["kind"] == "the-gradient-is-not-conserved-each~0839"
        assert (language == "zh") == ("梯度" in failed.summary)


def test_a_message_keeps_its_identity_through_format_and_pickling():
    with i18n.speaking("zh"):
        message = _("{label} has shape {shape}, expected {expected}").format(
            label=_("dx (the gradient of the input)"), shape=(1, 2), expected=(2, 1))
    assert message.msgid == "{label} has shape {shape}, expected {expected}"
    assert message.english == "dx (the gradient of the input) has shape (1, 2), expected (2, 1)"
    assert message != message.english  # the student reads Chinese
    again = pickle.loads(pickle.dumps(message))
    assert (again, again.msgid, again.english) == (message, message.msgid, message.english)
    assert json.loads(json.dumps({"m": message})) == {"m": str(message)}


def test_kinds_from_messages_tell_different_messages_apart_and_ignore_their_figures():
    one = _("{label} is {actual!r}, expected {expected!r}").format(label="loss", actual=1.0, expected=2.0)
    same = _("{label} is {actual!r}, expected {expected!r}").format(label="out", actual=3.0, expected=9.0)
    other = _("{label} is {actual}, expected {expected!r}: an overflow?").format(label="loss", actual=1.0, expected=2.0)
    assert message_kind(one) == message_kind(same) != message_kind(other)
    assert message_kind("a sentence without its identity") == "other"


def test_what_the_student_s_code_raised_is_its_type():
    raised = StudentException("IndexError", "index 3 is out of bounds", "Traceback ...\nIndexError: index 3")
    assert as_failed(raised).diagnosis == diagnosis("raised", pattern="IndexError")
    unimplemented = StudentException("NotImplementedError", "", "Traceback ...")
    assert as_failed(unimplemented).diagnosis == diagnosis("not implemented")


class _Calls:
    """A worker whose every call returns normally or raises what it is told to."""

    def __init__(self, raises=None):
        self.raises = raises

    def call(self, target, *args, **kwargs):
        if self.raises:
            raise self.raises


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_missing_value_error_names_the_situation_not_its_figures(language):
    from grader.checks.harness.base import Context

    with i18n.speaking(language):
        situations = [_("a kernel of height {kernel} on an input padded to height {height}").format(kernel=k, height=h)
                      for k, h in ((5, 4), (9, 2))]
        verdicts = []
        for situation in situations:
            with pytest.raises(Failed) as raised:
                expect_value_error(Context(_Calls(), "conv.conv2d_arguments"), "conv.conv2d_forward", (), {}, situation)
            verdicts.append(raised.value.diagnosis)
    assert verdicts[0] == verdicts[1] == diagnosis(
        "no ValueError", "a kernel of height {kernel} on an input padded to height {height}", "returned normally")


def test_the_diagnosis_reaches_results_json_and_back():
    check = CheckResult("layers.relu_backward", "layers", "relu_backward", "ReLU backward", 2.0,
                        summary=_("not implemented yet (the function raises NotImplementedError)"),
                        diagnosis=diagnosis("values", "dx", "all zero"))
    report = Report("s", [check], ["layers"])
    test = report.to_gradescope()["tests"][0]
    assert test["extra_data"]["check"] == "layers.relu_backward"
    assert test["extra_data"]["diagnosis"] == diagnosis("values", "dx", "all zero")
    assert test["extra_data"]["status"] == "failed"
    assert Report.from_dict(json.loads(json.dumps(report.to_dict()))).checks[0].diagnosis == check.diagnosis
    assert signature(check.id, check.diagnosis) == "layers.relu_backward | values | dx | all zero"
    assert signature(check.id, diagnosis("raised", pattern="IndexError")) == "layers.relu_backward | raised | - | IndexError"
    assert signature(check.id, diagnosis("other")) == "layers.relu_backward | other"


@pytest.mark.parametrize("guard, counted", [
    ('if __name__ == "__main__":', []),
    ('if "__main__" == __name__:', []),
    ('if __name__ != "__main__":', ["torch (line 3)"]),
    ('if __name__ == "main":', ["torch (line 3)"]),
    ('if __name__ == "__main__" or True:', ["torch (line 3)"]),
    ('def check():\n  if __name__ == "__main__":', ["torch (line 4)"]),
])
def test_only_a_top_level_main_block_may_import_what_the_graded_code_may_not(tmp_path, guard, counted):
    from grader.runner import forbidden_imports

    source = f"import numpy as np\n{guard}\n    import torch\nimport scipy\n"
    (tmp_path / "layers.py").write_text(source)
    last = source.count("\n")
    assert sorted(forbidden_imports(tmp_path / "layers.py")) == sorted(counted + [f"scipy (line {last})"])
    (tmp_path / "layers.py").write_text(f'if __name__ == "__main__":\n    pass\nelse:\n    import torch\n')
    assert forbidden_imports(tmp_path / "layers.py") == ["torch (line 4)"]


def test_a_forbidden_import_is_a_violation_named_by_the_modules_not_the_lines(tmp_path):
    from grader.runner import _import_part

    (tmp_path / "layers.py").write_text("import numpy as np\nimport torch\nfrom scipy import linalg\n")
    files = types.SimpleNamespace(file_of=lambda part: f"{part}.py")  # found by reading the file: no worker runs
    failed = _import_part(files, tmp_path, "layers")
    assert failed.violation and failed.diagnosis == diagnosis("violation", pattern="scipy torch")
