"""The replay report: a JSON file, a self-contained HTML page with inline SVG plots, the decoded
values as .npz, and a table on the terminal."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from . import page, svg

ALIGNMENT = ("Each decoded value is compared with the recorded behaviour at the output's timestamp (the tick "
             "time plus its query offset, on the recording's clock): the recorded samples, transformed first "
             "when a target is derived (cos/sin of an angle), are linearly interpolated at that time; class "
             "labels take the last sample at or before it. Outputs outside the recorded span are not scored. "
             "R^2 = 1 - sum (y - y_hat)^2 / sum (y - mean y)^2 per dimension, in physical units.")


def _f(value, digits: int = 3) -> str:
    return "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.{digits}f}"


def write(report: dict, arrays: dict, directory: str) -> dict:
    """Writes ``report.json``, ``report.html`` and ``outputs.npz`` into ``directory``; returns their paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "html": out / "report.html", "npz": out / "outputs.npz"}
    paths["json"].write_text(json.dumps(report, indent=1, allow_nan=False, default=_jsonable) + "\n")
    paths["html"].write_text(html(report, arrays))
    np.savez_compressed(paths["npz"], **arrays)
    return {k: str(v) for k, v in paths.items()}


def _jsonable(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(type(value).__name__)


def summary_rows(report: dict, latency: bool = True) -> list:
    """(what, value) rows shared by the terminal table and the page."""
    rows = []
    for name, r in report["readouts"].items():
        if r.get("type") == "multinomial":
            rows.append((f"{name} accuracy", _f(r.get("accuracy"))))
        elif r.get("r2") is not None:
            dims = ", ".join(f"{d} {_f(v)}" for d, v in zip(r["dims"], r["r2"]))
            rows.append((f"R^2 {name}", f"mean {_f(r['r2_mean'])} ({dims}; {r['n_scored']} outputs)"))
        if r.get("r2_note"):
            # Why a score is missing, or a hint when it is far below 0: never a silent gap.
            rows.append((f"R^2 {name}" if r.get("r2") is None and r.get("accuracy") is None else "R^2 check",
                         r["r2_note"]))
    for name, scores in (report.get("reference_r2") or {}).items():
        dims = ", ".join(f"{k[3:]} {_f(v)}" for k, v in scores.items() if k.startswith("r2_"))
        rows.append((f"R^2 {name} (recording.json)", f"mean {_f(scores['r2'])}" + (f" ({dims})" if dims else "")))
    if latency:
        for stage in ("forward", "daemon", "end_to_end"):
            if stage in report["latency_ms"]:
                v = report["latency_ms"][stage]
                rows.append((f"latency {stage} (ms)", f"p50 {_f(v['p50'], 2)}, p99 {_f(v['p99'], 2)}, max {_f(v['max'], 2)}"))
    t = report["ticks"]
    rows.append(("ticks", f"{t['outputs']} of {t['expected']} decoded (skipped {t['skipped']}, failed {t['failed']})"))
    rows.append(("FALCON normalized latency", f"{_f(report['falcon_normalized_latency'], 4)} (decoding / data time)"))
    played = report["played"]
    rows.append(("played", f"{_f(played['seconds'], 1)} s in {_f(played['wall_seconds'], 1)} s, speed {played['speed']}"))
    return rows


def print_table(report: dict, paths: dict) -> None:
    """The summary and the latency per stage on the terminal (rich)."""
    from rich.console import Console
    from rich.table import Table
    summary = Table(title=f"poyo-rt replay: {Path(report['recording']['path']).name}", show_header=False)
    summary.add_column(style="bold")
    summary.add_column()
    for what, value in summary_rows(report, latency=False):
        summary.add_row(what, value)
    latency = Table(title="latency per tick (ms)")
    for column in ("stage", "p50", "p90", "p99", "max"):
        latency.add_column(column, justify="left" if column == "stage" else "right")
    for stage, v in report["latency_ms"].items():
        latency.add_row(stage, *(_f(v[k], 2) for k in ("p50", "p90", "p99", "max")))
    console = Console()
    console.print(summary)
    console.print(latency)
    if paths:
        console.print(f"report: {paths['html']} (and {Path(paths['json']).name}, {Path(paths['npz']).name})")


def html(report: dict, arrays: dict) -> str:
    """The report page."""
    rec, play = report["recording"], report["played"]
    sections = [page.section("Summary", page.table([], summary_rows(report)))]
    for name, r in report["readouts"].items():
        key = f"{name}"
        if f"{key}/time_s" not in arrays or r.get("r2") is None and r.get("accuracy") is None:
            continue
        t, decoded, truth = arrays[f"{key}/time_s"], arrays[f"{key}/decoded"], arrays[f"{key}/truth"]
        plots = []
        for d, dim in enumerate(r["dims"]):
            score = f"R^2 {_f(r['r2'][d])}" if r.get("r2") is not None else ""
            plots.append(svg.line_plot(
                [{"x": t, "y": truth[:, d], "label": "recorded" if r["target"] == "identity" else f"recorded, {r['target']}", "color": svg.RECORDED, "width": 1.6},
                 {"x": t, "y": decoded[:, d], "label": "decoded by poyo-rt", "color": svg.PALETTE[0]}],
                title=f"{name}[{dim}]  {score}", x_label="recording time (s)", y_label=r.get("unit") or dim))
        notes = [page.note(r["r2_note"])] if r.get("r2_note") else []
        sections.append(page.section(f"Decoded vs recorded: {name}", *notes, *plots, page.note(ALIGNMENT)))
    stages = arrays.get("latency/window_end_s")
    if stages is not None and len(stages):
        budget_ms = report["daemon"]["budget_s"] * 1000
        e2e = arrays["latency/end_to_end_ms"]
        daemon = arrays["latency/daemon_ms"]
        forward = arrays["latency/forward_ms"]
        # Axes up to the budget or a little past the 99th percentile: one stall of seconds (the
        # machine, not the decoder) must not flatten every other tick into the axis.
        top = max(budget_ms * 1.25, float(np.percentile(e2e, 99)) * 1.3) if len(e2e) else budget_ms
        above = int(np.sum(e2e > top))
        clipped = f" {above} tick(s) above {top:.3g} ms are drawn at the top edge / left out of the histogram." if above else ""
        sections.append(page.section(
            "Latency",
            page.table(["stage (ms)", "p50", "p90", "p99", "max", "mean", "what"],
                       [[s, _f(v["p50"], 2), _f(v["p90"], 2), _f(v["p99"], 2), _f(v["max"], 2), _f(v["mean"], 2),
                         report["latency_stages"].get(s, "")] for s, v in report["latency_ms"].items()]),
            svg.histogram(e2e, title="End-to-end latency per tick (watermark received by the daemon -> output here)",
                          x_label="milliseconds", vlines=[{"x": budget_ms, "label": f"budget {budget_ms:g} ms"}],
                          x_range=(0.0, top)),
            svg.line_plot([{"x": stages, "y": e2e, "label": "end to end"},
                           {"x": stages, "y": daemon, "label": "daemon (received -> published)"},
                           {"x": stages, "y": forward, "label": "forward pass"}],
                          title="Latency over the replay", x_label="recording time (s)", y_label="milliseconds",
                          hlines=[{"y": budget_ms, "label": f"budget {budget_ms:g} ms"}], y_range=(0.0, top)),
            page.note(report["latency_note"] + clipped)))
    d = report["daemon"]
    sections.append(page.section("Run", page.table([], [
        ("recording", f"{rec['path']} ({rec['format']})"), ("session word", rec["session_word"]),
        ("units", f"{rec['units']} ({rec['spikes']} spikes in the part played)"),
        ("behaviour", f"{rec['behaviour']} -> target {rec['target']}"),
        ("interval played", f"{_f(play['start_s'], 3)} to {_f(play['end_s'], 3)} s ({play['interval']})"),
        ("model", report["model"]["path"]), ("tick rate", f"{play['tick_rate']} ticks/s"),
        ("hop / budget", f"{d['hop_s']:g} s / {d['budget_s']:g} s"),
        ("daemon counters", ", ".join(f"{k} {v}" for k, v in report.get("counters", {}).items())),
    ])))
    title = f"poyo-rt replay: {Path(rec['path']).name}"
    subtitle = f"model {Path(report['model']['path']).name}; {report['created']}"
    return page.page(title, subtitle, sections)
