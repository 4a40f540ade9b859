"""The ``grader`` command line: one parser, one subcommand per verb. It parses, asks the room
that does the work, and turns every expected problem into one line and an exit code:
0 every check passed, 1 points were lost, 2 a usage error, 3 a grader error, 130 Ctrl-C."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from importlib import metadata
from pathlib import Path

from grader import atomic, config, i18n
from grader.errors import (EXIT_GRADER_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_POINTS_LOST,
                           EXIT_USAGE, UsageError)
from grader.i18n import LANGUAGES, _
from grader.results import check_lines, header, note_lines, part_line, versions


def kit_version() -> str:
    """The version of the distribution that installed this ``grader`` (the kit, or a student
    release under another name); where several provide a ``grader``, the one installed from
    this folder."""
    names = metadata.packages_distributions().get("grader", [])
    found = []
    for name in dict.fromkeys(names):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        url = json.loads(dist.read_text("direct_url.json") or "{}").get("url", "")
        here = Path(str(dist.locate_file("grader/__init__.py"))).resolve() == config.PACKAGE / "__init__.py"
        if here or url == config.ROOT.as_uri():
            return dist.version
        found.append(dist.version)
    return found[0] if found else "unknown"


class _Version(argparse.Action):
    """``--version``, found only when asked (reading the installed distributions takes time)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"grader {kit_version()}")
        parser.exit()


