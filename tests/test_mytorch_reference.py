"""The MyTorch homework's reference package (reference/mytorch_hw1) against torch.

The package is imported by putting reference/mytorch_hw1 on sys.path for this
module only (the `mt` fixture), then removed with the modules it loaded.
Everything runs in float64, so results agree with torch to ~1e-12.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.starter import make_starter

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "reference" / "mytorch_hw1"
TOL = 1e-10


@pytest.fixture(scope="module")
def mt():
    """The reference modules, imported from reference/mytorch_hw1; sys.path restored after."""
    owned = ("mytorch", "hw1")

    def ours(name):
        return name in owned or name.startswith(tuple(o + "." for o in owned))

    saved = {name: mod for name, mod in sys.modules.items() if ours(name)}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(PACKAGE_ROOT))
    try:
        ns = types.SimpleNamespace(
            mytorch=importlib.import_module("mytorch"),
            engine=importlib.import_module("mytorch.autograd_engine"),
            F=importlib.import_module("mytorch.nn.functional"),
            nn=importlib.import_module("mytorch.nn"),
            optim=importlib.import_module("mytorch.optim"),
            mnist=importlib.import_module("hw1.mnist"),
        )
        ns.Tensor = importlib.import_module("mytorch.tensor").Tensor
        assert Path(ns.mytorch.__file__).resolve().parent == PACKAGE_ROOT / "mytorch"
        yield ns
    finally:
        sys.path.remove(str(PACKAGE_ROOT))
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)


def rel_error(mine, expected) -> float:
    """||a - b|| / ||a + b|| (0 when both are zero)."""
    a = np.asarray(mine, dtype=np.float64)
    b = np.asarray(expected, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    denominator = np.linalg.norm(a + b)
    numerator = np.linalg.norm(a - b)
    return 0.0 if numerator == 0 else float(numerator / max(denominator, 1e-300))


def assert_close(mine, expected, what="", tol=TOL):
    if hasattr(mine, "data") and not isinstance(mine, np.ndarray):
        mine = mine.data
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    error = rel_error(mine, expected)
    assert error < tol, f"{what}: relative error {error:.3e} >= {tol:g}"


def pair(mt, array, requires_grad=True):
    """The same float64 array as a MyTorch Tensor and a torch tensor."""
    array = np.asarray(array, dtype=np.float64)
    return (mt.Tensor(array.copy(), requires_grad=requires_grad),
            torch.tensor(array.copy(), requires_grad=requires_grad))


def backprop_weighted(mine, theirs, rng):
    """Backpropagate sum(out * W), W fixed and random, on both sides (a non-trivial upstream)."""
    weight = rng.standard_normal(mine.shape)
    (mine * weight).sum().backward()
    (theirs * torch.tensor(weight)).sum().backward()


# ----------------------------------------------------------------------------------------------
# Operations: forward and gradients, broadcasting
# ----------------------------------------------------------------------------------------------

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}
BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((5, 4), (4,)),       # bias-like
    ((4,), (5, 4)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 1)),
    ((), (3, 4)),
    ((3, 4), ()),
]


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
def test_binary_ops_forward_and_gradients(mt, op, shapes):
    rng = np.random.default_rng(1)
    a_np = rng.standard_normal(shapes[0])
    b_np = rng.uniform(0.5, 2.0, shapes[1]) * rng.choice([-1, 1], shapes[1])  # away from 0 for div
    a, ta = pair(mt, a_np)
    b, tb = pair(mt, b_np)
    out, tout = BINARY[op](a, b), BINARY[op](ta, tb)
    assert isinstance(out, mt.Tensor)
    assert_close(out, tout, f"{op} forward")
    backprop_weighted(out, tout, rng)
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    assert_close(a.grad, ta.grad, f"{op} grad a")
    assert_close(b.grad, tb.grad, f"{op} grad b")


def test_function_classes_directly(mt):
    """The Function classes, called through apply, are what the operators use; Mult is Mul."""
    F = mt.F
    assert F.Mult is F.Mul
    rng = np.random.default_rng(2)
    a, ta = pair(mt, rng.standard_normal((3, 4)))
    b, tb = pair(mt, rng.uniform(1, 2, (4, 2)))
    out = F.ReLU.apply(F.MatMul.apply(F.Mult.apply(a, F.Exp.apply(a)), b))
    tout = torch.relu((ta * torch.exp(ta)) @ tb)
    assert_close(out, tout, "forward")
    backprop_weighted(out, tout, rng)
    assert_close(a.grad, ta.grad, "grad a")
    assert_close(b.grad, tb.grad, "grad b")
    assert out.grad_fn.function_name == "ReLU"


UNARY = {
    "log": (lambda F, t: t.log(), torch.log, "positive"),
    "exp": (lambda F, t: t.exp(), torch.exp, "any"),
    "neg": (lambda F, t: -t, torch.neg, "any"),
    "relu": (lambda F, t: F.ReLU.apply(t), torch.relu, "any"),
    "T": (lambda F, t: t.T(), lambda t: t.permute(*reversed(range(t.dim()))), "any"),
    "reshape_args": (lambda F, t: t.reshape(4, -1), lambda t: t.reshape(4, -1), "any"),
    "reshape_tuple": (lambda F, t: t.reshape((2, 6)), lambda t: t.reshape(2, 6), "any"),
    "sum": (lambda F, t: t.sum(), torch.sum, "any"),
    "sum_axis0": (lambda F, t: t.sum(axis=0), lambda t: t.sum(dim=0), "any"),
    "sum_axis-1_keep": (lambda F, t: t.sum(axis=-1, keepdims=True),
                        lambda t: t.sum(dim=-1, keepdim=True), "any"),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_forward_and_gradients(mt, name):
    mine_op, torch_op, domain = UNARY[name]
    rng = np.random.default_rng(3)
    data = rng.uniform(0.1, 3.0, (3, 4)) if domain == "positive" else rng.standard_normal((3, 4))
    x, tx = pair(mt, data)
    out, tout = mine_op(mt.F, x), torch_op(tx)
    assert out.shape == tuple(tout.shape)
    assert_close(out, tout, f"{name} forward")
    backprop_weighted(out, tout, rng)
    assert_close(x.grad, tx.grad, f"{name} grad")


def test_transpose_of_3d_reverses_axes(mt):
    x, tx = pair(mt, np.arange(24.0).reshape(2, 3, 4))
    out = x.T()
    assert out.shape == (4, 3, 2)
    backprop_weighted(out, tx.permute(2, 1, 0), np.random.default_rng(4))
    assert_close(x.grad, tx.grad, "grad")


def test_relu_gradient_at_zero_is_zero(mt):
    x = mt.Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    mt.F.ReLU.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 1.0])


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((1, 7), (7, 1)), ((2, 3, 4), (4, 5)),
                                    ((3, 4), (2, 4, 5))], ids=str)
def test_matmul_forward_and_gradients(mt, shapes):
    rng = np.random.default_rng(5)
    a, ta = pair(mt, rng.standard_normal(shapes[0]))
    b, tb = pair(mt, rng.standard_normal(shapes[1]))
    out, tout = a @ b, ta @ tb
    assert_close(out, tout, "forward")
    backprop_weighted(out, tout, rng)
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    assert_close(a.grad, ta.grad, "grad a")
    assert_close(b.grad, tb.grad, "grad b")


def test_python_numbers_are_constants(mt):
    x, tx = pair(mt, np.array([[1.0, 2.0], [3.0, 4.0]]))
    out = (2 - x) * 3 / 4 + 1 - (1 / x) + x / 2
    tout = (2 - tx) * 3 / 4 + 1 - (1 / tx) + tx / 2
    assert_close(out, tout, "forward")
    out.sum().backward()
    tout.sum().backward()
    assert_close(x.grad, tx.grad, "grad")


# ----------------------------------------------------------------------------------------------
# The graph: chains, reuse and accumulation, constants, node rules
# ----------------------------------------------------------------------------------------------

def test_chained_graph_with_reused_tensors(mt):
    rng = np.random.default_rng(6)
    a, ta = pair(mt, rng.uniform(0.5, 1.5, (4, 3)))
    b, tb = pair(mt, rng.standard_normal((3,)))
    c, tc = pair(mt, rng.standard_normal((3, 4)), requires_grad=False)  # a constant

    def graph(a, b, c, T, log, relu):
        h = a * b + a                      # a used twice, b broadcast
        g = relu(h @ c) / (h @ c).exp().sum()
        return (log(a) * h).sum() + (g @ T(g)).sum() - (h * h).sum() / 10

    out = graph(a, b, c, lambda t: t.T(), lambda t: t.log(), mt.F.ReLU.apply)
    tout = graph(ta, tb, tc, lambda t: t.T, torch.log, torch.relu)
    assert out.shape == ()
    assert_close(out, tout, "forward")
    out.backward()
    tout.backward()
    assert_close(a.grad, ta.grad, "grad a")
    assert_close(b.grad, tb.grad, "grad b")
    assert c.grad is None


def test_repeated_backward_accumulates_in_leaves(mt):
    x, tx = pair(mt, np.array([0.5, -1.0, 2.0]))
    out, tout = (x * x * x).sum(), (tx * tx * tx).sum()
    out.backward()
    out.backward()
    tout.backward(retain_graph=True)
    tout.backward()
    assert_close(x.grad, tx.grad, "grad after two backward calls")
    assert_close(x.grad, 2 * 3 * x.data ** 2, "2 * 3x^2")


def test_only_leaves_requiring_grad_get_grad(mt):
    x = mt.Tensor(np.ones((2, 3)), requires_grad=True)
    const = mt.Tensor(np.full((2, 3), 2.0))
    hidden = x * const
    out = (hidden + const).sum()
    out.backward()
    assert hidden.grad is None and out.grad is None and const.grad is None
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 2.0))
    assert isinstance(x.grad, mt.Tensor) and x.grad.grad_fn is None


def test_results_flags_and_nodes(mt):
    engine = mt.engine
    x = mt.Tensor(np.ones(3), requires_grad=True)
    const = mt.Tensor(np.ones(3))
    # constants only: the result is a constant leaf with no node
    both_const = const * const
    assert (both_const.requires_grad, both_const.is_leaf, both_const.grad_fn) == (False, True, None)
    # a leaf requiring grad -> AccumulateGrad, a constant -> None
    y = x * const
    assert y.requires_grad and not y.is_leaf
    assert isinstance(y.grad_fn, engine.BackwardFunction) and y.grad_fn.function_name == "Mul"
    first, second = y.grad_fn.next_functions
    assert isinstance(first, engine.AccumulateGrad) and first.variable is x
    assert second is None
    # a non-leaf -> its grad_fn
    z = y + const
    assert z.grad_fn.next_functions[0] is y.grad_fn
    assert z.grad_fn.function_name == "Add"


def test_backward_seeds_ones_of_the_shape(mt):
    x, tx = pair(mt, np.arange(6.0).reshape(2, 3))
    (x * x).backward()
    (tx * tx).backward(torch.ones(2, 3, dtype=torch.float64))
    assert_close(x.grad, tx.grad, "grad")
    leaf = mt.Tensor(np.zeros((2, 2)), requires_grad=True)
    leaf.backward()
    np.testing.assert_array_equal(leaf.grad.data, np.ones((2, 2)))


def test_engine_backward_directly_and_none(mt):
    engine = mt.engine
    engine.backward(None, mt.Tensor(np.ones(3)))  # a constant's node: nothing to do
    x = mt.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * x
    engine.backward(y.grad_fn, mt.Tensor(np.array([1.0, 10.0])))
    np.testing.assert_allclose(x.grad.data, [2.0, 40.0])


def test_accumulate_grad_and_context(mt):
    engine = mt.engine
    x = mt.Tensor(np.zeros((2, 2)), requires_grad=True)
    node = engine.AccumulateGrad(x)
    assert node.next_functions == [] and node.function_name == "AccumulateGrad"
    node.apply(mt.Tensor(np.ones((2, 2))))
    node.apply(mt.Tensor(np.ones((2, 2))))
    np.testing.assert_array_equal(x.grad.data, np.full((2, 2), 2.0))
    with pytest.raises(AssertionError):
        node.apply(mt.Tensor(np.ones(3)))

    ctx = engine.ContextManager()
    a, b = mt.Tensor(1.0), mt.Tensor(2.0)
    ctx.save_for_backward(a, b)
    ctx.shape = (2, 3)
    assert ctx.saved_tensors[0] is a and ctx.saved_tensors[1] is b and ctx.shape == (2, 3)
    with pytest.raises(TypeError):
        ctx.save_for_backward((2, 3))


def test_tensor_api(mt):
    T = mt.Tensor
    assert T.zeros(2, 3).shape == (2, 3) and not T.zeros(2, 3).data.any()
    assert (T.ones(4).data == 1).all()
    assert T.randn(3, 5).shape == (3, 5)
    assert T.empty(2, 2).shape == (2, 2)
    np.testing.assert_array_equal(T.arange(2, 8, 2).data, [2, 4, 6])
    source = T(np.array([1.0, 2.0]), requires_grad=True, is_parameter=True)
    copy = source.copy()
    copy.data[0] = 99.0
    assert source.data[0] == 1.0 and copy.is_leaf and copy.grad is None
    assert source.is_parameter and source.is_leaf and source.grad is None and source.grad_fn is None
    data = np.array([1.0, 2.0])
    wrapped = T(data)
    data[0] = 5.0
    assert wrapped.data[0] == 1.0, "the constructor copies its data"
    assert "Tensor" in repr(wrapped)


# ----------------------------------------------------------------------------------------------
# Cross-entropy
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [1.0, 30.0, 1e4])
def test_cross_entropy_matches_torch(mt, scale):
    rng = np.random.default_rng(7)
    logits = rng.standard_normal((8, 5)) * scale
    labels = rng.integers(0, 5, 8)
    x, tx = pair(mt, logits)
    loss = mt.F.cross_entropy(x, mt.Tensor(labels))
    tloss = torch.nn.functional.cross_entropy(tx, torch.tensor(labels))
    assert loss.shape == () and np.isfinite(loss.data)
    assert_close(loss, tloss, "loss")
    loss.backward()
    tloss.backward()
    assert np.isfinite(x.grad.data).all()
    assert_close(x.grad, tx.grad, "grad")


def test_cross_entropy_loss_module(mt):
    rng = np.random.default_rng(8)
    x, tx = pair(mt, rng.standard_normal((4, 3)))
    labels = np.array([0, 2, 1, 2])
    loss = mt.nn.CrossEntropyLoss()(x, mt.Tensor(labels))
    tloss = torch.nn.CrossEntropyLoss()(tx, torch.tensor(labels))
    assert_close(loss, tloss, "loss")


# ----------------------------------------------------------------------------------------------
# Modules
# ----------------------------------------------------------------------------------------------

def build_pair(mt, sizes=(6, 5, 3), seed=9):
    """The same Linear -> ReLU -> Linear network in MyTorch and in torch (float64)."""
    np.random.seed(seed)
    mine = mt.nn.Sequential(mt.nn.Linear(sizes[0], sizes[1]), mt.nn.ReLU(),
                            mt.nn.Linear(sizes[1], sizes[2]))
    theirs = torch.nn.Sequential(torch.nn.Linear(sizes[0], sizes[1]), torch.nn.ReLU(),
                                 torch.nn.Linear(sizes[1], sizes[2])).double()
    with torch.no_grad():
        for index in (0, 2):
            theirs[index].weight.copy_(torch.tensor(mine[index].weight.data))
            theirs[index].bias.copy_(torch.tensor(mine[index].bias.data))
    return mine, theirs


def test_linear_layer_parameters_and_init(mt):
    layer = mt.nn.Linear(16, 4)
    assert layer.weight.shape == (4, 16) and layer.bias.shape == (4,)
    for param in (layer.weight, layer.bias):
        assert param.requires_grad and param.is_parameter and param.is_leaf
        assert np.abs(param.data).max() <= 1 / np.sqrt(16)
    assert layer.parameters() == [layer.weight, layer.bias]
    same = [mt.nn.Linear(16, 4, rng=np.random.default_rng(0)).weight.data for _ in range(2)]
    np.testing.assert_array_equal(*same)
    np.random.seed(3)
    first = mt.nn.Linear(3, 2).weight.data
    np.random.seed(3)
    np.testing.assert_array_equal(first, mt.nn.Linear(3, 2).weight.data)
    x = mt.Tensor(np.ones((5, 16)))
    expected = np.ones((5, 16)) @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(layer(x).data, expected)


def test_network_gradients_match_torch(mt):
    mine, theirs = build_pair(mt)
    rng = np.random.default_rng(10)
    x_np, labels = rng.standard_normal((7, 6)), rng.integers(0, 3, 7)
    out = mine(mt.Tensor(x_np))
    tout = theirs(torch.tensor(x_np))
    assert_close(out, tout, "output")
    loss = mt.nn.CrossEntropyLoss()(out, mt.Tensor(labels))
    tloss = torch.nn.functional.cross_entropy(tout, torch.tensor(labels))
    assert_close(loss, tloss, "loss")
    loss.backward()
    tloss.backward()
    params = mine.parameters()
    assert len(params) == 4
    for param, tparam, name in zip(params, theirs.parameters(), ["W1", "b1", "W2", "b2"]):
        assert param.grad.shape == param.shape
        assert_close(param.grad, tparam.grad, f"grad {name}")


def test_module_registration_and_modes(mt):
    nn = mt.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
            self.scale = mt.Tensor(np.ones(3), requires_grad=True, is_parameter=True)
            self.not_a_param = mt.Tensor(np.ones(3))
            self.shared = self.inner[0]        # the same layer twice: its parameters once

        def forward(self, x):
            return self.inner(x) * self.scale

    block = Block()
    params = block.parameters()
    assert len(params) == 3 and params[0] is block.scale
    assert len({id(p) for p in params}) == 3
    block.scale = None                          # reassigning unregisters
    assert len(block.parameters()) == 2
    block.eval()
    assert not block.is_train and not block.inner.is_train and not block.inner[1].is_train
    block.train()
    assert block.is_train and block.inner[0].is_train
    assert len(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)).parameters()) == 4


# ----------------------------------------------------------------------------------------------
# SGD
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_matches_torch_over_three_steps(mt, momentum):
    mine, theirs = build_pair(mt, seed=11)
    opt = mt.optim.SGD(mine.parameters(), lr=0.05, momentum=momentum)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=momentum)
    rng = np.random.default_rng(12)
    params_before = [id(p) for p in mine.parameters()]
    for step in range(3):
        x_np, labels = rng.standard_normal((7, 6)), rng.integers(0, 3, 7)
        opt.zero_grad()
        topt.zero_grad()
        assert all(p.grad is None for p in mine.parameters())
        mt.nn.CrossEntropyLoss()(mine(mt.Tensor(x_np)), mt.Tensor(labels)).backward()
        tloss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x_np)), torch.tensor(labels))
        tloss.backward()
        opt.step()
        topt.step()
        for param, tparam in zip(mine.parameters(), theirs.parameters()):
            assert param.is_leaf and param.grad_fn is None and param.requires_grad
            assert_close(param.data, tparam, f"step {step + 1}")
    assert [id(p) for p in mine.parameters()] == params_before


def test_sgd_hand_computed(mt):
    w = mt.Tensor(np.array([1.0, -2.0]), requires_grad=True, is_parameter=True)
    opt = mt.optim.SGD([w], lr=0.1, momentum=0.5)
    expected, buffer = np.array([1.0, -2.0]), np.zeros(2)
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()                # grad = 2w
        buffer = 0.5 * buffer - 0.1 * 2 * expected
        expected = expected + buffer
        opt.step()
        np.testing.assert_allclose(w.data, expected, rtol=1e-12)
    untouched = mt.Tensor(np.ones(2), requires_grad=True, is_parameter=True)
    mt.optim.SGD([untouched], lr=1.0).step()     # no grad yet: left alone
    np.testing.assert_array_equal(untouched.data, np.ones(2))
    assert mt.optim.SGD([w]).lr == 0.001 and mt.optim.SGD([w]).momentum == 0.0


# ----------------------------------------------------------------------------------------------
# hw1/mnist.py on a synthetic, separable data set
# ----------------------------------------------------------------------------------------------

def synthetic_mnist(seed=0, n_train=600, n_val=200):
    """10 classes around fixed random prototypes in [0, 1]^784, plus noise."""
    rng = np.random.default_rng(seed)
    prototypes = (rng.random((10, 784)) < 0.5).astype(np.float64)

    def sample(n):
        labels = rng.integers(0, 10, n)
        images = np.clip(prototypes[labels] + rng.normal(0, 0.5, (n, 784)), 0, 1)
        return images, labels

    return (*sample(n_train), *sample(n_val))


def test_mnist_trains_to_high_validation_accuracy(mt):
    train_x, train_y, val_x, val_y = synthetic_mnist()
    assert mt.mnist.BATCH_SIZE == 100 and mt.mnist.NUM_EPOCHS == 3
    np.random.seed(0)
    accuracies = mt.mnist.mnist(train_x, train_y, val_x, val_y)
    assert len(accuracies) == mt.mnist.NUM_EPOCHS
    assert all(0.0 <= acc <= 1.0 for acc in accuracies)
    assert accuracies[-1] >= 0.9, accuracies


def test_train_and_validate_modes(mt):
    train_x, train_y, val_x, val_y = synthetic_mnist(seed=1, n_train=200, n_val=100)
    modes = []

    class Probe(mt.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = mt.nn.Sequential(mt.nn.Linear(784, 10))

        def forward(self, x):
            modes.append(self.is_train)
            return self.net(x)

    np.random.seed(1)
    model = Probe()
    opt = mt.optim.SGD(model.parameters(), lr=0.1)
    accuracies = mt.mnist.train(model, opt, mt.nn.CrossEntropyLoss(), train_x, train_y,
                                val_x, val_y, num_epochs=2)
    assert len(accuracies) == 2
    # per epoch: 2 training batches in train mode, then 1 validation batch in eval mode
    assert modes == [True, True, False] * 2
    assert mt.mnist.validate(model, val_x, val_y) == accuracies[-1]


# ----------------------------------------------------------------------------------------------
# The package as a handin: relocatable, import order, the handout stubs
# ----------------------------------------------------------------------------------------------

def _copy_package(destination: Path, transform=lambda source: source) -> None:
    for path in PACKAGE_ROOT.rglob("*.py"):
        target = destination / path.relative_to(PACKAGE_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(transform(path.read_text()))


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def test_package_relocates_and_any_import_order_works(tmp_path):
    _copy_package(tmp_path / "elsewhere")
    code = (
        "import sys, importlib\n"
        "first = sys.argv[1] if len(sys.argv) > 1 else ''\n"
        "for order in (['mytorch.nn.functional', 'mytorch.tensor'], ['mytorch.optim.sgd'],\n"
        "              ['hw1.mnist'], ['mytorch.autograd_engine'], ['mytorch.nn.linear']):\n"
        "    for name in [n for n in sys.modules if n.split('.')[0] in ('mytorch', 'hw1')]:\n"
        "        del sys.modules[name]\n"
        "    for name in order:\n"
        "        importlib.import_module(name)\n"
        "    from mytorch.tensor import Tensor\n"
        "    t = Tensor([1.0, 2.0], requires_grad=True)\n"
        "    (t * t).sum().backward()\n"
        "    assert list(t.grad.data) == [2.0, 4.0]\n"
        "print('ok')\n"
    )
    done = _run(code, tmp_path / "elsewhere")
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_handout_stubs_import_and_raise(tmp_path):
    _copy_package(tmp_path / "handout", make_starter)
    for path in (tmp_path / "handout").rglob("*.py"):
        assert "# END SOLUTION" not in path.read_text()
    code = (
        "import numpy as np\n"
        "import mytorch, hw1.mnist\n"
        "from mytorch.tensor import Tensor\n"
        "from mytorch.nn.linear import Linear\n"
        "layer = Linear(3, 2)\n"                       # the given constructor still works
        "assert layer.weight.shape == (2, 3) and len(layer.parameters()) == 2\n"
        "for call in (lambda: Tensor([1.0]) - Tensor([1.0]),\n"
        "             lambda: layer(Tensor(np.ones((1, 3)))),\n"
        "             lambda: hw1.mnist.validate(layer, np.ones((1, 3)), np.zeros(1))):\n"
        "    try:\n"
        "        call()\n"
        "    except NotImplementedError:\n"
        "        pass\n"
        "    else:\n"
        "        raise SystemExit('a stub did not raise')\n"
        "print('ok')\n"
    )
    done = _run(code, tmp_path / "handout")
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
