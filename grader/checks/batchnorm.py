"""Checks of ``batchnorm.py`` (the (N, D) functions and their (N, C, H, W) ``spatial_`` forms)."""

from __future__ import annotations

from grader.i18n import _

import numpy as np

from grader.checks.harness import examples as S
from grader.checks.harness.base import Context, check, expect_value_error, require_unchanged, unpack
from grader.checks.harness.metric import (DEFAULT_TOL, NORMALISED_TOL, RECOGNISE_TOL, Mismatch, batchnorm_tolerance,
                                          compare)
from grader.references import batchnorm as ref
from grader.results import diagnosis, message_kind


def _prefix(spatial: bool) -> str:
    return "spatial_batchnorm" if spatial else "batchnorm"


def _forward(ctx: Context, ex: S.Norm, spatial: bool, judge: bool = True):
    """Runs the student's forward; with ``judge``, checks output and running statistics.
    Returns what backward needs (a backward check does not judge the forward again)."""
    name = f"{_prefix(spatial)}_forward"
    x, gamma, beta, mean, var, dout = ex.arrays()
    returned = ctx.call(f"batchnorm.{name}", x, gamma, beta, mean, var, echo_args=True, **ex.kwargs())
    out, _unused = unpack(returned.value, 2, name)
    expected, grads, new_mean, new_var = ref.batch_norm(x, gamma, beta, mean, var, ex.training,
                                                        ex.momentum, ex.eps, dout)
    if not judge:
        return returned, dout, grads
    require_unchanged(name, ["x", "gamma", "beta"], [x, gamma, beta], returned.args_after[:3])
    compare("out", out, expected)
    mean_after, var_after = returned.args_after[3:5]
    if ex.training:
        for label, before, after, wanted in (("running_mean", mean, mean_after, new_mean),
                                             ("running_var", var, var_after, new_var)):
            if ex.momentum != 0 and np.array_equal(after, before) and not np.allclose(wanted, before):
                message = _("{label} was not updated in place: after the call the caller's array still "
                            "holds the old values (assigning a new array to the name does not change "
                            "the caller's; update with [...] =, *= or +=)").format(label=label)
                raise Mismatch(message, diagnosis=diagnosis(message_kind(message), label))
            try:
                compare(_("{label} after the call").format(label=label), after, wanted)
            except Mismatch as mismatch:
                if _momentum_reversed(x, before, after, ex.momentum, label):
                    mismatch.lines.append(_(
                        "    This is momentum * old + (1 - momentum) * batch: in torch, momentum is the weight "
                        "of the NEW batch (the convention of Dive into Deep Learning is the other way round)."))
                raise
    else:
        require_unchanged(_("{name} in evaluation mode").format(name=name), ["running_mean", "running_var"], [mean, var],
                          [mean_after, var_after])
    if spatial and ex.training:
        _one_value_per_channel(ctx, name, ex)
    return returned, dout, grads


def _momentum_reversed(x, before, after, momentum: float, label: str) -> bool:
    """Whether ``after`` is the running statistic updated with the weights swapped, ``momentum``
    kept for the old value (Dive into Deep Learning's convention), with the batch variance biased
    or not. Only names a mistake already found."""
    axes = tuple(a for a in range(x.ndim) if a != 1)
    count = x.size // x.shape[1] if x.ndim > 1 and x.shape[1] else 0
    if (not isinstance(after, np.ndarray) or after.shape != before.shape or momentum in (0.0, 0.5, 1.0)
            or count < 2):
        return False
    stats = [x.mean(axis=axes)] if label == "running_mean" else [x.var(axis=axes), x.var(axis=axes) * count / (count - 1)]
    return any(np.allclose(after, momentum * before + (1 - momentum) * stat, rtol=RECOGNISE_TOL, atol=0.0)
               for stat in stats)


