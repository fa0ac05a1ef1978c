"""Softmax classifier lab, vectorised.

Everything is matrix algebra: the softmax Jacobian is built explicitly as
J = diag(y) - y y^T and the backward pass is J^T g; linear_backward uses
torch.outer; max-margin uses masks instead of loops.

Loses: none
"""
import torch


def softmax(a):
    z = a - torch.max(a)
    e = torch.exp(z)
    return e / torch.sum(e)


def linear(x, weight, bias):
    return torch.matmul(weight, x) + bias


def loss(label, predictions):
    onehot = torch.zeros_like(predictions)
    onehot[label] = 1
    # <onehot, p> picks out p[label]; the loss is a 0-d tensor
    return -torch.log(torch.dot(onehot.reshape(-1), predictions.reshape(-1)))


def loss_softmax_backward(label, predictions):
    onehot = torch.zeros_like(predictions)
    onehot[label] = 1
    return predictions - onehot


def linear_backward(x, weight, bias, gradOutput):
    # out = W x + b  ->  dL/dW = g x^T, dL/db = g
    gradWeight = torch.outer(gradOutput.reshape(-1), x.reshape(-1))
    gradBias = gradOutput.clone()
    return gradWeight, gradBias


def loss_backward(label, predictions):
    onehot = torch.zeros_like(predictions)
    onehot[label] = 1
    return -onehot / predictions[label]


def softmax_backward(inputTensor, gradOutput):
    y = softmax(inputTensor).reshape(-1)
    g = gradOutput.reshape(-1)
    J = torch.diag(y) - torch.outer(y, y)  # J[i, j] = dy_i / da_j
    return (J.t() @ g).reshape(inputTensor.shape)


def color_histogram(img, bins):
    flat = img.reshape(3, -1)
    idx = (flat * bins).floor().long().clamp(0, bins - 1)
    # one-hot over the bins, then average over the pixels of each channel
    onehot = torch.nn.functional.one_hot(idx, num_classes=bins).to(img.dtype)
    return onehot.mean(dim=1).reshape(-1)


def max_margin_loss(label, scores, delta):
    mask = torch.ones_like(scores)
    mask[label] = 0
    margins = torch.relu(scores - scores[label] + delta) * mask
    return margins.sum()


def max_margin_loss_backward(label, scores, delta):
    mask = torch.ones_like(scores)
    mask[label] = 0
    active = ((scores - scores[label] + delta) > 0).to(scores.dtype) * mask
    grad = active.clone()
    grad[label] = -active.sum()
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
