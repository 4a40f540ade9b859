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
count once the layer's forward runs. The helpers here (a session that releases the
worker's handles, key comparison, reading large state without shipping it) are
shared with ``networks.py``.
"""

from __future__ import annotations

import copy
import functools
import math

import numpy as np
import torch
from torch import nn

from grader.checks import strategies as S
from grader.checks.base import Context, check, require_unchanged, seed_layers
from grader.checks.metric import DEFAULT_FLOOR, DEFAULT_TOL, Mismatch, compare, describe_type
from grader.references import modules as ref
from grader.references.networks import comparable_state_dict
from grader.worker.client import StudentException
from grader.worker.protocol import Opaque, Ref, Rng

# With two values per channel, BatchNorm's backward is ill-conditioned (torch itself is off by ~3e-6).
ILL_CONDITIONED_TOL = 1e-4
# A parameter gradient that cancels to almost nothing is compared on this share of the size of
# the terms it sums (see gradient_floors).
TERMS_SHARE = 1e-3
MODES = ("eval", "train")
MODE_NAMES = {"eval": "evaluation mode", "train": "training mode"}
PASS_NAMES = ("1st pass", "2nd pass", "3rd pass (forward only)")


# ---------------------------------------------------------------------------------------
# Talking to the worker
# ---------------------------------------------------------------------------------------

def torch_check(check_id: str):
    """Registers a check whose torch work runs on one thread: the reference's tensors are
    small, and torch's thread pool makes each tiny call ~20x slower (more on a busy machine)."""
    def register(function):
        @functools.wraps(function)
        def run(ctx: Context) -> None:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                function(ctx)
            finally:
                torch.set_num_threads(threads)
        return check(check_id)(run)
    return register


class Session:
    """The check's calls into the worker; every handle it creates is released by :meth:`close`
    (a state dict or a gradient kept under a handle would keep a whole network alive)."""

    def __init__(self, ctx: Context, stem: str = "modules"):
        self.ctx = ctx
        self.stem = stem
        self.handles: list[int] = []

    def _keep(self, returned):
        if isinstance(returned.handle, int):
            self.handles.append(returned.handle)
        return returned

    def call(self, target, *args, **kwargs):
        return self._keep(self.ctx.call(target, *args, **kwargs))

    def method(self, ref: Ref, name: str, *args, **kwargs):
        return self._keep(self.ctx.call((ref, name), *args, **kwargs))

    def get(self, ref: Ref, attr: str | None = None, depth: int = 1, shapes: bool = False):
        return self._keep(self.ctx.worker.get(ref, attr, depth=depth, shapes=shapes))

    def construct(self, cls: str, *args, timeout: float | None = None, **kwargs) -> Ref:
        returned = self.call(f"{self.stem}.{cls}", *args, timeout=timeout, **kwargs)
        return Ref(returned.handle)

    def close(self) -> None:
        handles, self.handles = self.handles, []
        self.ctx.worker.release(*handles)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def student_arg(session: Session, value):
    """A spec's argument as the worker needs it: nested layers built first, seeds as generators."""
    if isinstance(value, S.Spec):
        return build_student(session, value)
    if isinstance(value, S.SeededRng):
        return Rng(value.seed)
    return value


def build_student(session: Session, spec: S.Spec) -> Ref:
    args = [student_arg(session, a) for a in spec.args]
    kwargs = {k: student_arg(session, v) for k, v in spec.kwargs}
    return session.construct(spec.cls, *args, **kwargs)


def build_torch(spec: S.Spec) -> nn.Module:
    args = [build_torch(a) if isinstance(a, S.Spec) else a for a in spec.args]
    kwargs = {k: (None if isinstance(v, S.SeededRng) else v) for k, v in spec.kwargs}
    return ref.build(spec.cls, *args, **kwargs)


