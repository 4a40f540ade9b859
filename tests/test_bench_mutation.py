"""benchmarks/equivalent_mutants.toml stays true: every survivor listed there as unable to change
behaviour under the contract is still a mutant of the current solutions, with its reason."""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_mutation  # noqa: E402

ENTRIES = bench_mutation.load_equivalent()
IDS = [f"{e['part']}:{e['function']}:{e['operator']}:{e['after']}" for e in ENTRIES]


def test_the_list_is_read():
    assert ENTRIES, "benchmarks/equivalent_mutants.toml lists no mutant"
    assert len(set(IDS)) == len(IDS), "a mutant is listed twice"


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_listed_mutant_has_a_reason_and_its_line_is_still_there(entry):
    assert len(entry["reason"].split()) >= 5, "say why the mutant cannot change behaviour under the contract"
    lines = [line.strip() for line in (ROOT / "solutions" / f"{entry['part']}.py").read_text().splitlines()]
    assert entry["before"] in lines, f"the line {entry['before']!r} is gone from solutions/{entry['part']}.py"
    assert entry["before"] != entry["after"]


@pytest.mark.skipif(importlib.util.find_spec("cosmic_ray") is None,
                    reason="cosmic-ray is not installed (it is a dependency of the kit: pip install -e .)")
@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_listed_mutant_is_still_made_by_cosmic_ray(entry):
    candidates = [m for m in _mutants(entry["part"])
                  if m.operator == entry["operator"] and m.before == entry["before"]]
    made = {bench_mutation.materialise(m)[0].key for m in candidates}
    key = (entry["part"], entry["operator"], entry["function"], entry["before"], entry["after"])
    assert key in made, f"cosmic-ray no longer makes {key}"


@functools.lru_cache(maxsize=None)
def _mutants(part: str) -> tuple:
    return tuple(bench_mutation.mutants(part))


@pytest.mark.skipif(importlib.util.find_spec("cosmic_ray") is None,
                    reason="cosmic-ray is not installed (it is a dependency of the kit: pip install -e .)")
def test_a_killed_run_leaves_a_partial_json_and_printed_its_progress(tmp_path, monkeypatch, capsys):
    graded = []

    def grade(mutant, code, call_timeout):
        if len(graded) == 5:
            raise KeyboardInterrupt   # the run is killed while grading the sixth mutant
        graded.append(mutant)
        return ("survived" if len(graded) == 2 else "killed"), "conv.some_check", 0.01, "out differs"

    monkeypatch.setattr(bench_mutation, "grade_mutant", grade)
    monkeypatch.setattr(bench_mutation, "load_equivalent", list)   # a survivor stays a survivor
    out = tmp_path / "conv.json"
    with pytest.raises(KeyboardInterrupt):
        bench_mutation.main(["--parts", "conv", "--sample", "8", "--progress", "2", "--json", str(out)])
    data = json.loads(out.read_text())
    assert data["partial"] is True and data["total"] == 8 and data["done"] == 5
    assert [row["line"] for row in data["rows"]] == [m.line for m in graded]
    assert {k: data["totals"]["conv"][k] for k in ("killed", "survived")} == {"killed": 4, "survived": 1}
    assert data["rows"][0]["summary"] == "out differs", "the failing check's summary tells a kill from a grader fault"
    assert not list(tmp_path.glob(".*tmp*")), "a temporary file was left behind"
    progress = [line for line in capsys.readouterr().out.splitlines() if line.lstrip().startswith("[")]
    assert [line.split()[0] for line in progress] == ["[2/8", "[4/8"]

    monkeypatch.setattr(bench_mutation, "grade_mutant", lambda mutant, code, call_timeout: ("killed", "c", 0.01, ""))
    bench_mutation.main(["--parts", "conv", "--sample", "8", "--json", str(out)])
    data = json.loads(out.read_text())
    assert data["partial"] is False and data["done"] == data["total"] == len(data["rows"]) == 8
