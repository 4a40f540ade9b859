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
    result: object = None   # what came back to the grader (the replay finds the compared value in it)
    after: tuple | None = None  # (args, kwargs) as the call left them, where the check asked for them


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
        if isinstance(value, _Name):
            return str(value)
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


def script(calls: list, compared: tuple | None = None, language: str = "en",
           files: dict | None = None) -> tuple[list[str], dict]:
    """The Python lines that redo ``calls`` and the arrays they read; ([], {}) if it cannot.
    ``compared``: (the student's value the check compared, the expected one); the lines then
    end by showing the two side by side (:func:`show`) in ``language``. ``files``: each part's
    file (the rubric's [parts]): a call of ``part.name`` imports it."""
    handles: dict = {}
    writer = _Writer(handles)
    lines, modules = [], []
    changed = _find_changed(calls, compared[0]) if compared is not None else None
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
            else:
                args, kwargs = dict(enumerate(call.args)), dict(call.kwargs)
                if changed is not None and changed[0] == number:  # named, so the script can show it after the call
                    held = args if isinstance(changed[1], int) else kwargs
                    lines.append(f"{changed[2]} = {writer.value(held[changed[1]])}")
                    held[changed[1]] = _Name(changed[2])
                arguments = [writer.value(a) for a in args.values()]
                arguments += [f"{k}={writer.value(v)}" for k, v in kwargs.items()]
                if isinstance(call.target, str):
                    part, function = call.target.split(".", 1)
                    stem = (files or {}).get(part, f"{part}.py").removesuffix(".py")
                    if stem not in modules:
                        modules.append(stem)
                    expression = f"{stem}.{function}({', '.join(arguments)})"
                else:
                    ref, attr = call.target
                    expression = f"{writer.ref(ref)}.{attr}({', '.join(arguments)})"
            if call.handle is not None:
                handles[call.handle] = name
            lines.append(f"{name} = {expression}")
    except (KeyError, ValueError):
        return [], {}
    if not lines or len(lines) > MAX_LINES:
        return [], {}
    tail = []
    if compared is not None:
        actual, expected = compared
        found = changed[2] if changed is not None else _find(calls, actual)
        if isinstance(expected, np.ndarray) and expected.size > MAX_ELEMENTS:
            found = None
        if found is not None or isinstance(expected, np.ndarray):
            name = writer.value(np.asarray(expected)) if isinstance(expected, np.ndarray) else repr(expected)
            said = "" if language == "en" else f", language={language!r}"
            tail = ["from grader.replay import show",
                    f"show({found if found is not None else 'None'}, {name}{said})"]
    head = ["import numpy as np", *(f"import {stem}" for stem in modules)]
    if writer.arrays:
        head.append('data = np.load("{npz}")')
    return head + lines + tail, writer.arrays


def describe(call: Call, calls: list = ()) -> str | None:
    """A recorded call as a student reads it, arrays by their shape: the input of a check that
    failed outside its examples (a call that hung). A value the check kept in the worker first
    (among ``calls``) is shown as it was kept."""
    kept = {c.handle: c.args[0] for c in calls if c.op == "keep" and c.handle is not None}

    def value(item) -> str:
        if isinstance(item, np.ndarray):
            return f"array {item.shape} {item.dtype}" if item.size > INLINE_ELEMENTS else repr(item.tolist())
        if isinstance(item, (list, tuple)):
            inner = ", ".join(value(v) for v in item)
            return f"[{inner}]" if isinstance(item, list) else f"({inner}{',' if len(item) == 1 else ''})"
        if isinstance(item, dict):
            return "{" + ", ".join(f"{k!r}: {value(v)}" for k, v in item.items()) + "}"
        if isinstance(item, Ref):
            return value(kept[item.handle]) if item.handle in kept and not item.path else "..."
        return repr(item)

    def subject(ref: Ref) -> str:
        """The object a method belongs to, as the call that made it (``Linear(400, 2000)``)."""
        made = None if ref.path else next((c for c in calls if c.handle == ref.handle and c.op == "call"), None)
        return "<object>" if made is None else describe(made, calls)

    if call.op != "call":
        return None
    name = call.target if isinstance(call.target, str) else f"{subject(call.target[0])}.{call.target[1]}"
    arguments = [value(a) for a in call.args] + [f"{k}={value(v)}" for k, v in call.kwargs.items()]
    return f"{name}({', '.join(arguments)})"[:300]


