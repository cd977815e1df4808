"""The frame stage of the encoder, checked with ONNX Runtime: the graph cut at the tensors that
`mmcl.frame_stage.input` / `.output` name (with onnx.utils), so each frame can be encoded once."""

from __future__ import annotations

import numpy as np
import onnx
import onnx.utils
import onnxruntime as ort

from .contract import FRAME_FEATURES, FRAME_INPUT, HEIGHT, WIDTH

OUTPUTS = ("embedding", "video_embedding", "imu_embedding")


def extract(model: onnx.ModelProto, inputs: list[str], outputs: list[str]):
    """An ONNX Runtime session for the sub-graph between these tensors."""
    inferred = onnx.shape_inference.infer_shapes(model)  # the extractor needs value_infos
    sub = onnx.utils.Extractor(inferred).extract_model(inputs, list(outputs))
    return ort.InferenceSession(sub.SerializeToString(), providers=["CPUExecutionProvider"])


def check(model: onnx.ModelProto, out: dict[str, np.ndarray], video: np.ndarray,
          imu: np.ndarray, present: np.ndarray) -> list[tuple[bool, str]]:
    """(passed, what) for: per-frame features do not depend on the other frames; fusing the
    features of the windows' frames gives the whole-window outputs `out`."""
    frames = extract(model, [FRAME_INPUT], [FRAME_FEATURES])
    fuse = extract(model, [FRAME_FEATURES, "imu", "present"], OUTPUTS)
    flat = video.reshape(-1, 3, HEIGHT, WIDTH)
    features = frames.run(None, {FRAME_INPUT: flat})[0]
    alone = np.concatenate([frames.run(None, {FRAME_INPUT: flat[i:i + 1]})[0]
                            for i in range(0, flat.shape[0], 5)])
    own = float(np.abs(features[::5] - alone).max())
    fused = fuse.run(None, {FRAME_FEATURES: features, "imu": imu, "present": present})
    whole = max(float(np.abs(a - out[name]).max()) for a, name in zip(fused, OUTPUTS))
    return [(own < 1e-5, f"frame features do not depend on the other frames (max diff {own:.2e})"),
            (whole < 1e-6, f"fuse(frame features) equals the whole window (max diff {whole:.2e})")]
