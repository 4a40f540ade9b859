"""Checks of ``augment.py``: each transformation against torch, the random ones by replaying
the contract's draws, properties that need no reference, and the evidence that the
student's augmentation helps.

The gain check runs ``train_lenet_small`` in the worker twice (without and with
augmentation, the same seed and the same 500 training digits); the returned weights are
measured on the held-out digits by the grader's own torch LeNet-5, and only the difference
is scored. Training length is fixed by the student's code (epochs, not seconds), so the
verdict does not depend on the machine's load; the time limit is a guard only.
"""

from __future__ import annotations

from grader.i18n import _

from dataclasses import dataclass

import numpy as np
import torch
from hypothesis import strategies as st

from grader import data
from grader.checks.harness import examples as S
from grader.checks.harness.base import (Context, Failed, Partial, check, expect_value_error, require_unchanged,
                                        seed_layers)
from grader.checks.harness.metric import Mismatch, compare, require_array
from grader.checks.harness.training import matching_reference, speed_report
from grader.references import augment as ref
from grader.worker.client import CallTimeout, Rng

# -- the gain check's settings. benchmarks/bench_augment.py measured the reference's held-out
# gain over seeds 0-19: mean +3.8 points, sd 0.9, min +2.3, max +5.4; and the alternative of
# tests/submissions/other_augment (another composition and training recipe) over seeds 0-9:
# mean +3.8, sd 1.1, min +2.0, max +5.4. A correct submission trains with other random
# numbers, so its gain is another draw of such a spread: full marks from +1.5 points (about
# 2.5 sd below the mean), a linear share below, nothing for no gain. The seed is one whose
# reference gain (+3.9) is close to the mean.
GAIN_DIGITS = 500            # the first 500 digits of the training split
GAIN_SEED = 0
MIN_TRAIN_ACCURACY = 0.9     # the run without augmentation must have learnt its 500 digits
FLIP_DRAWS = 2000            # images in the flip-frequency property


# -- examples --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Images:
    """A batch (N, C, H, W) of values uniform in [0, 1], and the arguments of one call."""

    shape: tuple
    seed: int
    args: tuple = ()

    def x(self) -> np.ndarray:
        return np.random.default_rng(self.seed).random(self.shape)

    def describe(self) -> str:
        return _("x {shape} uniform in [0, 1] (seed {seed}), {args}").format(
            shape=self.shape, seed=self.seed, args=self.text())

    def text(self) -> str:
        return ", ".join(repr(a) for a in self.args)


@st.composite
def image_shapes(draw, max_size: int = 10):
    return (draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, max_size)),
            draw(st.integers(1, max_size)))


def _round(value: float) -> float:
    """Drawn numbers kept short, so that an example reads well and can be typed back."""
    return round(value, 3)


angles = st.one_of(st.sampled_from((0.0, 90.0, -90.0, 180.0, 45.0)),
                   st.floats(-180, 180, allow_nan=False).map(_round))
zooms = st.one_of(st.just(1.0), st.floats(0.5, 2.0).map(_round))
shifts = st.one_of(st.just(0.0), st.integers(-3, 3).map(float), st.floats(-4, 4).map(_round))


@dataclass(frozen=True)
class AffineExample(Images):
    def text(self) -> str:
        return ", ".join(f"{name}={value!r}" for name, value in zip(("angle", "scale", "translate"), self.call_args()))

    def call_args(self) -> tuple:
        """``(angle, scale, translate)`` less the trailing ones at their default (1.0, (0.0, 0.0))."""
        args = list(self.args)
        while len(args) > 1 and args[-1] == AFFINE_DEFAULTS[len(args) - 2]:
            args.pop()
        return tuple(args)


AFFINE_DEFAULTS = (1.0, (0.0, 0.0))   # scale, translate


@st.composite
def affine_examples(draw):
    return AffineExample(draw(image_shapes()), draw(S.seeds),
                         (draw(angles), draw(zooms), (draw(shifts), draw(shifts))))


