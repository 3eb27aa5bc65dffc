"""The profile report: ``profile.json`` (every number, the HdrHistograms encoded), a
self-contained ``profile.html`` with inline SVG plots, and a summary on the terminal; the
comparison of two profiles; the sweep's cost curve and capacity."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..profiling import histograms
from ..profiling.ticks import SPANS, STAGES
from . import page, svg

STAGE_TEXT = {name: text for name, _, _, text in STAGES + SPANS}
SHOWN = ("p50", "p90", "p99", "p99_9", "p99_99", "max")
NOT_RECORDED = "not recorded"  # a key a profile.json of an older poyo-rt lacks
NOT_PINNED = "not pinned"


def _f(value, digits: int = 3) -> str:
    return "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.{digits}f}"


# -- threads and scheduling (the configuration's threads, realtime_priority, busy_poll, model_cpu, ingest_cpu) --

def model_threads(c: dict) -> str:
    """The model's threads as configured ("2"), or "not recorded"."""
    return NOT_RECORDED if c.get("threads") is None else str(c["threads"])


def scheduling(c: dict) -> str:
    """The daemon's scheduling as configured: "SCHED_FIFO N" (``realtime_priority``), "ordinary
    (SCHED_OTHER)" without one, "ordinary (SCHED_OTHER), busy polling" with ``busy_poll``, and
    ", encode_ahead off" when the daemon attended each whole window at its tick; "not recorded"
    in a profile.json older than the key."""
    if "realtime_priority" not in c:
        return NOT_RECORDED
    priority = c["realtime_priority"]
    policy = "ordinary (SCHED_OTHER)" if priority is None else f"SCHED_FIFO {priority}"
    return policy + (", busy polling" if c.get("busy_poll") else "") + (", encode_ahead off" if c.get("encode_ahead") is False else "")


def pinning(c: dict) -> str:
    """CPU pinning as configured: ``model_cpu`` (the scheduler thread's CPU, then the model
    workers') and ``ingest_cpu``; "not pinned", or "not recorded" in an older profile.json."""
    if "model_cpu" not in c and "ingest_cpu" not in c:
        return NOT_RECORDED
    parts = []
    if c.get("model_cpu") is not None:
        cpus = c["model_cpu"] if isinstance(c["model_cpu"], list) else [c["model_cpu"]]
        parts.append(f"scheduler on CPU {cpus[0]}" + (f", model workers on {','.join(map(str, cpus[1:]))}" if cpus[1:] else ""))
    if c.get("ingest_cpu") is not None:
        parts.append(f"ingest on CPU {c['ingest_cpu']}")
    return ", ".join(parts) or NOT_PINNED


def scheduling_rows(c: dict) -> list:
    """(what, value) of the model threads, the scheduling and the pinning, for a table."""
    return [("model threads", model_threads(c)), ("scheduling", scheduling(c)), ("CPU pinning", pinning(c))]


def configuration_line(c: dict, brief: bool = False) -> str:
    """Threads, scheduling and pinning in one line: "2 model threads, SCHED_FIFO 10, scheduler on
    CPU 0, model workers on 1" or "1 model thread, ordinary scheduling, not pinned"; ``brief``
    (the terminal's titles) leaves "not pinned" out."""
    threads, policy, where = model_threads(c), scheduling(c), pinning(c)
    parts = ["model threads not recorded" if threads == NOT_RECORDED else f"{threads} model thread{'' if threads == '1' else 's'}",
             "scheduling not recorded" if policy == NOT_RECORDED else
             policy.replace("ordinary (SCHED_OTHER)", "ordinary scheduling")]
    if where == NOT_RECORDED:
        parts.append("pinning not recorded")
    elif not (brief and where == NOT_PINNED):
        parts.append(where)
    return ", ".join(parts)


def observed_threads(m: dict) -> str:
    """The daemon's threads as the profile saw them: their policies and whether any was pinned."""
    if "scheduling" not in m:
        return NOT_RECORDED
    return f"{', '.join(m['scheduling']) or '-'}; {'pinned' if m.get('pinned') else 'not pinned'}"


