"""`poyo serve` with behaviour (protocol/SPEC.md 4.5) and configuration switches (SIGHUP with
--config): the daemon as a subprocess, real sockets, the Python client as rig, task and experiment.

Uses the helpers of test_serve.py (the fixture model poyo_1p3m, session perich/c_20131003, rig unit
N = perich/c_20131003/unit_N, lock-step streams). The task's behaviour goes out on the rig's own
PUB socket (``SpikePublisher.publish_behaviour``) or on a second PUB connected to the same endpoint
(``BehaviourPublisher``), as protocol/SPEC.md section 1 says.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess

import numpy as np
import pytest

from poyo_rt import BehaviourPublisher, read_capture_log
from poyo_rt import model_file as poyo_model_file
from poyo_rt.scoring import r_squared
from poyo_rt.wire import BehaviourMessage, Rejection, encode
from test_serve import (MODEL, RATE, READOUT, REPLAY_SUMMARY, ROOT, SESSION, UNIT_PREFIX, Daemon,  # noqa: F401
                        assert_counters_add_up, connect, daemons, first_tick, free_port, poisson, poyo_binary, replay,
                        stream_until_logged, wait_until)

OTHER_SESSION = "perich/m_20150610"  # the fixture model's second session: 50 units
OTHER_PREFIX = "perich/m_20150610/unit_"


def truth(times: np.ndarray) -> np.ndarray:
    """A made-up cursor velocity (physical units), float32, shape (Q, 2)."""
    phase = 2 * np.pi * times / RATE
    return np.stack([20 * np.sin(phase), 15 * np.cos(0.7 * phase)], axis=1).astype(np.float32)


def expected_r2(outputs, times: np.ndarray, values: np.ndarray) -> float:
    """numpy's R^2 of the outputs against the behaviour interpolated at their timestamps."""
    stamps = np.concatenate([o.timestamps for o in outputs])
    decoded = np.concatenate([o.values for o in outputs]).astype(np.float64)
    aligned = np.stack([np.interp(stamps, times, values[:, d].astype(np.float64)) for d in range(values.shape[1])],
                       axis=1)
    return float(np.mean(r_squared(aligned, decoded)))


