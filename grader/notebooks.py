"""The lesson notebooks, one per part, built with nbformat from this one source.

Each notebook is: what the part is and why (the lesson, with figures drawn when the
notebook runs), the part's whole file in one ``%%writefile <part>.py`` cell (taken from
``solutions/`` with its ``### BEGIN SOLUTION`` / ``### END SOLUTION`` regions), cells that
use the student's code (figures), and one graded test cell per rubric check
(``assert_check(id)``, worth the check's points; a hidden check's call sits in
nbgrader's ``### BEGIN HIDDEN TESTS`` region).

Two versions come out of it:

- the *source* version (solutions and hidden tests in it): an nbgrader course's
  ``source/`` notebook (:mod:`grader.nbgrader_course`); instructors only;
- the *student* version, what nbgrader's ``generate_assignment`` makes of the source:
  the solution regions become the stubs of ``assignments/`` (``grader.stubs``), the
  hidden tests vanish. ``notebooks/`` holds it and the student release ships it.

After editing the lessons, the solutions or the rubric: ``python -m grader.notebooks``
rewrites ``notebooks/`` (a test fails while it is stale).
"""

from __future__ import annotations

import argparse
import copy
import sys
import textwrap
from pathlib import Path

from grader import rubric as rubric_module
from grader.stubs import strip_solutions

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
NOTEBOOKS = ROOT / "notebooks"
PARTS = ("conv", "pooling", "batchnorm", "layers", "modules", "networks", "train")
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


class InstructorOnly(RuntimeError):
    """Building the notebooks needs the kit's solutions/, which the student release lacks."""


def notebook_name(part: str) -> str:
    return f"{PARTS.index(part) + 1:02d}_{part}.ipynb"


def _md(text: str) -> tuple:
    return ("markdown", textwrap.dedent(text).strip("\n"))


def _code(text: str) -> tuple:
    return ("code", textwrap.dedent(text).strip("\n"))


TITLES = {
    "conv": "Convolution",
    "pooling": "Pooling",
    "batchnorm": "Batch normalisation",
    "layers": "Fully connected layers, activations, dropout and the loss",
    "modules": "Layers as modules",
    "networks": "Classic networks: LeNet-5, AlexNet, VGG-16, ResNet",
    "train": "Training LeNet-5 on handwritten digits",
}

NAMES = {
    "conv": "`conv_output_size`, `receptive_field`, `conv2d_forward`, `conv2d_backward`",
    "pooling": "`max_pool2d_forward`/`_backward`, `avg_pool2d_forward`/`_backward`, "
               "`adaptive_avg_pool2d_forward`/`_backward`",
    "batchnorm": "`batchnorm_forward`/`_backward` and `spatial_batchnorm_forward`/`_backward`",
    "layers": "`linear_*`, `relu_*`, `sigmoid_*`, `dropout_*` (forward and backward) and "
              "`softmax_cross_entropy`",
    "modules": "the `forward` and `backward` of `Linear`, `Conv2d`, the pooling layers, "
               "`BatchNorm1d`/`2d`, `ReLU`, `Sigmoid`, `Dropout`, `Flatten` and `Sequential`",
    "networks": "`LeNet5`, `AlexNet`, `VGG16`, `BasicBlock`, `Bottleneck`, `ResNet`",
    "train": "`sgd_step` and `train_lenet`",
}

NEEDS = {
    "modules": "conv.py, pooling.py, batchnorm.py and layers.py",
    "networks": "modules.py (and the files it imports)",
    "train": "layers.py and networks.py (and the files they import)",
}

IMPORTS = _code("""
    import numpy as np
    import matplotlib.pyplot as plt

    from grader.data import load_mnist
    from grader.nbgrader_course import fresh_import
""")


INTRO = textwrap.dedent("""\
    # Part {number} of {count}: {title}

    {summary}

    **You write** `{part}.py`: {names}. NumPy only (and `math` and the standard library):
    the grader compares your results with PyTorch's, on examples it draws itself, forward
    and backward.{needs}

    **How this notebook works.** Read the lesson, then fill in the cell that starts with
    `%%writefile {part}.py`: replace every `raise NotImplementedError()` with your code, and
    run the cell. It saves `{part}.py` next to this notebook. The cells after it draw figures
    with your code and run the grader's checks on your file; run the file cell again after
    every change. You may instead edit `{part}.py` in an editor and grade it from a terminal
    with `grader check <folder> --part {part}`, but then do not run the file cell any more:
    it would overwrite the file with the cell's text.""")


def _intro(part: str) -> tuple:
    needs = (f"\n\nThis part builds on your {NEEDS[part]}: run the earlier notebooks' file cells "
             "first, in this same folder." if part in NEEDS else "")
    return ("markdown", INTRO.format(number=PARTS.index(part) + 1, count=len(PARTS), title=TITLES[part],
                                     summary=SUMMARIES[part], part=part, names=NAMES[part], needs=needs))


SUMMARIES = {
    "conv": "Convolutional networks are the models that computer vision uses most. This "
            "notebook starts the series with their central layer, the convolution: what it "
            "computes (and why every framework's \"convolution\" is in fact a "
            "cross-correlation), how big its output is, how much of the image one output "
            "value sees, and how its gradients flow back.",
    "pooling": "A pooling layer shrinks a feature map by summarising each small window of it in "
               "one number, its maximum or its average. It has nothing to learn, yet every "
               "classic network uses it: it cuts the computation, widens what later layers see, "
               "and makes the features less sensitive to exactly where a pattern sits.",
    "batchnorm": "Batch normalisation (BatchNorm) rescales the outputs of a layer so that each "
                 "feature has mean 0 and variance 1 over the mini-batch, then lets the network "
                 "pick a scale and an offset of its own. It made deep networks much easier to "
                 "train, and it behaves differently in training and in evaluation: both modes are "
                 "part of the exercise.",
    "layers": "The remaining pieces of a classic network: the fully connected (linear) layer, "
              "the activations sigmoid and ReLU, dropout, and the softmax cross-entropy loss that "
              "turns the network's scores into a number to minimise.",
    "modules": "Functions with explicit caches are fine for one layer; a network of fifty layers "
               "needs bookkeeping. This notebook wraps your functions into stateful layers in "
               "the style of `torch.nn`, with torch's names, so that a torch model's weights load "
               "into yours.",
    "networks": "With the layers in hand, you build the networks that marked the history of "
                "image classification, each adding one idea to the one before: LeNet-5, AlexNet, "
                "VGG-16 and ResNet.",
    "train": "The last step: an optimiser (SGD with momentum and weight decay, as torch's) and a "
             "training loop that teaches your LeNet-5 to read handwritten digits, at least 97% "
             "right on digits it has never seen.",
}


