"""A whole network (or block) against its torch reference, and where the two part.

 the torch reference gets random weights, they are loaded into the student's
network, and both run forward and backward on the same input: output, input gradient,
every parameter's gradient and (training mode) the running statistics must agree. The
huge fully connected weights of AlexNet and VGG (over ``GIANT`` numbers) are made of
one random block of rows repeated: they are written into the student's live arrays in
the worker (one block crosses, then NumPy copies it), the reference computes the same
function without storing them, and their gradients are compared through random
projections (``dW @ v`` and ``u @ dW``) computed in the worker.

When something differs, the report names the first layer that departs, by its
state_dict prefix: every module of the reference that owns parameters (and every
module above one: blocks, stages, Sequentials, the network) records its input, output
and gradients; the student's module of the same name is then run on the reference's own
input (and upstream gradient). For a forward mismatch, the first module in forward
order whose output is wrong given a right input is where the error starts; for a
backward mismatch, the first one in backward order (the LAST in forward order) whose
gradients are wrong given the right upstream gradient is. A block or network whose
parts all agree but which does not is itself the culprit: the mistake is in how its
forward (or backward) connects them.
"""

from __future__ import annotations

from grader.i18n import _

import zlib
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from grader.checks.harness.base import Context, Failed
from grader.checks.harness.examples import mode_name
from grader.checks.harness.metric import (DEFAULT_FLOOR, DEFAULT_TOL, Mismatch, agree_to_round_off, compare,
                                          gradient_floors, signal_scale)
from grader.checks.harness.session import Session, read_shapes, randomise
from grader.references import networks as refnets
from grader.references._autograd import backward_with
from grader.worker.client import StudentException, WorkerProblem
from grader.worker.protocol import Ref

GIANT = 8_000_000     # numbers: a Linear weight this large is tiled, written and compared in the worker
TILE_ROWS = 64


# ---------------------------------------------------------------------------------------
# The reference: torch models with random weights, huge Linear weights tiled
# ---------------------------------------------------------------------------------------

