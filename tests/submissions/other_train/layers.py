"""Basic layers, written with NumPy only: fully connected, activations, dropout, loss.

* ``linear_forward`` / ``linear_backward``: the fully connected layer
  ``out = x @ w.T + b``, with ``w`` laid out as torch lays it out,
  (out_features, in_features).
* ``relu_forward`` / ``relu_backward`` and ``sigmoid_forward`` /
  ``sigmoid_backward``: the activations. LeNet-5 was built with sigmoid-like
  activations; ReLU, which does not saturate for positive inputs, made the
  deeper AlexNet, VGG and ResNet trainable.
* ``dropout_forward`` / ``dropout_backward``: during training, zero each
  activation at random with probability ``p``, so that the network cannot rely
  on any single unit; at evaluation time, do nothing.
* ``softmax_cross_entropy``: the classification loss, softmax followed by the
  negative log-likelihood of the true class, averaged over the batch, with its
  gradient with respect to the logits.

Each ``*_forward`` returns ``(out, cache)`` and each ``*_backward`` takes
``(dout, cache)``: the cache carries what the forward pass computed that the
backward pass needs.
"""

import numpy as np

### BEGIN SOLUTION
def _float_array(a, name):
    """``a`` as a floating-point ndarray (float64 unless it already is a float type)."""
    a = np.asarray(a)
    if a.dtype.kind != "f":
        if a.dtype.kind not in "biu":
            raise ValueError(f"{name} must hold real numbers, got dtype {a.dtype}")
        a = a.astype(np.float64)
    return a
### END SOLUTION


def linear_forward(x, w, b):
    """Forward pass of a fully connected layer, as ``F.linear``.

    Parameters
    ----------
    x : ndarray, shape (N, D_in)
    w : ndarray, shape (D_out, D_in)
        torch's layout: one ROW per output feature.
    b : ndarray of shape (D_out,), or None
        ``None`` means no bias.

    Returns
    -------
    out : ndarray, shape (N, D_out)
        ``out = x @ w.T + b``.
    cache : object
        ``x`` and ``w`` (and whether there was a bias), for the backward pass.

    Raises
    ------
    ValueError
        If the shapes do not match.

    Hint: an image batch (N, C, H, W) must be flattened to (N, C*H*W) first (the
    Flatten layer does it); do not flatten inside this function.
    """
    ### BEGIN SOLUTION
    x = _float_array(x, "x")
    w = np.asarray(w)
    if w.ndim != 2:
        raise ValueError(f"w must have shape (D_out, D_in), got shape {w.shape}")
    if x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise ValueError(f"x has shape {x.shape} but w expects {w.shape[1]} input features")
    if b is not None:
        b = np.asarray(b)
        if b.shape != (w.shape[0],):
            raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}")
    w = w.astype(x.dtype, copy=False)
    out = x @ w.T
    if b is not None:
        out += b.astype(x.dtype, copy=False)
    cache = (x, w, b is not None)
    return out, cache
    ### END SOLUTION


def linear_backward(dout, cache):
    """Backward pass of ``linear_forward``.

    Parameters
    ----------
    dout : ndarray, shape (N, D_out)
    cache : object

    Returns
    -------
    dx : ndarray, shape (N, D_in)
        ``dout @ w``
    dw : ndarray, shape (D_out, D_in)
        ``dout.T @ x`` (summed over the batch by the product itself)
    db : ndarray of shape (D_out,), or None when the forward pass had ``b=None``
        ``dout.sum(axis=0)``

    Hint: check every gradient has the shape of what it is the gradient of;
    ``x.T @ dout`` has the shape of ``w.T``, not of ``w``.
    """
    ### BEGIN SOLUTION
    x, w, has_bias = cache
    dout = np.asarray(dout, dtype=x.dtype)
    dx = dout @ w
    d2 = dout.reshape(-1, w.shape[0])
    dw = d2.T @ x.reshape(-1, w.shape[1])
    db = d2.sum(axis=0) if has_bias else None
    return dx, dw, db
    ### END SOLUTION


def relu_forward(x):
    """Forward pass of the rectified linear unit, ``max(x, 0)`` elementwise.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, x's shape and dtype
    cache : object
        What the backward pass needs to know where ``x`` was positive (``x``
        itself, or the mask ``x > 0``).

    Hint: return a new array; ``x[x < 0] = 0`` modifies the caller's input.
    """
    ### BEGIN SOLUTION
    x = _float_array(x, "x")
    out = np.maximum(x, 0)
    return out, x
    ### END SOLUTION


def relu_backward(dout, cache):
    """Backward pass of ``relu_forward``.

    Returns
    -------
    dx : ndarray, the shape of ``dout``
        ``dout`` where ``x > 0``, and 0 elsewhere: the gradient at exactly
        ``x = 0`` is taken to be 0, as torch does.

    Hint: ``x >= 0`` passes the gradient at 0 through; that is not torch's choice.
    """
    ### BEGIN SOLUTION
    x = cache
    dout = np.asarray(dout, dtype=x.dtype)
    # Same selection as torch's threshold_backward: zero where x <= 0.
    return np.where(x <= 0, np.zeros((), dtype=x.dtype), dout)
    ### END SOLUTION


