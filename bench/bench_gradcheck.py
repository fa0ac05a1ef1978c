"""Gradient check of the 10x3072 linear-softmax weight gradient, three ways, one run.

Prints seconds per check and ratios against gradecheck's sampled check, all
measured in this run (the machines are noisy: compare ratios, not seconds),
and which distortions of the gradient each method catches:
  - gradecheck's sampled check (random-sign directions + a few coordinates);
  - the lab's loop: perturb one weight at a time, one forward pass per side;
  - torch.autograd.gradcheck, full (default) mode and fast mode.
Problem set-up is outside the timed region for every method.
Run with `make bench` (or python bench/bench_gradcheck.py).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from grader.compare import tolerance_for  # noqa: E402
from grader.gradcheck import mismatches, sampled_check  # noqa: E402
from test_gradcheck import distortions, lab_parts, problem  # noqa: E402

KINDS = ["one entry off by 1%", "sign flipped", "transposed layout", "one row halved"]


class Setup:
    """One problem, prepared once for every method."""

    def __init__(self, seed: int):
        self.seed = seed
        self.f_batch, self.weight, self.grad = problem(seed)
        x, bias, self.label = lab_parts(seed)
        self.x, self.bias = torch.from_numpy(x), torch.from_numpy(bias)
        self.w = torch.from_numpy(self.weight.copy())

    def loss(self, w: torch.Tensor) -> torch.Tensor:
        a = w @ self.x + self.bias
        a = a - a.max()
        return torch.log(torch.exp(a).sum()) - a[self.label, 0]


def ours(s: Setup, grad: np.ndarray) -> bool:
    probes = sampled_check(s.f_batch, s.weight, grad, rng=np.random.default_rng(s.seed + 1000))
    return bool(mismatches(probes, tolerance_for(np.float32)))


def lab_loop(s: Setup, grad: np.ndarray, eps: float = 1e-6) -> bool:
    flat = s.w.view(-1)
    numerical = torch.empty(flat.numel(), dtype=torch.float64)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        plus = s.loss(s.w).item()
        flat[i] = old - eps
        minus = s.loss(s.w).item()
        flat[i] = old
        numerical[i] = (plus - minus) / (2 * eps)
    g = torch.from_numpy(grad).reshape(-1)
    return bool(torch.norm(numerical - g) / torch.norm(numerical + g) > 1e-6)


def autograd(s: Setup, grad: np.ndarray, fast: bool) -> bool:
    given = torch.from_numpy(grad)

    class Loss(torch.autograd.Function):
        @staticmethod
        def forward(ctx, w):
            return s.loss(w)

        @staticmethod
        def backward(ctx, upstream):
            return upstream * given

    w = s.w.clone().requires_grad_(True)
    return not torch.autograd.gradcheck(Loss.apply, (w,), eps=1e-6, atol=1e-5, rtol=1e-3,
                                        raise_exception=False, fast_mode=fast)


METHODS = {
    "gradecheck sampled": ours,
    "lab loop (61,440 forwards)": lab_loop,
    "autograd.gradcheck full": lambda s, g: autograd(s, g, False),
    "autograd.gradcheck fast": lambda s, g: autograd(s, g, True),
}
CHEAP = {"gradecheck sampled", "autograd.gradcheck fast"}


def seconds_per_check(method, setup: Setup, grad: np.ndarray, repeats: int) -> tuple[float, bool]:
    times, verdict = [], False
    for _ in range(repeats):
        started = time.perf_counter()
        verdict = method(setup, grad)
        times.append(time.perf_counter() - started)
    return statistics.median(times), verdict


def main() -> None:
    setup = Setup(0)
    correct = setup.grad.astype(np.float32).astype(np.float64)
    seconds = {}
    for name, method in METHODS.items():
        seconds[name], alarm = seconds_per_check(method, setup, correct, 31 if name in CHEAP else 3)
        print(f"{name:<28} {seconds[name] * 1000:10.2f} ms per check (median)   "
              f"false alarm on a correct float32 gradient: {alarm}")
    base = seconds["gradecheck sampled"]
    print()
    for name, value in seconds.items():
        print(f"{name:<28} {value / base:9.1f}x gradecheck's time")
    print()
    print("distortions caught (20 problems for the cheap methods, 2 for the slow ones):")
    setups = [Setup(seed) for seed in range(20)]
    for kind in KINDS:
        row = []
        for name, method in METHODS.items():
            chosen = setups if name in CHEAP else setups[:2]
            hits = sum(method(s, distortions(s.grad, s.seed)[kind].astype(np.float32).astype(np.float64))
                       for s in chosen)
            row.append(f"{name.split(' (')[0]} {hits}/{len(chosen)}")
        print(f"  {kind:<20} " + " | ".join(row))


if __name__ == "__main__":
    main()
