"""Softmax lab.

I like in-place ops (less memory), but I always clone first so the caller's
tensors are never modified.  Everything runs under torch.no_grad().

Loses: none
"""
import torch


@torch.no_grad()
def softmax(a):
    out = a.clone()
    out.sub_(out.max())
    out.exp_()
    out.div_(out.sum())
    return out


@torch.no_grad()
def linear(x, weight, bias):
    out = bias.clone()
    out.addmm_(weight, x)
    return out


@torch.no_grad()
def loss(label, predictions):
    out = predictions[label].clone()
    out.log_().neg_()
    return out


@torch.no_grad()
def loss_softmax_backward(label, predictions):
    grad = predictions.clone()
    grad[label].sub_(1)
    return grad


@torch.no_grad()
def linear_backward(x, weight, bias, gradOutput):
    gradWeight = torch.zeros_like(weight)
    gradWeight.addmm_(gradOutput, x.t())
    gradBias = torch.zeros_like(bias)
    gradBias.add_(gradOutput)
    return gradWeight, gradBias


@torch.no_grad()
def loss_backward(label, predictions):
    grad = torch.zeros_like(predictions)
    grad[label] = predictions[label]
    grad[label].reciprocal_().neg_()
    return grad


@torch.no_grad()
def softmax_backward(inputTensor, gradOutput):
    y = softmax(inputTensor)
    tmp = gradOutput.clone()
    tmp.sub_((y * gradOutput).sum())
    tmp.mul_(y)
    return tmp


@torch.no_grad()
def color_histogram(img, bins):
    scaled = img.reshape(3, -1).clone()
    scaled.mul_(bins)
    idx = scaled.long()
    idx.clamp_(0, bins - 1)
    hist = torch.zeros(3, bins, dtype=img.dtype)
    hist.scatter_add_(1, idx, torch.ones_like(scaled))
    hist.div_(scaled.shape[1])
    return hist.view(-1)


@torch.no_grad()
def max_margin_loss(label, scores, delta):
    m = scores.clone()
    m.sub_(scores[label]).add_(delta).clamp_(min=0)
    m[label] = 0
    return m.sum()


@torch.no_grad()
def max_margin_loss_backward(label, scores, delta):
    m = scores.clone()
    m.sub_(scores[label]).add_(delta)
    g = (m > 0).to(scores.dtype)
    g[label] = 0
    g[label] = -g.sum()
    return g


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
