"""Hypothesis strategies for the examples the checks draw.

An example is a small frozen dataclass of sizes, hyper-parameters, a value scale
and a seed; its arrays are made from the seed with NumPy, so hypothesis shrinks
the sizes and settings (what a student needs to see) rather than thousands of
floats. ``describe()`` is the line shown for a failing example.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

SCALES = (1.0, 1e-3, 1e3)
seeds = st.integers(0, 2**16)
scales = st.sampled_from(SCALES)


def pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def int_or_pair(low: int, high: int):
    """An int, or an (h, w) pair (as a tuple) with possibly different entries."""
    return st.one_of(st.integers(low, high),
                     st.tuples(st.integers(low, high), st.integers(low, high)))


def values(rng, shape, scale: float = 1.0) -> np.ndarray:
    return rng.standard_normal(shape) * scale


def _fmt_scale(scale: float) -> str:
    return "standard normal" if scale == 1.0 else f"standard normal × {scale:g}"


@dataclass(frozen=True)
class Conv:
    n: int
    c: int
    h: int
    w: int
    f: int
    kernel: tuple
    stride: object
    padding: object
    bias: bool
    scale: float
    seed: int

    @property
    def out_hw(self):
        (sh, sw), (ph, pw) = pair(self.stride), pair(self.padding)
        kh, kw = self.kernel
        return (self.h + 2 * ph - kh) // sh + 1, (self.w + 2 * pw - kw) // sw + 1

    def arrays(self):
        rng = np.random.default_rng(self.seed)
        x = values(rng, (self.n, self.c, self.h, self.w), self.scale)
        w = values(rng, (self.f, self.c) + tuple(self.kernel))
        b = values(rng, (self.f,)) if self.bias else None
        dout = values(rng, (self.n, self.f) + self.out_hw)
        return x, w, b, dout

    def describe(self) -> str:
        b = f"b {(self.f,)}" if self.bias else "b None"
        return (f"x {(self.n, self.c, self.h, self.w)}, w {(self.f, self.c) + tuple(self.kernel)}, {b}, "
                f"stride={self.stride!r}, padding={self.padding!r}; x values {_fmt_scale(self.scale)} "
                f"(seed {self.seed}); output {(self.n, self.f) + self.out_hw}")


@st.composite
def conv_examples(draw, max_size: int = 9, max_channels: int = 3):
    n = draw(st.integers(1, 3))
    c, f = draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    h, w = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    padding = draw(int_or_pair(0, 2))
    ph, pw = pair(padding)
    kernel = (draw(st.integers(1, min(h + 2 * ph, 5))), draw(st.integers(1, min(w + 2 * pw, 5))))
    stride = draw(int_or_pair(1, 3))
    return Conv(n, c, h, w, f, kernel, stride, padding, draw(st.booleans()), draw(scales), draw(seeds))


@dataclass(frozen=True)
class Pool:
    n: int
    c: int
    h: int
    w: int
    kernel_size: object
    stride: object
    padding: object
    scale: float
    seed: int
    ties: bool = False

    @property
    def out_hw(self):
        (kh, kw) = pair(self.kernel_size)
        (sh, sw) = pair(self.kernel_size if self.stride is None else self.stride)
        (ph, pw) = pair(self.padding)
        return (self.h + 2 * ph - kh) // sh + 1, (self.w + 2 * pw - kw) // sw + 1

    def arrays(self):
        rng = np.random.default_rng(self.seed)
        shape = (self.n, self.c, self.h, self.w)
        x = (rng.integers(-1, 2, shape).astype(np.float64) if self.ties else values(rng, shape)) * self.scale
        dout = values(rng, (self.n, self.c) + self.out_hw)
        return x, dout

    def describe(self) -> str:
        kind = "small integers (with ties)" if self.ties else _fmt_scale(self.scale)
        return (f"x {(self.n, self.c, self.h, self.w)}, kernel_size={self.kernel_size!r}, "
                f"stride={self.stride!r}, padding={self.padding!r}; x values {kind} (seed {self.seed}); "
                f"output {(self.n, self.c) + self.out_hw}")


@st.composite
def pool_examples(draw, overlapping: bool | None = None, ties: bool = False, max_size: int = 9):
    """``overlapping=False`` keeps stride >= kernel (windows never share an element)."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel_size = draw(int_or_pair(1, 4))
    kh, kw = pair(kernel_size)
    padding = draw(st.one_of(st.integers(0, min(kh, kw) // 2),
                             st.tuples(st.integers(0, kh // 2), st.integers(0, kw // 2))))
    ph, pw = pair(padding)
    h = draw(st.integers(max(1, kh - 2 * ph), max_size))
    w = draw(st.integers(max(1, kw - 2 * pw), max_size))
    if overlapping is False:
        stride = draw(st.one_of(st.none(), st.tuples(st.integers(kh, kh + 2), st.integers(kw, kw + 2))))
    elif overlapping is True:
        stride = draw(st.tuples(st.integers(1, max(1, kh - 1)), st.integers(1, max(1, kw - 1))))
    else:
        stride = draw(st.one_of(st.none(), int_or_pair(1, 3)))
    return Pool(n, c, h, w, kernel_size, stride, padding, draw(scales), draw(seeds), ties)


@dataclass(frozen=True)
class Adaptive:
    n: int
    c: int
    h: int
    w: int
    output_size: object
    scale: float
    seed: int

    @property
    def out_hw(self):
        return pair(self.output_size)

    def arrays(self):
        rng = np.random.default_rng(self.seed)
        x = values(rng, (self.n, self.c, self.h, self.w), self.scale)
        return x, values(rng, (self.n, self.c) + self.out_hw)

    def describe(self) -> str:
        return (f"x {(self.n, self.c, self.h, self.w)}, output_size={self.output_size!r}; "
                f"x values {_fmt_scale(self.scale)} (seed {self.seed})")


@st.composite
def adaptive_examples(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 10)), draw(st.integers(1, 10))
    output_size = draw(st.one_of(st.integers(1, min(h, w)),
                                 st.tuples(st.integers(1, h), st.integers(1, w))))
    return Adaptive(n, c, h, w, output_size, draw(scales), draw(seeds))


@dataclass(frozen=True)
class Norm:
    shape: tuple
    training: bool
    momentum: float
    eps: float
    scale: float
    seed: int

    @property
    def channels(self) -> int:
        return self.shape[1]

    def arrays(self):
        rng = np.random.default_rng(self.seed)
        x = values(rng, self.shape, self.scale) + rng.standard_normal(self.channels).reshape(
            (1, -1) + (1,) * (len(self.shape) - 2)) * self.scale
        gamma = rng.standard_normal(self.channels)
        beta = rng.standard_normal(self.channels)
        running_mean = rng.standard_normal(self.channels)
        running_var = rng.uniform(0.5, 2.0, self.channels)
        dout = values(rng, self.shape)
        return x, gamma, beta, running_mean, running_var, dout

    def describe(self) -> str:
        mode = "training" if self.training else "evaluation"
        return (f"x {self.shape}, {mode} mode, momentum={self.momentum!r}, eps={self.eps!r}; "
                f"x values {_fmt_scale(self.scale)} (seed {self.seed})")


def norm_examples(spatial: bool, training: bool | None = None):
    """Batches with at least 2 values per channel in training (one value raises ValueError)."""
    @st.composite
    def build(draw):
        mode = draw(st.booleans()) if training is None else training
        n = draw(st.integers(1 if not mode else 2, 6))
        c = draw(st.integers(1, 4))
        shape = (n, c, draw(st.integers(1, 4)), draw(st.integers(1, 4))) if spatial else (n, c)
        return Norm(shape, mode, draw(st.sampled_from((0.1, 0.0, 1.0, 0.37))),
                    draw(st.sampled_from((1e-5, 1e-3, 0.5))), draw(scales), draw(seeds))
    return build()


@dataclass(frozen=True)
class Dense:
    shape: tuple
    scale: float
    seed: int
    extra: object = None

    def arrays(self, count: int = 2):
        rng = np.random.default_rng(self.seed)
        return tuple(values(rng, self.shape, self.scale if i == 0 else 1.0) for i in range(count))

    def describe(self) -> str:
        extra = f", {self.extra}" if self.extra is not None else ""
        return f"x {self.shape}{extra}; x values {_fmt_scale(self.scale)} (seed {self.seed})"


@st.composite
def dense_examples(draw, ndim: int | None = None, extra=st.none()):
    rank = draw(st.integers(1, 4)) if ndim is None else ndim
    shape = tuple(draw(st.integers(1, 6)) for _ in range(rank))
    return Dense(shape, draw(scales), draw(seeds), draw(extra))
