"""Checks of ``modules.py``: every layer class against its ``torch.nn`` counterpart.

One example builds the layer twice from the same constructor call (the student's
class in the worker, ``torch.nn`` here), loads torch's random parameters and buffers
into the student's through ``load_state_dict``, and runs both in evaluation mode and
then in training mode, each over three passes: forward and backward on a batch,
forward and backward on a batch of another size, and one more forward. After every
call it compares the output, the input gradient, every parameter gradient and the
running statistics, and checks that

- the inputs (``x``, ``dout``) are left unmodified;
- the gradients of the second pass are the second pass's (overwritten, not
  accumulated, not stale), and a forward leaves them alone;
- the arrays returned by the first pass are not changed by the later calls (no
  output or gradient buffer shared between calls);
- the parameters do not change (only an optimiser changes them).

The initialisation (given code) is checked on its own, statistically; those checks
count once the layer's forward runs.
"""

from __future__ import annotations

from grader.i18n import _

import copy
import math

import numpy as np
import torch
from torch import nn

from grader.checks.harness import examples as S
from grader.checks.harness.base import Context, Failed, check, require_unchanged, seed_layers
from grader.checks.harness.metric import (BOUND_FILL, DEFAULT_FLOOR, DEFAULT_TOL, RECOGNISE_TOL, ROUND_OFF_TOL,
                                          SIGMOID_SLOPE,
                                          SIGMA_BAND, STD_SLACK, Mismatch, batchnorm_tolerance, compare,
                                          describe_type, gradient_floors)
from grader.checks.harness.session import (Session, build_student, build_torch, compare_keys, numpy_state,
                                           randomise, read_shapes, some, student_state_shapes)
from grader.references._autograd import backward_with
from grader.references.networks import comparable_state_dict
from grader.worker.client import StudentException
from grader.worker.protocol import Opaque, Ref

MODES = ("eval", "train")


def mode_name(mode: str) -> str:
    return {"eval": _("evaluation mode"), "train": _("training mode")}[mode]


def pass_name(index: int) -> str:
    return (_("1st pass"), _("2nd pass"), _("3rd pass (forward only)"))[index]


# ---------------------------------------------------------------------------------------
# One layer over several passes in both modes
# ---------------------------------------------------------------------------------------

class DropoutMirror:
    """The masks the student's Dropout must draw: ``keep = rng.random(x.shape) >= p`` from
    ``default_rng(seed)``, once per training-mode forward, never in evaluation."""

    def __init__(self, p: float, seed: int):
        self.p = p
        self.rng = np.random.default_rng(seed)

    def forward(self, xt: torch.Tensor) -> torch.Tensor:
        keep = self.rng.random(tuple(xt.shape)) >= self.p
        if self.p >= 1.0:
            return xt * 0.0
        return xt * torch.from_numpy(keep.astype(np.float64)) / (1.0 - self.p)


def _record_terms(model: nn.Module, recorded: dict) -> list:
    """Hooks that keep, for every Linear and Conv2d of ``model``, the largest |input| and the
    upstream gradient: what its parameter gradients are sums of (see :func:`term_scales`)."""
    def hook_for(name, channel):
        def hook(module, args, output):
            entry = recorded[name] = {"input": float(args[0].detach().abs().max()) if args[0].numel() else 0.0,
                                      "channel": channel}
            if output.requires_grad:
                output.register_hook(lambda grad: entry.__setitem__("grad", grad.detach().abs()))
        return hook
    return [module.register_forward_hook(hook_for(name, 1 if isinstance(module, nn.Conv2d) else -1))
            for name, module in model.named_modules() if isinstance(module, (nn.Linear, nn.Conv2d))]


def term_scales(recorded: dict) -> dict:
    """``{parameter name: bound on the sum of |terms|}`` for Linear and Conv2d: an entry of the
    weight's gradient sums products input x upstream gradient (at most max|input| times the
    channel's sum of |upstream|), the bias's sums the upstream gradient."""
    scales = {}
    for name, entry in recorded.items():
        grad = entry.get("grad")
        if grad is None or grad.numel() == 0:
            continue
        channels = grad.movedim(entry["channel"], 0).reshape(grad.shape[entry["channel"]], -1)
        per_channel = float(channels.sum(dim=1).max())
        prefix = f"{name}." if name else ""
        scales[prefix + "weight"] = entry["input"] * per_channel
        scales[prefix + "bias"] = per_channel
    return scales