# Even sizes put the centre between pixels, where a centre of W / 2 is off by half a pixel.
AFFINE_EXPLICIT = (
    AffineExample((1, 1, 4, 4), 0, (90.0, 1.0, (0.0, 0.0))),
    AffineExample((2, 2, 6, 5), 1, (30.0, 1.5, (1.0, -2.0))),
    AffineExample((1, 1, 5, 8), 2, (0.0, 1.0, (0.5, 0.25))),
)


def _call(ctx: Context, name: str, x: np.ndarray, *args, rng_seed: int | None = None):
    """Runs ``augment.<name>(x, *args[, rng])``; returns ``(out, next_draw or None)``,
    requiring ``x`` unchanged."""
    extra = (Rng(rng_seed),) if rng_seed is not None else ()
    returned = ctx.call(f"augment.{name}", x, *args, *extra, echo_args=True)
    ctx.worker.release(returned.handle)
    require_unchanged(name, ["x"], [x], returned.args_after[:1])
    after = returned.args_after[-1] if rng_seed is not None else None
    return returned.value, (after.get("next_draw") if isinstance(after, dict) else None)


def _require_draws(name: str, got, wanted: float, rule: str) -> None:
    if got != wanted:
        raise Mismatch(_("{name} drew from rng a different number of times than the contract says: "
                         "draw exactly {rule}, and nothing else").format(name=name, rule=rule))


def _values_errors(ctx: Context, name: str, cases) -> None:
    for args, situation in cases:
        expect_value_error(ctx, f"augment.{name}", args, {}, situation, names=("x",))


# -- affine ----------------------------------------------------------------------------------

@check("augment.affine")
def affine(ctx: Context) -> None:
    def body(ex: AffineExample):
        x = ex.x()
        angle, scale, (tx, ty) = ex.args
        out, _unused = _call(ctx, "affine", x, *ex.call_args())
        compare("out", out, ref.affine(x, angle, scale, tx, ty))

    ctx.for_all(affine_examples(), body, examples=AFFINE_EXPLICIT)


@check("augment.affine_arguments")
def affine_arguments(ctx: Context) -> None:
    x = np.random.default_rng(0).random((2, 1, 4, 4))
    _values_errors(ctx, "affine", [
        ((x, 10.0, 0.0, (0.0, 0.0)), "scale=0"),
        ((x, 10.0, -1.0, (0.0, 0.0)), "scale=-1"),
        ((x, 10.0, 1.0, (0.0, 0.0, 1.0)), _("translate with three numbers")),
        ((x[0], 10.0, 1.0, (0.0, 0.0)), _("x of shape (1, 4, 4), not (N, C, H, W)")),
        ((x, float("nan"), 1.0, (0.0, 0.0)), "angle=nan"),
        ((x, float("inf"), 1.0, (0.0, 0.0)), "angle=inf"),
        ((x, 10.0, float("nan"), (0.0, 0.0)), "scale=nan"),
        ((x, 10.0, float("inf"), (0.0, 0.0)), "scale=inf"),
        ((x, 10.0, 1.0, (float("nan"), 0.0)), "translate=(nan, 0.0)"),
        ((x, 10.0, 1.0, (0.0, float("inf"))), "translate=(0.0, inf)"),
        ((x, 10.0, 1.0, (float("-inf"), 0.0)), "translate=(-inf, 0.0)"),
    ])


# -- random_crop -----------------------------------------------------------------------------

@dataclass(frozen=True)
class CropExample(Images):
    def text(self) -> str:
        size, padding = self.args
        return f"size={size!r}, padding={padding}, rng=default_rng({self.seed + 1})"


@st.composite
def crop_examples(draw, full_size: bool = False):
    n, c, h, w = draw(image_shapes(8))
    padding = draw(st.integers(0, 3))
    if full_size:
        size = (h, w)
    else:
        sh, sw = draw(st.integers(1, h + 2 * padding)), draw(st.integers(1, w + 2 * padding))
        size = sh if sh == sw and draw(st.booleans()) else (sh, sw)
    return CropExample((n, c, h, w), draw(S.seeds), (size, padding))


