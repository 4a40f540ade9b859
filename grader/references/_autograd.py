"""Running a torch function forward and backward on NumPy inputs, in float64."""

from __future__ import annotations

import numpy as np
import torch


def tensor(array, grad: bool = False):
    if array is None:
        return None
    return torch.tensor(np.asarray(array), dtype=torch.float64, requires_grad=grad)


def backward_with(out, dout) -> None:
    """``out.backward(dout)``, without the import of sympy that torch makes on the first backward
    given an explicit gradient (half a CPU-second in every grading process): the gradient that
    reaches ``out`` through ``sum(out * dout)`` is ``1.0 * dout``, bit for bit ``dout``."""
    (out * dout).sum().backward()


def forward_backward(function, inputs: dict, dout: np.ndarray | None):
    """``function(**tensors) -> out``; returns ``(out, grads)`` with ``grads[name]`` for
    every input that is not None (``None`` when ``dout`` is None)."""
    tensors = {name: tensor(value, grad=dout is not None) for name, value in inputs.items()}
    out = function(**tensors)
    if dout is None:
        return out.detach().numpy().copy(), None
    backward_with(out, tensor(dout))
    grads = {name: (t.grad.numpy().copy() if t.grad is not None else np.zeros(t.shape))
             for name, t in tensors.items() if t is not None}
    return out.detach().numpy().copy(), grads
