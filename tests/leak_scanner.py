"""An independent leak scanner (not grader.assign.leaks): every trace of solution code, and of
the hidden checks, in a folder meant for students (tests/test_release.py, test_gradescope.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from grader import rubric as rubric_module
from grader.assign.markers import SOLUTION
from tests.helpers import ASSIGNMENTS, ROOT, SOLUTIONS

HIDDEN_DIR = ROOT / "grader" / "hidden"
BEGIN, END = SOLUTION.begin, SOLUTION.end
MARKER_LINES = {BEGIN, END, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"}


def solution_region_lines(text: str) -> list[str]:
    lines, inside = [], False
    for line in text.splitlines():
        if line.strip() == BEGIN:
            inside = True
        elif line.strip() == END:
            inside = False
        elif inside:
            lines.append(line.strip())
    return lines


def public_lines() -> set[str]:
    """Every stripped line of what students may legitimately see."""
    seen = set()
    for folder in (ROOT / "grader", ASSIGNMENTS):
        for path in folder.rglob("*.py"):
            if HIDDEN_DIR in path.parents or "__pycache__" in path.parts:
                continue
            seen.update(line.strip() for line in path.read_text().splitlines())
    return seen


def secret_lines(hidden_checks: bool = True) -> set[str]:
    """Lines of the solution regions (and of the hidden checks) that appear nowhere public:
    distinctive enough (25+ characters, not a comment) that finding one means a leak."""
    public = public_lines()
    candidates = []
    for path in SOLUTIONS.glob("*.py"):
        candidates += solution_region_lines(path.read_text())
    for path in HIDDEN_DIR.glob("*.py") if hidden_checks else ():
        candidates += [line.strip() for line in path.read_text().splitlines()]
    return {line for line in candidates
            if len(line) >= 25 and not line.startswith(("#", '"""', "from ", "import ")) and line not in public}


def public_text() -> str:
    texts = []
    for folder in (ROOT / "grader", ASSIGNMENTS):
        for path in folder.rglob("*.py"):
            if HIDDEN_DIR not in path.parents and "__pycache__" not in path.parts:
                texts.append(" ".join(path.read_text().split()))
    return "\n".join(texts)


def solution_blocks() -> list[str]:
    """Each solution region whole, whitespace-normalised (60+ characters): the body of a
    solution function, or its private helpers; minus those the public grader holds too
    (``return ResNet(BasicBlock, [2, 2, 2, 2], ...)`` is no secret)."""
    public = public_text()
    blocks = []
    for path in SOLUTIONS.glob("*.py"):
        region, inside = [], False
        for line in path.read_text().splitlines():
            if line.strip() == BEGIN:
                region, inside = [], True
            elif line.strip() == END:
                inside = False
                normalised = " ".join(" ".join(region).split())
                if len(normalised) >= 60 and normalised not in public:
                    blocks.append(normalised)
            elif inside:
                region.append(line)
    return blocks


def readable_texts(folder: Path):
    """(relative path, text) of every file; a notebook also yields its cells' sources."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        text = data.decode("utf-8", "replace")
        if path.suffix == ".ipynb":
            cells = json.loads(text)["cells"]
            text = "\n".join("".join(cell["source"]) for cell in cells)
        yield path.relative_to(folder), data, text


def scan(folder: Path, hidden_checks_allowed: bool = False) -> list[str]:
    """Every trace of solution code (and, unless allowed, of hidden checks) in ``folder``."""
    secrets = secret_lines(hidden_checks=not hidden_checks_allowed)
    blocks = solution_blocks()
    solution_digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in SOLUTIONS.glob("*.py")}
    hidden_ids = {e.id for e in rubric_module.load().entries if e.hidden}
    hidden_words = hidden_ids | {i.partition(".")[2] for i in hidden_ids}
    hidden_modules = {f"grader.hidden.{p.stem}" for p in HIDDEN_DIR.glob("*.py") if p.stem != "__init__"}
    if hidden_checks_allowed:
        hidden_words, hidden_modules = set(), set()
    problems = []
    for name, data, text in readable_texts(folder):
        if name.parts[:1] == ("solutions",) or ("hidden" in name.parts[:-1] and not hidden_checks_allowed):
            problems.append(f"{name}: a hidden-check or solutions folder")
        if hashlib.sha256(data).hexdigest() in solution_digests:
            problems.append(f"{name}: a solution file")
        if name.suffix in (".npz",):
            continue
        lines = {line.strip() for line in text.splitlines()}
        if lines & MARKER_LINES:
            problems.append(f"{name}: solution or hidden-test markers")
        if lines & secrets:
            problems.append(f"{name}: solution or hidden-check lines {sorted(lines & secrets)[:3]}")
        flat = " ".join(text.split())
        problems += [f"{name}: a whole solution region" for block in blocks if block in flat][:1]
        problems += [f"{name}: names hidden check {word}" for word in hidden_words
                     if f'"{word}"' in text or f"'{word}'" in text or f".{word}" in text or f" {word}" in text]
        problems += [f"{name}: names {module}" for module in hidden_modules if module in text]
    return problems
