"""Softmax assignment -- everything with for loops except where the
vectorised version forbids them. Training reuses my own
linear_softmax_backward.

Loses: none
"""
import math

import numpy as np


def softmax_loss_naive(W, X, y, reg):
    N, D = X.shape
    C = W.shape[1]
    loss = 0.0
    dW = np.zeros((D, C))
    for i in range(N):
        scores = [0.0] * C
        for j in range(C):
            for k in range(D):
                scores[j] += X[i, k] * W[k, j]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        loss -= math.log(exps[y[i]] / total)
        for j in range(C):
            p = exps[j] / total
            if j == y[i]:
                p -= 1.0
            for k in range(D):
                dW[k, j] += p * X[i, k]
    loss = loss / N
    dW = dW / N
    for k in range(D):
        for j in range(C):
            loss += reg * W[k, j] * W[k, j]
            dW[k, j] += 2 * reg * W[k, j]
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    scores = X @ W
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    correct = probs[np.arange(N), y]
    loss = -np.log(correct).sum() / N + reg * (W ** 2).sum()
    probs[np.arange(N), y] -= 1
    dW = X.T @ probs / N + 2 * reg * W
    return loss, dW


def softmax_jacobian(z):
    C = z.shape[0]
    top = max(z)
    e = [math.exp(v - top) for v in z]
    total = sum(e)
    s = [v / total for v in e]
    J = np.zeros((C, C))
    for i in range(C):
        for j in range(C):
            if i == j:
                J[i, j] = s[i] * (1 - s[i])
            else:
                J[i, j] = -s[i] * s[j]
    return J


def linear_softmax_backward(X, W, b, y):
    N = X.shape[0]
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P = P / P.sum(axis=1, keepdims=True)
    loss = 0.0
    for i in range(N):
        loss -= np.log(P[i, y[i]])
    loss /= N
    G = P.copy()
    for i in range(N):
        G[i, y[i]] -= 1
    G /= N
    return loss, X.T @ G, G.sum(axis=0)


def smooth_labels(y, num_classes, epsilon):
    N = len(y)
    T = np.full((N, num_classes), epsilon / num_classes)
    for i in range(N):
        T[i, y[i]] += 1.0 - epsilon
    return T


def label_smoothing_loss(Z, y, epsilon):
    N, C = Z.shape
    T = smooth_labels(y, C, epsilon)
    loss = 0.0
    dZ = np.zeros((N, C))
    for i in range(N):
        row = Z[i] - np.max(Z[i])
        log_norm = np.log(np.sum(np.exp(row)))
        logp = row - log_norm
        loss -= np.dot(T[i], logp)
        dZ[i] = (np.exp(logp) - T[i]) / N
    return loss / N, dZ


def train_softmax(X, y, num_classes, lr, epochs):
    W = np.zeros((X.shape[1], num_classes))
    b = np.zeros(num_classes)
    history = []
    for epoch in range(epochs):
        loss, dW, db = linear_softmax_backward(X, W, b, y)
        history.append(loss)
        W = W - lr * dW
        b = b - lr * db
    return W, b, history
