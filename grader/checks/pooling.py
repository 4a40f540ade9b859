"""Checks of ``pooling.py``."""

from __future__ import annotations

from grader.i18n import _

import numpy as np

from grader.checks.harness import examples as S
from grader.checks.harness.base import Context, check, expect_value_error, require_unchanged, unpack
from grader.checks.harness.metric import NO_GRADIENT_SHARE, ROUND_OFF_TOL, Mismatch, compare, require_array
from grader.references import pooling as ref


def _pool_args(ex: S.Pool) -> dict:
    return ex.kwargs()


def _bad_arguments(ctx: Context, name: str, ex: S.Pool, x) -> None:
    """The contract's ValueErrors: a padding above half the kernel and a kernel larger than
    the padded input (each along one axis, chosen by the seed), and a non-positive stride."""
    target = f"pooling.{name}_forward"
    names = ("x", "kernel_size")
    (kh, kw), (ph, pw) = S.pair(ex.kernel_size), S.pair(ex.padding)
    # One axis at a time (chosen by the seed): a check of one axis only must fail.
    wide = (kh // 2 + 1, pw) if ex.seed % 2 else (ph, kw // 2 + 1)
    expect_value_error(ctx, target, (x, ex.kernel_size), {"stride": ex.stride, "padding": wide},
                       _("padding larger than half the kernel"), names=names)
    tall = (ex.h + 2 * ph + 1, kw) if ex.seed % 2 else (kh, ex.w + 2 * pw + 1)
    expect_value_error(ctx, target, (x, tall), {"stride": ex.stride, "padding": ex.padding},
                       _("a kernel of {kernel} on an input padded to {padded}").format(
                           kernel=tall, padded=(ex.h + 2 * ph, ex.w + 2 * pw)), names=names)
    stride = (0, 1) if ex.seed % 3 == 0 else (1, 0) if ex.seed % 3 == 1 else -1
    expect_value_error(ctx, target, (x, ex.kernel_size), {"stride": stride, "padding": ex.padding},
                       f"stride={stride!r}", names=names)


def _run(ctx: Context, name: str, x, dout, *args, **kwargs):
    """Forward then backward in the worker; returns ``(out, dx)`` after checking inputs survive."""
    forward = ctx.call(f"pooling.{name}_forward", x, *args, echo_args=True, **kwargs)
    out, _unused = unpack(forward.value, 2, f"{name}_forward")
    require_unchanged(f"{name}_forward", ["x"], [x], forward.args_after)
    if dout is None:
        ctx.worker.release(forward.handle)
        return out, None
    backward = ctx.call(f"pooling.{name}_backward", dout, ctx.worker.ref(forward, 1), echo_args=True)
    require_unchanged(f"{name}_backward", ["dout"], [dout], backward.args_after)
    ctx.worker.release(forward.handle, backward.handle)
    return out, backward.value


@check("pooling.max_pool2d_forward")
def max_pool2d_forward(ctx: Context) -> None:
    def body(ex: S.Pool):
        x, _unused = ex.arrays()
        out, _unused = _run(ctx, "max_pool2d", x, None, ex.kernel_size, **_pool_args(ex))
        compare("out", out, ref.max_pool2d(x, ex.kernel_size, ex.stride or ex.kernel_size, ex.padding)[0])
        _bad_arguments(ctx, "max_pool2d", ex, x)

    ctx.for_all(S.pool_examples(), body, examples=DEFAULTS_LEFT_OUT)


# The drawn examples leave the arguments at their default out of the call only when a drawn bool
# says so, which the draws may never combine with stride=None: these leave out both, and stride
# alone (padding 1 passed).
DEFAULTS_LEFT_OUT = (S.Pool(2, 2, 6, 7, 2, None, 0, 1.0, 11, defaults=True),
                     S.Pool(1, 2, 7, 6, (3, 2), None, 1, 1.0, 12, defaults=True))


def max_pool2d_backward_example(ctx: Context, ex: S.Pool) -> None:
    x, dout = ex.arrays()
    _unused, dx = _run(ctx, "max_pool2d", x, dout, ex.kernel_size, **_pool_args(ex))
    require_array("dx", dx, x)
    lost = np.abs(dx.sum(axis=(2, 3)) - dout.sum(axis=(2, 3))).max()
    if lost > ROUND_OFF_TOL * max(1.0, np.abs(dout).sum()):
        raise Mismatch(_("the gradient is not conserved: each window's gradient must reach the input "
                         "whole, but sum(dx) and sum(dout) differ by {lost:.3g} in some channel "
                         "(overwritten instead of accumulated where windows overlap?)").format(lost=lost))
    expected = ref.max_pool2d(x, ex.kernel_size, ex.stride or ex.kernel_size, ex.padding, dout)[1]["x"]
    compare("dx", dx, expected, regions=_overlaps(ex))


@check("pooling.max_pool2d_backward")
def max_pool2d_backward(ctx: Context) -> None:
    ctx.for_all(S.pool_examples(overlapping=True), lambda ex: max_pool2d_backward_example(ctx, ex),
                max_examples=15)
    ctx.for_all(S.pool_examples(overlapping="one axis"), lambda ex: max_pool2d_backward_example(ctx, ex),
                max_examples=15, examples=ONE_AXIS_OVERLAP)
    ctx.for_all(S.pool_examples(), lambda ex: max_pool2d_backward_example(ctx, ex), max_examples=15)


# Windows overlapping down the rows only, then along the columns only: the middle element is the
# maximum of two windows (x = [0, 1, 0] gives dx = [0, 2, 0] for dout = [1, 1]).
ONE_AXIS_OVERLAP = (S.Pool(1, 1, 3, 2, (2, 1), (1, 1), 0, 1.0, 5), S.Pool(1, 1, 2, 3, (1, 2), (1, 1), 0, 1.0, 5))


@check("pooling.max_pool2d_ties")
def max_pool2d_ties(ctx: Context) -> None:
    def body(ex: S.Pool):
        x, dout = ex.arrays()
        _unused, dx = _run(ctx, "max_pool2d", x, dout, ex.kernel_size, **_pool_args(ex))
        require_array("dx", dx, x)
        _check_whole_gradient_to_one_maximum(x, dout, dx, ex)

    ctx.for_all(S.pool_examples(overlapping=False, ties=True), body)


def _check_whole_gradient_to_one_maximum(x, dout, dx, ex: S.Pool) -> None:
    """Windows do not overlap here, so each window's share of dx can be read off alone."""
    (kh, kw), (ph, pw) = S.pair(ex.kernel_size), S.pair(ex.padding)
    sh, sw = S.pair(ex.stride or ex.kernel_size)
    covered = np.zeros(x.shape, dtype=bool)
    for n, c, i, j in np.ndindex(dout.shape):
        rows = slice(max(i * sh - ph, 0), min(i * sh - ph + kh, x.shape[2]))
        cols = slice(max(j * sw - pw, 0), min(j * sw - pw + kw, x.shape[3]))
        covered[n, c, rows, cols] = True
        window, grad = x[n, c, rows, cols], dx[n, c, rows, cols]
        receivers = np.argwhere(np.abs(grad) > NO_GRADIENT_SHARE * max(1.0, abs(dout[n, c, i, j])))
        where = _("window {window} (rows {r0}..{r1}, cols {c0}..{c1})").format(
            window=[n, c, i, j], r0=rows.start, r1=rows.stop - 1, c0=cols.start, c1=cols.stop - 1)
        if len(receivers) != 1:
            raise Mismatch(_("{where}: its gradient should go to exactly one element, "
                             "but {count} elements received some").format(where=where, count=len(receivers)),
                           _shown(window, grad))
        r, s = receivers[0]
        if window[r, s] != window.max() or abs(grad[r, s] - dout[n, c, i, j]) > ROUND_OFF_TOL * max(1.0, abs(dout[n, c, i, j])):
            raise Mismatch(_("{where}: the whole gradient {gradient:.6g} should go to a maximal "
                             "element, got {got:.6g} at a value {value:g} "
                             "(the window's maximum is {maximum:g})").format(
                where=where, gradient=dout[n, c, i, j], got=grad[r, s], value=window[r, s], maximum=window.max()),
                           _shown(window, grad))
    stray = np.abs(dx[~covered])
    if stray.size and stray.max() > 0:
        raise Mismatch(_("dx is non-zero at elements that lie in no pooling window"))


def _overlaps(ex: S.Pool) -> dict:
    """Where windows overlap (an input element in more than one window), the region a
    gradient written with = instead of += is wrong in: it names the pattern of a departure."""
    (kh, kw), (ph, pw) = S.pair(ex.kernel_size), S.pair(ex.padding)
    (sh, sw) = S.pair(ex.kernel_size if ex.stride is None else ex.stride)
    windows = np.zeros((ex.h + 2 * ph, ex.w + 2 * pw), dtype=int)
    for i in range(ex.out_hw[0]):
        for j in range(ex.out_hw[1]):
            windows[i * sh:i * sh + kh, j * sw:j * sw + kw] += 1
    return {"where windows overlap": windows[ph:ph + ex.h, pw:pw + ex.w] > 1}


def _shown(window, grad) -> list[str]:
    """A failing window's values and the student's dx there (printed only when one fails)."""
    return [_("    window values:\n{values}").format(values=_indent(window)),
            _("    your dx there:\n{values}").format(values=_indent(grad))]


def _indent(array) -> str:
    return "\n".join("      " + line for line in np.array2string(array).splitlines())


@check("pooling.avg_pool2d_forward")
def avg_pool2d_forward(ctx: Context) -> None:
    def body(ex: S.Pool):
        x, _unused = ex.arrays()
        out, _unused = _run(ctx, "avg_pool2d", x, None, ex.kernel_size, **_pool_args(ex))
        compare("out", out, ref.avg_pool2d(x, ex.kernel_size, ex.stride or ex.kernel_size, ex.padding)[0])
        _bad_arguments(ctx, "avg_pool2d", ex, x)

    ctx.for_all(S.pool_examples(), body, examples=DEFAULTS_LEFT_OUT)


@check("pooling.avg_pool2d_backward")
def avg_pool2d_backward(ctx: Context) -> None:
    def body(ex: S.Pool):
        x, dout = ex.arrays()
        _unused, dx = _run(ctx, "avg_pool2d", x, dout, ex.kernel_size, **_pool_args(ex))
        compare("dx", dx, ref.avg_pool2d(x, ex.kernel_size, ex.stride or ex.kernel_size, ex.padding,
                                         dout)[1]["x"], regions=_overlaps(ex))

    ctx.for_all(S.pool_examples(), body)
    ctx.for_all(S.pool_examples(overlapping="one axis"), body, max_examples=10)


@check("pooling.adaptive_avg_pool2d_forward")
def adaptive_avg_pool2d_forward(ctx: Context) -> None:
    def body(ex: S.Adaptive):
        x, _unused = ex.arrays()
        forward = ctx.call("pooling.adaptive_avg_pool2d_forward", x, ex.output_size, echo_args=True)
        out, _unused = unpack(forward.value, 2, "adaptive_avg_pool2d_forward")
        require_unchanged("adaptive_avg_pool2d_forward", ["x"], [x], forward.args_after)
        ctx.worker.release(forward.handle)
        compare("out", out, ref.adaptive_avg_pool2d(x, ex.output_size)[0])

    ctx.for_all(S.adaptive_examples(none_entries=True), body, examples=NONE_ENTRIES)


# A None entry on each axis in turn, the other an int (not the input's size): the drawn
# examples may not combine them.
NONE_ENTRIES = (S.Adaptive(1, 2, 7, 5, (None, 3), 1.0, 21), S.Adaptive(2, 1, 6, 9, (4, None), 1.0, 22))


@check("pooling.adaptive_avg_pool2d_backward")
def adaptive_avg_pool2d_backward(ctx: Context) -> None:
    def body(ex: S.Adaptive):
        x, dout = ex.arrays()
        forward = ctx.call("pooling.adaptive_avg_pool2d_forward", x, ex.output_size)
        unpack(forward.value, 2, "adaptive_avg_pool2d_forward")
        backward = ctx.call("pooling.adaptive_avg_pool2d_backward", dout, ctx.worker.ref(forward, 1),
                            echo_args=True)
        require_unchanged("adaptive_avg_pool2d_backward", ["dout"], [dout], backward.args_after)
        ctx.worker.release(forward.handle, backward.handle)
        compare("dx", backward.value, ref.adaptive_avg_pool2d(x, ex.output_size, dout)[1]["x"])

    ctx.for_all(S.adaptive_examples(none_entries=True), body, examples=NONE_ENTRIES)
