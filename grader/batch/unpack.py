"""Turns one student's hand-in (a folder or a .zip) into a clean folder of exercise files.

Only regular ``.py`` files with safe names are taken: no absolute paths, no ``..``,
no symlinks, nothing past the size caps (a zip bomb stops at the cap, whatever its
headers claim). Folders nested inside the hand-in (``alice/alice/conv.py``,
``submission/hw2/conv.py``) are looked through: the folder that holds the most
exercise files wins. Every problem is a :class:`HandInError` with a message for the
gradebook, never a traceback.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from grader import rubric as rubric_module
from grader.config import DEFAULTS, Settings
from grader.i18n import _


def exercise_files() -> list[str]:
    return list(rubric_module.load().parts.values())


class HandInError(Exception):
    """The hand-in cannot be graded; the message says why."""


def collect(source: Path, target: Path, settings: Settings = DEFAULTS) -> list[str]:
    """Writes the exercise files of ``source`` into ``target`` (within the hand-in caps of
    ``settings``); returns notes on what was odd."""
    target.mkdir(parents=True, exist_ok=True)
    if source.is_file() and source.suffix.lower() == ".zip":
        files, notes = _read_zip(source, settings)
    elif source.is_dir() and not source.is_symlink():
        files, notes = _read_folder(source, settings)
    else:
        raise HandInError(_("{name} is neither a folder nor a .zip file").format(name=source.name))
    chosen = _choose_folder(files)
    if chosen is None:
        raise HandInError(_("no exercise file found (expected {files}, ...)").format(
            files=_(", ").join(exercise_files()[:4])))
    folder, names = chosen
    for name in names:
        (target / name).write_bytes(files[(folder, name)])
    if folder:
        notes.append(_("files taken from the folder {folder}").format(folder="/".join(folder)))
    return notes


def _choose_folder(files: dict):
    by_folder: dict = {}
    for folder, name in files:
        if name in exercise_files():
            by_folder.setdefault(folder, []).append(name)
    if not by_folder:
        return None
    folder = max(sorted(by_folder), key=lambda f: (len(by_folder[f]), -len(f)))
    return folder, sorted(by_folder[folder])


def _safe_parts(name: str):
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts or name.startswith("/"):
        return None
    if any(part.startswith(".") or part == "__MACOSX" for part in path.parts):
        return None
    return tuple(path.parts[:-1]), path.parts[-1]


def _read_zip(path: Path, settings: Settings):
    notes, files, total = [], {}, 0
    max_file, max_total = settings.hand_in_file_bytes, settings.hand_in_total_bytes
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > settings.hand_in_members:
                raise HandInError(_("the zip holds {count} entries (at most {limit})").format(
                    count=len(members), limit=settings.hand_in_members))
            for member in members:
                if member.is_dir():
                    continue
                mode = member.external_attr >> 16
                if stat.S_ISLNK(mode):
                    notes.append(_("skipped the symlink {name}").format(name=repr(member.filename)))
                    continue
                parts = _safe_parts(member.filename)
                if parts is None:
                    notes.append(_("skipped the unsafe path {name}").format(name=repr(member.filename)))
                    continue
                if not parts[1].endswith(".py"):
                    continue
                if parts in files:
                    notes.append(_("{name} appears twice; the first copy was kept").format(
                        name=repr(member.filename)))
                    continue
                with archive.open(member) as stream:
                    data = stream.read(max_file + 1)
                if len(data) > max_file:
                    raise HandInError(_("{name} is larger than {size} MiB once unpacked (a zip "
                                        "bomb?)").format(name=repr(member.filename), size=max_file >> 20))
                total += len(data)
                if total > max_total:
                    raise HandInError(_("the zip unpacks to more than {size} MiB").format(
                        size=max_total >> 20))
                files[parts] = data
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, OSError,
            RuntimeError, ValueError) as error:
        raise HandInError(_("the zip file cannot be read ({error})").format(
            error=f"{type(error).__name__}: {error}")) from None
    return files, notes


def _read_folder(root: Path, settings: Settings):
    notes, files, total = [], {}, 0
    max_file, max_total = settings.hand_in_file_bytes, settings.hand_in_total_bytes
    for directory, subdirs, names in os.walk(root, followlinks=False):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d != "__MACOSX")
        relative = Path(directory).relative_to(root).parts
        for name in sorted(names):
            path = Path(directory, name)
            if not name.endswith(".py"):
                continue
            if path.is_symlink() or not path.is_file():
                notes.append(_("skipped {name} (not a regular file)").format(name="/".join(relative + (name,))))
                continue
            size = path.stat().st_size
            if size > max_file:
                raise HandInError(_("{name} is larger than {size} MiB").format(name=name, size=max_file >> 20))
            total += size
            if total > max_total:
                raise HandInError(_("the folder holds more than {size} MiB of Python files").format(
                    size=max_total >> 20))
            files[(relative, name)] = path.read_bytes()
    return files, notes


def clear(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
