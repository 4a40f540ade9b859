"""The class report: what a whole class got wrong, read back from a batch's stored results.

``grader batch`` writes it beside the gradebook, and ``grader report OUT`` rebuilds it from
``OUT`` without grading again. Three files:

    report.html       one self-contained page (no script; style and SVG plots inline; printable)
    checks.csv        one row per rubric check: passed, failed, errors, mean score
    signatures.csv    the students grouped by the same mistake (see grader.results.signature)

Everything comes from the batch's files: ``gradebook.csv`` (the class and its parts),
``students/<slug>/state.json`` (status, totals) and ``students/<slug>/results.json``
(Gradescope's format; each test's ``extra_data`` holds the check's id, status and diagnosis).

The page speaks the language of the command (``--lang``, ``GRADER_LANG``, the rubric's: see
grader.i18n), whatever language the batch graded in, so an English-graded class can be read in
Chinese and the other way round; its words are in grader/locale/zh/LC_MESSAGES/instructor.po.
The example messages are the students', in the language they were graded in. The CSV files
are read by programs: their columns, the checks' English titles and the signatures are the
same in every language.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from grader import atomic, i18n
from grader.errors import EXIT_OK, UsageError
from grader.i18n import N_, _
from grader.results import FAILED, GRADER_ERROR, PASSED, signature, status_text

STUDENTS_SHOWN = 25      # ids listed on the page per mistake (all of them are in signatures.csv)
MISTAKES_SHOWN = 60      # signatures on the page (all of them are in signatures.csv)
PAIRS_SHOWN = 15         # top pairs of `grader similar`
SLOWEST_SHOWN = 10       # slowest gradings listed
EXAMPLE_LINES = 8        # lines of an example message
# A traceback names the student's file in the grading's temporary folder: its name is enough
# (and the same on every run, on every machine).
TRACED_FILE = re.compile(r'File "[^"]*[/\\]([^/\\"]+)"')


@dataclass
class Student:
    id: str
    slug: str
    status: str                 # "graded", "violation", "grader error" or "error: ..."
    total: float = 0.0
    parts: dict = field(default_factory=dict)
    seconds: float = 0.0
    tests: list = field(default_factory=list)   # results.json's tests
    reason: str = ""            # why it could not be graded

    @property
    def graded(self) -> bool:
        return bool(self.tests)

    @property
    def listed_id(self) -> str:
        """The id in a space-separated list: the slug where the id itself has spaces."""
        return self.slug if any(c.isspace() for c in self.id) or not self.id else self.id


@dataclass
class Check:
    id: str
    part: str
    title: str                  # the rubric's English title (checks.csv's)
    max_score: float
    hidden: bool = False
    title_zh: str = ""          # the rubric's Chinese title, for the page in Chinese
    passed: int = 0
    failed: int = 0
    errors: int = 0
    scores: list = field(default_factory=list)

    @property
    def graded(self) -> int:
        return self.passed + self.failed + self.errors

    @property
    def pass_rate(self) -> float:
        """Of the students it judged (a fault of the grader judged no one)."""
        judged = self.passed + self.failed
        return self.passed / judged if judged else 0.0

    @property
    def mean_score(self) -> float:
        return sum(self.scores) / len(self.scores) if self.scores else 0.0

    def title_in(self, language: str) -> str:
        return (self.title_zh if language == "zh" else "") or self.title


@dataclass
class Mistake:
    signature: str
    check: str
    diagnosis: dict
    students: list = field(default_factory=list)    # Student
    example: str = ""


@dataclass
class ClassResults:
    out: Path
    parts: list
    students: list
    checks: list            # Check, in rubric order
    mistakes: list          # Mistake, most common first
    part_max: dict

    @property
    def not_graded(self) -> list:
        return [s for s in self.students if not s.graded or s.status == GRADER_ERROR]


# -- reading a batch's folder ---------------------------------------------------------------------
def load(out: Path, show_hidden_inputs: bool = False) -> ClassResults:
    """The class as the batch in ``out`` left it; a :class:`UsageError` where ``out`` is not one."""
    out = Path(out)
    gradebook = out / "gradebook.csv"
    if not out.is_dir():
        raise UsageError(_("{out} is not a folder: name the --out folder of a `grader batch`").format(out=out))
    if not gradebook.is_file():
        raise UsageError(_("{out} holds no gradebook.csv: name the --out folder of a `grader batch`").format(
            out=out))
    try:
        with open(gradebook, newline="", encoding="utf-8") as stream:
            reader = csv.reader(stream)
            header = next(reader)
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error, StopIteration) as error:
        raise UsageError(_("{path} cannot be read: {error}").format(path=gradebook, error=error)) from None
    if header[:2] != ["id", "total"] or header[-1:] != ["status"]:
        raise UsageError(_("{path} is not a gradebook of `grader batch` (its columns are {columns})").format(
            path=gradebook, columns=", ".join(header)))
    parts = header[2:-1]
    stored = _stored_students(out)
    students = []
    for row in rows:
        if len(row) != len(header):
            continue
        student_id, status = row[0], row[-1]
        same_id = stored.get(student_id) or []  # a folder and a .zip of one name: two rows, one id
        student = same_id.pop(0) if same_id else Student(student_id, student_id, status)
        student.status = status
        student.total = _number(row[1])
        student.parts = {part: _number(value) for part, value in zip(parts, row[2:-1])}
        if not student.graded and not student.reason:
            student.reason = status.removeprefix("error: ")
        students.append(student)
    entries = _rubric_entries()
    checks: dict = {}
    groups: dict = {}
    for student in students:
        for test in student.tests:
            facts = test.get("extra_data") or {}
            check_id = facts.get("check")
            if not check_id:
                continue
            check = checks.get(check_id)
            if check is None:
                entry = entries.get(check_id)
                check = checks[check_id] = Check(check_id, facts.get("part", ""),
                                                 entry.title if entry else _title_of(test),
                                                 float(test.get("max_score", 0)), bool(facts.get("hidden")),
                                                 entry.title_zh if entry else "")
            status = facts.get("status")
            if status == GRADER_ERROR:
                check.errors += 1
                continue
            check.scores.append(float(test.get("score", 0)))
            if status == PASSED:
                check.passed += 1
                continue
            check.failed += 1
            if status == FAILED:
                key = signature(check_id, facts.get("diagnosis"))
                mistake = groups.get(key)
                if mistake is None:
                    mistake = groups[key] = Mistake(key, check_id, facts.get("diagnosis") or {},
                                                    example=_example(test, facts, show_hidden_inputs))
                mistake.students.append(student)
    part_max: dict = {}
    for check in checks.values():
        part_max[check.part] = part_max.get(check.part, 0.0) + check.max_score
    mistakes = sorted(groups.values(), key=lambda m: (-len(m.students), m.signature))
    return ClassResults(out, parts, students, list(checks.values()), mistakes, part_max)


def _stored_students(out: Path) -> dict:
    """id -> the Students of that id (in folder order), from every student folder with a state.json."""
    found = {}
    folder = out / "students"
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        try:
            state = json.loads((path / "state.json").read_text(encoding="utf-8"))
            student_id = str(state["id"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        try:
            results = json.loads((path / "results.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            results = {}
        results = results if isinstance(results, dict) else {}
        tests = [test for test in results.get("tests") or [] if isinstance(test, dict)]
        student = Student(student_id, path.name, str(state.get("status", "")), tests=tests,
                          seconds=_number(results.get("execution_time", 0)))
        if not tests:  # the hand-in's notes, then its status (the same words after "error: ")
            lines = [line for line in str(results.get("output", "")).splitlines() if line.strip()]
            student.reason = "\n".join(line for line in lines if line.removeprefix("error: ") not in lines
                                       or not line.startswith("error: ")) or student.status
        found.setdefault(student_id, []).append(student)
    return found


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _rubric_entries() -> dict:
    """The rubric's checks (their titles are the instructors' words): id -> rubric.Entry."""
    try:
        from grader import rubric

        return {entry.id: entry for entry in rubric.load().entries}
    except (OSError, ValueError):
        return {}


def _title_of(test: dict) -> str:
    return str(test.get("name", "")).split(": ", 2)[-1]


def _example(test: dict, facts: dict, show_hidden_inputs: bool) -> str:
    """What one student of the mistake read: the message up to its first blank line (the
    replay and the printed output left out). A hidden check's inputs only where shown."""
    text = str(facts.get("summary", "")) if facts.get("hidden") and not show_hidden_inputs \
        else str(test.get("output", ""))
    lines = []
    for line in text.splitlines():
        if not line.strip():
            break
        lines.append(TRACED_FILE.sub(r'File "\1"', line))
    return "\n".join(lines[:EXAMPLE_LINES])


