"""The IMU branch: MiniRocket features (Dempster, Schmidt & Webb, KDD 2021) fit to a 128-sample
window: scaling, channel combinations, bias fitting on real recordings, a float64 numpy
reference, and the ONNX nodes (Conv -> Sub bias -> Greater -> Cast -> ReduceMean)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from onnx import TensorProto

from .contract import IMU_LEN
from .graph import Graph
from .mobgap import calibration_windows

# MiniRocket settings fit to a 128-sample window: dilations log-spaced from 1 to 15, the largest
# whose receptive field (8 * d + 1 samples) still fits the window.
DILATIONS = (1, 2, 4, 8, 15)
BIASES_PER_KERNEL = 2
CHANNEL_SEED = 0x6D6D636C  # "mmcl"; fixes the channel combinations


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


def conv_group(x8: np.ndarray, masks: np.ndarray, j: int, pad: bool, ks: list[int]):
    """Reference of one ONNX Conv node: [M, 8, L] -> [M, len(ks), Lout], cross-correlation."""
    d = DILATIONS[j]
    combined = np.einsum("kc,mcl->mkl", masks[j, ks], x8)
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


def sensor_scales(recordings: list[np.ndarray]) -> tuple[float, float]:
    """One scale per sensor (not per axis), so rotating the device never reweights its axes:
    the RMS of the recording-demeaned signal pooled over the three axes."""
    centered = np.concatenate([rec - rec.mean(axis=0) for rec in recordings])
    acc = float(np.sqrt(np.mean(centered[:, 0:3] ** 2)))
    gyr = float(np.sqrt(np.mean(centered[:, 3:6] ** 2)))
    return acc, gyr


def level_thresholds(x8: np.ndarray, inv_scale: np.ndarray) -> np.ndarray:
    """Thresholds of the length-1 'identity' PPV features: the value distribution per channel.

    Acc axes use a fixed grid over [-1, 1] g so gravity's direction reads the same on any device
    axis convention; gyro axes use symmetric +-quantiles of |gyro|; norms use plain quantiles."""
    acc_grid = (np.arange(8) - 3.5) / 4.0 * inv_scale[0]
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
