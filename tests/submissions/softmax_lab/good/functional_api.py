"""Softmax classifier using torch.nn.functional wherever it has the piece.

F.softmax (stable), F.linear, F.one_hot, F.relu.  loss() keeps the column
layout and returns a (1, 1) tensor.

Loses: none
"""
import torch
import torch.nn.functional as F


def softmax(a):
    return F.softmax(a.flatten(), dim=0).view_as(a)


def linear(x, weight, bias):
    # F.linear wants rows: (1, D) @ W^T + b^T, then back to a column
    return F.linear(x.t(), weight, bias.flatten()).t()


def loss(label, predictions):
    return -torch.log(predictions[label:label + 1])  # (1, 1)


def loss_softmax_backward(label, predictions):
    target = F.one_hot(torch.tensor(label), num_classes=predictions.shape[0])
    return predictions - target.to(predictions.dtype).view_as(predictions)


def linear_backward(x, weight, bias, gradOutput):
    gradWeight = F.linear(gradOutput, x)  # g @ x^T
    gradBias = gradOutput.detach().clone()
    return gradWeight, gradBias


def loss_backward(label, predictions):
    target = F.one_hot(torch.tensor(label), num_classes=predictions.shape[0])
    target = target.to(predictions.dtype).view_as(predictions)
    return -target / predictions[label]


def softmax_backward(inputTensor, gradOutput):
    y = F.softmax(inputTensor.flatten(), dim=0).view_as(inputTensor)
    return y * (gradOutput - torch.sum(y * gradOutput))


def color_histogram(img, bins):
    idx = torch.clamp((img * bins).to(torch.long), max=bins - 1)  # (3, H, W)
    counts = F.one_hot(idx.flatten(1), num_classes=bins).sum(dim=1)  # (3, bins)
    return (counts.to(img.dtype) / idx[0].numel()).flatten()


def max_margin_loss(label, scores, delta):
    margins = F.relu(scores - scores[label] + delta)
    margins[label] = 0
    return torch.sum(margins)


def max_margin_loss_backward(label, scores, delta):
    margins = scores - scores[label] + delta
    grad = (margins > 0).to(scores.dtype)
    grad[label] = 0
    grad[label] = -torch.sum(grad)
    return grad