def randomise(model: nn.Module, rng: np.random.Generator) -> None:
    """Random parameters and buffers (BatchNorm: positive scales and variances), so that
    loading them matters and evaluation mode uses non-trivial running statistics. Drawn
    straight into the tensors' memory (a network's worth of numbers)."""

    def normal(tensor, std):
        array = tensor.detach().numpy()
        rng.standard_normal(out=array)
        array *= std

    def uniform(tensor, low, high):
        array = tensor.detach().numpy()
        rng.random(out=array)
        array *= high - low
        array += low

    with torch.no_grad():
        for module in model.modules():
            norm = isinstance(module, nn.modules.batchnorm._BatchNorm)
            for local, param in module.named_parameters(recurse=False):
                if norm:
                    uniform(param, 0.5, 1.5) if local == "weight" else normal(param, 0.5)
                elif param.dim() >= 2:
                    normal(param, math.sqrt(2.0 / math.prod(param.shape[1:])))
                else:
                    uniform(param, -0.5, 0.5)
            for local, buffer in module.named_buffers(recurse=False):
                if local == "running_mean":
                    normal(buffer, 0.5)
                elif local == "running_var":
                    uniform(buffer, 0.5, 2.0)
                elif local == "num_batches_tracked":
                    buffer.zero_()


def numpy_state(model: nn.Module) -> dict:
    return {k: v.detach().numpy().copy() for k, v in comparable_state_dict(model).items()}


# ---------------------------------------------------------------------------------------
# Keys, shapes, parameter counts
# ---------------------------------------------------------------------------------------

def read_shapes(value, what: str) -> dict:
    """``{key: shape}`` from a state dict (or gradients) read with ``shapes=True``; a
    missing value (None) stays None."""
    if not isinstance(value, dict):
        raise Mismatch(f"{what} should be a dict of arrays, but it is a {describe_type(value)}")
    shapes = {}
    for key, item in value.items():
        if item is None:
            shapes[key] = None
        elif (isinstance(item, dict) and set(item) == {"shape", "dtype"} and isinstance(item["shape"], tuple)
              and all(isinstance(n, int) for n in item["shape"]) and isinstance(item["dtype"], str)):
            if np.dtype(item["dtype"]) != np.float64:
                raise Mismatch(f"{what}[{key!r}] has dtype {np.dtype(item['dtype'])}, expected float64")
            shapes[key] = item["shape"]
        else:
            raise Mismatch(f"{what}[{key!r}] should be a numpy array, but it is a {describe_type(item)}")
    return shapes


def student_state_shapes(session: Session, model: Ref, what: str = "state_dict()") -> dict:
    return read_shapes(session.method(model, "state_dict", depth=1, shapes=True).value, what)


def compare_keys(got: dict, expected: dict, owner: str) -> None:
    """Same keys, same order, same shapes as torch's state dict (minus num_batches_tracked)."""
    got_keys, want_keys = list(got), list(expected)
    if got_keys != want_keys:
        missing = [k for k in want_keys if k not in got]
        unexpected = [k for k in got_keys if k not in expected]
        lines = []
        if missing:
            lines.append(f"    missing ({len(missing)}): {_some(missing)}")
        if unexpected:
            lines.append(f"    unexpected ({len(unexpected)}): {_some(unexpected)}")
        if not missing and not unexpected:
            index = next(i for i, (a, b) in enumerate(zip(got_keys, want_keys)) if a != b)
            lines.append(f"    the same keys in another order: at position {index} torch has {want_keys[index]!r}, "
                         f"yours {got_keys[index]!r} (the state dict follows the order in which __init__ "
                         "assigns the sub-modules)")
        raise Mismatch(f"the state_dict() keys of {owner} differ from torch's "
                       f"({len(got_keys)} keys, torch has {len(want_keys)})", lines)
    for key in want_keys:
        if got[key] != tuple(expected[key]):
            raise Mismatch(f"state_dict()[{key!r}] of {owner} has shape {got[key]}, torch's has "
                           f"{tuple(expected[key])}")


