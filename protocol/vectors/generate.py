#!/usr/bin/env python3
"""Writes the test vectors of protocol/SPEC.md: one ``NAME.bin`` per message and ``manifest.json``.

A ``.bin`` file holds the exact frames of one multipart message in a trivial container (not a
wire format): ``u32 frame_count``, then for each frame ``u32 length`` and its bytes, little-endian.
``manifest.json`` says what each file must decode to, or which ``Rejection`` it must get. The
Swift tests (Tests/SpikeWireTests) and the Python tests (tools/tests) both check every vector,
and tools/tests/test_wire_vectors.py checks that running this script reproduces the files.

Usage: .venv/bin/python protocol/vectors/generate.py [OUTPUT_DIR]   (default: this script's folder)
"""

from __future__ import annotations

import dataclasses
import json
import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))  # the poyo_rt package, installed or not

from poyo_rt.wire import (DAEMON_COUNTERS, MAX_DAEMON_COUNTERS, MAX_EVENTS_PER_BATCH,  # noqa: E402
                          QUALITY_ENTRY, RIG_HEADER, STATUS_NO_SOURCE, STATUS_SOURCE_STALLED, BehaviourMessage, Output,
                          ReadoutQuality, Rejection, SpikeBatch, StageTimestamps, Status, Watermark, encode)


def container(frames: list[bytes]) -> bytes:
    out = struct.pack("<I", len(frames))
    for frame in frames:
        out += struct.pack("<I", len(frame)) + frame
    return out


def pattern(start: int, step: int, count: int, modulo: int = 0) -> dict:
    """A long array written as a formula: value i = (start + i * step) % modulo (no modulo if 0)."""
    return {"start": start, "step": step, "count": count, "modulo": modulo}


def expand(spec) -> np.ndarray:
    if isinstance(spec, list):
        return np.array(spec, dtype=np.int64)
    values = spec["start"] + np.arange(spec["count"], dtype=np.int64) * spec["step"]
    return values % spec["modulo"] if spec["modulo"] else values


STAGES = StageTimestamps(received=1_000_000_000, window_built=1_000_150_000,
                         forward_done=1_004_900_000, published=1_004_950_000, dequeued=1_000_040_000)


def describe(message) -> dict:
    """The manifest's description of a valid message (what decoding must give)."""
    if isinstance(message, SpikeBatch):
        return {"type": "spike_batch", "topic": message.topic, "source_id": message.source_id,
                "sequence": message.sequence, "tick_rate": message.tick_rate, "watermark": message.watermark,
                "times": message.times.tolist(), "units": message.units.tolist()}
    if isinstance(message, Watermark):
        return {"type": "watermark", "topic": message.topic, "source_id": message.source_id,
                "sequence": message.sequence, "tick_rate": message.tick_rate, "watermark": message.watermark}
    if isinstance(message, Output):
        return {"type": "output", "readout": message.readout, "tick_sequence": message.tick_sequence,
                "tick_rate": message.tick_rate, "window_start": message.window_start,
                "window_end": message.window_end, "stages": vars(message.stages),
                "timestamps": message.timestamps.tolist(), "dimension": int(message.values.shape[1]),
                "values": message.values.ravel().tolist(),
                "raw_values": None if message.raw_values is None else message.raw_values.ravel().tolist()}
    if isinstance(message, BehaviourMessage):
        return {"type": "behaviour", "readout": message.readout, "source_id": message.source_id,
                "sequence": message.sequence, "tick_rate": message.tick_rate,
                "timestamps": message.timestamps.tolist(), "dimension": int(message.values.shape[1]),
                "values": message.values.ravel().tolist()}
    assert isinstance(message, Status)
    fields = {name: getattr(message, name) for name in (
        "status_sequence", "monotonic_ns", "received", "accepted", "late", "dropped", "ticks_run",
        "ticks_skipped", "missed_messages", "latency_samples", "latency_p50_ns", "latency_p90_ns",
        "latency_p99_ns", "latency_max_ns")}
    described = {"type": "status", **fields, "model": message.model, "rejections": message.rejections.tolist(),
                 "state": message.state, "daemon_counters": message.daemon_counters.tolist()}
    if message.quality is not None:
        described["quality"] = [vars(q) for q in message.quality]
    return described


