"""The machine a profile ran on, and the daemon process's CPU time, memory and threads
(Linux ``/proc``)."""

from __future__ import annotations

import os
import platform
import threading
import time
from pathlib import Path
from typing import Optional

#: CPU flags that matter to the forward pass's kernels, in the order shown.
VECTOR_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
                "amx_tile", "asimd", "sve")

_POLICIES = {getattr(os, name): label for name, label in
             (("SCHED_OTHER", "SCHED_OTHER"), ("SCHED_FIFO", "SCHED_FIFO"), ("SCHED_RR", "SCHED_RR"),
              ("SCHED_BATCH", "SCHED_BATCH"), ("SCHED_IDLE", "SCHED_IDLE")) if hasattr(os, name)}


def describe() -> dict:
    """CPU model (with family, model and stepping numbers), logical cores (those this process
    may use, and the machine's), vector extensions, kernel, Python; from /proc/cpuinfo and uname."""
    model, flags, ids = platform.processor() or "unknown", set(), {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key in ("model name", "Model") and model in ("unknown", "", platform.machine()):
                model = value.strip()
            elif key in ("flags", "Features") and not flags:
                flags = set(value.split())
            elif key in ("cpu family", "model", "stepping") and key not in ids:
                ids[key] = value.strip()
    except OSError:
        pass
    uname = platform.uname()
    if ids:  # a VM's model name may be generic ("AMD EPYC"): family/model/stepping tell the generation
        model += " (family " + ids.get("cpu family", "?") + ", model " + ids.get("model", "?") + \
                 ", stepping " + ids.get("stepping", "?") + (", virtual machine" if "hypervisor" in flags else "") + ")"
    return {"cpu": model, "cores_usable": len(os.sched_getaffinity(0)), "cores": os.cpu_count(),
            "vector_extensions": [f for f in VECTOR_FLAGS if f in flags], "kernel": f"{uname.system} {uname.release}",
            "architecture": uname.machine, "hostname": uname.node, "python": platform.python_version()}


def threads_of(pid: int) -> list:
    """Each thread of ``pid``: name, scheduling policy and priority, and the CPUs it may run on
    (all of them: not pinned)."""
    everything = set(range(os.cpu_count() or 1))
    rows = []
    try:
        tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return rows
    for tid in tids:
        try:
            name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
            policy = os.sched_getscheduler(tid)
            priority = os.sched_getparam(tid).sched_priority
            cpus = sorted(os.sched_getaffinity(tid))
        except OSError:
            continue
        pinned = set(cpus) != everything and set(cpus) != set(os.sched_getaffinity(0))
        rows.append({"tid": tid, "name": name, "policy": _POLICIES.get(policy, str(policy)), "priority": priority,
                     "cpus": cpus, "pinned": pinned})
    return rows


def _cpu_seconds(pid: int) -> Optional[float]:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime (fields 14, 15 of stat)


def _rss_bytes(pid: int) -> Optional[int]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class ProcessSampler(threading.Thread):
    """Samples a process's CPU time (user + system, seconds) and resident memory (bytes) every
    ``interval`` seconds on a thread of its own, until ``stop()``.

    Attributes
    ----------
    samples : list of (float, float, int)
        (CLOCK_MONOTONIC seconds, CPU seconds so far, RSS bytes).
    """

    def __init__(self, pid: int, interval: float = 0.25):
        super().__init__(daemon=True, name="poyo-rt-profile-sampler")
        self.pid, self.interval = pid, interval
        self.samples: list = []
        self._halt = threading.Event()

    def sample(self) -> None:
        cpu, rss = _cpu_seconds(self.pid), _rss_bytes(self.pid)
        if cpu is not None and rss is not None:
            self.samples.append((time.monotonic(), cpu, rss))

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(5)
        self.sample()

    def summary(self, start: float, end: float) -> dict:
        """CPU use (fraction of one core) and RSS between CLOCK_MONOTONIC seconds ``start`` and
        ``end`` (the measured part of the run)."""
        inside = [s for s in self.samples if start <= s[0] <= end] or self.samples
        if len(inside) < 2:
            return {"cpu_seconds": None, "cpu_cores_used": None, "rss_mb_max": None, "rss_mb_mean": None}
        (t0, c0, _), (t1, c1, _) = inside[0], inside[-1]
        rss = [s[2] / 2**20 for s in inside]
        return {"cpu_seconds": c1 - c0, "cpu_cores_used": (c1 - c0) / (t1 - t0) if t1 > t0 else None,
                "rss_mb_max": max(rss), "rss_mb_mean": sum(rss) / len(rss), "samples": len(inside)}

    def series(self) -> dict:
        """Time series for the report: seconds since the first sample, CPU cores used in each
        interval, RSS in MiB."""
        if len(self.samples) < 2:
            return {"t_s": [], "cpu_cores": [], "rss_mb": []}
        t0 = self.samples[0][0]
        rows = list(zip(self.samples[:-1], self.samples[1:]))
        return {"t_s": [b[0] - t0 for a, b in rows],
                "cpu_cores": [(b[1] - a[1]) / (b[0] - a[0]) if b[0] > a[0] else 0.0 for a, b in rows],
                "rss_mb": [b[2] / 2**20 for a, b in rows]}
