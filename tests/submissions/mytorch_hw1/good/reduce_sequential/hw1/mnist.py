"""Train an MLP on MNIST: validation in batches, accuracy counted with a running total."""

import numpy as np

from mytorch.nn.activations import ReLU
from mytorch.nn.linear import Linear
from mytorch.nn.loss import CrossEntropyLoss
from mytorch.nn.sequential import Sequential
from mytorch.optim.sgd import SGD
from mytorch.tensor import Tensor

BATCH_SIZE = 100


def mnist(train_x, train_y, val_x, val_y):
    model = Sequential(Linear(784, 20), ReLU(), Linear(20, 10))
    return train(model, SGD(model.parameters(), lr=0.1), CrossEntropyLoss(), train_x, train_y, val_x, val_y)


def train(model, optimizer, criterion, train_x, train_y, val_x, val_y, num_epochs=3):
    val_accuracies = []
    for epoch in range(num_epochs):
        model.train()
        permutation = np.random.permutation(train_x.shape[0])
        x_shuffled, y_shuffled = train_x[permutation], train_y[permutation]
        for i in range(0, x_shuffled.shape[0], BATCH_SIZE):
            optimizer.zero_grad()
            batch_data = Tensor(x_shuffled[i:i + BATCH_SIZE])
            batch_labels = Tensor(y_shuffled[i:i + BATCH_SIZE])
            loss = criterion(model(batch_data), batch_labels)
            loss.backward()
            optimizer.step()
        val_accuracies.append(validate(model, val_x, val_y))
    return val_accuracies


def validate(model, val_x, val_y):
    model.eval()
    num_correct = 0
    for i in range(0, len(val_x), BATCH_SIZE):
        out = model(Tensor(val_x[i:i + BATCH_SIZE]))
        batch_preds = np.argmax(out.data, axis=1)
        num_correct += (batch_preds == val_y[i:i + BATCH_SIZE]).sum()
    return num_correct / len(val_y)
