"""Convolution with plain Python loops over every output pixel (slow, straightforward)."""

import numpy as np


def _pair(value, name):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def conv_output_size(size, kernel, stride=1, padding=0):
    if stride <= 0:
        raise ValueError("stride must be positive")
    if padding < 0:
        raise ValueError("padding must be non-negative")
    if kernel <= 0:
        raise ValueError("kernel must be positive")
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ValueError("kernel larger than the padded input")
    return out


def receptive_field(layers):
    field = 1
    jump = 1
    for kernel, stride in layers:
        field = field + (kernel - 1) * jump
        jump = jump * stride
    return field


def conv2d_forward(x, w, b, stride=1, padding=0):
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    N, C, H, W = x.shape
    F, C2, KH, KW = w.shape
    if C2 != C:
        raise ValueError("channel mismatch")
    if b is not None and b.shape != (F,):
        raise ValueError("bias shape mismatch")
    Ho = conv_output_size(H, KH, sh, ph)
    Wo = conv_output_size(W, KW, sw, pw)

    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
    xp[:, :, ph:ph + H, pw:pw + W] = x

    out = np.zeros((N, F, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
                    total = np.sum(window * w[f])
                    if b is not None:
                        total = total + b[f]
                    out[n, f, i, j] = total
    cache = {"xp": xp, "w": w, "has_b": b is not None, "stride": (sh, sw),
             "padding": (ph, pw), "x_shape": x.shape}
    return out, cache


def conv2d_backward(dout, cache):
    xp = cache["xp"]
    w = cache["w"]
    sh, sw = cache["stride"]
    ph, pw = cache["padding"]
    N, C, H, W = cache["x_shape"]
    F, _, KH, KW = w.shape
    _, _, Ho, Wo = dout.shape

    dxp = np.zeros(xp.shape, dtype=xp.dtype)
    dw = np.zeros(w.shape, dtype=w.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    g = dout[n, f, i, j]
                    dxp[n, :, i * sh:i * sh + KH, j * sw:j * sw + KW] += g * w[f]
                    dw[f] += g * xp[n, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
    dx = dxp[:, :, ph:ph + H, pw:pw + W].copy()
    if cache["has_b"]:
        db = np.zeros(F, dtype=dout.dtype)
        for f in range(F):
            db[f] = np.sum(dout[:, f])
    else:
        db = None
    return dx, dw, db