@check("augment.random_crop")
def random_crop(ctx: Context) -> None:
    def body(ex: CropExample):
        x = ex.x()
        size, padding = ex.args
        out, drawn = _call(ctx, "random_crop", x, size, padding, rng_seed=ex.seed + 1)
        expected, _unused, _unused, rng = ref.random_crop(x, S.pair(size), padding, ex.seed + 1)
        compare("out", out, expected)
        _require_draws("random_crop", drawn, ref.next_draw(rng),
                       _("top = rng.integers(0, Hp - h + 1, size=N), then left = rng.integers(0, Wp - w + 1, size=N)"))

    ctx.for_all(crop_examples(), body)
    x = np.random.default_rng(0).random((2, 1, 4, 5))
    _values_errors(ctx, "random_crop", [
        ((x, 7, 1, Rng(0)), _("size 7 larger than the padded 6 x 7 images")),
        ((x, (2, 0), 0, Rng(0)), "size (2, 0)"),
        ((x, 2, -1, Rng(0)), "padding=-1"),
    ])


@check("augment.random_crop_windows")
def random_crop_windows(ctx: Context) -> None:
    """No reference needed: with size = (H, W), every output is a window of the padded image,
    the one at offset (padding, padding) being the original; padding 0 gives x back."""
    def body(ex: CropExample):
        x = ex.x()
        size, padding = ex.args
        out, _unused = _call(ctx, "random_crop", x, size, padding, rng_seed=ex.seed + 1)
        require_array("out", out, x)
        padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        windows = np.lib.stride_tricks.sliding_window_view(padded, x.shape[2:], axis=(2, 3))
        for n in range(x.shape[0]):
            if padding == 0 and not np.array_equal(out[n], x[n]):
                raise Mismatch(_("with padding=0 and size (H, W) the only window is the image itself, but "
                                 "image {n} came back changed").format(n=n))
            found = (windows[n] == out[n][:, None, None]).all(axis=(0, 3, 4))
            if not found.any():
                raise Mismatch(_("image {n} of the output is not a {h}x{w} window of its zero-"
                                 "padded image (padding {padding} on each side)").format(
                    n=n, h=x.shape[2], w=x.shape[3], padding=padding))

    ctx.for_all(crop_examples(full_size=True), body, max_examples=20)


# -- horizontal_flip -------------------------------------------------------------------------

@dataclass(frozen=True)
class FlipExample(Images):
    def text(self) -> str:
        return f"p={self.args[0]!r}, rng=default_rng({self.seed + 1})"


probabilities = st.sampled_from((0.5, 0.0, 1.0, 0.1, 0.9, 0.3))


@st.composite
def flip_examples(draw):
    return FlipExample(draw(image_shapes()), draw(S.seeds), (draw(probabilities),))


@check("augment.horizontal_flip")
def horizontal_flip(ctx: Context) -> None:
    def body(ex: FlipExample):
        x = ex.x()
        (p,) = ex.args
        out, drawn = _call(ctx, "horizontal_flip", x, p, rng_seed=ex.seed + 1)
        expected, _unused, rng = ref.horizontal_flip(x, p, ex.seed + 1)
        compare("out", out, expected)
        _require_draws("horizontal_flip", drawn, ref.next_draw(rng), _("once flip = rng.random(N) < p"))

    ctx.for_all(flip_examples(), body)
    x = np.random.default_rng(0).random((2, 1, 3, 3))
    _values_errors(ctx, "horizontal_flip", [((x, 1.5, Rng(0)), "p=1.5"), ((x, -0.1, Rng(0)), "p=-0.1"),
                                            ((x, float("nan"), Rng(0)), "p=nan"),
                                            ((x, float("inf"), Rng(0)), "p=inf")])