def test_behaviour_is_counted_scored_like_numpy_captured_and_replays(daemons, tmp_path):
    capture = tmp_path / "run.capture"
    daemon = daemons(hop=0.1, capture=capture, quality_window=600.0)
    session = connect(daemons, daemon)
    end = round(2.5 * RATE)
    # The whole run's behaviour first (300 Hz, past the last tick), in 5 messages on the rig's socket.
    behaviour_times = np.arange(0, end + RATE // 10, 100, dtype=np.int64)
    behaviour = truth(behaviour_times)
    for chunk in np.array_split(np.arange(len(behaviour_times)), 5):
        session.rig.publish_behaviour(READOUT, behaviour_times[chunk], behaviour[chunk])
    times, units = poisson(np.random.default_rng(21), 1, end)
    session.stream(times, units, end)
    status = session.settled_status()
    outputs = [o for o in session.outputs if o.readout == READOUT]
    assert len(outputs) == (end - first_tick(session)) // daemon.hop_ticks + 1
    quality = status.quality_of(READOUT)
    assert quality is not None and quality.kind == "r2" and quality.samples == len(outputs), status.quality
    assert abs(quality.value - expected_r2(outputs, behaviour_times, behaviour)) < 1e-9
    assert status.daemon_count("behaviour_accepted") == 5 and status.daemon_count("behaviour_unused") == 0

    # Bad and unused behaviour is counted, one counter per loss.
    sequence = session.rig.behaviour_sequence
    unsorted = encode(BehaviourMessage(READOUT, 1, sequence, RATE, [10, 20], np.zeros((2, 2), np.float32)))
    unsorted[2] = np.array([20, 10], "<i8").tobytes()
    session.rig.socket.send_multipart(unsorted)  # unsorted_times (uses up no sequence number)
    session.rig.publish_behaviour("grip", [end], [[1.0]])  # a readout the daemon does not decode: unused
    session.rig.behaviour_sequence -= 1
    session.rig.publish_behaviour(READOUT, [end + 5_000], [[0.0, 0.0]])  # same sequence: duplicate
    session.rig.behaviour_sequence += 3
    session.rig.publish_behaviour(READOUT, [end], [[0.0, 0.0]])  # 3 missed; not after the last sample: unused
    session.rig.watermark(end + 10)
    session.watermark = end + 10
    status = session.settled_status()
    assert status.rejected(Rejection.UNSORTED_TIMES) == 1 and status.rejected(Rejection.DUPLICATE_SEQUENCE) == 1
    assert status.daemon_count("behaviour_accepted") == 7
    assert status.daemon_count("behaviour_missed") == 3
    assert status.daemon_count("behaviour_unused") == 2
    assert_counters_add_up(status)
    assert "behaviour samples not scored" in daemon.stderr

    # The capture log holds the behaviour; a replay still reproduces every output bit for bit.
    assert daemon.stop() == 0
    log = read_capture_log(capture)
    assert log.tick_rate == RATE
    logged_times, logged_values = log.behaviour(READOUT)
    assert np.array_equal(logged_times[:len(behaviour_times)], behaviour_times)
    assert np.array_equal(logged_values[:len(behaviour_times)], behaviour)
    logged_units, logged_ticks = log.spikes()
    assert np.array_equal(logged_ticks, times) and np.array_equal(logged_units, units)
    assert len(log.outputs(READOUT)) >= len(outputs)
    result = replay(capture)
    assert result.returncode == 0, result.stderr
    match = REPLAY_SUMMARY.match(result.stdout)
    assert match and int(match.group(1)) >= len(outputs) and int(match.group(2)) == 0, result.stdout


def other_model(tmp_path, bias: float = 1000.0):
    """The fixture model with its readout bias moved: its raw outputs are about `bias` higher."""
    description, tensors = poyo_model_file.read_model_file(MODEL)
    tensors["readout.bias"] = tensors["readout.bias"] + bias
    path = tmp_path / "other.safetensors"
    poyo_model_file.write_model_file(path, description, tensors)
    return path


def rewrite_config(daemon, **changes) -> None:
    config = json.loads(daemon.config.read_text())
    config.update(changes)
    daemon.config.write_text(json.dumps(config, indent=1))


def test_sighup_switches_model_and_session_without_a_gap_or_reconnect(daemons, tmp_path):
    capture = tmp_path / "switch.capture"
    daemon = daemons(hop=0.1, capture=capture)
    session = connect(daemons, daemon)
    task = BehaviourPublisher(daemon.spikes, source_id=1, tick_rate=RATE, context=daemons.contexts[-1])
    end = round(5.0 * RATE)
    rng = np.random.default_rng(22)
    times, units = poisson(rng, 1, end)  # rig ids 0..199: the new session maps 0..49
    position = round(1.3 * RATE)
    session.stream(times, units, position)
    model = other_model(tmp_path)
    rewrite_config(daemon, model=str(model), session=OTHER_SESSION, unit_prefix=OTHER_PREFIX, quality_window=5.0)
    daemon.signal(signal.SIGHUP)
    position = stream_until_logged(daemon, session, times, units, position, end, "switched between ticks")
    outputs = session.outputs
    # No tick lost around the switch, and the same subscriber and rig sockets throughout.
    assert [o.window_end for o in outputs] == list(range(first_tick(session), position + 1, daemon.hop_ticks))
    assert [o.tick_sequence for o in outputs] == list(range(len(outputs)))
    new = [bool(np.all(o.raw_values > 500)) for o in outputs]
    switch = new.index(True)
    assert switch >= 4 and all(new[switch:]) and not any(new[:switch]), new
    status = session.settled_status()
    assert str(model) in status.model and f"session {OTHER_SESSION}" in status.model, status.model
    assert status.daemon_count("reloads") == 1 and status.daemon_count("reloads_failed") == 0
    # Spikes of rig units 50..199 are unknown to the new session.
    before = status.daemon_count("unknown_units")
    session.stream(times, units, position + daemon.hop_ticks)
    assert session.settled_status().daemon_count("unknown_units") > before
    # A task connecting now (its own PUB on the rig's endpoint) is scored by the new configuration.
    def task_heard() -> bool:
        task.publish(READOUT, [end], [[0.0, 0.0]])
        session.heartbeats(session.watermark + 1 + daemon.hop_ticks)
        return session.settled_status().daemon_count("behaviour_accepted") > 0

    wait_until(task_heard, 15, "the task's behaviour")
    assert session.settled_status().quality_of(READOUT) is not None
    assert daemon.stop() == 0
    result = replay(capture)
    assert result.returncode == 0, result.stderr
    match = REPLAY_SUMMARY.match(result.stdout)
    assert match and int(match.group(2)) == 0, result.stdout


def test_sighup_refuses_a_changed_fixed_field_and_keeps_the_running_configuration(daemons, tmp_path):
    daemon = daemons(hop=0.1)
    session = connect(daemons, daemon)
    end = round(3.0 * RATE)
    times, units = poisson(np.random.default_rng(23), 1, end)
    position = round(1.3 * RATE)
    session.stream(times, units, position)
    model = other_model(tmp_path)
    rewrite_config(daemon, model=str(model), session=OTHER_SESSION, unit_prefix=OTHER_PREFIX, ring_capacity=4096,
                   status_interval=0.2)
    daemon.signal(signal.SIGHUP)
    position = stream_until_logged(daemon, session, times, units, position, end, "reload refused")
    assert "changes ring_capacity, status_interval, which cannot change" in daemon.stderr, daemon.stderr
    assert all(not np.any(o.raw_values > 500) for o in session.outputs)
    status = session.settled_status()
    assert status.daemon_count("reloads_failed") == 1 and status.daemon_count("reloads") == 0
    assert "session perich/c_20131003" in status.model and str(model) not in status.model


class CommandLineDaemon(Daemon):
    """A `poyo serve` started with options only, no configuration file (status every 1 s)."""

    def __init__(self, directory, *, model, hop: float = 0.1):
        self.directory = directory
        self.spikes = f"tcp://127.0.0.1:{free_port()}"
        self.outputs = f"tcp://127.0.0.1:{free_port()}"
        self.hop_ticks = round(hop * RATE)
        self.config = None
        self.stderr_path = directory / "serve.stderr"
        self._stderr = open(self.stderr_path, "wb")
        args = [str(poyo_binary()), "serve", "--model", str(model), "--session", SESSION, "--unit-prefix", UNIT_PREFIX,
                "--spikes", self.spikes, "--outputs", self.outputs, "--hop", str(hop), "--budget", "0.5",
                "--publish-raw-values"]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                                        cwd=ROOT)


