"""The training part: full marks for the reference and for a correct submission written
another way, a low score for a subtly wrong backward, a "too slow" diagnosis for a
loop-per-pixel convolution, and every planted optimiser bug losing points on sgd_step."""

import re
from pathlib import Path

import pytest

from grader import rubric as rubric_module
from grader.checks import train as train_checks
from grader.runner import grade
from tests.helpers import ASSIGNMENTS, SOLUTIONS, assemble, files_for, own_checks, restricted_rubric
from tests.planted_bugs_train import BUGS, apply_bug, plant

OTHER_TRAIN = Path(__file__).resolve().parent / "submissions" / "other_train"

# What the student reads for each planted bug: a phrase of the sgd_step check's message.
BUG_MESSAGES = {
    "sgd_weight_decay_after_momentum": "differs from the reference",
    "sgd_weight_decay_ignored": "differs from the reference",
    "sgd_dampened_velocity": "differs from the reference",
    "sgd_params_rebound": "was rebound to a new array",
    "sgd_velocity_never_stored": "velocities has no entry",
    "sgd_zero_buffer_not_updated": "velocities['w'] after step 1 differs",
    "sgd_nesterov": "differs from the reference",
    "sgd_velocity_aliases_gradient": "the velocity IS the gradient array",
    "sgd_weight_decay_into_grads": "sgd_step changed grads",
    "sgd_default_weight_decay": "differs from the reference",
    "sgd_default_momentum": "differs from the reference",
}

LOOP_CONV = '''

def conv2d_forward(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    out = np.zeros((N, F, H - KH + 1, W - KW + 1))
    for n in range(N):
        for f in range(F):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    total = 0.0
                    for c in range(C):
                        for p in range(KH):
                            for q in range(KW):
                                total += x[n, c, i + p, j + q] * w[f, c, p, q]
                    out[n, f, i, j] = total + (b[f] if b is not None else 0.0)
    return out, (x, w, b)


def conv2d_backward(dout, cache):
    x, w, b = cache
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    N, F, OH, OW = dout.shape
    KH, KW = w.shape[2:]
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    dx[n, :, i:i + KH, j:j + KW] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * x[n, :, i:i + KH, j:j + KW]
    return dx, dw, (dout.sum(axis=(0, 2, 3)) if b is not None else None)
'''


@pytest.mark.slow
def test_reference_gets_full_marks_and_a_learning_curve(reference_train_report):
    report = reference_train_report
    assert report.score == report.max_score, [c.output for c in report.checks]
    trained = next(c for c in report.checks if c.id == "train.train_lenet")
    assert "held-out accuracy" in trained.output
    assert report.artifacts()["learning_curve.png"].startswith(b"\x89PNG")


@pytest.mark.slow
def test_stubs_get_zero_cleanly():
    """As a student runs them (in the kit, the reference layers would stand in for the stubs)."""
    report = grade(ASSIGNMENTS, parts=["train"], references=None)
    assert report.score == 0
    assert all("Traceback" not in c.output for c in report.checks)


@pytest.mark.slow
def test_transposed_conv_weight_gradient_trains_badly(solution_copy):
    conv = solution_copy / "conv.py"
    conv.write_text(conv.read_text() + (
        "\n\n_backward = conv2d_backward\n"
        "def conv2d_backward(dout, cache):\n"
        "    dx, dw, db = _backward(dout, cache)\n"
        "    return dx, np.ascontiguousarray(np.swapaxes(dw, 2, 3)), db\n"))
    # as a student's own run sees it: official grading would train with the reference conv.py;
    # the train part's checks alone (checking conv.py and networks.py first is not what this is about)
    report = grade(solution_copy, parts=["train"], references=None, rubric=own_checks("train"))
    checks = {c.id: c for c in report.checks}
    trained = checks["train.train_lenet"]
    assert trained.score < 0.5 * trained.max_score
    assert "gradient checks" in trained.output
    assert not checks["train.overfit"].passed


@pytest.mark.slow
def test_loop_convolution_is_reported_too_slow(solution_copy):
    conv = solution_copy / "conv.py"
    conv.write_text(conv.read_text() + LOOP_CONV)
    settings = rubric_module.load().settings.replace(train_timeout=20.0, overfit_timeout=5.0)
    # the train part's checks alone: checking networks.py first would run AlexNet and VGG on the loop conv for many minutes
    report = grade(solution_copy, parts=["train"], references=None, settings=settings, rubric=own_checks("train"))
    trained = next(c for c in report.checks if c.id == "train.train_lenet")
    assert trained.score == 0
    # refused before training by the pace estimate (tests/test_speed.py tests that path alone),
    # or out of time: either way the per-function pace lines name conv2d
    assert "train_lenet was not started" in trained.output or "did not finish within 20 s" in trained.output
    assert "conv2d_forward + conv2d_backward" in trained.output and "x torch's" in trained.output


# ------------------------------------------------------------ a correct submission written another way