class TiledLinear(nn.Module):
    """``nn.Linear`` whose weight is ``reps`` copies of a ``(rows, in)`` block stacked
    vertically: row ``k * rows + r`` of the weight is row ``r`` of the block. The same
    function as ``nn.Linear`` with that weight, without storing it."""

    def __init__(self, in_features: int, out_features: int, rows: int, device=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.rows, self.reps = rows, out_features // rows
        self.block = nn.Parameter(torch.empty(rows, in_features, dtype=torch.float64, device=device))
        self.bias = nn.Parameter(torch.empty(out_features, dtype=torch.float64, device=device))

    def forward(self, x):
        return F.linear(x, self.block).repeat(1, self.reps) + self.bias


@dataclass
class Tiled:
    block: np.ndarray
    reps: int

    @property
    def shape(self) -> tuple:
        return (self.block.shape[0] * self.reps, self.block.shape[1])

    def sum(self) -> float:
        return float(self.block.sum()) * self.reps

    def dense(self) -> np.ndarray:
        return np.tile(self.block, (self.reps, 1))


@dataclass
class Reference:
    title: str
    keys: dict                      # torch's comparable state dict: key -> shape, in order
    params: list                    # parameter keys, in order
    count: int                      # number of parameters
    model: nn.Module | None = None
    values: dict = field(default_factory=dict)    # key -> ndarray or Tiled (what is loaded)
    tiled: dict = field(default_factory=dict)     # module name -> TiledLinear
    dropouts: dict = field(default_factory=dict)  # module name -> p of each nn.Dropout


def _no_init(tensor, *args, **kwargs):
    return tensor


def _meta_model(factory) -> nn.Module:
    """The model's structure without its numbers. torch's init functions are skipped (the
    weights are drawn later; kaiming_normal_ on a meta tensor imports sympy, ~2 s)."""
    names = ("kaiming_normal_", "kaiming_uniform_", "normal_", "uniform_", "constant_", "zeros_", "ones_")
    saved = {name: getattr(nn.init, name) for name in names}
    try:
        for name in names:
            setattr(nn.init, name, _no_init)
        with torch.device("meta"), refnets.default_dtype(torch.float64):
            return factory()
    finally:
        for name, function in saved.items():
            setattr(nn.init, name, function)


def _materialise(model: nn.Module) -> None:
    """Meta tensors become uninitialised CPU tensors (``to_empty`` goes through torch's Python
    references on meta tensors, which import sympy: ~2 s)."""
    for module in model.modules():
        for name, param in list(module.named_parameters(recurse=False)):
            setattr(module, name, nn.Parameter(torch.empty(tuple(param.shape), dtype=param.dtype),
                                               requires_grad=param.requires_grad))
        for name, buffer in list(module.named_buffers(recurse=False)):
            module.register_buffer(name, torch.empty(tuple(buffer.shape), dtype=buffer.dtype))


def _tile_rows(out_features: int) -> int:
    return max(d for d in range(1, TILE_ROWS + 1) if out_features % d == 0)


def reference(title: str, factory, seed: int | None = None) -> Reference:
    """The model ``factory()`` builds; with a ``seed``, materialised with random weights."""
    model = _meta_model(factory)
    state = refnets.comparable_state_dict(model)
    keys = {k: tuple(v.shape) for k, v in state.items()}
    params = [name for name, _unused in model.named_parameters()]
    count = sum(p.numel() for p in model.parameters())
    result = Reference(title, keys, params, count,
                       dropouts={name: m.p for name, m in model.named_modules() if isinstance(m, nn.Dropout)})
    if seed is None:
        return result
    for name, module in list(model.named_modules()):
        if isinstance(module, nn.Linear) and module.weight.numel() > GIANT:
            parent, _unused, child = name.rpartition(".")
            tiled = TiledLinear(module.in_features, module.out_features, _tile_rows(module.out_features),
                                device="meta")
            setattr(model.get_submodule(parent), child, tiled)
    _materialise(model)
    for module in model.modules():
        if isinstance(module, nn.ReLU):
            module.inplace = False      # the recording hooks need the activations intact
    randomise(model, np.random.default_rng(seed))
    result.model = model
    result.tiled = {name: m for name, m in model.named_modules() if isinstance(m, TiledLinear)}
    own = model.state_dict()
    for key in keys:
        owner, _unused, local = key.rpartition(".")
        if owner in result.tiled and local == "weight":
            result.values[key] = Tiled(result.tiled[owner].block.detach().numpy().copy(),
                                       result.tiled[owner].reps)
        else:
            result.values[key] = own[key].detach().numpy().copy()
    return result


def _module_names(keys) -> list:
    """Every module that owns an entry of the state dict, and every module above one."""
    names = {""}
    for key in keys:
        parts = key.split(".")[:-1]
        for i in range(1, len(parts) + 1):
            names.add(".".join(parts[:i]))
    return sorted(names)


class Recorder:
    """Forward and full backward hooks on the named modules of the reference: inputs,
    outputs, gradients, and the order in which modules finish, forward and backward."""

    def __init__(self, model: nn.Module, names: list):
        self.modules = dict(model.named_modules())
        self.inputs, self.outputs, self.grad_in, self.grad_out = {}, {}, {}, {}
        self.forward_order: list = []
        self.backward_order: list = []
        self.hooks = []
        for name in names:
            module = self.modules[name]
            self.hooks.append(module.register_forward_hook(self._forward_hook(name)))
            self.hooks.append(module.register_full_backward_hook(self._backward_hook(name)))

    @staticmethod
    def _array(tensor):
        return None if tensor is None else tensor.detach().numpy().copy()

    def _forward_hook(self, name):
        def hook(module, args, output):
            self.inputs[name] = self._array(args[0])
            self.outputs[name] = self._array(output)
            self.forward_order.append(name)
        return hook

    def _backward_hook(self, name):
        def hook(module, grad_input, grad_output):
            self.grad_in[name] = self._array(grad_input[0])
            self.grad_out[name] = self._array(grad_output[0])
            self.backward_order.append(name)
        return hook

    def remove(self) -> None:
        for hook in self.hooks:
            hook.remove()


@dataclass
class Expected:
    out: np.ndarray
    dout: np.ndarray
    dx: np.ndarray
    grads: dict         # key -> ndarray, or ("tiled", module name)
    state: dict         # buffers after the forward
    floors: dict
    recorder: Recorder


def run_reference(ref: Reference, mode: str, x: np.ndarray, seed: int) -> Expected:
    model = ref.model
    getattr(model, mode)()
    model.zero_grad(set_to_none=True)
    recorder = Recorder(model, _module_names(ref.keys))
    try:
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        out = model(xt)
        dout = np.random.default_rng(seed).standard_normal(tuple(out.shape))
        backward_with(out, torch.from_numpy(dout))
    finally:
        recorder.remove()
    named = dict(model.named_parameters())
    grads = {}
    for key in ref.params:
        owner, _unused, local = key.rpartition(".")
        if owner in ref.tiled and local == "weight":
            grads[key] = ("tiled", owner)
        else:
            grad = named[key].grad
            grads[key] = grad.numpy().copy() if grad is not None else np.zeros(ref.keys[key])
    dense = {k: v for k, v in grads.items() if isinstance(v, np.ndarray)}
    floors = gradient_floors(dense)
    for key, value in grads.items():
        if not isinstance(value, np.ndarray):
            floors[key] = max([floors[k] for k in dense if k.rpartition(".")[0] == value[1]] + [DEFAULT_FLOOR])
    own = model.state_dict()
    state = {k: own[k].detach().numpy().copy() for k in ref.keys if k not in ref.params}
    return Expected(out.detach().numpy().copy(), dout, xt.grad.numpy().copy(), grads, state, floors, recorder)


# ---------------------------------------------------------------------------------------
# The student's side
# ---------------------------------------------------------------------------------------

def load_weights(session: Session, student: Ref, ref: Reference) -> None:
    """torch's values into the student's network: ``load_state_dict`` when everything fits in
    a message; otherwise written into the live arrays of ``state_dict()`` in the worker, as the
    given ``Module`` returns them. A ``state_dict()`` rewritten to return copies (which the
    contract allows) is then loaded through ``load_state_dict`` after all, its tiled weights
    made whole in the worker from the one block that crosses."""
    if not any(isinstance(v, Tiled) for v in ref.values.values()):
        session.method(student, "load_state_dict", ref.values, timeout=session.ctx.settings.network_timeout)
        return
    with Session(session.ctx, session.stem) as writing:    # a copied state dict is freed at once
        if _write_into_state_dict(writing, student, ref):
            return
    with Session(session.ctx, session.stem) as loading:
        values = {}
        for key, value in ref.values.items():
            if isinstance(value, Tiled):
                rows, columns = value.block.shape
                block = session.ctx.worker.keep(value.block)
                loading.handles.append(block.handle)
                stacked = loading.method(block, "reshape", 1, rows, columns, shapes=True)
                stacked = loading.method(Ref(stacked.handle), "repeat", value.reps, 0, shapes=True)
                whole = loading.method(Ref(stacked.handle), "reshape", value.reps * rows, columns, shapes=True)
                values[key] = Ref(whole.handle)
            else:
                values[key] = value
        loading.method(student, "load_state_dict", values, timeout=loading.ctx.settings.network_timeout)


def _write_into_state_dict(session: Session, student: Ref, ref: Reference) -> bool:
    """Writes the values into the arrays ``state_dict()`` returns; whether a fresh
    ``state_dict()`` then holds them (it does when the arrays are the live ones)."""
    state = session.method(student, "state_dict", depth=0, timeout=session.ctx.settings.network_timeout)
    for key, value in ref.values.items():
        target = Ref(state.handle, (key,))
        if isinstance(value, Tiled):
            rows, columns = value.block.shape
            view = session.method(target, "reshape", value.reps, rows, columns, shapes=True)
            block = value.block
        else:
            view = session.method(target, "reshape", -1, shapes=True)
            block = value.reshape(-1)
        session.method(Ref(view.handle), "fill", 0.0)
        session.method(Ref(view.handle), "__iadd__", block, shapes=True)
    fresh = session.method(student, "state_dict", depth=0, timeout=session.ctx.settings.network_timeout)
    for key, value in ref.values.items():
        total = session.method(Ref(fresh.handle, (key,)), "sum").value
        wanted = value.sum() if isinstance(value, Tiled) else float(value.sum())
        size = value.reps * float(np.abs(value.block).sum()) if isinstance(value, Tiled) else float(np.abs(value).sum())
        if not isinstance(total, float) or not agree_to_round_off(total, wanted, size):
            return False
    return True


def submodule(session: Session, root: Ref, name: str) -> Ref:
    """The student's module at a state_dict prefix, through ``children``; a WorkerProblem if
    there is none."""
    ref = root
    for part in name.split(".") if name else []:
        children = session.get(ref, "children", depth=0)
        ref = Ref(session.get(Ref(children.handle, (part,)), depth=0).handle)
    return ref


def _projections(key: str, size: tuple):
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    return rng.standard_normal(size[1]), rng.standard_normal(size[0])


def compare_parameter_gradient(session: Session, grads: Ref, local: str, label: str, expected, floor: float,
                               recorder: Recorder, shape: tuple, tol: float = DEFAULT_TOL) -> None:
    """``grads`` holds the student's gradients (a dict kept in the worker); ``local`` its key."""
    target = Ref(grads.handle, grads.path + (local,))
    if isinstance(expected, np.ndarray):
        compare_floor(label, session.get(target).value, expected, floor, tol)
        return
    owner = expected[1]
    x, dy = recorder.inputs[owner], recorder.grad_out[owner]
    v, u = _projections(label, shape)
    compare_floor(_("{label} @ v (v random; the array is too large to ship, so it is compared through "
                    "projections)").format(label=label), session.method(target, "dot", v).value, dy.T @ (x @ v), 0.0, tol)
    compare_floor(_("u @ {label} (u random)").format(label=label), session.method(target, "__rmatmul__", u).value, (dy @ u) @ x, 0.0, tol)


def compare_floor(label, actual, expected, floor, tol):
    compare(label, actual, expected, tol=tol, floor=max(floor, DEFAULT_FLOOR))


def gradient_shapes(session: Session, module: Ref, ref_shapes: dict, what: str) -> Ref:
    """The student's gradients dict, kept in the worker, after checking each is an array."""
    grads = session.get(module, "gradients", depth=0)
    shapes = read_shapes(session.get(Ref(grads.handle), depth=1, shapes=True).value, what)
    for key, shape in ref_shapes.items():
        if key not in shapes:
            raise Mismatch(_("{what} has no entry {key!r}").format(what=what, key=key))
        if shapes[key] is None:
            raise Mismatch(_("{what}[{key!r}] is None after backward: every parameter needs its gradient").format(
                what=what, key=key))
        if shapes[key] != shape:
            raise Mismatch(_("{what}[{key!r}] has shape {got}, the parameter has {shape}").format(
                what=what, key=key, got=shapes[key], shape=shape))
    return Ref(grads.handle)


# ---------------------------------------------------------------------------------------
# Comparing a whole run, and finding where it departs
# ---------------------------------------------------------------------------------------

class Departure(Exception):
    """A network's run differs from the reference; ``diagnose`` finds where."""

    def __init__(self, kind: str, mismatch: Mismatch):
        super().__init__(mismatch.summary)
        self.kind = kind            # "forward", "backward" or "state"
        self.mismatch = mismatch


def run_student(session: Session, student: Ref, ref: Reference, expected: Expected, mode: str,
                x: np.ndarray, backward: bool = True) -> None:
    session.method(student, mode)
    forward = session.method(student, "forward", x, timeout=session.ctx.settings.network_timeout)
    try:
        compare("output", forward.value, expected.out, floor=signal_scale(x))
    except Mismatch as mismatch:
        raise Departure("forward", mismatch) from None
    if not backward:
        return
    back = session.method(student, "backward", expected.dout, timeout=session.ctx.settings.network_timeout)
    try:
        compare(_("dx (the gradient of the input)"), back.value, expected.dx, floor=signal_scale(expected.dout))
        grads = gradient_shapes(session, student, {k: ref.keys[k] for k in ref.params}, "gradients")
        for key in ref.params:
            compare_parameter_gradient(session, grads, key, f"gradients[{key!r}]", expected.grads[key],
                                       expected.floors[key], expected.recorder, ref.keys[key])
    except Mismatch as mismatch:
        raise Departure("backward", mismatch) from None
    if expected.state:
        state = session.method(student, "state_dict", depth=0)
        for key, value in expected.state.items():
            try:
                compare(_("state_dict()[{key!r}] after the forward ({where})").format(key=key, where=mode_name(mode)),
                        session.get(Ref(state.handle, (key,))).value, value)
            except Mismatch as mismatch:
                raise Departure("state", mismatch) from None


def diagnose(session: Session, student: Ref, ref: Reference, expected: Expected, departure: Departure) -> list:
    """Lines naming the first module that departs, fed the reference's own inputs."""
    recorder = expected.recorder
    if departure.kind == "state":
        return [_("    (the output and every gradient agree: only the running statistics differ; the key "
                  "names the BatchNorm layer)")]
    order = recorder.forward_order if departure.kind == "forward" else recorder.backward_order
    hooked = set(order)
    params_of = {}
    for key in ref.params:
        params_of.setdefault(key.rpartition(".")[0], []).append(key)
    for name in order:
        if recorder.inputs.get(name) is None:
            continue
        try:
            module = submodule(session, student, name)
        except WorkerProblem:
            continue
        label = f"`{name}`" if name else _("{title} as a whole").format(title=ref.title)
        try:
            out = session.method(module, "forward", recorder.inputs[name], timeout=session.ctx.settings.network_timeout)
            compare(_("output of {label}").format(label=label), out.value, recorder.outputs[name],
                    floor=signal_scale(recorder.inputs[name]))
            if departure.kind == "backward":
                dx = session.method(module, "backward", recorder.grad_out[name], timeout=session.ctx.settings.network_timeout)
                if recorder.grad_in.get(name) is not None:
                    compare(_("input gradient of {label}").format(label=label), dx.value, recorder.grad_in[name],
                            floor=signal_scale(recorder.grad_out[name]))
                if params_of.get(name):
                    grads = gradient_shapes(session, module, {k.rpartition(".")[2]: ref.keys[k]
                                                              for k in params_of[name]}, f"{label}.gradients")
                    for key in params_of[name]:
                        local = key.rpartition(".")[2]
                        compare_parameter_gradient(session, grads, local,
                                                   _("gradients[{key!r}] of {label}").format(key=local, label=label),
                                                   expected.grads[key], expected.floors[key], recorder,
                                                   ref.keys[key])
        except (Mismatch, StudentException) as problem:
            return _culprit_lines(ref, recorder, name, departure.kind, problem,
                                  any(other.startswith(name + ".") or (not name and other)
                                      for other in hooked if other != name))
    return [_("    (fed the reference's own inputs, every layer agrees on its own: the difference builds up "
              "from round-off or from state kept between calls)")]


class DepartureLine(str):
    """The line that names the first layer that departs: the one line of a failing network check
    that official grading still shows when reference files ran beside the student's
    (:func:`grader.runner.withhold`)."""


def _culprit_lines(ref: Reference, recorder: Recorder, name: str, kind: str, problem, composite: bool) -> list:
    kind_name = type(recorder.modules[name]).__name__.replace("TiledLinear", "Linear")
    where = f"`{name}` ({kind_name})" if name else _("{title} as a whole").format(title=ref.title)
    if kind == "forward":
        lines = [DepartureLine(_("    The first layer that departs, in forward order, is {where}: fed the reference's "
                             "own input, its output is wrong, while every layer before it agrees.").format(where=where))]
        if composite:
            lines.append(_("    Each of its parts with parameters agrees on its own, so the mistake is in how its "
                           "forward connects them: the layers without parameters (activation, pooling, dropout, "
                           "flatten), the shortcut, or the order."))
    else:
        lines = [DepartureLine(_("    Walking back from the output (gradients flow backwards), the first layer whose "
                             "backward departs is {where}: given the reference's input and upstream gradient, its "
                             "gradients are wrong, while every layer after it agrees.").format(where=where))]
        if composite:
            lines.append(_("    Each of its parts with parameters agrees on its own, so the mistake is in how its "
                           "backward combines them: e.g. a shortcut's gradient must be ADDED to the main path's, "
                           "layers without parameters need their own backward, in reverse order, and a module "
                           "called twice in forward (one self.relu for both ReLUs, as torchvision writes it) "
                           "keeps only its last call's cache: give each use a module of its own."))
    if isinstance(problem, Mismatch):
        lines.append("    " + problem.summary)
        lines.extend(problem.lines)
    else:
        lines.append(_("    there, your code raised {error}").format(error=problem))
    return lines


def compare_network(session: Session, student: Ref, ref: Reference, mode: str, x: np.ndarray, seed: int,
                    diagnosed: bool = True, backward: bool = True) -> None:
    """One forward and backward of the student's network against the reference."""
    expected = run_reference(ref, mode, x, seed)
    try:
        run_student(session, student, ref, expected, mode, x, backward)
    except Departure as departure:
        what = {"forward": _("the output differs from torch's"),
                "backward": _("the output agrees but the gradients differ from torch's"),
                "state": _("the running statistics differ from torch's")}[departure.kind]
        lines = [departure.mismatch.summary] + departure.mismatch.lines
        if diagnosed:
            try:
                lines += diagnose(session, student, ref, expected, departure)
            except WorkerProblem as problem:
                lines.append(_("    (looking for the layer that departs stopped: {error})").format(error=problem))
        raise Failed(_("{title} in {mode}: {what}").format(title=ref.title, mode=mode_name(mode), what=what),
                     lines) from None



def for_all_diagnosed(ctx: Context, strategy, run, max_examples: int, examples=()) -> None:
    """``ctx.for_all`` without the (slow) diagnosis while hypothesis searches and shrinks;
    the smallest failing example is then run once more with it."""
    failing: list = []

    def body(example):
        try:
            run(example, False)
        except Exception:
            failing[:] = [example]
            raise

    try:
        ctx.for_all(strategy, body, max_examples=max_examples, examples=examples)
    except Failed as failed:
        if failing:
            try:
                run(failing[0], True)
            except Failed as detailed:
                detailed.example = failed.example
                raise detailed from None
            except Exception:  # noqa: BLE001 - the first verdict stands
                pass
        raise

