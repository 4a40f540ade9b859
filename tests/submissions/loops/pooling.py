"""Pooling with plain Python loops over every output pixel."""

import numpy as np


def _pair(value, name):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _geometry(x, kernel_size, stride, padding):
    kh, kw = _pair(kernel_size, "kernel_size")
    if stride is None:
        sh, sw = kh, kw
    else:
        sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    if kh <= 0 or kw <= 0:
        raise ValueError("kernel_size must be positive")
    if sh <= 0 or sw <= 0:
        raise ValueError("stride must be positive")
    if ph < 0 or pw < 0:
        raise ValueError("padding must be non-negative")
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError("padding must be at most half the kernel")
    N, C, H, W = x.shape
    Ho = (H + 2 * ph - kh) // sh + 1
    Wo = (W + 2 * pw - kw) // sw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError("kernel larger than the padded input")
    return (kh, kw), (sh, sw), (ph, pw), (Ho, Wo)


def max_pool2d_forward(x, kernel_size, stride=None, padding=0):
    (kh, kw), (sh, sw), (ph, pw), (Ho, Wo) = _geometry(x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    xp = np.full((N, C, H + 2 * ph, W + 2 * pw), -np.inf, dtype=x.dtype)
    xp[:, :, ph:ph + H, pw:pw + W] = x
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    where = np.zeros((N, C, Ho, Wo, 2), dtype=np.int64)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    best = None
                    best_pos = None
                    for a in range(kh):
                        for bb in range(kw):
                            v = xp[n, c, i * sh + a, j * sw + bb]
                            if best is None or v > best:
                                best = v
                                best_pos = (i * sh + a, j * sw + bb)
                    out[n, c, i, j] = best
                    where[n, c, i, j] = best_pos
    cache = (x.shape, (ph, pw), where)
    return out, cache


def max_pool2d_backward(dout, cache):
    x_shape, (ph, pw), where = cache
    N, C, H, W = x_shape
    dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dout.dtype)
    _, _, Ho, Wo = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    r, s = where[n, c, i, j]
                    dxp[n, c, r, s] += dout[n, c, i, j]
    return dxp[:, :, ph:ph + H, pw:pw + W].copy()


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0):
    (kh, kw), (sh, sw), (ph, pw), (Ho, Wo) = _geometry(x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
    xp[:, :, ph:ph + H, pw:pw + W] = x
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    total = 0.0
                    for a in range(kh):
                        for bb in range(kw):
                            total += xp[n, c, i * sh + a, j * sw + bb]
                    out[n, c, i, j] = total / (kh * kw)
    cache = (x.shape, (kh, kw), (sh, sw), (ph, pw))
    return out, cache


def avg_pool2d_backward(dout, cache):
    x_shape, (kh, kw), (sh, sw), (ph, pw) = cache
    N, C, H, W = x_shape
    dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dout.dtype)
    _, _, Ho, Wo = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    share = dout[n, c, i, j] / (kh * kw)
                    for a in range(kh):
                        for bb in range(kw):
                            dxp[n, c, i * sh + a, j * sw + bb] += share
    return dxp[:, :, ph:ph + H, pw:pw + W].copy()


def _adaptive_size(x, output_size):
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError("output_size must be an int or a pair")
        ho, wo = output_size
    else:
        ho = wo = output_size
    if ho is None:
        ho = x.shape[2]
    if wo is None:
        wo = x.shape[3]
    ho, wo = int(ho), int(wo)
    if ho <= 0 or wo <= 0:
        raise ValueError("output_size must be positive")
    return ho, wo


def adaptive_avg_pool2d_forward(x, output_size):
    Ho, Wo = _adaptive_size(x, output_size)
    N, C, H, W = x.shape
    if H < 1 or W < 1:
        raise ValueError("empty input")
    rows = [(i * H // Ho, -((-(i + 1) * H) // Ho)) for i in range(Ho)]
    cols = [(j * W // Wo, -((-(j + 1) * W) // Wo)) for j in range(Wo)]
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i, (r0, r1) in enumerate(rows):
                for j, (c0, c1) in enumerate(cols):
                    total = 0.0
                    for r in range(r0, r1):
                        for s in range(c0, c1):
                            total += x[n, c, r, s]
                    out[n, c, i, j] = total / ((r1 - r0) * (c1 - c0))
    cache = (x.shape, rows, cols)
    return out, cache


def adaptive_avg_pool2d_backward(dout, cache):
    x_shape, rows, cols = cache
    N, C, H, W = x_shape
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for n in range(N):
        for c in range(C):
            for i, (r0, r1) in enumerate(rows):
                for j, (c0, c1) in enumerate(cols):
                    share = dout[n, c, i, j] / ((r1 - r0) * (c1 - c0))
                    for r in range(r0, r1):
                        for s in range(c0, c1):
                            dx[n, c, r, s] += share
    return dx
