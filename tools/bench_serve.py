#!/usr/bin/env python3
"""End-to-end latency of `poyo serve`: a real-time rig, the daemon, a subscriber, one host.

Starts `poyo serve` (the release binary: $POYO_BIN or .build/release/poyo) on the given model
(default: the poyo_1p3m fixture, the published poyo_1.3M shape), connects a rig that publishes
Poisson spikes of 200 units at 20 Hz paced in real time (1 ms batches, each with its watermark)
and a subscriber on a thread of its own, and measures for every output:

  daemon      published_ns - received_ns (the daemon's own stage stamps)
  subscriber  the subscriber's CLOCK_MONOTONIC at receipt - received_ns (same host, same clock:
              Python's time.monotonic_ns() is CLOCK_MONOTONIC on Linux)
  rig         the subscriber's receipt - when the rig sent the watermark that completed the
              window (the rig's view: from "the last spike of the window is out" to "decoded")

and the daemon's stages (received -> window_built -> forward_done -> published). Prints
p50/p90/p99/max of each in milliseconds and the counts (ticks run, skipped, missed messages,
outputs received and missing); --json prints one JSON object instead.

Superseded by `poyo-rt profile` (docs/profile.md), which measures the same stages per tick, keeps
HdrHistograms, sweeps loads and writes a report; kept for the numbers measured with it so far.

    swift build -c release --product poyo
    .venv/bin/python tools/bench_serve.py --seconds 20
    .venv/bin/python tools/bench_serve.py --seconds 20 --json > serve-latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import zmq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from poyo_rt.daemon import stop_daemon  # noqa: E402
from poyo_rt.profiling.rig import Subscriber  # noqa: E402
from poyo_rt.report.profile_report import configuration_line  # noqa: E402
from poyo_rt.wire import DAEMON_TYPES, Output, SpikeBatch, Watermark, decode, encode  # noqa: E402

FIXTURE = ROOT / "Tests" / "POYOTests" / "Fixtures" / "poyo_1p3m.model.safetensors"
TICK_RATE = 30_000
BATCH_TICKS = 30  # 1 ms at 30 kHz


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentiles(values) -> dict:
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        return {"n": 0}
    return {"n": int(a.size), "p50": float(np.percentile(a, 50)), "p90": float(np.percentile(a, 90)),
            "p99": float(np.percentile(a, 99)), "max": float(a.max()), "mean": float(a.mean())}


def poisson(rng, units: int, rate: float, start: int, end: int):
    counts = rng.poisson(rate * (end - start) / TICK_RATE, size=units)
    unit = np.repeat(np.arange(units, dtype=np.uint32), counts)
    times = rng.integers(start, end, size=unit.size, dtype=np.int64)
    order = np.argsort(times, kind="stable")
    return times[order], unit[order]


def model_cpus(text):
    """``--model-cpu`` as the daemon's ``model_cpu``: ``2`` as 2, ``2,3`` as [2, 3]; None as None."""
    if text is None:
        return None
    cpus = [int(v) for v in text.split(",")]
    return cpus[0] if len(cpus) == 1 else cpus