@check("augment.flip_properties")
def flip_properties(ctx: Context) -> None:
    """No reference needed: p = 1 twice gives x back and p = 0 leaves x alone; over many
    images, the fraction flipped is near p."""
    def body(ex: FlipExample):
        x = ex.x()
        once, _unused = _call(ctx, "horizontal_flip", x, 1.0, rng_seed=ex.seed)
        twice, _unused = _call(ctx, "horizontal_flip", once, 1.0, rng_seed=ex.seed + 1) \
            if isinstance(once, np.ndarray) else (None, None)
        require_array("horizontal_flip(horizontal_flip(x, 1), 1)", twice, x)
        if not np.array_equal(twice, x):
            raise Mismatch(_("flipping twice with p=1 did not give the images back: a mirror image mirrored "
                             "again is the original"))
        kept, _unused = _call(ctx, "horizontal_flip", x, 0.0, rng_seed=ex.seed)
        require_array("horizontal_flip(x, 0)", kept, x)
        if not np.array_equal(kept, x):
            raise Mismatch(_("with p=0 no image may change"))
        (p,) = ex.args
        columns = np.broadcast_to(np.array([0.0, 1.0]), (FLIP_DRAWS, 1, 1, 2)).copy()
        flipped, _unused = _call(ctx, "horizontal_flip", columns, p, rng_seed=ex.seed)
        require_array("horizontal_flip(x, p)", flipped, columns)
        fraction = float((flipped[:, 0, 0, 0] == 1.0).mean())
        allowed = 5 * np.sqrt(p * (1 - p) / FLIP_DRAWS) + 1.0 / FLIP_DRAWS
        if abs(fraction - p) > allowed:
            raise Mismatch(_("with p={p}, {fraction:.1%} of {count} images were mirrored (expected "
                             "{p:.0%} give or take {allowed:.1%}): flip where rng.random(N) < p").format(
                p=p, fraction=fraction, count=FLIP_DRAWS, allowed=allowed))

    ctx.for_all(flip_examples(), body, max_examples=8)


# -- brightness and contrast -----------------------------------------------------------------

@dataclass(frozen=True)
class ToneExample(Images):
    def text(self) -> str:
        return f"{self.args[0]}={self.args[1]!r}"


@st.composite
def tone_examples(draw, name: str, amounts):
    return ToneExample(draw(image_shapes()), draw(S.seeds), (name, draw(amounts)))


deltas = st.one_of(st.sampled_from((0.0, 0.3, -0.3, 1.0, -1.0)), st.floats(-1.5, 1.5).map(_round))
factors = st.one_of(st.sampled_from((1.0, 0.0, 0.5, 2.0, 3.0)), st.floats(0, 4).map(_round))


@check("augment.adjust_brightness")
def adjust_brightness(ctx: Context) -> None:
    def body(ex: ToneExample):
        x, delta = ex.x(), ex.args[1]
        out, _unused = _call(ctx, "adjust_brightness", x, delta)
        compare("out", out, ref.adjust_brightness(x, delta))

    ctx.for_all(tone_examples("delta", deltas), body)
    x = np.random.default_rng(0).random((2, 1, 3, 3))
    _values_errors(ctx, "adjust_brightness", [((x, float("nan")), "delta=nan"), ((x, float("inf")), "delta=inf"),
                                              ((x, float("-inf")), "delta=-inf")])


@check("augment.adjust_contrast")
def adjust_contrast(ctx: Context) -> None:
    def body(ex: ToneExample):
        x, factor = ex.x(), ex.args[1]
        out, _unused = _call(ctx, "adjust_contrast", x, factor)
        compare("out", out, ref.adjust_contrast(x, factor))

    ctx.for_all(tone_examples("factor", factors), body)
    x = np.random.default_rng(0).random((2, 1, 3, 3))
    _values_errors(ctx, "adjust_contrast", [((x, -0.5), "factor=-0.5"), ((x, float("nan")), "factor=nan"),
                                            ((x, float("inf")), "factor=inf")])


@check("augment.tone_range")
def tone_range(ctx: Context) -> None:
    """No reference needed: images in [0, 1] stay in [0, 1], however strong the change."""
    def body(ex: ToneExample):
        x, amount = ex.x(), ex.args[1]
        name = "adjust_brightness" if ex.args[0] == "delta" else "adjust_contrast"
        out, _unused = _call(ctx, name, x, amount)
        require_array("out", out, x)
        if not (np.all(out >= 0.0) and np.all(out <= 1.0)):
            raise Mismatch(_("{name} returned values from {low:.3g} to {high:.3g}: images must stay "
                             "in [0, 1] (clip)").format(name=name, low=out.min(), high=out.max()))

    strong = st.one_of(tone_examples("delta", st.sampled_from((0.7, -0.7, 1.5))),
                       tone_examples("factor", st.sampled_from((3.0, 10.0))))
    ctx.for_all(strong, body, max_examples=15)


