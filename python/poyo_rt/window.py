"""One input window, tokenized exactly as torch_brain's POYO/POYOPlus `tokenize` does (numpy only).

Used by the parity fixtures and by the torch_brain benchmark so both feed the model what the
daemon will: for every unit of the session a start token (type 1, t = 0) and an end token
(type 2, t = sequence_length), laid out [u0 start, u0 end, u1 start, ...], then the spikes
(type 0) in time order; latents from `create_linspace_latent_tokens`. Times are seconds
relative to the window start.
"""

from __future__ import annotations

import numpy as np

START_OF_SEQUENCE, END_OF_SEQUENCE, SPIKE = 1, 2, 0


def start_end_tokens(num_units: int, sequence_length: float):
    """torch_brain.utils.create_start_end_unit_tokens(unit_ids, 0, sequence_length)."""
    token_type = np.tile(np.array([START_OF_SEQUENCE, END_OF_SEQUENCE], dtype=np.int64), num_units)
    unit_index = np.repeat(np.arange(num_units), 2)
    timestamps = np.tile(np.array([0.0, sequence_length], dtype=np.float64), num_units)
    return token_type, unit_index, timestamps


def linspace_latents(sequence_length: float, latent_step: float, num_latents_per_step: int):
    """torch_brain.utils.create_linspace_latent_tokens(0, sequence_length, ...)."""
    steps = np.arange(0, sequence_length, latent_step) + latent_step / 2
    latent_timestamps = np.repeat(steps, num_latents_per_step)
    latent_index = np.tile(np.arange(num_latents_per_step, dtype=np.int64), len(steps))
    return latent_index, latent_timestamps


def poisson_spikes(rng: np.random.Generator, num_units: int, rate_hz: float, sequence_length: float):
    """Independent Poisson spike trains -> (local unit index, time), sorted by time."""
    counts = rng.poisson(rate_hz * sequence_length, size=num_units)
    unit = np.repeat(np.arange(num_units), counts)
    t = rng.uniform(0.0, sequence_length, size=unit.size)
    order = np.argsort(t, kind="stable")
    return unit[order], t[order]


def make_window(unit_rows, spike_unit, spike_time, *, sequence_length, latent_step,
                num_latents_per_step, session_row, output_timestamps, output_decoder_index=None):
    """Model inputs of one unbatched window, named as torch_brain's forward() arguments.

    unit_rows: unit_emb row of each unit of the session (local unit i -> unit_rows[i]);
    spike_unit / spike_time: local unit index and time (in [0, sequence_length)) of each spike.
    """
    unit_rows = np.asarray(unit_rows, dtype=np.int64)
    se_type, se_unit, se_time = start_end_tokens(len(unit_rows), sequence_length)
    local_unit = np.concatenate([se_unit, np.asarray(spike_unit, dtype=np.int64)])
    latent_index, latent_timestamps = linspace_latents(sequence_length, latent_step, num_latents_per_step)
    output_timestamps = np.asarray(output_timestamps, dtype=np.float64)
    window = {
        "input_unit_index": unit_rows[local_unit],
        "input_timestamps": np.concatenate([se_time, np.asarray(spike_time, dtype=np.float64)]),
        "input_token_type": np.concatenate([se_type, np.zeros(len(spike_unit), dtype=np.int64)]),
        "latent_index": latent_index,
        "latent_timestamps": latent_timestamps,
        "output_session_index": np.full(len(output_timestamps), session_row, dtype=np.int64),
        "output_timestamps": output_timestamps,
    }
    if output_decoder_index is not None:
        window["output_decoder_index"] = np.asarray(output_decoder_index, dtype=np.int64)
    return window
