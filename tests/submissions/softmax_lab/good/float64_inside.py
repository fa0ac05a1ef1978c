"""Linear softmax classifier.

I was worried about precision, so every function converts its inputs to
float64 (double) before computing. Some return the double result directly,
others cast back to the input's dtype at the end.

Loses: none
"""
import torch


def softmax(a):
    a64 = a.double()
    a64 = a64 - a64.max()
    e = torch.exp(a64)
    return e / e.sum()  # stays float64


def linear(x, weight, bias):
    out = weight.double() @ x.double() + bias.double()
    return out.to(x.dtype)


def loss(label, predictions):
    p = predictions.double()
    return -torch.log(p[label]).float()


def loss_softmax_backward(label, predictions):
    grad = predictions.double().clone()
    grad[label] = grad[label] - 1.0
    return grad.to(predictions.dtype)


def linear_backward(x, weight, bias, gradOutput):
    g = gradOutput.double()
    gradWeight = g @ x.double().t()
    gradBias = g.clone()
    return gradWeight, gradBias  # float64 on purpose


def loss_backward(label, predictions):
    p = predictions.double()
    grad = torch.zeros_like(p)
    grad[label] = -1.0 / p[label]
    return grad


def softmax_backward(inputTensor, gradOutput):
    y = softmax(inputTensor)  # float64 already
    g = gradOutput.double()
    dot = (y * g).sum()
    return (y * (g - dot)).to(inputTensor.dtype)


def color_histogram(img, bins):
    c, h, w = img.shape
    # bin index from the image itself, the fractions in double precision
    index = (img.reshape(c, h * w) * bins).long().clamp(0, bins - 1)
    hist = torch.zeros(c, bins, dtype=torch.float64)
    for ch in range(c):
        hist[ch] = torch.bincount(index[ch], minlength=bins).double() / (h * w)
    return hist.reshape(-1)


def max_margin_loss(label, scores, delta):
    m = (scores - scores[label] + delta).clamp(min=0.0).double()
    m[label] = 0.0
    return m.sum()  # summed in double


def max_margin_loss_backward(label, scores, delta):
    # which margins are active is decided on the scores as given
    active = (scores - scores[label] + delta > 0).double()
    active[label] = 0.0
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
