"""Encoding and decoding of poyo-rt wire messages (protocol/SPEC.md), with numpy arrays.

No I/O here: ``encode(message)`` gives the frames of a multipart ZeroMQ message, ``decode(frames)``
validates frames exactly as the Swift daemon does and raises ``WireError`` with the same
``Rejection`` reason. Times are integer ticks of the source's clock (``tick_rate`` per second).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field
from typing import Optional, Sequence, Union

import numpy as np

MAGIC = b"PYRT"
VERSION = 1
MAX_TOPIC_SIZE = 255
MAX_EVENTS_PER_BATCH = 65_536
MAX_OUTPUT_COUNT = 65_536
MAX_OUTPUT_DIMENSION = 1_024
MAX_MODEL_NAME_SIZE = 4_096
MAX_REJECTION_COUNTERS = 256
MAX_DAEMON_COUNTERS = 256

PREAMBLE = struct.Struct("<4sBBH")
#: magic, version, type, flags, source_id, event_count, sequence, tick_rate, watermark
RIG_HEADER = struct.Struct("<4sBBHIIQQq")
#: magic, version, type, flags, Q, D, tick_sequence, tick_rate, window_start, window_end, 4 stages, dequeued
OUTPUT_HEADER = struct.Struct("<4sBBHIIQQqqQQQQQ")
#: The output header before ``dequeued_ns`` was appended (80 bytes): still accepted, dequeued 0.
OUTPUT_HEADER_WITHOUT_DEQUEUED = struct.Struct("<4sBBHIIQQqqQQQQ")
#: magic, version, type, flags, 14 u64 counters, rejection_count, state
STATUS_HEADER = struct.Struct("<4sBBH14QII")
#: Behaviour header: preamble, source_id, sample_count Q, sequence, tick_rate, dimension D, reserved 0.
BEHAVIOUR_HEADER = struct.Struct("<4sBBHIIQQII")
#: One status quality entry after its name: kind (0 R^2, 1 accuracy), samples, value.
QUALITY_ENTRY = struct.Struct("<BQd")
MAX_QUALITY_ENTRIES = 256

RIG_HAS_WATERMARK = 1
OUTPUT_HAS_RAW_VALUES = 1
#: Status ``state`` bit 0: the decoded source sent no watermark for the stall timeout (nothing stale is published).
STATUS_SOURCE_STALLED = 1
#: Status ``state`` bit 1: nothing received from the decoded source yet.
STATUS_NO_SOURCE = 2
STATUS_KNOWN_STATE = STATUS_SOURCE_STALLED | STATUS_NO_SOURCE

#: The daemon's own counters in a status message (frame 4), by index; new ones are only ever appended.
DAEMON_COUNTERS = (
    "unknown_units",     # spike events of rig units the configuration does not map
    "other_source",      # rig messages of a source the daemon does not decode
    "reordered",         # spike events inserted out of time order
    "ticks_failed",      # ticks whose forward pass refused the window
    "capture_failures",  # capture-log writes that failed
    "reloads_failed",  # model reloads (SIGHUP) refused: the file failed to load or decodes another session
    "resynchronizations",  # a rig source's history forgotten after its messages kept being rejected
    "outside_windows",  # spike events no window holds: before the first window (or between windows)
    "capture_dropped",  # capture-log records not written: the writer fell behind by more than its buffer
    "behaviour_accepted",  # behaviour messages accepted (a part of `accepted`)
    "behaviour_missed",  # behaviour messages missing by sequence number
    "behaviour_unused",  # behaviour samples not scored (readout not decoded, other dimension, not after the previous, non-finite, too old)
    "reloads",  # reloads (SIGHUP) applied: a model reloaded or a configuration switched to
    "ticks_prepared",  # ticks run that resumed the encoder state prepared between ticks (encode_ahead); a part of ticks_run
)

#: Kinds of a status quality entry.
QUALITY_KINDS = ("r2", "accuracy")


class MessageType(enum.IntEnum):
    SPIKE_BATCH = 1
    WATERMARK = 2
    OUTPUT = 3
    STATUS = 4
    BEHAVIOUR = 5

    @property
    def topic_prefix(self) -> str:
        return {1: "spikes", 2: "watermark", 3: "output", 4: "status", 5: "behaviour"}[int(self)]


class Rejection(enum.IntEnum):
    """Why a message was rejected; the value is the counter index in status messages."""

    FRAME_COUNT = 0
    BAD_TOPIC = 1
    HEADER_SIZE = 2
    BAD_MAGIC = 3
    UNKNOWN_VERSION = 4
    UNKNOWN_TYPE = 5
    UNEXPECTED_TYPE = 6
    BAD_FLAGS = 7
    TOO_MANY = 8
    PAYLOAD_SIZE = 9
    BAD_TICK_RATE = 10
    NEGATIVE_TIME = 11
    UNSORTED_TIMES = 12
    WATERMARK_BEFORE_EVENTS = 13
    BAD_STRING = 14
    BUFFER_TOO_SMALL = 15
    DUPLICATE_SEQUENCE = 16
    TIME_WENT_BACKWARDS = 17
    WATERMARK_WENT_BACKWARDS = 18
    TICK_RATE_CHANGED = 19

    @property
    def label(self) -> str:
        """The snake_case name used in JSON and in the Swift code's ``WireRejection.name``."""
        return self.name.lower()


