"""The rubric: the data file ``rubric.toml`` read into checked, ordered entries."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

RUBRIC_FILE = Path(__file__).with_name("rubric.toml")


@dataclass(frozen=True)
class Entry:
    id: str
    part: str
    name: str
    title: str
    points: float
    hint: str = ""
    hidden: bool = False


@dataclass(frozen=True)
class Rubric:
    parts: dict  # part -> file name, in order
    entries: tuple

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
        points = raw.get("points", 1)
        if not isinstance(points, (int, float)) or points < 0:
            raise ValueError(f"rubric: check {check_id} has invalid points {points!r}")
        entries.append(Entry(check_id, part, raw["name"], raw.get("title", raw["name"]), float(points),
                             raw.get("hint", ""), bool(raw.get("hidden", False))))
    return Rubric(parts, tuple(entries))