def _some(keys: list, count: int = 6) -> str:
    shown = ", ".join(repr(k) for k in keys[:count])
    return shown + (f", ... ({len(keys) - count} more)" if len(keys) > count else "")


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
    hooks = [m.register_full_backward_hook(lambda module, grad_in, grad_out: (0.25 * grad_out[0],))
             for m in twin.modules() if isinstance(m, nn.Sigmoid)]
    try:
        twin.zero_grad(set_to_none=True)
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        twin(xt).backward(torch.from_numpy(dout))
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
            out.backward(torch.from_numpy(dout))
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


def gradient_floors(grads: dict, terms: dict | None = None) -> dict:
    """The scale each parameter's gradient is compared against: the largest gradient of its
    own module. A conv bias feeding a training-mode BatchNorm has an exactly-zero gradient
    (only round-off is left), which must be compared absolutely, on its layer's scale.

    ``terms`` (from :func:`term_scales`) bounds the |terms| each gradient sums. A layer whose
    every output unit has one weight (fan_in 1: ``Linear(1, k)``) feeding a training-mode
    BatchNorm has a weight gradient that is zero but for eps's share: on inputs of scale 1e3
    the terms (~1) cancel to ~1e-9, and float64 round-off (~1e-16 of the terms, in whatever
    order they are summed; torch and the reference disagree as much) is 1e-7 of the result.
    So the scale is never below ``TERMS_SHARE`` of the terms: an error must stay under
    ``tol * TERMS_SHARE`` (1e-10) of the terms' size, still a million times round-off."""
    owner = {name: name.rpartition(".")[0] for name in grads}
    scale: dict = {}
    for name, value in grads.items():
        size = float(np.max(np.abs(value))) if value.size else 0.0
        scale[owner[name]] = max(scale.get(owner[name], 0.0), size)
    terms = terms or {}
    return {name: max(scale[owner[name]], TERMS_SHARE * terms.get(name, 0.0), DEFAULT_FLOOR) for name in grads}


def compare_gradient(label: str, got, expected: np.ndarray, floor: float, tol: float,
                     previous: np.ndarray | None = None) -> None:
    try:
        compare(label, got, expected, tol=tol, floor=floor)
    except Mismatch as mismatch:
        if previous is not None and isinstance(got, np.ndarray) and got.shape == expected.shape:
            scale = max(float(np.max(np.abs(expected))), floor)
            if np.allclose(got, expected + previous, rtol=0, atol=1e-6 * scale):
                mismatch.summary += (": it is the sum of this pass's and the previous pass's gradients. "
                                     "backward must overwrite the gradients of the previous pass, not add "
                                     "to them (this kit does not accumulate as torch's .grad does)")
            elif np.allclose(got, previous, rtol=0, atol=1e-6 * scale):
                mismatch.summary += ": it is still the previous pass's gradient (not stored again?)"
        raise


def read_gradients(session: Session, model: Ref, names: list) -> dict:
    value = session.get(model, "gradients", depth=1).value
    if not isinstance(value, dict):
        raise Mismatch(f"gradients should be a dict from parameter names to arrays, got a {describe_type(value)}")
    missing = [name for name in names if name not in value]
    if missing:
        raise Mismatch(f"gradients has no entry for {_some(missing)} (its keys: {_some(list(value))})")
    for name in names:
        if value[name] is None:
            raise Mismatch(f"gradients[{name!r}] is None after backward: backward must store the gradient "
                           f"of every parameter (self.gradients[...] = ...)")
        if isinstance(value[name], Opaque):
            raise Mismatch(f"gradients[{name!r}] should be a numpy array, not a {value[name].type_name}")
    return value


def _tolerance(example: S.ModuleExample) -> float:
    """Looser only where a training-mode BatchNorm sees two values per channel."""
    for spec in example.spec.walk():
        if spec.cls in ("BatchNorm1d", "BatchNorm2d"):
            for shape in example.shapes:
                if len(shape) >= 2 and math.prod(shape) // shape[1] <= 2:
                    return ILL_CONDITIONED_TOL
    return DEFAULT_TOL


