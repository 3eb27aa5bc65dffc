"""Starting and stopping a ``poyo serve`` daemon for a replay (or a test, or a profile)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

from .sessions import SessionError


class DaemonError(SessionError):
    """The daemon binary is missing, or the daemon refused its configuration or died."""


def stop_daemon(process: subprocess.Popen, timeout: float = 10.0) -> int:
    """SIGTERM (graceful: the tick in progress, a last status, the capture flushed), SIGKILL after
    ``timeout`` seconds; returns the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return process.returncode


def find_poyo_binary(explicit: Optional[str] = None) -> Path:
    """The ``poyo`` executable: ``explicit``, else ``$POYO_BIN``, else ``.build/release/poyo``
    under the current directory or under the source tree this package was installed from."""
    candidates = [explicit] if explicit else []
    if not candidates and os.environ.get("POYO_BIN"):
        candidates = [os.environ["POYO_BIN"]]
    if not candidates:
        candidates = [Path.cwd() / ".build/release/poyo", Path(__file__).resolve().parents[2] / ".build/release/poyo"]
    for candidate in candidates:
        if Path(candidate).is_file():
            return Path(candidate).resolve()
    raise DaemonError(f"the poyo binary is not at {candidates[0]}: build it with `swift build -c release --product poyo`, "
                      f"or give --poyo-bin PATH (or POYO_BIN)")


def free_tcp_endpoint() -> str:
    """``tcp://127.0.0.1:<a free port>``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


class ServeProcess:
    """One ``poyo serve`` subprocess with a generated configuration, stopped on ``close()``.

    Parameters
    ----------
    config : dict
        The configuration (docs/serving.md); ``spikes`` / ``outputs`` endpoints are added on free
        loopback TCP ports when absent. Paths in it should be absolute.
    binary : str, optional
        See ``find_poyo_binary``.
    directory : str, optional
        Where the configuration and the daemon's log go (a temporary folder by default).
    """

    def __init__(self, config: dict, binary: Optional[str] = None, directory: Optional[str] = None):
        self.binary = find_poyo_binary(binary)
        self._tmp = None if directory else tempfile.TemporaryDirectory(prefix="poyo-rt-replay-")
        self.directory = Path(directory or self._tmp.name)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config = dict(config)
        self.config.setdefault("spikes", {"address": free_tcp_endpoint(), "bind": True})
        self.config.setdefault("outputs", {"address": free_tcp_endpoint(), "bind": True})
        self.config_path = self.directory / "serve.json"
        self.config_path.write_text(json.dumps(self.config, indent=1) + "\n")  # JSON is YAML
        self.log_path = self.directory / "serve.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen([str(self.binary), "serve", "--config", str(self.config_path)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log)

    @property
    def spikes(self) -> str:
        return self.config["spikes"]["address"]

    @property
    def outputs(self) -> str:
        return self.config["outputs"]["address"]

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def check_alive(self) -> None:
        """Raises DaemonError with the daemon's last log line if it has exited."""
        if self.process.poll() is not None:
            lines = [line for line in self.log.strip().splitlines() if line.strip()]
            raise DaemonError(f"poyo serve exited ({self.process.returncode}): {lines[-1] if lines else 'no log'}")

    def close(self, timeout: float = 10.0) -> int:
        """SIGTERM (graceful: last status, summary in the log), SIGKILL after ``timeout`` s."""
        status = stop_daemon(self.process, timeout)
        self._log.close()
        return status

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
