"""The examples the checks draw, every part's, and their hypothesis strategies.

An example is a small frozen dataclass of sizes, hyper-parameters, a value scale
and a seed; its arrays are made from the seed with NumPy, so hypothesis shrinks
the sizes and settings (what a student needs to see) rather than thousands of
floats. ``describe()`` is the line shown for a failing example.
"""

from __future__ import annotations

from grader.i18n import _

import math
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
    return _("standard normal") if scale == 1.0 else _("standard normal × {scale:g}").format(scale=scale)


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
    defaults: bool = False   # stride 1 and padding 0 left out of the call (their defaults)

    def kwargs(self) -> dict:
        given = {"stride": self.stride, "padding": self.padding}
        return {k: v for k, v in given.items() if not self.defaults or v != CONV_DEFAULTS[k]}

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
        return _("x {x}, w {w}, {b}, stride={stride!r}, padding={padding!r}; x values {values} "
                 "(seed {seed}); output {out}").format(
            x=(self.n, self.c, self.h, self.w), w=(self.f, self.c) + tuple(self.kernel), b=b, stride=self.stride,
            padding=self.padding, values=_fmt_scale(self.scale), seed=self.seed, out=(self.n, self.f) + self.out_hw) \
            + defaults_note(self.defaults and self.kwargs() != {"stride": self.stride, "padding": self.padding})


CONV_DEFAULTS = {"stride": 1, "padding": 0}


@st.composite
def conv_examples(draw, max_size: int = 9, max_channels: int = 3):
    n = draw(st.integers(1, 3))
    c, f = draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    h, w = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    padding = draw(int_or_pair(0, 2))
    ph, pw = pair(padding)
    kernel = (draw(st.integers(1, min(h + 2 * ph, 5))), draw(st.integers(1, min(w + 2 * pw, 5))))
    stride = draw(int_or_pair(1, 3))
    return Conv(n, c, h, w, f, kernel, stride, padding, draw(st.booleans()), draw(scales), draw(seeds),
                defaults=draw(st.booleans()))


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
    defaults: bool = False   # stride None and padding 0 left out of the call (their defaults)
    max_last: bool = False   # x increasing along each row of the image: a window's maximum is its last element

    def kwargs(self) -> dict:
        """The call's keyword arguments: all of them, or only those not at their default."""
        given = {"stride": self.stride, "padding": self.padding}
        return {k: v for k, v in given.items() if not self.defaults or v != POOL_DEFAULTS[k]}

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
        if self.max_last:
            x = np.sort(x.reshape(self.n, self.c, -1), axis=-1).reshape(shape)
        dout = values(rng, (self.n, self.c) + self.out_hw)
        return x, dout

    def describe(self) -> str:
        kind = _("small integers (with ties)") if self.ties else _fmt_scale(self.scale)
        if self.max_last:
            kind = _("{values}, sorted in increasing order (row by row)").format(values=kind)
        return _("x {x}, kernel_size={kernel_size!r}, stride={stride!r}, padding={padding!r}; x values {values} "
                 "(seed {seed}); output {out}").format(
            x=(self.n, self.c, self.h, self.w), kernel_size=self.kernel_size, stride=self.stride,
            padding=self.padding, values=kind, seed=self.seed, out=(self.n, self.c) + self.out_hw) \
            + defaults_note(self.defaults and self.kwargs() != {"stride": self.stride, "padding": self.padding})


POOL_DEFAULTS = {"stride": None, "padding": 0}


def defaults_note(left_out: bool) -> str:
    """Said of an example whose call leaves the arguments at their documented default out."""
    return _("; the arguments at their default value left out of the call") if left_out else ""


def _axis_stride(draw, kernel: int, overlap: bool) -> int:
    """A stride along one axis: below the kernel (windows overlap) or from it up (they do not)."""
    return draw(st.integers(1, kernel - 1)) if overlap else draw(st.integers(kernel, kernel + 2))


