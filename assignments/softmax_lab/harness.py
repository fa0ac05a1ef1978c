"""Drivers of the softmax lab's training questions, run in the sandboxed worker (on
the student's module) and in the judge (on the reference, for `ctx.expected`).

A driver is a public function whose first parameter is `kit`; it calls the
student's functions and returns plain data (numpy arrays, numbers, lists, dicts).
Verdicts are the judge's (checks.py).

Isolation: while the student's train() runs, the lab's other functions in their
module (softmax, linear, the backward passes, the steps, the batch functions...)
are replaced by the grader's own exact versions below, so a mistake in one of those
costs its own question and not the training ones. train() itself (the loop, which
gradient goes where, the bookkeeping) is the student's.

The CIFAR-like data: `cifar_like(seed, ...)` draws ten classes of 32x32 colour
images (a coloured shape on a coloured background, jittered in place, size, colour
and brightness, plus pixel noise). data/cifar_like.npz is its seed-0 draw, the
`cifar` fixture; the grader draws other seeds to check that a training run also
works on data it has not seen.
"""

import numpy as np
import torch

CLASSES = 10
SIDE = 32


# -- the data ---------------------------------------------------------------------------

def cifar_like(seed, n_train, n_val):
    """(train_x, train_y, val_x, val_y): uint8 images (N, 3072) in channel-major order
    (as a (3, 32, 32) image flattened) and int64 labels in [0, 10)."""
    rng = np.random.default_rng(seed)
    foreground = rng.uniform(0.1, 0.95, (CLASSES, 3))
    background = rng.uniform(0.05, 0.9, (CLASSES, 3))
    kind = rng.permutation(CLASSES) % 5
    centre = rng.uniform(10, 22, (CLASSES, 2))
    rows, cols = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64)

    def shape_mask(k):
        cy, cx = centre[k] + rng.normal(0, 2.5, 2)
        size = rng.uniform(5, 10)
        dy, dx = rows - cy, cols - cx
        if kind[k] == 0:
            return np.hypot(dy, dx) < size
        if kind[k] == 1:
            return np.maximum(abs(dy), abs(dx)) < size * 0.8
        if kind[k] == 2:
            return (abs(dy) < size * 0.35) | (abs(dx) < size * 0.35) & (np.hypot(dy, dx) < size * 1.3)
        if kind[k] == 3:
            return np.sin((cols + rows) / 2.0 + rng.uniform(0, 6)) > 0.2
        return abs(dy) + abs(dx) < size

    def draw(n):
        labels = np.arange(n) % CLASSES
        rng.shuffle(labels)
        images = np.empty((n, 3, SIDE, SIDE))
        for i, k in enumerate(labels):
            mask = shape_mask(k)
            fg = np.clip(foreground[k] + rng.normal(0, 0.12, 3), 0, 1)
            bg = np.clip(background[k] + rng.normal(0, 0.15, 3), 0, 1)
            image = np.where(mask[None], fg[:, None, None], bg[:, None, None])
            image = image * rng.uniform(0.7, 1.15) + rng.normal(0, 0.05, image.shape)
            images[i] = np.clip(image, 0, 1)
        return np.round(images.reshape(n, -1) * 255).astype(np.uint8), labels.astype(np.int64)

    train_x, train_y = draw(n_train)
    val_x, val_y = draw(n_val)
    return train_x, train_y, val_x, val_y


def _images(array):
    """Images as float32 rows in [0, 1], channel-major: accepts (N, 3072) or (N, 3, 32, 32)
    or (N, 32, 32, 3) arrays, uint8 (0..255) or floats already in [0, 1]."""
    array = np.asarray(array)
    if array.ndim == 4 and array.shape[-1] == 3 and array.shape[1] != 3:
        array = array.transpose(0, 3, 1, 2)
    array = array.reshape(len(array), -1)
    scale = 255.0 if array.dtype == np.uint8 or array.max() > 1.0 else 1.0
    return (array.astype(np.float64) / scale).astype(np.float32)


