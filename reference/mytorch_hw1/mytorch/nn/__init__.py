"""Neural-network building blocks: operations (functional), modules and losses."""

from . import functional
from .module import Module
from .linear import Linear
from .activations import ReLU
from .sequential import Sequential
from .loss import CrossEntropyLoss

__all__ = ["functional", "Module", "Linear", "ReLU", "Sequential", "CrossEntropyLoss"]
