"""Student stubs generated from the reference solutions: the one source of truth.

Solution code sits between nbgrader's markers ``### BEGIN SOLUTION`` and
``### END SOLUTION``. An indented region (a function body) becomes
``# YOUR CODE HERE`` and ``raise NotImplementedError()``, as nbgrader does; a
region at column 0 (a private helper of the solution) is removed entirely.
"""

from __future__ import annotations

import re
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
EXERCISE_FILES = ("conv.py", "pooling.py", "batchnorm.py", "layers.py", "modules.py", "networks.py",
                  "train.py", "augment.py")


class MarkerError(ValueError):
    pass


def strip_solutions(source: str, filename: str = "<source>") -> str:
    out: list[str] = []
    indent = None
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if indent is not None:
                raise MarkerError(f"{filename}:{number}: nested {BEGIN}")
            indent = line[: len(line) - len(line.lstrip())]
            if indent:
                out.append(f"{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError()\n")
        elif stripped == END:
            if indent is None:
                raise MarkerError(f"{filename}:{number}: {END} without {BEGIN}")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise MarkerError(f"{filename}: {BEGIN} never closed")
    return re.sub(r"\n{3,}(?=\S)", "\n\n\n", "".join(out))


def stub_sources(solutions_dir: Path) -> dict[str, str]:
    """Stub text per exercise file present in ``solutions_dir``."""
    sources = {}
    for name in EXERCISE_FILES:
        path = Path(solutions_dir) / name
        if path.exists():
            sources[name] = strip_solutions(path.read_text(), str(path))
    return sources


def write_stubs(solutions_dir: Path, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in stub_sources(solutions_dir).items():
        target = out_dir / name
        target.write_text(text)
        written.append(target)
    return written