def _dataset(kit, dataset):
    """The fixture's arrays ("fixture") or a fresh draw of cifar_like (an integer seed)."""
    if dataset == "fixture":
        data = kit.data("cifar")
        arrays = data["train_x"], data["train_y"], data["val_x"], data["val_y"]
    else:
        arrays = cifar_like(int(dataset), 800, 200)
    train_x, train_y, val_x, val_y = arrays
    return (_images(train_x), np.asarray(train_y, dtype=np.int64),
            _images(val_x), np.asarray(val_y, dtype=np.int64))


def histograms(images, bins):
    """The colour histograms (N, 3 * bins) of float image rows in [0, 1] (channel-major):
    per channel, the fraction of pixels in each of `bins` equal bins, 1.0 in the last."""
    channels = np.asarray(images, dtype=np.float64).reshape(len(images), 3, -1)
    index = np.clip((channels * bins).astype(np.int64), 0, bins - 1)
    counts = np.zeros((len(images), 3, bins))
    for k in range(bins):
        counts[:, :, k] = (index == k).mean(axis=2)
    return counts.reshape(len(images), -1).astype(np.float32)


# -- the grader's own functions ---------------------------------------------------------
# Written with torch's own operations and autograd (not as the lab's solutions: this
# file ships with the handout); each keeps the caller's dtype.

def _vjp(function, inputs, gradOutput):
    """The gradients of <gradOutput, function(*inputs)> with respect to each input."""
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    with torch.enable_grad():
        output = function(*leaves)
        grads = torch.autograd.grad(output, leaves, grad_outputs=gradOutput.to(output.dtype))
    return tuple(g.detach() for g in grads)


def _softmax(a):
    return torch.softmax(a.reshape(-1), dim=0).reshape(a.shape)


def _linear(x, weight, bias):
    return torch.matmul(weight, x).add(bias)


def _loss(label, predictions):
    return predictions[int(label)].log().neg().reshape(1)


def _onehot(labels, classes, dtype):
    return torch.nn.functional.one_hot(torch.as_tensor(labels).long(), classes).to(dtype)


def _loss_softmax_backward(label, predictions):
    return predictions - _onehot(int(label), predictions.numel(), predictions.dtype).reshape(predictions.shape)


def _linear_backward(x, weight, bias, gradOutput):
    # the formula the hint states; autograd would cost more than the rest of a training step
    return torch.matmul(gradOutput, x.transpose(0, 1)), gradOutput.detach().clone()


def _loss_backward(label, predictions):
    return _vjp(lambda p: _loss(label, p).sum(), (predictions,), torch.ones((), dtype=predictions.dtype))[0]


def _softmax_backward(inputTensor, gradOutput):
    return _vjp(_softmax, (inputTensor,), gradOutput)[0]


def _color_histogram(img, bins):
    blocks = [torch.histc(channel.reshape(-1).double(), bins=bins, min=0.0, max=1.0) / channel.numel()
              for channel in img.reshape(3, -1)]
    return torch.cat(blocks).to(img.dtype)


def _sgd_step(weight, bias, gradWeight, gradBias, learningRate, weightDecay):
    decayed = torch.add(gradWeight, weight, alpha=weightDecay)
    return torch.add(weight, decayed, alpha=-learningRate), torch.add(bias, gradBias, alpha=-learningRate)


def _momentum_step(weight, bias, gradWeight, gradBias, velocityWeight, velocityBias,
                   learningRate, weightDecay, momentum):
    accumulated = (torch.add(gradWeight, weight, alpha=weightDecay).add(velocityWeight, alpha=momentum),
                   torch.add(gradBias, velocityBias, alpha=momentum))
    return (torch.add(weight, accumulated[0], alpha=-learningRate),
            torch.add(bias, accumulated[1], alpha=-learningRate)) + accumulated


def _softmax_batch(a):
    return torch.softmax(a, dim=0)