def steepest_sigmoid_scales(twin: nn.Module, x: np.ndarray, dout: np.ndarray) -> tuple:
    """``(max|dx|, {parameter: gradient})`` of ``twin`` (a copy of the model as it was before
    the pass) when every Sigmoid passes back 0.25 times its upstream gradient, its steepest
    slope. torch computes a Sigmoid's derivative from its output, ``s * (1 - s)``, which on
    saturated inputs keeps only ~1e-16 / (1 - s) of its digits (13% at x = 36); so does any
    code that rounds ``s`` otherwise, and code that is exact differs from torch as much.
    Everything the gradient reaches through a Sigmoid is therefore measured on the scale it
    would have if the Sigmoid were not saturated, as ``layers.sigmoid_backward`` measures
    the Sigmoid's own gradient on 0.25 times the upstream gradient."""
    hooks = [m.register_full_backward_hook(lambda module, grad_in, grad_out: (SIGMOID_SLOPE * grad_out[0],))
             for m in twin.modules() if isinstance(m, nn.Sigmoid)]
    try:
        twin.zero_grad(set_to_none=True)
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        backward_with(twin(xt), torch.from_numpy(dout))
    finally:
        for hook in hooks:
            hook.remove()
    dx = float(xt.grad.abs().max()) if xt.grad is not None and xt.grad.numel() else 0.0
    grads = {name: (p.grad.numpy().copy() if p.grad is not None else np.zeros(tuple(p.shape)))
             for name, p in twin.named_parameters()}
    return dx, grads


def torch_pass(model: nn.Module, x: np.ndarray, dout_rng, backward: bool, mirror=None) -> dict:
    model.zero_grad(set_to_none=True)
    sigmoid = backward and mirror is None and any(isinstance(m, nn.Sigmoid) for m in model.modules())
    twin = copy.deepcopy(model) if sigmoid else None
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=backward)
    recorded: dict = {}
    hooks = _record_terms(model, recorded) if backward else []
    try:
        out = mirror.forward(xt) if mirror is not None and model.training else model(xt)
        result = {"out": out.detach().numpy().copy()}
        if backward:
            dout = dout_rng.standard_normal(tuple(out.shape))
            backward_with(out, torch.from_numpy(dout))
    finally:
        for hook in hooks:
            hook.remove()
    if backward:
        result["dout"] = dout
        result["dx"] = xt.grad.numpy().copy() if xt.grad is not None else np.zeros(x.shape)
        result["grads"] = {name: (p.grad.numpy().copy() if p.grad is not None else np.zeros(tuple(p.shape)))
                           for name, p in model.named_parameters()}
        result["dx_floor"] = DEFAULT_FLOOR
        result["floors"] = gradient_floors(result["grads"], term_scales(recorded))
        if twin is not None:
            dx_scale, steep_grads = steepest_sigmoid_scales(twin, x, dout)
            result["dx_floor"] = max(dx_scale, DEFAULT_FLOOR)
            steep = gradient_floors(steep_grads)
            result["floors"] = {name: max(floor, steep[name]) for name, floor in result["floors"].items()}
    result["state"] = numpy_state(model)
    return result


def compare_gradient(label: str, got, expected: np.ndarray, floor: float, tol: float,
                     previous: np.ndarray | None = None) -> None:
    try:
        compare(label, got, expected, tol=tol, floor=floor)
    except Mismatch as mismatch:
        if previous is not None and isinstance(got, np.ndarray) and got.shape == expected.shape:
            scale = max(float(np.max(np.abs(expected))), floor)
            if np.allclose(got, expected + previous, rtol=0, atol=RECOGNISE_TOL * scale):
                mismatch.summary += _(": it is the sum of this pass's and the previous pass's gradients. "
                                      "backward must overwrite the gradients of the previous pass, not add "
                                      "to them (this kit does not accumulate as torch's .grad does)")
            elif np.allclose(got, previous, rtol=0, atol=RECOGNISE_TOL * scale):
                mismatch.summary += _(": it is still the previous pass's gradient (not stored again?)")
        raise


