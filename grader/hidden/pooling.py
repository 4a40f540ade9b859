"""Hidden checks of ``pooling.py``: larger inputs than the public checks draw."""

from __future__ import annotations

from grader.checks import pooling as public
from grader.checks.harness import examples as S
from grader.checks.harness.base import Context, check


@check("pooling.max_pool2d_large")
def max_pool2d_large(ctx: Context) -> None:
    ctx.for_all(S.pool_examples(max_size=20), lambda ex: public.max_pool2d_backward_example(ctx, ex),
                max_examples=10)