# -- random_affine ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RandomAffineExample(Images):
    def text(self) -> str:
        degrees, scale_range, max_translate = self.args
        return (f"degrees={degrees!r}, scale_range={scale_range!r}, max_translate={max_translate!r}, "
                f"rng=default_rng({self.seed + 1})")


@st.composite
def random_affine_examples(draw):
    low = draw(st.sampled_from((1.0, 0.8, 0.5)))
    high = draw(st.sampled_from((low, 1.2, 1.5)))
    return RandomAffineExample(
        draw(image_shapes()), draw(S.seeds),
        (draw(st.sampled_from((0.0, 15.0, 45.0, 180.0))), (low, high), draw(st.sampled_from((0.0, 2.0, 3.5)))))


@check("augment.random_affine")
def random_affine(ctx: Context) -> None:
    def body(ex: RandomAffineExample):
        x = ex.x()
        degrees, scale_range, max_translate = ex.args
        out, drawn = _call(ctx, "random_affine", x, degrees, scale_range, max_translate, rng_seed=ex.seed + 1)
        expected, rng = ref.random_affine(x, degrees, scale_range, max_translate, ex.seed + 1)
        compare("out", out, expected)
        _require_draws("random_affine", drawn, ref.next_draw(rng),
                       _("angles, scales, tx, ty: four rng.uniform(..., size=N), in that order"))

    ctx.for_all(random_affine_examples(), body)
    x = np.random.default_rng(0).random((2, 1, 4, 4))
    _values_errors(ctx, "random_affine", [
        ((x, -5.0, (0.9, 1.1), 1.0, Rng(0)), "degrees=-5"),
        ((x, 5.0, (1.1, 0.9), 1.0, Rng(0)), "scale_range=(1.1, 0.9)"),
        ((x, 5.0, (0.0, 1.0), 1.0, Rng(0)), "scale_range=(0.0, 1.0)"),
        ((x, 5.0, (0.9, 1.1), -1.0, Rng(0)), "max_translate=-1"),
    ])


# -- augment_batch ---------------------------------------------------------------------------

@check("augment.augment_batch")
def augment_batch(ctx: Context) -> None:
    """The student's own composition: digits in, digits out (shape, dtype, [0, 1]), input
    untouched, the same seed giving the same batch, a different seed another one."""
    X = np.ascontiguousarray(data.load_mnist("train")[0][:16])
    outs = []
    for seed in (1, 1, 2):
        returned = ctx.call("augment.augment_batch", X, Rng(seed), echo_args=True)
        ctx.worker.release(returned.handle)
        require_unchanged("augment_batch", ["x"], [X], returned.args_after[:1])
        out = returned.value
        require_array("augment_batch(x, rng)", out, X)
        if not np.all(np.isfinite(out)) or out.min() < 0.0 or out.max() > 1.0:
            raise Failed(_("augment_batch returned values outside [0, 1] ({low:.3g} to "
                           "{high:.3g}): images must stay images").format(low=np.nanmin(out), high=np.nanmax(out)))
        outs.append(out)
    if not np.array_equal(outs[0], outs[1]):
        raise Failed(_("augment_batch gave different batches for the same seed: draw only from rng"))
    if np.array_equal(outs[0], X):
        raise Failed(_("augment_batch returned the digits unchanged"))
    if np.array_equal(outs[0], outs[2]):
        raise Failed(_("augment_batch gave the same batch for two different seeds: draw from rng"))


# -- the evidence: held-out accuracy with and without augmentation ---------------------------

