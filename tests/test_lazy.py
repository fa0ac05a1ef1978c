"""References imported on first use (grader.lazy): nothing is imported before a name is
needed, names go to the module itself, and a driver's kit edits the real module."""

from __future__ import annotations

import types

import pytest

from grader.lazy import LazyModule, imported


def test_a_lazy_module_imports_once_on_first_use_and_forwards_names():
    made = []

    def importer():
        module = types.ModuleType("made_here")
        module.value = 1
        made.append(module)
        return module

    lazy = LazyModule("made_here", importer)
    assert made == [] and "not imported yet" in repr(lazy)
    assert lazy.value == 1 and len(made) == 1
    lazy.other = 2  # a check may set a convention on its reference
    assert made[0].other == 2
    del lazy.other
    assert not hasattr(made[0], "other")
    assert imported(lazy) is made[0] and len(made) == 1 and "imported" in repr(lazy)
    with pytest.raises(AttributeError):
        lazy.missing  # noqa: B018
    plain = object()
    assert imported(plain) is plain


@pytest.mark.slow
def test_a_driver_run_on_a_lazy_reference_leaves_the_reference_as_it_was():
    """train_run puts the grader's own functions into the module it trains (Kit.substituted)
    and puts the originals back; on a stand-in they must still go back into the module."""
    from grader.loaded import load
    from grader.reference_calls import ReferenceCalls

    loaded = load("softmax_lab")
    module = imported(loaded.reference)
    originals = {name: getattr(module, name) for name in ("softmax", "linear", "loss_softmax_backward")}
    outcome = ReferenceCalls.of(loaded.spec, loaded.reference).call(
        "train_run", 7, 0, 1, 0.01, 0.0, 0.0, 1, 0, driver=True)
    assert outcome.ok, outcome.message
    assert {name: getattr(module, name) for name in originals} == originals
