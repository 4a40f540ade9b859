"""``grader similar``: which students handed in the same code.

Every pair of students is compared file by file (``conv.py`` with ``conv.py``, ...) the way
MOSS does it (Schleimer, Wilkerson and Aiken, "Winnowing", SIGMOD 2003):

- a file is read by Python's ``tokenize`` and normalised: every name but keywords and
  builtins becomes ``V`` (NumPy's too: ``np.sum(x)`` reads ``V.V(V)``), every string
  ``S``; comments, blank lines and layout are dropped. Renaming, recommenting and
  reformatting change nothing;
- every run of ``K`` consecutive tokens is hashed, and winnowing keeps the smallest hash
  of every ``WINDOW`` consecutive ones: any run of ``K + WINDOW - 1`` tokens that two files
  share is found wherever it sits in each, so moving functions around changes nothing;
- every run of ``K`` tokens of the stub the kit hands out (``assignments/``) is dropped:
  the given code never makes two students similar.

Score of a pair: the share of the two students' own fingerprinted code (all files
together) that the other student has too::

    (matched_a + matched_b) / max(covered_a + covered_b, FLOOR)

``covered`` counts a student's tokens under a kept fingerprint, ``matched`` those under
a fingerprint the other student shares in the same file. 1 is a full copy, 0 nothing in
common beyond the stubs. ``FLOOR`` keeps a pair who wrote almost nothing of their own from
the top of the list: two students who each filled in one short function the same, obvious
way share all of their own code, but that is little evidence of copying.

The pages and the lines printed speak the command's language (``--lang``, GRADER_LANG, the
rubric's); the CSV report is the same in every language.

copydetect (the maintained MOSS-like library) was tried first and left out: its k-grams
are hashed with Python's ``hash()``, which is salted differently in every process, so the
winnowed fingerprints and the scores change from one run to the next; and its pygments
lexer takes 5 times as long as ``tokenize``, the larger part of the time on a big class.
"""

from __future__ import annotations

import builtins
import csv
import hashlib
import html
import io
import itertools
import keyword
import re
import sys
import tempfile
import time
import tokenize
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from grader import atomic, config, i18n
from grader import rubric as rubric_module
from grader.batch.report import FONTS
# A class folder is read exactly as ``grader batch`` reads it: its layout, its safe unpacking.
from grader.batch.students import discover
from grader.batch.unpack import HandInError, clear, collect
from grader.errors import EXIT_OK, UsageError
from grader.i18n import _

K = 15       # tokens per fingerprint: shorter common runs are the language's idioms, not copying
WINDOW = 6   # winnowing window: every common run of K + WINDOW - 1 = 20 tokens is found
FLOOR = 1000  # tokens of own code (the pair's): below it, the score is a share of FLOOR
DIGITS = 4   # decimals of the score in the report; pairs that tie at this precision sort by name
TOP = 10     # pairs that get a page unless --top says otherwise

