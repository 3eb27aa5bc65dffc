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
