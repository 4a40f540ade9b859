"""Planted bugs of ``modules.py`` and ``networks.py``: classic mistakes, each a textual
edit of a reference solution (the format of ``tests/planted_bugs.py``).

Every entry of ``BUGS`` replaces ``old`` (which must occur exactly once in
``solutions/<file>``) by ``new`` in a COPY of that file. The grader must then take
points off a check whose rubric ``name`` is ``function``
(``tests/test_networks_grading.py`` enforces it).
"""

from __future__ import annotations

from tests.planted_bugs import Bug, apply_bug, plant  # noqa: F401 - one format for every part

BUGS: list[Bug] = [
    # ------------------------------------------------------------- networks.py
    Bug(
        id="basic_block_shortcut_gradient_not_added",
        file="networks.py",
        old=("        dmain = self.conv1.backward(dmain)\n"
             "        dshortcut = dsum if self.downsample is None else self.downsample.backward(dsum)\n"
             "        return dmain + dshortcut"),
        new=("        dmain = self.conv1.backward(dmain)\n"
             "        dshortcut = dsum if self.downsample is None else self.downsample.backward(dsum)\n"
             "        return dmain"),
        function="BasicBlock",
        why="backward returns the main path's gradient only: x also feeds the shortcut",
    ),
    Bug(
        id="bottleneck_shortcut_gradient_not_added",
        file="networks.py",
        old=("        dmain = self.conv1.backward(self.bn1.backward(self.relu1.backward(dmain)))\n"
             "        dshortcut = dsum if self.downsample is None else self.downsample.backward(dsum)\n"
             "        return dmain + dshortcut"),
        new=("        dmain = self.conv1.backward(self.bn1.backward(self.relu1.backward(dmain)))\n"
             "        return dmain"),
        function="Bottleneck",
        why="the shortcut's gradient is dropped (and the downsample never gets its gradients)",
    ),
    Bug(
        id="resnet_missing_downsample_on_channel_change",
        file="networks.py",
        old="if stride != 1 or self.inplanes != planes * block.expansion:",
        new="if stride != 1:",
        function="ResNet",
        why="no downsample when only the channel count changes (Bottleneck's layer1: 64 -> 256 at stride 1)",
    ),
    Bug(
        id="basic_block_downsample_ignored",
        file="networks.py",
        old=("        out = self.bn2(self.conv2(out))\n"
             "        shortcut = x if self.downsample is None else self.downsample(x)"),
        new=("        out = self.bn2(self.conv2(out))\n"
             "        shortcut = x"),
        function="BasicBlock",
        why="the downsample is built but the forward adds x itself",
    ),
    Bug(
        id="bottleneck_stride_on_1x1",
        file="networks.py",
        old=("        self.conv1 = Conv2d(inplanes, width, kernel_size=1, bias=False)\n"
             "        self.bn1 = BatchNorm2d(width)\n"
             "        self.relu1 = ReLU()\n"
             "        self.conv2 = Conv2d(width, width, kernel_size=3, stride=stride, padding=1, bias=False)"),
        new=("        self.conv1 = Conv2d(inplanes, width, kernel_size=1, stride=stride, bias=False)\n"
             "        self.bn1 = BatchNorm2d(width)\n"
             "        self.relu1 = ReLU()\n"
             "        self.conv2 = Conv2d(width, width, kernel_size=3, stride=1, padding=1, bias=False)"),
        function="Bottleneck",
        why="the stride sits on the 1x1 conv1 (ResNet v1) instead of the 3x3 conv2 (torchvision's v1.5)",
    ),
    Bug(
        id="basic_block_relu_before_addition",
        file="networks.py",
        old="return self.relu2(out + shortcut)",
        new="return self.relu2(out) + shortcut",
        function="BasicBlock",
        why="the last ReLU is applied to the main path before the addition instead of after it",
    ),
    Bug(
        id="alexnet_classifier_keys_shifted",
        file="networks.py",
        old=("            Dropout(p=dropout), Linear(256 * 6 * 6, 4096), ReLU(),\n"
             "            Dropout(p=dropout), Linear(4096, 4096), ReLU(),"),
        new=("            Linear(256 * 6 * 6, 4096), ReLU(), Dropout(p=dropout),\n"
             "            Linear(4096, 4096), ReLU(), Dropout(p=dropout),"),
        function="AlexNet",
        why="VGG's classifier order: the Linear layers become classifier.0/3/6 instead of 1/4/6",
    ),
    Bug(
        id="resnet_fc_misnamed",
        file="networks.py",
        old="        self.fc = Linear(512 * block.expansion, num_classes)",
        new="        self.classifier = Linear(512 * block.expansion, num_classes)",
        function="ResNet",
        why="the last layer is called classifier: its keys are not torchvision's fc.weight, fc.bias",
    ),
    Bug(
        id="vgg_dropout_argument_ignored",
        file="networks.py",
        old=("            Linear(512 * 7 * 7, 4096), ReLU(), Dropout(p=dropout),\n"
             "            Linear(4096, 4096), ReLU(), Dropout(p=dropout),"),
        new=("            Linear(512 * 7 * 7, 4096), ReLU(), Dropout(p=0.5),\n"
             "            Linear(4096, 4096), ReLU(), Dropout(p=0.5),"),
        function="VGG16",
        why="the dropout argument is ignored: VGG16(dropout=0.0) still drops in training",
    ),
    Bug(
        id="lenet_average_pooling",
        file="networks.py",
        old=("        self.pool1 = MaxPool2d(2)\n"
             "        self.conv2 = Conv2d(6, 16, 5)\n"
             "        self.act2 = act()\n"
             "        self.pool2 = MaxPool2d(2)"),
        new=("        from modules import AvgPool2d\n"
             "        self.pool1 = AvgPool2d(2)\n"
             "        self.conv2 = Conv2d(6, 16, 5)\n"
             "        self.act2 = act()\n"
             "        self.pool2 = AvgPool2d(2)"),
        function="LeNet5",
        why="average pooling (the 1998 paper's subsampling) instead of the contract's max pooling",
    ),
    # -------------------------------------------------------------- modules.py
    Bug(
        id="batchnorm2d_training_under_eval",
        file="modules.py",
        old=("        out, self.cache = spatial_batchnorm_forward(x, self.weight, self.bias, self.running_mean,\n"
             "                                                    self.running_var, training=self.training,"),
        new=("        out, self.cache = spatial_batchnorm_forward(x, self.weight, self.bias, self.running_mean,\n"
             "                                                    self.running_var, training=True,"),
        function="BatchNorm2d",
        why="BatchNorm stays in training mode under eval(): batch statistics, running ones updated",
    ),
    Bug(
        id="dropout_active_in_eval",
        file="modules.py",
        old="out, self.cache = dropout_forward(x, self.p, self.training, self.rng)",
        new="out, self.cache = dropout_forward(x, self.p, True, self.rng)",
        function="Dropout",
        why="dropout keeps masking in evaluation mode",
    ),
    Bug(
        id="linear_gradients_accumulated",
        file="modules.py",
        old=("        dx, dw, db = linear_backward(dout, self.cache)\n"
             "        self.gradients[\"weight\"] = dw"),
        new=("        dx, dw, db = linear_backward(dout, self.cache)\n"
             "        previous = self.gradients[\"weight\"]\n"
             "        self.gradients[\"weight\"] = dw if previous is None else previous + dw"),
        function="Linear",
        why="the weight gradient is accumulated over passes, as torch's .grad, instead of overwritten",
    ),
    Bug(
        id="flatten_first_shape_kept",
        file="modules.py",
        old="        self.cache = x.shape\n        return x.reshape(x.shape[0], -1)",
        new="        self.cache = self.cache or x.shape\n        return x.reshape(x.shape[0], -1)",
        function="Flatten",
        why="the input shape of the first forward is kept: a batch of another size gets the wrong dx shape",
    ),
    Bug(
        id="sequential_backward_in_forward_order",
        file="modules.py",
        old="        for module in reversed(list(self._children.values())):\n            dout = module.backward(dout)",
        new="        for module in list(self._children.values()):\n            dout = module.backward(dout)",
        function="Sequential",
        why="backward visits the children in forward order instead of reverse order",
    ),
    Bug(
        id="conv2d_padding_ignored",
        file="modules.py",
        old=("        out, self.cache = conv2d_forward(x, self.weight, self.bias, stride=self.stride,\n"
             "                                         padding=self.padding)"),
        new=("        out, self.cache = conv2d_forward(x, self.weight, self.bias, stride=self.stride)"),
        function="Conv2d",
        why="the module's padding is not passed on",
    ),
    Bug(
        id="batchnorm1d_default_momentum",
        file="modules.py",
        old=("            out, cache = batchnorm_forward(x, self.weight, self.bias, self.running_mean,\n"
             "                                           self.running_var, training=self.training,\n"
             "                                           momentum=self.momentum, eps=self.eps)"),
        new=("            out, cache = batchnorm_forward(x, self.weight, self.bias, self.running_mean,\n"
             "                                           self.running_var, training=self.training,\n"
             "                                           eps=self.eps)"),
        function="BatchNorm1d",
        why="momentum is not passed on: the running statistics always move by 0.1",
    ),
    Bug(
        id="sigmoid_cache_updated_in_place",
        file="modules.py",
        old="        return sigmoid_backward(dout, self.cache)\n",
        new=("        dx = sigmoid_backward(dout, self.cache)\n"
             "        self.cache[...] = 0.0   # the cache is forward's output: \"free\" it\n"
             "        return dx\n"),
        function="Sigmoid",
        why="backward wipes its cached array in place, which is also the array forward returned",
    ),
    Bug(
        id="lenet5_default_activation_relu",
        file="networks.py",
        old='    def __init__(self, num_classes: int = 10, activation: str = "sigmoid"):',
        new='    def __init__(self, num_classes: int = 10, activation: str = "relu"):',
        function="LeNet5",
        why="the contract's default activation is sigmoid (LeNet5() must be the classic network)",
    ),
    Bug(
        id="batchnorm2d_running_statistics_as_parameters",
        file="modules.py",
        old=("    gradients of ``weight`` and ``bias``, with ``spatial_batchnorm_backward``.\n"
             '    """\n\n'
             '    _ignored_state_keys = ("num_batches_tracked",)\n\n'
             "    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):\n"
             "        super().__init__()\n"
             "        self.num_features = int(num_features)\n"
             "        self.eps = eps\n"
             "        self.momentum = momentum\n"
             '        self.register_parameter("weight", np.ones(self.num_features))\n'
             '        self.register_parameter("bias", np.zeros(self.num_features))\n'
             '        self.register_buffer("running_mean", np.zeros(self.num_features))\n'
             '        self.register_buffer("running_var", np.ones(self.num_features))\n'),
        new=("    gradients of ``weight`` and ``bias``, with ``spatial_batchnorm_backward``.\n"
             '    """\n\n'
             '    _ignored_state_keys = ("num_batches_tracked",)\n\n'
             "    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):\n"
             "        super().__init__()\n"
             "        self.num_features = int(num_features)\n"
             "        self.eps = eps\n"
             "        self.momentum = momentum\n"
             '        self.register_parameter("weight", np.ones(self.num_features))\n'
             '        self.register_parameter("bias", np.zeros(self.num_features))\n'
             '        self.register_parameter("running_mean", np.zeros(self.num_features))\n'
             '        self.register_parameter("running_var", np.ones(self.num_features))\n'),
        function="BatchNorm2d",
        why="the running statistics are registered as parameters: an optimiser would train them",
    ),
    Bug(
        id="dropout_default_p",
        file="modules.py",
        old="    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None):",
        new="    def __init__(self, p: float = 0.2, rng: np.random.Generator | None = None):",
        function="Dropout",
        why="the contract's default drop probability is 0.5, as torch's",
    ),
    Bug(
        id="dropout_default_rng_fixed_seed",
        file="modules.py",
        old=("            rng = (np.random.default_rng() if _seeded_rng is None\n"
             "                   else np.random.default_rng(_seeded_rng.integers(2**63)))\n"),
        new="            rng = np.random.default_rng(0)\n",
        function="Dropout",
        why="rng=None gives every Dropout default_rng(0): the same masks in every layer and every run",
    ),
    Bug(
        id="dropout_default_rng_ignores_manual_seed",
        file="modules.py",
        old=("            rng = (np.random.default_rng() if _seeded_rng is None\n"
             "                   else np.random.default_rng(_seeded_rng.integers(2**63)))\n"),
        new="            rng = np.random.default_rng()\n",
        function="Dropout",
        why="rng=None ignores manual_seed: a seeded run's masks cannot be drawn again",
    ),
    Bug(
        id='linear_module_default_no_bias',
        file='modules.py',
        old='    def __init__(self, in_features: int, out_features: int, bias: bool = True):',
        new='    def __init__(self, in_features: int, out_features: int, bias: bool = False):',
        function='Linear',
        why='the documented default bias=True is False: Linear(i, o) has no bias',
    ),
    Bug(
        id='conv2d_module_default_stride',
        file='modules.py',
        old='    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,\n                 bias: bool = True):',
        new='    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=2, padding=0,\n                 bias: bool = True):',
        function='Conv2d',
        why='the documented default stride=1 is 2',
    ),
    Bug(
        id='conv2d_module_default_padding',
        file='modules.py',
        old='    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,\n                 bias: bool = True):',
        new='    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=1,\n                 bias: bool = True):',
        function='Conv2d',
        why="the documented default padding=0 is 1 ('same' padding for 3x3 kernels)",
    ),
    Bug(
        id='conv2d_module_default_no_bias',
        file='modules.py',
        old='    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,\n                 bias: bool = True):',
        new='    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,\n                 bias: bool = False):',
        function='Conv2d',
        why='the documented default bias=True is False',
    ),
    Bug(
        id='maxpool2d_module_default_stride_one',
        file='modules.py',
        old='    dx from ``max_pool2d_backward``.\n    """\n\n    def __init__(self, kernel_size, stride=None, padding=0):',
        new='    dx from ``max_pool2d_backward``.\n    """\n\n    def __init__(self, kernel_size, stride=1, padding=0):',
        function='MaxPool2d',
        why='stride=None (the kernel size) is 1 by default: overlapping windows',
    ),
    Bug(
        id='maxpool2d_module_default_padding',
        file='modules.py',
        old='    dx from ``max_pool2d_backward``.\n    """\n\n    def __init__(self, kernel_size, stride=None, padding=0):',
        new='    dx from ``max_pool2d_backward``.\n    """\n\n    def __init__(self, kernel_size, stride=None, padding=1):',
        function='MaxPool2d',
        why='the documented default padding=0 is 1',
    ),
    Bug(
        id='avgpool2d_module_default_stride_one',
        file='modules.py',
        old='    parameters. Uses ``avg_pool2d_forward`` / ``avg_pool2d_backward``.\n    """\n\n    def __init__(self, kernel_size, stride=None, padding=0):',
        new='    parameters. Uses ``avg_pool2d_forward`` / ``avg_pool2d_backward``.\n    """\n\n    def __init__(self, kernel_size, stride=1, padding=0):',
        function='AvgPool2d',
        why='stride=None (the kernel size) is 1 by default: overlapping windows',
    ),
    Bug(
        id='avgpool2d_module_default_padding',
        file='modules.py',
        old='    parameters. Uses ``avg_pool2d_forward`` / ``avg_pool2d_backward``.\n    """\n\n    def __init__(self, kernel_size, stride=None, padding=0):',
        new='    parameters. Uses ``avg_pool2d_forward`` / ``avg_pool2d_backward``.\n    """\n\n    def __init__(self, kernel_size, stride=None, padding=1):',
        function='AvgPool2d',
        why='the documented default padding=0 is 1',
    ),
    Bug(
        id='batchnorm1d_default_eps',
        file='modules.py',
        old='    ``bias``, with ``batchnorm_backward``.\n    """\n\n    _ignored_state_keys = ("num_batches_tracked",)\n\n    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):',
        new='    ``bias``, with ``batchnorm_backward``.\n    """\n\n    _ignored_state_keys = ("num_batches_tracked",)\n\n    def __init__(self, num_features: int, eps: float = 1e-3, momentum: float = 0.1):',
        function='BatchNorm1d',
        why='the documented default eps=1e-5 is 1e-3',
    ),
    Bug(
        id='batchnorm1d_default_momentum_signature',
        file='modules.py',
        old='    ``bias``, with ``batchnorm_backward``.\n    """\n\n    _ignored_state_keys = ("num_batches_tracked",)\n\n    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):',
        new='    ``bias``, with ``batchnorm_backward``.\n    """\n\n    _ignored_state_keys = ("num_batches_tracked",)\n\n    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.9):',
        function='BatchNorm1d',
        why="the documented default momentum=0.1 is 0.9 (Keras' convention, the weight of the OLD statistics)",
    ),
    Bug(
        id='batchnorm2d_default_eps',
        file='modules.py',
        old='    gradients of ``weight`` and ``bias``, with ``spatial_batchnorm_backward``.\n    """\n\n    _ignored_state_keys = ("num_batches_tracked",)\n\n    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):',
        new='    gradients of ``weight`` and ``bias``, with ``spatial_batchnorm_backward``.\n    """\n\n    _ignored_state_keys = ("num_batches_tracked",)\n\n    def __init__(self, num_features: int, eps: float = 1e-3, momentum: float = 0.1):',
        function='BatchNorm2d',
        why='the documented default eps=1e-5 is 1e-3',
    ),
    Bug(
        id='batchnorm2d_default_momentum',
        file='modules.py',
        old='    gradients of ``weight`` and ``bias``, with ``spatial_batchnorm_backward``.\n    """\n\n    _ignored_state_keys = ("num_batches_tracked",)\n\n    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):',
        new='    gradients of ``weight`` and ``bias``, with ``spatial_batchnorm_backward``.\n    """\n\n    _ignored_state_keys = ("num_batches_tracked",)\n\n    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.9):',
        function='BatchNorm2d',
        why="the documented default momentum=0.1 is 0.9 (Keras' convention, the weight of the OLD statistics)",
    ),
    Bug(
        id='lenet5_default_num_classes',
        file='networks.py',
        old='    def __init__(self, num_classes: int = 10, activation: str = "sigmoid"):',
        new='    def __init__(self, num_classes: int = 11, activation: str = "sigmoid"):',
        function='LeNet5',
        why='the documented default num_classes=10 is 11',
    ),
    Bug(
        id='alexnet_default_num_classes',
        file='networks.py',
        old='    least 63x63 pixels (224x224 in the original).\n    """\n\n    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):',
        new='    least 63x63 pixels (224x224 in the original).\n    """\n\n    def __init__(self, num_classes: int = 10, dropout: float = 0.5):',
        function='AlexNet',
        why='the documented default num_classes=1000 (ImageNet) is 10',
    ),
    Bug(
        id='alexnet_default_dropout',
        file='networks.py',
        old='    least 63x63 pixels (224x224 in the original).\n    """\n\n    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):',
        new='    least 63x63 pixels (224x224 in the original).\n    """\n\n    def __init__(self, num_classes: int = 1000, dropout: float = 0.2):',
        function='AlexNet',
        why='the documented default dropout=0.5 is 0.2',
    ),
    Bug(
        id='vgg16_default_num_classes',
        file='networks.py',
        old='    Works for any input of at least 32x32 pixels (224x224 in the original).\n    """\n\n    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):',
        new='    Works for any input of at least 32x32 pixels (224x224 in the original).\n    """\n\n    def __init__(self, num_classes: int = 10, dropout: float = 0.5):',
        function='VGG16',
        why='the documented default num_classes=1000 (ImageNet) is 10',
    ),
    Bug(
        id='vgg16_default_dropout',
        file='networks.py',
        old='    Works for any input of at least 32x32 pixels (224x224 in the original).\n    """\n\n    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):',
        new='    Works for any input of at least 32x32 pixels (224x224 in the original).\n    """\n\n    def __init__(self, num_classes: int = 1000, dropout: float = 0.2):',
        function='VGG16',
        why='the documented default dropout=0.5 is 0.2',
    ),
    Bug(
        id='resnet_default_num_classes',
        file='networks.py',
        old='    def __init__(self, block, layers, num_classes: int = 1000):',
        new='    def __init__(self, block, layers, num_classes: int = 10):',
        function='ResNet',
        why='the documented default num_classes=1000 (ImageNet) is 10',
    ),
    Bug(
        id='resnet18_default_num_classes',
        file='networks.py',
        old='def resnet18(num_classes: int = 1000) -> ResNet:',
        new='def resnet18(num_classes: int = 10) -> ResNet:',
        function='resnet18',
        why='the documented default num_classes=1000 is 10',
    ),
    Bug(
        id='resnet50_default_num_classes',
        file='networks.py',
        old='def resnet50(num_classes: int = 1000) -> ResNet:',
        new='def resnet50(num_classes: int = 10) -> ResNet:',
        function='resnet50',
        why='the documented default num_classes=1000 is 10',
    ),
    Bug(
        id='basic_block_default_stride',
        file='networks.py',
        old='    expansion = 1\n\n    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: Module | None = None):',
        new='    expansion = 1\n\n    def __init__(self, inplanes: int, planes: int, stride: int = 2, downsample: Module | None = None):',
        function='BasicBlock',
        why='the documented default stride=1 is 2: a block built without stride halves the image',
    ),
    Bug(
        id='bottleneck_default_stride',
        file='networks.py',
        old='    expansion = 4\n\n    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: Module | None = None):',
        new='    expansion = 4\n\n    def __init__(self, inplanes: int, planes: int, stride: int = 2, downsample: Module | None = None):',
        function='Bottleneck',
        why='the documented default stride=1 is 2: a block built without stride halves the image',
    ),
    Bug(
        id='basic_block_default_projection_shortcut',
        file='networks.py',
        old='        self.downsample = downsample\n        self.relu2 = ReLU()\n',
        new='        self.downsample = downsample if downsample is not None else Sequential(\n            Conv2d(inplanes, planes, kernel_size=1, stride=stride, bias=False), BatchNorm2d(planes))\n        self.relu2 = ReLU()\n',
        function='BasicBlock',
        why='downsample=None gives a 1x1 projection shortcut instead of the identity',
    ),
    Bug(
        id='bottleneck_default_projection_shortcut',
        file='networks.py',
        old='        self.downsample = downsample\n        self.relu3 = ReLU()\n',
        new='        self.downsample = downsample if downsample is not None else Sequential(\n            Conv2d(inplanes, planes * self.expansion, kernel_size=1, stride=stride, bias=False),\n            BatchNorm2d(planes * self.expansion))\n        self.relu3 = ReLU()\n',
        function='Bottleneck',
        why='downsample=None gives a 1x1 projection shortcut instead of the identity',
    ),
]
