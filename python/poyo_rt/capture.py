"""Reads a capture log of ``poyo serve --capture`` (docs/capture-log.md): what the daemon received
(spikes, watermarks, behaviour) and published (outputs, status), with its configurations.

What ``poyo-rt calibrate`` needs from a recorded run::

    from poyo_rt import read_capture_log
    log = read_capture_log("run.log")
    units, ticks = log.spikes()                       # the decoded source's accepted spikes
    times, values = log.behaviour("cursor_velocity_2d")
    seconds = ticks / log.tick_rate
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import numpy as np

from .sequence import SequenceTracker
from .wire import BehaviourMessage, Output, SpikeBatch, Status, Watermark, WireError, decode

MAGIC = b"PYRTCAP1"
SESSION, RECEIVED, PUBLISHED = 1, 2, 3
MAX_BODY = 64 << 20


@dataclass
class SessionRecord:
    """The configuration (YAML text) and model identity a run started or switched to."""

    monotonic_ns: int
    configuration: str
    model_path: str
    model_size: int
    model_crc32: int


@dataclass
class CaptureLog:
    """The records of a capture log, in order.

    ``sessions``: the configuration records; ``received`` and ``published``: (monotonic_ns, frames)
    of every message received by the ingest socket (valid or not) and published by the daemon.

    A log cut inside a record (a kill -9 during a write) or with a damaged record reads up to its
    last complete record and says so, as ``poyo replay`` does: ``end`` is ``"complete"``,
    ``"inside_record"`` (the file ends inside the record at byte ``end_offset``) or
    ``"damaged_record"`` (the record at ``end_offset`` fails its CRC or length check; nothing from
    there is read); ``partial`` is True for the latter two and ``end_description`` says it in words.
    """

    sessions: list = field(default_factory=list)
    received: list = field(default_factory=list)
    published: list = field(default_factory=list)
    end: str = "complete"
    end_offset: Optional[int] = None
    file_bytes: int = 0
    records: int = 0

    @property
    def partial(self) -> bool:
        """True when the file ends inside a record or at a damaged one (records after it are not read)."""
        return self.end != "complete"

    @property
    def end_description(self) -> Optional[str]:
        """One sentence on where the readable part ends early (None for a complete log)."""
        if self.end == "inside_record":
            return (f"ends inside a record at byte {self.end_offset} (its last {self.file_bytes - self.end_offset} of "
                    f"{self.file_bytes} bytes are a partial record, as a kill during a write leaves): the "
                    f"{self.records} complete records before it were read")
        if self.end == "damaged_record":
            return (f"has a damaged record at byte {self.end_offset} (its CRC or length does not check): the "
                    f"{self.records} complete records before it were read, the last "
                    f"{self.file_bytes - self.end_offset} of {self.file_bytes} bytes were not")
        return None

    def received_messages(self):
        """(monotonic_ns, message) of every valid received message (invalid ones are skipped)."""
        return _valid_messages(self.received)

    def published_messages(self):
        """(monotonic_ns, message) of every valid published message (invalid ones are skipped)."""
        return _valid_messages(self.published)

    def _decoded_source(self) -> Optional[int]:
        for session in self.sessions:
            for line in session.configuration.splitlines():
                if line.startswith("source:"):
                    return int(line.split(":", 1)[1])
        return None

    def spikes(self, source_id: Optional[int] = None) -> tuple[np.ndarray, np.ndarray]:
        """The spikes of one rig source that the daemon accepted (sequence rules of protocol/SPEC.md
        section 5 applied, late events dropped).

        Parameters
        ----------
        source_id : int, optional
            Default: the configuration's ``source``, else the first source heard.

        Returns
        -------
        units : ndarray of uint32, shape (N,)
            The rig's unit ids.
        ticks : ndarray of int64, shape (N,)
            Spike times, ticks of the source clock (``tick_rate``).
        """
        source = source_id if source_id is not None else self._decoded_source()
        tracker = SequenceTracker()
        units, ticks = [], []
        for _, message in self.received_messages():
            if not isinstance(message, (SpikeBatch, Watermark)):
                continue
            if source is None:
                source = message.source_id
            if message.source_id != source:
                continue
            try:
                admission = tracker.admit(message)
            except WireError:
                continue
            if isinstance(message, SpikeBatch) and len(message.times) > admission.late_events:
                units.append(message.units[admission.late_events:])
                ticks.append(message.times[admission.late_events:])
        if not units:
            return np.zeros(0, np.uint32), np.zeros(0, np.int64)
        return np.concatenate(units).astype(np.uint32), np.concatenate(ticks).astype(np.int64)

    @property
    def tick_rate(self) -> Optional[int]:
        """The tick rate of the first rig message received (ticks per second), None if none."""
        for _, message in self.received_messages():
            if isinstance(message, (SpikeBatch, Watermark, BehaviourMessage)):
                return message.tick_rate
        return None

    def behaviour(self, readout: str, source_id: Optional[int] = None) -> tuple[np.ndarray, np.ndarray]:
        """The behaviour of ``readout`` received, in arrival order (duplicate sequence numbers dropped).

        Returns
        -------
        ticks : ndarray of int64, shape (Q,)
            Ticks of the source clock.
        values : ndarray of float32, shape (Q, D)
            Physical units.
        """
        source = source_id if source_id is not None else self._decoded_source()
        last_sequence: dict[int, int] = {}
        ticks, values = [], []
        for _, message in self.received_messages():
            if not isinstance(message, BehaviourMessage) or message.readout != readout:
                continue
            if source is not None and message.source_id != source:
                continue
            previous = last_sequence.get(message.source_id)
            if previous is not None and message.sequence != 0 and message.sequence <= previous:
                continue
            last_sequence[message.source_id] = message.sequence
            ticks.append(message.timestamps)
            values.append(message.values)
        if not ticks:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        return np.concatenate(ticks), np.concatenate(values)

    def outputs(self, readout: Optional[str] = None) -> list:
        """The outputs the daemon published (of ``readout``, or all)."""
        return [m for _, m in self.published_messages()
                if isinstance(m, Output) and (readout is None or m.readout == readout)]

    def statuses(self) -> list:
        """The status messages the daemon published."""
        return [m for _, m in self.published_messages() if isinstance(m, Status)]


def _valid_messages(records: list):
    """(monotonic_ns, message) of the records whose frames decode; the others are skipped."""
    for at, frames in records:
        try:
            yield at, decode(frames)
        except WireError:
            continue


def _frames(payload: bytes) -> list:
    (count,) = struct.unpack_from("<I", payload, 0)
    offset, frames = 4, []
    for _ in range(count):
        (length,) = struct.unpack_from("<I", payload, offset)
        if offset + 4 + length > len(payload):
            raise ValueError("a frame runs past its record")
        frames.append(payload[offset + 4:offset + 4 + length])
        offset += 4 + length
    return frames


def read_capture_log(path: Union[str, Path]) -> CaptureLog:
    """Reads a capture log up to its last complete record (what a kill -9 leaves is intact before it).

    A log that ends inside a record, or at a damaged one, is read up to there and flagged
    (``log.partial``, ``log.end``, ``log.end_offset``, ``log.end_description``): not an error, as
    ``poyo replay`` replays such a log and says where it ends.

    Raises ``ValueError`` when the file is not a capture log.
    """
    data = Path(path).read_bytes()
    if data[:8] != MAGIC:
        raise ValueError(f"{path}: not a poyo-rt capture log (no PYRTCAP1)")
    log = CaptureLog(file_bytes=len(data))
    offset = 8
    while offset < len(data):
        if offset + 8 > len(data):
            log.end, log.end_offset = "inside_record", offset
            break
        length, crc = struct.unpack_from("<II", data, offset)
        body = data[offset + 8:offset + 8 + length]
        if length > MAX_BODY:
            log.end, log.end_offset = "damaged_record", offset
            break
        if len(body) < length:
            log.end, log.end_offset = "inside_record", offset
            break
        if zlib.crc32(body) != crc or length < 9:
            log.end, log.end_offset = "damaged_record", offset
            break
        kind, at = body[0], struct.unpack_from("<Q", body, 1)[0]
        payload = body[9:]
        try:
            if kind == SESSION:
                (n,) = struct.unpack_from("<I", payload, 0)
                yaml = payload[4:4 + n].decode("utf-8")
                (m,) = struct.unpack_from("<I", payload, 4 + n)
                model = payload[8 + n:8 + n + m].decode("utf-8")
                size, model_crc = struct.unpack_from("<QI", payload, 8 + n + m)
                log.sessions.append(SessionRecord(at, yaml, model, size, model_crc))
            elif kind == RECEIVED:
                log.received.append((at, _frames(payload)))
            elif kind == PUBLISHED:
                log.published.append((at, _frames(payload)))
        except (struct.error, UnicodeDecodeError, ValueError):
            # Its CRC holds but its contents do not parse: a damaged record, as the Swift reader says.
            log.end, log.end_offset = "damaged_record", offset
            break
        offset += 8 + length
        log.records += 1
    return log