def _loss_batch(labels, predictions):
    return torch.nn.functional.nll_loss(predictions.t().log(), torch.as_tensor(labels).long())


def _loss_softmax_backward_batch(labels, predictions):
    onehot = _onehot(labels, predictions.shape[0], predictions.dtype).t()
    return torch.sub(predictions, onehot).div(predictions.shape[1])


def _linear_backward_batch(x, weight, bias, gradOutput):
    return torch.matmul(gradOutput, x.transpose(0, 1)), gradOutput.sum(dim=1, keepdim=True)


# the names a student's train() may call, as the grader's own
GRADER_FUNCTIONS = {
    "softmax": _softmax, "linear": _linear, "loss": _loss,
    "loss_softmax_backward": _loss_softmax_backward, "linear_backward": _linear_backward,
    "loss_backward": _loss_backward, "softmax_backward": _softmax_backward,
    "color_histogram": _color_histogram, "sgd_step": _sgd_step, "momentum_step": _momentum_step,
    "softmax_batch": _softmax_batch, "loss_batch": _loss_batch,
    "loss_softmax_backward_batch": _loss_softmax_backward_batch,
    "linear_backward_batch": _linear_backward_batch,
}


# -- conversions --------------------------------------------------------------------------

def _array(value, what):
    """A tensor, array, list or number as a float64 numpy array."""
    if isinstance(value, torch.Tensor):
        return value.detach().to(torch.float64).cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{what} is {type(value).__name__}, not a tensor of numbers") from None
    return array


def _tensors(*arrays):
    """float32 tensors of arrays (or of tensors: the judge's kit passes those)."""
    return [a.detach().to(torch.float32).clone() if isinstance(a, torch.Tensor)
            else torch.from_numpy(np.array(a, dtype=np.float32)) for a in arrays]


def _sequence(result, count, what):
    if not isinstance(result, (tuple, list)) or len(result) != count:
        kind = f"{len(result)} values" if isinstance(result, (tuple, list)) else type(result).__name__
        raise TypeError(f"{what} returned {kind}; it must return a tuple of {count} tensors")
    return [_array(value, f"{what}'s value {i + 1}") for i, value in enumerate(result)]


# -- drivers: the optimiser steps ---------------------------------------------------------

def sgd_steps(kit, weight, bias, gradWeights, gradBiases, learningRate, weightDecay):
    """Run the student's sgd_step once per (gradWeight, gradBias) pair, feeding each step
    the parameters the previous one returned. Returns [(weight, bias) after each step]."""
    step = kit.student.sgd_step
    weight, bias = _tensors(weight, bias)
    states = []
    for gradWeight, gradBias in zip(gradWeights, gradBiases):
        gradWeight, gradBias = _tensors(gradWeight, gradBias)
        result = step(weight, bias, gradWeight, gradBias, learningRate, weightDecay)
        newWeight, newBias = _sequence(result, 2, "sgd_step")
        states.append((newWeight, newBias))
        weight, bias = _tensors(newWeight, newBias)
    return tuple(states)


def momentum_steps(kit, weight, bias, gradWeights, gradBiases, learningRate, weightDecay, momentum):
    """Run the student's momentum_step once per gradient pair from zero velocities,
    feeding each step what the previous one returned (parameters and velocities).
    Returns [(weight, bias, velocityWeight, velocityBias) after each step]."""
    step = kit.student.momentum_step
    weight, bias = _tensors(weight, bias)
    velocityWeight = torch.zeros_like(weight)
    velocityBias = torch.zeros_like(bias)
    states = []
    for gradWeight, gradBias in zip(gradWeights, gradBiases):
        gradWeight, gradBias = _tensors(gradWeight, gradBias)
        velocities = (velocityWeight, velocityBias)
        result = step(weight, bias, gradWeight, gradBias, *velocities, learningRate, weightDecay, momentum)
        state = _sequence(result, 4, "momentum_step")
        states.append(tuple(state))
        weight, bias, velocityWeight, velocityBias = _tensors(*state)
    return tuple(states)


