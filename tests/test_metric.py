"""``compare`` and the comparison scales, branch by branch: each can fail, with its own message."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks.harness.metric import (DEFAULT_FLOOR, DEFAULT_TOL, ILL_CONDITIONED_TOL, TERMS_SHARE, Mismatch,
                                          batchnorm_tolerance, compare, compare_scalar, gradient_floors,
                                          signal_scale)
from grader.worker.protocol import Opaque

EXPECTED = np.array([[1.0, -2.0], [4.0, 0.5]])


def _fails(actual, expected=EXPECTED, **kwargs) -> Mismatch:
    with pytest.raises(Mismatch) as raised:
        compare("out", actual, expected, **kwargs)
    return raised.value


def test_equal_arrays_pass_with_zero_error():
    assert compare("out", EXPECTED.copy(), EXPECTED) == 0.0


@pytest.mark.parametrize("actual, words", [
    ([[1.0, -2.0], [4.0, 0.5]], "should be a numpy array of shape (2, 2), but the function returned a list"),
    (Opaque("Tensor", None, ()), "returned a Tensor"),
    (None, "returned a NoneType"),
])
def test_not_an_array(actual, words):
    assert words in _fails(actual).summary


def test_wrong_shape():
    assert _fails(EXPECTED.T.reshape(4)).summary == "out has shape (4,), expected (2, 2)"
    assert "has shape (2, 2, 1)" in _fails(EXPECTED[..., None]).summary


def test_wrong_dtype_is_named_a_precision_mistake():
    summary = _fails(EXPECTED.astype(np.float32)).summary
    assert "dtype float32, expected float64" in summary and "np.float32" in summary


def test_non_finite_where_the_reference_is_finite():
    actual = EXPECTED.copy()
    actual[1, 0] = np.nan
    mismatch = _fails(actual)
    assert "1 non-finite value(s)" in mismatch.summary and "first at index [1, 0]" in mismatch.summary
    assert any("nan" in line for line in mismatch.lines)


def test_non_finite_where_the_reference_is_too_is_not_a_failure():
    expected = np.array([np.inf, 1.0])
    assert compare("out", np.array([np.inf, 1.0]), expected) == 0.0


@pytest.mark.parametrize("odd", [np.nan, np.inf])
def test_a_non_finite_value_in_the_reference_does_not_pass_every_answer(odd):
    """A NaN or inf anywhere in the reference made the scale NaN or inf and every error 0:
    any answer passed. It must be matched where it is, and the rest is measured on the
    finite values' scale."""
    expected = np.array([1.0, odd, 2.0])
    with pytest.raises(Mismatch):
        compare("out", np.array([5.0, 7.0, -3.0]), expected)
    with pytest.raises(Mismatch):
        compare("out", np.array([5.0, odd, -3.0]), expected)
    assert compare("out", np.array([1.0, odd, 2.0]), expected) == 0.0


def test_error_is_measured_on_the_whole_arrays_scale():
    actual = EXPECTED.copy()
    actual[1, 1] += 4.0 * DEFAULT_TOL * 0.99     # 4 is the largest |expected|
    assert compare("out", actual, EXPECTED) <= DEFAULT_TOL
    actual[1, 1] += 4.0 * DEFAULT_TOL * 0.02
    mismatch = _fails(actual)
    assert "1 of 4 values are off" in mismatch.summary and "at index [1, 1]" in mismatch.summary
    assert "array's scale (4)" in mismatch.summary


def test_tolerance_edge_is_inclusive_and_tol_is_honoured():
    expected = np.array([1.0, 0.0])
    assert compare("out", np.array([1.0, 0.5]), expected, tol=0.5) == 0.5
    _fails(np.array([1.0, 0.5 + 1e-9]), expected, tol=0.5)


def test_all_zero_reference_is_compared_on_the_floor():
    zeros = np.zeros(3)
    assert compare("out", np.full(3, 0.9 * DEFAULT_FLOOR * DEFAULT_TOL), zeros) <= DEFAULT_TOL
    _fails(np.full(3, 1e-12), zeros)                 # 1e-12 is a whole floor off
    assert compare("out", np.full(3, 1e-12), zeros, floor=1.0) == pytest.approx(1e-12)
    mismatch = _fails(np.array([0.0, 2.0, 0.0]), zeros, floor=0.5)
    assert mismatch.summary == ("out should be zero everywhere (every expected value is 0, to within 0.5), "
                                "but 1 of 3 values are not: the largest is 2 at index [1]")


def test_an_expected_negative_zero_reads_as_zero():
    mismatch = _fails(np.array([0.0, 1.32]), np.array([-0.0, -0.0]))
    assert "e+12" not in mismatch.summary and "-0" not in mismatch.summary + "\n".join(mismatch.lines)
    assert "should be zero everywhere" in mismatch.summary and "the largest is 1.32 at index [1]" in mismatch.summary
    assert compare("out", np.array([0.0, -0.0]), np.array([-0.0, 0.0])) == 0.0  # signed zeros agree


def test_empty_arrays_agree():
    assert compare("out", np.zeros((0, 3)), np.zeros((0, 3))) == 0.0


def test_compare_scalar_branches():
    compare_scalar("loss", 2.0, 2.0)
    compare_scalar("loss", np.float64(2.0), 2.0)
    compare_scalar("loss", np.array(2.0), 2.0)
    for actual, words in ((2, "should be a real number"), (np.array([2.0]), "should be a real number"),
                          (float("nan"), "an overflow"), (2.0 + 3e-7, "expected 2.0")):
        with pytest.raises(Mismatch, match=words):
            compare_scalar("loss", actual, 2.0)


def test_batchnorm_tolerance_is_looser_only_for_two_values_per_channel():
    assert batchnorm_tolerance([(2, 3)]) == ILL_CONDITIONED_TOL
    assert batchnorm_tolerance([(1, 3, 1, 2)]) == ILL_CONDITIONED_TOL
    assert batchnorm_tolerance([(3, 3)]) == DEFAULT_TOL
    assert batchnorm_tolerance([(3, 3), (2, 3)]) == ILL_CONDITIONED_TOL


def test_gradient_floors_take_the_modules_largest_gradient_and_the_terms_share():
    grads = {"0.weight": np.array([3.0, -1.0]), "0.bias": np.zeros(2), "1.weight": np.zeros(2)}
    floors = gradient_floors(grads, {"1.weight": 5.0})
    assert floors == {"0.weight": 3.0, "0.bias": 3.0, "1.weight": TERMS_SHARE * 5.0}
    assert gradient_floors({"w": np.zeros(1)}) == {"w": DEFAULT_FLOOR}


def test_signal_scale():
    assert signal_scale(np.array([-3.0, 1.0])) == 3.0
    assert signal_scale(np.zeros(2)) == signal_scale(None) == DEFAULT_FLOOR
