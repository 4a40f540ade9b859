"""Classic convolutional networks, built from the layers of ``modules.py``.

Each network is a :class:`modules.Module` whose sub-modules carry torch's (and
torchvision's) names, so that ``state_dict()`` has exactly the keys of the torch
model (minus BatchNorm's ``num_batches_tracked``), in the same order, and a torch
model's weights load into it with ``load_state_dict``. Layers without
parameters (activations, pooling, flattening) do not appear in the state dict,
so you may name them as you like; but a stateful layer keeps ONE cache, so every
place that applies a ReLU (or a Sigmoid, a pooling, ...) needs its own instance.

For each network you write

- ``__init__``: create the layers (assigning a module to ``self.name`` registers it
  under that name, in order: the order of assignment is the order of the
  state dict);
- ``forward(x)``: the output (logits), keeping what backward needs in the layers;
- ``backward(dout)``: the gradient of the input, given the gradient of the
  output, leaving every parameter's gradient in ``self.gradients``.
"""

from __future__ import annotations

from modules import (
    AdaptiveAvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
)

__all__ = ["LeNet5", "AlexNet", "VGG16", "BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet50"]


class LeNet5(Module):
    """LeNet-5 for 32x32 grey images (59,086 parameters with 10 classes).

    ``LeNet5(num_classes=10, activation="sigmoid")``; ``activation`` is
    ``"sigmoid"`` or ``"relu"`` (anything else: ``ValueError``).

    =========  ==========================================  ===============
    name       layer                                       output (N, ...)
    =========  ==========================================  ===============
    ``conv1``  Conv2d(1, 6, 5), activation                 6 x 28 x 28
               MaxPool2d(2)                                6 x 14 x 14
    ``conv2``  Conv2d(6, 16, 5), activation                16 x 10 x 10
               MaxPool2d(2)                                16 x 5 x 5
    ``conv3``  Conv2d(16, 120, 5), activation              120 x 1 x 1
               flatten                                     120
    ``fc1``    Linear(120, 64), activation                 64
    ``fc2``    Linear(64, num_classes)                     num_classes
    =========  ==========================================  ===============

    State dict keys: ``conv1.weight``, ``conv1.bias``, ... ``fc2.bias``.
    ``forward(x)``: ``x`` (N, 1, 32, 32) -> logits (N, num_classes).
    """

    def __init__(self, num_classes: int = 10, activation: str = "sigmoid"):
        super().__init__()
        if activation == "sigmoid":
            make_act = Sigmoid
        elif activation == "relu":
            make_act = ReLU
        else:
            raise ValueError(f"unknown activation {activation!r}: use 'sigmoid' or 'relu'")
        self.num_classes = num_classes
        self.activation = activation
        # Parameters first, in the state dict's order; the layers without parameters
        # come after them under names of my own (they are not in the state dict).
        self.conv1 = Conv2d(1, 6, kernel_size=5)
        self.conv2 = Conv2d(6, 16, kernel_size=5)
        self.conv3 = Conv2d(16, 120, kernel_size=5)
        self.fc1 = Linear(120, 64)
        self.fc2 = Linear(64, num_classes)
        self.a1, self.a2, self.a3, self.a4 = make_act(), make_act(), make_act(), make_act()
        self.p1, self.p2 = MaxPool2d(2), MaxPool2d(2)
        self.flat = Flatten()
        # The order in which the input goes through them (a plain list: not a child).
        self.stages = [self.conv1, self.a1, self.p1,
                       self.conv2, self.a2, self.p2,
                       self.conv3, self.a3, self.flat,
                       self.fc1, self.a4, self.fc2]

    def forward(self, x):
        """Logits (N, num_classes) of images ``x`` (N, 1, 32, 32)."""
        h = x
        for stage in self.stages:
            h = stage.forward(h)
        return h

    def backward(self, dout):
        """Gradient of the input (N, 1, 32, 32) given that of the logits; fills
        ``self.gradients``."""
        grad = dout
        for index in range(len(self.stages) - 1, -1, -1):
            grad = self.stages[index].backward(grad)
        return grad


