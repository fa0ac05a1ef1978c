"""Softmax assignment with the debugging prints I left in.

Loses: none
"""
import numpy as np

print("loading my softmax module")


def softmax_loss_naive(W, X, y, reg):
    print("naive: W", W.shape, "X", X.shape)
    loss = 0.0
    dW = np.zeros(W.shape)
    N = X.shape[0]
    for i in range(N):
        s = X[i].dot(W)
        s = s - np.max(s)
        p = np.exp(s) / np.exp(s).sum()
        loss -= np.log(p[y[i]])
        p[y[i]] -= 1
        dW += X[i][:, None] * p
    loss /= N
    dW /= N
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    print("naive loss", loss)
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    print(f"vectorized: N={N}")
    s = X.dot(W)
    s = s - np.max(s, axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.log(p[range(N), y]).sum() / N + reg * np.sum(W * W)
    p[range(N), y] -= 1
    dW = X.T.dot(p) / N + 2 * reg * W
    print("vectorized loss", loss)
    return loss, dW


def softmax_jacobian(z):
    s = np.exp(z - np.max(z))
    s = s / s.sum()
    J = np.diag(s) - np.outer(s, s)
    print("jacobian\n", J)
    return J


def linear_softmax_backward(X, W, b, y):
    N = X.shape[0]
    s = X.dot(W) + b
    s = s - np.max(s, axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.log(p[range(N), y]).mean()
    p[range(N), y] -= 1
    p /= N
    print("linear backward loss", loss)
    return loss, X.T.dot(p), p.sum(axis=0)


def smooth_labels(y, num_classes, epsilon):
    t = np.eye(num_classes)[y]
    t = t * (1 - epsilon) + epsilon / num_classes
    print("targets", t)
    return t


def label_smoothing_loss(Z, y, epsilon):
    N, C = Z.shape
    t = smooth_labels(y, C, epsilon)
    s = Z - np.max(Z, axis=1, keepdims=True)
    lp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    loss = -(t * lp).sum() / N
    print("smoothing loss", loss)
    return loss, (np.exp(lp) - t) / N


def train_softmax(X, y, num_classes, lr, epochs):
    W = np.zeros((X.shape[1], num_classes))
    b = np.zeros(num_classes)
    history = []
    for epoch in range(epochs):
        loss, dW, db = linear_softmax_backward(X, W, b, y)
        history.append(loss)
        if epoch % 10 == 0:
            print(f"epoch {epoch}: loss {loss:.4f}")
        W -= lr * dW
        b -= lr * db
    return W, b, history
