"""What a profile plays into the daemon: synthetic Poisson spikes of a given size, or a recorded
session; and the model it is played to, with a unit vocabulary of that size."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from .. import model_file

TICK_RATE = 30_000  # the synthetic rig's clock: 30 kHz samples, as Blackrock / Open Ephys
SESSION_WORD = "profile/session"
UNIT_PREFIX = "profile/unit_"


@dataclass
class Stream:
    """Spikes to play, in ticks of the rig clock.

    Attributes
    ----------
    times : ndarray of int64, shape (N,)
        Spike times, ticks, nondecreasing.
    units : ndarray of uint32, shape (N,)
        Rig unit ids.
    start_tick, end_tick : int
        The part played, [start, end).
    tick_rate : int
        Ticks per second.
    units_bound : int
        Units of the session the daemon decodes (each adds a start and an end token per window).
    description : str
        What was played, for the report.
    """

    times: np.ndarray
    units: np.ndarray
    start_tick: int
    end_tick: int
    tick_rate: int
    units_bound: int
    description: str

    def tokens(self, window_ends: np.ndarray, sequence_ticks: int) -> np.ndarray:
        """Input tokens of the window ending at each tick: its spikes plus a start and an end
        token per bound unit (torch_brain's tokenizer), shape (T,), int64."""
        ends = np.asarray(window_ends, dtype=np.int64)
        count = np.searchsorted(self.times, ends, side="left") - np.searchsorted(self.times, ends - sequence_ticks, side="left")
        return count.astype(np.int64) + 2 * self.units_bound


def poisson(units: int, rate_hz: float, seconds: float, *, seed: int = 0, burst_at_s: Optional[float] = None,
            burst_spikes: int = 0) -> Stream:
    """Poisson spikes of ``units`` units at ``rate_hz`` each over ``seconds`` s (ticks 1 to
    seconds * 30000), optionally with an oversized burst of ``burst_spikes`` spikes within 1 ms
    at ``burst_at_s`` seconds (a forced slow tick)."""
    rng = np.random.default_rng(seed)
    end = round(seconds * TICK_RATE)
    counts = rng.poisson(rate_hz * seconds, size=units)
    unit = np.repeat(np.arange(units, dtype=np.uint32), counts)
    times = rng.integers(1, end, size=unit.size, dtype=np.int64)
    if burst_spikes and burst_at_s is not None:
        at = round(burst_at_s * TICK_RATE)
        times = np.concatenate([times, rng.integers(at, at + TICK_RATE // 1000, size=burst_spikes, dtype=np.int64)])
        unit = np.concatenate([unit, rng.integers(0, units, size=burst_spikes).astype(np.uint32)])
    order = np.argsort(times, kind="stable")
    text = f"synthetic Poisson rig: {units} units at {rate_hz:g} Hz"
    if burst_spikes:
        text += f", a burst of {burst_spikes} spikes at {burst_at_s:g} s"
    return Stream(times[order], unit[order], 0, end, TICK_RATE, units, text)


def model_for_units(source: str, units: int, path: Path) -> tuple[Path, str, str]:
    """A copy of model ``source`` whose vocabulary holds exactly ``units`` unit words
    ``profile/unit_<i>`` and the session word ``profile/session`` (rows of the original
    embeddings, repeated when there are more units than it has): the forward pass costs what the
    original's costs for a recording of that size, whatever its vocabulary.

    Returns
    -------
    (path, session word, unit prefix)
    """
    description, tensors = model_file.read_model_file(source)
    rows = tensors["unit_emb.weight"]
    words = ["NA", *(f"{UNIT_PREFIX}{i}" for i in range(units))]
    take = np.concatenate([[0], 1 + np.arange(units) % max(1, rows.shape[0] - 1)])
    tensors = dict(tensors)
    tensors["unit_emb.weight"] = np.ascontiguousarray(rows[take])
    description = dict(description)
    description["unit_vocab"] = {w: i for i, w in enumerate(words)}
    session_rows = tensors["session_emb.weight"].shape[0]
    description["session_vocab"] = {"NA": 0, SESSION_WORD: 1 if session_rows > 1 else 0}
    if session_rows < 2:
        description["session_vocab"] = {SESSION_WORD: 0}
    else:
        tensors["session_emb.weight"] = np.ascontiguousarray(tensors["session_emb.weight"][:2])
    model_file.write_model_file(path, description, tensors)
    return path, SESSION_WORD, UNIT_PREFIX


def recorded(session: str, model: str, *, seconds: Optional[float], start_s: float = 0.0, behaviour: Optional[str] = None,
             unit_prefix: Optional[str] = None, unit_map: Optional[str] = None, session_word: Optional[str] = None,
             tick_rate: Optional[int] = None) -> tuple[Stream, dict]:
    """A recorded session (NWB, temporaldata, poyo-rt session file; the replay's readers) as a
    stream, and the ``units`` / ``unit_prefix`` / ``session`` fields of the daemon's configuration."""
    from ..replay import tick_rate_of
    from ..sessions import read_recording
    from ..vocabulary import bind, read_unit_map
    recording = read_recording(session, behaviour=behaviour, require_behaviour=False)
    description, _ = model_file.read_model_file(model)
    binding = bind(recording, description, unit_prefix=unit_prefix,
                   unit_map=read_unit_map(unit_map) if unit_map else None, session_word=session_word)
    rate = tick_rate_of(recording, tick_rate)
    end_s = float(recording.duration) if seconds is None else min(float(recording.duration), start_s + seconds)
    times = np.rint(recording.spike_times * rate).astype(np.int64)
    units = binding.to_wire(recording.spike_units)
    order = np.argsort(times, kind="stable")
    stream = Stream(times[order], units[order], round(start_s * rate), round(end_s * rate), rate, len(binding.rig_ids),
                    f"recorded session {Path(session).name} ({recording.format}), {start_s:g}-{end_s:g} s")
    return stream, {"session": binding.session_word, **binding.config(description["unit_vocab"])}