_KEPT_NAMES = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))
_DROPPED = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)  # Python 3.12 on
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)
_MULTIPLIERS = (np.arange(1, K + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) | np.uint64(1)


# ---------------------------------------------------------------- one file

def tokens(text: str) -> list[tuple[str, int, int]]:
    """The normalised tokens of ``text``: (symbol, start, end), start and end offsets in ``text``.

    Code that does not tokenise is read as far as it goes: after an error the tokenizer
    starts again at the offending line (an indentation error) or after the last token read.
    """
    lines = io.StringIO(text).readlines()
    line_starts = [0, *itertools.accumulate(len(line) for line in lines)]
    found: list = []
    first = 0
    while first < len(lines):
        readline = iter(lines[first:] + [""]).__next__
        depth = 0  # inside an f-string (Python 3.12 splits them into tokens): one S for it all
        seen = first  # the line after the last token read
        try:
            for token in tokenize.generate_tokens(readline):
                seen = first + token.end[0]
                if token.type == _FSTRING_START:
                    depth += 1
                    symbol = "S" if depth == 1 else None
                elif token.type == _FSTRING_END:
                    depth -= 1
                    symbol = None
                else:
                    symbol = None if depth else _symbol(token)
                if symbol is not None:
                    (row, column), (end_row, end_column) = token.start, token.end
                    found.append((symbol, line_starts[first + row - 1] + column,
                                  line_starts[first + end_row - 1] + end_column))
            break
        except (tokenize.TokenError, SyntaxError) as error:
            row = error.lineno if isinstance(error, SyntaxError) else error.args[1][0]
            first = max(first + (row or 1) - 1, seen, first + 1)
    return found


def _symbol(token) -> str | None:
    if token.type in _DROPPED:
        return None
    if token.type == tokenize.NAME:
        return token.string if token.string in _KEPT_NAMES else "V"
    if token.type == tokenize.STRING:
        return "S"
    if token.type == tokenize.ERRORTOKEN and not token.string.strip():
        return None
    return token.string


@lru_cache(maxsize=1 << 16)
def _symbol_id(symbol: str) -> int:
    return int.from_bytes(hashlib.blake2b(symbol.encode(), digest_size=8).digest(), "little")


def kgram_hashes(symbols: list[str], salt: str) -> np.ndarray:
    """A 64-bit hash of every run of K symbols, the same in every process; ``salt`` (the file's
    name) keeps a run of conv.py from matching the same run in another file."""
    if len(symbols) < K:
        return np.zeros(0, dtype=np.int64)
    ids = np.array([_symbol_id(symbol) for symbol in symbols], dtype=np.uint64)
    mixed = (np.lib.stride_tricks.sliding_window_view(ids, K) * _MULTIPLIERS).sum(axis=1, dtype=np.uint64)
    mixed ^= np.uint64(_symbol_id(salt))
    # splitmix64's finaliser: a weighted sum alone would spread winnowing's minima badly
    mixed ^= mixed >> np.uint64(31)
    mixed *= np.uint64(0xBF58476D1CE4E5B9)
    mixed ^= mixed >> np.uint64(29)
    return mixed.view(np.int64)


def winnow(hashes: np.ndarray) -> np.ndarray:
    """Winnowing: the position of the rightmost smallest hash of every window, once each."""
    if len(hashes) == 0:
        return np.zeros(0, dtype=np.int64)
    width = min(WINDOW, len(hashes))
    windows = np.lib.stride_tricks.sliding_window_view(hashes, width)
    rightmost = width - 1 - np.argmin(windows[:, ::-1], axis=1)
    return np.unique(np.arange(len(windows)) + rightmost)


def given_hashes(stub_text: str, name: str) -> np.ndarray:
    """Every k-gram hash of a stub: code the kit gives, which no student is to be blamed for."""
    return np.unique(kgram_hashes([symbol for symbol, _, _ in tokens(stub_text)], name))


# ---------------------------------------------------------------- one student

@dataclass
class Submission:
    """One student's fingerprints, every file in one numbering of tokens."""

    texts: dict          # file name -> the text as handed in
    spans: dict          # file name -> (first token, end token, token offsets in the text: n x 2)
    hashes: np.ndarray   # the kept fingerprints, sorted
    starts: np.ndarray   # the token where each starts, in the same order
    unique: np.ndarray   # the kept fingerprints, once each
    covered: int         # tokens under a kept fingerprint


def fingerprint(files: dict, given: dict | None = None) -> Submission:
    """``files``: file name -> text; ``given``: file name -> :func:`given_hashes` of its stub."""
    given = given or {}
    spans, all_hashes, all_starts, base = {}, [], [], 0
    for name in sorted(files):
        found = tokens(files[name])
        hashes = kgram_hashes([symbol for symbol, _, _ in found], name)
        picked = winnow(hashes)
        if name in given:
            picked = picked[~_among(hashes[picked], given[name])]
        all_hashes.append(hashes[picked])
        all_starts.append(picked + base)
        offsets = np.array([(start, end) for _, start, end in found], dtype=np.int64).reshape(-1, 2)
        spans[name] = (base, base + len(found), offsets)
        base += len(found)
    hashes = np.concatenate(all_hashes) if all_hashes else np.zeros(0, dtype=np.int64)
    starts = np.concatenate(all_starts) if all_starts else np.zeros(0, dtype=np.int64)
    order = np.argsort(hashes, kind="stable")
    return Submission(dict(files), spans, hashes[order], starts[order], np.unique(hashes),
                      _union(np.sort(starts)))


def _union(starts: np.ndarray) -> int:
    """Tokens under the fingerprints that start at ``starts`` (sorted): each covers K tokens."""
    if len(starts) == 0:
        return 0
    return int(np.minimum(np.diff(starts), K).sum()) + K


def _shared_starts(a: Submission, b: Submission):
    """Where the fingerprints the two students share start, in each one's tokens (sorted)."""
    common = np.intersect1d(a.unique, b.unique, assume_unique=True)
    return np.sort(a.starts[_among(a.hashes, common)]), np.sort(b.starts[_among(b.hashes, common)])


def _among(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.isin(values, keys)`` for sorted ``keys``, six times as fast on these sizes."""
    if len(keys) == 0:
        return np.zeros(len(values), dtype=bool)
    where = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
    return keys[where] == values


def pair_score(a: Submission, b: Submission) -> float:
    if not a.covered + b.covered:
        return 0.0
    shared_a, shared_b = _shared_starts(a, b)
    return (_union(shared_a) + _union(shared_b)) / max(a.covered + b.covered, FLOOR)


# ---------------------------------------------------------------- a class

@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    score: float


def fingerprint_class(submissions: dict, stubs: dict) -> dict:
    """``{student: {file name: text}}`` and ``{file name: stub text}`` in,
    ``{student: Submission}`` out."""
    given = {name: given_hashes(text, name) for name, text in stubs.items()}
    # a file handed in as the stub has no code of its own: no need to read it
    return {student: fingerprint({name: text for name, text in files.items() if text != stubs.get(name)},
                                 given)
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

_STYLE = """body{font-family:""" + FONTS + """;margin:1.5em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.2em .6em;vertical-align:top}
.side{display:grid;grid-template-columns:1fr 1fr;gap:1em}
pre{background:#f7f7f7;padding:.5em;overflow-x:auto;font-size:12px}
mark{background:#ffd24d}"""


def _page(title: str, body: str) -> str:
    language = "zh-CN" if i18n.language() == "zh" else "en"
    return (f"<!DOCTYPE html>\n<html lang=\"{language}\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n")


def _regions(starts: np.ndarray, first: int, end: int, offsets: np.ndarray) -> list[tuple[int, int]]:
    """The stretches of a file's text under the shared fingerprints that start at ``starts``."""
    inside = starts[(starts >= first) & (starts < end)] - first
    if len(inside) == 0:
        return []
    breaks = np.flatnonzero(np.diff(inside) > K)
    region_starts = np.concatenate([inside[:1], inside[breaks + 1]])
    region_ends = np.concatenate([inside[breaks], inside[-1:]]) + K - 1  # last token of each
    return [(int(offsets[s, 0]), int(offsets[e, 1])) for s, e in zip(region_starts, region_ends)]


def _marked(text: str, regions) -> str:
    """``text`` HTML-escaped, the ``regions`` in <mark>."""
    pieces, done = [], 0
    for start, end in regions:
        pieces += [html.escape(text[done:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        done = end
    pieces.append(html.escape(text[done:]))
    return "".join(pieces)


def render_pair(pair: Pair, a: Submission, b: Submission) -> str:
    """One page: every file the two students share code in, side by side, shared code marked."""
    shared_a, shared_b = _shared_starts(a, b)
    sections = []
    for name in sorted(a.texts.keys() & b.texts.keys()):
        regions_a = _regions(shared_a, *a.spans[name])
        regions_b = _regions(shared_b, *b.spans[name])
        if not regions_a:
            continue
        sections.append(
            f"<h2>{html.escape(name)}</h2>\n<div class=\"side\">"
            f"<div><h3>{html.escape(pair.a)}</h3><pre>{_marked(a.texts[name], regions_a)}</pre></div>"
            f"<div><h3>{html.escape(pair.b)}</h3><pre>{_marked(b.texts[name], regions_b)}</pre></div></div>")
    title = _("{a} and {b}: {score}").format(a=pair.a, b=pair.b, score=f"{pair.score:.{DIGITS}f}")
    marked = _("Marked: the runs of at least {k} tokens that both students wrote, once names, comments and "
               "layout are set aside; a run the stub gives is never counted.").format(k=K)
    body = (f"<h1>{html.escape(title)}</h1>\n<p><a href=\"index.html\">{html.escape(_('all pairs'))}</a></p>\n"
            f"<p>{html.escape(marked)}</p>\n"
            + ("\n".join(sections) or f"<p>{html.escape(_('No shared code.'))}</p>"))
    return _page(title, body)


def render_index(pages: list[tuple[Pair, str]]) -> str:
    side_by_side = html.escape(_("side by side"))
    rows = "\n".join(
        f"<tr><td>{rank_}</td><td>{html.escape(pair.a)}</td><td>{html.escape(pair.b)}</td>"
        f"<td>{pair.score:.{DIGITS}f}</td><td><a href=\"{page}\">{side_by_side}</a></td></tr>"
        for rank_, (pair, page) in enumerate(pages, start=1))
    title = _("Most similar pairs")
    head = "".join(f"<th>{html.escape(name)}</th>" for name in ("#", _("Student"), _("Student"), _("Similarity"), ""))
    return _page(title, f"<h1>{html.escape(title)}</h1>\n<table><tr>{head}</tr>\n{rows}\n</table>")


def write_pages(folder: Path, pairs: list[Pair], prints: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pages = []
    for number, pair in enumerate(pairs, start=1):
        page = f"pair-{number:03d}.html"
        atomic.write_text(folder / page, render_pair(pair, prints[pair.a], prints[pair.b]))
        pages.append((pair, page))
    for stale in folder.glob("pair-*.html"):  # pages of a former run with a larger --top
        if re.fullmatch(r"pair-\d+\.html", stale.name) and stale.name not in {page for _, page in pages}:
            stale.unlink()
    atomic.write_text(folder / "index.html", render_index(pages))


# ---------------------------------------------------------------- the command

def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _check_paths(root: Path, out: Path, pages: Path | None, top: int) -> None:
    """A :class:`UsageError` if a path is wrong; nothing inside the class is ever written."""
    if not root.is_dir():
        raise UsageError(_("{root} is not a folder of submissions").format(root=root))
    if out.is_dir():
        raise UsageError(_("--out {out} is a folder: give the name of the .csv file to write").format(out=out))
    if _inside(out, root):
        raise UsageError(_("--out {out} is inside the class folder {root}: write the report elsewhere").format(
            out=out, root=root))
    if top < 0:
        raise UsageError(_("--top must be 0 or more"))
    if pages is not None:
        if pages.exists() and not pages.is_dir():
            raise UsageError(_("--html {pages} is a file: give a folder for the pages").format(pages=pages))
        if _inside(pages, root):
            raise UsageError(_("--html {pages} is inside the class folder {root}: write the pages elsewhere").format(
                pages=pages, root=root))
        if pages.resolve() == out.resolve():
            raise UsageError(_("--html and --out name the same path"))


def read_class(root: Path, files) -> dict:
    """``{student: {file name: text}}`` for every student of the class folder; a hand-in
    that cannot be read is left out with a note."""
    submissions: dict = {}
    staging = Path(tempfile.mkdtemp(prefix="grader-similar-"))
    try:
        for student in discover(root):
            folder = staging / student.slug
            try:
                collect(student.source, folder)
            except HandInError as error:
                print(_("grader: {student} left out: {error}").format(student=student.id, error=error),
                      file=sys.stderr)
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
    _check_paths(root, out, pages, top)
    started = time.monotonic()
    files = list(rubric_module.load().parts.values())
    submissions = read_class(root, files)
    if len(submissions) < 2:
        raise UsageError(_("{root} holds {count} readable submission(s); comparing needs at least two").format(
            root=root, count=len(submissions)))
    stubs = {name: (config.ASSIGNMENTS / name).read_text()
             for name in files if (config.ASSIGNMENTS / name).is_file()}
    for name in sorted(set(files) - stubs.keys()):
        print(_("grader: no stub {path}: its given code counts as the students' own").format(
            path=config.ASSIGNMENTS / name), file=sys.stderr)
    prints = fingerprint_class(submissions, stubs)
    pairs = rank(prints)
    atomic.write_text(out, render_csv(pairs))
    print(_("{students} students, {pairs} pairs compared in {seconds:.1f} s: {out}").format(
        students=len(submissions), pairs=len(pairs), seconds=time.monotonic() - started, out=out))
    if pages is not None and top:
        write_pages(pages, pairs[:top], prints)
        print(_("the {count} most similar pair(s) side by side: {path}").format(
            count=min(top, len(pairs)), path=pages / "index.html"))
    return EXIT_OK