def sweep_curve(runs: list, hop_s: float) -> dict:
    """The cost curve of a sweep: per point, tokens per window against forward and end-to-end
    latency (p50, p99, max, ms); the capacity: the largest point (by tokens per window) that ran
    every tick (none skipped, none published past the budget), and where end-to-end p99 first
    crosses the hop, interpolated in tokens per window."""
    points = []
    for r in runs:
        lat = r["latency_ms"]
        points.append({"label": r["label"], "units": r["load"]["units"], "rate_hz": r["load"].get("rate_hz"),
                       "tokens": r["tokens_per_window"]["mean"],
                       **{f"{stage}_{k}": lat[stage][k] for stage in ("forward", "daemon", "end_to_end") for k in ("p50", "p99", "max")},
                       "skipped": r["ticks"]["skipped"], "deadline_missed": r["ticks"]["deadline_missed"],
                       "ticks": r["ticks"]["expected"], "cpu_cores_used": (r["daemon"].get("process") or {}).get("cpu_cores_used")})
    points.sort(key=lambda p: p["tokens"] or 0)
    holding = [p for p in points if p["deadline_missed"] == 0]
    hop_ms = hop_s * 1000
    crossing = None
    for a, b in zip(points, points[1:]):
        ya, yb = a["end_to_end_p99"], b["end_to_end_p99"]
        if ya is not None and yb is not None and ya <= hop_ms < yb:
            crossing = a["tokens"] + (hop_ms - ya) / (yb - ya) * (b["tokens"] - a["tokens"])
            break
    largest = max(holding, key=lambda p: p["tokens"], default=None)
    return {"hop_ms": hop_ms, "points": points,
            "capacity": {"largest_holding": None if largest is None else
                         {k: largest[k] for k in ("label", "units", "rate_hz", "tokens")},
                         "end_to_end_p99_crosses_hop_at_tokens": crossing,
                         "every_point_holds": len(holding) == len(points)}}


def capacity_line(sweep: dict) -> str:
    """One sentence: this machine's capacity for the model at the hop."""
    cap = sweep["capacity"]
    hop = sweep["hop_ms"]
    largest = cap["largest_holding"]
    text = (f"capacity at hop {hop:g} ms: " + (f"{largest['label']} (~{largest['tokens']:.0f} tokens per window) "
                                               f"is the largest load that held with no skipped or late tick"
                                               if largest else "no load held"))
    if largest is None and sweep["points"] and sweep["points"][0]["end_to_end_p99"] is not None:
        first = sweep["points"][0]
        text += (f" (the smallest, {first['label']}, already had {first['deadline_missed']} deadline misses in "
                 f"{first['ticks']} ticks, end-to-end p99 {first['end_to_end_p99']:.1f} ms)")
    if cap["end_to_end_p99_crosses_hop_at_tokens"] is not None:
        text += f"; end-to-end p99 crosses the hop at ~{cap['end_to_end_p99_crosses_hop_at_tokens']:.0f} tokens per window"
    elif cap["every_point_holds"]:
        text += " (every point held: sweep larger loads to find the limit)"
    return text


