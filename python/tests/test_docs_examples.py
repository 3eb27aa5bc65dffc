"""Every ```python block of README.md and docs/*.md runs as written against a real daemon.

Each block runs in a fresh interpreter of this environment (the one `scripts/install-deps`
makes), from the repository root, while `poyo serve` runs with demo/serve.yaml. The only change
made to a block: the default endpoints (tcp://127.0.0.1:5555 and :5556) become free ports, so
the test cannot collide with a daemon someone else runs on this machine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, poyo_binary

from poyo_rt.daemon import ServeProcess

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def python_blocks():
    for document in DOCUMENTS:
        text = document.read_text()
        for number, match in enumerate(re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M)):
            line = text[: match.start()].count("\n") + 2
            yield pytest.param(match.group(1), id=f"{document.relative_to(ROOT)}:{line}")


def test_the_documents_have_python_examples():
    assert len(list(python_blocks())) >= 2


@pytest.mark.parametrize("code", list(python_blocks()))
def test_example_runs(code, tmp_path):
    config = yaml.safe_load((ROOT / "demo" / "serve.yaml").read_text())
    config["model"] = str(ROOT / "demo" / config["model"])  # relative to the configuration's directory
    daemon = ServeProcess({k: v for k, v in config.items() if k not in ("spikes", "outputs")},
                          binary=str(poyo_binary()), directory=str(tmp_path / "daemon"))
    try:
        code = code.replace("tcp://127.0.0.1:5555", daemon.spikes).replace("tcp://127.0.0.1:5556", daemon.outputs)
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
        daemon.check_alive()
    finally:
        daemon.close()
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\ndaemon log:\n{daemon.log}"