def read_similar(path: Path) -> list:
    """(a, b, score) of ``grader similar``'s report, most similar first."""
    try:
        with open(path, newline="", encoding="utf-8") as stream:
            rows = list(csv.DictReader(stream))
        pairs = [(row["a"], row["b"], float(row["score"])) for row in rows]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise UsageError(_("--similar {path} cannot be read: {error}").format(path=path, error=error)) from None
    except (KeyError, TypeError, ValueError):
        raise UsageError(_("--similar {path} is not a report of `grader similar` (columns a, b, score)").format(
            path=path)) from None
    return sorted(pairs, key=lambda pair: -pair[2])


# -- the CSV files --------------------------------------------------------------------------------
def checks_csv(results: ClassResults) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["check", "part", "title", "max_score", "passed", "failed", "errors", "mean_score"])
    for check in results.checks:
        writer.writerow([check.id, check.part, check.title, f"{check.max_score:g}", check.passed,
                         check.failed, check.errors, f"{check.mean_score:.3f}"])
    return buffer.getvalue()


def signatures_csv(results: ClassResults) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["signature", "check", "count", "students", "example"])
    for mistake in results.mistakes:
        writer.writerow([mistake.signature, mistake.check, len(mistake.students),
                         " ".join(student.listed_id for student in mistake.students), mistake.example])
    return buffer.getvalue()


