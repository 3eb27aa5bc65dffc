"""poyo_rt.capture: reading a capture log (docs/capture-log.md) written here byte by byte."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from poyo_rt import read_capture_log
from poyo_rt.wire import BehaviourMessage, SpikeBatch, Watermark, encode


def record(kind: int, at: int, payload: bytes) -> bytes:
    body = bytes([kind]) + struct.pack("<Q", at) + payload
    return struct.pack("<II", len(body), zlib.crc32(body)) + body


def frames_payload(frames) -> bytes:
    return struct.pack("<I", len(frames)) + b"".join(struct.pack("<I", len(f)) + f for f in frames)


def session_payload(yaml: str, model: str = "m.safetensors") -> bytes:
    y, m = yaml.encode(), model.encode()
    return struct.pack("<I", len(y)) + y + struct.pack("<I", len(m)) + m + struct.pack("<QI", 1234, 0xABCD)


def test_spikes_behaviour_and_tick_rate_from_a_log(tmp_path):
    received = [
        Watermark(1, 0, 30_000, 0),
        SpikeBatch(1, 1, 30_000, [10, 20], [3, 4], watermark=25),
        SpikeBatch(2, 0, 30_000, [11], [9]),  # another source: not the decoded one
        SpikeBatch(1, 1, 30_000, [30], [5]),  # duplicate sequence: the daemon rejected it
        SpikeBatch(1, 2, 30_000, [25, 40], [6, 7]),  # 25 is at the previous watermark: late, dropped
        BehaviourMessage("cursor_velocity_2d", 1, 0, 30_000, [0, 15], np.array([[1, 2], [3, 4]], np.float32)),
        BehaviourMessage("cursor_velocity_2d", 1, 0 + 1, 30_000, [30], np.array([[5, 6]], np.float32)),
        BehaviourMessage("cursor_velocity_2d", 1, 1, 30_000, [31], np.array([[7, 8]], np.float32)),  # duplicate
        BehaviourMessage("grip", 1, 2, 30_000, [40], np.array([[1]], np.float32)),
    ]
    data = b"PYRTCAP1" + record(1, 5, session_payload("model: m.safetensors\nsession: s\nsource: 1\n"))
    for at, message in enumerate(received):
        data += record(2, 10 + at, frames_payload(encode(message)))
    data += record(2, 99, frames_payload([b"spikes", b"garbage"]))  # invalid: skipped
    data += record(3, 100, frames_payload([b"status", b"x"]))
    whole = record(2, 101, frames_payload(encode(SpikeBatch(1, 3, 30_000, [50], [8]))))
    path = tmp_path / "run.log"
    path.write_bytes(data + whole[:-3])  # a kill -9 inside the last record
    log = read_capture_log(path)
    # Read up to the cut, and flagged: where the partial record starts, in words too.
    assert log.partial and log.end == "inside_record" and log.end_offset == len(data)
    assert log.records == len(received) + 3 and log.file_bytes == len(data) + len(whole) - 3
    assert log.end_description.startswith(f"ends inside a record at byte {len(data)} (its last {len(whole) - 3} of")
    assert len(log.sessions) == 1 and log.sessions[0].model_size == 1234 and log.sessions[0].model_crc32 == 0xABCD
    assert len(log.received) == len(received) + 1 and len(log.published) == 1
    assert log.tick_rate == 30_000
    units, ticks = log.spikes()
    assert units.tolist() == [3, 4, 7] and ticks.tolist() == [10, 20, 40]
    assert log.spikes(source_id=2)[1].tolist() == [11]
    times, values = log.behaviour("cursor_velocity_2d")
    assert times.tolist() == [0, 15, 30] and values.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert log.behaviour("grip")[0].tolist() == [40]
    assert log.behaviour("absent")[0].size == 0
    assert log.outputs() == [] and log.statuses() == []


def test_a_file_that_is_not_a_capture_log_is_refused(tmp_path):
    path = tmp_path / "x.log"
    path.write_bytes(b"not a log")
    with pytest.raises(ValueError, match="not a poyo-rt capture log"):
        read_capture_log(path)


def test_where_a_log_ends_is_flagged(tmp_path):
    """Complete, cut inside a record header or body, or at a damaged record: the same states and
    offsets as `poyo replay` reports (CaptureReader in Swift)."""
    first = record(1, 5, session_payload("model: m.safetensors\nsession: s\n"))
    second = record(2, 6, frames_payload([b"spikes", b"x" * 40]))
    data = b"PYRTCAP1" + first + second
    path = tmp_path / "run.log"
    path.write_bytes(data)
    log = read_capture_log(path)
    assert not log.partial and log.end == "complete" and log.end_offset is None and log.end_description is None
    assert log.records == 2 and len(log.received) == 1
    boundary = 8 + len(first)
    for cut in (boundary + 3, boundary + 8, len(data) - 1):  # inside the header, just after it, inside the body
        path.write_bytes(data[:cut])
        log = read_capture_log(path)
        assert (log.end, log.end_offset, log.records, len(log.received)) == ("inside_record", boundary, 1, 0), cut
    path.write_bytes(data[:boundary])  # cut between records: nothing partial
    assert read_capture_log(path).end == "complete"
    damaged = bytearray(data)
    damaged[-5] ^= 0xFF
    path.write_bytes(bytes(damaged) + b"more")
    log = read_capture_log(path)
    assert (log.end, log.end_offset, log.records) == ("damaged_record", boundary, 1)
    assert log.end_description.startswith(f"has a damaged record at byte {boundary}")


def test_a_record_whose_crc_holds_but_whose_contents_do_not_parse_is_damaged(tmp_path):
    """As the Swift reader: a frame running past its record, or a session record cut short, ends the
    log at that record (no struct.error), the records before it read."""
    first = record(1, 5, session_payload("model: m.safetensors\nsession: s\n"))
    frames = frames_payload([b"spikes", b"x" * 40])
    overrun = frames[:4] + struct.pack("<I", 999) + frames[8:]  # the first frame claims 999 bytes
    for bad in (record(2, 6, overrun), record(1, 7, b"\x05\x00")):
        path = tmp_path / "run.log"
        path.write_bytes(b"PYRTCAP1" + first + bad + record(2, 8, frames))
        log = read_capture_log(path)
        assert (log.end, log.end_offset, log.records, len(log.received)) == ("damaged_record", 8 + len(first), 1, 0)


def test_a_partial_log_read_as_a_recording_says_where_it_stops(tmp_path):
    from poyo_rt.sessions.capture_session import read_capture_session

    yaml = "model: m.safetensors\nsession: s\nunit_prefix: u_\n"
    spikes = encode(SpikeBatch(source_id=1, sequence=0, tick_rate=30_000, watermark=29,
                               times=np.array([3, 9], dtype=np.uint64), units=np.array([1, 2], dtype=np.uint32)))
    data = b"PYRTCAP1" + record(1, 5, session_payload(yaml)) + record(2, 6, frames_payload(spikes))
    path = tmp_path / "run.log"
    path.write_bytes(data + record(2, 7, frames_payload(spikes))[:-3])
    with pytest.warns(UserWarning, match="ends inside a record at byte"):
        read_capture_session(path, require_behaviour=False)