# -- the lessons -----------------------------------------------------------------------------
# Each part: cells before the file cell (the lesson) and after it (figures with the
# student's code). Figures before the file cell use NumPy and matplotlib only.

LESSONS: dict = {}

LESSONS["conv"] = dict(before=[
    _md(r"""
        ## 1. What a convolution layer computes

        In mathematics a convolution is an integral transform; image processing uses its
        discrete form. Take a small grid of weights, the *kernel* (or *filter*), lay it over
        a patch of the image, multiply the numbers that lie on top of each other and add the
        products: that sum is one output value. Slide the kernel one step and repeat, over
        every position where it fits. The output is again a grid of numbers, a *feature map*.

        One detail differs from the textbook definition. The mathematicians' convolution
        flips the kernel (it uses `w[-i, -j]`); the layers of convolutional networks do not
        flip it, which makes what they compute a **cross-correlation**. Since the network
        learns its kernels, the flip makes no difference to what it can learn (a network
        that would learn a kernel under one convention learns its mirror image under the
        other), so PyTorch, TensorFlow and the other frameworks all compute the
        cross-correlation and call it convolution. So do we. For one channel:

        $$\text{out}[r, s] = \sum_{i, j} w[i, j]\; x[r + i,\; s + j]$$

        A real layer sees several input channels (red, green and blue; or the feature maps
        of the layer before) and has several filters. Each filter has one kernel slice per
        input channel and adds over the channels as well; each filter gives one output
        channel, plus its own bias:

        $$\text{out}[n, f, r, s] = b[f] + \sum_{c, i, j} w[f, c, i, j]\;
          x_p[n, c,\; r\,s_h + i,\; s\,s_w + j]$$

        where $x_p$ is the input with `padding` zeros around it and $(s_h, s_w)$ the stride,
        the step of the sliding window. Shapes: `x` (N, C, H, W), `w` (F, C, KH, KW),
        `out` (N, F, Ho, Wo).

        A tiny example: a 4×4 input and a 2×2 kernel.
    """),
    IMPORTS,
    _code("""
        x = np.arange(16.0).reshape(4, 4)
        w = np.array([[1.0, 0.0],
                      [0.0, -1.0]])
        print(x)
        print("output at (0, 0):", (x[0:2, 0:2] * w).sum())   # 0*1 + 5*(-1)
        print("output at (1, 2):", (x[1:3, 2:4] * w).sum())   # 6*1 + 11*(-1)
        print("with the kernel flipped (a true convolution):", (x[0:2, 0:2] * w[::-1, ::-1]).sum())
    """),
    _md(r"""
        Every position gives −5 here: this kernel measures how much the value drops along
        the diagonal, and in this input it drops by 5 everywhere. The flipped kernel gives
        +5: the two conventions differ, and the grader expects the cross-correlation.

        On a real image: below, a 5×5 window over a digit and the single output value it
        produces. Sliding it over the 32×32 image gives a 28×28 feature map.
    """),
    _code("""
        from matplotlib.patches import Rectangle

        X, y = load_mnist("train")
        image = X[0, 0]
        r, s, k = 9, 12, 5
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4.2))
        left.imshow(image, cmap="gray_r")
        left.add_patch(Rectangle((s - 0.5, r - 0.5), k, k, fill=False, edgecolor="red", linewidth=2))
        left.set_title(f"input 32×32: a {k}×{k} window at ({r}, {s})")
        where = np.zeros((28, 28))
        where[r, s] = 1
        right.imshow(where, cmap="Reds")
        right.set_title(f"output 28×28: the value it gives, at ({r}, {s})")
        plt.show()
    """),
    _md(r"""
        ## 2. The size of the output

        Along one axis, an input of size $n$ padded by $p$ zeros on each side is $n + 2p$
        long. The windows start at $0, s, 2s, \dots$ and a window of size $k$ must fit
        entirely, so the number of windows is

        $$n_\text{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 .$$

        A window that would stick out past the end is dropped (the "floor mode" of torch).
        Worked examples:

        | layer | n | k | s | p | output |
        | --- | --- | --- | --- | --- | --- |
        | LeNet-5's first convolution | 32 | 5 | 1 | 0 | (32 − 5) / 1 + 1 = **28** |
        | the 2×2 pooling after it | 28 | 2 | 2 | 0 | (28 − 2) / 2 + 1 = **14** |
        | a 3×3 convolution with padding 1 ("same" size) | 56 | 3 | 1 | 1 | (56 + 2 − 3) / 1 + 1 = **56** |
        | ResNet's first convolution | 224 | 7 | 2 | 3 | ⌊(224 + 6 − 7) / 2⌋ + 1 = 111 + 1 = **112** |
        | floor mode: the last window does not fit | 6 | 3 | 2 | 0 | ⌊3 / 2⌋ + 1 = **2** |

        If no window fits at all ($n + 2p < k$) there is no output, and `conv_output_size`
        raises `ValueError`.

        ## 3. The receptive field

        Each output value is computed from a region of the input, of the kernel's size for
        one layer: change any pixel inside that region and the output value can change;
        change a pixel outside it and it cannot. That region is the output value's
        **receptive field**. For a single 3×3 convolution it is 3×3.

        Stacking layers widens it. A value of the second of two 3×3 convolutions sees 3×3
        values of the first layer, and each of those sees 3×3 pixels; neighbouring windows
        overlap, so together they cover 5×5 pixels. Strides widen it faster: after a layer of
        stride 2, neighbouring values of that layer sit 2 input pixels apart, so the next
        layer's kernel spans twice as many pixels.

        Keep two numbers while walking from the input towards the output: the receptive
        field $r$ (1 before any layer) and the *jump* $j$, the distance in input pixels
        between two neighbouring values of the current layer (1 at the input). A layer with
        kernel $k$ and stride $s$ gives

        $$r \leftarrow r + (k - 1)\,j, \qquad j \leftarrow j\,s .$$

        Worked example, LeNet-5 (pooling layers count too):

        | layer | k | s | r | j |
        | --- | --- | --- | --- | --- |
        | input | | | 1 | 1 |
        | conv1 | 5 | 1 | 1 + 4·1 = 5 | 1 |
        | pool1 | 2 | 2 | 5 + 1·1 = 6 | 2 |
        | conv2 | 5 | 1 | 6 + 4·2 = 14 | 2 |
        | pool2 | 2 | 2 | 14 + 1·2 = 16 | 4 |
        | conv3 | 5 | 1 | 16 + 4·4 = **32** | 4 |

        One value of conv3 sees the whole 32×32 digit, which is why conv3's output is 1×1
        (with 120 channels). And two 3×3 convolutions see 5×5 pixels, as one 5×5
        convolution does, with 2·9 = 18 weights per channel pair instead of 25: the
        argument of VGG (part 6). Padding does not change the receptive field.

        ## 4. The backward pass

        Given `dout`, the gradient of the loss with respect to `out`, the layer returns the
        gradients of its input, its weights and its bias. Each follows from the formula of
        section 1:

        - `db[f]` adds `dout[n, f, r, s]` over the batch and every position;
        - `dw[f, c, i, j]` adds `dout[n, f, r, s] * xp[n, c, r*sh + i, s*sw + j]` over `n`, `r`,
          `s`: the same patches as the forward pass, weighted by `dout`;
        - `dx`: every window sends `w * dout[n, f, r, s]` back to the input pixels it covered.
          Where windows overlap (a stride smaller than the kernel) a pixel receives several
          contributions, which **add up**. Compute the gradient of the padded input, then
          crop the padding away; a pixel that no window covered gets 0.

        Loops over output pixels are slow in Python. The fast way, which the docstrings
        describe, gathers all the patches into the columns of one matrix ("im2col") so that
        the forward pass is one matrix product, and the backward pass reuses it.
    """),
], after=[
    _md("""
        ## Your convolution at work

        Four hand-made 3×3 filters on a digit, through your `conv2d_forward` (padding 1 keeps
        the 32×32 size): two edge detectors (left-to-right and top-to-bottom changes of
        brightness), a diagonal one, and a blur. The first layers of a trained network learn
        filters much like these.
    """),
    _code("""
        conv = fresh_import("conv")
        X, y = load_mnist("train")
        digit = X[:1]                                          # (1, 1, 32, 32)
        filters = np.array([
            [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],              # vertical edges
            [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],              # horizontal edges
            [[0, 1, 2], [-1, 0, 1], [-2, -1, 0]],              # a diagonal
            np.full((3, 3), 1 / 9),                            # a blur
        ], dtype=float)[:, None]                               # (4, 1, 3, 3)
        try:
            maps, _ = conv.conv2d_forward(digit, filters, None, stride=1, padding=1)
        except NotImplementedError:
            print("conv2d_forward is not written yet: run this cell again once it is.")
        else:
            names = ["vertical edges", "horizontal edges", "diagonal", "blur"]
            fig, axes = plt.subplots(1, 5, figsize=(14, 3))
            axes[0].imshow(digit[0, 0], cmap="gray_r")
            axes[0].set_title(f"a {y[0]}")
            for ax, feature_map, name in zip(axes[1:], maps[0], names):
                ax.imshow(feature_map, cmap="RdBu_r")
                ax.set_title(name)
            for ax in axes:
                ax.axis("off")
            plt.show()
    """),
    _md("""
        And the receptive field: how it grows with depth, for a stack of 3×3 convolutions,
        and for 3×3 convolutions each followed by a 2×2 pooling of stride 2 (your
        `receptive_field`).
    """),
    _code("""
        try:
            depths = list(range(1, 9))
            plain = [conv.receptive_field([(3, 1)] * d) for d in depths]
            pooled = [conv.receptive_field([(3, 1), (2, 2)] * d) for d in depths]
        except NotImplementedError:
            print("receptive_field is not written yet: run this cell again once it is.")
        else:
            plt.figure(figsize=(6, 3.5))
            plt.plot(depths, plain, "o-", label="3×3 convolutions")
            plt.plot(depths, pooled, "s-", label="3×3 convolution + 2×2 pooling, repeated")
            plt.xlabel("number of blocks")
            plt.ylabel("receptive field (pixels)")
            plt.yscale("log", base=2)
            plt.legend()
            plt.show()
    """),
])

