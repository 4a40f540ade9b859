"""The error metric: the one place that decides whether two arrays agree.

For an expected array ``e`` and an actual array ``a`` of the same shape, the error
of each element is

    |a - e| / max(max|e|, floor)

that is, the absolute difference measured against the largest expected value of
the whole array (or ``floor``, for arrays that are expected to be all zero). An
array passes when its largest error is at most ``tol`` (``1e-7`` unless a check
says otherwise; float64 round-off in a different summation order is ~1e-15).
Measuring against the array's scale, not element by element, keeps values that
cancel to almost zero from failing correct code, while any real mistake (a
missing term, a wrong index, a wrong scale) moves some element by a sizeable
fraction of the whole.

Before values are compared, the result must be a ``numpy.ndarray`` of the
expected shape and dtype, with no NaN or infinity where the expected values are
finite. Every failure raises :class:`Mismatch` with the evidence a student needs.
"""

from __future__ import annotations

from grader.i18n import _
from grader import textwidth

import math

import numpy as np

from grader.worker.protocol import Opaque

# -- Tolerances: every one the checks use, each with why ------------------------------------

# float64 round-off in another summation order is ~1e-15 of the scale; a real mistake moves
# some element by a sizeable fraction of it.
DEFAULT_TOL = 1e-7
# The scale of an array expected to be all zero: its errors are then absolute.
DEFAULT_FLOOR = 1e-12
# A training-mode BatchNorm that sees at most this many values per channel has an
# ill-conditioned backward (the centred values are +-d, the variance d^2): torch itself is off
# by ~3e-6 there, so ILL_CONDITIONED_TOL applies (see batchnorm_tolerance, the one place the
# rule is written).
FEW_VALUES_PER_CHANNEL = 2
ILL_CONDITIONED_TOL = 1e-4
# A parameter gradient that cancels to almost nothing is compared on this share of the size of
# the terms it sums (see gradient_floors).
TERMS_SHARE = 1e-3
# Sums that must agree to round-off whatever the order (a pooling window's gradient reaching the
# input whole, the weights read back after writing them): relative to the sum of |values|.
ROUND_OFF_TOL = 1e-9
# Below this share of the upstream gradient, an element counts as having received none.
NO_GRADIENT_SHARE = 1e-12
# A Sigmoid's steepest slope: saturated inputs make its gradient ~0 whatever the code rounds,
# so it is measured on this share of the upstream gradient.
SIGMOID_SLOPE = 0.25
# With gamma = 1 and beta = 0, a BatchNorm's output statistics (mean 0, variance var/(var+eps))
# are recomputed here from the output with NumPy, a different order than the student's: rtol
# and atol both.
NORMALISED_TOL = 1e-6
# Only to recognise a mistake already found (a gradient that is the sum of two passes', or the
# previous pass's) so that the message can name it; never a verdict by itself.
RECOGNISE_TOL = 1e-6
# train_lenet's model must reproduce one LeNet-5 (relu or sigmoid) with its own weights to this
# relative error on a probe batch (float64 forward passes in another order differ by ~1e-14).
REPRODUCE_TOL = 1e-6
# The initialisation statistics (std, mean, share of small values) of n uniform draws: within
# this many standard deviations of the sample statistic, plus STD_SLACK, and the largest value
# at least BOUND_FILL of the bound (false alarms about 1e-9 per check).
SIGMA_BAND = 6.0
STD_SLACK = 1e-3
BOUND_FILL = 0.9
# An untrained classifier of ten classes has cross-entropy ln 10; its initial scale is right when
# the loss of 100 digits is within this of it.
INITIAL_LOSS_BAND = 0.3
# The share of 50 digits that a correct LeNet-5 learns by heart in 200 SGD steps (it reaches 100%).
OVERFIT_ACCURACY = 0.9

SAMPLES_SHOWN = 4


def values_per_channel(shape: tuple) -> int:
    """How many values each channel (axis 1) of a batch of ``shape`` holds."""
    return math.prod(shape) // shape[1] if len(shape) >= 2 and shape[1] else 0


def batchnorm_tolerance(shapes) -> float:
    """The tolerance of a training-mode BatchNorm run on batches of ``shapes``."""
    if any(values_per_channel(tuple(shape)) <= FEW_VALUES_PER_CHANNEL for shape in shapes):
        return ILL_CONDITIONED_TOL
    return DEFAULT_TOL


def signal_scale(array) -> float:
    """The floor of an output's (a gradient's) comparison: the scale of what came in. A ReLU
    can make an expected output exactly zero; its errors are then measured on the input's scale."""
    return max(float(np.max(np.abs(array))) if array is not None and array.size else 0.0, DEFAULT_FLOOR)


def gradient_floors(grads: dict, terms: dict | None = None) -> dict:
    """The scale each parameter's gradient is compared against: the largest gradient of its
    own module. A conv bias feeding a training-mode BatchNorm has an exactly-zero gradient
    (only round-off is left), which must be compared absolutely, on its layer's scale.

    ``terms`` (``{parameter: bound on the sum of |terms|}``) bounds the |terms| each gradient
    sums. A layer whose every output unit has one weight (fan_in 1: ``Linear(1, k)``) feeding a
    training-mode BatchNorm has a weight gradient that is zero but for eps's share: on inputs of
    scale 1e3 the terms (~1) cancel to ~1e-9, and float64 round-off (~1e-16 of the terms, in
    whatever order they are summed; torch and the reference disagree as much) is 1e-7 of the
    result. So the scale is never below ``TERMS_SHARE`` of the terms: an error must stay under
    ``tol * TERMS_SHARE`` (1e-10) of the terms' size, still a million times round-off."""
    owner = {name: name.rpartition(".")[0] for name in grads}
    scale: dict = {}
    for name, value in grads.items():
        size = float(np.max(np.abs(value))) if value.size else 0.0
        scale[owner[name]] = max(scale.get(owner[name], 0.0), size)
    terms = terms or {}
    return {name: max(scale[owner[name]], TERMS_SHARE * terms.get(name, 0.0), DEFAULT_FLOOR) for name in grads}


