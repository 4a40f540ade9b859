"""Checks of ``conv.py``."""

from __future__ import annotations

from dataclasses import dataclass

from grader.i18n import _

import numpy as np
from hypothesis import strategies as st

from grader.checks.harness import examples as S
from grader.checks.harness.base import (Context, check, expect_value_error, require_unchanged,
                                unpack)
from grader.checks.harness.metric import Mismatch, compare
from grader.references import conv as ref


@dataclass(frozen=True)
class SizeCase:
    """A call of conv_output_size; ``defaults``: stride=1 and padding=0 left out where they end the call."""
    size: int
    kernel: int
    stride: int
    padding: int
    defaults: bool

    def args(self) -> tuple:
        args = (self.size, self.kernel, self.stride, self.padding)
        while self.defaults and len(args) > 2 and args[-1] == (1, 0)[len(args) - 3]:
            args = args[:-1]   # stride=1 and padding=0 are the documented defaults
        return args

    def describe(self) -> str:
        return f"conv_output_size{self.args()}"


@check("conv.conv_output_size")
def conv_output_size(ctx: Context) -> None:
    def body(case: SizeCase):
        expected = ref.conv_output_size(case.size, case.kernel, case.stride, case.padding)
        args = case.args()
        if expected < 1:
            expect_value_error(ctx, "conv.conv_output_size", args, {},
                               _("{call} (no complete window fits)").format(call=case.describe()),
                               names=("size", "kernel", "stride", "padding"))
            return
        got = ctx.call("conv.conv_output_size", *args).value
        if type(got) is not int or got != expected:
            raise Mismatch(_("{call} returned {got!r}, expected {expected} "
                             "(an int: (size + 2*padding - kernel) // stride + 1)").format(
                call=case.describe(), got=got, expected=expected))

    # Every default left out at least once: conv_output_size(9, 3) and conv_output_size(9, 3, 2); and
    # size 0, where the padding alone holds the windows: (0 + 2*2 - 3) // 1 + 1 = 2, no ValueError.
    ctx.for_all(st.builds(SizeCase, st.integers(1, 40), st.integers(1, 9), st.integers(1, 4), st.integers(0, 3),
                          st.booleans()),
                body, max_examples=60, examples=(SizeCase(9, 3, 1, 0, True), SizeCase(9, 3, 2, 0, True),
                                                 SizeCase(0, 3, 1, 2, False)))


class Layers(list):
    """receptive_field's argument: (kernel, stride) pairs, first layer first."""

    def describe(self) -> str:
        return f"layers={list(self)}"


@check("conv.receptive_field")
def receptive_field(ctx: Context) -> None:
    def body(layers):
        expected = ref.receptive_field(layers)
        held = ctx.worker.keep(list(layers))   # the caller's list, read back after the call
        returned = ctx.call("conv.receptive_field", held)
        got = returned.value
        after = ctx.worker.get(held, depth=3)
        ctx.worker.release(*(h for h in (held.handle, returned.handle, after.handle) if h is not None))
        after = after.value
        if not (isinstance(after, list) and len(after) == len(layers)
                and all(isinstance(item, (list, tuple)) and tuple(item) == tuple(layer)
                        for item, layer in zip(after, layers))):
            raise Mismatch(_("{function} modified its input {name}: a function must not "
                             "change its arguments (use out-of-place operations, or copy first)").format(
                function="receptive_field", name="layers"))
        if type(got) is not int or got != expected:
            raise Mismatch(_("{call} returned {got!r}, expected {expected}").format(
                call=f"receptive_field({list(layers)})", got=got, expected=expected))

    # two 3x3 convolutions see 5x5; LeNet-5's stack of convs and pools
    ctx.for_all(st.lists(st.tuples(st.integers(1, 7), st.integers(1, 3)), min_size=1, max_size=6).map(Layers),
                body, max_examples=60,
                examples=(Layers([(3, 1), (3, 1)]), Layers([(5, 1), (2, 2), (5, 1), (2, 2), (5, 1)])))


def _forward(ctx: Context, ex: S.Conv):
    x, w, b, dout = ex.arrays()
    returned = ctx.call("conv.conv2d_forward", x, w, b, echo_args=True, **ex.kwargs())
    out, _unused = unpack(returned.value, 2, "conv2d_forward")
    require_unchanged("conv2d_forward", ["x", "w", "b"], [x, w, b], returned.args_after)
    return returned, out, (x, w, b, dout)


@check("conv.conv2d_forward")
def conv2d_forward(ctx: Context) -> None:
    def body(ex: S.Conv):
        _unused, out, (x, w, b, _unused) = _forward(ctx, ex)
        expected, _unused = ref.conv2d(x, w, b, ex.stride, ex.padding)
        compare("out", out, expected)

    ctx.for_all(S.conv_examples(), body, examples=ONE_BY_ONE + DEFAULTS_LEFT_OUT + MANY_CHANNELS + WIDE_PADDING)


