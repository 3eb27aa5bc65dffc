"""``poyo-rt calibrate``: fit a new session's unit and session embeddings on a few minutes of it.

POYO's unit identification (Azabou et al. 2023): the trained network stays frozen; only the
embedding rows of the recording's units (``unit_emb``) and of its session (``session_emb``) are
added (torch_brain's ``InfiniteVocabEmbedding.extend_vocab``) and fitted with the readout's loss.
The result is a model file whose vocabularies hold the old words and the new ones.

- ``poyo_rt.calibrate.data`` (numpy only): ``CalibrationData``, the recording cut into a
  calibration span with a training and a held-out part, and torch_brain-style windows of it.
- ``poyo_rt.calibrate.torch_model``: model file / checkpoint <-> torch_brain model (needs torch).
- ``poyo_rt.calibrate.fit``: the fit itself (needs torch).
- ``poyo_rt.calibrate.capture_source``: a daemon capture log as a ``Recording``.
- ``poyo_rt.calibrate.command``: the ``poyo-rt calibrate`` command line.

torch and torch_brain are an optional extra (``pip install './python[calibrate]'``); importing
this package does not import them.
"""

from __future__ import annotations

from .data import CalibrationData, CalibrationError

INSTALL_HINT = "poyo-rt calibrate needs torch and torch_brain: pip install './python[calibrate]'"


def torch_available() -> bool:
    """True when torch and torch_brain can be imported."""
    import importlib.util
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "torch_brain"))


__all__ = ["CalibrationData", "CalibrationError", "INSTALL_HINT", "torch_available"]
