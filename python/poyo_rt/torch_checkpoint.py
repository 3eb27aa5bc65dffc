"""Read a torch checkpoint (`torch.save` zip format) without torch and without running its code.

A `.ckpt`/`.pt` file is a zip archive: `<name>/data.pkl` is a pickle whose tensors point, by
persistent id, at raw storages `<name>/data/<key>`. `torch.load(weights_only=False)` would
import and call whatever classes the pickle names (ModalitySpec, loss modules, omegaconf
containers, ... or anything an attacker put there). Here the pickle is read by an unpickler
that only rebuilds tensors (as numpy arrays), plain containers and a few builtins; every
other class or function becomes an inert `Stub` that records its name, arguments and state
and never executes anything. This also means the exporter, and its tests, need no torch.
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile

import numpy as np

# storage class name -> numpy dtype of its elements (bfloat16 is widened by hand)
_STORAGE_DTYPES = {
    "FloatStorage": np.dtype("<f4"), "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"), "BFloat16Storage": np.dtype("<u2"),
    "LongStorage": np.dtype("<i8"), "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"), "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"), "BoolStorage": np.dtype("?"),
}
# torch dtype attribute name -> storage class name (for UntypedStorage + dtype)
_TORCH_DTYPES = {
    "float32": "FloatStorage", "float": "FloatStorage", "float64": "DoubleStorage",
    "double": "DoubleStorage", "float16": "HalfStorage", "half": "HalfStorage",
    "bfloat16": "BFloat16Storage", "int64": "LongStorage", "long": "LongStorage",
    "int32": "IntStorage", "int": "IntStorage", "int16": "ShortStorage",
    "int8": "CharStorage", "uint8": "ByteStorage", "bool": "BoolStorage",
}


class CheckpointError(ValueError):
    """The file is not a torch checkpoint this reader understands."""


class Stub:
    """Inert stand-in for a class or function named by the pickle: records, never runs.

    `Stub.qualname` is "module.Name"; an instance keeps the constructor arguments
    (`args`, `kwargs`), pickle state (`state`) and any items or list elements pickle added.
    """

    qualname = "?"

    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        self.args, self.kwargs, self.state = args, kwargs, None
        self.items, self.list = {}, []
        return self

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        self.state = state

    def __setitem__(self, key, value):
        self.items[key] = value

    def append(self, value):
        self.list.append(value)

    def extend(self, values):
        self.list.extend(values)

    def __repr__(self):
        return f"<stub {self.qualname}>"


def _stub_class(module: str, name: str) -> type:
    return type(name, (Stub,), {"qualname": f"{module}.{name}", "__module__": "torch_checkpoint.stubs"})


class _TorchDtype:
    """Stand-in for `torch.float32` & co. (names only)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"


class _Storage:
    """A storage as the persistent id describes it; bytes are read lazily from the zip."""

    def __init__(self, storage_class: str, key: str, data: bytes):
        self.storage_class, self.key, self.data = storage_class, key, data


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    """numpy equivalent of torch._utils._rebuild_tensor_v2 (copies, so views stay independent)."""
    if not isinstance(storage, _Storage):
        raise CheckpointError("tensor without a storage")
    dtype = _STORAGE_DTYPES[storage.storage_class]
    flat = np.frombuffer(storage.data, dtype=dtype)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if any(s < 0 for s in stride):
        raise CheckpointError("negative strides")
    last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else storage_offset - 1
    if storage_offset < 0 or last >= len(flat):
        raise CheckpointError(f"tensor of size {list(size)} runs past its storage {storage.key}")
    view = np.lib.stride_tricks.as_strided(
        flat[storage_offset:], shape=size, strides=tuple(s * dtype.itemsize for s in stride), writeable=False
    ) if all(size) else np.zeros(size, dtype=dtype)
    out = np.array(view, copy=True)
    if storage.storage_class == "BFloat16Storage":
        out = (out.astype(np.uint32) << 16).view(np.float32)
    return out


def _rebuild_parameter(data, requires_grad=None, backward_hooks=None, *_ignored):
    return data