def valid_messages() -> list[tuple[str, str, object]]:
    big = pattern(0, 7, MAX_EVENTS_PER_BATCH)
    big_units = pattern(0, 1, MAX_EVENTS_PER_BATCH, 1000)
    status = Status(status_sequence=12, monotonic_ns=5_000_000_000, received=1000, accepted=990, late=3,
                    dropped=1, ticks_run=400, ticks_skipped=2, missed_messages=4, latency_samples=400,
                    latency_p50_ns=4_100_000, latency_p90_ns=4_800_000, latency_p99_ns=6_000_000,
                    latency_max_ns=9_500_000, model="poyo_1.3M sha256:0123abcd",
                    rejections=np.arange(len(Rejection), dtype=np.uint64), state=STATUS_SOURCE_STALLED,
                    daemon_counters=np.array([17, 2, 5, 1, 0, 1, 0, 40, 3], dtype=np.uint64))
    assert len(status.daemon_counters) == 9  # a version-1 status of before behaviour: still valid
    quality = Status(status_sequence=30, monotonic_ns=9_000_000_000, received=5000, accepted=5000, ticks_run=1500,
                     latency_samples=50, latency_p50_ns=1_000_000, latency_p90_ns=1_200_000,
                     latency_p99_ns=1_500_000, latency_max_ns=2_000_000,
                     model="demo/model.safetensors (1000 bytes, crc32 1a2b3c4d); session demo_day_2",
                     rejections=np.zeros(len(Rejection), dtype=np.uint64),
                     daemon_counters=np.arange(len(DAEMON_COUNTERS), dtype=np.uint64),
                     quality=[ReadoutQuality("cursor_velocity_2d", "r2", 1500, 0.8125),
                              ReadoutQuality("grip", "accuracy", 750, 0.5)])
    return [
        ("spike_batch_basic", "five events of source 7, sample indices at 30 kHz",
         SpikeBatch(7, 1, 30_000, [0, 15, 15, 300, 29_999], [0, 1, 999, 2, 0])),
        ("spike_batch_with_watermark", "events plus the batch's own watermark, topic with a suffix",
         SpikeBatch(7, 2, 30_000, [30_000, 30_030], [4, 5], watermark=30_060, topic="spikes/rig-a")),
        ("spike_batch_empty", "no events: a batch that only carries a watermark",
         SpikeBatch(7, 3, 30_000, [], [], watermark=33_000)),
        ("spike_batch_empty_no_watermark", "no events, no watermark: valid, only uses up a sequence number",
         SpikeBatch(2, 0, 30_000, [], [])),
        ("spike_batch_max", "the largest batch: 65536 events",
         SpikeBatch(1, 9, 30_000, expand(big), expand(big_units))),
        ("spike_batch_extremes", "nanosecond clock, times near 2^62, the largest unit id and sequence",
         SpikeBatch(0xFFFF_FFFF, 2**64 - 1, 1_000_000_000, [2**62, 2**62 + 1], [0xFFFF_FFFF, 0],
                    watermark=2**63 - 1)),
        ("watermark", "heartbeat: every spike of source 7 up to 1 s has been sent",
         Watermark(7, 4, 30_000, 30_000)),
        ("output_basic", "4 x 2 cursor velocity, no raw values",
         Output("cursor_velocity_2d", 41, 30_000, 0, 30_000, STAGES, [22_500, 25_000, 27_500, 30_000],
                np.array([[0.5, -1.25], [1.0, 2.0], [-0.0, 3.5], [100.25, -7.0]], dtype=np.float32))),
        ("output_with_raw", "with the model's normalized values as a fifth frame",
         Output("cursor_velocity_2d", 42, 30_000, 3_750, 33_750, STAGES, [33_750],
                np.array([[12.5, -3.0]], dtype=np.float32), np.array([[0.25, -0.0625]], dtype=np.float32))),
        ("output_empty", "no output timestamps in this window (Q = 0)",
         Output("arm_position", 0, 30_000, 0, 0, STAGES, np.zeros(0, dtype=np.int64),
                np.zeros((0, 3), dtype=np.float32))),
        ("status_basic", "counters, percentiles, model, one counter per known rejection reason and daemon "
         "counter, state source_stalled", status),
        ("status_more_counters", "a newer daemon's status: more rejection and daemon counters than names known, "
         "no model, state no_source",
         Status(status_sequence=1, rejections=np.full(len(Rejection) + 4, 2, dtype=np.uint64), state=STATUS_NO_SOURCE,
                daemon_counters=np.arange(1, len(DAEMON_COUNTERS) + 4, dtype=np.uint64))),
        ("status_no_counters", "no rejection counters, an empty daemon-counter frame, both state bits",
         Status(status_sequence=2, monotonic_ns=1, model="m", rejections=np.zeros(0, dtype=np.uint64),
                state=STATUS_SOURCE_STALLED | STATUS_NO_SOURCE, daemon_counters=np.zeros(0, dtype=np.uint64))),
        ("status_with_quality", "a sixth frame: live quality of two readouts (R^2 over 1500 pairs, accuracy)",
         quality),
        ("status_quality_empty", "an empty quality frame: no readout has received behaviour",
         Status(status_sequence=3, model="m", rejections=np.zeros(0, dtype=np.uint64),
                daemon_counters=np.zeros(0, dtype=np.uint64), quality=[])),
        ("behaviour_basic", "3 x 2 cursor velocity of source 7 at 30 kHz, physical units",
         BehaviourMessage("cursor_velocity_2d", 7, 0, 30_000, [29_400, 30_000, 30_000],
                          np.array([[0.5, -1.25], [1.0, 2.0], [-0.0, 3.5]], dtype=np.float32))),
        ("behaviour_empty", "no samples (Q = 0), D = 1",
         BehaviourMessage("grip", 7, 1, 30_000, np.zeros(0, dtype=np.int64), np.zeros((0, 1), dtype=np.float32))),
        ("behaviour_extremes", "nanosecond clock, a time near 2^63, the largest source id and sequence",
         BehaviourMessage("x", 0xFFFF_FFFF, 2**64 - 1, 1_000_000_000, [2**63 - 1], np.array([[7.0]], dtype=np.float32))),
    ]