class WireError(ValueError):
    """A message that poyo-rt rejects, with the reason the daemon would count it under."""

    def __init__(self, reason: Rejection, detail: str = ""):
        super().__init__(f"{reason.label}: {detail}" if detail else reason.label)
        self.reason = reason
        #: For a rig message whose header was read before the rejection: its source and sequence
        #: number (which the message still uses up, protocol/SPEC.md section 5); else None.
        self.source_id: Optional[int] = None
        self.sequence: Optional[int] = None


@dataclass
class SpikeBatch:
    """Rig -> daemon: events of one source. ``times`` int64 ticks (sorted, >= 0), ``units`` uint32."""

    source_id: int
    sequence: int
    tick_rate: int
    times: np.ndarray
    units: np.ndarray
    watermark: Optional[int] = None
    topic: str = "spikes"

    def __post_init__(self) -> None:
        self.times = np.ascontiguousarray(self.times, dtype="<i8")
        self.units = np.ascontiguousarray(self.units, dtype="<u4")


@dataclass
class Watermark:
    """Rig -> daemon: every spike of ``source_id`` at or before tick ``watermark`` was sent."""

    source_id: int
    sequence: int
    tick_rate: int
    watermark: int
    topic: str = "watermark"


@dataclass
class StageTimestamps:
    """CLOCK_MONOTONIC nanoseconds of the daemon's host at each stage of a tick."""

    received: int
    window_built: int
    forward_done: int
    published: int
    #: The scheduler took the tick from the ingest ring (0 from a daemon that predates the field).
    dequeued: int = 0


@dataclass
class Output:
    """Daemon -> subscribers: one tick's output of one readout.

    ``values`` are Q x D float32 in physical units; ``raw_values`` the model's normalized values
    when the daemon sends them. ``timestamps`` are Q int64 ticks of the source clock.
    """

    readout: str
    tick_sequence: int
    tick_rate: int
    window_start: int
    window_end: int
    stages: StageTimestamps
    timestamps: np.ndarray
    values: np.ndarray
    raw_values: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        self.timestamps = np.ascontiguousarray(self.timestamps, dtype="<i8")
        self.values = np.ascontiguousarray(self.values, dtype="<f4")
        if self.values.ndim == 1:
            self.values = self.values.reshape(len(self.timestamps), -1 if len(self.timestamps) else 0)
        if self.raw_values is not None:
            self.raw_values = np.ascontiguousarray(self.raw_values, dtype="<f4").reshape(self.values.shape)

    @property
    def topic(self) -> str:
        return f"output/{self.readout}"

    @property
    def daemon_latency_ns(self) -> int:
        """Published minus received: the daemon's share of the latency."""
        return self.stages.published - self.stages.received

    def timestamps_seconds(self) -> np.ndarray:
        """The output timestamps in seconds of the source clock (float64)."""
        return self.timestamps / float(self.tick_rate)