# -- the page ---------------------------------------------------------------------------------------
# One font list for both languages (grader similar's pages use it too): the Latin fonts first,
# then the common Chinese ones (macOS, Windows, Linux), so that a Chinese page never falls back to
# a font without the characters.
FONTS = ('system-ui, -apple-system, "Segoe UI", "Noto Sans", "PingFang SC", "Hiragino Sans GB", '
         '"Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif')
STYLE = """
body { font-family: """ + FONTS + """;
       max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem; color: #1d232a; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; border-bottom: 2px solid #d0d7de; padding-bottom: .2rem; margin-top: 2rem; }
nav a { margin-right: 1rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #e3e7eb; vertical-align: top; }
th { background: #f3f5f7; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { white-space: pre-wrap; word-break: break-word; margin: 0; font-size: .8rem; background: #f6f8fa;
      padding: .3rem .4rem; border-radius: 3px; }
.muted { color: #57606a; }
.small { font-size: .8rem; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; }
.plots figure { margin: 0; }
figcaption { font-size: .85rem; color: #57606a; }
.bar { display: inline-block; height: .7rem; background: #2f81f7; vertical-align: middle; }
.barbox { display: inline-block; width: 6rem; height: .7rem; background: #e3e7eb; vertical-align: middle; margin-right: .4rem; }
code { font-size: .85rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  section { break-inside: auto; }
  h2 { break-after: avoid; }
  tr, figure, pre { break-inside: avoid; }
  .bar { background: #000 !important; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"""

# the page's sections: anchor, title (translated when the page is built)
SECTIONS = (("totals", N_("Totals")), ("parts", N_("Parts")), ("checks", N_("Checks")),
            ("mistakes", N_("Common mistakes")), ("not-graded", N_("Not graded")),
            ("similar", N_("Similar pairs")), ("time", N_("Grading time")))
HTML_LANG = {"en": "en", "zh": "zh-CN"}
# a diagnosis' parts, as the page names them (their values are the signature's words: English)
DIAGNOSIS_LABELS = (("kind", N_("kind: {value}")), ("output", N_("output: {value}")),
                    ("pattern", N_("pattern: {value}")))


