"""The ``grader`` command line (thin: it parses, asks the runner, prints the report)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader import report as report_module
from grader import rubric as rubric_module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="grader", description="Grade the CNN-from-scratch exercises.")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="grade one submission folder with the public checks")
    check.add_argument("submission", nargs="?", default="assignments",
                       help="folder holding conv.py, pooling.py, ... (default: assignments/)")
    check.add_argument("--part", action="append", dest="parts", metavar="PART",
                       help="grade only this part (repeatable): " + ", ".join(rubric_module.load().parts))
    check.add_argument("--json", metavar="FILE", help="also write Gradescope's results.json here")

    batch = commands.add_parser("batch", help="grade a whole class (public and hidden checks)")
    batch.add_argument("submissions", help="folder with one folder or .zip per student, or nbgrader's submitted/")
    batch.add_argument("--out", required=True, help="where the gradebook and per-student results go")
    batch.add_argument("--jobs", type=int, default=1, help="students graded at once (default 1)")
    batch.add_argument("--part", action="append", dest="parts", metavar="PART", help="grade only this part")
    batch.add_argument("--timeout", type=float, default=30.0,
                       help="seconds one call of student code may take (default 30)")
    batch.add_argument("--show-hidden-inputs", action="store_true",
                       help="show hidden checks' failing examples in the feedback")

    release = commands.add_parser("release", help="write the student bundle")
    release.add_argument("--out", required=True)

    gradescope = commands.add_parser("gradescope", help="build a Gradescope autograder zip")
    gradescope.add_argument("--out", required=True)

    autograde = commands.add_parser("autograde", help="grade one Gradescope submission (run_autograder calls it)")
    autograde.add_argument("--root", default=None, help="Gradescope's folder (default $AUTOGRADER_ROOT or /autograder)")
    autograde.add_argument("--part", action="append", dest="parts", metavar="PART")

    stubs = commands.add_parser("stubs", help="regenerate assignments/ from solutions/")
    stubs.add_argument("--solutions", default=None, help="default: the kit's solutions/")
    stubs.add_argument("--out", default=None, help="default: the kit's assignments/")
    stubs.add_argument("--force", action="store_true", help="overwrite stubs that differ (edited by hand)")

    notebooks = commands.add_parser("notebooks", help="rewrite the lesson notebooks in notebooks/")
    notebooks.add_argument("--out", default=None, help="default: the kit's notebooks/")

    course = commands.add_parser("course", help="write the notebooks as an nbgrader course")
    course.add_argument("--out", required=True, help="the course folder to write")
    course.add_argument("--part", action="append", dest="parts", metavar="PART",
                        help="only this part's notebook (repeatable; default: all)")

    args = parser.parse_args(argv)
    if args.command == "check":
        return _check(args)
    if args.command == "batch":
        from grader import batch as batch_module
        return batch_module.run(args)
    assign_commands = {"release": ("release", "run"), "gradescope": ("gradescope", "run"),
                       "autograde": ("gradescope", "autograde_command"), "stubs": ("stubs", "run"),
                       "notebooks": ("notebooks", "run"), "course": ("nbgrader_course", "run")}
    if args.command in assign_commands:
        import importlib

        module, function = assign_commands[args.command]
        return getattr(importlib.import_module(f"grader.assign.{module}"), function)(args)
    return 2


def _check(args) -> int:
    from grader.runner import grade

    submission = Path(args.submission)
    if not submission.is_dir():
        print(f"grader: {submission} is not a folder (give the folder holding your .py files)",
              file=sys.stderr)
        return 2
    try:
        result = grade(submission, parts=args.parts)
    except ValueError as error:
        print(f"grader: {error}", file=sys.stderr)
        return 2
    print(report_module.render_text(result))
    folder = Path(args.json).parent if args.json else submission
    for name, blob in result.artifacts().items():
        (folder / name).write_bytes(blob)
        print(f"{name} written to {folder / name}")
    if args.json:
        report_module.write_json_atomically(args.json, report_module.gradescope_results(result))
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
