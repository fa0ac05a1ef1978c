"""Softmax assignment with one-hot matrices built by np.eye; my training
loop records the loss after each update (the parameters I end up with).

Loses: none
"""
import numpy as np


def softmax_loss_naive(W, X, y, reg):
    C = W.shape[1]
    Y = np.eye(C)[y]
    loss = 0.0
    dW = np.zeros(W.shape)
    for i in range(X.shape[0]):
        z = X[i] @ W
        z = z - z.max()
        p = np.exp(z)
        p /= p.sum()
        loss += -np.sum(Y[i] * np.log(p))
        dW += np.outer(X[i], p - Y[i])
    n = X.shape[0]
    return loss / n + reg * np.sum(W * W), dW / n + 2 * reg * W


def softmax_loss_vectorized(W, X, y, reg):
    n, C = X.shape[0], W.shape[1]
    Y = np.eye(C)[y]
    Z = X @ W
    Z = Z - Z.max(axis=1, keepdims=True)
    logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    loss = -np.sum(Y * logp) / n + reg * np.sum(W * W)
    dW = X.T @ (np.exp(logp) - Y) / n + 2 * reg * W
    return loss, dW


def softmax_jacobian(z):
    p = np.exp(z - z.max())
    p /= p.sum()
    return np.diag(p) - p[:, np.newaxis] @ p[np.newaxis, :]


def linear_softmax_backward(X, W, b, y):
    n, C = X.shape[0], W.shape[1]
    Y = np.eye(C)[y]
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    G = (np.exp(logp) - Y) / n
    return -np.sum(Y * logp) / n, X.T @ G, G.sum(axis=0)


def smooth_labels(y, num_classes, epsilon):
    return np.eye(num_classes)[y] * (1.0 - epsilon) + np.full(num_classes, epsilon / num_classes)


def label_smoothing_loss(Z, y, epsilon):
    n, C = Z.shape
    T = smooth_labels(y, C, epsilon)
    S = Z - Z.max(axis=1, keepdims=True)
    logp = S - np.log(np.exp(S).sum(axis=1, keepdims=True))
    return -np.sum(T * logp) / n, (np.exp(logp) - T) / n


def train_softmax(X, y, num_classes, lr, epochs):
    W = np.zeros((X.shape[1], num_classes))
    b = np.zeros(num_classes)
    history = []
    for _ in range(epochs):
        _, dW, db = linear_softmax_backward(X, W, b, y)
        W -= lr * dW
        b -= lr * db
        loss, _, _ = linear_softmax_backward(X, W, b, y)
        history.append(loss)
    return W, b, history
