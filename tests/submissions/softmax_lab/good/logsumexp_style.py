"""Linear classifier with softmax, written in log space.

softmax(a) = exp(a - logsumexp(a)), which is stable without an explicit max
shift because torch.logsumexp does that internally.  The loss is returned as a
plain 0-d scalar tensor.

Loses: none
"""
import torch


def softmax(a):
    lse = torch.logsumexp(a.reshape(-1), dim=0)
    return torch.exp(a - lse)


def linear(x, weight, bias):
    return torch.addmm(bias, weight, x)


def loss(label, predictions):
    # 0-d tensor
    return -torch.log(predictions.reshape(-1)[label])


def loss_softmax_backward(label, predictions):
    target = torch.zeros_like(predictions)
    target[label] = 1.0
    return predictions - target


def linear_backward(x, weight, bias, gradOutput):
    gradWeight = gradOutput @ x.T
    gradBias = gradOutput * 1.0
    return gradWeight, gradBias


def loss_backward(label, predictions):
    grad = torch.zeros_like(predictions)
    grad[label] = -torch.reciprocal(predictions[label])
    return grad


def softmax_backward(inputTensor, gradOutput):
    y = softmax(inputTensor)
    # J^T g where J = diag(y) - y y^T, without forming J
    return y * gradOutput - y * torch.sum(y * gradOutput)


def color_histogram(img, bins):
    n = img[0].numel()
    hists = []
    for channel in (img[0], img[1], img[2]):  # red, green, blue
        b = torch.floor(channel.flatten() * bins).to(torch.int64)
        b[b == bins] = bins - 1  # only 1.0 lands here
        hists.append(torch.bincount(b, minlength=bins).float() / n)
    return torch.cat(hists)


def max_margin_loss(label, scores, delta):
    diff = scores - scores[label] + delta
    keep = torch.ones_like(diff, dtype=torch.bool)
    keep[label] = False  # the correct class does not compete with itself
    return torch.where(keep & (diff > 0), diff, torch.zeros_like(diff)).sum()


def max_margin_loss_backward(label, scores, delta):
    diff = scores - scores[label] + delta
    grad = torch.where(diff > 0, torch.ones_like(scores), torch.zeros_like(scores))
    grad[label] = 0.0
    grad[label] = -grad.sum()
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
