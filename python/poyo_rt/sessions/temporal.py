"""temporaldata / brainsets HDF5 sessions: the files torch_brain's data pipeline trains on.

Read with temporaldata itself (``Data.from_hdf5``). The layout brainsets writes: ``spikes``
(``timestamps`` in seconds, ``unit_index`` into ``units``), ``units.id`` (the model's unit
vocabulary words), ``session.id`` (its session word), behaviour as time series such as ``cursor``
(``timestamps``, ``pos``, ``vel``, ...), and the split as ``train_domain`` / ``valid_domain`` /
``test_domain`` intervals.

Vocabulary words follow torch_brain's ``Dataset``: when the file names its ``brainset``, the
session word is ``<brainset.id>/<session.id>`` and a unit's word ``<session word>/<units.id>``
(brainsets stores ids without prefixes); otherwise ``session.id`` and ``units.id`` are the words.
Rig unit ids are ``units.rig_id`` when the file has them, else the unit indexes 0..U-1.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .nwb import choose
from .recording import Behaviour, Recording, SessionError, check_behaviour, check_spikes

SPLITS = ("train", "valid", "test")


def behaviour_arrays(data) -> dict:
    """Every array of every time series but ``spikes``, as ``series.array`` -> the series."""
    from temporaldata import IrregularTimeSeries, RegularTimeSeries
    found = {}
    for key in data.keys():
        series = getattr(data, key)
        if key == "spikes" or not isinstance(series, (IrregularTimeSeries, RegularTimeSeries)):
            continue
        for name in series.keys():
            if name != "timestamps" and isinstance(getattr(series, name), np.ndarray):
                found[f"{key}.{name}"] = series
    return found


def _words(values) -> list:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def read_temporaldata(path: str, behaviour: Optional[str] = None, require_behaviour: bool = True) -> Recording:
    """Reads a temporaldata HDF5 file (as brainsets writes them) into a Recording.

    Parameters
    ----------
    path : str
    behaviour : str, optional
        ``series.array`` (``cursor.vel``) or just the array's name when unique (``vel``); may be
        left out when the file has a single behaviour array.
    require_behaviour : bool

    Raises
    ------
    SessionError
        No spikes or units, bad spike times, or the behaviour missing, unknown or inconsistent.
    """
    import h5py
    from temporaldata import Data
    with h5py.File(path, "r") as f:
        try:
            data = Data.from_hdf5(f, lazy=False)
        except Exception as error:
            raise SessionError(f"{path}: not a readable temporaldata file ({type(error).__name__}: {str(error).splitlines()[0][:200]})") from None
    keys = set(data.keys())
    if "units" not in keys or "id" not in data.units.keys() or len(data.units.id) == 0:
        raise SessionError(f"{path}: no units (a temporaldata session needs units.id)")
    if "spikes" not in keys or "unit_index" not in data.spikes.keys():
        raise SessionError(f"{path}: no spikes (a temporaldata session needs spikes.timestamps and spikes.unit_index)")
    words = _words(data.units.id)
    times = np.asarray(data.spikes.timestamps, dtype=np.float64)
    check_spikes(str(path), times)
    index = np.asarray(data.spikes.unit_index, dtype=np.int64)
    if index.size and (index.min() < 0 or index.max() >= len(words)):
        raise SessionError(f"{path}: spikes.unit_index points outside units.id ({len(words)} units)")
    session = getattr(data, "session", None) if "session" in keys else None
    session_id = str(getattr(session, "id", "")) if session is not None else ""
    brainset = getattr(getattr(data, "brainset", None), "id", None) if "brainset" in keys else None
    if brainset:
        session_id = f"{brainset}/{session_id}"
        words = [f"{session_id}/{w}" for w in words]
    unit_ids = np.arange(len(words), dtype=np.int64)
    if "rig_id" in data.units.keys():
        unit_ids = np.asarray(data.units.rig_id, dtype=np.int64)
        if len(np.unique(unit_ids)) != len(words) or unit_ids.min() < 0:
            raise SessionError(f"{path}: units.rig_id must be unique non-negative integers")
    tick_rate = getattr(session, "tick_rate", None) if session is not None else None
    available = behaviour_arrays(data)
    chosen = {}
    if behaviour is not None or require_behaviour:
        name = available and len(available) == 1 and behaviour is None and next(iter(available))
        name = name or choose(behaviour, sorted(available), str(path))
        series, array = available[name], name.split(".", 1)[1]
        chosen[name] = Behaviour(name, np.asarray(series.timestamps, dtype=np.float64), getattr(series, array))
        if len(chosen[name].values) != len(chosen[name].timestamps):
            raise SessionError(f"{path}: behaviour {name} has {len(chosen[name].values)} samples for "
                               f"{len(chosen[name].timestamps)} timestamps")
        check_behaviour(str(path), chosen[name])
    intervals = {}
    for split in SPLITS:
        domain = getattr(data, f"{split}_domain", None) if f"{split}_domain" in keys else None
        if domain is not None:
            intervals[split] = np.stack([np.asarray(domain.start), np.asarray(domain.end)], axis=1).astype(np.float64)
    return Recording(path=str(path), format="temporaldata", session_id=session_id, unit_ids=unit_ids,
                     spike_times=times, spike_units=unit_ids[index], unit_words=words, behaviour=chosen,
                     intervals=intervals, tick_rate=int(tick_rate) if tick_rate else None,
                     behaviour_available=sorted(available))
