"""Read a pre-1.6 `torch.save` state dict (pickle + raw storages) into numpy arrays, without
torch: a restricted unpickler maps the few torch globals a state dict uses and refuses others."""

from __future__ import annotations

import collections
import io
import pickle
import struct
from dataclasses import dataclass

import numpy as np

_STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64,
                   "HalfStorage": np.float16, "LongStorage": np.int64, "IntStorage": np.int32}


@dataclass
class _Storage:
    dtype: type
    size: int
    data: np.ndarray | None = None


@dataclass
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple
    stride: tuple

    def to_numpy(self) -> np.ndarray:
        itemsize = np.dtype(self.storage.dtype).itemsize
        view = np.lib.stride_tricks.as_strided(
            self.storage.data[self.offset:], self.shape, [s * itemsize for s in self.stride])
        return np.array(view)


class _StorageType:
    def __init__(self, name: str):
        self.name = name


def _rebuild_tensor_v2(storage, offset, shape, stride, *_grad_and_hooks):
    return _TensorRef(storage, offset, tuple(shape), tuple(stride))


class _LegacyUnpickler(pickle.Unpickler):
    """Maps the few globals a torch state dict pickles to numpy stand-ins; refuses all others."""

    def __init__(self, f):
        super().__init__(f)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"refusing global {module}.{name} in a weights file")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, size, view = pid
        if kind != "storage" or view is not None:
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        dtype = _STORAGE_DTYPES[storage_type.name]
        return self.storages.setdefault(key, _Storage(dtype, size))


def load_torch_legacy(data: bytes) -> dict[str, np.ndarray]:
    """Read a pre-1.6 `torch.save` file: magic, protocol, sys info, object, keys, raw storages."""
    f = io.BytesIO(data)
    magic, protocol = pickle.load(f), pickle.load(f)
    if magic != 0x1950A86A20F9469CFC6C or protocol != 1001:
        raise SystemExit(f"not a legacy torch file (magic {magic}, protocol {protocol})")
    pickle.load(f)  # sys info: little endian, type sizes
    unpickler = _LegacyUnpickler(f)
    state = unpickler.load()
    for key in pickle.load(f):
        storage = unpickler.storages[key]
        (count,) = struct.unpack("<q", f.read(8))
        nbytes = count * np.dtype(storage.dtype).itemsize
        storage.data = np.frombuffer(f.read(nbytes), dtype=storage.dtype)
    return {name: ref.to_numpy() for name, ref in state.items()}
