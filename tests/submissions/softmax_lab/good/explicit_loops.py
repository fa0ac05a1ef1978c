"""CS lab 2 -- linear softmax classifier.

Written the way the lab notebook does it: plain for loops over the entries,
output tensors built with torch.zeros and filled in by indexing.

Loses: none
"""
import math

import torch


def softmax(a):
    n = a.size(0)
    # find the largest logit first so exp() cannot overflow
    biggest = a[0].item()
    for i in range(n):
        if a[i].item() > biggest:
            biggest = a[i].item()
    out = torch.zeros(a.size())
    total = 0.0
    for i in range(n):
        e = math.exp(a[i].item() - biggest)
        out[i] = e
        total += e
    for i in range(n):
        out[i] = out[i] / total
    return out


def linear(x, weight, bias):
    n_classes = weight.size(0)
    out = torch.zeros(n_classes, 1)
    for i in range(n_classes):
        # dot product of row i with the image
        out[i] = torch.sum(weight[i, :] * x[:, 0]) + bias[i]
    return out


def loss(label, predictions):
    value = torch.zeros(1)
    value[0] = -torch.log(predictions[label]).item()
    return value


def loss_softmax_backward(label, predictions):
    n = predictions.size(0)
    grad = torch.zeros(predictions.size())
    for i in range(n):
        if i == label:
            grad[i] = predictions[i] - 1
        else:
            grad[i] = predictions[i]
    return grad


def linear_backward(x, weight, bias, gradOutput):
    n_classes = weight.size(0)
    dim = weight.size(1)
    gradWeight = torch.zeros(n_classes, dim)
    gradBias = torch.zeros(n_classes, 1)
    for i in range(n_classes):
        # d out_i / d w_ij = x_j
        gradWeight[i, :] = gradOutput[i, 0] * x[:, 0]
        gradBias[i, 0] = gradOutput[i, 0]
    return gradWeight, gradBias


def loss_backward(label, predictions):
    n = predictions.size(0)
    grad = torch.zeros(predictions.size())
    for i in range(n):
        if i == label:
            grad[i] = -1.0 / predictions[i]
    return grad


def softmax_backward(inputTensor, gradOutput):
    y = softmax(inputTensor)
    n = y.size(0)
    grad = torch.zeros(inputTensor.size())
    for i in range(n):
        s = 0.0
        for j in range(n):
            # dy_j / da_i = y_j * (delta_ij - y_i)
            if i == j:
                dyj_dai = y[j].item() * (1 - y[i].item())
            else:
                dyj_dai = -y[j].item() * y[i].item()
            s += dyj_dai * gradOutput[j].item()
        grad[i] = s
    return grad


def color_histogram(img, bins):
    hist = torch.zeros(3 * bins)
    n_pixels = img.size(1) * img.size(2)
    for c in range(3):
        scaled = (img[c] * bins).reshape(-1)
        for v in scaled.tolist():
            b = int(v)
            if b >= bins:  # v == 1.0 goes into the last bin
                b = bins - 1
            if b < 0:
                b = 0
            hist[c * bins + b] += 1
    for k in range(3 * bins):
        hist[k] = hist[k] / n_pixels
    return hist


def max_margin_loss(label, scores, delta):
    total = torch.zeros(1)
    for j in range(scores.size(0)):
        if j == label:
            continue
        margin = scores[j] - scores[label] + delta
        if margin.item() > 0:
            total += margin
    return total


def max_margin_loss_backward(label, scores, delta):
    grad = torch.zeros(scores.size())
    for j in range(scores.size(0)):
        if j == label:
            continue
        margin = scores[j] - scores[label] + delta
        if margin.item() > 0:
            grad[j] = 1
            grad[label] -= 1
    return grad
