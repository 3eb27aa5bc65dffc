"""Plots as inline SVG strings (no plotting library): line plots, time series, histograms.

Every function returns one self-contained ``<svg>`` element sized in CSS pixels, for an HTML page
(``poyo_rt.report.page``). Shared by the replay report and any later report (profile).
"""

from __future__ import annotations

import math
from html import escape
from typing import Optional, Sequence

import numpy as np

#: Colour-blind-safe palette (Okabe-Ito), recorded data first in black.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
RECORDED = "#222222"
MARGIN = {"left": 64, "right": 16, "top": 30, "bottom": 42}


def nice_ticks(low: float, high: float, count: int = 6) -> list:
    """Round tick values covering [low, high] (about ``count`` of them)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    first = math.ceil(low / step) * step
    return [round(first + i * step, 12) for i in range(int((high - first) / step + 1e-9) + 1)]


def _label(value: float) -> str:
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.1e}"


class _Frame:
    """Maps data coordinates to pixels inside the plot area and draws axes and grid."""

    def __init__(self, width: int, height: int, x_range: tuple, y_range: tuple):
        self.width, self.height = width, height
        x0, x1 = x_range
        y0, y1 = y_range
        if x1 <= x0:
            x0, x1 = x0 - 0.5, x1 + 0.5
        if y1 <= y0:
            y0, y1 = y0 - 0.5, y1 + 0.5
        self.x_range, self.y_range = (x0, x1), (y0, y1)
        self.left, self.top = MARGIN["left"], MARGIN["top"]
        self.plot_w = width - MARGIN["left"] - MARGIN["right"]
        self.plot_h = height - MARGIN["top"] - MARGIN["bottom"]

    def x(self, v):
        x0, x1 = self.x_range
        return self.left + (np.asarray(v, dtype=np.float64) - x0) / (x1 - x0) * self.plot_w

    def y(self, v):
        y0, y1 = self.y_range
        return self.top + self.plot_h - (np.asarray(v, dtype=np.float64) - y0) / (y1 - y0) * self.plot_h

    def axes(self, title: str, x_label: str, y_label: str) -> list:
        parts = [f'<rect x="{self.left}" y="{self.top}" width="{self.plot_w}" height="{self.plot_h}" fill="#fff" stroke="#999"/>']
        for t in nice_ticks(*self.x_range, count=10):
            px = float(self.x(t))
            parts.append(f'<line x1="{px:.1f}" y1="{self.top}" x2="{px:.1f}" y2="{self.top + self.plot_h}" stroke="#eee"/>')
            parts.append(f'<text x="{px:.1f}" y="{self.top + self.plot_h + 15}" text-anchor="middle">{_label(t)}</text>')
        for t in nice_ticks(*self.y_range, count=5):
            py = float(self.y(t))
            parts.append(f'<line x1="{self.left}" y1="{py:.1f}" x2="{self.left + self.plot_w}" y2="{py:.1f}" stroke="#eee"/>')
            parts.append(f'<text x="{self.left - 6}" y="{py + 4:.1f}" text-anchor="end">{_label(t)}</text>')
        parts.append(f'<text x="{self.left}" y="18" font-weight="bold" font-size="13">{escape(title)}</text>')
        parts.append(f'<text x="{self.left + self.plot_w / 2:.0f}" y="{self.height - 6}" text-anchor="middle">{escape(x_label)}</text>')
        parts.append(f'<text transform="translate(14,{self.top + self.plot_h / 2:.0f}) rotate(-90)" text-anchor="middle">{escape(y_label)}</text>')
        return parts


def _svg(width: int, height: int, parts: list) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'font-family="sans-serif" font-size="11" role="img">' + "".join(parts) + "</svg>")


def _legend(frame: _Frame, entries: list) -> list:
    parts, x = [], frame.left + frame.plot_w
    for label, color, dashed in reversed(entries):
        width = 7 * len(label) + 30
        x -= width
        dash = ' stroke-dasharray="5,3"' if dashed else ""
        parts.append(f'<line x1="{x:.0f}" y1="14" x2="{x + 20:.0f}" y2="14" stroke="{color}" stroke-width="2"{dash}/>'
                     f'<text x="{x + 24:.0f}" y="18">{escape(label)}</text>')
    return parts


def _thin(x: np.ndarray, y: np.ndarray, limit: int) -> tuple:
    if len(x) <= limit:
        return x, y
    step = math.ceil(len(x) / limit)
    return x[::step], y[::step]


def line_plot(series: Sequence[dict], *, title: str = "", x_label: str = "", y_label: str = "",
              width: int = 1000, height: int = 260, hlines: Sequence[dict] = (), y_range: Optional[tuple] = None,
              max_points: int = 4000) -> str:
    """Lines through points (a time series when x is time).

    Parameters
    ----------
    series : sequence of dict
        Each ``{"x": array (n,), "y": array (n,), "label": str}`` with optional ``"color"`` and
        ``"dashed": bool``; NaN in ``y`` breaks the line.
    hlines : sequence of dict
        Horizontal reference lines ``{"y": float, "label": str, "color": str}`` (a budget).
    y_range : (float, float), optional
        Default: the data's range (and the reference lines'), padded 5 %.
    max_points : int
        Longer series are thinned to about this many points (every k-th).
    """
    xs = [np.asarray(s["x"], dtype=np.float64) for s in series]
    ys = [np.asarray(s["y"], dtype=np.float64) for s in series]
    finite = [v[np.isfinite(v)] for v in ys] + [np.array([h["y"] for h in hlines], dtype=np.float64)]
    finite = np.concatenate([v for v in finite if v.size] or [np.zeros(1)])
    if y_range is None:
        lo, hi = float(finite.min()), float(finite.max())
        pad = 0.05 * (hi - lo or 1.0)
        y_range = (lo - pad, hi + pad)
    all_x = np.concatenate([x for x in xs if x.size] or [np.zeros(1)])
    frame = _Frame(width, height, (float(all_x.min()), float(all_x.max())), y_range)
    parts = frame.axes(title, x_label, y_label)
    legend = []
    for i, (s, x, y) in enumerate(zip(series, xs, ys)):
        color = s.get("color", PALETTE[i % len(PALETTE)])
        x, y = _thin(x, y, max_points)
        px, py = frame.x(x), frame.y(np.clip(y, *frame.y_range))
        runs, current = [], []
        for a, b, ok in zip(px, py, np.isfinite(y)):
            if ok:
                current.append(f"{a:.1f},{b:.1f}")
            elif current:
                runs.append(current)
                current = []
        if current:
            runs.append(current)
        dash = ' stroke-dasharray="5,3"' if s.get("dashed") else ""
        for run in runs:
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="{s.get("width", 1.2)}"{dash} points="{" ".join(run)}"/>')
        legend.append((s.get("label", ""), color, bool(s.get("dashed"))))
    for h in hlines:
        py = float(frame.y(h["y"]))
        color = h.get("color", "#C00")
        parts.append(f'<line x1="{frame.left}" y1="{py:.1f}" x2="{frame.left + frame.plot_w}" y2="{py:.1f}" '
                     f'stroke="{color}" stroke-width="1.5" stroke-dasharray="6,4"/>')
        legend.append((h.get("label", ""), color, True))
    return _svg(width, height, parts + _legend(frame, [e for e in legend if e[0]]))


def histogram(values, *, bins: int = 60, title: str = "", x_label: str = "", y_label: str = "count",
              width: int = 1000, height: int = 240, vlines: Sequence[dict] = (), x_range: Optional[tuple] = None,
              color: str = PALETTE[0]) -> str:
    """A histogram of ``values`` with optional vertical reference lines (``{"x", "label", "color"}``)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if x_range is None:
        lo = float(v.min()) if v.size else 0.0
        hi = float(max([v.max() if v.size else 1.0] + [line["x"] for line in vlines]))
        x_range = (min(lo, 0.0), hi * 1.05 if hi > 0 else 1.0)
    counts, edges = np.histogram(v, bins=bins, range=x_range)
    frame = _Frame(width, height, x_range, (0.0, float(max(counts.max() if counts.size else 1, 1)) * 1.08))
    parts = frame.axes(title, x_label, y_label)
    base = frame.top + frame.plot_h
    for c, a, b in zip(counts, edges[:-1], edges[1:]):
        if c:
            x0, x1, top = float(frame.x(a)), float(frame.x(b)), float(frame.y(c))
            parts.append(f'<rect x="{x0:.1f}" y="{top:.1f}" width="{max(x1 - x0 - 0.5, 0.5):.1f}" height="{base - top:.1f}" fill="{color}"/>')
    legend = []
    for line in vlines:
        px = float(frame.x(line["x"]))
        c = line.get("color", "#C00")
        parts.append(f'<line x1="{px:.1f}" y1="{frame.top}" x2="{px:.1f}" y2="{base}" stroke="{c}" stroke-width="1.5" stroke-dasharray="6,4"/>')
        legend.append((line.get("label", ""), c, True))
    return _svg(width, height, parts + _legend(frame, [e for e in legend if e[0]]))
