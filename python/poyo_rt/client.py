"""The reference client: what a lab's rig or experiment code uses to talk to poyo-rt.

Rig side::

    from poyo_rt import SpikePublisher
    with SpikePublisher("tcp://127.0.0.1:5555", source_id=1, tick_rate=30_000) as rig:
        rig.wait_for_subscriber(lambda: daemon_is_listening())   # or just publish heartbeats
        rig.publish(times=[100, 250], units=[3, 17], watermark=300)   # sample indices at 30 kHz
        rig.watermark(600)                                            # silence is information

Task side (the true behaviour, for the daemon's live R^2 and the capture log; same endpoint)::

    from poyo_rt import BehaviourPublisher
    with BehaviourPublisher("tcp://127.0.0.1:5555", source_id=1, tick_rate=30_000) as task:
        task.publish("cursor_velocity_2d", times=[300], values=[[0.5, -1.25]])   # rig clock, physical units

Experiment side::

    from poyo_rt import OutputSubscriber, Output, Status
    with OutputSubscriber("tcp://127.0.0.1:5556", readouts=["cursor_velocity_2d"]) as sub:
        message = sub.receive(timeout=1.0)            # Output, Status, or None on timeout
        if isinstance(message, Output):
            velocity = message.values[-1]             # physical units, float32
        elif isinstance(message, Status) and message.source_stalled:
            ...                                       # no outputs until the rig's watermarks resume

A closed loop wants the newest output, not the queue of those it had no time to read::

    latest = sub.receive_latest(timeout=0.05, max_age=0.1)   # {readout: Output}, each the newest
    # older ones are dropped and counted in sub.superseded; any older than 0.1 s in sub.stale
"""

from __future__ import annotations

import re
import time
from typing import Callable, Iterable, Optional, Sequence

import numpy as np
import zmq

from .wire import (DAEMON_TYPES, INGEST_TYPES, RIG_TYPES, BehaviourMessage, Message, Output, SpikeBatch, Status,
                   Watermark, WireError, decode, encode)


_ENDPOINT = re.compile(r"^(tcp|ipc|inproc|pgm|epgm|tipc|vmci|ws|wss|udp)://.+")


def _check_endpoint(endpoint: str) -> None:
    """Raises ValueError for an endpoint libzmq would refuse with a bare "Invalid argument"."""
    if not _ENDPOINT.match(endpoint):
        example = f"tcp://{endpoint}" if "://" not in endpoint else "tcp://127.0.0.1:5555"
        raise ValueError(f"endpoint {endpoint!r} is not TRANSPORT://ADDRESS (e.g. {example}, ipc:///tmp/poyo.sock)")