def run(args) -> dict:
    model_cpu = model_cpus(args.model_cpu)  # a typo fails here, not after the run
    binary = Path(args.binary or os.environ.get("POYO_BIN", ROOT / ".build" / "release" / "poyo")).resolve()
    if not binary.exists():
        sys.exit(f"{binary} is missing: swift build -c release --product poyo, or set POYO_BIN")
    newer = [p for p in (ROOT / "Sources").rglob("*.swift") if p.stat().st_mtime > binary.stat().st_mtime]
    if newer:
        print(f"warning: {binary} is older than {len(newer)} source file(s), e.g. {newer[0]}", file=sys.stderr)
    workdir = Path(tempfile.mkdtemp(prefix="poyo-bench-"))
    if args.transport == "ipc":
        spikes, outputs = f"ipc://{workdir}/spikes", f"ipc://{workdir}/outputs"
    else:
        spikes, outputs = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
    command = [str(binary), "serve", "--model", str(args.model), "--session", args.session,
               "--unit-prefix", args.unit_prefix, "--spikes", spikes, "--outputs", outputs, "--hop", str(args.hop),
               "--threads", str(args.threads), "--no-capture"]
    if args.budget is not None:
        command += ["--budget", str(args.budget)]
    if args.model_cpu is not None:
        command += ["--model-cpu", args.model_cpu]
    if args.realtime_priority is not None:
        command += ["--realtime-priority", str(args.realtime_priority)]
    if args.busy_poll:
        command += ["--busy-poll"]
    if args.no_encode_ahead:
        command += ["--no-encode-ahead"]
    stderr_path = workdir / "serve.stderr"
    stderr = open(stderr_path, "wb")
    daemon = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    context = zmq.Context()
    subscriber = Subscriber(context, outputs)
    rig = context.socket(zmq.PUB)
    rig.setsockopt(zmq.LINGER, 0)
    rig.setsockopt(zmq.SNDHWM, 1_000_000)
    sequence = 0
    try:
        subscriber.start()
        rig.connect(spikes)
        # Slow joiners: the subscriber waits for a status, the rig heartbeats (watermark 0) until
        # a status says the daemon heard it.
        deadline = time.monotonic() + 60
        while subscriber.status is None or subscriber.status.received == 0:
            if daemon.poll() is not None:
                sys.exit(f"poyo serve exited ({daemon.returncode}):\n{stderr_path.read_text()}")
            if time.monotonic() > deadline:
                sys.exit(f"no handshake with the daemon:\n{stderr_path.read_text()}")
            if subscriber.status is not None:
                rig.send_multipart(encode(Watermark(1, sequence, TICK_RATE, 0)))
                sequence += 1
            time.sleep(0.01)

        # The stream: `warmup` seconds to fill the first window, then the measured seconds.
        rng = np.random.default_rng(args.seed)
        total = round((args.warmup + args.seconds) * TICK_RATE)
        batches = total // BATCH_TICKS
        times, units = poisson(rng, args.units, args.rate, 1, batches * BATCH_TICKS)
        bounds = np.searchsorted(times, np.arange(batches + 1) * BATCH_TICKS)
        messages = []
        for k in range(batches):
            lo, hi = bounds[k], bounds[k + 1]
            messages.append(encode(SpikeBatch(1, sequence + k, TICK_RATE, times[lo:hi], units[lo:hi],
                                              (k + 1) * BATCH_TICKS - 1)))
        sequence += batches
        send_ns = np.zeros(batches, dtype=np.int64)
        lateness = np.zeros(batches, dtype=np.int64)
        interval = BATCH_TICKS / TICK_RATE
        start = time.monotonic_ns()
        for k, frames in enumerate(messages):
            target = start + round((k + 1) * interval * 1e9)  # batch k is complete at its end
            now = time.monotonic_ns()
            if target > now:
                time.sleep((target - now) / 1e9)
            send_ns[k] = time.monotonic_ns()
            lateness[k] = send_ns[k] - target
            rig.send_multipart(frames, copy=False)
        hop_ticks = round(args.hop * TICK_RATE)
        if hop_ticks < 1 or abs(args.hop * TICK_RATE - hop_ticks) > 1e-6 * hop_ticks:
            raise SystemExit(f"--hop {args.hop} s is not a whole number of ticks at {TICK_RATE} Hz")
        last_tick = batches * BATCH_TICKS // hop_ticks * hop_ticks
        # Wait for the last tick's output (or give up after a second), then a status.
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            if subscriber.outputs and decode(subscriber.outputs[-1][1], accept=DAEMON_TYPES).window_end >= last_tick:
                break
            time.sleep(0.005)
        statuses = len(subscriber.statuses)
        deadline = time.monotonic() + 3.0
        while len(subscriber.statuses) < statuses + 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        status = subscriber.status
    finally:
        stop_daemon(daemon)
        subscriber.stop()
        rig.close(linger=0)
        context.term()
        stderr.close()

    # Per output.
    sequence_length = TICK_RATE  # the first tick: the first grid time a whole window after 0
    first_tick = -(-sequence_length // hop_ticks) * hop_ticks
    measured_from = round(args.warmup * TICK_RATE)  # ticks after the warm-up second
    daemon_ms, subscriber_ms, rig_ms, queue_ms, forward_ms, publish_ms = [], [], [], [], [], []
    seen, gaps, last_sequence, gap_lengths, rows = set(), 0, None, {}, []
    for received, frames in subscriber.outputs:
        output: Output = decode(frames, accept=DAEMON_TYPES)
        if last_sequence is not None and output.tick_sequence > last_sequence + 1:
            gap = output.tick_sequence - last_sequence - 1
            gaps += gap
            gap_lengths[gap] = gap_lengths.get(gap, 0) + 1
        last_sequence = output.tick_sequence
        s = output.stages
        rows.append({"tick": output.window_end, "tick_sequence": output.tick_sequence, "received_ns": s.received,
                     "window_built_ns": s.window_built, "forward_done_ns": s.forward_done,
                     "published_ns": s.published, "subscriber_ns": received,
                     "rig_sent_ns": int(send_ns[output.window_end // BATCH_TICKS - 1])})
        if output.window_end < max(first_tick, measured_from):
            continue
        seen.add(output.window_end)
        s = output.stages
        daemon_ms.append((s.published - s.received) / 1e6)
        subscriber_ms.append((received - s.received) / 1e6)
        batch = output.window_end // BATCH_TICKS - 1  # its watermark (batch + 1) * 30 - 1 >= window_end - 1
        rig_ms.append((received - send_ns[batch]) / 1e6)
        queue_ms.append((s.window_built - s.received) / 1e6)
        forward_ms.append((s.forward_done - s.window_built) / 1e6)
        publish_ms.append((s.published - s.forward_done) / 1e6)
    expected = len(range(max(first_tick, measured_from), last_tick + 1, hop_ticks))
    if args.dump:
        Path(args.dump).write_text(json.dumps(rows))
    summary = [line for line in stderr_path.read_text(errors="replace").splitlines() if "stopped" in line]
    return {
        "binary": str(binary), "model": str(args.model), "transport": args.transport, "hop_s": args.hop,
        "budget_s": args.budget if args.budget is not None else args.hop, "units": args.units, "rate_hz": args.rate,
        "seconds": args.seconds, "threads": args.threads, "realtime_priority": args.realtime_priority,
        "busy_poll": args.busy_poll,
        "encode_ahead": not args.no_encode_ahead,
        "model_cpu": model_cpu, "ingest_cpu": None,
        "spikes_sent": int(times.size), "messages_sent": int(batches),
        "latency_ms": {
            "daemon": percentiles(daemon_ms), "subscriber": percentiles(subscriber_ms), "rig": percentiles(rig_ms),
            "stage_received_to_window_built": percentiles(queue_ms),
            "stage_forward": percentiles(forward_ms), "stage_forward_done_to_published": percentiles(publish_ms),
        },
        "rig_send_lateness_ms": percentiles(lateness / 1e6),
        "ticks_expected": expected, "outputs_received": len(seen), "outputs_missing": expected - len(seen),
        "tick_sequence_gaps": gaps, "gap_lengths": {str(k): v for k, v in sorted(gap_lengths.items())},
        "daemon_status": None if status is None else {
            "received": status.received, "accepted": status.accepted, "late": status.late, "dropped": status.dropped,
            "ticks_run": status.ticks_run, "ticks_skipped": status.ticks_skipped,
            "missed_messages": status.missed_messages, "rejected": int(np.sum(status.rejections)),
            "ticks_prepared": status.daemon_count("ticks_prepared"),
        },
        "daemon_exit": daemon.returncode,
        "daemon_summary": summary[-1] if summary else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(FIXTURE))
    parser.add_argument("--session", default="perich/c_20131003")
    parser.add_argument("--unit-prefix", default="perich/c_20131003/unit_")
    parser.add_argument("--binary", help="poyo binary (default $POYO_BIN or .build/release/poyo)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds of real time")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before measuring (the first window)")
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="Hz per unit")
    parser.add_argument("--hop", type=float, default=0.02)
    parser.add_argument("--budget", type=float, default=None, help="seconds (default: the hop)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model-cpu", default=None, metavar="CPU[,CPU...]",
                        help="the daemon's model_cpu: the scheduler thread's CPU, then the workers' (e.g. 0,1)")
    parser.add_argument("--realtime-priority", type=int, default=None, metavar="N",
                        help="the daemon's realtime_priority: SCHED_FIFO 1-99 for its ingest, scheduler and worker threads")
    parser.add_argument("--busy-poll", action="store_true",
                        help="the daemon's busy_poll: its scheduler and worker threads spin between ticks")
    parser.add_argument("--no-encode-ahead", action="store_true",
                        help="the daemon's encode_ahead off: each tick attends the encoder to its whole window")
    parser.add_argument("--transport", choices=["tcp", "ipc"], default="tcp")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--dump", help="write every output's tick, sequence and stage stamps (JSON) here")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"poyo serve end to end: {result['units']} units at {result['rate_hz']} Hz, hop {result['hop_s']} s, "
          f"budget {result['budget_s']} s, {configuration_line(result, brief=True)}, {result['seconds']} s over "
          f"{result['transport']} ({result['binary']})")
    print(f"{'latency (ms)':<34}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}{'n':>7}")
    names = {"daemon": "daemon (published - received)", "subscriber": "subscriber (receipt - received)",
             "rig": "rig (watermark sent -> receipt)", "stage_received_to_window_built": "  stage: received -> built",
             "stage_forward": "  stage: forward", "stage_forward_done_to_published": "  stage: forward done -> published"}
    for key, label in names.items():
        p = result["latency_ms"][key]
        if p["n"]:
            print(f"{label:<34}{p['p50']:9.3f}{p['p90']:9.3f}{p['p99']:9.3f}{p['max']:9.3f}{p['n']:7d}")
    p = result["rig_send_lateness_ms"]
    print(f"{'rig send lateness (pacing)':<34}{p['p50']:9.3f}{p['p90']:9.3f}{p['p99']:9.3f}{p['max']:9.3f}{p['n']:7d}")
    status = result["daemon_status"] or {}
    print(f"ticks expected {result['ticks_expected']}, outputs received {result['outputs_received']}, "
          f"missing {result['outputs_missing']}, tick_sequence gaps {result['tick_sequence_gaps']} "
          f"(gap length: count {result['gap_lengths']})")
    print("daemon: " + ", ".join(f"{k} {v}" for k, v in status.items()) + f"; exit {result['daemon_exit']}")


if __name__ == "__main__":
    main()