@pytest.fixture(scope="module")
def other_train_report(tmp_path_factory):
    """tests/submissions/other_train: its own train.py (sgd_step with other NumPy idioms and
    zero-started velocities; train_lenet with He init, batches of 64, a step learning-rate
    schedule, per-epoch reshuffled copies, its own shift augmentation) over the reference layers."""
    folder = assemble(tmp_path_factory.mktemp("other_train") / "submission", SOLUTIONS, OTHER_TRAIN)
    assert all((folder / name).is_file() for name in files_for("train"))
    return grade(folder, parts=["train"], include_hidden=True, rubric=own_checks("train"))


@pytest.mark.slow
def test_other_train_gets_full_marks(other_train_report):
    report = other_train_report
    assert {c.id for c in report.checks} >= {"train.sgd_step", "train.overfit", "train.train_lenet"}
    assert report.score == report.max_score > 0, [f"{c.id}: {c.output}" for c in report.checks if not c.passed]
    trained = next(c for c in report.checks if c.id == "train.train_lenet")
    assert "held-out accuracy" in trained.output


# ------------------------------------------------------------------ planted bugs of sgd_step

SHORT_TRAINING_ON_OWN_INITIAL_WEIGHTS = """

def train_lenet(X, y, rng):
    model = LeNet5(activation="relu")   # the layers' own initial weights, not drawn from rng
    velocities = {}
    for start in range(0, 1280, 32):
        logits = model.forward(X[start:start + 32])
        _, dlogits = softmax_cross_entropy(logits, y[start:start + 32])
        model.backward(dlogits)
        sgd_step(model.parameters, model.gradients, velocities, 0.05, momentum=0.9)
    return model.eval()
"""


@pytest.mark.slow
def test_training_on_the_layers_own_initial_weights_scores_the_same_every_time(solution_copy):
    (solution_copy / "train.py").write_text((solution_copy / "train.py").read_text()
                                            + SHORT_TRAINING_ON_OWN_INITIAL_WEIGHTS)
    trainings = [next(c for c in grade(solution_copy, rubric=restricted_rubric(ids={"train.train_lenet"})).checks)
                 for _ in range(2)]
    assert "held-out accuracy" in trainings[0].output
    # the summary line also says how many seconds the training took, which moves with the machine's load
    accuracies = [re.search(r"held-out accuracy (\S+) \((\d+)/", t.output).groups() for t in trainings]
    assert accuracies[0] == accuracies[1]
    assert trainings[0].score == trainings[1].score


def test_for_all_runs_the_explicit_examples_after_the_drawn_ones_and_reports_the_smallest_failure():
    """sgd_step relies on the explicit examples: no drawn example has momentum, no weight decay, two
    steps and a missing velocity at once, the only case where a velocity aliasing the gradient shows.
    They run after the drawn ones, which hypothesis shrinks: a failing drawn example is reported at
    its smallest, not a fixed example chosen for another bug."""
    from hypothesis import strategies as st

    from grader.checks.harness.base import Context, Failed
    from grader.checks.harness.metric import Mismatch

    seen = []
    Context(None, "test.explicit_examples").for_all(st.integers(0, 9), seen.append, max_examples=5,
                                                     examples=(100, 101))
    assert seen[-2:] == [100, 101] and all(n <= 9 for n in seen[:-2]) and len(seen) > 2

    def fails_from(limit):
        def body(n):
            if n >= limit:
                raise Mismatch(f"{n} is too large")
        return body

    with pytest.raises(Failed) as drawn:   # every example from 3 on fails: the smallest drawn one is 3
        Context(None, "test.explicit_examples").for_all(st.integers(0, 50), fails_from(3), examples=(40, 30))
    assert "3 is too large" in str(drawn.value) and "40" not in str(drawn.value)
    with pytest.raises(Failed) as fixed:   # only the fixed examples fail: the first of them is reported
        Context(None, "test.explicit_examples").for_all(st.integers(0, 9), fails_from(20), examples=(5, 40, 30))
    assert "40 is too large" in str(fixed.value)


def test_every_planted_bug_has_its_expected_message():
    assert set(BUG_MESSAGES) == {bug.id for bug in BUGS}


@pytest.mark.parametrize("bug", BUGS, ids=[bug.id for bug in BUGS])
def test_planted_sgd_bug_applies_cleanly(bug):
    assert bug.file == "train.py" and bug.function == "sgd_step"
    text = (SOLUTIONS / bug.file).read_text()
    mutated = apply_bug(bug, text)          # raises unless old occurs exactly once
    assert mutated != text
    compile(mutated, bug.file, "exec")


@pytest.mark.slow
@pytest.mark.parametrize("bug", BUGS, ids=[bug.id for bug in BUGS])
def test_planted_sgd_bug_loses_points_on_sgd_step(bug, solution_copy):
    plant(bug, solution_copy)
    report = grade(solution_copy, rubric=restricted_rubric(ids={"train.sgd_step"}), include_hidden=True)
    (check,) = report.checks
    assert check.id == "train.sgd_step" and check.name == bug.function
    assert check.score < check.max_score, f"{bug.id} ({bug.why}) lost no points on train.sgd_step"
    assert "internal grader error" not in check.output and "Traceback" not in check.output, check.output
    assert BUG_MESSAGES[bug.id] in check.output, check.output
    assert "Smallest failing example: params" in check.output, check.output
