"""What a readout is scored against: the recorded behaviour, or a function of it, at output times.

Alignment: the target at an output's timestamp is the linear interpolation of the (transformed)
recorded samples on either side of it; outputs outside the recorded span are not scored. A
transform comes first (``cos_sin`` of an angle), then the interpolation, so an angle's wrap at
2 pi never averages 359 and 1 degree into 180.
"""

from __future__ import annotations

import numpy as np

from .sessions import Behaviour, SessionError

#: name -> (description, function (T, D) -> (T, D'))
TARGETS = {
    "identity": ("the recorded values", lambda v: v),
    "cos_sin": ("cos and sin of an angle in radians (head direction -> 2 columns)",
                lambda v: np.concatenate([np.cos(v), np.sin(v)], axis=1)),
}


def transform(behaviour: Behaviour, target: str = "identity") -> Behaviour:
    """The behaviour with ``target`` applied to its values (a new Behaviour)."""
    if target not in TARGETS:
        raise SessionError(f"unknown --target '{target}' (known: {', '.join(TARGETS)})")
    if target == "cos_sin" and behaviour.values.shape[1] != 1:
        raise SessionError(f"--target cos_sin needs a one-column angle; {behaviour.name} has {behaviour.values.shape[1]} columns")
    unit = behaviour.unit if target == "identity" else ""
    name = behaviour.name if target == "identity" else f"{target}({behaviour.name})"
    return Behaviour(name, behaviour.timestamps, TARGETS[target][1](behaviour.values), unit)


def align(behaviour: Behaviour, times: np.ndarray, categorical: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The behaviour at ``times``.

    Parameters
    ----------
    behaviour : Behaviour
    times : ndarray of float64, shape (K,)
        Seconds of the recording's clock (the outputs' timestamps).
    categorical : bool
        Class labels: the last sample at or before each time instead of interpolation.

    Returns
    -------
    values : ndarray of float64, shape (M, D)
        The target at the times inside the recorded span.
    inside : ndarray of bool, shape (K,)
        Which of ``times`` those are.
    """
    t = behaviour.timestamps
    inside = (times >= t[0]) & (times <= t[-1])
    x = times[inside]
    if categorical:
        index = np.searchsorted(t, x, side="right") - 1
        return behaviour.values[index], inside
    return np.stack([np.interp(x, t, behaviour.values[:, d]) for d in range(behaviour.values.shape[1])], axis=1), inside