# More than 256 channels: Python's ints above 256 are distinct objects, so a channel test written
# with `is` instead of `==` refuses them.
MANY_CHANNELS = (S.Conv(1, 300, 3, 3, 2, (2, 2), 1, 0, True, 1.0, 16),)

# Paddings above the drawn 0-2 (any padding >= 0 is allowed), along each axis: the padded array must
# be H + 2*ph by W + 2*pw (a mutant padding with H + 2 + ph passed every drawn example).
WIDE_PADDING = (S.Conv(1, 2, 4, 5, 2, (3, 2), 1, (3, 4), True, 1.0, 17),
                S.Conv(2, 1, 3, 2, 1, (2, 3), (2, 1), 5, False, 1.0, 18))

# The drawn examples leave the arguments at their default out of the call only when a drawn bool
# says so, which the draws may never combine with stride 1: these leave out both, stride alone
# (padding 1 passed) and padding alone (stride 2 passed).
DEFAULTS_LEFT_OUT = (S.Conv(2, 2, 6, 7, 3, (3, 2), 1, 0, True, 1.0, 13, defaults=True),
                     S.Conv(1, 2, 5, 6, 2, (3, 3), 1, 1, False, 1.0, 14, defaults=True),
                     S.Conv(1, 1, 7, 6, 2, (2, 3), 2, 0, True, 1.0, 15, defaults=True))

# 1x1 kernels with a stride along one axis only: the patches are then a strided view, not x itself
# (a shortcut for 1x1 convolutions that tests the strides of one axis only reshapes the wrong size);
# and 1x1 kernels whose patches are the (padded) images themselves, the case such a shortcut takes
# (stride 1, with and without padding, and a stride of 2 along an axis of one pixel), which the draws
# rarely make.
ONE_BY_ONE = (S.Conv(1, 2, 3, 4, 2, (1, 1), (1, 2), 0, True, 1.0, 3),
              S.Conv(1, 2, 4, 3, 2, (1, 1), (2, 1), (1, 0), False, 1.0, 4),
              S.Conv(2, 3, 3, 4, 2, (1, 1), 1, 0, True, 1.0, 19),
              S.Conv(2, 2, 2, 3, 3, (1, 1), 1, (1, 2), False, 1.0, 20),
              S.Conv(2, 2, 1, 4, 3, (1, 1), (2, 1), 0, True, 1.0, 21))


def conv2d_backward_example(ctx: Context, ex: S.Conv) -> None:
    returned, _unused, (x, w, b, dout) = _forward(ctx, ex)
    back = ctx.call("conv.conv2d_backward", dout, ctx.worker.ref(returned, 1), echo_args=True)
    dx, dw, db = unpack(back.value, 3, "conv2d_backward")
    require_unchanged("conv2d_backward", ["dout"], [dout], back.args_after)
    _unused, grads = ref.conv2d(x, w, b, ex.stride, ex.padding, dout)
    compare("dx", dx, grads["x"])
    compare("dw", dw, grads["w"], batch=len(x))
    if b is None:
        if db is not None:
            raise Mismatch(_("db should be None when b is None, got a {type}").format(type=type(db).__name__))
    else:
        compare("db", db, grads["b"], batch=len(x))
    ctx.worker.release(returned.handle, back.handle)


@check("conv.conv2d_backward")
def conv2d_backward(ctx: Context) -> None:
    ctx.for_all(S.conv_examples(), lambda ex: conv2d_backward_example(ctx, ex), examples=ONE_BY_ONE + WIDE_PADDING)


@check("conv.conv2d_arguments")
def conv2d_arguments(ctx: Context) -> None:
    def body(ex: S.Conv):
        x, w, b, _unused = ex.arrays()
        ph = S.pair(ex.padding)[0]
        too_tall = np.ones((ex.f, ex.c, ex.h + 2 * ph + 1, ex.kernel[1]))
        expect_value_error(ctx, "conv.conv2d_forward", (x, too_tall, b),
                           {"stride": ex.stride, "padding": ex.padding},
                           _("a kernel of height {kernel} on an input padded to height {height}").format(
                               kernel=too_tall.shape[2], height=ex.h + 2 * ph),
                           names=("x", "w", "b"))
        expect_value_error(ctx, "conv.conv2d_forward", (x, w, b), {"stride": 0, "padding": ex.padding},
                           "stride=0", names=("x", "w", "b"))

    ctx.for_all(S.conv_examples(), body, max_examples=10)
