"""The results of grading one submission, and every form they take.

One model: :class:`CheckResult` (one rubric check) and :class:`Report` (a submission).
Every rendering lives here and nowhere else: the terminal report (streamed line by line
as the checks finish), the student's ``feedback.md``, Gradescope's ``results.json``, the
gradebook row, and the plain dict that crosses between processes (``to_dict`` /
``from_dict``). What a hidden check may show is decided once, in :meth:`CheckResult.message`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import re
import zlib
from pathlib import Path

from grader.i18n import N_, _
from grader import atomic, textwidth

# Statuses are data (the gradebook's, results.json's): shown to a reader through status_text.
PASSED, FAILED, GRADER_ERROR = "passed", "failed", "grader error"
HIDDEN_NOTE = N_("(a hidden check: its inputs are not shown)")


def diagnosis(kind: str, output: str | None = None, pattern: str | None = None) -> dict:
    """What a failing check found, in words that do not depend on the feedback's language:
    ``kind`` (the diagnosis: "values", "shape", "raised", or the identity of the message it
    gave), ``output`` (which output departed: "dx", "running_var"...) and ``pattern`` (how it
    departed, where the check knows: "scaled by the batch size", "shifted by one position
    along axis 3"...). Students with the same signature made the same mistake."""
    return {"kind": kind, "output": output, "pattern": pattern}


def message_kind(text) -> str:
    """The identity of a message (an :class:`grader.i18n.Message`): its English source's first
    words and a digest of the whole, so that a rewording or a translation of what it says
    never changes it. A sentence that lost its identity (glued to another) is "other"."""
    msgid = getattr(text, "msgid", None)
    if not msgid:
        return "other"
    words = re.findall(r"[a-z0-9]+", re.sub(r"\{[^}]*\}", " ", msgid.lower()))[:6]
    return "-".join(words or ["message"]) + f"~{zlib.crc32(msgid.encode()) & 0xffff:04x}"


def signature(check_id: str, found: dict | None) -> str:
    """One line naming a mistake: the check, then its diagnosis' kind, output and pattern."""
    found = found or {}
    words = [check_id] + [str(found.get(key) or "-") for key in ("kind", "output", "pattern")]
    while words[-1] == "-":
        words.pop()
    return " | ".join(words)


def status_text(status: str) -> str:
    return {PASSED: _("passed"), FAILED: _("failed"), GRADER_ERROR: _("grader error")}.get(status, status)


def points(value: float) -> str:
    return f"{value:g}"


@dataclass
class CheckResult:
    """The verdict of one rubric check on one submission."""

    id: str
    part: str
    name: str
    title: str
    max_score: float
    score: float = 0.0
    status: str = FAILED                 # PASSED, FAILED or GRADER_ERROR
    summary: str = ""                    # one line: what went wrong (or a passing check's figure)
    lines: list = field(default_factory=list)   # the evidence
    example: str | None = None           # the smallest failing example
    hint: str = ""
    hidden: bool = False
    seconds: float = 0.0
    violation: bool = False              # a forbidden import: the file scores zero
    unwritten: bool = False              # failed because the function is not written yet
    diagnosis: dict | None = None        # what a failing check found: see diagnosis()
    artifacts: dict = field(default_factory=dict, repr=False)  # file name -> bytes (not serialised)

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def grader_error(self) -> bool:
        return self.status == GRADER_ERROR

    def message(self, show_inputs: bool = True) -> str:
        """What a student reads for this check. A hidden check's inputs are shown only where
        ``show_inputs`` (the instructors' view)."""
        if self.passed and not self.summary:
            return status_text(PASSED)
        if self.hidden and not self.passed and not show_inputs:
            return f"{self.summary}\n{_(HIDDEN_NOTE)}"
        text = [self.summary]
        if self.example:
            text.append(_("Smallest failing example: {example}").format(example=self.example))
        text.extend(self.lines)
        if self.hint and self.example and not self.grader_error:
            text.append(_("Hint: {hint}").format(hint=self.hint))
        return textwidth.tidy("\n".join(text))

    @property
    def output(self) -> str:
        return self.message(show_inputs=True)

    def report_facts(self) -> dict:
        """What the class report reads back from results.json: the check's id and status, its
        diagnosis, and its summary (shown even for a hidden check, whose inputs it never names)."""
        return {"check": self.id, "part": self.part, "status": self.status, "hidden": self.hidden,
                "diagnosis": self.diagnosis, "summary": self.summary}

    def notebook_text(self) -> str:
        """What a notebook's check cell prints (nbgrader): PASS, PARTIAL or FAIL, the check, and
        the message (a hidden check's inputs never shown)."""
        mark = _("PASS") if self.passed else _("PARTIAL") if self.score > 0 else _("FAIL")
        line = _("{mark} {name}: {title} ({score}/{max_score})").format(
            mark=mark, name=self.name, title=self.title, score=f"{self.score:g}", max_score=f"{self.max_score:g}")
        if self.passed and not self.summary:
            return line
        return f"{line}\n{self.message(show_inputs=not self.hidden)}"

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data.pop("artifacts")
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "CheckResult":
        names = {f.name for f in dataclasses.fields(cls)} - {"artifacts"}
        return cls(**{key: value for key, value in data.items() if key in names})


@dataclass
class NotGraded:
    """A submission that could not be graded (a hand-in that cannot be unpacked, a grading that
    crashed): every form its results take, as :class:`Report` has them."""

    reason: str                                 # the gradebook's status, also said to the student
    notes: list = field(default_factory=list)   # what was odd about the hand-in, said first
    seconds: float | None = None                # results.json's execution_time, where known

    def to_gradescope(self) -> dict:
        data = {"score": 0.0, "output": "\n".join([*self.notes, self.reason]), "tests": []}
        if self.seconds is not None:
            data["execution_time"] = round(self.seconds, 3)
        return data

    def render_markdown(self, title: str) -> str:
        return "\n".join([f"# {title}", "", *(f"> {note}" for note in self.notes), "",
                          _("**Not graded**: {reason}.").format(reason=self.reason), ""])

    def gradebook_fields(self) -> dict:
        return {"status": self.reason, "total": 0.0, "parts": {}}


@dataclass
class Report:
    """Every check's result for one submission, in rubric order."""

    submission: str
    checks: list
    parts: list
    seconds: float = 0.0
    versions: dict = field(default_factory=dict)   # numpy / torch the verdicts were made with
    notes: dict = field(default_factory=dict)      # part -> what its feedback says first
    files: dict = field(default_factory=dict)      # part -> its file (the rubric's [parts])

    def file_of(self, part: str) -> str:
        return self.files.get(part, f"{part}.py")

    @property
    def score(self) -> float:
        return round(sum(check.score for check in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(check.max_score for check in self.checks), 6)

    @property
    def violation(self) -> bool:
        return any(check.violation for check in self.checks)

    @property
    def grader_errors(self) -> list:
        return [check for check in self.checks if check.grader_error]

    @property
    def status(self) -> str:
        """The gradebook's word for this report: a grader fault outranks everything."""
        if self.grader_errors:
            return GRADER_ERROR
        return "violation" if self.violation else "graded"

    def artifacts(self) -> dict:
        """Files the checks produced (a learning curve, a failing example's arrays), by file name."""
        return {name: data for check in self.checks for name, data in check.artifacts.items()}

    def save_artifacts(self, folder: Path, replace_any: bool = False) -> list[str]:
        """Writes :meth:`artifacts` into ``folder`` and returns what to tell. A file of the same
        name that is not of the kind the grader writes under it is the student's, and kept,
        unless ``replace_any`` (a results folder of the grader's)."""
        told = []
        for name, blob in self.artifacts().items():
            target = Path(folder) / name
            if not replace_any and target.exists() and not _written_by_the_grader(target):
                told.append(_("{name} not written: {target} exists and is not a file the grader wrote").format(
                    name=name, target=target))
                continue
            atomic.write_bytes(target, blob)
            told.append(_("{name} written to {folder}").format(name=name, folder=Path(folder).resolve()))
        return told

    def part_totals(self) -> dict:
        totals = {part: [0.0, 0.0] for part in self.parts}
        for check in self.checks:
            totals[check.part][0] += check.score
            totals[check.part][1] += check.max_score
        return {part: (round(got, 6), round(out_of, 6)) for part, (got, out_of) in totals.items()}

    # -- crossing between processes ----------------------------------------------------------
    def to_dict(self) -> dict:
        return {"submission": self.submission, "parts": list(self.parts), "seconds": self.seconds,
                "versions": dict(self.versions), "notes": dict(self.notes), "files": dict(self.files),
                "checks": [check.to_dict() for check in self.checks]}

    @classmethod
    def from_dict(cls, data: dict) -> "Report":
        return cls(data["submission"], [CheckResult.from_dict(c) for c in data["checks"]],
                   list(data["parts"]), float(data.get("seconds", 0.0)), dict(data.get("versions", {})),
                   dict(data.get("notes", {})), dict(data.get("files", {})))

    # -- the terminal ------------------------------------------------------------------------
    def render_text(self, show_hidden_inputs: bool = True, verbose: bool = False, with_header: bool = True) -> str:
        lines = [header(self.submission, self.versions), ""] if with_header else [""]
        totals = self.part_totals()
        for part in self.parts:
            lines.append(part_line(self.file_of(part), *totals[part]))
            lines.extend(note_lines(self.notes.get(part, ())))
            for check in (c for c in self.checks if c.part == part):
                lines.extend(check_lines(check, show_hidden_inputs, verbose))
            lines.append("")
        lines.append(total_line(self))
        return "\n".join(lines)

    def totals_text(self) -> str:
        """The closing lines of the streamed report: each part's total, then the total."""
        totals = self.part_totals()
        return "\n".join([*(part_line(self.file_of(part), *totals[part]) for part in self.parts),
                          total_line(self)])

    # -- feedback.md -------------------------------------------------------------------------
    def render_markdown(self, title: str, notes=(), show_hidden_inputs: bool = False) -> str:
        lines = [f"# {title}", ""]
        lines += [f"> {note}" for note in notes]
        lines += ["", "**" + _("Total: {score} / {max_score}").format(
            score=points(self.score), max_score=points(self.max_score)) + "**", ""]
        if self.grader_errors:
            lines += ["**" + _("Some checks could not be run because of a fault in the grader, not in "
                               "your code; they will be graded again.") + "**", ""]
        totals = self.part_totals()
        for part in self.parts:
            lines += ["## " + _("{file}: {score} / {max_score}").format(
                file=self.file_of(part), score=points(totals[part][0]), max_score=points(totals[part][1])), ""]
            lines += ["*" + _("{sentence}.").format(sentence=note[0].upper() + note[1:]) + "*"
                      for note in self.notes.get(part, ())]
            lines += [""] if self.notes.get(part) else []
            for check in (c for c in self.checks if c.part == part):
                hidden = _(" (hidden check)") if check.hidden else ""
                lines.append("- " + _("**{name}**: {title}: {score}/{max_score}, {status}").format(
                    name=check.name, title=check.title + hidden, score=points(check.score),
                    max_score=points(check.max_score), status=status_text(check.status)))
                if not check.passed:
                    body = check.message(show_hidden_inputs)
                    lines += ["", "  ```", *("  " + line for line in body.splitlines()), "  ```"]
            lines.append("")
        return "\n".join(lines)

    # -- Gradescope --------------------------------------------------------------------------
    def to_gradescope(self, show_hidden_inputs: bool = False, notes=()) -> dict:
        """Gradescope's results.json: a top-level score and one test per check."""
        tests = [{
            "name": f"{self.file_of(check.part)}: {check.name}: {check.title}",
            "score": check.score,
            "max_score": check.max_score,
            "status": "passed" if check.passed else "failed",
            "output": check.message(show_hidden_inputs),
            "visibility": "after_published" if check.hidden else "visible",
            "tags": [check.part, check.name],
            # Gradescope's specification has execution_time at the top level only: a test's goes here
            "extra_data": {**check.report_facts(), "execution_time": round(check.seconds, 3)},
        } for check in self.checks]
        output = [f"{points(self.score)}/{points(self.max_score)}", *notes]
        output += [f"{self.file_of(part)}: {note}." for part, part_notes in self.notes.items() for note in part_notes]
        if self.grader_errors:
            output.append(_("{count} check(s) could not run because of a fault in the grader, not in "
                            "your code: the course staff will grade them again.").format(
                                count=len(self.grader_errors)))
        return {"score": self.score, "execution_time": round(self.seconds, 3),
                "output": "\n".join(output), "tests": tests,
                "extra_data": {"versions": dict(self.versions), "status": self.status}}

    # -- the gradebook -----------------------------------------------------------------------
    def gradebook_fields(self) -> dict:
        """What the batch's state file keeps of this report for the gradebook."""
        return {"status": self.status, "total": self.score,
                "parts": {part: total[0] for part, total in self.part_totals().items()}}


def versions() -> dict:
    """The libraries the verdicts depend on (shown in every report), read from their installed
    metadata: a report's header must not wait for torch's import."""
    from importlib import metadata

    found = {}
    for name in ("numpy", "torch"):
        try:
            found[name] = metadata.version(name).split("+")[0]
        except metadata.PackageNotFoundError:
            found[name] = getattr(__import__(name), "__version__", "unknown").split("+")[0]
    return found


def header(submission: str, versions: dict | None = None) -> str:
    line = _("Grading {submission}").format(submission=submission)
    if not versions:
        return line
    stamp = _(", ").join(f"{name} {version}" for name, version in versions.items())
    return line + _("  ({versions})").format(versions=stamp)


def part_line(file: str, got: float | None = None, out_of: float | None = None) -> str:
    """A part's heading: its file (the rubric's [parts]) and, once graded, its total."""
    score = f"  {points(got)}/{points(out_of)}" if got is not None else ""
    return f"== {file}{score}"


def note_lines(notes) -> list:
    return [f"  ({note})" for note in notes]


def check_lines(check: CheckResult, show_hidden_inputs: bool = True, verbose: bool = False) -> list:
    marks = {PASSED: _("PASS"), FAILED: _("FAIL"), GRADER_ERROR: _("ERROR")}
    mark = textwidth.ljust(f"[{marks[check.status]}]", 2 + max(map(textwidth.width, marks.values())))
    hidden = _(" (hidden)") if check.hidden else ""
    timing = f" [{check.seconds:.1f} s]" if verbose else ""
    lines = [f"  {mark} {points(check.score):>2}/{points(check.max_score):<2} "
             + _("{name}: {title}").format(name=check.name, title=check.title + hidden) + timing]
    if not check.passed or check.summary:
        lines.extend("         " + line for line in check.message(show_hidden_inputs).splitlines())
    return lines


def total_line(report: Report) -> str:
    line = _("Total: {score}/{max_score} ({seconds} s)").format(
        score=points(report.score), max_score=points(report.max_score), seconds=f"{report.seconds:.1f}")
    if report.grader_errors:
        line += _("; {count} check(s) hit a fault of the grader, not of your code (not counted "
                  "against you: tell the course staff)").format(count=len(report.grader_errors))
    return line


# The kinds of file the grader writes beside a report, by their first bytes: a file of such a name
# but of another kind is the student's.
_ARTIFACT_SIGNATURES = {".png": b"\x89PNG", ".npz": b"PK\x03\x04"}


def _written_by_the_grader(path: Path) -> bool:
    signature = _ARTIFACT_SIGNATURES.get(path.suffix)
    try:
        with open(path, "rb") as stream:
            return signature is not None and stream.read(len(signature)) == signature
    except OSError:
        return False
