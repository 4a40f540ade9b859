"""Checks of ``layers.py``."""

from __future__ import annotations

from grader.i18n import _

import numpy as np
from hypothesis import strategies as st

from grader.checks.harness import examples as S
from grader.checks.harness.base import Context, check, require_unchanged, unpack
from grader.checks.harness.metric import SIGMOID_SLOPE, Mismatch, compare, compare_scalar, signal_scale
from grader.references import layers as ref
from grader.worker.protocol import Rng


def _forward_backward(ctx: Context, name: str, args: tuple, arg_names: list, dout=None, **kwargs):
    """Runs ``name_forward`` (and ``name_backward`` when ``dout`` is given) and returns
    ``(out, grads_value, forward_returned)``."""
    forward = ctx.call(f"layers.{name}_forward", *args, echo_args=True, **kwargs)
    out, _unused = unpack(forward.value, 2, f"{name}_forward")
    require_unchanged(f"{name}_forward", arg_names, list(args), forward.args_after)
    grads = None
    if dout is not None:
        backward = ctx.call(f"layers.{name}_backward", dout, ctx.worker.ref(forward, 1), echo_args=True)
        require_unchanged(f"{name}_backward", ["dout"], [dout], backward.args_after)
        grads = backward.value
        ctx.worker.release(backward.handle)
    ctx.worker.release(forward.handle)
    return out, grads, forward


# Sizes above 256 (the drawn ones are 1 to 6): CPython keeps one object per small int only, so
# sizes compared with `is` agree on every drawn example and disagree here.
LARGE_LINEAR = (S.LinearExample((3, 300), 1.0, 5, extra=(260, True)),)


@check("layers.linear")
def linear(ctx: Context) -> None:
    def body(ex):
        x, w, b, _unused = ex.arrays()
        out, _unused, _unused = _forward_backward(ctx, "linear", (x, w, b), ["x", "w", "b"])
        compare("out", out, ref.linear(x, w, b)[0])

    ctx.for_all(S.linear_examples(), body, examples=LARGE_LINEAR)


@check("layers.linear_backward")
def linear_backward(ctx: Context) -> None:
    def body(ex):
        x, w, b, dout = ex.arrays()
        _unused, grads, _unused = _forward_backward(ctx, "linear", (x, w, b), ["x", "w", "b"], dout)
        dx, dw, db = unpack(grads, 3, "linear_backward")
        expected = ref.linear(x, w, b, dout)[1]
        compare("dx", dx, expected["x"])
        compare("dw", dw, expected["w"], batch=len(x))
        if b is None:
            if db is not None:
                raise Mismatch(_("db should be None when b is None, got a {type}").format(type=type(db).__name__))
        else:
            compare("db", db, expected["b"], batch=len(x))

    ctx.for_all(S.linear_examples(), body, examples=LARGE_LINEAR)


@check("layers.relu")
def relu(ctx: Context) -> None:
    def body(ex):
        x, _unused = ex.arrays()
        out, _unused, _unused = _forward_backward(ctx, "relu", (x,), ["x"])
        compare("out", out, ref.relu(x)[0])

    ctx.for_all(S.dense_examples(zeros=ZEROS_SHARE), body)


@check("layers.relu_backward")
def relu_backward(ctx: Context) -> None:
    def body(ex):
        x, dout = ex.arrays()
        _unused, dx, _unused = _forward_backward(ctx, "relu", (x,), ["x"], dout)
        # At x = 0 the expected gradient is 0 (where all of x is 0, all of it): measured on the
        # upstream gradient's scale, the size of what a wrong choice at the kink lets through.
        compare("dx", dx, ref.relu(x, dout)[1]["x"], floor=signal_scale(dout))

    ctx.for_all(S.dense_examples(zeros=ZEROS_SHARE), body)


# Values set to exactly 0: the place where ReLU's gradient is decided.
ZEROS_SHARE = 0.3


@check("layers.sigmoid")
def sigmoid(ctx: Context) -> None:
    def body(ex):
        x, _unused = ex.arrays()
        out, _unused, _unused = _forward_backward(ctx, "sigmoid", (x,), ["x"])
        compare("out", out, ref.sigmoid(x)[0])

    ctx.for_all(S.dense_examples(extremes=True), body)


