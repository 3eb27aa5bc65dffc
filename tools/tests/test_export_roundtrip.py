"""Model file -> torch_brain model (tools/bench_torch_brain.py) reproduces the fixtures' outputs.

Closes the loop exporter -> model file -> torch_brain: if the exporter dropped, renamed or
reordered anything, a strict load or the outputs would differ. Needs torch and torch_brain 0.1.x
(skipped otherwise, e.g. in CI).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

TOOLS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS))

torch = pytest.importorskip("torch")
pytest.importorskip("torch_brain.models")

import bench_torch_brain as bench  # noqa: E402
import make_fixtures as mk  # noqa: E402
from poyo_rt import model_file as mf  # noqa: E402


@pytest.mark.parametrize("name", ["poyo_1p3m", "poyoplus_tasks", "poyo_odd", "poyo_v02"])
def test_model_file_back_to_torch_brain(name):
    torch.set_num_threads(1)
    model, _ = bench.build_torch_brain_model(mk.FIXTURES / f"{name}.model.safetensors")
    inputs, _ = mf.read_safetensors(mk.FIXTURES / f"{name}.inputs.safetensors")
    expected, _ = mf.read_safetensors(mk.FIXTURES / f"{name}.expected.safetensors")
    got = mk.forward(model, inputs)
    assert sorted(got) == sorted(expected)
    for k in expected:
        np.testing.assert_allclose(got[k], expected[k], rtol=0, atol=1e-5 * np.abs(expected[k]).max())