LESSONS["pooling"] = dict(before=[
    _md(r"""
        ## 1. Max and average pooling

        A pooling layer slides a window over each channel separately, as a convolution
        does, but instead of a weighted sum it takes the window's **maximum** (max pooling)
        or its **average** (average pooling). It has no weights. The output size follows the
        formula of part 1, $\lfloor (n + 2p - k)/s \rfloor + 1$; the usual choice is a 2×2
        window with stride 2, which halves the height and the width (and so quarters the
        computation of the layers after it). In torch, and here, `stride=None` means a stride
        equal to the kernel size.

        A 4×4 example with 2×2 windows and stride 2:
    """),
    IMPORTS,
    _code("""
        x = np.array([[1., 3., 2., 1.],
                      [4., 2., 0., 1.],
                      [5., 6., 1., 2.],
                      [0., 2., 3., 4.]])
        for r in (0, 2):
            for s in (0, 2):
                window = x[r:r + 2, s:s + 2]
                print(f"window at ({r}, {s}): {window.ravel()}  max {window.max():g}  average {window.mean():g}")
    """),
    _md(r"""
        Max pooling gives `[[4, 2], [6, 4]]`, average pooling `[[2.5, 1], [3.25, 2.5]]`.

        **Why pool.** The lesson's LeNet-5 pools after each convolution: 28×28 becomes 14×14,
        then 10×10 becomes 5×5. Besides the saving, pooling makes a feature map less
        sensitive to the exact position of a pattern: if a stroke moves by one pixel, the
        maximum of a 2×2 window often stays the same. And each pooling doubles the jump of
        the layers after it, so their receptive fields grow quickly (part 1). AlexNet, VGG and
        ResNet use max pooling (ResNet's is 3×3 with stride 2 and padding 1, windows that
        overlap).

        **Padding.** Max pooling pads with −∞, so that padding never wins a maximum. Average
        pooling pads with zeros and, as torch does by default (`count_include_pad=True`),
        still divides by the full window size kh·kw. Torch allows at most half a window of
        padding.

        **Adaptive average pooling** fixes the *output* size instead of the window: torch's
        AlexNet and VGG end their convolutional part with an `AdaptiveAvgPool2d((6, 6))` or
        `((7, 7))`, so that they accept images of any size, and ResNet averages each channel
        down to 1×1 ("global average pooling"). Output cell $i$ averages the input rows from
        $\lfloor iH/H_o \rfloor$ up to but excluding $\lceil (i+1)H/H_o \rceil$, likewise for
        columns. With $H = 5$ and $H_o = 3$ the bins are rows [0, 2), [1, 4) and [3, 5):
        they differ in size and they overlap.

        ## 2. The backward pass

        - **Max**: only the maximal element of a window influenced the output, so the
          window's gradient goes whole to that one element (a mask `x == max` would give it
          to every tied maximum, and so too much in total). Where windows overlap, an element
          can be the maximum of several windows: the contributions add up.
        - **Average**: every element of a window gets `dout / (kh * kw)`, added over the
          windows that contain it; the share of the padding is dropped.
        - **Adaptive**: each output cell spreads its gradient evenly over its own bin,
          divided by that bin's size.

        In every case the gradient that enters a window is the gradient that leaves it: a
        property the grader checks.
    """),
], after=[
    _md("""
        ## Your pooling at work

        A digit, the same digit moved one pixel to the right, and what 2×2 max pooling makes
        of both (your `max_pool2d_forward`). Count how much of each picture changes with the
        shift: pooled, the two are closer than the images themselves.
    """),
    _code("""
        pooling = fresh_import("pooling")
        X, y = load_mnist("train")
        digit = X[1:2]
        shifted = np.roll(digit, 1, axis=3)
        try:
            pooled, _ = pooling.max_pool2d_forward(digit, 2)
            pooled_shifted, _ = pooling.max_pool2d_forward(shifted, 2)
            averaged, _ = pooling.adaptive_avg_pool2d_forward(digit, 7)
        except NotImplementedError:
            print("the pooling functions are not all written yet: run this cell again once they are.")
        else:
            def changed(a, b):
                return np.abs(a - b).sum() / np.abs(a).sum()

            print(f"images: {changed(digit, shifted):.0%} of the ink moves; "
                  f"after max pooling: {changed(pooled, pooled_shifted):.0%}")
            pictures = [(digit, "digit 32×32"), (shifted, "shifted by one pixel"),
                        (pooled, "max-pooled 16×16"), (pooled_shifted, "shifted, max-pooled"),
                        (averaged, "adaptive average 7×7")]
            fig, axes = plt.subplots(1, 5, figsize=(14, 3))
            for ax, (picture, title) in zip(axes, pictures):
                ax.imshow(picture[0, 0], cmap="gray_r")
                ax.set_title(title)
                ax.axis("off")
            plt.show()
    """),
])