def read_gradients(session: Session, model: Ref, names: list) -> dict:
    value = session.get(model, "gradients", depth=1).value
    if not isinstance(value, dict):
        raise Mismatch(_("gradients should be a dict from parameter names to arrays, got a {type}").format(
            type=describe_type(value)))
    missing = [name for name in names if name not in value]
    if missing:
        raise Mismatch(_("gradients has no entry for {missing} (its keys: {keys})").format(
            missing=some(missing), keys=some(list(value))))
    unexpected = [name for name in value if name not in names]
    if unexpected:
        raise Mismatch(_("gradients has entries for {unexpected}, which are not parameters: its keys "
                         "must be torch's named_parameters(), {names}").format(
            unexpected=some(unexpected), names=some(names)))
    for name in names:
        if value[name] is None:
            raise Mismatch(_("gradients[{name!r}] is None after backward: backward must store the gradient "
                             "of every parameter (self.gradients[...] = ...)").format(name=name))
        if isinstance(value[name], Opaque):
            raise Mismatch(_("gradients[{name!r}] should be a numpy array, not a {type}").format(
                name=name, type=value[name].type_name))
    return value


def _tolerance(example: S.ModuleExample) -> float:
    """Looser only where a BatchNorm sees few values per channel (in training mode)."""
    if any(spec.cls in ("BatchNorm1d", "BatchNorm2d") for spec in example.spec.walk()):
        return batchnorm_tolerance(example.shapes)
    return DEFAULT_TOL


def run_module_example(ctx: Context, example: S.ModuleExample) -> None:
    """One example of a layer class against its torch counterpart: its state and parameters'
    names and shapes, then, in training and in evaluation mode, three passes (two with a backward,
    one forward only), each judged property by property by the functions below."""
    tol = _tolerance(example)
    with Session(ctx) as session:
        model, student, loaded = _built_alike(session, example)
        param_names = [name for name, _unused in model.named_parameters()]
        spec = example.spec
        mirror = DropoutMirror(spec.args[0] if spec.args else 0.5, example.seed) if spec.cls == "Dropout" else None
        dout_rng = np.random.default_rng(example.seed + 2)
        xs = example.inputs()
        passes = [(xs[0], True), (xs[1], True), (xs[0], False)]
        for mode in MODES:
            getattr(model, mode)()
            session.method(student, mode)
            first = None
            previous_grads = None
            last_grads = None
            for index, (x, backward) in enumerate(passes):
                where = _("{mode}, {passing}").format(mode=mode_name(mode), passing=pass_name(index))
                expected = torch_pass(model, x, dout_rng, backward, mirror)
                returned = {"out": _forward_matches(session, student, x, expected, where, tol, mirror, mode)}
                if backward:
                    returned["dx"] = _dx_matches(session, student, expected, where, tol)
                    grads = read_gradients(session, student, param_names)
                    _gradients_match(grads, expected, param_names, where, tol, previous_grads)
                    previous_grads = expected["grads"]
                    last_grads = {name: grads[name] for name in param_names}
                elif last_grads is not None:
                    _gradients_kept_by_a_forward(session, student, param_names, last_grads, where)
                _state_matches(session, student, expected, param_names, loaded, where, tol)
                if first is None:
                    first = returned
            _returned_arrays_kept(session, first, mode)


def _built_alike(session: Session, example: S.ModuleExample):
    """Builds the layer on both sides; its state dict's and its parameters' names and shapes must
    be torch's. Loads the same random state into both; returns (torch's, the student's, that state)."""
    spec = example.spec
    model = build_torch(spec)
    student = build_student(session, spec)
    expected_state = comparable_state_dict(model)
    compare_keys(student_state_shapes(session, student), {k: v.shape for k, v in expected_state.items()},
                 spec.text())
    param_shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    compare_keys(read_shapes(session.get(student, "parameters", depth=1, shapes=True).value, "parameters"),
                 param_shapes, spec.text(), "parameters")
    randomise(model, np.random.default_rng(example.seed + 1))
    loaded = numpy_state(model)
    if loaded:
        session.method(student, "load_state_dict", loaded)
    return model, student, loaded