class _Name(str):
    """An argument the script has already bound to a name."""


def _find_changed(calls: list, value) -> tuple | None:
    """(call number, argument position or keyword, a name for it) where ``value`` is an argument
    as a call left it (an array the call updates in place); None otherwise."""
    if value is None:
        return None
    for number in range(len(calls), 0, -1):
        after = calls[number - 1].after
        if calls[number - 1].op != "call" or after is None:
            continue
        args, kwargs = after
        for key, item in [*enumerate(args or ()), *(kwargs or {}).items()]:
            if item is value:
                return number, key, f"argument{number}_{key}" if isinstance(key, int) else f"{key}{number}"
    return None


def _find(calls: list, value) -> str | None:
    """The script's expression for ``value`` (the very object a recorded call returned, or an
    item of it), the latest call first; None where no call returned it."""
    def search(held, path, depth):
        if held is value:
            return path
        if depth and isinstance(held, (tuple, list)):
            items = enumerate(held)
        elif depth and isinstance(held, dict):
            items = held.items()
        else:
            return None
        for key, item in items:
            found = search(item, path + f"[{key!r}]", depth - 1)
            if found is not None:
                return found
        return None

    if value is None:
        return None
    for number in range(len(calls), 0, -1):
        found = search(calls[number - 1].result, f"r{number}", 3)
        if found is not None:
            return found
    return None


def show(got, expected, language: str | None = None) -> None:
    """Prints your result and the expected one side by side, and where they differ."""
    from grader import i18n

    with i18n.speaking(language):
        print(comparison(got, expected))


def comparison(got, expected) -> str:
    from grader.checks.harness.metric import DEFAULT_FLOOR, DEFAULT_TOL
    from grader.i18n import _
    from grader.textwidth import ljust, rjust, width

    if got is None:
        return "\n".join([_("expected:"), _text(expected)])
    left, right = _text(got).splitlines(), _text(expected).splitlines()
    columns = max(width(line) for line in left + [_("your result")]) + 4
    lines = [ljust(_("your result"), columns) + _("expected")]
    lines += [ljust(a, columns) + b for a, b in zip(left + [""] * len(right), right + [""] * len(left))
              if a or b]
    if not (isinstance(got, np.ndarray) and isinstance(expected, np.ndarray)):
        same = type(got) is type(expected) and bool(np.all(np.asarray(got == expected)))
        lines.append(_("they are the same") if same else _("they differ"))
        return "\n".join(lines)
    if got.shape != expected.shape:
        lines.append(_("they differ in shape: yours {got}, expected {expected}").format(
            got=got.shape, expected=expected.shape))
        return "\n".join(lines)
    if got.dtype != expected.dtype:
        lines.append(_("they differ in dtype: yours {got}, expected {expected}").format(
            got=got.dtype, expected=expected.dtype))
    scale = max(float(np.max(np.abs(expected))) if expected.size else 0.0, DEFAULT_FLOOR)
    with np.errstate(invalid="ignore"):
        wrong = ~(np.abs(got.astype(np.float64) - expected.astype(np.float64)) <= DEFAULT_TOL * scale)
    if got.dtype.kind == "f" and expected.dtype.kind == "f":
        wrong &= ~(np.isnan(got) & np.isnan(expected))  # NaN where NaN is expected agrees
    if not wrong.any():
        lines.append(_("they agree (to within {tol:g} of the expected array's scale)").format(tol=DEFAULT_TOL))
        return "\n".join(lines)
    where = np.argwhere(wrong)
    lines.append(_("they differ at {count} of {size} positions, for example:").format(
        count=len(where), size=got.size))
    lines.append(f"    {ljust(_('index'), 16)} {rjust(_('yours'), 16)}  {rjust(_('expected'), 16)}")
    for index in where[:6]:
        index = tuple(int(i) for i in index)
        lines.append(f"    {str(list(index)):<16} {got[index] + 0:>16.8g}  {expected[index] + 0:>16.8g}")
    return "\n".join(lines)


def _text(value) -> str:
    if isinstance(value, np.ndarray):
        return np.array2string(value + 0 if value.dtype.kind == "f" else value, precision=6,
                               threshold=120, edgeitems=2, max_line_width=70, suppress_small=False)
    return repr(value)


def arrays_npz(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()