def write(report: dict, directory) -> dict:
    """Writes ``profile.json`` and ``profile.html`` into ``directory``; returns their paths
    (with the tick CSV files the runs wrote there)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "profile.json", "html": out / "profile.html"}
    paths["json"].write_text(json.dumps(report, indent=1, allow_nan=False) + "\n")
    paths["html"].write_text(html(report))
    result = {k: str(v) for k, v in paths.items()}
    result["csv"] = [str(out / r["csv"]) for r in report["runs"] if r.get("csv")]
    return result


def _latency_table(run: dict) -> str:
    rows = []
    for name, v in run["latency_ms"].items():
        rows.append([name, *(_f(v[k], 3) for k in SHOWN), v["n"], STAGE_TEXT.get(name, "")])
    return page.table(["stage (ms)", "p50", "p90", "p99", "p99.9", "p99.99", "max", "n", "what"], rows)


def _ticks_row(run: dict) -> list:
    t = run["ticks"]
    return [("ticks", f"{t['run']} run of {t['expected']}: {t['skipped']} skipped, {t['lost']} lost, "
                      f"{t['late_published']} published past the budget ({t['deadline_missed']} deadline misses in all)")]


def _run_sections(run: dict, budget_ms: float, title: str) -> list:
    s = run["series"]
    t = np.asarray(s["window_end_s"], dtype=np.float64)
    stages = [name for name, *_ in STAGES]
    hists = [{**dict(zip(("edges", "counts"), histograms.buckets_ms(histograms.decode(run["histograms"][name])))),
              "label": name} for name in stages + ["end_to_end"]]
    hists[-1].update(color="#222222", dashed=True)
    e2e = np.array([np.nan if v is None else v for v in s["end_to_end_ms"]], dtype=np.float64)
    finite = e2e[np.isfinite(e2e)]
    top = max(budget_ms * 1.25, float(np.percentile(finite, 99.5)) * 1.3 if finite.size else budget_ms)
    over = int(np.sum(finite > top))
    series = [{"x": t, "y": np.array([np.nan if v is None else v for v in s[f"{name}_ms"]], dtype=np.float64), "label": label}
              for name, label in (("end_to_end", "end to end"), ("daemon", "daemon (received -> published)"),
                                  ("forward", "forward pass"))]
    series[0]["color"] = "#222222"
    x_range = (float(t.min()), float(t.max())) if t.size else (0.0, 1.0)
    over_time = svg.line_plot(series, title="Latency per tick over the run", x_label="stream time (s): the tick's window end",
                              y_label="milliseconds", hlines=[{"y": budget_ms, "label": f"budget {budget_ms:g} ms"}],
                              y_range=(0.0, top))
    over_time = svg.marks(over_time, s["skipped_s"], x_range, label=f"{len(s['skipped_s'])} skipped / lost tick(s) marked at the top")
    median = run["median_tick_ms"]
    parts = [page.table([], [("load", run["load"]["stream"]),
                             ("tokens per window", f"mean {_f(run['tokens_per_window']['mean'], 0)}, max {run['tokens_per_window']['max']}"),
                             *_ticks_row(run), *_process_rows(run)]),
             _latency_table(run),
             svg.log_histograms(hists, title="Per stage",
                                vlines=[{"x": budget_ms, "label": f"budget {budget_ms:g} ms"}]),
             over_time,
             page.note(f"Ticks above {top:.3g} ms ({over}) are drawn at the top edge." if over else
                       "Gaps in the lines are ticks without an output (skipped or lost), marked red at the top.")]
    if median:
        parts.append(svg.stacked_bars([{"label": "median tick", "parts": list(median.items())}],
                                      title="The median tick, stage by stage (median of each stage)", budget=budget_ms))
    cpu = run["daemon"].get("process_series") or {}
    if cpu.get("t_s"):
        parts.append(svg.line_plot([{"x": cpu["t_s"], "y": cpu["cpu_cores"], "label": "CPU (cores used)"}],
                                   title="The daemon's CPU use", x_label="seconds since the daemon started",
                                   y_label="cores", height=200))
        parts.append(svg.line_plot([{"x": cpu["t_s"], "y": cpu["rss_mb"], "label": "resident memory (MiB)", "color": svg.PALETTE[1]}],
                                   title="The daemon's resident memory", x_label="seconds since the daemon started",
                                   y_label="MiB", height=200))
    return [page.section(title, *parts)]


def _process_rows(run: dict) -> list:
    p = run["daemon"].get("process") or {}
    if p.get("cpu_seconds") is None:
        return []
    return [("daemon process", f"CPU {_f(p['cpu_seconds'], 2)} s ({_f(p['cpu_cores_used'], 2)} cores on average), "
                               f"resident memory max {_f(p['rss_mb_max'], 1)} MiB")]


def _sweep_section(sweep: dict) -> str:
    pts = sweep["points"]
    x = [p["tokens"] for p in pts]
    series = []
    for i, (stage, label) in enumerate((("forward", "fwd"), ("end_to_end", "e2e"))):
        for k, dashed in (("p50", False), ("p99", True), ("max", True)):
            series.append({"x": x, "y": [np.nan if p[f"{stage}_{k}"] is None else p[f"{stage}_{k}"] for p in pts],
                           "label": f"{label} {k}", "color": svg.PALETTE[i * 3 + ("p50", "p99", "max").index(k)], "dashed": dashed,
                           "points": True})
    # Up to a little past the largest median: one stall of the machine must not flatten the curve.
    values = [v for s in series for v in s["y"] if v is not None and np.isfinite(v)]
    medians = [p[f"{s}_p50"] for p in pts for s in ("forward", "end_to_end") if p[f"{s}_p50"] is not None]
    top = max([sweep["hop_ms"] * 2.0, 2.0 * max(medians, default=0.0)])
    above = sum(v > top for v in values)
    plot = svg.line_plot(series, title="Cost curve", x_label="tokens per window (mean; log scale)", log_x=True,
                         y_label="milliseconds", hlines=[{"y": sweep["hop_ms"], "label": f"hop {sweep['hop_ms']:g} ms"}],
                         height=340, y_range=(0.0, top * 1.05))
    clipped = f" {above} value(s) above {top:.3g} ms are drawn at the top edge (the table has them)." if above else ""
    rows = [[p["label"], _f(p["tokens"], 0), *(_f(p[f"{s}_{k}"], 2) for s in ("forward", "end_to_end") for k in ("p50", "p99", "max")),
             f"{p['skipped']}/{p['ticks']}", p["deadline_missed"], _f(p["cpu_cores_used"], 2)] for p in pts]
    table = page.table(["load", "tokens", "fwd p50", "fwd p99", "fwd max", "e2e p50", "e2e p99", "e2e max", "skipped",
                        "misses", "CPU cores"], rows)
    return page.section("Sweep", plot, table, page.note(capacity_line(sweep) + "." + clipped))


def _machine_section(report: dict) -> str:
    m, model, c = report["machine"], report["model"], report["configuration"]
    threads = ", ".join(f"{t['name']} ({t['policy']}{'' if not t['priority'] else ' ' + str(t['priority'])}, "
                        f"CPUs {','.join(map(str, t['cpus']))}{', pinned' if t['pinned'] else ''})" for t in m["daemon_threads"])
    return page.section("Machine, model, configuration", page.table([], [
        ("CPU", f"{m['cpu']}, {m['cores_usable']} of {m['cores']} logical cores usable"),
        ("vector extensions", " ".join(m["vector_extensions"]) or "-"), ("kernel", f"{m['kernel']} ({m['architecture']})"),
        ("daemon threads", threads or "-"),
        ("pinned / scheduling (observed)", f"{'pinned' if m['pinned'] else 'not pinned'}; {', '.join(m['scheduling']) or '-'}"),
        ("model", f"{model['path']} ({model.get('kind') or '-'}, {model.get('parameters') or '-'} parameters)"),
        ("model shape", model.get("hyperparameters") or "-"),
        ("FLOPs per window", f"{_f(model.get('gflop_per_window'), 3)} GFLOP in poyo-rt, {_f(model.get('gflop_per_window_torch_brain'), 3)} "
                             f"as torch_brain computes it ({model.get('cost_window') or '-'})"),
        ("hop / budget", f"{c['hop_s']:g} s / {c['budget_s']:g} s"), *scheduling_rows(c),
        ("seconds per run", c["seconds_per_point"]), ("command", report["command"]),
    ]))


def html(report: dict) -> str:
    """The profile page."""
    budget_ms = report["configuration"]["budget_s"] * 1000
    sections = [page.section("Summary", page.table([], summary_rows(report)))]
    if report.get("sweep"):
        sections.append(_sweep_section(report["sweep"]))
    for run in report["runs"]:
        sections += _run_sections(run, budget_ms, f"Run: {run['label']}")
    sections.append(_machine_section(report))
    sections.append(page.section("Files", page.note(
        "profile.json holds every number of this page, the HdrHistograms of each stage (base64, HdrHistogram's "
        "own encoding: merge or compare runs with any HdrHistogram port) and the per-tick series; the ticks CSV "
        "files hold one row per tick (pandas.read_csv), -1 where a tick has no output.")))
    return page.page(f"poyo-rt profile: {Path(report['model']['path']).name}",
                     f"{report['machine']['cpu']}; {report['created']}", sections)


def summary_rows(report: dict) -> list:
    """(what, value): the hop and the threads and scheduling, each run's latency, the capacity."""
    c = report["configuration"]
    rows = [("configuration", f"hop {c['hop_s'] * 1000:g} ms, budget {c['budget_s'] * 1000:g} ms; {configuration_line(c)}")]
    for run in report["runs"]:
        lat = run["latency_ms"]
        rows.append((run["label"], f"end to end p50 {_f(lat['end_to_end']['p50'], 2)}, p99 {_f(lat['end_to_end']['p99'], 2)}, "
                                   f"max {_f(lat['end_to_end']['max'], 2)} ms; forward p50 {_f(lat['forward']['p50'], 2)} ms; "
                                   f"{run['ticks']['skipped']} skipped, {run['ticks']['deadline_missed']} deadline misses "
                                   f"of {run['ticks']['expected']} ticks"))
    if report.get("sweep"):
        rows.append(("capacity", capacity_line(report["sweep"])))
    return rows


