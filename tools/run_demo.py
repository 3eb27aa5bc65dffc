"""The main job of the quick start: `poyo serve` decoding the bundled demo session end to end.

Starts the daemon (demo/serve.yaml), plays the held-out test part of demo/session.safetensors
into it as a rig would (1 ms batches of spikes, each with a watermark, paced in real time),
listens to its outputs like an experiment's task code, and reports how well the decoded cursor
velocity matches the true one (R^2), how the outputs compare with torch_brain's own decodes of
the same windows (demo/reference_decodes.safetensors), and the latency of every stage.

    .venv/bin/python tools/run_demo.py [--poyo .build/release/poyo] [--seconds 60] [--speed 1.0]
"""
import argparse
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from poyo_rt.client import OutputSubscriber, SpikePublisher  # noqa: E402
from poyo_rt.wire import Output  # noqa: E402
from poyo_rt.session_file import read_session  # noqa: E402


def r_squared(truth: np.ndarray, decoded: np.ndarray) -> np.ndarray:
    residual = ((truth - decoded) ** 2).sum(axis=0)
    total = ((truth - truth.mean(axis=0)) ** 2).sum(axis=0)
    return 1 - residual / total


def percentiles(values_ms) -> str:
    v = np.asarray(values_ms)
    return f"p50 {np.percentile(v, 50):6.2f}  p90 {np.percentile(v, 90):6.2f}  p99 {np.percentile(v, 99):6.2f}  max {v.max():6.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--poyo", default=os.environ.get("POYO_BIN", str(ROOT / ".build/release/poyo")))
    parser.add_argument("--config", default=str(ROOT / "demo/serve.yaml"))
    parser.add_argument("--session", default=str(ROOT / "demo/session.safetensors"))
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of the test part to play")
    parser.add_argument("--speed", type=float, default=1.0, help="playback speed (1 = real time)")
    parser.add_argument("--capture", default=None, help="also write a capture log here")
    parser.add_argument("--no-behaviour", action="store_true",
                        help="do not also publish the true cursor velocity (behaviour messages) as the task would")
    args = parser.parse_args()

    session = read_session(args.session)
    rate = session.tick_rate
    test_start, test_end = session.splits["test"]
    # Start one window early so that the first tick, at the start of the test part, has a whole window.
    play_start = test_start - rate
    play_end = min(test_end, test_start + int(args.seconds * rate))

    command = [args.poyo, "serve", "--config", args.config]
    if args.capture:
        command += ["--capture", args.capture]
    daemon = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        subscriber = OutputSubscriber("tcp://127.0.0.1:5556")
        rig = SpikePublisher("tcp://127.0.0.1:5555", source_id=1, tick_rate=rate)

        def daemon_hears_us() -> bool:
            subscriber.receive(timeout=0.05)
            if daemon.poll() is not None:
                raise RuntimeError(f"poyo serve exited: {daemon.stderr.read()}")
            return subscriber.last_status is not None and subscriber.last_status.received > 0

        rig.wait_for_subscriber(daemon_hears_us, watermark=play_start - 1, timeout=30)
        print(f"playing {(play_end - play_start) / rate:.0f} s of the test part at {args.speed}x real time ...", flush=True)

        outputs: list[tuple[Output, int]] = []
        lo = np.searchsorted(session.spike_ticks, play_start)
        behaviour_lo = np.searchsorted(session.cursor_ticks, play_start)
        batch = rate // 1000  # 1 ms
        wall_start = time.monotonic()
        for batch_start in range(play_start, play_end, batch):
            batch_end = batch_start + batch
            hi = np.searchsorted(session.spike_ticks, batch_end)
            rig.publish(session.spike_ticks[lo:hi], session.spike_unit_ids[lo:hi], watermark=batch_end - 1)
            lo = hi
            behaviour_hi = np.searchsorted(session.cursor_ticks, batch_end)
            if not args.no_behaviour and behaviour_hi > behaviour_lo:  # the task's measured velocity, same socket
                rig.publish_behaviour("cursor_velocity_2d", session.cursor_ticks[behaviour_lo:behaviour_hi],
                                      session.cursor_vel[behaviour_lo:behaviour_hi])
                behaviour_lo = behaviour_hi
            while (message := subscriber.receive(timeout=0)) is not None:
                if isinstance(message, Output):
                    outputs.append((message, time.monotonic_ns()))
            delay = wall_start + (batch_end - play_start) / rate / args.speed - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            message = subscriber.receive(timeout=0.1)
            if isinstance(message, Output):
                outputs.append((message, time.monotonic_ns()))
        status = subscriber.last_status
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            _, log = daemon.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            _, log = daemon.communicate()

    if not outputs:
        print("no outputs received; daemon log:\n" + log)
        return 1
    ticks = np.array([o.window_end for o, _ in outputs])
    decoded = np.stack([o.values[0] for o, _ in outputs])
    truth = np.stack([np.interp(ticks, session.cursor_ticks, session.cursor_vel[:, d]) for d in range(2)], axis=1)
    r2 = r_squared(truth, decoded)
    print(f"\n{len(outputs)} decoded cursor velocities ({ticks[0] / rate:.2f} s to {ticks[-1] / rate:.2f} s, every "
          f"{np.median(np.diff(ticks)) / rate * 1000:.0f} ms); R^2 against the true velocity: "
          f"vx {r2[0]:.3f}, vy {r2[1]:.3f}, mean {r2.mean():.3f}")

    reference_path = ROOT / "demo/reference_decodes.safetensors"
    if reference_path.exists():
        from safetensors.numpy import load_file
        reference = load_file(reference_path)
        by_tick = {int(o.window_end): o for o, _ in outputs}
        matched = [(by_tick[int(t)], v) for t, v in zip(reference["tick"], reference["output_physical"]) if int(t) in by_tick]
        if matched:
            error = float(np.max([np.abs(o.values[0] - v).max() for o, v in matched]))  # a NaN shows, not hides
            print(f"against torch_brain's decodes of the same {len(matched)} windows: max |difference| {error:.2e} cm/s")

    daemon_ms = [(o.stages.published - o.stages.received) / 1e6 for o, _ in outputs]
    subscriber_ms = [(arrived - o.stages.received) / 1e6 for o, arrived in outputs]
    forward_ms = [(o.stages.forward_done - o.stages.window_built) / 1e6 for o, _ in outputs]
    print("latency from the watermark completing a window:")
    print(f"  to publication (daemon)    {percentiles(daemon_ms)}")
    print(f"  to this subscriber         {percentiles(subscriber_ms)}")
    print(f"  forward pass alone         {percentiles(forward_ms)}")
    if status is not None:
        print(f"daemon counters: received {status.received}, accepted {status.accepted}, late {status.late}, "
              f"before the first window {status.daemon_count('outside_windows')}, "
              f"dropped {status.dropped}, ticks run {status.ticks_run}, skipped {status.ticks_skipped}, "
              f"missed messages {status.missed_messages}, rejected {int(status.rejections.sum())}")
        quality = status.quality_of("cursor_velocity_2d")
        if quality is not None:
            print(f"daemon's live {quality.kind} (status, last quality_window seconds): {quality.value:.3f} over "
                  f"{quality.samples} decodes")
    print("\ndaemon log:\n" + log.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
