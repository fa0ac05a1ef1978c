"""Softmax lab -- I know numpy better than torch, so each function converts
its tensors to numpy arrays, does the work there, and converts back with
torch.from_numpy.

Loses: none
"""
import numpy as np
import torch


def _np(t):
    return t.detach().cpu().numpy()


def softmax(a):
    x = _np(a)
    e = np.exp(x - np.max(x))
    return torch.from_numpy(e / np.sum(e))


def linear(x, weight, bias):
    out = np.dot(_np(weight), _np(x)) + _np(bias)
    return torch.from_numpy(out)


def loss(label, predictions):
    p = _np(predictions)
    value = -np.log(p[label])  # shape (1,)
    return torch.from_numpy(np.asarray(value))


def loss_softmax_backward(label, predictions):
    grad = _np(predictions).copy()
    grad[label] -= 1
    return torch.from_numpy(grad)


def linear_backward(x, weight, bias, gradOutput):
    g = _np(gradOutput)
    gradWeight = np.outer(g, _np(x))  # (10, 3072)
    gradBias = g.copy()
    return torch.from_numpy(gradWeight), torch.from_numpy(gradBias)


def loss_backward(label, predictions):
    p = _np(predictions)
    grad = np.zeros_like(p)
    grad[label] = -1.0 / p[label]
    return torch.from_numpy(grad)


def softmax_backward(inputTensor, gradOutput):
    a = _np(inputTensor)
    g = _np(gradOutput)
    e = np.exp(a - a.max())
    y = e / e.sum()
    return torch.from_numpy(y * (g - np.sum(y * g)))


def color_histogram(img, bins):
    im = _np(img)
    out = []
    for c in range(3):
        vals = im[c].ravel()
        idx = np.floor(vals * bins).astype(np.int64)
        idx = np.clip(idx, 0, bins - 1)  # 1.0 belongs to the last bin
        counts = np.bincount(idx, minlength=bins)
        out.append(counts / vals.size)
    return torch.from_numpy(np.concatenate(out).astype(np.float32))


def max_margin_loss(label, scores, delta):
    s = _np(scores)
    margins = np.maximum(0, s - s[label] + delta)
    margins[label] = 0
    return torch.from_numpy(np.asarray(margins.sum()))


def max_margin_loss_backward(label, scores, delta):
    s = _np(scores)
    grad = (s - s[label] + delta > 0).astype(s.dtype)
    grad[label] = 0
    grad[label] = -grad.sum()
    return torch.from_numpy(grad)
