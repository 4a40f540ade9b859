"""Verdicts of the modules and networks parts: the reference solution gets full marks, the
stubs get zero, and every planted bug loses points on the check of its contract name."""

from __future__ import annotations

import pytest

from grader import rubric as rubric_module
from grader.references import networks as refnets
from grader.runner import grade
from grader.worker.client import Ref, Worker
from tests.conftest import ASSIGNMENTS, SOLUTIONS
from tests.planted_bugs_networks import BUGS, plant

PARTS = ("modules", "networks")
MODULE_CLASSES = {"Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d",
                  "BatchNorm2d", "ReLU", "Sigmoid", "Dropout", "Flatten", "Sequential"}
NETWORKS = {"LeNet5", "AlexNet", "VGG16", "BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet50"}


def _rubric_for(names: set, ids: set | None = None) -> rubric_module.Rubric:
    """The rubric restricted to the checks of some contract names (or ids)."""
    full = rubric_module.load()
    entries = tuple(e for e in full.entries
                    if (e.name in names if ids is None else e.id in ids) and e.part in PARTS)
    parts = {p: f for p, f in full.parts.items() if p in {e.part for e in entries}}
    return rubric_module.Rubric(parts, entries)


@pytest.fixture(scope="module")
def solution_report():
    return grade(SOLUTIONS, parts=list(PARTS))


def test_reference_solution_gets_full_marks(solution_report):
    failed = [f"{c.id}: {c.output}" for c in solution_report.checks if not c.passed]
    assert not failed, "\n".join(failed)
    assert solution_report.score == solution_report.max_score > 0


def test_every_class_and_network_is_checked(solution_report):
    names = {c.name for c in solution_report.checks}
    assert MODULE_CLASSES | NETWORKS <= names, (MODULE_CLASSES | NETWORKS) - names


def test_stubs_get_zero_with_a_clear_message():
    report = grade(ASSIGNMENTS, parts=list(PARTS))
    assert report.score == 0
    for check in report.checks:
        assert "NotImplementedError" in check.output, (check.id, check.output)
        assert "Traceback" not in check.output


@pytest.mark.parametrize("bug", BUGS, ids=[bug.id for bug in BUGS])
def test_planted_bug_loses_points_on_its_check(bug, solution_copy):
    plant(bug, solution_copy)
    report = grade(solution_copy, rubric=_rubric_for({bug.function}))
    assert report.checks, f"no check is named {bug.function}"
    lost = [c for c in report.checks if c.score < c.max_score]
    assert lost, f"{bug.id} ({bug.why}) lost no points on the checks of {bug.function}"
    for check in lost:
        assert "internal grader error" not in check.output, check.output


def test_report_names_the_first_layer_that_departs(solution_copy):
    bug = next(b for b in BUGS if b.id == "batchnorm2d_training_under_eval")
    plant(bug, solution_copy)
    report = grade(solution_copy, rubric=_rubric_for(set(), ids={"networks.resnet18"}))
    (check,) = report.checks
    assert not check.passed
    assert "evaluation mode: the output differs" in check.output
    assert "first layer that departs, in forward order, is `bn1` (BatchNorm2d)" in check.output


def test_a_block_whose_parts_agree_is_blamed_as_a_whole(solution_copy):
    bug = next(b for b in BUGS if b.id == "basic_block_shortcut_gradient_not_added")
    plant(bug, solution_copy)
    report = grade(solution_copy, rubric=_rubric_for(set(), ids={"networks.basic_block"}))
    (check,) = report.checks
    assert "the output agrees but the gradients differ" in check.output
    assert "as a whole" in check.output and "ADDED" in check.output
    assert "Smallest failing example: BasicBlock(" in check.output


def test_parameter_counts_of_the_contract_match_the_references():
    from grader.checks.networks import PARAMETER_COUNTS, reference
    factories = {"LeNet5": refnets.LeNet5, "AlexNet": refnets.AlexNet, "VGG16": refnets.VGG16,
                 "resnet18": refnets.resnet18, "resnet50": refnets.resnet50}
    for name, count in PARAMETER_COUNTS.items():
        assert reference(name, factories[name]).count == count, name


def test_shapes_cross_without_the_arrays():
    with Worker(str(SOLUTIONS)) as worker:
        model = worker.call("networks.LeNet5")
        state = worker.call((Ref(model.handle), "state_dict"), shapes=True).value
        assert state["conv1.weight"] == {"shape": (6, 1, 5, 5), "dtype": "<f8"}
        grads = worker.get(Ref(model.handle), "gradients", depth=1, shapes=True).value
        assert grads["fc2.bias"] is None
        parameters = worker.get(Ref(model.handle), "parameters", shapes=True).value
        assert parameters["fc2.bias"] == {"shape": (10,), "dtype": "<f8"}


def test_tiled_linear_is_a_linear_with_the_repeated_block():
    """AlexNet's and VGG's huge weights are tiled: the reference must still be nn.Linear."""
    import numpy as np
    import torch

    from grader.checks.networks import Tiled, TiledLinear
    layer = TiledLinear(5, 12, rows=4)
    with torch.no_grad():
        layer.block.copy_(torch.randn(4, 5, dtype=torch.float64))
        layer.bias.copy_(torch.randn(12, dtype=torch.float64))
    dense = Tiled(layer.block.detach().numpy().copy(), layer.reps).dense()
    x = torch.randn(3, 5, dtype=torch.float64)
    expected = torch.nn.functional.linear(x, torch.from_numpy(dense), layer.bias)
    assert dense.shape == (12, 5) and np.array_equal(dense[8:12], dense[0:4])
    assert torch.allclose(layer(x), expected, rtol=0, atol=1e-12)
