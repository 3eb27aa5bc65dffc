"""The A2929 demo (demo/a2929/): the POYO model trained on the real NWB recording, its reference
decodes and recording.json are consistent; the model beats the ridge baseline; if the `poyo`
binary is built, its forward pass on windows cut from the NWB reproduces the reference decodes.
numpy + safetensors (+ pynwb for the parts that read the NWB, skipped without it); no torch."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TOOLS = Path(__file__).resolve().parents[1]
ROOT = TOOLS.parent
sys.path.insert(0, str(TOOLS))
from poyo_rt import model_file as mf  # noqa: E402
from poyo_rt import session_file as sf  # noqa: E402

A2929 = ROOT / "demo" / "a2929"
NWB = A2929 / "A2929-200711.nwb"
MODEL = A2929 / "poyo_a2929.safetensors"
REFERENCE = A2929 / "reference_decodes.safetensors"
RECORDING = A2929 / "recording.json"
SERVE = A2929 / "serve.yaml"
NWB_SHA256 = "a329216d2108dac0fff3fd3326c99f52f1bec6c354c2cdb330978e558caeb1f2"
TOLERANCE = 5e-4  # max |a - b| / max(1, max |reference|)


@pytest.fixture(scope="module")
def recording_json():
    return json.loads(RECORDING.read_text())


@pytest.fixture(scope="module")
def model():
    return mf.read_model_file(MODEL)  # validates the file


@pytest.fixture(scope="module")
def reference():
    tensors, metadata = mf.read_safetensors(REFERENCE)
    return tensors, json.loads(metadata["poyo_rt_reference"])


@pytest.fixture(scope="module")
def session():
    pytest.importorskip("pynwb")
    import a2929_recording as rec
    return rec.to_session(rec.read_nwb(NWB))


def test_nwb_is_the_published_file():
    assert hashlib.sha256(NWB.read_bytes()).hexdigest() == NWB_SHA256
    assert (A2929 / "LICENSE").read_text().startswith("MIT License")


def test_poyo_beats_ridge(recording_json):
    s = recording_json["scores"]
    assert s["poyo_test_r2"] > s["ridge_test_r2"] > 0.5
    assert s["poyo_test_r2"] == s["poyo"]["test"]["r2"] and s["ridge_test_r2"] == s["ridge"]["test"]["r2"]
    assert s["ridge_alpha"] > 0 and s["bin"] in (0.02, 0.05, 0.1)


def test_recording_json_matches_the_model(recording_json, model):
    description, _ = model
    r = recording_json
    assert r["session_word"] == "pynapple/A2929-200711"
    assert r["unit_prefix"] == "pynapple/A2929-200711/unit_"
    assert r["target"] == "cos_sin" and r["behaviour"] == "acquisition/CompassDirection/ry"
    (readout,) = description["readouts"]
    assert r["readout"] == readout["name"] == "head_direction_cos_sin"
    assert readout["dim"] == 2 and readout["type"] == "continuous" and readout["id"] == r["readout_id"] == 20
    assert r["normalization"] == readout["normalization"]
    assert r["sequence_length"] == description["hyperparameters"]["sequence_length"]
    assert description["session_vocab"] == {"NA": 0, r["session_word"]: 1}
    assert set(description["unit_vocab"]) == {"NA"} | {f"{r['unit_prefix']}{i}" for i in range(15)}
    (a, b), (c, d), (e, f) = r["splits"]["train"], r["splits"]["valid"], r["splits"]["test"]
    assert a < b == c < d == e < f
    assert r["tick_rate"] == 20000


def test_serve_yaml_points_at_the_model(recording_json):
    text = SERVE.read_text()
    # Relative paths in a configuration are relative to its directory (docs/serving.md).
    assert "model: poyo_a2929.safetensors" in text and (SERVE.parent / "poyo_a2929.safetensors").is_file()
    assert f"session: {recording_json['session_word']}" in text
    assert f"unit_prefix: {recording_json['unit_prefix']}" in text


def test_reference_decodes_are_consistent(model, reference, recording_json):
    description, _ = model
    t, meta = reference
    K = len(t["tick"])
    assert K >= 40
    assert meta["tick_rate"] == recording_json["tick_rate"]
    assert meta["session_id"] == recording_json["session_word"]
    assert t["tick"].dtype == np.int64 and t["window_start"].dtype == np.float64
    assert t["output"].shape == t["output_physical"].shape == t["target"].shape == (K, 2)
    L = round(description["hyperparameters"]["sequence_length"] * meta["tick_rate"])
    np.testing.assert_array_equal(t["window_start_tick"], t["tick"] - L)
    np.testing.assert_array_equal(t["window_start"], (t["tick"] - L) / meta["tick_rate"])
    test_start, test_end = recording_json["splits"]["test"]
    assert np.all(t["window_start"] >= test_start) and np.all(t["tick"] < test_end * meta["tick_rate"])
    norm = description["readouts"][0]["normalization"]
    np.testing.assert_allclose(t["output_physical"], t["output"] * np.float32(norm["std"]) + np.float32(norm["mean"]),
                               rtol=1e-6, atol=1e-5)
    # the decodes are head direction: close to the true angle most of the time
    err = np.angle(np.exp(1j * (np.arctan2(t["output_physical"][:, 1], t["output_physical"][:, 0])
                                - np.arctan2(t["target"][:, 1], t["target"][:, 0]))))
    assert np.degrees(np.median(np.abs(err))) < 30


def test_windows_from_the_nwb_match_the_reference(session, model, reference):
    description, _ = model
    t, meta = reference
    assert session.tick_rate == meta["tick_rate"]
    assert [int(u) for u in session.unit_ids] == meta["unit_order"]
    for k in (0, len(t["tick"]) - 1):
        window = sf.make_inputs(session, description, int(t["tick"][k]))
        assert len(window["input_unit_index"]) == t["num_tokens"][k]


def poyo_binary():
    path = os.environ.get("POYO_BIN")
    if path:
        return Path(path) if Path(path).exists() else None
    for build in ("release", "debug"):
        candidate = ROOT / ".build" / build / "poyo"
        if candidate.exists():
            return candidate
    return None


@pytest.mark.parametrize("physical", [False, True])
def test_poyo_forward_reproduces_reference_decodes(session, model, reference, tmp_path, physical):
    binary = poyo_binary()
    if binary is None:
        pytest.skip("poyo binary not built (swift build) and POYO_BIN not set")
    description, _ = model
    t, _ = reference
    key = "output_physical" if physical else "output"
    for k in (0, 1, 17, len(t["tick"]) - 1):
        inputs, out = tmp_path / f"in{k}.safetensors", tmp_path / f"out{k}.safetensors"
        mf.write_safetensors(inputs, sf.make_inputs(session, description, int(t["tick"][k])))
        result = subprocess.run([str(binary), "forward", "--model", str(MODEL), "--inputs", str(inputs),
                                 "--output", str(out), *(["--physical"] if physical else [])],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        got = mf.read_safetensors(out)[0]["output"]
        ref = t[key][k:k + 1]
        error = np.abs(got - ref).max() / max(1.0, np.abs(ref).max())
        assert error <= TOLERANCE, f"tick {t['tick'][k]}: {error}"
