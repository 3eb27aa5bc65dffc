"""The bundled demo: session file, trained model file and reference decodes are consistent with
each other and with docs/session-format.md; if the `poyo` binary is built, its forward pass on
windows cut from the session reproduces the reference decodes. numpy + safetensors, no torch."""

from __future__ import annotations

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

DEMO = ROOT / "demo"
SESSION = DEMO / "session.safetensors"
MODEL = DEMO / "poyo_demo.safetensors"
REFERENCE = DEMO / "reference_decodes.safetensors"
TOLERANCE = 5e-4  # max |a - b| / max(1, max |reference|)


@pytest.fixture(scope="module")
def session():
    return sf.read_session(SESSION)


@pytest.fixture(scope="module")
def model():
    return mf.read_model_file(MODEL)  # validates the file


@pytest.fixture(scope="module")
def reference():
    tensors, metadata = mf.read_safetensors(REFERENCE)
    return tensors, json.loads(metadata["poyo_rt_reference"])


def test_session_is_small_and_documented(session):
    assert SESSION.stat().st_size < 3_000_000
    assert session.tick_rate == 30_000
    assert session.description["format"] == "poyo-rt-session"
    assert session.unit_ids.dtype == np.uint32 and session.spike_unit_ids.dtype == np.uint32
    assert session.spike_ticks.dtype == np.int64 and session.cursor_ticks.dtype == np.int64
    assert session.cursor_vel.dtype == np.float32 and session.cursor_vel.shape == (len(session.cursor_ticks), 2)


def test_session_is_sorted_and_units_consistent(session):
    assert np.all(np.diff(session.spike_ticks) >= 0)
    # ties in tick are in session unit order
    same = np.diff(session.spike_ticks) == 0
    idx = session.spike_unit_index
    assert np.all(idx[1:][same] > idx[:-1][same])
    assert np.all(np.diff(session.cursor_ticks) > 0)
    assert len(np.unique(session.unit_ids)) == len(session.unit_ids) == 64
    assert not np.array_equal(session.unit_ids, np.arange(64))  # rig ids, not 0..63
    assert set(np.unique(session.spike_unit_ids)) == set(session.unit_ids.tolist())
    assert session.unit_words == [f"{session.session_id}/unit_{u}" for u in session.unit_ids]
    rates = np.bincount(idx, minlength=64) / (session.splits["test"][1] / session.tick_rate)
    assert 2 < rates.min() and rates.max() < 40


def test_cursor_is_100_hz_cm_per_s(session):
    assert np.all(np.diff(session.cursor_ticks) == 300)
    speed = np.linalg.norm(session.cursor_vel, axis=1)
    assert 15 < np.percentile(speed, 99) < 60


def test_split_is_as_documented(session):
    r = session.tick_rate
    assert session.splits == {"train": (0, 200 * r), "valid": (200 * r, 240 * r), "test": (240 * r, 300 * r)}
    assert session.spike_ticks[-1] < session.splits["test"][1]
    assert session.cursor_ticks[0] == 0 and session.cursor_ticks[-1] < session.splits["test"][1]


def test_model_is_valid_and_covers_the_session(session, model):
    description, _ = model
    assert description["kind"] == "POYO"
    assert set(session.unit_words) <= set(description["unit_vocab"])
    assert session.session_id in description["session_vocab"]
    (readout,) = description["readouts"]
    assert readout["name"] == "cursor_velocity_2d"
    norm = readout["normalization"]
    assert len(norm["mean"]) == 2 and all(s > 1 for s in norm["std"])  # cm/s
    rows = sf.unit_rows(session, description["unit_vocab"])
    assert not np.array_equal(rows, np.arange(1, 65))  # the word -> row mapping matters


def test_reference_decodes_are_consistent(session, model, reference):
    description, _ = model
    t, meta = reference
    K = len(t["tick"])
    assert K >= 40
    assert t["tick"].dtype == np.int64 and t["window_start"].dtype == np.float64
    assert t["output"].shape == t["output_physical"].shape == (K, 2)
    assert meta["sequence_length"] == description["hyperparameters"]["sequence_length"] == 1.0
    L = session.tick_rate
    np.testing.assert_array_equal(t["window_start_tick"], t["tick"] - L)
    np.testing.assert_array_equal(t["window_start"], (t["tick"] - L) / session.tick_rate)
    a, b = session.splits["test"]
    assert np.all(t["window_start_tick"] >= a) and np.all(t["tick"] < b)
    norm = description["readouts"][0]["normalization"]
    np.testing.assert_allclose(t["output_physical"], t["output"] * np.float32(norm["std"]) + np.float32(norm["mean"]),
                               rtol=1e-6, atol=1e-5)
    for k in (0, K - 1):
        window = sf.make_inputs(session, description, int(t["tick"][k]))
        assert len(window["input_unit_index"]) == t["num_tokens"][k]


def test_window_convention(session, model):
    """Spikes with start <= tick < end; start/end tokens first, in session unit order."""
    description, _ = model
    end = session.splits["test"][0] + 12_345 + session.tick_rate
    w = sf.make_inputs(session, description, end)
    rows = sf.unit_rows(session, description["unit_vocab"])
    np.testing.assert_array_equal(w["input_unit_index"][:128], np.repeat(rows, 2))
    np.testing.assert_array_equal(w["input_token_type"][:128], np.tile([1, 2], 64))
    t = w["input_timestamps"][128:]
    assert np.all((t >= 0) & (t < 1.0)) and np.all(np.diff(t) >= 0)
    inside = (session.spike_ticks >= end - session.tick_rate) & (session.spike_ticks < end)
    assert len(t) == inside.sum()
    np.testing.assert_array_equal(w["output_timestamps"], [1.0])
    np.testing.assert_allclose(w["latent_timestamps"][::8], np.arange(8) * 0.125 + 0.0625)


def poyo_binary():
    path = Path(os.environ.get("POYO_BIN", ROOT / ".build" / "debug" / "poyo"))
    return path if path.exists() else None


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


def test_generator_reproduces_the_bundled_session(tmp_path):
    import make_demo_session
    out = tmp_path / "session.safetensors"
    assert make_demo_session.main(["--out", str(out)]) == 0
    if out.read_bytes() == SESSION.read_bytes():
        return
    # another numpy / CPU may round a few spike times differently: everything else must agree
    a, b = sf.read_session(out), sf.read_session(SESSION)
    np.testing.assert_array_equal(a.unit_ids, b.unit_ids)
    np.testing.assert_allclose(a.cursor_vel, b.cursor_vel, atol=1e-4)
    assert abs(len(a.spike_ticks) - len(b.spike_ticks)) <= 0.001 * len(b.spike_ticks)
