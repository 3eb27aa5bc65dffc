#!/usr/bin/env python3
"""The calibration proof through the daemon: record -> calibrate -> switch -> decode, one running
`poyo serve`, no restart. Needs issue 10a's pieces (the behaviour message, `poyo_rt.capture`,
SIGHUP re-reading the configuration file) and the files of tools/calibration_experiment.py.

    POYO_BIN=.build/release/poyo python tools/calibration_daemon_experiment.py --out /tmp/cal/run1 [--new-seed 104] [--speed 3]

1. `poyo serve` runs the base model (configured for base session s101, as a rig's daemon would be
   from yesterday) with a capture log.
2. The new session's rig (its spikes, 1 ms batches with watermarks) and task (the true cursor
   velocity, `BehaviourPublisher`-style behaviour messages) publish its first --minutes into the
   daemon, at --speed times real time. The daemon does not know these units (`unknown_units`)
   but captures every message.
3. `poyo-rt calibrate` on the capture log -> OUT/calibrated-daemon-s<seed>.safetensors.
4. The configuration file is edited (model, session, unit_prefix) and the daemon gets SIGHUP.
5. The rig and task go on with the following minutes; the daemon's outputs are scored (R², mean
   of x and y) against the true velocity at each output's tick, for ticks whose whole window lies
   after the switch point.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import zmq

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
sys.path.insert(0, str(ROOT / "python"))
from poyo_rt import session_file as sf  # noqa: E402
from poyo_rt.client import OutputSubscriber, SpikePublisher  # noqa: E402
from poyo_rt.daemon import ServeProcess  # noqa: E402
from poyo_rt.wire import Output, Status  # noqa: E402

READOUT = "cursor_velocity_2d"


class Rig:
    """The new session's rig and task, publishing into one daemon."""

    def __init__(self, session: sf.Session, daemon: ServeProcess, speed: float):
        self.s, self.daemon, self.speed = session, daemon, speed
        self.context = zmq.Context()
        self.rig = SpikePublisher(daemon.spikes, source_id=1, tick_rate=session.tick_rate, context=self.context,
                                  high_water_mark=1_000_000)
        self.subscriber = OutputSubscriber(daemon.outputs, context=self.context)
        self.outputs, self.statuses = [], []

    def pump(self, timeout: float = 0.0) -> None:
        while True:
            message = self.subscriber.receive(timeout=timeout)
            if message is None:
                return
            timeout = 0.0
            (self.outputs if isinstance(message, Output) else self.statuses).append(message)

    def connect(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.statuses:
            self.daemon.check_alive()
            if time.monotonic() > deadline:
                raise SystemExit("no status from the daemon")
            self.pump(0.1)
        heard = self.statuses[-1].received
        while self.statuses[-1].received <= heard:
            self.rig.watermark(0)
            self.pump(0.05)

    def stream(self, start_tick: int, end_tick: int) -> None:
        """Spikes and behaviour of [start_tick, end_tick) in 1 ms batches, paced at `speed`."""
        s, batch = self.s, self.s.tick_rate // 1000
        lo = int(np.searchsorted(s.spike_ticks, start_tick))
        b_lo = int(np.searchsorted(s.cursor_ticks, start_tick))
        wall = time.monotonic()
        for a in range(start_tick, end_tick, batch):
            b = min(a + batch, end_tick)
            hi = int(np.searchsorted(s.spike_ticks, b))
            self.rig.publish(s.spike_ticks[lo:hi], s.spike_unit_ids[lo:hi], watermark=b - 1)
            lo = hi
            b_hi = int(np.searchsorted(s.cursor_ticks, b))
            if b_hi > b_lo:
                self.rig.publish_behaviour(READOUT, s.cursor_ticks[b_lo:b_hi], s.cursor_vel[b_lo:b_hi].astype(np.float64))
                b_lo = b_hi
            delay = wall + (b - start_tick) / s.tick_rate / self.speed - time.monotonic()
            self.pump(max(0.0, delay))

    def close(self) -> None:
        self.rig.close()
        self.subscriber.close()
        self.context.destroy(linger=0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("/tmp/calibration"))
    p.add_argument("--new-seed", type=int, default=104)
    p.add_argument("--old-session", default="synth/s101")
    p.add_argument("--minutes", type=float, default=3.0)
    p.add_argument("--speed", type=float, default=5.0)
    p.add_argument("--budget", type=float, default=0.02, help="the daemon's latency budget in seconds (0.5 for a debug build)")
    p.add_argument("--calibrate-args", default="")
    args = p.parse_args(argv)
    session = sf.read_session(args.out / f"s{args.new_seed}.safetensors")
    word = session.session_id
    switch_tick = int(args.minutes * 60 * session.tick_rate)
    end_tick = session.splits["test"][1]
    directory = args.out / f"daemon-s{args.new_seed}"
    capture = directory / "capture.log"
    capture.unlink(missing_ok=True)
    config = {"model": str(args.out / "base.safetensors"), "session": args.old_session,
              "unit_prefix": f"{args.old_session}/unit_", "hop": 0.02, "budget": args.budget, "output_offsets": [0.0],
              "stall_timeout": 1.0, "status_interval": 0.25, "threads": 1, "capture": str(capture)}
    results = {"new_session": word, "speed": args.speed}
    with ServeProcess(config, directory=str(directory)) as daemon:
        rig = Rig(session, daemon, args.speed)
        rig.connect()
        t0 = time.monotonic()
        rig.stream(0, switch_tick)
        results["record_seconds"] = round(time.monotonic() - t0, 1)
        rig.pump(0.5)
        results["unknown_units_while_recording"] = int(rig.statuses[-1].daemon_count("unknown_units"))

        calibrated = args.out / f"calibrated-daemon-s{args.new_seed}.safetensors"
        command = [sys.executable, "-m", "poyo_rt.cli", "calibrate", "--model", config["model"], "--recording",
                   str(capture), "--minutes", str(args.minutes), "--session-word", word, "--unit-prefix",
                   f"{word}/unit_", "--threads", "1", "--output", str(calibrated), *args.calibrate_args.split()]
        print("$ poyo-rt " + " ".join(command[3:]), flush=True)
        t0 = time.monotonic()
        subprocess.run(command, check=True, env={"PYTHONPATH": str(ROOT / "python"), "PATH": "/usr/bin:/bin"})
        results["calibrate_seconds"] = round(time.monotonic() - t0, 1)
        results["calibration"] = mf_source(calibrated)

        reloads = rig.statuses[-1].daemon_count("reloads")
        switched = dict(daemon.config, model=str(calibrated), session=word, unit_prefix=f"{word}/unit_")
        daemon.config_path.write_text(json.dumps(switched, indent=1) + "\n")
        daemon.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while rig.statuses[-1].daemon_count("reloads") <= reloads:
            daemon.check_alive()
            if time.monotonic() > deadline:
                raise SystemExit(f"the daemon did not switch: {daemon.log[-2000:]}")
            rig.rig.watermark(switch_tick - 1)  # the ingest thread applies a switch before its next message
            rig.pump(0.1)
        results["switch_reloads_counter"] = int(rig.statuses[-1].daemon_count("reloads"))
        before = len(rig.outputs)
        t0 = time.monotonic()
        rig.stream(switch_tick, end_tick)
        rig.pump(1.0)
        results["decode_seconds"] = round(time.monotonic() - t0, 1)
        outputs = [o for o in rig.outputs[before:] if o.window_start >= switch_tick]
        rig.close()
    ticks = np.concatenate([o.timestamps for o in outputs]).astype(np.int64)
    values = np.concatenate([o.values for o in outputs]).astype(np.float64)
    index = np.minimum(np.searchsorted(session.cursor_ticks, ticks), len(session.cursor_ticks) - 1)
    truth = session.cursor_vel[index].astype(np.float64)
    ss_res, ss_tot = ((truth - values) ** 2).sum(0), ((truth - truth.mean(0)) ** 2).sum(0)
    results["daemon_r2_after_switch"] = float(np.mean(1 - ss_res / ss_tot))
    results["outputs_scored"] = len(ticks)
    (args.out / f"daemon-results-s{args.new_seed}.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    return 0


def mf_source(path: Path) -> dict:
    from poyo_rt import model_file as mf
    return mf.read_model_file(path)[0]["source"]["calibration"]


if __name__ == "__main__":
    sys.exit(main())
