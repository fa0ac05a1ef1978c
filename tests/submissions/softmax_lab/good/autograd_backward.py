"""Softmax lab -- forward passes by hand, backward passes by autograd.

Each *_backward function makes fresh leaf copies of its inputs with
requires_grad=True, runs my forward function, calls .backward() with the
incoming gradient and returns the detached .grad.

Loses: none
"""
import torch


def softmax(a):
    e = torch.exp(a - a.max())
    return e / e.sum()


def linear(x, weight, bias):
    return torch.mm(weight, x) + bias


def loss(label, predictions):
    return -torch.log(predictions[label])


def _leaf(t):
    return t.detach().clone().requires_grad_(True)


def loss_softmax_backward(label, predictions):
    # d loss / d logits for loss(softmax(a)) is p - onehot; autograd on the
    # loss alone would need the logits, so this one is done by hand
    grad = predictions.detach().clone()
    grad[label] -= 1
    return grad


def linear_backward(x, weight, bias, gradOutput):
    W = _leaf(weight)
    b = _leaf(bias)
    out = linear(x.detach(), W, b)
    out.backward(gradOutput)
    return W.grad.detach(), b.grad.detach()


def loss_backward(label, predictions):
    p = _leaf(predictions)
    value = loss(label, p)
    value.sum().backward()
    return p.grad.detach()


def softmax_backward(inputTensor, gradOutput):
    a = _leaf(inputTensor)
    y = softmax(a)
    y.backward(gradOutput)
    return a.grad.detach()


def color_histogram(img, bins):
    flat = img.reshape(img.shape[0], -1)
    idx = (flat * bins).long().clamp(0, bins - 1)
    hist = torch.zeros(img.shape[0], bins, dtype=img.dtype)
    hist.scatter_add_(1, idx, torch.ones_like(flat))
    return (hist / flat.shape[1]).reshape(-1)


def max_margin_loss(label, scores, delta):
    margins = torch.relu(scores - scores[label] + delta)
    mask = torch.ones_like(margins)
    mask[label] = 0
    return (margins * mask).sum()


def max_margin_loss_backward(label, scores, delta):
    s = _leaf(scores)
    value = max_margin_loss(label, s, delta)
    value.backward()
    return s.grad.detach()
