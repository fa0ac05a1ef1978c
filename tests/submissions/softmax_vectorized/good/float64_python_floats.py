"""Softmax assignment. I convert every input to float64 first and return
plain Python floats for the losses.

Loses: none
"""
import numpy as np


def softmax_loss_naive(W, X, y, reg):
    W = np.asarray(W, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    num_train = X.shape[0]
    total = 0.0
    dW = np.zeros_like(W)
    for i in range(num_train):
        s = X[i] @ W
        s = s - s.max()
        p = np.exp(s)
        p = p / p.sum()
        total += float(-np.log(p[int(y[i])]))
        p[int(y[i])] -= 1.0
        dW += X[i][:, np.newaxis] * p[np.newaxis, :]
    loss = total / num_train + float(reg) * float(np.sum(W ** 2))
    dW = dW / num_train + 2.0 * float(reg) * W
    return float(loss), dW


def softmax_loss_vectorized(W, X, y, reg):
    W = np.asarray(W, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    num_train = X.shape[0]
    s = X @ W
    s = s - s.max(axis=1)[:, np.newaxis]
    p = np.exp(s)
    p = p / p.sum(axis=1)[:, np.newaxis]
    loss = float(-np.log(p[np.arange(num_train), y]).sum() / num_train)
    loss += float(reg) * float(np.sum(W ** 2))
    p[np.arange(num_train), y] -= 1.0
    dW = X.T @ p / num_train + 2.0 * float(reg) * W
    return loss, dW


def softmax_jacobian(z):
    z = np.asarray(z, dtype=np.float64)
    s = np.exp(z - z.max())
    s = s / s.sum()
    return np.diag(s) - np.outer(s, s)


def linear_softmax_backward(X, W, b, y):
    X, W, b = (np.asarray(a, dtype=np.float64) for a in (X, W, b))
    n = X.shape[0]
    s = X @ W + b
    s = s - s.max(axis=1)[:, np.newaxis]
    p = np.exp(s)
    p = p / p.sum(axis=1)[:, np.newaxis]
    loss = float(-np.log(p[np.arange(n), y]).mean())
    p[np.arange(n), y] -= 1.0
    p /= n
    return loss, X.T @ p, p.sum(axis=0)


def smooth_labels(y, num_classes, epsilon):
    epsilon = float(epsilon)
    t = np.full((len(y), num_classes), epsilon / num_classes, dtype=np.float64)
    t[np.arange(len(y)), np.asarray(y, dtype=np.int64)] = 1.0 - epsilon + epsilon / num_classes
    return t


def label_smoothing_loss(Z, y, epsilon):
    Z = np.asarray(Z, dtype=np.float64)
    n, c = Z.shape
    t = smooth_labels(y, c, epsilon)
    s = Z - Z.max(axis=1)[:, np.newaxis]
    logp = s - np.log(np.exp(s).sum(axis=1))[:, np.newaxis]
    return float(-(t * logp).sum() / n), (np.exp(logp) - t) / n


def train_softmax(X, y, num_classes, lr, epochs):
    X = np.asarray(X, dtype=np.float64)
    W = np.zeros((X.shape[1], num_classes))
    b = np.zeros(num_classes)
    history = []
    for _ in range(int(epochs)):
        loss, dW, db = linear_softmax_backward(X, W, b, y)
        history.append(float(loss))
        W -= float(lr) * dW
        b -= float(lr) * db
    return W, b, history
