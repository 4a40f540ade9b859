"""What the checks of a trained model share (train_lenet, augment): which LeNet-5 its weights
reproduce, and, when training is too slow, where the time goes."""

from __future__ import annotations

from grader.i18n import _

import math
import time
import weakref
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from grader import data, rubric
from grader.checks.harness.base import Context, Failed
from grader.checks.harness.metric import DEFAULT_FLOOR, REPRODUCE_TOL
from grader.references import networks as ref_networks
from grader.references.train import sgd_update
from grader.worker.client import CallTimeout, WorkerProblem


def matching_reference(state: dict, probe: np.ndarray, student_logits):
    """The torch LeNet5 (relu or sigmoid) that the student's weights reproduce."""
    errors = {}
    for activation in ("relu", "sigmoid"):
        model = ref_networks.build("LeNet5", activation=activation)
        try:
            model.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
        except (RuntimeError, KeyError) as error:
            raise Failed(_("the returned model's state_dict does not fit LeNet5: {error}").format(error=error)) from None
        model.eval()
        with torch.no_grad():
            logits = model(torch.tensor(probe)).numpy()
        if isinstance(student_logits, np.ndarray) and student_logits.shape == logits.shape:
            errors[activation] = float(np.abs(student_logits - logits).max() / max(np.abs(logits).max(), DEFAULT_FLOOR))
            if errors[activation] < REPRODUCE_TOL:
                return model
    raise Failed(_("the returned model's forward pass does not match LeNet5 (relu or sigmoid) with its own "
                   "weights (relative errors {errors}); make the networks checks pass first").format(errors=errors))




# -- the pace of a training, estimated before it starts ----------------------------------------

#: The training the estimate tells of: 15 epochs of the training digits in mini-batches of 32
#: (one forward and one backward of every layer per batch), half the reference solution's 30.
ESTIMATE_EPOCHS, ESTIMATE_BATCH = 15, 32
#: A training is not started when even ONE epoch at the estimated pace is beyond this many times
#: its limit (the estimate is good to a factor of 2: benchmarks/bench_pace.py). Refusing on a
#: longer training would refuse a slow student whose own shorter training would finish in time.
REFUSE_FACTOR = 2.0
_SCALE_FROM = 2          # digits of the first, cheap probe call
_SCALE_ABOVE = 0.02      # seconds: a probe slower than this is extrapolated, not repeated at full size
_PROBE_SECONDS = 1.0     # the second probe's batch: the largest whose call takes at most this long, were its
                         # time to grow with the batch (so that a call whose time hardly grows is timed on the
                         # full batch, and a loop over the digits on a batch large enough to show its slope)


@dataclass(frozen=True)
class Layer:
    """One kind of layer function a LeNet-5 training step calls, on every shape it calls it."""

    family: str           # the student's function pair, e.g. "conv2d" (conv2d_forward + conv2d_backward)
    module: str           # the part whose file holds it
    shapes: tuple         # per call: a function of the batch size giving the forward's arguments
    torch: object         # the same forward in torch, on the same arguments

    @property
    def label(self) -> str:
        if self.family in SINGLE_CALLS:
            return self.family
        return f"{self.family}_forward + {self.family}_backward"


def _arrays(*shapes):
    return lambda rng, batch: tuple(rng.standard_normal((batch, *shape[1:])) if shape[0] == "B"
                                    else rng.standard_normal(shape) for shape in shapes)


LENET_LAYERS = (
    Layer("conv2d", "conv", (_arrays(("B", 1, 32, 32), (6, 1, 5, 5), (6,)),
                             _arrays(("B", 6, 14, 14), (16, 6, 5, 5), (16,)),
                             _arrays(("B", 16, 5, 5), (120, 16, 5, 5), (120,))),
          lambda x, w, b: F.conv2d(x, w, b)),
    Layer("max_pool2d", "pooling", (lambda rng, batch: (rng.standard_normal((batch, 6, 28, 28)), 2),
                                    lambda rng, batch: (rng.standard_normal((batch, 16, 10, 10)), 2)),
          lambda x, k: F.max_pool2d(x, k)),
    Layer("relu", "layers", (_arrays(("B", 6, 28, 28)), _arrays(("B", 16, 10, 10)), _arrays(("B", 120, 1, 1)),
                             _arrays(("B", 64))), F.relu),
    Layer("linear", "layers", (_arrays(("B", 120), (64, 120), (64,)), _arrays(("B", 64), (10, 64), (10,))),
          F.linear),
    Layer("softmax_cross_entropy", "layers",
          (lambda rng, batch: (rng.standard_normal((batch, 10)), rng.integers(0, 10, batch)),),
          lambda logits, y: F.cross_entropy(logits, y)),
    Layer("sgd_step", "train", (lambda rng, batch: _lenet_parameters(rng),), None),
)
SINGLE_CALLS = ("softmax_cross_entropy", "sgd_step")  # one call each, no backward


