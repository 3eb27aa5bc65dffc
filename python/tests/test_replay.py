"""``poyo-rt replay`` end to end: the real daemon (``poyo serve``), real sockets, real files.

The demo session (demo/session.safetensors, the model trained on it) is replayed over 4 s of its
test part; the outputs are checked against ``poyo forward`` on the same windows, the report's
R^2 against numpy's on the same outputs, and the same spikes from a temporaldata file and at
another speed must decode identically.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import A2929_NWB, DEMO, model_for_vocabulary, poyo_binary, write_temporaldata
from safetensors.numpy import load_file, save_file

from poyo_rt import model_file, window
from poyo_rt.sessions import read_recording

MODEL = DEMO / "poyo_demo.safetensors"
SESSION = DEMO / "session.safetensors"
INTERVAL = (241.0, 245.0)
READOUT = "cursor_velocity_2d"


def replay(*args, timeout=300):
    command = [sys.executable, "-m", "poyo_rt.cli", "replay", *map(str, args), "--poyo-bin", str(poyo_binary())]
    # A wide terminal: the printed table's cells must not wrap inside the words the tests look for.
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env={**os.environ, "COLUMNS": "400"})


def replayed(tmp_path_factory, session, *options):
    out = tmp_path_factory.mktemp("report")
    result = replay(session, "--model", MODEL, "--interval", f"{INTERVAL[0]}:{INTERVAL[1]}", "--report", out, *options)
    assert result.returncode == 0, result.stderr + result.stdout
    return out, json.loads((out / "report.json").read_text()), dict(np.load(out / "outputs.npz"))


@pytest.fixture(scope="module")
def lockstep(tmp_path_factory):
    return replayed(tmp_path_factory, SESSION)


def test_every_tick_of_the_interval_is_decoded(lockstep):
    _, report, arrays = lockstep
    # Windows lie inside the interval: ticks every 20 ms from 242.0 s (241 s + 1 s window) to 245.0 s.
    assert report["played"]["first_tick_s"] == 242.0 and report["played"]["last_tick_s"] == 245.0
    assert report["ticks"] == {**report["ticks"], "expected": 151, "outputs": 151, "run": 151, "skipped": 0, "failed": 0}
    np.testing.assert_allclose(arrays[f"{READOUT}/time_s"], 242.0 + 0.02 * np.arange(151), atol=1e-9)
    assert report["counters"]["late"] == 0 and report["counters"]["dropped"] == 0 and report["counters"]["rejected"] == 0


def windows_of(recording, description, ticks, rate=30_000):
    """The windows the daemon builds for ``ticks``, as ``poyo forward`` inputs (docs/session-format.md)."""
    hp, unit_vocab = description["hyperparameters"], description["unit_vocab"]
    rows = np.array([unit_vocab[w] for w in recording.unit_words])
    order = np.argsort(rows, kind="stable")              # the daemon's units: vocabulary-row order
    local = np.empty(len(rows), np.int64)
    local[order] = np.arange(len(rows))
    position = {int(u): i for i, u in enumerate(recording.unit_ids)}
    spike_ticks = np.rint(recording.spike_times * rate).astype(np.int64)
    length = round(hp["sequence_length"] * rate)
    for tick in ticks:
        inside = (spike_ticks >= tick - length) & (spike_ticks < tick)
        units = np.array([local[position[int(u)]] for u in recording.spike_units[inside]], dtype=np.int64)
        yield tick, window.make_window(
            rows[order], units, (spike_ticks[inside] - (tick - length)) / rate,
            sequence_length=hp["sequence_length"], latent_step=hp["latent_step"],
            num_latents_per_step=hp["num_latents_per_step"], session_row=description["session_vocab"]["demo/random_target"],
            output_timestamps=[hp["sequence_length"]])


def test_lockstep_outputs_equal_poyo_forward_on_the_same_windows(lockstep, tmp_path):
    _, _, arrays = lockstep
    times, decoded = arrays[f"{READOUT}/time_s"], arrays[f"{READOUT}/decoded"]
    description, _ = model_file.read_model_file(MODEL)
    recording = read_recording(SESSION)
    chosen = list(range(0, len(times), 15)) + [len(times) - 1]
    for index, (tick, inputs) in zip(chosen, windows_of(recording, description, [round(times[i] * 30_000) for i in chosen])):
        path_in, path_out = tmp_path / f"in_{tick}.safetensors", tmp_path / f"out_{tick}.safetensors"
        save_file({k: np.ascontiguousarray(v) for k, v in inputs.items()}, str(path_in))
        result = subprocess.run([str(poyo_binary()), "forward", "--model", str(MODEL), "--inputs", str(path_in),
                                 "--output", str(path_out), "--physical"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        reference = load_file(str(path_out))["output"][0]
        np.testing.assert_array_equal(decoded[index].astype(np.float32), reference, err_msg=f"tick {tick}")
    assert len({tuple(v) for v in decoded}) == len(decoded)  # different windows decode differently


def test_report_r2_is_numpys_on_the_same_outputs(lockstep):
    _, report, arrays = lockstep
    times, decoded, truth = (arrays[f"{READOUT}/{k}"] for k in ("time_s", "decoded", "truth"))
    session = read_recording(SESSION, behaviour="cursor.vel").behaviour["cursor.vel"]
    expected_truth = np.stack([np.interp(times, session.timestamps, session.values[:, d]) for d in range(2)], axis=1)
    np.testing.assert_allclose(truth, expected_truth, rtol=0, atol=1e-12)
    r2 = 1 - ((expected_truth - decoded) ** 2).sum(0) / ((expected_truth - expected_truth.mean(0)) ** 2).sum(0)
    scored = report["readouts"][READOUT]
    np.testing.assert_allclose(scored["r2"], r2, rtol=1e-12)
    assert scored["r2_mean"] == pytest.approx(r2.mean(), rel=1e-12) and scored["n_scored"] == len(times)
    assert scored["r2_mean"] > 0.6  # the demo model decodes this session (0.86 over the whole test part)


def test_report_files_are_well_formed(lockstep):
    out, report, _ = lockstep
    assert set(report) >= {"recording", "model", "played", "readouts", "latency_ms", "ticks", "falcon_normalized_latency"}
    assert 0 < report["falcon_normalized_latency"] < 1
    for stage in ("window", "forward", "publish", "daemon", "end_to_end"):
        p = report["latency_ms"][stage]
        assert 0 <= p["p50"] <= p["p90"] <= p["p99"] <= p["max"], stage
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("<svg") == 4 and page.count("</svg>") == 4  # x, y, latency histogram, latency over time
    assert "linearly interpolated" in page and "budget 20 ms" in page
    assert not re.search(r"""(src|href)=["']?https?:""", page)  # self-contained


