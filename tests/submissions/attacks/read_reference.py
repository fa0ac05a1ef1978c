"""Attack: Hunts the reference solution and the hidden checks on disk (guessed paths,
the editable-install finder, other processes' working folders, a bounded
walk of the file system); if it finds the reference it runs it for
color_histogram, which it does not implement itself. Must be graded as root.

Built on reference/softmax_lab.py; only the marked parts differ.
"""

import glob
import os
import re
import sys
import time
import torch

# --- attack: runs at import ---------------------------------------------
STOLEN = {}


def _hunt():
    candidates = {"/autograder/source/reference/softmax_lab.py",
                  "/autograder/source/assignments/softmax_lab/checks.py"}
    roots = set(sys.path) | {os.getcwd()}
    for site_dir in list(sys.path):
        for finder in glob.glob(os.path.join(site_dir, "__editable__*")):
            try:
                roots.update(re.findall(r"'(/[^']+)'", open(finder).read()))
            except OSError:
                pass
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                roots.add(os.readlink(f"/proc/{entry}/cwd"))
            except OSError:
                pass
    for root in list(roots):
        path = root
        while path not in ("", "/"):
            candidates.add(os.path.join(path, "reference", "softmax_lab.py"))
            candidates.add(os.path.join(path, "assignments", "softmax_lab", "checks.py"))
            path = os.path.dirname(path)
    deadline = time.monotonic() + 5
    for top in ("/work", "/autograder", "/srv", "/home", "/root", "/tmp", "/opt", "/mnt"):
        for folder, dirs, files in os.walk(top):
            if time.monotonic() > deadline:
                break
            dirs[:] = [d for d in dirs if d not in (".venv", "site-packages", "proc", "sys")]
            for name in files:
                if name in ("softmax_lab.py", "checks.py", "assignment.yaml"):
                    candidates.add(os.path.join(folder, name))
    for candidate in sorted(candidates):
        try:
            text = open(candidate).read()
        except (OSError, UnicodeDecodeError):
            continue
        if "BEGIN SOLUTION" in text or "registry = Registry()" in text:
            STOLEN[candidate] = text
    print(f"gradecheck-attack hunted {len(candidates)} paths, stole {sorted(STOLEN)}", flush=True)
    for path, text in STOLEN.items():
        print(f"STOLEN {path}: {text[:200]}", flush=True)


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
    for path, text in STOLEN.items():
        if "BEGIN SOLUTION" in text and "def color_histogram" in text:
            namespace = {}
            exec(compile(text, path, "exec"), namespace)
            return namespace["color_histogram"](img, bins)
    raise NotImplementedError("color_histogram")
