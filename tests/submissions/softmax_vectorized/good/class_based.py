"""Softmax assignment organised around a small classifier class; the
required functions are thin wrappers around it.

Loses: none
"""
import numpy as np


class LinearSoftmax:
    def __init__(self, W, b=None, reg=0.0):
        self.W = W
        self.b = np.zeros(W.shape[1]) if b is None else b
        self.reg = reg

    @staticmethod
    def probabilities(scores):
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        e = np.exp(shifted)
        return e / np.sum(e, axis=1, keepdims=True)

    def forward_backward(self, X, y):
        n = X.shape[0]
        p = self.probabilities(X.dot(self.W) + self.b)
        rows = np.arange(n)
        loss = -np.mean(np.log(p[rows, y])) + self.reg * np.sum(self.W ** 2)
        d = p.copy()
        d[rows, y] -= 1
        d /= n
        dW = X.T.dot(d) + 2 * self.reg * self.W
        return loss, dW, d.sum(axis=0)


def softmax_loss_naive(W, X, y, reg):
    model = LinearSoftmax(W, reg=reg)
    loss = 0.0
    dW = np.zeros(W.shape)
    for i in range(X.shape[0]):
        l, g, _ = LinearSoftmax(W).forward_backward(X[i:i + 1], y[i:i + 1])
        loss += l
        dW += g
    loss /= X.shape[0]
    dW /= X.shape[0]
    return loss + model.reg * np.sum(W ** 2), dW + 2 * model.reg * W


def softmax_loss_vectorized(W, X, y, reg):
    loss, dW, _ = LinearSoftmax(W, reg=reg).forward_backward(X, y)
    return loss, dW


def softmax_jacobian(z):
    s = LinearSoftmax.probabilities(z.reshape(1, -1))[0]
    return np.diag(s) - np.outer(s, s)


def linear_softmax_backward(X, W, b, y):
    return LinearSoftmax(W, b).forward_backward(X, y)


def smooth_labels(y, num_classes, epsilon):
    eye = np.eye(num_classes)
    return (1 - epsilon) * eye[y] + epsilon / num_classes


def label_smoothing_loss(Z, y, epsilon):
    n, c = Z.shape
    t = smooth_labels(y, c, epsilon)
    p = LinearSoftmax.probabilities(Z)
    shifted = Z - Z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.sum(t * logp) / n, (p - t) / n


def train_softmax(X, y, num_classes, lr, epochs):
    model = LinearSoftmax(np.zeros((X.shape[1], num_classes)))
    history = []
    for _ in range(epochs):
        loss, dW, db = model.forward_backward(X, y)
        history.append(loss)
        model.W = model.W - lr * dW
        model.b = model.b - lr * db
    return model.W, model.b, history
