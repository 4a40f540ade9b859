"""Hidden checks of ``conv.py``: larger layers than the public checks draw."""

from __future__ import annotations

from grader.checks import conv as public
from grader.checks.harness import examples as S
from grader.checks.harness.base import Context, check


@check("conv.conv2d_large")
def conv2d_large(ctx: Context) -> None:
    ctx.for_all(S.conv_examples(max_size=20, max_channels=6),
                lambda ex: public.conv2d_backward_example(ctx, ex), max_examples=10)
