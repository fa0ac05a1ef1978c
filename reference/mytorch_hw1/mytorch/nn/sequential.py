"""Sequential: modules applied one after another."""

from .module import Module


class Sequential(Module):
    """Sequential(m1, m2, ...)(x) = ...m2(m1(x)).

    The layers are registered as submodules named "0", "1", ...
    """

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
        """Pass x through every layer in order."""
        # BEGIN SOLUTION
        for layer in self.layers:
            x = layer(x)
        return x
        # END SOLUTION

    def __repr__(self):
        return "Sequential({})".format(", ".join(repr(layer) for layer in self.layers))
