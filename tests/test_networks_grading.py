"""Verdicts of the modules and networks parts: the reference solution and a correct alternative
written another way (tests/submissions/other_modules/) get full marks, the stubs get zero, and
every planted bug loses points on the check of its contract name."""

from __future__ import annotations


import pytest

from grader.references import networks as refnets
from grader.runner import grade
from grader.worker.client import Ref, Worker
from tests.helpers import ASSIGNMENTS, SOLUTIONS, SUBMISSIONS, assemble, failures, files_for, own_checks, restricted_rubric
from tests.planted_bugs_networks import BUGS, plant

PARTS = ("modules", "networks")
MODULE_CLASSES = {"Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d",
                  "BatchNorm2d", "ReLU", "Sigmoid", "Dropout", "Flatten", "Sequential"}
NETWORKS = {"LeNet5", "AlexNet", "VGG16", "BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet50"}
# modules.py and networks.py written another way than the reference, on the einsum layer files.
OTHER_MODULES = SUBMISSIONS / "other_modules"
GIVEN_UNTIL = "# Graded layers: write forward and backward"


@pytest.fixture(scope="module")
def solution_report():
    return grade(SOLUTIONS, parts=list(PARTS), rubric=own_checks(*PARTS))


@pytest.mark.slow
def test_reference_solution_gets_full_marks(solution_report):
    failed = [f"{c.id}: {c.output}" for c in solution_report.checks if not c.passed]
    assert not failed, "\n".join(failed)
    assert solution_report.score == solution_report.max_score > 0


@pytest.mark.slow
def test_every_class_and_network_is_checked(solution_report):
    names = {c.name for c in solution_report.checks}
    assert MODULE_CLASSES | NETWORKS <= names, (MODULE_CLASSES | NETWORKS) - names


@pytest.fixture(scope="module")
def other_modules_report(tmp_path_factory):
    """The alternative (its modules.py and networks.py over the einsum layers and the reference
    train.py), graded once (with the hidden checks, as ``grader batch`` grades)."""
    folder = assemble(tmp_path_factory.mktemp("other_modules") / "submission",
                      SOLUTIONS, SUBMISSIONS / "einsum", OTHER_MODULES)
    missing = [name for name in files_for(*PARTS) if not (folder / name).is_file()]
    assert not missing, f"{folder} lacks {missing}"
    return grade(folder, parts=list(PARTS), include_hidden=True)


@pytest.mark.slow
def test_alternative_modules_and_networks_get_full_marks(other_modules_report):
    """A correct modules.py and networks.py written another way (caches in their own attributes,
    BatchNorm2d through batchnorm_forward on (N*H*W, C), ReLU's boolean mask, the shortcut's
    gradient first, explicit loops over lists of stages, ...) loses no points."""
    report = other_modules_report
    assert {check.part for check in report.checks} == set(PARTS)
    assert MODULE_CLASSES | NETWORKS <= {check.name for check in report.checks}
    assert report.score == report.max_score > 0, (
        f"a correct submission ({report.submission}) lost points: "
        f"{report.score:g}/{report.max_score:g}\n{failures(report)}")
    assert all(check.passed and check.score == check.max_score for check in report.checks)


@pytest.mark.slow
@pytest.mark.parametrize("modules_folder", [SOLUTIONS, OTHER_MODULES], ids=["given", "another_way"])
def test_dropout_with_rng_left_out_keeps_full_marks(modules_folder, tmp_path):
    """rng=None as the given constructor makes it (a generator derived from the seed) and as
    other_modules writes it (the seeded generator itself): the Dropout checks judge the masks."""
    folder = assemble(tmp_path / "submission", SOLUTIONS, modules_folder)
    report = grade(folder, rubric=restricted_rubric(names={"Dropout"}, parts=PARTS))
    assert report.checks and report.score == report.max_score, failures(report)


def test_alternative_keeps_the_given_base_class():
    """Only the graded bodies differ from the stub: the given code (Module, initialisation) is the stub's."""
    stub = (ASSIGNMENTS / "modules.py").read_text()
    ours = (OTHER_MODULES / "modules.py").read_text()
    assert GIVEN_UNTIL in stub
    assert ours.split(GIVEN_UNTIL)[0] == stub.split(GIVEN_UNTIL)[0]


@pytest.mark.slow
def test_stubs_get_zero_with_a_clear_message():
    """As a student runs them (no reference files to stand in for the unwritten layers)."""
    report = grade(ASSIGNMENTS, parts=list(PARTS), references=None)
    assert report.score == 0
    for check in report.checks:
        assert "NotImplementedError" in check.output, (check.id, check.output)
        assert "Traceback" not in check.output


