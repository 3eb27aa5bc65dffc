"""The per-tick records of a profile, from output messages built here (no daemon): stages,
skipped and lost ticks, the CSV."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from poyo_rt.profiling import histograms, ticks
from poyo_rt.wire import Output, StageTimestamps, encode

HOP = 600  # ticks: 20 ms at 30 kHz
FIRST, LAST = 30_000, 30_000 + 9 * HOP  # ten ticks


def output(k: int, base: int) -> tuple:
    """(receipt ns, frames) of tick k (sequence k), received at ``base`` ns, 1-2-3-4 ms stages."""
    stages = StageTimestamps(base + 1_000_000, base + 2_000_000, base + 5_000_000, base + 5_100_000,
                             dequeued=base + 1_250_000)
    message = Output("cursor_velocity_2d", k, 30_000, FIRST + k * HOP - 30_000, FIRST + k * HOP, stages,
                     np.array([FIRST + k * HOP]), np.zeros((1, 2)))
    return base + 5_300_000, encode(message)


def table_of(received: list, skipped_by_daemon: int = 0) -> dict:
    sent = {"watermarks": np.arange(FIRST - 1, LAST + HOP, 30, dtype=np.int64)}
    sent["sent_ns"] = 1_000_000_000 + 1_000_000 * np.arange(len(sent["watermarks"]), dtype=np.int64)
    outputs = []
    for k in received:
        batch = int(np.searchsorted(sent["watermarks"], FIRST + k * HOP - 1))
        outputs.append(output(k, int(sent["sent_ns"][batch])))
    table = ticks.records(outputs, sent, first_tick=FIRST, last_tick=LAST, hop_ticks=HOP, tick_rate=30_000,
                          tokens=np.full(10, 4400), budget_ns=4_000_000)
    ticks.reconcile(table, skipped_by_daemon)
    return table


def test_gaps_in_the_tick_sequence_are_skipped_ticks_and_the_end_is_reconciled():
    table = table_of([0, 1, 4, 5, 6, 7], skipped_by_daemon=3)  # 2, 3 skipped (a gap); 8, 9 after the last output
    assert list(table["state"]) == ["run"] * 2 + ["skipped"] * 2 + ["run"] * 4 + ["lost", "skipped"]
    assert list(table["tick_sequence"]) == list(range(10))
    assert table["deadline_missed"].tolist() == [True] * 10  # every run tick took 4.1 ms > 4 ms, the rest had none


def test_stages_telescope_to_end_to_end(tmp_path):
    table = table_of(range(10))
    ran = table["state"] == "run"
    assert ran.all()
    assert (table["rig_to_daemon_ns"] == 1_000_000).all() and (table["forward_ns"] == 3_000_000).all()
    assert (table["ring_wait_ns"] == 250_000).all() and (table["window_build_ns"] == 750_000).all()
    total = sum(table[f"{name}_ns"] for name, *_ in ticks.STAGES)
    np.testing.assert_array_equal(total, table["end_to_end_ns"])
    assert (table["end_to_end_ns"] == 5_300_000).all()
    h = ticks.stage_histograms(table, ran)["end_to_end"]
    summary = histograms.summary_ms(h)  # 3 significant digits: within 0.1 %
    assert summary["n"] == 10 and summary["p99_99"] == summary["max"] == pytest.approx(5.3, rel=1e-3)
    ticks.write_csv(table, tmp_path / "ticks.csv")
    with open(tmp_path / "ticks.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 10 and rows[0]["window_end_s"] == "1.000000" and rows[0]["end_to_end_ns"] == "5300000"


def test_a_daemon_without_dequeued_ns_has_the_ring_wait_in_the_window_build():
    older = output(0, 1_000_000_000)
    frames = list(older[1])
    frames[1] = frames[1][:80]  # an 80-byte header: no dequeued_ns
    sent = {"watermarks": np.array([FIRST - 1]), "sent_ns": np.array([1_000_000_000])}
    table = ticks.records([(older[0], frames)], sent, first_tick=FIRST, last_tick=FIRST, hop_ticks=HOP, tick_rate=30_000,
                          tokens=np.array([4400]), budget_ns=20_000_000)
    assert table["ring_wait_ns"][0] == 0 and table["window_build_ns"][0] == 1_000_000
