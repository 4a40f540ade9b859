"""A numerical gradient checker for the lesson notebooks: is my backward pass right?

A backward pass returns the gradient of a loss with respect to each input of the layer. For
any upstream gradient ``dout``, that is the gradient of the scalar ``L = sum(dout * out)``.
:func:`check_gradients` draws a random ``dout``, computes ``L``'s gradient numerically with
central differences,

    dL/dx[k] ≈ (L(x + h e_k) - L(x - h e_k)) / (2 h),

and prints, for each input, the relative error ``|analytic - numeric| / (|analytic| + |numeric|)``
(norms over the whole array). A random ``dout`` matters: with ``dout = 1`` everywhere a gradient
that sends each value to the wrong place can still add up to the right total.

When to trust the answer: in float64, with small inputs (a few hundred numbers), a correct
backward pass gives errors near 1e-9 or below and a wrong one errors near 1e-1. The numerical
estimate itself is wrong where the function has a kink within ``h`` of the point (ReLU at 0,
two equal values in a max-pooling window): pick random real-valued inputs so that ties and
zeros do not happen, and do not trust one large error at such a point without looking.

This is a tool for the notebooks, not a check of the grader: nothing here decides a score.
"""

from __future__ import annotations

import numpy as np

from grader import i18n
from grader.i18n import _

#: Below this relative error a backward pass agrees with the numbers (float64, h = 1e-5).
TRUSTED = 1e-6


def numerical_gradient(loss, array: np.ndarray, h: float = 1e-5, indices=None) -> np.ndarray:
    """Central differences of the scalar ``loss()`` with respect to ``array``, changed in place
    one entry at a time (and restored); ``indices`` (flat) limits the entries, the others get NaN."""
    gradient = np.full(array.shape, np.nan)
    flat, flat_gradient = array.reshape(-1), gradient.reshape(-1)
    for k in range(flat.size) if indices is None else indices:
        kept = flat[k]
        flat[k] = kept + h
        above = loss()
        flat[k] = kept - h
        below = loss()
        flat[k] = kept
        flat_gradient[k] = (above - below) / (2 * h)
    return gradient


def relative_error(analytic, numeric) -> float:
    """``|a - n| / (|a| + |n|)`` with Euclidean norms; 0 when both are zero."""
    analytic, numeric = np.asarray(analytic, dtype=float), np.asarray(numeric, dtype=float)
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return 0.0 if scale == 0 else float(np.linalg.norm(analytic - numeric) / scale)


def check_gradients(forward, backward, inputs: dict, *, h: float = 1e-5, seed: int = 0,
                    max_entries: int = 300, show: bool = True) -> dict:
    """Compares a layer's backward pass with central differences; returns {name: relative error}.

    ``forward(**inputs)`` returns ``(out, cache)``; ``backward(dout, cache)`` returns the
    gradients of the inputs, in the order of ``inputs`` (a single array for a single input;
    ``None`` for an input it gives no gradient of, which is then skipped). The inputs are copied
    to float64 first. At most ``max_entries`` entries of each input are checked (chosen at random).

    Example, a convolution with stride 2 and padding 1::

        check_gradients(lambda x, w, b: conv.conv2d_forward(x, w, b, stride=2, padding=1),
                        conv.conv2d_backward, {"x": x, "w": w, "b": b})

    What it says and raises speaks the notebook's language (:func:`grader.i18n.speaking_as_installed`).
    """
    with i18n.speaking_as_installed():
        return _check_gradients(forward, backward, inputs, h, seed, max_entries, show)


def _check_gradients(forward, backward, inputs: dict, h: float, seed: int, max_entries: int, show: bool) -> dict:
    # dout's own stream, not default_rng(seed): inputs drawn from default_rng(0), the seed a lesson
    # or a student most likely uses, would make dout a multiple of x minus its mean, and
    # BatchNorm's dx, which removes dout's part along x, would vanish into rounding error
    rng = np.random.default_rng([seed, 1])
    values = {name: np.array(value, dtype=np.float64) for name, value in inputs.items()}
    out, cache = forward(**values)
    dout = rng.normal(size=np.shape(out))
    grads = backward(dout, cache)
    if len(values) == 1 and not isinstance(grads, (tuple, list)):
        grads = (grads,)
    grads = tuple(grads)[:len(values)]
    if len(grads) != len(values):
        raise ValueError(_("backward returned {count} gradients for {inputs} inputs").format(
            count=len(grads), inputs=len(values)))

    def loss():
        return float(np.sum(dout * forward(**values)[0]))

    errors = {}
    for (name, array), grad in zip(values.items(), grads):
        if grad is None:
            continue
        if np.shape(grad) != array.shape:
            raise ValueError(_("the gradient of {name} has shape {got}, {name} has {shape}").format(
                name=name, got=np.shape(grad), shape=array.shape))
        indices = None if array.size <= max_entries else rng.choice(array.size, max_entries, replace=False)
        numeric = numerical_gradient(loss, array, h, indices)
        chosen = slice(None) if indices is None else indices
        errors[name] = relative_error(np.asarray(grad).reshape(-1)[chosen], numeric.reshape(-1)[chosen])
    if show:
        for name, error in errors.items():
            verdict = _("agrees") if error < TRUSTED else _("WRONG: look at this gradient")
            print(_("d{name}: relative error {error:.1e}  {verdict}").format(
                name=name, error=error, verdict=verdict))
    return errors
