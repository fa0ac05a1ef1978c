"""MyTorch: a small PyTorch-like autograd library in pure numpy (homework 1).

Every module of the package reaches the others through relative imports, so
the package works from wherever its parent folder is put on ``sys.path``.
"""

from . import tensor, autograd_engine, nn, optim
from .tensor import Tensor

__all__ = ["Tensor", "tensor", "autograd_engine", "nn", "optim"]
