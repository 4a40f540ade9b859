"""Basic layers, written with explicit loops where it is natural."""

import math

import numpy as np


def linear_forward(x, w, b):
    N, D_in = x.shape
    D_out, D_in2 = w.shape
    if D_in2 != D_in:
        raise ValueError("shape mismatch")
    out = np.zeros((N, D_out), dtype=x.dtype)
    for n in range(N):
        for o in range(D_out):
            total = np.dot(x[n], w[o])
            if b is not None:
                total = total + b[o]
            out[n, o] = total
    return out, (x, w, b is not None)


def linear_backward(dout, cache):
    x, w, has_b = cache
    N, D_in = x.shape
    D_out = w.shape[0]
    dx = np.zeros(x.shape, dtype=dout.dtype)
    dw = np.zeros(w.shape, dtype=dout.dtype)
    for n in range(N):
        for o in range(D_out):
            dx[n] += dout[n, o] * w[o]
            dw[o] += dout[n, o] * x[n]
    db = None
    if has_b:
        db = np.zeros(D_out, dtype=dout.dtype)
        for n in range(N):
            db += dout[n]
    return dx, dw, db


def relu_forward(x):
    positive = x > 0
    out = np.where(positive, x, np.zeros((), dtype=x.dtype)).astype(x.dtype, copy=False)
    return out, positive


def relu_backward(dout, cache):
    positive = cache
    return np.where(positive, dout, np.zeros((), dtype=dout.dtype)).astype(dout.dtype, copy=False)


def sigmoid_forward(x):
    out = np.empty(x.shape, dtype=x.dtype)
    flat_x = x.reshape(-1)
    flat_out = out.reshape(-1)
    for i in range(flat_x.size):
        v = float(flat_x[i])
        if v >= 0:
            flat_out[i] = 1.0 / (1.0 + math.exp(-v))
        else:
            e = math.exp(v)
            flat_out[i] = e / (1.0 + e)
    return out, out


def sigmoid_backward(dout, cache):
    s = cache
    return dout * s * (1.0 - s)


def dropout_forward(x, p, training, rng):
    if not 0.0 <= p <= 1.0:
        raise ValueError("p must be in [0, 1]")
    if not training:
        return x.copy(), (False, None, p)
    keep = rng.random(x.shape) >= p
    if p == 1.0:
        out = np.zeros(x.shape, dtype=x.dtype)
    else:
        out = x * keep / (1 - p)
    return out, (True, keep, p)


def dropout_backward(dout, cache):
    training, keep, p = cache
    if not training:
        return dout.copy()
    if p == 1.0:
        return np.zeros(dout.shape, dtype=dout.dtype)
    return dout * keep / (1 - p)


def softmax_cross_entropy(logits, y):
    N, K = logits.shape
    y = np.asarray(y)
    if y.shape != (N,):
        raise ValueError("labels must have shape (N,)")
    loss = 0.0
    dlogits = np.zeros(logits.shape, dtype=logits.dtype)
    for n in range(N):
        label = int(y[n])
        if not 0 <= label < K:
            raise ValueError("label out of range")
        row = logits[n]
        shifted = row - np.max(row)
        exps = np.exp(shifted)
        total = np.sum(exps)
        loss += math.log(total) - shifted[label]
        probs = exps / total
        dlogits[n] = probs
        dlogits[n, label] -= 1.0
    loss = float(loss / N)
    dlogits /= N
    return loss, dlogits
