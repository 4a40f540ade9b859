"""Convolution layers, written with NumPy only.

A convolution layer slides a small filter over the image and, at every position,
takes the dot product of the filter with the patch of input under it. Deep
learning libraries call this "convolution", but what they compute is the
cross-correlation (the filter is not flipped), and so do we, exactly as
``torch.nn.functional.conv2d`` does.

This part has four functions:

* ``conv_output_size``: the spatial size of a convolution's output;
* ``receptive_field``: how many input pixels one output unit of a stack of
  layers can see;
* ``conv2d_forward`` / ``conv2d_backward``: the layer itself and its gradients.

Images are NCHW: (batch, channels, height, width). Filters are laid out as torch
lays them out: (out_channels, in_channels, kernel_height, kernel_width).

A fast convolution needs no loop over output pixels: gather every input patch
into the column of a matrix ("im2col", or a ``sliding_window_view`` of the
padded input), and the whole layer is one matrix product. The backward pass
reuses the same matrices and scatters the patch gradients back ("col2im").
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view  # noqa: F401  (one way to build patches)

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


def _float_array(a, name):
    """``a`` as a floating-point ndarray (float64 unless it already is a float type)."""
    a = np.asarray(a)
    if a.dtype.kind != "f":
        if a.dtype.kind not in "biu":
            raise ValueError(f"{name} must hold real numbers, got dtype {a.dtype}")
        a = a.astype(np.float64)
    return a


def _im2col(xp, KH, KW, sh, sw, Ho, Wo):
    """Patches of the padded input ``xp`` as a (C*KH*KW, N*Ho*Wo) array.

    Row ``(c, u, v)``, column ``(n, i, j)`` holds ``xp[n, c, i*sh + u, j*sw + v]``:
    one window per column, the windows of every image side by side (the
    transpose of the lesson's patch matrix), so that one matrix product serves
    the whole batch. Built with one strided copy per kernel offset, so the cost
    is that of writing the result once.
    """
    N, C = xp.shape[:2]
    xc = xp.transpose(1, 0, 2, 3)                          # (C, N, Hp, Wp), a view
    cols = np.empty((C, KH, KW, N, Ho, Wo), dtype=xp.dtype)
    for i in range(KH):
        for j in range(KW):
            cols[:, i, j] = xc[:, :, i:i + sh * (Ho - 1) + 1:sh, j:j + sw * (Wo - 1) + 1:sw]
    return cols.reshape(C * KH * KW, N * Ho * Wo)


def _col2im(dcols, shape, KH, KW, sh, sw, Ho, Wo):
    """The adjoint of ``_im2col``: sum the patch gradients back into a (N, C, Hp, Wp) array."""
    N, C, Hp, Wp = shape
    dcols = dcols.reshape(C, KH, KW, N, Ho, Wo)
    dxp = np.zeros(shape, dtype=dcols.dtype)
    dxc = dxp.transpose(1, 0, 2, 3)                        # (C, N, Hp, Wp), a view of dxp
    for i in range(KH):
        for j in range(KW):
            # Within one kernel offset, distinct outputs touch distinct inputs, so
            # += on the strided slice is safe; overlapping windows are summed
            # across the iterations of this loop.
            dxc[:, :, i:i + sh * (Ho - 1) + 1:sh, j:j + sw * (Wo - 1) + 1:sw] += dcols[:, i, j]
    return dxp
### END SOLUTION


def conv_output_size(size, kernel, stride=1, padding=0):
    """Spatial size of the output of a convolution (or pooling) along one axis.

    Formula: ``(size + 2*padding - kernel) // stride + 1`` (floor division, as
    torch's default "floor mode": a window that would stick out past the padded
    input is dropped).

    Parameters
    ----------
    size : int
        Input size along this axis (height or width), without padding.
    kernel : int
        Kernel (window) size along this axis.
    stride : int, default 1
        Step between two neighbouring windows; must be positive.
    padding : int, default 0
        Zeros added on EACH side of the axis; must be non-negative.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If ``kernel`` or ``stride`` is not positive, ``padding`` is negative, or
        the result is below 1 (the kernel does not fit in the padded input).

    Hint: the padding is added on both sides, so the padded size is
    ``size + 2*padding``, not ``size + padding``.

    Examples: ``conv_output_size(32, 5) == 28``,
    ``conv_output_size(224, 7, stride=2, padding=3) == 112``.
    """
    ### BEGIN SOLUTION
    size = _int(size, "size")
    kernel = _int(kernel, "kernel")
    stride = _int(stride, "stride")
    padding = _int(padding, "padding")
    if kernel < 1:
        raise ValueError(f"kernel must be positive, got {kernel}")
    if stride < 1:
        raise ValueError(f"stride must be positive, got {stride}")
    if padding < 0:
        raise ValueError(f"padding must be non-negative, got {padding}")
    if size < 0:
        raise ValueError(f"size must be non-negative, got {size}")
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ValueError(
            f"kernel {kernel} is larger than the padded input "
            f"({size} + 2*{padding} = {size + 2 * padding})"
        )
    return out
    ### END SOLUTION


def receptive_field(layers):
    """Receptive field of one output unit of a stack of layers, in input pixels.

    ``layers`` lists ``(kernel, stride)`` pairs, the layer nearest the input
    first (a pooling layer counts as a layer too). Walk through the stack keeping
    two numbers: the receptive field ``r`` so far (1 before any layer) and the
    ``jump``, the distance in input pixels between two neighbouring units of the
    current layer (1 before any layer). A layer with kernel ``k`` and stride
    ``s`` gives::

        r    = r + (k - 1) * jump
        jump = jump * s

    Examples: two 3x3 stride-1 convolutions see 5x5 pixels, so
    ``receptive_field([(3, 1), (3, 1)]) == 5``; LeNet-5's conv1 (5, 1),
    pool (2, 2), conv2 (5, 1), pool (2, 2), conv3 (5, 1) give 32, the whole
    32x32 image. An empty stack gives 1.

    Raises ``ValueError`` if a kernel or a stride is not positive.

    Hint: the usual mistake is to multiply the kernel by the stride of the SAME
    layer; a layer's stride only widens the steps of the layers AFTER it.
    Padding does not change the receptive field.
    """
    ### BEGIN SOLUTION
    field, jump = 1, 1
    for layer in layers:
        try:
            kernel, stride = layer
        except (TypeError, ValueError):
            raise ValueError(f"each layer must be a (kernel, stride) pair, got {layer!r}") from None
        kernel = _int(kernel, "kernel")
        stride = _int(stride, "stride")
        if kernel < 1 or stride < 1:
            raise ValueError(f"kernel and stride must be positive, got ({kernel}, {stride})")
        field += (kernel - 1) * jump
        jump *= stride
    return field
    ### END SOLUTION


def conv2d_forward(x, w, b, stride=1, padding=0):
    """Forward pass of a 2-D convolution (cross-correlation), as ``F.conv2d``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Input images.
    w : ndarray, shape (F, C, KH, KW)
        Filters: F output channels, each seeing all C input channels.
    b : ndarray of shape (F,), or None
        One bias per output channel; ``None`` means no bias.
    stride : int or (int, int), default 1
        Step of the window, (vertical, horizontal); must be positive.
    padding : int or (int, int), default 0
        Zeros added on each side, (top and bottom, left and right).

    Returns
    -------
    out : ndarray, shape (N, F, Ho, Wo), of x's dtype
        With ``xp`` the zero-padded input (sizes ``Hp = H + 2*ph``,
        ``Wp = W + 2*pw``), ``Ho = (Hp - KH) // sh + 1``, ``Wo`` likewise, and::

            out[n, f, i, j] = b[f] + sum over c, u, v of
                              w[f, c, u, v] * xp[n, c, i*sh + u, j*sw + v]

        (the notation of the lesson's table: ``(i, j)`` an output position,
        ``(u, v)`` an offset inside the kernel).

    cache : object
        Whatever ``conv2d_backward`` needs: at least the input's shape, the
        filters, the stride and padding, whether there was a bias, and, if you
        build it, the im2col matrix (saving it avoids rebuilding it backward).

    Raises
    ------
    ValueError
        If the shapes do not match (channels of ``x`` and ``w``, the size of
        ``b``), a stride is not positive, a padding is negative, or the kernel
        is larger than the padded input.

    Hints: no loop over output pixels is needed. Gather the patches into a
    matrix of shape (N, C*KH*KW, Ho*Wo), one window per column (the lesson
    draws its transpose, one window per row: either works), with a loop over
    the KH*KW kernel offsets (u, v) copying strided slices of ``xp``, or with
    ``sliding_window_view``, and the
    convolution is ``w.reshape(F, -1) @ cols``. Do not flip the filter: this is
    cross-correlation. Do not modify ``x``; pad a copy.
    """
    ### BEGIN SOLUTION
    x = _float_array(x, "x")
    dtype = x.dtype
    w = np.asarray(w)
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"w must have shape (F, C, KH, KW), got shape {w.shape}")
    N, C, H, W = x.shape
    F, Cw, KH, KW = w.shape
    if Cw != C:
        raise ValueError(f"x has {C} channels but w expects {Cw}")
    if b is not None:
        b = np.asarray(b)
        if b.shape != (F,):
            raise ValueError(f"b must have shape ({F},), got {b.shape}")
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    if KH < 1 or KW < 1:
        raise ValueError(f"the kernel must be at least 1x1, got {KH}x{KW}")
    Ho = conv_output_size(H, KH, sh, ph)
    Wo = conv_output_size(W, KW, sw, pw)

    if ph or pw:
        xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dtype)
        xp[:, :, ph:ph + H, pw:pw + W] = x
    else:
        xp = x
    w2 = w.reshape(F, C * KH * KW).astype(dtype, copy=False)
    if KH == 1 and KW == 1 and xp.shape[2:] == (Ho, Wo):
        # A 1x1 kernel that visits every pixel has the images themselves as its
        # patches: one matrix product per image, on the images as they lie.
        cols = xp.reshape(N, C, Ho * Wo)                   # (N, C, Ho*Wo)
        out = np.matmul(w2, cols).reshape(N, F, Ho, Wo)
    else:
        cols = _im2col(xp, KH, KW, sh, sw, Ho, Wo)        # (C*KH*KW, N*Ho*Wo)
        out = np.empty((N, F, Ho, Wo), dtype=dtype)
        out[...] = np.matmul(w2, cols).reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3)
    if b is not None:
        out += b.astype(dtype, copy=False)[:, None, None]
    cache = (x.shape, xp.shape, w, b is not None, cols, (sh, sw), (ph, pw))
    return out, cache
    ### END SOLUTION


def conv2d_backward(dout, cache):
    """Backward pass of ``conv2d_forward``: gradients as torch autograd gives them.

    Parameters
    ----------
    dout : ndarray, shape (N, F, Ho, Wo)
        Gradient of the loss with respect to ``out``.
    cache : object
        What ``conv2d_forward`` returned.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (F, C, KH, KW)
    db : ndarray of shape (F,), or None when the forward pass had ``b=None``

    With ``cols`` the (N, C*KH*KW, Ho*Wo) patch matrix of the forward pass and
    ``d = dout.reshape(N, F, Ho*Wo)``::

        db = dout.sum(axis=(0, 2, 3))
        dw = sum over n of d[n] @ cols[n].T          (then reshape to w's shape)
        dcols = w.reshape(F, -1).T @ d[n]            (for each n)

    and ``dx`` is ``dcols`` scattered back onto the padded input ("col2im"),
    then cropped to remove the padding.

    Hint: neighbouring windows overlap whenever the stride is smaller than the
    kernel, so one input pixel receives gradient from several windows: ADD the
    contributions (``+=`` over a loop on the KH*KW kernel offsets is enough).
    Plain fancy-index assignment ``dx[idx] = ...`` silently keeps only one of
    them. Pixels that no window covers (floor mode) get zero gradient.
    """
    ### BEGIN SOLUTION
    x_shape, xp_shape, w, has_bias, cols, (sh, sw), (ph, pw) = cache
    N, C, H, W = x_shape
    F, _, KH, KW = w.shape
    dtype = cols.dtype
    dout = np.asarray(dout, dtype=dtype)
    Ho, Wo = dout.shape[2:]
    db = dout.sum(axis=(0, 2, 3)).astype(dtype, copy=False) if has_bias else None
    w2 = w.reshape(F, C * KH * KW).astype(dtype, copy=False)
    if cols.ndim == 3:                                     # the 1x1 layout: (N, C, Ho*Wo)
        d = dout.reshape(N, F, Ho * Wo)
        dw = np.matmul(d, cols.transpose(0, 2, 1)).sum(axis=0)  # sum over n of d[n] @ xp[n].T
        dxp = np.matmul(w2.T, d).reshape(xp_shape)
    else:
        d = dout.transpose(1, 0, 2, 3).reshape(F, N * Ho * Wo)  # the columns' order: (n, i, j)
        # One matrix product each, summing over the whole batch at once.
        dw = np.matmul(d, cols.T)
        dcols = np.matmul(w2.T, d)                         # (C*KH*KW, N*Ho*Wo)
        dxp = _col2im(dcols, xp_shape, KH, KW, sh, sw, Ho, Wo)
    dx = dxp[:, :, ph:ph + H, pw:pw + W] if (ph or pw) else dxp
    dw = dw.reshape(w.shape).astype(w.dtype if w.dtype.kind == "f" else dtype, copy=False)
    return dx, dw, db
    ### END SOLUTION
