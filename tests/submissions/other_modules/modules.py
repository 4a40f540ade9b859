"""Stateful layers in the style of ``torch.nn``, built on your own functions.

Every layer here is a :class:`Module`. ``forward(x)`` computes the output and keeps
whatever its ``backward`` will need (its *cache*, as in the functional files);
``backward(dout)`` returns the gradient with respect to the input and stores the
gradients of the layer's parameters, under the parameters' names, in
``self.gradients``.

The base class :class:`Module` is given: it does the bookkeeping (parameters,
buffers, sub-modules, dotted names, ``state_dict``, ``train``/``eval``). You write
the ``forward`` and ``backward`` of the layer classes below it, each a few lines
that call the functions of ``conv.py``, ``pooling.py``, ``batchnorm.py`` and
``layers.py``. The constructors are given too: they create the parameters as
torch initialises them.

A short tour of the base class::

    layer = Conv2d(3, 8, kernel_size=3, padding=1)
    layer.weight                      # the (8, 3, 3, 3) float64 weight array
    layer.parameters                  # {"weight": ..., "bias": ...}
    out = layer(x)                    # same as layer.forward(x)
    dx = layer.backward(dout)         # fills layer.gradients["weight"], ["bias"]

    model = Sequential(Conv2d(3, 8, 3), BatchNorm2d(8), ReLU())
    model.parameters["1.weight"]      # dotted names over the whole tree
    model.state_dict()                # {"0.weight", "0.bias", "1.weight", "1.bias",
                                      #  "1.running_mean", "1.running_var"}
    model.eval()                      # every module's .training becomes False

Inside a ``backward`` you store a parameter's gradient with
``self.gradients["weight"] = dw``. Each ``backward`` overwrites the gradients of the
previous pass: they are not accumulated as torch accumulates ``.grad``. Before the
first ``backward`` (and after ``zero_grad()``) a parameter's gradient is ``None``.

Initialisation draws from a fresh ``numpy.random.default_rng()`` unless
``manual_seed(seed)`` was called, after which every new layer draws from that one
seeded generator, in order of construction (as ``torch.manual_seed`` does).
"""

from __future__ import annotations

import math

import numpy as np

from batchnorm import (
    batchnorm_backward,
    batchnorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from conv import conv2d_backward, conv2d_forward
from layers import (
    dropout_backward,
    dropout_forward,
    linear_backward,
    linear_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
)
from pooling import (
    adaptive_avg_pool2d_backward,
    adaptive_avg_pool2d_forward,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)

__all__ = [
    "manual_seed",
    "Module",
    "Linear",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "ReLU",
    "Sigmoid",
    "Dropout",
    "Flatten",
    "Sequential",
]


# --------------------------------------------------------------------------
# Random initialisation
# --------------------------------------------------------------------------

_seeded_rng: np.random.Generator | None = None


def manual_seed(seed) -> None:
    """Makes the initialisation of every layer built from now on reproducible.

    ``seed`` is anything ``numpy.random.default_rng`` accepts (an int, a
    ``SeedSequence``, a ``Generator``); ``None`` goes back to fresh entropy for
    each layer. A seeded run also gives each ``Dropout(rng=None)`` its own
    generator derived from the seed.
    """
    global _seeded_rng
    _seeded_rng = None if seed is None else np.random.default_rng(seed)


def _init_rng() -> np.random.Generator:
    return _seeded_rng if _seeded_rng is not None else np.random.default_rng()


def _uniform(shape: tuple, bound: float) -> np.ndarray:
    """U(-bound, bound) in float64: torch's kaiming_uniform_(a=sqrt(5)) with
    bound = 1/sqrt(fan_in) for weights, and the same bound for biases."""
    return _init_rng().uniform(-bound, bound, size=shape)


def _pair(value) -> tuple:
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"expected an int or a pair of ints, got {value!r}")
    return value


# --------------------------------------------------------------------------
# The base class (given)
# --------------------------------------------------------------------------