@st.composite
def pool_examples(draw, overlapping: bool | str | None = None, ties: bool = False, max_size: int = 9,
                  kernels=None, max_channels: int = 3):
    """``overlapping=False`` keeps stride >= kernel (windows never share an element); ``"one axis"``
    makes windows overlap along one axis only (rows or columns, drawn), touching or apart along
    the other. ``kernels`` draws the ``kernel_size`` (default: 1 to 4 per axis). Padding is drawn
    up to half the kernel, per axis, as the contract allows."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, max_channels))
    if overlapping == "one axis":
        overlap_rows = draw(st.booleans())
        long, short = draw(st.integers(2, 4)), draw(st.integers(1, 4))
        kernel_size = (long, short) if overlap_rows else (short, long)
    else:
        kernel_size = draw(int_or_pair(1, 4) if kernels is None else kernels)
    kh, kw = pair(kernel_size)
    padding = draw(st.one_of(st.integers(0, min(kh, kw) // 2),
                             st.tuples(st.integers(0, kh // 2), st.integers(0, kw // 2))))
    ph, pw = pair(padding)
    h = draw(st.integers(max(1, kh - 2 * ph), max(max_size, kh - 2 * ph)))
    w = draw(st.integers(max(1, kw - 2 * pw), max(max_size, kw - 2 * pw)))
    if overlapping == "one axis":
        stride = (_axis_stride(draw, kh, overlap_rows), _axis_stride(draw, kw, not overlap_rows))
    elif overlapping is False:
        stride = draw(st.one_of(st.none(), st.tuples(st.integers(kh, kh + 2), st.integers(kw, kw + 2))))
    elif overlapping is True:
        stride = draw(st.tuples(st.integers(1, max(1, kh - 1)), st.integers(1, max(1, kw - 1))))
    else:
        stride = draw(st.one_of(st.none(), int_or_pair(1, 3)))
    return Pool(n, c, h, w, kernel_size, stride, padding, draw(scales), draw(seeds), ties,
                defaults=draw(st.booleans()))


# Kernels of more than 256 elements (an argmax kept in uint8 wraps round), long thin ones, and
# ones wide enough for a padding of 3 or 4 (half the kernel): hidden checks, as they are slow.
large_kernels = st.one_of(
    st.tuples(st.integers(16, 18), st.integers(16, 18)),
    st.tuples(st.integers(1, 3), st.integers(86, 100)),
    st.tuples(st.integers(86, 100), st.integers(1, 3)),
    st.tuples(st.integers(5, 8), st.integers(5, 8)),
)


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
        ho, wo = pair(self.output_size)
        return (self.h if ho is None else ho, self.w if wo is None else wo)

    def arrays(self):
        rng = np.random.default_rng(self.seed)
        x = values(rng, (self.n, self.c, self.h, self.w), self.scale)
        return x, values(rng, (self.n, self.c) + self.out_hw)

    def describe(self) -> str:
        return _("x {x}, output_size={output_size!r}; x values {values} (seed {seed})").format(
            x=(self.n, self.c, self.h, self.w), output_size=self.output_size, values=_fmt_scale(self.scale),
            seed=self.seed)


@st.composite
def adaptive_examples(draw, none_entries=False):
    """``none_entries``: an entry of the pair may be None (the input's size on that axis),
    as the docstring of adaptive_avg_pool2d_forward allows."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 10)), draw(st.integers(1, 10))

    def entry(size):
        return st.one_of(st.none(), st.integers(1, size)) if none_entries else st.integers(1, size)

    output_size = draw(st.one_of(st.integers(1, min(h, w)), st.tuples(entry(h), entry(w))))
    return Adaptive(n, c, h, w, output_size, draw(scales), draw(seeds))


@dataclass(frozen=True)
class Norm:
    shape: tuple
    training: bool
    momentum: float
    eps: float
    scale: float
    seed: int
    defaults: bool = False   # training=True, momentum=0.1 and eps=1e-5 left out of the call

    @property
    def channels(self) -> int:
        return self.shape[1]

    def kwargs(self) -> dict:
        given = {"training": self.training, "momentum": self.momentum, "eps": self.eps}
        return {k: v for k, v in given.items() if not self.defaults or v != NORM_DEFAULTS[k]}

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
        return _("x {shape}, {mode}, momentum={momentum!r}, eps={eps!r}; x values {values} (seed {seed})").format(
            shape=self.shape, mode=mode_name("train" if self.training else "eval"), momentum=self.momentum,
            eps=self.eps, values=_fmt_scale(self.scale), seed=self.seed) \
            + defaults_note(self.defaults and len(self.kwargs()) < 3)


NORM_DEFAULTS = {"training": True, "momentum": 0.1, "eps": 1e-5}


def norm_examples(spatial: bool, training: bool | None = None):
    """Batches with at least 2 values per channel in training (one value raises ValueError)."""
    @st.composite
    def build(draw):
        mode = draw(st.booleans()) if training is None else training
        n = draw(st.integers(1 if not mode else 2, 6))
        c = draw(st.integers(1, 4))
        shape = (n, c, draw(st.integers(1, 4)), draw(st.integers(1, 4))) if spatial else (n, c)
        return Norm(shape, mode, draw(st.sampled_from((0.1, 0.0, 1.0, 0.37))),
                    draw(st.sampled_from((1e-5, 1e-3, 0.5))), draw(scales), draw(seeds),
                    defaults=draw(st.booleans()))
    return build()


@dataclass(frozen=True)
class Dense:
    """Arrays of ``shape`` (the first one scaled by ``scale``); into the first, ``zeros`` is the
    share of values set to exactly 0 and ``extremes`` sets its first two values to +-1000."""

    shape: tuple
    scale: float
    seed: int
    extra: object = None
    zeros: float = 0.0
    extremes: bool = False

    def arrays(self, count: int = 2):
        rng = np.random.default_rng(self.seed)
        arrays = [values(rng, self.shape, self.scale if i == 0 else 1.0) for i in range(count)]
        if self.zeros:
            arrays[0] = np.where(np.random.default_rng(self.seed + 1).random(self.shape) < self.zeros,
                                 0.0, arrays[0])
        if self.extremes:
            flat = arrays[0].reshape(-1)
            flat[: min(2, flat.size)] = EXTREMES[: min(2, flat.size)]
        return tuple(arrays)

    def injected(self) -> str:
        """What was put into x on top of its random values, as it is."""
        if self.zeros:
            x = self.arrays(1)[0]
            return _(", then {count} of {size} set to exactly 0").format(count=int((x == 0).sum()), size=x.size)
        if self.extremes:
            shown = EXTREMES[: min(2, math.prod(self.shape))]
            values = ', '.join(f'{v:g}' for v in shown)
            return (_(", then the first two values set to {values}") if len(shown) == 2 else
                    _(", then the first value set to {values}")).format(values=values)
        return ""

    def describe(self) -> str:
        extra = f", {self.extra}" if self.extra is not None else ""
        return _("x {shape}{extra}; x values {values} (seed {seed}){injected}").format(
            shape=self.shape, extra=extra, values=_fmt_scale(self.scale), seed=self.seed, injected=self.injected())


EXTREMES = (1000.0, -1000.0)


@st.composite
def dense_examples(draw, ndim: int | None = None, extra=st.none(), zeros: float = 0.0, extremes: bool = False):
    rank = draw(st.integers(1, 4)) if ndim is None else ndim
    shape = tuple(draw(st.integers(1, 6)) for _unused in range(rank))
    return Dense(shape, draw(scales), draw(seeds), draw(extra), zeros=zeros, extremes=extremes)


# ---------------------------------------------------------------------------------------
# layers.py
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LinearExample(Dense):
    """``extra`` is ``(d_out, bias)``."""

    def arrays(self):
        d_out, bias = self.extra
        rng = np.random.default_rng(self.seed)
        x = values(rng, self.shape, self.scale)
        w = values(rng, (d_out, self.shape[1]))
        b = values(rng, (d_out,)) if bias else None
        return x, w, b, values(rng, (self.shape[0], d_out))

    def describe(self) -> str:
        d_out, bias = self.extra
        b = f"b {(d_out,)}" if bias else "b None"
        return _("x {shape}, w {w}, {b}; x values {values} (seed {seed})").format(
            shape=self.shape, w=(d_out, self.shape[1]), b=b, values=_fmt_scale(self.scale), seed=self.seed)


@st.composite
def linear_examples(draw):
    n, d_in, d_out = draw(st.integers(1, 5)), draw(st.integers(1, 6)), draw(st.integers(1, 6))
    return LinearExample((n, d_in), draw(scales), draw(seeds), extra=(d_out, draw(st.booleans())))


@dataclass(frozen=True)
class DropoutExample(Dense):
    p: float = 0.5
    training: bool = True

    @property
    def rng_seed(self) -> int:
        return self.seed + 7

    def describe(self) -> str:
        return _("x {shape}, p={p}, training={training}, rng=default_rng({rng_seed}); "
                 "x values standard normal × {scale:g} (seed {seed})").format(
            shape=self.shape, p=self.p, training=self.training, rng_seed=self.rng_seed, scale=self.scale,
            seed=self.seed)


def dropout_examples(training: bool | None):
    probabilities = st.sampled_from((0.5, 0.0, 1.0, 0.1, 0.9, 0.25))
    modes = st.booleans() if training is None else st.just(training)
    return st.builds(lambda ex, p, mode: DropoutExample(ex.shape, ex.scale, ex.seed, p=p, training=mode),
                     dense_examples(), probabilities, modes)


@dataclass(frozen=True)
class Classification:
    """Logits of ``shape`` (standard normal × ``scale``) and labels drawn from ``seed``; or the
    ``logits`` and ``labels`` given (an explicit example)."""

    shape: tuple
    scale: float
    seed: int
    logits: tuple | None = None     # nested tuples, when given
    labels: tuple | None = None

    def arrays(self):
        if self.logits is not None:
            return np.array(self.logits, dtype=np.float64), np.array(self.labels, dtype=np.int64)
        logits = values(np.random.default_rng(self.seed), self.shape, self.scale)
        return logits, np.random.default_rng(self.seed + 3).integers(0, self.shape[1], self.shape[0])

    def describe(self) -> str:
        if self.logits is not None:
            return f"logits {[list(row) for row in self.logits]}, y {list(self.labels)}"
        return _("logits {shape}, values {values} (seed {seed}); labels y (seed {label_seed})").format(
            shape=self.shape, values=_fmt_scale(self.scale), seed=self.seed, label_seed=self.seed + 3)


@st.composite
def classification_examples(draw, scale=scales):
    n, classes = draw(st.integers(1, 6)), draw(st.integers(2, 6))
    return Classification((n, classes), draw(scale), draw(seeds))


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
        shapes = _(" then ").join(str(tuple(s)) for s in self.shapes)
        zeros = _(", some exactly 0") if self.zeros else ""
        return _("{spec}; forward and backward on x {shapes}, then forward on the first "
                 "again; x values {values}{zeros} (seed {seed}); "
                 "evaluation mode, then training mode").format(
            spec=self.spec.text(), shapes=shapes, values=_fmt_scale(self.scale), zeros=zeros, seed=self.seed)


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
    shape = tuple(draw(st.integers(1, 5)) for _unused in range(rank))
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
    shape = tuple(draw(st.integers(1, 5)) for _unused in range(rank))
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

    def call(self) -> str:
        """The block's constructor call."""
        out = self.planes * self.expansion
        down = (f"Sequential(Conv2d({self.inplanes}, {out}, 1, stride={self.stride}, bias=False), "
                f"BatchNorm2d({out}))") if self.downsample else "None"
        stride = f", stride={self.stride}" if self.pass_stride else ""
        return f"{self.block}({self.inplanes}, {self.planes}{stride}, downsample={down})"

    def describe(self) -> str:
        return _("{block}; x {shape} standard normal (seed {seed}); evaluation mode, then training mode").format(
            block=self.call(), shape=self.shape, seed=self.seed)


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


def mode_name(mode: str) -> str:
    return _("training mode") if mode == "train" else _("evaluation mode")


@dataclass(frozen=True)
class NetCase:
    """One network, built with ``kwargs``, run in ``modes`` on a batch of ``shape``."""

    name: str
    kwargs: tuple
    shape: tuple
    modes: tuple
    seed: int
    label: str = ""     # the constructor call as shown, when it is not name(**kwargs)
    backward: bool = True

    @property
    def title(self) -> str:
        return self.label or f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self.kwargs)})"

    def describe(self) -> str:
        modes = _(", then ").join(mode_name(m) for m in self.modes)
        only = "" if self.backward else _(", forward only")
        return _("{title}; x {shape} standard normal (seed {seed}); {modes}{only}").format(
            title=self.title, shape=self.shape, seed=self.seed, modes=modes, only=only)