@dataclass
class BehaviourMessage:
    """Rig or task software -> daemon: the true behaviour of one readout.

    ``timestamps`` are Q int64 ticks of the clock of rig source ``source_id`` (non-decreasing),
    ``values`` Q x D float32 in physical units (NaN: a missing sample). ``sequence`` counts the
    source's behaviour messages (+1 each), apart from its spike batches and watermarks.
    """

    readout: str
    source_id: int
    sequence: int
    tick_rate: int
    timestamps: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        self.timestamps = np.ascontiguousarray(self.timestamps, dtype="<i8")
        self.values = np.ascontiguousarray(self.values, dtype="<f4")
        if self.values.ndim == 1:
            self.values = self.values.reshape(len(self.timestamps), -1 if len(self.timestamps) else 0)
        if self.values.shape[0] != len(self.timestamps):
            raise ValueError("values must have one row per timestamp")

    @property
    def topic(self) -> str:
        return f"behaviour/{self.readout}"


@dataclass
class ReadoutQuality:
    """One readout's live decoding quality in a status message.

    ``kind`` is ``"r2"`` (continuous: 1 - SS_res / SS_tot per dimension, averaged) or
    ``"accuracy"`` (multinomial); ``samples`` decode/behaviour pairs over the quality window;
    ``value`` NaN when there are none.
    """

    readout: str
    kind: str
    samples: int
    value: float


STATUS_COUNTERS = (
    "status_sequence", "monotonic_ns", "received", "accepted", "late", "dropped", "ticks_run",
    "ticks_skipped", "missed_messages", "latency_samples", "latency_p50_ns", "latency_p90_ns",
    "latency_p99_ns", "latency_max_ns",
)


@dataclass
class Status:
    """Daemon -> subscribers, periodic: counters, latency percentiles, the model loaded.

    ``state`` holds ``STATUS_SOURCE_STALLED`` and ``STATUS_NO_SOURCE`` bits; ``rejections`` are
    counted by ``Rejection`` index, ``daemon_counters`` by ``DAEMON_COUNTERS`` index (a newer daemon
    may send more entries of either than this side has names for: they are kept). The counters are
    totals since the daemon started; the ``latency_*`` fields cover the interval since the
    previous status only (protocol/SPEC.md section 4.4).
    """

    status_sequence: int = 0
    monotonic_ns: int = 0
    received: int = 0
    accepted: int = 0
    late: int = 0
    dropped: int = 0
    ticks_run: int = 0
    ticks_skipped: int = 0
    missed_messages: int = 0
    latency_samples: int = 0
    latency_p50_ns: int = 0
    latency_p90_ns: int = 0
    latency_p99_ns: int = 0
    latency_max_ns: int = 0
    model: str = ""
    rejections: np.ndarray = field(default_factory=lambda: np.zeros(len(Rejection), dtype="<u8"))
    state: int = 0
    daemon_counters: np.ndarray = field(default_factory=lambda: np.zeros(len(DAEMON_COUNTERS), dtype="<u8"))
    #: Live quality per readout (frame 5); None when the daemon sent no quality frame.
    quality: Optional[list] = None
    topic: str = "status"

    def __post_init__(self) -> None:
        self.rejections = np.ascontiguousarray(self.rejections, dtype="<u8")
        self.daemon_counters = np.ascontiguousarray(self.daemon_counters, dtype="<u8")

    def rejected(self, reason: Rejection) -> int:
        """Rejected rig messages for ``reason`` (0 if the daemon has no counter for it)."""
        return int(self.rejections[reason]) if reason < len(self.rejections) else 0

    def daemon_count(self, name: str) -> int:
        """The daemon's counter ``name`` (one of ``DAEMON_COUNTERS``; 0 if the daemon has no such entry)."""
        index = DAEMON_COUNTERS.index(name)
        return int(self.daemon_counters[index]) if index < len(self.daemon_counters) else 0

    def quality_of(self, readout: str) -> Optional[ReadoutQuality]:
        """The quality entry of ``readout``, or None when the status has none for it."""
        return next((q for q in self.quality or [] if q.readout == readout), None)

    @property
    def source_stalled(self) -> bool:
        """The decoded source sent no watermark for the stall timeout: no output is published meanwhile."""
        return bool(self.state & STATUS_SOURCE_STALLED)

    @property
    def no_source(self) -> bool:
        """Nothing has been received from the decoded source yet."""
        return bool(self.state & STATUS_NO_SOURCE)


