"""Batch normalisation, one feature at a time."""

import numpy as np


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                      momentum=0.1, eps=1e-5):
    N, D = x.shape
    if training and N <= 1:
        raise ValueError("Expected more than 1 value per channel when training")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("evaluation mode needs the running statistics")
    out = np.zeros(x.shape, dtype=x.dtype)
    xhat = np.zeros(x.shape, dtype=x.dtype)
    inv_std = np.zeros(D, dtype=x.dtype)
    for d in range(D):
        column = x[:, d]
        if training:
            mean = np.sum(column) / N
            centred = column - mean
            var = np.sum(centred * centred) / N
            if running_mean is not None:
                running_mean[d] = (1 - momentum) * running_mean[d] + momentum * mean
            if running_var is not None:
                running_var[d] = (1 - momentum) * running_var[d] + momentum * var * N / (N - 1)
        else:
            mean = running_mean[d]
            var = running_var[d]
            centred = column - mean
        inv_std[d] = 1.0 / np.sqrt(var + eps)
        xhat[:, d] = centred * inv_std[d]
        g = 1.0 if gamma is None else gamma[d]
        bb = 0.0 if beta is None else beta[d]
        out[:, d] = g * xhat[:, d] + bb
    cache = {"xhat": xhat, "inv_std": inv_std, "gamma": gamma, "has_beta": beta is not None,
             "training": training}
    return out, cache


def batchnorm_backward(dout, cache):
    xhat = cache["xhat"]
    inv_std = cache["inv_std"]
    gamma = cache["gamma"]
    N, D = dout.shape
    dx = np.zeros(dout.shape, dtype=dout.dtype)
    dgamma = np.zeros(D, dtype=dout.dtype)
    dbeta = np.zeros(D, dtype=dout.dtype)
    for d in range(D):
        g = 1.0 if gamma is None else gamma[d]
        dbeta[d] = np.sum(dout[:, d])
        dgamma[d] = np.sum(dout[:, d] * xhat[:, d])
        dxhat = dout[:, d] * g
        if cache["training"]:
            dx[:, d] = inv_std[d] / N * (N * dxhat - np.sum(dxhat) - xhat[:, d] * np.sum(dxhat * xhat[:, d]))
        else:
            dx[:, d] = dxhat * inv_std[d]
    if gamma is None:
        dgamma = None
    if not cache["has_beta"]:
        dbeta = None
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True,
                              momentum=0.1, eps=1e-5):
    N, C, H, W = x.shape
    flat = x.transpose(0, 2, 3, 1).reshape(N * H * W, C)
    out, cache = batchnorm_forward(flat, gamma, beta, running_mean, running_var,
                                   training, momentum, eps)
    out = out.reshape(N, H, W, C).transpose(0, 3, 1, 2).copy()
    return out, (cache, x.shape)


def spatial_batchnorm_backward(dout, cache):
    inner, (N, C, H, W) = cache
    flat = dout.transpose(0, 2, 3, 1).reshape(N * H * W, C)
    dx, dgamma, dbeta = batchnorm_backward(flat, inner)
    dx = dx.reshape(N, H, W, C).transpose(0, 3, 1, 2).copy()
    return dx, dgamma, dbeta
