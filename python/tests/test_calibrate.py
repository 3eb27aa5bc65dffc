"""`poyo-rt calibrate`, small: a tiny base POYO trained in seconds, a new synthetic session
calibrated in seconds. Needs torch and torch_brain 0.1.x (`pip install './python[calibrate]'`);
skipped without them, except the checks that the package works without torch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from poyo_rt import model_file as mf
from poyo_rt.calibrate import command

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"
TINY = dict(sequence_length=1.0, latent_step=0.125, num_latents_per_step=4, dim=32, depth=1,
            dim_head=16, cross_heads=1, self_heads=2, t_min=1e-4, t_max=4.0)


def test_package_imports_without_torch():
    code = ("import sys, poyo_rt, poyo_rt.calibrate, poyo_rt.calibrate.command, poyo_rt.cli; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT / "python")


def test_without_torch_says_how_to_install(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(command, "torch_available", lambda: False)
    rc = command.main(["--model", "m", "--recording", "r", "--output", str(tmp_path / "o.safetensors")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err == "poyo-rt calibrate needs torch and torch_brain: pip install './python[calibrate]'"


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """(base path, new session path, output path, rc, stdout) of one calibration."""
    pytest.importorskip("torch")
    pytest.importorskip("torch_brain.models")
    import torch
    sys.path.insert(0, str(TOOLS))
    import calibration_experiment as experiment
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("calibrate")
    base_paths = [experiment.make_session(seed, out) for seed in (11, 12)]
    datas = [experiment.session_data(p, minutes=4) for p in base_paths]
    model, norm, _, _ = experiment.train(datas, seconds=120, steps=600, seed=0, batch_size=8, lr=3e-3, config=TINY)
    base = out / "base.safetensors"
    experiment.export(model, norm, [d.session_word for d in datas], base, config=TINY)
    new = experiment.make_session(13, out)
    output = out / "new.safetensors"
    import contextlib
    import io
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        rc = command.main(["--model", str(base), "--recording", str(new), "--minutes", "2", "--epochs", "15",
                           "--patience", "15", "--threads", "1", "--output", str(output)])
    return base, new, output, rc, stdout.getvalue()


def test_calibration_improves_held_out_r2(calibrated):
    _, _, output, rc, stdout = calibrated
    assert rc == 0, stdout
    description, _ = mf.read_model_file(output)
    c = description["source"]["calibration"]
    assert c["held_out_r2_after"] > c["held_out_r2_before"] + 0.1, c
    assert "held-out R²" in stdout and "before" in stdout and "after" in stdout


def test_old_words_keep_their_rows(calibrated):
    base, _, output, _, _ = calibrated
    old, old_tensors = mf.read_model_file(base)
    new, new_tensors = mf.read_model_file(output)
    for name in ("unit", "session"):
        vocab, grown = old[f"{name}_vocab"], new[f"{name}_vocab"]
        assert all(grown[w] == row for w, row in vocab.items())
        rows = len(vocab)
        assert np.array_equal(new_tensors[f"{name}_emb.weight"][:rows], old_tensors[f"{name}_emb.weight"])
    assert len(new["unit_vocab"]) == len(old["unit_vocab"]) + 64
    assert "synth/s13" in new["session_vocab"] and "synth/s13/unit_1" not in old["unit_vocab"]
    for key, value in old_tensors.items():
        if not key.endswith("_emb.weight") or key in ("token_type_emb.weight", "latent_emb.weight"):
            assert np.array_equal(new_tensors[key], value), key


def test_refuses_a_session_the_model_knows(calibrated, capsys):
    _, _, output, _, _ = calibrated
    new = Path(output).parent / "s13.safetensors"
    rc = command.main(["--model", str(output), "--recording", str(new), "--epochs", "1", "--threads", "1",
                       "--output", str(Path(output).parent / "again.safetensors")])
    assert rc == 1 and "already in the model" in capsys.readouterr().err


def test_poyo_binary_decodes_the_new_session(calibrated, tmp_path):
    """The calibrated file loads in the Swift loader (`poyo inspect`) and `poyo forward` agrees with
    torch_brain on a window of the new session."""
    path = Path(os.environ.get("POYO_BIN", ROOT / ".build" / "debug" / "poyo"))
    if not path.exists():
        pytest.skip("poyo binary not built (swift build) and POYO_BIN not set")
    import torch
    from poyo_rt import window as pw
    from poyo_rt.calibrate import torch_model
    from poyo_rt.sessions import read_recording
    _, new, output, _, _ = calibrated
    inspect = subprocess.run([str(path), "inspect", "--model", str(output)], capture_output=True, text=True, timeout=60)
    assert inspect.returncode == 0, inspect.stderr
    description, tensors = mf.read_model_file(output)
    recording = read_recording(str(new))
    lo, hi = np.searchsorted(recording.spike_times, [100.0, 101.0])
    order = np.argsort(recording.unit_ids)
    local = order[np.searchsorted(recording.unit_ids[order], recording.spike_units[lo:hi])]
    rows = np.array([description["unit_vocab"][w] for w in recording.unit_words])
    window = pw.make_window(rows, local, recording.spike_times[lo:hi] - 100.0, sequence_length=1.0, latent_step=0.125,
                            num_latents_per_step=4, session_row=description["session_vocab"]["synth/s13"],
                            output_timestamps=[0.5, 1.0])
    mf.write_safetensors(tmp_path / "inputs.safetensors", window)
    result = subprocess.run([str(path), "forward", "--model", str(output), "--inputs", str(tmp_path / "inputs.safetensors"),
                             "--output", str(tmp_path / "out.safetensors")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    produced, _ = mf.read_safetensors(tmp_path / "out.safetensors")
    model = torch_model.build_model(description, tensors).eval()
    with torch.no_grad():
        expected = model(**{k: torch.from_numpy(np.asarray(v))[None] for k, v in window.items()})[0].numpy()
    assert np.abs(produced["output"] - expected).max() <= 5e-4 * max(1.0, np.abs(expected).max())
    assert json.loads(json.dumps(description["source"]["calibration"]))["session"] == "synth/s13"
