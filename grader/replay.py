"""A failing example a student can run again: the calls the check made, as Python, and their
arrays in an ``.npz``.

The worker client records every call of an example (:class:`Recorder`); when the example
fails, :func:`script` turns the record into a few lines of Python that redo those calls on the
student's own files, and :func:`arrays_npz` packs the arrays they need.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from grader.worker.protocol import Ref, Rng

MAX_LINES = 12
MAX_ELEMENTS = 1_000_000  # array elements a replay may carry
INLINE_ELEMENTS = 12      # arrays this small are written into the script itself


@dataclass
class Call:
    target: object          # "stem.name", or (Ref, "attr")
    args: tuple
    kwargs: dict
    handle: int | None      # where the worker kept the result
    op: str = "call"        # "call", "get" (an attribute) or "keep" (a value stored in the worker)


@dataclass
class Recorder:
    calls: list = field(default_factory=list)

    def clear(self) -> None:
        self.calls.clear()


class _Writer:
    def __init__(self, handles: dict):
        self.handles = handles
        self.arrays: dict = {}

    def value(self, value) -> str:
        if (isinstance(value, np.ndarray) and value.size <= INLINE_ELEMENTS and value.dtype.kind in "fiub"
                and np.isfinite(value).all()):
            return f"np.array({value.tolist()!r}, dtype=np.{value.dtype.name})"
        if isinstance(value, np.ndarray):
            name = f"a{len(self.arrays)}"
            self.arrays[name] = value
            return f'data["{name}"]'
        if isinstance(value, Ref):
            return self.ref(value)
        if isinstance(value, Rng):
            return f"np.random.default_rng({value.seed})"
        if isinstance(value, (list, tuple)):
            items = ", ".join(self.value(v) for v in value)
            return f"[{items}]" if isinstance(value, list) else f"({items}{',' if len(value) == 1 else ''})"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k!r}: {self.value(v)}" for k, v in value.items()) + "}"
        return repr(value)

    def ref(self, ref: Ref) -> str:
        base = self.handles.get(ref.handle)
        if base is None:
            raise KeyError(ref.handle)
        return base + "".join(f"[{step!r}]" for step in ref.path)


def script(calls: list, files: dict | None = None) -> tuple[list[str], dict]:
    """The Python lines that redo ``calls`` and the arrays they read; ([], {}) if it cannot.
    ``files``: each part's file (the rubric's [parts]): a call of ``part.name`` imports it."""
    handles: dict = {}
    writer = _Writer(handles)
    lines, modules = [], []
    try:
        for number, call in enumerate(calls, start=1):
            name = f"r{number}"
            if call.op == "too large":
                return [], {}
            if call.op == "keep":
                expression = writer.value(call.args[0])
            elif call.op == "get":
                ref, attr = call.target
                expression = writer.ref(ref) + (f".{attr}" if attr else "")
            elif isinstance(call.target, str):
                part, function = call.target.split(".", 1)
                stem = (files or {}).get(part, f"{part}.py").removesuffix(".py")
                if stem not in modules:
                    modules.append(stem)
                arguments = [writer.value(a) for a in call.args]
                arguments += [f"{k}={writer.value(v)}" for k, v in call.kwargs.items()]
                expression = f"{stem}.{function}({', '.join(arguments)})"
            else:
                ref, attr = call.target
                arguments = [writer.value(a) for a in call.args]
                arguments += [f"{k}={writer.value(v)}" for k, v in call.kwargs.items()]
                expression = f"{writer.ref(ref)}.{attr}({', '.join(arguments)})"
            if call.handle is not None:
                handles[call.handle] = name
            lines.append(f"{name} = {expression}")
    except (KeyError, ValueError):
        return [], {}
    if not lines or len(lines) > MAX_LINES:
        return [], {}
    head = ["import numpy as np", *(f"import {stem}" for stem in modules)]
    if writer.arrays:
        head.append('data = np.load("{npz}")')
    return head + lines, writer.arrays


def arrays_npz(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()
