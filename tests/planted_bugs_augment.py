"""Planted bugs of ``augment.py``: classic augmentation mistakes, each a textual edit of the
reference solution (the format of ``tests/planted_bugs.py``).

Every entry of ``BUGS`` replaces ``old`` (which must occur exactly once in
``solutions/augment.py``) by ``new`` in a COPY of that file. ``CHECK_OF_BUG`` names the check
that must lose points for it (``tests/test_augment_grading.py`` enforces it).
"""

from __future__ import annotations

from tests.planted_bugs import Bug, apply_bug, plant  # noqa: F401 - one format for every part

BUGS: list[Bug] = [
    Bug(
        id="affine_centre_off_by_one_half",
        file="augment.py",
        old="    cy, cx = (h - 1) / 2, (w - 1) / 2\n",
        new="    cy, cx = h / 2, w / 2\n",
        function="affine",
        why="the centre is taken at (H / 2, W / 2), half a pixel off the middle of the pixel grid",
    ),
    Bug(
        id="affine_nearest_not_bilinear",
        file="augment.py",
        old="    x0, y0 = np.floor(xs), np.floor(ys)\n    fx, fy = xs - x0, ys - y0\n",
        new="    x0, y0 = np.round(xs), np.round(ys)\n    fx, fy = np.zeros_like(xs), np.zeros_like(ys)\n",
        function="affine",
        why="each output pixel copies the nearest input pixel instead of interpolating its four neighbours",
    ),
    Bug(
        id="random_affine_scales_drawn_first",
        file="augment.py",
        old=("    angles = rng.uniform(-degrees, degrees, size=n)\n"
             "    scales = rng.uniform(low, high, size=n)\n"),
        new=("    scales = rng.uniform(low, high, size=n)\n"
             "    angles = rng.uniform(-degrees, degrees, size=n)\n"),
        function="random_affine",
        why="the scales are drawn before the angles, against the contract's order",
    ),
    Bug(
        id="random_crop_left_drawn_first",
        file="augment.py",
        old=("    top = rng.integers(0, hp - sh + 1, size=n)\n"
             "    left = rng.integers(0, wp - sw + 1, size=n)\n"),
        new=("    left = rng.integers(0, wp - sw + 1, size=n)\n"
             "    top = rng.integers(0, hp - sh + 1, size=n)\n"),
        function="random_crop",
        why="the column offsets are drawn before the row offsets",
    ),
    Bug(
        id="flip_upside_down",
        file="augment.py",
        old="    return np.where(flip[:, None, None, None], x[..., ::-1], x)\n",
        new="    return np.where(flip[:, None, None, None], x[:, :, ::-1, :], x)\n",
        function="horizontal_flip",
        why="the rows are reversed (upside down) instead of the columns (left-right)",
    ),
    Bug(
        id="flip_probability_inverted",
        file="augment.py",
        old="    flip = rng.random(x.shape[0]) < p\n",
        new="    flip = rng.random(x.shape[0]) >= p\n",
        function="horizontal_flip",
        why="an image is flipped with probability 1 - p",
    ),
    Bug(
        id="brightness_not_clipped",
        file="augment.py",
        old='    return np.clip(x + _finite(delta, "delta"), 0.0, 1.0)\n',
        new='    return x + _finite(delta, "delta")\n',
        function="adjust_brightness",
        why="x + delta is not clipped to [0, 1]",
    ),
    Bug(
        id="contrast_batch_mean",
        file="augment.py",
        old="    m = x.mean(axis=(1, 2, 3), keepdims=True)\n",
        new="    m = x.mean()\n",
        function="adjust_contrast",
        why="the mean is taken over the whole batch instead of over each image",
    ),
    Bug(
        id="affine_default_translate",
        file="augment.py",
        old="def affine(x, angle, scale=1.0, translate=(0.0, 0.0)):",
        new="def affine(x, angle, scale=1.0, translate=(0.0, 0.5)):",
        function="affine",
        why="the documented default translate=(0.0, 0.0) shifts by half a pixel",
    ),
    Bug(
        id="affine_translate_not_finite",
        file="augment.py",
        old='    tx, ty = (_finite(t, "translate") for t in translate)\n',
        new='    tx, ty = (float(t) for t in translate)\n',
        function="affine",
        why="a NaN or infinite translate is let through instead of raising ValueError",
    ),
    Bug(
        id="affine_scale_not_finite",
        file="augment.py",
        old='    scale = _finite(scale, "scale")\n    if scale <= 0:',
        new='    scale = float(scale)\n    if scale <= 0:',
        function="affine",
        why="a NaN or infinite scale is let through (NaN <= 0 is False) instead of raising ValueError",
    ),
    Bug(
        id="flip_probability_nan_let_through",
        file="augment.py",
        old='    p = _finite(p, "p")\n    if not 0.0 <= p <= 1.0:\n',
        new='    p = float(p)\n    if p < 0.0 or p > 1.0:\n',
        function="horizontal_flip",
        why="p = NaN passes a test written as p < 0 or p > 1 (every comparison with NaN is False)",
    ),
    Bug(
        id="brightness_delta_not_finite",
        file="augment.py",
        old='    return np.clip(x + _finite(delta, "delta"), 0.0, 1.0)\n',
        new='    return np.clip(x + float(delta), 0.0, 1.0)\n',
        function="adjust_brightness",
        why="a NaN or infinite delta is let through instead of raising ValueError",
    ),
    Bug(
        id="contrast_factor_not_finite",
        file="augment.py",
        old='    factor = _finite(factor, "factor")\n',
        new='    factor = float(factor)\n',
        function="adjust_contrast",
        why="a NaN or infinite factor is let through (NaN < 0 is False) instead of raising ValueError",
    ),
    Bug(
        id="train_small_default_no_augment",
        file="augment.py",
        old="def train_lenet_small(X, y, rng, augment=True):",
        new="def train_lenet_small(X, y, rng, augment=False):",
        function="train_lenet_small",
        why="the documented default augment=True is False: a call that leaves it out trains without augmentation",
    ),
    Bug(
        id='affine_default_scale',
        file='augment.py',
        old='def affine(x, angle, scale=1.0, translate=(0.0, 0.0)):',
        new='def affine(x, angle, scale=1.1, translate=(0.0, 0.0)):',
        function='affine',
        why='the documented default scale=1.0 is 1.1: a call without scale zooms in',
    ),
]

# The check that must lose points for each bug (its contract name is ``bug.function``).
CHECK_OF_BUG = {
    "affine_centre_off_by_one_half": "augment.affine",
    "affine_nearest_not_bilinear": "augment.affine",
    "random_affine_scales_drawn_first": "augment.random_affine",
    "random_crop_left_drawn_first": "augment.random_crop",
    "flip_upside_down": "augment.horizontal_flip",
    "flip_probability_inverted": "augment.horizontal_flip",
    "brightness_not_clipped": "augment.adjust_brightness",
    "contrast_batch_mean": "augment.adjust_contrast",
    "affine_default_translate": "augment.affine",
    "affine_translate_not_finite": "augment.affine_arguments",
    "affine_scale_not_finite": "augment.affine_arguments",
    "flip_probability_nan_let_through": "augment.horizontal_flip",
    "brightness_delta_not_finite": "augment.adjust_brightness",
    "contrast_factor_not_finite": "augment.adjust_contrast",
    "affine_default_scale": "augment.affine",
    "train_small_default_no_augment": "augment.gain",
}