class AlexNet(Module):
    """AlexNet in torchvision's layout (61,100,840 parameters with 1000 classes).

    ``AlexNet(num_classes=1000, dropout=0.5)``. Children, in this order:

    - ``features``, a Sequential: ``0`` Conv2d(3, 64, 11, stride 4, padding 2),
      ReLU, MaxPool2d(3, stride 2), ``3`` Conv2d(64, 192, 5, padding 2), ReLU,
      MaxPool2d(3, 2), ``6`` Conv2d(192, 384, 3, padding 1), ReLU,
      ``8`` Conv2d(384, 256, 3, padding 1), ReLU, ``10`` Conv2d(256, 256, 3,
      padding 1), ReLU, MaxPool2d(3, 2);
    - ``avgpool``: AdaptiveAvgPool2d((6, 6)), then flatten to 256 * 6 * 6;
    - ``classifier``, a Sequential: Dropout(dropout), ``1`` Linear(9216, 4096),
      ReLU, Dropout(dropout), ``4`` Linear(4096, 4096), ReLU,
      ``6`` Linear(4096, num_classes).

    The numbers are the Sequential indices that hold parameters, so the keys are
    ``features.0.weight`` ... ``classifier.6.bias``. Works for any input of at
    least 63x63 pixels (224x224 in the original).
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        def conv_relu(cin, cout, k, **kw):
            return [Conv2d(cin, cout, kernel_size=k, **kw), ReLU()]

        def pool():
            return MaxPool2d(kernel_size=3, stride=2)

        feats = []
        feats += conv_relu(3, 64, 11, stride=4, padding=2) + [pool()]
        feats += conv_relu(64, 192, 5, padding=2) + [pool()]
        feats += conv_relu(192, 384, 3, padding=1)
        feats += conv_relu(384, 256, 3, padding=1)
        feats += conv_relu(256, 256, 3, padding=1) + [pool()]
        self.features = Sequential(*feats)
        self.avgpool = AdaptiveAvgPool2d((6, 6))
        head = []
        for fan_in, fan_out in ((256 * 6 * 6, 4096), (4096, 4096)):
            head += [Dropout(p=dropout), Linear(fan_in, fan_out), ReLU()]
        head.append(Linear(4096, num_classes))
        self.classifier = Sequential(*head)
        self.flatten = Flatten()
        self.pipeline = [self.features, self.avgpool, self.flatten, self.classifier]

    def forward(self, x):
        """Logits (N, num_classes) of images ``x`` (N, 3, H, W)."""
        for part in self.pipeline:
            x = part.forward(x)
        return x

    def backward(self, dout):
        """Gradient of the input given that of the logits; fills ``self.gradients``."""
        for part in reversed(self.pipeline):
            dout = part.backward(dout)
        return dout


class VGG16(Module):
    """VGG-16 (configuration D, no BatchNorm) in torchvision's layout
    (138,357,544 parameters with 1000 classes).

    ``VGG16(num_classes=1000, dropout=0.5)``. Children, in this order:

    - ``features``, a Sequential of 13 Conv2d(3x3, padding 1) each followed by a
      ReLU, with a MaxPool2d(2, 2) after each of the 5 stages. Output channels
      per stage: 64 64 | 128 128 | 256 256 256 | 512 512 512 | 512 512 512.
      Every conv, ReLU and pool takes one index, so the convs are
      ``features.0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28``;
    - ``avgpool``: AdaptiveAvgPool2d((7, 7)), then flatten to 512 * 7 * 7;
    - ``classifier``, a Sequential: ``0`` Linear(25088, 4096), ReLU,
      Dropout(dropout), ``3`` Linear(4096, 4096), ReLU, Dropout(dropout),
      ``6`` Linear(4096, num_classes).

    Works for any input of at least 32x32 pixels (224x224 in the original).
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        # torchvision's configuration "D": numbers are conv widths, "M" a max-pool.
        config = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
        feats = []
        channels = 3
        for item in config:
            if item == "M":
                feats.append(MaxPool2d(kernel_size=2, stride=2))
            else:
                feats.append(Conv2d(channels, item, kernel_size=3, padding=1))
                feats.append(ReLU())
                channels = item
        self.features = Sequential(*feats)
        self.avgpool = AdaptiveAvgPool2d((7, 7))
        head = []
        for fan_in in (512 * 7 * 7, 4096):
            head.extend([Linear(fan_in, 4096), ReLU(), Dropout(p=dropout)])
        head.append(Linear(4096, num_classes))
        self.classifier = Sequential(*head)
        self.flatten = Flatten()
        self.pipeline = [self.features, self.avgpool, self.flatten, self.classifier]

    def forward(self, x):
        """Logits (N, num_classes) of images ``x`` (N, 3, H, W)."""
        for part in self.pipeline:
            x = part.forward(x)
        return x

    def backward(self, dout):
        """Gradient of the input given that of the logits; fills ``self.gradients``."""
        for part in reversed(self.pipeline):
            dout = part.backward(dout)
        return dout


