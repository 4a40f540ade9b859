"""``grader release --out DIR [--lang en|zh]``: the student bundle, in English (the default)
or in Chinese.

What goes in::

    README.md          for students: set-up, working, checking, handing in
    pyproject.toml     the README's set-up line (the kit README's: PyTorch's CPU build) then ``grader check``
    setup.cfg          keeps setuptools' *.egg-info inside grader/, out of the students' folder
    EXERCISES.md       the contract: the kit's EXERCISES.md, or in Chinese its EXERCISES.zh.md
    assignments/       the stubs, generated from solutions/ (grader.assign.stubs)
    notebooks/         the lesson notebooks, student version (grader.assign.notebooks)
    grader/            the grader with its PUBLIC checks: no grader/hidden/, and a
                       rubric.toml without the hidden entries
    datasets/          mnist5000.npz and its README (source and licence)

Never: solutions/, tests/, hidden checks. :func:`grader.assign.leaks.leaks` looks for them
in the written bundle and the release is refused if it finds any. The README is
``templates/<language>/student_README.md`` (with the short texts of ``student_README.toml``
beside it), the pyproject ``templates/pyproject.toml``.

The language is that of the README, the contract and the notebooks; code, names and formulas
are the same in both. A release in another language than English also writes
``language = "<language>"`` into the bundle's rubric ``[settings]``, the default language of
the students' own runs of the grader.

In the bundle itself the instructors' commands (release, gradescope) say they are
instructors' tools instead of failing.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import tomllib
from pathlib import Path

from grader import config
from grader import rubric as rubric_module
from grader.errors import UsageError
from grader.i18n import _
from grader.assign import leaks as leaks_module
from grader.assign import markers, outputs, texts
from grader.assign.stubs import stub_sources

MARKER = ".cnn-kit-release"  # marks a folder that release wrote (and may replace)
DATA_FILES = ("mnist5000.npz", "README.md")
#: The data's README in each language (the bundle ships it as datasets/README.md).
DATA_READMES = {"en": "README.md", "zh": "README.zh.md"}
#: Packages the students do not need (instructors' tools and the kit's own tests).
INSTRUCTOR_ONLY_PACKAGES = {"nbgrader", "pytest", "pytest-xdist", "nbformat", "nbclient", "nbconvert", "dask",
                            "psutil", "cosmic-ray", "filelock"}
NOTEBOOK_PACKAGES = ["jupyterlab>=4,<5", "ipykernel>=6,<8"]
SKIPPED_NAMES = {"__pycache__", ".pytest_cache", ".hypothesis"}
#: The contract of each language, at the kit's root; the bundle ships it as EXERCISES.md.
CONTRACTS = {"en": "EXERCISES.md", "zh": "EXERCISES.zh.md"}


class ReleaseError(RuntimeError):
    """The bundle cannot be written (or would leak); the message says why."""


def run(args) -> int:
    """``grader release --out DIR``."""
    config.require_instructor_kit("release")
    try:
        out = build(Path(args.out), getattr(args, "lang", None) or texts.LANGUAGE)
    except (ReleaseError, markers.MarkerError, texts.TextError, ValueError) as error:
        raise UsageError(str(error)) from None
    files = sum(1 for path in out.rglob("*") if path.is_file())
    print(_("student bundle written to {out}/ ({files} files); checked: no solution code, no hidden "
            "check").format(out=out, files=files))
    return 0


# -- building ---------------------------------------------------------------------------------
def build(out: Path, language: str = texts.LANGUAGE) -> Path:
    """Writes the bundle in ``language`` to ``out`` (replacing an earlier bundle there) and
    returns it."""
    texts.check_language(language)
    out = outputs.folder(out)
    if out == config.ROOT or any(out == folder or folder in out.parents for folder in outputs.kit_folders()):
        raise ReleaseError(_("refusing to write the bundle to {out}: pick a folder of its own").format(out=out))
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ReleaseError(_("{out} exists and is not an earlier bundle: pick an empty or new folder").format(
            out=out))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp's 0700 would keep the bundle from anyone else
    try:
        write_bundle(staging, language)
        found = leaks_module.leaks(staging)
        if found:
            raise ReleaseError(_("the bundle would leak solutions or hidden checks:") + "\n  "
                               + "\n  ".join(found[:20]))
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out


def write_bundle(target: Path, language: str = texts.LANGUAGE) -> None:
    from grader.assign import notebooks

    contract = contract_file(language)
    target.mkdir(parents=True, exist_ok=True)
    (target / MARKER).write_text("written by `grader release`; the next release replaces this folder\n")
    (target / "assignments").mkdir()
    for name, text in stub_sources(config.SOLUTIONS, language=language).items():
        (target / "assignments" / name).write_text(text)
    (target / "notebooks").mkdir()
    for name, text in notebooks.student_notebook_texts(config.SOLUTIONS, language=language).items():
        (target / "notebooks" / name).write_text(text)
    _copy_package(target / "grader")
    (target / "grader" / "rubric.toml").write_text(public_rubric_text(config.RUBRIC_FILE.read_text(), language))
    (target / "datasets").mkdir()
    for name in DATA_FILES:
        source = config.ROOT / "datasets" / (DATA_READMES[language] if name == "README.md" else name)
        if not source.is_file():
            raise ReleaseError(_("{path} is missing").format(path=source))
        shutil.copyfile(source, target / "datasets" / name)
    (target / "EXERCISES.md").write_text(student_contract(contract.read_text(encoding="utf-8")),
                                         encoding="utf-8")
    (target / "pyproject.toml").write_text(student_pyproject())
    (target / "setup.cfg").write_text(texts.template("setup.cfg"))
    (target / "README.md").write_text(student_readme(language))


def _copy_package(target: Path) -> None:
    def ignore(folder, names):
        skipped = {name for name in names if name in SKIPPED_NAMES or name.endswith((".pyc", ".pyo"))}
        if Path(folder).resolve() == config.PACKAGE and "hidden" in names:
            skipped.add("hidden")  # grader/hidden/: the hidden checks
        return skipped

    shutil.copytree(config.PACKAGE, target, ignore=ignore)


def contract_file(language: str = texts.LANGUAGE) -> Path:
    """The contract in ``language``: a file of the kit's root, which every release ships."""
    path = config.ROOT / CONTRACTS[texts.check_language(language)]
    if not path.is_file():
        raise ReleaseError(_("{path} is missing: the {language} release ships it as EXERCISES.md").format(
            path=path, language=language))
    return path


