"""`poyo serve` end to end: the daemon as a subprocess, real ZeroMQ sockets, the Python reference
client (the poyo_rt package) as the rig and as the experiment.

Every test starts its own daemon (the poyo_1p3m fixture model, session perich/c_20131003, rig
unit N = vocabulary word perich/c_20131003/unit_N) on fresh TCP ports and always stops it
(SIGTERM, then SIGKILL after a timeout). The binary is $POYO_BIN, default .build/debug/poyo.

Synchronisation is by handshakes, never by sleeping: the subscriber waits for the daemon's first
status, the rig sends heartbeats until a status says the daemon heard it, and most streams run
in lock step (after the watermark that completes a tick the rig waits for that tick's output), so
no tick is superseded by a newer one and every assertion can be exact.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import pytest
import zmq
from safetensors.numpy import load_file, save_file

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from poyo_rt import model_file as poyo_model_file  # noqa: E402
from poyo_rt import read_capture_log  # noqa: E402
from poyo_rt import window as poyo_window  # noqa: E402
from poyo_rt import Output, OutputSubscriber, SpikePublisher, Status  # noqa: E402
from poyo_rt.wire import Rejection, SpikeBatch, Watermark, encode  # noqa: E402
from poyo_rt.daemon import stop_daemon  # noqa: E402

MODEL = ROOT / "Tests" / "POYOTests" / "Fixtures" / "poyo_1p3m.model.safetensors"
SESSION = "perich/c_20131003"
UNIT_PREFIX = "perich/c_20131003/unit_"
READOUT = "cursor_velocity_2d"
RATE = 30_000  # source clock: sample indices at 30 kHz
SEQUENCE = RATE  # poyo_1p3m: sequence_length 1.0 s
NUM_UNITS = 200  # the session's units: rig ids 0..199
TOLERANCE = 5e-4  # max |a - b| / max(1, max |reference|), as tools/tests/test_cli_model.py
STD = 20.0  # poyo_1p3m's cursor_velocity_2d normalization: mean 0, std 20


def poyo_binary() -> Path:
    path = Path(os.environ.get("POYO_BIN", ROOT / ".build" / "debug" / "poyo"))
    if not path.exists():
        pytest.fail(f"{path} is missing: build with `swift build` or set POYO_BIN")
    return path.resolve()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def model_description(path: Path = MODEL) -> dict:
    return poyo_model_file.read_model_file(path)[0]


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------------------
# The daemon
# --------------------------------------------------------------------------------------

class Daemon:
    """One `poyo serve` subprocess; stderr goes to a file (never a pipe that could fill up)."""

    def __init__(self, directory: Path, *, model: Path = MODEL, hop: float = 0.1, budget: float = 0.5,
                 stall_timeout: float = 30.0, status_interval: float = 0.1, raw: bool = True,
                 capture: Optional[Path] = None, env: Optional[dict] = None, extra: tuple = (),
                 outputs: Optional[str] = None, **settings):
        self.directory = directory
        self.spikes = f"tcp://127.0.0.1:{free_port()}"
        self.outputs = outputs or f"tcp://127.0.0.1:{free_port()}"
        self.hop_ticks = round(hop * RATE)
        self.config = directory / "serve.yaml"
        config = {
            "model": str(model), "session": SESSION, "unit_prefix": UNIT_PREFIX, "hop": hop, "budget": budget,
            "spikes": {"address": self.spikes, "bind": True}, "outputs": {"address": self.outputs, "bind": True},
            "stall_timeout": stall_timeout, "status_interval": status_interval, "threads": 1,
            "publish_raw_values": raw, **settings,
        }
        self.config.write_text(json.dumps(config, indent=1))  # JSON is YAML
        args = [str(poyo_binary()), "serve", "--config", str(self.config), *extra]
        if capture is not None:
            args += ["--capture", str(capture)]
        self.stderr_path = directory / "serve.stderr"
        self._stderr = open(self.stderr_path, "wb")
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=self._stderr, env={**os.environ, **(env or {})}, cwd=ROOT)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    def stop(self, timeout: float = 5.0) -> int:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit status."""
        status = stop_daemon(self.process, timeout)
        self._stderr.close()
        return status

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def daemons(tmp_path):
    """Starts daemons (`daemons(**options)`); every one is stopped when the test ends."""
    started: list[Daemon] = []
    contexts: list[zmq.Context] = []

    def start(**options) -> Daemon:
        directory = tmp_path / f"daemon{len(started)}"
        directory.mkdir()
        daemon = Daemon(directory, **options)
        started.append(daemon)
        return daemon

    start.contexts = contexts
    yield start
    for daemon in started:
        daemon.stop()
    for context in contexts:
        context.destroy(linger=0)


# --------------------------------------------------------------------------------------
# The rig and the experiment
# --------------------------------------------------------------------------------------

