"""``grader check`` run again: a part whose inputs did not change keeps its earlier results.

A part's results are kept under a key made of everything its verdict depends on: the bytes of
its file and of the files it uses (``[uses]`` in the rubric), of every other ``.py`` file in
the submission folder (a helper module it may import: the worker sees the ``.py`` files and
nothing else), the grader itself (its code,
rubric, catalogs and the numpy/torch versions), the reference files where they stand in for a
failing file, the settings and the language. Any change of any of them is another key, so a
kept result is exactly what grading again would give. Results with a grader error are never
kept (a fault of the grader is graded again). The store is the user's cache folder, never the
submission's folder; official grading (``grader batch``, Gradescope) does not use it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

from grader import atomic

FORMAT = 1  # bump when the stored form changes


def cache_folder() -> Path:
    """``$GRADER_CACHE_DIR``, else the grader's cache folder ``checks`` (grader.config)."""
    if os.environ.get("GRADER_CACHE_DIR"):
        return Path(os.environ["GRADER_CACHE_DIR"])
    from grader.config import cache_folder as grader_cache

    return grader_cache("checks")


@lru_cache(maxsize=1)
def _grader_digest() -> str:
    from grader.batch import grader_fingerprint

    digest = hashlib.sha256(grader_fingerprint().encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.glob("locale/*/LC_MESSAGES/*.po")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


class Store:
    """The kept results of one submission folder's parts."""

    def __init__(self, folder: Path, rubric, settings, language: str, references, root: Path | None = None):
        self.folder = Path(folder)
        self.root = root or cache_folder()
        part_files = set(rubric.parts.values())
        files = {path.name: _file_digest(path) for path in sorted(self.folder.glob("*.py"))
                 if path.is_file() and not path.is_symlink()}
        self.part_digest = {part: files.get(name, "absent") for part, name in rubric.parts.items()}
        others = {name: digest for name, digest in files.items() if name not in part_files}
        self.common = hashlib.sha256(json.dumps({
            "format": FORMAT, "grader": _grader_digest(), "others": others, "language": language,
            "settings": dataclasses.asdict(settings), "references": bool(references),
        }, sort_keys=True).encode()).hexdigest()
        # a part is graded with the reference file of a used part in place of a failing one
        self.reference_digest = {part: _file_digest(Path(references) / name) for part, name in rubric.parts.items()} \
            if references else {}
        self.uses = rubric.uses

    def key(self, part: str) -> str:
        used = self.uses.get(part, ())
        inputs = {p: self.part_digest[p] for p in (part, *used)}
        references = {p: self.reference_digest[p] for p in used if p in self.reference_digest}
        return hashlib.sha256(json.dumps([self.common, part, inputs, references], sort_keys=True).encode()).hexdigest()

    def _path(self, part: str) -> Path:
        return self.root / f"{self.key(part)}.json"

    def load(self, part: str):
        """``(results, notes)`` kept for ``part``, or None."""
        from grader.results import CheckResult

        try:
            data = json.loads(self._path(part).read_text(encoding="utf-8"))
            results = [CheckResult.from_dict(item) for item in data["results"]]
            for result, artifacts in zip(results, data["artifacts"]):
                result.artifacts = {name: bytes.fromhex(blob) for name, blob in artifacts.items()}
            return results, list(data["notes"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, part: str, results: list, notes) -> None:
        if any(result.grader_error for result in results):
            return
        data = {"results": [result.to_dict() for result in results],
                "artifacts": [{name: blob.hex() for name, blob in result.artifacts.items()} for result in results],
                "notes": list(notes)}
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            atomic.write_bytes(self._path(part), json.dumps(data).encode())
        except OSError:
            pass  # a cache that cannot be written only costs time
