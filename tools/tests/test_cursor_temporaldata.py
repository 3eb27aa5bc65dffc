"""demo/cursor_session.h5 (tools/make_cursor_temporaldata.py) holds exactly demo/session.safetensors
in temporaldata's / brainsets' layout. Read with plain h5py (skipped without it); with temporaldata
too when it is importable. No torch."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

TOOLS = Path(__file__).resolve().parents[1]
ROOT = TOOLS.parent
sys.path.insert(0, str(TOOLS))
from poyo_rt import session_file as sf  # noqa: E402

H5 = ROOT / "demo" / "cursor_session.h5"
SESSION = ROOT / "demo" / "session.safetensors"

h5py = pytest.importorskip("h5py")


@pytest.fixture(scope="module")
def session():
    return sf.read_session(SESSION)


def _str(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def test_layout_and_contents(session):
    assert H5.stat().st_size < 3_000_000
    rate = session.tick_rate
    with h5py.File(H5, "r") as f:
        assert _str(f.attrs["object"]) == "Data"
        for group, kind in (("spikes", "IrregularTimeSeries"), ("cursor", "IrregularTimeSeries"), ("units", "ArrayDict"),
                            ("domain", "Interval"), ("train_domain", "Interval"), ("valid_domain", "Interval"),
                            ("test_domain", "Interval"), ("brainset", "Data"), ("session", "Data"),
                            ("subject", "Data"), ("device", "Data")):
            assert _str(f[group].attrs["object"]) == kind, group
        brainset, session_id = _str(f["brainset"].attrs["id"]), _str(f["session"].attrs["id"])
        assert f"{brainset}/{session_id}" == session.session_id == "demo/random_target"
        assert int(f["session"].attrs["tick_rate"]) == rate
        unit_ids = [_str(u) for u in f["units/id"][:]]
        assert [f"{brainset}/{session_id}/{u}" for u in unit_ids] == session.unit_words
        np.testing.assert_array_equal(f["units/rig_id"][:], session.unit_ids)
        t = f["spikes/timestamps"][:]
        np.testing.assert_array_equal(np.rint(t * rate).astype(np.int64), session.spike_ticks)
        np.testing.assert_array_equal(f["units/rig_id"][:][f["spikes/unit_index"][:]], session.spike_unit_ids)
        np.testing.assert_array_equal(np.rint(f["cursor/timestamps"][:] * rate).astype(np.int64), session.cursor_ticks)
        np.testing.assert_array_equal(f["cursor/vel"][:], session.cursor_vel)
        for part in sf.SPLITS:
            g = f[f"{part}_domain"]
            assert (round(g["start"][0] * rate), round(g["end"][0] * rate)) == tuple(session.splits[part])


def test_temporaldata_reads_it(session):
    temporaldata = pytest.importorskip("temporaldata")
    with h5py.File(H5, "r") as f:
        d = temporaldata.Data.from_hdf5(f, lazy=False)
        assert len(d.spikes.timestamps) == len(session.spike_ticks)
        assert d.units.id.astype(str).tolist()[:2] == [w.split("/")[-1] for w in session.unit_words[:2]]
        assert d.cursor.vel.shape == (len(session.cursor_ticks), 2)
        assert (d.train_domain.start[0], d.train_domain.end[0]) == (0.0, 200.0)
