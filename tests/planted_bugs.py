"""Planted bugs: classic student mistakes, each a textual edit of a reference solution.

Every entry of ``BUGS`` replaces ``old`` (which must occur exactly once in
``solutions/<file>``) by ``new`` in a COPY of that file. The grader must then
take points off, and at least one failing check must be the one for the contract
name ``function``. ``tests/test_alternatives_and_bugs.py`` enforces both.

The ``old`` strings are written against the text of the reference solutions:
when a reference changes, ``apply_bug`` fails loudly instead of silently grading
an unmodified copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


@dataclass(frozen=True)
class Bug:
    id: str
    file: str       # file name in solutions/, e.g. "conv.py"
    old: str        # text that occurs exactly once in that file
    new: str        # its replacement
    function: str   # the contract name whose check must lose points
    why: str        # one line

    @property
    def part(self) -> str:
        return self.file[:-3] if self.file.endswith(".py") else self.file


def apply_bug(bug: Bug, text: str) -> str:
    """``text`` with the bug planted; ``ValueError`` unless ``old`` occurs exactly once."""
    count = text.count(bug.old)
    if count != 1:
        raise ValueError(f"bug {bug.id}: the old text occurs {count} times in {bug.file}, not once")
    return text.replace(bug.old, bug.new)


def plant(bug: Bug, directory) -> Path:
    """Applies ``bug`` to ``directory/<bug.file>`` (a copy of the reference) in place."""
    path = Path(directory) / bug.file
    path.write_text(apply_bug(bug, path.read_text()))
    return path


BUGS: list[Bug] = [
    # ---------------------------------------------------------------- conv.py
    Bug(
        id="conv_padded_height_short_beyond_two",
        file="conv.py",
        old="xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dtype)",
        new="xp = np.zeros((N, C, H + 2 + ph, W + 2 * pw), dtype=dtype)",
        function="conv2d_forward",
        why="the padded input is H + 2 + ph rows high: right for paddings up to 2, too short above "
            "(a mutant bench_mutation.py found surviving)",
    ),
    Bug(
        id="conv_output_size_refuses_size_zero",
        file="conv.py",
        old="if size < 0:",
        new="if size < 1:",
        function="conv_output_size",
        why="an input of size 0 raises ValueError though the padding holds whole windows "
            "(conv_output_size(0, 3, 1, 2) is 2; a mutant bench_mutation.py found surviving)",
    ),
    Bug(
        id="conv_channels_compared_with_is",
        file="conv.py",
        old="if Cw != C:",
        new="if Cw is not C:",
        function="conv2d_forward",
        why="the channel counts are compared by identity: with more than 256 channels equal ints are "
            "distinct objects and a valid call raises (a mutant bench_mutation.py found surviving)",
    ),
    Bug(
        id="conv_output_size_no_padding",
        file="conv.py",
        old="out = (size + 2 * padding - kernel) // stride + 1",
        new="out = (size - kernel) // stride + 1",
        function="conv_output_size",
        why="the padding is left out of the output-size formula",
    ),
    Bug(
        id="receptive_field_own_stride",
        file="conv.py",
        old="field += (kernel - 1) * jump",
        new="field += (kernel - 1) * jump * stride",
        function="receptive_field",
        why="a layer's kernel is multiplied by its own stride instead of the jump of the layers before it",
    ),
    Bug(
        id="conv_backward_padding_not_cropped",
        file="conv.py",
        old="dx = dxp[:, :, ph:ph + H, pw:pw + W] if (ph or pw) else dxp",
        new="dx = dxp[:, :, :H, :W]",
        function="conv2d_backward",
        why="dx is cut from the top-left corner of the padded gradient instead of cropping the padding away",
    ),
    Bug(
        id="conv_backward_dw_first_sample",
        file="conv.py",
        old="dw = np.matmul(d, cols.T)",
        new="dw = np.matmul(d[:, :Ho * Wo], cols[:, :Ho * Wo].T)",
        function="conv2d_backward",
        why="dw is taken from the first sample only instead of summed over the batch",
    ),
    Bug(
        id="conv_backward_db_batch_mean",
        file="conv.py",
        old="db = dout.sum(axis=(0, 2, 3)).astype(dtype, copy=False) if has_bias else None",
        new="db = dout.mean(axis=0).sum(axis=(1, 2)).astype(dtype, copy=False) if has_bias else None",
        function="conv2d_backward",
        why="db averages over the batch instead of summing over it",
    ),
    Bug(
        id="conv_forward_stride_axes_swapped",
        file="conv.py",
        old='    sh, sw = _pair(stride, "stride")',
        new='    sw, sh = _pair(stride, "stride")',
        function="conv2d_forward",
        why="the vertical stride is applied to the width and the horizontal one to the height",
    ),
    Bug(
        id="conv_backward_assign_not_add",
        file="conv.py",
        old="dxc[:, :, i:i + sh * (Ho - 1) + 1:sh, j:j + sw * (Wo - 1) + 1:sw] += dcols[:, i, j]",
        new="dxc[:, :, i:i + sh * (Ho - 1) + 1:sh, j:j + sw * (Wo - 1) + 1:sw] = dcols[:, i, j]",
        function="conv2d_backward",
        why="= instead of +=: where windows overlap, each kernel offset overwrites the gradient of the ones before",
    ),
    Bug(
        id="conv_backward_stride_wrong_axis",
        file="conv.py",
        old="dxc[:, :, i:i + sh * (Ho - 1) + 1:sh, j:j + sw * (Wo - 1) + 1:sw] += dcols[:, i, j]",
        new="dxc[:, :, i:i + sw * (Ho - 1) + 1:sw, j:j + sh * (Wo - 1) + 1:sh] += dcols[:, i, j]",
        function="conv2d_backward",
        why="col2im scatters rows with the horizontal stride and columns with the vertical one",
    ),
    Bug(
        id="conv_forward_flipped_filter",
        file="conv.py",
        old="w2 = w.reshape(F, C * KH * KW).astype(dtype, copy=False)\n    if KH == 1 and KW == 1 and xp.shape[2:] == (Ho, Wo):",
        new="w2 = w[:, :, ::-1, ::-1].reshape(F, C * KH * KW).astype(dtype, copy=False)\n    if KH == 1 and KW == 1 and xp.shape[2:] == (Ho, Wo):",
        function="conv2d_forward",
        why="the filter is flipped (true convolution) while torch computes cross-correlation",
    ),
    # ------------------------------------------------------------- pooling.py
    Bug(
        id="max_pool_backward_assign_not_add",
        file="pooling.py",
        old="np.add.at(dxp, index.ravel(), dout.ravel())",
        new="dxp[index.ravel()] = dout.ravel()",
        function="max_pool2d_backward",
        why="= instead of +=: an element that is the maximum of several overlapping windows keeps one window's gradient",
    ),
    Bug(
        id="max_pool_backward_offset_transposed",
        file="pooling.py",
        old="i, j = np.divmod(argmax, KW)",
        new="j, i = np.divmod(argmax, KH)",
        function="max_pool2d_backward",
        why="the stored offset of the maximum is decoded transposed, so the gradient goes to the wrong element",
    ),
    Bug(
        id="max_pool_backward_all_tied_maxima",
        file="pooling.py",
        old=(
            "    cache = (x.shape, xp.shape, x.dtype, argmax, (KH, KW), (sh, sw), (ph, pw))\n"
            "    return out, cache\n"
            "    ### END SOLUTION\n"
            "\n"
            "\n"
            "def max_pool2d_backward(dout, cache):\n"
        ),
        new=(
            "    cache = (x.shape, xp, out, (KH, KW), (sh, sw), (ph, pw))\n"
            "    return out, cache\n"
            "\n"
            "\n"
            "def max_pool2d_backward(dout, cache):\n"
            "    # Every element equal to its window's maximum gets the window's gradient.\n"
            "    x_shape, xp, out, (KH, KW), (sh, sw), (ph, pw) = cache\n"
            "    N, C, H, W = x_shape\n"
            "    Ho, Wo = out.shape[2:]\n"
            "    dxp = np.zeros(xp.shape, dtype=xp.dtype)\n"
            "    for i in range(KH):\n"
            "        for j in range(KW):\n"
            "            window = (slice(None), slice(None), slice(i, i + sh * (Ho - 1) + 1, sh),\n"
            "                      slice(j, j + sw * (Wo - 1) + 1, sw))\n"
            "            dxp[window] += np.where(xp[window] == out, dout, 0)\n"
            "    return dxp[:, :, ph:ph + H, pw:pw + W]\n"
            "\n"
            "\n"
            "def _unused_max_pool2d_backward(dout, cache):\n"
        ),
        function="max_pool2d_backward",
        why="a window with tied maxima sends its whole gradient to every one of them",
    ),
    Bug(
        id="avg_pool_divides_by_unpadded_count",
        file="pooling.py",
        old="out /= KH * KW",
        new=(
            "ones = _pad(np.ones((1, 1) + x.shape[2:], dtype=x.dtype), ph, pw, 0)\n"
            "    count = sum(ones[:, :, i:i + sh * (Ho - 1) + 1:sh, j:j + sw * (Wo - 1) + 1:sw]\n"
            "                for i in range(KH) for j in range(KW))\n"
            "    out /= count"
        ),
        function="avg_pool2d_forward",
        why="windows are divided by their number of real pixels (count_include_pad=False)",
    ),
    Bug(
        id="avg_pool_backward_assign_not_add",
        file="pooling.py",
        old="dxp[:, :, i:i + sh * (Ho - 1) + 1:sh] += drow_sums\n",
        new="dxp[:, :, i:i + sh * (Ho - 1) + 1:sh] = drow_sums\n",
        function="avg_pool2d_backward",
        why="= instead of +=: overlapping windows keep only the last contribution",
    ),
    Bug(
        id="adaptive_pool_floor_end",
        file="pooling.py",
        old="end = -((-(i + 1) * size) // out_size)",
        new="end = ((i + 1) * size) // out_size",
        function="adaptive_avg_pool2d_forward",
        why="the window end uses floor instead of ceil, so windows are too short (or empty)",
    ),
    Bug(
        id="adaptive_pool_backward_no_area",
        file="pooling.py",
        old="g = np.asarray(dout, dtype=P.dtype) / area",
        new="g = np.asarray(dout, dtype=P.dtype)",
        function="adaptive_avg_pool2d_backward",
        why="the upstream gradient is not divided by the window's area",
    ),
    # ----------------------------------------------------------- batchnorm.py
    Bug(
        id="bn_running_var_biased",
        file="batchnorm.py",
        old="running_var += momentum * var * (N / (N - 1))",
        new="running_var += momentum * var",
        function="batchnorm_forward",
        why="the running variance is updated with the biased batch variance instead of the unbiased one",
    ),
    Bug(
        id="bn_momentum_reversed",
        file="batchnorm.py",
        old=(
            "running_mean *= 1 - momentum\n"
            "        running_mean += momentum * mean\n"
            "        running_var *= 1 - momentum\n"
            "        running_var += momentum * var * (N / (N - 1))\n"
        ),
        new=(
            "running_mean *= momentum\n"
            "        running_mean += (1 - momentum) * mean\n"
            "        running_var *= momentum\n"
            "        running_var += (1 - momentum) * var * (N / (N - 1))\n"
        ),
        function="batchnorm_forward",
        why="momentum weighs the old running value instead of the new batch statistic (Keras' convention)",
    ),
    Bug(
        id="bn_running_mean_rebound",
        file="batchnorm.py",
        old="running one.\n        running_mean *= 1 - momentum\n        running_mean += momentum * mean\n",
        new="running one.\n        running_mean = (1 - momentum) * running_mean + momentum * mean\n",
        function="batchnorm_forward",
        why="the running mean is rebound to a new array, so the caller's array is never updated",
    ),
    Bug(
        id="bn_backward_without_eps",
        file="batchnorm.py",
        old="        x_hat *= inv_std\n",
        new="        x_hat *= inv_std\n        inv_std = 1.0 / np.sqrt(var)  # cached for the backward pass, eps forgotten\n",
        function="batchnorm_backward",
        why="the backward pass divides by sqrt(var) without eps",
    ),
    Bug(
        id="bn_eval_uses_batch_stats",
        file="batchnorm.py",
        old=(
            "        mean = np.asarray(running_mean, dtype=dtype)\n"
            "        inv_std = 1.0 / np.sqrt(np.asarray(running_var, dtype=dtype) + eps)\n"
            "        x_hat = (x - mean) * inv_std\n"
        ),
        new=(
            "        mean = x.mean(axis=0)\n"
            "        inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)\n"
            "        x_hat = (x - mean) * inv_std\n"
        ),
        function="batchnorm_forward",
        why="evaluation mode normalises with the batch statistics instead of the running ones",
    ),
    Bug(
        id="bn_input_modified_in_place",
        file="batchnorm.py",
        old="        x_hat = x - mean ",
        new="        x -= mean\n        x_hat = x.copy() ",
        function="batchnorm_forward",
        why="the mean is subtracted in place from the caller's input",
    ),
    Bug(
        id="bn_backward_missing_mean_terms",
        file="batchnorm.py",
        old="        dx = x_hat * (-dgamma / N)\n        dx += dout\n        dx -= dbeta / N\n",
        new="        dx = dout.copy()\n",
        function="batchnorm_backward",
        why="training-mode dx ignores that the batch mean and variance depend on x",
    ),
    Bug(
        id="spatial_bn_running_var_unbiased_over_batch_only",
        file="batchnorm.py",
        old="running_var += momentum * var * (values_per_channel / (values_per_channel - 1))",
        new="running_var += momentum * var * (N / (N - 1))",
        function="spatial_batchnorm_forward",
        why="the running variance is made unbiased with the batch size N, as in (N, D) BatchNorm, "
            "not with the N*H*W values of a channel",
    ),
    Bug(
        id="spatial_bn_backward_means_over_batch_only",
        file="batchnorm.py",
        old="        values_per_channel = N * H * W\n        dx = ",
        new="        values_per_channel = N\n        dx = ",
        function="spatial_batchnorm_backward",
        why="dx's two mean terms divide the channel's sums by the batch size N, not by its N*H*W values",
    ),
    Bug(
        id="spatial_bn_one_value_per_channel_accepted",
        file="batchnorm.py",
        old="if values_per_channel < 2:",
        new="if values_per_channel < 1:",
        function="spatial_batchnorm_forward",
        why="training on a batch with one value per channel (N*H*W == 1) divides by zero in the running "
            "variance instead of raising ValueError (a mutant bench_mutation.py found surviving)",
    ),
    Bug(
        id='conv_output_size_default_stride',
        file='conv.py',
        old='def conv_output_size(size, kernel, stride=1, padding=0):',
        new='def conv_output_size(size, kernel, stride=2, padding=0):',
        function='conv_output_size',
        why='the documented default stride=1 is 2: only a call without stride shows it',
    ),
    Bug(
        id='conv_forward_default_stride',
        file='conv.py',
        old='def conv2d_forward(x, w, b, stride=1, padding=0):',
        new='def conv2d_forward(x, w, b, stride=2, padding=0):',
        function='conv2d_forward',
        why='the documented default stride=1 is 2: only a call without stride shows it',
    ),
    Bug(
        id="pool_padding_checked_on_height_only",
        file="pooling.py",
        old="if 2 * ph > KH or 2 * pw > KW:",
        new="if 2 * ph > KH:",
        function="max_pool2d_forward",
        why="a padding above half the kernel raises only along the height, not along the width",
    ),
    Bug(
        id="adaptive_none_entry_read_from_the_other_axis",
        file="pooling.py",
        old="Ho, Wo = (H if output_size[0] is None else",
        new="Ho, Wo = (H if output_size[1] is None else",
        function="adaptive_avg_pool2d_forward",
        why="the height's None test reads the width's entry: output_size=(4, None) gives H rows, (None, 3) raises",
    ),
    Bug(
        id='max_pool_default_padding',
        file='pooling.py',
        old='def max_pool2d_forward(x, kernel_size, stride=None, padding=0):',
        new='def max_pool2d_forward(x, kernel_size, stride=None, padding=1):',
        function='max_pool2d_forward',
        why='the documented default padding=0 is 1: only a call without padding shows it',
    ),
    Bug(
        id='avg_pool_default_stride_one',
        file='pooling.py',
        old='def avg_pool2d_forward(x, kernel_size, stride=None, padding=0):',
        new='def avg_pool2d_forward(x, kernel_size, stride=1, padding=0):',
        function='avg_pool2d_forward',
        why='stride=None (the kernel size) is 1 by default: overlapping windows when stride is left out',
    ),
    Bug(
        id='batchnorm_default_training_false',
        file='batchnorm.py',
        old='def batchnorm_forward(x, gamma, beta, running_mean, running_var,\n                      training=True, momentum=0.1, eps=1e-5):',
        new='def batchnorm_forward(x, gamma, beta, running_mean, running_var,\n                      training=False, momentum=0.1, eps=1e-5):',
        function='batchnorm_forward',
        why='the documented default training=True is False: a call without training uses the running statistics',
    ),
    Bug(
        id='batchnorm_default_eps',
        file='batchnorm.py',
        old='def batchnorm_forward(x, gamma, beta, running_mean, running_var,\n                      training=True, momentum=0.1, eps=1e-5):',
        new='def batchnorm_forward(x, gamma, beta, running_mean, running_var,\n                      training=True, momentum=0.1, eps=1e-3):',
        function='batchnorm_forward',
        why='the documented default eps=1e-5 is 1e-3: only a call without eps shows it',
    ),
    Bug(
        id='spatial_batchnorm_default_training_false',
        file='batchnorm.py',
        old='def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var,\n                              training=True, momentum=0.1, eps=1e-5):',
        new='def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var,\n                              training=False, momentum=0.1, eps=1e-5):',
        function='spatial_batchnorm_forward',
        why='the documented default training=True is False: a call without training uses the running statistics',
    ),
    Bug(
        id='spatial_batchnorm_default_momentum',
        file='batchnorm.py',
        old='def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var,\n                              training=True, momentum=0.1, eps=1e-5):',
        new='def spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var,\n                              training=True, momentum=0.9, eps=1e-5):',
        function='spatial_batchnorm_forward',
        why='the documented default momentum=0.1 is 0.9: the running statistics move by 0.9 when momentum is left out',
    ),
    # -------------------------------------------------------------- layers.py
    Bug(
        id="linear_dw_transposed",
        file="layers.py",
        old="dw = d2.T @ x.reshape(-1, w.shape[1])",
        new="dw = x.reshape(-1, w.shape[1]).T @ d2",
        function="linear_backward",
        why="dw = x.T @ dout has the layout of w.T, not torch's (D_out, D_in)",
    ),
    Bug(
        id="linear_sizes_compared_with_is",
        file="layers.py",
        old="    if x.ndim < 1 or x.shape[-1] != w.shape[1]:\n",
        new="    if x.ndim < 1 or x.shape[-1] is not w.shape[1]:\n",
        function="linear_forward",
        why="sizes compared with `is not`: true for equal sizes above 256 (distinct int objects), so a valid x raises",
    ),
    Bug(
        id="relu_gradient_one_at_zero",
        file="layers.py",
        old="np.where(x <= 0, np.zeros((), dtype=x.dtype), dout)",
        new="np.where(x < 0, np.zeros((), dtype=x.dtype), dout)",
        function="relu_backward",
        why="the mask is x >= 0, so the gradient at exactly 0 is passed through",
    ),
    Bug(
        id="sigmoid_overflow_nan",
        file="layers.py",
        old="out = np.where(x >= 0, 1.0, e) / (1.0 + e)",
        new="out = np.exp(x) / (1.0 + np.exp(x))",
        function="sigmoid_forward",
        why="exp(x) / (1 + exp(x)) is inf / inf = NaN for x = 1000",
    ),
    Bug(
        id="dropout_scales_at_eval",
        file="layers.py",
        old="return x.copy(), None",
        new="return x * (1.0 - p), None",
        function="dropout_forward",
        why="evaluation mode scales by 1 - p as in non-inverted dropout, on top of the training-time scaling",
    ),
    Bug(
        id="dropout_keep_inverted",
        file="layers.py",
        old="    keep = rng.random(x.shape) >= p   # the one draw from rng",
        new="    keep = rng.random(x.shape) < p   # the one draw from rng",
        function="dropout_forward",
        why="p is treated as the keep probability: keep = rng.random < p",
    ),
    Bug(
        id="dropout_backward_not_scaled",
        file="layers.py",
        old="return dout * keep / (1.0 - p)",
        new="return dout * keep",
        function="dropout_backward",
        why="the backward pass applies the mask but forgets the 1 / (1 - p) scaling",
    ),
    Bug(
        id="softmax_no_max_subtracted",
        file="layers.py",
        old="shifted = logits - logits.max(axis=1, keepdims=True)",
        new="shifted = logits",
        function="softmax_cross_entropy",
        why="without subtracting the row maximum, exp overflows for logits of 1e4",
    ),
    Bug(
        id="cross_entropy_summed",
        file="layers.py",
        old="loss = -float(log_probs[rows, y].mean())",
        new="loss = -float(log_probs[rows, y].sum())",
        function="softmax_cross_entropy",
        why="the loss is summed over the batch instead of averaged",
    ),
    Bug(
        id="cross_entropy_gradient_not_averaged",
        file="layers.py",
        old="    dlogits /= N\n",
        new="",
        function="softmax_cross_entropy",
        why="the gradient is not divided by the batch size",
    ),
    # ------------------------------------------- issue 22: widened examples
    Bug(
        id="conv_one_by_one_shortcut_ignores_width_stride",
        file="conv.py",
        old="if KH == 1 and KW == 1 and xp.shape[2:] == (Ho, Wo):",
        new="if KH == 1 and KW == 1 and xp.shape[2] == Ho:",
        function="conv2d_forward",
        why="the 1x1 shortcut compares the output height only, so a stride along the width alone takes it (a mutant bench_mutation.py found surviving)",
    ),
    Bug(
        id="max_pool_argmax_uint8_up_to_257",
        file="pooling.py",
        old="dtype=np.uint8 if KH * KW <= 256 else np.intp)",
        new="dtype=np.uint8 if KH * KW <= 257 else np.intp)",
        function="max_pool2d_backward",
        why="a 257-element kernel keeps its argmax in uint8: offset 256 wraps to 0 (a mutant bench_mutation.py found surviving)",
    ),
    Bug(
        id="conv_output_size_default_padding",
        file="conv.py",
        old="def conv_output_size(size, kernel, stride=1, padding=0):",
        new="def conv_output_size(size, kernel, stride=1, padding=1):",
        function="conv_output_size",
        why="the documented default padding=0 is 1: only a call without padding shows it",
    ),
    Bug(
        id="receptive_field_consumes_layers",
        file="conv.py",
        old="    for layer in layers:\n        try:\n            kernel, stride = layer\n",
        new="    while layers:\n        layer = layers.pop(0)\n        try:\n            kernel, stride = layer\n",
        function="receptive_field",
        why="the right field, but the caller's list of layers is emptied (popped from)",
    ),
    Bug(
        id="conv_forward_default_padding",
        file="conv.py",
        old="def conv2d_forward(x, w, b, stride=1, padding=0):",
        new="def conv2d_forward(x, w, b, stride=1, padding=1):",
        function="conv2d_forward",
        why="the documented default padding=0 is 1: only a call without padding shows it",
    ),
    Bug(
        id="max_pool_argmax_uint8",
        file="pooling.py",
        old="argmax = np.zeros(out.shape, dtype=np.uint8 if KH * KW <= 256 else np.intp)",
        new="argmax = np.zeros(out.shape, dtype=np.uint8)",
        function="max_pool2d_backward",
        why="the argmax offset is kept in uint8 and wraps round for kernels of more than 256 elements",
    ),
    Bug(
        id="pool_padding_capped_at_two",
        file="pooling.py",
        old='    ph, pw = _pair(padding, "padding")\n    if KH < 1',
        new='    ph, pw = (min(v, 2) for v in _pair(padding, "padding"))\n    if KH < 1',
        function="max_pool2d_backward",
        why="paddings above 2 are cut to 2 (as if no kernel were wider than 5); half a kernel of 6 is 3",
    ),
    Bug(
        id="pool_kernel_too_large_zero_division",
        file="pooling.py",
        old='    if Ho < 1 or Wo < 1:\n        raise ValueError(\n            f"kernel {(KH, KW)}',
        new='    if Ho < 1 or Wo < 1:\n        raise ZeroDivisionError(\n            f"kernel {(KH, KW)}',
        function="max_pool2d_forward",
        why="a kernel larger than the padded input raises ZeroDivisionError instead of ValueError",
    ),
    Bug(
        id="pool_stride_zero_on_one_axis",
        file="pooling.py",
        old="    if sh < 1 or sw < 1:\n",
        new="    if sh < 1 and sw < 1:\n",
        function="max_pool2d_forward",
        why="a stride of 0 along one axis only is let through (and divides by zero)",
    ),
    Bug(
        id="max_pool_default_stride_one",
        file="pooling.py",
        old="def max_pool2d_forward(x, kernel_size, stride=None, padding=0):",
        new="def max_pool2d_forward(x, kernel_size, stride=1, padding=0):",
        function="max_pool2d_forward",
        why="the documented default stride=None (the kernel size) is 1",
    ),
    Bug(
        id="avg_pool_default_padding",
        file="pooling.py",
        old="def avg_pool2d_forward(x, kernel_size, stride=None, padding=0):",
        new="def avg_pool2d_forward(x, kernel_size, stride=None, padding=1):",
        function="avg_pool2d_forward",
        why="the documented default padding=0 is 1",
    ),
    Bug(
        id="spatial_batchnorm_default_eps",
        file="batchnorm.py",
        old="                              training=True, momentum=0.1, eps=1e-5):",
        new="                              training=True, momentum=0.1, eps=1e-3):",
        function="spatial_batchnorm_forward",
        why="the documented default eps=1e-5 of spatial_batchnorm_forward is 1e-3",
    ),
    Bug(
        id="batchnorm_default_momentum",
        file="batchnorm.py",
        old='                      training=True, momentum=0.1, eps=1e-5):\n    """Forward pass of batch normalisation for (N, D)',
        new='                      training=True, momentum=0.9, eps=1e-5):\n    """Forward pass of batch normalisation for (N, D)',
        function="batchnorm_forward",
        why="the documented default momentum=0.1 of batchnorm_forward is 0.9",
    ),
    Bug(
        id="dropout_backward_scales_dout_in_place",
        file="layers.py",
        old="    return dout * keep / (1.0 - p)\n",
        new="    dout *= keep / (1.0 - p)\n    return dout\n",
        function="dropout_backward",
        why="the backward multiplies the caller's dout in place (da *= mask / keep): right dx, changed input",
    ),
]

assert len({bug.id for bug in BUGS}) == len(BUGS), "bug ids must be unique"
