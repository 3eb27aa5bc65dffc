"""A daemon capture log (``poyo serve --capture``, docs/capture-log.md) as a calibration recording.

The log holds every message the daemon received: the rig's spike batches (rig unit ids, ticks)
and the task's behaviour messages (ticks, values per readout channel), whether or not the running
model knows the units. ``poyo_rt.sessions.read_capture_session`` reads them as a session; this
module keeps what calibration needs of it.
"""

from __future__ import annotations

from pathlib import Path

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


def read_capture_recording(path, readout: str) -> Recording:
    """Spikes and the behaviour of ``readout`` from a capture log, for calibration.

    The log is read as a session (``poyo_rt.sessions.read_capture_session``: the decoded source's
    accepted spikes, the task's behaviour messages), but its configuration's words are dropped: they
    name the session the daemon ran while recording, not today's; ``--session-word`` and
    ``--unit-prefix`` name those (default session word: the log's file name without its suffix).

    Returns
    -------
    Recording
        Times in seconds of the rig clock (ticks / tick rate); units: every rig unit id that spiked;
        behaviour: ``readout``'s samples, each time once.

    Raises
    ------
    CalibrationError
        The log has no spikes or no behaviour of ``readout``.
    """
    from ..sessions import SessionError, read_capture_session
    try:
        recording = read_capture_session(str(path), behaviour=readout)
    except SessionError as error:
        raise CalibrationError(f"{error} (the task publishes behaviour with BehaviourPublisher)") from None
    if len(recording.spike_times) == 0:
        raise CalibrationError(f"{path}: the capture log holds no spikes")
    series = next(iter(recording.behaviour.values()))
    order = np.argsort(series.timestamps, kind="stable")
    times, values = series.timestamps[order], series.values[order]
    keep = np.concatenate([[True], np.diff(times) > 0])  # a sample sent twice counts once
    recording.behaviour = {readout: Behaviour(f"behaviour/{readout}", times[keep], values[keep])}
    recording.unit_words = None
    recording.session_id = Path(path).stem
    return recording