def _lenet_parameters(rng):
    """sgd_step's arguments for LeNet-5's parameters: params, grads, velocities, lr (momentum and
    weight decay as the reference trains)."""
    shapes = {"conv1.weight": (6, 1, 5, 5), "conv1.bias": (6,), "conv2.weight": (16, 6, 5, 5), "conv2.bias": (16,),
              "conv3.weight": (120, 16, 5, 5), "conv3.bias": (120,), "fc1.weight": (64, 120), "fc1.bias": (64,),
              "fc2.weight": (10, 64), "fc2.bias": (10,)}
    params = {name: rng.standard_normal(shape) for name, shape in shapes.items()}
    grads = {name: rng.standard_normal(shape) for name, shape in shapes.items()}
    velocities = {name: rng.standard_normal(shape) for name, shape in shapes.items()}
    return params, grads, velocities, 0.05

def how_to_speed_up(family: str) -> str:
    if family == "conv2d":
        return _("no Python loop over output pixels: gather every patch at once (im2col with a loop over "
                 "the kernel offsets copying strided slices, or sliding_window_view) and make the layer one "
                 "matrix product; the backward reuses that matrix")
    if family == "max_pool2d":
        return _("loop over the kernel offsets (i, j) only, taking x[:, :, i::stride, j::stride] for every "
                 "window at once (or use sliding_window_view), never over output pixels")
    return _("whole-array NumPy operations (np.maximum, a matrix product, fancy indexing), no Python "
             "loop over the elements")


@dataclass
class Pace:
    """Seconds per batch of each layer function (the student's and torch's), and what a
    training at that pace takes."""

    seconds: dict       # family -> the student's seconds per batch, forward + backward
    torch_seconds: dict
    steps: int
    call_timeout: float
    failed: dict = field(default_factory=dict)   # family -> why it could not be timed
    timed_out: set = field(default_factory=set)  # families whose probe call ran out of time
    epochs: int = ESTIMATE_EPOCHS                 # the training estimated, as its lines say
    batch: int = ESTIMATE_BATCH

    @property
    def estimate(self) -> float:
        return self.steps * sum(self.seconds.values())

    @property
    def epoch_estimate(self) -> float:
        """The seconds of one epoch at this pace: the shortest training there is."""
        return self.estimate / self.epochs

    def slowest(self) -> str:
        return max(self.seconds, key=self.seconds.get)

    def lines(self, limit: float, before_networks: bool = False) -> list[str]:
        if before_networks:
            heading = _("Your layer functions on the calls of one LeNet-5 training step (a batch of {batch}), "
                        "timed before the large networks' checks, which run them on larger inputs and take "
                        "long at this pace:")
        else:
            heading = _("Your layer functions on the calls of one LeNet-5 training step (a batch of {batch}), "
                        "timed before the training:")
        lines = [heading.format(batch=self.batch)]
        for layer in LENET_LAYERS:
            if layer.family in self.timed_out:
                lines.append(_("    {label}: one call on a batch of {count} did not finish within {timeout:g} s").format(
                    label=layer.label, count=_SCALE_FROM, timeout=self.call_timeout))
            elif layer.family in self.seconds:
                lines.append(_("    {label}: {ms:,.1f} ms per batch, {times:,.1f}x torch's {torch_ms:.2f} ms").format(
                    label=layer.label, ms=self.seconds[layer.family] * 1000,
                    times=self.seconds[layer.family] / self.torch_seconds[layer.family],
                    torch_ms=self.torch_seconds[layer.family] * 1000))
            elif layer.family in self.failed:
                lines.append(_("    {label}: could not be timed ({error})").format(
                    label=layer.label, error=self.failed[layer.family]))
        lines.append(_("At this pace, a training of {epochs} epochs of the training digits in "
                       "batches of {batch} ({steps:,} steps) takes about {estimate:,.0f} s; the limit is "
                       "{limit:g} s.").format(epochs=self.epochs, batch=self.batch, steps=self.steps,
                                              estimate=self.estimate, limit=limit))
        if self.seconds and self.estimate > limit:
            family = self.slowest()
            lines.append(_("Speed up {family} first ({share:.0%} of that time): {how}.").format(
                family=family, share=self.seconds[family] * self.steps / self.estimate,
                how=how_to_speed_up(family)))
        return lines