class _TreeDict(dict):
    """A dict of arrays under dotted names, read from a module tree when it was
    asked for. Assigning to one of its keys writes through to the module that
    owns that name (``self.gradients["weight"] = dw`` inside a ``backward``)."""

    def __init__(self, items, owners, store):
        super().__init__(items)
        self._owners = owners
        self._store = store

    def __setitem__(self, key, value):
        owner = self._owners.get(key)
        if owner is None:
            raise KeyError(f"{key!r} is not a parameter of this module; its parameters are "
                           f"{list(self._owners) or 'none'}")
        module, name = owner
        if self._store == "gradients":
            module._set_gradient(name, value)
            super().__setitem__(key, module._gradients[name])
        else:
            module._copy_into_parameter(name, value)
            super().__setitem__(key, module._parameters[name])

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def _no_removal(self, *args, **kwargs):
        raise TypeError("parameters and gradients cannot be removed from a module this way")

    __delitem__ = pop = popitem = clear = setdefault = _no_removal


class Module:
    """Base class of every layer and network (given, not graded).

    A module owns

    - *parameters*: trainable arrays (``weight``, ``bias``), each with a gradient;
    - *buffers*: arrays that are state but not trained (BatchNorm's
      ``running_mean`` and ``running_var``);
    - *children*: sub-modules. Assigning a module to an attribute registers it
      as a child under that name, in order (``self.conv1 = Conv2d(...)``).

    Parameters, buffers and children are read as attributes (``self.weight``,
    ``self.running_mean``, ``self.conv1``).

    Attributes and methods:

    - ``parameters``: dict from dotted name to array, over the whole subtree
      (``model.parameters["layer1.0.conv1.weight"]``). The arrays are the live
      parameters: updating one in place (``p -= lr * g``) updates the model, and
      assigning ``model.parameters[name] = value`` copies ``value`` into it.
    - ``gradients``: dict from the same names to the gradient of the last
      ``backward`` (``None`` before it). Read it again after each ``backward``.
    - ``buffers``: dict from dotted name to buffer array, over the whole subtree.
    - ``children``: dict from name to direct sub-module, in order.
    - ``state_dict()`` / ``load_state_dict(d)``: torch's keys and order.
    - ``train()`` / ``eval()``: set ``training`` on every module of the tree.
    - ``zero_grad()``: sets every gradient to ``None``.
    - ``module(x)`` is ``module.forward(x)``.

    A subclass calls ``super().__init__()`` first, creates its parameters with
    ``register_parameter`` (or ``register_buffer``), and implements
    ``forward(x) -> out`` and ``backward(dout) -> dx``.
    """

    # Keys that torch's state_dict has for this kind of module and ours does not;
    # load_state_dict accepts and ignores them.
    _ignored_state_keys: tuple = ()

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_gradients", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_children", {})
        object.__setattr__(self, "training", True)

    # ---- registration --------------------------------------------------
    def _check_new_name(self, name: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 "before it creates parameters or sub-modules")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"invalid name {name!r}: a non-empty string without dots")

    def _forget(self, name: str) -> None:
        for store in (self._parameters, self._gradients, self._buffers, self._children):
            store.pop(name, None)
        self.__dict__.pop(name, None)

    def register_parameter(self, name: str, value: np.ndarray) -> None:
        """Adds a trainable array under ``name`` (its gradient starts as ``None``)."""
        self._check_new_name(name)
        if not isinstance(value, np.ndarray):
            raise TypeError(f"parameter {name!r} must be a numpy array, not {type(value).__name__}")
        self._forget(name)
        self._parameters[name] = value
        self._gradients[name] = None

    def register_buffer(self, name: str, value: np.ndarray) -> None:
        """Adds a non-trainable array under ``name`` (part of ``state_dict``)."""
        self._check_new_name(name)
        if not isinstance(value, np.ndarray):
            raise TypeError(f"buffer {name!r} must be a numpy array, not {type(value).__name__}")
        self._forget(name)
        self._buffers[name] = value

    def add_module(self, name: str, module: "Module") -> None:
        """Registers ``module`` as a child under ``name`` (as ``setattr`` does)."""
        self._check_new_name(name)
        if not isinstance(module, Module):
            raise TypeError(f"{name!r} must be a Module, not {type(module).__name__}")
        self._forget(name)
        self._children[name] = module

    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 f"before it sets attributes (it was setting {name!r})")
        if isinstance(value, Module):
            self.add_module(name, value)
        elif name in d["_parameters"]:
            if not isinstance(value, np.ndarray):
                raise TypeError(f"parameter {name!r} must stay a numpy array")
            d["_parameters"][name] = value
            d["_gradients"][name] = None
        elif name in d["_buffers"]:
            if not isinstance(value, np.ndarray):
                raise TypeError(f"buffer {name!r} must stay a numpy array")
            d["_buffers"][name] = value
        else:
            d["_children"].pop(name, None)
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when normal lookup fails: parameters, buffers, children.
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_children"):
            if store in d and name in d[store]:
                return d[store][name]
        if "_parameters" not in d and not name.startswith("__"):
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r} "
                                 "(did its __init__ call super().__init__()?)")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        if name in self._parameters or name in self._buffers or name in self._children:
            self._forget(name)
        else:
            object.__delattr__(self, name)

    # ---- the tree -------------------------------------------------------
    def named_modules(self, prefix: str = ""):
        """Yields ``(dotted_name, module)`` for this module (name ``prefix``) and
        every descendant, parents before children, in registration order."""
        yield prefix, self
        for name, child in self._children.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def _entries(self, store: str):
        """``(dotted_name, module, local_name)`` over the tree, torch's order."""
        for path, module in self.named_modules():
            for name in getattr(module, store):
                yield (f"{path}.{name}" if path else name), module, name

    @property
    def children(self) -> dict:
        """The direct sub-modules, ``{name: module}``, in registration order."""
        return dict(self._children)

    @property
    def parameters(self) -> dict:
        """``{dotted_name: array}`` for every parameter of the subtree (live arrays)."""
        owners = {key: (m, n) for key, m, n in self._entries("_parameters")}
        return _TreeDict(((k, m._parameters[n]) for k, (m, n) in owners.items()), owners, "parameters")

    @property
    def gradients(self) -> dict:
        """``{dotted_name: array or None}``: the gradients of the last ``backward``.

        Inside a ``backward``, ``self.gradients["weight"] = dw`` stores a gradient
        (its shape must be the parameter's)."""
        owners = {key: (m, n) for key, m, n in self._entries("_parameters")}
        return _TreeDict(((k, m._gradients[n]) for k, (m, n) in owners.items()), owners, "gradients")

    @property
    def buffers(self) -> dict:
        """``{dotted_name: array}`` for every buffer of the subtree (live arrays)."""
        return {key: m._buffers[n] for key, m, n in self._entries("_buffers")}

    def num_parameters(self) -> int:
        """How many numbers the parameters of the subtree hold."""
        return sum(int(p.size) for p in self.parameters.values())

    def _set_gradient(self, name: str, value) -> None:
        param = self._parameters[name]
        if value is None:
            self._gradients[name] = None
            return
        if not isinstance(value, np.ndarray):
            raise TypeError(f"the gradient of {type(self).__name__}.{name} must be a numpy array, "
                            f"not {type(value).__name__}")
        if value.shape != param.shape:
            raise ValueError(f"the gradient of {type(self).__name__}.{name} has shape {value.shape}, "
                             f"but the parameter has shape {param.shape}")
        current = self._gradients.get(name)
        if current is value:
            return
        if (current is not None and current.dtype == value.dtype and current.flags.writeable
                and not np.may_share_memory(current, value)):
            np.copyto(current, value)   # keep one gradient array per parameter, as torch's .grad
        elif value.flags.owndata and value.flags.writeable:
            self._gradients[name] = value
        else:
            self._gradients[name] = value.copy()

    def _copy_into_parameter(self, name: str, value) -> None:
        param = self._parameters[name]
        value = _as_array(value)
        if value.shape != param.shape:
            raise ValueError(f"{type(self).__name__}.{name} has shape {param.shape}, "
                             f"the new value has shape {value.shape}")
        np.copyto(param, value)

    # ---- state ----------------------------------------------------------
    def state_dict(self) -> dict:
        """``{dotted_name: array}``: torch's keys in torch's order (each module's
        parameters, then its buffers, then its children), minus
        ``num_batches_tracked``. The arrays are the live ones, as in torch: copy
        them (``{k: v.copy() for k, v in ...}``) to keep a snapshot."""
        state = {}
        for path, module in self.named_modules():
            prefix = f"{path}." if path else ""
            for name, value in module._parameters.items():
                state[prefix + name] = value
            for name, value in module._buffers.items():
                state[prefix + name] = value
        return state

    def load_state_dict(self, state_dict) -> None:
        """Copies the values of ``state_dict`` into the parameters and buffers.

        Strict: the keys must be exactly those of ``self.state_dict()`` (a torch
        model's ``num_batches_tracked`` entries are accepted and ignored) and each
        shape must match; otherwise ``ValueError`` and nothing is changed. Values
        may be numpy arrays or CPU torch tensors; they are cast to the
        parameters' dtype."""
        own = self.state_dict()
        ignorable = {f"{path}.{key}" if path else key
                     for path, module in self.named_modules() for key in module._ignored_state_keys}
        given = {key: value for key, value in state_dict.items() if key not in ignorable or key in own}
        missing = [key for key in own if key not in given]
        unexpected = [key for key in given if key not in own]
        problems = []
        if missing:
            problems.append(f"missing keys: {missing}")
        if unexpected:
            problems.append(f"unexpected keys: {unexpected}")
        values = {}
        for key, target in own.items():
            if key in given:
                value = _as_array(given[key])
                if value.shape != target.shape:
                    problems.append(f"{key}: shape {value.shape} does not match {target.shape}")
                values[key] = value
        if problems:
            raise ValueError(f"cannot load the state into {type(self).__name__}: " + "; ".join(problems))
        for key, target in own.items():
            np.copyto(target, values[key], casting="same_kind")

    # ---- modes and gradients ---------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Sets ``training = mode`` on this module and all its descendants."""
        for _, module in self.named_modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Same as ``train(False)``: BatchNorm uses its running statistics and
        Dropout passes its input through."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Sets the gradient of every parameter of the subtree to ``None``."""
        for _, module in self.named_modules():
            for name in module._gradients:
                module._gradients[name] = None

    # ---- computing --------------------------------------------------------
    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, dout):
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- printing ---------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, child in self._children.items():
            text = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {text}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"


