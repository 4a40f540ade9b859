"""Data augmentation: new training images that look like the old ones, written with NumPy only.

AlexNet was trained on random crops and mirror images of its photographs, with their
colours shifted: each epoch saw slightly different images, so the network could not
learn the training set by heart as easily. This part writes such transformations for a
batch of images ``x`` of shape (N, C, H, W), float64, values in [0, 1]:

* ``affine``: rotation, scaling and translation about the image centre, with bilinear
  interpolation (exactly torch's ``F.affine_grid`` + ``F.grid_sample``);
* ``random_crop``: zero padding, then a random window per image;
* ``horizontal_flip``: each image mirrored left-right with probability ``p``;
* ``adjust_brightness`` and ``adjust_contrast``: the grey levels shifted or stretched;
* ``random_affine``: one random rotation, scaling and translation per image;
* ``augment_batch``: your choice of the above, for handwritten digits;
* ``train_lenet_small``: LeNet-5 trained on a few hundred digits, with or without
  ``augment_batch``: the grader measures how much your augmentation helps on digits
  the network has never seen.

Every function returns a NEW float64 array and leaves its input unchanged; bad arguments
raise ``ValueError``. The random functions draw from the ``numpy.random.Generator``
``rng`` they are given, and only with the calls, in the order and with the shapes their
docstrings give: the grader replays the same draws with the same seed and expects the
same images.
"""

import math

import numpy as np

from layers import softmax_cross_entropy
from networks import LeNet5
from train import sgd_step

