"""The rubric: the data file ``rubric.toml`` read into checked, ordered entries.

Besides the checks, the rubric says which earlier parts each part's file uses
(``[uses]``: the modules part runs the student's conv.py, pooling.py, ...) and may
override any grading setting (``[settings]``, the fields of :class:`grader.config.Settings`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from grader.config import DEFAULTS, RUBRIC_FILE, Settings
from grader.errors import UsageError
from grader.i18n import _


class UnknownPart(UsageError, ValueError):
    """A part the rubric does not list (``--part convv``)."""


@dataclass(frozen=True)
class Entry:
    id: str
    part: str
    name: str
    title: str
    points: float
    hint: str = ""
    hidden: bool = False
    title_zh: str = ""
    hint_zh: str = ""

    def title_in(self, language: str) -> str:
        """The title in ``language``; English where the rubric has none in it (an instructor's
        English-only rubric still grades; tests/test_i18n.py demands both in the kit's)."""
        return (self.title_zh if language == "zh" else "") or self.title

    def hint_in(self, language: str) -> str:
        return (self.hint_zh if language == "zh" else "") or self.hint


@dataclass(frozen=True)
class Rubric:
    parts: dict  # part -> file name, in order
    entries: tuple
    uses: dict = field(default_factory=dict)  # part -> the earlier parts whose files it runs, directly or not
    settings: Settings = DEFAULTS

    def check_parts(self, parts) -> None:
        """Refuses (:class:`UnknownPart`) any of ``parts`` that the rubric does not list."""
        unknown = sorted(set(parts or ()) - set(self.parts))
        if unknown:
            raise UnknownPart(_("unknown part(s): {parts}; choose from {choices}").format(
                parts=_(", ").join(unknown), choices=_(", ").join(self.parts)))

    def select(self, parts=None, include_hidden: bool = False) -> list[Entry]:
        return [entry for entry in self.entries
                if (parts is None or entry.part in parts) and (include_hidden or not entry.hidden)]


def load(path: Path | str = RUBRIC_FILE) -> Rubric:
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    parts = dict(data.get("parts", {}))
    entries = []
    seen = set()
    for raw in data.get("checks", []):
        check_id = raw["id"]
        part = check_id.split(".", 1)[0]
        if part not in parts:
            raise ValueError(f"rubric: check {check_id} belongs to no part listed in [parts]")
        if check_id in seen:
            raise ValueError(f"rubric: check {check_id} is listed twice")
        seen.add(check_id)
        if entries and list(parts).index(part) < list(parts).index(entries[-1].part):
            raise ValueError(f"rubric: check {check_id} stands after the checks of {entries[-1].part}: "
                             "list the checks part by part, in the order of [parts]")
        points = raw.get("points", 1)
        if not isinstance(points, (int, float)) or points < 0:
            raise ValueError(f"rubric: check {check_id} has invalid points {points!r}")
        entries.append(Entry(check_id, part, raw["name"], raw.get("title", raw["name"]), float(points),
                             raw.get("hint", ""), bool(raw.get("hidden", False)),
                             raw.get("title_zh", ""), raw.get("hint_zh", "")))
    uses = {}
    for part, used in data.get("uses", {}).items():
        if part not in parts or not set(used) <= set(parts):
            raise ValueError(f"rubric: [uses] {part} = {used!r} names a part not listed in [parts]")
        uses[part] = tuple(used)
    for part in uses:  # through a used part, its own uses too
        closure = list(uses[part])
        for used in closure:
            closure += [p for p in uses.get(used, ()) if p not in closure]
        uses[part] = tuple(p for p in parts if p in closure)
    try:
        settings = DEFAULTS.replace(**data.get("settings", {}))
    except (TypeError, ValueError) as error:
        raise ValueError(f"rubric: [settings]: {error}") from None
    return Rubric(parts, tuple(entries), {part: uses.get(part, ()) for part in parts}, settings)
