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

from grader.i18n import _, in_english
from grader import textwidth

import math

import numpy as np

from grader import results
from grader.results import diagnosis, message_kind
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
    """A result differs from the reference; ``lines`` explain how, ``diagnosis`` what was found
    (:func:`grader.results.diagnosis`; by default the identity of the summary's message)."""

    def __init__(self, summary: str, lines: list[str] | None = None, diagnosis: dict | None = None,
                 compared: tuple | None = None):
        super().__init__(summary)
        self.summary = summary
        self.lines = lines or []
        self.compared = compared  # (actual, expected): the replay shows them side by side
        self.diagnosis = diagnosis or results.diagnosis(message_kind(summary))


def output_name(label) -> str:
    """The output a label names, in English whatever the feedback's language."""
    return str(in_english(label))


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
            label=label, shape=expected.shape, type=describe_type(actual)),
            diagnosis=diagnosis("type", output_name(label), describe_type(actual)))
    if actual.shape != expected.shape:
        raise Mismatch(_("{label} has shape {shape}, expected {expected}").format(
            label=label, shape=actual.shape, expected=expected.shape),
            diagnosis=diagnosis("shape", output_name(label), shape_pattern(actual.shape, expected.shape)))
    if actual.dtype != expected.dtype:
        raise Mismatch(_(
            "{label} has dtype {dtype}, expected {expected}: compute in the "
            "input's dtype (a float32 step loses the precision the checks need; look for "
            "np.float32, astype or a float32 constant array)").format(
            label=label, dtype=actual.dtype, expected=expected.dtype),
            diagnosis=diagnosis("dtype", output_name(label), str(actual.dtype)))


def shape_pattern(shape: tuple, expected: tuple) -> str | None:
    """How a wrong shape departs, where it says something about the mistake."""
    if len(shape) != len(expected):
        return f"{len(shape)} axes instead of {len(expected)}"
    if sorted(shape) == sorted(expected):
        return "axes in another order"
    wrong = [axis for axis, (got, wanted) in enumerate(zip(shape, expected)) if got != wanted]
    offsets = {shape[axis] - expected[axis] for axis in wrong}
    where = ", ".join(str(axis) for axis in wrong)
    if len(offsets) == 1 and abs(next(iter(offsets))) == 1:
        return f"one too {'many' if offsets == {1} else 'few'} along axis {where}"
    return f"wrong size along axis {where}"


def departure_pattern(actual: np.ndarray, expected: np.ndarray, wrong: np.ndarray,
                      batch: int | None = None, regions: dict | None = None) -> str | None:
    """How ``actual`` departs from ``expected`` (``wrong``: where it is off), in words that
    are the same for every student who made the mistake: a whole array scaled (by the batch
    size, where the check says what it is), offset, wrong only in one of the ``regions`` the
    check names (``{"where windows overlap": mask}``), shifted by one position, transposed, or
    wrong only at the border. None where none of these fits."""
    actual, expected = actual.astype(np.float64), expected.astype(np.float64)
    scale = max(float(np.max(np.abs(expected))), DEFAULT_FLOOR)

    def same(a, b) -> bool:
        return a.size > 0 and float(np.max(np.abs(a - b))) <= RECOGNISE_TOL * scale

    if not np.any(actual):
        return "all zero"
    if actual.size < 2:  # one number fits any scale or offset: no pattern to tell
        return None
    if np.any(expected):
        ratio = float(np.vdot(actual, expected) / np.vdot(expected, expected))
        if abs(ratio - 1) > RECOGNISE_TOL and same(actual, ratio * expected):
            return _ratio_words(ratio, batch)
    difference = actual - expected
    if same(difference, np.full_like(difference, difference.flat[0])):
        return "offset by a constant"
    if actual.ndim >= 2 and expected.shape[1] > 1:
        channel_mean = difference.mean(axis=tuple(a for a in range(actual.ndim) if a != 1), keepdims=True)
        if same(difference, np.broadcast_to(channel_mean, difference.shape)):
            return "offset per channel"
    for name, mask in (regions or {}).items():
        mask = np.broadcast_to(mask, actual.shape)
        if not mask.all() and not np.any(wrong & ~mask):
            return f"wrong only {name}"
    for axis in range(actual.ndim):
        if actual.shape[axis] < 3:
            continue
        for shift in (1, -1):
            moved = np.take(actual, range(max(shift, 0), actual.shape[axis] + min(shift, 0)), axis=axis)
            kept = np.take(expected, range(max(-shift, 0), expected.shape[axis] + min(-shift, 0)), axis=axis)
            if same(moved, kept):
                return f"shifted by one position along axis {axis}"
    if actual.ndim >= 2 and actual.shape[-1] == actual.shape[-2] > 1 and same(actual, np.swapaxes(expected, -1, -2)):
        return "transposed (the last two axes)"
    if actual.ndim >= 3 and min(actual.shape[-2:]) >= 3:
        border = np.ones(actual.shape[-2:], dtype=bool)
        border[1:-1, 1:-1] = False
        if not np.any(wrong & ~border):
            return "wrong only at the border"
    return None


