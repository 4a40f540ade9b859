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

### BEGIN SOLUTION
def _int(value, name):
    """``value`` as a Python int; ``ValueError`` if it is not an integer."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    try:
        as_int = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if as_int != value:
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return as_int


def _pair(value, name):
    """An int or a pair of ints as a ``(height, width)`` tuple of ints."""
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return _int(value[0], name), _int(value[1], name)
    v = _int(value, name)
    return v, v


def _float_image(x):
    """``x`` as a floating-point (N, C, H, W) ndarray."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        if x.dtype.kind not in "biu":
            raise ValueError(f"x must hold real numbers, got dtype {x.dtype}")
        x = x.astype(np.float64)
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got shape {x.shape}")
    return x


def _pool_geometry(x_shape, kernel_size, stride, padding):
    """Check the pooling arguments; return (KH, KW), (sh, sw), (ph, pw), (Ho, Wo)."""
    KH, KW = _pair(kernel_size, "kernel_size")
    sh, sw = (KH, KW) if stride is None else _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    if KH < 1 or KW < 1:
        raise ValueError(f"kernel_size must be positive, got {(KH, KW)}")
    if sh < 1 or sw < 1:
        raise ValueError(f"stride must be positive, got {(sh, sw)}")
    if ph < 0 or pw < 0:
        raise ValueError(f"padding must be non-negative, got {(ph, pw)}")
    if 2 * ph > KH or 2 * pw > KW:
        raise ValueError(
            f"padding {(ph, pw)} must be at most half of the kernel size {(KH, KW)}"
        )
    H, W = x_shape[2:]
    Ho = (H + 2 * ph - KH) // sh + 1
    Wo = (W + 2 * pw - KW) // sw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(
            f"kernel {(KH, KW)} is larger than the padded input "
            f"{(H + 2 * ph, W + 2 * pw)}"
        )
    return (KH, KW), (sh, sw), (ph, pw), (Ho, Wo)


def _pad(x, ph, pw, value):
    """``x`` padded with ``value`` on each side of its last two axes (a new array)."""
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _phases(xp, sh, sw, KH, KW):
    """``xp`` split by stride phase: ``phases[a][b]`` is ``xp[:, :, a::sh, b::sw]``,
    copied into a contiguous array, for ``a < min(sh, KH)`` and ``b < min(sw, KW)``
    (the other rows and columns are in no window).

    The elements at kernel offset (u, v) of all the windows are then a plain slice
    of one phase (``_at_offset``), not a slice with a step: NumPy computes several
    times faster on rows of neighbouring elements, and the copies cost one pass
    over the input.
    """
    return [[np.ascontiguousarray(xp[:, :, a::sh, b::sw]) for b in range(min(sw, KW))]
            for a in range(min(sh, KH))]


