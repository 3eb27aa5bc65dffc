"""The `poyo` binary driven as a user would: forward, inspect and bench on the bundled
fixtures, and the clear refusals of bad files (an exit status and a message, never a crash)."""
import json
import os
import pathlib
import subprocess
import time

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "POYOTests" / "Fixtures"
NAMES = ["poyo_1p3m", "poyoplus_tasks", "poyo_odd", "poyo_v02"]
TOLERANCE = 5e-4  # max |a - b| / max(1, max |reference|)


def poyo_binary() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("POYO_BIN", ROOT / ".build" / "debug" / "poyo"))
    if not path.exists():
        pytest.fail(f"{path} is missing: build with `swift build` or set POYO_BIN")
    return path


def poyo(*args, check=True):
    result = subprocess.run([str(poyo_binary()), *map(str, args)], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"poyo {' '.join(map(str, args))} failed ({result.returncode}): {result.stderr}")
    return result


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_torch_brain(name, tmp_path):
    out = tmp_path / "out.safetensors"
    poyo("forward", "--model", FIXTURES / f"{name}.model.safetensors",
         "--inputs", FIXTURES / f"{name}.inputs.safetensors", "--output", out)
    produced, expected = load_file(out), load_file(FIXTURES / f"{name}.expected.safetensors")
    assert produced.keys() == expected.keys()
    for key, reference in expected.items():
        assert produced[key].dtype == np.float32 and produced[key].shape == reference.shape
        error = np.abs(produced[key] - reference).max() / max(1.0, np.abs(reference).max())
        assert error <= TOLERANCE, f"{name} {key}: {error}"


def test_forward_physical_units_apply_the_normalization(tmp_path):
    raw, physical = tmp_path / "raw.safetensors", tmp_path / "physical.safetensors"
    common = ["--model", FIXTURES / "poyo_1p3m.model.safetensors", "--inputs", FIXTURES / "poyo_1p3m.inputs.safetensors"]
    poyo("forward", *common, "--output", raw)
    poyo("forward", *common, "--output", physical, "--physical")
    # poyo_1p3m's readout was z-scored with mean 0, std 20 in training.
    np.testing.assert_allclose(load_file(physical)["output"], load_file(raw)["output"] * 20, rtol=1e-6)


def test_inspect_describes_the_model():
    text = poyo("inspect", "--model", FIXTURES / "poyoplus_tasks.model.safetensors").stdout
    assert "kind: POYOPlus" in text
    assert "readout: drifting_gratings_orientation (id 4, dim 8, multinomial)" in text
    assert "GFLOP" in text


def test_bench_json_reports_percentiles():
    result = poyo("bench", "--model", FIXTURES / "poyo_odd.model.safetensors", "--units", "20",
                  "--rate", "30", "--iterations", "20", "--warmup", "2", "--json")
    report = json.loads(result.stdout)
    assert report["p50_ms"] > 0 and report["p99_ms"] >= report["p50_ms"]
    assert report["tokens"] > 40  # 20 units' start/end tokens plus their spikes
    assert report["period_s"] is None  # back to back


def test_bench_paced_at_a_period_and_by_stage():
    start = time.monotonic()
    result = poyo("bench", "--model", FIXTURES / "poyo_odd.model.safetensors", "--units", "20",
                  "--iterations", "10", "--warmup", "0", "--period", "0.05", "--stages", "--json")
    assert time.monotonic() - start >= 0.5  # ten windows, one every 50 ms
    report = json.loads(result.stdout)
    assert report["period_s"] == 0.05
    stages = report["stage_mean_ms"]
    assert set(stages) == {"encoder_inputs", "encoder_attention", "row_blocks", "self_attention_heads", "decoder"}
    assert all(v > 0 for v in stages.values()) and sum(stages.values()) <= report["max_ms"]
    refused = poyo("bench", "--model", FIXTURES / "poyo_odd.model.safetensors", "--period", "-1", check=False)
    assert refused.returncode != 0 and "--period must be" in refused.stderr


def test_corrupt_model_is_refused_with_a_message(tmp_path):
    good = (FIXTURES / "poyo_odd.model.safetensors").read_bytes()
    bad = tmp_path / "cut.safetensors"
    bad.write_bytes(good[: len(good) // 2])
    result = poyo("inspect", "--model", bad, check=False)
    assert result.returncode == 1, result
    assert "truncated" in result.stderr and str(bad) in result.stderr


def test_window_with_an_unknown_unit_is_refused(tmp_path):
    inputs = load_file(FIXTURES / "poyo_odd.inputs.safetensors")
    inputs["input_unit_index"][4] = 10_000
    path = tmp_path / "inputs.safetensors"
    save_file(inputs, path)
    result = poyo("forward", "--model", FIXTURES / "poyo_odd.model.safetensors", "--inputs", path,
                  "--output", tmp_path / "out.safetensors", check=False)
    assert result.returncode == 1
    assert "input_unit_index[4] = 10000" in result.stderr
    assert not (tmp_path / "out.safetensors").exists()