def with_header(frames: list[bytes], **changes) -> list[bytes]:
    """A copy of rig frames whose header has some fields replaced."""
    names = ["magic", "version", "type", "flags", "source_id", "event_count", "sequence", "tick_rate", "watermark"]
    fields = dict(zip(names, RIG_HEADER.unpack(frames[1])))
    fields.update(changes)
    return [frames[0], RIG_HEADER.pack(*fields.values()), *frames[2:]]


def patched(frame: bytes, offset: int, data: bytes) -> bytes:
    return frame[:offset] + data + frame[offset + len(data):]


def invalid_messages(valid: dict[str, list[bytes]]) -> list[tuple[str, str, list[bytes], Rejection, str]]:
    """(name, why, frames, reason, receiver): receiver "any" or "ingest" (takes rig messages only)."""
    basic = valid["spike_batch_basic"]
    output = valid["output_basic"]
    status = valid["status_basic"]
    behaviour = valid["behaviour_basic"]
    quality = valid["status_with_quality"]
    payload = basic[2]
    times = np.frombuffer(payload[:40], dtype="<i8").copy()
    units = payload[40:]
    R = Rejection
    return [
        ("one_frame", "a single frame: no header", [basic[0]], R.FRAME_COUNT, "any"),
        ("spike_batch_missing_payload", "spike batch without its payload frame", basic[:2], R.FRAME_COUNT, "any"),
        ("spike_batch_extra_frame", "spike batch with a fourth frame", basic + [b""], R.FRAME_COUNT, "any"),
        ("header_shorter_than_preamble", "header frame of 7 bytes", [basic[0], basic[1][:7], payload],
         R.HEADER_SIZE, "any"),
        ("spike_batch_header_short", "spike batch header of 39 bytes", [basic[0], basic[1][:39], payload],
         R.HEADER_SIZE, "any"),
        ("spike_batch_header_long", "spike batch header of 41 bytes", [basic[0], basic[1] + b"\0", payload],
         R.HEADER_SIZE, "any"),
        ("bad_magic", "header starts with PYRX", [basic[0], patched(basic[1], 3, b"X"), payload], R.BAD_MAGIC, "any"),
        ("unknown_version", "version 2, whatever follows", [basic[0], patched(basic[1], 4, b"\x02"), payload],
         R.UNKNOWN_VERSION, "any"),
        ("unknown_version_short", "version 255 in a bare preamble: the version is checked before sizes",
         [b"spikes", b"PYRT\xff\x01\x00\x00"], R.UNKNOWN_VERSION, "any"),
        ("unknown_type", "type 9", [basic[0], patched(basic[1], 5, b"\x09"), payload], R.UNKNOWN_TYPE, "any"),
        ("output_sent_to_ingest", "a valid output where only rig messages are taken", output,
         R.UNEXPECTED_TYPE, "ingest"),
        ("topic_of_another_type", "spike batch under the topic 'output'", [b"output", *basic[1:]], R.BAD_TOPIC, "any"),
        ("topic_empty", "empty topic frame", [b"", *basic[1:]], R.BAD_TOPIC, "any"),
        ("topic_with_space", "topic 'spikes/rig a' (not printable ASCII without spaces)",
         [b"spikes/rig a", *basic[1:]], R.BAD_TOPIC, "any"),
        ("topic_prefix_run_on", "topic 'spikesX': the prefix must end or be followed by '/'",
         [b"spikesX", *basic[1:]], R.BAD_TOPIC, "any"),
        ("topic_too_long", "topic of 256 bytes", [b"spikes/" + b"x" * 249, *basic[1:]], R.BAD_TOPIC, "any"),
        ("spike_batch_unknown_flag", "flag bit 1 set", with_header(basic, flags=2), R.BAD_FLAGS, "any"),
        ("watermark_field_without_flag", "watermark field not zero but flag bit 0 clear",
         with_header(basic, watermark=5), R.BAD_FLAGS, "any"),
        ("spike_batch_too_many", "event_count 65537 (the payload is not even looked at)",
         with_header([basic[0], basic[1], b""], event_count=MAX_EVENTS_PER_BATCH + 1), R.TOO_MANY, "any"),
        ("count_disagrees_with_payload", "event_count 5 but 4 events of payload",
         [basic[0], basic[1], payload[:32] + units[:16]], R.PAYLOAD_SIZE, "any"),
        ("payload_not_whole_events", "event_count 5 and one byte more",
         [basic[0], basic[1], payload + b"\0"], R.PAYLOAD_SIZE, "any"),
        ("zero_tick_rate", "tick_rate 0", with_header(basic, tick_rate=0), R.BAD_TICK_RATE, "any"),
        ("negative_time", "an event at tick -1",
         [basic[0], basic[1], np.array([-1, 15, 15, 300, 29_999], "<i8").tobytes() + units], R.NEGATIVE_TIME, "any"),
        ("negative_time_late_in_batch", "a negative time after positive ones counts as negative, not unsorted",
         [basic[0], basic[1], np.array([0, 15, 15, 300, -5], "<i8").tobytes() + units], R.NEGATIVE_TIME, "any"),
        ("negative_watermark", "watermark -1",
         with_header([basic[0], basic[1], b""], flags=1, event_count=0, watermark=-1), R.NEGATIVE_TIME, "any"),
        ("unsorted_times", "times 0, 15, 300, 15, ... go backwards",
         [basic[0], basic[1], np.array([0, 15, 300, 15, 29_999], "<i8").tobytes() + units], R.UNSORTED_TIMES, "any"),
        ("watermark_before_events", "the batch's watermark is before its last event",
         with_header(basic, flags=1, watermark=int(times[-1]) - 1), R.WATERMARK_BEFORE_EVENTS, "any"),
        ("watermark_with_events", "a watermark message with event_count 1",
         with_header(valid["watermark"], event_count=1), R.PAYLOAD_SIZE, "any"),
        ("output_without_readout", "output topic without '/<readout>'", [b"output", *output[1:]], R.BAD_TOPIC, "any"),
        ("output_header_81_bytes", "output header of 81 bytes (80 and 88 are valid)",
         [output[0], output[1][:81], *output[2:]], R.HEADER_SIZE, "any"),
        ("output_values_short", "values frame one float short", [*output[:3], output[3][:-4]], R.PAYLOAD_SIZE, "any"),
        ("output_raw_flag_without_frame", "raw-values flag set but only four frames",
         [output[0], patched(output[1], 6, b"\x01"), *output[2:]], R.FRAME_COUNT, "any"),
        ("output_window_backwards", "window_start after window_end",
         [output[0], patched(output[1], 32, struct.pack("<q", 40_000)), *output[2:]], R.UNSORTED_TIMES, "any"),
        ("output_negative_timestamp", "an output timestamp of -1",
         [*output[:2], struct.pack("<4q", -1, 0, 1, 2), output[3]], R.NEGATIVE_TIME, "any"),
        ("output_negative_timestamp_backwards_window", "negative times are found before the window's order",
         [output[0], patched(output[1], 32, struct.pack("<q", 40_000)), struct.pack("<4q", 0, -1, 1, 2), output[3]],
         R.NEGATIVE_TIME, "any"),
        ("status_model_too_long", "model description of 4097 bytes",
         [status[0], status[1], b"m" * 4097, *status[3:]], R.BAD_STRING, "any"),
        ("status_model_not_utf8", "model description with an invalid UTF-8 byte",
         [status[0], status[1], b"poyo\xff", *status[3:]], R.BAD_STRING, "any"),
        ("status_rejections_size", "rejection_count disagrees with the counter frame",
         [*status[:3], status[3][:-8], status[4]], R.PAYLOAD_SIZE, "any"),
        ("status_four_frames", "status without its daemon-counter frame", status[:4], R.FRAME_COUNT, "any"),
        ("status_unknown_state_bit", "state bit 2 set (besides source_stalled)",
         [status[0], patched(status[1], 124, struct.pack("<I", STATUS_SOURCE_STALLED | 4)), *status[2:]],
         R.BAD_FLAGS, "any"),
        ("status_daemon_counters_size", "daemon-counter frame of 39 bytes: not whole u64 entries",
         [*status[:4], status[4][:-1]], R.PAYLOAD_SIZE, "any"),
        ("status_too_many_daemon_counters", "257 daemon counters (the limit is 256)",
         [*status[:4], bytes(8 * (MAX_DAEMON_COUNTERS + 1))], R.TOO_MANY, "any"),
        ("status_seven_frames", "a status with a frame after its quality frame", quality + [b""], R.FRAME_COUNT, "any"),
        ("status_quality_cut_short", "quality frame one byte short of its last entry",
         [*quality[:5], quality[5][:-1]], R.PAYLOAD_SIZE, "any"),
        ("status_quality_empty_name", "a quality entry with an empty readout name",
         [*quality[:5], b"\x00" + QUALITY_ENTRY.pack(0, 1, 0.5)], R.BAD_STRING, "any"),
        ("status_quality_unknown_kind", "quality kind 2",
         [*quality[:5], b"\x01g" + QUALITY_ENTRY.pack(2, 1, 0.5)], R.BAD_FLAGS, "any"),
        ("status_quality_too_many", "257 quality entries (the limit is 256)",
         [*quality[:5], (b"\x01g" + QUALITY_ENTRY.pack(0, 1, 0.5)) * 257], R.TOO_MANY, "any"),
        ("behaviour_without_readout", "behaviour topic without '/<readout>'", [b"behaviour", *behaviour[1:]],
         R.BAD_TOPIC, "any"),
        ("behaviour_three_frames", "behaviour without its values frame", behaviour[:3], R.FRAME_COUNT, "any"),
        ("behaviour_header_long", "behaviour header of 41 bytes", [behaviour[0], behaviour[1] + b"\0", *behaviour[2:]],
         R.HEADER_SIZE, "any"),
        ("behaviour_flags", "behaviour flag bit 0 set", [behaviour[0], patched(behaviour[1], 6, b"\x01"), *behaviour[2:]],
         R.BAD_FLAGS, "any"),
        ("behaviour_reserved", "behaviour reserved field not zero",
         [behaviour[0], patched(behaviour[1], 36, struct.pack("<I", 1)), *behaviour[2:]], R.BAD_FLAGS, "any"),
        ("behaviour_too_many", "sample_count 65537",
         [behaviour[0], patched(behaviour[1], 12, struct.pack("<I", 65_537)), *behaviour[2:]], R.TOO_MANY, "any"),
        ("behaviour_dimension_too_large", "dimension 1025",
         [behaviour[0], patched(behaviour[1], 32, struct.pack("<I", 1025)), *behaviour[2:]], R.TOO_MANY, "any"),
        ("behaviour_values_short", "values frame one float short", [*behaviour[:3], behaviour[3][:-4]],
         R.PAYLOAD_SIZE, "any"),
        ("behaviour_zero_tick_rate", "tick_rate 0",
         [behaviour[0], patched(behaviour[1], 24, struct.pack("<Q", 0)), *behaviour[2:]], R.BAD_TICK_RATE, "any"),
        ("behaviour_negative_time", "a sample at tick -1 after others: negative, not unsorted",
         [*behaviour[:2], struct.pack("<3q", 29_400, 30_000, -1), behaviour[3]], R.NEGATIVE_TIME, "any"),
        ("behaviour_unsorted", "sample times going backwards",
         [*behaviour[:2], struct.pack("<3q", 30_000, 29_400, 30_000), behaviour[3]], R.UNSORTED_TIMES, "any"),
        ("behaviour_to_rig_decoder", "behaviour given to the rig-message decoder (the ingest dispatches it to its own)",
         behaviour, R.UNEXPECTED_TYPE, "ingest"),
    ]