LESSONS["batchnorm"] = dict(before=[
    _md(r"""
        ## 1. Why normalise inside the network

        Batch normalisation was introduced by Sergey Ioffe and Christian Szegedy in 2015 and
        is now everywhere in deep learning. Its aim: keep the outputs of the intermediate
        layers of a network on a steady scale.

        We already standardise a network's *input* (each feature to mean 0 and variance 1),
        because optimisation is more stable and converges better when its inputs follow a
        fixed distribution. But the input of a deep layer is the output of the layers
        before it, and their parameters change at every step of training: even with a
        standardised input, the later layers receive numbers whose mean and spread keep
        moving, which makes training numerically fragile and slow to converge. BatchNorm
        standardises those intermediate outputs, one feature at a time, over each
        mini-batch. In practice it brings three benefits:

        - training goes faster, since larger learning rates become usable;
        - the result depends less on the initial weights;
        - it curbs overfitting somewhat (each example's output depends a little on the others
          drawn with it, a kind of noise).

        The figure shows the inputs of one unit at three moments of training (three sets of
        weights), before and after standardisation: the raw distributions wander, the
        standardised ones stay put.
    """),
    IMPORTS,
    _code("""
        rng = np.random.default_rng(0)
        batch = rng.normal(size=(512, 20))                   # 512 examples, 20 input features
        fig, (raw, normalised) = plt.subplots(1, 2, figsize=(11, 3.5))
        for scale, shift in [(0.3, -2.0), (1.0, 0.0), (2.5, 4.0)]:
            z = batch @ rng.normal(scale=scale, size=20) + shift     # one unit's inputs
            label = f"weights ×{scale}, offset {shift:+g}"
            raw.hist(z, bins=40, alpha=0.5, label=label)
            normalised.hist((z - z.mean()) / z.std(), bins=40, alpha=0.5, label=label)
        raw.set_title("before: the distribution moves as the weights change")
        normalised.set_title("after standardising over the batch")
        raw.legend(fontsize=8)
        plt.show()
    """),
    _md(r"""
        ## 2. What it computes

        **In training**, for a mini-batch $x$ of shape (N, D), for each feature $d$ separately:

        $$\mu = \frac{1}{N}\sum_n x_n, \qquad \sigma^2 = \frac{1}{N}\sum_n (x_n - \mu)^2,
          \qquad \hat x_n = \frac{x_n - \mu}{\sqrt{\sigma^2 + \varepsilon}},
          \qquad y_n = \gamma\,\hat x_n + \beta .$$

        $\sigma^2$ is the *biased* variance (divided by N) and $\varepsilon$ (1e-5) keeps the
        division safe. The learned scale $\gamma$ and offset $\beta$ give the layer back its
        freedom: with $\gamma = \sigma$ and $\beta = \mu$ it could undo the normalisation
        entirely, if that is what the network needs.

        **Running statistics.** At the same time the layer keeps a running mean and a running
        variance, updated in place at each training step as torch does:

        $$\text{new} = (1 - m)\cdot\text{old} + m\cdot\text{batch statistic}$$

        with momentum $m = 0.1$ and, for the variance, the *unbiased* batch variance (divided
        by N − 1). A batch with a single value per feature has no variance: torch refuses it
        in training, and so does the exercise.

        **In evaluation** the layer normalises with the running statistics instead of the
        batch's own, and leaves them unchanged. The output for one image then no longer
        depends on which other images share its batch, and a batch of one works.

        Worked example, one feature, values 1, 3, 5 (N = 3), starting from running mean 0 and
        running variance 1: $\mu = 3$, $\sigma^2 = (4 + 0 + 4)/3 = 8/3$, so $\hat x \approx
        (-1.22, 0, 1.22)$; the unbiased variance is 8/2 = 4, so the running mean becomes
        0.9·0 + 0.1·3 = 0.3 and the running variance 0.9·1 + 0.1·4 = 1.3.

        **After a convolution** (`spatial_batchnorm_*`), the input is (N, C, H, W) and the
        statistics are taken per channel over N, H and W together: a channel is one filter
        applied at every position, so all its values are normalised as one feature.

        ## 3. The backward pass

        In evaluation $\mu$ and $\sigma^2$ are constants, and $dx = \gamma\, dy /
        \sqrt{\text{running var} + \varepsilon}$. In training they depend on every $x_n$,
        which adds two terms. With $s = \sqrt{\sigma^2 + \varepsilon}$, per feature:

        $$d\beta = \sum_n dy_n, \qquad d\gamma = \sum_n dy_n\,\hat x_n, \qquad
          dx_n = \frac{\gamma}{N s}\Big(N\,dy_n - \sum_m dy_m - \hat x_n \sum_m dy_m\,\hat x_m\Big).$$
    """),
], after=[
    _md("""
        ## Your BatchNorm at work

        Mini-batches of three features with very different means and spreads go through your
        `batchnorm_forward` in training mode. Each batch comes out with mean 0 and variance
        about 1, and the running means creep towards the true means (dashed lines), at the
        pace the momentum sets.
    """),
    _code("""
        batchnorm = fresh_import("batchnorm")
        rng = np.random.default_rng(1)
        true_mean, true_std = np.array([5.0, -2.0, 0.5]), np.array([3.0, 0.5, 1.0])
        gamma, beta = np.ones(3), np.zeros(3)
        running_mean, running_var = np.zeros(3), np.ones(3)
        history = []
        try:
            for step in range(60):
                batch = true_mean + true_std * rng.normal(size=(32, 3))
                out, _ = batchnorm.batchnorm_forward(batch, gamma, beta, running_mean, running_var,
                                                     training=True)
                history.append(running_mean.copy())
        except NotImplementedError:
            print("batchnorm_forward is not written yet: run this cell again once it is.")
        else:
            print("last batch out: mean", out.mean(axis=0).round(6), " variance", out.var(axis=0).round(4))
            plt.figure(figsize=(6, 3.5))
            lines = plt.plot(np.array(history))
            for line, mean in zip(lines, true_mean):
                plt.axhline(mean, linestyle="--", color=line.get_color())
            plt.xlabel("training step")
            plt.ylabel("running mean")
            plt.show()
    """),
])

