"""``poyo-rt profile`` end to end: the real daemon (``poyo serve``), real sockets, a synthetic
Poisson rig in real time; the report files, the per-stage arithmetic, a forced slow tick, a
sweep and a comparison."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from conftest import DEMO, poyo_binary

from poyo_rt.profiling import histograms
from poyo_rt.profiling.ticks import SPANS, STAGES
from poyo_rt.report import profile_report

MODEL = DEMO / "poyo_demo.safetensors"  # small: a short run in CI
BURST_AT = 2.5  # seconds of the stream; ticks from 1.0 s (the first whole window) to 4.0 s


def profile(*args, timeout=300):
    command = [sys.executable, "-m", "poyo_rt.cli", "profile", "--model", str(MODEL), "--poyo-bin", str(poyo_binary()),
               "--quiet", *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr + result.stdout
    return result


@pytest.fixture(scope="module")
def burst(tmp_path_factory):
    """3 s measured at 20 units x 10 Hz, with 60000 spikes within 1 ms at 2.5 s."""
    out = tmp_path_factory.mktemp("profile")
    result = profile("--units", 20, "--rate", 10, "--seconds", 3, "--burst-at", BURST_AT, "--burst-spikes", 60000,
                     "--report", out)
    return out, json.loads((out / "profile.json").read_text()), result.stdout


def test_report_files_exist_and_are_well_formed(burst):
    out, report, stdout = burst
    assert {p.name for p in out.iterdir()} == {"profile.json", "profile.html", "ticks.csv"}
    html = (out / "profile.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the page fetches nothing"
    svgs = re.findall(r"<svg.*?</svg>", html, re.DOTALL)
    assert len(svgs) >= 5  # histograms, over time, median tick, CPU, memory
    for element in svgs:
        ElementTree.fromstring(element)  # each plot is well-formed XML
    run = report["runs"][0]
    assert report["format"] == "poyo-rt profile 1" and report["machine"]["cpu"] and report["machine"]["daemon_threads"]
    assert report["model"]["kind"] == "POYO" and report["model"]["parameters"] > 0 and report["model"]["gflop_per_window"] > 0
    assert run["ticks"]["expected"] == 151 and run["ticks"]["lost"] == 0
    assert run["daemon"]["process"]["rss_mb_max"] > 1 and run["daemon"]["process"]["cpu_seconds"] > 0
    assert "end_to_end" in stdout and "skipped" in stdout  # the terminal summary
    assert "1 model thread, ordinary" in " ".join(stdout.split())  # its title (rich may wrap it)
    assert "ordinary (SCHED_OTHER)" in html and report["configuration"]["realtime_priority"] is None


def test_stages_add_up_to_the_end_to_end_latency(burst):
    out, report, _ = burst
    with open(out / "ticks.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    ran = [r for r in rows if r["state"] == "run"]
    assert len(ran) == report["runs"][0]["ticks"]["run"] > 50
    for r in ran:
        stamps = [int(r[c]) for c in ("rig_sent_ns", "received_ns", "dequeued_ns", "window_built_ns", "forward_done_ns",
                                      "published_ns", "delivered_ns")]
        assert stamps == sorted(stamps), r  # one clock (CLOCK_MONOTONIC) on both sides
        # Integer nanoseconds: the stages add up exactly (the clock's resolution is 1 ns).
        assert sum(int(r[f"{name}_ns"]) for name, *_ in STAGES) == int(r["end_to_end_ns"])
        assert int(r["end_to_end_ns"]) == stamps[-1] - stamps[0]
    series = report["runs"][0]["series"]
    for i, state in enumerate(series["state"]):
        if state == "run":
            total = sum(series[f"{name}_ms"][i] for name, *_ in STAGES)
            assert total == pytest.approx(series["end_to_end_ms"][i], abs=1e-5)  # ms rounded to 1 ns


def test_histograms_hold_every_tick_to_their_precision(burst):
    out, report, _ = burst
    run = report["runs"][0]
    with open(out / "ticks.csv", newline="") as f:
        e2e = np.array([int(r["end_to_end_ns"]) for r in csv.DictReader(f) if r["state"] == "run"])
    h = histograms.decode(run["histograms"]["end_to_end"])
    assert h.get_total_count() == len(e2e)
    assert h.get_max_value() == pytest.approx(e2e.max(), rel=1e-3)
    assert run["latency_ms"]["end_to_end"]["p50"] == pytest.approx(np.percentile(e2e, 50, method="lower") / 1e6, rel=2e-3)
    assert {name for name, *_ in STAGES + SPANS} <= set(run["histograms"])


def test_a_burst_shows_up_as_skipped_ticks(burst):
    out, report, _ = burst
    run = report["runs"][0]
    skipped = run["series"]["skipped_s"]
    # The windows holding the burst (ticks 2.52 s to 3.5 s) cost ~100x a normal one: the daemon's
    # predictor skips them rather than miss the deadlines of those behind.
    after = [t for t in skipped if BURST_AT < t <= BURST_AT + 1.0]
    assert after and run["ticks"]["skipped"] == len(skipped) == run["counters"]["ticks_skipped"]
    assert run["ticks"]["deadline_missed"] >= len(skipped)
    with open(out / "ticks.csv", newline="") as f:
        rows = {float(r["window_end_s"]): r for r in csv.DictReader(f)}
    assert all(rows[t]["state"] == "skipped" and rows[t]["deadline_missed"] == "1" for t in after)
    assert max(run["series"]["tokens"]) > 60_000  # the burst's windows
    html = (out / "profile.html").read_text()  # the plot marks them
    assert f"{len(skipped)} skipped / lost tick(s) marked at the top" in html


def test_sweep_and_comparison(burst, tmp_path):
    profile("--sweep", "units=10,40", "rate=10", "--seconds", 1.5, "--report", tmp_path / "sweep")
    report = json.loads((tmp_path / "sweep" / "profile.json").read_text())
    points = report["sweep"]["points"]
    assert [(p["units"], p["rate_hz"]) for p in points] == [(10, 10.0), (40, 10.0)] and points[0]["tokens"] < points[1]["tokens"]
    assert {"ticks-10u-10hz.csv", "ticks-40u-10hz.csv"} <= {p.name for p in (tmp_path / "sweep").iterdir()}
    assert "Cost curve" in (tmp_path / "sweep" / "profile.html").read_text()
    result = subprocess.run([sys.executable, "-m", "poyo_rt.cli", "profile", "--compare", str(burst[0] / "profile.json"),
                             str(tmp_path / "sweep" / "profile.json"), "--report", str(tmp_path / "compare")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    comparison = json.loads((tmp_path / "compare" / "comparison.json").read_text())
    assert set(comparison["stages"]) == {name for name, *_ in STAGES + SPANS}
    assert comparison["stages"]["forward"]["b"]["n"] == sum(r["ticks"]["run"] for r in report["runs"])


def test_capacity_is_the_largest_load_that_holds():
    def run(units, tokens, e2e_p99, missed):
        lat = {s: {"p50": e2e_p99 / 2, "p99": e2e_p99, "max": e2e_p99 * 1.2} for s in ("forward", "daemon", "end_to_end")}
        return {"label": f"{units} units", "load": {"units": units, "rate_hz": 20.0}, "tokens_per_window": {"mean": tokens},
                "latency_ms": lat, "ticks": {"skipped": missed, "deadline_missed": missed, "expected": 250}, "daemon": {}}
    sweep = profile_report.sweep_curve([run(500, 11000, 30.0, 20), run(100, 2200, 5.0, 0), run(200, 4400, 10.0, 0)], 0.02)
    assert [p["units"] for p in sweep["points"]] == [100, 200, 500]
    assert sweep["capacity"]["largest_holding"]["units"] == 200
    assert sweep["capacity"]["end_to_end_p99_crosses_hop_at_tokens"] == pytest.approx(4400 + 0.5 * 6600)
    assert "200 units" in profile_report.capacity_line(sweep)


def test_a_recorded_session_is_profiled_with_the_replays_readers(tmp_path):
    profile("--session", DEMO / "session.safetensors", "--start", 241, "--seconds", 1.5, "--report", tmp_path)
    run = json.loads((tmp_path / "profile.json").read_text())["runs"][0]
    assert run["load"]["stream"].startswith("recorded session session.safetensors")
    # Ticks every 20 ms from 242.0 s (241 s + the 1 s window) to 243.5 s.
    assert run["ticks"]["expected"] == 76 and run["series"]["window_end_s"][0] == 242.0
    assert run["ticks"]["run"] + run["ticks"]["skipped"] == 76 and run["counters"]["unknown_units"] == 0


# -- threads and scheduling in the report: profiles made here, no daemon -----------------------

def synthetic_profile(label: str, **configuration) -> dict:
    """A small profile.json of one run (20 ticks of made-up stage durations) with the given
    configuration keys (threads, realtime_priority, model_cpu, ingest_cpu) over the defaults."""
    rng = np.random.default_rng(0)
    stages_ns = {name: rng.integers(10_000, 2_000_000, size=20) for name, *_ in STAGES}
    stages_ns["daemon"] = sum(stages_ns[n] for n in ("ring_wait", "window_build", "forward", "publish"))
    stages_ns["end_to_end"] = sum(stages_ns[name] for name, *_ in STAGES)
    hists = {name: histograms.of(v) for name, v in stages_ns.items()}
    window_end_s = [1.0 + 0.02 * i for i in range(20)]
    run = {"label": "20 units at 10 Hz", "load": {"stream": "synthetic", "units": 20, "rate_hz": 10.0},
           "tokens_per_window": {"mean": 240.0, "max": 260},
           "ticks": {"expected": 20, "run": 20, "skipped": 0, "lost": 0, "late_published": 0, "deadline_missed": 0},
           "latency_ms": histograms.table(hists), "histograms": {k: histograms.encode(h) for k, h in hists.items()},
           "median_tick_ms": {name: float(np.median(stages_ns[name])) / 1e6 for name, *_ in STAGES},
           "series": {"window_end_s": window_end_s, "state": ["run"] * 20, "skipped_s": [],
                      **{f"{name}_ms": list(v / 1e6) for name, v in stages_ns.items()}},
           "daemon": {"process": None, "process_series": None}}
    return {"format": "poyo-rt profile 1", "created": "2026-01-01 00:00:00 UTC", "command": "poyo-rt profile", "label": label,
            "machine": {"cpu": "test CPU", "cores": 4, "cores_usable": 4, "vector_extensions": [], "kernel": "6.0",
                        "architecture": "x86_64", "daemon_threads": [], "pinned": False, "scheduling": ["SCHED_OTHER"]},
            "model": {"path": str(MODEL)},
            "configuration": {"hop_s": 0.02, "budget_s": 0.02, "threads": 1, "seconds_per_point": 0.4,
                              "ingest_cpu": None, "model_cpu": None, "realtime_priority": None, **configuration},
            "runs": [run], "sweep": None}


def test_the_page_says_the_threads_and_the_scheduling(tmp_path):
    report = synthetic_profile("fifo", threads=2, realtime_priority=10, model_cpu=[0, 1], ingest_cpu=2)
    html = open(profile_report.write(report, tmp_path)["html"]).read()
    assert "SCHED_FIFO 10" in html and "scheduler on CPU 0, model workers on 1, ingest on CPU 2" in html
    assert "2 model threads, SCHED_FIFO 10, scheduler on CPU 0" in html  # the summary's configuration row
    ordinary = profile_report.html(synthetic_profile("ordinary"))
    assert "ordinary (SCHED_OTHER)" in ordinary and "1 model thread, ordinary scheduling, not pinned" in ordinary
    assert "SCHED_FIFO" not in ordinary and "busy polling" not in ordinary
    polling = profile_report.html(synthetic_profile("busy", threads=2, busy_poll=True))
    assert "<td>scheduling</td><td>ordinary (SCHED_OTHER), busy polling</td>" in polling
    assert "2 model threads, ordinary scheduling, busy polling, not pinned" in polling
    # encode_ahead is on by default and said only when off.
    assert "encode_ahead" not in polling
    plain = profile_report.html(synthetic_profile("plain", threads=2, realtime_priority=10, encode_ahead=False))
    assert "<td>scheduling</td><td>SCHED_FIFO 10, encode_ahead off</td>" in plain


def test_an_older_profile_without_the_keys_still_renders():
    report = synthetic_profile("old")
    for key in ("realtime_priority", "model_cpu", "ingest_cpu"):
        del report["configuration"][key]
    html = profile_report.html(report)
    assert "<td>scheduling</td><td>not recorded</td>" in html and "<td>CPU pinning</td><td>not recorded</td>" in html
    assert "1 model thread, scheduling not recorded, pinning not recorded" in html
    del report["configuration"]["threads"]
    assert "model threads not recorded" in profile_report.html(report)


def test_a_comparison_tells_realtime_from_ordinary_scheduling(tmp_path):
    fifo = synthetic_profile("fifo", threads=2, realtime_priority=10, model_cpu=[0, 1])
    fifo["machine"].update(scheduling=["SCHED_FIFO", "SCHED_OTHER"], pinned=True)
    ordinary = synthetic_profile("ordinary")
    old = synthetic_profile("old")
    for key in ("realtime_priority", "model_cpu", "ingest_cpu"):
        del old["configuration"][key]
    del old["machine"]["scheduling"]
    paths = profile_report.write_comparison([fifo, ordinary], tmp_path / "ab")
    html = open(paths["html"]).read()
    assert "<td>scheduling</td><td>SCHED_FIFO 10</td><td>ordinary (SCHED_OTHER)</td>" in html
    assert "<td>model threads</td><td>2</td><td>1</td>" in html
    assert "<td>CPU pinning</td><td>scheduler on CPU 0, model workers on 1</td><td>not pinned</td>" in html
    assert "A: fifo: 2 model threads, SCHED_FIFO 10" in html and "B: ordinary: 1 model thread, ordinary scheduling" in html
    assert "SCHED_FIFO, SCHED_OTHER; pinned" in html  # the threads as observed
    data = json.loads(open(paths["json"]).read())["configurations"]
    assert (data["a"]["realtime_priority"], data["a"]["model_cpu"], data["b"]["realtime_priority"]) == (10, [0, 1], None)
    html = open(profile_report.write_comparison([old, fifo], tmp_path / "old")["html"]).read()
    assert "<td>scheduling</td><td>not recorded</td><td>SCHED_FIFO 10</td>" in html


def test_the_terminal_titles_say_the_threads_and_the_scheduling(tmp_path):
    fifo, ordinary = (tmp_path / "fifo.json", tmp_path / "ordinary.json")
    fifo.write_text(json.dumps(synthetic_profile("fifo", threads=2, realtime_priority=10)))
    ordinary.write_text(json.dumps(synthetic_profile("ordinary")))
    assert profile_report.configuration_line(json.loads(fifo.read_text())["configuration"], brief=True) == \
        "2 model threads, SCHED_FIFO 10"
    result = subprocess.run([sys.executable, "-m", "poyo_rt.cli", "profile", "--compare", str(fifo), str(ordinary)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "A: fifo: 2 model threads, SCHED_FIFO 10, not pinned" in result.stdout
    assert "B: ordinary: 1 model thread, ordinary scheduling, not pinned" in result.stdout


@pytest.mark.parametrize("extra,message", [
    (["--endpoints", "tcp://127.0.0.1:5555", "tcp://127.0.0.1:5556", "--busy-poll", "--realtime-priority", "10"],
     "--realtime-priority, --busy-poll configure the daemon profile starts; with --endpoints the running daemon has its own"),
    (["--endpoints", "tcp://127.0.0.1:5555", "tcp://127.0.0.1:5556", "--model-cpu", "0"], "--model-cpu configures the daemon profile starts"),
    (["--pid", "1"], "--pid is the pid of a running daemon: give its --endpoints too"),
])
def test_options_that_cannot_apply_are_refused_not_ignored(extra, message):
    """Options that configure the daemon profile starts cannot describe a running one (--endpoints):
    the report would claim a scheduling the daemon never had; --pid alone would be ignored."""
    command = [sys.executable, "-m", "poyo_rt.cli", "profile", "--model", str(MODEL), "--poyo-bin", str(poyo_binary()),
               "--quiet", "--seconds", "1", *extra]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and message in result.stderr, result.stderr + result.stdout


def test_the_daemon_configuration_turns_encode_ahead_off_only_when_asked():
    from poyo_rt.profiling.run import Settings, daemon_config
    binding = {"session": "s", "units": {0: "u"}}
    assert "encode_ahead" not in daemon_config(str(MODEL), binding, Settings())
    assert daemon_config(str(MODEL), binding, Settings(encode_ahead=False))["encode_ahead"] is False
