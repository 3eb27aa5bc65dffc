"""The Python codec against protocol/vectors: every file decodes (or is rejected) as the manifest says."""

import json
import random
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from poyo_rt import wire  # noqa: E402
from poyo_rt.sequence import SequenceTracker  # noqa: E402

VECTORS = ROOT / "protocol" / "vectors"
MANIFEST = json.loads((VECTORS / "manifest.json").read_text())


def read_container(path: Path) -> list[bytes]:
    data = path.read_bytes()
    (count,) = struct.unpack_from("<I", data)
    frames, offset = [], 4
    for _ in range(count):
        (length,) = struct.unpack_from("<I", data, offset)
        frames.append(data[offset + 4:offset + 4 + length])
        offset += 4 + length
    assert offset == len(data)
    return frames


def expand(spec):
    if isinstance(spec, list):
        return spec
    values = spec["start"] + np.arange(spec["count"], dtype=np.int64) * spec["step"]
    return (values % spec["modulo"] if spec["modulo"] else values).tolist()


def describe(message) -> dict:
    sys.path.insert(0, str(VECTORS))
    from generate import describe as generator_describe
    return generator_describe(message)


def expected(vector) -> dict:
    message = dict(vector["message"])
    for key in ("times", "units"):
        if key in message:
            message[key] = expand(message[key])
    return message


def accepts(vector):
    return wire.RIG_TYPES if vector["receiver"] == "ingest" else None


@pytest.mark.parametrize("vector", [v for v in MANIFEST["vectors"] if v["expect"] == "accept"], ids=lambda v: v["name"])
def test_valid_vector_decodes_and_reencodes_to_the_same_bytes(vector):
    frames = read_container(VECTORS / vector["file"])
    message = wire.decode(frames, accept=accepts(vector))
    assert describe(message) == expected(vector)
    encoded = wire.encode(message)
    if vector.get("older_form"):  # an older, shorter header: the current one begins with its bytes
        encoded[1] = encoded[1][: len(frames[1])]
    assert encoded == frames


@pytest.mark.parametrize("vector", [v for v in MANIFEST["vectors"] if v["expect"] == "reject"], ids=lambda v: v["name"])
def test_invalid_vector_is_rejected_with_its_reason(vector):
    frames = read_container(VECTORS / vector["file"])
    with pytest.raises(wire.WireError) as error:
        wire.decode(frames, accept=accepts(vector))
    assert error.value.reason.label == vector["rejection"]


def test_every_rejection_reason_of_a_stateless_decoder_has_a_vector():
    covered = {v["rejection"] for v in MANIFEST["vectors"] if v["expect"] == "reject"}
    covered |= {s["expect"]["rejection"] for q in MANIFEST["sequences"] for s in q["steps"] if "rejection" in s["expect"]}
    # buffer_too_small is the Swift caller's buffer, not a property of the bytes.
    assert {r.label for r in wire.Rejection} - covered == {"buffer_too_small"}


def test_status_state_and_daemon_counters_by_name():
    basic = wire.decode(read_container(VECTORS / "status_basic.bin"))
    assert basic.source_stalled and not basic.no_source
    # A daemon from before behaviour: its 9 counters by name, the later ones read as 0.
    names = wire.DAEMON_COUNTERS
    assert len(basic.daemon_counters) == 9
    assert [basic.daemon_count(name) for name in names[:9]] == basic.daemon_counters.tolist()
    assert basic.daemon_count("behaviour_accepted") == 0
    newer = wire.decode(read_container(VECTORS / "status_more_counters.bin"))
    assert newer.no_source and not newer.source_stalled
    assert len(newer.daemon_counters) == len(wire.DAEMON_COUNTERS) + 3  # entries without names are kept
    empty = wire.decode(read_container(VECTORS / "status_no_counters.bin"))
    assert empty.state == wire.STATUS_SOURCE_STALLED | wire.STATUS_NO_SOURCE
    assert empty.daemon_count("capture_failures") == 0 and empty.rejected(wire.Rejection.BAD_MAGIC) == 0
    with pytest.raises(ValueError):
        empty.daemon_count("no_such_counter")


def test_status_quality_by_readout():
    quality = wire.decode(read_container(VECTORS / "status_with_quality.bin"))
    assert quality.quality_of("cursor_velocity_2d") == wire.ReadoutQuality("cursor_velocity_2d", "r2", 1500, 0.8125)
    assert quality.quality_of("grip").kind == "accuracy" and quality.quality_of("absent") is None
    assert wire.decode(read_container(VECTORS / "status_basic.bin")).quality is None  # a daemon before behaviour
    assert wire.decode(read_container(VECTORS / "status_quality_empty.bin")).quality == []


@pytest.mark.parametrize("scenario", MANIFEST["sequences"], ids=lambda s: s["name"])
def test_sequence_scenarios(scenario):
    tracker = SequenceTracker()
    for step in scenario["steps"]:
        try:
            message = wire.decode([bytes.fromhex(f) for f in step["frames"]], accept=wire.RIG_TYPES)
        except wire.WireError as error:
            # Rejected by the stateless checks after its header was read: the number is used up.
            assert error.reason.label == step["expect"]["rejection"] and error.sequence is not None
            tracker.use_up(error.source_id, error.sequence)
            continue
        if "rejection" in step["expect"]:
            with pytest.raises(wire.WireError) as error:
                tracker.admit(message)
            assert error.value.reason.label == step["expect"]["rejection"]
        else:
            assert vars(tracker.admit(message)) == step["expect"]


def test_generator_reproduces_the_committed_vectors(tmp_path):
    subprocess.run([sys.executable, str(VECTORS / "generate.py"), str(tmp_path)], check=True)
    committed = sorted(p.name for p in VECTORS.iterdir() if p.suffix in (".bin", ".json"))
    assert sorted(p.name for p in tmp_path.iterdir()) == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (VECTORS / name).read_bytes(), name


def test_mutated_vectors_only_ever_raise_wire_errors():
    rng = random.Random(3)
    files = [VECTORS / v["file"] for v in MANIFEST["vectors"] if v["name"] != "spike_batch_max"]
    for _ in range(3000):
        frames = [bytearray(f) for f in read_container(rng.choice(files))]
        for _ in range(rng.randint(1, 4)):
            frame = rng.choice(frames)
            choice = rng.random()
            if choice < 0.5 and frame:
                frame[rng.randrange(len(frame))] ^= 1 << rng.randrange(8)
            elif choice < 0.7:
                del frame[rng.randrange(len(frame) + 1):]
            elif choice < 0.85:
                frames.insert(rng.randrange(len(frames) + 1), bytearray(rng.randbytes(rng.randrange(48))))
            elif len(frames) > 1:
                frames.pop(rng.randrange(len(frames)))
        try:
            message = wire.decode(frames)
        except wire.WireError:
            continue
        assert wire.decode(wire.encode(message)) is not None