### BEGIN SOLUTION
def _images(x):
    """``x`` as a float64 array of shape (N, C, H, W), or ValueError."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"x must hold real numbers, got dtype {x.dtype}")
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got shape {x.shape}")
    return x.astype(np.float64, copy=False)


def _finite(value, name):
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def _probability(p):
    p = _finite(p, "p")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    return p


def _transform(x, angle, scale, tx, ty):
    """The shared body of affine and random_affine: ``angle``, ``scale``, ``tx``, ``ty``
    are arrays of shape (N, 1, 1) (one transform per image) or scalars."""
    n, _, h, w = x.shape
    theta = np.deg2rad(angle)
    cos, sin = np.cos(theta), np.sin(theta)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    rows, cols = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    u = cols - cx - tx
    v = rows - cy - ty
    xs = cx + (cos * u - sin * v) / scale
    ys = cy + (sin * u + cos * v) / scale
    return _bilinear(x, np.broadcast_to(xs, (n, h, w)), np.broadcast_to(ys, (n, h, w)))


def _bilinear(x, xs, ys):
    """Samples each image of ``x`` at the positions ``(ys, xs)`` (N, H_out, W_out), zeros outside."""
    n, _, h, w = x.shape
    x0, y0 = np.floor(xs), np.floor(ys)
    fx, fy = xs - x0, ys - y0
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    batch = np.arange(n)[:, None, None]
    out = np.zeros((n, x.shape[1]) + xs.shape[1:])
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            r, c = y0 + dy, x0 + dx
            inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
            picked = x[batch, :, np.clip(r, 0, h - 1), np.clip(c, 0, w - 1)]   # (N, H_out, W_out, C)
            out += np.moveaxis(picked * (wy * wx * inside)[..., None], -1, 1)
    return out
### END SOLUTION


def affine(x, angle, scale=1.0, translate=(0.0, 0.0)):
    """Rotates, scales and translates every image of ``x`` about its centre.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    angle : float
        Rotation in degrees, counter-clockwise as the image is displayed (row 0 at
        the top).
    scale : float > 0
        Zoom factor: 2 makes the content twice as large.
    translate : pair of floats (tx, ty)
        Shift in pixels: ``tx`` to the right, ``ty`` downwards.

    Returns
    -------
    out : ndarray, float64, shape (N, C, H, W)
        Every output pixel reads the input at a source position. With
        ``cx = (W - 1) / 2``, ``cy = (H - 1) / 2`` (the centre, between pixels when
        the size is even), ``t`` the angle in radians, and for the output pixel at row
        ``i``, column ``j``::

            xc = j - cx - tx
            yc = i - cy - ty
            source column  xs = cx + (cos(t) * xc - sin(t) * yc) / scale
            source row     ys = cy + (sin(t) * xc + cos(t) * yc) / scale

        ``out[n, c, i, j]`` is the bilinear interpolation of ``x[n, c]`` at
        ``(ys, xs)``: with ``i0 = floor(ys)``, ``j0 = floor(xs)``, ``a = ys - i0``,
        ``b = xs - j0``, the sum of ``(1-a)(1-b) x[i0, j0]``, ``(1-a) b x[i0, j0+1]``,
        ``a (1-b) x[i0+1, j0]`` and ``a b x[i0+1, j0+1]``, where a neighbour outside the
        image counts as 0. Every channel is moved alike.

        This is what torch computes with ``F.affine_grid(theta, x.shape,
        align_corners=False)`` and ``F.grid_sample(x, grid, mode="bilinear",
        padding_mode="zeros", align_corners=False)`` for the matching ``theta``.

    Raises
    ------
    ValueError
        If ``x`` is not 4-D, ``scale <= 0``, ``translate`` is not a pair, or a
        number is not finite.

    Hints: build the source positions for all pixels at once (``np.meshgrid`` with
    ``indexing="ij"``), then gather the four neighbours with integer index arrays,
    clipped into the image, and multiply each by its weight times "inside the image".
    ``W / 2`` as the centre is off by half a pixel; rounding ``(ys, xs)`` to the
    nearest pixel is nearest-neighbour interpolation, not bilinear.
    """
    ### BEGIN SOLUTION
    x = _images(x)
    angle = _finite(angle, "angle")
    scale = _finite(scale, "scale")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if np.shape(translate) != (2,):
        raise ValueError(f"translate must be a pair (tx, ty), got {translate!r}")
    tx, ty = (_finite(t, "translate") for t in translate)
    return _transform(x, angle, scale, tx, ty)
    ### END SOLUTION


def random_crop(x, size, padding, rng):
    """Pads every image with zeros, then cuts a random window out of each.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    size : int or pair (h, w)
        The output's height and width (an int means a square).
    padding : int >= 0
        Zeros added on each of the four sides: the padded images are
        (H + 2 * padding) x (W + 2 * padding).
    rng : numpy.random.Generator

    Returns
    -------
    out : ndarray, float64, shape (N, C, h, w)
        With ``Hp = H + 2 * padding`` and ``Wp = W + 2 * padding``, draw exactly::

            top = rng.integers(0, Hp - h + 1, size=N)    # first
            left = rng.integers(0, Wp - w + 1, size=N)   # second

        and nothing else; then ``out[n] = padded[n, :, top[n]:top[n] + h,
        left[n]:left[n] + w]``. With ``size = (H, W)`` and ``top[n] = left[n] =
        padding`` the crop is the original image.

    Raises
    ------
    ValueError
        If ``padding < 0``, or ``h`` or ``w`` is below 1 or larger than the padded
        image.

    Hint: ``np.pad`` pads; one window per image can be cut in one indexing
    expression from ``np.lib.stride_tricks.sliding_window_view``, or in a loop.
    """
    ### BEGIN SOLUTION
    x = _images(x)
    n, _, h, w = x.shape
    sh, sw = (size, size) if np.ndim(size) == 0 else tuple(size)
    if int(padding) != padding or padding < 0:
        raise ValueError(f"padding must be an integer >= 0, got {padding!r}")
    padding = int(padding)
    hp, wp = h + 2 * padding, w + 2 * padding
    if not (1 <= sh <= hp and 1 <= sw <= wp):
        raise ValueError(f"crop size {(sh, sw)} does not fit in the padded images ({hp}, {wp})")
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    top = rng.integers(0, hp - sh + 1, size=n)
    left = rng.integers(0, wp - sw + 1, size=n)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (sh, sw), axis=(2, 3))
    return windows[np.arange(n), :, top, left]   # (N, C, h, w), a copy
    ### END SOLUTION


def horizontal_flip(x, p, rng):
    """Mirrors each image left-right with probability ``p``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    p : float in [0, 1]
    rng : numpy.random.Generator

    Returns
    -------
    out : ndarray, float64, shape (N, C, H, W)
        Draw exactly once ``flip = rng.random(N) < p``; image ``n`` is mirrored
        (its columns in reverse order, ``x[n, :, :, ::-1]``) where ``flip[n]``, and
        copied unchanged elsewhere.

    Raises
    ------
    ValueError
        If ``p`` is not in [0, 1].

    Hint: left-right is the LAST axis (the columns); ``::-1`` on the rows turns the
    image upside down instead.
    """
    ### BEGIN SOLUTION
    x = _images(x)
    p = _probability(p)
    flip = rng.random(x.shape[0]) < p
    return np.where(flip[:, None, None, None], x[..., ::-1], x)
    ### END SOLUTION


def adjust_brightness(x, delta):
    """Adds ``delta`` to every value, clipped to [0, 1].

    Returns
    -------
    out : ndarray, float64, x's shape
        ``clip(x + delta, 0, 1)``: a brighter image stays an image.

    Raises
    ------
    ValueError
        If ``delta`` is not a finite number.
    """
    ### BEGIN SOLUTION
    x = _images(x)
    return np.clip(x + _finite(delta, "delta"), 0.0, 1.0)
    ### END SOLUTION


def adjust_contrast(x, factor):
    """Stretches (``factor > 1``) or flattens (``factor < 1``) each image's grey levels.

    Returns
    -------
    out : ndarray, float64, x's shape
        With ``m[n] = x[n].mean()`` (the mean of image ``n`` over its channels, rows
        and columns), ``out[n] = clip(m[n] + factor * (x[n] - m[n]), 0, 1)``.
        ``factor = 1`` gives the image back, ``factor = 0`` a uniform grey at its mean.

    Raises
    ------
    ValueError
        If ``factor`` is negative or not finite.
    """
    ### BEGIN SOLUTION
    x = _images(x)
    factor = _finite(factor, "factor")
    if factor < 0:
        raise ValueError(f"factor must be >= 0, got {factor}")
    m = x.mean(axis=(1, 2, 3), keepdims=True)
    return np.clip(m + factor * (x - m), 0.0, 1.0)
    ### END SOLUTION


def random_affine(x, degrees, scale_range, max_translate, rng):
    """One random rotation, scaling and translation per image, applied as ``affine``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    degrees : float >= 0
        Angles are drawn in [-degrees, degrees].
    scale_range : pair (low, high), 0 < low <= high
    max_translate : float >= 0
        ``tx`` and ``ty`` are drawn in [-max_translate, max_translate] pixels.
    rng : numpy.random.Generator

    Returns
    -------
    out : ndarray, float64, shape (N, C, H, W)
        Draw exactly these four arrays, in this order, and nothing else (even when a
        range is empty, such as ``degrees = 0``)::

            angles = rng.uniform(-degrees, degrees, size=N)
            scales = rng.uniform(low, high, size=N)
            tx = rng.uniform(-max_translate, max_translate, size=N)
            ty = rng.uniform(-max_translate, max_translate, size=N)

        then ``out[n] = affine(x[n:n+1], angles[n], scales[n], (tx[n], ty[n]))[0]``.

    Raises
    ------
    ValueError
        If ``degrees < 0``, ``max_translate < 0``, or not ``0 < low <= high``.

    Hint: a loop over the images calling ``affine`` is fine; ``affine``'s formulas
    also work with arrays of shape (N, 1, 1) in place of the numbers.
    """
    ### BEGIN SOLUTION
    x = _images(x)
    degrees = _finite(degrees, "degrees")
    max_translate = _finite(max_translate, "max_translate")
    if np.shape(scale_range) != (2,):
        raise ValueError(f"scale_range must be a pair (low, high), got {scale_range!r}")
    low, high = (_finite(s, "scale_range") for s in scale_range)
    if degrees < 0 or max_translate < 0 or not 0 < low <= high:
        raise ValueError(f"need degrees >= 0, max_translate >= 0 and 0 < low <= high; got {degrees}, "
                         f"{max_translate}, ({low}, {high})")
    n = x.shape[0]
    angles = rng.uniform(-degrees, degrees, size=n)
    scales = rng.uniform(low, high, size=n)
    tx = rng.uniform(-max_translate, max_translate, size=n)
    ty = rng.uniform(-max_translate, max_translate, size=n)
    per_image = [a.reshape(n, 1, 1) for a in (angles, scales, tx, ty)]
    return _transform(x, *per_image)
    ### END SOLUTION


def augment_batch(x, rng):
    """Your augmentation of a mini-batch of handwritten digits (N, 1, 32, 32).

    Returns
    -------
    out : ndarray, float64, x's shape, values in [0, 1]
        A new, randomly transformed version of each digit that is still the same
        digit. Draw only from ``rng`` (the same seed must give the same batch), and
        make it differ from ``x``.

    Choose the transformations and their ranges yourself, from the functions above.
    The grader trains ``train_lenet_small`` with and without this function and
    measures how much it raises the accuracy on held-out digits. Digits are centred
    in a 2-pixel zero border; small rotations (10 to 15 degrees), scalings (about
    10%) and shifts (1 to 2 pixels) make new, plausible digits. Think before adding
    a horizontal flip.
    """
    ### BEGIN SOLUTION
    return random_affine(x, _DEGREES, _SCALES, _SHIFT, rng)
    ### END SOLUTION


### BEGIN SOLUTION
# The reference's recipe. Measured by benchmarks/bench_augment.py: 500 digits, 30 epochs.
_DEGREES, _SCALES, _SHIFT = 12.0, (0.9, 1.1), 2.0
_EPOCHS = 30
_BATCH_SIZE = 32
_LR = 0.05
_MOMENTUM = 0.9
_WEIGHT_DECAY = 5e-4


def _init_like_torch(model, rng):
    """Every parameter redrawn from ``rng`` as torch initialises Conv2d and Linear."""
    params = model.parameters
    for name, p in params.items():
        weight = params[name.rsplit(".", 1)[0] + ".weight"] if name.endswith("bias") else p
        bound = 1.0 / np.sqrt(np.prod(weight.shape[1:]))
        p[...] = rng.uniform(-bound, bound, size=p.shape)
### END SOLUTION


def train_lenet_small(X, y, rng, augment=True):
    """Trains a ``LeNet5(activation="relu")`` on a SMALL training set, with or without
    ``augment_batch``.

    Parameters
    ----------
    X : ndarray, float64, shape (N, 1, 32, 32), values in [0, 1]
        A few hundred digits (the grader passes 500).
    y : ndarray, int, shape (N,)
    rng : numpy.random.Generator
        The only source of randomness (initial weights, shuffling, augmentation).
    augment : bool
        When True, every mini-batch goes through ``augment_batch`` before the
        forward pass; when False, the digits are used as they are. Nothing else may
        differ between the two.

    Returns
    -------
    LeNet5
        The trained model, in evaluation mode. ``model.history`` may hold
        ``{"loss": [...], "accuracy": [...]}``, one value per epoch.

    The grader calls this twice with the same seed, with ``augment=False`` and
    with ``augment`` left at its default (True), measures both models on 1,000
    held-out digits and scores the gain. Without augmentation the network learns
    the small set by heart (training accuracy near 100%) and reads new digits
    clearly worse; the grader requires that (at least 90% on the training digits)
    before it counts a gain.

    Train for a FIXED number of epochs (30 epochs of 500 digits take 10 to 15 s
    with NumPy on one thread, as the grader runs it; with NumPy's default of one
    thread per core they can take several times longer on a small machine: set
    ``OMP_NUM_THREADS=1`` before NumPy is imported), as ``train_lenet`` does:
    initial weights drawn from ``rng`` as torch
    draws them, mini-batches of 32, SGD with momentum 0.9, a learning rate of about
    0.05 decaying to 0 along a cosine, weight decay 5e-4. Hint: draw the weights and
    the shuffling from ``rng`` and the augmentation from a second generator made from
    it (``np.random.default_rng(rng.integers(2**63))``, drawn before training): then
    both runs see the same initial weights and the same order of mini-batches, and
    only the augmentation differs.
    """
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    model = LeNet5(num_classes=10, activation="relu")
    _init_like_torch(model, rng)
    augment_rng = np.random.default_rng(rng.integers(2**63))
    model.train()
    velocities = {}
    n = X.shape[0]
    total = _EPOCHS * -(-n // _BATCH_SIZE)
    step = 0
    model.history = {"loss": [], "accuracy": []}
    for _ in range(_EPOCHS):
        order = rng.permutation(n)
        loss_sum = correct = 0.0
        for start in range(0, n, _BATCH_SIZE):
            idx = order[start:start + _BATCH_SIZE]
            xb = augment_batch(X[idx], augment_rng) if augment else X[idx]
            logits = model.forward(xb)
            loss, dlogits = softmax_cross_entropy(logits, y[idx])
            model.backward(dlogits)
            lr = _LR * 0.5 * (1.0 + math.cos(math.pi * step / total))
            sgd_step(model.parameters, model.gradients, velocities, lr, _MOMENTUM, _WEIGHT_DECAY)
            step += 1
            loss_sum += loss * len(idx)
            correct += float((logits.argmax(axis=1) == y[idx]).sum())
        model.history["loss"].append(loss_sum / n)
        model.history["accuracy"].append(correct / n)
    model.eval()
    return model
    ### END SOLUTION
