"""Planted bugs of ``train.py``'s ``sgd_step``: classic optimiser mistakes, each a textual
edit of the reference solution (the format of ``tests/planted_bugs.py``).

Every entry of ``BUGS`` replaces ``old`` (which must occur exactly once in
``solutions/train.py``) by ``new`` in a COPY of that file. The grader must then take
points off the check ``train.sgd_step`` (``tests/test_train_grading.py`` enforces
it, grading that check alone).

The reference's ``sgd_step`` reads::

    for name, p in params.items():
        g = grads.get(name)
        if g is None:
            continue
        d = g + weight_decay * p if weight_decay != 0 else g
        if momentum != 0:
            v = velocities.get(name)
            if v is None:
                v = velocities[name] = np.array(d, dtype=p.dtype, copy=True)
            else:
                v *= momentum
                v += d
            d = v
        p -= lr * d
"""

from __future__ import annotations

from tests.planted_bugs import Bug, apply_bug, plant  # noqa: F401 - one format for every part

_DECAY = "        d = g + weight_decay * p if weight_decay != 0 else g\n"
_FIRST_BUFFER = "                v = velocities[name] = np.array(d, dtype=p.dtype, copy=True)\n"
_MOMENTUM_BLOCK = (
    "        if momentum != 0:\n"
    "            v = velocities.get(name)\n"
    "            if v is None:\n"
    "                v = velocities[name] = np.array(d, dtype=p.dtype, copy=True)\n"
    "            else:\n"
    "                v *= momentum\n"
    "                v += d\n"
    "            d = v\n"
)
_STEP = "        p -= lr * d\n"

BUGS: list[Bug] = [
    Bug(
        id="sgd_weight_decay_after_momentum",
        file="train.py",
        old=_DECAY + _MOMENTUM_BLOCK + _STEP,
        new="        d = g\n" + _MOMENTUM_BLOCK + "        p -= lr * (d + weight_decay * p)\n",
        function="sgd_step",
        why="weight decay is added to the step after the momentum update (AdamW-style decoupling), "
            "so it never enters the velocity",
    ),
    Bug(
        id="sgd_weight_decay_ignored",
        file="train.py",
        old=_DECAY,
        new="        d = g\n",
        function="sgd_step",
        why="weight_decay is accepted but never used",
    ),
    Bug(
        id="sgd_dampened_velocity",
        file="train.py",
        old=_MOMENTUM_BLOCK,
        new=("        if momentum != 0:\n"
             "            v = velocities.setdefault(name, np.zeros_like(p))\n"
             "            v *= momentum\n"
             "            v += (1 - momentum) * d\n"
             "            d = v\n"),
        function="sgd_step",
        why="the velocity is an exponential moving average, v = momentum * v + (1 - momentum) * g "
            "(dampening = momentum), while torch's default adds the whole gradient",
    ),
    Bug(
        id="sgd_params_rebound",
        file="train.py",
        old=_STEP,
        new="        params[name] = p - lr * d\n",
        function="sgd_step",
        why="params[name] is rebound to a new array: the dict changes, the caller's arrays do not",
    ),
    Bug(
        id="sgd_velocity_never_stored",
        file="train.py",
        old=_MOMENTUM_BLOCK,
        new=("        if momentum != 0:\n"
             "            v = momentum * velocities.get(name, np.zeros_like(p)) + d\n"
             "            d = v\n"),
        function="sgd_step",
        why="the new velocity is computed but never stored back into velocities, so momentum "
            "never accumulates from one step to the next",
    ),
    Bug(
        id="sgd_zero_buffer_not_updated",
        file="train.py",
        old=_FIRST_BUFFER,
        new=("                velocities[name] = np.zeros_like(p)   # the buffer starts at zero\n"
             "                v = d                                 # ... but only the step sees d\n"),
        function="sgd_step",
        why="a missing velocity is stored as zeros and the first step uses the gradient without "
            "adding it to the buffer, so the buffer lags one gradient behind torch's",
    ),
    Bug(
        id="sgd_nesterov",
        file="train.py",
        old="            d = v\n" + _STEP,
        new="            d = d + momentum * v\n" + _STEP,
        function="sgd_step",
        why="Nesterov's look-ahead step g + momentum * v instead of plain momentum's v",
    ),
    Bug(
        id="sgd_velocity_aliases_gradient",
        file="train.py",
        old=_FIRST_BUFFER,
        new="                v = velocities[name] = d\n",
        function="sgd_step",
        why="without weight decay the first velocity IS the gradient array (no copy): the next "
            "backward overwrites it, and v *= momentum then writes into the model's gradient",
    ),
    Bug(
        id="sgd_weight_decay_into_grads",
        file="train.py",
        old=_DECAY,
        new=("        if weight_decay != 0:\n"
             "            g += weight_decay * p\n"
             "        d = g\n"),
        function="sgd_step",
        why="weight decay is added to the caller's gradient array in place (torch leaves .grad alone)",
    ),
    Bug(
        id="sgd_default_weight_decay",
        file="train.py",
        old="def sgd_step(params, grads, velocities, lr, momentum=0.0, weight_decay=0.0):",
        new="def sgd_step(params, grads, velocities, lr, momentum=0.0, weight_decay=5e-4):",
        function="sgd_step",
        why="the documented default weight_decay=0.0 is 5e-4: only a call without weight_decay shows it",
    ),
    Bug(
        id='sgd_default_momentum',
        file='train.py',
        old='def sgd_step(params, grads, velocities, lr, momentum=0.0, weight_decay=0.0):',
        new='def sgd_step(params, grads, velocities, lr, momentum=0.9, weight_decay=0.0):',
        function='sgd_step',
        why='the documented default momentum=0.0 is 0.9: only a call without momentum shows it',
    ),
]

assert len({bug.id for bug in BUGS}) == len(BUGS), "bug ids must be unique"
