"""One profile run: a daemon (started here, or a running one), a stream played into it in real
time, every tick recorded; the result as a JSON-ready dict."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional, Union

import numpy as np
import zmq

from ..daemon import ServeProcess
from . import histograms, machine, ticks
from .load import Stream
from .rig import Subscriber, play, wait_for_the_end


@dataclass
class Settings:
    """How the daemon runs (seconds unless said).

    Attributes
    ----------
    hop : float
        Seconds between ticks (0.02: a 50 Hz loop).
    budget : float or None
        The daemon's latency budget, received -> published (default: the hop).
    threads : int
        The model's threads.
    sequence_length : float
        The model's window, seconds.
    ingest_cpu : int or None
        Pin the daemon's ingest thread to this CPU.
    model_cpu : int, list of int, or None
        Pin the daemon's scheduler thread to this CPU (a list: to the first, and the model's
        workers to the others).
    realtime_priority : int or None
        SCHED_FIFO priority (1-99) of the daemon's ingest, scheduler and worker threads.
    busy_poll : bool
        The daemon's ``busy_poll``: its scheduler and worker threads spin between ticks.
    encode_ahead : bool or None
        The daemon's ``encode_ahead``: between ticks it attends the encoder to the next window's
        spikes so far (the default, true; false: every tick attends its whole window; None: a
        running daemon's, not known).
    """

    hop: float = 0.02
    budget: Optional[float] = None
    threads: int = 1
    sequence_length: float = 1.0
    ingest_cpu: Optional[int] = None
    model_cpu: Optional[Union[int, list]] = None
    realtime_priority: Optional[int] = None
    busy_poll: bool = False
    encode_ahead: Optional[bool] = True

    @property
    def budget_s(self) -> float:
        return self.hop if self.budget is None else self.budget


def daemon_config(model: str, binding: dict, settings: Settings) -> dict:
    """The ``poyo serve`` configuration of a profile (docs/serving.md)."""
    config = {"model": str(Path(model).resolve()), **binding, "hop": settings.hop, "budget": settings.budget_s,
              "threads": settings.threads, "output_offsets": [0.0], "stall_timeout": 5.0, "status_interval": 0.25}
    for key in ("ingest_cpu", "model_cpu", "realtime_priority"):
        if getattr(settings, key) is not None:
            config[key] = getattr(settings, key)
    if settings.busy_poll:
        config["busy_poll"] = True
    if settings.encode_ahead is False:
        config["encode_ahead"] = False
    return config


def profile(stream: Stream, settings: Settings, *, config: Optional[dict] = None, endpoints: Optional[tuple] = None,
            pid: Optional[int] = None, binary: Optional[str] = None, workdir: Optional[str] = None,
            on_progress: Optional[Callable[[float], None]] = None) -> tuple[dict, dict]:
    """Plays ``stream`` into a daemon and records every tick.

    Parameters
    ----------
    stream : Stream
    settings : Settings
    config : dict, optional
        The configuration of a daemon started here (``daemon_config``); required unless
        ``endpoints`` are given.
    endpoints : (str, str), optional
        A running daemon's SUB and PUB endpoints (configured for this stream's units and hop).
    pid : int, optional
        The running daemon's process id, for its CPU time, memory and threads.
    binary : str, optional
        The ``poyo`` binary (``daemon.find_poyo_binary``).

    Returns
    -------
    (result, table)
        ``result``: latency per stage (summaries and encoded HdrHistograms), tick counts, the
        daemon's CPU and memory, its threads; ``table``: the per-tick records (``ticks.records``).
    """
    daemon = None
    tmp = None
    if endpoints is None:
        tmp = None if workdir else tempfile.TemporaryDirectory(prefix="poyo-rt-profile-")
        daemon = ServeProcess(config, binary=binary, directory=workdir or tmp.name)
        spikes, outputs, check, pid = daemon.spikes, daemon.outputs, daemon.check_alive, daemon.process.pid
    else:
        spikes, outputs, check = endpoints[0], endpoints[1], (lambda: None)
    rate = stream.tick_rate
    hop_ticks = max(1, round(settings.hop * rate))
    sequence_ticks = round(settings.sequence_length * rate)
    first_time = max(stream.start_tick - 1, 0)
    first_tick = -(-(first_time + sequence_ticks) // hop_ticks) * hop_ticks
    last_tick = (stream.end_tick // hop_ticks) * hop_ticks
    context = zmq.Context()
    subscriber = Subscriber(context, outputs)
    sampler = machine.ProcessSampler(pid) if pid else None
    threads = []
    try:
        subscriber.start()
        subscriber.ready.wait(5)
        if sampler is not None:
            sampler.start()
        played = play(stream, spikes, subscriber, context, check_alive=check, on_progress=on_progress)
        expected = max(0, (last_tick - first_tick) // hop_ticks + 1)
        wait_for_the_end(subscriber, last_tick, expected)
        end = time.monotonic()
        if pid:
            threads = machine.threads_of(pid)
    finally:
        # The daemon goes first: whatever else fails here, no daemon outlives the profile.
        log = daemon.log if daemon is not None else ""
        exit_code = daemon.close() if daemon is not None else None
        if sampler is not None:
            sampler.stop()
        subscriber.stop()
        context.destroy(linger=0)
        if tmp is not None:
            tmp.cleanup()
    grid = np.arange(first_tick, last_tick + 1, hop_ticks, dtype=np.int64)
    table = ticks.records(subscriber.outputs, played, first_tick=first_tick, last_tick=last_tick, hop_ticks=hop_ticks,
                          tick_rate=rate, tokens=stream.tokens(grid, sequence_ticks),
                          budget_ns=round(settings.budget_s * 1e9))
    status = subscriber.status
    if status is not None:
        ticks.reconcile(table, status.ticks_skipped)
    result = summarize(table, played, settings, stream, status, sampler, first_tick)
    result["daemon"] = {"config": config, "endpoints": [spikes, outputs], "pid": pid, "threads": threads,
                        "exit_code": exit_code, "log_tail": log.strip().splitlines()[-6:],
                        "process": sampler.summary(played["wall_start_ns"] / 1e9, end) if sampler else None,
                        "process_series": sampler.series() if sampler else None}
    return result, table


def summarize(table: dict, played: dict, settings: Settings, stream: Stream, status, sampler, first_tick: int) -> dict:
    """Latency per stage, tick counts and the series the report plots, from the per-tick table."""
    measured = np.ones(len(table["state"]), dtype=bool)
    hist = ticks.stage_histograms(table, measured)
    state = table["state"]
    ran = state == "run"
    tokens = table["tokens"]
    counters = {}
    if status is not None:
        counters = {"received": status.received, "accepted": status.accepted, "late": status.late,
                    "dropped": status.dropped, "missed_messages": status.missed_messages,
                    "rejected": int(np.sum(status.rejections)), "ticks_run": status.ticks_run,
                    "ticks_skipped": status.ticks_skipped, "ticks_failed": status.daemon_count("ticks_failed"),
                    "unknown_units": status.daemon_count("unknown_units"),
                    "ticks_prepared": status.daemon_count("ticks_prepared")}
    ms = lambda column: np.where(ran, table[column] / 1e6, np.nan)  # noqa: E731
    return {
        "load": {"stream": stream.description, "units": stream.units_bound, "seconds": (stream.end_tick - stream.start_tick) / stream.tick_rate,
                 "tick_rate": stream.tick_rate, "spikes": int(stream.times.size), **asdict(settings), "budget_s": settings.budget_s},
        "tokens_per_window": {"mean": float(tokens.mean()) if tokens.size else None,
                              "p50": float(np.median(tokens)) if tokens.size else None,
                              "max": int(tokens.max()) if tokens.size else None},
        "ticks": {"expected": int(len(state)), "run": int(ran.sum()), "skipped": int(np.sum(state == "skipped")),
                  "lost": int(np.sum(state == "lost")),
                  "deadline_missed": int(np.sum(table["deadline_missed"])),
                  "late_published": int(np.sum(ran & (table["daemon_ns"] > round(settings.budget_s * 1e9)))),
                  "first_tick_s": first_tick / stream.tick_rate},
        "counters": counters,
        "latency_ms": histograms.table(hist),
        "histograms": {name: histograms.encode(h) for name, h in hist.items()},
        "median_tick_ms": median_breakdown(table),
        "rig_send_lateness_ms": histograms.summary_ms(histograms.of(np.maximum(played["lateness_ns"], 1))),
        "series": {"window_end_s": [round(float(x), 6) for x in table["window_end_s"]],
                   "state": [str(s) for s in state],
                   "tokens": [int(x) for x in tokens],
                   **{f"{name}_ms": [None if not np.isfinite(v) else round(float(v), 6) for v in ms(f"{name}_ns")]
                      for name, *_ in ticks.STAGES + ticks.SPANS},
                   "skipped_s": [round(float(x), 6) for x in table["window_end_s"][state != "run"]]},
    }


def median_breakdown(table: dict) -> dict:
    """The median of each stage over the ticks that ran, milliseconds (the stacked bar)."""
    ran = table["state"] == "run"
    if not ran.any():
        return {}
    return {name: float(np.median(table[f"{name}_ns"][ran])) / 1e6 for name, *_ in ticks.STAGES}


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))
