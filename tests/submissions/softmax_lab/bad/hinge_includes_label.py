"""Softmax lab + multiclass SVM loss.

Loses: max_margin
"""
import torch


def softmax(a):
    # subtract the max so exp() never overflows
    shifted = a - a.max()
    exps = torch.exp(shifted)
    return exps / exps.sum()


def linear(x, weight, bias):
    return torch.mm(weight, x) + bias


def loss(label, predictions):
    return -torch.log(predictions[label])


def loss_softmax_backward(label, predictions):
    grad = predictions.clone()
    grad[label] -= 1
    return grad


def linear_backward(x, weight, bias, gradOutput):
    gradWeight = torch.mm(gradOutput, x.t())
    gradBias = gradOutput.clone()
    return gradWeight, gradBias


def loss_backward(label, predictions):
    grad = torch.zeros_like(predictions)
    grad[label] = -1.0 / predictions[label]
    return grad


def softmax_backward(inputTensor, gradOutput):
    # y = softmax(a); dL/da = J^T g with J = diag(y) - y y^T
    y = softmax(inputTensor)
    return y * (gradOutput - (y * gradOutput).sum())


def color_histogram(img, bins):
    blocks = []
    for channel in img:  # R, G, B
        values = channel.reshape(-1)
        index = torch.clamp((values * bins).long(), 0, bins - 1)
        counts = torch.bincount(index, minlength=bins).to(img.dtype)
        blocks.append(counts / values.numel())
    return torch.cat(blocks)


def max_margin_loss(label, scores, delta):
    margins = torch.clamp(scores - scores[label] + delta, min=0)
    return margins.sum()


def max_margin_loss_backward(label, scores, delta):
    active = (scores - scores[label] + delta > 0).to(scores.dtype)
    active[label] = 0
    grad = active.clone()
    grad[label] = -active.sum()
    return grad


# ---- training (SGD, weight decay, momentum, mini-batches) ----

def sgd_step(weight, bias, gradWeight, gradBias, learningRate, weightDecay):
    newWeight = weight - learningRate * (gradWeight + weightDecay * weight)
    newBias = bias - learningRate * gradBias
    return newWeight, newBias


def momentum_step(weight, bias, gradWeight, gradBias, velocityWeight, velocityBias,
                  learningRate, weightDecay, momentum):
    vW = momentum * velocityWeight + gradWeight + weightDecay * weight
    vB = momentum * velocityBias + gradBias
    return weight - learningRate * vW, bias - learningRate * vB, vW, vB


def softmax_batch(a):
    e = torch.exp(a - a.max(dim=0, keepdim=True)[0])
    return e / e.sum(dim=0, keepdim=True)


def loss_batch(labels, predictions):
    cols = torch.arange(predictions.shape[1])
    return -torch.log(predictions[labels, cols]).mean()


def loss_softmax_backward_batch(labels, predictions):
    g = predictions.clone()
    g[labels, torch.arange(predictions.shape[1])] -= 1.0
    return g / predictions.shape[1]


def linear_backward_batch(x, weight, bias, gradOutput):
    return gradOutput @ x.t(), gradOutput.sum(dim=1, keepdim=True)


def train(trainX, trainY, valX, valY, epochs, learningRate, weightDecay=0.0, momentum=0.0,
          batchSize=1, seed=0):
    torch.manual_seed(seed)
    W = torch.randn(10, trainX.shape[1]) * 0.01
    b = torch.zeros(10, 1)
    vW, vb = torch.zeros_like(W), torch.zeros_like(b)
    hist = {"train_loss": [], "train_accuracy": [], "val_loss": [], "val_accuracy": []}
    n = trainX.shape[0]
    for epoch in range(epochs):
        perm = torch.randperm(n)
        running, hits = 0.0, 0
        for s in range(0, n, batchSize):
            idx = perm[s:s + batchSize]
            if batchSize == 1:
                i = int(idx[0])
                x = trainX[i].view(-1, 1)
                y = int(trainY[i])
                p = softmax(linear(x, W, b))
                running += loss(y, p).item()
                hits += int(p.argmax().item() == y)
                gW, gb = linear_backward(x, W, b, loss_softmax_backward(y, p))
            else:
                x = trainX[idx].t()
                y = trainY[idx]
                p = softmax_batch(linear(x, W, b))
                running += loss_batch(y, p).item() * len(idx)
                hits += int((p.argmax(0) == y).sum())
                gW, gb = linear_backward_batch(x, W, b, loss_softmax_backward_batch(y, p))
            if momentum > 0:
                W, b, vW, vb = momentum_step(W, b, gW, gb, vW, vb, learningRate, weightDecay, momentum)
            else:
                W, b = sgd_step(W, b, gW, gb, learningRate, weightDecay)
        pv = softmax_batch(linear(valX.t(), W, b))
        hist["train_loss"].append(running / n)
        hist["train_accuracy"].append(hits / n)
        hist["val_loss"].append(loss_batch(valY, pv).item())
        hist["val_accuracy"].append((pv.argmax(0) == valY).float().mean().item())
        print(f"epoch {epoch}: val accuracy {hist['val_accuracy'][-1]:.3f}")
    return dict(weight=W, bias=b, **hist)
