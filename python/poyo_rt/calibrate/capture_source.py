"""A daemon capture log (``poyo serve --capture``, docs/capture-log.md) as a calibration recording.

The log holds every message the daemon received: the rig's spike batches (rig unit ids, ticks)
and the task's behaviour messages (ticks, values per readout channel), whether or not the running
model knows the units. ``poyo_rt.capture.read_capture_log`` (the wire protocol's capture reader)
decodes them; this module turns them into the ``Recording`` every calibration input is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from ..sessions import Behaviour, Recording
from .data import CalibrationError

MAGIC = b"PYRTCAP1"


def is_capture_log(path) -> bool:
    """True when the file starts with the capture log's magic bytes."""
    try:
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def read_capture_recording(path, readout: str, source_id: Optional[int] = None) -> Recording:
    """Spikes and the behaviour of ``readout`` from a capture log.

    Parameters
    ----------
    path : str
        The capture log.
    readout : str
        The readout whose behaviour messages the task published (``behaviour/<readout>``).
    source_id : int, optional
        The rig source (default: the configuration's ``source``, else the first heard).

    Returns
    -------
    Recording
        ``format`` ``"poyo-rt-capture"``; times in seconds of the rig clock (ticks / tick rate);
        units: every rig unit id that spiked; no unit words (``--unit-prefix`` names them);
        ``session_id``: the log's file name without its suffix.

    Raises
    ------
    CalibrationError
        The package has no capture reader, or the log has no spikes or no behaviour of ``readout``.
    """
    try:
        from ..capture import read_capture_log
    except ImportError:
        raise CalibrationError(f"{path}: reading capture logs needs poyo_rt.capture (the behaviour message, "
                               f"issue 10a); give a recording file instead") from None
    log = read_capture_log(path)
    units, ticks = log.spikes(source_id)
    rate = log.tick_rate
    if len(ticks) == 0 or rate is None:
        raise CalibrationError(f"{path}: the capture log holds no spikes")
    times, values = log.behaviour(readout, source_id)
    if len(times) == 0:
        raise CalibrationError(f"{path}: the capture log holds no behaviour of readout {readout} "
                               f"(the task publishes it with BehaviourPublisher)")
    order = np.argsort(ticks, kind="stable")
    behaviour_order = np.argsort(times, kind="stable")
    times, values = times[behaviour_order], np.asarray(values, np.float64)[behaviour_order]
    keep = np.concatenate([[True], np.diff(times) > 0])  # a sample sent twice counts once
    unit_ids = np.unique(units).astype(np.int64)
    return Recording(path=str(path), format="poyo-rt-capture", session_id=Path(path).stem,
                     unit_ids=unit_ids, spike_times=ticks[order] / float(rate),
                     spike_units=units[order].astype(np.int64), unit_words=None,
                     behaviour={readout: Behaviour(f"behaviour/{readout}", times[keep] / float(rate), values[keep])},
                     tick_rate=int(rate))
