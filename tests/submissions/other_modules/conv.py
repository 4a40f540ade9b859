"""Convolution through sliding_window_view and einsum; CS231n-style tuple caches."""

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


def conv_output_size(size, kernel, stride=1, padding=0):
    if not (stride >= 1 and padding >= 0 and kernel >= 1):
        raise ValueError("bad convolution arguments")
    span = size + 2 * padding - kernel
    if span < 0:
        raise ValueError("kernel larger than the padded input")
    return span // stride + 1


def receptive_field(layers):
    # Walk backwards from one output unit: r_in = (r_out - 1) * stride + kernel.
    field = 1
    for kernel, stride in reversed(list(layers)):
        field = (field - 1) * stride + kernel
    return field


def conv2d_forward(x, w, b, stride=1, padding=0):
    conv_param = {"stride": _pair(stride), "pad": _pair(padding)}
    (sh, sw), (ph, pw) = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, Cw, KH, KW = w.shape
    if Cw != C:
        raise ValueError("channel mismatch")
    Ho = conv_output_size(H, KH, sh, ph)
    Wo = conv_output_size(W, KW, sw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    windows = sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :Ho, :Wo]
    out = np.einsum("nchwij,fcij->nfhw", windows, w, optimize=True)
    if b is not None:
        out = out + b[None, :, None, None]
    out = np.asfortranarray(out)
    cache = (x, w, b, conv_param)
    return out, cache


def conv2d_backward(dout, cache):
    x, w, b, conv_param = cache
    (sh, sw), (ph, pw) = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    _, _, Ho, Wo = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    windows = sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :Ho, :Wo]
    dw = np.einsum("nchwij,nfhw->fcij", windows, dout, optimize=True)
    dxp = np.zeros_like(xp)
    for i in range(KH):
        for j in range(KW):
            dxp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw] += np.einsum(
                "nfhw,fc->nchw", dout, w[:, :, i, j], optimize=True)
    dx = dxp[:, :, ph:ph + H, pw:pw + W]
    db = None if b is None else np.einsum("nfhw->f", dout)
    return dx, dw, db