class BasicBlock(Module):
    """ResNet-18/34's residual block, as torchvision's ``BasicBlock``.

    ``BasicBlock(inplanes, planes, stride=1, downsample=None)``. Children, in
    this order (convs without bias):

    - ``conv1``: Conv2d(inplanes, planes, 3, stride=stride, padding=1), ``bn1``:
      BatchNorm2d(planes), then ReLU;
    - ``conv2``: Conv2d(planes, planes, 3, padding=1), ``bn2``: BatchNorm2d(planes);
    - ``downsample``: the module given (a Sequential of a 1x1 Conv2d and a
      BatchNorm2d, when the shape changes), or ``None`` for the identity.

    ``out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`` with
    ``shortcut = downsample`` or the identity. ``expansion = 1``: the block
    outputs ``planes * expansion`` channels.

    ``backward`` sends the gradient through both paths and returns their sum:
    ``x`` feeds the main path AND the shortcut.
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: Module | None = None):
        super().__init__()
        self.stride = stride
        self.conv1 = Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = BatchNorm2d(planes)
        self.conv2 = Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = BatchNorm2d(planes)
        if downsample is not None:
            self.downsample = downsample
        else:
            self.downsample = None
        self.inner_relu = ReLU()
        self.final_relu = ReLU()

    def forward(self, x):
        """``x`` (N, inplanes, H, W) -> (N, planes, H', W')."""
        if self.downsample is None:
            identity = x
        else:
            identity = self.downsample.forward(x)
        h = x
        for layer in (self.conv1, self.bn1, self.inner_relu, self.conv2, self.bn2):
            h = layer.forward(h)
        return self.final_relu.forward(identity + h)

    def backward(self, dout):
        """Gradient of ``x``: main path plus shortcut."""
        grad_sum = self.final_relu.backward(dout)
        # x reached the output twice: through the shortcut and through the main path.
        # The shortcut's share first, then the main path's, then their sum.
        if self.downsample is None:
            grad_shortcut = grad_sum
        else:
            grad_shortcut = self.downsample.backward(grad_sum)
        grad_main = grad_sum
        for layer in (self.bn2, self.conv2, self.inner_relu, self.bn1, self.conv1):
            grad_main = layer.backward(grad_main)
        return grad_shortcut + grad_main


class Bottleneck(Module):
    """ResNet-50/101/152's residual block, as torchvision's ``Bottleneck``
    (ResNet v1.5: the stride is on the 3x3 convolution).

    ``Bottleneck(inplanes, planes, stride=1, downsample=None)``. Children, in
    this order (convs without bias):

    - ``conv1``: Conv2d(inplanes, planes, 1), ``bn1``, ReLU;
    - ``conv2``: Conv2d(planes, planes, 3, stride=stride, padding=1), ``bn2``, ReLU;
    - ``conv3``: Conv2d(planes, planes * 4, 1), ``bn3``;
    - ``downsample``: as in :class:`BasicBlock`.

    ``out = relu(main(x) + shortcut(x))``; ``expansion = 4``: the block outputs
    ``planes * 4`` channels. ``backward`` adds the gradients of both paths.
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: Module | None = None):
        super().__init__()
        self.stride = stride
        out_planes = planes * self.expansion
        self.conv1 = Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = BatchNorm2d(planes)
        self.conv2 = Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = BatchNorm2d(planes)
        self.conv3 = Conv2d(planes, out_planes, kernel_size=1, bias=False)
        self.bn3 = BatchNorm2d(out_planes)
        self.downsample = downsample
        self.relus = [ReLU() for _ in range(3)]
        for number, relu in enumerate(self.relus, start=1):
            self.add_module(f"act{number}", relu)
        self.main_path = [self.conv1, self.bn1, self.relus[0],
                          self.conv2, self.bn2, self.relus[1],
                          self.conv3, self.bn3]

    def forward(self, x):
        """``x`` (N, inplanes, H, W) -> (N, planes * 4, H', W')."""
        residual = x if self.downsample is None else self.downsample.forward(x)
        out = x
        for layer in self.main_path:
            out = layer.forward(out)
        return self.relus[2].forward(residual + out)

    def backward(self, dout):
        """Gradient of ``x``: main path plus shortcut."""
        grad_sum = self.relus[2].backward(dout)
        grad_x = grad_sum.copy() if self.downsample is None else self.downsample.backward(grad_sum)
        grad = grad_sum
        for layer in reversed(self.main_path):
            grad = layer.backward(grad)
        grad_x += grad
        return grad_x


