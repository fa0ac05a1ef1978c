"""Run the MNIST training locally: python hw1/hw1.py (needs the MNIST files in data/)."""

import sys

import numpy as np

sys.path.append("./")

from hw1.mnist import mnist  # noqa: E402


def main():
    train_x = np.load("data/train_data.npy") / 255.0
    train_y = np.load("data/train_labels.npy")
    val_x = np.load("data/val_data.npy") / 255.0
    val_y = np.load("data/val_labels.npy")
    print(mnist(train_x, train_y, val_x, val_y))


if __name__ == "__main__":
    main()
