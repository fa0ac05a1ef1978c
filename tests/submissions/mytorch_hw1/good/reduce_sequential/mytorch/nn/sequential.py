"""Sequential, folding the input through the layers with functools.reduce."""

import functools

from .module import Module


class Sequential(Module):
    def __init__(self, *layers):
        super().__init__()
        self.layers = layers
        for index, layer in enumerate(layers):
            setattr(self, str(index), layer)

    def __iter__(self):
        return iter(self.layers)

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def forward(self, x):
        return functools.reduce(lambda value, layer: layer.forward(value), self.layers, x)

    def __repr__(self):
        return "Sequential({})".format(", ".join(repr(layer) for layer in self.layers))
