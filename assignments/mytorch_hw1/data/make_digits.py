"""Build data/digits.npz, the MNIST stand-in of the mytorch_hw1 assignment.

Source: the UCI "Optical Recognition of Handwritten Digits" test set as shipped
with scikit-learn (sklearn.datasets.load_digits: 1797 handwritten digits, 8x8
pixels, 16 grey levels). Each 8x8 image is scaled up bilinearly to 20x20 and
centred in a 28x28 frame (as MNIST centres its 20x20 digits), so every row has
784 features like MNIST's. The originals are split (fixed seed) into training
and validation digits first, so no validation digit has a copy in training;
the training digits are then augmented with shifted copies (one pixel at most)
of each.

The arrays (uint8 grey levels 0..255, int64 labels):
    train_x (N, 784), train_y (N,), val_x (M, 784), val_y (M,)
Staff can grade on real MNIST instead by pointing GRADECHECK_MNIST_NPZ at an
.npz with the same four keys (uint8 0..255 or floats in [0, 1]).

Run once, with scikit-learn installed (the assignment itself never needs it):
    python assignments/mytorch_hw1/data/make_digits.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SEED = 20240611
VALIDATION = 500          # original digits kept for validation
SHIFTS = [(0, 0), (1, 0), (0, 1), (-1, 0), (0, -1)]  # copies of each training digit
OUT = Path(__file__).resolve().parent / "digits.npz"


def upscale(image: np.ndarray, size: int = 20) -> np.ndarray:
    """Bilinear interpolation of a square image to size x size (pixel centres aligned)."""
    n = image.shape[0]
    coords = (np.arange(size) + 0.5) * n / size - 0.5
    coords = np.clip(coords, 0, n - 1)
    low = np.floor(coords).astype(int)
    high = np.minimum(low + 1, n - 1)
    frac = coords - low
    rows = image[low] * (1 - frac)[:, None] + image[high] * frac[:, None]
    return rows[:, low] * (1 - frac)[None, :] + rows[:, high] * frac[None, :]


def frame(image: np.ndarray, dy: int = 0, dx: int = 0) -> np.ndarray:
    """A 20x20 image centred (then shifted by dy, dx) in a 28x28 frame, as uint8 0..255."""
    out = np.zeros((28, 28))
    out[4 + dy:24 + dy, 4 + dx:24 + dx] = image
    return np.clip(np.rint(out * 255.0 / 16.0), 0, 255).astype(np.uint8)


def main() -> None:
    from sklearn.datasets import load_digits  # only here: the assignment never imports it

    digits = load_digits()
    images, labels = digits.images, digits.target.astype(np.int64)
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(images))
    val_idx, train_idx = order[:VALIDATION], order[VALIDATION:]
    big = np.stack([upscale(image) for image in images])
    train_x = np.stack([frame(big[i], dy, dx).reshape(784) for i in train_idx for dy, dx in SHIFTS])
    train_y = np.repeat(labels[train_idx], len(SHIFTS))
    shuffle = rng.permutation(len(train_x))
    train_x, train_y = train_x[shuffle], train_y[shuffle]
    val_x = np.stack([frame(big[i]).reshape(784) for i in val_idx])
    val_y = labels[val_idx]
    np.savez_compressed(OUT, train_x=train_x, train_y=train_y, val_x=val_x, val_y=val_y)
    print(f"{OUT.name}: train {train_x.shape}, val {val_x.shape}, {OUT.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