@st.composite
def lenet_cases(draw):
    activation = draw(st.sampled_from(("sigmoid", "relu")))
    kwargs = (("num_classes", draw(st.integers(1, 12))), ("activation", activation))
    return NetCase("LeNet5", kwargs, (draw(st.integers(1, 3)), 1, 32, 32), ("eval", "train"), draw(seeds))


# ---------------------------------------------------------------------------------------
# train.py
# ---------------------------------------------------------------------------------------

@st.composite
def sgd_examples(draw):
    names = draw(st.lists(st.sampled_from(["w", "b", "conv1.weight", "fc.bias"]), min_size=1, max_size=3,
                          unique=True))
    shapes = {name: tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))) for name in names}
    momentum = draw(st.sampled_from((0.0, 0.9, 0.5)))
    with_velocity = draw(st.sets(st.sampled_from(names))) if momentum else set()
    return SgdExample(shapes, draw(st.sampled_from((0.1, 0.01, 1.0))), momentum,
                      draw(st.sampled_from((0.0, 5e-4, 0.1))), draw(st.integers(1, 3)),
                      tuple(sorted(with_velocity)), draw(seeds), defaults=draw(st.booleans()))


class SgdExample:
    """``defaults``: momentum and weight_decay left out of the call where they are 0.0, their default."""

    def __init__(self, shapes, lr, momentum, weight_decay, steps, with_velocity, seed, defaults=False):
        self.shapes, self.lr, self.momentum, self.weight_decay = shapes, lr, momentum, weight_decay
        self.steps, self.with_velocity, self.seed, self.defaults = steps, with_velocity, seed, defaults

    def kwargs(self) -> dict:
        given = {"momentum": self.momentum, "weight_decay": self.weight_decay}
        return {k: v for k, v in given.items() if not self.defaults or v != 0.0}

    def arrays(self):
        rng = np.random.default_rng(self.seed)
        params = {name: rng.standard_normal(shape) for name, shape in self.shapes.items()}
        grads = [{name: rng.standard_normal(shape) for name, shape in self.shapes.items()}
                 for _unused in range(self.steps)]
        velocities = {name: rng.standard_normal(self.shapes[name]) for name in self.with_velocity}
        return params, grads, velocities

    def describe(self) -> str:
        missing = sorted(set(self.shapes) - set(self.with_velocity))
        return _("params {shapes}, lr={lr}, momentum={momentum}, weight_decay={weight_decay}, {steps} step(s); "
                 "no velocity yet for {missing} (seed {seed})").format(
            shapes=self.shapes, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay,
            steps=self.steps, missing=missing, seed=self.seed) + defaults_note(self.defaults and len(self.kwargs()) < 2)