class _SocketOwner:
    """Closes its socket (LINGER 0: unsent messages are dropped) on ``close()`` or leaving ``with``."""

    socket: zmq.Socket

    def close(self) -> None:
        self.socket.close(linger=0)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SpikePublisher(_SocketOwner):
    """Publishes one source's spike batches and watermarks on a PUB socket.

    Keeps the source's sequence number (one counter over batches and watermarks, starting at 0:
    a restarted publisher tells the daemon to reset this source). Times are ticks of the rig's
    clock at ``tick_rate`` per second: sample indices at 30 kHz are exact for any session length.
    ``bind=True`` binds the endpoint (the daemon connects); otherwise it connects.
    """

    def __init__(self, endpoint: str, source_id: int, tick_rate: int = 30_000, *, bind: bool = False,
                 topic_suffix: str = "", context: Optional[zmq.Context] = None, high_water_mark: int = 10_000):
        _check_endpoint(endpoint)
        self.source_id = source_id
        self.tick_rate = tick_rate
        self.sequence = 0
        self.behaviour_sequence = 0
        self._suffix = f"/{topic_suffix}" if topic_suffix else ""
        self._context = context or zmq.Context.instance()
        self.socket = self._context.socket(zmq.PUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.SNDHWM, high_water_mark)
        if bind:
            self.socket.bind(endpoint)
        else:
            self.socket.connect(endpoint)
        self.endpoint = self.socket.getsockopt_string(zmq.LAST_ENDPOINT) if bind else endpoint

    def _send(self, message: Message) -> int:
        self.socket.send_multipart(encode(message), copy=False)
        self.sequence += 1
        return message.sequence

    def publish(self, times: Sequence[int], units: Sequence[int], watermark: Optional[int] = None) -> int:
        """Sends a batch of events (times sorted, ticks >= 0); returns its sequence number.

        ``watermark`` (>= the last time) also says every spike up to that tick has been sent.
        Raises ``WireError`` (nothing sent) for a batch the daemon would reject.
        """
        batch = SpikeBatch(self.source_id, self.sequence, self.tick_rate, np.asarray(times, dtype=np.int64),
                           np.asarray(units, dtype=np.uint32), watermark, topic=f"spikes{self._suffix}")
        # Refuse here what the daemon would reject, so that the rig's code hears about it.
        decode(encode(batch), accept=RIG_TYPES)
        return self._send(batch)

    def publish_behaviour(self, readout: str, times: Sequence[int], values) -> int:
        """Sends the true behaviour of ``readout`` on this socket; returns its sequence number.

        Parameters
        ----------
        readout : str
            The readout's name (torch_brain's, e.g. ``cursor_velocity_2d``).
        times : array of int64, shape (Q,)
            Ticks of this source's clock, non-decreasing.
        values : array of float32, shape (Q, D)
            Physical units (as the daemon's outputs).

        Behaviour messages have their own sequence numbers per source (``behaviour_sequence``):
        one publisher of a source's behaviour at a time. Raises ``WireError`` (nothing sent) for a
        message the daemon would reject.
        """
        times = np.asarray(times, dtype=np.int64)
        values = np.asarray(values, dtype=np.float32)
        if values.ndim != 2:
            values = values.reshape(len(times), -1)
        message = BehaviourMessage(readout, self.source_id, self.behaviour_sequence, self.tick_rate, times, values)
        decode(encode(message), accept=INGEST_TYPES)
        self.socket.send_multipart(encode(message), copy=False)
        self.behaviour_sequence += 1
        return message.sequence

    def watermark(self, watermark: int) -> int:
        """Says every spike up to tick ``watermark`` has been sent (also the heartbeat)."""
        return self._send(Watermark(self.source_id, self.sequence, self.tick_rate, watermark,
                                    topic=f"watermark{self._suffix}"))

    def wait_for_subscriber(self, is_subscribed: Callable[[], bool], watermark: int = 0,
                            interval: float = 0.01, timeout: float = 10.0) -> None:
        """Slow-joiner handshake: sends watermark heartbeats every ``interval`` seconds until
        ``is_subscribed()`` says the other side saw one (a side channel: its log, a REP socket, a
        status message), so no later message is lost to a subscription still in flight."""
        deadline = time.monotonic() + timeout
        while not is_subscribed():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no subscriber on {self.endpoint} after {timeout} s")
            self.watermark(watermark)
            time.sleep(interval)


class BehaviourPublisher(SpikePublisher):
    """Publishes the true behaviour of one rig source's readouts (task software -> daemon).

    Connects to the daemon's ingest endpoint, like the rig (the daemon binds it): ``publish`` is
    ``SpikePublisher.publish_behaviour``. Times are ticks of the rig source's clock, values in
    physical units.
    """

    def publish(self, readout: str, times: Sequence[int], values) -> int:  # type: ignore[override]
        """Sends ``values`` (Q x D, physical units) of ``readout`` at ``times`` (Q ticks); returns its sequence."""
        return self.publish_behaviour(readout, times, values)


