"""What the checks of a trained model share (train_lenet, augment): which LeNet-5 its weights
reproduce, and, when training is too slow, where the time goes."""

from __future__ import annotations

from grader.i18n import _

import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from grader.checks.harness.base import Context, Failed
from grader.checks.harness.metric import DEFAULT_FLOOR, REPRODUCE_TOL
from grader.references import networks as ref_networks
from grader.worker.client import WorkerProblem


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




def speed_probes() -> tuple:
    return (
        (_("conv2d_forward + conv2d_backward (conv2: 6 -> 16 channels, 5x5, 14x14 input)"), "conv.conv2d",
         lambda rng: (rng.standard_normal((32, 6, 14, 14)), rng.standard_normal((16, 6, 5, 5)),
                      rng.standard_normal(16)), {}),
        (_("max_pool2d_forward + max_pool2d_backward (2x2 on 6x28x28)"), "pooling.max_pool2d",
         lambda rng: (rng.standard_normal((32, 6, 28, 28)), 2), {}),
        ("linear_forward + linear_backward (120 -> 64)", "layers.linear",
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
