'''The softmax lab's notebook: a walk from raw pixels to a trained classifier.

Cells are ("markdown", text), ("code", source), ("functions", [names]) (the
starter's stubs), ("imports", more) and ("grade",) (see handout.notebook);
README is the handout README's paragraph on the data. The
experiments live inside small functions that a cell then calls, so that a
grader reading the notebook (definitions only) never runs them.
'''

# The handout README's paragraph on the notebook's data.
README = """
The notebook uses CIFAR-10 if you put its Python version (the folder
`cifar-10-batches-py`) next to it, and a small synthetic data set otherwise.
Nothing is downloaded.
"""

CELLS = [
    ("markdown", r"""
# A linear softmax classifier for tiny colour images

In this notebook you build, one piece at a time, a classifier that looks at a
32x32 colour image and guesses which of ten classes it shows: first the
forward pass (scores, then probabilities), then the loss, then the gradients
that tell each weight which way to move, checked against numerical
derivatives, and finally a few thousand steps of stochastic gradient descent.

**Conventions.** An image is flattened into a column `x` of 3072 = 3 x 32 x 32
values; the weights are a (10, 3072) matrix, the bias a (10, 1) column, and
scores and probabilities are (10, 1) columns. Labels are plain Python ints
from 0 to 9. Use torch tensors throughout.

**What is graded** is every function whose body is `raise NotImplementedError(...)`.
Keep their names and arguments. The other cells are experiments for you; the
grader reads only the imports and definitions of this notebook.
"""),
    ("imports", r"""
import pickle
from pathlib import Path

import numpy as np
"""),
    ("markdown", r"""
## 1. The data

If the Python version of CIFAR-10 (the folder `cifar-10-batches-py`) sits next
to this notebook, it is used. Otherwise we make a small synthetic stand-in with
the same shapes: each class has its own colour and stripe width, plus noise, so
that a linear classifier can learn it in seconds. Nothing is downloaded.
"""),
    ("code", r"""
CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck"]
CIFAR_FOLDER = Path("cifar-10-batches-py")


def synthetic_images(count, seed):
    '''`count` images (count, 3, 32, 32) in [0, 1] and their labels (count,).'''
    generator = torch.Generator().manual_seed(seed)
    palette = torch.rand(10, 3, 1, 1, generator=torch.Generator().manual_seed(2024))
    widths = torch.arange(2, 12).reshape(10, 1, 1, 1)
    stripes = (torch.arange(32).reshape(1, 1, 32, 1) // widths % 2).float()
    looks = (0.6 * palette + 0.3 * stripes).expand(10, 3, 32, 32)
    labels = torch.randint(0, 10, (count,), generator=generator)
    noise = 0.15 * torch.randn(count, 3, 32, 32, generator=generator)
    return (looks[labels] + noise).clamp(0, 1), labels


def cifar_images(names):
    '''CIFAR-10 batches from CIFAR_FOLDER as (N, 3, 32, 32) floats in [0, 1] and labels.'''
    images, labels = [], []
    for name in names:
        with open(CIFAR_FOLDER / name, "rb") as handle:
            batch = pickle.load(handle, encoding="bytes")
        pixels = torch.from_numpy(np.asarray(batch[b"data"])).float().div(255)
        images.append(pixels.reshape(-1, 3, 32, 32))
        labels.append(torch.tensor(batch[b"labels"]))
    return torch.cat(images), torch.cat(labels)


if CIFAR_FOLDER.is_dir():
    train_images, train_labels = cifar_images([f"data_batch_{i}" for i in range(1, 6)])
    test_images, test_labels = cifar_images(["test_batch"])
else:
    train_images, train_labels = synthetic_images(2000, seed=0)
    test_images, test_labels = synthetic_images(500, seed=1)
    print("CIFAR-10 not found: using a synthetic set with the same shapes.")
print("train:", tuple(train_images.shape), " test:", tuple(test_images.shape))
"""),
    ("markdown", r"""
## 2. The forward pass

A linear classifier gives class `c` the score `a[c] = weight[c] . x + bias[c]`:
in matrix form, `a = weight @ x + bias`. Softmax turns the ten scores into ten
probabilities: exponentiate each, then divide by their total.

One trap: `exp(1000)` is infinite in floating point, and scores that large do
happen. Find a way to compute the same probabilities without ever
exponentiating a large number (what happens to softmax if you add the same
constant to every score?).
"""),
    ("functions", ["softmax", "linear"]),
    ("code", r"""
def try_forward_pass():
    '''Print the class probabilities of one image under small random weights.'''
    torch.manual_seed(0)
    weight = 0.001 * torch.randn(10, 3072)
    bias = torch.zeros(10, 1)
    x = train_images[0].reshape(3072, 1)
    probabilities = softmax(linear(x, weight, bias))
    print("probabilities:", probabilities.reshape(-1))
    print("they sum to", float(probabilities.sum()))
    print("huge scores:", softmax(torch.tensor([[1000.0], [0.0], [-1000.0]])).reshape(-1))


try_forward_pass()
"""),
    ("markdown", r"""
## 3. The loss

The classifier is good when it gives the right class a high probability. The
negative log-likelihood `loss = -log(predictions[label])` is zero for a
certain, correct guess and grows without bound as the right class's
probability goes to zero.

To learn we need the gradient of the loss with respect to the scores `a`.
Through softmax it is strikingly simple; derive it on paper (it only needs the
predictions and the label), then write `loss_softmax_backward`.
"""),
    ("functions", ["loss", "loss_softmax_backward"]),
    ("markdown", r"""
## 4. Numerical gradients

How do you know a gradient is right? Nudge each input by a tiny `eps` up and
down and watch the output: `(f(x + eps) - f(x - eps)) / (2 eps)` approaches the
derivative. It is slow (two evaluations per input) but hard to get wrong, which
makes it the perfect referee. Compare two gradients with the relative error
`||a - b|| / ||a + b||`; in float64, values around 1e-7 or below mean they agree.
"""),
    ("code", r"""
def numerical_gradient(f, x, eps=1e-6):
    '''Central differences of the scalar function f at x (a float64 tensor), same shape as x.'''
    slopes = torch.zeros_like(x)
    flat, flat_slopes = x.view(-1), slopes.view(-1)
    for i in range(flat.numel()):
        saved = float(flat[i])
        flat[i] = saved + eps
        above = float(f(x))
        flat[i] = saved - eps
        below = float(f(x))
        flat[i] = saved
        flat_slopes[i] = (above - below) / (2 * eps)
    return slopes


def relative_error(a, b):
    '''||a - b|| / ||a + b||, and 0 when both are zero.'''
    difference = float((a - b).norm())
    return 0.0 if difference == 0 else difference / float((a + b).norm())


def check_loss_softmax_backward(label=3, seed=0):
    '''Compare loss_softmax_backward with central differences of loss(softmax(a)).'''
    torch.manual_seed(seed)
    scores = torch.randn(10, 1, dtype=torch.float64)
    numerical = numerical_gradient(lambda a: loss(label, softmax(a)), scores.clone())
    analytic = loss_softmax_backward(label, softmax(scores))
    print(f"loss_softmax_backward: relative error {relative_error(analytic, numerical):.1e}")


check_loss_softmax_backward()
"""),
    ("markdown", r"""
## 5. Analytic gradients of the linear layer

Given `gradOutput`, the gradient of the loss with respect to the scores, the
linear layer must say how the loss changes with each weight and each bias
entry. Write `linear_backward`; check its shapes against the weight's and the
bias's, and its values against numerical gradients on a problem small enough
to differentiate entry by entry.
"""),
    ("functions", ["linear_backward"]),
    ("code", r"""
def check_linear_backward(seed=0):
    '''Compare linear_backward with central differences on a 3-class, 5-feature problem.'''
    torch.manual_seed(seed)
    x = torch.randn(5, 1, dtype=torch.float64)
    weight = torch.randn(3, 5, dtype=torch.float64)
    bias = torch.randn(3, 1, dtype=torch.float64)
    upstream = torch.randn(3, 1, dtype=torch.float64)  # plays the part of dloss/dscores

    def objective(w, b):
        return float((upstream * linear(x, w, b)).sum())

    grad_weight, grad_bias = linear_backward(x, weight, bias, upstream)
    numerical_weight = numerical_gradient(lambda w: objective(w, bias), weight.clone())
    numerical_bias = numerical_gradient(lambda b: objective(weight, b), bias.clone())
    print(f"gradWeight: relative error {relative_error(grad_weight, numerical_weight):.1e}")
    print(f"gradBias:   relative error {relative_error(grad_bias, numerical_bias):.1e}")


check_linear_backward()
"""),
    ("markdown", r"""
## 6. Training with stochastic gradient descent (Question 1)

Now put it together: visit the training images in a random order, run the
forward pass, get the gradients, and move every weight a small step against
its gradient. `sgd_step` is that step, with L2 weight decay on the weight;
`momentum_step` (optional) keeps a velocity. The batch functions (optional)
do the same for a (D, B) matrix of B example columns, averaging the loss.
`train` puts it all together and returns the weights and, per epoch, the
training and validation loss and accuracy: plot them. When the grader runs
your `train`, it supplies its own correct versions of the functions above, so
a mistake in one of those costs only its own question. Expect around 40%
validation accuracy on CIFAR-10, far more on the synthetic set.
"""),
    ("functions", ["sgd_step", "momentum_step", "softmax_batch", "loss_batch", "loss_softmax_backward_batch",
                   "linear_backward_batch", "train"]),
    ("code", r"""
EPOCHS = 2


def accuracy(weight, bias, features, labels):
    '''The fraction of rows of `features` whose highest score is their label.'''
    scores = weight @ features.T + bias
    return float((scores.argmax(dim=0) == labels).float().mean())


def train_on_pixels(epochs=EPOCHS):
    '''Train on raw pixels; print the curves' values and the final accuracy.'''
    train_x = train_images.reshape(len(train_images), -1)
    val_x = test_images.reshape(len(test_images), -1)
    result = train(train_x, train_labels, val_x, test_labels, epochs, 0.005)
    for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
        print(f"{name:>15}:", " ".join(f"{value:.3f}" for value in result[name]))
    print(f"validation accuracy: {accuracy(result['weight'], result['bias'], val_x, test_labels):.1%}")
    return result


pixels = train_on_pixels()
"""),
    ("markdown", r"""
## Question 1: `loss_backward`

So far the gradient went from the loss straight to the scores. Real networks
are built from modules that each pass gradients backwards one step, so we now
split that step in two. First, `loss_backward(label, predictions)`: the
gradient of the loss with respect to the **predictions** (the output of
softmax), with the same shape as `predictions`. Ask yourself which
predictions the loss actually depends on.
"""),
    ("functions", ["loss_backward"]),
    ("code", r"""
def check_loss_backward(label=7, seed=1):
    '''Compare loss_backward with central differences of the loss in the predictions.'''
    torch.manual_seed(seed)
    predictions = softmax(torch.randn(10, 1, dtype=torch.float64))
    numerical = numerical_gradient(lambda p: loss(label, p), predictions.clone(), eps=1e-7)
    analytic = loss_backward(label, predictions)
    print(f"loss_backward: relative error {relative_error(analytic, numerical):.1e}")


check_loss_backward()
"""),
    ("markdown", r"""
## Question 2: `softmax_backward`

Second, `softmax_backward(inputTensor, gradOutput)`: given the scores that went
into softmax and the gradient of the loss with respect to softmax's output,
return the gradient with respect to the scores. Every output of softmax
depends on every score, so each entry of the result gathers contributions
from all of `gradOutput`; write down the Jacobian of softmax first.

Chained together, `softmax_backward(a, loss_backward(label, softmax(a)))` must
give the same answer as `loss_softmax_backward(label, softmax(a))`.
"""),
    ("functions", ["softmax_backward"]),
    ("code", r"""
def check_softmax_backward(label=2, seed=2):
    '''Check softmax_backward numerically and against the one-step gradient.'''
    torch.manual_seed(seed)
    scores = torch.randn(10, 1, dtype=torch.float64)
    upstream = torch.randn(10, 1, dtype=torch.float64)
    numerical = numerical_gradient(lambda a: float((upstream * softmax(a)).sum()), scores.clone())
    analytic = softmax_backward(scores, upstream)
    print(f"softmax_backward: relative error {relative_error(analytic, numerical):.1e}")
    chained = softmax_backward(scores, loss_backward(label, softmax(scores)))
    direct = loss_softmax_backward(label, softmax(scores))
    print(f"chained with loss_backward: relative error {relative_error(chained, direct):.1e}")


check_softmax_backward()
"""),
    ("markdown", r"""
## Question 3: colour histograms

Raw pixels are not the only possible input. A colour histogram summarises an
image by how much of each colour it holds, wherever it is: for each channel
(red, then green, then blue) split [0, 1] into `bins` equal intervals and
record the **fraction** of that channel's pixels falling in each. The value
1.0 belongs to the last interval. The result has 3 * bins entries, and each
channel's block sums to one.

Then train the same classifier on histograms instead of pixels.
"""),
    ("functions", ["color_histogram"]),
    ("code", r"""
def train_on_histograms(bins=16, count=1000, epochs=EPOCHS):
    '''Question 4: train on colour histograms of the first `count` training images.'''
    def features(images):
        return torch.stack([color_histogram(image, bins).reshape(-1) for image in images])

    train_x, test_x = features(train_images[:count]), features(test_images)
    print("one histogram, red block:", train_x[0, :bins])
    result = train(train_x.float(), train_labels[:count], test_x.float(), test_labels, epochs, 5.0)
    print(f"validation accuracy on {3 * bins} histogram features: "
          f"{accuracy(result['weight'], result['bias'], test_x.float(), test_labels):.1%}")


train_on_histograms()
"""),
    ("markdown", r"""
## Optional: the max-margin loss

Instead of probabilities, a max-margin classifier asks that the right class's
score beat every other score by at least a margin `delta`:
`loss = sum over j != label of max(0, scores[j] - scores[label] + delta)`.
Write the loss and its gradient with respect to the scores. (At the exact
kinks of `max` the gradient is not defined; any choice there is accepted.)
"""),
    ("functions", ["max_margin_loss", "max_margin_loss_backward"]),
    ("code", r"""
def check_max_margin(label=4, delta=1.0, seed=3):
    '''Compare max_margin_loss_backward with central differences of max_margin_loss.'''
    torch.manual_seed(seed)
    scores = torch.randn(10, 1, dtype=torch.float64)
    numerical = numerical_gradient(lambda s: max_margin_loss(label, s, delta), scores.clone())
    analytic = max_margin_loss_backward(label, scores, delta)
    print(f"max_margin_loss_backward: relative error {relative_error(analytic, numerical):.1e}")


check_max_margin()
"""),
    ("markdown", r"""
## Check your work

Save the notebook (the grader reads the file, not what is in this window),
then run the next cell. It runs `grade.sh` on this notebook with the public
checks; the grader that scores your handin runs hidden checks as well.
"""),
    ("grade",),
]
