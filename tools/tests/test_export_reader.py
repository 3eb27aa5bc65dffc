"""poyo_rt.torch_checkpoint: the torch-free, code-free reader of torch.save files.

The reference values in fixtures/reference.json were recorded from torch.load when the fixtures
were made (tools/make_fixtures.py --exporter-fixtures), so these tests check the reader exactly
even without torch; with torch installed, they also compare against torch.load directly.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

TOOLS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS))
from poyo_rt import torch_checkpoint as tc  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())
CHECKPOINTS = sorted(REFERENCE)


def flat_tensors(obj, prefix=""):
    """Same walk as make_exporter_fixtures.torch_reference: dicts, lists and tuples only."""
    out = {}
    if isinstance(obj, np.ndarray):
        out[prefix] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flat_tensors(v, f"{prefix}/{k}" if prefix else str(k)))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out.update(flat_tensors(v, f"{prefix}/{i}"))
    return out


def digest(a):
    a = np.ascontiguousarray(a)
    return {"shape": list(a.shape), "dtype": str(a.dtype), "sha256": hashlib.sha256(a.tobytes()).hexdigest()}


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_reader_matches_recorded_torch_load(name):
    got = flat_tensors(tc.load(FIXTURES / name))
    expected = REFERENCE[name]["tensors"]
    assert sorted(got) == sorted(expected)
    for key, ref in expected.items():
        assert digest(got[key]) == ref, key


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_reader_matches_torch_load(name):
    torch = pytest.importorskip("torch")
    ref = torch.load(FIXTURES / name, map_location="cpu", weights_only=False)
    got = tc.load(FIXTURES / name)

    def compare(a, b, where):
        if isinstance(a, torch.Tensor):
            a = a.detach()
            a = a.float().numpy() if a.dtype == torch.bfloat16 else a.numpy()
            assert isinstance(b, np.ndarray) and b.dtype == a.dtype and np.array_equal(a, b, equal_nan=True), where
        elif isinstance(a, dict) and isinstance(b, dict):
            assert list(a) == list(b), where
            for k in a:
                compare(a[k], b[k], f"{where}/{k}")
        elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            assert len(a) == len(b), where
            for i, (x, y) in enumerate(zip(a, b)):
                compare(x, y, f"{where}/{i}")
        elif type(a) in (int, float, str, bool, type(None)):
            assert a == b, where
        elif isinstance(a, type):  # a class reference: a stub class, never the real one
            assert isinstance(b, type) and issubclass(b, tc.Stub) and b.qualname.endswith(a.__qualname__), where
        else:  # a class instance: the reader must have stubbed it, not imported it
            assert isinstance(b, tc.Stub), where
            assert b.qualname.endswith(type(a).__qualname__), (where, b.qualname)

    compare(ref, got, name)


def test_edge_tensors_values():
    """dtype conversion, strides, offsets and shared storage give the right numbers."""
    edge = tc.load(FIXTURES / "tensors_edge.pt")
    shared = edge["shared"]
    assert np.array_equal(edge["transposed"], shared.T)
    assert np.array_equal(edge["strided"], shared[1:, ::2])
    assert np.array_equal(edge["offset"], shared[4])
    assert edge["f16"].dtype == np.float16 and edge["f64"].dtype == np.float64
    assert edge["bf16"].dtype == np.float32
    assert np.array_equal(edge["i64"], np.arange(-3, 9)) and edge["i64"].dtype == np.int64
    assert np.array_equal(edge["u8"], np.arange(250, 256))
    assert edge["boolean"].tolist() == [True, False, True]
    assert edge["scalar"].shape == () and float(edge["scalar"]) == 2.5
    assert edge["empty"].shape == (0, 3)
    assert edge["nested"]["inner"][1]["deep"].tolist() == [7.0]
    assert list(edge["vocab"].items()) == [("NA", 0), ("a", 1)]


def test_foreign_classes_become_stubs_without_import():
    before = set(sys.modules)
    ckpt = tc.load(FIXTURES / "poyo_v01_lightning.ckpt")
    spec = ckpt["callbacks"]["DecodingStitchEvaluator"]["modality_spec"]
    assert isinstance(spec, tc.Stub) and spec.qualname == "torch_brain.registry.ModalitySpec"
    assert isinstance(ckpt["callbacks"]["DecodingStitchEvaluator"]["type"], tc.Stub)
    assert not any(m.startswith(("torch_brain", "omegaconf")) for m in set(sys.modules) - before)


def _pickle_zip(tmp_path, payload: bytes, name="evil") -> Path:
    path = tmp_path / f"{name}.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}/data.pkl", payload)
        z.writestr(f"{name}/byteorder", "little")
    return path


class _Evil:
    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return (os.system, (f"touch {self.sentinel}",))


def test_code_in_a_checkpoint_is_never_run(tmp_path):
    sentinel = tmp_path / "pwned"
    path = _pickle_zip(tmp_path, pickle.dumps({"w": _Evil(sentinel)}, protocol=2))
    obj = tc.load(path)
    assert not sentinel.exists()
    assert isinstance(obj["w"], tc.Stub) and obj["w"].qualname.endswith(".system")


def test_truncated_checkpoint_is_refused(tmp_path):
    data = (FIXTURES / "poyo_v01_lightning.ckpt").read_bytes()
    bad = tmp_path / "truncated.ckpt"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(tc.CheckpointError, match="truncated|corrupt"):
        tc.load(bad)


def test_corrupt_storage_is_refused(tmp_path):
    src = FIXTURES / "poyo_v01_lightning.ckpt"
    bad = tmp_path / "corrupt.ckpt"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("/data/0"):
                data = data[:-4]  # a storage shorter than its tensor
            zout.writestr(info, data)
    with pytest.raises(tc.CheckpointError, match="runs past its storage"):
        tc.load(bad)


def test_not_a_checkpoint(tmp_path):
    p = tmp_path / "x.ckpt"
    p.write_text("hello")
    with pytest.raises(tc.CheckpointError, match="not a torch checkpoint"):
        tc.load(p)
    with pytest.raises(tc.CheckpointError, match="data.pkl"):
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("a/other", b"")
        tc.load(p)


def test_plain_unwraps_omegaconf_hparams():
    ckpt = tc.load(FIXTURES / "poyoplus_v010_lightning.ckpt")
    assert isinstance(ckpt["hyper_parameters"], tc.Stub)
    hp = tc.plain(ckpt["hyper_parameters"])
    assert hp["model"]["_target_"] == "torch_brain.models.POYOPlus"
    assert hp["dataset"][0]["config"]["multitask_readout"][1]["normalize_std"] == 4.0
