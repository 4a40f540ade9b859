"""``grader similar``: which students handed in the same code.

Every pair of students is compared file by file (``conv.py`` with ``conv.py``, ...) the way
MOSS does it. A file is tokenised and normalised by copydetect's filter (pygments' Python
lexer, which also reads code that does not parse): every identifier becomes ``V``, ``F``
or ``O``, comments, whitespace and the contents of strings vanish. The normalised text is
cut into k-grams, hashed, and winnowed (copydetect's winnowing): any run of
``K + WINDOW - 1`` normalised characters that two files share is found wherever it sits
in each file, so renaming, reordering, recommenting or reformatting does not hide it.
Every k-gram of the stub the kit hands out (``assignments/``) is dropped from the
fingerprints, so the given code never makes two students similar.

Score of a pair: the share of the two students' own fingerprinted code (all files
together) that the other student has too::

    (matched_a + matched_b) / (covered_a + covered_b)

where ``covered`` counts the normalised characters under a student's kept fingerprints
and ``matched`` those under fingerprints the other student shares. 1 is a full copy,
0 nothing in common beyond the stubs.

copydetect's own hashing uses Python's ``hash()``, which changes with every process
(``PYTHONHASHSEED``): the winnowed fingerprints, and so the scores, would differ from one
run to the next. The k-grams are therefore hashed here, deterministically.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from copydetect.utils import filter_code, get_copied_slices, highlight_overlap, winnow

from grader import config
from grader import rubric as rubric_module
# A class folder is read exactly as ``grader batch`` reads it: its layout, its safe unpacking.
from grader.batch import discover, write_text_atomically
from grader.unpack import HandInError, clear, collect

K = 25       # normalised characters per k-gram: shorter common runs are noise (copydetect's default)
WINDOW = 6   # winnowing window: every common run of K + WINDOW - 1 = 30 characters is found
DIGITS = 4   # the score's decimals in the report; pairs that tie at this precision sort by name
TOP = 10     # pairs that get an HTML page unless --top says otherwise

_MULTIPLIERS = ((np.arange(1, K + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
                | np.uint64(1))


@dataclass
class FileFingerprint:
    text: str                      # the file as the student wrote it
    offsets: np.ndarray            # copydetect's map from normalised positions back into text
    positions: dict                # fingerprint -> its start positions in the normalised code
    covered: int                   # normalised characters under a kept fingerprint


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    score: float


def kgram_hashes(normalised: str) -> np.ndarray:
    """A 64-bit hash of every K-character run, the same in every process."""
    codes = np.frombuffer(normalised.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < K:
        return np.zeros(0, dtype=np.int64)
    mixed = (np.lib.stride_tricks.sliding_window_view(codes, K) * _MULTIPLIERS).sum(
        axis=1, dtype=np.uint64)
    # splitmix64's finaliser: a weighted sum alone would give winnowing badly spread minima
    mixed ^= mixed >> np.uint64(31)
    mixed *= np.uint64(0xBF58476D1CE4E5B9)
    mixed ^= mixed >> np.uint64(29)
    return mixed.view(np.int64)


def _normalise(text: str):
    return filter_code(text, "file.py", language="python")


def boilerplate(stub_text: str) -> frozenset:
    """Every k-gram of a stub: code the kit gives, which no student is to be blamed for."""
    return frozenset(kgram_hashes(_normalise(stub_text)[0]).tolist())


def fingerprint(text: str, given: frozenset = frozenset()) -> FileFingerprint:
    normalised, offsets = _normalise(text)
    hashes = kgram_hashes(normalised)
    positions: dict = {}
    if len(hashes):
        selected, where = winnow(hashes, WINDOW, remove_duplicates=False)
        for value, start in zip(selected.tolist(), where.tolist()):
            if value not in given:
                positions.setdefault(value, []).append(start)
    covered = np.zeros(len(normalised), dtype=bool)
    for starts in positions.values():
        for start in starts:
            covered[start:start + K] = True
    return FileFingerprint(text, offsets, positions, int(covered.sum()))


def _shared(a: FileFingerprint, b: FileFingerprint):
    """The stretches of normalised code each file shares with the other, as 2xN start/end arrays."""
    common = a.positions.keys() & b.positions.keys()
    if not common:
        return None
    starts_a = np.concatenate([a.positions[value] for value in common])
    starts_b = np.concatenate([b.positions[value] for value in common])
    return get_copied_slices(starts_a, K), get_copied_slices(starts_b, K)


def _length(slices) -> int:
    return int(np.sum(slices[1] - slices[0]))


def pair_score(a: dict, b: dict) -> float:
    """Score of two students, each a dict file name -> :class:`FileFingerprint`."""
    matched = covered = 0
    for name in a.keys() | b.keys():
        covered += (a[name].covered if name in a else 0) + (b[name].covered if name in b else 0)
        shared = _shared(a[name], b[name]) if name in a and name in b else None
        if shared:
            matched += _length(shared[0]) + _length(shared[1])
    return matched / covered if covered else 0.0


def fingerprint_class(submissions: dict, stubs: dict) -> dict:
    """Fingerprints of every student's files: ``{student: {file name: text}}`` in,
    ``{student: {file name: FileFingerprint}}`` out; ``stubs`` maps a file name to its stub text."""
    given = {name: boilerplate(text) for name, text in stubs.items()}
    return {student: {name: fingerprint(text, given.get(name, frozenset()))
                      for name, text in files.items()}
            for student, files in submissions.items()}


def rank(prints: dict) -> list[Pair]:
    """Every pair of fingerprinted students, most similar first (ties by names)."""
    pairs = [Pair(a, b, round(pair_score(prints[a], prints[b]), DIGITS))
             for a, b in itertools.combinations(sorted(prints), 2)]
    return sorted(pairs, key=lambda pair: (-pair.score, pair.a, pair.b))


def similar_pairs(submissions: dict, stubs: dict) -> list[Pair]:
    """Every pair of students, most similar first: ``submissions`` maps a student to
    ``{file name: text}``, ``stubs`` a file name to the stub the kit gives for it."""
    return rank(fingerprint_class(submissions, stubs))


def render_csv(pairs: list[Pair]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["a", "b", "score"])
    for pair in pairs:
        writer.writerow([pair.a, pair.b, f"{pair.score:.{DIGITS}f}"])
    return buffer.getvalue()


# ---------------------------------------------------------------- HTML pages

_STYLE = """body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.2em .6em;vertical-align:top}
.side{display:grid;grid-template-columns:1fr 1fr;gap:1em}
pre{background:#f7f7f7;padding:.5em;overflow-x:auto;font-size:12px}
mark{background:#ffd24d}"""


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n")


def _in_text(slices, offsets: np.ndarray):
    """Normalised-code stretches mapped back into the student's text (copydetect's mapping)."""
    if len(offsets):
        slices = slices + offsets[:, 1][np.clip(np.searchsorted(offsets[:, 0], slices),
                                               0, offsets.shape[0] - 1)]
    return slices


def _marked(fingerprint_: FileFingerprint, slices) -> str:
    """The file, HTML-escaped, its shared stretches in <mark>."""
    if slices is None or slices.shape[1] == 0:
        return html.escape(fingerprint_.text)
    text, _ = highlight_overlap(fingerprint_.text, _in_text(slices, fingerprint_.offsets),
                                "<mark>", "</mark>", escape_html=True)
    return text


def render_pair(pair: Pair, a: dict, b: dict) -> str:
    """One page: every file the two students share code in, side by side, shared code marked."""
    sections = []
    for name in sorted(a.keys() & b.keys()):
        shared = _shared(a[name], b[name])
        if not shared:
            continue
        share_a = _length(shared[0]) / max(a[name].covered, 1)
        share_b = _length(shared[1]) / max(b[name].covered, 1)
        sections.append(
            f"<h2>{html.escape(name)}</h2>\n<div class=\"side\">"
            f"<div><h3>{html.escape(pair.a)} ({share_a:.0%} of own code shared)</h3>"
            f"<pre>{_marked(a[name], shared[0])}</pre></div>"
            f"<div><h3>{html.escape(pair.b)} ({share_b:.0%} of own code shared)</h3>"
            f"<pre>{_marked(b[name], shared[1])}</pre></div></div>")
    title = f"{pair.a} and {pair.b}: {pair.score:.{DIGITS}f}"
    body = (f"<h1>{html.escape(title)}</h1>\n<p><a href=\"index.html\">all pairs</a>. Marked: "
            "code both students wrote, once names, comments and layout are set aside; "
            "the code the stubs give is never marked.</p>\n"
            + ("\n".join(sections) or "<p>No shared code.</p>"))
    return _page(title, body)


def render_index(pages: list[tuple[Pair, str]]) -> str:
    rows = "\n".join(
        f"<tr><td>{rank}</td><td>{html.escape(pair.a)}</td><td>{html.escape(pair.b)}</td>"
        f"<td>{pair.score:.{DIGITS}f}</td><td><a href=\"{page}\">side by side</a></td></tr>"
        for rank, (pair, page) in enumerate(pages, start=1))
    return _page("Most similar pairs", "<h1>Most similar pairs</h1>\n<table><tr><th>#</th><th>a</th>"
                 f"<th>b</th><th>score</th><th></th></tr>\n{rows}\n</table>")


def write_pages(folder: Path, pairs: list[Pair], prints: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pages = []
    for rank, pair in enumerate(pairs, start=1):
        page = f"pair-{rank:03d}.html"
        write_text_atomically(folder / page, render_pair(pair, prints[pair.a], prints[pair.b]))
        pages.append((pair, page))
    for stale in folder.glob("pair-*.html"):
        if stale.name not in {page for _, page in pages}:
            stale.unlink()
    write_text_atomically(folder / "index.html", render_index(pages))


# ---------------------------------------------------------------- the command

def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _bad_paths(root: Path, out: Path, pages: Path | None, top: int) -> str | None:
    if not root.is_dir():
        return f"{root} is not a folder of submissions"
    if out.is_dir():
        return f"--out {out} is a folder: give the name of the .csv file to write"
    if _inside(out, root):
        return f"--out {out} is inside the class folder {root}: write the report elsewhere"
    if top < 0:
        return "--top must be 0 or more"
    if pages is not None:
        if pages.exists() and not pages.is_dir():
            return f"--html {pages} is a file: give a folder for the pages"
        if _inside(pages, root):
            return f"--html {pages} is inside the class folder {root}: write the pages elsewhere"
        if pages.resolve() == out.resolve():
            return "--html and --out name the same path"
    return None


def read_class(root: Path, files) -> dict:
    """``{student: {file name: text}}`` for every student of the class folder whose hand-in
    holds at least one exercise file; a hand-in that cannot be read is skipped with a note."""
    submissions: dict = {}
    staging = Path(tempfile.mkdtemp(prefix="grader-similar-"))
    try:
        for student in discover(root):
            folder = staging / student.slug
            try:
                collect(student.source, folder)
            except HandInError as error:
                print(f"grader: {student.id} left out: {error}", file=sys.stderr)
                continue
            name = student.id if student.id not in submissions else student.slug
            submissions[name] = {file: (folder / file).read_bytes().decode("utf-8", "replace")
                                 for file in files if (folder / file).is_file()}
    finally:
        clear(staging)
    return submissions


def run(args) -> int:
    root, out = Path(args.submissions), Path(args.out)
    top = TOP if args.top is None else args.top
    pages = Path(args.html) if args.html else (out.with_name(out.stem + "-pairs") if top else None)
    problem = _bad_paths(root, out, pages, top)
    if problem:
        print(f"grader: {problem}", file=sys.stderr)
        return 2
    started = time.monotonic()
    files = list(rubric_module.load().parts.values())
    submissions = read_class(root, files)
    if len(submissions) < 2:
        print(f"grader: {root} holds {len(submissions)} readable submission(s); "
              "comparing needs at least two", file=sys.stderr)
        return 2
    stubs = {name: (config.ASSIGNMENTS / name).read_text()
             for name in files if (config.ASSIGNMENTS / name).is_file()}
    for name in sorted(set(files) - stubs.keys()):
        print(f"grader: no stub {config.ASSIGNMENTS / name}: its given code counts as the "
              "students' own", file=sys.stderr)
    prints = fingerprint_class(submissions, stubs)
    pairs = rank(prints)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(out, render_csv(pairs))
    print(f"{len(submissions)} students, {len(pairs)} pairs compared in "
          f"{time.monotonic() - started:.1f} s: {out}")
    if pages is not None and top:
        write_pages(pages, pairs[:top], prints)
        print(f"the {min(top, len(pairs))} most similar pairs side by side: {pages / 'index.html'}")
    return 0