def print_summary(report: dict, paths: dict) -> None:
    """The terminal summary (rich tables): latency per stage of each run, the sweep."""
    from rich.console import Console
    from rich.table import Table
    console = Console()
    if not console.is_terminal:  # a log file or a pipe: room for every column
        console.width = 120
    for run in report["runs"]:
        c = report["configuration"]
        # The title as a line of its own: a table's title wraps to the table's width.
        console.print(f"poyo-rt profile: {run['label']}, hop {c['hop_s'] * 1000:g} ms, {configuration_line(c, brief=True)}",
                      highlight=False, markup=False, soft_wrap=True)
        table = Table()
        for column in ("stage (ms)", "p50", "p90", "p99", "p99.9", "max", "n"):
            table.add_column(column, justify="left" if column == "stage (ms)" else "right")
        for name, v in run["latency_ms"].items():
            table.add_row(name, *(_f(v[k], 3) for k in ("p50", "p90", "p99", "p99_9", "max")), str(v["n"]))
        console.print(table)
        console.print(_ticks_row(run)[0][1] + "".join(f"; {v}" for _, v in _process_rows(run)))
    if report.get("sweep"):
        print(sweep_markdown(report))  # plain: a Markdown table must not be wrapped
        console.print(capacity_line(report["sweep"]))
    if paths:
        console.print(f"report: {paths['html']} (and profile.json" + "".join(f", {Path(p).name}" for p in paths.get("csv", [])[:3])
                      + (", ..." if len(paths.get("csv", [])) > 3 else "") + ")")


