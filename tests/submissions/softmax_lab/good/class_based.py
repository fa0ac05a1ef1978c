"""Softmax classifier lab.

I organised my code as small layer classes (like nn.Module, each with
forward/backward) plus helpers, and the required functions just call them.

Loses: none
"""
import torch


def _one_hot(label, like):
    v = torch.zeros_like(like)
    v[label] = 1
    return v


def _stable_exp(a):
    return torch.exp(a - a.max())


class Softmax:
    def forward(self, a):
        e = _stable_exp(a)
        return e / e.sum()

    def backward(self, a, grad_out):
        y = self.forward(a)
        # Jacobian-vector product of diag(y) - y y^T
        return y * grad_out - y * (y * grad_out).sum()


class Linear:
    def __init__(self, weight, bias):
        self.weight = weight
        self.bias = bias

    def forward(self, x):
        return self.weight @ x + self.bias

    def backward(self, x, grad_out):
        return grad_out @ x.transpose(0, 1), grad_out.clone()


class NLLLoss:
    def forward(self, label, p):
        return -torch.log(p[label])

    def backward(self, label, p):
        return -_one_hot(label, p) / p[label]

    def backward_through_softmax(self, label, p):
        return p - _one_hot(label, p)


class Hinge:
    def __init__(self, delta):
        self.delta = delta

    def _margins(self, label, s):
        m = s - s[label] + self.delta
        m[label] = 0  # the correct class is not compared with itself
        return m

    def forward(self, label, s):
        return self._margins(label, s).clamp(min=0).sum()

    def backward(self, label, s):
        g = (self._margins(label, s) > 0).to(s.dtype)
        g[label] = -g.sum()
        return g


class ColorHistogram:
    def __init__(self, bins):
        self.bins = bins

    def channel(self, values):
        i = (values.reshape(-1) * self.bins).long()
        i = torch.where(i >= self.bins, torch.full_like(i, self.bins - 1), i)
        return torch.bincount(i, minlength=self.bins).to(values.dtype) / values.numel()

    def __call__(self, img):
        return torch.cat([self.channel(img[c]) for c in range(3)])


_softmax = Softmax()
_nll = NLLLoss()


def softmax(a):
    return _softmax.forward(a)


def linear(x, weight, bias):
    return Linear(weight, bias).forward(x)


def loss(label, predictions):
    return _nll.forward(label, predictions)


def loss_softmax_backward(label, predictions):
    return _nll.backward_through_softmax(label, predictions)


def linear_backward(x, weight, bias, gradOutput):
    return Linear(weight, bias).backward(x, gradOutput)


def loss_backward(label, predictions):
    return _nll.backward(label, predictions)


def softmax_backward(inputTensor, gradOutput):
    return _softmax.backward(inputTensor, gradOutput)


def color_histogram(img, bins):
    return ColorHistogram(bins)(img)


def max_margin_loss(label, scores, delta):
    return Hinge(delta).forward(label, scores)


def max_margin_loss_backward(label, scores, delta):
    return Hinge(delta).backward(label, scores)


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
