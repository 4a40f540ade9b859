"""The grader's strength, measured by mutation testing of the reference solutions.

cosmic-ray's core operators (binary, comparison and unary operator replacement, numbers,
booleans, break/continue, keywords, exception replacement, zero-iteration loops, ...)
make the mutants of ``solutions/<part>.py``; each sampled mutant is graded ON ITS OWN PART
only (the other files are the references, untouched), with the hidden checks, and stops
at its first failing check:

- killed: a check of that part failed (the mutant loses points where its bug is);
- timeout: the failing check ran into the call timeout (a hang: it loses points too);
- survived: every check of the part passed.

Survivors that cannot change behaviour under the contract are listed, each with its
reason, in ``benchmarks/equivalent_mutants.toml``; the score leaves them out:
``score = (killed + timeout) / (graded - listed equivalent survivors)``.

Needs cosmic-ray, a dependency of the kit (installed by the README's set-up).

    nice python benchmarks/bench_mutation.py --parts conv pooling batchnorm layers --sample 40
    nice python benchmarks/bench_mutation.py --parts pooling --all --json pooling.json   # every mutant
    python benchmarks/bench_mutation.py --parts pooling --list               # the mutants, not graded

Sampling is seeded (``--seed``): the same command grades the same mutants.
A progress line with the counts so far is printed every ``--progress`` mutants, and the
``--json`` file is replaced after each mutant: a run that is killed leaves a valid file
(``"partial": true``, ``done`` of ``total``) with every outcome graded until then.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import shutil
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))   # tests.helpers
SOLUTIONS = ROOT / "solutions"
EQUIVALENT = Path(__file__).resolve().parent / "equivalent_mutants.toml"
LAYER_PARTS = ("conv", "pooling", "batchnorm", "layers")
OUTCOMES = ("killed", "timeout", "survived", "equivalent", "grader error")


@dataclass(frozen=True)
class Mutant:
    """One cosmic-ray mutation of one file, named by what it changes rather than by its
    occurrence number (which moves whenever the file changes)."""

    part: str
    operator: str
    occurrence: int
    function: str       # the enclosing definition, as cosmic-ray names it
    line: int           # 1-based, in the unmutated file
    before: str         # the line, stripped, before and after the mutation
    after: str

    @property
    def key(self) -> tuple:
        return (self.part, self.operator, self.function, self.before, self.after)

    def text(self) -> str:
        return f"{self.part}.py:{self.line} [{self.operator}] {self.before!r} -> {self.after!r}"


def _operators():
    """cosmic-ray's operators that take no arguments (its defaults): ``(name, instance)``."""
    import cosmic_ray.plugins

    for name in cosmic_ray.plugins.operator_names():
        cls = cosmic_ray.plugins.get_operator(name)
        if not cls.arguments():
            yield name, cls()


def mutants(part: str, source: str | None = None) -> list[Mutant]:
    """Every mutant of ``solutions/<part>.py`` (or of ``source``), in cosmic-ray's order, without
    its code (``after`` is filled in by :func:`materialise`)."""
    from cosmic_ray.ast import ast_nodes, get_ast
    from cosmic_ray.ast.ast_query import ASTQuery

    source = (SOLUTIONS / f"{part}.py").read_text() if source is None else source
    lines = source.splitlines()
    nodes = list(ast_nodes(get_ast(source)))
    found = []
    for name, operator in _operators():
        positions = [(node, start) for node in nodes for start, _end in operator.mutation_positions(node)]
        for occurrence, (node, (row, _column)) in enumerate(positions):
            found.append(Mutant(part, name, occurrence, ASTQuery(node).get_definition_name() or "",
                                row, lines[row - 1].strip(), ""))
    return found


def materialise(mutant: Mutant, source: str | None = None) -> tuple[Mutant, str | None]:
    """The mutant with its changed line, and the mutated code (None: cosmic-ray made no change)."""
    import cosmic_ray.plugins
    from cosmic_ray.mutating import mutate_code

    source = (SOLUTIONS / f"{mutant.part}.py").read_text() if source is None else source
    code = mutate_code(source, cosmic_ray.plugins.get_operator(mutant.operator)(), mutant.occurrence)
    if code is None or code == source:
        return mutant, None
    changed = code.splitlines()
    after = changed[mutant.line - 1].strip() if mutant.line - 1 < len(changed) else ""
    return dataclasses.replace(mutant, after=after), code


def load_equivalent(path: Path = EQUIVALENT) -> list[dict]:
    """The reviewed list: ``[[mutant]]`` tables with part, operator, function, before, after, reason."""
    if not path.is_file():
        return []
    return tomllib.loads(path.read_text()).get("mutant", [])


def equivalent_keys(entries) -> set:
    return {(e["part"], e["operator"], e["function"], e["before"], e["after"]) for e in entries}


class _Stop(Exception):
    """Raised by the observer at the first failing check: the mutant is already killed."""

    def __init__(self, result):
        super().__init__(result.id)
        self.result = result


