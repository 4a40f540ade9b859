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


# ---------------------------------------------------------------------------------------
# modules.py and networks.py: layers described by a constructor call, run over several passes
# ---------------------------------------------------------------------------------------

def _arg_text(value) -> str:
    return value.text() if isinstance(value, Spec) else repr(value)


@dataclass(frozen=True)
class Spec:
    """A constructor call, ``cls(*args, **dict(kwargs))``, of a ``modules.py`` class (for
    ``Sequential``, ``args`` are the children's specs). Built on both sides: the torch
    reference and the student's class."""

    cls: str
    args: tuple = ()
    kwargs: tuple = ()   # (name, value) pairs, in the order they are passed

    def text(self) -> str:
        parts = [_arg_text(a) for a in self.args] + [f"{k}={_arg_text(v)}" for k, v in self.kwargs]
        return f"{self.cls}({', '.join(parts)})"

    def walk(self):
        """This spec and every spec nested in it."""
        yield self
        for arg in self.args:
            if isinstance(arg, Spec):
                yield from arg.walk()


@dataclass(frozen=True)
class ModuleExample:
    """One layer, run forward and backward on ``shapes[0]``, then ``shapes[1]`` (another batch
    size), then forward once more on ``shapes[0]``, in evaluation and then training mode."""

    spec: Spec
    shapes: tuple
    scale: float
    seed: int
    zeros: bool = False   # some inputs exactly 0 (ReLU's kink)

    def inputs(self):
        """``[(x, dout_or_None)]`` per pass; the output shapes come from the reference."""
        rng = np.random.default_rng(self.seed)
        xs = []
        for shape in self.shapes:
            x = values(rng, shape, self.scale)
            if self.zeros:
                x[rng.random(shape) < 0.2] = 0.0
            xs.append(x)
        return xs

    def describe(self) -> str:
        shapes = " then ".join(str(tuple(s)) for s in self.shapes)
        zeros = ", some exactly 0" if self.zeros else ""
        return (f"{self.spec.text()}; forward and backward on x {shapes}, then forward on the first "
                f"again; x values {_fmt_scale(self.scale)}{zeros} (seed {self.seed}); "
                f"evaluation mode, then training mode")


def _other_batch(n: int, high: int = 4) -> int:
    return n + 1 if n < high else n - 1


@st.composite
def linear_module_examples(draw):
    n, d_in, d_out = draw(st.integers(1, 4)), draw(st.integers(1, 6)), draw(st.integers(1, 6))
    bias = draw(st.booleans())
    kwargs = () if bias and draw(st.booleans()) else (("bias", bias),)
    return ModuleExample(Spec("Linear", (d_in, d_out), kwargs), ((n, d_in), (_other_batch(n), d_in)),
                         draw(scales), draw(seeds))


@st.composite
def conv_module_examples(draw):
    ex = draw(conv_examples(max_size=7))
    kh, kw = ex.kernel
    kernel = kh if kh == kw and draw(st.booleans()) else (kh, kw)
    kwargs = []
    if ex.stride != 1 or draw(st.booleans()):
        kwargs.append(("stride", ex.stride))
    if ex.padding != 0 or draw(st.booleans()):
        kwargs.append(("padding", ex.padding))
    if not ex.bias or draw(st.booleans()):
        kwargs.append(("bias", ex.bias))
    shape = (ex.n, ex.c, ex.h, ex.w)
    return ModuleExample(Spec("Conv2d", (ex.c, ex.f, kernel), tuple(kwargs)),
                         (shape, (_other_batch(ex.n),) + shape[1:]), ex.scale, ex.seed)


@st.composite
def pool_module_examples(draw, cls: str):
    ex = draw(pool_examples(max_size=7))
    kwargs = []
    if ex.stride is not None or draw(st.booleans()):
        kwargs.append(("stride", ex.stride))
    if ex.padding != 0 or draw(st.booleans()):
        kwargs.append(("padding", ex.padding))
    shape = (ex.n, ex.c, ex.h, ex.w)
    return ModuleExample(Spec(cls, (ex.kernel_size,), tuple(kwargs)),
                         (shape, (_other_batch(ex.n),) + shape[1:]), ex.scale, ex.seed)


@st.composite
def adaptive_module_examples(draw):
    ex = draw(adaptive_examples())
    shape = (ex.n, ex.c, ex.h, ex.w)
    return ModuleExample(Spec("AdaptiveAvgPool2d", (ex.output_size,)),
                         (shape, (_other_batch(ex.n),) + shape[1:]), ex.scale, ex.seed)


def _norm_kwargs(draw) -> tuple:
    kwargs = []
    eps = draw(st.sampled_from((1e-5, 1e-3, 0.5)))
    momentum = draw(st.sampled_from((0.1, 0.0, 1.0, 0.37)))
    if eps != 1e-5 or draw(st.booleans()):
        kwargs.append(("eps", eps))
    if momentum != 0.1 or draw(st.booleans()):
        kwargs.append(("momentum", momentum))
    return tuple(kwargs)


