"""Hidden checks of ``pooling.py``: larger inputs, kernels and paddings than the public checks draw."""

from __future__ import annotations

from grader.checks import pooling as public
from grader.checks.harness import examples as S
from grader.checks.harness.base import Context, check
from grader.checks.harness.metric import compare
from grader.references import pooling as ref


@check("pooling.max_pool2d_large")
def max_pool2d_large(ctx: Context) -> None:
    ctx.for_all(S.pool_examples(max_size=20), lambda ex: public.max_pool2d_backward_example(ctx, ex),
                max_examples=10)
    ctx.for_all(S.pool_examples(kernels=S.large_kernels, max_size=20, max_channels=4),
                lambda ex: public.max_pool2d_backward_example(ctx, ex), max_examples=10, examples=LARGE_KERNELS)


# A 17x17 kernel (289 elements), a 3x100 one and a 1x257 one (the first size whose last offset,
# 256, does not fit in a uint8), each window's maximum at its last element.
LARGE_KERNELS = (S.Pool(1, 1, 17, 17, 17, None, 0, 1.0, 0, max_last=True),
                 S.Pool(1, 2, 3, 100, (3, 100), 1, 0, 1.0, 1, max_last=True),
                 S.Pool(1, 1, 1, 257, (1, 257), None, 0, 1.0, 2, max_last=True))


@check("pooling.avg_pool2d_large")
def avg_pool2d_large(ctx: Context) -> None:
    def body(ex: S.Pool):
        x, dout = ex.arrays()
        out, dx = public._run(ctx, "avg_pool2d", x, dout, ex.kernel_size, **ex.kwargs())
        expected, grads = ref.avg_pool2d(x, ex.kernel_size, ex.stride or ex.kernel_size, ex.padding, dout)
        compare("out", out, expected)
        compare("dx", dx, grads["x"])

    ctx.for_all(S.pool_examples(kernels=S.large_kernels, max_size=20), body, max_examples=10)
