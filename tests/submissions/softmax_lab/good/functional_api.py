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
