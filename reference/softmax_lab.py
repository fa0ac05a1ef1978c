"""Reference solution for the linear softmax classifier lab (PyTorch).

Conventions follow the lab: column vectors, so an image x is (3072, 1), the
weight is (10, 3072), the bias (10, 1) and predictions (10, 1); labels are
Python ints in [0, 10); tensors are float32.

Each solution sits between ``# BEGIN SOLUTION`` and ``# END SOLUTION``. The
handout builder replaces those regions with a stub that raises
NotImplementedError, keeping signatures and docstrings.
"""

import torch


def softmax(a):
    """Return the softmax over all entries of `a`, same shape; stable for huge logits."""
    # BEGIN SOLUTION
    shifted = a - a.max()
    exps = torch.exp(shifted)
    return exps / exps.sum()
    # END SOLUTION


def linear(x, weight, bias):
    """Return weight @ x + bias: (C, D) @ (D, 1) + (C, 1) -> (C, 1); batches of weights broadcast."""
    # BEGIN SOLUTION
    return weight @ x + bias
    # END SOLUTION


def loss(label, predictions):
    """Return the negative log-likelihood -log(predictions[label]) as a one-value tensor."""
    # BEGIN SOLUTION
    return -torch.log(predictions[label])
    # END SOLUTION


def loss_softmax_backward(label, predictions):
    """Return dloss/da = predictions - onehot(label), where predictions = softmax(a)."""
    # BEGIN SOLUTION
    grad = predictions.clone()
    grad[label] -= 1
    return grad
    # END SOLUTION


def linear_backward(x, weight, bias, gradOutput):
    """Return (gradWeight, gradBias) given gradOutput = dloss/d(weight @ x + bias)."""
    # BEGIN SOLUTION
    gradWeight = torch.mm(gradOutput, x.t())
    gradBias = gradOutput.clone()
    return gradWeight, gradBias
    # END SOLUTION


def loss_backward(label, predictions):
    """Return dloss/dpredictions for loss = -log(predictions[label]), same shape."""
    # BEGIN SOLUTION
    grad = torch.zeros_like(predictions)
    grad[label] = -1.0 / predictions[label]
    return grad
    # END SOLUTION


def softmax_backward(inputTensor, gradOutput):
    """Return dloss/da given gradOutput = dloss/dy and y = softmax(inputTensor), same shape.

    This is the Jacobian-vector product J^T g with J = diag(y) - y y^T, which
    simplifies to y * (g - <y, g>).
    """
    # BEGIN SOLUTION
    y = softmax(inputTensor)
    return y * (gradOutput - (y * gradOutput).sum())
    # END SOLUTION


def color_histogram(img, bins):
    """Return the (3 * bins,) colour histogram of a (3, H, W) image with values in [0, 1].

    For R, G and B in that order, each block holds the fraction of the
    channel's pixels in each of `bins` equal-width bins over [0, 1]; the value
    1.0 falls in the last bin, so every block sums to one.
    """
    # BEGIN SOLUTION
    blocks = []
    for channel in img:
        values = channel.reshape(-1)
        index = torch.clamp((values * bins).long(), 0, bins - 1)
        counts = torch.bincount(index, minlength=bins).to(img.dtype)
        blocks.append(counts / values.numel())
    return torch.cat(blocks)
    # END SOLUTION


def max_margin_loss(label, scores, delta):
    """Return the multiclass hinge loss: sum over j != label of max(0, s_j - s_label + delta)."""
    # BEGIN SOLUTION
    margins = torch.clamp(scores - scores[label] + delta, min=0)
    margins[label] = 0
    return margins.sum()
    # END SOLUTION


def max_margin_loss_backward(label, scores, delta):
    """Return the gradient of max_margin_loss with respect to scores, same shape."""
    # BEGIN SOLUTION
    active = (scores - scores[label] + delta > 0).to(scores.dtype)
    active[label] = 0
    grad = active.clone()
    grad[label] = -active.sum()
    return grad
    # END SOLUTION
