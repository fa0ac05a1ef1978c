"""Softmax lab -- I know numpy better than torch, so each function converts
its tensors to numpy arrays, does the work there, and converts back with
torch.from_numpy.

Loses: none
"""
import numpy as np
import torch


def _np(t):
    return t.detach().cpu().numpy()


def softmax(a):
    x = _np(a)
    e = np.exp(x - np.max(x))
    return torch.from_numpy(e / np.sum(e))


def linear(x, weight, bias):
    out = np.dot(_np(weight), _np(x)) + _np(bias)
    return torch.from_numpy(out)


def loss(label, predictions):
    p = _np(predictions)
    value = -np.log(p[label])  # shape (1,)
    return torch.from_numpy(np.asarray(value))


def loss_softmax_backward(label, predictions):
    grad = _np(predictions).copy()
    grad[label] -= 1
    return torch.from_numpy(grad)


def linear_backward(x, weight, bias, gradOutput):
    g = _np(gradOutput)
    gradWeight = np.outer(g, _np(x))  # (10, 3072)
    gradBias = g.copy()
    return torch.from_numpy(gradWeight), torch.from_numpy(gradBias)


def loss_backward(label, predictions):
    p = _np(predictions)
    grad = np.zeros_like(p)
    grad[label] = -1.0 / p[label]
    return torch.from_numpy(grad)


def softmax_backward(inputTensor, gradOutput):
    a = _np(inputTensor)
    g = _np(gradOutput)
    e = np.exp(a - a.max())
    y = e / e.sum()
    return torch.from_numpy(y * (g - np.sum(y * g)))


def color_histogram(img, bins):
    im = _np(img)
    out = []
    for c in range(3):
        vals = im[c].ravel()
        idx = np.floor(vals * bins).astype(np.int64)
        idx = np.clip(idx, 0, bins - 1)  # 1.0 belongs to the last bin
        counts = np.bincount(idx, minlength=bins)
        out.append(counts / vals.size)
    return torch.from_numpy(np.concatenate(out).astype(np.float32))


def max_margin_loss(label, scores, delta):
    s = _np(scores)
    margins = np.maximum(0, s - s[label] + delta)
    margins[label] = 0
    return torch.from_numpy(np.asarray(margins.sum()))


def max_margin_loss_backward(label, scores, delta):
    s = _np(scores)
    grad = (s - s[label] + delta > 0).astype(s.dtype)
    grad[label] = 0
    grad[label] = -grad.sum()
    return torch.from_numpy(grad)


# ---- part 2: training ----
# float64 inside, numpy for the steps, zero initialisation, no shuffling; the history is
# measured after each epoch on the whole sets.

def sgd_step(weight, bias, gradWeight, gradBias, learningRate, weightDecay):
    w = weight.double().numpy()
    gw = gradWeight.double().numpy()
    new_w = w - learningRate * (gw + weightDecay * w)
    new_b = bias.double() - learningRate * gradBias.double()
    return torch.from_numpy(new_w).float(), new_b.float()


def momentum_step(weight, bias, gradWeight, gradBias, velocityWeight, velocityBias,
                  learningRate, weightDecay, momentum):
    velocityWeight = velocityWeight.double() * momentum + gradWeight.double() + weightDecay * weight.double()
    velocityBias = velocityBias.double() * momentum + gradBias.double()
    return (weight.double() - learningRate * velocityWeight, bias.double() - learningRate * velocityBias,
            velocityWeight, velocityBias)


def softmax_batch(a):
    return torch.stack([softmax(a[:, j:j + 1]).reshape(-1) for j in range(a.shape[1])], dim=1)


def loss_batch(labels, predictions):
    total = 0.0
    for j in range(predictions.shape[1]):
        total = total - torch.log(predictions[int(labels[j]), j])
    return (total / predictions.shape[1]).reshape(1)


def loss_softmax_backward_batch(labels, predictions):
    onehot = torch.zeros_like(predictions)
    onehot[labels.long(), torch.arange(predictions.shape[1])] = 1
    return (predictions - onehot) / predictions.shape[1]


def linear_backward_batch(x, weight, bias, gradOutput):
    gradWeight = torch.zeros_like(weight, dtype=torch.float64)
    for j in range(x.shape[1]):
        gradWeight += torch.outer(gradOutput[:, j].double(), x[:, j].double())
    return gradWeight, gradOutput.double().sum(1).reshape(-1, 1)


def _evaluate(W, b, X, Y):
    p = softmax_batch(linear(X.t().double(), W, b))
    return loss_batch(Y, p).item(), (p.argmax(0) == Y).double().mean().item()


def train(trainX, trainY, valX, valY, epochs, learningRate, weightDecay=0.0, momentum=0.0,
          batchSize=1, seed=0):
    D = trainX.shape[1]
    W = torch.zeros(10, D, dtype=torch.float64)
    b = torch.zeros(10, 1, dtype=torch.float64)
    vW = torch.zeros_like(W)
    vb = torch.zeros_like(b)
    history = {k: [] for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy")}
    for _ in range(epochs):
        for start in range(0, trainX.shape[0], batchSize):
            X = trainX[start:start + batchSize].t().double()
            Y = trainY[start:start + batchSize]
            if batchSize == 1:
                p = softmax(linear(X, W, b))
                gW, gb = linear_backward(X, W, b, loss_softmax_backward(int(Y[0]), p))
            else:
                p = softmax_batch(linear(X, W, b))
                gW, gb = linear_backward_batch(X, W, b, loss_softmax_backward_batch(Y, p))
            if momentum:
                W, b, vW, vb = momentum_step(W, b, gW, gb, vW, vb, learningRate, weightDecay, momentum)
            else:
                W, b = sgd_step(W, b, gW, gb, learningRate, weightDecay)
                W, b = W.double(), b.double()
        trL, trA = _evaluate(W, b, trainX, trainY)
        vL, vA = _evaluate(W, b, valX, valY)
        history["train_loss"].append(trL)
        history["train_accuracy"].append(trA)
        history["val_loss"].append(vL)
        history["val_accuracy"].append(vA)
    return {"weight": W, "bias": b, **history}
