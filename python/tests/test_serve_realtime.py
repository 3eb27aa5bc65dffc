"""``realtime_priority`` end to end: ``poyo serve`` runs its ingest, scheduler and model worker
threads under SCHED_FIFO at that priority, and its other threads (main, libzmq's) as they were;
where the OS refuses SCHED_FIFO it does not start (exit status 2, one message naming the fix)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import DEMO, poyo_binary

from poyo_rt.daemon import free_tcp_endpoint, stop_daemon

PRIORITY = 7
THREADS = 2


def serve_command(*extra: str) -> list:
    return [str(poyo_binary()), "serve", "--model", str(DEMO / "poyo_demo.safetensors"),
            "--session", "demo/random_target", "--unit-prefix", "demo/random_target/unit_",
            "--spikes", free_tcp_endpoint(), "--outputs", free_tcp_endpoint(), "--no-capture",
            "--threads", str(THREADS), "--realtime-priority", str(PRIORITY), *extra]


def fifo_permitted() -> bool:
    """Whether this process may use SCHED_FIFO at PRIORITY (the daemon's own start-up probe)."""
    policy, priority = os.sched_getscheduler(0), os.sched_getparam(0).sched_priority
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(PRIORITY))
    except PermissionError:
        return False
    os.sched_setscheduler(0, policy, os.sched_param(priority))
    return True


def assert_refused(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 2, result.stderr
    message = result.stderr
    for part in (f"realtime_priority is {PRIORITY}", "Operation not permitted", "CAP_SYS_NICE", "LimitRTPRIO"):
        assert part in message, message


def wait_for_log(process: subprocess.Popen, log: Path, text: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"poyo serve exited ({process.returncode}): {log.read_text()}")
        if text in log.read_text():
            return
        time.sleep(0.05)
    pytest.fail(f"no {text!r} in the log of poyo serve within {timeout} s: {log.read_text()}")


def scheduling(pid: int) -> dict:
    """{tid: (thread name, policy, priority)} of every thread of ``pid``."""
    threads = {}
    for tid in map(int, os.listdir(f"/proc/{pid}/task")):
        name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
        threads[tid] = (name, os.sched_getscheduler(tid), os.sched_getparam(tid).sched_priority)
    return threads


def fifo_threads(threads: dict) -> set:
    return {tid for tid, (_, policy, priority) in threads.items() if policy == os.SCHED_FIFO and priority == PRIORITY}


def test_realtime_priority_runs_the_daemon_threads_under_sched_fifo(tmp_path):
    if not fifo_permitted():
        assert_refused(subprocess.run(serve_command(), capture_output=True, text=True, timeout=30))
        return
    log = tmp_path / "serve.log"
    with open(log, "wb") as stderr:
        process = subprocess.Popen(serve_command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        wait_for_log(process, log, "endpoints=")  # the "serving" notice: both sockets bound
        started = scheduling(process.pid)
        # SIGHUP (no --config: the same model file again) loads a model with workers of its own.
        process.send_signal(signal.SIGHUP)
        wait_for_log(process, log, "reloaded")
        reloaded = scheduling(process.pid)
        process.send_signal(signal.SIGUSR1)
        wait_for_log(process, log, "counters on request")
    finally:
        status = stop_daemon(process)
    # The ingest and scheduler threads and threads - 1 workers; the main thread and libzmq's keep
    # their policy.
    assert len(fifo_threads(started)) == 2 + (THREADS - 1), started
    assert started[process.pid][1] == os.SCHED_OTHER, started
    assert all(name.startswith("ZMQbg") for tid, (name, _, _) in started.items()
               if tid != process.pid and tid not in fifo_threads(started)), started
    # The reloaded model's workers too (the old model's stay until the switch, at the next message).
    new_workers = fifo_threads(reloaded) - fifo_threads(started)
    assert len(new_workers) == THREADS - 1, reloaded
    assert status == 0, log.read_text()
    # Each thread is named for ps -L and top -H, and the start and SIGUSR1 log lines say how it runs.
    names = sorted(started[tid][0] for tid in fifo_threads(started))
    assert names == ["poyo-ingest", "poyo-scheduler", "poyo-worker-1"], started
    text = log.read_text()
    serving = next(line for line in text.splitlines() if "endpoints=" in line)
    assert f"scheduling=SCHED_FIFO {PRIORITY}" in serving and f"threads={THREADS}" in serving, serving
    dump = next(line for line in text.splitlines() if "counters on request" in line)
    for counter in ("reloads=", "reloads_failed=0", "outside_windows=", "capture_dropped=0", "behaviour_accepted=0", "ticks_failed=0"):
        assert counter in dump, dump


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv to drop to an unprivileged user")
def test_an_unprivileged_daemon_refuses_to_start():
    command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", *serve_command()]
    assert_refused(subprocess.run(command, capture_output=True, text=True, timeout=30))