@check("layers.sigmoid_backward")
def sigmoid_backward(ctx: Context) -> None:
    def body(ex):
        x, dout = ex.arrays()
        _unused, dx, _unused = _forward_backward(ctx, "sigmoid", (x,), ["x"], dout)
        # Saturated inputs make every expected value ~0: measure against the upstream gradient instead.
        compare("dx", dx, ref.sigmoid(x, dout)[1]["x"], floor=SIGMOID_SLOPE * float(np.abs(dout).max()))

    ctx.for_all(S.dense_examples(extremes=True), body)


def _dropout(ctx: Context, ex: S.DropoutExample, with_backward: bool) -> None:
    p, training = ex.p, ex.training
    x, dout = ex.arrays()
    rng_seed = ex.rng_seed
    forward = ctx.call("layers.dropout_forward", x, p, training, Rng(rng_seed), echo_args=True)
    out, _unused = unpack(forward.value, 2, "dropout_forward")
    expected, grads = ref.dropout(x, p, training, rng_seed, dout)
    if with_backward:
        backward = ctx.call("layers.dropout_backward", dout, ctx.worker.ref(forward, 1), echo_args=True)
        ctx.worker.release(backward.handle, forward.handle)
        require_unchanged("dropout_backward", ["dout"], [dout], backward.args_after[:1])
        compare("dx", backward.value, grads["x"])
        return
    require_unchanged("dropout_forward", ["x"], [x], forward.args_after[:1])
    compare("out", out, expected)
    fresh = np.random.default_rng(rng_seed)
    if training:
        fresh.random(x.shape)
    wanted_next = float(fresh.random())
    if forward.args_after[3] != {"next_draw": wanted_next}:
        raise Mismatch(_("rng was drawn from the wrong number of times: in training call rng.random(x.shape) "
                         "exactly once; in evaluation do not touch rng") if training else
                       _("rng was drawn from in evaluation mode: evaluation must not use rng at all"))
    ctx.worker.release(forward.handle)


@check("layers.dropout_training")
def dropout_training(ctx: Context) -> None:
    ctx.for_all(S.dropout_examples(training=True), lambda ex: _dropout(ctx, ex, False))


@check("layers.dropout_eval")
def dropout_eval(ctx: Context) -> None:
    ctx.for_all(S.dropout_examples(training=False), lambda ex: _dropout(ctx, ex, False), max_examples=15)


@check("layers.dropout_backward")
def dropout_backward(ctx: Context) -> None:
    ctx.for_all(S.dropout_examples(training=None), lambda ex: _dropout(ctx, ex, True))


def _cross_entropy(ctx: Context, logits: np.ndarray, y: np.ndarray) -> None:
    returned = ctx.call("layers.softmax_cross_entropy", logits, y, echo_args=True)
    loss, dlogits = unpack(returned.value, 2, "softmax_cross_entropy")
    require_unchanged("softmax_cross_entropy", ["logits", "y"], [logits, y], returned.args_after)
    ctx.worker.release(returned.handle)
    expected_loss, expected_grad = ref.cross_entropy(logits, y)
    compare_scalar("loss", loss, expected_loss)
    compare("dlogits", dlogits, expected_grad, batch=len(logits))


@check("layers.softmax_cross_entropy")
def softmax_cross_entropy(ctx: Context) -> None:
    ctx.for_all(S.classification_examples(st.sampled_from((1.0, 0.1, 5.0))),
                lambda ex: _cross_entropy(ctx, *ex.arrays()), examples=TINY_PROBABILITIES)


# The true class's probability tiny (e^-25, e^-40): -log(p[y] + 1e-16) or a clipped p is off
# there, while drawn logits of scale <= 5 rarely give a probability below 1e-6.
TINY_PROBABILITIES = (
    S.Classification((1, 2), 1.0, 0, logits=((0.0, -25.0),), labels=(1,)),
    S.Classification((2, 3), 1.0, 0, logits=((0.0, -40.0, 3.0), (1.0, 2.0, -30.0)), labels=(1, 2)),
)


@check("layers.softmax_stability")
def softmax_stability(ctx: Context) -> None:
    ctx.for_all(S.classification_examples(st.sampled_from((1e4, -1e4, 3e3))),
                lambda ex: _cross_entropy(ctx, *ex.arrays()), max_examples=15)