def render_html(results: ClassResults, similar: list | None = None) -> str:
    """The page, in the language spoken now (:func:`write` chooses it)."""
    graded = [s for s in results.students if s.graded]
    out_of = sum(results.part_max.get(part, 0.0) for part in results.parts)
    title = _e(_("Class report"))
    body = [f"<h1>{title}</h1>",
            "<p class=\"muted\">" + _e(_("{students} student(s), {graded} graded, {not_graded} not graded (or hit "
                                          "a fault of the grader); from {folder}.")).format(
                students=len(results.students), graded=len(graded), not_graded=len(results.not_graded),
                folder=f"<code>{_e(str(results.out))}</code>") + "</p>",
            "<nav>" + "".join(f"<a href=\"#{key}\">{_e(_(name))}</a>" for key, name in SECTIONS) + "</nav>"]
    body += _totals_section(graded, out_of)
    body += _parts_section(results, graded)
    body += _checks_section(results)
    body += _mistakes_section(results)
    body += _not_graded_section(results)
    body += _similar_section(similar)
    body += _time_section(graded)
    return (f"<!DOCTYPE html>\n<html lang=\"{HTML_LANG[i18n.language()]}\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{title}</title>\n<style>" + STYLE + "</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def _section(key: str, *content) -> list:
    title = _(dict(SECTIONS)[key])
    return [f"<section id=\"{key}\">", f"<h2>{_e(title)}</h2>", *content, "</section>"]


def _muted(text: str, small: bool = False) -> str:
    """A paragraph of the page's own words (escaped here)."""
    return f"<p class=\"muted{' small' if small else ''}\">{_e(text)}</p>"


def _head(*cells: str) -> str:
    return "<thead><tr>" + "".join(cells) + "</tr></thead>"


def _th(name: str, number: bool = False) -> str:
    """A column's head, ``name`` translated; a column of numbers is aligned right."""
    return ("<th class=\"num\">" if number else "<th>") + _e(_(name)) + "</th>"


def _seconds(text: str) -> str:
    return _("{seconds} s").format(seconds=text)


def _summary_line(values: list, out_of: float, unit=str) -> str:
    """Mean, median, extremes of ``values``; ``unit`` writes one of them (a number's text) in full."""
    if not values:
        return _muted(_("No student was graded."))
    mean, median = statistics.fmean(values), statistics.median(values)
    of = f" / {out_of:g}" if out_of else ""
    return "<p>" + _e(_("mean {mean}, median {median}, lowest {lowest}, highest {highest} ({count} student(s))").format(
        mean=unit(f"{mean:.2f}") + of, median=unit(f"{median:g}"), lowest=unit(f"{min(values):g}"),
        highest=unit(f"{max(values):g}"), count=len(values))) + "</p>"


def _totals_section(graded: list, out_of: float) -> list:
    totals = [s.total for s in graded]
    caption = _("Students by total score")
    return _section("totals", _summary_line(totals, out_of),
                    _figure(histogram(totals, 0.0, out_of or max(totals, default=1.0), caption, width=640), caption))


def _parts_section(results: ClassResults, graded: list) -> list:
    figures = []
    for part in results.parts:
        values = [s.parts.get(part, 0.0) for s in graded]
        top = results.part_max.get(part) or max(values, default=1.0)
        mean = _("mean {mean} / {top}").format(mean=f"{statistics.fmean(values):.2f}", top=f"{top:g}") \
            if values else _("no student graded")
        caption = _("{name}: {summary}").format(name=f"{part}.py", summary=mean)
        figures.append(_figure(histogram(values, 0.0, top, caption, width=300, height=150), caption))
    return _section("parts", "<div class=\"plots\">" + "".join(figures) + "</div>")


def _checks_section(results: ClassResults) -> list:
    language = i18n.language()
    hidden = f"<span class=\"muted small\">{_e(_(' (hidden)'))}</span>"
    rows = []
    for check in sorted(results.checks, key=lambda c: (c.pass_rate, -c.failed, c.id)):
        rate = check.pass_rate
        rows.append(f"<tr><td><code>{_e(check.id)}</code>{hidden if check.hidden else ''}<br>"
                    f"<span class=\"small\">{_e(check.title_in(language))}</span></td>"
                    f"<td><span class=\"barbox\"><span class=\"bar\" style=\"width:{100 * rate:.0f}%\"></span></span>"
                    f"{100 * rate:.0f}%</td><td class=\"num\">{check.passed}</td><td class=\"num\">{check.failed}</td>"
                    f"<td class=\"num\">{check.errors}</td><td class=\"num\">{check.mean_score:.2f} / {check.max_score:g}</td></tr>")
    table = ("<table>" + _head(_th(N_("Check")), _th(N_("Pass rate")), _th(N_("Passed"), True), _th(N_("Failed"), True),
                               _th(N_("Errors"), True), _th(N_("Mean score"), True))
             + "<tbody>" + "".join(rows) + "</tbody></table>")
    return _section("checks", _muted(_("Most failed first. Errors are faults of the grader, not counted against "
                                       "the students. All rows are in checks.csv."), small=True), table)


def _mistakes_section(results: ClassResults) -> list:
    if not results.mistakes:
        return _section("mistakes", _muted(_("No check failed.")))
    rows = []
    for mistake in results.mistakes[:MISTAKES_SHOWN]:
        found = mistake.diagnosis or {}
        what = "<br>".join(_e(_(label)).format(value=f"<b>{_e(str(found[name]))}</b>")
                           for name, label in DIAGNOSIS_LABELS if found.get(name))
        ids = [s.listed_id for s in mistake.students]
        more = (f"<span class=\"muted\">{_e(_(' and {count} more').format(count=len(ids) - STUDENTS_SHOWN))}</span>"
                if len(ids) > STUDENTS_SHOWN else "")
        rows.append(f"<tr><td class=\"num\">{len(ids)}</td><td><code>{_e(mistake.check)}</code><br>"
                    f"<span class=\"small\">{what}</span></td>"
                    f"<td class=\"small\">{_e(' '.join(ids[:STUDENTS_SHOWN]))}{more}</td>"
                    f"<td><pre>{_e(mistake.example)}</pre></td></tr>")
    shown = (_muted(_("The {shown} most common of {count}; all are in signatures.csv.").format(
        shown=MISTAKES_SHOWN, count=len(results.mistakes)), small=True) if len(results.mistakes) > MISTAKES_SHOWN else "")
    return _section("mistakes",
                    _muted(_("Students grouped by what a failing check found (the kind of diagnosis, the output "
                             "that departed and how), not by the wording of its message. The example is one "
                             "student's message, in the language the class was graded in."), small=True),
                    shown,
                    "<table>" + _head(_th(N_("Students"), True), _th(N_("Check and diagnosis")), _th(N_("Who")),
                                      _th(N_("Example message")))
                    + "<tbody>" + "".join(rows) + "</tbody></table>")


def _status_text(status: str) -> str:
    """A gradebook status as the page names it (the gradebook keeps its own word)."""
    if status.startswith("error:"):
        return _("not graded")
    return status_text(status)


def _not_graded_section(results: ClassResults) -> list:
    rows = []
    for student in results.not_graded:
        if student.graded:  # graded, but some checks hit a fault of the grader
            faulty = [t for t in student.tests if (t.get("extra_data") or {}).get("status") == GRADER_ERROR]
            reason = "\n".join(_("{name}: {summary}").format(name=(t.get("extra_data") or {}).get("check"),
                                                              summary=(t.get("extra_data") or {}).get("summary", ""))
                               for t in faulty)
        else:
            reason = student.reason
        rows.append(f"<tr><td>{_e(student.id)}</td><td>{_e(_status_text(student.status))}</td>"
                    f"<td><pre>{_e(reason)}</pre></td></tr>")
    if not rows:
        return _section("not-graded", _muted(_("Every student was graded.")))
    return _section("not-graded",
                    _muted(_("Hand-in problems and faults of the grader (run the same batch again after fixing "
                             "the cause: these students are graded again)."), small=True),
                    "<table>" + _head(_th(N_("Student")), _th(N_("Status")), _th(N_("Why"))) + "<tbody>"
                    + "".join(rows) + "</tbody></table>")


def _similar_section(similar: list | None) -> list:
    if similar is None:
        return _section("similar", "<p class=\"muted\">" + _e(_("Not given: run {similar}, then {report}.")).format(
            similar="<code>grader similar SUBMISSIONS --out similar.csv</code>",
            report="<code>grader report OUT --similar similar.csv</code>") + "</p>")
    rows = "".join(f"<tr><td>{_e(a)}</td><td>{_e(b)}</td><td class=\"num\">{score:.3f}</td></tr>"
                   for a, b, score in similar[:PAIRS_SHOWN])
    return _section("similar",
                    "<p class=\"muted small\">" + _e(_("The {shown} most similar of {count} pair(s), from {command}: "
                                                       "a lead to read, not a verdict.")).format(
                        shown=min(PAIRS_SHOWN, len(similar)), count=len(similar),
                        command="<code>grader similar</code>") + "</p>",
                    "<table>" + _head(_th(N_("Student")), _th(N_("Student")), _th(N_("Similarity"), True))
                    + f"<tbody>{rows}</tbody></table>")


def _time_section(graded: list) -> list:
    seconds = [s.seconds for s in graded]
    slowest = sorted(graded, key=lambda s: -s.seconds)[:SLOWEST_SHOWN]
    rows = "".join(f"<tr><td>{_e(s.id)}</td><td class=\"num\">{_e(_seconds(f'{s.seconds:.1f}'))}</td></tr>"
                   for s in slowest)
    caption = _("Students by grading time (seconds)")
    return _section("time", _summary_line([round(v, 1) for v in seconds], 0.0, _seconds),
                    _figure(histogram(seconds, 0.0, max(seconds, default=1.0), caption, width=640), caption),
                    "<table>" + _head(_th(N_("Slowest")), _th(N_("Time"), True))
                    + f"<tbody>{rows}</tbody></table>" if rows else "")


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def histogram(values: list, low: float, high: float, label: str, width: int = 640, height: int = 200,
              bins: int = 20) -> str:
    """Counts of ``values`` in ``bins`` equal bins from ``low`` to ``high``, as inline SVG;
    ``label`` says what it shows (to a screen reader)."""
    high = high if high > low else low + 1.0
    counts = [0] * bins
    for value in values:
        index = int((value - low) / (high - low) * bins)
        counts[min(max(index, 0), bins - 1)] += 1
    left, bottom, top = 40, 28, 10
    plot_w, plot_h = width - left - 24, height - bottom - top
    tallest = max(counts) or 1
    bar_w = plot_w / bins
    shapes = [f"<svg width=\"{width}\" height=\"{height}\" "
              f"viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{_e(label)}\">",
              f"<line x1=\"{left}\" y1=\"{top + plot_h}\" x2=\"{left + plot_w}\" y2=\"{top + plot_h}\" stroke=\"#57606a\"/>",
              f"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{top + plot_h}\" stroke=\"#57606a\"/>"]
    bar_title = _("{count} student(s), {start} to {end}")
    for index, count in enumerate(counts):
        if not count:
            continue
        bar_h = plot_h * count / tallest
        x = left + index * bar_w
        start = low + (high - low) * index / bins
        end = low + (high - low) * (index + 1) / bins
        shapes.append(f"<rect x=\"{x + 1:.1f}\" y=\"{top + plot_h - bar_h:.1f}\" width=\"{max(bar_w - 2, 1):.1f}\" "
                      f"height=\"{bar_h:.1f}\" fill=\"#2f81f7\"><title>"
                      f"{_e(bar_title.format(count=count, start=f'{start:.3g}', end=f'{end:.3g}'))}</title></rect>")
    for fraction in (0.0, 0.5, 1.0):
        x = left + plot_w * fraction
        shapes.append(f"<text x=\"{x:.1f}\" y=\"{height - 8}\" font-size=\"11\" text-anchor=\"middle\" "
                      f"fill=\"#57606a\">{low + (high - low) * fraction:.3g}</text>")
    shapes.append(f"<text x=\"{left - 6}\" y=\"{top + 10}\" font-size=\"11\" text-anchor=\"end\" "
                  f"fill=\"#57606a\">{tallest}</text>")
    shapes.append(f"<text x=\"{left - 6}\" y=\"{top + plot_h}\" font-size=\"11\" text-anchor=\"end\" "
                  f"fill=\"#57606a\">0</text>")
    shapes.append("</svg>")
    return "".join(shapes)


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


# -- writing it -----------------------------------------------------------------------------------
def write(out: Path, show_hidden_inputs: bool = False, similar_csv: Path | None = None,
          language: str | None = None) -> dict:
    """Builds the report of the batch in ``out`` and writes its three files; returns their paths.
    The page speaks ``language`` (default: the language spoken now); the CSV files are the same
    in every language."""
    with i18n.speaking(language):
        similar = read_similar(Path(similar_csv)) if similar_csv else None
        results = load(out, show_hidden_inputs)
        files = {"report.html": render_html(results, similar), "checks.csv": checks_csv(results),
                 "signatures.csv": signatures_csv(results)}
    for name, text in files.items():
        atomic.write_text(Path(out) / name, text)
    return {name: Path(out) / name for name in files}


def run(args) -> int:
    """``grader report OUT`` (cli.main chose the language: ``--lang``, else GRADER_LANG, else the rubric's)."""
    written = write(Path(args.out), args.show_hidden_inputs, args.similar, getattr(args, "lang", None))
    print(_("class report: {path}").format(path=written["report.html"]))
    return EXIT_OK