Message = Union[SpikeBatch, Watermark, Output, Status, BehaviourMessage]


def _preamble(kind: MessageType, flags: int) -> tuple:
    return (MAGIC, VERSION, int(kind), flags)


def encode(message: Message) -> list[bytes]:
    """The frames of ``message``: topic, header, then the payload frames of its type."""
    if isinstance(message, SpikeBatch):
        count = len(message.times)
        if len(message.units) != count:
            raise ValueError("times and units must have the same length")
        flags = RIG_HAS_WATERMARK if message.watermark is not None else 0
        header = RIG_HEADER.pack(*_preamble(MessageType.SPIKE_BATCH, flags), message.source_id, count,
                                 message.sequence, message.tick_rate, message.watermark or 0)
        return [message.topic.encode("ascii"), header, message.times.tobytes() + message.units.tobytes()]
    if isinstance(message, Watermark):
        header = RIG_HEADER.pack(*_preamble(MessageType.WATERMARK, 0), message.source_id, 0,
                                 message.sequence, message.tick_rate, message.watermark)
        return [message.topic.encode("ascii"), header]
    if isinstance(message, Output):
        q, d = message.values.shape
        flags = OUTPUT_HAS_RAW_VALUES if message.raw_values is not None else 0
        s = message.stages
        header = OUTPUT_HEADER.pack(*_preamble(MessageType.OUTPUT, flags), q, d, message.tick_sequence,
                                    message.tick_rate, message.window_start, message.window_end,
                                    s.received, s.window_built, s.forward_done, s.published, s.dequeued)
        frames = [message.topic.encode("ascii"), header, message.timestamps.tobytes(), message.values.tobytes()]
        if message.raw_values is not None:
            frames.append(message.raw_values.tobytes())
        return frames
    if isinstance(message, Status):
        counters = [getattr(message, name) for name in STATUS_COUNTERS]
        header = STATUS_HEADER.pack(*_preamble(MessageType.STATUS, 0), *counters, len(message.rejections),
                                    message.state)
        frames = [message.topic.encode("ascii"), header, message.model.encode("utf-8"),
                  message.rejections.tobytes(), message.daemon_counters.tobytes()]
        if message.quality is not None:
            frames.append(b"".join(
                bytes([len(q.readout)]) + q.readout.encode("ascii")
                + QUALITY_ENTRY.pack(QUALITY_KINDS.index(q.kind), q.samples, q.value) for q in message.quality))
        return frames
    if isinstance(message, BehaviourMessage):
        q, d = message.values.shape
        header = BEHAVIOUR_HEADER.pack(*_preamble(MessageType.BEHAVIOUR, 0), message.source_id, q, message.sequence,
                                       message.tick_rate, d, 0)
        return [message.topic.encode("ascii"), header, message.timestamps.tobytes(), message.values.tobytes()]
    raise TypeError(f"not a poyo-rt message: {type(message).__name__}")


def message_type(frames: Sequence[bytes]) -> MessageType:
    """Checks the preamble (frame count, size, magic, version, type) and returns the type."""
    if len(frames) < 2:
        raise WireError(Rejection.FRAME_COUNT, f"{len(frames)} frame(s)")
    header = frames[1]
    if len(header) < PREAMBLE.size:
        raise WireError(Rejection.HEADER_SIZE, f"{len(header)} bytes")
    magic, version, kind, _ = PREAMBLE.unpack_from(header)
    if magic != MAGIC:
        raise WireError(Rejection.BAD_MAGIC)
    if version != VERSION:
        raise WireError(Rejection.UNKNOWN_VERSION, f"version {version}")
    try:
        return MessageType(kind)
    except ValueError:
        raise WireError(Rejection.UNKNOWN_TYPE, f"type {kind}") from None


