"""Hidden torch references of ``augment.py`` (float64).

``affine`` is torch's own ``F.affine_grid`` + ``F.grid_sample`` with the matrix ``theta``
that the contract's pixel formula corresponds to in torch's normalised coordinates
(``align_corners=False``: the centre of column ``j`` is at ``(2 j + 1) / W - 1``). The
random functions replay the contract's draws with ``numpy.random.default_rng(seed)`` and
do the arithmetic in torch.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from grader.references._autograd import tensor


def affine_theta(angle, scale, tx, ty, h: int, w: int) -> torch.Tensor:
    """``theta`` (N, 2, 3) for per-image arrays (N,) of angles (degrees), scales and shifts
    (pixels). In pixels, source = c + R(angle) (target - c - t) / scale with R the rotation
    [[cos, -sin], [sin, cos]] in (column, row) order; dividing by the half-size turns pixels
    into normalised units, hence the H/W ratios off the diagonal."""
    theta = torch.tensor(np.deg2rad(np.asarray(angle, dtype=np.float64)))
    cos, sin = torch.cos(theta), torch.sin(theta)
    s = torch.tensor(np.asarray(scale, dtype=np.float64))
    tx = torch.tensor(np.asarray(tx, dtype=np.float64))
    ty = torch.tensor(np.asarray(ty, dtype=np.float64))
    row0 = torch.stack([cos, -sin * h / w, -(2.0 / w) * (cos * tx - sin * ty)], dim=-1)
    row1 = torch.stack([sin * w / h, cos, -(2.0 / h) * (sin * tx + cos * ty)], dim=-1)
    return torch.stack([row0, row1], dim=-2) / s[..., None, None]


def affine(x: np.ndarray, angle, scale, tx, ty) -> np.ndarray:
    """One transform for every image (numbers) or one per image (arrays of shape (N,))."""
    n, _, h, w = x.shape
    per_image = [np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)) for v in (angle, scale, tx, ty)]
    theta = affine_theta(*per_image, h, w)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(tensor(x), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.numpy().copy()


def random_affine_draws(seed: int, n: int, degrees: float, scale_range, max_translate: float):
    """The contract's four draws, in its order: angles, scales, tx, ty."""
    rng = np.random.default_rng(seed)
    angles = rng.uniform(-degrees, degrees, size=n)
    scales = rng.uniform(scale_range[0], scale_range[1], size=n)
    tx = rng.uniform(-max_translate, max_translate, size=n)
    ty = rng.uniform(-max_translate, max_translate, size=n)
    return rng, (angles, scales, tx, ty)


def random_affine(x: np.ndarray, degrees, scale_range, max_translate, seed: int):
    """Returns ``(out, rng after the draws)``."""
    rng, draws = random_affine_draws(seed, x.shape[0], degrees, scale_range, max_translate)
    return affine(x, *draws), rng


def random_crop(x: np.ndarray, size: tuple, padding: int, seed: int):
    """Returns ``(out, top, left, rng after the draws)``: F.pad, then each image's window."""
    n, _, h, w = x.shape
    sh, sw = size
    rng = np.random.default_rng(seed)
    top = rng.integers(0, h + 2 * padding - sh + 1, size=n)
    left = rng.integers(0, w + 2 * padding - sw + 1, size=n)
    padded = F.pad(tensor(x), (padding, padding, padding, padding))
    out = torch.stack([padded[i, :, t:t + sh, l:l + sw] for i, (t, l) in enumerate(zip(top, left))])
    return out.numpy().copy(), top, left, rng


def horizontal_flip(x: np.ndarray, p: float, seed: int):
    """Returns ``(out, flip, rng after the draw)``."""
    rng = np.random.default_rng(seed)
    flip = rng.random(x.shape[0]) < p
    t = tensor(x)
    out = torch.where(torch.as_tensor(flip)[:, None, None, None], torch.flip(t, dims=[3]), t)
    return out.numpy().copy(), flip, rng


def adjust_brightness(x: np.ndarray, delta: float) -> np.ndarray:
    return torch.clamp(tensor(x) + delta, 0.0, 1.0).numpy().copy()


def adjust_contrast(x: np.ndarray, factor: float) -> np.ndarray:
    t = tensor(x)
    m = t.mean(dim=(1, 2, 3), keepdim=True)
    return torch.clamp(m + factor * (t - m), 0.0, 1.0).numpy().copy()


def next_draw(rng: np.random.Generator) -> float:
    """What the worker reports of a generator: the next number it would draw."""
    return float(rng.random())


__all__ = ["affine", "affine_theta", "random_affine", "random_affine_draws", "random_crop", "horizontal_flip",
           "adjust_brightness", "adjust_contrast", "next_draw"]
