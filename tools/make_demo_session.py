#!/usr/bin/env python3
"""Generate the bundled synthetic demo session demo/session.safetensors (docs/session-format.md).

    .venv/bin/python tools/make_demo_session.py [--out demo/session.safetensors] [--seed 2026]

numpy (+ the safetensors package) only; deterministic for a given seed.

The task: a 2D random-target cursor task. The cursor rests on a target for 0.2-0.6 s, then makes
a minimum-jerk reach (duration 0.35 s + distance / 25 cm/s, so peaks of 15-35 cm/s) to a new
target drawn uniformly in a disk of radius 12 cm (at least 4 cm away); a little smooth velocity
noise (~1 cm/s) is added. Cursor velocity is sampled at 100 Hz.

The neurons: 64 units with rig ids that are distinct channel numbers from 1..192 (not 0..63).
Rate of unit i at time t: max(0, b_i + g_i * v(t + 100 ms) . u_i) (cosine tuning to velocity,
neural activity leading movement by 100 ms), b_i in 5..20 Hz (skewed low), u_i a preferred
direction uniform on the circle, g_i such that a 25 cm/s movement modulates the rate by m_i * b_i
with m_i in 0.4..1.0 for 70 % of units, 0.05..0.2 for 15 % (weakly tuned) and 0 for the rest
(untuned). Spikes are drawn from the inhomogeneous Poisson process by time rescaling, then a 2 ms
absolute refractory period is imposed; spike times are integer sample indices at 30 kHz.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from poyo_rt import session_file as sf  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "demo" / "session.safetensors"

TICK_RATE = 30_000
DURATION_S = 300            # 5 minutes (keeps the file under 3 MB at realistic rates)
SPLIT_S = {"train": (0, 200), "valid": (200, 240), "test": (240, 300)}
CURSOR_HZ = 100
SIM_HZ = 1000               # rate / kinematics grid
NUM_UNITS = 64
LAG_S = 0.100               # neural activity leads velocity
REFRACTORY_S = 0.002
SESSION_ID = "demo/random_target"


def min_jerk_profile(s):
    """Normalized minimum-jerk speed profile d/ds of 10 s^3 - 15 s^4 + 6 s^5."""
    return 30 * s**2 - 60 * s**3 + 30 * s**4


def cursor_velocity(rng, duration_s: float, hz: int) -> np.ndarray:
    """Velocity [n, 2] in cm/s on a grid of `hz`, random-target reaches with holds."""
    n = int(round(duration_s * hz)) + int(hz)  # one extra second for the lag
    vel = np.zeros((n, 2))
    pos = np.zeros(2)
    i = 0
    while i < n:
        i += int(rng.uniform(0.2, 0.6) * hz)           # hold
        while True:
            r, a = 12 * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
            target = np.array([r * np.cos(a), r * np.sin(a)])
            if np.linalg.norm(target - pos) >= 4:
                break
        d = target - pos
        dist = np.linalg.norm(d)
        T = 0.35 + dist / 25.0
        m = int(round(T * hz))
        s = (np.arange(m) + 0.5) / m
        seg = (dist / T) * min_jerk_profile(s)[:, None] * (d / dist)[None, :]
        j = min(m, n - i)
        if j <= 0:
            break
        vel[i:i + j] = seg[:j]
        pos = target
        i += m
    # smooth noise: white noise low-passed by a 50 ms Gaussian, ~1 cm/s rms
    k = np.arange(-150, 151) / hz
    kernel = np.exp(-0.5 * (k / 0.05) ** 2)
    kernel /= np.sqrt((kernel**2).sum())
    noise = np.stack([np.convolve(rng.standard_normal(n), kernel, mode="same") for _ in range(2)], axis=1)
    return vel + 1.0 * noise


def make_units(rng):
    ids = np.sort(rng.choice(np.arange(1, 193), size=NUM_UNITS, replace=False)).astype(np.uint32)
    baseline = 5 + 15 * rng.uniform(size=NUM_UNITS) ** 2
    kind = rng.permutation(np.repeat([0, 1, 2], [45, 10, 9]))  # tuned, weak, untuned
    depth = np.where(kind == 0, rng.uniform(0.4, 1.0, NUM_UNITS),
                     np.where(kind == 1, rng.uniform(0.05, 0.2, NUM_UNITS), 0.0))
    gain = depth * baseline / 25.0
    pd = rng.uniform(0, 2 * np.pi, NUM_UNITS)
    return ids, baseline, gain, pd


def draw_spikes(rng, rate, dt):
    """Inhomogeneous Poisson by time rescaling on a piecewise-constant rate -> times (s)."""
    cum = np.concatenate([[0.0], np.cumsum(rate * dt)])
    total = cum[-1]
    u = np.sort(rng.uniform(0, total, rng.poisson(total)))
    k = np.searchsorted(cum, u, side="right") - 1
    k = np.clip(k, 0, len(rate) - 1)
    frac = (u - cum[k]) / np.maximum(rate[k] * dt, 1e-300)
    return (k + frac) * dt


def apply_refractory(t, refractory):
    keep = np.ones(len(t), dtype=bool)
    last = -np.inf
    for i, x in enumerate(t):
        if x - last < refractory:
            keep[i] = False
        else:
            last = x
    return t[keep]


def generate(seed: int) -> tuple[sf.Session, dict]:
    rng = np.random.default_rng(seed)
    vel_sim = cursor_velocity(rng, DURATION_S, SIM_HZ)          # [n_sim + lag, 2]
    ids, baseline, gain, pd = make_units(rng)
    n_sim = DURATION_S * SIM_HZ
    lag = int(round(LAG_S * SIM_HZ))
    v_lead = vel_sim[lag:lag + n_sim]                             # v(t + lag)
    dirs = np.stack([np.cos(pd), np.sin(pd)], axis=1)
    rates = np.maximum(0.0, baseline[None, :] + gain[None, :] * (v_lead @ dirs.T))  # [n_sim, U]

    spike_ticks, spike_units = [], []
    for u in range(NUM_UNITS):
        t = apply_refractory(draw_spikes(rng, rates[:, u], 1.0 / SIM_HZ), REFRACTORY_S)
        ticks = np.floor(t * TICK_RATE).astype(np.int64)
        ticks = ticks[ticks < DURATION_S * TICK_RATE]
        spike_ticks.append(ticks)
        spike_units.append(np.full(len(ticks), u))
    ticks = np.concatenate(spike_ticks)
    units = np.concatenate(spike_units)
    order = np.lexsort((units, ticks))                             # by tick, ties in session unit order

    step = SIM_HZ // CURSOR_HZ
    n_cursor = DURATION_S * CURSOR_HZ
    cursor_ticks = np.arange(n_cursor, dtype=np.int64) * (TICK_RATE // CURSOR_HZ)
    cursor_vel = vel_sim[: n_sim: step][:n_cursor].astype(np.float32)

    session = sf.Session(
        session_id=SESSION_ID, tick_rate=TICK_RATE, unit_ids=ids,
        unit_words=[f"{SESSION_ID}/unit_{i}" for i in ids],
        spike_unit_ids=ids[units[order]], spike_ticks=ticks[order],
        cursor_ticks=cursor_ticks, cursor_vel=cursor_vel,
        splits={k: (a * TICK_RATE, b * TICK_RATE) for k, (a, b) in SPLIT_S.items()},
        description={"cursor": {"rate_hz": CURSOR_HZ}, "duration_ticks": DURATION_S * TICK_RATE},
        extra={"units.baseline_hz": baseline.astype(np.float32),
               "units.gain_hz_per_cm_s": gain.astype(np.float32),
               "units.preferred_direction_rad": pd.astype(np.float32)},
    )
    generator = {"tool": "tools/make_demo_session.py", "seed": seed, "lag_s": LAG_S,
                 "refractory_s": REFRACTORY_S, "model": "rate = max(0, baseline + gain * v(t + lag) . u_pd)"}
    return session, generator


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--seed", type=int, default=2026)
    args = p.parse_args(argv)
    session, generator = generate(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sf.write_session(args.out, session, generator)
    s = sf.read_session(args.out)
    speed = np.linalg.norm(s.cursor_vel, axis=1)
    rates = np.bincount(s.spike_unit_index, minlength=len(s.unit_ids)) / (DURATION_S)
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.2f} MB, {len(s.unit_ids)} units, "
          f"{len(s.spike_ticks)} spikes ({rates.mean():.1f} Hz mean, {rates.min():.1f}-{rates.max():.1f}), "
          f"{len(s.cursor_ticks)} cursor samples, speed p50 {np.median(speed):.1f} / p99 "
          f"{np.percentile(speed, 99):.1f} / max {speed.max():.1f} cm/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