def _topic_suffix(topic: bytes, kind: MessageType) -> str:
    if not 1 <= len(topic) <= MAX_TOPIC_SIZE or any(b < 0x21 or b > 0x7E for b in topic):
        raise WireError(Rejection.BAD_TOPIC, repr(topic[:40]))
    prefix = kind.topic_prefix.encode("ascii")
    if topic == prefix:
        return ""
    if topic.startswith(prefix + b"/") and len(topic) > len(prefix) + 1:
        return topic[len(prefix) + 1:].decode("ascii")
    raise WireError(Rejection.BAD_TOPIC, f"{topic[:40]!r} is not a {kind.name} topic")


def _decode_rig(frames: Sequence[bytes], kind: MessageType) -> Union[SpikeBatch, Watermark]:
    topic = frames[0]
    _topic_suffix(topic, kind)
    if len(frames) != (3 if kind == MessageType.SPIKE_BATCH else 2):
        raise WireError(Rejection.FRAME_COUNT, f"{len(frames)} frames")
    if len(frames[1]) != RIG_HEADER.size:
        raise WireError(Rejection.HEADER_SIZE, f"{len(frames[1])} bytes")
    _, _, _, flags, source, count, sequence, tick_rate, watermark = RIG_HEADER.unpack(frames[1])
    allowed = RIG_HAS_WATERMARK if kind == MessageType.SPIKE_BATCH else 0
    if flags & ~allowed:
        raise WireError(Rejection.BAD_FLAGS, f"flags {flags:#x}")
    carries = kind == MessageType.WATERMARK or bool(flags & RIG_HAS_WATERMARK)
    if not carries and watermark != 0:
        raise WireError(Rejection.BAD_FLAGS, "watermark field set without its flag")
    try:
        if kind == MessageType.WATERMARK:
            if count != 0:
                raise WireError(Rejection.PAYLOAD_SIZE, f"watermark with event_count {count}")
        else:
            if count > MAX_EVENTS_PER_BATCH:
                raise WireError(Rejection.TOO_MANY, f"{count} events")
            if len(frames[2]) != count * 12:
                raise WireError(Rejection.PAYLOAD_SIZE, f"{count} events in {len(frames[2])} bytes")
        if tick_rate == 0:
            raise WireError(Rejection.BAD_TICK_RATE)
        if carries and watermark < 0:
            raise WireError(Rejection.NEGATIVE_TIME, f"watermark {watermark}")
        if kind == MessageType.WATERMARK:
            return Watermark(source, sequence, tick_rate, watermark, topic=topic.decode("ascii"))
        times = np.frombuffer(frames[2], dtype="<i8", count=count)
        units = np.frombuffer(frames[2], dtype="<u4", count=count, offset=count * 8)
        if count:
            if times.min() < 0:
                raise WireError(Rejection.NEGATIVE_TIME)
            if np.any(times[1:] < times[:-1]):
                raise WireError(Rejection.UNSORTED_TIMES)
            if carries and watermark < times[-1]:
                raise WireError(Rejection.WATERMARK_BEFORE_EVENTS, f"watermark {watermark} < {times[-1]}")
        return SpikeBatch(source, sequence, tick_rate, times.copy(), units.copy(),
                          watermark if carries else None, topic=topic.decode("ascii"))
    except WireError as error:
        # The header was read: the message still uses up its sequence number (SPEC section 5).
        error.source_id, error.sequence = source, sequence
        raise