def _ratio_words(ratio: float, batch: int | None) -> str:
    if abs(ratio + 1) <= RECOGNISE_TOL:
        return "sign flipped"
    if batch and batch > 1:
        if abs(ratio - batch) <= RECOGNISE_TOL * batch:
            return "multiplied by the batch size"
        if abs(ratio * batch - 1) <= RECOGNISE_TOL:
            return "divided by the batch size"
    for whole in range(2, 11):
        if abs(ratio - whole) <= RECOGNISE_TOL * whole:
            return f"scaled by {whole}"
        if abs(ratio * whole - 1) <= RECOGNISE_TOL:
            return f"scaled by 1/{whole}"
    return "scaled by a constant"


def compare(label: str, actual, expected: np.ndarray, *, tol: float = DEFAULT_TOL,
            floor: float = DEFAULT_FLOOR, batch: int | None = None, regions: dict | None = None) -> float:
    """Raises :class:`Mismatch` unless ``actual`` agrees with ``expected``; returns the error.
    ``batch`` (the examples' batch size) and ``regions`` (name -> boolean mask) only name how
    a departure is patterned (see :func:`departure_pattern`), never whether there is one."""
    try:
        return _compare(label, actual, expected, tol=tol, floor=floor, batch=batch, regions=regions)
    except Mismatch as mismatch:
        mismatch.compared = (actual, np.asarray(expected))
        raise


def _require_finite_where(wrong: np.ndarray, label: str, actual, expected, message) -> None:
    """A non-finite departure at the ``wrong`` positions: ``message`` says how many and the first."""
    if wrong.any():
        raise Mismatch(message.format(label=label, count=int(wrong.sum()),
                                      index=[int(i) for i in np.argwhere(wrong)[0]]),
                       _samples(actual, expected, np.argwhere(wrong)[:SAMPLES_SHOWN]),
                       diagnosis("non-finite", output_name(label)))


