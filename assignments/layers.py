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
    # YOUR CODE HERE
    raise NotImplementedError()


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
    # YOUR CODE HERE
    raise NotImplementedError()


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
    # YOUR CODE HERE
    raise NotImplementedError()


def relu_backward(dout, cache):
    """Backward pass of ``relu_forward``.

    Returns
    -------
    dx : ndarray, the shape of ``dout``
        ``dout`` where ``x > 0``, and 0 elsewhere: the gradient at exactly
        ``x = 0`` is taken to be 0, as torch does.

    Hint: ``x >= 0`` passes the gradient at 0 through; that is not torch's choice.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


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
    # YOUR CODE HERE
    raise NotImplementedError()


def sigmoid_backward(dout, cache):
    """Backward pass of ``sigmoid_forward``.

    Returns
    -------
    dx : ndarray, the shape of ``dout``
        ``dout * out * (1 - out)``, with ``out`` the forward pass's output.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


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
    # YOUR CODE HERE
    raise NotImplementedError()


def dropout_backward(dout, cache):
    """Backward pass of ``dropout_forward``.

    Returns
    -------
    dx : ndarray, the shape of ``dout``
        Training: ``dout * keep / (1 - p)``, with the SAME mask as the forward
        pass (zeros when ``p = 1``). Evaluation: ``dout`` unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


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
    # YOUR CODE HERE
    raise NotImplementedError()
