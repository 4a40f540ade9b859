"""Checks of ``train.py``: the optimiser step, two sanity checks, and training on real digits.

The training check runs ``train_lenet`` in the worker on the training split only;
the model's weights come back as arrays and the grader measures the held-out
accuracy itself, with its own torch LeNet-5. Held-out digits never reach the worker.
"""

from __future__ import annotations

from grader.i18n import _

import io
import math
import time
import zlib

import numpy as np
import torch

from grader import data
from grader.checks.harness import examples as S
from grader.checks.harness.base import Context, Failed, Partial, check, require_unchanged, seed_layers, unpack
from grader.checks.harness.metric import OVERFIT_ACCURACY, Mismatch, compare
from grader.checks.harness.training import REFUSE_FACTOR, matching_reference, speed_report, training_pace
from grader.references import networks as ref_networks
from grader.references.train import sgd_reference
from grader.worker.client import CallTimeout, Ref, Rng, WorkerProblem

TRAIN_SEED = 2024
OVERFIT_DIGITS, OVERFIT_STEPS, OVERFIT_LR = 50, 200, 0.01
OVERFIT_SEED = 0  # the network's initial weights (drawn by the grader: see _initialise)


# -- sgd_step --------------------------------------------------------------------------------

# Run after the drawn examples: momentum without weight decay over two steps with no
# velocity yet (a velocity that aliases the gradient array shows only there), then momentum
# with weight decay and a mix of given and missing velocities. Few drawn examples combine these.
SGD_EXPLICIT_EXAMPLES = (
    S.SgdExample({"w": (2,)}, 0.1, 0.9, 0.0, 2, (), 0),
    S.SgdExample({"w": (2,), "b": (2,)}, 0.1, 0.5, 0.1, 2, ("b",), 1),
    S.SgdExample({"w": (3,)}, 0.1, 0.0, 0.0, 2, (), 2, defaults=True),   # momentum and weight_decay by default
)


@check("train.sgd_step")
def sgd_step(ctx: Context) -> None:
    """Steps the student's ``sgd_step`` as a training loop does, the state kept in the worker:
    the caller holds its own references to the parameter arrays (as a model does), and each
    new gradient is written INTO the previous step's gradient arrays (as the model's
    ``backward`` does), so that a rebound parameter, a velocity that is the gradient array
    itself, and a modified gradient are all seen."""
    def body(ex: S.SgdExample):
        params, grads, velocities = ex.arrays()
        expected = sgd_reference(params, grads, lr=ex.lr, momentum=ex.momentum,
                                 weight_decay=ex.weight_decay, velocities=velocities)
        state = ctx.worker.keep({"params": params, "grads": grads[0], "velocities": velocities})
        own = ctx.worker.keep({name: Ref(state.handle, ("params", name)) for name in params})
        try:
            _sgd_steps(ctx, ex, state, own, params, grads, expected)
        finally:
            ctx.worker.release(state.handle, own.handle)

    ctx.for_all(S.sgd_examples(), body, examples=SGD_EXPLICIT_EXAMPLES)


