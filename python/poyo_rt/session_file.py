"""The poyo-rt session file (docs/session-format.md): a recorded (or synthetic) session in one
safetensors file, read and written with numpy + the `safetensors` package (no torch).

A session holds the spike stream as a rig would publish it (rig unit id, integer tick), the
cursor velocity the decoder is scored against, the unit vocabulary words a model was trained
with, and a train / validation / test split of the time axis. This module also builds model
input windows from a session exactly as the daemon does (`window_ticks`, `make_inputs`), so
the reference decodes, the training script and the tests share one definition.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import window as pw

FORMAT = "poyo-rt-session"
FORMAT_VERSION = 1
METADATA_KEY = "poyo_rt_session"
SPLITS = ("train", "valid", "test")

# tensor name -> (numpy dtype, number of dimensions); every one is required
TENSORS = {
    "units.id": (np.dtype("<u4"), 1),
    "spikes.unit_id": (np.dtype("<u4"), 1),
    "spikes.tick": (np.dtype("<i8"), 1),
    "cursor.tick": (np.dtype("<i8"), 1),
    "cursor.vel": (np.dtype("<f4"), 2),
}
# optional, informational (the generator's ground truth); one value per unit
OPTIONAL_TENSORS = {
    "units.baseline_hz": np.dtype("<f4"),
    "units.gain_hz_per_cm_s": np.dtype("<f4"),
    "units.preferred_direction_rad": np.dtype("<f4"),
}


class SessionFileError(ValueError):
    """A session file (or what is about to become one) is not what docs/session-format.md says."""


@dataclass
class Session:
    session_id: str
    tick_rate: int                  # ticks per second (30000)
    unit_ids: np.ndarray            # uint32 [U], rig unit ids, session unit order
    unit_words: list                # [U] vocabulary word of each unit, same order
    spike_unit_ids: np.ndarray      # uint32 [N], rig unit id of each spike
    spike_ticks: np.ndarray         # int64 [N], nondecreasing
    cursor_ticks: np.ndarray        # int64 [T], strictly increasing
    cursor_vel: np.ndarray          # float32 [T, 2], cm/s
    splits: dict                    # name -> (start_tick, end_tick), half-open
    description: dict = field(default_factory=dict)   # the whole metadata JSON
    extra: dict = field(default_factory=dict)         # optional tensors

    # ---- derived ----
    @property
    def spike_unit_index(self) -> np.ndarray:
        """Session unit index (position in unit_ids) of each spike."""
        order = np.argsort(self.unit_ids, kind="stable")
        pos = np.searchsorted(self.unit_ids[order], self.spike_unit_ids)
        return order[pos].astype(np.int64)

    def seconds(self, ticks) -> np.ndarray:
        return np.asarray(ticks, dtype=np.int64) / float(self.tick_rate)

    def split_mask(self, name: str, ticks) -> np.ndarray:
        start, end = self.splits[name]
        ticks = np.asarray(ticks)
        return (ticks >= start) & (ticks < end)


# --------------------------------------------------------------------------------------
# read / write
# --------------------------------------------------------------------------------------

def validate(s: Session) -> None:
    """Raise SessionFileError unless the session is consistent (sorted, known units, splits)."""
    if s.tick_rate <= 0:
        raise SessionFileError(f"tick_rate: {s.tick_rate} must be positive")
    for name, (dtype, ndim) in TENSORS.items():
        a = {"units.id": s.unit_ids, "spikes.unit_id": s.spike_unit_ids, "spikes.tick": s.spike_ticks,
             "cursor.tick": s.cursor_ticks, "cursor.vel": s.cursor_vel}[name]
        if a.dtype != dtype or a.ndim != ndim:
            raise SessionFileError(f"{name}: dtype {a.dtype} / {a.ndim} dims, expected {dtype} / {ndim}")
    U = len(s.unit_ids)
    if U == 0 or len(np.unique(s.unit_ids)) != U:
        raise SessionFileError("units.id: must be non-empty and unique")
    if len(s.unit_words) != U or len(set(s.unit_words)) != U or "NA" in s.unit_words:
        raise SessionFileError("unit_words: one unique word per unit (and never 'NA')")
    if s.spike_unit_ids.shape != s.spike_ticks.shape:
        raise SessionFileError("spikes.unit_id and spikes.tick differ in length")
    if s.spike_ticks.size and (np.any(np.diff(s.spike_ticks) < 0) or s.spike_ticks[0] < 0):
        raise SessionFileError("spikes.tick: must be nondecreasing and >= 0")
    if not np.isin(s.spike_unit_ids, s.unit_ids).all():
        raise SessionFileError("spikes.unit_id: a spike of a unit that is not in units.id")
    if s.cursor_vel.shape != (len(s.cursor_ticks), 2):
        raise SessionFileError(f"cursor.vel: shape {list(s.cursor_vel.shape)}, expected [{len(s.cursor_ticks)}, 2]")
    if np.any(np.diff(s.cursor_ticks) <= 0):
        raise SessionFileError("cursor.tick: must be strictly increasing")
    if set(s.splits) != set(SPLITS):
        raise SessionFileError(f"splits: expected exactly {SPLITS}")
    bounds = [s.splits[k] for k in SPLITS]
    for (a, b), k in zip(bounds, SPLITS):
        if not 0 <= a < b:
            raise SessionFileError(f"splits.{k}: [{a}, {b}) is empty or negative")
    if any(bounds[i][1] != bounds[i + 1][0] for i in range(len(bounds) - 1)):
        raise SessionFileError("splits: train, valid, test must be adjacent, in that order")
    for name, a in s.extra.items():
        if a.shape != (U,):
            raise SessionFileError(f"{name}: shape {list(a.shape)}, expected [{U}]")


def write_session(path, s: Session, generator: dict | None = None) -> None:
    from safetensors.numpy import save_file
    validate(s)
    description = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "session_id": s.session_id,
        "tick_rate": int(s.tick_rate),
        "unit_words": list(s.unit_words),
        "splits": {k: [int(s.splits[k][0]), int(s.splits[k][1])] for k in SPLITS},
        "cursor": {"rate_hz": float(s.description.get("cursor", {}).get("rate_hz", 100.0)), "unit": "cm/s",
                   "readout": "cursor_velocity_2d"},
        "duration_ticks": int(s.description.get("duration_ticks", max(s.splits["test"][1], 0))),
    }
    if generator is not None:
        description["generator"] = generator
    tensors = {"units.id": s.unit_ids, "spikes.unit_id": s.spike_unit_ids, "spikes.tick": s.spike_ticks,
               "cursor.tick": s.cursor_ticks, "cursor.vel": s.cursor_vel}
    for name, a in s.extra.items():
        tensors[name] = np.ascontiguousarray(a, dtype=OPTIONAL_TENSORS[name])
    tmp = Path(str(path) + ".tmp")
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(tmp),
              metadata={METADATA_KEY: json.dumps(description)})
    tmp.replace(path)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)  # the safetensors package creates files 0600
    s.description = description


def read_session(path) -> Session:
    from safetensors import safe_open
    with safe_open(str(path), framework="numpy") as f:
        metadata = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    if METADATA_KEY not in metadata:
        raise SessionFileError(f"{path}: no __metadata__[{METADATA_KEY!r}]")
    d = json.loads(metadata[METADATA_KEY])
    if d.get("format") != FORMAT or d.get("format_version") != FORMAT_VERSION:
        raise SessionFileError(f"{path}: not a {FORMAT} version {FORMAT_VERSION} file")
    missing = [k for k in TENSORS if k not in tensors]
    unknown = [k for k in tensors if k not in TENSORS and k not in OPTIONAL_TENSORS]
    if missing or unknown:
        raise SessionFileError(f"{path}: missing tensors {missing}, unknown tensors {unknown}")
    s = Session(session_id=d["session_id"], tick_rate=int(d["tick_rate"]), unit_ids=tensors["units.id"],
                unit_words=list(d["unit_words"]), spike_unit_ids=tensors["spikes.unit_id"],
                spike_ticks=tensors["spikes.tick"], cursor_ticks=tensors["cursor.tick"],
                cursor_vel=tensors["cursor.vel"], splits={k: tuple(v) for k, v in d["splits"].items()},
                description=d, extra={k: v for k, v in tensors.items() if k in OPTIONAL_TENSORS})
    validate(s)
    return s


# --------------------------------------------------------------------------------------
# windows, as the daemon builds them
# --------------------------------------------------------------------------------------

def window_ticks(s: Session, end_tick: int, sequence_length: float) -> tuple[int, int]:
    """[start_tick, end_tick) of the window that ends at end_tick (sequence_length seconds)."""
    length = int(round(sequence_length * s.tick_rate))
    if abs(length - sequence_length * s.tick_rate) > 1e-6:
        raise ValueError(f"sequence_length {sequence_length} s is not a whole number of ticks")
    return int(end_tick) - length, int(end_tick)


def window_spikes(s: Session, start_tick: int, end_tick: int, unit_index=None):
    """Spikes with start_tick <= tick < end_tick -> (session unit index, seconds from the window start).

    The relative time is computed from integers: (tick - start_tick) / tick_rate in float64."""
    lo, hi = np.searchsorted(s.spike_ticks, [start_tick, end_tick], side="left")
    unit_index = s.spike_unit_index if unit_index is None else unit_index
    return unit_index[lo:hi], (s.spike_ticks[lo:hi] - start_tick) / float(s.tick_rate)


def unit_rows(s: Session, unit_vocab: dict) -> np.ndarray:
    """unit_emb row of every session unit (session order), via the unit's vocabulary word."""
    missing = [w for w in s.unit_words if w not in unit_vocab]
    if missing:
        raise SessionFileError(f"the model's unit vocabulary lacks {missing[0]} (and {len(missing) - 1} more)")
    return np.array([unit_vocab[w] for w in s.unit_words], dtype=np.int64)


def make_inputs(s: Session, description: dict, end_tick: int, output_timestamps=None, *,
                unit_index=None, rows=None) -> dict:
    """The unbatched forward() inputs of the window [end_tick - sequence_length, end_tick): start/end
    tokens of every session unit (session order), then the window's spikes in file order, latents on
    the linspace grid, and queries at `output_timestamps` (seconds from the window start; default one
    query at the window end, t = sequence_length)."""
    hp = description["hyperparameters"]
    seq = float(hp["sequence_length"])
    start, end = window_ticks(s, end_tick, seq)
    unit, t = window_spikes(s, start, end, unit_index)
    rows = unit_rows(s, description["unit_vocab"]) if rows is None else rows
    if output_timestamps is None:
        output_timestamps = [seq]
    return pw.make_window(rows, unit, t, sequence_length=seq, latent_step=float(hp["latent_step"]),
                          num_latents_per_step=int(hp["num_latents_per_step"]),
                          session_row=description["session_vocab"][s.session_id],
                          output_timestamps=output_timestamps)