class OutputSubscriber(_SocketOwner):
    """Receives the daemon's outputs (all readouts, or those named) and status messages.

    ``last_status`` is the latest status received (None before the first): its ``state``
    (``source_stalled``, ``no_source``), counters, ``rejections`` and ``daemon_counters``.

    Queues: the daemon queues at most 64 messages per subscriber (then drops, and the gap shows
    in ``tick_sequence``); this socket at most ``queue`` more (ZMQ_RCVHWM), plus what the
    kernel's socket buffers hold. A closed loop reads with ``receive_latest`` (the newest output
    per readout; older ones are dropped and counted in ``superseded``) and ``max_age`` (outputs
    older than that are dropped and counted in ``stale``; same host only: ages compare the
    daemon's ``published_ns`` with this host's CLOCK_MONOTONIC).
    """

    def __init__(self, endpoint: str, readouts: Optional[Iterable[str]] = None, status: bool = True, *,
                 bind: bool = False, context: Optional[zmq.Context] = None, queue: int = 1000):
        _check_endpoint(endpoint)
        self._context = context or zmq.Context.instance()
        self.socket = self._context.socket(zmq.SUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.RCVHWM, queue)
        prefixes = ["output/"] if readouts is None else [f"output/{name}" for name in readouts]
        if status:
            prefixes.append("status")
        for prefix in prefixes:
            self.socket.setsockopt(zmq.SUBSCRIBE, prefix.encode("ascii"))
        if bind:
            self.socket.bind(endpoint)
        else:
            self.socket.connect(endpoint)
        self.endpoint = self.socket.getsockopt_string(zmq.LAST_ENDPOINT) if bind else endpoint
        self.rejected: dict[str, int] = {}
        self.missed_ticks = 0
        #: Outputs dropped by ``receive_latest`` because a newer one of their readout was there.
        self.superseded = 0
        #: Outputs dropped because they were older than ``max_age``.
        self.stale = 0
        self.last_status: Optional[Status] = None
        self._last_tick: dict[str, int] = {}

    def receive(self, timeout: Optional[float] = None, max_age: Optional[float] = None) -> Optional[Message]:
        """The next valid output or status, or None if none came within ``timeout`` seconds.

        Invalid messages are counted in ``rejected`` by reason and skipped; gaps in an output's
        tick sequence (PUB drops at its high-water mark) are added to ``missed_ticks``; a status
        is also kept in ``last_status``. With ``max_age`` (seconds), outputs published longer ago
        than that are skipped and counted in ``stale``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            message = self._next(remaining)
            if message is None:
                return None
            if max_age is not None and isinstance(message, Output) and self._age(message) > max_age:
                self.stale += 1
                continue
            return message

    def receive_latest(self, timeout: Optional[float] = 0.0, max_age: Optional[float] = None) -> dict[str, Output]:
        """The newest output of each readout that has arrived, by readout name.

        Waits up to ``timeout`` seconds for a first message, then takes everything already
        queued without waiting more: of each readout only the newest output is kept, the older
        ones are dropped and counted in ``superseded``; with ``max_age``, outputs older than that
        many seconds are dropped and counted in ``stale``. Statuses update ``last_status``.
        Empty when no (fresh enough) output came.

        Parameters
        ----------
        timeout : float or None
            Seconds to wait for the first message (None: forever, 0: not at all).
        max_age : float or None
            Seconds since the daemon published an output (same host only).

        Returns
        -------
        dict of str to Output
            The newest output per readout.
        """
        latest: dict[str, Output] = {}
        wait = timeout
        while True:
            message = self._next(wait)
            if message is None:
                break
            wait = 0.0
            if not isinstance(message, Output):
                continue
            if max_age is not None and self._age(message) > max_age:
                self.stale += 1
                continue
            if message.readout in latest:
                self.superseded += 1
            latest[message.readout] = message
        return latest

    @staticmethod
    def _age(output: Output) -> float:
        """Seconds since the daemon published ``output`` (CLOCK_MONOTONIC of this host)."""
        return (time.monotonic_ns() - output.stages.published) / 1e9

    def _next(self, timeout: Optional[float]) -> Optional[Message]:
        """The next valid message within ``timeout`` seconds, bookkept; None on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self.socket.poll(None if remaining is None else int(remaining * 1000)):
                return None
            frames = self.socket.recv_multipart()
            try:
                message = decode(frames, accept=DAEMON_TYPES)
            except WireError as error:
                self.rejected[error.reason.label] = self.rejected.get(error.reason.label, 0) + 1
                continue
            if isinstance(message, Output):
                last = self._last_tick.get(message.readout)
                if last is not None and message.tick_sequence > last + 1:
                    self.missed_ticks += message.tick_sequence - last - 1
                self._last_tick[message.readout] = message.tick_sequence
            else:
                self.last_status = message
            return message


__all__ = ["SpikePublisher", "OutputSubscriber", "Output", "Status"]