def grade_mutant(mutant: Mutant, code: str, call_timeout: float) -> tuple[str, str, float, str]:
    """``(outcome, check id or "", seconds, the failing check's summary or "")``: graded on its own
    part's checks only, stopping at the first failing check (the summary tells a kill from a grader
    fault). The earlier parts' files are the reference's: checking them first, as a student's run
    does, told nothing and took most of the time (an augment mutant, networks and a full training:
    75-111 s even when augment's first check killed it)."""
    from grader.runner import Observer, grade
    from tests.helpers import own_checks

    class FirstFailure(Observer):
        def check_finished(self, result) -> None:
            if not result.passed:
                raise _Stop(result)

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mutant-") as folder:
        for path in SOLUTIONS.glob("*.py"):
            shutil.copyfile(path, Path(folder) / path.name)
        (Path(folder) / f"{mutant.part}.py").write_text(code)
        try:
            report = grade(folder, parts=[mutant.part], include_hidden=True, references=None,
                           rubric=own_checks(mutant.part), call_timeout=call_timeout, observer=FirstFailure())
        except _Stop as stop:
            result = stop.result
            if result.grader_error:
                outcome = "grader error"
            elif result.seconds >= call_timeout:
                outcome = "timeout"
            else:
                outcome = "killed"
            return outcome, result.id, time.perf_counter() - start, result.summary
    if report.score < report.max_score:   # a failure the observer did not see
        return "killed", "", time.perf_counter() - start, ""
    return "survived", "", time.perf_counter() - start, ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", default=list(LAYER_PARTS),
                        help="parts whose solution file is mutated (default: the four layer parts)")
    parser.add_argument("--sample", type=int, default=40, help="mutants graded per file (default 40)")
    parser.add_argument("--all", action="store_true", help="grade every mutant (ignores --sample)")
    parser.add_argument("--seed", type=int, default=22, help="seed of the sample (default 22)")
    parser.add_argument("--call-timeout", type=float, default=20.0,
                        help="seconds one call to the mutant may take (default 20)")
    parser.add_argument("--list", action="store_true", help="list the sampled mutants and stop")
    parser.add_argument("--json", type=Path,
                        help="write every mutant's outcome to this file, rewritten after each mutant "
                             "(\"partial\": true until the run ends)")
    parser.add_argument("--progress", type=int, default=25, metavar="N",
                        help="print the counts so far every N graded mutants (default 25)")
    args = parser.parse_args(argv)

    equivalent = equivalent_keys(load_equivalent())
    plan = []
    for part in args.parts:
        found = mutants(part)
        chosen = found if args.all else random.Random(f"{args.seed}:{part}").sample(found, min(args.sample, len(found)))
        chosen.sort(key=lambda mutant: (mutant.line, mutant.operator, mutant.occurrence))
        plan.append((part, found, chosen))
    total = sum(len(chosen) for _part, _found, chosen in plan)
    rows, totals, done, start = [], {}, 0, time.perf_counter()
    for part, found, chosen in plan:
        print(f"{part}.py: {len(found)} mutants, grading {len(chosen)}", flush=True)
        counts = totals[part] = dict.fromkeys(OUTCOMES, 0)
        for mutant in chosen:
            mutant, code = materialise(mutant)
            done += 1
            if code is None:
                continue
            if args.list:
                print("   ", mutant.text())
                continue
            outcome, check_id, seconds, summary = grade_mutant(mutant, code, args.call_timeout)
            if outcome == "survived" and mutant.key in equivalent:
                outcome = "equivalent"
            counts[outcome] += 1
            rows.append({**asdict(mutant), "outcome": outcome, "check": check_id, "seconds": round(seconds, 2),
                         "summary": summary})
            if outcome in ("survived", "grader error"):
                print(f"  {outcome.upper()}: {mutant.text()} in {mutant.function}", flush=True)
            if args.json:
                _write_json(args.json, rows, totals, done, total, partial=done < total)
            if done % args.progress == 0:
                print(f"  [{done}/{total} in {time.perf_counter() - start:.0f} s] {_line(part, counts)}", flush=True)
        if not args.list:
            print(_line(part, counts), flush=True)
    if args.list:
        return 0
    if args.json:
        _write_json(args.json, rows, totals, done, total, partial=False)
    print("\n" + "\n".join(_line(part, counts) for part, counts in totals.items()))
    return 0


def _write_json(path: Path, rows, totals, done: int, total: int, partial: bool) -> None:
    """The outcomes so far, replaced whole (a killed run leaves a valid file that says it is partial)."""
    from grader import atomic

    atomic.write_json(path, {"partial": partial, "done": done, "total": total,
                             "totals": {part: {**counts, "score": round(score(counts), 4)}
                                        for part, counts in totals.items()},
                             "rows": rows})


def score(counts: dict) -> float:
    detected = counts["killed"] + counts["timeout"]
    judged = detected + counts["survived"] + counts["grader error"]
    return detected / judged if judged else 1.0


def _line(part: str, counts: dict) -> str:
    return (f"{part + '.py':13} killed {counts['killed']:3}  timeout {counts['timeout']:2}  "
            f"survived {counts['survived']:2}  equivalent {counts['equivalent']:2}  "
            f"grader error {counts['grader error']}  score {score(counts):.1%}")


if __name__ == "__main__":
    sys.exit(main())
