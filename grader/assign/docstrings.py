"""The docstrings of the exercise files in another language than English: the code a student of
the ``--lang zh`` release edits (its stubs and its notebooks' ``%%writefile`` cells) explains
itself in that language, with the same code, names, shapes and formulas.

One file per part and language, ``docstrings/<language>/<part>.toml``, holds the translated
docstring of each public function, class and method of ``solutions/<part>.py``, keyed by its
qualified name (``"linear_forward"``, ``"Linear.forward"``; ``"<module>"`` for the module's own).
A part without a file keeps its English docstrings. ``tests/test_docstrings_zh.py`` keeps every
file in step with the English: the same names, the parameters and numbers the English mentions.

The code given around the stubs (``modules.py``'s base class ``Module``, ``_TreeDict``, ``_pair``)
speaks the same language: a sibling file ``docstrings/<language>/<part>.given.toml`` translates its
messages and comments, the ones a student meets when they slip (``ValueError: the gradient of
Linear.weight has shape ...``). Its table ``[messages]`` maps each English string of the given code
(an f-string written as its inside, placeholders as ``{expression}``: ``"expected an int or a pair
of ints, got {value!r}"``) to its translation, with the same placeholders in the same order; an
array of strings is written as implicitly joined pieces, one a line. Its table ``[comments]`` maps
each English comment (the lines of a block joined by spaces; a banner's dashes and a ``noqa``
kept out of the key) to its translation (``\n`` starts a new comment line). Code inside the
solution markers is never touched: it is the graded reference, not given code.
``tests/test_given_code_zh.py`` keeps these files in step with the given code.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
import tomllib
import unicodedata
from pathlib import Path

from grader.assign import markers, texts

FOLDER = Path(__file__).parent / "docstrings"
MODULE = "<module>"


def path(part: str, language: str) -> Path:
    return FOLDER / texts.check_language(language) / f"{part}.toml"


@functools.lru_cache(maxsize=None)
def translations(part: str, language: str) -> dict[str, str]:
    """Qualified name -> the docstring in ``language`` (empty for English, or a part not translated)."""
    if language == texts.LANGUAGE or not path(part, language).is_file():
        return {}
    try:
        return tomllib.loads(path(part, language).read_text())
    except tomllib.TOMLDecodeError as error:
        raise texts.TextError(f"{path(part, language)}: {error}") from None


def docstring_nodes(source: str) -> dict[str, ast.Expr]:
    """Qualified name -> the docstring expression of the module, of each module-level function
    and class, and of each method of those classes."""
    def docstring(node):
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            return body[0]

    tree = ast.parse(source)
    found = {MODULE: docstring(tree)}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found[node.name] = docstring(node)
        if isinstance(node, ast.ClassDef):
            found.update((f"{node.name}.{method.name}", docstring(method)) for method in node.body
                         if isinstance(method, ast.FunctionDef))
    return {name: expr for name, expr in found.items() if expr is not None}


def english_docstrings(source: str) -> dict[str, str]:
    return {name: node.value.value for name, node in docstring_nodes(source).items()}


def _literal(text: str, indent: str) -> str:
    quote = 'r"""' if "\\" in text else '"""'
    lines = text.strip("\n").split("\n")
    body = "\n".join((indent + line) if line.strip() else "" for line in lines[1:])
    if len(lines) == 1:
        return f'{indent}{quote}{lines[0]}"""'
    return f'{indent}{quote}{lines[0]}\n{body}\n{indent}"""'


def translate(source: str, part: str, language: str) -> str:
    """``source`` (a solution or stub file of ``part``) with the docstrings, and the given code's
    messages and comments, ``language`` has."""
    return translate_given(_translate_docstrings(source, part, language), part, language)


def _translate_docstrings(source: str, part: str, language: str) -> str:
    words = translations(part, language)
    if not words:
        return source
    lines = source.splitlines(keepends=True)
    nodes = sorted(docstring_nodes(source).items(), key=lambda item: -item[1].lineno)
    for name, node in nodes:
        if name not in words:
            continue
        first = lines[node.lineno - 1]
        indent = first[:len(first) - len(first.lstrip())]
        lines[node.lineno - 1:node.end_lineno] = [_literal(words[name], indent) + "\n"]
    return "".join(lines)


# -- the given code's messages and comments ------------------------------------------------------
PROSE = re.compile(r"[A-Za-z]{2,} [A-Za-z]{2,}")
KEPT_COMMENTS = frozenset({"YOUR CODE HERE"} | {marker.lstrip("# ") for marker in markers.ALL_MARKER_LINES})
# A comment: its "#", a pragma tools read (kept as it is), a banner's dashes, the text, dashes.
COMMENT = re.compile(r"(#+ *(?:(?:noqa(?:: *[A-Z]+[0-9]+(?:, *[A-Z]+[0-9]+)*)?|type: *ignore\S*) *)?(?:-+ *)?)"
                     r"(.*?)( *-*)$")


def given_path(part: str, language: str) -> Path:
    return FOLDER / texts.check_language(language) / f"{part}.given.toml"


