"""Pooling layers, written with NumPy only.

A pooling layer summarises each small window of a feature map by one number,
channel by channel: its largest value (max pooling) or its mean (average
pooling). It has no parameters; it shrinks the feature map, and makes the
network less sensitive to small shifts of the input.

This part has three pairs of functions, each matching its torch counterpart:

* ``max_pool2d_forward`` / ``max_pool2d_backward`` (``F.max_pool2d``);
* ``avg_pool2d_forward`` / ``avg_pool2d_backward`` (``F.avg_pool2d`` with
  ``count_include_pad=True``);
* ``adaptive_avg_pool2d_forward`` / ``adaptive_avg_pool2d_backward``
  (``F.adaptive_avg_pool2d``): you choose the output size, and the windows
  follow from it. Classification networks (AlexNet, VGG, ResNet) use it so that
  their classifier works for any input size.

All windows follow torch's "floor mode": a window that would stick out past the
padded input is dropped, so the output size along one axis is
``(size + 2*padding - kernel) // stride + 1``. Loops over the window's KH*KW
offsets are fine; loops over output pixels are not needed.
"""

import numpy as np


def max_pool2d_forward(x, kernel_size, stride=None, padding=0):
    """Forward pass of 2-D max pooling, as ``F.max_pool2d``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size : int or (int, int)
        Window size (KH, KW).
    stride : int or (int, int) or None, default None
        Step between windows; ``None`` means ``kernel_size`` (windows that touch
        but do not overlap).
    padding : int or (int, int), default 0
        Added on each side. Padded cells count as minus infinity, so they are
        never the maximum of a window. At most half the kernel, as torch
        requires (``2*padding <= kernel``).

    Returns
    -------
    out : ndarray, shape (N, C, Ho, Wo), x's dtype
        ``out[n, c, i, j] = max over u < KH, v < KW of xp[n, c, i*sh + u, j*sw + v]``
        with ``xp`` the padded input and ``Ho = (H + 2*ph - KH) // sh + 1``.
    cache : object
        What the backward pass needs: for example, for every window, WHERE its
        maximum is (the offset of the maximal element inside the window), plus
        the shapes, stride and padding.

    Raises
    ------
    ValueError
        For a non-positive kernel or stride, a negative padding, a padding above
        half the kernel, or a kernel larger than the padded input.

    Hints: a loop over the KH*KW window offsets, each looking at the strided
    slice ``xp[:, :, i::sh, j::sw]`` (cut to Ho x Wo), computes the max of all
    windows at once; keep the offset of the best value seen so far with a
    strict ``>`` and you get the FIRST maximum of each window. Pad with
    ``-np.inf``, not with zeros: with zeros, an all-negative window near the
    border would return 0.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def max_pool2d_backward(dout, cache):
    """Backward pass of ``max_pool2d_forward``.

    Parameters
    ----------
    dout : ndarray, shape (N, C, Ho, Wo)
    cache : object
        What ``max_pool2d_forward`` returned.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        Each window passes its whole upstream gradient ``dout[n, c, i, j]`` to ONE
        maximal element of the window (the first one, as ``argmax`` picks it, is
        fine where there are ties); every other element of the window gets
        nothing from that window.

    Hints: windows overlap when the stride is below the kernel size (AlexNet's
    3x3 stride-2 pooling), and then one input element can be the maximum of
    several windows: its gradient is the SUM of theirs. Accumulate with ``+=``
    in a loop over window offsets, or ``np.add.at``; a plain fancy-index
    assignment drops all but one contribution. Do not send gradient to every
    tied maximum: the window's gradient would be counted several times.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0):
    """Forward pass of 2-D average pooling, as ``F.avg_pool2d`` (count_include_pad=True).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int) or None, default None
        ``None`` means ``kernel_size``.
    padding : int or (int, int), default 0
        Zeros added on each side; at most half the kernel, as torch requires.

    Returns
    -------
    out : ndarray, shape (N, C, Ho, Wo), x's dtype
        ``out[n, c, i, j] = (sum over u < KH, v < KW of xp[n, c, i*sh + u, j*sw + v]) / (KH*KW)``
        where ``xp`` is zero-padded: padded cells count in the divisor
        (``count_include_pad=True``), so a corner window that is half padding
        is half as large as the mean of its real pixels.
    cache : object
        Shapes, kernel, stride and padding: the backward pass needs no values
        of ``x``.

    Raises
    ------
    ValueError
        As ``max_pool2d_forward``.

    Hint: the divisor is always KH*KW here (floor mode never lets a window
    leave the padded input); dividing by the number of real pixels is torch's
    ``count_include_pad=False``, which is not what is asked.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def avg_pool2d_backward(dout, cache):
    """Backward pass of ``avg_pool2d_forward``.

    Parameters
    ----------
    dout : ndarray, shape (N, C, Ho, Wo)
    cache : object

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        Every element of a window receives ``dout / (KH*KW)`` from that window,
        summed over all the windows that contain it. Gradient that lands on the
        padding is dropped (crop it away at the end).

    Hint: as in max pooling, overlapping windows must ADD their contributions.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def adaptive_avg_pool2d_forward(x, output_size):
    """Forward pass of adaptive average pooling, as ``F.adaptive_avg_pool2d``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    output_size : int or (int, int)
        The output's (Ho, Wo); an int means a square output. As in torch, an
        entry of the pair may be ``None``, meaning "the input's size" on that
        axis.

    Returns
    -------
    out : ndarray, shape (N, C, Ho, Wo), x's dtype
        Output row ``i`` averages the input rows from ``floor(i*H/Ho)`` up to but
        EXCLUDING ``ceil((i+1)*H/Ho)``; columns likewise with W and Wo; the cell
        is the mean of that rectangle. Windows may have different sizes, and may
        overlap (for example H=5, Ho=3 gives rows 0-1, 1-3, 3-4), and
        ``output_size=1`` is global average pooling.
    cache : object
        What the backward pass needs (the windows, the input's shape).

    Raises
    ------
    ValueError
        If an output size is not positive.

    Hints: compute the integer bounds with integer arithmetic,
    ``(i*H) // Ho`` and ``-((-(i+1)*H) // Ho)``, not with floats. The averaging is
    separable: with ``P`` the (Ho, H) matrix whose row ``i`` marks window ``i``
    with ones, and ``Q`` the (Wo, W) one, the window sums are ``P @ x @ Q.T``
    (matmul broadcasts over N and C); divide by the window areas.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def adaptive_avg_pool2d_backward(dout, cache):
    """Backward pass of ``adaptive_avg_pool2d_forward``.

    Parameters
    ----------
    dout : ndarray, shape (N, C, Ho, Wo)
    cache : object

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        Every input element receives, from every window that contains it, that
        window's upstream gradient divided by the window's area (its number of
        elements).

    Hint: windows can overlap (when H is not a multiple of Ho) and an element can
    then belong to two windows: add both contributions. With the window
    matrices of the forward hint, ``dx = P.T @ (dout / area) @ Q``.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
