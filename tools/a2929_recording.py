"""The A2929-200711 recording (demo/a2929/A2929-200711.nwb) as poyo-rt sees it: read with pynwb,
turned into an in-memory `session_file.Session` (rig ticks, unit vocabulary words, split), plus the
decoding target (head direction as cos/sin) and the daemon's tick grid. numpy + pynwb, no torch:
used by tools/train_a2929_model.py and tools/tests/test_a2929_model.py.

Conventions (docs/a2929.md):
- session word `pynapple/A2929-200711`; unit words `pynapple/A2929-200711/unit_<id>` with `<id>` the
  NWB units-table id (0..14); rig unit N is NWB unit N; session unit order = units-table order.
- rig ticks: tick = round(t * 20000) for a time t in seconds on the NWB clock. The spike times
  are samples of the 20 kHz acquisition (every one is within 0.02 tick of an integer at 20000
  ticks/s), so this is exact; at 30000 ticks/s half of them would fall on half ticks.
- target: head direction `acquisition/CompassDirection/ry` (radians, [0, 2 pi), 120 Hz,
  670.64-1199.99 s) as (cos ry, sin ry); at an arbitrary tick it is the linear interpolation of
  cos and sin between the neighbouring samples (never of the raw angle, which wraps).
- split (seconds, half-open, window end T decides): train [671, 1010), valid [1010, 1080),
  test [1080, 1200). A part's windows lie inside it: T in [start + sequence_length, end).
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
from poyo_rt import session_file as sf  # noqa: E402

ROOT = TOOLS.parent
A2929 = ROOT / "demo" / "a2929"
NWB = A2929 / "A2929-200711.nwb"
SESSION_WORD = "pynapple/A2929-200711"
UNIT_PREFIX = SESSION_WORD + "/unit_"
TICK_RATE = 20_000
BEHAVIOUR = "acquisition/CompassDirection/ry"
SPLITS_S = {"train": (671.0, 1010.0), "valid": (1010.0, 1080.0), "test": (1080.0, 1200.0)}
HOP_S = 0.02


@dataclass
class Recording:
    unit_ids: np.ndarray        # int64 [U], NWB units-table ids, table order
    locations: list             # [U] 'adn' / 'ca1'
    spike_times: list           # [U] float64 arrays, seconds
    ry_timestamps: np.ndarray   # float64 [T], seconds
    ry: np.ndarray              # float64 [T], radians


def read_nwb(path=NWB) -> Recording:
    """Units (ids, spike times, location) and head direction `ry` from the NWB file, with pynwb."""
    from pynwb import NWBHDF5IO
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pynwb warns about the file's old schema / cached spec
        with NWBHDF5IO(str(path), "r", load_namespaces=True) as io:
            f = io.read()
            units = f.units
            ids = np.asarray(units.id[:], dtype=np.int64)
            spikes = [np.asarray(units["spike_times"][i], dtype=np.float64) for i in range(len(ids))]
            locations = [str(x) for x in units["location"][:]] if "location" in units.colnames else [""] * len(ids)
            series = f.acquisition["CompassDirection"].spatial_series["ry"]
            if series.unit not in ("radian", "radians"):
                raise ValueError(f"{BEHAVIOUR}: unit {series.unit!r}, expected radians")
            ry = np.asarray(series.data[:], dtype=np.float64) * float(series.conversion)
            ry_t = np.asarray(series.timestamps[:], dtype=np.float64)
    return Recording(unit_ids=ids, locations=locations, spike_times=spikes, ry_timestamps=ry_t, ry=ry)


def to_ticks(seconds) -> np.ndarray:
    return np.rint(np.asarray(seconds, dtype=np.float64) * TICK_RATE).astype(np.int64)


def to_session(rec: Recording, splits_s: dict = SPLITS_S) -> sf.Session:
    """The recording as a poyo-rt Session (in memory): rig ids = NWB ids, ticks at 20 kHz, spikes
    sorted by tick with ties in session unit order, and `cursor_*` holding the target (cos ry, sin ry)."""
    ticks = [to_ticks(t) for t in rec.spike_times]
    for t, ts in zip(rec.spike_times, ticks):
        if ts.size and np.abs(t * TICK_RATE - ts).max() > 0.1:
            raise ValueError("spike times are not on the 20 kHz sample grid")
    index = np.concatenate([np.full(len(t), i, np.int64) for i, t in enumerate(ticks)])
    ticks = np.concatenate(ticks)
    order = np.lexsort((index, ticks))
    unit_ids = rec.unit_ids.astype(np.uint32)
    target = np.stack([np.cos(rec.ry), np.sin(rec.ry)], axis=1)
    s = sf.Session(
        session_id=SESSION_WORD, tick_rate=TICK_RATE, unit_ids=unit_ids,
        unit_words=[f"{UNIT_PREFIX}{u}" for u in rec.unit_ids],
        spike_unit_ids=unit_ids[index[order]], spike_ticks=ticks[order],
        cursor_ticks=to_ticks(rec.ry_timestamps), cursor_vel=target.astype(np.float32),
        splits={k: (int(to_ticks(a)), int(to_ticks(b))) for k, (a, b) in splits_s.items()},
        description={"cursor": {"rate_hz": 120.0, "unit": "cos/sin of head direction"}})
    sf.validate(s)
    return s


def target_at(session: sf.Session, ticks, recording: Recording | None = None) -> np.ndarray:
    """(cos ry, sin ry) at arbitrary ticks [n] -> float64 [n, 2]: cos and sin linearly interpolated
    (from the float64 angle when `recording` is given, else from the session's float32 copy)."""
    x = session.cursor_ticks.astype(np.float64)
    if recording is not None:
        c, s = np.cos(recording.ry), np.sin(recording.ry)
    else:
        c, s = session.cursor_vel[:, 0].astype(np.float64), session.cursor_vel[:, 1].astype(np.float64)
    t = np.asarray(ticks, dtype=np.float64)
    if t.size and (t.min() < x[0] or t.max() > x[-1]):
        raise ValueError("target asked outside the tracked interval")
    return np.stack([np.interp(t, x, c), np.interp(t, x, s)], axis=1)


def tick_grid(session: sf.Session, part: str, sequence_length: float, hop_s: float = HOP_S) -> np.ndarray:
    """Window end ticks T of a part, as the daemon ticks: multiples of hop on the source clock, whole
    window inside the part (T - sequence_length >= start, T < end), target defined (T <= last sample)."""
    a, b = session.splits[part]
    hop = int(round(hop_s * session.tick_rate))
    L = int(round(sequence_length * session.tick_rate))
    first = -(-(a + L) // hop) * hop
    T = np.arange(first, b, hop, dtype=np.int64)
    return T[T <= session.cursor_ticks[-1]]


def binned_counts(session: sf.Session, ends: np.ndarray, bin_ticks: int, n_bins: int) -> np.ndarray:
    """Spike counts [n, U * n_bins]: for window end T, unit u and lag k, the spikes of u with
    T - (k + 1) * bin <= tick < T - k * bin (the daemon's half-open window convention)."""
    U = len(session.unit_ids)
    idx = session.spike_unit_index
    out = np.zeros((len(ends), U, n_bins), np.float64)
    edges = ends[:, None] - np.arange(n_bins + 1, dtype=np.int64)[None, :] * bin_ticks  # [n, K+1], descending
    for u in range(U):
        t = session.spike_ticks[idx == u]
        c = np.searchsorted(t, edges, side="left")  # spikes < edge
        out[:, u, :] = c[:, :-1] - c[:, 1:]
    return out.reshape(len(ends), U * n_bins)