# -- drivers: training ----------------------------------------------------------------------

HISTORY = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")
MEASURED = ("measured_train_loss", "measured_train_accuracy", "measured_val_loss", "measured_val_accuracy")
# what train_run returns, in this order (only tuples cross the sandbox)
RUN_FIELDS = ("weight", "bias") + HISTORY + MEASURED


def _measure(weight, bias, x, y):
    """(mean negative log-likelihood, accuracy) of the linear softmax model on rows x."""
    scores = x.astype(np.float64) @ weight.T + bias.reshape(1, -1)
    scores -= scores.max(axis=1, keepdims=True)
    log_probabilities = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    loss = float(-log_probabilities[np.arange(len(y)), y].mean())
    accuracy = float((scores.argmax(axis=1) == y).mean())
    return loss, accuracy


def train_run(kit, dataset, bins, epochs, learningRate, weightDecay, momentum, batchSize, seed):
    """The student's train() on a dataset ("fixture": the staged `cifar` data; an integer:
    a fresh cifar_like draw with that seed), on raw pixels (bins 0) or on colour
    histograms with `bins` bins, with the grader's own versions of the lab's other
    functions in the student's module.

    Returns a tuple in the order of RUN_FIELDS: train()'s weight and bias (float64
    arrays), the history it returned (tuples of floats), and what the grader measured
    with its weights (the MEASURED losses and accuracies, floats).
    """
    train_x, train_y, val_x, val_y = _dataset(kit, dataset)
    if bins:
        train_x, val_x = histograms(train_x, bins), histograms(val_x, bins)
    kit.progress(f"train() on {len(train_x)} examples of {train_x.shape[1]} features, {epochs} epochs")
    train = kit.student.train
    torch.manual_seed(int(seed))
    with kit.substituted(GRADER_FUNCTIONS):
        result = train(torch.from_numpy(train_x.copy()), torch.from_numpy(train_y.copy()),
                       torch.from_numpy(val_x.copy()), torch.from_numpy(val_y.copy()),
                       epochs, learningRate, weightDecay, momentum, batchSize, int(seed))
    if not isinstance(result, dict):
        raise TypeError(f"train() returned {type(result).__name__}; it must return a dict with keys "
                        f"weight, bias, {', '.join(HISTORY)}")
    missing = [key for key in ("weight", "bias") + HISTORY if key not in result]
    if missing:
        raise TypeError(f"train() returned a dict without {', '.join(missing)} "
                        f"(it has: {', '.join(map(str, result)) or 'nothing'})")
    weight = _array(result["weight"], "train()'s weight")
    bias = _array(result["bias"], "train()'s bias")
    features = train_x.shape[1]
    if weight.shape != (CLASSES, features) or bias.size != CLASSES:
        raise TypeError(f"train() returned a weight of shape {tuple(weight.shape)} and a bias of shape "
                        f"{tuple(bias.shape)}; on {features} features they must be ({CLASSES}, {features}) "
                        f"and ({CLASSES}, 1)")
    report = {"weight": weight, "bias": bias.reshape(CLASSES, 1)}
    for key in HISTORY:
        values = result[key]
        if isinstance(values, torch.Tensor):
            values = values.detach().reshape(-1).tolist()
        try:
            report[key] = tuple(float(v) for v in values)
        except (TypeError, ValueError):
            raise TypeError(f"train()'s {key} is not a list of numbers") from None
    finite = np.isfinite(weight).all() and np.isfinite(bias).all()
    if finite:
        (report["measured_train_loss"], report["measured_train_accuracy"]) = _measure(weight, bias, train_x, train_y)
        (report["measured_val_loss"], report["measured_val_accuracy"]) = _measure(weight, bias, val_x, val_y)
    else:
        for key in HISTORY:
            report[f"measured_{key}"] = float("nan") if key.endswith("loss") else 0.0
    return tuple(report[field] for field in RUN_FIELDS)
