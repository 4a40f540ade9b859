"""``grader release --out DIR``: the student bundle.

What goes in::

    README.md          for students: set-up, working, checking, handing in
    pyproject.toml     ``python -m pip install -e .`` then ``grader check``
    EXERCISES.md       the contract, when the course's shared folder has it
    assignments/       the stubs, generated from solutions/ (grader.assign.stubs)
    notebooks/         the lesson notebooks, student version (grader.assign.notebooks)
    grader/            the grader with its PUBLIC checks: no grader/hidden/, and a
                       rubric.toml without the hidden entries
    datasets/          mnist5000.npz and its README (source and licence)

Never: solutions/, tests/, hidden checks. :func:`grader.assign.leaks.leaks` looks for them
in the written bundle and the release is refused if it finds any. The README and the
pyproject are ``templates/student_README.md`` and ``templates/pyproject.toml``.

In the bundle itself the instructors' commands (release, gradescope) say they are
instructors' tools instead of failing.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

from grader import config
from grader import rubric as rubric_module
from grader.assign import leaks as leaks_module
from grader.assign import markers, texts
from grader.assign.stubs import stub_sources

MARKER = ".cnn-kit-release"  # marks a folder that release wrote (and may replace)
DATA_FILES = ("mnist5000.npz", "README.md")
#: Packages the students do not need (instructors' tools and the kit's own tests).
INSTRUCTOR_ONLY_PACKAGES = {"nbgrader", "pytest", "nbformat", "nbclient", "nbconvert"}
NOTEBOOK_PACKAGES = ["jupyterlab>=4,<5", "ipykernel>=6,<8"]
SKIPPED_NAMES = {"__pycache__", ".pytest_cache", ".hypothesis"}
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve")


class ReleaseError(RuntimeError):
    """The bundle cannot be written (or would leak); the message says why."""


def run(args) -> int:
    """``grader release --out DIR``."""
    if not config.is_instructor_kit():
        print("grader release is an instructors' command: it needs the kit's solutions/ and "
              "grader/hidden/, which the student bundle does not have.", file=sys.stderr)
        return 2
    try:
        out = build(Path(args.out))
    except (ReleaseError, markers.MarkerError, texts.TextError, ValueError) as error:
        print(f"grader: {error}", file=sys.stderr)
        return 2
    files = sum(1 for path in out.rglob("*") if path.is_file())
    print(f"student bundle written to {out}/ ({files} files); checked: no solution code, no hidden check")
    return 0


# -- building ---------------------------------------------------------------------------------
def build(out: Path) -> Path:
    """Writes the bundle to ``out`` (replacing an earlier bundle there) and returns it."""
    out = Path(out).resolve()
    kit_folders = (config.PACKAGE, config.SOLUTIONS, config.ASSIGNMENTS, config.NOTEBOOKS,
                   config.ROOT / "datasets")
    if out == config.ROOT or any(out == folder or folder in out.parents for folder in kit_folders):
        raise ReleaseError(f"refusing to write the bundle to {out}: pick a folder of its own")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ReleaseError(f"{out} exists and is not an earlier bundle: pick an empty or new folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        write_bundle(staging)
        found = leaks_module.leaks(staging)
        if found:
            raise ReleaseError("the bundle would leak solutions or hidden checks:\n  " + "\n  ".join(found[:20]))
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out


def write_bundle(target: Path) -> None:
    from grader.assign import notebooks

    target.mkdir(parents=True, exist_ok=True)
    (target / MARKER).write_text("written by `grader release`; the next release replaces this folder\n")
    (target / "assignments").mkdir()
    for name, text in stub_sources(config.SOLUTIONS).items():
        (target / "assignments" / name).write_text(text)
    (target / "notebooks").mkdir()
    for name, text in notebooks.student_notebook_texts(config.SOLUTIONS).items():
        (target / "notebooks" / name).write_text(text)
    _copy_package(target / "grader")
    (target / "grader" / "rubric.toml").write_text(public_rubric_text(config.RUBRIC_FILE.read_text()))
    (target / "datasets").mkdir()
    for name in DATA_FILES:
        source = config.ROOT / "datasets" / name
        if not source.is_file():
            raise ReleaseError(f"{source} is missing")
        shutil.copyfile(source, target / "datasets" / name)
    contract = _contract()
    if contract is not None:
        shutil.copyfile(contract, target / "EXERCISES.md")
    (target / "pyproject.toml").write_text(student_pyproject())
    (target / "README.md").write_text(student_readme(contract is not None))


def _copy_package(target: Path) -> None:
    def ignore(folder, names):
        skipped = {name for name in names if name in SKIPPED_NAMES or name.endswith((".pyc", ".pyo"))}
        if Path(folder).resolve() == config.PACKAGE and "hidden" in names:
            skipped.add("hidden")  # grader/hidden/: the hidden checks
        return skipped

    shutil.copytree(config.PACKAGE, target, ignore=ignore)


def _contract() -> Path | None:
    for candidate in (config.ROOT / "EXERCISES.md", config.ROOT.parent / "shared" / "EXERCISES.md"):
        if candidate.is_file():
            return candidate
    return None


def public_rubric_text(text: str) -> str:
    """``rubric.toml`` without its hidden entries, comments and order kept."""
    blocks = re.split(r"(?m)^(?=\[\[checks\]\]\s*$)", text)
    kept = [blocks[0]]
    for block in blocks[1:]:
        entries = tomllib.loads(block).get("checks", [])
        if not any(entry.get("hidden", False) for entry in entries):
            kept.append(block)
    result = "".join(kept)
    if not result.endswith("\n"):
        result += "\n"
    return result


def _toml(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def derived_pyproject(name: str, description: str, extra_dependencies=(), readme: bool = False) -> str:
    """A pyproject.toml for a bundle made from this kit: the kit's dependencies minus the
    instructors' tools, plus ``extra_dependencies``; the same ``grader`` command and package
    data."""
    with open(config.ROOT / "pyproject.toml", "rb") as handle:
        kit = tomllib.load(handle)
    project = kit["project"]
    dependencies = [d for d in project.get("dependencies", [])
                    if re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].strip().lower() not in INSTRUCTOR_ONLY_PACKAGES]
    dependencies += [d for d in extra_dependencies if d.split(">")[0] not in " ".join(dependencies)]
    return texts.template(
        "pyproject.toml", name=_toml(name), version=_toml(project.get("version", "0.1.0")),
        description=_toml(description), readme_line='readme = "README.md"\n' if readme else "",
        requires_python=_toml(project.get("requires-python", ">=3.11")),
        dependencies="\n".join(f"    {_toml(d)}," for d in dependencies),
        package_data=_toml(kit["tool"]["setuptools"]["package-data"]["grader"]))


def student_pyproject() -> str:
    return derived_pyproject(
        "cnn-exercise-kit-student",
        "CNNs from scratch in NumPy: the exercises, the lessons and the grader's public checks",
        NOTEBOOK_PACKAGES, readme=True)


def _listing(names: list[str]) -> str:
    quoted = [f"`{name}`" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def student_readme(with_contract: bool) -> str:
    rubric = rubric_module.load()
    public = rubric.select(include_hidden=False)
    hidden = [e for e in rubric.entries if e.hidden]
    files = list(rubric.parts.values())
    contract = ("`EXERCISES.md` is the contract: the files, the names and what each must compute;\n"
                "every docstring in `assignments/` repeats what its function must do."
                if with_contract else "Every docstring in `assignments/` says what its function must do.")
    hidden_note = (f"\n\nWhen your work is graded, {len(hidden)} more checks run on top of these (larger\n"
                   "inputs, more examples): passing every check here is necessary, and very likely\n"
                   "but not certainly enough." if hidden else "")
    return texts.template(
        "student_README.md", contract=contract, parts=", ".join(f"`{name}`" for name in files),
        points=f"{sum(e.points for e in public):g}", hidden_note=hidden_note,
        count=NUMBER_WORDS[len(files)] if len(files) < len(NUMBER_WORDS) else str(len(files)),
        files=_listing(files))
