"""Linear softmax classifier.

I was worried about precision, so every function converts its inputs to
float64 (double) before computing. Some return the double result directly,
others cast back to the input's dtype at the end.

Loses: none
"""
import torch


def softmax(a):
    a64 = a.double()
    a64 = a64 - a64.max()
    e = torch.exp(a64)
    return e / e.sum()  # stays float64


def linear(x, weight, bias):
    out = weight.double() @ x.double() + bias.double()
    return out.to(x.dtype)


def loss(label, predictions):
    p = predictions.double()
    return -torch.log(p[label]).float()


def loss_softmax_backward(label, predictions):
    grad = predictions.double().clone()
    grad[label] = grad[label] - 1.0
    return grad.to(predictions.dtype)


def linear_backward(x, weight, bias, gradOutput):
    g = gradOutput.double()
    gradWeight = g @ x.double().t()
    gradBias = g.clone()
    return gradWeight, gradBias  # float64 on purpose


def loss_backward(label, predictions):
    p = predictions.double()
    grad = torch.zeros_like(p)
    grad[label] = -1.0 / p[label]
    return grad


def softmax_backward(inputTensor, gradOutput):
    y = softmax(inputTensor)  # float64 already
    g = gradOutput.double()
    dot = (y * g).sum()
    return (y * (g - dot)).to(inputTensor.dtype)


def color_histogram(img, bins):
    c, h, w = img.shape
    # bin index from the image itself, the fractions in double precision
    index = (img.reshape(c, h * w) * bins).long().clamp(0, bins - 1)
    hist = torch.zeros(c, bins, dtype=torch.float64)
    for ch in range(c):
        hist[ch] = torch.bincount(index[ch], minlength=bins).double() / (h * w)
    return hist.reshape(-1)


def max_margin_loss(label, scores, delta):
    m = (scores - scores[label] + delta).clamp(min=0.0).double()
    m[label] = 0.0
    return m.sum()  # summed in double


def max_margin_loss_backward(label, scores, delta):
    # which margins are active is decided on the scores as given
    active = (scores - scores[label] + delta > 0).double()
    active[label] = 0.0
    grad = active.clone()
    grad[label] = -active.sum()
    return grad
