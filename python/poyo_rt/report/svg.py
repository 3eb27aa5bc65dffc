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

    def x_grid(self) -> list:
        """The x axis' grid lines and tick labels."""
        parts = []
        for t in nice_ticks(*self.x_range, count=10):
            px = float(self.x(t))
            parts.append(f'<line x1="{px:.1f}" y1="{self.top}" x2="{px:.1f}" y2="{self.top + self.plot_h}" stroke="#eee"/>')
            parts.append(f'<text x="{px:.1f}" y="{self.top + self.plot_h + 15}" text-anchor="middle">{_label(t)}</text>')
        return parts

    def axes(self, title: str, x_label: str, y_label: str) -> list:
        parts = [f'<rect x="{self.left}" y="{self.top}" width="{self.plot_w}" height="{self.plot_h}" fill="#fff" stroke="#999"/>']
        parts += self.x_grid()
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
              max_points: int = 4000, log_x: bool = False) -> str:
    """Lines through points (a time series when x is time).

    Parameters
    ----------
    series : sequence of dict
        Each ``{"x": array (n,), "y": array (n,), "label": str}`` with optional ``"color"``,
        ``"dashed": bool`` and ``"points": bool`` (a dot at every point); NaN in ``y`` breaks the
        line, and a point alone between breaks is drawn as a dot.
    hlines : sequence of dict
        Horizontal reference lines ``{"y": float, "label": str, "color": str}`` (a budget).
    y_range : (float, float), optional
        Default: the data's range (and the reference lines'), padded 5 %.
    max_points : int
        Longer series are thinned to about this many points (every k-th).
    log_x : bool
        A logarithmic x axis (x > 0).
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
    if log_x:
        frame = _LogXFrame(width, height, (float(all_x.min()) / 1.1, float(all_x.max()) * 1.1), y_range)
    else:
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
            if len(run) == 1 or s.get("points"):  # a lone point between gaps would draw nothing
                for point in run:
                    cx, cy = point.split(",")
                    parts.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{color}"/>')
            if len(run) > 1:
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


class _LogXFrame(_Frame):
    """A frame whose x axis is log10 of the data (ticks at 1, 2, 5 times powers of ten)."""

    def __init__(self, width: int, height: int, x_range: tuple, y_range: tuple):
        lo, hi = (math.log10(max(v, 1e-12)) for v in x_range)
        super().__init__(width, height, (lo, hi), y_range)

    def x(self, v):
        return super().x(np.log10(np.maximum(np.asarray(v, dtype=np.float64), 1e-12)))

    def x_grid(self) -> list:
        """Decades and their 2 and 5 multiples, the decades' lines darker."""
        parts = []
        lo, hi = self.x_range
        for decade in range(math.floor(lo), math.ceil(hi) + 1):
            for m in (1, 2, 5):
                value = m * 10.0 ** decade
                if not lo - 1e-9 <= math.log10(value) <= hi + 1e-9:
                    continue
                px = float(self.x(value))
                parts.append(f'<line x1="{px:.1f}" y1="{self.top}" x2="{px:.1f}" y2="{self.top + self.plot_h}" stroke="{"#ddd" if m == 1 else "#f2f2f2"}"/>')
                parts.append(f'<text x="{px:.1f}" y="{self.top + self.plot_h + 15}" text-anchor="middle">{_label(value)}</text>')
        return parts


def log_histograms(series: Sequence[dict], *, title: str = "", x_label: str = "milliseconds (log scale)",
                   y_label: str = "ticks", width: int = 1000, height: int = 280, vlines: Sequence[dict] = ()) -> str:
    """Histograms on a logarithmic x axis, drawn as step outlines so that several overlay.

    Parameters
    ----------
    series : sequence of dict
        Each ``{"edges": array (B + 1,), "counts": array (B,), "label": str}`` with optional
        ``"color"`` and ``"dashed"``; edges > 0 (e.g. milliseconds on log bins); counts may be
        fractions.
    vlines : sequence of dict
        Vertical reference lines ``{"x", "label", "color"}`` (a budget).
    """
    edges = [np.asarray(s["edges"], dtype=np.float64) for s in series if len(s["counts"])]
    lo = min([float(e[0]) for e in edges] + [v["x"] for v in vlines] or [0.01])
    hi = max([float(e[-1]) for e in edges] + [v["x"] for v in vlines] or [1.0])
    top = max([float(np.max(s["counts"])) for s in series if len(s["counts"])] or [1.0]) or 1.0
    frame = _LogXFrame(width, height, (lo, hi * 1.05), (0.0, top * 1.08))
    parts = frame.axes(title, x_label, y_label)
    legend = []
    for i, s in enumerate(series):
        color = s.get("color", PALETTE[i % len(PALETTE)])
        e, c = np.asarray(s["edges"], dtype=np.float64), np.asarray(s["counts"], dtype=np.float64)
        if not len(c) or c.sum() == 0:
            continue
        points = [f"{float(frame.x(e[0])):.1f},{float(frame.y(0)):.1f}"]
        for a, b, count in zip(e[:-1], e[1:], c):
            y = float(frame.y(count))
            points += [f"{float(frame.x(a)):.1f},{y:.1f}", f"{float(frame.x(b)):.1f},{y:.1f}"]
        points.append(f"{float(frame.x(e[-1])):.1f},{float(frame.y(0)):.1f}")
        dash = ' stroke-dasharray="5,3"' if s.get("dashed") else ""
        parts.append(f'<polyline fill="{color}" fill-opacity="0.12" stroke="{color}" stroke-width="1.4"{dash} points="{" ".join(points)}"/>')
        legend.append((s.get("label", ""), color, bool(s.get("dashed"))))
    for line in vlines:
        px = float(frame.x(line["x"]))
        c = line.get("color", "#C00")
        parts.append(f'<line x1="{px:.1f}" y1="{frame.top}" x2="{px:.1f}" y2="{frame.top + frame.plot_h}" stroke="{c}" stroke-width="1.5" stroke-dasharray="6,4"/>')
        legend.append((line.get("label", ""), c, True))
    return _svg(width, height, parts + _legend(frame, [e for e in legend if e[0]]))


