"""The calibration data: a recording's first minutes, split into a training and a held-out part,
and windows of it tokenized as torch_brain's ``POYO.tokenize`` does (numpy only).

Any reader that returns a ``poyo_rt.sessions.Recording`` feeds calibration: the spikes (rig unit
ids, seconds of the recording's clock), one behaviour series (seconds, values per readout
channel) and the units. NWB, temporaldata and poyo-rt session files are read by
``poyo_rt.sessions.read_recording``; a capture-log reader plugs in the same way (it returns a
``Recording`` whose ``spike_times`` are the captured ticks divided by the tick rate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from .. import window as pw
from ..sessions import Behaviour, Recording


class CalibrationError(ValueError):
    """A recording or a model that cannot be calibrated; the message is one line a person can act on."""


@dataclass
class Part:
    """[start, end) seconds of the recording's clock."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


class CalibrationData:
    """The calibration span of a recording and its windows.

    Parameters
    ----------
    recording : Recording
    behaviour : Behaviour
        The series the readout is fitted to, values in the readout's physical unit, shape (T, dim).
    unit_words : list of str, length U
        The vocabulary word of each unit of ``recording`` (``recording.unit_ids`` order).
    session_word : str
    sequence_length : float
        Window length in seconds (the model's).
    minutes : float
        Length of the calibration span, from the first behaviour sample.
    holdout : float
        Fraction of the span, at its end, held out for validation and early stopping.
    """

    def __init__(self, recording: Recording, behaviour: Behaviour, unit_words: list, session_word: str,
                 sequence_length: float, minutes: float = 3.0, holdout: float = 0.2):
        if not 0 < holdout < 1:
            raise CalibrationError(f"--holdout {holdout}: must be between 0 and 1")
        self.recording = recording
        self.unit_words = list(unit_words)
        self.session_word = session_word
        self.sequence_length = float(sequence_length)
        start = float(behaviour.timestamps[0])
        end = min(start + 60.0 * minutes, recording.duration + 1e-9)
        split = start + (end - start) * (1 - holdout)
        self.train, self.valid = Part(start, split), Part(split, end)
        for name, part in (("training", self.train), ("held-out", self.valid)):
            if part.duration < self.sequence_length:
                raise CalibrationError(f"{recording.path}: the {name} part is {part.duration:.1f} s, shorter than one "
                                       f"{self.sequence_length:g} s window; give more --minutes (the recording has "
                                       f"{recording.duration / 60:.1f} min)")
        ids = np.asarray(recording.unit_ids, np.int64)
        order = np.argsort(ids, kind="stable")
        spike_index = order[np.searchsorted(ids[order], recording.spike_units)]
        keep = (recording.spike_times >= start) & (recording.spike_times < end)
        self.spike_times = recording.spike_times[keep]
        self.spike_index = spike_index[keep].astype(np.int64)      # position in unit_words
        inside = (behaviour.timestamps >= start) & (behaviour.timestamps < end)
        self.behaviour_times = behaviour.timestamps[inside]
        self.behaviour_values = behaviour.values[inside]
        self.dim = self.behaviour_values.shape[1]

    @property
    def num_units(self) -> int:
        return len(self.unit_words)

    # ---- windows -----------------------------------------------------------------------------

    def training_starts(self, rng: np.random.Generator) -> np.ndarray:
        """One epoch of window starts (seconds): the training part tiled by back-to-back windows
        from a random offset, shuffled (torch_brain's ``RandomFixedWindowSampler``)."""
        L = self.sequence_length
        offset = rng.uniform(0, L)
        starts = np.arange(self.train.start + offset, self.train.end - L + 1e-9, L)
        if len(starts) == 0:
            starts = np.array([self.train.start])
        return rng.permutation(starts)

    def validation_starts(self) -> np.ndarray:
        """The held-out part tiled by back-to-back windows (torch_brain's sequential sampler)."""
        return np.arange(self.valid.start, self.valid.end - self.sequence_length + 1e-9, self.sequence_length)

    def window(self, start: float, unit_rows: np.ndarray, session_row: int, latent_step: float,
               num_latents_per_step: int, query_times: Optional[np.ndarray] = None) -> dict:
        """forward() inputs of the window [start, start + sequence_length) (unbatched): start/end
        tokens of every unit, the window's spikes, queries at the behaviour samples inside (or at
        ``query_times``, seconds of the recording's clock); plus ``target`` (query count, dim)."""
        L = self.sequence_length
        lo, hi = np.searchsorted(self.spike_times, [start, start + L], side="left")
        if query_times is None:
            qlo, qhi = np.searchsorted(self.behaviour_times, [start, start + L], side="left")
            query_times, target = self.behaviour_times[qlo:qhi], self.behaviour_values[qlo:qhi]
        else:
            target = self.behaviour_at(query_times)
        w = pw.make_window(unit_rows, self.spike_index[lo:hi], self.spike_times[lo:hi] - start, sequence_length=L,
                           latent_step=latent_step, num_latents_per_step=num_latents_per_step,
                           session_row=session_row, output_timestamps=np.asarray(query_times) - start)
        w["target"] = np.asarray(target, np.float64)
        return w

    def behaviour_at(self, times: np.ndarray) -> np.ndarray:
        """Behaviour at sample times (the nearest sample at or after each time)."""
        i = np.minimum(np.searchsorted(self.behaviour_times, times), len(self.behaviour_times) - 1)
        return self.behaviour_values[i]


def pad_batch(windows: list) -> tuple[dict, np.ndarray, np.ndarray]:
    """Pads unbatched windows into forward() arrays.

    Returns
    -------
    inputs : dict of str to ndarray
        torch_brain forward() arguments, shape (B, ...), with ``input_mask``.
    output_mask : ndarray of bool, shape (B, Q)
    target : ndarray of float64, shape (M, dim)
        The targets of the unpadded queries, in row-major order of ``output_mask``.
    """
    B = len(windows)
    N = max(len(w["input_unit_index"]) for w in windows)
    Q = max(1, max(len(w["output_timestamps"]) for w in windows))
    out = {"input_unit_index": np.zeros((B, N), np.int64), "input_timestamps": np.zeros((B, N), np.float64),
           "input_token_type": np.zeros((B, N), np.int64), "input_mask": np.zeros((B, N), bool),
           "output_timestamps": np.zeros((B, Q), np.float64), "output_session_index": np.zeros((B, Q), np.int64)}
    mask = np.zeros((B, Q), bool)
    for b, w in enumerate(windows):
        n, q = len(w["input_unit_index"]), len(w["output_timestamps"])
        for k in ("input_unit_index", "input_timestamps", "input_token_type"):
            out[k][b, :n] = w[k]
        out["input_mask"][b, :n] = True
        out["output_timestamps"][b, :q] = w["output_timestamps"]
        out["output_session_index"][b, :] = w["output_session_index"][0] if q else 0
        mask[b, :q] = True
    out["latent_index"] = np.stack([w["latent_index"] for w in windows])
    out["latent_timestamps"] = np.stack([w["latent_timestamps"] for w in windows])
    target = np.concatenate([w["target"] for w in windows])
    return out, mask, target


def r2_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination, averaged over channels (shape (M, dim))."""
    ss_res = ((y_true - y_pred) ** 2).sum(0)
    ss_tot = ((y_true - y_true.mean(0)) ** 2).sum(0)
    return float(np.mean(1 - ss_res / np.maximum(ss_tot, 1e-300)))