@functools.lru_cache(maxsize=None)
def given_translations(part: str, language: str) -> tuple[dict, dict]:
    """``(messages, comments)`` of ``part``'s given code in ``language``: English -> translation
    (both empty for English, or a part without a file)."""
    if language == texts.LANGUAGE or not given_path(part, language).is_file():
        return {}, {}
    try:
        table = tomllib.loads(given_path(part, language).read_text())
    except tomllib.TOMLDecodeError as error:
        raise texts.TextError(f"{given_path(part, language)}: {error}") from None
    unknown = set(table) - {"messages", "comments"}
    if unknown:
        raise texts.TextError(f"{given_path(part, language)}: unknown table(s) {sorted(unknown)}")
    return table.get("messages", {}), table.get("comments", {})


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def template(node: ast.expr) -> str:
    """A string expression as a ``[messages]`` key: a constant's text, an f-string's inside
    (literal braces doubled, each placeholder as ``{expression!conversion:spec}``)."""
    if isinstance(node, ast.Constant):
        return node.value
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(value.value.replace("{", "{{").replace("}", "}}"))
        else:
            conversion = f"!{chr(value.conversion)}" if value.conversion != -1 else ""
            spec = f":{template(value.format_spec)}" if value.format_spec else ""
            parts.append(f"{{{ast.unparse(value.value)}{conversion}{spec}}}")
    return "".join(parts)


def literal_text(node: ast.expr) -> str:
    """The words of a string expression, its placeholders left out."""
    if isinstance(node, ast.Constant):
        return node.value
    return "".join(value.value for value in node.values if isinstance(value, ast.Constant))


def _solution_lines(source: str) -> set[int]:
    return {number for region in markers.regions(source)
            for number in range(region.begin_line, region.end_line + 1)}


def given_strings(source: str) -> list[ast.expr]:
    """The string expressions of the given code of ``source``, in order: neither docstrings, nor
    the parts and placeholders of an f-string, nor inside the solution markers."""
    tree = ast.parse(source)
    skipped = _solution_lines(source)
    inner = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            inner.add(id(body[0].value))
        if isinstance(node, ast.JoinedStr):
            inner.update(id(child) for child in ast.walk(node) if child is not node)
    found = [node for node in ast.walk(tree)
             if (isinstance(node, ast.JoinedStr) or isinstance(node, ast.Constant) and isinstance(node.value, str))
             and id(node) not in inner and not skipped & set(range(node.lineno, node.end_lineno + 1))]
    return sorted(found, key=lambda node: (node.lineno, node.col_offset))


def given_messages(source: str) -> list[str]:
    """The English prose of the given code's strings (its messages), as ``[messages]`` keys."""
    return [template(node) for node in given_strings(source) if PROSE.search(literal_text(node))]


def _comment_lines(source: str):
    """``(line, column, prefix, text, suffix, whole_line)`` of each comment of the given code."""
    skipped = _solution_lines(source)
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        row, column = token.start
        if token.type != tokenize.COMMENT or row in skipped:
            continue
        prefix, text, suffix = COMMENT.match(token.string).groups()
        yield row, column, prefix, text, suffix, not lines[row - 1][:column].strip()


def _comment_blocks(source: str) -> list[tuple[int, int, int, str, str, list[str]]]:
    """``(first line, last line, column, prefix, suffix, texts)`` of each comment to translate:
    the consecutive whole-line comments of one column form one block (a banner stands alone)."""
    blocks = []  # each with a last item: can the next line's comment join it?
    for row, column, prefix, text, suffix, whole in _comment_lines(source):
        if not re.search("[A-Za-z]", text) or text in KEPT_COMMENTS:
            continue
        joins = whole and not suffix.strip() and "-" not in prefix
        last = blocks[-1] if blocks else None
        if joins and last and last[6] and last[1] == row - 1 and last[2] == column:
            blocks[-1] = (*last[:1], row, *last[2:5], last[5] + [text], True)
        else:
            blocks.append((row, row, column, prefix, suffix, [text], joins))
    return [block[:6] for block in blocks]


def given_comments(source: str) -> list[str]:
    """The English comments of the given code, as ``[comments]`` keys."""
    return [" ".join(block[5]) for block in _comment_blocks(source)]


def as_list(text: str | list) -> list[str]:
    """A ``[messages]`` value as its pieces (a string is one piece)."""
    return [text] if isinstance(text, str) else list(text)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(character) in "WF" else 1 for character in text)


def _string_literal(text: str | list, node: ast.expr, column: str) -> str:
    """The translation of a string expression as source: one literal per piece, one piece a line;
    a piece of an f-string holding a brace is an f-string."""
    pieces = as_list(text)
    f_string = isinstance(node, ast.JoinedStr)
    return ("\n" + column).join(f'{"f" if f_string and "{" in piece else ""}"{_escape(piece)}"'
                                for piece in pieces)


def translate_given(source: str, part: str, language: str) -> str:
    """``source`` with the messages and comments of its given code in ``language``."""
    messages, comments = given_translations(part, language)
    if messages:
        lines = source.splitlines(keepends=True)
        for node in reversed(given_strings(source)):
            key = template(node)
            if key not in messages:
                continue
            first, last = lines[node.lineno - 1].encode(), lines[node.end_lineno - 1].encode()
            head, tail = first[:node.col_offset].decode(), last[node.end_col_offset:].decode()
            literal = _string_literal(messages[key], node, " " * len(head))
            lines[node.lineno - 1:node.end_lineno] = [head + literal + tail]
        source = "".join(lines)
    if comments:
        lines = source.splitlines(keepends=True)
        for first, last, column, prefix, suffix, words in reversed(_comment_blocks(source)):
            key = " ".join(words)
            if key not in comments:
                continue
            head = lines[first - 1][:column]
            end = "\n" if lines[last - 1].endswith("\n") else ""
            if suffix.strip():  # a banner keeps its width on screen (a Chinese character takes two columns)
                suffix = " " + "-" * max(3, len(suffix.strip()) + _width(key) - _width(comments[key]))
            if head.strip():
                lines[first - 1] = head + prefix + comments[key] + suffix + end
                continue
            written = [head + (prefix if number == 0 else "# ") + text + suffix
                       for number, text in enumerate(comments[key].split("\n"))]
            lines[first - 1:last] = ["\n".join(written) + end]
        source = "".join(lines)
    return source
