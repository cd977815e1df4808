"""The video branch: torchvision's MobileNetV2 features as ONNX nodes (BatchNorm folded, ReLU6 as
Clip), per-frame global average pooling and the TSN mean over the window's frames."""

from __future__ import annotations

import numpy as np

from .contract import FRAME_FEATURES, FRAME_INPUT, FRAMES, HEIGHT, VIDEO_DIM, WIDTH
from .graph import Graph

# torchvision MobileNetV2 inverted-residual settings (expansion t, channels c, repeats n, stride s).
MOBILENET_V2_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                         (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
BN_EPS = 1e-5


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
    """[N, T, 3, H, W] -> [N, 1280]: per-frame features, then their mean over the window.

    The two named tensors are the cut points of the frame stage: everything between them sees
    one frame at a time, and everything after `FRAME_FEATURES` reads the video only through it.
    """
    frames = g.op("Reshape", ["video", g.ints("video/frames_shape", [-1, 3, HEIGHT, WIDTH])],
                  "video", out=FRAME_INPUT)
    pooled = g.op("GlobalAveragePool", [mobilenet_v2_features(g, state, frames)], "video")
    per_frame = g.op("Reshape", [pooled, g.ints("video/feature_shape", [-1, VIDEO_DIM])], "video",
                     out=FRAME_FEATURES)
    window = g.op("Reshape", [per_frame, g.ints("video/window_shape", [-1, FRAMES, VIDEO_DIM])],
                  "video")
    return g.reduce_mean(window, 1, "video")  # TSN consensus: mean over the frames
