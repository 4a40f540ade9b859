"""Hidden torch references of the graded classes of ``modules.py``.

``REFERENCES[name](*args, **kwargs)`` builds the ``torch.nn`` counterpart of the
student class ``name`` from the SAME constructor arguments, in float64 (pass
``dtype=`` to change it). Arguments that only the NumPy side has are dropped
(``Dropout``'s ``rng``). ``Sequential`` takes already-built torch modules.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["REFERENCES", "build"]

_F64 = torch.float64


def linear(in_features, out_features, bias=True, *, dtype=_F64):
    return nn.Linear(in_features, out_features, bias=bias, dtype=dtype)


def conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, *, dtype=_F64):
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias,
                     dtype=dtype)


def max_pool2d(kernel_size, stride=None, padding=0, *, dtype=_F64):
    return nn.MaxPool2d(kernel_size, stride=stride, padding=padding)


def avg_pool2d(kernel_size, stride=None, padding=0, *, dtype=_F64):
    return nn.AvgPool2d(kernel_size, stride=stride, padding=padding, count_include_pad=True)


def adaptive_avg_pool2d(output_size, *, dtype=_F64):
    return nn.AdaptiveAvgPool2d(output_size)


def batch_norm1d(num_features, eps=1e-5, momentum=0.1, *, dtype=_F64):
    return nn.BatchNorm1d(num_features, eps=eps, momentum=momentum, dtype=dtype)


def batch_norm2d(num_features, eps=1e-5, momentum=0.1, *, dtype=_F64):
    return nn.BatchNorm2d(num_features, eps=eps, momentum=momentum, dtype=dtype)


def relu(*, dtype=_F64):
    return nn.ReLU()


def sigmoid(*, dtype=_F64):
    return nn.Sigmoid()


def dropout(p=0.5, rng=None, *, dtype=_F64):
    """torch's Dropout draws its own masks: compare in evaluation mode, with
    p = 0 or p = 1, or through the mask the student's module drew."""
    return nn.Dropout(p)


def flatten(*, dtype=_F64):
    return nn.Flatten()


def sequential(*modules, dtype=_F64):
    return nn.Sequential(*modules).to(dtype)


REFERENCES = {
    "Linear": linear,
    "Conv2d": conv2d,
    "MaxPool2d": max_pool2d,
    "AvgPool2d": avg_pool2d,
    "AdaptiveAvgPool2d": adaptive_avg_pool2d,
    "BatchNorm1d": batch_norm1d,
    "BatchNorm2d": batch_norm2d,
    "ReLU": relu,
    "Sigmoid": sigmoid,
    "Dropout": dropout,
    "Flatten": flatten,
    "Sequential": sequential,
}


def build(name: str, *args, **kwargs) -> nn.Module:
    """``REFERENCES[name](*args, **kwargs)``."""
    return REFERENCES[name](*args, **kwargs)
