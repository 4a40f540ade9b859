"""The check harness's own pieces: what one check leaves for another, and how examples and calls
are described to a student."""

from __future__ import annotations

import numpy as np

from grader.checks.harness.base import Context, describe_call
from grader.checks.harness.examples import Dense


class FakeWorker:
    def __init__(self):
        self.generation = 0
        self.released: list = []

    def release(self, *handles):
        self.released.extend(handles)

    def keep_beyond_scope(self, handle):
        pass


def test_built_is_taken_once_under_its_title_and_in_its_generation():
    worker = FakeWorker()
    ctx = Context(worker, "a")
    ctx.built.leave("VGG16()", 7)
    assert Context(worker, "b").built.take("VGG16()") == 7        # the next check, same worker
    assert ctx.built.take("VGG16()") is None                        # taken once
    ctx.built.leave("AlexNet()", 8)
    assert ctx.built.take("VGG16()") is None and worker.released == [8]   # another title frees it
    ctx.built.leave("AlexNet()", 9)
    ctx.built.leave("VGG16()", 10)
    assert worker.released == [8, 9]                                # one object kept at a time
    worker.generation += 1                                          # the worker restarted
    assert ctx.built.take("VGG16()") is None and worker.released == [8, 9]
    assert Context(FakeWorker(), "c").built.take("VGG16()") is None  # another worker, another cache


def test_describe_call_shows_the_arguments_as_passed():
    text = describe_call("conv.conv2d_forward", (np.zeros((1, 1, 2, 2)), np.ones((1, 1, 4, 1)), None),
                         {"stride": 1, "padding": (0, 1)}, names=("x", "w", "b"))
    assert text == "conv2d_forward(x (1, 1, 2, 2), w (1, 1, 4, 1) all ones, b=None, stride=1, padding=(0, 1))"
    assert describe_call("conv.conv_output_size", (3, 5, 1, 0), {}, ("size", "kernel", "stride", "padding")) \
        == "conv_output_size(size=3, kernel=5, stride=1, padding=0)"
    from grader.worker.protocol import Rng   # the generator the worker makes, as the student would write it
    assert describe_call("augment.horizontal_flip", (np.zeros((2, 1, 3, 3)), float("nan"), Rng(6)), {},
                         ("x",)) == "horizontal_flip(x (2, 1, 3, 3), nan, default_rng(6))"


def test_injected_values_are_described_as_they_are():
    zeros = Dense((1,), 1.0, 1, zeros=1.0)
    assert np.all(zeros.arrays()[0] == 0)
    assert zeros.describe() == "x (1,); x values standard normal (seed 1), then 1 of 1 set to exactly 0"
    extremes = Dense((3,), 1.0, 1, extremes=True)
    assert list(extremes.arrays()[0][:2]) == [1000.0, -1000.0]
    assert extremes.describe().endswith("then the first two values set to 1000, -1000")
    assert Dense((3,), 1.0, 1).describe() == "x (3,); x values standard normal (seed 1)"


def test_built_does_not_keep_its_worker_alive():
    import gc
    import weakref

    worker = FakeWorker()
    Context(worker, "a").built.leave("VGG16()", 7)
    gone = weakref.ref(worker)
    del worker
    gc.collect()
    assert gone() is None