@pytest.mark.slow
@pytest.mark.parametrize("bug", BUGS, ids=[bug.id for bug in BUGS])
def test_planted_bug_loses_points_on_its_check(bug, solution_copy):
    plant(bug, solution_copy)
    report = grade(solution_copy, rubric=restricted_rubric(names={bug.function}, parts=PARTS))
    assert report.checks, f"no check is named {bug.function}"
    lost = [c for c in report.checks if c.score < c.max_score]
    assert lost, f"{bug.id} ({bug.why}) lost no points on the checks of {bug.function}"
    for check in lost:
        assert "internal grader error" not in check.output, check.output


@pytest.mark.slow
def test_report_names_the_first_layer_that_departs(solution_copy):
    bug = next(b for b in BUGS if b.id == "batchnorm2d_training_under_eval")
    plant(bug, solution_copy)
    report = grade(solution_copy, rubric=restricted_rubric(ids={"networks.resnet18"}, parts=PARTS))
    (check,) = report.checks
    assert not check.passed
    assert "evaluation mode: the output differs" in check.output
    assert "first layer that departs, in forward order, is `bn1` (BatchNorm2d)" in check.output


@pytest.mark.slow
def test_a_block_whose_parts_agree_is_blamed_as_a_whole(solution_copy):
    bug = next(b for b in BUGS if b.id == "basic_block_shortcut_gradient_not_added")
    plant(bug, solution_copy)
    report = grade(solution_copy, rubric=restricted_rubric(ids={"networks.basic_block"}, parts=PARTS))
    (check,) = report.checks
    assert "the output agrees but the gradients differ" in check.output
    assert "as a whole" in check.output and "ADDED" in check.output
    assert "Smallest failing example: BasicBlock(" in check.output
    zh = grade(solution_copy, rubric=restricted_rubric(ids={"networks.basic_block"}, parts=PARTS), language="zh")
    (check,) = zh.checks   # the block named by its constructor call, its example said once (under it)
    assert check.summary.startswith("BasicBlock(") and "；x " not in check.summary, check.summary


@pytest.mark.slow
def test_a_block_that_calls_one_relu_twice_is_told_that_a_module_keeps_one_cache(solution_copy):
    """torchvision's BasicBlock calls one self.relu twice; here a module keeps the cache of its last
    call only, so the first ReLU's backward uses the second's mask. Every part with parameters
    agrees, so the block is blamed as a whole: the message must name this cause too."""
    path = solution_copy / "networks.py"
    text = path.read_text()
    start, end = text.index("class BasicBlock"), text.index("class Bottleneck")
    block = text[start:end].replace("        self.relu2 = ReLU()\n", "")
    block = block.replace("self.relu1", "self.relu").replace("self.relu2", "self.relu")
    path.write_text(text[:start] + block + text[end:])
    report = grade(solution_copy, rubric=restricted_rubric(ids={"networks.basic_block"}, parts=PARTS))
    (check,) = report.checks
    assert not check.passed and "as a whole" in check.output
    assert "a module called twice in forward" in check.output, check.output


def test_parameter_counts_of_the_contract_match_the_references():
    from grader.checks.harness.network import reference
    from grader.checks.networks import PARAMETER_COUNTS
    factories = {"LeNet5": refnets.LeNet5, "AlexNet": refnets.AlexNet, "VGG16": refnets.VGG16,
                 "resnet18": refnets.resnet18, "resnet50": refnets.resnet50}
    for name, count in PARAMETER_COUNTS.items():
        assert reference(name, factories[name]).count == count, name


@pytest.mark.slow
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

    from grader.checks.harness.network import Tiled, TiledLinear
    layer = TiledLinear(5, 12, rows=4)
    with torch.no_grad():
        layer.block.copy_(torch.randn(4, 5, dtype=torch.float64))
        layer.bias.copy_(torch.randn(12, dtype=torch.float64))
    dense = Tiled(layer.block.detach().numpy().copy(), layer.reps).dense()
    x = torch.randn(3, 5, dtype=torch.float64)
    expected = torch.nn.functional.linear(x, torch.from_numpy(dense), layer.bias)
    assert dense.shape == (12, 5) and np.array_equal(dense[8:12], dense[0:4])
    assert torch.allclose(layer(x), expected, rtol=0, atol=1e-12)
