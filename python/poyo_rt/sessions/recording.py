"""The one in-memory form every session reader returns: a ``Recording``.

Whatever the file (NWB, a temporaldata / brainsets HDF5 file, poyo-rt's own session file), replay
sees the same thing: units with rig ids (and, where the file knows them, the model's vocabulary
words), the spike stream in seconds of the recording's clock, the behaviour series a decoder is
scored against, and the named intervals (train / valid / test) where the file has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np


class SessionError(ValueError):
    """A session file that cannot be replayed; the message is one line a person can act on."""


@dataclass
class Behaviour:
    """One recorded behaviour series.

    Attributes
    ----------
    name : str
        Where it is in the file, e.g. ``acquisition/CompassDirection/ry`` (NWB) or ``cursor.vel``.
    timestamps : ndarray of float64, shape (T,)
        Seconds of the recording's clock, strictly increasing.
    values : ndarray of float64, shape (T, D)
        The samples, in ``unit``.
    unit : str
        Physical unit as the file states it ("" when it does not).
    """

    name: str
    timestamps: np.ndarray
    values: np.ndarray
    unit: str = ""

    def __post_init__(self) -> None:
        self.timestamps = np.asarray(self.timestamps, dtype=np.float64)
        values = np.asarray(self.values, dtype=np.float64)
        self.values = values.reshape(len(values), -1) if values.ndim != 2 else values


@dataclass
class Recording:
    """A recorded session, as replay plays and scores it.

    Attributes
    ----------
    path : str
        The file it was read from.
    format : str
        ``"nwb"``, ``"temporaldata"``, ``"poyo-rt-session"`` or ``"capture-log"``.
    session_id : str
        The file's own name for the session (temporaldata: the model's session word).
    unit_ids : ndarray of int64, shape (U,)
        Rig unit ids, in the file's unit order (NWB: the units-table ids; temporaldata: 0..U-1).
    spike_times : ndarray of float64, shape (N,)
        Seconds of the recording's clock, nondecreasing, >= 0.
    spike_units : ndarray of int64, shape (N,)
        Rig unit id of each spike (every one is in ``unit_ids``).
    unit_words : list of str or None, length U
        The model's vocabulary word of each unit where the file names them (temporaldata, session
        files); None for NWB, where ``--unit-prefix`` or ``--units`` says.
    behaviour : dict of str to Behaviour
        Every behaviour series found (or only the one asked for).
    intervals : dict of str to ndarray of float64, shape (K, 2)
        Named sets of [start, end) intervals in seconds: ``train``, ``valid``, ``test`` when present.
    tick_rate : int or None
        The clock the spike times were sampled on, when the file says (session files: 30000).
    behaviour_available : list of str
        The names of every behaviour series the file has (read or not), for messages.
    """

    path: str
    format: str
    session_id: str
    unit_ids: np.ndarray
    spike_times: np.ndarray
    spike_units: np.ndarray
    unit_words: Optional[list] = None
    behaviour: dict = field(default_factory=dict)
    intervals: dict = field(default_factory=dict)
    tick_rate: Optional[int] = None
    behaviour_available: list = field(default_factory=list)

    @property
    def duration(self) -> float:
        """Seconds from 0 to the last spike or behaviour sample."""
        ends = [float(self.spike_times[-1])] if len(self.spike_times) else [0.0]
        ends += [float(b.timestamps[-1]) for b in self.behaviour.values() if len(b.timestamps)]
        return max(ends)


def check_spikes(where: str, times: np.ndarray) -> None:
    """Raises SessionError unless ``times`` (seconds) are finite, >= 0 and nondecreasing."""
    if times.size == 0:
        return
    if not np.all(np.isfinite(times)):
        raise SessionError(f"{where}: spike times are not all finite numbers")
    if times.min() < 0:
        raise SessionError(f"{where}: negative spike time {times.min():g} s (times must be >= 0 on the recording's clock)")
    if np.any(np.diff(times) < 0):
        i = int(np.argmax(np.diff(times) < 0))
        raise SessionError(f"{where}: spike times are not sorted ({times[i]:g} s is followed by {times[i + 1]:g} s)")


def check_behaviour(where: str, behaviour: Behaviour) -> None:
    """Raises SessionError unless the series' timestamps and values agree and increase."""
    if len(behaviour.timestamps) != len(behaviour.values):
        raise SessionError(f"{where}: behaviour {behaviour.name}: {len(behaviour.timestamps)} timestamps but "
                           f"{len(behaviour.values)} samples")
    if len(behaviour.timestamps) < 2:
        raise SessionError(f"{where}: behaviour {behaviour.name}: fewer than 2 samples")
    if np.any(np.diff(behaviour.timestamps) <= 0):
        raise SessionError(f"{where}: behaviour {behaviour.name}: timestamps are not strictly increasing")


def merge_units(unit_ids: np.ndarray, per_unit_times: list) -> tuple[np.ndarray, np.ndarray]:
    """Merges per-unit spike trains into one stream sorted by time, ties in unit order.

    Parameters
    ----------
    unit_ids : ndarray of int64, shape (U,)
    per_unit_times : list of U ndarrays of float64
        Each unit's spike times in seconds (already checked sorted).

    Returns
    -------
    times : ndarray of float64, shape (N,)
    units : ndarray of int64, shape (N,)
    """
    index = np.concatenate([np.full(len(t), i, np.int64) for i, t in enumerate(per_unit_times)] or [np.zeros(0, np.int64)])
    times = np.concatenate(list(per_unit_times) or [np.zeros(0)]).astype(np.float64)
    order = np.lexsort((index, times))
    return times[order], np.asarray(unit_ids, np.int64)[index[order]]
