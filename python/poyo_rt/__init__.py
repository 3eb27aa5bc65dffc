"""poyo_rt: the Python side of poyo-rt (``pip install ./python``; the ``poyo-rt`` command).

- ``poyo-rt replay`` (``poyo_rt.replay_command``): a recorded session through the daemon, scored
  (docs/replay.md); ``poyo_rt.sessions.read_recording`` reads NWB, temporaldata and poyo-rt
  session files into one ``Recording``; ``poyo_rt.report`` draws reports (inline SVG, HTML).
- ``poyo-rt export`` (``poyo_rt.export``): torch_brain checkpoint -> model file (``poyo_rt.model_file``).
- ``poyo-rt calibrate`` (``poyo_rt.calibrate``): a new session's unit and session embeddings fitted
  into a frozen model (docs/calibration.md); needs the ``[calibrate]`` extra (torch, torch_brain).

The reference client of the wire protocol (protocol/SPEC.md):

- ``poyo_rt.wire``: encode/decode every message with numpy, no I/O (``encode``, ``decode``,
  ``SpikeBatch``, ``Watermark``, ``Output``, ``Status``, ``Rejection``, ``WireError``,
  ``DAEMON_COUNTERS``: the names of a status message's daemon counters).
- ``poyo_rt.client``: ``SpikePublisher`` (rig -> daemon: spikes, watermarks) and
  ``OutputSubscriber`` (daemon -> experiment: outputs, status) over pyzmq.
- ``poyo_rt.sequence``: ``SequenceTracker``, the daemon's per-source gap and ordering rules.

The client needs only pyzmq and numpy. See protocol/README.md for examples.
"""

from .capture import CaptureLog, read_capture_log
from .client import BehaviourPublisher, OutputSubscriber, SpikePublisher
from .sequence import Admission, SequenceTracker
from .sessions import Behaviour, Recording, SessionError, read_recording
from .wire import (DAEMON_COUNTERS, BehaviourMessage, MessageType, Output, ReadoutQuality, Rejection, SpikeBatch,
                   StageTimestamps, Status, Watermark, WireError, decode, encode)

__all__ = [
    "Behaviour", "Recording", "SessionError", "read_recording",
    "DAEMON_COUNTERS", "Admission", "MessageType", "Output", "OutputSubscriber", "Rejection", "SequenceTracker",
    "SpikeBatch", "SpikePublisher", "StageTimestamps", "Status", "Watermark", "WireError", "decode", "encode",
    "BehaviourMessage", "BehaviourPublisher", "ReadoutQuality", "CaptureLog", "read_capture_log",
]
