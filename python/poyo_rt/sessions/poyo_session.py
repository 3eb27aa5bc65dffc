"""poyo-rt's own session file (docs/session-format.md): the synthetic demo session."""

from __future__ import annotations

from typing import Optional

import numpy as np

from .. import session_file as sf
from .nwb import choose
from .recording import Behaviour, Recording, SessionError


def read_poyo_session(path: str, behaviour: Optional[str] = None, require_behaviour: bool = True) -> Recording:
    """Reads a poyo-rt session file; its only behaviour is ``cursor.vel`` (cm/s)."""
    try:
        s = sf.read_session(path)
    except (sf.SessionFileError, ValueError, OSError) as error:
        raise SessionError(f"{path}: not a valid poyo-rt session file ({error})") from None
    rate = float(s.tick_rate)
    chosen = {}
    if behaviour is not None or require_behaviour:
        choose(behaviour or "cursor.vel", ["cursor.vel"], str(path))
        chosen["cursor.vel"] = Behaviour("cursor.vel", s.cursor_ticks / rate, s.cursor_vel, "cm/s")
    return Recording(path=str(path), format="poyo-rt-session", session_id=s.session_id,
                     unit_ids=s.unit_ids.astype(np.int64), spike_times=s.spike_ticks / rate,
                     spike_units=s.spike_unit_ids.astype(np.int64), unit_words=list(s.unit_words),
                     behaviour=chosen, intervals={k: np.array([[a / rate, b / rate]]) for k, (a, b) in s.splits.items()},
                     tick_rate=s.tick_rate, behaviour_available=["cursor.vel"])
