"""Numerical gradients, taken by the judge in float64.

`f_batch` maps a stack of inputs, shape (B, *x.shape), to B scalar values.
Small inputs get full central differences, evaluated in chunks so memory stays
bounded; large ones get randomized directional derivatives (several Gaussian
directions at once) plus a sample of single coordinates, so that a single
wrong entry is still likely to be caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

BatchFunction = Callable[[np.ndarray], np.ndarray]


def central_differences(f_batch: BatchFunction, x: np.ndarray, eps: float | np.ndarray = 1e-6,
                        chunk: int = 512) -> np.ndarray:
    """The full gradient of f at x by central differences, same shape as x."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    steps = np.broadcast_to(np.asarray(eps, dtype=np.float64), x.shape).reshape(-1)
    grad = np.empty(n)
    for start in range(0, n, chunk):
        idx = np.arange(start, min(start + chunk, n))
        batch = np.repeat(x.reshape(1, -1), 2 * len(idx), axis=0)
        batch[np.arange(len(idx)), idx] += steps[idx]
        batch[len(idx) + np.arange(len(idx)), idx] -= steps[idx]
        values = np.asarray(f_batch(batch.reshape((-1,) + x.shape)), dtype=np.float64)
        grad[idx] = (values[: len(idx)] - values[len(idx):]) / (2 * steps[idx])
    return grad.reshape(x.shape)


@dataclass
class Probe:
    """One comparison made by `sampled_check`: a direction or a coordinate."""

    label: str
    numerical: float
    analytic: float
    scale: float

    def error(self) -> float:
        return abs(self.numerical - self.analytic) / max(self.scale, 1e-300)


DIRECTIONS, COORDINATES = 6, 16
# Directions are random signs (Rademacher), not Gaussians: a single wrong
# entry then moves <grad, u> by its full error in every direction, never by a
# lucky small fraction (torch.autograd.gradcheck's fast mode, with
# non-negative directions, misses most single-entry errors). On the lab's
# 10x3072 weight gradient, rounding a correct gradient to float32 moves
# <grad, u> by at most ~1e-7 * ||grad||, while one median-sized entry off by
# 1% moves it by ~4e-5 * ||grad||. With rtol 1e-4 for float32 the directional
# threshold is 1e-6 * ||grad||.
DIRECTIONAL_SHARE = 0.01
CHUNK = 8  # perturbed copies evaluated at once: small enough to stay in cache
# ... and never more than this many bytes of them: a 100 x 30720 weight is 25 MB a copy, so
# its copies go one pair at a time and the check stays within a couple of hundred MB.
BUFFER_BYTES = 32 * 2**20


def mismatches(probes: list[Probe], rtol: float) -> list[Probe]:
    """The probes whose error exceeds the tolerance (directions get a hundredth of rtol)."""
    return [p for p in probes if p.error() > (rtol * DIRECTIONAL_SHARE if p.label.startswith("<") else rtol)]


def random_signs(rng: np.random.Generator, count: int, size: int) -> np.ndarray:
    """`count` vectors of +-1 entries (int8: a byte each), fast: one random bit per entry."""
    bits = np.unpackbits(np.frombuffer(rng.bytes(count * ((size + 7) // 8)), dtype=np.uint8))
    signs = bits[: count * size].reshape(count, size).view(np.int8)
    signs *= 2
    signs -= 1
    return signs


def sampled_check(f_batch: BatchFunction, x: np.ndarray, grad: np.ndarray, *, rng: np.random.Generator,
                  directions: int = DIRECTIONS, coordinates: int = COORDINATES, eps: float = 1e-6,
                  name: str = "grad") -> list[Probe]:
    """Compare `grad` with f's central differences along random sign directions and coordinates.

    Each probe's scale is what rounding of a correct float32 gradient could
    move it by: ||grad|| for a direction (compared with a tighter tolerance,
    see `mismatches`), |grad_i| + rms(grad) for a coordinate. Perturbed
    inputs are built CHUNK at a time (fewer for a huge x: BUFFER_BYTES) in one reused buffer.
    """
    x = np.asarray(x, dtype=np.float64)
    flat_x = x.reshape(-1)
    flat = np.asarray(grad, dtype=np.float64).reshape(-1)
    n = flat.size
    norm = float(np.linalg.norm(flat)) or 1.0
    rms = norm / np.sqrt(n)
    signs = random_signs(rng, directions, n)
    coords = rng.choice(n, size=min(coordinates, n), replace=False)
    count = directions + len(coords)
    numerical = np.empty(count)
    chunk = max(1, min(CHUNK, BUFFER_BYTES // (2 * 8 * n)))
    buffer = np.empty((2 * chunk, n))
    for start in range(0, count, chunk):
        stop = min(start + chunk, count)
        k = stop - start
        for row, probe in enumerate(range(start, stop)):
            plus, minus = buffer[row], buffer[k + row]
            if probe < directions:
                np.multiply(signs[probe], eps, out=plus)
                np.subtract(flat_x, plus, out=minus)
                plus += flat_x
            else:
                c = coords[probe - directions]
                plus[:] = flat_x
                minus[:] = flat_x
                plus[c] += eps
                minus[c] -= eps
        values = np.asarray(f_batch(buffer[: 2 * k].reshape((2 * k,) + x.shape)), dtype=np.float64)
        numerical[start:stop] = (values[:k] - values[k:]) / (2 * eps)
    probes = []
    for i in range(directions):
        probes.append(Probe(f"<{name}, u{i}>", numerical[i], float(signs[i] @ flat), norm))
    for j, c in enumerate(coords):
        index = ", ".join(str(int(v)) for v in np.unravel_index(int(c), x.shape))
        probes.append(Probe(f"{name}[{index}]", numerical[directions + j], float(flat[c]),
                            abs(float(flat[c])) + rms))
    return probes