LESSONS["layers"] = dict(before=[
    _md(r"""
        ## 1. The fully connected layer

        After the convolutions have turned an image into features, a classic network ends
        with *fully connected* (linear) layers: every output is a weighted sum of every
        input, $\text{out} = x\,W^\top + b$. The weight is laid out as torch lays it out,
        (out_features, in_features). LeNet-5 ends with two: 120 → 64 → 10, one output per
        digit.

        ## 2. Activations: sigmoid and ReLU

        Between two linear layers (or convolutions) comes a nonlinear function applied to
        each value; without it, a stack of linear layers would be one linear layer.

        - **Sigmoid**, $\sigma(x) = 1/(1 + e^{-x})$, squeezes everything into (0, 1). LeNet-5
          used it. Its slope $\sigma(x)(1 - \sigma(x))$ is at most 1/4 and nearly 0 away from
          0: the gradient shrinks at every sigmoid it crosses on its way back, and the first
          layers of a deep network barely learn (the *vanishing gradient*). Careful with the
          formula: $e^{-x}$ overflows for $x = -1000$; compute it in a form that stays finite.
        - **ReLU**, $\max(x, 0)$, has slope 1 wherever it is active. AlexNet adopted it to
          keep gradients from vanishing, and deep networks have used it since. Its slope at
          exactly 0 is taken to be 0, as torch does.
    """),
    IMPORTS,
    _code("""
        t = np.linspace(-6, 6, 241)
        sigmoid = 1 / (1 + np.exp(-t))          # fine on this range; not for t = -1000
        relu = np.maximum(t, 0)
        fig, (values, slopes) = plt.subplots(1, 2, figsize=(11, 3.5))
        values.plot(t, sigmoid, label="sigmoid")
        values.plot(t, relu, label="ReLU")
        values.set_ylim(-0.5, 3)
        values.set_title("activation")
        slopes.plot(t, sigmoid * (1 - sigmoid), label="sigmoid: at most 1/4")
        slopes.plot(t, (t > 0).astype(float), label="ReLU: 0 or 1")
        slopes.set_title("its slope, which multiplies the gradient")
        for ax in (values, slopes):
            ax.legend()
            ax.grid(alpha=0.3)
        plt.show()
    """),
    _md(r"""
        ## 3. Dropout

        AlexNet fought overfitting with dropout, and VGG kept it after its fully connected
        layers. In training, each value is set to zero with probability $p$ (torch's meaning
        of `p`), a fresh random choice at every step, so that no unit can rely on a
        particular other one being there. The values kept are multiplied by $1/(1-p)$
        ("inverted" dropout): the expected value of each output then equals its input, and in
        evaluation the layer simply passes its input through. The exercise fixes the random
        draw exactly, `keep = rng.random(x.shape) >= p`, so that the grader can reproduce
        it; the backward pass lets the gradient through the same mask, with the same scale.

        ## 4. Softmax and the cross-entropy loss

        The network's last layer gives one score (*logit*) per class. The softmax turns the
        scores of an example into probabilities, $p_k = e^{z_k} / \sum_j e^{z_j}$, and the
        loss of an example whose true class is $y$ is $-\log p_y$: small when the network is
        confident and right. The loss of a batch is the **mean** over its examples, and its
        gradient is remarkably simple: $(p - \text{onehot}(y)) / N$.

        Example: scores (2, 1, 0.1) for an example of class 0 give probabilities (0.659,
        0.242, 0.099) and a loss of $-\log 0.659 \approx 0.417$. Scores of ±10,000 overflow
        $e^z$: subtract each row's maximum first, which changes no probability (the
        "log-sum-exp" trick).
    """),
], after=[
    _md("""
        ## Your layers at work

        Your dropout on a digit, in training (p = 0.5: about half the pixels vanish, the rest
        double) and in evaluation (the digit unchanged); and your loss on the example above.
    """),
    _code("""
        layers = fresh_import("layers")
        X, y = load_mnist("train")
        digit = X[2:3]
        try:
            dropped, _ = layers.dropout_forward(digit, 0.5, True, np.random.default_rng(0))
            kept, _ = layers.dropout_forward(digit, 0.5, False, np.random.default_rng(0))
        except NotImplementedError:
            print("dropout_forward is not written yet: run this cell again once it is.")
        else:
            fig, axes = plt.subplots(1, 3, figsize=(9, 3))
            for ax, picture, title in zip(axes, [digit, dropped, kept],
                                          ["input", "training, p = 0.5", "evaluation"]):
                ax.imshow(picture[0, 0], cmap="gray_r", vmin=0, vmax=2)
                ax.set_title(title)
                ax.axis("off")
            plt.show()
        try:
            loss, dlogits = layers.softmax_cross_entropy(np.array([[2.0, 1.0, 0.1]]), np.array([0]))
        except NotImplementedError:
            print("softmax_cross_entropy is not written yet.")
        else:
            print(f"loss {float(loss):.3f} (expected 0.417); dlogits {np.round(dlogits, 3)}")
    """),
])

