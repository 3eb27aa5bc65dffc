"""The profile's rig and subscriber: a stream paced in real time over the daemon's real sockets,
and every output stamped on arrival (CLOCK_MONOTONIC, as the daemon's stage stamps)."""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

import numpy as np
import zmq

from ..wire import DAEMON_TYPES, SpikeBatch, Status, Watermark, WireError, decode, encode
from .load import Stream

SOURCE_ID = 1


class Subscriber(threading.Thread):
    """Receives outputs and statuses on a thread of its own; stamps each right after ``recv``
    (decoding waits until the run is over, so that it costs the measured stream nothing).

    Attributes
    ----------
    outputs : list of (int, list of bytes)
        (CLOCK_MONOTONIC ns at receipt, frames) of every output.
    statuses : list of Status
    """

    def __init__(self, context: zmq.Context, endpoint: str):
        super().__init__(daemon=True, name="poyo-rt-profile-subscriber")
        self.context, self.endpoint = context, endpoint
        self.outputs: list = []
        self.statuses: list = []
        self._halt = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        sub = self.context.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.RCVHWM, 1_000_000)
        sub.setsockopt(zmq.SUBSCRIBE, b"output/")
        sub.setsockopt(zmq.SUBSCRIBE, b"status")
        sub.connect(self.endpoint)
        self.ready.set()
        try:
            while not self._halt.is_set():
                if not sub.poll(20):
                    continue
                frames = sub.recv_multipart()
                received = time.monotonic_ns()
                if frames[0].startswith(b"output/"):
                    self.outputs.append((received, frames))
                    continue
                try:
                    message = decode(frames, accept=DAEMON_TYPES)
                except WireError:
                    continue
                if isinstance(message, Status):
                    self.statuses.append(message)
        finally:
            sub.close(linger=0)

    def stop(self) -> None:
        self._halt.set()
        self.join(5)

    @property
    def status(self) -> Optional[Status]:
        return self.statuses[-1] if self.statuses else None


class RigError(RuntimeError):
    """The daemon did not answer."""


def play(stream: Stream, spikes_endpoint: str, subscriber: Subscriber, context: zmq.Context, *,
         check_alive: Callable[[], None] = lambda: None, batch_seconds: float = 0.001,
         on_progress: Optional[Callable[[float], None]] = None, timeout: float = 60.0) -> dict:
    """Plays ``stream`` in real time: one spike batch per ``batch_seconds`` (1 ms), each with its
    watermark, sent when the rig clock reaches the batch's end.

    Returns
    -------
    dict
        ``watermarks`` (int64 ticks, shape (M,)) and ``sent_ns`` (int64 CLOCK_MONOTONIC ns,
        shape (M,)) of every batch; ``lateness_ns`` how late each was sent against its schedule;
        ``wall_start_ns`` when the first batch was due.
    """
    rig = context.socket(zmq.PUB)
    rig.setsockopt(zmq.LINGER, 0)
    rig.setsockopt(zmq.SNDHWM, 1_000_000)
    rig.connect(spikes_endpoint)
    sequence = 0
    try:
        # Slow joiners both ways: the subscriber waits for a status, the rig heartbeats at its
        # current clock until a status counts what it sent.
        heartbeat = max(stream.start_tick - 1, 0)
        deadline = time.monotonic() + timeout
        heard = None
        while True:
            check_alive()
            if time.monotonic() > deadline:
                raise RigError(f"the daemon at {spikes_endpoint} did not hear the rig within {timeout:g} s")
            status = subscriber.status
            if status is not None:
                if heard is None:
                    heard = status.received
                elif status.received > heard:
                    break
                rig.send_multipart(encode(Watermark(SOURCE_ID, sequence, stream.tick_rate, heartbeat)))
                sequence += 1
            time.sleep(0.01)
        step = max(1, round(batch_seconds * stream.tick_rate))
        ends = np.arange(stream.start_tick + step, stream.end_tick + step, step, dtype=np.int64)
        ends[-1] = min(ends[-1], stream.end_tick)
        bounds = np.searchsorted(stream.times, np.concatenate([[stream.start_tick], ends]), side="left")
        messages = [encode(SpikeBatch(SOURCE_ID, sequence + k, stream.tick_rate, stream.times[bounds[k]:bounds[k + 1]],
                                      stream.units[bounds[k]:bounds[k + 1]], int(end) - 1))
                    for k, end in enumerate(ends)]
        sent = np.zeros(len(messages), dtype=np.int64)
        lateness = np.zeros(len(messages), dtype=np.int64)
        start = time.monotonic_ns()
        last_report = start
        for k, frames in enumerate(messages):
            target = start + round((ends[k] - stream.start_tick) / stream.tick_rate * 1e9)
            now = time.monotonic_ns()
            if target > now:
                time.sleep((target - now) / 1e9)
            sent[k] = time.monotonic_ns()
            lateness[k] = sent[k] - target
            rig.send_multipart(frames, copy=False)
            if on_progress is not None and sent[k] - last_report > 250_000_000:
                check_alive()
                on_progress((ends[k] - stream.start_tick) / stream.tick_rate)
                last_report = sent[k]
        return {"watermarks": ends - 1, "sent_ns": sent, "lateness_ns": lateness, "wall_start_ns": start}
    finally:
        rig.close(linger=0)


def wait_for_the_end(subscriber: Subscriber, last_tick: int, expected: int, timeout: float = 3.0) -> None:
    """Waits until the output of ``last_tick`` arrived, or a status counts ``expected`` ticks done
    (run, skipped or failed), then for one more status (the final counters)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = subscriber.status
        if status is not None and status.ticks_run + status.ticks_skipped + status.daemon_count("ticks_failed") >= expected:
            break
        if subscriber.outputs and decode(subscriber.outputs[-1][1], accept=DAEMON_TYPES).window_end >= last_tick:
            break
        time.sleep(0.005)
    seen = len(subscriber.statuses)
    deadline = time.monotonic() + timeout
    while len(subscriber.statuses) < seen + 1 and time.monotonic() < deadline:
        time.sleep(0.01)
