"""A correct augment.py written another way than the reference: the affine map as an inverted
3x3 homogeneous matrix, bilinear sampling from a zero-bordered copy, loops over the images,
its own composition for digits and its own training recipe (batches of 50, a step schedule,
one generator for everything)."""

import numpy as np

from layers import softmax_cross_entropy
from networks import LeNet5
from train import sgd_step


def _check(x):
    x = np.array(x, dtype=np.float64)   # a copy: nothing below can touch the caller's array
    if x.ndim != 4:
        raise ValueError("x must be (N, C, H, W)")
    return x


def _number(value):
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return value


def _matrix(angle, scale, tx, ty, h, w):
    """Forward map of (column, row, 1): move the centre to the origin, scale, rotate
    counter-clockwise on screen (clockwise in row-down coordinates is -angle), move back, shift."""
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    t = np.radians(angle)
    to_origin = np.array([[1.0, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    zoom = np.diag([scale, scale, 1.0])
    turn = np.array([[np.cos(t), np.sin(t), 0], [-np.sin(t), np.cos(t), 0], [0, 0, 1]])
    back = np.array([[1.0, 0, cx + tx], [0, 1, cy + ty], [0, 0, 1]])
    return back @ turn @ zoom @ to_origin


def _warp(image, angle, scale, tx, ty):
    c, h, w = image.shape
    inverse = np.linalg.inv(_matrix(angle, scale, tx, ty, h, w))
    rows, cols = np.indices((h, w), dtype=np.float64)
    points = np.stack([cols.ravel(), rows.ravel(), np.ones(h * w)])
    xs, ys, _ = inverse @ points
    xs = np.clip(xs, -1.0, w)            # beyond one pixel outside, every neighbour is zero anyway
    ys = np.clip(ys, -1.0, h)
    framed = np.zeros((c, h + 4, w + 4))
    framed[:, 2:h + 2, 2:w + 2] = image
    q, r = np.floor(xs).astype(int), np.floor(ys).astype(int)
    b, a = xs - q, ys - r
    q, r = q + 2, r + 2
    out = ((1 - a) * (1 - b) * framed[:, r, q] + (1 - a) * b * framed[:, r, q + 1]
           + a * (1 - b) * framed[:, r + 1, q] + a * b * framed[:, r + 1, q + 1])
    return out.reshape(c, h, w)


def affine(x, angle, scale=1.0, translate=(0.0, 0.0)):
    x = _check(x)
    angle, scale = _number(angle), _number(scale)
    if scale <= 0:
        raise ValueError("scale must be positive")
    if len(translate) != 2:
        raise ValueError("translate must be (tx, ty)")
    tx, ty = _number(translate[0]), _number(translate[1])
    return np.stack([_warp(image, angle, scale, tx, ty) for image in x]) if len(x) else x


def random_crop(x, size, padding, rng):
    x = _check(x)
    if isinstance(size, (int, np.integer)):
        size = (size, size)
    h, w = int(size[0]), int(size[1])
    if padding < 0 or padding != int(padding):
        raise ValueError("padding must be a non-negative integer")
    padding = int(padding)
    n, c, H, W = x.shape
    if h < 1 or w < 1 or h > H + 2 * padding or w > W + 2 * padding:
        raise ValueError("the crop does not fit")
    tops = rng.integers(0, H + 2 * padding - h + 1, size=n)
    lefts = rng.integers(0, W + 2 * padding - w + 1, size=n)
    out = np.empty((n, c, h, w))
    for i in range(n):
        big = np.zeros((c, H + 2 * padding, W + 2 * padding))
        big[:, padding:padding + H, padding:padding + W] = x[i]
        out[i] = big[:, tops[i]:tops[i] + h, lefts[i]:lefts[i] + w]
    return out


def horizontal_flip(x, p, rng):
    x = _check(x)
    p = _number(p)
    if p < 0 or p > 1:
        raise ValueError("p must be in [0, 1]")
    u = rng.random(len(x))
    for i in range(len(x)):
        if u[i] < p:
            x[i] = np.flip(x[i], axis=2)
    return x


def adjust_brightness(x, delta):
    return np.minimum(np.maximum(_check(x) + _number(delta), 0.0), 1.0)


def adjust_contrast(x, factor):
    x = _check(x)
    factor = _number(factor)
    if factor < 0:
        raise ValueError("factor must be >= 0")
    for i in range(len(x)):
        mean = x[i].sum() / x[i].size
        x[i] = np.clip(factor * x[i] + (1 - factor) * mean, 0, 1)
    return x


def random_affine(x, degrees, scale_range, max_translate, rng):
    x = _check(x)
    degrees, max_translate = _number(degrees), _number(max_translate)
    low, high = (_number(s) for s in scale_range)
    if degrees < 0 or max_translate < 0 or low <= 0 or high < low:
        raise ValueError("bad ranges")
    n = len(x)
    draws = [rng.uniform(-degrees, degrees, size=n), rng.uniform(low, high, size=n),
             rng.uniform(-max_translate, max_translate, size=n), rng.uniform(-max_translate, max_translate, size=n)]
    for i, (angle, scale, tx, ty) in enumerate(zip(*draws)):
        x[i] = affine(x[i:i + 1], angle, scale, (tx, ty))[0]
    return x


def augment_batch(x, rng):
    shifted = random_crop(x, x.shape[2:], 2, rng)
    return random_affine(shifted, 10.0, (0.9, 1.1), 0.5, rng)


def train_lenet_small(X, y, rng, augment=True):
    X = np.asarray(X, dtype=np.float64)
    model = LeNet5(activation="relu")
    for name, p in model.parameters.items():
        fan_in = np.prod(model.parameters[name.replace("bias", "weight")].shape[1:])
        p[...] = rng.uniform(-1, 1, size=p.shape) / np.sqrt(fan_in)
    model.train()
    velocities = {}
    epochs, batch = 30, 50
    for epoch in range(epochs):
        lr = 0.05 if epoch < 20 else (0.01 if epoch < 26 else 0.002)
        order = rng.permutation(len(X))
        for i in range(0, len(X), batch):
            chosen = order[i:i + batch]
            images = augment_batch(X[chosen], rng) if augment else X[chosen]
            _, dlogits = softmax_cross_entropy(model.forward(images), y[chosen])
            model.backward(dlogits)
            sgd_step(model.parameters, model.gradients, velocities, lr, momentum=0.9, weight_decay=5e-4)
    model.eval()
    return model
