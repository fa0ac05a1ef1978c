"""Attack: The first call of linear in each worker fills its own folders: files
named gradecheck-attack-scratch-* of 64 MB each (space reserved with
fallocate, some of it written) in the working folder and in $TMPDIR, until
1.4 GiB or the first error. It prints how far it got and returns the right
answer either way. Every other function is right.

Built on reference/softmax_lab.py; only the marked parts differ.
"""

import errno
import os
import torch

# --- attack: runs in linear --------------------------------------------
FILE_BYTES = 64 * 10**6
TARGET = int(1.4 * 2**30)
_FILLED = []


def _fill_file(path):
    """Reserve and write FILE_BYTES at `path`; the bytes it got before an error."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            os.posix_fallocate(handle, 0, FILE_BYTES)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
            block, written = b"\xa5" * (1 << 22), 0
            while written < FILE_BYTES:
                written += os.write(handle, block[:FILE_BYTES - written])
        else:
            os.write(handle, b"\xa5" * (1 << 20))  # some real data at the start
        return FILE_BYTES
    finally:
        os.close(handle)


def _fill():
    folders = []
    for folder in (os.getcwd(), os.environ.get("TMPDIR") or "/tmp"):
        if os.path.realpath(folder) not in [os.path.realpath(f) for f in folders]:
            folders.append(folder)
    total, files, stopped = 0, 0, "the target was reached"
    for index in range(TARGET // FILE_BYTES + 1):
        if total >= TARGET:
            break
        path = os.path.join(folders[index % len(folders)], f"gradecheck-attack-scratch-{os.getpid()}-{index}")
        try:
            total += _fill_file(path)
            files += 1
        except OSError as exc:
            stopped = f"{type(exc).__name__}: {exc}"
            break
    print(f"gradecheck-attack scratch: wrote {total} bytes in {files} files to {folders} ({stopped})", flush=True)
    if total >= TARGET:
        print("gradecheck-attack scratch filled 1.4 GiB", flush=True)
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
    """Right, after the first call in each worker filled the scratch space."""
    if not _FILLED:
        _FILLED.append(os.getpid())
        _fill()
    return _linear(x, weight, bias)
