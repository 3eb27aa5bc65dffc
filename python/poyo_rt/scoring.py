"""Scores of a replay: accuracy of the decoded behaviour, latency of each stage, FALCON's
normalized latency."""

from __future__ import annotations

import numpy as np

from .wire import Output

#: Stages of a tick, from its output's stage timestamps (daemon CLOCK_MONOTONIC, nanoseconds).
STAGES = {
    "window": ("received", "window_built", "watermark received -> window assembled"),
    "forward": ("window_built", "forward_done", "the model's forward pass"),
    "publish": ("forward_done", "published", "values normalized and published"),
    "daemon": ("received", "published", "watermark received -> output published (the daemon's share)"),
}


def r_squared(truth: np.ndarray, decoded: np.ndarray) -> np.ndarray:
    """Coefficient of determination per column, 1 - SS_res / SS_tot.

    Parameters
    ----------
    truth, decoded : ndarray, shape (K, D)

    Returns
    -------
    ndarray of float64, shape (D,)
    """
    truth = np.asarray(truth, dtype=np.float64)
    decoded = np.asarray(decoded, dtype=np.float64)
    residual = ((truth - decoded) ** 2).sum(axis=0)
    total = ((truth - truth.mean(axis=0)) ** 2).sum(axis=0)
    return 1.0 - residual / total


def accuracy(labels: np.ndarray, logits: np.ndarray) -> float:
    """Fraction of rows whose largest logit is the label (multinomial readouts)."""
    return float(np.mean(np.argmax(logits, axis=1) == np.asarray(labels).reshape(-1).astype(np.int64)))


def percentiles(values: np.ndarray) -> dict:
    """p50, p90, p99, max and mean of ``values`` (empty -> NaN)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return {k: float("nan") for k in ("p50", "p90", "p99", "max", "mean")}
    return {"p50": float(np.percentile(v, 50)), "p90": float(np.percentile(v, 90)),
            "p99": float(np.percentile(v, 99)), "max": float(v.max()), "mean": float(v.mean())}


def stage_latencies_ms(outputs: list, arrivals_ns: list) -> dict:
    """Milliseconds per stage per tick (one entry per tick, the first readout's output).

    ``end_to_end`` is from the daemon receiving the completing watermark to the output arriving
    here; it needs this process on the daemon's host (same CLOCK_MONOTONIC).
    """
    first: dict = {}
    for output, arrived in zip(outputs, arrivals_ns):
        first.setdefault(output.window_end, (output, arrived))
    ordered = [first[t] for t in sorted(first)]
    result = {name: np.array([(getattr(o.stages, b) - getattr(o.stages, a)) / 1e6 for o, _ in ordered])
              for name, (a, b, _) in STAGES.items()}
    result["end_to_end"] = np.array([(arrived - o.stages.received) / 1e6 for o, arrived in ordered])
    return result


def falcon_normalized_latency(outputs: list, neural_seconds: float) -> float:
    """FALCON's normalized latency: total decoding time / total neural-data time.

    Decoding time is the daemon's time per tick from the completing watermark's receipt to the
    output's publication (window assembly + forward pass + publication), summed over ticks.
    """
    seen, total_ns = set(), 0
    for o in outputs:
        if o.window_end not in seen:
            seen.add(o.window_end)
            total_ns += o.stages.published - o.stages.received
    return total_ns / 1e9 / neural_seconds if neural_seconds > 0 else float("nan")


def readout_series(outputs: list, readout: str) -> tuple[np.ndarray, np.ndarray]:
    """All outputs of ``readout`` flattened: times (ticks, int64 (K,)) and values (float32 (K, D))."""
    chosen = [o for o in outputs if isinstance(o, Output) and o.readout == readout]
    if not chosen:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
    order = np.argsort([o.window_end for o in chosen], kind="stable")
    chosen = [chosen[i] for i in order]
    return np.concatenate([o.timestamps for o in chosen]), np.concatenate([o.values for o in chosen])
