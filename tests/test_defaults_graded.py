"""Every default argument of the graded API is graded: for each default of each function and
class the rubric names (read from the signatures in solutions/), a planted bug changes it, and the
planted-bug tests show that bug losing points on the check of its own name. A default added to a
solution without such a bug fails here."""

from __future__ import annotations

import ast

from grader import rubric as rubric_module
from tests import planted_bugs, planted_bugs_augment, planted_bugs_networks, planted_bugs_train
from tests.helpers import SOLUTIONS
from tests.planted_bugs import apply_bug

BUGS = planted_bugs.BUGS + planted_bugs_networks.BUGS + planted_bugs_train.BUGS + planted_bugs_augment.BUGS

# Defaults whose meaning lives in the body, not in the default's value (None = "a generator of the
# layer's own", "the identity shortcut"): the bugs that change what the default does.
BODY_DEFAULTS = {
    ("Dropout", "rng"): {"dropout_default_rng_fixed_seed", "dropout_default_rng_ignores_manual_seed"},
    ("BasicBlock", "downsample"): {"basic_block_default_projection_shortcut"},
    ("Bottleneck", "downsample"): {"bottleneck_default_projection_shortcut"},
}


def graded_defaults(source: str, names: set) -> dict:
    """``{(function or class, argument): the default's source}`` of the top-level functions and
    classes (their ``__init__``) named in ``names``."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef):
            node, owner = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"),
                               None), node.name
        elif isinstance(node, ast.FunctionDef):
            owner = node.name
        else:
            continue
        if node is None or owner not in names:
            continue
        args = node.args
        positional = args.posonlyargs + args.args
        pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
        pairs += [(arg, default) for arg, default in zip(args.kwonlyargs, args.kw_defaults) if default is not None]
        found.update({(owner, arg.arg): ast.unparse(default) for arg, default in pairs})
    return found


def _names() -> set:
    return {entry.name for entry in rubric_module.load().entries}


def test_the_graded_defaults_are_found():
    defaults = {}
    for path in SOLUTIONS.glob("*.py"):
        defaults.update(graded_defaults(path.read_text(), _names()))
    assert defaults[("conv2d_forward", "padding")] == "0"
    assert defaults[("Dropout", "rng")] == "None"
    assert defaults[("train_lenet_small", "augment")] == "True"
    assert len(defaults) >= 40


def test_every_graded_default_has_a_planted_bug_that_changes_it():
    names = _names()
    bug_ids = {bug.id for bug in BUGS}
    changed: dict = {}
    required = set()
    for path in SOLUTIONS.glob("*.py"):
        required |= set(graded_defaults(path.read_text(), names))
    for bug in BUGS:
        text = (SOLUTIONS / bug.file).read_text()
        before, after = graded_defaults(text, names), graded_defaults(apply_bug(bug, text), names)
        for key, value in before.items():
            if after.get(key) != value:
                changed.setdefault(key, set()).add(bug.id)
    for key, ids in BODY_DEFAULTS.items():
        assert key in required, f"{key} is no longer a default of the graded API"
        assert ids <= bug_ids, f"no planted bug {sorted(ids - bug_ids)}"
        changed.setdefault(key, set()).update(ids)
    missing = sorted(required - set(changed))
    assert not missing, ("defaults no planted bug changes (add one to tests/planted_bugs*.py, and make a "
                         f"check call without the argument if it then keeps full marks): {missing}")
