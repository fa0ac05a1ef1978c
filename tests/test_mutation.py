"""Whether a call changed its inputs is decided by the judge, from memory the worker cannot lie about."""

from __future__ import annotations

import pytest

from conftest import ROOT, grade_json, scores

pytestmark = pytest.mark.slow
MUTATES = ROOT / "tests" / "submissions" / "attacks" / "mutates_inputs.py"
# Everything a submission's own process could use to judge a mutation, made to say "unchanged".
HIDE = '''
import numpy as _np, torch as _torch
_np.array_equal = lambda *a, **k: True
_np.ndarray.copy  # (a C type: cannot be patched, but its users can)
_np.copy = lambda a, *args, **kwargs: a
_torch.Tensor.clone = lambda self, *a, **k: self
_torch.equal = lambda *a, **k: True
'''


def test_mutation_hidden_by_patching_numpy_still_costs_the_contract(tmp_path):
    honest = scores(grade_json(MUTATES))
    hiding = tmp_path / "hides_its_mutation.py"
    hiding.write_text(MUTATES.read_text() + HIDE)
    assert scores(grade_json(hiding)) == honest
    assert honest["loss"][0] == pytest.approx(8.0), "loss_contract deducts 20% for the mutation"
