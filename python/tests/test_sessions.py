"""Session readers on files written by pynwb and temporaldata themselves, and on the real NWB."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from conftest import A2929_NWB, DEMO, write_nwb, write_temporaldata

from poyo_rt.sessions import SessionError, read_recording, session_format


def test_nwb_units_and_behaviour(tmp_path):
    path = write_nwb(tmp_path / "tiny.nwb")
    r = read_recording(path, behaviour="ry")
    assert r.format == "nwb" and r.session_id == "tiny-session" and r.unit_words is None
    assert r.unit_ids.tolist() == [3, 7]  # the units-table ids are the rig ids
    assert r.spike_times.tolist() == [0.1, 0.2, 0.3, 0.5, 0.9]
    assert r.spike_units.tolist() == [3, 7, 7, 3, 3]
    (name, b), = r.behaviour.items()
    assert name == "processing/behavior/CompassDirection/ry" and b.unit == "radians"
    assert b.values.shape == (240, 1) and b.timestamps[1] == pytest.approx(1 / 120)


def test_nwb_behaviour_by_full_path(tmp_path):
    path = write_nwb(tmp_path / "tiny.nwb")
    assert list(read_recording(path, behaviour="processing/behavior/CompassDirection/ry").behaviour) == [
        "processing/behavior/CompassDirection/ry"]


@pytest.mark.parametrize("name", [None, "speed"])
def test_nwb_behaviour_missing_or_wrong_lists_what_the_file_has(tmp_path, name):
    path = write_nwb(tmp_path / "tiny.nwb")
    with pytest.raises(SessionError, match=r"the file has: processing/behavior/CompassDirection/ry$"):
        read_recording(path, behaviour=name)


def test_the_committed_real_recording():
    r = read_recording(A2929_NWB, behaviour="ry")
    assert r.unit_ids.tolist() == list(range(15))
    assert len(r.spike_times) == 98794 and np.all(np.diff(r.spike_times) >= 0)
    assert 0 <= r.spike_times[0] and r.spike_times[-1] < 1200
    b = r.behaviour["acquisition/CompassDirection/ry"]
    assert b.values.shape == (63527, 1) and 0 <= b.values.min() and b.values.max() < 2 * np.pi
    assert b.timestamps[0] == pytest.approx(670.6407) and np.median(np.diff(b.timestamps)) == pytest.approx(1 / 120, rel=0.01)


def test_temporaldata_layout(tmp_path):
    path = write_temporaldata(tmp_path / "tiny.h5")
    assert session_format(path) == "temporaldata"
    r = read_recording(path)  # the only behaviour array is taken without --behaviour
    assert r.session_id == "s" and r.unit_words == ["s/unit_0", "s/unit_1"]
    assert r.unit_ids.tolist() == [0, 1] and r.spike_units.tolist() == [0, 1, 0]
    assert r.spike_times.tolist() == [0.1, 0.2, 0.5]
    assert list(r.behaviour) == ["cursor.vel"] and r.behaviour["cursor.vel"].values.shape == (100, 2)
    assert {k: v.tolist() for k, v in r.intervals.items()} == {"train": [[0.0, 0.6]], "valid": [[0.6, 0.8]], "test": [[0.8, 1.0]]}
    assert read_recording(path, behaviour="vel").behaviour.keys() == {"cursor.vel"}


def test_poyo_session_file():
    r = read_recording(DEMO / "session.safetensors")
    assert r.format == "poyo-rt-session" and r.session_id == "demo/random_target" and r.tick_rate == 30_000
    assert len(r.unit_ids) == 64 and len(r.spike_times) == 180195
    assert r.intervals["test"].tolist() == [[240.0, 300.0]]


# ---- bad sessions: one clear line each -----------------------------------------------------

def bad_cases(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a recording\n")
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.arange(3)
    td_len = write_temporaldata(tmp_path / "td_len.h5")
    with h5py.File(td_len, "a") as f:  # a temporaldata file whose behaviour lost samples
        vel = f["cursor/vel"][:]
        del f["cursor/vel"]
        f["cursor/vel"] = vel[:-7]
    nwb_len = write_nwb(tmp_path / "len.nwb")
    with h5py.File(nwb_len, "a") as f:  # pynwb refuses to write this, so it is made after the fact
        path = "processing/behavior/CompassDirection/ry/data"
        data = f[path][:]
        del f[path]
        f[path] = data[:10]
    td_unsorted = write_temporaldata(tmp_path / "unsorted.h5")
    with h5py.File(td_unsorted, "a") as f:  # temporaldata sorts what it writes: unsort it after
        f["spikes/timestamps"][...] = f["spikes/timestamps"][:][::-1]
    return {
        "not HDF5": (text, None, "not an HDF5 file"),
        "neither NWB nor temporaldata": (other, None, "neither NWB"),
        "NWB without units": (write_nwb(tmp_path / "nounits.nwb", units=False), "ry", "no units"),
        "temporaldata without units": (write_temporaldata(tmp_path / "nounits.h5", units=False), None, "no units"),
        "NWB unsorted": (write_nwb(tmp_path / "unsorted.nwb", spikes=((0.5, 0.1), (0.2,))), "ry", "not sorted"),
        "temporaldata unsorted": (td_unsorted, None, "not sorted"),
        "NWB negative": (write_nwb(tmp_path / "negative.nwb", spikes=((-0.5, 0.1), (0.2,))), "ry", "negative spike time"),
        "NWB behaviour missing": (write_nwb(tmp_path / "nobehaviour.nwb", behaviour=False), "ry", "is not in the file; the file has: none"),
        "NWB behaviour of another length": (nwb_len, "ry", "240 timestamps but 10 samples"),
        "temporaldata behaviour of another length": (td_len, None, "vel is 93"),
        "missing file": (tmp_path / "nothing.nwb", None, "no such file"),
    }


def test_bad_sessions_raise_one_clear_line(tmp_path):
    for what, (path, behaviour, message) in bad_cases(tmp_path).items():
        with pytest.raises(SessionError) as error:
            read_recording(path, behaviour=behaviour)
        assert message in str(error.value) and "\n" not in str(error.value), (what, str(error.value))
        assert str(path) in str(error.value), what


def test_bad_sessions_exit_2_from_the_command(tmp_path):
    import subprocess
    import sys
    for what, (path, behaviour, message) in bad_cases(tmp_path).items():
        args = [sys.executable, "-m", "poyo_rt.cli", "replay", str(path), "--model", str(DEMO / "poyo_demo.safetensors")]
        args += ["--behaviour", behaviour] if behaviour else []
        result = subprocess.run(args, capture_output=True, text=True, timeout=60)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1, (what, result.returncode, result.stderr)
        assert lines[0].startswith("poyo-rt replay: error: ") and message in lines[0], (what, lines)


def test_brainsets_ids_become_torch_brains_vocabulary_words():
    """demo/cursor_session.h5 (written by temporaldata, brainsets' layout: ids without prefixes,
    units.rig_id) reads as the very session of demo/session.safetensors."""
    td, sf = read_recording(DEMO / "cursor_session.h5"), read_recording(DEMO / "session.safetensors")
    assert td.format == "temporaldata" and td.session_id == sf.session_id == "demo/random_target"
    assert td.unit_words == sf.unit_words and td.unit_words[0] == "demo/random_target/unit_1"
    assert td.unit_ids.tolist() == sf.unit_ids.tolist() and td.tick_rate == 30_000
    np.testing.assert_array_equal(td.spike_times, sf.spike_times)
    np.testing.assert_array_equal(td.spike_units, sf.spike_units)
    np.testing.assert_array_equal(td.behaviour["cursor.vel"].values, sf.behaviour["cursor.vel"].values)
    assert {k: v.tolist() for k, v in td.intervals.items()} == {k: v.tolist() for k, v in sf.intervals.items()}
