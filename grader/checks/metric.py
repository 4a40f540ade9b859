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

import numpy as np

from grader.worker.protocol import Opaque

DEFAULT_TOL = 1e-7
DEFAULT_FLOOR = 1e-12
SAMPLES_SHOWN = 4


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
        return f"ndarray of dtype {value.dtype}"
    return type(value).__name__


def require_array(label: str, actual, expected: np.ndarray) -> None:
    """Type, shape and dtype, each with its own message."""
    if not isinstance(actual, np.ndarray):
        raise Mismatch(f"{label} should be a numpy array of shape {expected.shape}, "
                       f"but the function returned a {describe_type(actual)}")
    if actual.shape != expected.shape:
        raise Mismatch(f"{label} has shape {actual.shape}, expected {expected.shape}")
    if actual.dtype != expected.dtype:
        raise Mismatch(
            f"{label} has dtype {actual.dtype}, expected {expected.dtype}: compute in the "
            "input's dtype (a float32 step loses the precision the checks need; look for "
            "np.float32, astype or a float32 constant array)")


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
        raise Mismatch(
            f"{label} contains {int(bad.sum())} non-finite value(s) (NaN or inf) where the "
            f"reference is finite, first at index {list(index)}: an overflow or a division by zero?",
            _samples(actual, expected, np.argwhere(bad)[:SAMPLES_SHOWN]))
    scale = max(float(np.max(np.abs(expected))), floor)
    with np.errstate(invalid="ignore"):
        errors = np.abs(actual - expected) / scale
    errors = np.where(np.isnan(errors), 0.0, errors)
    worst = float(errors.max())
    if worst <= tol:
        return worst
    order = np.argsort(errors, axis=None)[::-1][:SAMPLES_SHOWN]
    indices = [np.unravel_index(i, errors.shape) for i in order if errors.flat[i] > tol]
    wrong = int((errors > tol).sum())
    raise Mismatch(
        f"{label} differs from the reference: {wrong} of {errors.size} values are off, the "
        f"largest by {worst:.3g} of the array's scale ({scale:.3g}) at index "
        f"{list(int(i) for i in indices[0])}",
        _samples(actual, expected, indices))


def _samples(actual, expected, indices) -> list[str]:
    lines = ["    index            expected            actual"]
    for index in indices:
        index = tuple(int(i) for i in index)
        lines.append(f"    {str(list(index)):16} {expected[index]!s:>19}  {actual[index]!s:>16}")
    return lines


def compare_scalar(label: str, actual, expected: float, *, tol: float = DEFAULT_TOL) -> None:
    if isinstance(actual, np.ndarray) and actual.shape == () and actual.dtype.kind == "f":
        actual = float(actual)
    if not isinstance(actual, float) or isinstance(actual, bool):
        raise Mismatch(f"{label} should be a real number (a Python or NumPy float), "
                       f"but the function returned a {describe_type(actual)}")
    if not np.isfinite(actual):
        raise Mismatch(f"{label} is {actual}, expected {expected!r}: an overflow?")
    if abs(actual - expected) > tol * max(abs(expected), 1.0):
        raise Mismatch(f"{label} is {actual!r}, expected {expected!r}")
