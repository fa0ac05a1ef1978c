"""Softmax assignment returning lists instead of tuples, the history as a
numpy array, and losses as numpy scalars.

Loses: none
"""
import numpy as np


def _stable_softmax(s):
    s = s - s.max(axis=-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_loss_naive(W, X, y, reg):
    grads = []
    losses = []
    for x_i, y_i in zip(X, y):
        p = _stable_softmax(x_i @ W)
        losses.append(-np.log(p[y_i]))
        t = np.zeros_like(p)
        t[y_i] = 1
        grads.append(np.outer(x_i, p - t))
    loss = np.mean(losses) + reg * np.sum(np.square(W))
    dW = np.mean(grads, axis=0) + 2 * reg * W
    return [loss, dW]


def softmax_loss_vectorized(W, X, y, reg):
    P = _stable_softmax(X @ W)
    T = np.zeros_like(P)
    T[np.arange(len(y)), y] = 1
    scores = X @ W
    shifted = scores - scores.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = np.float64(-(T * logp).sum(axis=1).mean() + reg * np.sum(np.square(W)))
    return [loss, X.T @ (P - T) / len(y) + 2 * reg * W]


def softmax_jacobian(z):
    s = _stable_softmax(z)
    return np.diag(s) - np.outer(s, s)


def linear_softmax_backward(X, W, b, y):
    scores = X @ W + b
    P = _stable_softmax(scores)
    T = np.zeros_like(P)
    T[np.arange(len(y)), y] = 1
    shifted = scores - scores.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    G = (P - T) / len(y)
    return [np.float64(-(T * logp).sum() / len(y)), X.T @ G, G.sum(axis=0)]


def smooth_labels(y, num_classes, epsilon):
    T = np.zeros((len(y), num_classes))
    T[np.arange(len(y)), y] = 1
    return (1 - epsilon) * T + epsilon / num_classes


def label_smoothing_loss(Z, y, epsilon):
    T = smooth_labels(y, Z.shape[1], epsilon)
    shifted = Z - Z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return [-(T * logp).sum() / len(y), (_stable_softmax(Z) - T) / len(y)]


def train_softmax(X, y, num_classes, lr, epochs):
    W = np.zeros((X.shape[1], num_classes))
    b = np.zeros(num_classes)
    history = np.zeros(epochs)
    for k in range(epochs):
        loss, dW, db = linear_softmax_backward(X, W, b, y)
        history[k] = loss
        W = W - lr * dW
        b = b - lr * db
    return [W, b, history]