def stacked_bars(rows: Sequence[dict], *, title: str = "", x_label: str = "milliseconds", width: int = 1000,
                 budget: Optional[float] = None) -> str:
    """Horizontal stacked bars, one per row: ``{"label": str, "parts": [(name, value), ...]}``
    (parts in order, the same names in every row, coloured alike); an optional budget line."""
    height = MARGIN["top"] + MARGIN["bottom"] + 34 * max(1, len(rows)) + 24
    total = max([sum(v for _, v in r["parts"]) for r in rows] + [budget or 0.0, 1e-9])
    left = 150
    plot_w = width - left - MARGIN["right"]
    scale = plot_w / (total * 1.05)
    names = list(dict.fromkeys(name for r in rows for name, _ in r["parts"]))
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    parts = [f'<text x="{left}" y="18" font-weight="bold" font-size="13">{escape(title)}</text>']
    for i, r in enumerate(rows):
        y = MARGIN["top"] + 24 + 34 * i
        x = float(left)
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{escape(r["label"])}</text>')
        for name, value in r["parts"]:
            w = max(value * scale, 0.0)
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="22" fill="{colors[name]}">'
                         f'<title>{escape(name)}: {value:.3f} ms</title></rect>')
            if w > 44:
                parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 15}" text-anchor="middle" fill="#fff">{value:.2f}</text>')
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 15}">{sum(v for _, v in r["parts"]):.2f} ms</text>')
    axis_y = MARGIN["top"] + 24 + 34 * len(rows) + 4
    for t in nice_ticks(0.0, total * 1.05, count=8):
        px = left + t * scale
        parts.append(f'<line x1="{px:.1f}" y1="{MARGIN["top"] + 20}" x2="{px:.1f}" y2="{axis_y}" stroke="#eee"/>'
                     f'<text x="{px:.1f}" y="{axis_y + 14}" text-anchor="middle">{_label(t)}</text>')
    if budget:
        px = left + budget * scale
        parts.append(f'<line x1="{px:.1f}" y1="{MARGIN["top"] + 20}" x2="{px:.1f}" y2="{axis_y}" stroke="#C00" '
                     f'stroke-width="1.5" stroke-dasharray="6,4"/><text x="{px + 4:.1f}" y="{MARGIN["top"] + 16}" fill="#C00">budget {budget:g} ms</text>')
    parts.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 6}" text-anchor="middle">{escape(x_label)}</text>')
    lx = left
    for name in names:  # legend under the title
        parts.append(f'<rect x="{lx}" y="{MARGIN["top"] - 4}" width="12" height="12" fill="{colors[name]}"/>'
                     f'<text x="{lx + 16}" y="{MARGIN["top"] + 6}">{escape(name)}</text>')
        lx += 16 + 7 * len(name) + 18
    return _svg(width, height, parts)


def marks(frame_plot: str, xs: Sequence[float], x_range: tuple, *, label: str, color: str = "#C00",
          width: int = 1000, height: int = 260) -> str:
    """``frame_plot`` (a ``line_plot`` of the same width, height and x range) with a short
    vertical mark at the top edge for each x in ``xs`` (skipped ticks), and a legend entry."""
    if not len(xs):
        return frame_plot
    x0, x1 = x_range
    plot_w = width - MARGIN["left"] - MARGIN["right"]
    span = (x1 - x0) or 1.0
    parts = [f'<line x1="{MARGIN["left"] + (x - x0) / span * plot_w:.1f}" y1="{MARGIN["top"]}" '
             f'x2="{MARGIN["left"] + (x - x0) / span * plot_w:.1f}" y2="{MARGIN["top"] + 14}" stroke="{color}" stroke-width="2"/>'
             for x in xs]
    parts.append(f'<text x="{MARGIN["left"] + 4}" y="{MARGIN["top"] + 26}" fill="{color}">{escape(label)}</text>')
    return frame_plot.replace("</svg>", "".join(parts) + "</svg>")
