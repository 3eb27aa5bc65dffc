"""Python and Swift over real sockets (tcp on 127.0.0.1 and ipc), both directions.

The Swift side is the `poyo` binary: `poyo wire-listen` (a SUB that prints what it decodes as
JSON lines) and `poyo wire-publish` (a PUB that sends known messages after a handshake). The
binary is $POYO_BIN, or built here with `swift build --product poyo` (scratch path
$POYO_SCRATCH_PATH, else .build-wire if present, else .build).
"""

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import zmq

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from poyo_rt import Output, OutputSubscriber, SpikePublisher, Status, decode  # noqa: E402
from poyo_rt.wire import RIG_TYPES, SpikeBatch  # noqa: E402


@pytest.fixture(scope="session")
def poyo_binary() -> str:
    if os.environ.get("POYO_BIN"):
        return os.environ["POYO_BIN"]
    scratch = os.environ.get("POYO_SCRATCH_PATH") or (".build-wire" if (ROOT / ".build-wire").is_dir() else ".build")
    command = ["swift", "build", "--scratch-path", scratch, "--product", "poyo"]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    bin_path = subprocess.run(command + ["--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True)
    return str(Path(bin_path.stdout.strip()) / "poyo")


@pytest.fixture(params=["tcp", "ipc"])
def endpoint(request, tmp_path):
    return "tcp://127.0.0.1:*" if request.param == "tcp" else f"ipc://{tmp_path}/wire.sock"


class JSONLines:
    """A child process whose stdout lines are read by a thread into a queue (no blocking reads)."""

    def __init__(self, command: list[str]):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def next(self, timeout: float = 10.0) -> dict:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line from {self.process.args[1]} within {timeout} s") from None

    def close(self) -> int:
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait(timeout=10)


def test_python_rig_to_swift_ingest(poyo_binary, endpoint):
    listener = JSONLines([poyo_binary, "wire-listen", "--bind", endpoint, "--timeout", "20"])
    try:
        bound = listener.next()
        assert bound["type"] == "listening"
        with SpikePublisher(bound["endpoint"], source_id=4, tick_rate=30_000, context=zmq.Context()) as rig:
            # Slow joiner: heartbeats until Swift has printed one.
            rig.wait_for_subscriber(lambda: not listener.lines.empty(), timeout=20)
            rig.publish([0, 30, 30, 299], [5, 6, 7, 8], watermark=300)
            rig.publish([], [], watermark=600)
            rig.socket.send_multipart([b"spikes", bytes(40), b""])  # not even a magic
            rig.sequence += 3  # three messages lost
            rig.publish([700, 65_000], [1, 2**32 - 1])
            rig.watermark(90_000)
        seen = []
        while not seen or seen[-1].get("watermark") != 90_000:
            line = listener.next()
            if not (line["type"] == "watermark" and line["watermark"] == 0):  # handshake heartbeats
                seen.append(line)
        assert [line["type"] for line in seen] == ["spike_batch", "spike_batch", "rejected", "spike_batch", "watermark"]
        first, empty, rejected, gap, last = seen
        assert (first["times"], first["units"], first["watermark"]) == ([0, 30, 30, 299], [5, 6, 7, 8], 300)
        assert (empty["times"], empty["watermark"]) == ([], 600)
        assert rejected["rejection"] == "bad_magic"
        assert gap["missed_messages"] == 3 and gap["units"] == [1, 2**32 - 1] and gap["watermark"] is None
        assert last["source_id"] == 4 and last["missed_messages"] == 0
    finally:
        listener.close()


def test_swift_daemon_outputs_to_python_subscriber(poyo_binary, endpoint):
    count = 12
    publisher = JSONLines([poyo_binary, "wire-publish", "--bind", endpoint, "--count", str(count)])
    try:
        bound = publisher.next()
        with OutputSubscriber(bound["endpoint"], context=zmq.Context()) as sub:
            status = sub.receive(timeout=20)  # a heartbeat: the subscription is in place
            assert isinstance(status, Status) and status.model == "wire-publish"
            publisher.process.stdin.write("go\n")
            publisher.process.stdin.flush()
            outputs = []
            while len(outputs) < count:
                message = sub.receive(timeout=10)
                assert message is not None, f"only {len(outputs)} of {count} outputs arrived"
                if isinstance(message, Output):
                    outputs.append(message)
        assert publisher.process.wait(timeout=10) == 0
        for k, output in enumerate(outputs):
            values = np.array([[k, -k], [k + 0.5, k / 4]], dtype=np.float32)
            assert output.readout == "cursor_velocity_2d" and output.tick_sequence == k
            assert (output.window_start, output.window_end) == (600 * k, 600 * k + 30_000)
            assert output.timestamps.tolist() == [600 * k + 29_700, 600 * k + 30_000]
            np.testing.assert_array_equal(output.values, values)
            if k % 2:
                np.testing.assert_array_equal(output.raw_values, values / 8)
            else:
                assert output.raw_values is None
            s = output.stages
            assert 0 < s.received <= s.window_built <= s.forward_done <= s.published
        assert sub.rejected == {} and sub.missed_ticks == 0
    finally:
        publisher.close()


def test_swift_rig_to_python_ingest(poyo_binary, endpoint):
    count = 20
    publisher = JSONLines([poyo_binary, "wire-publish", "--kind", "spikes", "--bind", endpoint, "--count", str(count)])
    context = zmq.Context()
    sub = context.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    try:
        sub.connect(publisher.next()["endpoint"])
        assert sub.poll(20_000), "no heartbeat from wire-publish"
        publisher.process.stdin.write("go\n")
        publisher.process.stdin.flush()
        batches = []
        while len(batches) < count:
            assert sub.poll(10_000), f"only {len(batches)} of {count} batches arrived"
            message = decode(sub.recv_multipart(), accept=RIG_TYPES)
            if isinstance(message, SpikeBatch):
                batches.append(message)
        assert publisher.process.wait(timeout=10) == 0
        handshake = publisher.next()
        assert handshake["type"] == "handshake"
        for k, batch in enumerate(batches):
            assert batch.source_id == 3 and batch.sequence == handshake["heartbeats"] + k
            assert batch.times.tolist() == [100 * k + i for i in range(k + 1)]
            assert batch.units.tolist() == [7 * i for i in range(k + 1)]
            assert batch.watermark == 100 * k + 99
    finally:
        sub.close()
        context.term()
        publisher.close()
