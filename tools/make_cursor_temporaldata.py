#!/usr/bin/env python3
"""Convert the synthetic cursor session (demo/session.safetensors) into a temporaldata HDF5 file
laid out as brainsets writes its files, so torch_brain's `Dataset` (and poyo-rt's replay) can read it.

    /tmp/tb/bin/python tools/make_cursor_temporaldata.py [--session demo/session.safetensors] [--out demo/cursor_session.h5]

Needs numpy, h5py, safetensors and temporaldata (no torch). The file is written by temporaldata
itself (`Data(...).to_hdf5(h5py.File)`), then read back with `Data.from_hdf5` and checked against
the session file (and, when torch_brain is importable, loaded through `torch_brain.data.Dataset`,
which must produce exactly the session's vocabulary words).

Layout (brainsets convention: ids are stored WITHOUT prefixes; torch_brain's Dataset prefixes them
with its default functions: session word = f"{brainset.id}/{session.id}", unit word =
f"{brainset.id}/{session.id}/{units.id}"):

    /                      Data, attrs object="Data", absolute_start=0.0
    brainset               Data, attrs id="demo", origin_version, derived_version, source, description
    subject                Data, attrs id="synthetic", species="unknown"
    session                Data, attrs id="random_target", tick_rate=30000, description
    device                 Data, attrs id="synthetic_64_units", recording_tech="synthetic"
    spikes                 IrregularTimeSeries: timestamps f8 [N] seconds (= tick / 30000),
                           unit_index i4 [N] (row in units), domain [0, 300)
    units                  ArrayDict: id str [U] ("unit_<rig id>"), rig_id u4 [U] (session unit order)
    cursor                 IrregularTimeSeries: timestamps f8 [T] seconds, vel f4 [T, 2] cm/s, domain [0, 300)
    domain                 Interval [0, 300)
    train_domain           Interval [0, 200)
    valid_domain           Interval [200, 240)
    test_domain            Interval [240, 300)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
from poyo_rt import session_file as sf  # noqa: E402

ROOT = TOOLS.parent
SESSION = ROOT / "demo" / "session.safetensors"
OUT = ROOT / "demo" / "cursor_session.h5"


def split_word(session: sf.Session) -> tuple[str, str]:
    """'demo/random_target' -> ('demo', 'random_target'): brainset id and session id."""
    brainset, _, session_id = session.session_id.partition("/")
    if not session_id:
        raise SystemExit(f"session word {session.session_id!r} is not <brainset>/<session>")
    return brainset, session_id


def build(session: sf.Session):
    from temporaldata import ArrayDict, Data, Interval, IrregularTimeSeries
    brainset_id, session_id = split_word(session)
    prefix = f"{session.session_id}/"
    for w in session.unit_words:
        if not w.startswith(prefix):
            raise SystemExit(f"unit word {w!r} does not start with {prefix!r}")
    rate = float(session.tick_rate)
    duration = session.description.get("duration_ticks", session.splits["test"][1]) / rate
    whole = Interval(start=np.array([0.0]), end=np.array([duration]))

    def interval(part):
        a, b = session.splits[part]
        return Interval(start=np.array([a / rate]), end=np.array([b / rate]))

    spikes = IrregularTimeSeries(timestamps=session.spike_ticks / rate, unit_index=session.spike_unit_index.astype(np.int32),
                                 domain=whole)
    cursor = IrregularTimeSeries(timestamps=session.cursor_ticks / rate, vel=session.cursor_vel.astype(np.float32),
                                 domain=whole)
    units = ArrayDict(id=np.array([w[len(prefix):] for w in session.unit_words]),
                      rig_id=session.unit_ids.astype(np.uint32))
    generator = session.description.get("generator", {})
    data = Data(
        brainset=Data(id=brainset_id, origin_version="poyo-rt demo/session.safetensors", derived_version="1.0.0",
                      source="tools/make_demo_session.py (synthetic)",
                      description="Synthetic 5-minute random-target 2D cursor session, 64 units (poyo-rt demo)."),
        subject=Data(id="synthetic", species="unknown"),
        session=Data(id=session_id, tick_rate=int(session.tick_rate),
                     description=f"converted from demo/session.safetensors (generator seed {generator.get('seed')}) "
                                 "by tools/make_cursor_temporaldata.py"),
        device=Data(id="synthetic_64_units", recording_tech="synthetic"),
        spikes=spikes,
        units=units,
        cursor=cursor,
        domain=whole,
    )
    data.train_domain = interval("train")
    data.valid_domain = interval("valid")
    data.test_domain = interval("test")
    return data


def check(path: Path, session: sf.Session) -> None:
    """Read the file back with temporaldata (and torch_brain's Dataset when available)."""
    import h5py
    from temporaldata import Data
    rate = session.tick_rate
    with h5py.File(path, "r") as f:
        d = Data.from_hdf5(f, lazy=False)
        ticks = np.rint(d.spikes.timestamps * rate).astype(np.int64)
        assert np.array_equal(ticks, session.spike_ticks)
        assert np.array_equal(d.units.rig_id[d.spikes.unit_index], session.spike_unit_ids)
        words = [f"{d.brainset.id}/{d.session.id}/{u}" for u in d.units.id.astype(str)]
        assert words == session.unit_words, words[:3]
        assert f"{d.brainset.id}/{d.session.id}" == session.session_id
        assert np.array_equal(np.rint(d.cursor.timestamps * rate).astype(np.int64), session.cursor_ticks)
        assert np.array_equal(d.cursor.vel, session.cursor_vel)
        for part in sf.SPLITS:
            iv = getattr(d, f"{part}_domain")
            assert (round(iv.start[0] * rate), round(iv.end[0] * rate)) == tuple(session.splits[part])
    print(f"{path}: read back with temporaldata.Data.from_hdf5: {len(ticks)} spikes, {len(words)} units, "
          f"{len(d.cursor.timestamps)} cursor samples, splits match")
    try:
        from torch_brain.data import Dataset
    except ImportError:
        print("torch_brain not importable: Dataset check skipped")
        return
    brainset, session_id = split_word(session)
    # torch_brain's (0.1.x) Dataset reads <root>/<brainset>/<session>.h5: a temporary tree with a link
    import tempfile
    import warnings
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        (Path(tmp) / brainset).mkdir()
        (Path(tmp) / brainset / f"{session_id}.h5").symlink_to(path.resolve())
        rid = f"{brainset}/{session_id}"
        ds = Dataset(tmp, recording_id=rid, split="train", keep_files_open=False)
        assert list(ds.get_unit_ids()) == session.unit_words
        assert ds.get_session_ids() == [session.session_id]
        iv = ds.get_sampling_intervals()[rid]
        assert (iv.start[0], iv.end[0]) == (0.0, session.splits["train"][1] / rate)
        sample = ds.get(rid, 10.0, 11.0)
        assert list(sample.units.id) == session.unit_words
        assert sample.session.id == session.session_id
        n = np.searchsorted(session.spike_ticks, [10 * rate, 11 * rate])
        assert len(sample.spikes.timestamps) == n[1] - n[0]
    print(f"torch_brain.data.Dataset: recording {rid}, unit words and session word match the session's vocabulary, "
          f"train sampling interval {iv.start[0]}-{iv.end[0]} s")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--session", type=Path, default=SESSION)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    import h5py
    session = sf.read_session(args.session)
    data = build(session)
    tmp = args.out.with_suffix(".h5.tmp")
    with h5py.File(tmp, "w") as f:
        data.to_hdf5(f)
    tmp.replace(args.out)
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.2f} MB")
    check(args.out, session)
    return 0


if __name__ == "__main__":
    sys.exit(main())