def _rebuild_from_type_v2(func, new_type, args, state):
    """Tensor subclasses: rebuild the plain tensor, ignore the subclass."""
    return func(*args)


def _reconstructor(cls, base, state=None):
    """copyreg._reconstructor (protocol 0/1 objects): only ever instantiates a stub."""
    if isinstance(cls, type) and issubclass(cls, Stub):
        return cls(base, state)
    raise CheckpointError(f"refusing to reconstruct {cls!r}")


_SAFE_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("builtins", "complex"): complex,
    ("builtins", "bytearray"): bytearray,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch", "Size"): tuple,
    ("copyreg", "_reconstructor"): _reconstructor,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive: zipfile.ZipFile, prefix: str):
        super().__init__(file, encoding="utf-8")
        self._archive, self._prefix, self._storages = archive, prefix, {}

    def find_class(self, module, name):
        if (module, name) in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        if module == "torch" and name == "UntypedStorage":
            return name
        if module == "torch" and name in _TORCH_DTYPES:
            return _TorchDtype(name)
        return _stub_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise CheckpointError(f"unsupported persistent id {pid!r:.80}")
        storage_class, key = pid[1], str(pid[2])
        if isinstance(storage_class, _TorchDtype):
            storage_class = _TORCH_DTYPES[storage_class.name]
        if storage_class not in _STORAGE_DTYPES:
            raise CheckpointError(f"unsupported storage type {storage_class!r}")
        if key not in self._storages:
            try:
                data = self._archive.read(f"{self._prefix}data/{key}")
            except KeyError:
                raise CheckpointError(f"storage {key} is missing from the archive") from None
            self._storages[key] = data
        return _Storage(storage_class, key, self._storages[key])


def load(path):
    """Load a torch.save'd object: tensors -> numpy arrays, other classes -> Stub instances."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        with open(path, "rb") as f:
            head = f.read(2)
        if head[:1] == b"\x80":
            raise CheckpointError(f"{path}: legacy (pre-1.6) torch format; re-save it with a current torch") from None
        raise CheckpointError(f"{path}: not a torch checkpoint (not a zip archive, or truncated)") from None
    except OSError as e:
        raise CheckpointError(f"{path}: {e.strerror or e}") from None
    with archive:
        pkl = [n for n in archive.namelist() if n.endswith("data.pkl") and n.count("/") == 1]
        if len(pkl) != 1:
            raise CheckpointError(f"{path}: no <archive>/data.pkl inside; not a torch checkpoint")
        prefix = pkl[0][: -len("data.pkl")]
        byteorder = prefix + "byteorder"
        if byteorder in archive.namelist() and archive.read(byteorder).strip() != b"little":
            raise CheckpointError(f"{path}: big-endian checkpoints are not supported")
        try:
            return _Unpickler(io.BytesIO(archive.read(pkl[0])), archive, prefix).load()
        except (CheckpointError, KeyError):
            raise
        except (zipfile.BadZipFile, EOFError, pickle.UnpicklingError, ValueError, TypeError,
                AttributeError, IndexError, OSError) as e:
            raise CheckpointError(f"{path}: corrupt checkpoint ({type(e).__name__}: {e})") from None


def plain(obj):
    """Best-effort conversion of stubs of dict-like containers (omegaconf DictConfig/ListConfig,
    AttributeDict, ...) into plain dicts and lists, so configuration can be read from them."""
    if isinstance(obj, dict):
        return {plain(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, Stub):
        state = obj.state
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            state = {**(state[0] or {}), **state[1]}  # (dict state, slot state)
        if isinstance(state, dict):
            d = state.get("__dict__", state)
            if isinstance(d, dict) and "_content" in d:  # omegaconf containers
                return plain(d["_content"])
            if isinstance(d, dict) and "_val" in d:  # omegaconf value nodes
                return plain(d["_val"])
        if obj.items:
            return {plain(k): plain(v) for k, v in obj.items.items()}
        if obj.list:
            return [plain(v) for v in obj.list]
        if obj.args and isinstance(obj.args[0], (dict, list)) and len(obj.args) == 1:
            return plain(obj.args[0])
    return obj