def _one_value_per_channel(ctx: Context, name: str, ex: S.Norm) -> None:
    """Training on a batch with one value per channel (N*H*W == 1, or N == 1 for (N, D)) raises."""
    x, gamma, beta, mean, var, _unused = ex.arrays()
    single = x[(slice(0, 1), slice(None)) + (slice(0, 1),) * (x.ndim - 2)]
    expect_value_error(ctx, f"batchnorm.{name}", (single, gamma, beta, mean, var),
                       {"training": True}, _("training on a batch of shape {shape}").format(shape=single.shape),
                       names=("x", "gamma", "beta", "running_mean", "running_var"))


def _backward(ctx: Context, ex: S.Norm, spatial: bool) -> None:
    name = f"{_prefix(spatial)}_backward"
    returned, dout, grads = _forward(ctx, ex, spatial, judge=False)
    back = ctx.call(f"batchnorm.{name}", dout, ctx.worker.ref(returned, 1), echo_args=True)
    dx, dgamma, dbeta = unpack(back.value, 3, name)
    require_unchanged(name, ["dout"], [dout], back.args_after)
    ctx.worker.release(returned.handle, back.handle)
    tol = batchnorm_tolerance([ex.shape]) if ex.training else DEFAULT_TOL
    compare("dx", dx, grads["x"], tol=tol)
    compare("dgamma", dgamma, grads["gamma"], tol=tol)
    compare("dbeta", dbeta, grads["beta"], tol=tol)


@check("batchnorm.batchnorm_forward_training")
def batchnorm_forward_training(ctx: Context) -> None:
    ctx.for_all(S.norm_examples(spatial=False, training=True), lambda ex: _forward(ctx, ex, False))


@check("batchnorm.batchnorm_forward_eval")
def batchnorm_forward_eval(ctx: Context) -> None:
    ctx.for_all(S.norm_examples(spatial=False, training=False), lambda ex: _forward(ctx, ex, False))


@check("batchnorm.batchnorm_normalised")
def batchnorm_normalised(ctx: Context) -> None:
    def body(ex: S.Norm):
        x, _unused, _unused, mean, var, _unused = ex.arrays()
        ones, zeros = np.ones(ex.channels), np.zeros(ex.channels)
        returned = ctx.call("batchnorm.batchnorm_forward", x, ones, zeros, mean, var, training=True,
                            momentum=ex.momentum, eps=ex.eps)
        out, _unused = unpack(returned.value, 2, "batchnorm_forward")
        ctx.worker.release(returned.handle)
        if not isinstance(out, np.ndarray) or out.shape != x.shape:
            raise Mismatch(_("batchnorm_forward should return an array of shape {shape}").format(shape=x.shape))
        batch_var = x.var(axis=0)
        for label, got, wanted in ((_("mean"), out.mean(axis=0), np.zeros(ex.channels)),
                                   (_("variance"), out.var(axis=0), batch_var / (batch_var + ex.eps))):
            if not np.allclose(got, wanted, rtol=NORMALISED_TOL, atol=NORMALISED_TOL):
                raise Mismatch(_("with gamma = 1 and beta = 0 each feature of the output should have "
                                 "{label} {wanted}, got {got}").format(
                    label=label, wanted=np.round(wanted, 6).tolist(), got=np.round(got, 6).tolist()))

    ctx.for_all(S.norm_examples(spatial=False, training=True), body)


@check("batchnorm.batchnorm_one_value")
def batchnorm_one_value(ctx: Context) -> None:
    ctx.for_all(S.norm_examples(spatial=False, training=True),
                lambda ex: _one_value_per_channel(ctx, "batchnorm_forward", ex), max_examples=5)


@check("batchnorm.batchnorm_backward")
def batchnorm_backward(ctx: Context) -> None:
    ctx.for_all(S.norm_examples(spatial=False), lambda ex: _backward(ctx, ex, False), max_examples=40)


@check("batchnorm.spatial_batchnorm_forward")
def spatial_batchnorm_forward(ctx: Context) -> None:
    ctx.for_all(S.norm_examples(spatial=True), lambda ex: _forward(ctx, ex, True))


@check("batchnorm.spatial_batchnorm_backward")
def spatial_batchnorm_backward(ctx: Context) -> None:
    ctx.for_all(S.norm_examples(spatial=True), lambda ex: _backward(ctx, ex, True))