class Session:
    """A rig (SpikePublisher) and an experiment (OutputSubscriber) connected to one daemon, past
    the slow-joiner handshakes; every message the subscriber receives is kept in order."""

    def __init__(self, daemon: Daemon, context: zmq.Context, source_id: int = 1):
        self.daemon = daemon
        self.sub = OutputSubscriber(daemon.outputs, context=context)
        self.rig = SpikePublisher(daemon.spikes, source_id=source_id, tick_rate=RATE, context=context,
                                  high_water_mark=1_000_000)
        self.outputs: list[Output] = []
        self.statuses: list[Status] = []
        self.log: list = []  # every message received, in order
        self.watermark = -1
        # The subscriber: the first status says the subscription reached the daemon.
        self.pump_until(lambda: self.statuses, timeout=30, what="the daemon's first status")
        # The rig: heartbeats (watermark 0) until a status shows the daemon heard them.
        self.rig.wait_for_subscriber(lambda: (self.pump(0.02), self.heard())[1], timeout=15)
        self.watermark = 0

    def heard(self) -> bool:
        return bool(self.statuses) and self.statuses[-1].received > 0

    def pump(self, timeout: float = 0.0) -> Optional[object]:
        """Receives at most one message (waiting up to `timeout`)."""
        message = self.sub.receive(timeout=timeout)
        if message is not None:
            self.log.append(message)
            (self.outputs if isinstance(message, Output) else self.statuses).append(message)
            if not self.daemon.alive():
                raise AssertionError(f"the daemon died ({self.daemon.process.returncode}):\n{self.daemon.stderr}")
        return message

    def pump_until(self, condition: Callable[[], object], timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while not condition():
            if not self.daemon.alive():
                raise AssertionError(f"the daemon exited ({self.daemon.process.returncode}) while waiting for "
                                     f"{what}:\n{self.daemon.stderr}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}; stderr:\n{self.daemon.stderr}")
            self.pump(min(0.05, max(0.0, deadline - time.monotonic())))
        return condition()

    def output_for(self, tick: int) -> Optional[Output]:
        for output in reversed(self.outputs):
            if output.window_end == tick:
                return output
        return None

    def tick_done(self, tick: int) -> bool:
        """The daemon is done with `tick`: its output is here, or a status counts it as run,
        skipped or failed (a skipped tick publishes nothing)."""
        if self.output_for(tick) is not None:
            return True
        count = (tick - first_tick(self)) // self.daemon.hop_ticks + 1
        return any(s.ticks_run + s.ticks_skipped + s.daemon_count("ticks_failed") >= count for s in self.statuses[-1:])

    def fresh_status(self, after_ns: int, timeout: float = 10) -> Status:
        """The first status made after `after_ns` (daemon CLOCK_MONOTONIC)."""
        return self.pump_until(lambda: next((s for s in self.statuses if s.monotonic_ns > after_ns), None),
                               timeout, "a fresh status")

    def settled_status(self, timeout: float = 15) -> Status:
        """A status made after everything sent so far was processed. The ingest thread handles
        messages in order and the scheduler drains the ring before a tick, so once the output of
        a tick completed by the last message sent is here, a later status counts everything.
        (Advances the stream to the next tick with heartbeats if the last message completed none.)"""
        hop = self.daemon.hop_ticks
        tick = -(-(self.watermark + 1) // hop) * hop
        if tick < first_tick(self):
            tick = first_tick(self)
        if tick <= self.watermark + 1 and self.output_for(tick) is None:
            tick += hop
        if tick > self.watermark + 1:
            self.heartbeats(tick)
        return self.fresh_status(self.output_for(tick).stages.published, timeout)

    def stream(self, times: np.ndarray, units: np.ndarray, end: int, *, batch: int = 300, lockstep: bool = True,
               pace: float = 0.0, timeout: float = 15) -> None:
        """Sends spikes (sorted times in ticks) up to `end` in batches of `batch` ticks, each batch
        carrying its watermark (batch end - 1). In lock step, after the watermark that completes
        a tick the rig waits for that tick's output. `pace`: wall seconds per source second."""
        start = self.watermark + 1
        wall0, first = time.monotonic(), start
        lo = np.searchsorted(times, start)
        for batch_start in range(start, end, batch):
            batch_end = min(batch_start + batch, end)
            hi = np.searchsorted(times, batch_end)
            self.last_sent_ns = time.monotonic_ns()
            self.rig.publish(times[lo:hi], units[lo:hi], watermark=batch_end - 1)
            lo = hi
            self.watermark = batch_end - 1
            if pace > 0:
                wait = wall0 + (batch_end - first) / RATE * pace - time.monotonic()
                if wait > 0:
                    self.pump(wait)
            self.pump(0)
            if lockstep:
                hop = self.daemon.hop_ticks
                for tick in range((batch_start // hop + 1) * hop, batch_end + 1, hop):
                    if tick >= first_tick(self) and tick <= self.watermark + 1:
                        self.pump_until(lambda: self.tick_done(tick), timeout, f"the output of tick {tick}")

    def heartbeats(self, end: int, *, step: int = 300, lockstep: bool = True) -> None:
        """Watermarks only (silence) up to `end`."""
        self.stream(np.zeros(0, np.int64), np.zeros(0, np.uint32), end, batch=step, lockstep=lockstep)


def first_tick(session: Session) -> int:
    """The daemon's first tick: the first grid time T with T - sequence_length >= the first data
    time it saw (the handshake's watermark 0)."""
    hop = session.daemon.hop_ticks
    return -(-SEQUENCE // hop) * hop


def connect(daemons, daemon: Daemon, **options) -> Session:
    context = zmq.Context()
    daemons.contexts.append(context)
    return Session(daemon, context, **options)


def poisson(rng: np.random.Generator, start: int, end: int, rate_hz: float = 20.0, units: int = NUM_UNITS):
    """Poisson spikes of `units` units in [start, end) ticks, sorted by time (ties: any order)."""
    counts = rng.poisson(rate_hz * (end - start) / RATE, size=units)
    unit = np.repeat(np.arange(units, dtype=np.uint32), counts)
    times = rng.integers(start, end, size=unit.size, dtype=np.int64)
    order = np.argsort(times, kind="stable")
    return times[order], unit[order]


def offline_forward(tmp_path: Path, tick: int, times: np.ndarray, units: np.ndarray, model: Path = MODEL) -> np.ndarray:
    """Raw outputs of `poyo forward` on the window of `tick`, built from the spikes sent."""
    description = model_description(model)
    hp = description["hyperparameters"]
    unit_vocab, session_vocab = description["unit_vocab"], description["session_vocab"]
    # The session's units in vocabulary-row order (rig ids sorted by row).
    rig_ids = sorted(range(NUM_UNITS), key=lambda i: unit_vocab[f"{UNIT_PREFIX}{i}"])
    rows = [unit_vocab[f"{UNIT_PREFIX}{i}"] for i in rig_ids]
    local = {rig: position for position, rig in enumerate(rig_ids)}
    start = tick - SEQUENCE
    inside = (times >= start) & (times < tick)
    window = poyo_window.make_window(
        rows, np.array([local[int(u)] for u in units[inside]], dtype=np.int64),
        (times[inside] - start).astype(np.float64) / RATE,
        sequence_length=hp["sequence_length"], latent_step=hp["latent_step"],
        num_latents_per_step=hp["num_latents_per_step"], session_row=session_vocab[SESSION],
        output_timestamps=[hp["sequence_length"]])
    inputs, out = tmp_path / f"window_{tick}.safetensors", tmp_path / f"output_{tick}.safetensors"
    save_file({k: np.ascontiguousarray(v) for k, v in window.items()}, str(inputs))
    result = subprocess.run([str(poyo_binary()), "forward", "--model", str(model), "--inputs", str(inputs),
                             "--output", str(out)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return load_file(str(out))["output"]


def assert_counters_add_up(status: Status) -> None:
    rejected = int(np.sum(status.rejections))
    other = status.daemon_count("other_source")
    assert status.accepted + rejected + other == status.received, (status.accepted, rejected, other, status.received)


# --------------------------------------------------------------------------------------
# a. Outputs equal the offline forward pass
# --------------------------------------------------------------------------------------

def model_thread_cpu_seconds(pid: int, seconds: float) -> list:
    """[(thread name, CPU seconds, voluntary context switches)] of the daemon's model threads
    (poyo-scheduler, poyo-worker-N; a reload's old and new workers share names) over ``seconds``
    of wall time, sorted by name (/proc/PID/task/TID/stat: utime + stime; status:
    voluntary_ctxt_switches, a thread going to sleep)."""
    def sample() -> dict:
        used = {}
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
                fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
                status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
            except FileNotFoundError:  # the thread exited meanwhile
                continue
            if name == "poyo-scheduler" or name.startswith("poyo-worker"):
                sleeps = int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", status, re.M).group(1))
                used[tid] = (name, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), sleeps)
        return used
    before = sample()
    time.sleep(seconds)
    after = sample()
    return sorted((name, cpu - before[tid][1], sleeps - before[tid][2])
                  for tid, (name, cpu, sleeps) in after.items() if tid in before)


@pytest.mark.parametrize("threads,busy_poll", [(1, False), (2, False), (2, True)], ids=["1t", "2t", "2t_busy_poll"])
def test_outputs_equal_the_offline_forward(daemons, tmp_path, threads, busy_poll):
    daemon = daemons(hop=0.1, budget=0.5, raw=True, threads=threads, busy_poll=busy_poll)
    session = connect(daemons, daemon)
    rng = np.random.default_rng(1)
    end = round(2.2 * RATE)
    times, units = poisson(rng, 1, end)  # the handshake's watermark 0 already covers tick 0
    session.stream(times, units, end, batch=30)  # 1 ms batches, each with its watermark
    ticks = list(range(first_tick(session), end + 1, daemon.hop_ticks))
    got = [session.output_for(t) for t in ticks]
    assert all(o is not None for o in got), "a tick's output is missing"
    assert [o.tick_sequence for o in got] == list(range(len(ticks))), "tick_sequence not 0, 1, 2, ..."
    for output in got:
        assert output.readout == READOUT and output.tick_rate == RATE
        assert output.window_end - output.window_start == SEQUENCE
        assert output.timestamps.tolist() == [output.window_end]  # one query, at the tick
        assert output.values.shape == (1, 2) and output.raw_values.shape == (1, 2)
        np.testing.assert_allclose(output.values, output.raw_values * STD, rtol=1e-6)  # physical = raw * std
        s = output.stages
        assert s.received <= s.window_built <= s.forward_done <= s.published
    for tick in (ticks[0], ticks[len(ticks) // 2], ticks[-1]):
        reference = offline_forward(tmp_path, tick, times, units)
        produced = session.output_for(tick).raw_values
        error = np.abs(produced - reference).max() / max(1.0, np.abs(reference).max())
        assert error <= TOLERANCE, f"tick {tick}: {produced} vs offline {reference}"
    # Different windows decode differently: the comparison is not trivially satisfied.
    assert len({tuple(o.raw_values.ravel()) for o in got}) == len(got)
    status = session.settled_status()
    assert status.ticks_run == len(ticks) and status.ticks_skipped == 0 and status.late == 0
    assert status.dropped == 0 and status.missed_messages == 0 and status.daemon_count("unknown_units") == 0
    assert_counters_add_up(status)
    # Between ticks (none now: the stream has ended) busy-polling model threads spin, the others sleep.
    used = model_thread_cpu_seconds(daemon.process.pid, 1.0)
    assert [name for name, _, _ in used] == ["poyo-scheduler"] + [f"poyo-worker-{i}" for i in range(1, threads)], used
    for name, seconds, sleeps in used:
        assert (seconds >= 0.2) if busy_poll else (seconds <= 0.05), f"{name} used {seconds} s of CPU in 1 s: {used}"
        # Spinning means not sleeping (a poll that waits in the kernel went to sleep 13 000 times a second).
        assert sleeps <= 50 if busy_poll else True, f"{name} went to sleep {sleeps} times in 1 s: {used}"
    if busy_poll:
        assert "busy polling" in next(line for line in daemon.stderr.splitlines() if "endpoints=" in line)


# --------------------------------------------------------------------------------------
# b. Silence still ticks
# --------------------------------------------------------------------------------------

def test_silence_still_produces_one_output_per_tick(daemons, tmp_path):
    daemon = daemons(hop=0.1)
    session = connect(daemons, daemon)
    rng = np.random.default_rng(2)
    spiking_end, silent_end = round(1.2 * RATE), round(2.7 * RATE)
    times, units = poisson(rng, 1, spiking_end)
    session.stream(times, units, spiking_end)
    session.heartbeats(silent_end)  # 1.5 s of watermarks every 10 ms and not one spike
    ticks = list(range(first_tick(session), silent_end + 1, daemon.hop_ticks))
    ends = [o.window_end for o in session.outputs]
    assert ends == ticks, "not exactly one output per tick, in order"
    assert [o.tick_sequence for o in session.outputs] == list(range(len(ticks)))
    # Windows that lie wholly in the silence hold start/end tokens only: all decode alike, and as
    # the offline forward pass decodes an empty window.
    silent = [o for o in session.outputs if o.window_start >= spiking_end]
    assert len(silent) == 6  # ticks 2.2, 2.3, ..., 2.7 s
    for output in silent:
        assert np.isfinite(output.values).all()
        np.testing.assert_array_equal(output.raw_values, silent[0].raw_values)
    reference = offline_forward(tmp_path, silent[0].window_end, times, units)
    assert np.abs(silent[0].raw_values - reference).max() <= TOLERANCE * max(1.0, np.abs(reference).max())
    assert not np.array_equal(session.output_for(ticks[0]).raw_values, silent[0].raw_values)
    status = session.settled_status()
    assert status.ticks_skipped == 0 and status.late == 0 and not status.source_stalled


# --------------------------------------------------------------------------------------
# c. Late, reordered, unknown and malformed input
# --------------------------------------------------------------------------------------

def test_late_backwards_unknown_and_malformed_messages_are_counted(daemons):
    daemon = daemons(hop=0.1)
    session = connect(daemons, daemon)
    rng = np.random.default_rng(3)
    end = round(1.1 * RATE)
    times, units = poisson(rng, 1, end)
    session.stream(times, units, end)
    base = session.settled_status()
    assert base.late == 0 and int(np.sum(base.rejections)) == 0
    rig, w, last_event = session.rig, session.watermark, int(times[-1])
    accepted_before = rig.sequence

    # Late: the batch's first events are at or before the previous watermark (but not before
    # the last event accepted): accepted, those two events dropped and counted.
    rig.publish([last_event, w, w + 10], [1, 2, 3], watermark=w + 100)
    # Time going back across batches: the first event precedes the last accepted one (w + 10).
    rig.publish([w + 5], [4], watermark=w + 200)
    # A watermark going back.
    rig.watermark(w + 50)
    # Unknown units: 200 is past the session's 200 units, 4e9 is no unit at all.
    rig.publish([w + 300, w + 301, w + 302], [200, 4_000_000_000, 5], watermark=w + 400)
    session.watermark = w + 400
    # Malformed messages, sent raw on the rig's socket (they never get a sequence number).
    good = encode(SpikeBatch(1, rig.sequence, RATE, np.array([w + 401]), np.array([6], np.uint32), w + 402))
    rig.socket.send_multipart([b"spikes"])                              # frame_count (1 frame)
    rig.socket.send_multipart(good[:2])                                 # frame_count (payload missing)
    rig.socket.send_multipart(good + [b"extra"])                        # frame_count (4 frames)
    rig.socket.send_multipart([good[0], b"XXXX" + bytes(good[1][4:]), good[2]])  # bad_magic
    rig.socket.send_multipart([b"spikes!"] + good[1:])                  # bad_topic
    rig.socket.send_multipart([good[0], good[1][:20], good[2]])         # header_size
    # Another source's heartbeat: counted, not decoded.
    rig.socket.send_multipart(encode(Watermark(2, 0, RATE, w + 1000)))
    # The daemon keeps serving: new spikes, and the ticks they complete.
    more_times, more_units = poisson(rng, w + 401, w + 1 + round(0.3 * RATE))
    session.stream(more_times, more_units, w + 1 + round(0.3 * RATE))
    status = session.settled_status()
    assert daemon.alive()

    def delta(value):
        return value(status) - value(base)

    assert delta(lambda s: s.late) == 2
    assert delta(lambda s: s.rejected(Rejection.TIME_WENT_BACKWARDS)) == 1
    assert delta(lambda s: s.rejected(Rejection.WATERMARK_WENT_BACKWARDS)) == 1
    assert delta(lambda s: s.rejected(Rejection.FRAME_COUNT)) == 3
    assert delta(lambda s: s.rejected(Rejection.BAD_MAGIC)) == 1
    assert delta(lambda s: s.rejected(Rejection.BAD_TOPIC)) == 1
    assert delta(lambda s: s.rejected(Rejection.HEADER_SIZE)) == 1
    assert delta(lambda s: int(np.sum(s.rejections))) == 8
    assert delta(lambda s: s.daemon_count("unknown_units")) == 2
    assert delta(lambda s: s.daemon_count("other_source")) == 1
    assert delta(lambda s: s.missed_messages) == 0
    # Every sequenced message after the baseline was admitted except the two rejected by the
    # sequence rules (their numbers are used up, so nothing counts as missed).
    assert delta(lambda s: s.accepted) == rig.sequence - accepted_before - 2
    assert delta(lambda s: s.received) == rig.sequence - accepted_before + 7
    assert_counters_add_up(status)
    assert status.ticks_skipped == 0 and status.daemon_count("ticks_failed") == 0
    assert [o.tick_sequence for o in session.outputs] == list(range(len(session.outputs)))
    # Every kind of bad input also gets a clear message in the log (rate-limited per kind).
    log = daemon.stderr
    for said in ["rejected rig message: time_went_backwards", "rejected rig message: bad_magic",
                 "rejected rig message: frame_count", "late spike events", "rig units the configuration does not map",
                 "this daemon does not decode"]:
        assert said in log, f"{said!r} not in the log:\n{log}"


# --------------------------------------------------------------------------------------
# d. Overload
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("ring", [1 << 20, 1 << 16], ids=["default_ring", "small_ring"])
def test_overload_burst_is_shed_counted_and_survived(daemons, ring):
    # The default ring (2^20 entries) holds the whole burst: the daemon sheds ticks. A small ring
    # (65 536 entries) overflows too: the spikes it loses are counted as dropped.
    daemon = daemons(hop=0.1, budget=0.5, ring_capacity=ring)
    session = connect(daemons, daemon)
    rng = np.random.default_rng(4)
    end = round(1.1 * RATE)
    times, units = poisson(rng, 1, end)
    session.stream(times, units, end)
    base = session.settled_status()
    # The burst: 200 units at 2 kHz (100x the nominal rate) for 2 s of source time, 1 ms batches
    # each with its watermark, sent as fast as the rig can.
    burst_start = session.watermark + 1
    burst_end = burst_start + 2 * RATE
    burst_times, burst_units = poisson(rng, burst_start, burst_end, rate_hz=2000)
    sent_before = session.rig.sequence
    session.stream(burst_times, burst_units, burst_end, batch=30, lockstep=False)
    burst_messages = session.rig.sequence - sent_before
    # Then one watermark a whole window later (silence), and nominal spikes in lock step: the
    # daemon must decode these new windows, which hold no burst spike.
    session.rig.watermark(burst_end + SEQUENCE - 1)
    session.watermark = burst_end + SEQUENCE - 1
    # It may still be busy with the burst's windows and skip the first of these ticks; it must
    # come back to decoding every tick (three in a row) within 5 s of source time.
    after_start = burst_end + SEQUENCE
    after_times, after_units = poisson(rng, after_start, after_start + 5 * RATE)
    position = after_start
    while not (len(session.outputs) >= 3 and session.outputs[-3].window_start >= burst_end
               and session.outputs[-1].tick_sequence - session.outputs[-3].tick_sequence == 2):
        assert position < after_start + 5 * RATE, "no steady decoding after the burst"
        position += daemon.hop_ticks
        session.stream(after_times, after_units, position, timeout=60)
    status = session.settled_status(timeout=30)
    assert daemon.alive()
    fresh = [o for o in session.outputs if o.window_start >= burst_end]
    assert all(np.isfinite(o.values).all() for o in fresh)
    assert_counters_add_up(status)
    assert status.received - base.received >= burst_messages  # nothing silently lost on the socket
    # Every tick is accounted for: run (published), skipped or failed; the subscriber's gaps
    # in tick_sequence are exactly the ticks not run.
    last = session.outputs[-1]
    ticks_total = status.ticks_run + status.ticks_skipped + status.daemon_count("ticks_failed")
    assert last.tick_sequence + 1 == ticks_total
    assert (last.window_end - first_tick(session)) // daemon.hop_ticks + 1 == ticks_total
    assert session.sub.missed_ticks == status.ticks_skipped + status.daemon_count("ticks_failed")
    assert status.ticks_run == len(session.outputs)
    # The daemon could not keep up, and says so: superseded or over-deadline ticks, ring drops.
    assert status.ticks_skipped > base.ticks_skipped
    assert status.dropped + status.late <= len(burst_times) + burst_messages
    if ring < len(burst_times) // 4:
        assert status.dropped > 0, f"a {ring}-entry ring cannot hold a {len(burst_times)}-spike burst"


# --------------------------------------------------------------------------------------
# e. Stopping, and the capture log
# --------------------------------------------------------------------------------------

REPLAY_SUMMARY = re.compile(r"replayed (\d+) ticks: (\d+) mismatches")


def replay(capture: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(poyo_binary()), "replay", str(capture)], capture_output=True, text=True, timeout=timeout)


def test_sigterm_stops_cleanly_and_the_capture_replays(daemons, tmp_path):
    capture = tmp_path / "run.capture"
    daemon = daemons(hop=0.1, capture=capture)
    session = connect(daemons, daemon)
    rng = np.random.default_rng(5)
    end = round(1.5 * RATE)
    times, units = poisson(rng, 1, end)
    session.stream(times, units, end)
    published = len(session.outputs)
    assert published == 6
    started, signalled_ns = time.monotonic(), time.monotonic_ns()
    daemon.signal(signal.SIGTERM)
    assert daemon.process.wait(timeout=2) == 0
    assert time.monotonic() - started < 2
    stderr = daemon.stderr
    assert re.search(r"ticks_run=6 .*stopped", stderr), stderr
    # The status published on the way out (made after the signal) reaches a connected subscriber.
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and not any(s.monotonic_ns > signalled_ns for s in session.statuses):
        message = session.sub.receive(timeout=0.1)
        if isinstance(message, Status):
            session.statuses.append(message)
    final = [s for s in session.statuses if s.monotonic_ns > signalled_ns]
    assert final and final[-1].ticks_run == published and final[-1].ticks_skipped == 0
    result = replay(capture)
    assert result.returncode == 0, result.stderr
    # The result is on stdout (diagnostics only on stderr), and a complete log says nothing more.
    match = REPLAY_SUMMARY.match(result.stdout)
    assert match and int(match.group(1)) == published and int(match.group(2)) == 0, result.stdout
    assert len(result.stdout.splitlines()) == 1 and "replayed" not in result.stderr, (result.stdout, result.stderr)
    # --json: every line JSON, the outputs and then the summary.
    lines = [json.loads(line) for line in subprocess.run(
        [str(poyo_binary()), "replay", "--json", str(capture)], capture_output=True, text=True, timeout=120,
        check=True).stdout.splitlines()]
    assert len(lines) == published + 1 and all("readout" in line for line in lines[:-1])
    summary = lines[-1]["summary"]
    assert summary["ticks_compared"] == published and summary["mismatches"] == 0
    assert summary["log_end"] == {"state": "complete"}


def test_kill_9_leaves_a_capture_that_reads_to_its_last_complete_record(daemons, tmp_path):
    capture = tmp_path / "run.capture"
    daemon = daemons(hop=0.1, capture=capture)
    session = connect(daemons, daemon)
    rng = np.random.default_rng(6)
    end = round(1.6 * RATE)
    times, units = poisson(rng, 1, end)
    session.stream(times, units, round(1.3 * RATE))
    assert len(session.outputs) == 4
    # Killed mid-stream: batches still arriving, ticks running (paced at twice real time).
    session.stream(times, units, end, batch=30, lockstep=False, pace=0.5)
    daemon.kill()
    seen = len(session.outputs)
    while (message := session.sub.receive(timeout=0.2)) is not None:  # what was on its way
        seen += isinstance(message, Output)
    assert daemon.process.returncode == -signal.SIGKILL
    size = capture.stat().st_size
    assert size > 0

    def check(path: Path, at_least: int) -> int:
        result = replay(path)
        # Never a crash; and no mismatch: a log holds a tick's watermark before its output (one
        # buffer, appended in order), so whatever output survived the cut is reproduced. Exit 0
        # when the log is whole; 2 when it ends inside a record (the replay is partial), and the
        # second line of stdout says where and that the records before it were replayed.
        assert result.returncode in (0, 1, 2), f"replay crashed ({result.returncode}): {result.stderr}"
        log = read_capture_log(path)
        assert result.returncode == (2 if log.partial else 0), (result.stdout, result.stderr)
        match = REPLAY_SUMMARY.match(result.stdout)
        assert match, (result.stdout, result.stderr)
        assert int(match.group(2)) == 0, result.stdout  # what was replayed matches bit for bit
        assert int(match.group(1)) >= at_least, result.stdout
        lines = result.stdout.splitlines()
        if log.partial:
            assert lines[1] == (f"capture log {path} ends inside a record at byte {log.end_offset} (its last "
                                f"{log.file_bytes - log.end_offset} of {log.file_bytes} bytes are a partial record, "
                                f"as a kill during a write leaves): the {log.records} complete records before it "
                                f"were replayed"), result.stdout
        else:
            assert len(lines) == 1, result.stdout
        return int(match.group(1))

    # The log as the kill left it (the writer flushes every 20 ms: the tail may be missing).
    replayed = check(capture, at_least=4)
    assert replayed <= seen
    # A torn last record (a kill in the middle of a write): cut the file at every point of
    # its last 64 bytes; the reader stops at the last complete record, and says so.
    data = capture.read_bytes()
    torn = tmp_path / "torn.capture"
    partial = 0
    for cut in range(1, 65, 13):
        torn.write_bytes(data[:-cut])
        check(torn, at_least=min(replayed, 4) - 1)
        partial += read_capture_log(torn).partial
    assert partial > 0
    # Nothing but the file's magic and half a session record: a clear refusal, not a crash.
    torn.write_bytes(data[:20])
    result = replay(torn)
    assert result.returncode == 1 and "ends inside a record at byte 8" in result.stderr, (result.returncode, result.stderr)
    assert "session record" in result.stderr and result.stdout == "", result.stderr


# --------------------------------------------------------------------------------------
# f. A stalled source
# --------------------------------------------------------------------------------------

def test_stalled_source_is_reported_and_resumes(daemons):
    daemon = daemons(hop=0.1, stall_timeout=0.3, status_interval=0.05)
    session = connect(daemons, daemon)
    rng = np.random.default_rng(7)
    end = round(2.0 * RATE)
    times, units = poisson(rng, 1, end)
    session.stream(times, units, round(1.3 * RATE))
    assert not any(s.source_stalled for s in session.statuses)
    mark = len(session.log)
    # The rig falls silent (no watermark): within the stall timeout plus a status period the
    # state bit is set, not before the timeout.
    stalled = session.pump_until(lambda: next((s for s in session.statuses if s.source_stalled), None), 5,
                                 "a status saying source_stalled")
    assert stalled.monotonic_ns - session.last_sent_ns > 0.3e9  # same host: the same CLOCK_MONOTONIC
    assert not stalled.no_source
    # Still stalled for as long as the silence lasts: a few more statuses, all stalled.
    stalled_at = len(session.statuses)
    session.pump_until(lambda: len(session.statuses) >= stalled_at + 3, 5, "more statuses")
    assert all(s.source_stalled for s in session.statuses[stalled_at - 1:])
    assert not any(isinstance(m, Output) for m in session.log[mark:]), "an output while stalled"
    assert "source stalled" in daemon.stderr
    # Watermarks again: outputs resume, with no tick lost, and the state bit clears.
    session.stream(times, units, end)
    assert [o.window_end for o in session.outputs] == list(range(first_tick(session), end + 1, daemon.hop_ticks))
    assert [o.tick_sequence for o in session.outputs] == list(range(len(session.outputs)))
    session.pump_until(lambda: not session.statuses[-1].source_stalled, 5, "a status no longer stalled")
    wait_until(lambda: "source resumed" in daemon.stderr, 5, "'source resumed' in the log")


# --------------------------------------------------------------------------------------
# g. Hot swap (SIGHUP)
# --------------------------------------------------------------------------------------

def serve_a_copy_of_the_model(daemons, tmp_path, seed, seconds):
    """A daemon serving a copy of the fixture model in tmp_path, 1.3 s of spikes already decoded;
    returns (model path, daemon, session, times, units, position, end)."""
    model = tmp_path / "model.safetensors"
    shutil.copyfile(MODEL, model)
    daemon = daemons(model=model, hop=0.1)
    session = connect(daemons, daemon)
    end = round(seconds * RATE)
    times, units = poisson(np.random.default_rng(seed), 1, end)
    position = round(1.3 * RATE)
    session.stream(times, units, position)
    return model, daemon, session, times, units, position, end


def stream_until_logged(daemon, session, times, units, position, end, text):
    """Streams one tick at a time until `text` appears in the daemon's log (waiting, once the
    stream is 3 ticks from `end`: loading a model on a busy machine may take longer than the
    stream), then three more ticks; returns the new stream position."""
    deadline = time.monotonic() + 30
    while text not in daemon.stderr:
        assert time.monotonic() < deadline, f"{text!r} never logged:\n{daemon.stderr}"
        if position < end - 3 * daemon.hop_ticks:
            position += daemon.hop_ticks
            session.stream(times, units, position)
        else:
            session.pump(0.05)
    position += 3 * daemon.hop_ticks
    session.stream(times, units, position)
    return position


def test_sighup_swaps_the_model_between_ticks(daemons, tmp_path):
    model, daemon, session, times, units, position, end = serve_a_copy_of_the_model(daemons, tmp_path, 8, 4.0)
    # Another valid model of the same session and units: the readout bias moved by +1000, so
    # every raw output of the new model is about 1000 above the old one's.
    description, tensors = poyo_model_file.read_model_file(MODEL)
    tensors["readout.bias"] = tensors["readout.bias"] + 1000.0
    replacement = tmp_path / "model.next"
    poyo_model_file.write_model_file(replacement, description, tensors)
    os.replace(replacement, model)
    daemon.signal(signal.SIGHUP)
    position = stream_until_logged(daemon, session, times, units, position, end, "switched between ticks")
    outputs = session.outputs
    # No tick lost around the swap: consecutive ticks, consecutive sequence numbers.
    assert [o.window_end for o in outputs] == list(range(first_tick(session), position + 1, daemon.hop_ticks))
    assert [o.tick_sequence for o in outputs] == list(range(len(outputs)))
    # A prefix decoded by the old model, the rest by the new one.
    new = [bool(np.all(o.raw_values > 500)) for o in outputs]
    assert all(not np.any(o.raw_values > 500) for o, n in zip(outputs, new) if not n)
    swap = new.index(True)
    assert swap >= 4 and all(new[swap:]), new
    reference = offline_forward(tmp_path, outputs[-1].window_end, times, units, model=model)
    assert np.abs(outputs[-1].raw_values - reference).max() <= TOLERANCE * max(1.0, np.abs(reference).max())
    # The status names the model now loaded (its new CRC-32).
    crc = f"crc32 {zlib.crc32(model.read_bytes()):x}"
    status = session.settled_status()
    assert crc in status.model, status.model
    assert "reloaded" in daemon.stderr and "reload failed" not in daemon.stderr


def test_boolean_fields_from_the_command_line_and_the_busy_poll_warning(daemons, tmp_path):
    """--no-busy-poll and --no-publish-raw-values override a file's true (the command line wins)."""
    config = tmp_path / "serve.yaml"
    config.write_text(f"model: {MODEL}\nsession: {SESSION}\nunit_prefix: {UNIT_PREFIX}\nbusy_poll: true\npublish_raw_values: true\n")
    for flag, expected in (([], "busy_poll: true"), (["--no-busy-poll"], "busy_poll: false"),
                           ([], "publish_raw_values: true"), (["--no-publish-raw-values"], "publish_raw_values: false")):
        result = subprocess.run([str(poyo_binary()), "serve", "--config", str(config), "--print-config", *flag],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 0 and expected in result.stdout.splitlines(), result
    # Two spinning model threads on one CPU of model_cpu take each other's CPU: said at start.
    daemon = daemons(threads=2, busy_poll=True, model_cpu=0)
    wait_until(lambda: "endpoints=" in daemon.stderr, 30, "the serving line")
    assert "busy_poll with threads 2 on 1 CPU(s) of model_cpu" in daemon.stderr, daemon.stderr


@pytest.mark.parametrize("encode_ahead", [True, False], ids=["encode_ahead", "no_encode_ahead"])
def test_encoding_ahead_prepares_the_ticks_of_a_real_time_stream(daemons, tmp_path, encode_ahead):
    """encode_ahead (the default): with spikes in real time, the scheduler prepares each next
    window's encoder between ticks and the ticks resume it (ticks_prepared); the outputs are the
    offline forward pass's. Off, no tick is prepared."""
    daemon = daemons(hop=0.02, budget=0.5, threads=2, encode_ahead=encode_ahead)
    session = connect(daemons, daemon)
    end = round(1.6 * RATE)
    times, units = poisson(np.random.default_rng(4), 1, end)
    session.stream(times, units, end, batch=30, lockstep=False, pace=1.0)  # 1 ms batches, real time
    status = session.settled_status()
    ticks = status.ticks_run
    # (A tick may be superseded when the Python rig's pacing lags: skipped, not prepared or run.)
    assert ticks >= 25 and status.ticks_skipped <= 2, status
    prepared = status.daemon_count("ticks_prepared")
    if encode_ahead:
        # The first tick has nothing prepared; in a slow moment the odd tick may find its
        # preparation not started yet.
        assert prepared >= ticks * 3 // 4, f"{prepared} of {ticks} ticks prepared"
    else:
        assert prepared == 0
    last = max(o.window_end for o in session.outputs)
    for tick in (first_tick(session) + 10 * daemon.hop_ticks, last):
        reference = offline_forward(tmp_path, tick, times, units)
        produced = session.output_for(tick).raw_values
        assert np.abs(produced - reference).max() <= TOLERANCE * max(1.0, np.abs(reference).max())


def test_busy_polling_moves_to_the_reloaded_model(daemons, tmp_path):
    """busy_poll: only the serving model's workers spin; after a reload switches models the old
    model's worker stops spinning (parked, then released) and the new one's spins."""
    model = tmp_path / "model.safetensors"
    shutil.copyfile(MODEL, model)
    daemon = daemons(model=model, hop=0.1, threads=2, busy_poll=True)
    session = connect(daemons, daemon)
    end = round(4.0 * RATE)
    times, units = poisson(np.random.default_rng(3), 1, end)
    position = round(1.3 * RATE)
    session.stream(times, units, position)
    daemon.signal(signal.SIGHUP)
    stream_until_logged(daemon, session, times, units, position, end, "switched between ticks")
    used = model_thread_cpu_seconds(daemon.process.pid, 1.0)
    # The replaced model is released (its worker thread gone) or at least parked; the new one spins.
    spinning = [name for name, seconds, _ in used if seconds >= 0.2]
    idle = [name for name, seconds, _ in used if seconds <= 0.05]
    assert spinning == ["poyo-scheduler", "poyo-worker-1"], used
    assert len(spinning) + len(idle) == len(used), used
    workers = [tid for tid in os.listdir(f"/proc/{daemon.process.pid}/task")
               if Path(f"/proc/{daemon.process.pid}/task/{tid}/comm").read_text().strip() == "poyo-worker-1"]
    assert len(workers) == 1, f"the replaced model's worker is still there: {used}"


def test_sighup_with_a_corrupt_model_keeps_the_running_one(daemons, tmp_path):
    model, daemon, session, times, units, position, end = serve_a_copy_of_the_model(daemons, tmp_path, 9, 3.0)
    good = model.read_bytes()
    model.write_bytes(good[: len(good) // 3])  # truncated mid-file, as a half-finished copy would be
    daemon.signal(signal.SIGHUP)
    position = stream_until_logged(daemon, session, times, units, position, end, "reload failed")
    assert "truncated" in daemon.stderr
    # The whole file is checked on reload as at start: the message names the format's rule.
    assert "not a valid safetensors file (rule: data_offsets lie inside the data section)" in daemon.stderr
    outputs = session.outputs
    assert [o.window_end for o in outputs] == list(range(first_tick(session), position + 1, daemon.hop_ticks))
    model.write_bytes(good)  # the decoder kept the model it had: outputs equal the original's
    reference = offline_forward(tmp_path, outputs[-1].window_end, times, units, model=model)
    assert np.abs(outputs[-1].raw_values - reference).max() <= TOLERANCE * max(1.0, np.abs(reference).max())
    assert session.settled_status().daemon_count("reloads_failed") == 1


# --------------------------------------------------------------------------------------
# h. systemd notify protocol
# --------------------------------------------------------------------------------------

def short_socket_path(tmp_path: Path, name: str) -> str:
    """An AF_UNIX path (at most 107 bytes): in tmp_path if short enough, else in /tmp."""
    path = str(tmp_path / name)
    if len(path) < 100:
        return path
    return os.path.join(tempfile.mkdtemp(prefix="poyo"), name)


def test_systemd_notify_ready_watchdog_reloading_stopping(daemons, tmp_path):
    path = short_socket_path(tmp_path, "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(path)
    try:
        context = zmq.Context()
        daemons.contexts.append(context)
        port = free_port()
        outputs = f"tcp://127.0.0.1:{port}"
        # A subscriber connected before the daemon even binds: nothing may reach it before READY=1.
        early = OutputSubscriber(outputs, context=context)
        daemon = daemons(hop=0.1, env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"}, outputs=outputs)
        poller = zmq.Poller()
        poller.register(early.socket, zmq.POLLIN)
        poller.register(notify, zmq.POLLIN)
        events: list[tuple[float, str]] = []  # (arrival, "notify:TEXT" or "zmq")
        deadline = time.monotonic() + 30
        while not any(e.startswith("zmq") for _, e in events):
            assert time.monotonic() < deadline and daemon.alive(), (events, daemon.stderr)
            for sock, _ in poller.poll(100):
                if sock is notify or sock == notify.fileno():  # pyzmq hands back a plain socket's fd
                    events.append((time.monotonic(), "notify:" + notify.recv(4096).decode()))
                elif early.receive(timeout=0) is not None:
                    events.append((time.monotonic(), "zmq"))
        kinds = [e for _, e in events]
        ready = next(i for i, e in enumerate(kinds) if e.startswith("notify:READY=1"))
        assert ready < kinds.index("zmq"), kinds
        assert "STATUS=serving" in kinds[ready]
        early.close()

        def datagrams(until: Callable[[list], bool], timeout: float) -> list[tuple[float, str]]:
            got, end = [], time.monotonic() + timeout
            notify.settimeout(0.05)
            while not until(got):
                assert time.monotonic() < end, got
                try:
                    got.append((time.monotonic(), notify.recv(4096).decode()))
                except socket.timeout:
                    pass
            return got

        # WATCHDOG=1 every WATCHDOG_USEC / 2 = 100 ms, from the scheduler loop, also while serving.
        session = connect(daemons, daemon)
        times, units = poisson(np.random.default_rng(9), 1, round(1.2 * RATE))
        session.stream(times, units, round(1.2 * RATE))
        backlog = []
        notify.setblocking(False)
        while True:  # what queued up while streaming: arrival times here say nothing
            try:
                backlog.append(notify.recv(4096).decode())
            except BlockingIOError:
                break
        assert "WATCHDOG=1" in backlog
        watchdog = [t for t, text in datagrams(lambda got: sum(t == "WATCHDOG=1" for _, t in got) >= 6, 5)
                    if text == "WATCHDOG=1"]
        intervals = np.diff(watchdog)
        assert intervals.max() < 0.2, intervals  # well within the 200 ms watchdog timeout
        assert intervals.min() > 0.05, intervals  # and not a busy loop
        # SIGHUP: RELOADING=1, then READY=1 once the model is loaded again.
        daemon.signal(signal.SIGHUP)
        got = datagrams(lambda got: any(t.startswith("READY=1") for _, t in got), 10)
        texts = [t for _, t in got]
        reloading = texts.index("RELOADING=1")
        assert any(t.startswith("READY=1") for t in texts[reloading + 1:]), texts
        # SIGTERM: STOPPING=1, and a clean exit.
        daemon.signal(signal.SIGTERM)
        datagrams(lambda got: any(t == "STOPPING=1" for _, t in got), 5)
        assert daemon.process.wait(timeout=5) == 0
    finally:
        notify.close()


# --------------------------------------------------------------------------------------
# i. The systemd unit
# --------------------------------------------------------------------------------------

def test_systemd_unit_verifies(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    text = (ROOT / "systemd" / "poyo-rt.service").read_text()
    unit = tmp_path / "poyo-rt.service"
    patched = re.sub(r"^ExecStart=\S+", f"ExecStart={poyo_binary()}", text, count=1, flags=re.M)
    assert patched != text and f"ExecStart={poyo_binary()} serve" in patched
    unit.write_text(patched)
    result = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # systemd only warns about unknown keys and bad values: no line may name the unit.
    assert "poyo-rt.service" not in output, output


# --------------------------------------------------------------------------------------
# j. start-up failures are reported, not hidden
# --------------------------------------------------------------------------------------

def test_a_busy_endpoint_or_bad_configuration_fails_with_a_clear_message(tmp_path):
    busy = zmq.Context.instance().socket(zmq.PUB)
    busy.setsockopt(zmq.LINGER, 0)
    port = free_port()
    busy.bind(f"tcp://127.0.0.1:{port}")
    try:
        base = [str(poyo_binary()), "serve", "--model", str(MODEL), "--session", "perich/c_20131003",
                "--unit-prefix", "perich/c_20131003/unit_", "--spikes", f"tcp://127.0.0.1:{free_port()}"]
        result = subprocess.run(base + ["--outputs", f"tcp://127.0.0.1:{port}"], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2, result
        assert f"outputs socket tcp://127.0.0.1:{port}" in result.stderr and "Address already in use" in result.stderr
        result = subprocess.run(base[:4] + ["--session", "no/such/session"], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and "session 'no/such/session' is not in the model's session vocabulary" in result.stderr
        result = subprocess.run(base[:6] + ["--threads", "0"], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and "threads is 0: it must be 1 to 64" in result.stderr
        result = subprocess.run(base[:6] + ["--busy-poll", "--realtime-priority", "10"], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and "busy_poll with realtime_priority 10" in result.stderr, result.stderr
        # A value out of range in the file: the file, line and column; the same value given as an
        # option wins over the file and is reported without them.
        config = tmp_path / "serve.yaml"
        config.write_text(f"model: {MODEL}\nsession: perich/c_20131003\nunit_prefix: perich/c_20131003/unit_\nthreads: 2\nhop: -0.5\n")
        result = subprocess.run([str(poyo_binary()), "serve", "--config", str(config)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and f"{config}: line 5, column 6: hop is -0.5: it must be a positive number" in result.stderr, result.stderr
        result = subprocess.run([str(poyo_binary()), "serve", "--config", str(config), "--hop", "0"], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and "cannot start: hop is 0.0: it must be a positive number" in result.stderr, result.stderr
        # A combination refused: the half the file gives is pointed at.
        config.write_text(f"model: {MODEL}\nsession: perich/c_20131003\nunit_prefix: perich/c_20131003/unit_\nrealtime_priority: 10\n")
        result = subprocess.run([str(poyo_binary()), "serve", "--config", str(config), "--busy-poll"], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and f"{config}: line 4, column 20: busy_poll with realtime_priority 10" in result.stderr, result.stderr
    finally:
        busy.close()
