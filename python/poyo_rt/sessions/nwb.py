"""NWB sessions (DANDI and the like), read with pynwb's ``NWBHDF5IO``.

The units table's ``spike_times`` are the spikes and its ids the rig unit ids; behaviour is any
``TimeSeries`` (``SpatialSeries`` included) under ``acquisition/`` or ``processing/<module>/``,
named by its path, e.g. ``acquisition/CompassDirection/ry``. Train / valid / test intervals are
the interval tables of those names, when the file has them.
"""

from __future__ import annotations

import warnings
from typing import Iterator, Optional

import numpy as np

from .recording import Behaviour, Recording, SessionError, check_behaviour, check_spikes, merge_units

SPLITS = ("train", "valid", "test")


def _series(container, path: str) -> Iterator[tuple[str, object]]:
    from pynwb.base import TimeSeries
    if isinstance(container, TimeSeries):
        yield path, container
        return
    for child in getattr(container, "children", ()):
        if isinstance(child, TimeSeries):
            yield f"{path}/{child.name}", child


def behaviour_series(nwbfile) -> dict:
    """Every TimeSeries of the file by path: ``acquisition/...`` and ``processing/<module>/...``."""
    found = {}
    for name, container in nwbfile.acquisition.items():
        found.update(_series(container, f"acquisition/{name}"))
    for module in nwbfile.processing.values():
        for name, container in module.data_interfaces.items():
            found.update(_series(container, f"processing/{module.name}/{name}"))
    return found


def choose(name: Optional[str], available: list, where: str) -> str:
    """The one entry of ``available`` that ``name`` is, or ends with ``/name`` or ``.name``.

    Raises
    ------
    SessionError
        When ``name`` is None, unknown or ambiguous; the message lists what the file has.
    """
    listing = ", ".join(available) if available else "none"
    if name is None:
        raise SessionError(f"{where}: say which behaviour to score with --behaviour NAME; the file has: {listing}")
    matches = [a for a in available if a == name] or [a for a in available if a.endswith("/" + name) or a.endswith("." + name)]
    if len(matches) == 1:
        return matches[0]
    problem = "is ambiguous" if matches else "is not in the file"
    raise SessionError(f"{where}: behaviour '{name}' {problem}; the file has: {listing}")


def _read_series(where: str, path: str, series) -> Behaviour:
    data = np.asarray(series.data[:], dtype=np.float64) * float(series.conversion or 1.0) + float(getattr(series, "offset", 0.0) or 0.0)
    if series.timestamps is not None:
        timestamps = np.asarray(series.timestamps[:], dtype=np.float64)
    else:
        timestamps = float(series.starting_time or 0.0) + np.arange(len(data)) / float(series.rate)
    behaviour = Behaviour(path, timestamps, data, str(series.unit or ""))
    check_behaviour(where, behaviour)
    return behaviour


def read_nwb(path: str, behaviour: Optional[str] = None, require_behaviour: bool = True) -> Recording:
    """Reads an NWB file's units and one behaviour series.

    Parameters
    ----------
    path : str
        The NWB (HDF5) file.
    behaviour : str, optional
        The series to score against: its path or the end of it (``ry``, ``CompassDirection/ry``).
    require_behaviour : bool
        When True a missing or unknown ``behaviour`` raises, listing the file's series.

    Returns
    -------
    Recording
        ``unit_ids`` the units-table ids, ``unit_words`` None.

    Raises
    ------
    SessionError
        No units, bad spike times, or the behaviour missing, unknown or inconsistent.
    """
    from pynwb import NWBHDF5IO
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # old schemas and cached namespaces make pynwb chatty
        try:
            io = NWBHDF5IO(str(path), "r", load_namespaces=True)
            nwbfile = io.read()
        except Exception as error:  # pynwb raises many kinds; one line says which file and why
            raise SessionError(f"{path}: not a readable NWB file ({type(error).__name__}: {str(error).splitlines()[0][:200]})") from None
        try:
            units = nwbfile.units
            if units is None or len(units.id) == 0 or "spike_times" not in units.colnames:
                raise SessionError(f"{path}: no units (the NWB file has no units table with spike_times)")
            ids = np.asarray(units.id[:], dtype=np.int64)
            if len(np.unique(ids)) != len(ids):
                raise SessionError(f"{path}: units-table ids are not unique")
            per_unit = []
            for i, unit_id in enumerate(ids):
                times = np.asarray(units["spike_times"][i], dtype=np.float64)
                check_spikes(f"{path}: unit {unit_id}", times)
                per_unit.append(times)
            spike_times, spike_units = merge_units(ids, per_unit)
            available = behaviour_series(nwbfile)
            chosen = {}
            if behaviour is not None or require_behaviour:
                name = choose(behaviour, sorted(available), str(path))
                chosen[name] = _read_series(str(path), name, available[name])
            intervals = {}
            for split in SPLITS:
                table = (nwbfile.intervals or {}).get(split)
                if table is not None and len(table) > 0:
                    intervals[split] = np.stack([table["start_time"][:], table["stop_time"][:]], axis=1).astype(np.float64)
            return Recording(path=str(path), format="nwb", session_id=str(nwbfile.identifier), unit_ids=ids,
                             spike_times=spike_times, spike_units=spike_units, unit_words=None,
                             behaviour=chosen, intervals=intervals, behaviour_available=sorted(available))
        finally:
            io.close()
