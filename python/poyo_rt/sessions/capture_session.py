"""A capture log of ``poyo serve --capture`` (docs/capture-log.md) read as a session: the spikes the
daemon accepted from the decoded rig source, the behaviour the task published to it (protocol/SPEC.md
4.5), and the session and units its configuration named.
"""

from __future__ import annotations

import warnings

from typing import Optional

import numpy as np
import yaml

from ..capture import read_capture_log
from ..wire import BehaviourMessage
from .nwb import choose
from .recording import Behaviour, Recording, SessionError


def read_capture_session(path: str, behaviour: Optional[str] = None, require_behaviour: bool = True) -> Recording:
    """Reads a capture log into a ``Recording``.

    Spike and behaviour times are the rig's ticks divided by its tick rate (seconds of the rig's
    clock). The behaviour series are named by their readout (``cursor_velocity_2d``). The session
    id and the unit words come from the log's first configuration record (``session``, and
    ``units`` or ``unit_prefix``); a unit the configuration does not map has no word (None).

    Raises
    ------
    SessionError
        The file is not a capture log, holds no rig message, or the behaviour asked for is not in it.
    """
    try:
        log = read_capture_log(path)
    except (ValueError, OSError) as error:
        raise SessionError(str(error)) from None
    if log.partial:
        # Not an error (a kill during a write leaves such a log), but the user must know.
        warnings.warn(f"{log.end_description}; this recording stops there", stacklevel=2)
    rate = log.tick_rate
    if rate is None:
        raise SessionError(f"{path}: a capture log without any rig message (no spikes, no watermark)")
    configuration = _first_configuration(log, path)
    units, ticks = log.spikes()
    unit_ids = np.unique(units.astype(np.int64))
    readouts = sorted({m.readout for _, m in log.received_messages() if isinstance(m, BehaviourMessage)})
    chosen = {}
    if behaviour is not None or require_behaviour:
        if not readouts:
            raise SessionError(f"{path}: the log holds no behaviour message (the task did not publish any), so "
                               f"there is nothing to score against; `poyo replay {path}` re-decodes it")
        name = choose(behaviour or (readouts[0] if len(readouts) == 1 else None), readouts, str(path))
        times, values = log.behaviour(name)
        chosen[name] = Behaviour(name, times / rate, values, "")
    return Recording(path=str(path), format="capture-log", session_id=str(configuration.get("session", "")),
                     unit_ids=unit_ids, spike_times=ticks / rate, spike_units=units.astype(np.int64),
                     unit_words=_unit_words(configuration, unit_ids), behaviour=chosen, intervals={},
                     tick_rate=int(rate), behaviour_available=readouts)


def _first_configuration(log, path: str) -> dict:
    if not log.sessions:
        raise SessionError(f"{path}: a capture log without its configuration record")
    try:
        configuration = yaml.safe_load(log.sessions[0].configuration) or {}
    except yaml.YAMLError as error:
        raise SessionError(f"{path}: the configuration record is not YAML ({error})") from None
    return configuration if isinstance(configuration, dict) else {}


def _unit_words(configuration: dict, unit_ids: np.ndarray) -> Optional[list]:
    mapping = {int(k): str(v) for k, v in (configuration.get("units") or {}).items()}
    prefix = configuration.get("unit_prefix")
    if not mapping and prefix is None:
        return None
    return [mapping.get(int(u), f"{prefix}{int(u)}" if prefix is not None else None) for u in unit_ids]
