"""Softmax classifier lab.

I organised my code as small layer classes (like nn.Module, each with
forward/backward) plus helpers, and the required functions just call them.

Loses: none
"""
import torch


def _one_hot(label, like):
    v = torch.zeros_like(like)
    v[label] = 1
    return v


def _stable_exp(a):
    return torch.exp(a - a.max())


class Softmax:
    def forward(self, a):
        e = _stable_exp(a)
        return e / e.sum()

    def backward(self, a, grad_out):
        y = self.forward(a)
        # Jacobian-vector product of diag(y) - y y^T
        return y * grad_out - y * (y * grad_out).sum()


class Linear:
    def __init__(self, weight, bias):
        self.weight = weight
        self.bias = bias

    def forward(self, x):
        return self.weight @ x + self.bias

    def backward(self, x, grad_out):
        return grad_out @ x.transpose(0, 1), grad_out.clone()


class NLLLoss:
    def forward(self, label, p):
        return -torch.log(p[label])

    def backward(self, label, p):
        return -_one_hot(label, p) / p[label]

    def backward_through_softmax(self, label, p):
        return p - _one_hot(label, p)


class Hinge:
    def __init__(self, delta):
        self.delta = delta

    def _margins(self, label, s):
        m = s - s[label] + self.delta
        m[label] = 0  # the correct class is not compared with itself
        return m

    def forward(self, label, s):
        return self._margins(label, s).clamp(min=0).sum()

    def backward(self, label, s):
        g = (self._margins(label, s) > 0).to(s.dtype)
        g[label] = -g.sum()
        return g


class ColorHistogram:
    def __init__(self, bins):
        self.bins = bins

    def channel(self, values):
        i = (values.reshape(-1) * self.bins).long()
        i = torch.where(i >= self.bins, torch.full_like(i, self.bins - 1), i)
        return torch.bincount(i, minlength=self.bins).to(values.dtype) / values.numel()

    def __call__(self, img):
        return torch.cat([self.channel(img[c]) for c in range(3)])


_softmax = Softmax()
_nll = NLLLoss()


def softmax(a):
    return _softmax.forward(a)


def linear(x, weight, bias):
    return Linear(weight, bias).forward(x)


def loss(label, predictions):
    return _nll.forward(label, predictions)


def loss_softmax_backward(label, predictions):
    return _nll.backward_through_softmax(label, predictions)


def linear_backward(x, weight, bias, gradOutput):
    return Linear(weight, bias).backward(x, gradOutput)


def loss_backward(label, predictions):
    return _nll.backward(label, predictions)


def softmax_backward(inputTensor, gradOutput):
    return _softmax.backward(inputTensor, gradOutput)


def color_histogram(img, bins):
    return ColorHistogram(bins)(img)


def max_margin_loss(label, scores, delta):
    return Hinge(delta).forward(label, scores)


def max_margin_loss_backward(label, scores, delta):
    return Hinge(delta).backward(label, scores)
