"""Softmax assignment whose "vectorised" loss still loops, but only over
the C classes (a fixed, small number), never over the examples.

Loses: none
"""
import numpy as np


def softmax_loss_naive(W, X, y, reg):
    n, c = X.shape[0], W.shape[1]
    loss = 0.0
    dW = np.zeros(W.shape)
    for i in range(n):
        s = np.array([X[i] @ W[:, j] for j in range(c)])
        s -= s.max()
        p = np.exp(s) / np.exp(s).sum()
        loss -= np.log(p[y[i]])
        for j in range(c):
            dW[:, j] += (p[j] - (1.0 if j == y[i] else 0.0)) * X[i]
    return loss / n + reg * np.sum(W * W), dW / n + 2 * reg * W


def softmax_loss_vectorized(W, X, y, reg):
    n, c = X.shape[0], W.shape[1]
    scores = X @ W
    scores = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    total = e.sum(axis=1)
    loss = np.mean(np.log(total) - scores[np.arange(n), y]) + reg * np.sum(W * W)
    dW = np.empty(W.shape)
    for j in range(c):
        coeff = e[:, j] / total - (y == j)
        dW[:, j] = X.T @ coeff / n
    return loss, dW + 2 * reg * W


def softmax_jacobian(z):
    c = z.size
    e = np.exp(z - z.max())
    s = e / e.sum()
    J = np.empty((c, c))
    for j in range(c):
        J[:, j] = -s * s[j]
        J[j, j] += s[j]
    return J


def linear_softmax_backward(X, W, b, y):
    n, c = X.shape[0], W.shape[1]
    scores = X @ W + b
    scores = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    total = e.sum(axis=1)
    loss = np.mean(np.log(total) - scores[np.arange(n), y])
    G = np.empty((n, c))
    for j in range(c):
        G[:, j] = (e[:, j] / total - (y == j)) / n
    return loss, X.T @ G, G.sum(axis=0)


def smooth_labels(y, num_classes, epsilon):
    T = np.empty((len(y), num_classes))
    for j in range(num_classes):
        T[:, j] = np.where(y == j, 1 - epsilon + epsilon / num_classes, epsilon / num_classes)
    return T


def label_smoothing_loss(Z, y, epsilon):
    n, c = Z.shape
    T = smooth_labels(y, c, epsilon)
    S = Z - Z.max(axis=1, keepdims=True)
    log_total = np.log(np.exp(S).sum(axis=1, keepdims=True))
    logp = S - log_total
    return -(T * logp).sum() / n, (np.exp(logp) - T) / n


def train_softmax(X, y, num_classes, lr, epochs):
    W = np.zeros((X.shape[1], num_classes))
    b = np.zeros(num_classes)
    history = []
    for _ in range(epochs):
        loss, dW, db = linear_softmax_backward(X, W, b, y)
        history.append(loss)
        W = W - lr * dW
        b = b - lr * db
    return W, b, history
