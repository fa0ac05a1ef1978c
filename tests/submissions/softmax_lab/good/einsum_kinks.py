"""Lab 2: linear softmax classifier (einsum edition).

Notes to the TA:
* max_margin_loss_backward counts a margin that is exactly 0 as active
  (s_j - s_label + delta >= 0).  At that kink the hinge is not differentiable
  and any value in [0, 1] for that term is a valid subgradient; I take 1.
* loss() returns a 0-d scalar, max_margin_loss() a (1,) tensor.

Loses: none
"""
import torch


def softmax(a):
    a = a - a.max()          # rebinding, the caller's tensor is untouched
    a = a.exp()
    return a / a.sum()


def linear(x, weight, bias):
    return torch.einsum("cd,dk->ck", weight, x) + bias


def loss(label, predictions):
    return -predictions[label, 0].log()


def loss_softmax_backward(label, predictions):
    delta = torch.zeros_like(predictions)
    delta[label, 0] = 1.0
    return predictions - delta


def linear_backward(x, weight, bias, gradOutput):
    gradWeight = torch.einsum("ck,dk->cd", gradOutput, x)
    gradBias = torch.einsum("ck->ck", gradOutput).clone()
    return gradWeight, gradBias


def loss_backward(label, predictions):
    g = torch.zeros_like(predictions)
    g[label, 0] = -1 / predictions[label, 0]
    return g


def softmax_backward(inputTensor, gradOutput):
    e = (inputTensor - inputTensor.max()).exp()
    y = e / e.sum()
    inner = torch.einsum("ik,ik->", y, gradOutput)
    return y * (gradOutput - inner)


def color_histogram(img, bins):
    out = torch.zeros(3, bins, dtype=img.dtype)
    pixels = img[0].numel()
    for c in range(3):
        idx = (img[c] * bins).floor().long().clamp(max=bins - 1).flatten()
        values, counts = torch.unique(idx, return_counts=True)
        out[c, values] = counts.to(img.dtype) / pixels
    return out.flatten()


def max_margin_loss(label, scores, delta):
    z = scores - scores[label] + delta
    z[label] = 0
    return torch.clamp(z, min=0).sum().reshape(1)


def max_margin_loss_backward(label, scores, delta):
    z = scores - scores[label] + delta
    active = (z >= 0).to(scores.dtype)   # subgradient choice at the kink: 1
    active[label] = 0
    g = active.clone()
    g[label] = -active.sum()
    return g


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
