"""Pooling through sliding windows; adaptive pooling through cumulative sums."""

import operator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(value):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError("expected an int or a pair")
        return operator.index(value[0]), operator.index(value[1])
    value = operator.index(value)
    return value, value


def _pool_param(x, kernel_size, stride, padding):
    k = _pair(kernel_size)
    s = k if stride is None else _pair(stride)
    p = _pair(padding)
    if min(k) < 1 or min(s) < 1 or min(p) < 0:
        raise ValueError("bad pooling arguments")
    if p[0] * 2 > k[0] or p[1] * 2 > k[1]:
        raise ValueError("padding should be at most half the kernel size")
    H, W = x.shape[2:]
    if H + 2 * p[0] < k[0] or W + 2 * p[1] < k[1]:
        raise ValueError("kernel larger than the padded input")
    out_hw = ((H + 2 * p[0] - k[0]) // s[0] + 1, (W + 2 * p[1] - k[1]) // s[1] + 1)
    return {"kernel": k, "stride": s, "pad": p, "out": out_hw}


def _windows(xp, param):
    (kh, kw), (sh, sw), (ho, wo) = param["kernel"], param["stride"], param["out"]
    return sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :ho, :wo]


def _scatter(parts, param, x_shape, dtype):
    """parts[..., i, j] is the gradient reaching offset (i, j) of every window."""
    (kh, kw), (sh, sw), (ph, pw), (ho, wo) = (param["kernel"], param["stride"],
                                              param["pad"], param["out"])
    N, C, H, W = x_shape
    dxp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + sh * ho:sh, j:j + sw * wo:sw] += parts[..., i, j]
    return dxp[:, :, ph:ph + H, pw:pw + W]


def max_pool2d_forward(x, kernel_size, stride=None, padding=0):
    param = _pool_param(x, kernel_size, stride, padding)
    ph, pw = param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    win = _windows(xp, param)
    out = np.asfortranarray(win.max(axis=(-2, -1)))
    cache = (x, out, param)
    return out, cache


def max_pool2d_backward(dout, cache):
    x, out, param = cache
    ph, pw = param["pad"]
    kh, kw = param["kernel"]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    win = _windows(xp, param)
    flat = win.reshape(win.shape[:4] + (kh * kw,))
    # On ties the LAST maximal element of the window takes the gradient.
    last = kh * kw - 1 - np.argmax(flat[..., ::-1], axis=-1)
    chosen = last[..., None] == np.arange(kh * kw)
    parts = (chosen * dout[..., None]).reshape(win.shape)
    return _scatter(parts, param, x.shape, dout.dtype)


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0):
    param = _pool_param(x, kernel_size, stride, padding)
    ph, pw = param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = _windows(xp, param).mean(axis=(-2, -1))
    out.setflags(write=False)
    return out, (x.shape, param)


def avg_pool2d_backward(dout, cache):
    x_shape, param = cache
    kh, kw = param["kernel"]
    share = dout / (kh * kw)
    parts = np.broadcast_to(share[..., None, None], share.shape + (kh, kw))
    return _scatter(parts, param, x_shape, dout.dtype)


def _edges(size, count):
    i = np.arange(count)
    start = (i * size) // count
    stop = -((-(i + 1) * size) // count)
    return start, stop


def _adaptive_out(x, output_size):
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError("expected an int or a pair")
        ho, wo = output_size
        ho = x.shape[2] if ho is None else operator.index(ho)
        wo = x.shape[3] if wo is None else operator.index(wo)
    else:
        ho = wo = operator.index(output_size)
    if ho < 1 or wo < 1:
        raise ValueError("output_size must be positive")
    return ho, wo


def adaptive_avg_pool2d_forward(x, output_size):
    ho, wo = _adaptive_out(x, output_size)
    N, C, H, W = x.shape
    r0, r1 = _edges(H, ho)
    c0, c1 = _edges(W, wo)
    # Rows: prefix sums along H, bin sums as differences.
    rows = np.concatenate([np.zeros((N, C, 1, W), dtype=x.dtype), np.cumsum(x, axis=2)], axis=2)
    row_sums = rows[:, :, r1, :] - rows[:, :, r0, :]
    cols = np.concatenate([np.zeros((N, C, ho, 1), dtype=x.dtype), np.cumsum(row_sums, axis=3)], axis=3)
    sums = cols[:, :, :, c1] - cols[:, :, :, c0]
    area = (r1 - r0)[:, None] * (c1 - c0)[None, :]
    out = sums / area
    return out, (x.shape, (r0, r1), (c0, c1), area)


def adaptive_avg_pool2d_backward(dout, cache):
    (N, C, H, W), (r0, r1), (c0, c1), area = cache
    g = dout / area
    ho, wo = g.shape[2:]
    # Columns: each bin adds g on [c0, c1), written as +g at c0, -g at c1, then a cumsum.
    diff = np.zeros((N, C, ho, W + 1), dtype=dout.dtype)
    np.add.at(diff, (slice(None), slice(None), slice(None), c0), g)
    np.subtract.at(diff, (slice(None), slice(None), slice(None), c1), g)
    by_col = np.cumsum(diff, axis=3)[:, :, :, :W]
    diff = np.zeros((N, C, H + 1, W), dtype=dout.dtype)
    np.add.at(diff, (slice(None), slice(None), r0), by_col)
    np.subtract.at(diff, (slice(None), slice(None), r1), by_col)
    return np.cumsum(diff, axis=2)[:, :, :H]