def _forward_matches(session: Session, student: Ref, x, expected: dict, where: str, tol: float, mirror,
                     mode: str) -> tuple:
    """forward(x) leaves x alone and returns torch's output; returns (its Ref, its value)."""
    forward = session.method(student, "forward", x, echo_args=True)
    require_unchanged("forward", ["x"], [x], forward.args_after)
    try:
        compare(_("{name} ({where})").format(name="out", where=where), forward.value, expected["out"], tol=tol)
    except Mismatch as mismatch:
        if mirror is not None and mode == "train":
            mismatch.lines.append(_("    (the mask must be keep = self.rng.random(x.shape) >= p, drawn "
                                    "once per training forward from the module's own rng, and never "
                                    "drawn in evaluation mode)"))
        raise
    return Ref(forward.handle), forward.value


def _dx_matches(session: Session, student: Ref, expected: dict, where: str, tol: float) -> tuple:
    """backward(dout) leaves dout alone and returns torch's dx; returns (its Ref, its value)."""
    back = session.method(student, "backward", expected["dout"], echo_args=True)
    require_unchanged("backward", ["dout"], [expected["dout"]], back.args_after)
    compare(_("{name} ({where})").format(name="dx", where=where), back.value, expected["dx"], tol=tol, floor=expected["dx_floor"])
    return Ref(back.handle), back.value


def _gradients_match(grads: dict, expected: dict, param_names: list, where: str, tol: float,
                     previous_grads: dict | None) -> None:
    """After a backward, every parameter's gradient is torch's (not the previous pass's)."""
    floors = expected["floors"]
    for name in param_names:
        compare_gradient(_("{name} ({where})").format(name=f"gradients[{name!r}]", where=where), grads[name], expected["grads"][name],
                         floors[name], tol, previous_grads.get(name) if previous_grads else None)


def _gradients_kept_by_a_forward(session: Session, student: Ref, param_names: list, last_grads: dict,
                                 where: str) -> None:
    """A forward alone leaves the gradients as the last backward set them."""
    grads = read_gradients(session, student, param_names)
    for name in param_names:
        if not np.array_equal(grads[name], last_grads[name]):
            raise Mismatch(_("gradients[{name!r}] changed during a forward ({where}): only "
                             "backward may set the gradients").format(name=name, where=where))


def _state_matches(session: Session, student: Ref, expected: dict, param_names: list, loaded: dict,
                   where: str, tol: float) -> None:
    """After a pass the parameters are as loaded (a layer never changes them) and the buffers
    (running statistics) are torch's."""
    state = session.method(student, "state_dict").value
    if not isinstance(state, dict):
        raise Mismatch(_("state_dict() should return a dict, got a {type}").format(type=describe_type(state)))
    for key, value in expected["state"].items():
        if key in param_names:
            if not (isinstance(state.get(key), np.ndarray) and np.array_equal(state[key], loaded[key])):
                raise Mismatch(_("the parameter {key!r} changed during forward/backward ({where}): "
                                 "a layer must not change its parameters (an optimiser does)").format(
                    key=key, where=where))
        else:
            compare(_("state_dict()[{key!r}] after the forward ({where})").format(key=key, where=where),
                    state.get(key), value, tol=tol)


def _returned_arrays_kept(session: Session, first: dict, mode: str) -> None:
    """The arrays the first forward and backward of a mode returned are unchanged by the calls
    after them (a new array each time, not a reused buffer)."""
    for what, (handle, value) in first.items():
        again = session.get(handle).value
        if not (isinstance(again, np.ndarray) and isinstance(value, np.ndarray)
                and again.shape == value.shape and np.array_equal(again, value)):
            call = "forward" if what == "out" else "backward"
            raise Mismatch(_(
                "the array returned by the 1st {call} ({mode}) was changed by the calls "
                "after it: return a new array each time (a buffer reused between calls, or an "
                "in-place update of an array kept in the cache, changes what the caller holds)").format(
                call=call, mode=mode_name(mode)))