def heldout_and_training_accuracy(ctx: Context, model, X_train, y_train) -> tuple[float, float, dict]:
    """The returned model measured by the grader's torch LeNet-5 with its weights; and its state."""
    state = ctx.call((model, "state_dict"), depth=1).value
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise Failed(_("train_lenet_small should return a LeNet5 whose state_dict() gives arrays by name"))
    probe = X_train[:16]
    torch_model = matching_reference(state, probe, ctx.call((model, "forward"), probe).value)
    X_held, y_held = data.load_mnist("heldout")
    with torch.no_grad():
        held = torch_model(torch.tensor(X_held)).argmax(dim=1).numpy()
        train = torch_model(torch.tensor(X_train)).argmax(dim=1).numpy()
    return float((held == y_held).mean()), float((train == y_train).mean()), state


def train_small(ctx: Context, X, y, seed: int, augment: bool) -> tuple[float, float, dict]:
    """The augmented run leaves ``augment`` out: the contract's default (True) is graded here."""
    seed_layers(ctx, seed)
    try:
        returned = ctx.call("augment.train_lenet_small", X, y, Rng(seed), **({} if augment else {"augment": False}),
                            depth=0, timeout=ctx.settings.augment_timeout)
    except CallTimeout:
        raise Failed(_("train_lenet_small(augment={augment}) did not finish within {timeout:g} s on "
                       "{count} digits (the reference needs about 6 s). Where the time goes:").format(
            augment=augment, timeout=ctx.settings.augment_timeout, count=len(X)),
                     speed_report(ctx)) from None
    try:
        return heldout_and_training_accuracy(ctx, ctx.worker.ref(returned), X, y)
    finally:
        ctx.worker.release(returned.handle)


def gain_of(ctx: Context, seed: int) -> dict:
    """Both runs on the first GAIN_DIGITS training digits: accuracies by run."""
    X, y = data.load_mnist("train")
    X, y = np.ascontiguousarray(X[:GAIN_DIGITS]), y[:GAIN_DIGITS]
    plain_held, plain_train, plain_state = train_small(ctx, X, y, seed, augment=False)
    augmented_held, augmented_train, augmented_state = train_small(ctx, X, y, seed, augment=True)
    same = plain_state.keys() == augmented_state.keys() and all(
        np.array_equal(plain_state[key], augmented_state[key]) for key in plain_state)
    return {"plain_held": plain_held, "plain_train": plain_train, "augmented_held": augmented_held,
            "augmented_train": augmented_train, "same_weights": same,
            "gain": round(augmented_held - plain_held, 9)}   # whole digits: 0.956 - 0.941 is 0.015


@check("augment.gain")
def gain(ctx: Context) -> None:
    result = gain_of(ctx, GAIN_SEED)
    table = [_("    without augmentation: training {train:.1%}, held-out {held:.1%}").format(
                 train=result['plain_train'], held=result['plain_held']),
             _("    with augment_batch:   training {train:.1%}, held-out {held:.1%}").format(
                 train=result['augmented_train'], held=result['augmented_held'])]
    if result["plain_train"] < MIN_TRAIN_ACCURACY:
        raise Failed(_("without augmentation, train_lenet_small reached only {train:.1%} on its own "
                       "{count} training digits (at least {needed:.0%} needed): it must learn the "
                       "small set before a gain from augmentation means anything. Train for more epochs.").format(
            train=result['plain_train'], count=GAIN_DIGITS, needed=MIN_TRAIN_ACCURACY), table)
    full, zero = ctx.settings.full_marks_gain, ctx.settings.zero_marks_gain
    fraction = (result["gain"] - zero) / (full - zero)
    summary = _("augmentation changed the held-out accuracy by {gain:+.1f} points "
                "({before:.1%} -> {after:.1%}); full marks from "
                "+{full:g} points, none at {zero:+g} or below").format(
        gain=100 * result['gain'], before=result['plain_held'], after=result['augmented_held'],
        full=100 * full, zero=100 * zero)
    if result["same_weights"]:
        table.append(_("train_lenet_small(X, y, rng), with augment left at its default, trained exactly the "
                       "weights of augment=False: the default is augment=True, and then every mini-batch "
                       "goes through augment_batch."))
    elif fraction < 1:
        table.append(_("Small rotations, scalings and shifts of a digit are still the same digit; a flip, a "
                       "large rotation or a shift that cuts the digit off teaches the network wrong examples."))
    raise Partial(fraction, summary, table)
