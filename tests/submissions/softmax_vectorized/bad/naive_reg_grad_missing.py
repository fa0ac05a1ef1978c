"""Softmax assignment. The naive gradient forgets the regularisation.

Loses: loss_naive
"""
import numpy as np


def softmax_loss_naive(W, X, y, reg):
    num_train = X.shape[0]
    num_classes = W.shape[1]
    loss = 0.0
    dW = np.zeros_like(W, dtype=np.float64)
    for i in range(num_train):
        scores = X[i].dot(W)
        scores = scores - np.max(scores)
        probs = np.exp(scores) / np.sum(np.exp(scores))
        loss += -np.log(probs[y[i]])
        for j in range(num_classes):
            if j == y[i]:
                dW[:, j] += (probs[j] - 1) * X[i]
            else:
                dW[:, j] += probs[j] * X[i]
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    scores = scores - np.max(scores, axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(num_train), y])) / num_train
    loss += reg * np.sum(W * W)
    dscores = probs.copy()
    dscores[np.arange(num_train), y] -= 1
    dW = X.T.dot(dscores) / num_train
    dW += 2 * reg * W
    return loss, dW


def softmax_jacobian(z):
    z = z - np.max(z)
    s = np.exp(z) / np.sum(np.exp(z))
    return np.diag(s) - np.outer(s, s)


def linear_softmax_backward(X, W, b, y):
    num_train = X.shape[0]
    scores = X.dot(W) + b
    scores = scores - np.max(scores, axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(num_train), y]))
    dscores = probs.copy()
    dscores[np.arange(num_train), y] -= 1
    dscores /= num_train
    dW = X.T.dot(dscores)
    db = np.sum(dscores, axis=0)
    return loss, dW, db


def smooth_labels(y, num_classes, epsilon):
    targets = np.full((len(y), num_classes), epsilon / num_classes)
    targets[np.arange(len(y)), y] += 1 - epsilon
    return targets


def label_smoothing_loss(Z, y, epsilon):
    num_train, num_classes = Z.shape
    targets = smooth_labels(y, num_classes, epsilon)
    shifted = Z - np.max(Z, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    loss = -np.sum(targets * log_probs) / num_train
    dZ = (np.exp(log_probs) - targets) / num_train
    return loss, dZ


def train_softmax(X, y, num_classes, lr, epochs):
    W = np.zeros((X.shape[1], num_classes))
    b = np.zeros(num_classes)
    history = []
    for epoch in range(epochs):
        loss, dW, db = linear_softmax_backward(X, W, b, y)
        history.append(loss)
        W -= lr * dW
        b -= lr * db
    return W, b, history
