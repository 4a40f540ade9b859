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

    similar = commands.add_parser("similar", help="rank every pair of students by how similar their code is")
    similar.add_argument("submissions", help="folder with one folder or .zip per student, or nbgrader's submitted/")
    similar.add_argument("--out", required=True, help="the CSV to write: a,b,score, most similar first")
    similar.add_argument("--html", metavar="DIR",
                         help="where the side-by-side pages go (default: next to --out, <name>-pairs/)")
    similar.add_argument("--top", type=int, help="pairs that get a page (default 10; 0: none)")

    release = commands.add_parser("release", help="write the student bundle")
    release.add_argument("--out", required=True)

    gradescope = commands.add_parser("gradescope", help="build a Gradescope autograder zip")
    gradescope.add_argument("--out", required=True)

    stubs = commands.add_parser("stubs", help="regenerate assignments/ from solutions/")
    stubs.add_argument("--solutions", default="solutions")
    stubs.add_argument("--out", default="assignments")

    args = parser.parse_args(argv)
    if args.command == "check":
        return _check(args)
    if args.command == "batch":
        from grader import batch as batch_module
        return batch_module.run(args)
    if args.command == "similar":
        from grader import similar as similar_module
        return similar_module.run(args)
    if args.command == "release":
        from grader import release as release_module
        return release_module.run(args)
    if args.command == "gradescope":
        from grader import gradescope as gradescope_module
        return gradescope_module.run(args)
    if args.command == "stubs":
        from grader import stubs as stubs_module
        written = stubs_module.write_stubs(Path(args.solutions), Path(args.out))
        print(f"wrote {len(written)} stub file(s) to {args.out}/")
        return 0
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