def test_temporaldata_file_of_the_same_spikes_decodes_identically(lockstep, tmp_path_factory):
    _, _, arrays = lockstep
    s = read_recording(SESSION)
    keep = (s.spike_times >= 236) & (s.spike_times < 250)
    position = {int(u): i for i, u in enumerate(s.unit_ids)}
    cursor = s.behaviour["cursor.vel"]
    inside = (cursor.timestamps >= 236) & (cursor.timestamps < 250)
    path = write_temporaldata(tmp_path_factory.mktemp("td") / "demo.h5", words=s.unit_words, times=s.spike_times[keep],
                              unit_index=[position[int(u)] for u in s.spike_units[keep]], session=s.session_id,
                              vel=cursor.values[inside], vel_times=cursor.timestamps[inside],
                              splits=((236.0, 240.0), (240.0, 241.0), (241.0, 250.0)))
    _, report, td = replayed(tmp_path_factory, path)
    assert report["recording"]["format"] == "temporaldata"
    np.testing.assert_array_equal(td[f"{READOUT}/time_s"], arrays[f"{READOUT}/time_s"])
    np.testing.assert_array_equal(td[f"{READOUT}/decoded"], arrays[f"{READOUT}/decoded"])


def test_paced_replay_decodes_the_same_values(lockstep, tmp_path_factory):
    _, _, arrays = lockstep
    _, report, paced = replayed(tmp_path_factory, SESSION, "--speed", "2", "--budget", "1.0")
    assert report["played"]["speed"] == 2.0 and report["played"]["wall_seconds"] >= 1.9
    lock = dict(zip(np.round(arrays[f"{READOUT}/time_s"] * 30_000).astype(int), arrays[f"{READOUT}/decoded"]))
    times = np.round(paced[f"{READOUT}/time_s"] * 30_000).astype(int)
    # Paced, a slow (debug) build may fall behind and run only the newest of several ready ticks;
    # every tick it does run must decode exactly what lock step decoded.
    assert len(times) >= 10
    for tick, values in zip(times, paced[f"{READOUT}/decoded"]):
        np.testing.assert_array_equal(values, lock[tick])


