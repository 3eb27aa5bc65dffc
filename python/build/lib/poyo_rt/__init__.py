"""poyo_rt: the reference Python client of the poyo-rt wire protocol (protocol/SPEC.md).

- ``poyo_rt.wire``: encode/decode every message with numpy, no I/O (``encode``, ``decode``,
  ``SpikeBatch``, ``Watermark``, ``Output``, ``Status``, ``Rejection``, ``WireError``,
  ``DAEMON_COUNTERS``: the names of a status message's daemon counters).
- ``poyo_rt.client``: ``SpikePublisher`` (rig -> daemon: spikes, watermarks) and
  ``OutputSubscriber`` (daemon -> experiment: outputs, status) over pyzmq.
- ``poyo_rt.sequence``: ``SequenceTracker``, the daemon's per-source gap and ordering rules.

Needs only pyzmq and numpy. See protocol/README.md for examples.
"""

from .client import OutputSubscriber, SpikePublisher
from .sequence import Admission, SequenceTracker
from .wire import (DAEMON_COUNTERS, MessageType, Output, Rejection, SpikeBatch, StageTimestamps, Status, Watermark,
                   WireError, decode, encode)

__all__ = [
    "DAEMON_COUNTERS", "Admission", "MessageType", "Output", "OutputSubscriber", "Rejection", "SequenceTracker",
    "SpikeBatch", "SpikePublisher", "StageTimestamps", "Status", "Watermark", "WireError", "decode", "encode",
]
