"""Per-source bookkeeping of rig messages, the same rules as Swift's ``SequenceTracker``.

A new source, or sequence 0, starts afresh; the tick rate must not change; the sequence must
grow (a jump counts the missed messages; a rejected message still uses its number up); the first
event must not precede the last accepted one; a watermark must not go back. Events at or before
the previous watermark are reported as late.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np

from .wire import Rejection, SpikeBatch, Watermark, WireError


@dataclass
class Admission:
    missed_messages: int
    late_events: int
    restarted: bool


@dataclass
class _Source:
    last_sequence: int
    tick_rate: int
    last_event_time: int = -1
    watermark: int = -1


class SequenceTracker:
    def __init__(self) -> None:
        self._sources: dict[int, _Source] = {}

    def watermark(self, source_id: int):
        state = self._sources.get(source_id)
        return state.watermark if state is not None and state.watermark >= 0 else None

    def use_up(self, source_id: int, sequence: int) -> int:
        """A message of a known source whose header was read but whose content was rejected uses
        up its sequence number (protocol/SPEC.md section 5); returns the messages missed just
        before it. A new source, sequence 0 or a number not above the last one change nothing."""
        state = self._sources.get(source_id)
        if sequence == 0 or state is None or sequence <= state.last_sequence:
            return 0
        missed = sequence - state.last_sequence - 1
        state.last_sequence = sequence
        return missed

    def admit(self, message: Union[SpikeBatch, Watermark]) -> Admission:
        """Checks ``message`` against its source's history; raises ``WireError`` if rejected."""
        known = self._sources.get(message.source_id)
        missed, restarted = 0, False
        if known is not None and message.sequence != 0:
            state = _Source(**vars(known))
            if message.tick_rate != state.tick_rate:
                raise WireError(Rejection.TICK_RATE_CHANGED)
            if message.sequence <= state.last_sequence:
                raise WireError(Rejection.DUPLICATE_SEQUENCE, f"{message.sequence} after {state.last_sequence}")
            missed = message.sequence - state.last_sequence - 1
            known.last_sequence = state.last_sequence = message.sequence
        else:
            restarted = known is not None
            state = _Source(message.sequence, message.tick_rate)
            self._sources[message.source_id] = _Source(**vars(state))
        late = 0
        times = message.times if isinstance(message, SpikeBatch) else np.empty(0, dtype=np.int64)
        if len(times):
            if times[0] < state.last_event_time:
                raise WireError(Rejection.TIME_WENT_BACKWARDS, f"{times[0]} < {state.last_event_time}")
            late = int(np.searchsorted(times, state.watermark, side="right")) if state.watermark >= 0 else 0
            state.last_event_time = int(times[-1])
        if message.watermark is not None:
            if message.watermark < state.watermark:
                raise WireError(Rejection.WATERMARK_WENT_BACKWARDS, f"{message.watermark} < {state.watermark}")
            state.watermark = message.watermark
        self._sources[message.source_id] = state
        return Admission(missed, late, restarted)