def test_sighup_without_a_configuration_file_reloads_the_model_file_only(daemons, tmp_path):
    model = tmp_path / "model.safetensors"
    shutil.copyfile(MODEL, model)
    (tmp_path / "cli").mkdir()
    daemon = CommandLineDaemon(tmp_path / "cli", model=model)
    try:
        session = connect(daemons, daemon)
        end = round(4.0 * RATE)
        times, units = poisson(np.random.default_rng(24), 1, end)
        position = round(1.3 * RATE)
        session.stream(times, units, position)
        os.replace(other_model(tmp_path), model)  # same session and units, readout bias +1000
        daemon.signal(signal.SIGHUP)
        position = stream_until_logged(daemon, session, times, units, position, end, "switched between ticks")
        assert [o.tick_sequence for o in session.outputs] == list(range(len(session.outputs)))
        assert np.all(session.outputs[-1].raw_values > 500)
        status = session.settled_status()
        assert status.daemon_count("reloads") == 1 and f"session {SESSION}" in status.model
    finally:
        assert daemon.stop() == 0


def test_a_capture_log_is_a_session_that_replays_to_the_same_outputs(daemons, tmp_path):
    """A capture log with behaviour read as a session (poyo_rt.sessions): the accepted spikes, the
    behaviour and the configuration's words; `poyo-rt replay` of it in lock step decodes every tick
    the live run decoded to the same values."""
    from poyo_rt.sessions import read_recording
    capture = tmp_path / "run.capture"
    daemon = daemons(hop=0.1, capture=capture)
    session = connect(daemons, daemon)
    end = round(2.5 * RATE)
    behaviour_times = np.arange(0, end + RATE // 10, 100, dtype=np.int64)
    session.rig.publish_behaviour(READOUT, behaviour_times, truth(behaviour_times))
    times, units = poisson(np.random.default_rng(5), 1, end)
    session.stream(times, units, end)
    live = {o.window_end: o.values for o in session.outputs if o.readout == READOUT}
    assert daemon.stop() == 0

    recording = read_recording(str(capture))
    assert recording.format == "capture-log" and recording.session_id == SESSION and recording.tick_rate == RATE
    assert np.array_equal(recording.spike_times, times / RATE) and np.array_equal(recording.spike_units, units)
    assert recording.unit_words == [f"{UNIT_PREFIX}{u}" for u in recording.unit_ids]
    behaviour = recording.behaviour[READOUT]
    assert np.array_equal(behaviour.timestamps, behaviour_times / RATE)
    assert np.array_equal(behaviour.values, truth(behaviour_times).astype(np.float64))

    report = tmp_path / "report"
    result = subprocess.run(
        [str(ROOT / ".venv/bin/poyo-rt"), "replay", str(capture), "--model", str(MODEL), "--hop", "0.1",
         "--readout", READOUT, "--poyo-bin", str(poyo_binary()), "--quiet", "--report", str(report)],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr + result.stdout
    replayed = np.load(report / "outputs.npz")
    ticks = np.rint(replayed[f"{READOUT}/time_s"] * RATE).astype(np.int64)
    values = dict(zip(ticks.tolist(), replayed[f"{READOUT}/decoded"]))
    common = [t for t in live if t in values]
    assert len(common) >= len(live) - 1 and len(common) > 10, (len(common), len(live))
    for tick in common:
        assert np.array_equal(np.float32(values[tick]), live[tick].reshape(-1)), tick
