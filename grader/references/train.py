"""Hidden torch reference of ``train.sgd_step``: ``torch.optim.SGD`` on NumPy dicts.

``sgd_reference`` runs torch's SGD steps (float64, no dampening, no Nesterov, the
single-tensor code path: ``torch.optim.sgd.sgd``, the update ``torch.optim.SGD.step``
calls, without the optimizer object, whose first step imports ``torch._dynamo``: 5 s)
and hands back NumPy copies of the
parameters and momentum buffers after EVERY step, so a check can feed the
student's ``sgd_step`` the same sequence and compare step by step::

    history = sgd_reference(params, [grads0, grads1, grads2], lr=0.1, momentum=0.9,
                            velocities={"b": v_b})   # "w" has no buffer yet
    params_1, velocities_1 = history[0]               # after the first step

A name missing from ``velocities`` starts without a momentum buffer, so torch
creates it on its first step (as a copy of the gradient after weight decay). A
gradient that is ``None`` or missing in a step's dict leaves that parameter (and
its buffer) untouched in that step, as torch skips ``p.grad is None``. The inputs
are never modified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch.optim.sgd import sgd

__all__ = ["sgd_reference", "sgd_update"]


def sgd_update(params: list, grads: list, buffers: list, lr: float, momentum: float, weight_decay: float) -> None:
    """One step of the update ``torch.optim.SGD.step`` runs (no dampening, no Nesterov, the
    single-tensor path), in place on lists of tensors; with momentum, ``buffers`` (None where a
    parameter has none yet) receives the new momentum buffers."""
    with torch.no_grad():
        sgd(params, grads, buffers, foreach=False, weight_decay=weight_decay, momentum=momentum, lr=lr,
            dampening=0.0, nesterov=False, maximize=False)


def sgd_reference(params: Mapping[str, np.ndarray],
                  grads: Mapping[str, np.ndarray | None] | Sequence[Mapping[str, np.ndarray | None]],
                  lr: float, momentum: float = 0.0, weight_decay: float = 0.0,
                  velocities: Mapping[str, np.ndarray] | None = None,
                  ) -> list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
    """Runs torch's SGD update for one step per gradient dict in ``grads``.

    ``grads`` is one dict (one step) or a sequence of dicts (one per step).
    Returns ``[(params_after_step, velocities_after_step), ...]``, one pair per
    step, as fresh float64 NumPy arrays; the velocities hold every buffer that
    exists after the step (the given ones and those torch created), and are the
    given ones unchanged when ``momentum == 0``.
    """
    steps = [grads] if isinstance(grads, Mapping) else list(grads)
    velocities = dict(velocities or {})
    unknown = [k for step in steps for k in step if k not in params] + [k for k in velocities if k not in params]
    if unknown:
        raise KeyError(f"names without a parameter: {sorted(set(unknown))}")

    tensors = {k: torch.tensor(np.asarray(v, dtype=np.float64)) for k, v in params.items()}
    buffers = {k: torch.tensor(np.asarray(v, dtype=np.float64)) for k, v in velocities.items()}

    history = []
    for step in steps:
        # as SGD.step gathers them: the parameters with a gradient and, with momentum, their buffers
        names = [k for k in tensors if step.get(k) is not None]
        momentum_buffers = [buffers.get(k) for k in names] if momentum != 0 else []
        sgd_update([tensors[k] for k in names], [torch.tensor(np.asarray(step[k], dtype=np.float64)) for k in names],
                   momentum_buffers, lr, momentum, weight_decay)
        if momentum != 0:
            buffers.update(zip(names, momentum_buffers))
        new_params = {k: t.detach().numpy().copy() for k, t in tensors.items()}
        new_velocities = {k: buffers[k].detach().numpy().copy() for k in tensors if k in buffers}
        history.append((new_params, new_velocities))
    return history