class ResNet(Module):
    """ResNet in torchvision's layout: ``ResNet(block, layers, num_classes=1000)``,
    ``block`` is :class:`BasicBlock` or :class:`Bottleneck`, ``layers`` the number
    of blocks per stage (``[2, 2, 2, 2]`` for ResNet-18, ``[3, 4, 6, 3]`` for 50).

    Children, in this order:

    - ``conv1``: Conv2d(3, 64, 7, stride=2, padding=3, bias=False), ``bn1``:
      BatchNorm2d(64), ReLU, MaxPool2d(3, stride=2, padding=1);
    - ``layer1`` ... ``layer4``: Sequentials of blocks with ``planes`` 64, 128,
      256, 512 and stride 1, 2, 2, 2 (see :meth:`_make_layer`);
    - global average pool (AdaptiveAvgPool2d((1, 1))), flatten;
    - ``fc``: Linear(512 * block.expansion, num_classes).
    """

    def __init__(self, block, layers, num_classes: int = 1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = BatchNorm2d(64)
        self.relu = ReLU()
        self.maxpool = MaxPool2d(kernel_size=3, stride=2, padding=1)
        for number, (planes, count, stride) in enumerate(zip((64, 128, 256, 512), layers, (1, 2, 2, 2)), start=1):
            setattr(self, f"layer{number}", self._make_layer(block, planes, count, stride=stride))
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.flatten = Flatten()
        self.fc = Linear(512 * block.expansion, num_classes)
        self.stages = [self.conv1, self.bn1, self.relu, self.maxpool,
                       self.layer1, self.layer2, self.layer3, self.layer4,
                       self.avgpool, self.flatten, self.fc]

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1) -> Sequential:
        """One stage: a Sequential of ``blocks`` blocks, as torchvision builds it.

        The first block gets ``stride`` and, when ``stride != 1`` or
        ``self.inplanes != planes * block.expansion``, a ``downsample`` of
        ``Sequential(Conv2d(self.inplanes, planes * block.expansion, 1,
        stride=stride, bias=False), BatchNorm2d(planes * block.expansion))``.
        Then ``self.inplanes`` becomes ``planes * block.expansion`` and the other
        blocks are ``block(self.inplanes, planes)``."""
        width = planes * block.expansion
        strides = [stride] + [1] * (blocks - 1)
        stage = []
        for s in strides:
            shortcut = None
            if s != 1 or self.inplanes != width:
                shortcut = Sequential(Conv2d(self.inplanes, width, kernel_size=1, stride=s, bias=False),
                                      BatchNorm2d(width))
            if shortcut is None and s == 1:
                stage.append(block(self.inplanes, planes))
            else:
                stage.append(block(self.inplanes, planes, s, shortcut))
            self.inplanes = width
        return Sequential(*stage)

    def forward(self, x):
        """Logits (N, num_classes) of images ``x`` (N, 3, H, W)."""
        for stage in self.stages:
            x = stage.forward(x)
        return x

    def backward(self, dout):
        """Gradient of the input given that of the logits; fills ``self.gradients``."""
        grad = dout
        for stage in self.stages[::-1]:
            grad = stage.backward(grad)
        return grad


def resnet18(num_classes: int = 1000) -> ResNet:
    """ResNet-18: BasicBlocks, ``[2, 2, 2, 2]`` (11,689,512 parameters)."""
    return ResNet(BasicBlock, layers=[2, 2, 2, 2], num_classes=num_classes)


def resnet50(num_classes: int = 1000) -> ResNet:
    """ResNet-50: Bottlenecks, ``[3, 4, 6, 3]`` (25,557,032 parameters)."""
    return ResNet(Bottleneck, layers=[3, 4, 6, 3], num_classes=num_classes)
