"""Checks of ``networks.py``: each network against its torch reference (grader/references).

Structure: the state_dict keys, their order and shapes, and the parameter count at full
size, read in the worker as shapes only (VGG-16 holds 1.1 GB of float64 weights;
nothing of it crosses).

Function: the torch reference gets random weights, they are loaded into the student's
network, and both run forward and backward on the same input: output, input gradient,
every parameter's gradient and (training mode) the running statistics must agree. The
huge fully connected weights of AlexNet and VGG (over ``GIANT`` numbers) are made of
one random block of rows repeated: they are written into the student's live arrays in
the worker (one block crosses, then NumPy copies it), the reference computes the same
function without storing them, and their gradients are compared through random
projections (``dW @ v`` and ``u @ dW``) computed in the worker.

When something differs, the report names the first layer that departs
(``grader.checks.harness.network``).
"""

from __future__ import annotations

from grader.i18n import _

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from grader import data
from grader.checks.harness import examples as S
from grader.checks.harness.base import Context, Failed, as_failed, check, seed_layers
from grader.checks.harness.examples import NetCase
from grader.checks.harness.metric import INITIAL_LOSS_BAND, Mismatch, require_array
from grader.checks.harness.network import (compare_network, for_all_diagnosed, load_weights,
                                           reference)
from grader.checks.harness.session import (Session, compare_keys, read_shapes, student_state_shapes)
from grader.checks.harness.training import tell_if_slow
from grader.references import networks as refnets
from grader.worker.client import StudentException, StudentMissingName, WorkerProblem
from grader.worker.protocol import Ref

BATCH = 2

# The contract's parameter counts (EXERCISES.md), at the default arguments.
PARAMETER_COUNTS = {"LeNet5": 59_086, "AlexNet": 61_100_840, "VGG16": 138_357_544,
                    "resnet18": 11_689_512, "resnet50": 25_557_032}


# ---------------------------------------------------------------------------------------
# Structure: keys, order, shapes, parameter count
# ---------------------------------------------------------------------------------------

def check_structure(ctx: Context, title: str, name: str, factory, args: tuple = (), kwargs: dict | None = None,
                    count: int | None = None, keep: bool = False) -> None:
    kwargs = kwargs or {}
    ref = reference(title, factory)
    if count is not None and ref.count != count:
        raise Failed(_("internal grader error: the reference {title} has {got} parameters, not {count}").format(
            title=title, got=ref.count, count=count))
    with Session(ctx, "networks") as session:
        student = session.construct(name, *args, timeout=session.ctx.settings.network_timeout, **kwargs)
        shapes = student_state_shapes(session, student)
        params = read_shapes(session.get(student, "parameters", depth=1, shapes=True).value, "parameters")
        total = sum(math.prod(shape) for shape in params.values() if shape is not None)
        if count is not None and total != count:
            lines = []
            try:
                compare_keys(shapes, ref.keys, title)
            except Mismatch as mismatch:
                lines = [mismatch.summary] + mismatch.lines
            raise Failed(_("{title} has {total:,} parameters, torch's has {count:,} "
                           "({difference:+,})").format(title=title, total=total, count=count,
                                                      difference=total - count), lines)
        try:
            compare_keys(shapes, ref.keys, title)
        except Mismatch as mismatch:
            raise Failed(mismatch.summary, mismatch.lines, diagnosis=mismatch.diagnosis) from None
        for module, p in ref.dropouts.items():
            got = _dropout_p(session, student, module)
            if got is not None and got != p:
                raise Failed(_("{title}: {module} is a Dropout with p={got!r}, torch's has p={p!r} (the "
                               "network's dropout argument; without parameters, it is not in the keys)").format(
                    title=title, module=module, got=got, p=p))
        if keep:   # left for the function check (see Built): building it again would cost seconds
            session.handles.remove(student.handle)
            ctx.built.leave(title, student.handle)


def _dropout_p(session: Session, student: Ref, name: str):
    """The ``p`` of the student's module at the dotted ``name`` (reached through ``children``), or
    None where that module or its ``p`` is not there to read (judged elsewhere, if at all)."""
    node = student
    try:
        for part in name.split("."):
            children = session.get(node, "children", depth=1)
            if not isinstance(children.value, dict) or part not in children.value:
                return None
            node = Ref(children.handle, (part,))
        p = session.get(node, "p").value
    except (StudentMissingName, StudentException):
        return None
    return p if isinstance(p, (int, float)) and not isinstance(p, bool) else None


def _lenet(num_classes=10, activation="sigmoid"):
    return lambda: refnets.LeNet5(num_classes, activation)


@check("networks.lenet5_structure")
def lenet5_structure(ctx: Context) -> None:
    check_structure(ctx, "LeNet5()", "LeNet5", _lenet(), count=PARAMETER_COUNTS["LeNet5"])
    check_structure(ctx, 'LeNet5(num_classes=7, activation="relu")', "LeNet5", _lenet(7, "relu"),
                    kwargs={"num_classes": 7, "activation": "relu"})


