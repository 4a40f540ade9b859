"""The wire format between the grader and its worker: JSON trees plus raw array bytes.

A message is a 4-byte big-endian header length, a UTF-8 JSON header, then the raw
bytes of every array the header names, in order. Nothing is pickled: the grader
rebuilds arrays itself from a whitelisted dtype, a shape and a byte count, so a
worker can send wrong numbers but never an object that runs code or lies about
its own equality.

Value trees (``{"t": kind, ...}``):

- ``none``, ``bool``, ``int``, ``float``, ``str`` (with ``v``);
- ``array``: ``dtype`` (a numpy ``dtype.str``), ``shape``, ``buf`` (index of its bytes);
- ``tuple`` / ``list`` (``items``), ``dict`` (``items``: ``[key, value]`` pairs, str keys);
- ``opaque``: something that does not cross (``type`` names it); it stays in the
  worker, reachable through the call's handle and a ``path``;
- grader to worker only: ``ref`` (``handle``, ``path``: an object kept by the worker),
  ``rng`` (``seed``: the worker builds ``numpy.random.default_rng(seed)``).
"""

from __future__ import annotations

import enum
import json
import math
import struct

import numpy as np

ALLOWED_DTYPES = frozenset(
    np.dtype(name).str
    for name in (
        "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
        "uint64", "float16", "float32", "float64", "complex64", "complex128",
    )
)
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 16


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed message."""


class ErrorKind(str, enum.Enum):
    """Why a request failed: the verdict's fact, carried as data (never read from a message)."""

    NO_FILE = "no file"        # the part's file is not in the submission
    IMPORT = "import"          # the file raised while being imported
    MISSING = "missing"        # the module or object has no such name
    VIOLATION = "violation"    # the student's code imported a forbidden module (``module`` names it)
    EXCEPTION = "exception"    # the student's code raised
    PROTOCOL = "protocol"      # the request was malformed (the grader's fault)


def error_answer(kind: ErrorKind, type_name: str, message: str, trace: str = "", classes=(),
                 module: str | None = None) -> dict:
    """The worker's answer to a failed request. ``type``, ``message`` and ``traceback`` are the
    student's code speaking (quoted to the student, never read for a verdict); ``classes``: the
    exception's class hierarchy; ``module``: the forbidden module of a violation, or the module
    an import did not find."""
    return {"ok": False, "error": {"kind": ErrorKind(kind).value, "type": type_name, "message": message,
                                   "traceback": trace, "classes": list(classes), "module": module}}


class Opaque:
    """A value that stayed in the worker; ``type_name`` is what it claimed to be."""

    def __init__(self, type_name: str, handle: int | None, path: tuple):
        self.type_name = type_name
        self.handle = handle
        self.path = path

    def __repr__(self) -> str:
        return f"<{self.type_name} kept by the worker>"