def _sgd_steps(ctx: Context, ex: S.SgdExample, state: Ref, own: Ref, params, grads, expected) -> None:
    before = params
    for step, step_grads in enumerate(grads, start=1):
        if step > 1:
            for name, g in step_grads.items():   # the next backward writes into the same arrays
                written = ctx.call((Ref(state.handle, ("grads", name)), "__setitem__"), (), g)
                ctx.worker.release(written.handle)
            if ex.momentum:
                held = _read(ctx, Ref(state.handle, ("velocities",)))
                for name, wanted in expected[step - 2][1].items():
                    got = held.get(name) if isinstance(held, dict) else None
                    if isinstance(got, np.ndarray) and got.shape == wanted.shape and not _close(got, wanted):
                        raise Mismatch(_(
                            "velocities[{name!r}] changed between step {previous} and step {step}, when only "
                            "the gradient array grads[{name!r}] was overwritten in place (as the next backward "
                            "does): the velocity IS the gradient array. Store a copy as the first velocity "
                            "(np.array(d, copy=True) or d.copy())").format(name=name, previous=step - 1, step=step))
        returned = ctx.call("train.sgd_step", Ref(state.handle, ("params",)), Ref(state.handle, ("grads",)),
                            Ref(state.handle, ("velocities",)), ex.lr, echo_args=True, **ex.kwargs())
        ctx.worker.release(returned.handle)
        params_after, grads_after, velocities_after = returned.args_after[:3]
        for name, g in step_grads.items():
            got = grads_after.get(name) if isinstance(grads_after, dict) else None
            if not (isinstance(got, np.ndarray) and got.shape == g.shape and np.array_equal(got, g)):
                raise Mismatch(_("step {step}: sgd_step changed grads[{name!r}], the caller's gradient: do not "
                                 "modify grads (torch leaves .grad alone); compute d = g + weight_decay * p as a "
                                 "new array, and store a copy of it as the first velocity").format(step=step, name=name))
        callers = _read(ctx, own)
        wanted_params, wanted_velocities = expected[step - 1]
        for name, wanted in wanted_params.items():
            got = callers.get(name) if isinstance(callers, dict) else None
            in_dict = params_after.get(name) if isinstance(params_after, dict) else None
            if isinstance(got, np.ndarray) and not _close(got, wanted) and _close(in_dict, wanted):
                raise Mismatch(_("step {step}: params[{name!r}] was rebound to a new array: the dict holds the "
                                 "right values, but the caller's own array (a model's weight) still holds the old "
                                 "ones. Update the array in place: p -= lr * d, or params[name][...] = ...").format(
                    step=step, name=name))
            if isinstance(got, np.ndarray) and np.array_equal(got, before[name]) \
                    and not np.array_equal(wanted, before[name]):
                raise Mismatch(_("step {step}: params[{name!r}] was not updated in place (the caller's "
                                 "array still holds the old values: use -= or [...] =)").format(step=step, name=name))
            compare(_("params[{name!r}] after step {step}").format(name=name, step=step), got, wanted)
        if ex.momentum:
            for name, wanted in wanted_velocities.items():
                got = velocities_after.get(name) if isinstance(velocities_after, dict) else None
                if got is None:
                    raise Mismatch(_("step {step}: velocities has no entry {name!r}: create the momentum "
                                     "buffer on the first step (a copy of the gradient, weight decay included)").format(
                        step=step, name=name))
                compare(_("velocities[{name!r}] after step {step}").format(name=name, step=step), got, wanted)
        before = wanted_params


def _read(ctx: Context, ref: Ref):
    returned = ctx.worker.get(ref, depth=2)
    ctx.worker.release(returned.handle)
    return returned.value


def _close(actual, expected: np.ndarray) -> bool:
    try:
        compare("", actual, expected)
    except Mismatch:
        return False
    return True


# -- sanity checks -----------------------------------------------------------------------------

def _digits(count: int):
    X, y = data.load_mnist("train")
    return np.ascontiguousarray(X[:count]), y[:count]


def _initialise(ctx: Context, params: Ref, seed: int) -> None:
    """Draws the network's initial weights from the grader's own generators, with torch's
    bounds U(+-1/sqrt(fan_in)) (a bias uses its weight's), INTO the model's live arrays: every
    submission starts from the same point, so the verdict depends on its gradients and not on
    the luck of its initialisation (from the layers' own unseeded draws, about one run in thirty
    left even the reference LeNet-5 short of learning the 50 digits in 200 steps, and a transposed
    conv weight gradient passed about one run in six). Names or shapes that do not fit LeNet-5
    are left as the submission drew them."""
    with torch.random.fork_rng(devices=[]):   # only the shapes: torch's own draws stay untouched
        reference = {name: tuple(t.shape) for name, t in ref_networks.build("LeNet5", activation="relu")
                     .state_dict().items()}
    theirs = ctx.worker.get(params, shapes=True, depth=2)
    ctx.worker.release(theirs.handle)
    if not isinstance(theirs.value, dict):
        return
    for name, info in theirs.value.items():
        if not (isinstance(info, dict) and reference.get(name) == tuple(info.get("shape", ()))):
            continue
        weight = reference[name.rsplit(".", 1)[0] + ".weight"] if name.endswith(".bias") else reference[name]
        bound = 1.0 / math.sqrt(math.prod(weight[1:]))
        values = np.random.default_rng([seed, zlib.crc32(name.encode())]).uniform(-bound, bound, reference[name])
        written = ctx.call((Ref(params.handle, (*params.path, name)), "__setitem__"), (), values)
        ctx.worker.release(written.handle)


