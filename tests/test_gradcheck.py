"""The notebooks' numerical gradient checker (grader/gradcheck.py): it passes a right backward
pass, catches a wrong one, speaks Chinese, ships in the student release, and is no solution."""

from __future__ import annotations

import numpy as np
import pytest

from grader import gradcheck, i18n
from tests.helpers import ROOT


def linear(x, w, b):
    return x @ w + b, (x, w)


def linear_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def wrong_linear_backward(dout, cache):
    """dw without the transpose of x ... a classic: the shapes still fit for square inputs."""
    x, w = cache
    return dout @ w.T, x @ dout, dout.sum(axis=0)


def batchnorm(x, gamma, beta):
    centred = x - x.mean(axis=0)
    std = np.sqrt((centred ** 2).mean(axis=0) + 1e-5)
    return gamma * centred / std + beta, (centred / std, gamma, std)


def batchnorm_backward(dout, cache):
    x_hat, gamma, std = cache
    g = gamma * dout
    dx = (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0)) / std
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def test_inputs_drawn_with_the_checker_s_seed_do_not_fool_it():
    """The batchnorm lesson drew x with default_rng(0), the checker's own seed: dout was then
    (x - 2) / 3, the right dx nearly 0 (3e-6) and its error 2e-5, 'WRONG'."""
    rng = np.random.default_rng(0)
    inputs = {"x": rng.normal(2.0, 3.0, size=(5, 4)), "gamma": rng.normal(size=4), "beta": rng.normal(size=4)}
    errors = gradcheck.check_gradients(batchnorm, batchnorm_backward, inputs, show=False)
    assert max(errors.values()) < 1e-8, errors


@pytest.fixture
def inputs():
    rng = np.random.default_rng(1)
    return {"x": rng.normal(size=(3, 3)), "w": rng.normal(size=(3, 3)), "b": rng.normal(size=3)}


def test_a_right_gradient_passes_and_says_so(inputs, capsys):
    with i18n.speaking("en"):
        errors = gradcheck.check_gradients(linear, linear_backward, inputs)
    assert set(errors) == {"x", "w", "b"}
    assert max(errors.values()) < 1e-8
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 3 and all("agrees" in line for line in printed)


def test_a_wrong_gradient_is_caught_and_only_it(inputs, capsys):
    with i18n.speaking("en"):
        errors = gradcheck.check_gradients(linear, wrong_linear_backward, inputs)
    assert errors["w"] > 1e-2 and errors["x"] < 1e-8 and errors["b"] < 1e-8
    printed = capsys.readouterr().out
    assert "dw:" in printed and "WRONG" in printed.split("dw:")[1].splitlines()[0]


def test_a_gradient_right_in_total_but_misplaced_is_caught():
    """The random upstream gradient: with dout = 1 this swap would go unnoticed."""
    def relu(x):
        return np.maximum(x, 0), x

    def swapped(dout, x):
        return (dout * (x > 0))[::-1]

    x = np.array([0.5, 0.7, -1.0, 2.0, 1.5, 0.3])
    assert gradcheck.check_gradients(relu, swapped, {"x": x}, show=False)["x"] > 1e-2
    assert gradcheck.check_gradients(relu, lambda dout, x: dout * (x > 0), {"x": x}, show=False)["x"] < 1e-8


def test_inputs_are_left_unchanged_and_none_is_skipped(inputs):
    before = {name: value.copy() for name, value in inputs.items()}
    errors = gradcheck.check_gradients(linear, lambda d, c: (*linear_backward(d, c)[:2], None), inputs, show=False)
    assert set(errors) == {"x", "w"}
    assert all(np.array_equal(before[name], inputs[name]) for name in inputs)


def test_large_inputs_are_sampled_and_a_wrong_shape_is_an_error():
    x = np.random.default_rng(2).normal(size=(40, 40))
    calls = []

    def square(x):
        calls.append(1)
        return x ** 2, x

    errors = gradcheck.check_gradients(square, lambda d, x: 2 * x * d, {"x": x}, max_entries=20, show=False)
    assert errors["x"] < 1e-8 and len(calls) == 1 + 2 * 20
    with pytest.raises(ValueError, match="shape"):
        gradcheck.check_gradients(square, lambda d, x: (2 * x * d)[:3], {"x": x}, show=False)


def test_it_speaks_chinese(inputs, capsys):
    with i18n.speaking("zh"):
        gradcheck.check_gradients(linear, wrong_linear_backward, inputs)
    printed = capsys.readouterr().out
    assert "相对误差" in printed and "不对" in printed and "一致" in printed
    catalog = i18n.catalog("zh")
    from tests.test_i18n import messages
    assert all(catalog.get(message) for message in messages("grader/gradcheck.py"))


def test_a_misused_checker_says_so_in_chinese(inputs):
    with i18n.speaking("zh"):
        with pytest.raises(ValueError, match="backward 返回了 1 个梯度，而输入有 3 个"):
            gradcheck.check_gradients(linear, lambda d, cache: (d @ cache[1].T,), inputs, show=False)
        with pytest.raises(ValueError, match="x 的梯度形状是"):
            gradcheck.check_gradients(linear, lambda d, cache: (d[:1], None, None), inputs, show=False)


def test_it_ships_in_the_student_release_and_is_no_solution():
    """release.py copies the whole grader package but grader/hidden; the leak search looks for
    solution lines in the bundle: this file must hold none."""
    from grader.assign import leaks

    path = ROOT / "grader" / "gradcheck.py"
    assert "hidden" not in path.relative_to(ROOT / "grader").parts
    text = path.read_text()
    assert not any(line in text for line in leaks.distinctive_solution_lines())
    assert "solutions" not in text and "grader.hidden" not in text
