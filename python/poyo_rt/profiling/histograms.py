"""Latency histograms per stage: HdrHistograms (the ``hdrhistogram`` package), kept in
nanoseconds, so that percentiles up to p99.99 and the maximum are exact to 3 significant digits
and two runs can be merged (``add``) or compared from their JSON (the histograms' own base64
encoding)."""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
from hdrh.histogram import HdrHistogram

#: Lowest and highest trackable values, nanoseconds (1 ns to 1 hour), and significant digits.
LOWEST_NS, HIGHEST_NS, DIGITS = 1, 3_600_000_000_000, 3

#: Percentiles reported everywhere (the table, the JSON, the comparison).
PERCENTILES = (50.0, 90.0, 99.0, 99.9, 99.99)


def new() -> HdrHistogram:
    """An empty histogram of nanoseconds (1 ns to 1 h, 3 significant digits)."""
    return HdrHistogram(LOWEST_NS, HIGHEST_NS, DIGITS)


def of(values_ns: Iterable[int]) -> HdrHistogram:
    """A histogram of ``values_ns`` (int nanoseconds; values below 1 ns count as 1 ns)."""
    h = new()
    for v in np.asarray(list(values_ns) if not isinstance(values_ns, np.ndarray) else values_ns, dtype=np.int64):
        h.record_value(int(min(max(v, LOWEST_NS), HIGHEST_NS)))
    return h


def summary_ms(h: HdrHistogram) -> dict:
    """Count, p50 ... p99.99, max, min and mean of a nanosecond histogram, in milliseconds
    (None when empty)."""
    n = h.get_total_count()
    if n == 0:
        return {"n": 0, **{_key(p): None for p in PERCENTILES}, "max": None, "min": None, "mean": None}
    return {"n": int(n), **{_key(p): h.get_value_at_percentile(p) / 1e6 for p in PERCENTILES},
            "max": h.get_max_value() / 1e6, "min": h.get_min_value() / 1e6, "mean": h.get_mean_value() / 1e6}


def _key(p: float) -> str:
    return "p" + f"{p:g}".replace(".", "_")


def encode(h: HdrHistogram) -> str:
    """The histogram in HdrHistogram's compressed base64 form (readable by every HdrHistogram port)."""
    return h.encode().decode("ascii")


def decode(text: str) -> HdrHistogram:
    """The inverse of ``encode``."""
    return HdrHistogram.decode(text.encode("ascii"))


def merged(encoded: Iterable[str]) -> HdrHistogram:
    """One histogram holding every value of several encoded ones (runs or sweep points)."""
    total = new()
    for text in encoded:
        total.add(decode(text))
    return total


def buckets_ms(h: HdrHistogram, per_decade: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Counts on logarithmic bins, for a log-axis plot.

    Returns
    -------
    edges_ms : ndarray of float64, shape (B + 1,)
        Bin edges in milliseconds, ``per_decade`` per factor of 10, covering min to max.
    counts : ndarray of int64, shape (B,)
    """
    if h.get_total_count() == 0:
        return np.array([0.01, 1.0]), np.zeros(1, dtype=np.int64)
    lo = np.log10(max(h.get_min_value(), 1) / 1e6)
    hi = np.log10(max(h.get_max_value(), 1) / 1e6)
    first, last = np.floor(lo * per_decade) / per_decade, np.ceil(hi * per_decade + 1e-9) / per_decade
    edges = 10 ** np.arange(first, last + 0.5 / per_decade, 1 / per_decade)
    if len(edges) < 2:
        edges = np.array([edges[0], edges[0] * 10 ** (1 / per_decade)])
    counts = np.zeros(len(edges) - 1, dtype=np.int64)
    for item in h.get_recorded_iterator():
        value_ms = h.get_highest_equivalent_value(item.value_iterated_to) / 1e6
        index = min(max(int(np.searchsorted(edges, value_ms, side="right")) - 1, 0), len(counts) - 1)
        counts[index] += item.count_at_value_iterated_to
    return edges, counts


def table(histograms: Mapping[str, HdrHistogram]) -> dict:
    """``{stage: summary_ms(h)}`` for several stages."""
    return {name: summary_ms(h) for name, h in histograms.items()}