def _decode_output(frames: Sequence[bytes]) -> Output:
    readout = _topic_suffix(frames[0], MessageType.OUTPUT)
    if not readout:
        raise WireError(Rejection.BAD_TOPIC, "output topic without a readout name")
    flags = PREAMBLE.unpack_from(frames[1])[3]
    if flags & ~OUTPUT_HAS_RAW_VALUES:
        raise WireError(Rejection.BAD_FLAGS, f"flags {flags:#x}")
    has_raw = bool(flags & OUTPUT_HAS_RAW_VALUES)
    if len(frames) != (5 if has_raw else 4):
        raise WireError(Rejection.FRAME_COUNT, f"{len(frames)} frames")
    layout = {OUTPUT_HEADER.size: OUTPUT_HEADER, OUTPUT_HEADER_WITHOUT_DEQUEUED.size: OUTPUT_HEADER_WITHOUT_DEQUEUED}
    if len(frames[1]) not in layout:
        raise WireError(Rejection.HEADER_SIZE, f"{len(frames[1])} bytes")
    (_, _, _, _, q, d, tick_sequence, tick_rate, start, end, *stages) = layout[len(frames[1])].unpack(frames[1])
    if q > MAX_OUTPUT_COUNT or d > MAX_OUTPUT_DIMENSION:
        raise WireError(Rejection.TOO_MANY, f"{q} x {d}")
    if len(frames[2]) != q * 8 or any(len(f) != q * d * 4 for f in frames[3:]):
        raise WireError(Rejection.PAYLOAD_SIZE, f"frames of {[len(f) for f in frames[2:]]} bytes for {q} x {d}")
    if tick_rate == 0:
        raise WireError(Rejection.BAD_TICK_RATE)
    if start < 0 or end < 0:
        raise WireError(Rejection.NEGATIVE_TIME, f"window {start}..{end}")
    timestamps = np.frombuffer(frames[2], dtype="<i8").copy()
    if q and timestamps.min() < 0:
        raise WireError(Rejection.NEGATIVE_TIME, "output timestamp")
    if start > end:
        raise WireError(Rejection.UNSORTED_TIMES, f"window {start}..{end}")
    values = np.frombuffer(frames[3], dtype="<f4").reshape(q, d).copy()
    raw = np.frombuffer(frames[4], dtype="<f4").reshape(q, d).copy() if has_raw else None
    return Output(readout, tick_sequence, tick_rate, start, end, StageTimestamps(*stages), timestamps, values, raw)


def _decode_status(frames: Sequence[bytes]) -> Status:
    _topic_suffix(frames[0], MessageType.STATUS)
    if len(frames) not in (5, 6):
        raise WireError(Rejection.FRAME_COUNT, f"{len(frames)} frames")
    if len(frames[1]) != STATUS_HEADER.size:
        raise WireError(Rejection.HEADER_SIZE, f"{len(frames[1])} bytes")
    fields = STATUS_HEADER.unpack(frames[1])
    flags, counters, rejection_count, state = fields[3], fields[4:18], fields[18], fields[19]
    if flags or state & ~STATUS_KNOWN_STATE:
        raise WireError(Rejection.BAD_FLAGS, f"flags {flags:#x}, state {state:#x}")
    if rejection_count > MAX_REJECTION_COUNTERS:
        raise WireError(Rejection.TOO_MANY, f"{rejection_count} rejection counters")
    if len(frames[4]) > MAX_DAEMON_COUNTERS * 8:
        raise WireError(Rejection.TOO_MANY, f"daemon counter frame of {len(frames[4])} bytes")
    if len(frames[3]) != rejection_count * 8:
        raise WireError(Rejection.PAYLOAD_SIZE, f"{rejection_count} counters in {len(frames[3])} bytes")
    if len(frames[4]) % 8:
        raise WireError(Rejection.PAYLOAD_SIZE, f"daemon counter frame of {len(frames[4])} bytes")
    if len(frames[2]) > MAX_MODEL_NAME_SIZE:
        raise WireError(Rejection.BAD_STRING, "model description too long")
    try:
        model = bytes(frames[2]).decode("utf-8")
    except UnicodeDecodeError:
        raise WireError(Rejection.BAD_STRING, "model description is not UTF-8") from None
    quality = _decode_quality(frames[5]) if len(frames) > 5 else None
    status = Status(**dict(zip(STATUS_COUNTERS, counters)), model=model,
                    rejections=np.frombuffer(frames[3], dtype="<u8").copy(), state=state,
                    daemon_counters=np.frombuffer(frames[4], dtype="<u8").copy(), quality=quality)
    status.topic = bytes(frames[0]).decode("ascii")
    return status


