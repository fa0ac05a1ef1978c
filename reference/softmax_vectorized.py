"""Reference solution: a linear softmax classifier in numpy.

Row-vector convention throughout: a batch X holds one example per row,
shape (N, D); the weights W have shape (D, C), the bias b shape (C,); the
labels y are N integers in [0, C). Scores are X @ W (+ b), one row of C
scores per example.

Each solution sits between ``# BEGIN SOLUTION`` and ``# END SOLUTION``;
the handout replaces those regions with stubs and keeps everything else,
including the two settings below, which tell students the course's choice.
"""

import numpy as np

# The regularisation term this course adds to the loss:
#   "full": reg * sum(W * W), whose gradient is 2 * reg * W
#   "half": 0.5 * reg * sum(W * W), whose gradient is reg * W
REG_CONVENTION = "full"

# The smoothed targets of label smoothing with parameter eps over C classes:
#   "uniform": (1 - eps) * onehot + eps / C (every class gets eps / C extra)
#   "others":  1 - eps at the label, eps / (C - 1) at every other class
SMOOTHING = "uniform"


def softmax_loss_naive(W, X, y, reg):
    """Softmax loss and its gradient, computed with explicit loops.

    Returns (loss, dW): the mean cross-entropy of the N rows of X plus the
    regularisation term of REG_CONVENTION, and its gradient with respect
    to W (same shape as W). Must stay finite for very large scores.
    """
    # BEGIN SOLUTION
    num_train, num_classes = X.shape[0], W.shape[1]
    loss = 0.0
    dW = np.zeros(W.shape)
    for i in range(num_train):
        scores = X[i].dot(W)
        scores = scores - np.max(scores)
        exps = np.exp(scores)
        total = np.sum(exps)
        loss += np.log(total) - scores[y[i]]
        for j in range(num_classes):
            weight = exps[j] / total - (j == y[i])
            dW[:, j] += weight * X[i]
    loss /= num_train
    dW /= num_train
    scale = 0.5 if REG_CONVENTION == "half" else 1.0
    loss += scale * reg * np.sum(W * W)
    dW += 2 * scale * reg * W
    return loss, dW
    # END SOLUTION


def softmax_loss_vectorized(W, X, y, reg):
    """The same (loss, dW) as softmax_loss_naive, without any loop over examples."""
    # BEGIN SOLUTION
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X.dot(W)
    scores = scores - np.max(scores, axis=1, keepdims=True)
    exps = np.exp(scores)
    sums = np.sum(exps, axis=1, keepdims=True)
    loss = np.mean(np.log(sums[:, 0]) - scores[rows, y])
    dscores = exps / sums
    dscores[rows, y] -= 1
    dscores /= num_train
    dW = X.T.dot(dscores)
    scale = 0.5 if REG_CONVENTION == "half" else 1.0
    loss += scale * reg * np.sum(W * W)
    dW += 2 * scale * reg * W
    return loss, dW
    # END SOLUTION


def softmax_jacobian(z):
    """The C x C Jacobian of softmax at one score vector z of shape (C,).

    Entry [i, j] is d softmax(z)_i / d z_j, which is diag(s) - s s^T with
    s = softmax(z). Must stay finite for very large scores.
    """
    # BEGIN SOLUTION
    shifted = z - np.max(z)
    s = np.exp(shifted)
    s = s / np.sum(s)
    return np.diag(s) - np.outer(s, s)
    # END SOLUTION


def linear_softmax_backward(X, W, b, y):
    """Forward and backward pass of a linear layer followed by softmax cross-entropy.

    Scores are X @ W + b. Returns (loss, dW, db): the mean cross-entropy
    over the N rows, and its gradients with respect to W (shape (D, C))
    and b (shape (C,)). No regularisation.
    """
    # BEGIN SOLUTION
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X.dot(W) + b
    scores = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = scores - np.log(np.sum(np.exp(scores), axis=1, keepdims=True))
    loss = -np.mean(log_probs[rows, y])
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    dscores /= num_train
    dW = X.T.dot(dscores)
    db = np.sum(dscores, axis=0)
    return loss, dW, db
    # END SOLUTION


def smooth_labels(y, num_classes, epsilon):
    """The (N, num_classes) smoothed targets of labels y, following SMOOTHING."""
    # BEGIN SOLUTION
    num_train = y.shape[0]
    onehot = np.zeros((num_train, num_classes))
    onehot[np.arange(num_train), y] = 1.0
    if SMOOTHING == "others":
        return (1.0 - epsilon) * onehot + epsilon / (num_classes - 1) * (1.0 - onehot)
    return (1.0 - epsilon) * onehot + epsilon / num_classes
    # END SOLUTION


def label_smoothing_loss(Z, y, epsilon):
    """Cross-entropy of softmax(Z) against smooth_labels(y, C, epsilon), averaged over rows.

    Z holds scores, shape (N, C). Returns (loss, dZ) with
    dZ = (softmax(Z) - targets) / N. Must stay finite for very large scores.
    """
    # BEGIN SOLUTION
    num_train, num_classes = Z.shape
    targets = smooth_labels(y, num_classes, epsilon)
    shifted = Z - np.max(Z, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    loss = -np.sum(targets * log_probs) / num_train
    dZ = (np.exp(log_probs) - targets) / num_train
    return loss, dZ
    # END SOLUTION


def train_softmax(X, y, num_classes, lr, epochs):
    """Fit W (D, C) and b (C,) by full-batch gradient descent on the mean cross-entropy.

    Start from W = 0 and b = 0; each of the `epochs` steps computes the loss
    and its gradient on all of X, appends that loss (of the parameters
    before the step) to `history`, then moves W and b by -lr times their
    gradients. No regularisation. Returns (W, b, history).
    """
    # BEGIN SOLUTION
    num_train, dim = X.shape
    rows = np.arange(num_train)
    W = np.zeros((dim, num_classes))
    b = np.zeros(num_classes)
    history = []
    for _ in range(epochs):
        scores = X.dot(W) + b
        scores = scores - np.max(scores, axis=1, keepdims=True)
        exps = np.exp(scores)
        probs = exps / np.sum(exps, axis=1, keepdims=True)
        history.append(float(-np.mean(np.log(probs[rows, y]))))
        dscores = probs
        dscores[rows, y] -= 1
        dscores /= num_train
        W -= lr * X.T.dot(dscores)
        b -= lr * np.sum(dscores, axis=0)
    return W, b, history
    # END SOLUTION
