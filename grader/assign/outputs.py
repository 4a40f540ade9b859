"""Where the instructors' build tools write: the check of ``--out`` that release, gradescope,
notebooks, course and stubs each make before writing anything. A path that is a file where
a folder is wanted (or a folder where a file is), or that lies under a file, gets one line
instead of a traceback; a file written into a folder the kit ships (grader/, solutions/,
assignments/, notebooks/, datasets/) would ride along in the next release or autograder."""

from __future__ import annotations

from pathlib import Path

from grader import config
from grader.errors import UsageError
from grader.i18n import _


def kit_folders() -> tuple:
    """The kit's folders that releases and autograders are made from."""
    return (config.PACKAGE, config.SOLUTIONS, config.ASSIGNMENTS, config.NOTEBOOKS, config.ROOT / "datasets")


def _not_under_a_file(out: Path) -> None:
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(_("--out {out}: {parent} is a file, not a folder").format(out=out, parent=parent))
            return


def folder(out) -> Path:
    """``out`` resolved, where a folder may be written (it need not exist yet)."""
    out = Path(out).resolve()
    if out.exists() and not out.is_dir():
        raise UsageError(_("--out {out} is a file: name a folder").format(out=out))
    _not_under_a_file(out)
    return out


def file(out) -> Path:
    """``out`` resolved, where a file may be written: not a folder, not inside the kit's folders."""
    out = Path(out).resolve()
    if out.is_dir():
        raise UsageError(_("--out {out} is a folder: name the file to write").format(out=out))
    _not_under_a_file(out)
    for kit_folder in kit_folders():
        if kit_folder in out.parents:
            raise UsageError(_("refusing to write {out} inside {folder}: the kit ships that folder; pick a place "
                               "outside it").format(out=out, folder=kit_folder))
    return out
