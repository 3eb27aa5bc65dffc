"""Shared helpers of the package's tests: tiny session files written by pynwb and temporaldata."""

from __future__ import annotations

import datetime
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo"
A2929_NWB = DEMO / "a2929" / "A2929-200711.nwb"


def write_nwb(path: Path, unit_ids=(3, 7), spikes=((0.1, 0.5, 0.9), (0.2, 0.3)), behaviour=True,
              angle=None, units=True, timestamps=None) -> Path:
    """A tiny NWB file written by pynwb: units with spike times, a SpatialSeries ``ry`` in a
    ``CompassDirection`` under processing/behavior (120 Hz, 0-2 s unless given)."""
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.behavior import CompassDirection
    nwbfile = NWBFile(session_description="poyo-rt test", identifier="tiny-session",
                      session_start_time=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    if units:
        for unit_id, times in zip(unit_ids, spikes):
            nwbfile.add_unit(id=int(unit_id), spike_times=list(times))
    if behaviour:
        t = np.arange(0, 2, 1 / 120) if timestamps is None else np.asarray(timestamps)
        data = np.mod(t, 2 * np.pi) if angle is None else np.asarray(angle)
        module = nwbfile.create_processing_module("behavior", "behaviour")
        compass = CompassDirection(name="CompassDirection")
        compass.create_spatial_series(name="ry", data=data, timestamps=t, reference_frame="arena", unit="radians")
        module.add(compass)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with NWBHDF5IO(str(path), "w") as io:
            io.write(nwbfile)
    return path


def write_temporaldata(path: Path, words=("s/unit_0", "s/unit_1"), times=(0.1, 0.2, 0.5), unit_index=(0, 1, 0),
                       session="s", vel=None, vel_times=None, splits=((0.0, 0.6), (0.6, 0.8), (0.8, 1.0)),
                       units=True) -> Path:
    """A tiny temporaldata file written by temporaldata (brainsets' layout)."""
    import h5py
    from temporaldata import ArrayDict, Data, Interval, IrregularTimeSeries
    vel_times = np.arange(0, 1, 0.01) if vel_times is None else np.asarray(vel_times, dtype=np.float64)
    vel = np.stack([np.sin(vel_times), np.cos(vel_times)], axis=1) if vel is None else np.asarray(vel)
    cursor = IrregularTimeSeries(timestamps=vel_times, vel=vel, domain="auto")
    fields = dict(spikes=IrregularTimeSeries(timestamps=np.asarray(times, dtype=np.float64),
                                             unit_index=np.asarray(unit_index, dtype=np.int64), domain="auto"),
                  cursor=cursor, session=Data(id=session), domain=cursor.domain,
                  train_domain=Interval(*splits[0]), valid_domain=Interval(*splits[1]), test_domain=Interval(*splits[2]))
    if units:
        fields["units"] = ArrayDict(id=np.array(list(words)))
    with h5py.File(path, "w") as f:
        Data(**fields).to_hdf5(f)
    return path


def poyo_binary() -> Path:
    """The daemon: $POYO_BIN, else .build/release/poyo, else .build/debug/poyo."""
    for candidate in (os.environ.get("POYO_BIN"), ROOT / ".build/release/poyo", ROOT / ".build/debug/poyo"):
        if candidate and Path(candidate).is_file():
            return Path(candidate).resolve()
    pytest.fail("no poyo binary: build with `swift build` or set POYO_BIN")


def model_for_vocabulary(path: Path, unit_words, session_word: str) -> Path:
    """The demo model (demo/poyo_demo.safetensors) with its unit and session vocabularies replaced
    by ``unit_words`` / ``session_word`` (the first rows of its embeddings): a valid model file
    that decodes any recording with those words. Its decodes mean nothing; its vocabularies,
    readout (2 dims) and timing are real."""
    from poyo_rt import model_file
    description, tensors = model_file.read_model_file(DEMO / "poyo_demo.safetensors")
    words = ["NA", *sorted(unit_words)]
    tensors["unit_emb.weight"] = tensors["unit_emb.weight"][: len(words)].copy()
    description["unit_vocab"] = {w: i for i, w in enumerate(words)}
    description["session_vocab"] = {"NA": 0, session_word: 1}
    model_file.write_model_file(path, description, tensors)
    return path