def run_module_example(ctx: Context, example: S.ModuleExample) -> None:
    spec = example.spec
    tol = _tolerance(example)
    with Session(ctx) as session:
        model = build_torch(spec)
        student = build_student(session, spec)
        expected_state = comparable_state_dict(model)
        compare_keys(student_state_shapes(session, student), {k: v.shape for k, v in expected_state.items()},
                     spec.text())
        randomise(model, np.random.default_rng(example.seed + 1))
        loaded = numpy_state(model)
        if loaded:
            session.method(student, "load_state_dict", loaded)
        param_names = [name for name, _ in model.named_parameters()]
        mirror = DropoutMirror(spec.args[0] if spec.args else 0.5, example.seed) if spec.cls == "Dropout" else None
        dout_rng = np.random.default_rng(example.seed + 2)
        xs = example.inputs()
        plan = [(xs[0], True), (xs[1], True), (xs[0], False)]
        for mode in MODES:
            getattr(model, mode)()
            session.method(student, mode)
            first = None
            previous_grads = None
            last_grads = None
            for index, (x, backward) in enumerate(plan):
                where = f"{MODE_NAMES[mode]}, {PASS_NAMES[index]}"
                expected = torch_pass(model, x, dout_rng, backward, mirror)
                forward = session.method(student, "forward", x, echo_args=True)
                require_unchanged("forward", ["x"], [x], forward.args_after)
                try:
                    compare(f"out ({where})", forward.value, expected["out"], tol=tol)
                except Mismatch as mismatch:
                    if mirror is not None and mode == "train":
                        mismatch.lines.append("    (the mask must be keep = self.rng.random(x.shape) >= p, drawn "
                                              "once per training forward from the module's own rng, and never "
                                              "drawn in evaluation mode)")
                    raise
                returned = {"out": (Ref(forward.handle), forward.value)}
                if backward:
                    back = session.method(student, "backward", expected["dout"], echo_args=True)
                    require_unchanged("backward", ["dout"], [expected["dout"]], back.args_after)
                    compare(f"dx ({where})", back.value, expected["dx"], tol=tol, floor=expected["dx_floor"])
                    returned["dx"] = (Ref(back.handle), back.value)
                    grads = read_gradients(session, student, param_names)
                    floors = expected["floors"]
                    for name in param_names:
                        compare_gradient(f"gradients[{name!r}] ({where})", grads[name], expected["grads"][name],
                                         floors[name], tol,
                                         previous_grads.get(name) if previous_grads else None)
                    previous_grads = expected["grads"]
                    last_grads = {name: grads[name] for name in param_names}
                elif last_grads is not None:
                    grads = read_gradients(session, student, param_names)
                    for name in param_names:
                        if not np.array_equal(grads[name], last_grads[name]):
                            raise Mismatch(f"gradients[{name!r}] changed during a forward ({where}): only "
                                           "backward may set the gradients")
                state = session.method(student, "state_dict").value
                if not isinstance(state, dict):
                    raise Mismatch(f"state_dict() should return a dict, got a {describe_type(state)}")
                for key, value in expected["state"].items():
                    if key in param_names:
                        if not (isinstance(state.get(key), np.ndarray) and np.array_equal(state[key], loaded[key])):
                            raise Mismatch(f"the parameter {key!r} changed during forward/backward ({where}): "
                                           "a layer must not change its parameters (an optimiser does)")
                    else:
                        compare(f"state_dict()[{key!r}] after the forward ({where})", state.get(key), value,
                                tol=tol)
                if first is None:
                    first = returned
            for what, (handle, value) in first.items():
                again = session.get(handle).value
                if not (isinstance(again, np.ndarray) and isinstance(value, np.ndarray)
                        and again.shape == value.shape and np.array_equal(again, value)):
                    call = "forward" if what == "out" else "backward"
                    raise Mismatch(
                        f"the array returned by the 1st {call} ({MODE_NAMES[mode]}) was changed by the calls "
                        "after it: return a new array each time (a buffer reused between calls, or an "
                        "in-place update of an array kept in the cache, changes what the caller holds)")


