"""Reference solution for the linear softmax classifier lab (PyTorch).

Conventions follow the lab: column vectors, so an image x is (3072, 1), the
weight is (10, 3072), the bias (10, 1) and predictions (10, 1); labels are
Python ints in [0, 10); tensors are float32.

Each solution sits between ``# BEGIN SOLUTION`` and ``# END SOLUTION``. The
handout builder replaces those regions with a stub that raises
NotImplementedError, keeping signatures and docstrings.
"""

import torch


def softmax(a):
    """Return the softmax over all entries of `a`, same shape; stable for huge logits."""
    # BEGIN SOLUTION
    shifted = a - a.max()
    exps = torch.exp(shifted)
    return exps / exps.sum()
    # END SOLUTION


def linear(x, weight, bias):
    """Return weight @ x + bias: (C, D) @ (D, 1) + (C, 1) -> (C, 1); batches of weights broadcast."""
    # BEGIN SOLUTION
    return weight @ x + bias
    # END SOLUTION


def loss(label, predictions):
    """Return the negative log-likelihood -log(predictions[label]) as a one-value tensor."""
    # BEGIN SOLUTION
    return -torch.log(predictions[label])
    # END SOLUTION


def loss_softmax_backward(label, predictions):
    """Return dloss/da = predictions - onehot(label), where predictions = softmax(a)."""
    # BEGIN SOLUTION
    grad = predictions.clone()
    grad[label] -= 1
    return grad
    # END SOLUTION


def linear_backward(x, weight, bias, gradOutput):
    """Return (gradWeight, gradBias) given gradOutput = dloss/d(weight @ x + bias)."""
    # BEGIN SOLUTION
    gradWeight = torch.mm(gradOutput, x.t())
    gradBias = gradOutput.clone()
    return gradWeight, gradBias
    # END SOLUTION


def loss_backward(label, predictions):
    """Return dloss/dpredictions for loss = -log(predictions[label]), same shape."""
    # BEGIN SOLUTION
    grad = torch.zeros_like(predictions)
    grad[label] = -1.0 / predictions[label]
    return grad
    # END SOLUTION


def softmax_backward(inputTensor, gradOutput):
    """Return dloss/da given gradOutput = dloss/dy and y = softmax(inputTensor), same shape.

    This is the Jacobian-vector product J^T g, with J the Jacobian of softmax
    at inputTensor (every output depends on every input).
    """
    # BEGIN SOLUTION
    y = softmax(inputTensor)
    return y * (gradOutput - (y * gradOutput).sum())
    # END SOLUTION


def color_histogram(img, bins):
    """Return the (3 * bins,) colour histogram of a (3, H, W) image with values in [0, 1].

    For R, G and B in that order, each block holds the fraction of the
    channel's pixels in each of `bins` equal-width bins over [0, 1]; the value
    1.0 falls in the last bin, so every block sums to one.
    """
    # BEGIN SOLUTION
    blocks = []
    for channel in img:
        values = channel.reshape(-1)
        index = torch.clamp((values * bins).long(), 0, bins - 1)
        counts = torch.bincount(index, minlength=bins).to(img.dtype)
        blocks.append(counts / values.numel())
    return torch.cat(blocks)
    # END SOLUTION


def max_margin_loss(label, scores, delta):
    """Return the multiclass hinge loss: sum over j != label of max(0, s_j - s_label + delta)."""
    # BEGIN SOLUTION
    margins = torch.clamp(scores - scores[label] + delta, min=0)
    margins[label] = 0
    return margins.sum()
    # END SOLUTION


def max_margin_loss_backward(label, scores, delta):
    """Return the gradient of max_margin_loss with respect to scores, same shape."""
    # BEGIN SOLUTION
    active = (scores - scores[label] + delta > 0).to(scores.dtype)
    active[label] = 0
    grad = active.clone()
    grad[label] = -active.sum()
    return grad
    # END SOLUTION


# -- training: SGD with weight decay, momentum, mini-batches ---------------------------

def sgd_step(weight, bias, gradWeight, gradBias, learningRate, weightDecay):
    """Return (newWeight, newBias) after one SGD step with L2 weight decay.

    The loss being minimised is L + (weightDecay / 2) * ||weight||^2, so the weight
    moves by -learningRate * (gradWeight + weightDecay * weight); the bias is not
    decayed and moves by -learningRate * gradBias. The inputs are left unchanged.
    """
    # BEGIN SOLUTION
    newWeight = weight - learningRate * (gradWeight + weightDecay * weight)
    newBias = bias - learningRate * gradBias
    return newWeight, newBias
    # END SOLUTION


def momentum_step(weight, bias, gradWeight, gradBias, velocityWeight, velocityBias,
                  learningRate, weightDecay, momentum):
    """Return (newWeight, newBias, newVelocityWeight, newVelocityBias) after one step of
    SGD with momentum and L2 weight decay (on the weight only).

    The velocity accumulates the gradient first, then the parameters move along it:
    velocity = momentum * velocity + (gradient + weightDecay * weight) (for the bias,
    gradBias alone), then parameter = parameter - learningRate * velocity. The caller
    passes back the velocities this returns at the next step (zeros at the first).
    The inputs are left unchanged.
    """
    # BEGIN SOLUTION
    newVelocityWeight = momentum * velocityWeight + (gradWeight + weightDecay * weight)
    newVelocityBias = momentum * velocityBias + gradBias
    newWeight = weight - learningRate * newVelocityWeight
    newBias = bias - learningRate * newVelocityBias
    return newWeight, newBias, newVelocityWeight, newVelocityBias
    # END SOLUTION