def test_units_and_session_missing_from_the_model_are_named():
    result = replay(A2929_NWB, "--model", MODEL, "--behaviour", "ry", "--target", "cos_sin",
                    "--unit-prefix", "pynapple/A2929-200711/unit_", "--session-word", "pynapple/A2929-200711")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "15 of 15 units are not in the model's unit vocabulary (first: pynapple/A2929-200711/unit_0" in line
    assert "session 'pynapple/A2929-200711' is not in the model's session vocabulary (it has demo/random_target" in line


def test_one_unknown_unit_is_refused(tmp_path):
    s = read_recording(SESSION)
    words = list(s.unit_words[:3])
    words[1] = "demo/random_target/unit_999"
    path = write_temporaldata(tmp_path / "td.h5", words=words, session="demo/random_target",
                              times=(0.1, 0.2, 0.3), unit_index=(0, 1, 2))
    result = replay(path, "--model", MODEL)
    assert result.returncode == 2 and "1 of 3 units are not in the model's unit vocabulary (first: demo/random_target/unit_999" in result.stderr


def test_the_real_nwb_recording_replays_through_the_daemon(tmp_path):
    """The committed A2929 NWB, its units named by prefix, head direction as (cos, sin), on its
    20 kHz clock; the model is the demo model renamed to this recording's vocabulary."""
    words = [f"pynapple/A2929-200711/unit_{i}" for i in range(15)]
    model = model_for_vocabulary(tmp_path / "a2929_vocab.safetensors", words, "pynapple/A2929-200711")
    out = tmp_path / "report"
    result = replay(A2929_NWB, "--model", model, "--behaviour", "ry", "--target", "cos_sin", "--session-word",
                    "pynapple/A2929-200711", "--unit-prefix", "pynapple/A2929-200711/unit_", "--interval", "1080:1084", "--readout", READOUT,
                    "--report", out)
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["played"]["tick_rate"] == 20_000  # the spike times are 20 kHz samples
    assert report["ticks"]["outputs"] == report["ticks"]["expected"] == 151 and report["counters"]["unknown_units"] == 0
    scored = report["readouts"][READOUT]
    assert scored["dims"] == ["cos", "sin"] and scored["n_scored"] == 151 and report["recording"]["units"] == 15
    arrays = np.load(out / "outputs.npz")
    ry = read_recording(A2929_NWB, behaviour="ry").behaviour["acquisition/CompassDirection/ry"]
    times = arrays[f"{READOUT}/time_s"]
    expected = np.stack([np.interp(times, ry.timestamps, np.cos(ry.values[:, 0])),
                         np.interp(times, ry.timestamps, np.sin(ry.values[:, 0]))], axis=1)
    np.testing.assert_allclose(arrays[f"{READOUT}/truth"], expected, atol=1e-12)


def test_a_bad_recording_description_is_one_line():
    result = replay(SESSION, "--model", MODEL, "--info", MODEL)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "not a readable JSON description" in result.stderr


A2929_MODEL = DEMO / "a2929" / "poyo_a2929.safetensors"


@pytest.mark.skipif(not A2929_MODEL.exists(), reason="the A2929 model is not in this tree")
def test_the_real_recordings_test_part_beats_the_ridge_baseline(tmp_path):
    """demo/a2929: its whole test part (1080-1200 s) through the daemon, options from its
    recording.json; the R^2 equals torch_brain's on the same windows and beats the ridge's."""
    info = json.loads((DEMO / "a2929" / "recording.json").read_text())
    out = tmp_path / "a2929"
    result = replay(A2929_NWB, "--model", A2929_MODEL, "--interval", "test", "--report", out, timeout=900)
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    scored = report["readouts"][info["readout"]]
    assert report["played"]["tick_rate"] == 20_000 and report["ticks"]["skipped"] == 0
    assert scored["n_scored"] == info["scores"]["poyo"]["test"]["windows"]
    assert scored["r2_mean"] == pytest.approx(info["scores"]["poyo"]["test"]["r2"], abs=1e-4)
    assert scored["r2_mean"] > report["reference_r2"]["ridge"]["r2"] + 0.05
    assert "R^2 ridge (recording.json)" in result.stdout


def test_units_without_numbered_words_replay_through_a_unit_map(tmp_path):
    """Words that do not end in a number (so no unit_prefix can name them) go to the daemon as a
    `units` map; the replay decodes every tick."""
    words = ["s/alpha", "s/beta", "s/gamma"]
    model = model_for_vocabulary(tmp_path / "model.safetensors", words, "s")
    rng = np.random.default_rng(0)
    times = np.sort(rng.uniform(0, 3, size=150))
    path = write_temporaldata(tmp_path / "td.h5", words=words, session="s", times=times,
                              unit_index=rng.integers(0, 3, size=150), vel_times=np.arange(0, 3, 0.01),
                              vel=np.zeros((300, 2)), splits=((0.0, 1.0), (1.0, 2.0), (2.0, 3.0)))
    out = tmp_path / "report"
    result = replay(path, "--model", model, "--interval", "0:3", "--report", out)
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["ticks"]["outputs"] == report["ticks"]["expected"] == 101