def module_check(check_id: str, strategy, max_examples: int = 12, examples=()):
    @check(check_id)
    def run(ctx: Context) -> None:
        ctx.for_all(strategy, lambda example: run_module_example(ctx, example), max_examples=max_examples,
                    examples=examples)
    return run


# The drawn Dropouts pass p; the contract's default (p=0.5) is judged here, run after them.
DROPOUT_DEFAULTS = (S.ModuleExample(S.Spec("Dropout", (), (("rng", S.SeededRng(3)),)), ((4, 5), (5, 5)), 1.0, 3),)


module_check("modules.linear", S.linear_module_examples())
module_check("modules.conv2d", S.conv_module_examples(), max_examples=15)
module_check("modules.max_pool2d", S.pool_module_examples("MaxPool2d"))
module_check("modules.avg_pool2d", S.pool_module_examples("AvgPool2d"))
module_check("modules.adaptive_avg_pool2d", S.adaptive_module_examples())
module_check("modules.batchnorm1d", S.batchnorm_module_examples(spatial=False), max_examples=15)
module_check("modules.batchnorm2d", S.batchnorm_module_examples(spatial=True), max_examples=15)
module_check("modules.relu", S.elementwise_module_examples("ReLU"), max_examples=8)
module_check("modules.sigmoid", S.elementwise_module_examples("Sigmoid"), max_examples=8)
module_check("modules.flatten", S.elementwise_module_examples("Flatten", min_rank=2), max_examples=8)
module_check("modules.sequential", S.sequential_module_examples(), max_examples=10)


# Dropout's own generator when rng is left out: masks of DEFAULT_RNG_SHAPE ones (2,000 draws).
DEFAULT_RNG_P = 0.3
DEFAULT_RNG_SHAPE = (40, 50)
DEFAULT_RNG_SEEDS = (20242, 20243)


@check("modules.dropout")
def dropout(ctx: Context) -> None:
    ctx.for_all(S.dropout_module_examples(), lambda example: run_module_example(ctx, example),
                max_examples=12, examples=DROPOUT_DEFAULTS)
    _default_rng_masks(ctx)


def _default_rng_masks(ctx: Context) -> None:
    """``Dropout(p)`` with ``rng`` left out (the constructor is given code; the contract's
    ``rng=None``) draws from a generator of its own: judged by its masks, not by how the
    generator is made. About ``p`` of each mask is zero; every training forward of every layer
    draws a new mask; after ``manual_seed(seed)`` the same layers draw the same masks again,
    after another seed other masks (skipped where the submission broke the given manual_seed)."""
    p, x = DEFAULT_RNG_P, np.ones(DEFAULT_RNG_SHAPE)
    call = f"Dropout({p})"
    if getattr(ctx.worker, "recorder", None) is not None:
        ctx.worker.recorder.clear()   # a failure's replay runs these calls, not the last drawn example's
    def example(*seeds) -> str:
        return "; ".join(f"modules.manual_seed({seed}), 2 x {call} each .train() then .forward(np.ones({x.shape})) "
                         "2 x" for seed in seeds)

    with Session(ctx) as session:
        def masks(seed) -> tuple[bool, list]:
            """Two layers built after ``manual_seed(seed)``, two training forwards each."""
            seeded = seed_layers(ctx, seed)
            drawn = []
            for _layer in range(2):
                layer = session.construct("Dropout", p)
                session.method(layer, "train")
                for _forward in range(2):
                    out = session.method(layer, "forward", x).value
                    if not (isinstance(out, np.ndarray) and out.shape == x.shape):
                        raise Failed(_("{call}.forward(x) with rng left out should return an array of x's "
                                       "shape {shape}, got {got}").format(
                            call=call, shape=x.shape, got=describe_type(out)), example=example(seed))
                    drawn.append(out != 0)
            return seeded, drawn

        _seeded, fresh = masks(None)
        for mask in fresh:
            share = 1.0 - float(mask.mean())
            if abs(share - p) > SIGMA_BAND * math.sqrt(p * (1 - p) / mask.size):
                raise Failed(_("{call} with rng left out zeroed {share:.1%} of {n} ones in training mode, "
                               "expected about {p:.0%}").format(call=call, share=share, n=mask.size, p=p),
                             example=example(None))
        if any(np.array_equal(a, b) for i, a in enumerate(fresh) for b in fresh[i + 1:]):
            raise Failed(_("{call} with rng left out drew the same mask twice (two forwards of one layer, "
                           "or two layers): rng=None means a generator of the layer's own, "
                           "numpy.random.default_rng(), that draws a new mask at every training forward").format(
                call=call), example=example(None))
        first, again, other = (masks(seed) for seed in (DEFAULT_RNG_SEEDS[0],) + DEFAULT_RNG_SEEDS)
        if not (first[0] and again[0] and other[0]):
            return
        if not all(np.array_equal(a, b) for a, b in zip(first[1], again[1])):
            raise Failed(_("after the same modules.manual_seed({seed}), {call} with rng left out drew other "
                           "masks: its generator must come from the seed, as the given constructor "
                           "makes it").format(seed=DEFAULT_RNG_SEEDS[0], call=call),
                         example=example(DEFAULT_RNG_SEEDS[0], DEFAULT_RNG_SEEDS[0]))
        if all(np.array_equal(a, b) for a, b in zip(first[1], other[1])):
            raise Failed(_("{call} with rng left out drew the same masks after manual_seed({seed}) and "
                           "manual_seed({other}): its generator must come from the seed").format(
                call=call, seed=DEFAULT_RNG_SEEDS[0], other=DEFAULT_RNG_SEEDS[1]), example=example(*DEFAULT_RNG_SEEDS))