def softmax_batch(a):
    """Return the softmax of each column of `a` (C, B): a batch of B logit columns."""
    # BEGIN SOLUTION
    shifted = a - a.max(dim=0, keepdim=True).values
    exps = torch.exp(shifted)
    return exps / exps.sum(dim=0, keepdim=True)
    # END SOLUTION


def loss_batch(labels, predictions):
    """Return the mean negative log-likelihood over a batch, as a one-value tensor.

    predictions is (C, B), one column of probabilities per example; labels is a
    (B,) tensor of integer classes.
    """
    # BEGIN SOLUTION
    picked = predictions[labels, torch.arange(predictions.shape[1])]
    return -torch.log(picked).mean()
    # END SOLUTION


def loss_softmax_backward_batch(labels, predictions):
    """Return d(loss_batch)/da, (C, B), where predictions = softmax_batch(a): each column
    is (predictions - onehot(label)) divided by the batch size B (the loss is a mean)."""
    # BEGIN SOLUTION
    grad = predictions.clone()
    grad[labels, torch.arange(predictions.shape[1])] -= 1
    return grad / predictions.shape[1]
    # END SOLUTION


def linear_backward_batch(x, weight, bias, gradOutput):
    """Return (gradWeight, gradBias) for a batch: x is (D, B), one example per column,
    and gradOutput = dloss/d(weight @ x + bias) is (C, B). Each is the sum of the
    single-example gradients over the batch's columns: gradWeight (C, D), gradBias (C, 1)."""
    # BEGIN SOLUTION
    gradWeight = gradOutput @ x.t()
    gradBias = gradOutput.sum(dim=1, keepdim=True)
    return gradWeight, gradBias
    # END SOLUTION


def train(trainX, trainY, valX, valY, epochs, learningRate, weightDecay=0.0, momentum=0.0,
          batchSize=1, seed=0):
    """Train the linear softmax classifier with SGD; return its weights and history.

    trainX (N, D) and valX (M, D) hold one example per row (floats); trainY (N,) and
    valY (M,) the labels (integers in [0, 10)). Start from small random weights drawn
    with a torch.Generator seeded with `seed` (or from zeros), visit the training examples in a
    fresh random order each epoch, and update with sgd_step, or with momentum_step
    when momentum > 0; batchSize > 1 uses the batch functions above on columns
    trainX[indices].t(). Use the functions written above.

    Returns a dict: "weight" (10, D), "bias" (10, 1), and per epoch (lists of `epochs`
    floats) "train_loss", "train_accuracy" (over the epoch's training examples, or
    measured after the epoch), "val_loss" and "val_accuracy" (the model after the
    epoch, on the whole validation set).
    """
    # BEGIN SOLUTION
    shuffler = torch.Generator().manual_seed(int(seed))
    features = trainX.shape[1]
    weight = 0.01 * torch.randn(10, features, dtype=trainX.dtype, generator=shuffler)
    bias = torch.zeros(10, 1, dtype=trainX.dtype)
    velocityWeight, velocityBias = torch.zeros_like(weight), torch.zeros_like(bias)
    history = {"train_loss": [], "train_accuracy": [], "val_loss": [], "val_accuracy": []}
    for _ in range(epochs):
        totalLoss, correct = 0.0, 0
        order = torch.randperm(trainX.shape[0], generator=shuffler)
        for start in range(0, len(order), batchSize):
            indices = order[start:start + batchSize]
            if batchSize == 1:
                label = int(trainY[indices[0]])
                x = trainX[indices[0]].reshape(-1, 1)
                predictions = softmax(linear(x, weight, bias))
                totalLoss += float(loss(label, predictions))
                correct += int(int(predictions.argmax()) == label)
                gradOutput = loss_softmax_backward(label, predictions)
                gradWeight, gradBias = linear_backward(x, weight, bias, gradOutput)
            if batchSize > 1:
                labels = trainY[indices].long()
                x = trainX[indices].t()
                predictions = softmax_batch(linear(x, weight, bias))
                totalLoss += float(loss_batch(labels, predictions)) * len(indices)
                correct += int((predictions.argmax(dim=0) == labels).sum())
                gradOutput = loss_softmax_backward_batch(labels, predictions)
                gradWeight, gradBias = linear_backward_batch(x, weight, bias, gradOutput)
            if momentum > 0:
                weight, bias, velocityWeight, velocityBias = momentum_step(
                    weight, bias, gradWeight, gradBias, velocityWeight, velocityBias,
                    learningRate, weightDecay, momentum)
            if momentum <= 0:
                weight, bias = sgd_step(weight, bias, gradWeight, gradBias, learningRate, weightDecay)
        history["train_loss"].append(totalLoss / trainX.shape[0])
        history["train_accuracy"].append(correct / trainX.shape[0])
        valPredictions = softmax_batch(linear(valX.t(), weight, bias))
        history["val_loss"].append(float(loss_batch(valY.long(), valPredictions)))
        history["val_accuracy"].append(float((valPredictions.argmax(dim=0) == valY).float().mean()))
    return {"weight": weight, "bias": bias, **history}
    # END SOLUTION