def sweep_markdown(report: dict) -> str:
    """The sweep as a Markdown table (for a README)."""
    lines = ["| load | tokens/window | forward p50 / p99 / max (ms) | end to end p50 / p99 / max (ms) | skipped | deadline misses |",
             "|---|---|---|---|---|---|"]
    for p in report["sweep"]["points"]:
        lines.append(f"| {p['label']} | {_f(p['tokens'], 0)} | {_f(p['forward_p50'], 1)} / {_f(p['forward_p99'], 1)} / "
                     f"{_f(p['forward_max'], 1)} | {_f(p['end_to_end_p50'], 1)} / {_f(p['end_to_end_p99'], 1)} / "
                     f"{_f(p['end_to_end_max'], 1)} | {p['skipped']}/{p['ticks']} | {p['deadline_missed']} |")
    return "\n".join(lines)


# -- comparison ---------------------------------------------------------------------------------

def _merged(report: dict, stage: str):
    return histograms.merged(r["histograms"][stage] for r in report["runs"])


def comparison_rows(a: dict, b: dict) -> list:
    """(stage, A summary, B summary, B/A at p50 and p99) over every run of each profile merged."""
    rows = []
    for name, *_ in STAGES + SPANS:
        sa, sb = histograms.summary_ms(_merged(a, name)), histograms.summary_ms(_merged(b, name))
        ratio = lambda k: (sb[k] / sa[k]) if sa[k] and sb[k] else None  # noqa: E731
        rows.append((name, sa, sb, ratio("p50"), ratio("p99")))
    return rows