def student_contract(text: str) -> str:
    """The contract as students get it: without its instructors' passages, the lines between
    ``<!-- instructors -->`` and ``<!-- /instructors -->``."""
    return re.sub(r"(?ms)^<!-- instructors -->\n.*?^<!-- /instructors -->\n", "", text)


def readme_block(name: str, path: Path = config.ROOT / "README.md") -> str:
    """The lines of ``path`` between ``<!-- name -->`` and ``<!-- /name -->`` (as .ci/run reads
    the kit's set-up command), indentation kept."""
    found = re.search(rf"(?ms)^<!-- {name} -->\n(.*?)^<!-- /{name} -->$", path.read_text(encoding="utf-8"))
    if found is None or not found.group(1).strip():
        raise ReleaseError(_("{path} has no <!-- {name} --> block").format(path=path, name=name))
    return found.group(1).rstrip("\n")


def public_rubric_text(text: str, language: str = texts.LANGUAGE) -> str:
    """``rubric.toml`` without its hidden entries, comments and order kept; in another
    language than English, with that language in its ``[settings]``."""
    blocks = re.split(r"(?m)^(?=\[\[checks\]\]\s*$)", text)
    kept = [blocks[0]]
    for block in blocks[1:]:
        entries = tomllib.loads(block).get("checks", [])
        if not any(entry.get("hidden", False) for entry in entries):
            kept.append(block)
    result = "".join(kept)
    if not result.endswith("\n"):
        result += "\n"
    return result if language == texts.LANGUAGE else rubric_with_language(result, language)


def rubric_with_language(text: str, language: str) -> str:
    """The rubric's text with ``language = "<language>"`` in its ``[settings]`` table (added,
    or replacing the one there): the default language of the grader that reads it."""
    line = f'language = "{texts.check_language(language)}"'
    header = re.search(r"(?m)^\[settings\][ \t]*(#.*)?$", text)
    if header is None:
        result = text + f"\n[settings]\n{line}\n"
    else:
        end = re.search(r"(?m)^[ \t]*\[", text[header.end():])
        stop = header.end() + (end.start() if end else len(text) - header.end())
        table = re.sub(r"(?m)^[ \t]*language[ \t]*=.*\n?", "", text[header.end():stop])
        result = text[:header.end()] + "\n" + line + table + text[stop:]
    assert tomllib.loads(result)["settings"]["language"] == language
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


def student_readme(language: str = texts.LANGUAGE) -> str:
    """The students' README in ``language``, with the rubric's parts, files and points."""
    rubric = rubric_module.load()
    public = rubric.select(include_hidden=False)
    hidden = [e for e in rubric.entries if e.hidden]
    files = list(rubric.parts.values())
    words = texts.template_strings("student_README.toml", language)
    quoted = [f"`{name}`" for name in files]
    listing = quoted[0] if len(quoted) == 1 else \
        words["separator"].join(quoted[:-1]) + words["last_separator"] + quoted[-1]
    number_words = words.get("number_words", [])
    hidden_note = "\n\n" + texts.fill(words["hidden_note"], {"hidden": len(hidden)}, "student_README.toml") \
        if hidden else ""
    return texts.template(
        "student_README.md", language, set_up=readme_block("set-up"), parts=words["separator"].join(quoted),
        points=f"{sum(e.points for e in public):g}", hidden_note=hidden_note,
        count=number_words[len(files)] if len(files) < len(number_words) else str(len(files)),
        files=listing)
