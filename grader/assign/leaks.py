"""The leak search: does a bundle (a folder) or an archive's members hold solution code or,
where they must not, hidden checks?

What counts as a leak: a solution file itself (by hash), a solution or hidden-test marker, a
distinctive line of a solution region (:func:`distinctive_solution_lines`), and, in the student
bundle, the hidden checks' folder, ids and titles.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path, PurePosixPath

from grader import config
from grader import rubric as rubric_module
from grader.assign import markers
from grader.assign.stubs import stub_sources

MIN_DISTINCTIVE = 30  # characters: shorter solution lines may well occur anywhere
BINARY_SUFFIXES = (".npz", ".png", ".pyc", ".zip")


def solution_lines(text: str, filename: str = "<source>") -> list[str]:
    """The lines inside the solution regions of a solution file."""
    return [line.rstrip("\n") for region in markers.regions(text, filename) for line in region.body]


def distinctive_solution_lines(solutions_dir: Path = config.SOLUTIONS, public_roots=None) -> set[str]:
    """Solution lines (stripped, at least MIN_DISTINCTIVE characters) that no public file of
    the kit holds: finding one in a bundle means solution code got in."""
    public_text = set()
    for root in public_roots or (config.PACKAGE, config.ASSIGNMENTS):
        for path in Path(root).rglob("*.py"):
            if "hidden" in path.relative_to(root).parts or "__pycache__" in path.parts:
                continue
            public_text.update(line.strip() for line in path.read_text(errors="replace").splitlines())
    public_text.update(line.strip() for text in stub_sources(solutions_dir).values()
                       for line in text.splitlines())
    found = set()
    for path in sorted(Path(solutions_dir).glob("*.py")):
        for line in solution_lines(path.read_text(), str(path)):
            line = line.strip()
            if len(line) >= MIN_DISTINCTIVE and line not in public_text and not line.startswith("#"):
                found.add(line)
    return found


def solution_hashes(solutions_dir: Path = config.SOLUTIONS) -> dict:
    return {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in Path(solutions_dir).glob("*.py")}


def hidden_check_names() -> set[str]:
    """Hidden check ids and the function names after the part."""
    names = set()
    for entry in rubric_module.load().entries:
        if entry.hidden:
            names.add(entry.id)
            names.add(entry.id.partition(".")[2])
    return names


def _strings(value):
    """Every string in a notebook's JSON: its cells' sources, outputs and metadata."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        if all(isinstance(item, str) for item in value):
            yield "".join(value)  # a multi-line source or output, split into lines
        else:
            for item in value:
                yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def _text(name: str, data: bytes) -> str:
    """The text to search in a file; a notebook's is also every string of its JSON, decoded
    (an output or a metadata field, not only a source)."""
    text = data.decode("utf-8", "replace")
    if name.endswith(".ipynb"):
        try:
            text += "\n" + "\n".join(_strings(json.loads(text)))
        except ValueError:
            pass
    return text


def _text_files(folder: Path):
    """(path, text) of every text file (see :func:`_text`)."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix in BINARY_SUFFIXES:
            continue
        yield path, _text(path.name, path.read_bytes())


def _solution_traces(name, data: bytes, text: str, hashes: dict, distinctive: set) -> list[str]:
    found = []
    digest = hashlib.sha256(data).hexdigest()
    if digest in hashes:
        found.append(f"{name} is solutions/{hashes[digest]}")
    lines = [line.strip() for line in text.splitlines()]
    if any(line in markers.ALL_MARKER_LINES for line in lines):
        found.append(f"{name} holds solution or hidden-test markers")
    for line in lines:
        if line in distinctive:
            found.append(f"{name} holds a solution line: {line[:80]}")
            break
    return found


def leaks(bundle: Path) -> list[str]:
    """Every way in which the student bundle ``bundle`` holds solution code or hidden checks."""
    bundle = Path(bundle)
    found = []
    if (bundle / "grader" / "hidden").exists():
        found.append("grader/hidden/ is in the bundle")
    if (bundle / "solutions").exists():
        found.append("solutions/ is in the bundle")
    hashes, distinctive = solution_hashes(), distinctive_solution_lines()
    hidden = hidden_check_names()
    hidden_titles = {e.title for e in rubric_module.load().entries if e.hidden and len(e.title) >= 20}
    bundle_rubric = bundle / "grader" / "rubric.toml"
    if bundle_rubric.is_file():
        if any(entry.hidden for entry in rubric_module.load(bundle_rubric).entries):
            found.append("grader/rubric.toml lists hidden checks")
    def search(name, data: bytes, text: str) -> None:
        found.extend(_solution_traces(name, data, text, hashes, distinctive))
        for word in hidden:
            if re.search(rf"(?<![\w.]){re.escape(word)}(?!\w)", text):
                found.append(f"{name} names the hidden check {word}")
        for title in hidden_titles:
            if title in text:
                found.append(f"{name} holds the title of a hidden check: {title}")

    for path, text in _text_files(bundle):
        search(path.relative_to(bundle), path.read_bytes(), text)
    # An archive left in a folder the bundle copies (an autograder zip built into grader/)
    # ships whatever it holds: its members are searched as files of the bundle.
    for path in sorted(bundle.rglob("*")):
        if path.is_file() and path.suffix != ".npz" and zipfile.is_zipfile(path):  # .npz: NumPy's arrays
            for name, data in _archive_members(path, path.relative_to(bundle).as_posix()):
                if "hidden" in PurePosixPath(name).parts:
                    found.append(f"{name} is a hidden check")
                if name.endswith(BINARY_SUFFIXES):
                    found += _solution_traces(name, data, "", hashes, distinctive)
                else:
                    search(name, data, _text(name, data))
    return found


def _archive_members(path, label: str):
    """(label:member, bytes) of a zip's files, those of the zips inside it too."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                data = archive.read(info)
                name = f"{label}:{info.filename}"
                yield name, data
                if zipfile.is_zipfile(io.BytesIO(data)):
                    yield from _archive_members(io.BytesIO(data), name)
    except (zipfile.BadZipFile, OSError, RuntimeError) as error:  # RuntimeError: encrypted
        yield f"{label}: unreadable archive ({error})", b""


def member_leaks(members: dict) -> list[str]:
    """Solution code among an archive's ``members`` (name -> (bytes, mode)); hidden checks are
    allowed there (the Gradescope autograder needs them)."""
    hashes, distinctive = solution_hashes(), distinctive_solution_lines()
    found = []
    for name, (data, _) in members.items():
        if name.endswith(BINARY_SUFFIXES):
            found += [f"{name} is solutions/{hashes[d]}" for d in [hashlib.sha256(data).hexdigest()] if d in hashes]
            continue
        found += _solution_traces(name, data, data.decode("utf-8", "replace"), hashes, distinctive)
    return found
