"""Session readers: NWB, temporaldata / brainsets HDF5, poyo-rt's session file and capture log,
each returning one ``Recording`` (``read_recording`` picks the reader from the file's content).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from .capture_session import read_capture_session
from .nwb import read_nwb
from .poyo_session import read_poyo_session
from .recording import Behaviour, Recording, SessionError
from .temporal import read_temporaldata


def session_format(path: str) -> str:
    """``"nwb"``, ``"temporaldata"``, ``"poyo-rt-session"`` or ``"capture-log"``, from the file's content.

    Raises
    ------
    SessionError
        The file is missing, or none of these.
    """
    import h5py
    p = Path(path)
    if not p.is_file():
        raise SessionError(f"{path}: no such file")
    if not h5py.is_hdf5(str(p)):
        with open(p, "rb") as f:
            head = f.read(4096)
        if b"poyo_rt_session" in head:
            return "poyo-rt-session"
        if head.startswith(b"PYRTCAP1"):
            return "capture-log"
        raise SessionError(f"{path}: not an HDF5 file (NWB or temporaldata), a poyo-rt session file nor a capture log")
    with h5py.File(p, "r") as f:
        attrs = f.attrs
        if "nwb_version" in attrs or "nwb_version" in f or attrs.get("namespace") in ("core", b"core"):
            return "nwb"
        if attrs.get("object") in ("Data", b"Data"):
            return "temporaldata"
    raise SessionError(f"{path}: an HDF5 file that is neither NWB (no nwb_version) nor temporaldata "
                       f"(no root 'object: Data'); poyo-rt reads those two")


READERS = {"nwb": read_nwb, "temporaldata": read_temporaldata, "poyo-rt-session": read_poyo_session,
           "capture-log": read_capture_session}


def read_recording(path: str, behaviour: Optional[str] = None, require_behaviour: bool = True) -> Recording:
    """Reads any supported session file into a ``Recording`` (see ``session_format``)."""
    return READERS[session_format(path)](str(path), behaviour=behaviour, require_behaviour=require_behaviour)


__all__ = ["Behaviour", "Recording", "SessionError", "read_capture_session", "read_nwb", "read_poyo_session", "read_recording",
           "read_temporaldata", "session_format"]