LESSONS["modules"] = dict(before=[
    _md(r"""
        ## 1. From functions to layers

        So far each layer was a pair of functions, `forward(x, params) -> (out, cache)` and
        `backward(dout, cache) -> grads`, and the caller carried the caches and the
        parameters around. For a network of fifty layers that bookkeeping has to live
        somewhere: in the layers themselves, as `torch.nn` does. A **module** keeps

        - its parameters (a convolution's `weight` and `bias`) and its buffers (BatchNorm's
          running statistics), under names;
        - its sub-modules, in order (a network is a module made of modules);
        - the cache of its last `forward`, which its `backward(dout)` uses to return the input's
          gradient and to store the parameters' gradients in `self.gradients`;
        - a mode, training or evaluation, that BatchNorm and dropout obey; `train()` and
          `eval()` set it for the whole tree.

        The base class `Module` of `modules.py` is given and does the bookkeeping; you write
        the `forward` and `backward` of each layer, a few lines that call your functions of
        parts 1 to 4. `Sequential(a, b, c)` runs its children in order forward, and in
        **reverse** order backward: the chain rule applied one layer at a time.

        ## 2. Torch's names, torch's initial values

        A module's parameters and buffers have dotted names over the whole tree, exactly the
        keys of the matching torch model's `state_dict()` (minus BatchNorm's
        `num_batches_tracked`): a torch model's weights can then be loaded into yours, and the
        grader compares the two models number for number. Here are torch's names for a small
        stack (torch is used here to show the reference; your files may not import it):
    """),
    IMPORTS,
    _code("""
        import torch

        reference = torch.nn.Sequential(torch.nn.Conv2d(1, 6, 5), torch.nn.BatchNorm2d(6), torch.nn.ReLU(),
                                        torch.nn.Flatten(), torch.nn.Linear(6 * 28 * 28, 10))
        for name, value in reference.state_dict().items():
            print(f"{name:28s} {tuple(value.shape)}")
    """),
    _md(r"""
        Layers without parameters (ReLU, Flatten) have no entries, but they keep their place
        in the numbering.

        New layers start as torch's do. `Conv2d` and `Linear` draw their weights from
        torch's "Kaiming-uniform" rule with $a = \sqrt 5$, which works out to the uniform
        distribution on $[-1/\sqrt{\text{fan\_in}},\ 1/\sqrt{\text{fan\_in}}]$, and their
        biases from the same range; `fan_in` is the number of inputs of one output value
        (in_channels·kh·kw for a convolution). BatchNorm starts with $\gamma = 1$, $\beta = 0$,
        running mean 0 and running variance 1. Those constructors are given too.

        One rule to keep in mind: a module keeps ONE cache, the one of its last `forward`. A
        network that applies "a ReLU" at three places needs three `ReLU` instances, or the
        backward pass of the first would use the cache of the third.
    """),
], after=[
    _md("""
        ## Your modules at work

        The same stack built from your modules: the names should be torch's, and a forward
        and a backward pass should give arrays of the right shapes.
    """),
    _code("""
        modules = fresh_import("modules")
        model = modules.Sequential(modules.Conv2d(1, 6, 5), modules.BatchNorm2d(6), modules.ReLU(),
                                   modules.Flatten(), modules.Linear(6 * 28 * 28, 10))
        print("your names:", list(model.state_dict()))
        print("torch's:   ", [k for k in reference.state_dict() if not k.endswith("num_batches_tracked")])
        X, y = load_mnist("train")
        try:
            logits = model.forward(X[:8])
            dx = model.backward(np.ones_like(logits) / logits.size)
        except NotImplementedError:
            print("some forward or backward is not written yet: run this cell again once it is.")
        else:
            print("logits", logits.shape, " dx", dx.shape)
            for name, gradient in model.gradients.items():
                print(f"  gradient of {name:10s} {None if gradient is None else gradient.shape}")
    """),
])

LESSONS["networks"] = dict(before=[
    _md(r"""
        ## 1. Image classification

        Image classification sorts images into classes by what they show. It is the core
        task of computer vision and the foundation of the harder ones: object detection,
        segmentation, tracking, action recognition, face recognition. Its uses range from
        security (face recognition, video analysis) and traffic (recognising road scenes) to
        searching and sorting photo collections by content and reading medical images. The
        four networks below each moved it forward with one idea.

        ## 2. LeNet-5 (1998): convolution and pooling

        Yann LeCun's LeNet was one of the first convolutional networks, and it read
        handwritten digits with great success. It extracts features with alternating
        convolutions and poolings. The version of this kit, for a 32×32 digit:

        | block | layer | output |
        | --- | --- | --- |
        | 1 | conv1: 6 filters 5×5, sigmoid | 6 × 28 × 28 |
        |   | 2×2 max pooling | 6 × 14 × 14 |
        | 2 | conv2: 16 filters 5×5, sigmoid | 16 × 10 × 10 |
        |   | 2×2 max pooling | 16 × 5 × 5 |
        | 3 | conv3: 120 filters 5×5, sigmoid | 120 × 1 × 1 |
        | head | flatten, fc1 120 → 64, sigmoid | 64 |
        |   | fc2 64 → 10 (a softmax turns these into probabilities) | 10 |

        The convolutions find patterns; the poolings make the maps less sensitive to where
        exactly the patterns are; conv3's receptive field is the whole digit (part 1). 59,086
        parameters.

        ## 3. AlexNet (2012): deeper, with ReLU, dropout and more data

        Two things had changed by 2012: graphics cards made large networks affordable to
        train, and the internet supplied far more labelled images (ImageNet: 1.2 million, in
        1,000 classes). Alex Krizhevsky, Ilya Sutskever and Geoffrey Hinton's AlexNet won the
        ImageNet challenge of 2012 by a wide margin, and drew the whole field to deep
        networks. It is deeper than LeNet (5 convolutions, 3 fully connected layers; 61
        million parameters) and trains better thanks to three devices:

        - **data augmentation**: random shifts, crops, flips, changes of brightness and the
          like make many slightly different copies of each training image, so the model
          cannot lean on incidental details and overfits less;
        - **dropout** in the fully connected layers, against overfitting (part 4);
        - **ReLU** instead of sigmoid, so gradients vanish less (part 4).

        ## 4. VGG-16 (2014): only 3×3 convolutions, deeper still

        VGG is loved for its simplicity: blocks of 3×3 convolutions (with padding 1, so the
        size is kept) and ReLUs, each block closed by a 2×2 max pooling, then three fully
        connected layers with dropout. VGG-16 has 13 convolutions and 3 fully connected
        layers. Why only small kernels: two stacked 3×3 convolutions see 5×5 pixels, as one
        5×5 convolution does, with fewer weights (18 against 25 per channel pair) and one
        more nonlinearity; small kernels make it affordable to stack many layers, and VGG
        showed that depth helps a network learn the patterns of images. 138 million
        parameters, most of them in the first fully connected layer.

        ## 5. ResNet (2015): learning a residual

        Networks kept getting deeper. But does adding layers always help? In principle a
        deeper network can do at least as well as a shallower one: let the extra layers
        compute the identity and copy the rest. In practice, plain deep networks train
        *worse*: past some depth the **training** error goes up, not just the test error.
        Kaiming He and colleagues' residual network fixes that. Instead of asking a block to
        learn the mapping $y = F(x)$, it adds the input back:

        $$y = F(x) + x,$$

        so that the block learns the *residual* $F(x) = y - x$. Setting all of $F$'s weights
        to zero gives the identity exactly; and when the best mapping is close to the identity,
        a small residual is easier to learn than the whole mapping. In the backward pass the
        gradient of $y$ flows both through $F$ and straight along the shortcut, and the two
        **add up** (part of this exercise). When the block changes the size or the number of
        channels, the shortcut is a 1×1 convolution with BatchNorm (`downsample`).

        ResNet won the ImageNet challenge of 2015 with a top-5 error of 3.6%, about the error
        people make on that task. ResNet-18 stacks `BasicBlock`s (two 3×3 convolutions);
        ResNet-50 stacks `Bottleneck`s (a 1×1 convolution that narrows the channels, a 3×3
        one, and a 1×1 one that widens them four times): 49 convolutions and one fully
        connected layer, hence its name.
    """),
    IMPORTS,
    _code("""
        names = ["LeNet-5", "AlexNet", "VGG-16", "ResNet-18", "ResNet-50"]
        parameters = [59_086, 61_100_840, 138_357_544, 11_689_512, 25_557_032]
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8))
        left.bar(names, parameters, color="tab:blue")
        left.set_yscale("log")
        left.set_title("parameters (log scale)")
        years = ["AlexNet\\n2012", "VGG\\n2014", "ResNet\\n2015"]
        top5_error = [15.3, 7.3, 3.57]
        right.bar(years, top5_error, color="tab:orange")
        right.set_title("ImageNet challenge, top-5 error (%)")
        for i, value in enumerate(top5_error):
            right.text(i, value + 0.2, f"{value:g}", ha="center")
        plt.show()
    """),
], after=[
    _md("""
        ## Your networks at work

        A batch of digits through your LeNet-5, and the parameter counts of your networks
        against torch's. AlexNet and VGG-16 are left out here: in float64 they take 0.5 and
        1.1 GB (the grader checks them).
    """),
    _code("""
        networks = fresh_import("networks")
        X, y = load_mnist("train")
        try:
            lenet = networks.LeNet5()
            logits = lenet.forward(X[:16])
            counts = {"LeNet5()": (lenet, 59_086), "resnet18()": (networks.resnet18(), 11_689_512),
                      "resnet50()": (networks.resnet50(), 25_557_032)}
        except NotImplementedError:
            print("the networks are not all written yet: run this cell again once they are.")
        else:
            print("LeNet-5 logits for 16 digits:", logits.shape)
            for name, (model, expected) in counts.items():
                count = sum(p.size for p in model.parameters.values())
                print(f"{name:12s} {count:>12,} parameters ({'as torch' if count == expected else f'torch has {expected:,}'})")
    """),
])

