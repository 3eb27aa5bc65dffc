"""Playing a recording into a poyo-rt daemon through its real sockets, as a rig would.

Spikes go out in 1 ms batches, each carrying its watermark, on the recording's clock (integer
ticks, ``tick_rate`` per second). At ``speed`` N the batches are paced at N times real time; at
``speed=None`` ("max") the replay runs in lock step: after the watermark that completes a tick
it waits for that tick's output before sending more, so the daemon never has two ticks ready at
once and decodes exactly the ticks, and values, it decodes at any speed where it keeps up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import zmq

from .client import OutputSubscriber, SpikePublisher
from .sessions import Recording, SessionError
from .wire import Output, Status

#: Rates tried, in order, when a file does not say which clock its spike times were sampled on.
COMMON_TICK_RATES = (30_000, 20_000, 40_000, 32_000, 25_000, 24_000, 10_000, 1_000)


class ReplayError(SessionError):
    """The daemon stopped answering during a replay."""


def tick_rate_of(recording: Recording, requested: Optional[int] = None) -> int:
    """The clock to replay on: ``requested``, else the file's, else the first of
    ``COMMON_TICK_RATES`` on whose grid every spike time lies (within 0.05 tick), else 30000."""
    if requested:
        return int(requested)
    if recording.tick_rate:
        return int(recording.tick_rate)
    sample = recording.spike_times[:: max(1, len(recording.spike_times) // 20_000)]
    for rate in COMMON_TICK_RATES:
        scaled = sample * rate
        if sample.size and np.abs(scaled - np.rint(scaled)).max() < 0.05:
            return rate
    return 30_000


@dataclass
class Replay:
    """Everything a replay received, for scoring and the report.

    Attributes
    ----------
    outputs : list of Output
        Every output, in arrival order (values in physical units; ``raw_values`` when sent).
    arrivals_ns : list of int
        CLOCK_MONOTONIC nanoseconds at which each output arrived here (same host as the daemon).
    statuses : list of Status
    tick_rate : int
    first_tick, last_tick, hop_ticks : int
        The daemon's tick grid over the replay (ticks of the recording's clock).
    start_tick, end_tick : int
        The part of the recording played, [start, end).
    wall_seconds : float
        Time the playing took here.
    """

    outputs: list = field(default_factory=list)
    arrivals_ns: list = field(default_factory=list)
    statuses: list = field(default_factory=list)
    tick_rate: int = 30_000
    first_tick: int = 0
    last_tick: int = 0
    hop_ticks: int = 1
    start_tick: int = 0
    end_tick: int = 0
    wall_seconds: float = 0.0

    @property
    def final_status(self) -> Optional[Status]:
        return self.statuses[-1] if self.statuses else None

    @property
    def expected_ticks(self) -> int:
        return max(0, (self.last_tick - self.first_tick) // self.hop_ticks + 1)


class _Listener:
    """The experiment's side: every output and status, with arrival times."""

    def __init__(self, replay: Replay, subscriber: OutputSubscriber, check_alive: Callable[[], None]):
        self.replay, self.subscriber, self.check_alive = replay, subscriber, check_alive
        self.newest_tick = -1

    def pump(self, timeout: float = 0.0) -> bool:
        message = self.subscriber.receive(timeout=timeout)
        if message is None:
            self.check_alive()
            return False
        if isinstance(message, Output):
            self.replay.outputs.append(message)
            self.replay.arrivals_ns.append(time.monotonic_ns())
            self.newest_tick = max(self.newest_tick, message.window_end)
        else:
            self.replay.statuses.append(message)
        return True

    def drain(self) -> None:
        while self.pump(0.0):
            pass

    def wait(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise ReplayError(f"no answer from the daemon within {timeout:g} s while waiting for {what}")
            self.pump(0.05)

    def tick_done(self, tick: int) -> bool:
        """An output of ``tick`` (or a later one) is here, or a status counts it run/skipped/failed."""
        if self.newest_tick >= tick:
            return True
        status = self.replay.final_status
        if status is None:
            return False
        count = (tick - self.replay.first_tick) // self.replay.hop_ticks + 1
        return status.ticks_run + status.ticks_skipped + status.daemon_count("ticks_failed") >= count


def play(spike_ticks: np.ndarray, spike_units: np.ndarray, start_tick: int, end_tick: int, *,
         spikes_endpoint: str, outputs_endpoint: str, tick_rate: int, hop: float, sequence_length: float,
         speed: Optional[float] = None, check_alive: Callable[[], None] = lambda: None,
         on_progress: Optional[Callable[[Replay, int], None]] = None, source_id: int = 1,
         timeout: float = 30.0) -> Replay:
    """Plays spikes [start_tick, end_tick) into a daemon and collects what it publishes.

    Parameters
    ----------
    spike_ticks : ndarray of int64, shape (N,)
        Spike times in ticks of the recording's clock, nondecreasing.
    spike_units : ndarray of uint32, shape (N,)
        Rig unit id of each spike.
    start_tick, end_tick : int
        The part played. The first tick decoded is the first grid time whose whole window lies
        inside it (torch_brain's windows never reach before the data).
    spikes_endpoint, outputs_endpoint : str
        The daemon's SUB and PUB endpoints (this side connects).
    tick_rate : int
        Ticks per second.
    hop, sequence_length : float
        Seconds between ticks and of a window, as the daemon is configured.
    speed : float or None
        Times real time, or None for lock step (as fast as the daemon decodes).
    check_alive : callable
        Raises when the daemon has died (called while waiting).
    on_progress : callable, optional
        ``on_progress(replay, watermark_tick)`` about four times a second.

    Returns
    -------
    Replay
    """
    hop_ticks = max(1, round(hop * tick_rate))
    sequence_ticks = max(1, round(sequence_length * tick_rate))
    batch = max(1, tick_rate // 1000)
    first_time = max(start_tick - 1, 0)
    replay = Replay(tick_rate=tick_rate, hop_ticks=hop_ticks, start_tick=start_tick, end_tick=end_tick,
                    first_tick=-(-(first_time + sequence_ticks) // hop_ticks) * hop_ticks)
    replay.last_tick = (end_tick // hop_ticks) * hop_ticks
    context = zmq.Context()
    subscriber = OutputSubscriber(outputs_endpoint, context=context)
    rig = SpikePublisher(spikes_endpoint, source_id=source_id, tick_rate=tick_rate, context=context,
                         high_water_mark=1_000_000)
    listener = _Listener(replay, subscriber, check_alive)
    try:
        # Slow joiners, both ways: the first status says our subscription reached the daemon; a
        # status counting more received messages says the daemon hears the rig.
        listener.wait(lambda: replay.statuses, timeout, "its first status (is it running, at these endpoints?)")
        heard_before = replay.statuses[-1].received
        deadline = time.monotonic() + timeout
        while replay.statuses[-1].received <= heard_before:
            if time.monotonic() > deadline:
                raise ReplayError(f"the daemon at {spikes_endpoint} did not hear the rig within {timeout:g} s")
            rig.watermark(first_time)
            listener.pump(0.02)
        lo = int(np.searchsorted(spike_ticks, start_tick))
        pending = replay.first_tick
        wall_start = time.monotonic()
        last_report = 0.0
        for batch_start in range(start_tick, end_tick, batch):
            batch_end = min(batch_start + batch, end_tick)
            hi = int(np.searchsorted(spike_ticks, batch_end))
            for chunk in range(lo, hi, 60_000) if hi > lo else [lo]:
                top = min(hi, chunk + 60_000)
                rig.publish(spike_ticks[chunk:top], spike_units[chunk:top], watermark=batch_end - 1 if top == hi else None)
            lo = hi
            if speed is None:
                while pending <= batch_end and pending <= replay.last_tick:
                    listener.wait(lambda: listener.tick_done(pending), timeout, f"the output of tick {pending}")
                    pending += hop_ticks
            else:
                listener.drain()
                delay = wall_start + (batch_end - start_tick) / tick_rate / speed - time.monotonic()
                if delay > 0:
                    listener.pump(delay)
                    listener.drain()
            now = time.monotonic()
            if on_progress is not None and now - last_report > 0.25:
                on_progress(replay, batch_end)
                last_report = now
        if replay.last_tick >= replay.first_tick:
            listener.wait(lambda: listener.tick_done(replay.last_tick), timeout, f"the output of tick {replay.last_tick}")
        replay.wall_seconds = time.monotonic() - wall_start
        # A status made after the last output: the final counters.
        newest = max((o.stages.published for o in replay.outputs), default=0)
        listener.wait(lambda: replay.final_status.monotonic_ns > newest, timeout, "a status after the last output")
        if on_progress is not None:
            on_progress(replay, end_tick)
    finally:
        rig.close()
        subscriber.close()
        context.destroy(linger=0)
    return replay
