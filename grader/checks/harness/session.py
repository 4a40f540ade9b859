"""Talking to the worker about layers and networks, and building both sides of a comparison.

A :class:`Session` releases every handle a check created in the worker (a state dict kept
under a handle would keep a whole network alive); a :class:`~grader.checks.harness.examples.Spec`
(a constructor call) is built on both sides, the student's class in the worker and the torch
reference here; state dicts are compared by their keys, order and shapes, read as shapes only.
"""

from __future__ import annotations

from grader.i18n import _

import math

import numpy as np
import torch
from torch import nn

from grader.checks.harness import examples as S
from grader.checks.harness.base import Context
from grader.checks.harness.metric import Mismatch, describe_type
from grader.references import modules as ref
from grader.references.networks import comparable_state_dict
from grader.worker.protocol import Ref, Rng


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



def read_shapes(value, what: str) -> dict:
    """``{key: shape}`` from a state dict (or gradients) read with ``shapes=True``; a
    missing value (None) stays None."""
    if not isinstance(value, dict):
        raise Mismatch(_("{what} should be a dict of arrays, but it is a {type}").format(
            what=what, type=describe_type(value)))
    shapes = {}
    for key, item in value.items():
        if item is None:
            shapes[key] = None
        elif (isinstance(item, dict) and set(item) == {"shape", "dtype"} and isinstance(item["shape"], tuple)
              and all(isinstance(n, int) for n in item["shape"]) and isinstance(item["dtype"], str)):
            if np.dtype(item["dtype"]) != np.float64:
                raise Mismatch(_("{what}[{key!r}] has dtype {dtype}, expected float64").format(
                    what=what, key=key, dtype=np.dtype(item['dtype'])))
            shapes[key] = item["shape"]
        else:
            raise Mismatch(_("{what}[{key!r}] should be a numpy array, but it is a {type}").format(
                what=what, key=key, type=describe_type(item)))
    return shapes


def student_state_shapes(session: Session, model: Ref, what: str = "state_dict()") -> dict:
    return read_shapes(session.method(model, "state_dict", depth=1, shapes=True).value, what)


def compare_keys(got: dict, expected: dict, owner: str, what: str = "state_dict()") -> None:
    """Same keys, same order, same shapes as torch's state dict (minus num_batches_tracked)."""
    got_keys, want_keys = list(got), list(expected)
    if got_keys != want_keys:
        missing = [k for k in want_keys if k not in got]
        unexpected = [k for k in got_keys if k not in expected]
        lines = []
        if missing:
            lines.append(_("    missing ({count}): {keys}").format(count=len(missing), keys=some(missing)))
        if unexpected:
            lines.append(_("    unexpected ({count}): {keys}").format(count=len(unexpected), keys=some(unexpected)))
        if not missing and not unexpected:
            index = next(i for i, (a, b) in enumerate(zip(got_keys, want_keys)) if a != b)
            lines.append(_("    the same keys in another order: at position {index} torch has {want!r}, "
                           "yours {got!r} (the state dict follows the order in which __init__ "
                           "assigns the sub-modules)").format(index=index, want=want_keys[index], got=got_keys[index]))
        raise Mismatch(_("the {what} keys of {owner} differ from torch's "
                         "({count} keys, torch has {wanted})").format(
            what=what, owner=owner, count=len(got_keys), wanted=len(want_keys)), lines)
    for key in want_keys:
        if got[key] != tuple(expected[key]):
            raise Mismatch(_("{what}[{key!r}] of {owner} has shape {shape}, torch's has "
                             "{wanted}").format(what=what, key=key, owner=owner, shape=got[key],
                                                wanted=tuple(expected[key])))


def some(keys: list, count: int = 6) -> str:
    shown = ", ".join(repr(k) for k in keys[:count])
    return shown + (_(", ... ({count} more)").format(count=len(keys) - count) if len(keys) > count else "")

