"""The installed ``poyo-rt`` console command."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def poyo_rt_command() -> list[str]:
    script = Path(sys.executable).parent / "poyo-rt"
    return [str(script)] if script.exists() else [shutil.which("poyo-rt") or pytest.fail("poyo-rt is not installed")]


def test_export_help_is_the_exporters():
    result = subprocess.run([*poyo_rt_command(), "export", "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "--normalization" in result.stdout


def test_unknown_subcommand_is_refused():
    result = subprocess.run([*poyo_rt_command(), "frobnicate"], capture_output=True, text=True)
    assert result.returncode == 2
