"""The students of a class folder: one folder or ``.zip`` per student, nbgrader's layout too."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Student:
    id: str
    slug: str      # a safe folder name for the student's outputs
    source: Path


def discover(root: Path) -> list[Student]:
    """A folder or .zip per student; nbgrader's ``submitted/<student>/<assignment>/`` works as it is
    (the assignment folder is looked through like any nested folder)."""
    students, slugs = [], set()
    for entry in sorted(Path(root).iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            continue
        if not (entry.is_dir() or entry.suffix.lower() == ".zip"):
            continue
        student_id = entry.stem if entry.is_file() else entry.name
        student_id = student_id.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        slug = _folder_name(student_id)
        if slug in slugs or slug.startswith("."):
            slug = f"{slug}-{hashlib.sha256(entry.name.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"
        slugs.add(slug)
        students.append(Student(student_id, slug, entry))
    return students


def _folder_name(student_id: str) -> str:
    """A safe folder name for a student's outputs that keeps the name readable: letters and digits
    of any script (a class of Chinese names would otherwise be all underscores), at most 80 of
    them and 200 bytes in UTF-8 (file systems allow 255 bytes, and a suffix may follow)."""
    slug = re.sub(r"[^\w.-]", "_", student_id)[:80]
    while len(slug.encode("utf-8")) > 200:
        slug = slug[:-1]
    return slug or "student"