def _as_array(value) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "cpu"):   # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value)


# --------------------------------------------------------------------------
# Graded layers: write forward and backward
# --------------------------------------------------------------------------

class Linear(Module):
    """Fully connected layer, as ``torch.nn.Linear``: ``out = x @ weight.T + bias``.

    Parameters: ``weight`` (out_features, in_features) and, with ``bias=True``,
    ``bias`` (out_features,), both drawn from U(-1/sqrt(in_features),
    1/sqrt(in_features)) as torch does. With ``bias=False``, ``self.bias`` is
    ``None`` and there is no ``"bias"`` parameter.

    ``forward(x)``: ``x`` (N, in_features) -> (N, out_features); use
    ``linear_forward`` and keep its cache in ``self.cache``.
    ``backward(dout)``: returns dx (N, in_features) and stores
    ``self.gradients["weight"]`` (and ``["bias"]``); use ``linear_backward``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
        self.register_parameter("weight", _uniform((self.out_features, self.in_features), bound))
        if bias:
            self.register_parameter("bias", _uniform((self.out_features,), bound))
        else:
            self.bias = None
        self.cache = None

    def forward(self, x):
        # The cache of linear_forward is kept whole in its own attribute; the input
        # width is checked here, with a message that names the layer.
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}) got input of shape {x.shape}")
        result, self.linear_cache = linear_forward(x, self.weight, self.bias)
        return result

    def backward(self, dout):
        grad_input, grad_weight, grad_bias = linear_backward(dout, self.linear_cache)
        new = {"weight": grad_weight}
        if "bias" in self._parameters:
            new["bias"] = grad_bias
        self.gradients.update(new)
        return grad_input

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Conv2d(Module):
    """2-D convolution (cross-correlation), as ``torch.nn.Conv2d``.

    ``Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True)``;
    ``kernel_size``, ``stride``, ``padding`` are ints or (h, w) pairs and are kept
    as pairs in ``self.kernel_size``, ``self.stride``, ``self.padding``.

    Parameters: ``weight`` (out_channels, in_channels, kh, kw) and, with
    ``bias=True``, ``bias`` (out_channels,), both from U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) with fan_in = in_channels * kh * kw, as torch does. With
    ``bias=False``, ``self.bias`` is ``None`` (ResNet's convolutions).

    ``forward(x)``: (N, in_channels, H, W) -> (N, out_channels, Ho, Wo) with
    ``conv2d_forward``; ``backward(dout)``: returns dx and stores the gradients of
    ``weight`` (and ``bias``) with ``conv2d_backward``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True):
        super().__init__()
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        self.register_parameter(
            "weight", _uniform((self.out_channels, self.in_channels) + self.kernel_size, bound))
        if bias:
            self.register_parameter("bias", _uniform((self.out_channels,), bound))
        else:
            self.bias = None
        self.cache = None

    def forward(self, x):
        result, self.conv_cache = conv2d_forward(x, self.weight, self.bias, self.stride, self.padding)
        return result

    def backward(self, dout):
        grad_input, grad_weight, grad_bias = conv2d_backward(dout, self.conv_cache)
        if self.bias is not None:
            self.gradients["bias"] = grad_bias
        self.gradients["weight"] = grad_weight
        return grad_input

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")
        return text + ("" if self.bias is not None else ", bias=False")


