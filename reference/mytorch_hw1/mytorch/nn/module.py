"""Module: the superclass of layers, activations, losses and models."""

from .. import tensor


class Module:
    """A piece of a model.

    Parameters (Tensors with ``is_parameter``) and submodules assigned as
    attributes (``self.fc = Linear(2, 3)``) are registered automatically, so
    ``parameters()`` finds them. Calling a module calls its ``forward``.
    """

    def __init__(self):
        self._submodules = {}
        self._parameters = {}
        self.is_train = True

    def __setattr__(self, name, value):
        registries = self.__dict__
        if "_submodules" not in registries:
            object.__setattr__(self, "_submodules", {})
            object.__setattr__(self, "_parameters", {})
        self._submodules.pop(name, None)
        self._parameters.pop(name, None)
        if isinstance(value, Module):
            self._submodules[name] = value
        elif isinstance(value, tensor.Tensor) and value.is_parameter:
            self._parameters[name] = value
        object.__setattr__(self, name, value)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        """The module's computation; subclasses define it."""
        raise NotImplementedError("Subclasses of Module must implement forward")

    def parameters(self):
        """All parameters of this module and its submodules, recursively, each once."""
        found, seen = [], set()
        for param in self._own_parameters():
            if id(param) not in seen:
                seen.add(id(param))
                found.append(param)
        return found

    def _own_parameters(self):
        yield from self.__dict__.get("_parameters", {}).values()
        for module in self.__dict__.get("_submodules", {}).values():
            yield from module.parameters()

    def children(self):
        """The directly registered submodules, in registration order."""
        return list(self.__dict__.get("_submodules", {}).values())

    def train(self):
        """Put this module and its submodules in training mode."""
        self.is_train = True
        for module in self.children():
            module.train()
        return self

    def eval(self):
        """Put this module and its submodules in evaluation mode."""
        self.is_train = False
        for module in self.children():
            module.eval()
        return self