def arrays_in(value):
    """The NumPy arrays inside nested lists, tuples and dicts."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from arrays_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from arrays_in(item)


class Ref:
    """Grader side: points the worker at an object it keeps (a cache, a model)."""

    def __init__(self, handle: int, path: tuple = ()):
        self.handle = handle
        self.path = tuple(path)


class Rng:
    """Grader side: asks the worker for ``numpy.random.default_rng(seed)``."""

    def __init__(self, seed: int):
        self.seed = int(seed)

    def __repr__(self) -> str:   # as an example's description shows it
        return f"default_rng({self.seed})"


def encode(value, buffers: list, depth: int = 64, *, keep_path: tuple = (), handle=None,
           shapes: bool = False):
    """Turns a value into a tree, appending array bytes to ``buffers``.

    Containers deeper than ``depth`` become ``opaque`` (reachable by path). With
    ``shapes``, an array crosses as ``{"shape": (...), "dtype": str}`` instead of its
    bytes (the array itself stays in the worker, reachable by path)."""
    if value is None:
        return {"t": "none"}
    if isinstance(value, (bool, np.bool_)):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return {"t": "int", "v": int(value)}
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return {"t": "float", "v": number if math.isfinite(number) else repr(number)}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, np.ndarray):
        plain = np.ndarray.view(value, np.ndarray)
        if shapes:
            return {"t": "dict", "items": [
                ["shape", {"t": "tuple", "items": [{"t": "int", "v": int(n)} for n in plain.shape]}],
                ["dtype", {"t": "str", "v": plain.dtype.str}]]}
        data = np.ndarray.tobytes(plain, order="C")
        buffers.append(data)
        return {"t": "array", "dtype": plain.dtype.str, "shape": list(plain.shape),
                "buf": len(buffers) - 1, "cls": type(value).__name__}
    if isinstance(value, Ref):
        return {"t": "ref", "handle": value.handle, "path": list(value.path)}
    if isinstance(value, Rng):
        return {"t": "rng", "seed": value.seed}
    if isinstance(value, (tuple, list, dict)) and depth > 0:
        if isinstance(value, dict):
            if all(isinstance(key, str) for key in value):
                return {"t": "dict", "items": [
                    [key, encode(item, buffers, depth - 1, keep_path=keep_path + (key,), handle=handle,
                           shapes=shapes)]
                    for key, item in value.items()]}
        else:
            return {"t": type(value).__name__ if type(value) in (tuple, list) else "tuple",
                    "items": [encode(item, buffers, depth - 1, keep_path=keep_path + (index,), handle=handle,
                                     shapes=shapes)
                              for index, item in enumerate(value)]}
    return {"t": "opaque", "type": type(value).__name__, "handle": handle, "path": list(keep_path)}


def decode(tree, buffers: list, *, depth: int = 0, on_ref=None, on_rng=None, writable: bool = False):
    """Rebuilds a value from a tree, validating every node. Arrays come back read-only
    unless ``writable`` (the worker's arguments, which a function may update in place).

    ``on_ref`` / ``on_rng`` resolve the grader-to-worker node kinds (worker side);
    without them such nodes are a protocol error."""
    if depth > MAX_DEPTH + 64 or not isinstance(tree, dict):
        raise ProtocolError("malformed value")
    kind = tree.get("t")
    if kind == "none":
        return None
    if kind == "bool":
        return _typed(tree.get("v"), bool)
    if kind == "int":
        return _typed(tree.get("v"), int)
    if kind == "float":
        number = tree.get("v")
        if isinstance(number, str) and number in ("nan", "inf", "-inf"):
            return float(number)
        if isinstance(number, int) and not isinstance(number, bool):
            return float(number)
        return _typed(number, float)
    if kind == "str":
        return _typed(tree.get("v"), str)
    if kind == "array":
        return _decode_array(tree, buffers, writable)
    if kind in ("tuple", "list"):
        items = tree.get("items")
        if not isinstance(items, list):
            raise ProtocolError("malformed sequence")
        values = [decode(item, buffers, depth=depth + 1, on_ref=on_ref, on_rng=on_rng, writable=writable) for item in items]
        return tuple(values) if kind == "tuple" else values
    if kind == "dict":
        items = tree.get("items")
        if not isinstance(items, list):
            raise ProtocolError("malformed dict")
        result = {}
        for pair in items:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise ProtocolError("malformed dict item")
            result[pair[0]] = decode(pair[1], buffers, depth=depth + 1, on_ref=on_ref, on_rng=on_rng, writable=writable)
        return result
    if kind == "opaque":
        type_name = tree.get("type")
        handle = tree.get("handle")
        path = tree.get("path")
        if not isinstance(type_name, str) or not isinstance(path, list) or not (
                handle is None or (isinstance(handle, int) and not isinstance(handle, bool))):
            raise ProtocolError("malformed opaque value")
        return Opaque(type_name[:100], handle, tuple(path))
    if kind == "ref" and on_ref is not None:
        return on_ref(tree.get("handle"), tree.get("path"))
    if kind == "rng" and on_rng is not None:
        return on_rng(tree.get("seed"))
    raise ProtocolError(f"unknown value kind {kind!r}")


def _typed(value, expected_type):
    if type(value) is not expected_type:
        raise ProtocolError(f"expected a {expected_type.__name__}")
    return value


def _decode_array(tree, buffers, writable):
    dtype_str, shape, index = tree.get("dtype"), tree.get("shape"), tree.get("buf")
    if dtype_str not in ALLOWED_DTYPES:
        raise ProtocolError(f"array dtype {dtype_str!r} is not allowed")
    if not isinstance(shape, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape) or len(shape) > 32:
        raise ProtocolError("malformed array shape")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(buffers):
        raise ProtocolError("array refers to a missing buffer")
    dtype = np.dtype(dtype_str)
    data = buffers[index]
    if len(data) != math.prod(shape) * dtype.itemsize:
        raise ProtocolError("array byte count does not match its shape")
    array = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    array.setflags(write=writable)
    return array


def write_message(stream, header: dict, buffers: list) -> None:
    header = dict(header, buffer_sizes=[len(b) for b in buffers])
    blob = json.dumps(header).encode()
    stream.write(struct.pack(">I", len(blob)))
    stream.write(blob)
    for data in buffers:
        stream.write(data)
    stream.flush()


def read_message(read_exactly, max_bytes: int) -> tuple[dict, list]:
    """Reads one message with ``read_exactly(n) -> bytes``; refuses more than ``max_bytes``."""
    (length,) = struct.unpack(">I", read_exactly(4))
    if length > min(MAX_HEADER_BYTES, max_bytes):
        raise ProtocolError("message header too large")
    try:
        header = json.loads(read_exactly(length))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        # nested past Python's recursion limit: student code can write to the answers' pipe
        raise ProtocolError("message header is not JSON") from error
    if not isinstance(header, dict):
        raise ProtocolError("message header is not an object")
    sizes = header.get("buffer_sizes", [])
    if not isinstance(sizes, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in sizes):
        raise ProtocolError("malformed buffer sizes")
    if sum(sizes) > max_bytes:
        raise ProtocolError("message too large")
    return header, [read_exactly(n) for n in sizes]
