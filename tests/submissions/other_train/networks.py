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
        ### BEGIN SOLUTION
        if activation not in ("sigmoid", "relu"):
            raise ValueError(f"activation must be 'sigmoid' or 'relu', not {activation!r}")
        act = Sigmoid if activation == "sigmoid" else ReLU
        self.num_classes = num_classes
        self.activation = activation
        self.conv1 = Conv2d(1, 6, 5)
        self.act1 = act()
        self.pool1 = MaxPool2d(2)
        self.conv2 = Conv2d(6, 16, 5)
        self.act2 = act()
        self.pool2 = MaxPool2d(2)
        self.conv3 = Conv2d(16, 120, 5)
        self.act3 = act()
        self.flatten = Flatten()
        self.fc1 = Linear(120, 64)
        self.act4 = act()
        self.fc2 = Linear(64, num_classes)
        ### END SOLUTION

    def forward(self, x):
        """Logits (N, num_classes) of images ``x`` (N, 1, 32, 32)."""
        ### BEGIN SOLUTION
        for layer in self.children.values():
            x = layer(x)
        return x
        ### END SOLUTION

    def backward(self, dout):
        """Gradient of the input (N, 1, 32, 32) given that of the logits; fills
        ``self.gradients``."""
        ### BEGIN SOLUTION
        for layer in reversed(list(self.children.values())):
            dout = layer.backward(dout)
        return dout
        ### END SOLUTION


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
        ### BEGIN SOLUTION
        self.features = Sequential(
            Conv2d(3, 64, kernel_size=11, stride=4, padding=2), ReLU(),
            MaxPool2d(kernel_size=3, stride=2),
            Conv2d(64, 192, kernel_size=5, padding=2), ReLU(),
            MaxPool2d(kernel_size=3, stride=2),
            Conv2d(192, 384, kernel_size=3, padding=1), ReLU(),
            Conv2d(384, 256, kernel_size=3, padding=1), ReLU(),
            Conv2d(256, 256, kernel_size=3, padding=1), ReLU(),
            MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = AdaptiveAvgPool2d((6, 6))
        self.flatten = Flatten()
        self.classifier = Sequential(
            Dropout(p=dropout), Linear(256 * 6 * 6, 4096), ReLU(),
            Dropout(p=dropout), Linear(4096, 4096), ReLU(),
            Linear(4096, num_classes),
        )
        ### END SOLUTION

    def forward(self, x):
        """Logits (N, num_classes) of images ``x`` (N, 3, H, W)."""
        ### BEGIN SOLUTION
        x = self.features(x)
        x = self.avgpool(x)
        x = self.flatten(x)
        return self.classifier(x)
        ### END SOLUTION

    def backward(self, dout):
        """Gradient of the input given that of the logits; fills ``self.gradients``."""
        ### BEGIN SOLUTION
        dout = self.classifier.backward(dout)
        dout = self.flatten.backward(dout)
        dout = self.avgpool.backward(dout)
        return self.features.backward(dout)
        ### END SOLUTION


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
        ### BEGIN SOLUTION
        stages = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]
        layers = []
        in_channels = 3
        for stage in stages:
            for channels in stage:
                layers += [Conv2d(in_channels, channels, kernel_size=3, padding=1), ReLU()]
                in_channels = channels
            layers.append(MaxPool2d(kernel_size=2, stride=2))
        self.features = Sequential(*layers)
        self.avgpool = AdaptiveAvgPool2d((7, 7))
        self.flatten = Flatten()
        self.classifier = Sequential(
            Linear(512 * 7 * 7, 4096), ReLU(), Dropout(p=dropout),
            Linear(4096, 4096), ReLU(), Dropout(p=dropout),
            Linear(4096, num_classes),
        )
        ### END SOLUTION

    def forward(self, x):
        """Logits (N, num_classes) of images ``x`` (N, 3, H, W)."""
        ### BEGIN SOLUTION
        x = self.features(x)
        x = self.avgpool(x)
        x = self.flatten(x)
        return self.classifier(x)
        ### END SOLUTION

    def backward(self, dout):
        """Gradient of the input given that of the logits; fills ``self.gradients``."""
        ### BEGIN SOLUTION
        dout = self.classifier.backward(dout)
        dout = self.flatten.backward(dout)
        dout = self.avgpool.backward(dout)
        return self.features.backward(dout)
        ### END SOLUTION


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
        ### BEGIN SOLUTION
        self.conv1 = Conv2d(inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = BatchNorm2d(planes)
        self.relu1 = ReLU()
        self.conv2 = Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = BatchNorm2d(planes)
        self.downsample = downsample
        self.relu2 = ReLU()
        self.stride = stride
        ### END SOLUTION

    def forward(self, x):
        """``x`` (N, inplanes, H, W) -> (N, planes, H', W')."""
        ### BEGIN SOLUTION
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu2(out + shortcut)
        ### END SOLUTION

    def backward(self, dout):
        """Gradient of ``x``: main path plus shortcut."""
        ### BEGIN SOLUTION
        dsum = self.relu2.backward(dout)
        dmain = self.bn2.backward(dsum)
        dmain = self.conv2.backward(dmain)
        dmain = self.relu1.backward(dmain)
        dmain = self.bn1.backward(dmain)
        dmain = self.conv1.backward(dmain)
        dshortcut = dsum if self.downsample is None else self.downsample.backward(dsum)
        return dmain + dshortcut
        ### END SOLUTION


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
        ### BEGIN SOLUTION
        width = planes
        self.conv1 = Conv2d(inplanes, width, kernel_size=1, bias=False)
        self.bn1 = BatchNorm2d(width)
        self.relu1 = ReLU()
        self.conv2 = Conv2d(width, width, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = BatchNorm2d(width)
        self.relu2 = ReLU()
        self.conv3 = Conv2d(width, planes * self.expansion, kernel_size=1, bias=False)
        self.bn3 = BatchNorm2d(planes * self.expansion)
        self.downsample = downsample
        self.relu3 = ReLU()
        self.stride = stride
        ### END SOLUTION

    def forward(self, x):
        """``x`` (N, inplanes, H, W) -> (N, planes * 4, H', W')."""
        ### BEGIN SOLUTION
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu3(out + shortcut)
        ### END SOLUTION

    def backward(self, dout):
        """Gradient of ``x``: main path plus shortcut."""
        ### BEGIN SOLUTION
        dsum = self.relu3.backward(dout)
        dmain = self.conv3.backward(self.bn3.backward(dsum))
        dmain = self.conv2.backward(self.bn2.backward(self.relu2.backward(dmain)))
        dmain = self.conv1.backward(self.bn1.backward(self.relu1.backward(dmain)))
        dshortcut = dsum if self.downsample is None else self.downsample.backward(dsum)
        return dmain + dshortcut
        ### END SOLUTION


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
        ### BEGIN SOLUTION
        self.inplanes = 64
        self.conv1 = Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = BatchNorm2d(64)
        self.relu = ReLU()
        self.maxpool = MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.flatten = Flatten()
        self.fc = Linear(512 * block.expansion, num_classes)
        ### END SOLUTION

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1) -> Sequential:
        """One stage: a Sequential of ``blocks`` blocks, as torchvision builds it.

        The first block gets ``stride`` and, when ``stride != 1`` or
        ``self.inplanes != planes * block.expansion``, a ``downsample`` of
        ``Sequential(Conv2d(self.inplanes, planes * block.expansion, 1,
        stride=stride, bias=False), BatchNorm2d(planes * block.expansion))``.
        Then ``self.inplanes`` becomes ``planes * block.expansion`` and the other
        blocks are ``block(self.inplanes, planes)``."""
        ### BEGIN SOLUTION
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = Sequential(
                Conv2d(self.inplanes, planes * block.expansion, kernel_size=1, stride=stride, bias=False),
                BatchNorm2d(planes * block.expansion),
            )
        blocks_list = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            blocks_list.append(block(self.inplanes, planes))
        return Sequential(*blocks_list)
        ### END SOLUTION

    def forward(self, x):
        """Logits (N, num_classes) of images ``x`` (N, 3, H, W)."""
        ### BEGIN SOLUTION
        for layer in self.children.values():
            x = layer(x)
        return x
        ### END SOLUTION

    def backward(self, dout):
        """Gradient of the input given that of the logits; fills ``self.gradients``."""
        ### BEGIN SOLUTION
        for layer in reversed(list(self.children.values())):
            dout = layer.backward(dout)
        return dout
        ### END SOLUTION


def resnet18(num_classes: int = 1000) -> ResNet:
    """ResNet-18: BasicBlocks, ``[2, 2, 2, 2]`` (11,689,512 parameters)."""
    ### BEGIN SOLUTION
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes)
    ### END SOLUTION


def resnet50(num_classes: int = 1000) -> ResNet:
    """ResNet-50: Bottlenecks, ``[3, 4, 6, 3]`` (25,557,032 parameters)."""
    ### BEGIN SOLUTION
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes)
    ### END SOLUTION
