"""What the profiled model is and costs: ``poyo inspect``'s description of it, parsed."""

from __future__ import annotations

import re
import subprocess
from typing import Optional


def inspect(binary: str, model: str, units: int, spikes: int) -> dict:
    """Kind, parameter count, hyperparameters and GFLOPs of one window of ``units`` units and
    ``spikes`` spikes, from ``poyo inspect`` (None fields when it could not tell)."""
    try:
        text = subprocess.run([str(binary), "inspect", "--model", str(model), "--units", str(units),
                               "--spikes", str(max(0, int(spikes)))], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        text = ""
    return {"path": str(model), "kind": _match(r"^kind: (\S+)", text), "parameters": _int(_match(r"^parameters: (\d+)", text)),
            "hyperparameters": _match(r"^hyperparameters: (.*)$", text),
            "gflop_per_window": _float(_match(r"([\d.]+) GFLOP in poyo-rt", text)),
            "gflop_per_window_torch_brain": _float(_match(r"([\d.]+) GFLOP as torch_brain", text)),
            "cost_window": _match(r"cost of one window \((.*?)\)", text), "inspect": text.strip()}


def _match(pattern: str, text: str) -> Optional[str]:
    m = re.search(pattern, text, re.MULTILINE)
    return m.group(1) if m else None


def _int(v):
    return None if v is None else int(v)


def _float(v):
    return None if v is None else float(v)