@check("networks.alexnet_structure")
def alexnet_structure(ctx: Context) -> None:
    check_structure(ctx, "AlexNet()", "AlexNet", refnets.AlexNet, count=PARAMETER_COUNTS["AlexNet"], keep=True)


@check("networks.vgg16_structure")
def vgg16_structure(ctx: Context) -> None:
    check_structure(ctx, "VGG16()", "VGG16", refnets.VGG16, count=PARAMETER_COUNTS["VGG16"], keep=True)


@check("networks.resnet18_structure")
def resnet18_structure(ctx: Context) -> None:
    check_structure(ctx, "resnet18()", "resnet18", refnets.resnet18, count=PARAMETER_COUNTS["resnet18"])


@check("networks.resnet50_structure")
def resnet50_structure(ctx: Context) -> None:
    check_structure(ctx, "resnet50()", "resnet50", refnets.resnet50, count=PARAMETER_COUNTS["resnet50"])


# ---------------------------------------------------------------------------------------
# Function
# ---------------------------------------------------------------------------------------

def run_case(ctx: Context, case: NetCase, factory, diagnosed: bool = True, student_args: tuple = (),
             student_kwargs: dict | None = None, session: Session | None = None) -> None:
    """Builds the student's network (``student_args`` may hold worker refs), loads the
    reference's random weights and compares one run per mode."""
    x = np.random.default_rng(case.seed + 1).standard_normal(case.shape)
    own = session is None
    session = session or Session(ctx, "networks")
    try:
        kept = ctx.built.take(case.title) if not student_args and not student_kwargs else None
        if kept is not None:
            session.handles.append(kept)
            student = Ref(kept)
        else:
            student = session.construct(case.name, *student_args, timeout=session.ctx.settings.network_timeout,
                                        **dict(case.kwargs), **(student_kwargs or {}))
        ref = reference(case.title, factory, seed=case.seed)
        try:
            compare_keys(student_state_shapes(session, student), ref.keys, case.title)
        except Mismatch as mismatch:
            raise Failed(mismatch.summary + _(" (so torch's weights cannot be loaded)"), mismatch.lines,
                         diagnosis=mismatch.diagnosis) from None
        load_weights(session, student, ref)
        for index, mode in enumerate(case.modes):
            compare_network(session, student, ref, mode, x, case.seed + 2 + index, diagnosed, case.backward)
    finally:
        if own:
            session.close()


def run_fixed(ctx: Context, cases: list) -> None:
    for case, factory in cases:
        try:
            run_case(ctx, case, factory)
        except (Failed, Mismatch, WorkerProblem) as problem:
            raise as_failed(problem, case.describe()) from None


@check("networks.lenet5")
def lenet5(ctx: Context) -> None:
    def run(case: NetCase, diagnosed: bool):
        run_case(ctx, case, _lenet(**dict(case.kwargs)), diagnosed)

    for_all_diagnosed(ctx, S.lenet_cases(), run, max_examples=6, examples=LENET_DEFAULTS)


# The drawn cases pass every argument; the contract's defaults (num_classes=10, activation="sigmoid")
# are judged here, run after them.
LENET_DEFAULTS = (NetCase("LeNet5", (), (2, 1, 32, 32), ("eval", "train"), 5),)


@check("networks.alexnet")
def alexnet(ctx: Context) -> None:
    tell_if_slow(ctx)
    run_fixed(ctx, [
        (NetCase("AlexNet", (), (BATCH, 3, 64, 64), ("eval",), 11), refnets.AlexNet),
        (NetCase("AlexNet", (("num_classes", 7), ("dropout", 0.0)), (BATCH, 3, 64, 64), ("train",), 12),
         lambda: refnets.AlexNet(num_classes=7, dropout=0.0)),
    ])


@check("networks.vgg16")
def vgg16(ctx: Context) -> None:
    tell_if_slow(ctx)
    run_fixed(ctx, [
        (NetCase("VGG16", (), (BATCH, 3, 32, 32), ("eval",), 21), refnets.VGG16),
        # No BatchNorm in VGG: in training its backward is the one compared above (with p = 0
        # masks); the output shows whether dropout=0.0 and num_classes reach the layers.
        (NetCase("VGG16", (("num_classes", 7), ("dropout", 0.0)), (BATCH, 3, 32, 32), ("train",), 22,
                 backward=False),
         lambda: refnets.VGG16(num_classes=7, dropout=0.0)),
    ])


def _block_factory(example: S.BlockExample):
    def build():
        down = None
        out = example.planes * example.expansion
        if example.downsample:
            down = nn.Sequential(nn.Conv2d(example.inplanes, out, 1, stride=example.stride, bias=False),
                                 nn.BatchNorm2d(out))
        return refnets.NETWORKS[example.block](example.inplanes, example.planes, example.stride, down)
    return build


def _construct(session: Session, cls: str, *args, **kwargs) -> Ref:
    """A layer of modules.py, as networks.py imported it (the same classes it checks against)."""
    try:
        return session.construct(cls, *args, **kwargs)
    except StudentMissingName:
        returned = session.call(f"modules.{cls}", *args, **kwargs)
        return Ref(returned.handle)