def agree_to_round_off(got: float, wanted: float, size: float) -> bool:
    """Two sums of the same numbers in another order, ``size`` the sum of their |values|."""
    return abs(got - wanted) <= ROUND_OFF_TOL * max(size, 1.0)


class Mismatch(Exception):
    """A result differs from the reference; ``lines`` explain how."""

    def __init__(self, summary: str, lines: list[str] | None = None):
        super().__init__(summary)
        self.summary = summary
        self.lines = lines or []


def describe_type(value) -> str:
    if isinstance(value, Opaque):
        return value.type_name
    if isinstance(value, np.ndarray):
        return _("ndarray of dtype {dtype}").format(dtype=value.dtype)
    return type(value).__name__


def require_array(label: str, actual, expected: np.ndarray) -> None:
    """Type, shape and dtype, each with its own message."""
    if not isinstance(actual, np.ndarray):
        raise Mismatch(_("{label} should be a numpy array of shape {shape}, "
                         "but the function returned a {type}").format(
            label=label, shape=expected.shape, type=describe_type(actual)))
    if actual.shape != expected.shape:
        raise Mismatch(_("{label} has shape {shape}, expected {expected}").format(
            label=label, shape=actual.shape, expected=expected.shape))
    if actual.dtype != expected.dtype:
        raise Mismatch(_(
            "{label} has dtype {dtype}, expected {expected}: compute in the "
            "input's dtype (a float32 step loses the precision the checks need; look for "
            "np.float32, astype or a float32 constant array)").format(
            label=label, dtype=actual.dtype, expected=expected.dtype))


def compare(label: str, actual, expected: np.ndarray, *, tol: float = DEFAULT_TOL,
            floor: float = DEFAULT_FLOOR) -> float:
    """Raises :class:`Mismatch` unless ``actual`` agrees with ``expected``; returns the error."""
    expected = np.asarray(expected)
    require_array(label, actual, expected)
    if actual.size == 0:
        return 0.0
    bad = ~np.isfinite(actual) & np.isfinite(expected)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise Mismatch(_(
            "{label} contains {count} non-finite value(s) (NaN or inf) where the "
            "reference is finite, first at index {index}: an overflow or a division by zero?").format(
            label=label, count=int(bad.sum()), index=list(index)),
            _samples(actual, expected, np.argwhere(bad)[:SAMPLES_SHOWN]))
    largest = float(np.max(np.abs(expected)))
    scale = max(largest, floor)
    with np.errstate(invalid="ignore"):
        errors = np.abs(actual - expected) / scale
    errors = np.where(np.isnan(errors), 0.0, errors)
    worst = float(errors.max())
    if worst <= tol:
        return worst
    order = np.argsort(errors, axis=None)[::-1][:SAMPLES_SHOWN]
    indices = [np.unravel_index(i, errors.shape) for i in order if errors.flat[i] > tol]
    wrong = int((errors > tol).sum())
    measured = (_("the array's scale ({scale:.3g})").format(scale=scale) if largest >= floor else
                _("the comparison scale ({scale:.3g}; every expected value is below it, the largest "
                  "is {largest:.3g})").format(scale=scale, largest=largest))
    raise Mismatch(_(
        "{label} differs from the reference: {wrong} of {size} values are off, the "
        "largest by {worst:.3g} of {measured} at index {index}").format(
        label=label, wrong=wrong, size=errors.size, worst=worst, measured=measured,
        index=list(int(i) for i in indices[0])),
        _samples(actual, expected, indices))


def _samples(actual, expected, indices) -> list[str]:
    """The worst entries as a table: index, expected, actual, each column as wide as its
    widest cell (by display width: a Chinese heading takes two columns a character)."""
    rows = [(_("index"), _("expected"), _("actual"))]
    for index in indices:
        index = tuple(int(i) for i in index)
        rows.append((str(list(index)), str(expected[index]), str(actual[index])))
    widths = [max(textwidth.width(row[column]) for row in rows) for column in range(3)]
    return ["    " + textwidth.ljust(where, widths[0]) + "   " + textwidth.rjust(wanted, widths[1])
            + "   " + textwidth.rjust(got, widths[2]) for where, wanted, got in rows]


def compare_scalar(label: str, actual, expected: float, *, tol: float = DEFAULT_TOL) -> None:
    if isinstance(actual, np.ndarray) and actual.shape == () and actual.dtype.kind == "f":
        actual = float(actual)
    if not isinstance(actual, float) or isinstance(actual, bool):
        raise Mismatch(_("{label} should be a real number (a Python or NumPy float), "
                         "but the function returned a {type}").format(label=label, type=describe_type(actual)))
    if not np.isfinite(actual):
        raise Mismatch(_("{label} is {actual}, expected {expected!r}: an overflow?").format(
            label=label, actual=actual, expected=expected))
    if abs(actual - expected) > tol * max(abs(expected), 1.0):
        raise Mismatch(_("{label} is {actual!r}, expected {expected!r}").format(
            label=label, actual=actual, expected=expected))
