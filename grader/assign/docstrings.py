"""The docstrings of the exercise files in another language than English: the code a student of
the ``--lang zh`` release edits (its stubs and its notebooks' ``%%writefile`` cells) explains
itself in that language, with the same code, names, shapes and formulas.

One file per part and language, ``docstrings/<language>/<part>.toml``, holds the translated
docstring of each public function, class and method of ``solutions/<part>.py``, keyed by its
qualified name (``"linear_forward"``, ``"Linear.forward"``; ``"<module>"`` for the module's own).
A part without a file keeps its English docstrings. ``tests/test_docstrings_zh.py`` keeps every
file in step with the English: the same names, the parameters and numbers the English mentions.
"""

from __future__ import annotations

import ast
import functools
import tomllib
from pathlib import Path

from grader.assign import texts

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
    """``source`` (a solution or stub file of ``part``) with the docstrings ``language`` has."""
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