def sigmoid_forward(x):
    """Forward pass of the logistic sigmoid, ``1 / (1 + exp(-x))`` elementwise.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, x's shape and dtype, values in [0, 1]
    cache : object
        The output: the derivative is ``out * (1 - out)``, so the backward pass
        needs nothing else.

    Hint: the formula as written overflows in ``exp(-x)`` for large negative
    ``x`` (``x = -1000``; NumPy warns and may give nan further on). Use
    ``exp(-|x|)``, which never overflows: for ``x >= 0`` the sigmoid is
    ``1 / (1 + e)``, and for ``x < 0`` it is ``e / (1 + e)``, with
    ``e = exp(-|x|)``.
    """
    ### BEGIN SOLUTION
    x = _float_array(x, "x")
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0, e) / (1.0 + e)
    out = out.astype(x.dtype, copy=False)
    return out, out
    ### END SOLUTION


def sigmoid_backward(dout, cache):
    """Backward pass of ``sigmoid_forward``.

    Returns
    -------
    dx : ndarray, the shape of ``dout``
        ``dout * out * (1 - out)``, with ``out`` the forward pass's output.
    """
    ### BEGIN SOLUTION
    out = cache
    dout = np.asarray(dout, dtype=out.dtype)
    return dout * (1 - out) * out
    ### END SOLUTION


def dropout_forward(x, p, training, rng):
    """Forward pass of (inverted) dropout, as ``F.dropout`` up to the random numbers.

    Parameters
    ----------
    x : ndarray, any shape
    p : float in [0, 1]
        Probability of ZEROING an element (torch's meaning, not the keep
        probability).
    training : bool
    rng : numpy.random.Generator
        The only source of randomness.

    Returns
    -------
    out : ndarray, x's shape and dtype
        Training: draw ONCE ``keep = rng.random(x.shape) >= p`` and return
        ``x * keep / (1 - p)``: the kept elements are scaled up so that the
        expected value of ``out`` is ``x``, and nothing needs to change at test
        time. ``p = 1`` zeroes everything (do not divide by zero).
        Evaluation: ``out = x`` (a copy is fine), and ``rng`` is not touched.
    cache : object
        The mask ``keep`` and ``p`` (or the mask already divided by ``1 - p``):
        all the backward pass needs. In evaluation mode, anything that says so.

    Raises
    ------
    ValueError
        If ``p`` is not in [0, 1].

    Hints: use exactly ``rng.random(x.shape) >= p`` and draw exactly once, so
    that the grader, replaying the same generator, sees the same mask; any other
    rule (``< 1 - p``, ``rng.binomial``, a second draw) gives a different mask.
    Forgetting the ``1 / (1 - p)`` scaling is the classic mistake.
    """
    ### BEGIN SOLUTION
    x = _float_array(x, "x")
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability p must be in [0, 1], got {p}")
    if not training:
        return x.copy(), None
    keep = rng.random(x.shape) >= p   # the one draw from rng
    if p == 1.0:
        out = np.zeros_like(x)        # everything dropped; avoid 0 / 0
    else:
        out = x * keep / (1.0 - p)
    return out, (keep, p)
    ### END SOLUTION


def dropout_backward(dout, cache):
    """Backward pass of ``dropout_forward``.

    Returns
    -------
    dx : ndarray, the shape of ``dout``
        Training: ``dout * keep / (1 - p)``, with the SAME mask as the forward
        pass (zeros when ``p = 1``). Evaluation: ``dout`` unchanged.
    """
    ### BEGIN SOLUTION
    dout = _float_array(dout, "dout")
    if cache is None:                 # evaluation mode: the identity
        return dout.copy()
    keep, p = cache
    if p == 1.0:
        return np.zeros_like(dout)
    return dout * keep / (1.0 - p)
    ### END SOLUTION


def softmax_cross_entropy(logits, y):
    """Mean softmax cross-entropy loss and its gradient, as ``F.cross_entropy``.

    Parameters
    ----------
    logits : ndarray, shape (N, K)
        Unnormalised class scores.
    y : ndarray of ints, shape (N,)
        True classes, each in ``0 .. K-1``.

    Returns
    -------
    loss : float
        ``mean over n of -log softmax(logits[n])[y[n]]``, where
        ``softmax(z)[k] = exp(z[k]) / sum over j of exp(z[j])``.
    dlogits : ndarray, shape (N, K), logits' dtype
        ``(softmax(logits) - onehot(y)) / N``.

    Raises
    ------
    ValueError
        If the shapes do not match or a label is out of range.

    Hint: ``exp(1e4)`` overflows to inf. Subtract each row's maximum first
    (softmax does not change when a constant is added to a row), and compute
    the log-probability as ``shifted - log(sum(exp(shifted)))``: it is finite
    even where ``softmax`` itself underflows to 0, whereas ``log(softmax)``
    would give ``log(0) = -inf``. Do not forget the division by N in the
    gradient.
    """
    ### BEGIN SOLUTION
    logits = _float_array(logits, "logits")
    y = np.asarray(y)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (N, K), got shape {logits.shape}")
    N, K = logits.shape
    if y.shape != (N,):
        raise ValueError(f"y must have shape ({N},), got {y.shape}")
    if y.dtype.kind not in "iu":
        raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}")
    if N == 0:
        raise ValueError("softmax_cross_entropy needs at least one example")
    if y.size and (y.min() < 0 or y.max() >= K):
        raise ValueError(f"labels must be in 0 .. {K - 1}, got {y.min()} .. {y.max()}")
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    sums = exp.sum(axis=1, keepdims=True)
    log_probs = shifted - np.log(sums)
    rows = np.arange(N)
    loss = -float(log_probs[rows, y].mean())
    dlogits = exp / sums
    dlogits[rows, y] -= 1.0
    dlogits /= N
    return loss, dlogits
    ### END SOLUTION