LESSONS["train"] = dict(before=[
    _md(r"""
        ## 1. The digits

        LeNet was made for handwritten digits, and so is this exercise: 5,000 digits of the
        MNIST collection (Yann LeCun, Corinna Cortes and Christopher Burges; 500 of each
        digit), each 28×28 grey levels, placed in a 32×32 frame as LeNet-5 expects. The kit
        splits them once and for all: 4,000 to train on (`load_mnist("train")`) and 1,000 held
        out (`load_mnist("heldout")`), on which the grader measures your model. A model is
        judged on digits it has never seen: learning the training digits by heart is easy,
        reading new ones is the point.
    """),
    IMPORTS,
    _code("""
        X, y = load_mnist("train")
        Xh, yh = load_mnist("heldout")
        print("train", X.shape, X.dtype, " held out", Xh.shape)
        fig, axes = plt.subplots(2, 10, figsize=(12, 2.8))
        for digit in range(10):
            for row in range(2):
                ax = axes[row, digit]
                ax.imshow(X[np.flatnonzero(y == digit)[row], 0], cmap="gray_r")
                ax.axis("off")
        plt.show()
    """),
    _md(r"""
        ## 2. Stochastic gradient descent, as torch does it

        Training repeats, over small random batches of digits (a *mini-batch*, 32 to 64):
        forward pass, loss, backward pass, and a small step of every parameter against its
        gradient. Torch's `SGD`, with momentum $\mu$ and weight decay $\lambda$, does for
        each parameter $p$ with gradient $g$:

        $$d = g + \lambda p, \qquad v \leftarrow \mu v + d \;\;(\text{the first step: } v = d),
          \qquad p \leftarrow p - \eta\, v .$$

        The *velocity* $v$ averages recent gradients, which smooths the path and speeds it
        along directions that agree from step to step; weight decay pulls the weights gently
        towards 0, against overfitting. One pass over all the training digits is an *epoch*.

        ## 3. A recipe that reaches 97%

        The docstring of `train_lenet` gives one: ReLU activations, weights drawn as torch
        draws them, mini-batches of 32 to 64, learning rate about 0.05, momentum 0.9, a little
        weight decay, a fixed number of epochs; and if that stalls around 96%, a learning rate
        that decays to 0 along a cosine, and random shifts of the digits by up to 2 pixels
        (the data augmentation of AlexNet, in miniature). Train for a fixed number of epochs,
        never "until the clock says stop": the grader must get the same model on any machine.
        Use the `rng` it passes for every random choice. If your `train_lenet` records
        `model.history = {"loss": [...], "accuracy": [...]}` (one value per epoch), `grader
        check` also draws your learning curve into `learning_curve.png`.
    """),
], after=[
    _md("""
        ## Your training at work: a learning curve

        Two epochs of plain SGD with momentum on a fresh `LeNet5(activation="relu")`, with
        your modules, your loss and your `sgd_step`: the loss of every mini-batch, and the
        accuracy on the held-out digits after each epoch. This takes a few seconds. The
        check below runs your `train_lenet` itself.
    """),
    _code("""
        layers, networks, train = fresh_import("layers", "networks", "train")
        rng = np.random.default_rng(0)
        losses, accuracies = [], []
        try:
            model = networks.LeNet5(activation="relu")
            model.train()
            velocities = {}
            for epoch in range(2):
                order = rng.permutation(len(X))
                for start in range(0, len(X), 64):
                    batch = order[start:start + 64]
                    loss, dlogits = layers.softmax_cross_entropy(model.forward(X[batch]), y[batch])
                    model.backward(dlogits)
                    train.sgd_step(model.parameters, model.gradients, velocities, 0.05, momentum=0.9)
                    losses.append(float(loss))
                model.eval()
                accuracies.append(float((model.forward(Xh).argmax(axis=1) == yh).mean()))
                model.train()
        except NotImplementedError:
            print("not everything this needs is written yet (your layers, modules, networks and "
                  "sgd_step): run this cell again once it is.")
        else:
            steps_per_epoch = len(losses) // len(accuracies)
            fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.5))
            left.plot(losses, alpha=0.4, label="each mini-batch")
            smooth = np.convolve(losses, np.ones(10) / 10, mode="valid")
            left.plot(np.arange(9, len(losses)), smooth, label="average of 10")
            left.set_xlabel("step")
            left.set_ylabel("loss")
            left.legend()
            right.plot(np.arange(1, len(accuracies) + 1) * steps_per_epoch, accuracies, "o-")
            right.set_xlabel("step")
            right.set_ylabel("held-out accuracy")
            right.set_ylim(0, 1)
            plt.show()
            print(f"held-out accuracy after each epoch: {[round(a, 3) for a in accuracies]}")
    """),
])