def sequences() -> list[dict]:
    """Stateful scenarios for SequenceTracker: rig messages of one source in order of arrival."""
    def batch(seq, times, watermark=None, rate=30_000, source=5):
        return SpikeBatch(source, seq, rate, times, [1] * len(times), watermark)

    def step(message, expect):
        return {"frames": [f.hex() for f in encode(message)], "expect": expect}

    def ok(missed=0, late=0, restarted=False):
        return {"missed_messages": missed, "late_events": late, "restarted": restarted}

    def rejected(reason):
        return {"rejection": reason.label}

    def unsorted(seq, times):
        """A batch whose (valid) header is followed by times going backwards: rejected by the
        stateless checks, after its header was read, so it still uses up its sequence number."""
        frames = encode(batch(seq, sorted(times)))
        payload = np.asarray(times, dtype="<i8").tobytes() + frames[2][8 * len(times):]
        return {"frames": [frames[0].hex(), frames[1].hex(), payload.hex()],
                "expect": rejected(Rejection.UNSORTED_TIMES)}

    return [
        {"name": "gaps_duplicates_and_restart", "steps": [
            step(batch(0, [10, 20]), ok()),
            step(batch(1, [20, 30]), ok()),
            step(batch(4, [40]), ok(missed=2)),
            step(batch(4, [50]), rejected(Rejection.DUPLICATE_SEQUENCE)),
            step(batch(3, [50]), rejected(Rejection.DUPLICATE_SEQUENCE)),
            step(batch(0, [5]), ok(restarted=True)),
            step(batch(1, [6], rate=1_000), rejected(Rejection.TICK_RATE_CHANGED)),
        ]},
        {"name": "time_and_watermarks", "steps": [
            step(batch(1, [100, 200], watermark=250), ok()),
            step(batch(2, [150]), rejected(Rejection.TIME_WENT_BACKWARDS)),
            step(batch(3, [240, 250, 251]), ok(late=2)),
            step(Watermark(5, 5, 30_000, 300), ok(missed=1)),
            step(Watermark(5, 6, 30_000, 299), rejected(Rejection.WATERMARK_WENT_BACKWARDS)),
            step(Watermark(5, 7, 30_000, 300), ok()),
        ]},
        {"name": "a_rejected_message_uses_up_its_number", "steps": [
            step(batch(0, [10, 20]), ok()),
            unsorted(1, [40, 30]),
            step(batch(2, [50]), ok()),
            unsorted(4, [70, 60]),
            step(batch(5, [80]), ok()),
        ]},
    ]


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = {
        "description": "poyo-rt wire protocol v1 test vectors; see protocol/SPEC.md and generate.py",
        "container": "u32 frame_count, then per frame: u32 length, bytes (little-endian)",
        "array_patterns": "an array given as {start, step, count, modulo}: value i = (start + i*step) % modulo "
                          "(no modulo when 0)",
        "vectors": [],
        "sequences": sequences(),
    }
    valid = {}
    for name, why, message in valid_messages():
        frames = encode(message)
        valid[name] = frames
        described = describe(message)
        if name == "spike_batch_max":
            described["times"] = pattern(0, 7, MAX_EVENTS_PER_BATCH)
            described["units"] = pattern(0, 1, MAX_EVENTS_PER_BATCH, 1000)
        (out_dir / f"{name}.bin").write_bytes(container(frames))
        manifest["vectors"].append({"name": name, "file": f"{name}.bin", "why": why, "expect": "accept",
                                    "receiver": "any", "message": described})
    # A daemon older than dequeued_ns sends 80-byte output headers: accepted, dequeued 0.
    frames = [valid["output_basic"][0], valid["output_basic"][1][:80], *valid["output_basic"][2:]]
    basic = next(message for name, _, message in valid_messages() if name == "output_basic")
    described = describe(dataclasses.replace(basic, stages=dataclasses.replace(basic.stages, dequeued=0)))
    (out_dir / "output_header_80_bytes.bin").write_bytes(container(frames))
    manifest["vectors"].append({"name": "output_header_80_bytes", "file": "output_header_80_bytes.bin",
                                "why": "an older daemon's output header, without dequeued_ns", "expect": "accept",
                                "receiver": "any", "message": described, "older_form": True})
    # The later vectors' sequence numbers show an in-order stream of source 7.
    assert valid["watermark"][1][16] == 4
    for name, why, frames, reason, receiver in invalid_messages(valid):
        (out_dir / f"{name}.bin").write_bytes(container(frames))
        manifest["vectors"].append({"name": name, "file": f"{name}.bin", "why": why, "expect": "reject",
                                    "receiver": receiver, "rejection": reason.label})
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