@st.composite
def batchnorm_module_examples(draw, spatial: bool):
    """Training needs 2 or more values per channel; each pass has at least 3 (2 is ill-conditioned)."""
    c = draw(st.integers(1, 4))
    if spatial:
        h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        n = draw(st.integers(max(1, -(-3 // (h * w))), 4))
        n2 = _other_batch(n) if (n - 1) * h * w >= 3 or n < 4 else n
        shapes = ((n, c, h, w), (n2, c, h, w))
    else:
        n = draw(st.integers(3, 6))
        shapes = ((n, c), (_other_batch(n, 6), c))
    cls = "BatchNorm2d" if spatial else "BatchNorm1d"
    return ModuleExample(Spec(cls, (c,), _norm_kwargs(draw)), shapes, draw(scales), draw(seeds))


@st.composite
def elementwise_module_examples(draw, cls: str, min_rank: int = 1):
    rank = draw(st.integers(min_rank, 4))
    shape = tuple(draw(st.integers(1, 5)) for _ in range(rank))
    return ModuleExample(Spec(cls), (shape, (_other_batch(shape[0]),) + shape[1:]), draw(scales),
                         draw(seeds), zeros=cls == "ReLU" and draw(st.booleans()))


@dataclass(frozen=True)
class SeededRng:
    """A ``numpy.random.default_rng(seed)`` argument (the worker builds it)."""

    seed: int

    def __repr__(self) -> str:
        return f"numpy.random.default_rng({self.seed})"


@st.composite
def dropout_module_examples(draw):
    rank = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 5)) for _ in range(rank))
    p = draw(st.sampled_from((0.5, 0.0, 1.0, 0.2, 0.9)))
    seed = draw(seeds)
    return ModuleExample(Spec("Dropout", (p,), (("rng", SeededRng(seed)),)),
                         (shape, (_other_batch(shape[0]),) + shape[1:]), draw(scales), seed)


@st.composite
def sequential_module_examples(draw):
    """Two layouts: a conv stack whose conv bias feeds a BatchNorm2d (its gradient is exactly
    zero in training), and a nested Sequential of dense layers (keys ``0.0.weight``, ...)."""
    if draw(st.booleans()):
        n, c, f = draw(st.integers(2, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        h, w = draw(st.integers(3, 6)), draw(st.integers(3, 6))
        kernel, stride, padding = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(0, 1))
        ho, wo = (h + 2 * padding - kernel) // stride + 1, (w + 2 * padding - kernel) // stride + 1
        pooled = min(2, ho, wo)
        if ho * wo == 1:
            n = 3   # at least 3 values per channel for the training-mode BatchNorm
        out = draw(st.integers(1, 4))
        layers = (Spec("Conv2d", (c, f, kernel), (("stride", stride), ("padding", padding), ("bias", True))),
                  Spec("BatchNorm2d", (f,), _norm_kwargs(draw)), Spec("ReLU"),
                  Spec("AdaptiveAvgPool2d", (pooled,)), Spec("Flatten"),
                  Spec("Linear", (f * pooled * pooled, out)), Spec("Sigmoid"))
        shapes = ((n, c, h, w), (n + 1, c, h, w))
    else:
        n, d, hidden, out = draw(st.integers(3, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 5)), \
            draw(st.integers(1, 4))
        inner = Spec("Sequential", (Spec("Linear", (d, hidden)), Spec("BatchNorm1d", (hidden,), _norm_kwargs(draw))))
        layers = (inner, Spec("ReLU"), Spec("Dropout", (0.0,)), Spec("Linear", (hidden, out), (("bias", False),)))
        shapes = ((n, d), (n + 1, d))
    return ModuleExample(Spec("Sequential", layers), shapes, draw(scales), draw(seeds))


@dataclass(frozen=True)
class BlockExample:
    """A residual block (``BasicBlock`` or ``Bottleneck``) on a batch, in both modes."""

    block: str
    inplanes: int
    planes: int
    stride: int
    downsample: bool
    shape: tuple
    seed: int
    pass_stride: bool = True

    @property
    def expansion(self) -> int:
        return 1 if self.block == "BasicBlock" else 4

    def describe(self) -> str:
        out = self.planes * self.expansion
        down = (f"Sequential(Conv2d({self.inplanes}, {out}, 1, stride={self.stride}, bias=False), "
                f"BatchNorm2d({out}))") if self.downsample else "None"
        stride = f", stride={self.stride}" if self.pass_stride else ""
        return (f"{self.block}({self.inplanes}, {self.planes}{stride}, downsample={down}); x {self.shape} "
                f"standard normal (seed {self.seed}); evaluation mode, then training mode")


@st.composite
def block_examples(draw, block: str):
    expansion = 1 if block == "BasicBlock" else 4
    planes = draw(st.integers(1, 4 if expansion == 1 else 2))
    stride = draw(st.sampled_from((1, 2)))
    inplanes = draw(st.integers(1, 6))
    if draw(st.booleans()):
        inplanes = planes * expansion
    needed = stride != 1 or inplanes != planes * expansion
    downsample = needed or draw(st.booleans())
    shape = (draw(st.integers(2, 3)), inplanes, draw(st.integers(3, 6)), draw(st.integers(3, 6)))
    return BlockExample(block, inplanes, planes, stride, downsample, shape, draw(seeds),
                        pass_stride=stride != 1 or draw(st.booleans()))
