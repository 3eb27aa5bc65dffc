"""Binding a recording to a model: which vocabulary word each rig unit is, and the session word.

A replay refuses to start when a unit or the session is missing from the model's vocabularies:
a decoder fed unknown units would decode something, silently wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from .sessions import Recording, SessionError


class BindingError(SessionError):
    """The recording's units or session are not all in the model's vocabularies."""


@dataclass
class UnitBinding:
    """How the daemon must be configured for a recording.

    Attributes
    ----------
    session_word : str
        The model's session vocabulary word.
    rig_ids : ndarray of int64, shape (U,)
        The rig unit ids sent on the wire, in the recording's unit order.
    words : list of str, length U
        The unit vocabulary word of each.
    recording_ids : ndarray of int64, shape (U,)
        The recording's own unit ids (``Recording.unit_ids``), same order.
    """

    session_word: str
    rig_ids: np.ndarray
    words: list
    recording_ids: np.ndarray = None

    def to_wire(self, spike_units: np.ndarray) -> np.ndarray:
        """Rig ids (uint32) of spikes given by the recording's unit ids."""
        ids = self.recording_ids if self.recording_ids is not None else self.rig_ids
        order = np.argsort(ids)
        return np.asarray(self.rig_ids, dtype=np.uint32)[order][np.searchsorted(ids[order], spike_units)]

    def config(self, unit_vocab: dict) -> dict:
        """The ``units`` / ``unit_prefix`` fields of a ``poyo serve`` configuration.

        ``unit_prefix`` when every word is ``<prefix><rig id>`` and the vocabulary holds no other
        word with that prefix (the daemon then has exactly these units); ``units`` otherwise.
        """
        prefixes = {w[: len(w) - len(str(i))] for w, i in zip(self.words, self.rig_ids) if w.endswith(str(i))}
        if len(prefixes) == 1 and all(w.endswith(str(i)) for w, i in zip(self.words, self.rig_ids)):
            prefix = prefixes.pop()
            in_vocab = {w for w in unit_vocab if w.startswith(prefix) and w[len(prefix):].isdigit()}
            if prefix and in_vocab == set(self.words):
                return {"unit_prefix": prefix}
        return {"units": {str(int(i)): w for i, w in zip(self.rig_ids, self.words)}}


def read_unit_map(path: str) -> dict:
    """A unit map file (YAML or JSON): ``{rig id: vocabulary word}``."""
    import yaml
    try:
        mapping = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as error:
        raise BindingError(f"{path}: cannot read the unit map ({error})") from None
    if not isinstance(mapping, dict) or not all(re.fullmatch(r"\s*\d+\s*", str(k)) for k in mapping):
        raise BindingError(f"{path}: a unit map is {{rig unit id: unit vocabulary word}}, e.g. {{17: session/unit_17}}")
    return {int(k): str(v) for k, v in mapping.items()}


def _first(names, n: int = 5) -> str:
    names = list(names)
    return ", ".join(names[:n]) + (", ..." if len(names) > n else "")


def bind(recording: Recording, description: dict, *, unit_prefix: Optional[str] = None,
         unit_map: Optional[dict] = None, session_word: Optional[str] = None) -> UnitBinding:
    """Names every unit of ``recording`` in the model's vocabulary and checks the session word.

    Parameters
    ----------
    recording : Recording
    description : dict
        The model file's description (``poyo_rt.model_file.read_model_file``).
    unit_prefix : str, optional
        Rig unit N is the word ``<unit_prefix>N`` (NWB files, whose units have no words).
    unit_map : dict of int to str, optional
        Rig unit id -> word, for the units it names (overrides the file's and the prefix's).
    session_word : str, optional
        The model's session word; default the recording's ``session_id``.

    Raises
    ------
    BindingError
        One message naming how many units, and whether the session, are missing from the model.
    """
    ids = np.asarray(recording.unit_ids, dtype=np.int64)
    words: list = []
    unnamed = []
    for position, rig_id in enumerate(ids):
        word = (unit_map or {}).get(int(rig_id))
        if word is None and unit_prefix is not None:
            word = f"{unit_prefix}{rig_id}"
        if word is None and recording.unit_words is not None:
            word = recording.unit_words[position]
        if word is None:
            unnamed.append(int(rig_id))
        words.append(word)
    if unnamed:
        raise BindingError(f"{recording.path}: {len(unnamed)} units have no vocabulary word (rig ids {_first(map(str, unnamed))}): "
                           f"give --unit-prefix P (rig unit N is the word PN) or --units MAPFILE")
    unit_vocab, session_vocab = description["unit_vocab"], description["session_vocab"]
    session = session_word if session_word is not None else recording.session_id
    problems = []
    missing = [w for w in words if w not in unit_vocab or w == "NA"]
    if missing:
        problems.append(f"{len(missing)} of {len(words)} units are not in the model's unit vocabulary "
                        f"(first: {_first(missing, 3)}; the model has e.g. {_first(sorted(w for w in unit_vocab if w != 'NA'), 3)})")
    if session not in session_vocab or session == "NA":
        problems.append(f"session '{session}' is not in the model's session vocabulary "
                        f"(it has {_first(sorted(w for w in session_vocab if w != 'NA'), 3)}; give --session-word)")
    if len(set(words)) != len(words):
        problems.append("two units map to the same vocabulary word")
    if problems:
        raise BindingError("the model does not know this recording: " + "; ".join(problems))
    return UnitBinding(session, _wire_ids(recording, ids, words), words, ids)


def _wire_ids(recording: Recording, ids: np.ndarray, words: list) -> np.ndarray:
    """Rig ids to send. A temporaldata file has no rig ids (its units are indexes): when every
    word ends in a distinct number after one common prefix (``.../unit_17``), that number is the
    rig id, as a rig would number the channel, so the daemon can map them by ``unit_prefix``."""
    if recording.format != "temporaldata" or not np.array_equal(ids, np.arange(len(ids))):
        return ids  # rig ids of the file's own
    matches = [re.fullmatch(r"(.*?)(\d+)", w) for w in words]
    if all(matches) and len({m.group(1) for m in matches}) == 1:
        numbers = np.array([int(m.group(2)) for m in matches], dtype=np.int64)
        if len(np.unique(numbers)) == len(numbers) and numbers.max() < 2**32 and all(
                w == f"{m.group(1)}{n}" for w, m, n in zip(words, matches, numbers)):
            return numbers
    return ids
