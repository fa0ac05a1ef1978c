"""Softmax lab.

I like in-place ops (less memory), but I always clone first so the caller's
tensors are never modified.  Everything runs under torch.no_grad().

Loses: none
"""
import torch


@torch.no_grad()
def softmax(a):
    out = a.clone()
    out.sub_(out.max())
    out.exp_()
    out.div_(out.sum())
    return out


@torch.no_grad()
def linear(x, weight, bias):
    out = bias.clone()
    out.addmm_(weight, x)
    return out


@torch.no_grad()
def loss(label, predictions):
    out = predictions[label].clone()
    out.log_().neg_()
    return out


@torch.no_grad()
def loss_softmax_backward(label, predictions):
    grad = predictions.clone()
    grad[label].sub_(1)
    return grad


@torch.no_grad()
def linear_backward(x, weight, bias, gradOutput):
    gradWeight = torch.zeros_like(weight)
    gradWeight.addmm_(gradOutput, x.t())
    gradBias = torch.zeros_like(bias)
    gradBias.add_(gradOutput)
    return gradWeight, gradBias


@torch.no_grad()
def loss_backward(label, predictions):
    grad = torch.zeros_like(predictions)
    grad[label] = predictions[label]
    grad[label].reciprocal_().neg_()
    return grad


@torch.no_grad()
def softmax_backward(inputTensor, gradOutput):
    y = softmax(inputTensor)
    tmp = gradOutput.clone()
    tmp.sub_((y * gradOutput).sum())
    tmp.mul_(y)
    return tmp


@torch.no_grad()
def color_histogram(img, bins):
    scaled = img.reshape(3, -1).clone()
    scaled.mul_(bins)
    idx = scaled.long()
    idx.clamp_(0, bins - 1)
    hist = torch.zeros(3, bins, dtype=img.dtype)
    hist.scatter_add_(1, idx, torch.ones_like(scaled))
    hist.div_(scaled.shape[1])
    return hist.view(-1)


@torch.no_grad()
def max_margin_loss(label, scores, delta):
    m = scores.clone()
    m.sub_(scores[label]).add_(delta).clamp_(min=0)
    m[label] = 0
    return m.sum()


@torch.no_grad()
def max_margin_loss_backward(label, scores, delta):
    m = scores.clone()
    m.sub_(scores[label]).add_(delta)
    g = (m > 0).to(scores.dtype)
    g[label] = 0
    g[label] = -g.sum()
    return g
