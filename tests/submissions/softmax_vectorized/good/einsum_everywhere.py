"""Softmax classifier with np.einsum for every product (I like seeing the
indices spelled out).

Loses: none
"""
import numpy as np


def _probabilities(scores):
    scores = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(scores)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_loss_naive(W, X, y, reg):
    n = X.shape[0]
    loss = 0.0
    dW = np.zeros_like(W, dtype=np.float64)
    for i in range(n):
        p = _probabilities(np.einsum("d,dc->c", X[i], W))
        loss += -np.log(p[y[i]])
        p[y[i]] -= 1.0
        dW += np.einsum("d,c->dc", X[i], p)
    loss = loss / n + reg * np.einsum("dc,dc->", W, W)
    dW = dW / n + 2.0 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    n, c = X.shape[0], W.shape[1]
    p = _probabilities(np.einsum("nd,dc->nc", X, W))
    onehot = np.eye(c)[y]
    loss = -np.einsum("nc,nc->", onehot, np.log(p)) / n + reg * np.einsum("dc,dc->", W, W)
    dW = np.einsum("nd,nc->dc", X, p - onehot) / n + 2.0 * reg * W
    return loss, dW


def softmax_jacobian(z):
    s = _probabilities(z)
    return np.einsum("i,ij->ij", s, np.eye(len(s))) - np.einsum("i,j->ij", s, s)


def linear_softmax_backward(X, W, b, y):
    n, c = X.shape[0], W.shape[1]
    p = _probabilities(np.einsum("nd,dc->nc", X, W) + b)
    onehot = np.eye(c)[y]
    loss = -np.einsum("nc,nc->", onehot, np.log(p)) / n
    g = (p - onehot) / n
    return loss, np.einsum("nd,nc->dc", X, g), np.einsum("nc->c", g)


def smooth_labels(y, num_classes, epsilon):
    return np.eye(num_classes)[y] * (1 - epsilon) + epsilon / num_classes


def label_smoothing_loss(Z, y, epsilon):
    n, c = Z.shape
    t = smooth_labels(y, c, epsilon)
    shifted = Z - Z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -np.einsum("nc,nc->", t, logp) / n
    return loss, (np.exp(logp) - t) / n


def train_softmax(X, y, num_classes, lr, epochs):
    W = np.zeros((X.shape[1], num_classes))
    b = np.zeros(num_classes)
    history = []
    for _ in range(epochs):
        loss, dW, db = linear_softmax_backward(X, W, b, y)
        history.append(float(loss))
        W -= lr * dW
        b -= lr * db
    return W, b, history
