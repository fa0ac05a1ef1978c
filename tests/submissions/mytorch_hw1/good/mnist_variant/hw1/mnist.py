"""Problem 3 - Training on MNIST (a student's version: its own batching and bookkeeping)."""

import numpy as np

from mytorch import nn
from mytorch.optim import SGD
from mytorch.tensor import Tensor

BATCH_SIZE = 100
NUM_EPOCHS = 3


def mnist(train_x, train_y, val_x, val_y):
    layers = [nn.Linear(784, 20), nn.ReLU(), nn.Linear(20, 10)]
    model = nn.Sequential(*layers)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.0)
    criterion = nn.CrossEntropyLoss()
    history = train(model, optimizer, criterion, train_x, train_y, val_x, val_y)
    print("validation accuracies:", history)
    return history


def train(model, optimizer, criterion, train_x, train_y, val_x, val_y, num_epochs=NUM_EPOCHS):
    val_accuracies = []
    n = len(train_x)
    indices = np.arange(n)
    for epoch in range(num_epochs):
        model.train()
        np.random.shuffle(indices)
        for batch in np.array_split(indices, int(np.ceil(n / BATCH_SIZE))):
            out = model(Tensor(train_x[batch]))
            loss = criterion(out, Tensor(train_y[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        accuracy = validate(model, val_x, val_y)
        val_accuracies.append(accuracy)
        print(f"epoch {epoch + 1}: loss {float(loss.data):.4f}, validation accuracy {accuracy:.4f}")
    return val_accuracies


def validate(model, val_x, val_y):
    model.eval()
    scores = model(Tensor(np.asarray(val_x))).data
    return float(np.mean(scores.argmax(axis=1) == np.asarray(val_y)))