def _at_least_one(text: str) -> int:
    """A count given on the command line: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(_("{value!r} is not a whole number of at least 1").format(value=text))
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description=_("Grade the CNN-from-scratch exercises."))
    parser.add_argument("--version", action=_Version, help=_("show the grader's version and exit"))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help=_("grade one submission folder with the public checks"))
    check.add_argument("submission", nargs="?", default=None,
                       help=_("folder holding conv.py, pooling.py, ..., or one of those files to grade "
                              "that part (default: this folder if it holds them, else assignments/)"))
    check.add_argument("--part", action="append", dest="parts", metavar="PART",
                       help=_("grade only this part (repeatable)"))
    check.add_argument("--json", metavar="FILE.json",
                       help=_("also write Gradescope's results.json there; the submission's folder is "
                              "fine (the grader reads only its .py files), a .py file is refused"))
    check.add_argument("--lang", choices=LANGUAGES, default=None,
                       help=_("the report's language (default: $GRADER_LANG, else the rubric's, else the locale)"))
    check.add_argument("--fresh", action="store_true",
                       help=_("grade every part again (as does GRADER_FRESH=1; by default a part whose files "
                              "and grader did not change since the last check keeps its results)"))
    loudness = check.add_mutually_exclusive_group()
    loudness.add_argument("-q", "--quiet", action="store_true", help=_("print the totals only"))
    loudness.add_argument("-v", "--verbose", action="store_true", help=_("also print each check's time"))

    batch = commands.add_parser("batch", help=_("grade a whole class (public and hidden checks)"))
    batch.add_argument("submissions", help=_("folder with one folder or .zip per student, or nbgrader's submitted/"))
    batch.add_argument("--out", required=True, help=_("where the gradebook and per-student results go"))
    where = batch.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=_at_least_one, default=1, help=_("students graded at once (default 1)"))
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help=_("a Dask scheduler (tcp://host:port): grade on that cluster instead"))
    batch.add_argument("--part", action="append", dest="parts", metavar="PART", help=_("grade only this part"))
    batch.add_argument("--timeout", type=float, default=None,
                       help=_("seconds one call of student code may take (default {seconds:g})").format(seconds=config.DEFAULTS.call_timeout))
    batch.add_argument("--show-hidden-inputs", action="store_true",
                       help=_("show hidden checks' failing examples in the feedback"))
    batch.add_argument("--lang", choices=LANGUAGES, default=None,
                       help=_("the feedback's language (default: $GRADER_LANG, else the rubric's, else the locale)"))

    report = commands.add_parser("report", help=_("rebuild the class report of a batch's --out folder (no grading)"))
    report.add_argument("out", metavar="OUT", help=_("the --out folder of a `grader batch`"))
    report.add_argument("--similar", metavar="SIMILAR.csv", help=_("the report of `grader similar`: its top pairs are shown"))
    report.add_argument("--show-hidden-inputs", action="store_true",
                        help=_("show hidden checks' failing examples in the report's example messages"))
    report.add_argument("--lang", choices=LANGUAGES, default=None,
                        help=_("the report's language, whatever the class was graded in (default: $GRADER_LANG, "
                               "else the rubric's, else the locale)"))

    similar = commands.add_parser("similar", help=_("flag similar submissions in a class"))
    similar.add_argument("submissions", help=_("the class folder, as for batch"))
    similar.add_argument("--out", required=True, metavar="REPORT.csv", help=_("the a,b,score report"))
    similar.add_argument("--html", metavar="DIR", help=_("side-by-side pages of the top pairs (default: beside the report)"))
    similar.add_argument("--top", type=int, default=10, help=_("pairs shown side by side (default 10)"))
    similar.add_argument("--lang", choices=LANGUAGES, default=None,
                         help=_("the language of the pages and messages (default: $GRADER_LANG, else the rubric's, "
                                "else the locale)"))

    release = commands.add_parser("release", help=_("write the student bundle (instructors)"))
    release.add_argument("--out", required=True, metavar="DIR",
                         help=_("a new folder, or an earlier bundle (replaced); not inside the kit's folders"))
    release.add_argument("--lang", choices=LANGUAGES, default="en", help=_("the bundle's language (default en)"))

    gradescope = commands.add_parser("gradescope", help=_("build a Gradescope autograder zip (instructors)"))
    gradescope.add_argument("--out", required=True, metavar="FILE.zip",
                            help=_("the zip to write (a new file, or an earlier autograder zip)"))
    gradescope.add_argument("--lang", choices=LANGUAGES, default="en", help=_("the feedback's language (default en)"))

    autograde = commands.add_parser("autograde", help=_("grade one Gradescope submission (run_autograder)"))
    autograde.add_argument("--root", default=None, help=_("Gradescope's root folder (default $AUTOGRADER_ROOT or /autograder)"))
    autograde.add_argument("--part", action="append", dest="parts", metavar="PART")

    stubs = commands.add_parser("stubs", help=_("regenerate assignments/ from solutions/ (instructors)"))
    stubs.add_argument("--solutions", metavar="DIR", default=str(config.SOLUTIONS),
                       help=_("the solutions the stubs are made from (default {folder}/)").format(folder=config.SOLUTIONS.name))
    stubs.add_argument("--out", metavar="DIR", default=str(config.ASSIGNMENTS),
                       help=_("where the stubs go (default {folder}/)").format(folder=config.ASSIGNMENTS.name))
    stubs.add_argument("--force", action="store_true", help=_("overwrite stubs that were edited by hand"))

    notebooks = commands.add_parser("notebooks", help=_("regenerate the lesson notebooks (instructors)"))
    notebooks.add_argument("--out", default=None, help=_("default {folder}/ (English only)").format(folder=config.NOTEBOOKS.name))
    notebooks.add_argument("--lang", choices=LANGUAGES, default="en", help=_("the notebooks' language (default en)"))

    course = commands.add_parser("course", help=_("write the notebooks as an nbgrader course (instructors)"))
    course.add_argument("--out", required=True, metavar="DIR", help=_("the course folder (source/cnn/, nbgrader_config.py)"))
    course.add_argument("--part", action="append", dest="parts", metavar="PART",
                        help=_("only this part's notebook (repeatable)"))
    course.add_argument("--lang", choices=LANGUAGES, default="en", help=_("the notebooks' language (default en)"))
    return parser


# The commands whose --lang is the language they speak (release's and the others' is their output's).
SPEAKING = ("check", "batch", "report", "similar")


def main(argv: list[str] | None = None) -> int:
    # chosen before anything is said, --help and usage errors too
    with i18n.speaking(i18n.resolve(_lang_given(sys.argv[1:] if argv is None else argv), _rubric_language())):
        args = build_parser().parse_args(argv)
        if args.command in SPEAKING and args.lang:
            i18n.set_language(args.lang)
        try:
            return COMMANDS[args.command](args)
        except UsageError as error:
            print(_("grader: {error}").format(error=error), file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print("\n" + _("grader: interrupted (nothing left running)"), file=sys.stderr)
            return EXIT_INTERRUPTED


def _lang_given(argv: list[str]) -> str | None:
    """The ``--lang`` of a command in :data:`SPEAKING`, read before the parser is built so that
    ``grader report --lang zh --help`` is Chinese; None where there is none (or not a language:
    the parser says so)."""
    words = list(argv)
    command = next((word for word in words if not word.startswith("-")), None)
    if command not in SPEAKING:
        return None
    for index, word in enumerate(words):
        if word == "--":
            break
        if word == "--lang" and index + 1 < len(words):
            value = words[index + 1]
        elif word.startswith("--lang="):
            value = word.partition("=")[2]
        else:
            continue
        return value if value in LANGUAGES else None
    return None


def _rubric_language() -> str | None:
    """The rubric's default language (a zh release's is zh); None where the rubric cannot be
    read (the command itself then says what is wrong with it)."""
    from grader import rubric as rubric_module

    try:
        return rubric_module.load().settings.language
    except (OSError, ValueError, KeyError, TypeError):
        return None


# -- grader check -------------------------------------------------------------------------------
class TerminalObserver:
    """Streams the report: the header at once, each check's line as it finishes, and a line
    every few seconds while a long call runs."""

    def __init__(self, quiet: bool, verbose: bool, files: dict | None = None):
        self.quiet, self.verbose = quiet, verbose
        self.files = files or {}  # part -> its file (the rubric's [parts])
        self.notes: list = []  # the part's notes, said before its first check they concern
        self.started = time.perf_counter()  # when the earlier part being checked first began

    def file(self, part: str) -> str:
        return self.files.get(part, f"{part}.py")

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    def part_started(self, part: str, notes=(), pending=()) -> None:
        self.say(part_line(self.file(part)))
        for line in note_lines(notes):
            self.say(line)
        self.notes = list(pending)

    def check_finished(self, result) -> None:
        from grader.runner import concerned

        if self.notes and concerned(result):
            for line in note_lines(self.notes):
                self.say(line)
            self.notes = []
        for line in check_lines(result, show_hidden_inputs=True, verbose=self.verbose):
            self.say(line)

    def told(self, entry, lines) -> None:
        for line in lines:
            self.say("         " + line)

    def checking_first(self, parts: list, earlier: list) -> None:
        listed = _(", ").join  # the language's separator of listed items
        self.say(_("{parts} runs your {files}: those are checked first, so that a failure they cause "
                   "is named (their points are not counted in this run)").format(
                       parts=listed(self.file(part) for part in parts), files=listed(self.file(part) for part in earlier)))

    def earlier_started(self, part: str) -> None:
        self.started = time.perf_counter()
        self.say("  " + _("checking {file} first ...").format(file=self.file(part)))

    def earlier_finished(self, part: str, results: list) -> None:
        passed = sum(result.passed for result in results)
        self.say("  " + _("checked {file}: {passed} of {count} checks pass ({seconds} s)").format(
            file=self.file(part), passed=passed, count=len(results),
            seconds=f"{time.perf_counter() - self.started:.0f}"))

    def waiting(self, entry, elapsed: float, limit: float, printed: str) -> None:
        last = next((line.strip() for line in reversed(printed.splitlines()) if line.strip()), "")
        said = _("; your code last printed: {line}").format(line=last[:100]) if last else ""
        self.say("         ... " + _("{name} still running: {elapsed} s of its {limit} s").format(
            name=entry.name, elapsed=f"{elapsed:.0f}", limit=f"{limit:g}") + said)


def _check(args) -> int:
    from grader import rubric as rubric_module

    rubric = rubric_module.load()
    submission, part = submission_of(args.submission, rubric.parts)
    if part is not None:
        args.parts = sorted(set(args.parts or ()) | {part}, key=list(rubric.parts).index)
    rubric.check_parts(args.parts)
    parts = args.parts or list(rubric.parts)
    if not any((submission / rubric.parts[part]).is_file() for part in parts):
        wanted = _(", ").join(rubric.parts[part] for part in parts)
        raise UsageError(_("no exercise file in {folder}/ (expected {files})").format(
            folder=submission, files=wanted))
    json_path = _json_target(args.json, submission) if args.json else None

    observer = TerminalObserver(args.quiet, args.verbose, rubric.parts)
    observer.say(header(str(submission.resolve() if submission == Path(".") else submission), versions()) + "\n")
    from grader.runner import grade  # torch and the checks: only once the arguments are good

    report = grade(submission, parts=args.parts, rubric=rubric, observer=observer,
                   rerun=not (args.fresh or os.environ.get("GRADER_FRESH")))
    observer.say("")
    *part_totals, total = report.totals_text().splitlines()
    for line in part_totals:
        observer.say(line)
    print(total)
    for line in report.save_artifacts(json_path.parent if json_path else submission,
                                      replace_any=json_path is not None):
        print(line)
    if json_path is not None:
        try:
            atomic.write_json(json_path, report.to_gradescope(show_hidden_inputs=True))
        except OSError as error:
            raise UsageError(_("cannot write {path}: {error}").format(
                path=json_path, error=error.strerror or error)) from None
        print(_("results written to {path}").format(path=json_path))
    if report.grader_errors:
        return EXIT_GRADER_ERROR
    return EXIT_OK if report.score == report.max_score else EXIT_POINTS_LOST


def submission_of(argument: str | None, part_files: dict, here: Path | None = None):
    """The folder a student means, and the one part a .py path names (else None).

    No argument: this folder when it holds an exercise file, else its ``assignments/``. A folder:
    itself. An exercise file (``assignments/conv.py``): its folder, that part. A bare part name
    (``conv``) is answered with the command to type."""
    here = Path.cwd() if here is None else here
    holds = lambda folder: any((folder / name).is_file() for name in part_files.values())  # noqa: E731
    if argument is None:
        if holds(here):
            return Path("."), None
        if (here / "assignments").is_dir():
            return Path("assignments"), None
        raise UsageError(_("no exercise file here and no assignments/ folder: run grader check in the "
                           "folder holding {files}, or name that folder").format(
                               files=_(", ").join(part_files.values())))
    path = Path(argument)
    if (here / path).is_dir():
        return path, None
    by_file = {name: part for part, name in part_files.items()}
    if path.suffix == ".py":
        if path.name not in by_file:
            raise UsageError(_("{path} is not an exercise file (those are {files})").format(
                path=path, files=_(", ").join(part_files.values())))
        if not (here / path).is_file():
            raise UsageError(_("{path} does not exist").format(path=path))
        return path.parent, by_file[path.name]
    if argument in part_files or argument in by_file:
        part = by_file.get(argument, argument)
        folder = "" if holds(here) or not (here / "assignments").is_dir() else " assignments"
        raise UsageError(_("{name} is a part, not a folder: to grade it, type: grader check{folder} "
                           "--part {part}").format(name=argument, folder=folder, part=part))
    raise UsageError(_("{folder} is not a folder (give the folder holding your .py files)").format(
        folder=path))


def _json_target(name: str, submission: Path) -> Path:
    """Where --json may write: a .json file, never a file of the submission, in a folder that exists."""
    path = Path(name)
    if path.suffix.lower() != ".json":
        raise UsageError(_("--json {name}: name a .json file (results.json), not {file}").format(
            name=name, file=path.name))
    if path.is_dir():
        raise UsageError(_("--json {name} is a folder: name a .json file").format(name=name))
    if not path.parent.resolve().is_dir():
        raise UsageError(_("--json {name}: the folder {folder} does not exist").format(
            name=name, folder=path.parent))
    if not os.access(path.parent.resolve(), os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(_("--json {name}: that place is not writable").format(name=name))
    return path


# -- the other verbs ----------------------------------------------------------------------------
def _batch(args) -> int:
    from grader import batch

    return batch.run(args)


def _report(args) -> int:
    from grader.batch import report

    return report.run(args)


def _similar(args) -> int:
    from grader import similar

    return similar.run(args)


def _assign(module: str, function: str = "run"):
    """The instructors' build verbs live in grader.assign, one module each."""
    def command(args) -> int:
        import importlib

        return getattr(importlib.import_module(f"grader.assign.{module}"), function)(args)
    return command


COMMANDS = {"check": _check, "batch": _batch, "report": _report, "similar": _similar,
            "release": _assign("release"), "gradescope": _assign("gradescope"),
            "autograde": _assign("gradescope", "autograde_command"), "stubs": _assign("stubs"),
            "notebooks": _assign("notebooks"), "course": _assign("nbgrader_course")}


if __name__ == "__main__":
    sys.exit(main())
