"""Softmax classifier: picks the label entries with np.take_along_axis and
puts the -1 back with np.put_along_axis.

Loses: none
"""
import numpy as np


def softmax_loss_naive(W, X, y, reg):
    num_train = X.shape[0]
    loss = 0.0
    dW = np.zeros(W.shape)
    for i in range(num_train):
        f = X[i].dot(W)
        f -= np.max(f)
        p = np.exp(f) / np.sum(np.exp(f))
        loss += -np.log(p[y[i]])
        dW[:, y[i]] -= X[i]
        dW += np.outer(X[i], p)
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += reg * 2 * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    f = X.dot(W)
    f -= np.max(f, axis=1, keepdims=True)
    log_z = np.log(np.sum(np.exp(f), axis=1, keepdims=True))
    log_p = f - log_z
    picked = np.take_along_axis(log_p, y[:, None], axis=1)
    loss = -np.mean(picked) + reg * np.sum(W * W)
    grad = np.exp(log_p)
    np.put_along_axis(grad, y[:, None], np.take_along_axis(grad, y[:, None], axis=1) - 1, axis=1)
    dW = X.T.dot(grad) / num_train + reg * 2 * W
    return loss, dW


def softmax_jacobian(z):
    e = np.exp(z - z.max())
    s = e / e.sum()
    return np.diagflat(s) - s[:, None] * s[None, :]


def linear_softmax_backward(X, W, b, y):
    num_train = X.shape[0]
    f = X.dot(W) + b
    f -= np.max(f, axis=1, keepdims=True)
    log_p = f - np.log(np.sum(np.exp(f), axis=1, keepdims=True))
    loss = -np.take_along_axis(log_p, y[:, None], axis=1).mean()
    g = np.exp(log_p)
    np.put_along_axis(g, y[:, None], np.take_along_axis(g, y[:, None], axis=1) - 1, axis=1)
    g /= num_train
    return loss, X.T.dot(g), g.sum(axis=0)


def smooth_labels(y, num_classes, epsilon):
    t = np.full((len(y), num_classes), epsilon / num_classes)
    np.put_along_axis(t, np.asarray(y)[:, None], 1 - epsilon + epsilon / num_classes, axis=1)
    return t


def label_smoothing_loss(Z, y, epsilon):
    t = smooth_labels(y, Z.shape[1], epsilon)
    f = Z - np.max(Z, axis=1, keepdims=True)
    log_p = f - np.log(np.sum(np.exp(f), axis=1, keepdims=True))
    return -np.sum(t * log_p) / Z.shape[0], (np.exp(log_p) - t) / Z.shape[0]


def train_softmax(X, y, num_classes, lr, epochs):
    W = np.zeros((X.shape[1], num_classes))
    b = np.zeros(num_classes)
    history = []
    for _ in range(epochs):
        f = X.dot(W) + b
        f -= np.max(f, axis=1, keepdims=True)
        log_p = f - np.log(np.sum(np.exp(f), axis=1, keepdims=True))
        history.append(-np.take_along_axis(log_p, y[:, None], axis=1).mean())
        g = np.exp(log_p)
        np.put_along_axis(g, y[:, None], np.take_along_axis(g, y[:, None], axis=1) - 1, axis=1)
        g /= X.shape[0]
        W -= lr * X.T.dot(g)
        b -= lr * g.sum(axis=0)
    return W, b, history
