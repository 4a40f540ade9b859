"""Batch normalisation; the backward pass walks the computational graph step by step
(the CS231n staged derivation), not the compact closed form."""

import numpy as np


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                      momentum=0.1, eps=1e-5):
    N, D = x.shape
    bn_param = {"mode": "train" if training else "test", "eps": eps, "momentum": momentum}
    if training:
        if N < 2:
            raise ValueError("Expected more than 1 value per channel when training")
        # step 1: mean
        mu = np.einsum("nd->d", x) / N
        # step 2: subtract the mean
        xmu = x - mu
        # step 3: square
        sq = xmu ** 2
        # step 4: variance (biased)
        var = np.einsum("nd->d", sq) / N
        # step 5: sqrt
        sqrtvar = np.sqrt(var + eps)
        # step 6: invert
        ivar = 1.0 / sqrtvar
        # step 7: normalise
        xhat = xmu * ivar
        # step 8/9: scale and shift
        out = xhat * gamma + beta
        if running_mean is not None:
            np.copyto(running_mean, (1.0 - momentum) * running_mean + momentum * mu)
        if running_var is not None:
            np.copyto(running_var, (1.0 - momentum) * running_var + momentum * var * (N / (N - 1)))
        cache = (xhat, gamma, xmu, ivar, sqrtvar, var, eps, bn_param)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("evaluation needs running statistics")
        ivar = 1.0 / np.sqrt(running_var + eps)
        xhat = (x - running_mean) * ivar
        out = xhat * gamma + beta
        cache = (xhat, gamma, None, ivar, None, None, eps, bn_param)
    return out, cache


def batchnorm_backward(dout, cache):
    xhat, gamma, xmu, ivar, sqrtvar, var, eps, bn_param = cache
    N, D = dout.shape
    # step 9
    dbeta = np.sum(dout, axis=0)
    dgammax = dout
    # step 8
    dgamma = np.sum(dgammax * xhat, axis=0)
    dxhat = dgammax * gamma
    if bn_param["mode"] == "test":
        return dxhat * ivar, dgamma, dbeta
    # step 7
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    # step 6
    dsqrtvar = -1.0 / (sqrtvar ** 2) * divar
    # step 5
    dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar
    # step 4
    dsq = 1.0 / N * np.ones((N, D), dtype=dout.dtype) * dvar
    # step 3
    dxmu2 = 2 * xmu * dsq
    # step 2
    dx1 = dxmu1 + dxmu2
    dmu = -1 * np.sum(dx1, axis=0)
    # step 1
    dx2 = 1.0 / N * np.ones((N, D), dtype=dout.dtype) * dmu
    dx = dx1 + dx2
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5):
    N, C, H, W = x.shape
    flat = np.moveaxis(x, 1, 3).reshape(-1, C)
    out, cache = batchnorm_forward(flat, gamma, beta, running_mean, running_var,
                                   training, momentum, eps)
    out = np.moveaxis(out.reshape(N, H, W, C), 3, 1)  # a non-contiguous view
    return out, (cache, x.shape)


def spatial_batchnorm_backward(dout, cache):
    inner, (N, C, H, W) = cache
    flat = np.moveaxis(dout, 1, 3).reshape(-1, C)
    dx, dgamma, dbeta = batchnorm_backward(flat, inner)
    return np.asfortranarray(np.moveaxis(dx.reshape(N, H, W, C), 3, 1)), dgamma, dbeta