# ---------------------------------------------------------------------------------------
# Initialisation (given code; counted once the layer's forward runs)
# ---------------------------------------------------------------------------------------

def _requires_forward(session: Session, layer: Ref, x: np.ndarray) -> None:
    """A layer whose forward is not written yet scores nothing here either."""
    try:
        session.method(layer, "forward", x)
    except StudentException as error:
        if error.type_name == "NotImplementedError":
            raise


def _uniform_statistics(label: str, values, bound: float, rule: str) -> None:
    """``values`` look like U(-bound, bound): inside the bound, filling it, with its spread."""
    if not isinstance(values, np.ndarray) or values.dtype != np.float64:
        raise Mismatch(_("{label} should be a float64 array, got a {type}").format(label=label, type=describe_type(values)))
    flat = values.ravel()
    n = flat.size
    largest = float(np.max(np.abs(flat)))
    std, wanted = float(flat.std()), bound / math.sqrt(3.0)
    # the sample std of n uniform draws has relative sd sqrt(0.8 / (4 n)).
    std_tol = SIGMA_BAND * math.sqrt(0.8 / (4.0 * n)) + STD_SLACK
    inner = float(np.mean(np.abs(flat) < bound / 2))
    lines = [_("    {n} values: largest |value| {largest:.4g}, std {std:.4g}, mean {mean:.3g}; "
               "U(-{bound:.4g}, {bound:.4g}) has std {wanted:.4g}").format(
        n=n, largest=largest, std=std, mean=float(flat.mean()), bound=bound, wanted=wanted)]
    if not np.all(np.isfinite(flat)):
        raise Mismatch(_("{label} holds NaN or inf").format(label=label), lines)
    if largest > bound * (1 + ROUND_OFF_TOL):
        raise Mismatch(_("{label} has values outside ±{bound:.4g} = ±{rule}: not drawn as torch does "
                         "(Kaiming-uniform: U(-1/sqrt(fan_in), 1/sqrt(fan_in)))").format(
            label=label, bound=bound, rule=rule), lines)
    if abs(std / wanted - 1) > std_tol or largest < BOUND_FILL * bound:
        raise Mismatch(_("{label} is not spread as U(-{rule}, {rule}): its std is {std:.4g}, "
                         "expected {wanted:.4g} (is fan_in = in_channels * kernel height * kernel width, "
                         "or in_features?)").format(label=label, rule=rule, std=std, wanted=wanted), lines)
    if abs(float(flat.mean())) > SIGMA_BAND * wanted / math.sqrt(n) \
            or abs(inner - 0.5) > SIGMA_BAND * math.sqrt(0.25 / n):
        raise Mismatch(_("{label} is not uniform on ±{rule} (mean or share of small values off)").format(
            label=label, rule=rule), lines)