def run_block(ctx: Context, example: S.BlockExample, diagnosed: bool) -> None:
    with Session(ctx, "networks") as session:
        out = example.planes * example.expansion
        kwargs = {"stride": example.stride} if example.pass_stride else {}
        if example.downsample:
            conv = _construct(session, "Conv2d", example.inplanes, out, 1, stride=example.stride, bias=False)
            norm = _construct(session, "BatchNorm2d", out)
            kwargs["downsample"] = _construct(session, "Sequential", conv, norm)
        case = NetCase(example.block, (), example.shape, ("eval", "train"), example.seed,
                       label=example.call())
        run_case(ctx, case, _block_factory(example), diagnosed, student_args=(example.inplanes, example.planes),
                 student_kwargs=kwargs, session=session)


@check("networks.basic_block")
def basic_block(ctx: Context) -> None:
    for_all_diagnosed(ctx, S.block_examples("BasicBlock"), lambda ex, d: run_block(ctx, ex, d), max_examples=10)


@check("networks.bottleneck")
def bottleneck(ctx: Context) -> None:
    for_all_diagnosed(ctx, S.block_examples("Bottleneck"), lambda ex, d: run_block(ctx, ex, d), max_examples=10)


@check("networks.resnet")
def resnet(ctx: Context) -> None:
    tell_if_slow(ctx)
    for block, layers, classes, seed in (("BasicBlock", [2, 1, 1, 1], 5, 31), ("Bottleneck", [1, 1, 1, 1], 3, 32)):
        case = NetCase("ResNet", (("num_classes", classes),), (BATCH, 3, 64, 64), ("eval", "train"), seed,
                       label=f"ResNet({block}, {layers}, num_classes={classes})")

        def factory(block=block, layers=layers, classes=classes):
            return refnets.ResNet(refnets.NETWORKS[block], layers, num_classes=classes)

        try:
            with Session(ctx, "networks") as session:
                # the block class itself, as the worker holds it
                sample = session.construct(block, 1, 1)
                block_class = Ref(session.get(sample, "__class__", depth=0).handle)
                run_case(ctx, case, factory, student_args=(block_class, layers), session=session)
        except (Failed, Mismatch, WorkerProblem) as problem:
            raise as_failed(problem, case.describe()) from None
    # The cases pass num_classes; its default (1000) is judged on the keys' shapes of a small ResNet.
    title = "ResNet(BasicBlock, [1, 1, 1, 1])"
    try:
        with Session(ctx, "networks") as session:
            sample = session.construct("BasicBlock", 1, 1)
            block_class = Ref(session.get(sample, "__class__", depth=0).handle)
            student = session.construct("ResNet", block_class, [1, 1, 1, 1], timeout=ctx.settings.network_timeout)
            expected = reference(title, lambda: refnets.ResNet(refnets.NETWORKS["BasicBlock"], [1, 1, 1, 1]))
            compare_keys(student_state_shapes(session, student), expected.keys, title)
    except (Failed, Mismatch, WorkerProblem) as problem:
        raise as_failed(problem, title) from None


@check("networks.resnet18")
def resnet18(ctx: Context) -> None:
    tell_if_slow(ctx)
    run_fixed(ctx, [(NetCase("resnet18", (("num_classes", 10),), (BATCH, 3, 64, 64), ("eval", "train"), 41),
                     lambda: refnets.resnet18(num_classes=10))])


@check("networks.resnet50")
def resnet50(ctx: Context) -> None:
    tell_if_slow(ctx)
    run_fixed(ctx, [(NetCase("resnet50", (("num_classes", 10),), (BATCH, 3, 64, 64), ("eval", "train"), 51),
                     lambda: refnets.resnet50(num_classes=10))])


# The untrained network on real digits: a check of networks.py (LeNet5), not of train.py.
INITIAL_LOSS_SEED = 2024


@check("networks.lenet5_initial_loss")
def initial_loss(ctx: Context) -> None:
    X, y = data.load_mnist("train")
    X, y = np.ascontiguousarray(X[:100]), y[:100]
    seed_layers(ctx, INITIAL_LOSS_SEED)
    model = ctx.call("networks.LeNet5", depth=0)
    logits = ctx.call((ctx.worker.ref(model), "forward"), X).value
    require_array("LeNet5().forward(x)", logits, np.zeros((len(X), 10)))
    loss = float(F.cross_entropy(torch.tensor(logits), torch.tensor(y)))
    if not abs(loss - math.log(10)) < INITIAL_LOSS_BAND:
        raise Failed(_("the untrained LeNet5's cross-entropy on 100 digits is {loss:.3f}, expected close to "
                       "ln 10 = {ln10:.3f} (ten classes, no preference yet): check the weights' "
                       "initial scale (uniform in ±1/sqrt(fan_in)) and the forward pass").format(
            loss=loss, ln10=math.log(10)))
