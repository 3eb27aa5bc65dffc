"""The poyo-rt model file (docs/model-format.md), written and read with numpy only.

Why not the `safetensors` package: the format needs every F32 tensor to start aligned (so
the daemon can map the weights in place) and the metadata to be validated against the
model's shapes before anything is written. The container is small enough to write here,
and the same code then serves the exporter (no torch), the fixture generator and the
torch_brain benchmark (reverse direction). Files written here are ordinary safetensors
files: `safetensors.numpy.load_file` reads them.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

FORMAT = "poyo-rt-model"
FORMAT_VERSION = 1
METADATA_KEY = "poyo_rt"
KINDS = ("POYO", "POYOPlus")
READOUT_TYPES = ("continuous", "binary", "multinomial", "multilabel")
HYPERPARAMETER_KEYS = (
    "sequence_length", "latent_step", "num_latents_per_step", "dim", "depth",
    "dim_head", "cross_heads", "self_heads", "t_min", "t_max",
)

# safetensors dtype names <-> numpy dtypes (only those we read or write)
_DTYPES = {
    "F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
_NAMES = {v: k for k, v in _DTYPES.items()}


class ModelFileError(ValueError):
    """A model file (or what is about to become one) is not what docs/model-format.md says."""


# --------------------------------------------------------------------------------------
# safetensors container
# --------------------------------------------------------------------------------------

def write_safetensors(path, tensors: dict, metadata: dict | None = None) -> None:
    """Write `tensors` (name -> numpy array) as safetensors.

    safetensors requires the data section to be contiguous (no gaps), so alignment comes
    from the order: the header is padded with spaces to a multiple of 8 bytes, tensors
    whose byte size is a multiple of 8 come first (each starts 8-byte aligned), then the
    others (e.g. a bias of odd length), which still start on a multiple of their itemsize.
    """
    arrays = {}
    for name, value in tensors.items():
        a = np.ascontiguousarray(value)
        if a.dtype.newbyteorder("<") in _NAMES:
            a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        if a.dtype not in _NAMES:
            raise ModelFileError(f"{name}: dtype {a.dtype} cannot be stored")
        arrays[name] = a
    order = sorted(arrays, key=lambda n: (arrays[n].nbytes % 8 != 0, -arrays[n].dtype.itemsize))
    header, offset = {}, 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in order:
        a = arrays[name]
        header[name] = {"dtype": _NAMES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    blob = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    blob += b" " * (-(8 + len(blob)) % 8)
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for name in order:
            f.write(arrays[name].tobytes())
    tmp.replace(path)


def read_safetensors(path) -> tuple[dict, dict]:
    """Read a safetensors file -> (name -> numpy array, metadata dict); strict about layout."""
    # The file as a whole first, by the format's reference library (header size, JSON, offsets
    # tiling the data section, sizes), as `poyo` does: entry-by-entry checks miss gaps and overlaps.
    try:
        from safetensors import safe_open
        with safe_open(str(path), framework="numpy") as f:
            f.keys()
    except ImportError:
        pass
    except Exception as e:  # noqa: BLE001 - the library raises several types, all meaning "not valid"
        raise ModelFileError(f"{path}: not a valid safetensors file: {e}") from None
    data = Path(path).read_bytes()
    if len(data) < 8:
        raise ModelFileError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ModelFileError(f"{path}: header length {n} runs past the end of the file")

    def unique(pairs):
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ModelFileError(f"{path}: not a valid safetensors file: a key appears more than once in the header")
        return dict(pairs)

    try:
        header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=unique)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(f"{path}: header is not JSON ({e})") from None
    metadata = header.pop("__metadata__", None) or {}
    body = memoryview(data)[8 + n:]
    tensors = {}
    for name, info in header.items():
        dtype = _DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise ModelFileError(f"{path}: tensor {name} has unsupported dtype {info.get('dtype')}")
        start, end = info["data_offsets"]
        shape = tuple(int(s) for s in info["shape"])
        if not 0 <= start <= end <= len(body) or end - start != int(np.prod(shape)) * dtype.itemsize:
            raise ModelFileError(f"{path}: tensor {name} has bad data_offsets {info['data_offsets']}")
        tensors[name] = np.frombuffer(body[start:end], dtype=dtype).reshape(shape).copy()
    return tensors, metadata


# --------------------------------------------------------------------------------------
# the model description and its tensors
# --------------------------------------------------------------------------------------

def expected_shapes(kind: str, hp: dict, n_units: int, n_sessions: int, readouts: list,
                    task_rows: int | None = None) -> dict:
    """Tensor name -> shape for a model of this description (the table of model-format.md)."""
    D, Dh = hp["dim"], hp["dim_head"]
    Hc, Hs, P = hp["cross_heads"], hp["self_heads"], hp["num_latents_per_step"]
    shapes = {
        "unit_emb.weight": (n_units, D),
        "session_emb.weight": (n_sessions, D),
        "token_type_emb.weight": (4, D),
        "latent_emb.weight": (P, D),
        "rotary_emb.omega": (Dh // 2,),
    }

    def ffn(prefix):
        shapes[f"{prefix}.0.weight"] = (D,)
        shapes[f"{prefix}.0.bias"] = (D,)
        shapes[f"{prefix}.1.net.0.weight"] = (8 * D, D)
        shapes[f"{prefix}.1.net.0.bias"] = (8 * D,)
        shapes[f"{prefix}.1.net.3.weight"] = (D, 4 * D)
        shapes[f"{prefix}.1.net.3.bias"] = (D,)

    def cross(prefix):
        for ln in ("norm", "norm_context"):
            shapes[f"{prefix}.{ln}.weight"] = (D,)
            shapes[f"{prefix}.{ln}.bias"] = (D,)
        shapes[f"{prefix}.to_q.weight"] = (Hc * Dh, D)
        shapes[f"{prefix}.to_kv.weight"] = (2 * Hc * Dh, D)
        shapes[f"{prefix}.to_out.weight"] = (D, Hc * Dh)
        shapes[f"{prefix}.to_out.bias"] = (D,)

    cross("enc_atn")
    ffn("enc_ffn")
    for i in range(hp["depth"]):
        p = f"proc_layers.{i}"
        shapes[f"{p}.0.norm.weight"] = (D,)
        shapes[f"{p}.0.norm.bias"] = (D,)
        shapes[f"{p}.0.to_qkv.weight"] = (3 * Hs * Dh, D)
        shapes[f"{p}.0.to_out.weight"] = (D, Hs * Dh)
        shapes[f"{p}.0.to_out.bias"] = (D,)
        ffn(f"{p}.1")
    cross("dec_atn")
    ffn("dec_ffn")
    if kind == "POYO":
        (r,) = readouts
        shapes["readout.weight"] = (r["dim"], D)
        shapes["readout.bias"] = (r["dim"],)
    else:
        rows = task_rows if task_rows is not None else max(r["id"] for r in readouts) + 1
        shapes["task_emb.weight"] = (rows, D)
        for r in readouts:
            shapes[f"readout.projections.{r['name']}.weight"] = (r["dim"], D)
            shapes[f"readout.projections.{r['name']}.bias"] = (r["dim"],)
    return shapes


def _check_vocab(name: str, vocab: dict, rows: int) -> None:
    if vocab.get("NA") != 0:
        raise ModelFileError(f"{name}: 'NA' must map to row 0")
    if sorted(vocab.values()) != list(range(rows)):
        raise ModelFileError(f"{name}: rows must be unique and cover 0..<{rows} (got {len(vocab)} words)")


def validate(description: dict, tensors: dict) -> None:
    """Raise ModelFileError (naming the key) unless description + tensors form a valid model."""
    if description.get("format") != FORMAT or description.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"not a {FORMAT} version {FORMAT_VERSION} description")
    kind = description.get("kind")
    if kind not in KINDS:
        raise ModelFileError(f"kind: {kind!r} is not one of {KINDS}")
    hp = description["hyperparameters"]
    missing = [k for k in HYPERPARAMETER_KEYS if k not in hp]
    if missing:
        raise ModelFileError(f"hyperparameters: missing {', '.join(missing)}")
    readouts = description["readouts"]
    if kind == "POYO" and len(readouts) != 1:
        raise ModelFileError(f"readouts: a POYO model has exactly one readout, got {len(readouts)}")
    if kind == "POYOPlus" and not readouts:
        raise ModelFileError("readouts: a POYOPlus model needs at least one readout")
    names, ids = set(), set()
    for r in readouts:
        for k in ("name", "id", "dim", "type", "normalization"):
            if k not in r:
                raise ModelFileError(f"readouts: entry {r.get('name')!r} lacks {k!r}")
        if r["type"] not in READOUT_TYPES:
            raise ModelFileError(f"readouts.{r['name']}.type: {r['type']!r} is not one of {READOUT_TYPES}")
        if r["name"] in names or r["id"] in ids:
            raise ModelFileError(f"readouts: duplicate name or id for {r['name']!r}")
        names.add(r["name"])
        ids.add(r["id"])
        norm = r["normalization"]
        if norm is not None:
            for k in ("mean", "std"):
                if len(norm.get(k, ())) != r["dim"]:
                    raise ModelFileError(f"readouts.{r['name']}.normalization.{k}: needs {r['dim']} values")
    for name in tensors:
        if not isinstance(tensors[name], np.ndarray):
            raise ModelFileError(f"{name}: not an array")
    task_rows = tensors["task_emb.weight"].shape[0] if "task_emb.weight" in tensors else None
    if kind == "POYOPlus" and task_rows is not None and max(ids) >= task_rows:
        raise ModelFileError(f"task_emb.weight: {task_rows} rows, but readout id {max(ids)} is used")
    n_units = len(description["unit_vocab"])
    n_sessions = len(description["session_vocab"])
    shapes = expected_shapes(kind, hp, n_units, n_sessions, readouts, task_rows)
    unknown = [n for n in tensors if n not in shapes]
    if unknown:
        raise ModelFileError(f"unknown tensor {unknown[0]}" + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""))
    absent = [n for n in shapes if n not in tensors]
    if absent:
        raise ModelFileError(f"missing tensor {absent[0]}" + (f" (and {len(absent) - 1} more)" if len(absent) > 1 else ""))
    for name, shape in shapes.items():
        if tuple(tensors[name].shape) != tuple(shape):
            raise ModelFileError(f"{name}: shape {list(tensors[name].shape)} does not match {list(shape)}")
    _check_vocab("unit_vocab", description["unit_vocab"], n_units)
    _check_vocab("session_vocab", description["session_vocab"], n_sessions)


def make_description(kind, hyperparameters, unit_vocab, session_vocab, readouts, source) -> dict:
    """The JSON object stored in __metadata__["poyo_rt"], with keys in the documented order."""
    hp = {k: hyperparameters[k] for k in HYPERPARAMETER_KEYS}
    for k in ("sequence_length", "latent_step", "t_min", "t_max"):
        hp[k] = float(hp[k])
    for k in ("num_latents_per_step", "dim", "depth", "dim_head", "cross_heads", "self_heads"):
        hp[k] = int(hp[k])
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "hyperparameters": hp,
        "unit_vocab": {str(w): int(i) for w, i in unit_vocab.items()},
        "session_vocab": {str(w): int(i) for w, i in session_vocab.items()},
        "readouts": [dict(r) for r in readouts],
        "source": dict(source),
    }


def write_model_file(path, description: dict, tensors: dict) -> None:
    """Validate, convert every tensor to float32 and write the model file."""
    tensors = {k: np.asarray(v, dtype=np.float32) for k, v in tensors.items()}
    validate(description, tensors)
    write_safetensors(path, tensors, {METADATA_KEY: json.dumps(description)})


def read_model_file(path) -> tuple[dict, dict]:
    """Read and validate a model file -> (description, name -> float32 array)."""
    tensors, metadata = read_safetensors(path)
    if METADATA_KEY not in metadata:
        raise ModelFileError(f"{path}: no __metadata__[{METADATA_KEY!r}]")
    description = json.loads(metadata[METADATA_KEY])
    for name, a in tensors.items():
        if a.dtype != np.float32:
            raise ModelFileError(f"{name}: dtype {a.dtype}, the model file holds F32 only")
    validate(description, tensors)
    return description, tensors