def write_comparison(reports: list, directory) -> dict:
    """``comparison.html`` and ``comparison.json`` for two profiles."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    a, b = reports
    rows = comparison_rows(a, b)
    data = {"format": "poyo-rt profile comparison 1", "labels": [a["label"], b["label"]],
            "stages": {name: {"a": sa, "b": sb, "b_over_a_p50": r50, "b_over_a_p99": r99} for name, sa, sb, r50, r99 in rows},
            "configurations": {"a": _configuration_facts(a), "b": _configuration_facts(b)}}
    sections = [page.section("Latency per stage, every run of each merged (ms)", page.table(
        ["stage", "A p50", "A p99", "A max", "B p50", "B p99", "B max", "B/A p50", "B/A p99"],
        [[name, *(_f(s[k], 3) for s in (sa, sb) for k in ("p50", "p99", "max")), _f(r50, 2), _f(r99, 2)]
         for name, sa, sb, r50, r99 in rows]),
        *(page.note(line) for line in _configuration_lines(a, b)))]
    for stage in ("forward", "end_to_end"):
        series = []
        for i, (label, report) in enumerate((("A: " + a["label"], a), ("B: " + b["label"], b))):
            edges, counts = histograms.buckets_ms(_merged(report, stage))
            fraction = counts / max(1, counts.sum())  # runs of different lengths: shares of ticks
            series.append({"edges": edges, "counts": fraction, "label": label, "color": svg.PALETTE[i]})
        sections.append(svg.log_histograms(series, title=f"{stage}: A against B (log axis)", y_label="fraction of ticks",
                                           vlines=[{"x": a["configuration"]["budget_s"] * 1000, "label": "budget A"}]))
    if a.get("sweep") and b.get("sweep"):
        series = []
        for i, (label, report) in enumerate((("A", a), ("B", b))):
            pts = report["sweep"]["points"]
            for k, dashed in (("p50", False), ("p99", True)):
                series.append({"x": [p["tokens"] for p in pts], "y": [p[f"end_to_end_{k}"] for p in pts],
                               "label": f"{label} end to end {k}", "color": svg.PALETTE[i], "dashed": dashed})
        sections.append(page.section("Cost curves", svg.line_plot(
            series, title="End to end", x_label="tokens per window (log scale)", y_label="milliseconds", log_x=True,
            hlines=[{"y": a["sweep"]["hop_ms"], "label": "hop"}], height=320),
            page.note("A: " + capacity_line(a["sweep"])), page.note("B: " + capacity_line(b["sweep"]))))
    facts = []
    for key, text in (("cpu", "CPU"), ("cores_usable", "cores"), ("vector_extensions", "vector extensions"), ("kernel", "kernel")):
        value = lambda m: " ".join(m[key]) if isinstance(m.get(key), list) else str(m.get(key))  # noqa: E731
        facts.append((text, value(a["machine"]), value(b["machine"])))
    facts += [("model", a["model"]["path"], b["model"]["path"]),
              ("GFLOP per window", _f(a["model"].get("gflop_per_window")), _f(b["model"].get("gflop_per_window"))),
              *((what, va, vb) for (what, va), (_, vb) in zip(scheduling_rows(a["configuration"]), scheduling_rows(b["configuration"]))),
              ("daemon threads (observed)", observed_threads(a["machine"]), observed_threads(b["machine"])),
              ("hop / budget (s)", f"{a['configuration']['hop_s']:g} / {a['configuration']['budget_s']:g}",
               f"{b['configuration']['hop_s']:g} / {b['configuration']['budget_s']:g}"),
              ("ticks skipped", sum(r["ticks"]["skipped"] for r in a["runs"]), sum(r["ticks"]["skipped"] for r in b["runs"])),
              ("created", a["created"], b["created"])]
    sections.append(page.section("A and B", page.table(["", "A: " + a["label"], "B: " + b["label"]], facts)))
    paths = {"json": out / "comparison.json", "html": out / "comparison.html"}
    paths["json"].write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")
    paths["html"].write_text(page.page(f"poyo-rt profile: {a['label']} against {b['label']}", "A against B", sections))
    return {k: str(v) for k, v in paths.items()}


def _configuration_facts(report: dict) -> dict:
    """The threads and scheduling of a profile for comparison.json (None where not recorded)."""
    c = report["configuration"]
    return {**{k: c.get(k) for k in ("threads", "realtime_priority", "busy_poll", "encode_ahead", "model_cpu", "ingest_cpu")},
            "summary": configuration_line(c)}


def _configuration_lines(a: dict, b: dict) -> list:
    """A line per profile: "A: label: 1 model thread, ordinary scheduling, not pinned"."""
    return [f"{which}: {r['label']}: {configuration_line(r['configuration'])}" for which, r in (("A", a), ("B", b))]


def print_comparison(reports: list, paths: dict) -> None:
    from rich.console import Console
    from rich.table import Table
    a, b = reports
    table = Table(title=f"A: {a['label']}  against  B: {b['label']} (ms)")
    for column in ("stage", "A p50", "A p99", "A max", "B p50", "B p99", "B max", "B/A p99"):
        table.add_column(column, justify="left" if column == "stage" else "right", no_wrap=column == "stage")
    for name, sa, sb, _, r99 in comparison_rows(a, b):
        table.add_row(name, *(_f(s[k], 3) for s in (sa, sb) for k in ("p50", "p99", "max")), _f(r99, 2))
    console = Console()
    if not console.is_terminal:  # a log file or a pipe: room for every column
        console.width = 120
    console.print(table)
    for line in _configuration_lines(a, b):
        console.print(line, highlight=False, markup=False)
    if paths:
        console.print(f"report: {paths['html']} (and comparison.json)")
