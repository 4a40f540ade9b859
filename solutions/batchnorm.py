"""Batch normalisation, written with NumPy only.

BatchNorm (Ioffe and Szegedy, 2015) standardises every feature of a layer's
output over the mini-batch, to mean 0 and variance 1, and then lets the network
rescale and shift it with two learned vectors, ``gamma`` (torch's ``weight``)
and ``beta`` (torch's ``bias``). It keeps the inputs of later layers on a steady
scale, which allows larger learning rates and makes training less sensitive to
the initial weights.

A BatchNorm layer behaves differently in its two modes:

* training: it normalises with the statistics of the current batch, and
  updates running averages of them (``running_mean``, ``running_var``);
* evaluation: it normalises with those running averages, so that the output for
  one example does not depend on the rest of the batch.

This part has ``batchnorm_forward`` / ``batchnorm_backward`` for (N, D) inputs
(torch's ``BatchNorm1d``), and ``spatial_batchnorm_forward`` /
``spatial_batchnorm_backward`` for images (N, C, H, W) (``BatchNorm2d``), whose
statistics are per channel, over the batch AND the spatial positions.
"""

import numpy as np


def batchnorm_forward(x, gamma, beta, running_mean, running_var,
                      training=True, momentum=0.1, eps=1e-5):
    """Forward pass of batch normalisation for (N, D) inputs, as ``F.batch_norm``.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    gamma, beta : ndarray, shape (D,)
        Learned scale and shift.
    running_mean, running_var : ndarray, shape (D,)
        Running statistics. In training mode they are UPDATED IN PLACE (the
        caller's arrays change; this is the one exception to "do not modify
        the inputs"); in evaluation mode they are used and left unchanged.
    training : bool, default True
    momentum : float, default 0.1
        Weight of the new batch statistic in the running average.
    eps : float, default 1e-5
        Added to the variance before the square root.

    Returns
    -------
    out : ndarray, shape (N, D), x's dtype
        Training mode, per feature ``d`` (column)::

            mu    = mean of x[:, d]
            var   = mean of (x[:, d] - mu)**2           (biased: divide by N)
            x_hat = (x[:, d] - mu) / sqrt(var + eps)
            out   = gamma[d] * x_hat + beta[d]

        and then, in place::

            running_mean = (1 - momentum) * running_mean + momentum * mu
            running_var  = (1 - momentum) * running_var  + momentum * var * N / (N - 1)

        Evaluation mode: the same ``x_hat`` and ``out``, with ``running_mean``
        and ``running_var`` in place of ``mu`` and ``var``; no update.
    cache : object
        What the backward pass needs: ``x_hat``, ``1 / sqrt(var + eps)``,
        ``gamma``, and the mode (the backward formulas differ).

    Raises
    ------
    ValueError
        In training mode with N == 1 (one value per feature has no variance;
        torch refuses it too), or if the shapes do not match.

    Hints: the running variance uses the UNBIASED batch variance (divide by
    N - 1) while the normalisation uses the biased one (divide by N); mixing
    them up is the classic mistake. "In place" means
    ``running_mean *= 1 - momentum; running_mean += momentum * mu`` (or
    ``running_mean[:] = ...``); ``running_mean = ...`` only rebinds your local
    name and the caller never sees the update. The cache must not refer to the
    running arrays themselves: they change again at the next training step.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (N, D), got shape {x.shape}")
    N, D = x.shape
    dtype = x.dtype
    gamma = np.asarray(gamma, dtype=dtype)
    beta = np.asarray(beta, dtype=dtype)
    for name, arr in (("gamma", gamma), ("beta", beta),
                      ("running_mean", running_mean), ("running_var", running_var)):
        if np.shape(arr) != (D,):
            raise ValueError(f"{name} must have shape ({D},), got {np.shape(arr)}")

    if training:
        if N < 2:
            raise ValueError(
                "BatchNorm in training mode needs more than one value per channel "
                f"(got input of shape {x.shape})"
            )
        mean = x.mean(axis=0)
        x_hat = x - mean                              # centred; normalised in place below
        var = np.einsum("nd,nd->d", x_hat, x_hat) / N  # biased: for the normalisation
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat *= inv_std
        # In place, as torch updates its buffers; unbiased variance for the running one.
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * var * (N / (N - 1))
    else:
        mean = np.asarray(running_mean, dtype=dtype)
        inv_std = 1.0 / np.sqrt(np.asarray(running_var, dtype=dtype) + eps)
        x_hat = (x - mean) * inv_std
    out = x_hat * gamma
    out += beta
    cache = (bool(training), x_hat, inv_std, gamma)
    return out, cache
    ### END SOLUTION


def batchnorm_backward(dout, cache):
    """Backward pass of ``batchnorm_forward``, in either mode.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : object

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)
        ``dgamma = sum over n of dout * x_hat``, ``dbeta = sum over n of dout``.

    For ``dx``, with ``g = dout * gamma`` and ``inv_std = 1 / sqrt(var + eps)``:

    * training mode, where the mean and variance depend on every ``x`` of the
      batch::

          dx = inv_std * (g - mean_n(g) - x_hat * mean_n(g * x_hat))

      (``mean_n`` averages over the batch axis, per feature);
    * evaluation mode, where the statistics are constants::

          dx = g * inv_std

    Hint: deriving the training formula through the graph (x -> mu, var ->
    x_hat -> out) step by step is a fine exercise; if your dx is off, check
    it against a finite-difference estimate on a tiny batch. Forgetting the
    two "mean" terms gives the evaluation-mode gradient, which is wrong in
    training mode.
    """
    ### BEGIN SOLUTION
    training, x_hat, inv_std, gamma = cache
    dout = np.asarray(dout, dtype=x_hat.dtype)
    dbeta = dout.sum(axis=0)
    dgamma = np.einsum("nd,nd->d", dout, x_hat)
    if training:
        # inv_std * gamma * (dout - mean_n(dout) - x_hat * mean_n(dout * x_hat)),
        # written with in-place operations to save memory traffic.
        N = dout.shape[0]
        dx = x_hat * (-dgamma / N)
        dx += dout
        dx -= dbeta / N
        dx *= gamma * inv_std
    else:
        dx = dout * (gamma * inv_std)
    return dx, dgamma, dbeta
    ### END SOLUTION


def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var,
                              training=True, momentum=0.1, eps=1e-5):
    """Forward pass of batch normalisation for images, as ``F.batch_norm`` on 4-D input.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    gamma, beta, running_mean, running_var : ndarray, shape (C,)
    training, momentum, eps
        As ``batchnorm_forward`` (the running statistics are updated in place in
        training mode).

    Returns
    -------
    out : ndarray, shape (N, C, H, W), x's dtype
        Every channel ``c`` is normalised with the statistics of ALL its
        N*H*W values, ``x[:, c, :, :]``: one mean and one variance per channel,
        not per pixel. The unbiased variance of the running average divides by
        N*H*W - 1.
    cache : object

    Raises
    ------
    ValueError
        In training mode when a channel has a single value (N*H*W == 1), or if
        the shapes do not match.

    Hint: these are ``batchnorm_forward``'s formulas with N*H*W values per
    channel instead of N. Reduce over the three other axes, e.g.
    ``x.mean(axis=(0, 2, 3))`` (one value per channel), and give a (C,) vector
    the shape (C, 1, 1), ``v[:, None, None]``, so that it lines up with the
    channel axis of x (a bare (C,) vector would line up with W). Or reuse
    ``batchnorm_forward``: move the channel axis last and flatten the rest,
    ``x.transpose(0, 2, 3, 1).reshape(-1, C)``, so that every channel becomes
    one column of an (N*H*W, C) matrix; then undo the reshape and the
    transpose. ``x.reshape(-1, C)`` without the transpose mixes channels
    together.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got shape {x.shape}")
    N, C, H, W = x.shape
    dtype = x.dtype
    gamma = np.asarray(gamma, dtype=dtype)
    beta = np.asarray(beta, dtype=dtype)
    for name, arr in (("gamma", gamma), ("beta", beta),
                      ("running_mean", running_mean), ("running_var", running_var)):
        if np.shape(arr) != (C,):
            raise ValueError(f"{name} must have shape ({C},), got {np.shape(arr)}")

    # One row per image and channel in an (N, C, H*W) view of x: a row's sum is a product with a
    # vector of ones and its sum of products np.vecdot, 1.3 to 2.5 times as fast as np.sum or
    # np.einsum over axes (0, 2, 3) on ResNet's shapes. Moving the channels last would copy x.
    values_per_channel = N * H * W
    x_rows = x.reshape(N, C, H * W)
    if training:
        if values_per_channel < 2:
            raise ValueError(
                "BatchNorm in training mode needs more than one value per channel "
                f"(got input of shape {x.shape})"
            )
        mean = (x_rows @ np.ones(H * W, dtype=dtype)).sum(axis=0) / values_per_channel
        out = x_rows - mean[:, None]                  # centred; normalised in place below
        var = np.vecdot(out, out).sum(axis=0) / values_per_channel  # biased
        inv_std = 1.0 / np.sqrt(var + eps)
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * var * (values_per_channel / (values_per_channel - 1))
    else:
        mean = np.array(running_mean, dtype=dtype)    # a copy: the running mean changes later
        inv_std = 1.0 / np.sqrt(np.asarray(running_var, dtype=dtype) + eps)
        out = x_rows - mean[:, None]
    out *= (gamma * inv_std)[:, None]
    out += beta[:, None]
    # x and its mean rather than x_hat, as torch keeps them: the forward writes one array, not two.
    cache = (bool(training), x_rows, mean, inv_std, gamma)
    return out.reshape(x.shape), cache
    ### END SOLUTION


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of ``spatial_batchnorm_forward``, in either mode.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : object

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (C,)

    Hint: ``batchnorm_backward``'s formulas, with every sum and mean over the
    N*H*W values of a channel (axes 0, 2 and 3). If your forward moved the
    channel axis last, the same transpose and reshape turn this into
    ``batchnorm_backward``; transpose the result back.
    """
    ### BEGIN SOLUTION
    training, x_rows, mean, inv_std, gamma = cache
    dout = np.asarray(dout, dtype=x_rows.dtype)
    N, C, H, W = dout.shape
    dout_rows = dout.reshape(N, C, H * W)             # as the forward's x_rows
    dbeta = (dout_rows @ np.ones(H * W, dtype=dout.dtype)).sum(axis=0)
    x_centred = x_rows - mean[:, None]                # x_hat / inv_std
    dgamma = np.vecdot(dout_rows, x_centred).sum(axis=0) * inv_std
    if training:
        # inv_std * gamma * (dout - mean(dout) - x_hat * mean(dout * x_hat)), means per channel
        # over its N*H*W values, written in place over x_centred.
        values_per_channel = N * H * W
        dx = x_centred
        dx *= (-dgamma * inv_std / values_per_channel)[:, None]
        dx += dout_rows
        dx -= (dbeta / values_per_channel)[:, None]
        dx *= (gamma * inv_std)[:, None]
    else:
        dx = dout_rows * (gamma * inv_std)[:, None]
    return dx.reshape(dout.shape), dgamma, dbeta
    ### END SOLUTION