@check("train.overfit")
def overfit(ctx: Context) -> None:
    X, y = _digits(OVERFIT_DIGITS)
    model = ctx.worker.ref(ctx.call("networks.LeNet5", activation="relu", depth=0))
    initial = ctx.worker.get(model, "parameters", depth=0)
    _initialise(ctx, ctx.worker.ref(initial), OVERFIT_SEED)
    ctx.worker.release(initial.handle)
    velocities = ctx.worker.keep({})
    # steps: the seconds of each, as the worker was busy with them (the lesser of its wall clock and
    # its CPU time, as the pace estimate times calls): a machine busy with other work, which
    # stretches the wall clock, must not fail a correct network for its pace
    losses, steps = [], []
    limit = ctx.settings.overfit_timeout
    for done in range(OVERFIT_STEPS):
        elapsed = sum(steps)
        if elapsed > limit:
            raise Failed(_("{steps} training steps on {count} digits did not finish within "
                           "{timeout:g} s (the reference needs about 10 s). Where the time goes:").format(
                steps=OVERFIT_STEPS, count=OVERFIT_DIGITS, timeout=limit), speed_report(ctx))
        # at the pace of the fastest step so far, the rest cannot finish in time: said now, not at the limit
        estimate = elapsed + min(steps, default=0.0) * (OVERFIT_STEPS - done)
        if len(steps) >= 2 and estimate > REFUSE_FACTOR * limit:
            raise Failed(_("{steps} training steps on {count} digits were stopped after {done}: at {seconds:.1f} s "
                           "a step they would take about {estimate:,.0f} s, far beyond their {timeout:g} s limit "
                           "(the reference needs about 10 s). Where the time goes:").format(
                steps=OVERFIT_STEPS, count=OVERFIT_DIGITS, done=done, seconds=min(steps), estimate=estimate,
                timeout=limit), speed_report(ctx))
        logits = ctx.call((model, "forward"), X)
        ce = ctx.call("layers.softmax_cross_entropy", ctx.worker.ref(logits), y)
        loss, _unused = unpack(ce.value, 2, "softmax_cross_entropy")
        losses.append(float(loss) if isinstance(loss, float) else float("nan"))
        backward = ctx.call((model, "backward"), ctx.worker.ref(ce, 1))
        params = ctx.worker.get(model, "parameters", depth=0)
        grads = ctx.worker.get(model, "gradients", depth=0)
        step = ctx.call("train.sgd_step", ctx.worker.ref(params), ctx.worker.ref(grads), velocities, OVERFIT_LR,
                        momentum=0.9, depth=0)
        ctx.worker.release(logits.handle, ce.handle, backward.handle, params.handle, grads.handle, step.handle)
        steps.append(sum(call.busy_seconds for call in (logits, ce, backward, step)))
    final = ctx.call((model, "forward"), X).value
    accuracy = float((np.asarray(final).argmax(axis=1) == y).mean()) if isinstance(final, np.ndarray) else 0.0
    if accuracy < OVERFIT_ACCURACY:
        raise Failed(_(
            "after {steps} steps of SGD (lr {lr}, momentum 0.9) on the same {count} digits, "
            "your LeNet5 (relu) classifies only {accuracy:.0%} of them (a correct network reaches 100%); "
            "loss went {first:.3f} -> {last:.3f}. A network that cannot learn 50 examples by "
            "heart has a wrong gradient somewhere: look at the failing backward checks first").format(
            steps=OVERFIT_STEPS, lr=OVERFIT_LR, count=OVERFIT_DIGITS, accuracy=accuracy, first=losses[0],
            last=losses[-1]))


# -- training on real digits -------------------------------------------------------------------

