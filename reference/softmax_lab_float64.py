"""The softmax lab's functions as float64 numpy formulas: what the judge compares
students' answers with (assignment.yaml: `judge_reference`).

Each function means exactly what its namesake in softmax_lab.py means, on float64
numpy arrays instead of torch tensors, so the judge needs no torch of its own (the
student's worker imports torch; the judge no longer imports it a second time on a
grade's critical path). tests/test_judge_reference.py holds the two to the same
answers on generated inputs. Staff-only, like the reference: the handout ships
answers recorded from it, never this file.
"""

import numpy as np


def _matmul(a, b):
    """a @ b (stacks of a broadcast), summed in one fixed order whatever threads BLAS
    runs (np.einsum without optimize uses no BLAS): the same bytes on every machine, so
    a handout's recorded answers are too."""
    return np.einsum("...ij,jk->...ik", a, b)


def softmax(a):
    """The softmax over all entries of `a`, same shape; stable for huge logits."""
    exps = np.exp(a - a.max())
    return exps / exps.sum()


def linear(x, weight, bias):
    """weight @ x + bias; stacks of weights or biases broadcast."""
    return _matmul(weight, x) + bias


def loss(label, predictions):
    """-log(predictions[label]), a one-value array."""
    return -np.log(predictions[label])


def loss_softmax_backward(label, predictions):
    """predictions - onehot(label)."""
    grad = predictions.copy()
    grad[label] -= 1
    return grad


def linear_backward(x, weight, bias, gradOutput):
    """(gradOutput @ x^T, gradOutput)."""
    return _matmul(gradOutput, x.T), gradOutput.copy()


def loss_backward(label, predictions):
    """Zeros except -1 / predictions[label] at the label."""
    grad = np.zeros_like(predictions)
    grad[label] = -1.0 / predictions[label]
    return grad


def softmax_backward(inputTensor, gradOutput):
    """J^T gradOutput for the softmax Jacobian J at inputTensor."""
    y = softmax(inputTensor)
    return y * (gradOutput - (y * gradOutput).sum())


def color_histogram(img, bins):
    """Per channel (R, G, B), the fraction of pixels in each of `bins` bins over [0, 1]."""
    blocks = []
    for channel in img:
        values = channel.reshape(-1)
        index = np.clip((values * bins).astype(np.int64), 0, bins - 1)
        blocks.append(np.bincount(index, minlength=bins).astype(img.dtype) / values.size)
    return np.concatenate(blocks)


def max_margin_loss(label, scores, delta):
    """sum over j != label of max(0, s_j - s_label + delta), a 0-d array."""
    margins = np.maximum(scores - scores[label] + delta, 0)
    margins[label] = 0
    return np.asarray(margins.sum())


def max_margin_loss_backward(label, scores, delta):
    """The gradient of max_margin_loss with respect to scores."""
    active = (scores - scores[label] + delta > 0).astype(scores.dtype)
    active[label] = 0
    grad = active.copy()
    grad[label] = -active.sum()
    return grad


def sgd_step(weight, bias, gradWeight, gradBias, learningRate, weightDecay):
    """(newWeight, newBias) after one SGD step, L2 weight decay on the weight only."""
    return weight - learningRate * (gradWeight + weightDecay * weight), bias - learningRate * gradBias


def momentum_step(weight, bias, gradWeight, gradBias, velocityWeight, velocityBias,
                  learningRate, weightDecay, momentum):
    """(newWeight, newBias, newVelocityWeight, newVelocityBias): the velocity takes the
    gradient first, then the parameters move along it."""
    newVelocityWeight = momentum * velocityWeight + (gradWeight + weightDecay * weight)
    newVelocityBias = momentum * velocityBias + gradBias
    return (weight - learningRate * newVelocityWeight, bias - learningRate * newVelocityBias,
            newVelocityWeight, newVelocityBias)


def softmax_batch(a):
    """The softmax of each column of `a` (C, B)."""
    exps = np.exp(a - a.max(axis=0, keepdims=True))
    return exps / exps.sum(axis=0, keepdims=True)


def loss_batch(labels, predictions):
    """The mean of -log(predictions[labels[i], i]) over the batch, a 0-d array."""
    picked = predictions[np.asarray(labels, dtype=np.int64), np.arange(predictions.shape[1])]
    return np.asarray(-np.log(picked).mean())


def loss_softmax_backward_batch(labels, predictions):
    """(predictions - onehot(labels)) / B, column by column."""
    grad = predictions.copy()
    grad[np.asarray(labels, dtype=np.int64), np.arange(predictions.shape[1])] -= 1
    return grad / predictions.shape[1]


def linear_backward_batch(x, weight, bias, gradOutput):
    """(gradOutput @ x^T, gradOutput summed over the batch's columns)."""
    return _matmul(gradOutput, x.T), gradOutput.sum(axis=1, keepdims=True)