def _state(session: Session, layer: Ref, owner: str, keys: list, shapes: dict) -> dict:
    state = session.method(layer, "state_dict").value
    if not isinstance(state, dict):
        raise Mismatch(_("state_dict() of {owner} should return a dict, got a {type}").format(
            owner=owner, type=describe_type(state)))
    compare_keys(read_shapes({k: ({"shape": v.shape, "dtype": v.dtype.str} if isinstance(v, np.ndarray) else v)
                              for k, v in state.items()}, f"{owner}.state_dict()"),
                 {k: shapes[k] for k in keys}, owner)
    return state


@check("modules.linear_init")
def linear_init(ctx: Context) -> None:
    with Session(ctx) as session:
        seed_layers(ctx, 20240)
        layer = session.construct("Linear", 400, 2000)
        _requires_forward(session, layer, np.zeros((1, 400)))
        state = _state(session, layer, "Linear(400, 2000)", ["weight", "bias"],
                       {"weight": (2000, 400), "bias": (2000,)})
        bound = 1 / math.sqrt(400)
        _uniform_statistics("Linear(400, 2000).weight", state["weight"], bound, "1/sqrt(in_features)")
        _uniform_statistics("Linear(400, 2000).bias", state["bias"], bound, "1/sqrt(in_features)")
        other = session.construct("Linear", 30, 20, bias=False)
        _state(session, other, "Linear(30, 20, bias=False)", ["weight"], {"weight": (20, 30)})


@check("modules.conv2d_init")
def conv2d_init(ctx: Context) -> None:
    with Session(ctx) as session:
        seed_layers(ctx, 20241)
        layer = session.construct("Conv2d", 24, 256, (3, 5))
        _requires_forward(session, layer, np.zeros((1, 24, 3, 5)))
        state = _state(session, layer, "Conv2d(24, 256, (3, 5))", ["weight", "bias"],
                       {"weight": (256, 24, 3, 5), "bias": (256,)})
        bound = 1 / math.sqrt(24 * 3 * 5)
        rule = "1/sqrt(in_channels * kh * kw)"
        _uniform_statistics("Conv2d(24, 256, (3, 5)).weight", state["weight"], bound, rule)
        _uniform_statistics("Conv2d(24, 256, (3, 5)).bias", state["bias"], bound, rule)
        other = session.construct("Conv2d", 3, 8, 3, stride=2, padding=1, bias=False)
        _state(session, other, "Conv2d(3, 8, 3, stride=2, padding=1, bias=False)", ["weight"],
               {"weight": (8, 3, 3, 3)})


@check("modules.batchnorm_init")
def batchnorm_init(ctx: Context) -> None:
    keys = ["weight", "bias", "running_mean", "running_var"]
    wanted = {"weight": 1.0, "bias": 0.0, "running_mean": 0.0, "running_var": 1.0}
    with Session(ctx) as session:
        for cls, args, kwargs, x in (("BatchNorm2d", (5,), {}, np.ones((2, 5, 2, 2))),
                                     ("BatchNorm1d", (7,), {"eps": 1e-3, "momentum": 0.2}, np.ones((3, 7)))):
            owner = S.Spec(cls, args, tuple(kwargs.items())).text()
            layer = session.construct(cls, *args, **kwargs)
            _requires_forward(session, layer, x)
            layer = session.construct(cls, *args, **kwargs)
            state = _state(session, layer, owner, keys, {k: (args[0],) for k in keys})
            for key in keys:
                if not np.array_equal(state[key], np.full(args[0], wanted[key])):
                    raise Mismatch(_("{owner}: {key} should start as all {wanted:g} (as torch), "
                                     "got {got}").format(owner=owner, key=key, wanted=wanted[key],
                                                         got=np.round(state[key], 4).tolist()))