def _at_offset(phases, u, v, sh, sw, Ho, Wo):
    """The elements at kernel offset (u, v) of every window, (N, C, Ho, Wo): a view of
    one phase, ``xp[:, :, u::sh, v::sw]`` cut to Ho x Wo."""
    return phases[u % sh][v % sw][:, :, u // sh:u // sh + Ho, v // sw:v // sw + Wo]


def _adaptive_matrix(size, out_size, dtype):
    """0/1 matrix (out_size, size) of the adaptive windows along one axis, and their lengths."""
    i = np.arange(out_size)
    start = (i * size) // out_size                       # floor(i * size / out)
    end = -((-(i + 1) * size) // out_size)               # ceil((i + 1) * size / out)
    k = np.arange(size)
    mat = ((k[None, :] >= start[:, None]) & (k[None, :] < end[:, None])).astype(dtype)
    return mat, (end - start).astype(dtype)
### END SOLUTION


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
    ### BEGIN SOLUTION
    x = _float_image(x)
    (KH, KW), (sh, sw), (ph, pw), (Ho, Wo) = _pool_geometry(x.shape, kernel_size, stride, padding)
    xp = _pad(x, ph, pw, -np.inf)
    phases = _phases(xp, sh, sw, KH, KW)
    offsets = [(i, j) for i in range(KH) for j in range(KW)]
    out = _at_offset(phases, 0, 0, sh, sw, Ho, Wo).copy()
    for i, j in offsets[1:]:
        np.maximum(out, _at_offset(phases, i, j, sh, sw, Ho, Wo), out=out)
    # argmax: the offset i*KW + j of the FIRST maximal element of each window, found
    # by walking the offsets in order and marking each window the first time it
    # holds its maximum. (The first maximum, not a strict > test in a running
    # maximum: comparing all windows at once with the final maximum is faster.)
    argmax = np.zeros(out.shape, dtype=np.uint8 if KH * KW <= 256 else np.intp)
    codes = np.arange(KH * KW, dtype=argmax.dtype)  # the offsets i*KW + j, in argmax's dtype
    pending = np.ones(out.shape, dtype=bool)        # windows whose maximum is not found yet
    is_max = np.empty(out.shape, dtype=bool)
    for i, j in offsets:
        np.equal(_at_offset(phases, i, j, sh, sw, Ho, Wo), out, out=is_max)
        is_max &= pending
        pending ^= is_max
        argmax += is_max * codes[i * KW + j]        # each window is marked exactly once
    cache = (x.shape, xp.shape, x.dtype, argmax, (KH, KW), (sh, sw), (ph, pw))
    return out, cache
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    x_shape, xp_shape, dtype, argmax, (KH, KW), (sh, sw), (ph, pw) = cache
    N, C, H, W = x_shape
    Ho, Wo = argmax.shape[2:]
    dout = np.asarray(dout, dtype=dtype)
    Hp, Wp = xp_shape[2:]
    # Each window sends its gradient to its maximum: the element at offset (i, j)
    # from its top-left corner, numbered here by its flat index in the padded input.
    i, j = np.divmod(argmax, KW)
    rows = np.arange(Ho).reshape(Ho, 1) * sh + i                # (N, C, Ho, Wo)
    cols = np.arange(Wo) * sw + j
    planes = np.arange(N * C).reshape(N, C, 1, 1)
    index = (planes * Hp + rows) * Wp + cols
    # np.add.at adds every window's gradient, so an element that is the maximum of
    # several overlapping windows gets the sum of theirs (dxp[index] = dout keeps one).
    dxp = np.zeros(N * C * Hp * Wp, dtype=dtype)
    np.add.at(dxp, index.ravel(), dout.ravel())
    dxp = dxp.reshape(xp_shape)
    return dxp[:, :, ph:ph + H, pw:pw + W] if (ph or pw) else dxp
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    x = _float_image(x)
    (KH, KW), (sh, sw), (ph, pw), (Ho, Wo) = _pool_geometry(x.shape, kernel_size, stride, padding)
    xp = _pad(x, ph, pw, 0)
    # A window's sum is separable: the sums of KH neighbouring rows at each window
    # row, then the sums of KW neighbouring columns of those: KH + KW passes over
    # the data instead of KH*KW. Rows first, because a slice of whole rows is
    # contiguous inside each row and NumPy is fastest there; the columns, a slice
    # with a step inside each row, then come from an array already sh times smaller.
    row_sums = xp[:, :, 0:sh * (Ho - 1) + 1:sh].copy()
    for i in range(1, KH):
        row_sums += xp[:, :, i:i + sh * (Ho - 1) + 1:sh]
    out = row_sums[:, :, :, 0:sw * (Wo - 1) + 1:sw].copy()
    for j in range(1, KW):
        out += row_sums[:, :, :, j:j + sw * (Wo - 1) + 1:sw]
    out /= KH * KW
    cache = (x.shape, xp.shape, x.dtype, (KH, KW), (sh, sw), (ph, pw))
    return out, cache
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    x_shape, xp_shape, dtype, (KH, KW), (sh, sw), (ph, pw) = cache
    N, C, H, W = x_shape
    g = np.asarray(dout, dtype=dtype) / (KH * KW)
    Ho, Wo = g.shape[2:]
    Wp = xp_shape[3]
    # The forward's two steps backwards: each window's gradient to the KW columns
    # of the row sums it added, then each row sum's gradient to its KH rows.
    drow_sums = np.zeros((N, C, Ho, Wp), dtype=dtype)
    for j in range(KW):
        drow_sums[:, :, :, j:j + sw * (Wo - 1) + 1:sw] += g
    dxp = np.zeros(xp_shape, dtype=dtype)
    for i in range(KH):
        dxp[:, :, i:i + sh * (Ho - 1) + 1:sh] += drow_sums
    return dxp[:, :, ph:ph + H, pw:pw + W] if (ph or pw) else dxp
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    x = _float_image(x)
    N, C, H, W = x.shape
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(f"output_size must be an int or a pair, got {output_size!r}")
        Ho, Wo = (H if output_size[0] is None else _int(output_size[0], "output_size"),
                  W if output_size[1] is None else _int(output_size[1], "output_size"))
    else:
        Ho = Wo = _int(output_size, "output_size")
    if Ho < 1 or Wo < 1:
        raise ValueError(f"output_size must be positive, got {(Ho, Wo)}")
    if H < 1 or W < 1:
        raise ValueError(f"the input must not be empty, got shape {x.shape}")
    P, rows = _adaptive_matrix(H, Ho, x.dtype)   # (Ho, H), (Ho,)
    Q, cols = _adaptive_matrix(W, Wo, x.dtype)   # (Wo, W), (Wo,)
    area = rows[:, None] * cols[None, :]         # (Ho, Wo)
    out = np.matmul(P, np.matmul(x, Q.T)) / area
    cache = (P, Q, area)
    return out, cache
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    P, Q, area = cache
    g = np.asarray(dout, dtype=P.dtype) / area
    return np.matmul(P.T, np.matmul(g, Q))
    ### END SOLUTION
