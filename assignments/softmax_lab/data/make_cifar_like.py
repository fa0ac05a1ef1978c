"""Write cifar_like.npz, the softmax_lab `cifar` fixture: harness.cifar_like's seed-0 draw."""

import importlib.util
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    spec = importlib.util.spec_from_file_location("softmax_lab_harness", HERE.parent / "harness.py")
    harness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    train_x, train_y, val_x, val_y = harness.cifar_like(0, 800, 200)
    np.savez_compressed(HERE / "cifar_like.npz", train_x=train_x, train_y=train_y, val_x=val_x, val_y=val_y)


if __name__ == "__main__":
    main()