def _compare(label: str, actual, expected: np.ndarray, *, tol: float, floor: float, batch: int | None,
             regions: dict | None) -> float:
    expected = np.asarray(expected)
    require_array(label, actual, expected)
    if actual.size == 0:
        return 0.0
    _require_finite_where(
        ~np.isfinite(actual) & np.isfinite(expected), label, actual, expected,
        _("{label} contains {count} non-finite value(s) (NaN or inf) where the "
          "reference is finite, first at index {index}: an overflow or a division by zero?"))
    odd = ~np.isfinite(expected)
    if odd.any():  # a NaN or inf in the reference must be matched as it is, and sets no scale
        _require_finite_where(
            odd & ~((actual == expected) | (np.isnan(actual) & np.isnan(expected))), label, actual, expected,
            _("{label} differs from the reference where the reference is not finite (NaN or inf): "
              "{count} value(s), first at index {index}"))
    largest = float(np.max(np.abs(expected), where=~odd, initial=0.0))
    scale = max(largest, floor)
    with np.errstate(invalid="ignore"):
        errors = np.abs(actual - expected) / scale
    errors = np.where(odd, 0.0, errors)
    worst = float(errors.max())
    if worst <= tol:
        return worst
    order = np.argsort(errors, axis=None)[::-1][:SAMPLES_SHOWN]
    indices = [np.unravel_index(i, errors.shape) for i in order if errors.flat[i] > tol]
    wrong = int((errors > tol).sum())
    index = list(int(i) for i in indices[0])
    if largest < floor:  # every expected value is zero (or -0.0, or round-off): say so, in values
        summary = _("{label} should be zero everywhere (every expected value is 0, to within "
                    "{floor:g}), but {wrong} of {size} values are not: the largest is {value:.3g} at "
                    "index {index}").format(label=label, floor=floor, wrong=wrong, size=errors.size,
                                            value=float(actual[tuple(index)]) + 0.0, index=index)
    else:
        summary = _(
            "{label} differs from the reference: {wrong} of {size} values are off, the "
            "largest by {worst:.3g} of {measured} at index {index}").format(
            label=label, wrong=wrong, size=errors.size, worst=worst,
            measured=_("the array's scale ({scale:.3g})").format(scale=scale), index=index)
    with np.errstate(all="ignore"):  # a reference holding inf: its pattern is none, and says nothing
        pattern = departure_pattern(actual, expected, errors > tol, batch, regions)
    raise Mismatch(summary, _samples(actual, expected, indices),
                   diagnosis("values", output_name(label), pattern))


def _samples(actual, expected, indices) -> list[str]:
    """The worst entries as a table: index, expected, actual, each column as wide as its
    widest cell (by display width: a Chinese heading takes two columns a character)."""
    rows = [(_("index"), _("expected"), _("actual"))]
    for index in indices:
        index = tuple(int(i) for i in index)
        shown = [value + 0 if isinstance(value, np.floating) else value  # -0.0 reads 0.0
                 for value in (expected[index], actual[index])]
        rows.append((str(list(index)), str(shown[0]), str(shown[1])))
    widths = [max(textwidth.width(row[column]) for row in rows) for column in range(3)]
    return ["    " + textwidth.ljust(where, widths[0]) + "   " + textwidth.rjust(wanted, widths[1])
            + "   " + textwidth.rjust(got, widths[2]) for where, wanted, got in rows]


def compare_scalar(label: str, actual, expected: float, *, tol: float = DEFAULT_TOL) -> None:
    try:
        _compare_scalar(label, actual, expected, tol=tol)
    except Mismatch as mismatch:
        mismatch.compared = (actual, expected)
        raise


def _compare_scalar(label: str, actual, expected: float, *, tol: float) -> None:
    if isinstance(actual, np.ndarray) and actual.shape == () and actual.dtype.kind == "f":
        actual = float(actual)
    if not isinstance(actual, float) or isinstance(actual, bool):
        raise Mismatch(_("{label} should be a real number (a Python or NumPy float), "
                         "but the function returned a {type}").format(label=label, type=describe_type(actual)),
                       diagnosis=diagnosis("type", output_name(label), describe_type(actual)))
    if not np.isfinite(actual):
        raise Mismatch(_("{label} is {actual}, expected {expected!r}: an overflow?").format(
            label=label, actual=actual, expected=expected), diagnosis=diagnosis("non-finite", output_name(label)))
    if abs(actual - expected) > tol * max(abs(expected), 1.0):
        # any two numbers have a ratio: only a simple one (2, 1/4, -1) says something
        pattern = _ratio_words(actual / expected, None) if expected else None
        pattern = None if pattern == "scaled by a constant" else pattern
        raise Mismatch(_("{label} is {actual!r}, expected {expected!r}").format(
            label=label, actual=actual, expected=expected), diagnosis=diagnosis("values", output_name(label), pattern))