class MaxPool2d(Module):
    """Max pooling, as ``torch.nn.MaxPool2d(kernel_size, stride=None, padding=0)``.

    ``stride=None`` means ``stride = kernel_size`` (stored so in ``self.stride``).
    No parameters. ``forward`` uses ``max_pool2d_forward``, ``backward`` returns
    dx from ``max_pool2d_backward``.
    """

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.cache = None

    def forward(self, x):
        result, self.pool_cache = max_pool2d_forward(x, kernel_size=self.kernel_size, stride=self.stride,
                                                     padding=self.padding)
        return result

    def backward(self, dout):
        grad_input = max_pool2d_backward(dout, self.pool_cache)
        return grad_input

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Average pooling, as ``torch.nn.AvgPool2d(kernel_size, stride=None, padding=0)``
    (``count_include_pad=True``). ``stride=None`` means ``kernel_size``. No
    parameters. Uses ``avg_pool2d_forward`` / ``avg_pool2d_backward``.
    """

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.cache = None

    def forward(self, x):
        result, self.pool_cache = avg_pool2d_forward(x, kernel_size=self.kernel_size, stride=self.stride,
                                                     padding=self.padding)
        return result

    def backward(self, dout):
        grad_input = avg_pool2d_backward(dout, self.pool_cache)
        return grad_input

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Adaptive average pooling to a fixed output size, as
    ``torch.nn.AdaptiveAvgPool2d(output_size)`` (an int or an (h, w) pair).
    AlexNet and VGG use it before their classifier, ResNet as its global average
    pool (``output_size=(1, 1)``). No parameters. Uses
    ``adaptive_avg_pool2d_forward`` / ``adaptive_avg_pool2d_backward``.
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size
        self.cache = None

    def forward(self, x):
        result, self.pool_cache = adaptive_avg_pool2d_forward(x, output_size=self.output_size)
        return result

    def backward(self, dout):
        grad_input = adaptive_avg_pool2d_backward(dout, self.pool_cache)
        return grad_input

    def extra_repr(self):
        return f"output_size={self.output_size}"


class BatchNorm1d(Module):
    """Batch normalisation of features, as ``torch.nn.BatchNorm1d(num_features,
    eps=1e-5, momentum=0.1)``.

    Parameters ``weight`` (gamma, ones) and ``bias`` (beta, zeros), buffers
    ``running_mean`` (zeros) and ``running_var`` (ones), each (num_features,).

    ``forward(x)``: ``x`` (N, num_features) through ``batchnorm_forward`` with
    ``training=self.training``: in training it normalises with the batch
    statistics and updates the running buffers in place; in evaluation it uses
    them. (torch also accepts (N, C, L); supporting that is optional.)
    ``backward(dout)``: returns dx and stores the gradients of ``weight`` and
    ``bias``, with ``batchnorm_backward``.
    """

    _ignored_state_keys = ("num_batches_tracked",)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.register_parameter("weight", np.ones(self.num_features))
        self.register_parameter("bias", np.zeros(self.num_features))
        self.register_buffer("running_mean", np.zeros(self.num_features))
        self.register_buffer("running_var", np.ones(self.num_features))
        self.cache = None

    def forward(self, x):
        # (N, C) goes straight to batchnorm_forward; (N, C, L) is laid out as (N*L, C)
        # rows first. The input's shape is kept on its own to undo that in backward.
        self.input_shape = x.shape
        if x.ndim == 2:
            rows = x
        elif x.ndim == 3:
            rows = np.swapaxes(x, 1, 2).reshape(-1, x.shape[1])
        else:
            raise ValueError(f"BatchNorm1d expects (N, C) or (N, C, L) input, got shape {x.shape}")
        normed, self.bn_cache = batchnorm_forward(rows, self.weight, self.bias, self.running_mean,
                                                  self.running_var, training=self.training,
                                                  momentum=self.momentum, eps=self.eps)
        if x.ndim == 2:
            return normed
        n, c, length = x.shape
        return np.ascontiguousarray(np.swapaxes(normed.reshape(n, length, c), 1, 2))

    def backward(self, dout):
        shape = self.input_shape
        if len(shape) == 2:
            grad_rows = dout
        else:
            grad_rows = np.swapaxes(dout, 1, 2).reshape(-1, shape[1])
        grad_input, grad_gamma, grad_beta = batchnorm_backward(grad_rows, self.bn_cache)
        self.gradients["bias"] = grad_beta
        self.gradients["weight"] = grad_gamma
        if len(shape) == 2:
            return grad_input
        n, c, length = shape
        return np.ascontiguousarray(np.swapaxes(grad_input.reshape(n, length, c), 1, 2))

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm2d(Module):
    """Batch normalisation of images, per channel over N, H and W, as
    ``torch.nn.BatchNorm2d(num_features, eps=1e-5, momentum=0.1)``.

    Same parameters and buffers as :class:`BatchNorm1d` (each (C,)).
    ``forward(x)``: ``x`` (N, C, H, W) through ``spatial_batchnorm_forward`` with
    ``training=self.training``; ``backward(dout)`` returns dx and stores the
    gradients of ``weight`` and ``bias``, with ``spatial_batchnorm_backward``.
    """

    _ignored_state_keys = ("num_batches_tracked",)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.register_parameter("weight", np.ones(self.num_features))
        self.register_parameter("bias", np.zeros(self.num_features))
        self.register_buffer("running_mean", np.zeros(self.num_features))
        self.register_buffer("running_var", np.ones(self.num_features))
        self.cache = None

    def forward(self, x):
        # Per channel over N, H and W: the same as batchnorm_forward on the (N*H*W, C)
        # matrix whose rows are the pixels, so this layer does the reshaping itself.
        if x.ndim != 4:
            raise ValueError(f"BatchNorm2d expects (N, C, H, W) input, got shape {x.shape}")
        n, c, h, w = x.shape
        self.input_shape = x.shape
        pixels = x.transpose(0, 2, 3, 1).reshape(n * h * w, c)
        normed, self.bn_cache = batchnorm_forward(pixels, self.weight, self.bias, self.running_mean,
                                                  self.running_var, training=self.training,
                                                  momentum=self.momentum, eps=self.eps)
        return np.ascontiguousarray(normed.reshape(n, h, w, c).transpose(0, 3, 1, 2))

    def backward(self, dout):
        n, c, h, w = self.input_shape
        grad_pixels = dout.transpose(0, 2, 3, 1).reshape(n * h * w, c)
        grad_input, grad_gamma, grad_beta = batchnorm_backward(grad_pixels, self.bn_cache)
        self.gradients["weight"] = grad_gamma
        self.gradients["bias"] = grad_beta
        return np.ascontiguousarray(grad_input.reshape(n, h, w, c).transpose(0, 3, 1, 2))

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class ReLU(Module):
    """``max(x, 0)`` elementwise, as ``torch.nn.ReLU`` (gradient 0 at 0). Uses
    ``relu_forward`` / ``relu_backward``. One instance keeps one cache, so a
    network needs one ``ReLU`` per place it applies one."""

    def __init__(self):
        super().__init__()
        self.cache = None

    def forward(self, x):
        # Only where the input is positive does anything pass, forward or backward.
        self.mask = x > 0
        return np.where(self.mask, x, 0.0).astype(x.dtype, copy=False)

    def backward(self, dout):
        return np.where(self.mask, dout, 0.0).astype(dout.dtype, copy=False)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise, as ``torch.nn.Sigmoid``. Uses
    ``sigmoid_forward`` / ``sigmoid_backward``."""

    def __init__(self):
        super().__init__()
        self.cache = None

    def forward(self, x):
        # The output is all the derivative needs: s' = s (1 - s).
        result, _ = sigmoid_forward(x)
        self.output = result
        return result

    def backward(self, dout):
        s = self.output
        return dout * s * (1.0 - s)


