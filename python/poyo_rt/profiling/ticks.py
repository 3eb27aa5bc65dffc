"""Per-tick records of a profile: one row per tick of the daemon's grid, with the stage stamps
of its output (or why there is none), the stage durations, and the CSV a lab loads in pandas."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..wire import DAEMON_TYPES, decode
from . import histograms

#: Stages of a tick, in order, as (name, from stamp, to stamp, what). Consecutive stages share
#: their stamps, so the stages add up to ``end_to_end`` exactly (integer nanoseconds).
STAGES = (
    ("rig_to_daemon", "rig_sent_ns", "received_ns", "the rig sends the completing watermark -> the daemon's ingest thread has it"),
    ("ring_wait", "received_ns", "dequeued_ns", "in the ingest ring until the scheduler takes the tick (wake-up, drain, a tick before)"),
    ("window_build", "dequeued_ns", "window_built_ns", "the window's tokens built"),
    ("forward", "window_built_ns", "forward_done_ns", "the model's forward pass"),
    ("publish", "forward_done_ns", "published_ns", "values denormalized, output handed to the PUB socket"),
    ("delivery", "published_ns", "delivered_ns", "PUB socket -> this subscriber (same host)"),
)
#: Spans over several stages.
SPANS = (
    ("daemon", "received_ns", "published_ns", "the daemon's share, what its budget applies to"),
    ("end_to_end", "rig_sent_ns", "delivered_ns", "the rig sends the completing watermark -> the output is here"),
)
STAMPS = ("rig_sent_ns", "received_ns", "dequeued_ns", "window_built_ns", "forward_done_ns", "published_ns", "delivered_ns")
COLUMNS = ("tick_sequence", "window_end_tick", "window_end_s", "state", "tokens", *STAMPS,
           *(f"{name}_ns" for name, *_ in STAGES + SPANS), "deadline_missed")


def records(outputs: list, played: dict, *, first_tick: int, last_tick: int, hop_ticks: int, tick_rate: int,
            tokens: np.ndarray, budget_ns: int) -> dict:
    """The per-tick table.

    Parameters
    ----------
    outputs : list of (int, list of bytes)
        (CLOCK_MONOTONIC ns at receipt, frames) of every output received.
    played : dict
        ``rig.play``'s result (``watermarks``, ``sent_ns``).
    first_tick, last_tick, hop_ticks, tick_rate : int
        The grid of ticks the stream completes (source ticks), and the clock's rate.
    tokens : ndarray of int64, shape (T,)
        Input tokens of each grid tick's window.
    budget_ns : int
        The daemon's latency budget (received -> published), nanoseconds.

    Returns
    -------
    dict of ndarray, shape (T,) each
        ``COLUMNS``; stamps and durations are int64 nanoseconds, -1 where the tick has no output;
        ``state`` is ``run``, ``skipped`` (a gap in the daemon's tick sequence: skipped or failed)
        or ``lost`` (no output and no gap: it never arrived). A daemon that predates
        ``dequeued_ns`` (80-byte output headers) sends 0: it is taken as ``received_ns`` (the ring
        wait reads 0, the window build holds both).
    """
    grid = np.arange(first_tick, last_tick + 1, hop_ticks, dtype=np.int64)
    n = len(grid)
    table = {c: np.full(n, -1, dtype=np.int64) for c in COLUMNS if c not in ("state", "window_end_s", "deadline_missed")}
    table["window_end_tick"] = grid
    table["window_end_s"] = grid / float(tick_rate)
    table["tokens"] = np.asarray(tokens, dtype=np.int64)
    state = np.array(["lost"] * n, dtype=object)
    sequence_at = None
    seen_sequences = []
    for delivered, frames in outputs:
        output = decode(frames, accept=DAEMON_TYPES)
        index = (output.window_end - first_tick) // hop_ticks
        if not (0 <= index < n) or (output.window_end - first_tick) % hop_ticks or state[index] == "run":
            continue  # outside the measured grid, or a second readout of the same tick
        s = output.stages
        for column, value in (("received_ns", s.received), ("dequeued_ns", s.dequeued or s.received),
                              ("window_built_ns", s.window_built),
                              ("forward_done_ns", s.forward_done), ("published_ns", s.published),
                              ("delivered_ns", delivered), ("tick_sequence", output.tick_sequence)):
            table[column][index] = value
        state[index] = "run"
        sequence_at = (output.tick_sequence, index)
        seen_sequences.append(output.tick_sequence)
    if sequence_at is not None:
        # The daemon numbers every tick it passes (run or skipped): fill the grid's numbers in.
        table["tick_sequence"] = sequence_at[0] + np.arange(n, dtype=np.int64) - sequence_at[1]
        lo, hi = min(seen_sequences), max(seen_sequences)
        inside = (table["tick_sequence"] > lo) & (table["tick_sequence"] < hi) & (state != "run")
        state[inside] = "skipped"
        # Missing at the ends: skipped when the daemon's counters say so (see ``reconcile``).
    # The batch whose watermark completed each window: the first with watermark >= tick - 1.
    which = np.searchsorted(played["watermarks"], grid - 1, side="left")
    inside = which < len(played["sent_ns"])
    table["rig_sent_ns"][inside] = played["sent_ns"][which[inside]]
    ran = state == "run"
    for name, start, end, _ in STAGES + SPANS:
        column = table[f"{name}_ns"]
        column[ran] = table[end][ran] - table[start][ran]
    table["state"] = state
    table["deadline_missed"] = (ran & (table["daemon_ns"] > budget_ns)) | (state != "run")
    return table


def reconcile(table: dict, skipped_by_daemon: int) -> None:
    """Ticks missing at the end of the grid (no later output to show the gap) count as skipped
    as far as the daemon's ``ticks_skipped`` counter covers them; the rest stay ``lost``."""
    state = table["state"]
    missing = skipped_by_daemon - int(np.sum(state == "skipped"))
    for index in np.flatnonzero(state == "lost")[::-1]:
        if missing <= 0:
            break
        state[index] = "skipped"
        missing -= 1
    table["deadline_missed"] = table["deadline_missed"] | (state != "run")


def stage_histograms(table: dict, measured: np.ndarray) -> dict:
    """``{stage: HdrHistogram}`` (nanoseconds) of the ticks that ran among ``measured`` (bool mask)."""
    ran = (table["state"] == "run") & measured
    return {name: histograms.of(table[f"{name}_ns"][ran]) for name, *_ in STAGES + SPANS}


def write_csv(table: dict, path: Path) -> None:
    """One row per tick, ``COLUMNS`` as header; -1 stands for "no output" in stamp and duration columns."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for i in range(len(table["window_end_tick"])):
            writer.writerow([f"{table[c][i]:.6f}" if c == "window_end_s" else
                             int(table[c][i]) if c == "deadline_missed" else table[c][i] for c in COLUMNS])
