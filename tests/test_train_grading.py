"""The training part: full marks for the reference, a low score for a subtly wrong backward,
and a "too slow" diagnosis for a loop-per-pixel convolution."""

import pytest

from grader.checks import train as train_checks
from grader.runner import grade
from tests.conftest import ASSIGNMENTS, SOLUTIONS

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


@pytest.fixture(scope="module")
def reference_report():
    return grade(SOLUTIONS, parts=["train"])


def test_reference_gets_full_marks_and_a_learning_curve(reference_report):
    assert reference_report.score == reference_report.max_score, [c.output for c in reference_report.checks]
    trained = next(c for c in reference_report.checks if c.id == "train.train_lenet")
    assert "held-out accuracy" in trained.output
    assert reference_report.artifacts()["learning_curve.png"].startswith(b"\x89PNG")


def test_stubs_get_zero_cleanly():
    report = grade(ASSIGNMENTS, parts=["train"])
    assert report.score == 0
    assert all("Traceback" not in c.output for c in report.checks)


def test_transposed_conv_weight_gradient_trains_badly(solution_copy):
    conv = solution_copy / "conv.py"
    conv.write_text(conv.read_text() + (
        "\n\n_backward = conv2d_backward\n"
        "def conv2d_backward(dout, cache):\n"
        "    dx, dw, db = _backward(dout, cache)\n"
        "    return dx, np.ascontiguousarray(np.swapaxes(dw, 2, 3)), db\n"))
    report = grade(solution_copy, parts=["train"])
    checks = {c.id: c for c in report.checks}
    trained = checks["train.train_lenet"]
    assert trained.score < 0.5 * trained.max_score
    assert "gradient checks" in trained.output
    assert not checks["train.overfit"].passed


def test_loop_convolution_is_reported_too_slow(solution_copy, monkeypatch):
    monkeypatch.setattr(train_checks, "TRAIN_TIMEOUT", 20.0)
    monkeypatch.setattr(train_checks, "OVERFIT_BUDGET", 5.0)
    conv = solution_copy / "conv.py"
    conv.write_text(conv.read_text() + LOOP_CONV)
    report = grade(solution_copy, parts=["train"])
    trained = next(c for c in report.checks if c.id == "train.train_lenet")
    assert trained.score == 0
    assert "did not finish within 20 s" in trained.output
    assert "conv2d_forward + conv2d_backward" in trained.output and "x torch's" in trained.output
