"""The class report: what a whole class got wrong, read back from a batch's stored results.

``grader batch`` writes it beside the gradebook, and ``grader report OUT`` rebuilds it from
``OUT`` without grading again. Three files:

    report.html       one self-contained page (no script; style and SVG plots inline; printable)
    checks.csv        one row per rubric check: passed, failed, errors, mean score
    signatures.csv    the students grouped by the same mistake (see grader.results.signature)

Everything comes from the batch's files: ``gradebook.csv`` (the class and its parts),
``students/<slug>/state.json`` (status, totals) and ``students/<slug>/results.json``
(Gradescope's format; each test's ``extra_data`` holds the check's id, status and diagnosis).
The instructors' words are English; the example messages are the students', in the language
they were graded in.
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

from grader import atomic
from grader.errors import EXIT_OK, UsageError
from grader.results import FAILED, GRADER_ERROR, PASSED, signature

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
    title: str
    max_score: float
    hidden: bool = False
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
        raise UsageError(f"{out} is not a folder: name the --out folder of a `grader batch`")
    if not gradebook.is_file():
        raise UsageError(f"{out} holds no gradebook.csv: name the --out folder of a `grader batch`")
    try:
        with open(gradebook, newline="", encoding="utf-8") as stream:
            reader = csv.reader(stream)
            header = next(reader)
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error, StopIteration) as error:
        raise UsageError(f"{gradebook} cannot be read: {error}") from None
    if header[:2] != ["id", "total"] or header[-1:] != ["status"]:
        raise UsageError(f"{gradebook} is not a gradebook of `grader batch` (its columns are {', '.join(header)})")
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
    titles = _english_titles()
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
                check = checks[check_id] = Check(check_id, facts.get("part", ""),
                                                 titles.get(check_id) or _title_of(test),
                                                 float(test.get("max_score", 0)), bool(facts.get("hidden")))
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


def _english_titles() -> dict:
    """The rubric's titles (the instructors' words): id -> title."""
    try:
        from grader import rubric

        return {entry.id: entry.title for entry in rubric.load().entries}
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
        raise UsageError(f"--similar {path} cannot be read: {error}") from None
    except (KeyError, TypeError, ValueError):
        raise UsageError(f"--similar {path} is not a report of `grader similar` (columns a, b, score)") from None
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
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", sans-serif;
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

SECTIONS = (("totals", "Totals"), ("parts", "Parts"), ("checks", "Checks"), ("mistakes", "Common mistakes"),
            ("not-graded", "Not graded"), ("similar", "Similar pairs"), ("time", "Grading time"))


def render_html(results: ClassResults, similar: list | None = None) -> str:
    graded = [s for s in results.students if s.graded]
    out_of = sum(results.part_max.get(part, 0.0) for part in results.parts)
    body = [f"<h1>Class report</h1>",
            f"<p class=\"muted\">{len(results.students)} student(s), {len(graded)} graded, "
            f"{len(results.not_graded)} not graded (or hit a fault of the grader); "
            f"from <code>{_e(str(results.out))}</code>.</p>",
            "<nav>" + "".join(f"<a href=\"#{key}\">{title}</a>" for key, title in SECTIONS) + "</nav>"]
    body += _totals_section(graded, out_of)
    body += _parts_section(results, graded)
    body += _checks_section(results)
    body += _mistakes_section(results)
    body += _not_graded_section(results)
    body += _similar_section(similar)
    body += _time_section(graded)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>Class report</title>\n<style>" + STYLE + "</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def _section(key: str, *content) -> list:
    title = dict(SECTIONS)[key]
    return [f"<section id=\"{key}\">", f"<h2>{title}</h2>", *content, "</section>"]


def _summary_line(values: list, out_of: float, unit: str = "") -> str:
    if not values:
        return "<p class=\"muted\">No student was graded.</p>"
    mean, median = statistics.fmean(values), statistics.median(values)
    of = f" / {out_of:g}" if out_of else ""
    return (f"<p>mean {mean:.2f}{unit}{of}, median {median:g}{unit}, lowest {min(values):g}{unit}, "
            f"highest {max(values):g}{unit} ({len(values)} student(s))</p>")


def _totals_section(graded: list, out_of: float) -> list:
    totals = [s.total for s in graded]
    return _section("totals", _summary_line(totals, out_of),
                    _figure(histogram(totals, 0.0, out_of or max(totals, default=1.0), "total", width=640),
                            "Students by total score"))


def _parts_section(results: ClassResults, graded: list) -> list:
    figures = []
    for part in results.parts:
        values = [s.parts.get(part, 0.0) for s in graded]
        top = results.part_max.get(part) or max(values, default=1.0)
        mean = f"mean {statistics.fmean(values):.2f} / {top:g}" if values else "no student graded"
        figures.append(_figure(histogram(values, 0.0, top, part, width=300, height=150),
                               f"{_e(part)}.py: {mean}"))
    return _section("parts", "<div class=\"plots\">" + "".join(figures) + "</div>")


def _checks_section(results: ClassResults) -> list:
    rows = []
    for check in sorted(results.checks, key=lambda c: (c.pass_rate, -c.failed, c.id)):
        hidden = " <span class=\"muted small\">(hidden)</span>" if check.hidden else ""
        rate = check.pass_rate
        rows.append(f"<tr><td><code>{_e(check.id)}</code>{hidden}<br><span class=\"small\">{_e(check.title)}</span></td>"
                    f"<td><span class=\"barbox\"><span class=\"bar\" style=\"width:{100 * rate:.0f}%\"></span></span>"
                    f"{100 * rate:.0f}%</td><td class=\"num\">{check.passed}</td><td class=\"num\">{check.failed}</td>"
                    f"<td class=\"num\">{check.errors}</td><td class=\"num\">{check.mean_score:.2f} / {check.max_score:g}</td></tr>")
    table = ("<table><thead><tr><th>Check</th><th>Pass rate</th><th class=\"num\">Passed</th>"
             "<th class=\"num\">Failed</th><th class=\"num\">Errors</th><th class=\"num\">Mean score</th></tr></thead>"
             "<tbody>" + "".join(rows) + "</tbody></table>")
    return _section("checks", "<p class=\"muted small\">Most failed first. Errors are faults of the grader, "
                    "not counted against the students. All rows are in checks.csv.</p>", table)


def _mistakes_section(results: ClassResults) -> list:
    if not results.mistakes:
        return _section("mistakes", "<p class=\"muted\">No check failed.</p>")
    rows = []
    for mistake in results.mistakes[:MISTAKES_SHOWN]:
        found = mistake.diagnosis or {}
        what = "<br>".join(f"{name}: <b>{_e(str(found[name]))}</b>" for name in ("kind", "output", "pattern")
                           if found.get(name))
        ids = [s.listed_id for s in mistake.students]
        more = f" <span class=\"muted\">and {len(ids) - STUDENTS_SHOWN} more</span>" if len(ids) > STUDENTS_SHOWN else ""
        rows.append(f"<tr><td class=\"num\">{len(ids)}</td><td><code>{_e(mistake.check)}</code><br>"
                    f"<span class=\"small\">{what}</span></td>"
                    f"<td class=\"small\">{_e(' '.join(ids[:STUDENTS_SHOWN]))}{more}</td>"
                    f"<td><pre>{_e(mistake.example)}</pre></td></tr>")
    shown = (f"<p class=\"muted small\">The {MISTAKES_SHOWN} most common of {len(results.mistakes)}; "
             "all are in signatures.csv.</p>" if len(results.mistakes) > MISTAKES_SHOWN else "")
    return _section("mistakes",
                    "<p class=\"muted small\">Students grouped by what a failing check found (the kind of "
                    "diagnosis, the output that departed and how), not by the wording of its message. "
                    "The example is one student's message, in the language the class was graded in.</p>",
                    shown,
                    "<table><thead><tr><th class=\"num\">Students</th><th>Check and diagnosis</th><th>Who</th>"
                    "<th>Example message</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _not_graded_section(results: ClassResults) -> list:
    rows = []
    for student in results.not_graded:
        if student.graded:  # graded, but some checks hit a fault of the grader
            faulty = [t for t in student.tests if (t.get("extra_data") or {}).get("status") == GRADER_ERROR]
            reason = "\n".join(f"{(t.get('extra_data') or {}).get('check')}: "
                               f"{(t.get('extra_data') or {}).get('summary', '')}" for t in faulty)
        else:
            reason = student.reason
        rows.append(f"<tr><td>{_e(student.id)}</td><td>{_e(student.status)}</td><td><pre>{_e(reason)}</pre></td></tr>")
    if not rows:
        return _section("not-graded", "<p class=\"muted\">Every student was graded.</p>")
    return _section("not-graded",
                    "<p class=\"muted small\">Hand-in problems and faults of the grader (run the same batch "
                    "again after fixing the cause: these students are graded again).</p>",
                    "<table><thead><tr><th>Student</th><th>Status</th><th>Why</th></tr></thead><tbody>"
                    + "".join(rows) + "</tbody></table>")


def _similar_section(similar: list | None) -> list:
    if similar is None:
        return _section("similar", "<p class=\"muted\">Not given: run <code>grader similar SUBMISSIONS --out "
                        "similar.csv</code>, then <code>grader report OUT --similar similar.csv</code>.</p>")
    rows = "".join(f"<tr><td>{_e(a)}</td><td>{_e(b)}</td><td class=\"num\">{score:.3f}</td></tr>"
                   for a, b, score in similar[:PAIRS_SHOWN])
    return _section("similar", f"<p class=\"muted small\">The {min(PAIRS_SHOWN, len(similar))} most similar of "
                    f"{len(similar)} pair(s), from <code>grader similar</code>: a lead to read, not a verdict.</p>",
                    "<table><thead><tr><th>Student</th><th>Student</th><th class=\"num\">Similarity</th></tr></thead>"
                    f"<tbody>{rows}</tbody></table>")


def _time_section(graded: list) -> list:
    seconds = [s.seconds for s in graded]
    slowest = sorted(graded, key=lambda s: -s.seconds)[:SLOWEST_SHOWN]
    rows = "".join(f"<tr><td>{_e(s.id)}</td><td class=\"num\">{s.seconds:.1f} s</td></tr>" for s in slowest)
    return _section("time", _summary_line([round(v, 1) for v in seconds], 0.0, " s"),
                    _figure(histogram(seconds, 0.0, max(seconds, default=1.0), "seconds", width=640),
                            "Students by grading time (seconds)"),
                    "<table><thead><tr><th>Slowest</th><th class=\"num\">Time</th></tr></thead>"
                    f"<tbody>{rows}</tbody></table>" if rows else "")


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{caption}</figcaption></figure>"


def histogram(values: list, low: float, high: float, label: str, width: int = 640, height: int = 200,
              bins: int = 20) -> str:
    """Counts of ``values`` in ``bins`` equal bins from ``low`` to ``high``, as inline SVG."""
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
              f"viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"histogram of {_e(label)}\">",
              f"<line x1=\"{left}\" y1=\"{top + plot_h}\" x2=\"{left + plot_w}\" y2=\"{top + plot_h}\" stroke=\"#57606a\"/>",
              f"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{top + plot_h}\" stroke=\"#57606a\"/>"]
    for index, count in enumerate(counts):
        if not count:
            continue
        bar_h = plot_h * count / tallest
        x = left + index * bar_w
        start = low + (high - low) * index / bins
        end = low + (high - low) * (index + 1) / bins
        shapes.append(f"<rect x=\"{x + 1:.1f}\" y=\"{top + plot_h - bar_h:.1f}\" width=\"{max(bar_w - 2, 1):.1f}\" "
                      f"height=\"{bar_h:.1f}\" fill=\"#2f81f7\"><title>{count} student(s), "
                      f"{start:.3g} to {end:.3g}</title></rect>")
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
def write(out: Path, show_hidden_inputs: bool = False, similar_csv: Path | None = None) -> dict:
    """Builds the report of the batch in ``out`` and writes its three files; returns their paths."""
    similar = read_similar(Path(similar_csv)) if similar_csv else None
    results = load(out, show_hidden_inputs)
    files = {"report.html": render_html(results, similar), "checks.csv": checks_csv(results),
             "signatures.csv": signatures_csv(results)}
    for name, text in files.items():
        atomic.write_text(Path(out) / name, text)
    return {name: Path(out) / name for name in files}


def run(args) -> int:
    """``grader report OUT``."""
    written = write(Path(args.out), args.show_hidden_inputs, args.similar)
    print(f"report: {written['report.html']}")
    return EXIT_OK
