"""Basic layers written with einsum and friends; tuple caches."""

import numpy as np


def linear_forward(x, w, b):
    if x.shape[1] != w.shape[1]:
        raise ValueError("shape mismatch")
    out = np.einsum("ni,oi->no", x, w)
    if b is not None:
        out += b
    return np.asfortranarray(out), (x, w, b)


def linear_backward(dout, cache):
    x, w, b = cache
    dx = np.einsum("no,oi->ni", dout, w)
    dw = np.einsum("no,ni->oi", dout, x)
    db = None if b is None else np.einsum("no->o", dout)
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(x, 0)
    out.setflags(write=False)
    return out, (x,)


def relu_backward(dout, cache):
    (x,) = cache
    return dout * np.heaviside(x, 0.0)


def sigmoid_forward(x):
    # 1 / (1 + exp(-x)) written as exp(-log(1 + exp(-x))), which never overflows.
    out = np.exp(-np.logaddexp(0.0, -x))
    out.setflags(write=False)
    return out, (x,)


def sigmoid_backward(dout, cache):
    (x,) = cache
    # s * (1 - s) = exp(-log(1 + e^-x) - log(1 + e^x))
    return dout * np.exp(-np.logaddexp(0.0, -x) - np.logaddexp(0.0, x))


def dropout_forward(x, p, training, rng):
    if not (0 <= p <= 1):
        raise ValueError("dropout probability must lie in [0, 1]")
    if not training:
        return x, (None,)
    keep = rng.random(x.shape) >= p
    if p == 1:
        mask = np.zeros(x.shape, dtype=x.dtype)
    else:
        mask = keep / (1 - p)
    return x * mask, (mask,)


def dropout_backward(dout, cache):
    (mask,) = cache
    if mask is None:
        return dout
    return dout * mask


def _logsumexp(a):
    m = np.max(a, axis=1, keepdims=True)
    return m + np.log(np.sum(np.exp(a - m), axis=1, keepdims=True))


def softmax_cross_entropy(logits, y):
    N = logits.shape[0]
    y = np.asarray(y)
    log_probs = logits - _logsumexp(logits)
    rows = np.arange(N)
    loss = -np.mean(log_probs[rows, y])
    dlogits = np.exp(log_probs)
    dlogits[rows, y] -= 1
    dlogits /= N
    return float(loss), dlogits
