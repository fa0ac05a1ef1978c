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
# A direction is random signs (Rademacher), not Gaussians: a single wrong entry
# moves <grad, u> by its full error, never by a lucky small fraction
# (torch.autograd.gradcheck's fast mode, with non-negative directions, misses
# most single-entry errors). Three choices keep one wrong entry visible above
# what a correct gradient computed in float32 moves a probe by:
# - each direction covers its own share of the entries, at most GROUP_SIZE of
#   them (a huge gradient gets more directions): the noise of float32
#   arithmetic grows with the square root of the entries a probe sums, one
#   wrong entry's error does not;
# - each sign is weighted by rms / (|grad_i| + rms), so that a few large entries
#   (the label's row of a 100-class weight gradient) cannot dominate the probe
#   and hide a 1% error in an ordinary entry;
# - a probe is judged against ||u * grad||, with a fifth of the coordinates'
#   tolerance. A correct float32 gradient, even one from a float32 forward pass
#   (whose rows are off by up to ~3e-6 together on a 100 x 30720 weight), stays
#   under a third of it there and under a thirtieth on the lab's 10 x 3072 weight;
#   one median-sized entry off by 1% exceeds it over three times on the first,
#   over five times on the second (bench_gradcheck, tests/test_gradcheck.py).
GROUP_SIZE = 4096
DIRECTIONAL_SHARE = 0.2
CHUNK = 8  # probes evaluated at once: small enough to stay in cache
# ... and never more than this many bytes of perturbed copies: a 100 x 30720 weight is
# 25 MB a copy, so its probes go one pair at a time and the check stays well under 200 MB.
BUFFER_BYTES = 32 * 2**20


def mismatches(probes: list[Probe], rtol: float) -> list[Probe]:
    """The probes whose error exceeds the tolerance (directions get a fifth of rtol)."""
    return [p for p in probes if p.error() > (rtol * DIRECTIONAL_SHARE if p.label.startswith("<") else rtol)]


def random_signs(rng: np.random.Generator, size: int) -> np.ndarray:
    """`size` entries of +-1 (int8: a byte each), fast: one random bit per entry."""
    bits = np.unpackbits(np.frombuffer(rng.bytes((size + 7) // 8), dtype=np.uint8))
    signs = bits[:size].view(np.int8)
    signs *= 2
    signs -= 1
    return signs


def sampled_check(f_batch: BatchFunction, x: np.ndarray, grad: np.ndarray, *, rng: np.random.Generator,
                  directions: int = DIRECTIONS, coordinates: int = COORDINATES, eps: float = 1e-6,
                  name: str = "grad") -> list[Probe]:
    """Compare `grad` with f's central differences along random directions and at
    random coordinates; return one Probe per comparison.

    The entries are split at random into at least `directions` groups of at
    most GROUP_SIZE; each group's direction is random signs weighted by
    rms(grad) / (|grad_i| + rms(grad)). Each probe's scale is what rounding of
    a correct float32 gradient could move it by: ||u * grad|| for a direction
    (compared with a tighter tolerance, see `mismatches`), |grad_i| + rms(grad)
    for a coordinate. Perturbed inputs live in one reused buffer of at most
    BUFFER_BYTES (or one pair), in which only a probe's own entries change.
    """
    x = np.asarray(x, dtype=np.float64)
    flat_x = x.reshape(-1)
    flat = np.asarray(grad, dtype=np.float64).reshape(-1)
    n = flat.size
    # sums here are numpy's own (pairwise), not BLAS's: BLAS splits a long dot product by
    # its thread count, and the probes (the inputs the reference is asked about, recorded
    # in a handout) must be the same bytes whatever threads it runs
    rms = (float(np.sqrt(np.sum(flat * flat))) or 1.0) / np.sqrt(n)
    groups = min(n, max(directions, -(-n // GROUP_SIZE)))
    signs = random_signs(rng, n)
    order = rng.permutation(n).astype(np.int32 if n < 2**31 else np.int64)
    coords = rng.choice(n, size=min(coordinates, n), replace=False)
    # each probe: the entries it moves and by how much (before eps)
    moves: list[tuple[np.ndarray, np.ndarray]] = []
    probes: list[Probe] = []
    for i, members in enumerate(np.array_split(order, groups)):
        part = flat[members]
        u = signs[members] * (rms / (np.abs(part) + rms))
        moves.append((members, u))
        moved = u * part
        probes.append(Probe(f"<{name}, u{i}>", 0.0, float(np.sum(moved)),
                            float(np.sqrt(np.sum(moved * moved))) or 1.0))
    del order
    for c in coords:
        moves.append((np.array([c]), np.ones(1)))
        index = ", ".join(str(int(v)) for v in np.unravel_index(int(c), x.shape))
        probes.append(Probe(f"{name}[{index}]", 0.0, float(flat[c]), abs(float(flat[c])) + rms))
    chunk = max(1, min(CHUNK, BUFFER_BYTES // (2 * 8 * n)))
    buffer = np.empty((2 * min(chunk, len(moves)), n))
    buffer[:] = flat_x
    for start in range(0, len(moves), chunk):
        batch = moves[start:start + chunk]
        k = len(batch)
        for row, (members, u) in enumerate(batch):
            buffer[row, members] += eps * u
            buffer[k + row, members] -= eps * u
        values = np.asarray(f_batch(buffer[: 2 * k].reshape((2 * k,) + x.shape)), dtype=np.float64)
        for row, (members, _) in enumerate(batch):
            buffer[row, members] = flat_x[members]
            buffer[k + row, members] = flat_x[members]
            probes[start + row].numerical = float(values[row] - values[k + row]) / (2 * eps)
    return probes
