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


# ---------------------------------------------------------------------------
# Training. Updates are done in place on copies, under no_grad.

def sgd_step(weight, bias, gradWeight, gradBias, learningRate, weightDecay):
    with torch.no_grad():
        w = weight.clone()
        w.mul_(1 - learningRate * weightDecay).sub_(learningRate * gradWeight)
        bb = bias.clone()
        bb.sub_(learningRate * gradBias)
    return (w, bb)


def momentum_step(weight, bias, gradWeight, gradBias, velocityWeight, velocityBias,
                  learningRate, weightDecay, momentum):
    with torch.no_grad():
        vw = velocityWeight.clone().mul_(momentum).add_(gradWeight).add_(weightDecay * weight)
        vb = velocityBias.clone().mul_(momentum).add_(gradBias)
        return weight.clone().sub_(learningRate * vw), bias.clone().sub_(learningRate * vb), vw, vb


def softmax_batch(a):
    return torch.softmax(a, dim=0)


def loss_batch(labels, predictions):
    return torch.nn.functional.nll_loss(torch.log(predictions.t()), labels.long())


def loss_softmax_backward_batch(labels, predictions):
    onehot = torch.nn.functional.one_hot(labels.long(), predictions.shape[0]).t().to(predictions.dtype)
    return (predictions - onehot) / labels.shape[0]


def linear_backward_batch(x, weight, bias, gradOutput):
    return torch.einsum("cb,db->cd", gradOutput, x), gradOutput.sum(1, keepdim=True)


def train(trainX, trainY, valX, valY, epochs, learningRate, weightDecay=0.0, momentum=0.0,
          batchSize=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    n, d = trainX.shape
    weight = torch.normal(0.0, 0.001, (10, d), generator=g)
    bias = torch.zeros((10, 1))
    state = [torch.zeros_like(weight), torch.zeros_like(bias)]
    out = {"train_loss": [], "train_accuracy": [], "val_loss": [], "val_accuracy": []}
    for epoch in range(epochs):
        order = torch.randperm(n, generator=g).tolist()
        losses, right = [], []
        batches = [order[i:i + batchSize] for i in range(0, n, batchSize)]
        for batch in batches:
            x = trainX[batch].t()
            y = trainY[batch]
            if len(batch) == 1:
                a = linear(x, weight, bias)
                p = softmax(a)
                losses.append(float(loss(int(y), p)))
                right.append(float(torch.argmax(p) == y))
                gW, gB = linear_backward(x, weight, bias, loss_softmax_backward(int(y), p))
            else:
                p = softmax_batch(linear(x, weight, bias))
                losses += [float(loss_batch(y, p))] * len(batch)
                right += (p.argmax(0) == y).float().tolist()
                gW, gB = linear_backward_batch(x, weight, bias, loss_softmax_backward_batch(y, p))
            if momentum > 0:
                weight, bias, state[0], state[1] = momentum_step(weight, bias, gW, gB, state[0], state[1],
                                                                 learningRate, weightDecay, momentum)
            else:
                weight, bias = sgd_step(weight, bias, gW, gB, learningRate, weightDecay)
        scores = linear(valX.t(), weight, bias)
        out["train_loss"].append(sum(losses) / len(losses))
        out["train_accuracy"].append(sum(right) / len(right))
        out["val_loss"].append(float(loss_batch(valY, softmax_batch(scores))))
        out["val_accuracy"].append(float((scores.argmax(0) == valY).float().mean()))
    return {"weight": weight, "bias": bias, **out}
