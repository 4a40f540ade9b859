"""What the tests share, in one place: the repository's folders, the layer parts and their files,
a submission assembled from folders, a rubric restricted to some checks, the failing checks of a
report, and the grader's command line run as a user runs it. Fixtures live in conftest.py."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from grader import rubric as rubric_module

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
ASSIGNMENTS = ROOT / "assignments"
SUBMISSIONS = ROOT / "tests" / "submissions"
LAYER_PARTS = ("conv", "pooling", "batchnorm", "layers")
LAYER_FILES = tuple(rubric_module.load().parts[part] for part in LAYER_PARTS)   # the rubric names each part's file


def ctrl_c_reaches_it() -> None:
    """A Popen ``preexec_fn`` for a test that sends Ctrl-C: the child takes SIGINT as at a terminal
    even when the tests run in the background (a shell starts a background job with SIGINT ignored,
    and an ignored signal stays ignored across exec, so Python would never raise KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def files_for(*parts: str) -> tuple:
    """The files a grading of ``parts`` runs: theirs and those of the parts they use (the rubric's
    ``[uses]``), in the rubric's order."""
    rubric = rubric_module.load()
    needed = set(parts).union(*(rubric.uses.get(part, ()) for part in parts))
    return tuple(file for part, file in rubric.parts.items() if part in needed)


def assemble(target: Path, *folders: Path) -> Path:
    """A submission in ``target`` made of the .py files of ``folders``, a later folder's file
    replacing an earlier one's: an alternative keeps only the files it writes its own way."""
    target.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        for path in sorted(folder.glob("*.py")):
            shutil.copyfile(path, target / path.name)
    return target


def restricted_rubric(*, names=(), ids=(), parts=None, keep=None) -> rubric_module.Rubric:
    """The rubric restricted to the checks of some contract ``names`` or check ``ids`` (or those
    ``keep(entry)`` selects), within ``parts`` if given: a test grades only the checks it is about.
    ``[uses]`` and the settings are kept, and so are the files of the parts left."""
    full = rubric_module.load()
    if keep is None:
        names, ids = set(names), set(ids)
        assert names or ids, "restricted to nothing"

        def keep(entry):
            return entry.name in names or entry.id in ids

    entries = tuple(e for e in full.entries if (parts is None or e.part in parts) and keep(e))
    assert entries, f"no check is named {sorted(names)} or has the id {sorted(ids)}"
    kept_parts = {p: f for p, f in full.parts.items() if p in {e.part for e in entries}}
    return dataclasses.replace(full, parts=kept_parts, entries=entries)


def own_checks(*parts) -> rubric_module.Rubric:
    """The rubric restricted to the checks of ``parts``: grading a folder whose earlier files are
    the reference's, the checks of those files (run first, silently, by ``grade``) tell nothing."""
    return restricted_rubric(parts=set(parts), keep=lambda entry: True)


def failures(report) -> str:
    """The failing checks of a report, with what they said: an assertion's message."""
    lines = []
    for check in report.checks:
        if not check.passed:
            lines.append(f"--- {check.id} ({check.name}): {check.score:g}/{check.max_score:g}")
            lines.extend("    " + line for line in check.output.splitlines())
    return "\n".join(lines)


def grader(*args, env=None, cwd=ROOT, **kwargs) -> subprocess.CompletedProcess:
    """``python -m grader ARGS`` in ``cwd`` (the repository's root), its output captured."""
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=dict(os.environ, **(env or {})), **kwargs)


def one_line_refusal(run, code=2) -> str:
    """The one line a refused command printed (it exited ``code``, without a traceback)."""
    assert run.returncode == code, (run.returncode, run.stdout, run.stderr)
    assert "Traceback" not in run.stderr + run.stdout
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    return run.stderr