class Dropout(Module):
    """Inverted dropout, as ``torch.nn.Dropout(p=0.5)``: ``p`` is the probability
    of zeroing an element.

    ``rng`` is the ``numpy.random.Generator`` the masks are drawn from
    (``None``: a new ``numpy.random.default_rng()``, or one derived from the seed
    of ``manual_seed``). ``forward`` calls ``dropout_forward(x, self.p,
    self.training, self.rng)``: masks in training, identity in evaluation.
    ``backward`` uses ``dropout_backward``.
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        # rng=None written another way than the given code: a seeded run's layers share the
        # seeded generator itself (the same seed still gives the same masks).
        self.rng = _init_rng() if rng is None else rng
        self.cache = None

    def forward(self, x):
        if not self.training:
            self.scaled_mask = None
            return x
        # One draw per training forward, keep = rng.random >= p; the kept elements are
        # scaled by 1 / (1 - p) now, so backward is a single product.
        keep = self.rng.random(x.shape) >= self.p
        scale = 0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p)
        self.scaled_mask = keep.astype(x.dtype) * scale
        return x * self.scaled_mask

    def backward(self, dout):
        if self.scaled_mask is None:
            return dout
        return dout * self.scaled_mask

    def extra_repr(self):
        return f"p={self.p}"


class Flatten(Module):
    """Flattens all axes but the first, as ``torch.nn.Flatten()``:
    (N, C, H, W) -> (N, C*H*W). ``backward`` gives the gradient its input's
    shape back."""

    def __init__(self):
        super().__init__()
        self.cache = None

    def forward(self, x):
        self.input_shape = x.shape
        return x.reshape(len(x), math.prod(x.shape[1:]))

    def backward(self, dout):
        return np.reshape(dout, self.input_shape)


class Sequential(Module):
    """A chain of modules, as ``torch.nn.Sequential(*modules)``: the children are
    named ``"0"``, ``"1"``, ... (so its state_dict keys are ``"0.weight"``, ...).

    ``forward(x)`` feeds ``x`` through the children in order; ``backward(dout)``
    sends the gradient back through them in reverse order and returns dx.
    ``seq[i]``, ``len(seq)`` and ``for m in seq`` work as in torch.
    """

    def __init__(self, *modules: Module):
        super().__init__()
        for index, module in enumerate(modules):
            self.add_module(str(index), module)

    def __len__(self):
        return len(self._children)

    def __iter__(self):
        return iter(self._children.values())

    def __getitem__(self, index: int) -> Module:
        modules = list(self._children.values())
        return modules[index]

    def forward(self, x):
        out = x
        for layer in self:
            out = layer.forward(out)
        return out

    def backward(self, dout):
        layers = list(self.children.values())
        grad = dout
        for layer in layers[::-1]:
            grad = layer.backward(grad)
        return grad
