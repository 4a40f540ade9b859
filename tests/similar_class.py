"""A class for the similarity tests and benchmark: the kit's own correct solutions, written
independently of each other, each student over the stubs, and a copier who disguises one."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

from tests.helpers import ASSIGNMENTS, LAYER_FILES as LAYERS, SOLUTIONS, SUBMISSIONS, assemble

# Who wrote what: no file of one student comes from the same source as another's (the
# reference modules.py is left out: other_modules/ was written by editing it).
INDEPENDENT = {
    "ana": [(SOLUTIONS, LAYERS)],
    "ben": [(SUBMISSIONS / "loops", LAYERS), (SUBMISSIONS / "other_modules", ("modules.py", "networks.py"))],
    "cy": [(SUBMISSIONS / "einsum", LAYERS), (SOLUTIONS, ("train.py",))],
    "dee": [(SUBMISSIONS / "other_train", ("train.py",))],
}


def student(folder: Path, sources) -> Path:
    assemble(folder, ASSIGNMENTS)
    for source, names in sources:
        for name in names:
            (folder / name).write_text((source / name).read_text())
    return folder


class _Rename(ast.NodeTransformer):
    """Every name the file itself binds (functions, classes, arguments, variables) gets a new one."""

    def __init__(self, tree):
        bound = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                bound.add(node.name)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                bound.add(node.id)
        bound -= {"self", "cls"} | set(dir(builtins))
        self.new = {name: f"q{index}_{name[::-1].lower()}" for index, name in enumerate(sorted(bound))}

    def _renamed(self, name):
        return self.new.get(name, name)

    def visit_Name(self, node):
        node.id = self._renamed(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self._renamed(node.arg)
        return self.generic_visit(node)

    def visit_keyword(self, node):
        node.arg = node.arg and self._renamed(node.arg)
        return self.generic_visit(node)

    def visit_FunctionDef(self, node):
        node.name = self._renamed(node.name)
        node.body = _reversed_definitions(node.body)
        return self.generic_visit(node)

    def visit_ClassDef(self, node):
        node.name = self._renamed(node.name)
        node.body = _reversed_definitions(node.body)
        return self.generic_visit(node)


def _reversed_definitions(body):
    """The functions and classes of a body in reverse order, the other statements where they were."""
    definitions = [node for node in body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    flipped = iter(reversed(definitions))
    return [next(flipped) if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else node for node in body]


def disguise(source: str) -> str:
    """A copy a plagiarist would hand in: names, order, comments and layout all changed."""
    tree = ast.parse(source)
    tree.body = _reversed_definitions(tree.body)
    code = ast.unparse(_Rename(tree).visit(tree))  # also drops every comment
    lines = []
    for line in code.splitlines():
        stripped = line.lstrip(" ")
        indent = (len(line) - len(stripped)) // 2           # two-space indentation
        if stripped.endswith(":"):
            lines.append("")
        lines.append(" " * indent + stripped + ("  # see my notes" if stripped.endswith(")") else ""))
    disguised = "\n".join(lines) + "\n"
    ast.parse(disguised)  # still a program
    return disguised


def make_class(root: Path, copied: str | None = None) -> Path:
    for name, sources in INDEPENDENT.items():
        student(root / name, sources)
    if copied:
        copy = student(root / "zed", [])
        for path in (root / copied).glob("*.py"):
            if path.read_text() != (ASSIGNMENTS / path.name).read_text():  # what the original wrote
                (copy / path.name).write_text(disguise(path.read_text()))
    return root


def read_class(root: Path) -> dict:
    return {folder.name: {path.name: path.read_text() for path in folder.glob("*.py")}
            for folder in sorted(root.iterdir())}


def stub_files() -> dict:
    return {path.name: path.read_text() for path in ASSIGNMENTS.glob("*.py")}