# -- building --------------------------------------------------------------------------------
def _cell(kind: str, source: str, nbgrader: dict | None = None):
    import nbformat.v4 as v4

    cell = v4.new_markdown_cell(source) if kind == "markdown" else v4.new_code_cell(source)
    cell.pop("id", None)  # ids are assigned below, stable across builds
    if nbgrader is not None:
        cell.metadata["nbgrader"] = {"schema_version": 3, **nbgrader}
    return cell


def _grade_id(part: str, suffix: str) -> str:
    return f"{part}-{suffix}".replace(".", "-").replace("_", "-")


def _check_cells(part: str, rubric) -> list:
    entries = rubric.select([part], include_hidden=True) if part in rubric.parts else []
    if not entries:
        return [_cell("markdown", "## Check your work\n\nThe grader of this version of the kit has "
                      "no checks for this part yet.")]
    public_points = sum(e.points for e in entries if not e.hidden)
    hidden_points = sum(e.points for e in entries if e.hidden)
    hidden_note = (f" Cells marked *hidden* hold tests worth {hidden_points:g} more points that run only "
                   "when your work is graded." if hidden_points else "")
    cells = [_cell("markdown", textwrap.dedent(f"""\
        ## Check your work

        Each cell below runs one of the grader's checks on the `{part}.py` that the file cell
        wrote: the same checks as `grader check --part {part}`, worth {public_points:g} points in
        all.{hidden_note} A check that fails shows the smallest example it found, where your
        numbers differ from torch's, and a hint. The first cell grades the whole file (a few
        seconds); the others then answer at once, until the file changes.""").strip())]
    hidden_number = 0
    for entry in entries:
        points = f"{entry.points:g} point{'s' if entry.points != 1 else ''}"
        call = f'from grader.nbgrader_course import assert_check\nassert_check("{entry.id}")'
        if entry.hidden:
            hidden_number += 1
            grade_id = _grade_id(part, f"hidden-{hidden_number}")
            source = (f"# A hidden test ({points}): it runs when your work is graded.\n"
                      f"{HIDDEN_BEGIN}\n{call}\n{HIDDEN_END}")
        else:
            grade_id = _grade_id(part, entry.id.partition(".")[2])
            source = f"# {entry.name} ({points}; the check's title shows when it runs)\n{call}"
        cells.append(_cell("code", source, {"grade": True, "solution": False, "locked": True,
                                            "task": False, "grade_id": grade_id,
                                            "points": entry.points}))
    cells.append(_cell("markdown", "The grader's report of this part, all checks together:"))
    cells.append(_cell("code", f'from grader.nbgrader_course import show_report\nshow_report("{part}")'))
    return cells


def source_notebook(part: str, solutions_dir=None, rubric=None):
    """The nbgrader *source* notebook of ``part``: solution regions and hidden tests in it."""
    import nbformat.v4 as v4

    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; choose from {', '.join(PARTS)}")
    solution_file = Path(solutions_dir or SOLUTIONS) / f"{part}.py"
    if not solution_file.is_file():
        raise InstructorOnly(f"{solution_file} not found: the notebooks are built from the kit's "
                             "solutions/, which only the instructors' copy of the kit holds")
    rubric = rubric or rubric_module.load()
    lesson = LESSONS[part]
    cells = [_cell(*_intro(part))]
    cells += [_cell(kind, text) for kind, text in lesson["before"]]
    cells.append(_cell("markdown", f"## Your code: `{part}.py`\n\nFill in every function body, then "
                       "run the cell. The docstrings say what each function must do, with hints."))
    cells.append(_cell("code", f"%%writefile {part}.py\n" + solution_file.read_text(),
                       {"grade": False, "solution": True, "locked": False, "task": False,
                        "grade_id": _grade_id(part, "file")}))
    cells += [_cell(kind, text) for kind, text in lesson["after"]]
    cells += _check_cells(part, rubric)
    for number, cell in enumerate(cells):
        cell["id"] = f"{part}-{number:02d}"
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def _without_hidden_tests(source: str) -> str:
    out, inside = [], False
    for line in source.split("\n"):
        if HIDDEN_BEGIN in line:
            inside = True
        elif HIDDEN_END in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def student_version(notebook):
    """What nbgrader's ``generate_assignment`` makes of a source notebook (see the course's
    configuration): stubs for the solution regions, hidden tests removed, no outputs."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            cell.source = strip_solutions(cell.source)
        if meta.get("grade"):
            cell.source = _without_hidden_tests(cell.source)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def student_notebook(part: str, solutions_dir=None, rubric=None):
    return student_version(source_notebook(part, solutions_dir, rubric))


def write_student_notebooks(out_dir=NOTEBOOKS, solutions_dir=None, rubric=None) -> list[Path]:
    import nbformat

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for part in PARTS:
        path = out_dir / notebook_name(part)
        text = nbformat.writes(student_notebook(part, solutions_dir, rubric)) + "\n"
        path.write_text(text)
        written.append(path)
    return written


def student_notebook_texts(solutions_dir=None, rubric=None) -> dict:
    """File name -> the text ``write_student_notebooks`` writes (for the staleness test)."""
    import nbformat

    return {notebook_name(part): nbformat.writes(student_notebook(part, solutions_dir, rubric)) + "\n"
            for part in PARTS}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.notebooks",
                                     description="Rewrite the student lesson notebooks.")
    parser.add_argument("--out", default=str(NOTEBOOKS), help="default: the kit's notebooks/")
    args = parser.parse_args(argv)
    try:
        written = write_student_notebooks(args.out)
    except InstructorOnly as error:
        print(f"grader: {error}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} notebook(s) to {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
