"""Linear classifier with softmax, written in log space.

softmax(a) = exp(a - logsumexp(a)), which is stable without an explicit max
shift because torch.logsumexp does that internally.  The loss is returned as a
plain 0-d scalar tensor.

Loses: none
"""
import torch


def softmax(a):
    lse = torch.logsumexp(a.reshape(-1), dim=0)
    return torch.exp(a - lse)


def linear(x, weight, bias):
    return torch.addmm(bias, weight, x)


def loss(label, predictions):
    # 0-d tensor
    return -torch.log(predictions.reshape(-1)[label])


def loss_softmax_backward(label, predictions):
    target = torch.zeros_like(predictions)
    target[label] = 1.0
    return predictions - target


def linear_backward(x, weight, bias, gradOutput):
    gradWeight = gradOutput @ x.T
    gradBias = gradOutput * 1.0
    return gradWeight, gradBias


def loss_backward(label, predictions):
    grad = torch.zeros_like(predictions)
    grad[label] = -torch.reciprocal(predictions[label])
    return grad


def softmax_backward(inputTensor, gradOutput):
    y = softmax(inputTensor)
    # J^T g where J = diag(y) - y y^T, without forming J
    return y * gradOutput - y * torch.sum(y * gradOutput)


def color_histogram(img, bins):
    n = img[0].numel()
    hists = []
    for channel in (img[0], img[1], img[2]):  # red, green, blue
        b = torch.floor(channel.flatten() * bins).to(torch.int64)
        b[b == bins] = bins - 1  # only 1.0 lands here
        hists.append(torch.bincount(b, minlength=bins).float() / n)
    return torch.cat(hists)


def max_margin_loss(label, scores, delta):
    diff = scores - scores[label] + delta
    keep = torch.ones_like(diff, dtype=torch.bool)
    keep[label] = False  # the correct class does not compete with itself
    return torch.where(keep & (diff > 0), diff, torch.zeros_like(diff)).sum()


def max_margin_loss_backward(label, scores, delta):
    diff = scores - scores[label] + delta
    grad = torch.where(diff > 0, torch.ones_like(scores), torch.zeros_like(scores))
    grad[label] = 0.0
    grad[label] = -grad.sum()
    return grad