def training_pace(ctx: Context, digits: int, batch: int = ESTIMATE_BATCH, epochs: int = ESTIMATE_EPOCHS,
                  layers: tuple = LENET_LAYERS) -> Pace:
    """Times the student's layer functions (``layers``: LeNet-5's, by default all) on LeNet-5's
    calls and estimates, from their time per batch, a training of ``epochs`` over ``digits``
    digits in batches of ``batch``. A slow function is timed on a batch of 2 and on a larger one,
    and its time extrapolated (:func:`_scaled`); a fast one, best of 3 calls on a full batch."""
    rng = np.random.default_rng(0)
    pace = Pace({}, {}, epochs * max(1, -(-digits // batch)), ctx.settings.call_timeout, epochs=epochs, batch=batch)
    for layer in layers:
        try:
            total = 0.0
            for make in layer.shapes:
                small = _time_call(ctx, layer, make(rng, _SCALE_FROM))
                if small > _SCALE_ABOVE:
                    total += _scaled(ctx, layer, make, rng, small, batch)
                else:  # best of 3: a first call's fresh memory costs what a training's thousandth does not
                    args = make(rng, batch)
                    total += min(_time_call(ctx, layer, args) for _unused in range(3))
        except CallTimeout:  # at least the limit per call: a lower bound
            pace.timed_out.add(layer.family)
            pace.seconds[layer.family] = len(layer.shapes) * ctx.settings.call_timeout
        except (WorkerProblem, TypeError, ValueError, IndexError, AttributeError, KeyError) as problem:
            pace.failed[layer.family] = str(problem).splitlines()[0] if str(problem) else type(problem).__name__
            continue
        else:
            pace.seconds[layer.family] = total
        pace.torch_seconds[layer.family] = sum(_torch_seconds(layer, make(rng, batch)) for make in layer.shapes)
    _forget_probes(ctx)
    return pace


def _scaled(ctx: Context, layer: Layer, make, rng, small: float, batch: int) -> float:
    """A slow call's seconds on ``batch`` digits, from its ``small`` seconds on 2 and its time on
    the largest batch that :data:`_PROBE_SECONDS` allows (the full batch where it does), along
    the line through the two: a loop over the digits grows with the batch, a loop over the output
    pixels that takes the whole batch at once hardly does (scaled as if it did, it was estimated
    16 times too slow and a training that would finish was refused). The larger the second
    probe, the less a probe slowed by other programs moves the estimate (from 2 and 4 digits,
    one such probe multiplied its slowdown by 15). Beyond a quarter of the call limit on 2
    digits, ``small`` itself, a lower bound far beyond any limit."""
    if small > ctx.settings.call_timeout / 4:
        return small
    larger = 2 * _SCALE_FROM
    while larger < batch and small * 2 * larger / _SCALE_FROM <= _PROBE_SECONDS:
        larger *= 2
    larger = min(larger, batch)
    seconds = _time_call(ctx, layer, make(rng, larger))
    if larger == batch:
        return seconds
    return small + max(0.0, seconds - small) / (larger - _SCALE_FROM) * (batch - _SCALE_FROM)


def _forget_probes(ctx: Context) -> None:
    """The calls that timed the student's functions are no example of the check (nothing in them
    failed): forgotten, so that a check failed for its pace shows no failing example or replay."""
    recorder = getattr(ctx.worker, "recorder", None)
    if recorder is not None:
        recorder.clear()


# The workers already told that their layer functions are slow (once per grading is enough).
_TOLD: "weakref.WeakSet" = weakref.WeakSet()


def tell_if_slow(ctx: Context) -> None:
    """Before a large network runs the student's layer functions: where a training at their
    pace would come near train_lenet's limit, says so now, with which function to speed up,
    rather than after minutes of networks (said once per worker; never a verdict)."""
    if ctx.worker in _TOLD:
        return
    _TOLD.add(ctx.worker)
    limit = ctx.settings.train_timeout
    # only the files the networks run already: a later file (train.py) is never imported for them
    used = rubric.load().uses.get("networks", ())
    layers = tuple(layer for layer in LENET_LAYERS if layer.module in used)
    pace = training_pace(ctx, len(data.load_mnist("train")[1]), layers=layers)
    if pace.seconds and pace.estimate > limit / 2:
        ctx.tell(pace.lines(limit, before_networks=True))


def _time_call(ctx: Context, layer: Layer, args) -> float:
    """The student's seconds for one forward and its backward, as on a machine left to them
    (:attr:`Returned.busy_seconds`): a probe of a few seconds and a training of minutes share a
    busy machine unequally (a process that has slept gets the processor first), so that the wall
    clock made a loop conv's estimate 0.23x its training (benchmarks/bench_pace.py)."""
    timeout = ctx.settings.call_timeout
    if layer.family in SINGLE_CALLS:
        kwargs = {"momentum": 0.9, "weight_decay": 5e-4} if layer.family == "sgd_step" else {}
        returned = ctx.call(f"{layer.module}.{layer.family}", *args, depth=0, timeout=timeout, **kwargs)
        ctx.worker.release(returned.handle)
        return returned.busy_seconds
    forward = ctx.call(f"{layer.module}.{layer.family}_forward", *args, shapes=True, timeout=timeout)
    try:
        shape = tuple(forward.value[0]["shape"])
        dout = np.random.default_rng(1).standard_normal(shape)
        backward = ctx.call(f"{layer.module}.{layer.family}_backward", dout, ctx.worker.ref(forward, 1),
                            depth=0, timeout=timeout)
        ctx.worker.release(backward.handle)
    finally:
        ctx.worker.release(forward.handle)
    return forward.busy_seconds + backward.busy_seconds


def _torch_seconds(layer: Layer, args) -> float:
    """torch's best of three (after one warm-up) on the same call, forward and autograd backward."""
    if layer.torch is None:  # sgd_step: torch's SGD update (what torch.optim.SGD.step runs) on the same arrays
        params, grads, velocities, lr = ([torch.tensor(a) for a in arg.values()] if isinstance(arg, dict) else arg
                                         for arg in args)
        run = lambda: sgd_update(params, grads, velocities, lr, momentum=0.9, weight_decay=5e-4)  # noqa: E731
    else:
        tensors = [torch.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
                   for a in args]
        run = lambda: layer.torch(*tensors).sum().backward()  # noqa: E731
    run()
    best = math.inf
    for _unused in range(3):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return max(best, 1e-6)


def speed_probes() -> tuple:
    return (
        (_("conv2d_forward + conv2d_backward (conv2: 6 -> 16 channels, 5x5, 14x14 input)"), "conv.conv2d",
         lambda rng: (rng.standard_normal((32, 6, 14, 14)), rng.standard_normal((16, 6, 5, 5)),
                      rng.standard_normal(16)), {}),
        (_("max_pool2d_forward + max_pool2d_backward (2x2 on 6x28x28)"), "pooling.max_pool2d",
         lambda rng: (rng.standard_normal((32, 6, 28, 28)), 2), {}),
        (_("linear_forward + linear_backward (120 -> 64)"), "layers.linear",
         lambda rng: (rng.standard_normal((32, 120)), rng.standard_normal((64, 120)), rng.standard_normal(64)), {}),
    )


def speed_report(ctx: Context) -> list[str]:
    """Times the student's layers on one LeNet batch of 32 against torch, to say which is slow."""
    rng = np.random.default_rng(0)
    lines = []
    for label, stem, make, kwargs in speed_probes():
        args = make(rng)
        try:
            forward = ctx.call(f"{stem}_forward", *args, timeout=60, **kwargs)
            out = forward.value[0]
            backward = ctx.call(f"{stem}_backward", np.ones_like(out), ctx.worker.ref(forward, 1), timeout=60)
            theirs = forward.seconds + backward.seconds
            ctx.worker.release(forward.handle, backward.handle)
        except (WorkerProblem, TypeError, IndexError, AttributeError) as problem:
            lines.append(_("    {label}: could not be timed ({error})").format(label=label, error=problem))
            continue
        torch_seconds = _torch_time(stem, args)
        lines.append(_("    {label}: {ms:.1f} ms per batch, {times:,.0f}x torch's "
                       "{torch_ms:.2f} ms").format(label=label, ms=theirs * 1000, times=theirs / torch_seconds,
                                                   torch_ms=torch_seconds * 1000))
    lines.append(_("    A vectorised NumPy layer (im2col or sliding_window_view and one matrix product) is within a "
                   "few times torch's speed; a Python loop over every pixel is thousands of times slower."))
    _forget_probes(ctx)
    return lines


def _torch_time(stem: str, args) -> float:
    tensors = [torch.tensor(a, requires_grad=True) if isinstance(a, np.ndarray) else a for a in args]
    function = {"conv.conv2d": lambda x, w, b: F.conv2d(x, w, b),
                "pooling.max_pool2d": lambda x, k: F.max_pool2d(x, k),
                "layers.linear": lambda x, w, b: F.linear(x, w, b)}[stem]
    best = math.inf
    for _unused in range(3):
        start = time.perf_counter()
        function(*tensors).sum().backward()
        best = min(best, time.perf_counter() - start)
    return max(best, 1e-6)
