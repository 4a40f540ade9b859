"""Verdicts that judge what the contract says, and feedback that describes what was run
(issue 11, sections 3 and 4): each test here failed on the grader before the fix."""

from __future__ import annotations

import re

import pytest

from grader.runner import grade
from tests.helpers import LAYER_FILES, SOLUTIONS, restricted_rubric
from tests.planted_bugs import BUGS

pytestmark = pytest.mark.slow   # every test here grades, builds or executes


def _append(path, code: str) -> None:
    path.write_text(path.read_text() + "\n\n" + code + "\n")


def _failed(report, check_id: str):
    check = next(c for c in report.checks if c.id == check_id)
    assert not check.passed, f"{check_id} passed"
    return check


def test_a_value_error_subclass_is_a_value_error(solution_copy):
    path = solution_copy / "conv.py"
    text = path.read_text()
    assert text.count("raise ValueError(") > 5
    text = text.replace("raise ValueError(", "raise ConvArgumentError(").replace(
        "import numpy as np\n", "import numpy as np\n\n\nclass ConvArgumentError(ValueError):\n    pass\n\n", 1)
    path.write_text(text)
    report = grade(solution_copy, parts=["conv"], include_hidden=True)
    lost = [f"{c.id}: {c.output}" for c in report.checks if not c.passed]
    assert report.score == report.max_score, "\n".join(lost)


def test_an_exception_that_is_not_a_value_error_still_fails(solution_copy):
    path = solution_copy / "conv.py"
    path.write_text(path.read_text().replace("raise ValueError(", "raise TypeError("))
    report = grade(solution_copy, rubric=restricted_rubric(ids={"conv.conv2d_arguments"}))
    assert "expected a ValueError, got TypeError" in _failed(report, "conv.conv2d_arguments").output


def test_cross_entropy_plus_a_small_constant_fails_the_main_check(solution_copy):
    _append(solution_copy / "layers.py",
            "def softmax_cross_entropy(logits, y):\n"
            "    shifted = logits - logits.max(axis=1, keepdims=True)\n"
            "    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)\n"
            "    n = logits.shape[0]\n"
            "    loss = float(-np.log(p[np.arange(n), y] + 1e-16).mean())\n"
            "    dlogits = p.copy()\n"
            "    dlogits[np.arange(n), y] -= 1\n"
            "    return loss, dlogits / n\n")
    report = grade(solution_copy, rubric=restricted_rubric(ids={"layers.softmax_cross_entropy"}))
    output = _failed(report, "layers.softmax_cross_entropy").output
    assert "loss is" in output and "Smallest failing example: logits [[0.0, -25.0]], y [1]" in output


def test_argument_checks_show_the_call_that_failed(solution_copy):
    _append(solution_copy / "conv.py",
            "_conv = conv2d_forward\n"
            "def conv2d_forward(x, w, b, stride=1, padding=0):\n"
            "    if stride != 0 and w.shape[2] > x.shape[2] + 2 * _pair(padding, 'padding')[0]:\n"
            "        return np.zeros((x.shape[0], w.shape[0], 1, 1)), None\n"
            "    return _conv(x, w, b, stride, padding)\n")
    report = grade(solution_copy, rubric=restricted_rubric(ids={"conv.conv2d_arguments"}))
    output = _failed(report, "conv.conv2d_arguments").output
    height = int(re.search(r"a kernel of height (\d+)", output).group(1))
    example = re.search(r"Smallest failing example: (.*)", output).group(1)
    assert example.startswith("conv2d_forward(x (") and f", {height}, " in example.split("w (")[1], output


def test_max_pool_padding_check_shows_the_call_that_failed(solution_copy):
    _append(solution_copy / "pooling.py",
            "_pool = max_pool2d_forward\n"
            "def max_pool2d_forward(x, kernel_size, stride=None, padding=0):\n"
            "    try:\n"
            "        return _pool(x, kernel_size, stride, padding)\n"
            "    except ValueError:\n"
            "        return _pool(x, kernel_size, stride, 0)\n")
    report = grade(solution_copy, rubric=restricted_rubric(ids={"pooling.max_pool2d_forward"}))
    output = _failed(report, "pooling.max_pool2d_forward").output
    assert "padding larger than half the kernel" in output
    example = re.search(r"Smallest failing example: (.*)", output).group(1)
    kernel = [int(k) for k in re.search(r"kernel_size=\(?(\d+(?:, \d+)?)", example).group(1).split(", ")]
    padding = [int(p) for p in re.search(r"padding=\(?(\d+(?:, \d+)?)", example).group(1).split(", ")]
    kernel, padding = kernel * (2 // len(kernel)), padding * (2 // len(padding))
    assert example.startswith("max_pool2d_forward(x (") and any(p > k // 2 for p, k in zip(padding, kernel)), output


def test_relu_at_zero_is_described_as_it_is_and_measured_on_the_upstream_gradient(solution_copy):
    bug = next(b for b in BUGS if b.id == "relu_gradient_one_at_zero")
    path = solution_copy / bug.file
    path.write_text(path.read_text().replace(bug.old, bug.new))
    report = grade(solution_copy, rubric=restricted_rubric(ids={"layers.relu_backward"}))
    output = _failed(report, "layers.relu_backward").output
    assert "set to exactly 0" in output, output
    assert "(1e-12)" not in output and "e+11" not in output, output


def test_train_lenet_must_leave_the_callers_digits_alone(solution_copy):
    _append(solution_copy / "train.py",
            "def train_lenet(X, y, rng):\n"
            "    X -= X.mean()\n"
            "    return LeNet5(activation='relu').eval()\n")
    report = grade(solution_copy, rubric=restricted_rubric(ids={"train.train_lenet"}))
    output = _failed(report, "train.train_lenet").output
    assert "train_lenet modified its input X" in output, output


def test_a_state_dict_of_copies_still_loads_the_big_networks(solution_copy):
    path = solution_copy / "modules.py"
    text = path.read_text()
    for old, new in (("    def state_dict(self) -> dict:\n", "    def _live_state(self) -> dict:\n"),
                     ("        own = self.state_dict()\n", "        own = self._live_state()\n"),
                     ("    def load_state_dict(self, state_dict) -> None:\n",
                      "    def state_dict(self) -> dict:\n"
                      "        return {key: value.copy() for key, value in self._live_state().items()}\n\n"
                      "    def load_state_dict(self, state_dict) -> None:\n")):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text)
    report = grade(solution_copy, rubric=restricted_rubric(ids={"networks.alexnet", "networks.vgg16"}))
    lost = [f"{c.id}: {c.output}" for c in report.checks if not c.passed]
    assert report.score == report.max_score, "\n".join(lost)
