"""Lab 2 submission.

Colour histogram via torch.histc (min=0, max=1: values equal to max go in
the last bin, which is what the lab asks for 1.0).  The histogram comes back
as a (3*bins, 1) column, like every other vector in this lab.

Loses: none
"""
import torch


def softmax(a):
    m = a.max()
    num = (a - m).exp()
    den = num.sum()
    return num / den


def linear(x, weight, bias):
    return weight.mm(x).add(bias)


def loss(label, predictions):
    return predictions[label].log().neg()


def loss_softmax_backward(label, predictions):
    out = predictions.clone()
    out[label] = out[label] - 1
    return out


def linear_backward(x, weight, bias, gradOutput):
    return gradOutput.mm(x.t()), gradOutput.clone()


def loss_backward(label, predictions):
    out = torch.zeros(predictions.shape, dtype=predictions.dtype)
    out[label] = -predictions[label].reciprocal()
    return out


def softmax_backward(inputTensor, gradOutput):
    y = softmax(inputTensor)
    s = torch.sum(gradOutput * y)
    return (gradOutput - s) * y


def color_histogram(img, bins):
    parts = []
    for c in range(3):
        channel = img[c].flatten()
        h = torch.histc(channel, bins=bins, min=0, max=1)
        parts.append(h / channel.numel())
    return torch.cat(parts).view(3 * bins, 1)


def max_margin_loss(label, scores, delta):
    total = torch.clamp(scores - scores[label] + delta, min=0)
    keep = torch.ones_like(total)
    keep[label] = 0  # the j == label term does not count
    return (total * keep).sum()


def max_margin_loss_backward(label, scores, delta):
    indicator = (scores - scores[label] + delta > 0).float()
    indicator[label] = 0
    indicator[label] = -indicator.sum()
    return indicator
