"""Softmax assignment that keeps the dtype of its inputs (float32 in,
float32 out) and returns losses as 0-d arrays.

Loses: none
"""
import numpy as np


def softmax_loss_naive(W, X, y, reg):
    dtype = np.result_type(W, X)
    loss = np.zeros((), dtype=dtype)
    dW = np.zeros(W.shape, dtype=dtype)
    n = X.shape[0]
    for i in range(n):
        scores = X[i].dot(W)
        scores = scores - scores.max()
        e = np.exp(scores)
        p = e / e.sum()
        loss += -np.log(p[y[i]])
        delta = p.copy()
        delta[y[i]] -= 1
        dW += np.outer(X[i], delta)
    loss = loss / n + reg * (W * W).sum()
    dW = dW / n + 2 * reg * W
    return np.asarray(loss, dtype=dtype), dW.astype(dtype)


def softmax_loss_vectorized(W, X, y, reg):
    dtype = np.result_type(W, X)
    n = X.shape[0]
    scores = X.dot(W)
    scores = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    p = e / e.sum(axis=1, keepdims=True)
    idx = np.arange(n)
    loss = -np.log(p[idx, y]).mean() + reg * (W * W).sum()
    p[idx, y] -= 1
    dW = X.T.dot(p) / n + 2 * reg * W
    return np.asarray(loss, dtype=dtype), dW.astype(dtype)


def softmax_jacobian(z):
    e = np.exp(z - z.max())
    s = e / e.sum()
    J = -np.outer(s, s)
    J[np.diag_indices_from(J)] += s
    return J.astype(z.dtype)


def linear_softmax_backward(X, W, b, y):
    dtype = np.result_type(X, W, b)
    n = X.shape[0]
    scores = X.dot(W) + b
    scores = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    p = e / e.sum(axis=1, keepdims=True)
    idx = np.arange(n)
    loss = -np.log(p[idx, y]).mean()
    p[idx, y] -= 1
    p /= n
    return np.asarray(loss, dtype=dtype), X.T.dot(p).astype(dtype), p.sum(axis=0).astype(dtype)


def smooth_labels(y, num_classes, epsilon):
    t = np.zeros((y.shape[0], num_classes))
    t[np.arange(y.shape[0]), y] = 1
    return t * (1 - epsilon) + epsilon / num_classes


def label_smoothing_loss(Z, y, epsilon):
    n, c = Z.shape
    t = smooth_labels(y, c, epsilon).astype(Z.dtype)
    s = Z - Z.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return np.asarray(-(t * logp).sum() / n, dtype=Z.dtype), ((np.exp(logp) - t) / n).astype(Z.dtype)


def train_softmax(X, y, num_classes, lr, epochs):
    W = np.zeros((X.shape[1], num_classes), dtype=X.dtype)
    b = np.zeros(num_classes, dtype=X.dtype)
    history = []
    for _ in range(epochs):
        loss, dW, db = linear_softmax_backward(X, W, b, y)
        history.append(loss)
        W = W - lr * dW
        b = b - lr * db
    return W, b, history
