"""Renders a :class:`grader.runner.Report`: the terminal report and Gradescope's results.json."""

from __future__ import annotations

import json
import os
import tempfile


def _points(value: float) -> str:
    return f"{value:g}"


def render_text(report, show_hidden_inputs: bool = True) -> str:
    lines = [f"Grading {report.submission}", ""]
    totals = report.part_totals()
    for part in report.parts:
        got, out_of = totals[part]
        lines.append(f"== {part}.py  {_points(got)}/{_points(out_of)}")
        for check in (c for c in report.checks if c.part == part):
            mark = "PASS" if check.passed else "FAIL"
            hidden = " (hidden)" if check.hidden else ""
            lines.append(f"  [{mark}] {_points(check.score):>2}/{_points(check.max_score):<2} "
                         f"{check.name}: {check.title}{hidden}")
            if not check.passed:
                body = check.output if (show_hidden_inputs or not check.hidden) else check.summary
                lines.extend("         " + line for line in body.splitlines())
            elif check.summary:
                lines.extend("         " + line for line in [check.summary, *check.lines])
        lines.append("")
    lines.append(f"Total: {_points(report.score)}/{_points(report.max_score)} "
                 f"({report.seconds:.1f} s)")
    return "\n".join(lines)


def gradescope_results(report, show_hidden_inputs: bool = False) -> dict:
    """Gradescope's results.json: a top-level score and one test per check."""
    tests = []
    for check in report.checks:
        output = check.output
        if check.hidden and not check.passed and not show_hidden_inputs:
            output = check.summary + "\n(a hidden check: its inputs are not shown)"
        tests.append({
            "name": f"{check.part}.py: {check.name}: {check.title}",
            "score": check.score,
            "max_score": check.max_score,
            "status": "passed" if check.passed else "failed",
            "output": output,
            "visibility": "after_published" if check.hidden else "visible",
            "tags": [check.part, check.name],
        })
    return {"score": report.score, "execution_time": round(report.seconds, 3),
            "output": f"{_points(report.score)}/{_points(report.max_score)}", "tests": tests}


def write_json_atomically(path, data) -> None:
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
    with os.fdopen(handle, "w") as stream:
        json.dump(data, stream, indent=2, sort_keys=False)
        stream.write("\n")
    os.replace(temporary, path)