def module_check(check_id: str, strategy, max_examples: int = 12):
    @torch_check(check_id)
    def run(ctx: Context) -> None:
        ctx.for_all(strategy, lambda example: run_module_example(ctx, example), max_examples=max_examples)
    return run


module_check("modules.linear", S.linear_module_examples())
module_check("modules.conv2d", S.conv_module_examples(), max_examples=15)
module_check("modules.max_pool2d", S.pool_module_examples("MaxPool2d"))
module_check("modules.avg_pool2d", S.pool_module_examples("AvgPool2d"))
module_check("modules.adaptive_avg_pool2d", S.adaptive_module_examples())
module_check("modules.batchnorm1d", S.batchnorm_module_examples(spatial=False), max_examples=15)
module_check("modules.batchnorm2d", S.batchnorm_module_examples(spatial=True), max_examples=15)
module_check("modules.relu", S.elementwise_module_examples("ReLU"), max_examples=8)
module_check("modules.sigmoid", S.elementwise_module_examples("Sigmoid"), max_examples=8)
module_check("modules.dropout", S.dropout_module_examples(), max_examples=12)
module_check("modules.flatten", S.elementwise_module_examples("Flatten", min_rank=2), max_examples=8)
module_check("modules.sequential", S.sequential_module_examples(), max_examples=10)


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
        raise Mismatch(f"{label} should be a float64 array, got a {describe_type(values)}")
    flat = values.ravel()
    n = flat.size
    largest = float(np.max(np.abs(flat)))
    std, wanted = float(flat.std()), bound / math.sqrt(3.0)
    # 6-sigma bands: the sample std of n uniform draws has relative sd sqrt(0.8 / (4 n)).
    std_tol = 6.0 * math.sqrt(0.8 / (4.0 * n)) + 1e-3
    inner = float(np.mean(np.abs(flat) < bound / 2))
    lines = [f"    {n} values: largest |value| {largest:.4g}, std {std:.4g}, mean {float(flat.mean()):.3g}; "
             f"U(-{bound:.4g}, {bound:.4g}) has std {wanted:.4g}"]
    if not np.all(np.isfinite(flat)):
        raise Mismatch(f"{label} holds NaN or inf", lines)
    if largest > bound * (1 + 1e-9):
        raise Mismatch(f"{label} has values outside ±{bound:.4g} = ±{rule}: not drawn as torch does "
                       "(Kaiming-uniform: U(-1/sqrt(fan_in), 1/sqrt(fan_in)))", lines)
    if abs(std / wanted - 1) > std_tol or largest < 0.9 * bound:
        raise Mismatch(f"{label} is not spread as U(-{rule}, {rule}): its std is {std:.4g}, "
                       f"expected {wanted:.4g} (is fan_in = in_channels * kernel height * kernel width, "
                       "or in_features?)", lines)
    if abs(float(flat.mean())) > 6 * wanted / math.sqrt(n) or abs(inner - 0.5) > 6 * math.sqrt(0.25 / n):
        raise Mismatch(f"{label} is not uniform on ±{rule} (mean or share of small values off)", lines)


def _state(session: Session, layer: Ref, owner: str, keys: list, shapes: dict) -> dict:
    state = session.method(layer, "state_dict").value
    if not isinstance(state, dict):
        raise Mismatch(f"state_dict() of {owner} should return a dict, got a {describe_type(state)}")
    compare_keys(read_shapes({k: ({"shape": v.shape, "dtype": v.dtype.str} if isinstance(v, np.ndarray) else v)
                              for k, v in state.items()}, f"{owner}.state_dict()"),
                 {k: shapes[k] for k in keys}, owner)
    return state


@torch_check("modules.linear_init")
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


@torch_check("modules.conv2d_init")
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


@torch_check("modules.batchnorm_init")
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
                    raise Mismatch(f"{owner}: {key} should start as all {wanted[key]:g} (as torch), "
                                   f"got {np.round(state[key], 4).tolist()}")