def table_values(stdout: str) -> str:
    """The value column of the printed summary table, its wrapped lines joined by spaces."""
    return " ".join(line.split("│")[2].strip() for line in stdout.splitlines() if line.count("│") == 3)


A2929_OPTIONS = ("--model", A2929_MODEL, "--target", "cos_sin", "--unit-prefix", "pynapple/A2929-200711/unit_")


@pytest.mark.skipif(not A2929_MODEL.exists(), reason="the A2929 model is not in this tree")
def test_an_interval_without_behaviour_says_why_there_is_no_r2(tmp_path):
    """A2929's head direction starts at 670.6 s: a replay of 0-3 s decodes every tick but has
    nothing to score against, and the table, the JSON and the page say so (not a silent gap)."""
    out = tmp_path / "report"
    result = replay(A2929_NWB, *A2929_OPTIONS, "--behaviour", "ry", "--interval", "0:3", "--report", out)
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    scored = report["readouts"]["head_direction_cos_sin"]
    assert scored["r2"] is None and scored["n_scored"] == 0 and report["ticks"]["outputs"] > 0
    expected = ("R^2 not computed: no behaviour samples in 0-3 s "
                "(behaviour 'acquisition/CompassDirection/ry' covers 670.641-1199.99 s)")
    assert scored["r2_note"] == expected and scored["behaviour_span_s"] == pytest.approx([670.6407, 1199.99495])
    assert expected in table_values(result.stdout), result.stdout
    assert expected in html.unescape((out / "report.html").read_text())


@pytest.mark.skipif(not A2929_MODEL.exists(), reason="the A2929 model is not in this tree")
def test_a_wrong_behaviour_series_gets_a_hint_with_the_scales_and_the_files_series(tmp_path):
    """rx (roll) instead of ry (head direction): R^2 far below 0; the run is not refused, and the
    report says how the decoded and recorded series differ, which series was used, and which the
    file has."""
    out = tmp_path / "report"
    result = replay(A2929_NWB, *A2929_OPTIONS, "--behaviour", "rx", "--interval", "1080:1083", "--report", out)
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    scored = report["readouts"]["head_direction_cos_sin"]
    assert scored["r2_mean"] < -1
    check = scored["r2_check"]
    times, decoded, truth = (np.load(out / "outputs.npz")[f"head_direction_cos_sin/{k}"] for k in ("time_s", "decoded", "truth"))
    np.testing.assert_allclose(check["decoded_mean"], decoded.mean(0), rtol=1e-12)
    np.testing.assert_allclose(check["recorded_std"], truth.std(0), rtol=1e-12)
    np.testing.assert_allclose(check["mean_difference"], np.abs(decoded.mean(0) - truth.mean(0)), rtol=1e-12)
    assert check["behaviour"] == "acquisition/CompassDirection/rx" and check["target"] == "cos_sin"
    assert "acquisition/CompassDirection/ry" in check["behaviour_series"] and "acquisition/Position/x" in check["behaviour_series"]
    note = scored["r2_note"]
    assert note.startswith("R^2 far below 0: the decoded series (mean cos ")
    assert "Check --behaviour / --target (used: --behaviour acquisition/CompassDirection/rx --target cos_sin)" in note
    assert "the file's behaviour series: acquisition/CompassDirection/rx, acquisition/CompassDirection/ry" in note
    assert note in table_values(result.stdout), result.stdout
    assert note in html.unescape((out / "report.html").read_text())


@pytest.mark.skipif(not A2929_MODEL.exists(), reason="the A2929 model is not in this tree")
def test_the_right_behaviour_gets_no_hint(tmp_path):
    out = tmp_path / "report"
    result = replay(A2929_NWB, *A2929_OPTIONS, "--behaviour", "ry", "--interval", "1080:1083", "--report", out)
    assert result.returncode == 0, result.stderr
    scored = json.loads((out / "report.json").read_text())["readouts"]["head_direction_cos_sin"]
    # Over 2 s one dimension may hardly vary (R^2 below -1): the mean decides, and it is above -1.
    assert scored["r2_mean"] > -1 and "r2_note" not in scored and "r2_check" not in scored
    assert "R^2 check" not in result.stdout and "not computed" not in result.stdout
