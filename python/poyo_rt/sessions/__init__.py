"""Session readers: NWB, temporaldata / brainsets HDF5, and poyo-rt's session file, each
returning one ``Recording`` (``read_recording`` picks the reader from the file's content).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from .nwb import read_nwb
from .poyo_session import read_poyo_session
from .recording import Behaviour, Recording, SessionError
from .temporal import read_temporaldata


def session_format(path: str) -> str:
    """``"nwb"``, ``"temporaldata"`` or ``"poyo-rt-session"``, from the file's content.

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
        raise SessionError(f"{path}: not an HDF5 file (NWB or temporaldata) nor a poyo-rt session file")
    with h5py.File(p, "r") as f:
        attrs = f.attrs
        if "nwb_version" in attrs or "nwb_version" in f or attrs.get("namespace") in ("core", b"core"):
            return "nwb"
        if attrs.get("object") in ("Data", b"Data"):
            return "temporaldata"
    raise SessionError(f"{path}: an HDF5 file that is neither NWB (no nwb_version) nor temporaldata "
                       f"(no root 'object: Data'); poyo-rt reads those two")


READERS = {"nwb": read_nwb, "temporaldata": read_temporaldata, "poyo-rt-session": read_poyo_session}


def read_recording(path: str, behaviour: Optional[str] = None, require_behaviour: bool = True) -> Recording:
    """Reads any supported session file into a ``Recording`` (see ``session_format``)."""
    return READERS[session_format(path)](str(path), behaviour=behaviour, require_behaviour=require_behaviour)


__all__ = ["Behaviour", "Recording", "SessionError", "read_nwb", "read_poyo_session", "read_recording",
           "read_temporaldata", "session_format"]
