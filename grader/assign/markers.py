"""The one scanner of nbgrader's region markers, strict everywhere.

A region starts with a line holding only its begin marker (indentation aside) and ends with a
line holding only its end marker::

    ### BEGIN SOLUTION            ### BEGIN HIDDEN TESTS
    ...                           ...
    ### END SOLUTION              ### END HIDDEN TESTS

The markers are configurable (:class:`Markers`), as nbgrader's ``ClearSolutions`` delimiters
are. A region never closed, a region opened inside another, an end marker with no region open,
and a marker sharing its line with code are each a :class:`MarkerError` naming ``file:line``:
nbgrader would read such a file differently from the kit, so nothing built from it is trusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from grader.i18n import _


class MarkerError(ValueError):
    """Markers that do not pair up; the message names the file and the line."""


@dataclass(frozen=True)
class Markers:
    begin: str
    end: str


SOLUTION = Markers("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_TESTS = Markers("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
ALL_MARKER_LINES = frozenset({SOLUTION.begin, SOLUTION.end, HIDDEN_TESTS.begin, HIDDEN_TESTS.end})


@dataclass(frozen=True)
class Region:
    begin_line: int       # 1-based number of the begin marker's line
    end_line: int         # 1-based number of the end marker's line
    indent: str           # the begin marker's indentation ("" for a region at column 0)
    body: tuple           # the lines between the markers, line ends kept


def _lines(source: str) -> list[str]:
    """The lines of ``source``, line ends kept; only "\n" ends a line, as in nbgrader."""
    parts = source.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _split(source: str, filename: str, markers: Markers):
    """Yields ``("text", line)`` and ``("region", Region)`` items, in order."""
    opened = None  # (line number, indent, body lines)
    for number, line in enumerate(_lines(source), start=1):
        stripped = line.strip()
        if stripped == markers.begin:
            if opened is not None:
                raise MarkerError(f"{filename}:{number}: " + _("{begin} inside the region opened at line {line} "
                                                               "(regions do not nest)").format(
                    begin=markers.begin, line=opened[0]))
            opened = (number, line[: len(line) - len(line.lstrip())], [])
        elif stripped == markers.end:
            if opened is None:
                raise MarkerError(f"{filename}:{number}: " + _("{end} without {begin}").format(
                    end=markers.end, begin=markers.begin))
            yield "region", Region(opened[0], number, opened[1], tuple(opened[2]))
            opened = None
        elif markers.begin in line or markers.end in line:
            raise MarkerError(f"{filename}:{number}: " + _("a marker must stand alone on its line: {line}").format(
                line=stripped))
        elif opened is not None:
            opened[2].append(line)
        else:
            yield "text", line
    if opened is not None:
        raise MarkerError(f"{filename}:{opened[0]}: " + _("{begin} never closed by {end}").format(
            begin=markers.begin, end=markers.end))


def regions(source: str, filename: str = "<source>", markers: Markers = SOLUTION) -> list[Region]:
    """Every region of ``source``, in order (and a :class:`MarkerError` if the markers are wrong)."""
    return [item for kind, item in _split(source, filename, markers) if kind == "region"]


def replace_regions(source: str, replace: Callable[[Region], str | None], filename: str = "<source>",
                    markers: Markers = SOLUTION) -> str:
    """``source`` with each region (markers included) replaced by ``replace(region)``; ``None``
    keeps the region as it is. The result ends with a line end exactly when ``source`` does."""
    lines = _lines(source)
    out = []
    for kind, item in _split(source, filename, markers):
        if kind == "text":
            out.append(item)
            continue
        replacement = replace(item)
        if replacement is None:
            replacement = "".join(lines[item.begin_line - 1: item.end_line])
        out.append(replacement)
    result = "".join(out)
    if result.endswith("\n") and not source.endswith("\n"):
        result = result[:-1]
    return result


def even_blank_lines(text: str) -> str:
    """At most two blank lines in a row before code, as a removed region may leave more."""
    return re.sub(r"\n{3,}(?=\S)", "\n\n\n", text)