@check("train.train_lenet")
def train_lenet(ctx: Context) -> None:
    X_train, y_train = data.load_mnist("train")
    limit = ctx.settings.train_timeout
    pace = training_pace(ctx, len(X_train))
    pace_lines = pace.lines(limit)
    if pace.seconds and pace.epoch_estimate > REFUSE_FACTOR * limit:
        raise Failed(_("train_lenet was not started: at the pace of your layer functions even one epoch of the "
                       "training digits would take about {estimate:,.0f} s, far beyond its {limit:g} s limit; "
                       "{family} is the slowest").format(
            estimate=pace.epoch_estimate, limit=limit, family=pace.slowest()), pace_lines)
    ctx.tell(pace_lines)
    seed_layers(ctx, TRAIN_SEED)
    started = time.perf_counter()
    try:
        returned = ctx.call("train.train_lenet", X_train, y_train, Rng(TRAIN_SEED), depth=0,
                            timeout=ctx.settings.train_timeout, echo_args=True)
    except CallTimeout:
        raise Failed(_("train_lenet did not finish within {timeout:g} s, about ten times what the "
                       "reference solution needs on this machine. Where the time goes:").format(
            timeout=ctx.settings.train_timeout), pace_lines) from None
    seconds = time.perf_counter() - started
    require_unchanged("train_lenet", ["X", "y"], [X_train, y_train], returned.args_after[:2])
    model = ctx.worker.ref(returned)
    state = ctx.call((model, "state_dict"), depth=1).value
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise Failed(_("train_lenet should return a LeNet5 whose state_dict() gives arrays by name"))
    probe = X_train[:16]
    student_logits = ctx.call((model, "forward"), probe).value
    torch_model = matching_reference(state, probe, student_logits)
    X_held, y_held = data.load_mnist("heldout")
    with torch.no_grad():
        predictions = torch_model(torch.tensor(X_held)).argmax(dim=1).numpy()
    accuracy = float((predictions == y_held).mean())
    curve = _learning_curve(ctx, model)
    full, zero = ctx.settings.full_marks_accuracy, ctx.settings.zero_marks_accuracy
    fraction = (accuracy - zero) / (full - zero)
    summary = _("held-out accuracy {accuracy:.1%} ({right}/{count} digits) "
                "after {seconds:.0f} s of training; full marks from {full:.0%}, none below "
                "{zero:.0%}").format(accuracy=accuracy, right=int((predictions == y_held).sum()), count=len(y_held),
                                     seconds=seconds, full=full, zero=zero)
    lines = [curve] if curve else []
    if pace.estimate > limit / 2:  # close to the limit: a slower machine may not finish
        lines += pace_lines
    if accuracy < zero + 0.2:
        lines.append(_("A LeNet-5 with correct gradients reaches about 98% here: when training barely works, "
                       "a backward pass is usually wrong. Fix the failing gradient checks (conv2d_backward, "
                       "max_pool2d_backward, linear_backward, ...) first."))
    raise Partial(fraction, summary, lines)


def _learning_curve(ctx: Context, model) -> str:
    """Plots ``model.history`` (per-epoch loss and accuracy) when train_lenet recorded one."""
    try:
        history = ctx.worker.get(model, "history", depth=2).value
    except WorkerProblem:
        return ""
    if not isinstance(history, dict):
        return ""
    series = {key: np.asarray(value, dtype=float) for key, value in history.items()
              if key in ("loss", "accuracy") and isinstance(value, (list, tuple, np.ndarray))
              and len(value) and all(isinstance(v, (int, float)) for v in np.asarray(value).ravel().tolist())}
    if not series:
        return ""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, len(series), figsize=(4 * len(series), 3), squeeze=False)
    for axis, (key, values) in zip(axes[0], series.items()):
        axis.plot(np.arange(1, len(values) + 1), values, marker="o")
        axis.set_xlabel("epoch")
        axis.set_title(f"training {key}")
        axis.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    pyplot.close(figure)
    ctx.artifacts["learning_curve.png"] = buffer.getvalue()
    names = {"loss": _("loss"), "accuracy": _("accuracy")}
    per_epoch = _(", ").join(f"{names[key]} {values[-1]:.3g}" for key, values in series.items())
    return _("Learning curve saved as learning_curve.png ({epochs} epochs; last: {last}).").format(
        epochs=len(next(iter(series.values()))), last=per_epoch)
