"""`poyo serve` as an operator meets it: clocks the configuration does not fit, a task that stops
reading, a hostile peer, losses that must be counted once under the right name, the configuration
file as people write it, and the messages a new user reads.

Same harness as test_serve.py (one daemon per test, real sockets, Python peers).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import zmq

from test_serve import (MODEL, NUM_UNITS, RATE, ROOT, SESSION, UNIT_PREFIX, assert_counters_add_up, connect,  # noqa: F401
                        daemons, free_port, poisson, poyo_binary, wait_until)
from poyo_rt import Output, OutputSubscriber, SpikePublisher, Status  # noqa: E402
from poyo_rt.wire import Rejection, SpikeBatch, encode  # noqa: E402


def serve(*args, cwd=ROOT, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([str(poyo_binary()), "serve", *args], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def statuses_until(sub: OutputSubscriber, condition, timeout: float, what: str) -> Status:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = sub.receive(timeout=0.05)
        if isinstance(message, Status) and condition(message):
            return message
    raise AssertionError(f"timed out waiting for {what}; last status: {sub.last_status}")


# --------------------------------------------------------------------------------------
# 1. Durations that do not fit the source clock
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("tick_rate, said", [(10, "hop 0.02 s is 0.2 ticks of the source clock at 10 Hz"),
                                             (1, "hop 0.02 s is 0.02 ticks of the source clock at 1 Hz")])
def test_a_clock_the_configuration_does_not_fit_is_refused_by_name(daemons, tick_rate, said):
    daemon = daemons(hop=0.02, budget=0.02)
    context = zmq.Context()
    daemons.contexts.append(context)
    sub = OutputSubscriber(daemon.outputs, context=context)
    statuses_until(sub, lambda s: True, 30, "the first status")
    rig = SpikePublisher(daemon.spikes, source_id=1, tick_rate=tick_rate, context=context)
    rig.wait_for_subscriber(lambda: sub.receive(timeout=0.02) is not None and sub.last_status.received > 0, timeout=15)
    for second in range(1, 4):
        rig.publish([second * tick_rate - 1], [3], watermark=second * tick_rate)
    status = statuses_until(sub, lambda s: s.rejected(Rejection.BAD_TICK_RATE) >= 3 + 1, 10, "bad_tick_rate rejections")
    # Every message of that clock is refused: nothing decoded with a rounded hop or window.
    assert status.accepted == 0 and status.ticks_run == 0 and status.no_source
    assert status.rejected(Rejection.BAD_TICK_RATE) == status.received
    assert said in daemon.stderr and "rejected rig message: bad_tick_rate" in daemon.stderr, daemon.stderr


# --------------------------------------------------------------------------------------
# 2. Transport queues: the newest output, not a queue of old ones
# --------------------------------------------------------------------------------------

def test_a_task_that_stopped_reading_gets_the_newest_output(daemons):
    daemon = daemons(hop=0.02, budget=0.05, status_interval=0.1)
    session = connect(daemons, daemon)
    sub = session.sub
    # The rig plays 4 s of silence in real time; the task reads nothing for the last 3 of them.
    start, w = time.monotonic(), 0
    while time.monotonic() - start < 4.0:
        w = int((time.monotonic() - start) * RATE) + 1
        session.rig.watermark(w)
        if time.monotonic() - start < 1.0:
            sub.receive(timeout=0)  # reading during the first second
        time.sleep(0.002)
    assert w > 3 * RATE
    # The task reads again while the rig goes on: the first call drains the backlog.
    latest = {}
    deadline = time.monotonic() + 3.0
    while not latest and time.monotonic() < deadline:
        w = int((time.monotonic() - start) * RATE) + 1
        session.rig.watermark(w)
        latest = sub.receive_latest(timeout=0.01, max_age=0.1)
    assert set(latest) == {"cursor_velocity_2d"}, (sub.superseded, sub.stale)
    output = latest["cursor_velocity_2d"]
    age = (time.monotonic_ns() - output.stages.published) / 1e9
    assert age < 0.1, age
    assert output.window_end > w - 2 * daemon.hop_ticks - RATE // 10
    # The outputs it did not read (up to 50 per second; a debug build on a busy machine skips
    # ticks, and the daemon's 64-message queue may have dropped some) were dropped and counted.
    assert sub.superseded + sub.stale >= 40, (sub.superseded, sub.stale)
    # receive() with max_age refuses old outputs the same way.
    session.rig.watermark(w + daemon.hop_ticks * 2)
    message = sub.receive(timeout=1.0, max_age=0.1)
    while isinstance(message, Status):
        message = sub.receive(timeout=1.0, max_age=0.1)
    assert isinstance(message, Output) and (time.monotonic_ns() - message.stages.published) / 1e9 < 0.1


# --------------------------------------------------------------------------------------
# 3. A hostile peer: memory stays bounded, decoding goes on
# --------------------------------------------------------------------------------------

def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


#: Resident memory the daemon may gain while a peer does its worst (MiB): the ingest queue
#: (100 messages of at most 786 432 bytes per frame: 75 MiB), the ring (24 MiB, touched as it
#: fills), the spike history (131 072 spikes) and the model's scratch for the largest window it
#: runs, with room for the allocator.
MEMORY_CEILING_GAIN_MIB = 300


def test_a_hostile_peer_cannot_grow_memory_or_stop_decoding(daemons):
    daemon = daemons(hop=0.1, budget=0.5, status_interval=0.1)
    session = connect(daemons, daemon)
    rng = np.random.default_rng(11)
    times, units = poisson(rng, 1, RATE + 1)
    session.stream(times, units, RATE + 1)
    base = session.settled_status()
    before = resident_mib(daemon.process.pid)

    # A second peer on the same port sends, as fast as it can for 4 s: maximum-size batches (all
    # spikes at one instant, never a watermark beyond them, units mapped and not), oversized
    # frames, garbage, and messages of other sources.
    context = daemons.contexts[0]
    hostile = context.socket(zmq.PUB)
    hostile.setsockopt(zmq.LINGER, 0)
    hostile.setsockopt(zmq.SNDHWM, 50)  # beyond, this PUB drops (and its own memory stays small)
    hostile.connect(daemon.spikes)
    n = 65_536
    w = session.watermark
    burst_times, burst_units = np.full(n, w + 1, np.int64), (np.arange(n) % 400).astype(np.uint32)
    # The flood speaks as the decoded source, in sequence: its spikes are accepted.
    sequence = session.rig.sequence

    def big():
        nonlocal sequence
        sequence += 1
        return encode(SpikeBatch(1, sequence - 1, RATE, burst_times, burst_units, None))

    other = encode(SpikeBatch(9, 1, RATE, np.arange(n, dtype=np.int64), np.zeros(n, np.uint32), n))
    oversized = [b"spikes", encode(SpikeBatch(1, 0, RATE, [], [], None))[1], bytes(786_433)]
    garbage = [b"spikes", os.urandom(40), os.urandom(1000)]
    # First 2.5 s of valid-looking floods, then 1.5 s with oversized frames too (libzmq drops the
    # connection of a peer that sends one: it reconnects and goes on).
    peak, sent, start = before, 0, time.monotonic()
    while time.monotonic() - start < 4.0:
        mix = (big(), big(), big(), other, garbage) + ((oversized,) if time.monotonic() - start > 2.5 else ())
        for frames in mix:
            hostile.send_multipart(frames, copy=False)
            sent += 1
        if sent % 50 == 0:
            peak = max(peak, resident_mib(daemon.process.pid))
            session.pump(0)
    hostile.close(linger=0)
    session.rig.sequence = sequence  # the real rig goes on after the flood's numbers
    peak = max(peak, resident_mib(daemon.process.pid))
    assert daemon.alive(), daemon.stderr
    print(f"resident before {before:.0f} MiB, peak {peak:.0f} MiB")
    assert peak - before < MEMORY_CEILING_GAIN_MIB, (before, peak)

    # It keeps decoding: the real rig's next ticks run.
    more_times, more_units = poisson(rng, session.watermark + 1, session.watermark + 1 + RATE // 2)
    session.stream(more_times, more_units, session.watermark + 1 + RATE // 2, timeout=60)
    status = session.settled_status(timeout=60)
    assert status.ticks_run > base.ticks_run
    assert_counters_add_up(status)
    # The peer did reach the daemon: hundreds of maximum batches, millions of spikes
    # (unbounded before: 65 536 spikes an instant, never evicted, is 0.8 MB of history each).
    assert status.received - base.received > 150, status.received - base.received
    assert status.dropped > base.dropped and status.daemon_count("other_source") > 0


# --------------------------------------------------------------------------------------
# 6. One loss, one name
# --------------------------------------------------------------------------------------

def test_a_rejected_batch_is_not_also_missing_and_early_spikes_are_not_late(daemons):
    daemon = daemons(hop=0.1)
    context = zmq.Context()
    daemons.contexts.append(context)
    sub = OutputSubscriber(daemon.outputs, context=context)
    statuses_until(sub, lambda s: True, 30, "the first status")
    rig = SpikePublisher(daemon.spikes, source_id=1, tick_rate=RATE, context=context)
    # The rig's clock reads 100 when it starts; its heartbeats say so.
    rig.wait_for_subscriber(lambda: sub.receive(timeout=0.02) is not None and sub.last_status.received > 0,
                            watermark=100, timeout=15)
    # Spikes at ticks 200-1199: before the first window's start (the first tick is 33 000, the
    # first whole 0.1 s grid time a second after 100, so its window starts at 3 000).
    early = np.arange(200, 1200, 25, dtype=np.int64)
    rig.publish(early, (early % NUM_UNITS).astype(np.uint32), watermark=1199)
    # A batch with unsorted times: rejected, and its sequence number is used up.
    frames = encode(SpikeBatch(1, rig.sequence, RATE, np.array([1300, 1400]), np.array([1, 2], np.uint32), 1500))
    frames[2] = np.array([1400, 1300], "<i8").tobytes() + frames[2][16:]
    rig.socket.send_multipart(frames)
    rig.sequence += 1
    for w in range(1600, 34_000, 300):
        rig.watermark(w)
    status = statuses_until(sub, lambda s: s.ticks_run >= 1, 15, "the first tick")
    assert status.rejected(Rejection.UNSORTED_TIMES) == 1
    assert status.missed_messages == 0
    assert status.late == 0
    assert status.daemon_count("outside_windows") == len(early)
    assert_counters_add_up(status)
    assert "rig messages missing by sequence number" not in daemon.stderr
    assert "late spike events" not in daemon.stderr


# --------------------------------------------------------------------------------------
# 7, 8. The configuration file as people write it
# --------------------------------------------------------------------------------------

def test_the_documented_units_map_serves(daemons, tmp_path):
    description_units = {i: f"{UNIT_PREFIX}{i}" for i in range(NUM_UNITS)}
    config = tmp_path / "block.yaml"
    config.write_text(f"model: {MODEL}\nsession: {SESSION}\nunits:\n"
                      + "".join(f"  {i}: {word}\n" for i, word in description_units.items()))
    printed = serve("--config", str(config), "--print-config")
    assert printed.returncode == 0, printed.stderr
    assert f"units:\n  0: {UNIT_PREFIX}0\n  1: {UNIT_PREFIX}1\n" in printed.stdout
    flow = tmp_path / "flow.yaml"
    flow.write_text(f"model: {MODEL}\nsession: {SESSION}\nunits: {{17: \"{UNIT_PREFIX}17\", 3: {UNIT_PREFIX}3}}\n")
    assert serve("--config", str(flow), "--print-config").returncode == 0
    # The daemon decodes with a map (JSON, keys as strings) and no prefix.
    daemon = daemons(hop=0.1, unit_prefix=None, units={str(i): w for i, w in description_units.items()})
    session = connect(daemons, daemon)
    times, units = poisson(np.random.default_rng(5), 1, RATE + RATE // 5)
    session.stream(times, units, RATE + RATE // 5)
    status = session.settled_status()
    assert status.ticks_run >= 2 and status.daemon_count("unknown_units") == 0


@pytest.mark.parametrize("text, said", [
    ("unit_prefx: p/\n", "line 3, column 1: unknown field 'unit_prefx': did you mean 'unit_prefix'?"),
    ("stall_timout: 2\n", "unknown field 'stall_timout': did you mean 'stall_timeout'?"),
    ("hop: [0.1\n", "not valid YAML: line 4, column 1"),
    ("hop: fast\n", "line 3, column 6: field 'hop': expected a number (found 'fast')"),
    ("spikes: {address: \"127.0.0.1:5555\"}\n", "endpoint '127.0.0.1:5555' has no transport: write it as TRANSPORT://ADDRESS, e.g. tcp://127.0.0.1:5555"),
    ("units: {abc: w}\n", "'abc' is not a rig unit id"),
    ("spikes: {address: \"tcp://127.0.0.1:99999\"}\n", "port '99999' is not a port number from 1 to 65535"),
])
def test_configuration_mistakes_exit_2_with_one_clear_message(tmp_path, text, said):
    config = tmp_path / "serve.yaml"
    config.write_text(f"model: {MODEL}\nsession: {SESSION}\n{text}")
    result = serve("--config", str(config))
    assert result.returncode == 2, result
    assert said in result.stderr, result.stderr
    assert result.stderr.count("cannot start") == 1, result.stderr


def test_start_up_failures_have_one_exit_status_and_paths_follow_the_file(tmp_path):
    missing = serve("--config", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and f"configuration file {tmp_path / 'nope.yaml'}: no such file" in missing.stderr
    assert "The operation could not be completed" not in missing.stderr
    no_model = serve("--model", str(tmp_path / "nope.safetensors"), "--session", SESSION)
    assert no_model.returncode == 2 and "cannot open: No such file or directory" in no_model.stderr
    # A relative model path is relative to the configuration file, wherever poyo runs from.
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.safetensors").symlink_to(MODEL)
    config = tmp_path / "serve.yaml"
    config.write_text(f"model: models/m.safetensors\nsession: {SESSION}\nunit_prefix: {UNIT_PREFIX}\n")
    printed = serve("--config", "serve.yaml", "--print-config", cwd=tmp_path)
    assert printed.returncode == 0 and f"model: {tmp_path}/models/m.safetensors" in printed.stdout, printed
    printed = serve("--config", str(config), "--print-config", cwd="/")
    assert f"model: {tmp_path}/models/m.safetensors" in printed.stdout, printed


# --------------------------------------------------------------------------------------
# 9, 10. Finding the words; messages that do not mislead
# --------------------------------------------------------------------------------------

def test_inspect_lists_the_words_a_configuration_needs():
    run = lambda *a: subprocess.run([str(poyo_binary()), "inspect", "--model", str(MODEL), *a],  # noqa: E731
                                    capture_output=True, text=True, timeout=60)
    sessions = run("--sessions")
    assert sessions.returncode == 0 and SESSION in sessions.stdout.split("\n")
    units = run("--unit-words", "--session", SESSION)
    words = [line.split("\t")[0] for line in units.stdout.strip().split("\n")]
    assert len(words) == NUM_UNITS and all(w.startswith(SESSION + "/") for w in words)
    matched = run("--unit-words", "--session", SESSION, "--match", "unit_19")
    assert sorted(line.split("\t")[0] for line in matched.stdout.strip().split("\n")) == \
        sorted([f"{UNIT_PREFIX}19"] + [f"{UNIT_PREFIX}{i}" for i in range(190, 200)])
    unknown = run("--unit-words", "--session", "no/such")
    assert unknown.returncode != 0 and "list them with --sessions" in unknown.stderr


def test_unmapped_units_are_named(daemons):
    daemon = daemons(hop=0.1)
    session = connect(daemons, daemon)
    session.rig.publish([5, 6, 7], [200, 4_000_000_000, 3], watermark=10)
    session.watermark = 10
    session.settled_status()
    assert re.search(r"detail=rig unit ids 200, 4000000000.*rig units the configuration does not map", daemon.stderr), \
        daemon.stderr


def test_start_up_messages_say_what_happened(daemons, tmp_path):
    busy = zmq.Context.instance().socket(zmq.PUB)
    busy.setsockopt(zmq.LINGER, 0)
    port = free_port()
    busy.bind(f"tcp://127.0.0.1:{port}")
    try:
        result = serve("--model", str(MODEL), "--session", SESSION, "--unit-prefix", UNIT_PREFIX,
                       "--spikes", f"tcp://127.0.0.1:{port}", "--outputs", f"tcp://127.0.0.1:{free_port()}")
    finally:
        busy.close()
    assert result.returncode == 2 and f"spikes socket tcp://127.0.0.1:{port}" in result.stderr
    assert "publishing a status failed" not in result.stderr and "Context was terminated" not in result.stderr, result.stderr
    # Usage errors are the subcommand's, with its usage; negative numbers are values.
    usage = serve()
    assert usage.returncode == 64 and "Usage: poyo serve" in usage.stderr and "give --config FILE" in usage.stderr
    negative = serve("--model", str(MODEL), "--session", SESSION, "--hop", "-1")
    assert negative.returncode == 2 and "hop is -1.0: it must be a positive number of seconds" in negative.stderr
    version = subprocess.run([str(poyo_binary()), "--version"], capture_output=True, text=True, timeout=30)
    assert version.returncode == 0 and re.match(r"poyo-rt \d+\.\d+\.\d+ \(wire protocol 1, model format 1\)", version.stdout)
    # The start-up log names the capture file it really writes and labels the endpoints.
    daemon = daemons(hop=0.1, capture=tmp_path / "run-{time}.log")
    wait_until(lambda: "serving" in daemon.stderr or not daemon.alive(), 60, "the start-up log")
    line = next(line for line in daemon.stderr.splitlines() if "serving" in line)
    assert "{time}" not in line and re.search(r"capture=\S*run-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ?\.log", line), line
    assert f"spikes={daemon.spikes}" in line and f"outputs={daemon.outputs}" in line, line
    assert any(p.name.startswith("run-") for p in tmp_path.iterdir())


# --------------------------------------------------------------------------------------
# 3. Limits the wire states are respected by the daemon too (a crash before)
# --------------------------------------------------------------------------------------

def test_a_readout_the_wire_cannot_carry_is_refused_at_load(tmp_path):
    import json

    from poyo_rt import model_file as mf
    description, tensors = mf.read_model_file(MODEL)
    description["readouts"][0]["name"] = "cursor velocity"  # a space: no valid topic
    bad = tmp_path / "spaced.safetensors"
    mf.write_safetensors(bad, tensors, {mf.METADATA_KEY: json.dumps(description)})
    result = serve("--model", str(bad), "--session", SESSION, "--unit-prefix", UNIT_PREFIX,
                   "--spikes", f"tcp://127.0.0.1:{free_port()}", "--outputs", f"tcp://127.0.0.1:{free_port()}")
    assert result.returncode == 2 and "readout 'cursor velocity' cannot be published" in result.stderr, result.stderr


def test_a_model_path_longer_than_a_status_carries_is_shortened(daemons, tmp_path):
    # A path of 4 075 bytes (the system allows 4 095): its description in a status is longer than
    # the 4 096 bytes a status carries.
    directory = tmp_path
    while len(str(directory)) < 3850:
        directory = directory / ("d" * 200)
    directory = directory / ("e" * (4060 - len(str(directory)) - 1))
    directory.mkdir(parents=True)
    model = directory / "m.safetensors"
    assert len(str(model)) == 4074
    model.symlink_to(MODEL)
    daemon = daemons(hop=0.1, model=model)
    session = connect(daemons, daemon)  # waits for statuses: the daemon publishes them
    status = session.statuses[-1]
    assert len(status.model.encode()) <= 4096 and status.model.endswith("...")
    assert daemon.alive()


@pytest.mark.parametrize("args, usage", [
    (["serve"], "Usage: poyo serve"),
    (["bench", "--model", str(MODEL), "--queries", "0"], "Usage: poyo bench"),
    (["inspect", "--model", str(MODEL), "--session", SESSION], "Usage: poyo inspect"),
    (["wire-listen", "--bind", "127.0.0.1:5555"], "Usage: poyo wire-listen"),
])
def test_usage_errors_print_the_subcommands_usage(args, usage):
    result = subprocess.run([str(poyo_binary()), *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 64 and usage in result.stderr, result.stderr
    assert "<subcommand>" not in result.stderr