def _decode_quality(frame: bytes) -> list:
    entries = []
    offset = 0
    while offset < len(frame):
        if len(entries) == MAX_QUALITY_ENTRIES:
            raise WireError(Rejection.TOO_MANY, "more than 256 quality entries")
        length = frame[offset]
        if offset + 1 + length + QUALITY_ENTRY.size > len(frame):
            raise WireError(Rejection.PAYLOAD_SIZE, "quality entry cut short")
        name = frame[offset + 1:offset + 1 + length]
        if not name or any(b < 0x21 or b > 0x7E for b in name):
            raise WireError(Rejection.BAD_STRING, f"quality readout name {name!r}")
        offset += 1 + length
        kind, samples, value = QUALITY_ENTRY.unpack_from(frame, offset)
        if kind >= len(QUALITY_KINDS):
            raise WireError(Rejection.BAD_FLAGS, f"quality kind {kind}")
        offset += QUALITY_ENTRY.size
        entries.append(ReadoutQuality(name.decode("ascii"), QUALITY_KINDS[kind], samples, value))
    return entries


def _decode_behaviour(frames: Sequence[bytes]) -> BehaviourMessage:
    readout = _topic_suffix(frames[0], MessageType.BEHAVIOUR)
    if not readout:
        raise WireError(Rejection.BAD_TOPIC, "behaviour topic without a readout name")
    if len(frames) != 4:
        raise WireError(Rejection.FRAME_COUNT, f"{len(frames)} frames")
    if len(frames[1]) != BEHAVIOUR_HEADER.size:
        raise WireError(Rejection.HEADER_SIZE, f"{len(frames[1])} bytes")
    _, _, _, flags, source, q, sequence, tick_rate, d, reserved = BEHAVIOUR_HEADER.unpack(frames[1])
    if flags or reserved:
        raise WireError(Rejection.BAD_FLAGS, f"flags {flags:#x}, reserved {reserved:#x}")
    if q > MAX_OUTPUT_COUNT or d > MAX_OUTPUT_DIMENSION:
        raise WireError(Rejection.TOO_MANY, f"{q} x {d}")
    if len(frames[2]) != q * 8 or len(frames[3]) != q * d * 4:
        raise WireError(Rejection.PAYLOAD_SIZE, f"frames of {[len(f) for f in frames[2:]]} bytes for {q} x {d}")
    if tick_rate == 0:
        raise WireError(Rejection.BAD_TICK_RATE)
    timestamps = np.frombuffer(frames[2], dtype="<i8").copy()
    if q and timestamps.min() < 0:
        raise WireError(Rejection.NEGATIVE_TIME)
    if np.any(timestamps[1:] < timestamps[:-1]):
        raise WireError(Rejection.UNSORTED_TIMES)
    values = np.frombuffer(frames[3], dtype="<f4").reshape(q, d).copy()
    return BehaviourMessage(readout, source, sequence, tick_rate, timestamps, values)


def decode(frames: Sequence[bytes], accept: Optional[Sequence[MessageType]] = None) -> Message:
    """Validates and decodes a multipart message; raises ``WireError`` with the reason if bad.

    ``accept`` limits the types taken (others raise ``UNEXPECTED_TYPE``), as the daemon's ingest
    takes only spike batches and watermarks.
    """
    frames = [bytes(f) for f in frames]
    kind = message_type(frames)
    if accept is not None and kind not in accept:
        raise WireError(Rejection.UNEXPECTED_TYPE, kind.name)
    if kind in (MessageType.SPIKE_BATCH, MessageType.WATERMARK):
        return _decode_rig(frames, kind)
    if kind == MessageType.OUTPUT:
        return _decode_output(frames)
    if kind == MessageType.BEHAVIOUR:
        return _decode_behaviour(frames)
    return _decode_status(frames)


RIG_TYPES = (MessageType.SPIKE_BATCH, MessageType.WATERMARK)
#: What the daemon's ingest socket takes: rig messages and behaviour.
INGEST_TYPES = (*RIG_TYPES, MessageType.BEHAVIOUR)
DAEMON_TYPES = (MessageType.OUTPUT, MessageType.STATUS)
