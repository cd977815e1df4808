#!/usr/bin/env python3
"""Writes tests/data/encoder/tiny_encoder.onnx and tiny_reference.json.

A TINY model that follows the mmcl encoder contract (DESIGN.md, "Encoder contract") with
small dimensions, so the Rust tests exercise every input, output and metadata key in
milliseconds. It is a test fixture, not an encoder: weights are seeded random numbers.

  video   f32 [N, T, 3, H, W]  -> Conv3x3(3->8) + ReLU + GlobalAveragePool per frame,
                                  mean over frames, MatMul(8->Dv), L2 normalize
  imu     f32 [N, 6, L]        -> per-channel z-score (constants below), Conv1d k5 (6->8)
                                  + ReLU, mean over time, MatMul(8->Di), L2 normalize
  present f32 [N, 2]           -> embedding = L2(concat(present_v * video_emb,
                                                        present_i * imu_emb))

Dimensions are deliberately unequal (H != W, Dv != Di) so that a swapped axis in the
runtime cannot go unnoticed.

tiny_reference.json holds outputs computed by onnxruntime for windows given by a formula
that the Rust test regenerates (see `frame_byte` / `imu_value` below).

Usage: python make_tiny_encoder.py   (needs numpy, onnx, onnxruntime)
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
T, H, W, L = 4, 24, 32, 40
IMU_RATE_HZ, WINDOW_SECONDS = 20.0, 2.0
DV, DI, HIDDEN = 6, 5, 8
D = DV + DI
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
IMU_MEAN = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
IMU_STD = [0.5, 0.5, 0.5, 100.0, 100.0, 100.0]


def const(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def l2_nodes(x, out):
    return [
        helper.make_node("ReduceL2", [x], [x + "_norm"], axes=[1], keepdims=1),
        helper.make_node("Add", [x + "_norm", "eps"], [x + "_norm_eps"]),
        helper.make_node("Div", [x, x + "_norm_eps"], [out]),
    ]


def build():
    rng = np.random.default_rng(7)
    inits = [
        const("conv_v_w", rng.normal(0, 0.5, (HIDDEN, 3, 3, 3))),
        const("conv_v_b", rng.normal(0, 0.1, (HIDDEN,))),
        const("proj_v", rng.normal(0, 0.5, (HIDDEN, DV))),
        const("conv_i_w", rng.normal(0, 0.5, (HIDDEN, 6, 5))),
        const("conv_i_b", rng.normal(0, 0.1, (HIDDEN,))),
        const("proj_i", rng.normal(0, 0.5, (HIDDEN, DI))),
        const("imu_mean", np.array(IMU_MEAN).reshape(1, 6, 1)),
        const("imu_std", np.array(IMU_STD).reshape(1, 6, 1)),
        const("eps", [1e-6]),
        numpy_helper.from_array(np.array([-1, 3, H, W], dtype=np.int64), "frames_shape"),
        numpy_helper.from_array(np.array([-1, T, HIDDEN], dtype=np.int64), "clip_shape"),
    ]
    nodes = [
        helper.make_node("Reshape", ["video", "frames_shape"], ["frames"]),
        helper.make_node("Conv", ["frames", "conv_v_w", "conv_v_b"], ["v1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["v1"], ["v2"]),
        helper.make_node("GlobalAveragePool", ["v2"], ["v3"]),
        helper.make_node("Reshape", ["v3", "clip_shape"], ["v4"]),
        helper.make_node("ReduceMean", ["v4"], ["v5"], axes=[1], keepdims=0),
        helper.make_node("MatMul", ["v5", "proj_v"], ["v6"]),
        *l2_nodes("v6", "video_embedding"),
        helper.make_node("Sub", ["imu", "imu_mean"], ["i0"]),
        helper.make_node("Div", ["i0", "imu_std"], ["i1"]),
        helper.make_node("Conv", ["i1", "conv_i_w", "conv_i_b"], ["i2"]),
        helper.make_node("Relu", ["i2"], ["i3"]),
        helper.make_node("ReduceMean", ["i3"], ["i4"], axes=[2], keepdims=0),
        helper.make_node("MatMul", ["i4", "proj_i"], ["i5"]),
        *l2_nodes("i5", "imu_embedding"),
        helper.make_node("Split", ["present"], ["pv", "pi"], axis=1),
        helper.make_node("Mul", ["video_embedding", "pv"], ["mv"]),
        helper.make_node("Mul", ["imu_embedding", "pi"], ["mi"]),
        helper.make_node("Concat", ["mv", "mi"], ["fused"], axis=1),
        *l2_nodes("fused", "embedding"),
    ]
    f32 = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes,
        "tiny_encoder",
        [
            helper.make_tensor_value_info("video", f32, ["N", T, 3, H, W]),
            helper.make_tensor_value_info("imu", f32, ["N", 6, L]),
            helper.make_tensor_value_info("present", f32, ["N", 2]),
        ],
        [
            helper.make_tensor_value_info("embedding", f32, ["N", D]),
            helper.make_tensor_value_info("video_embedding", f32, ["N", DV]),
            helper.make_tensor_value_info("imu_embedding", f32, ["N", DI]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    flops = 2 * (T * H * W * HIDDEN * 27 + HIDDEN * DV + (L - 4) * HIDDEN * 30 + HIDDEN * DI)
    meta = {
        "mmcl.contract": "1",
        "mmcl.name": "tiny-test-encoder",
        "mmcl.frames": str(T),
        "mmcl.height": str(H),
        "mmcl.width": str(W),
        "mmcl.imu_len": str(L),
        "mmcl.imu_rate_hz": str(IMU_RATE_HZ),
        "mmcl.window_seconds": str(WINDOW_SECONDS),
        "mmcl.embedding_dim": str(D),
        "mmcl.modalities": "video,imu",
        "mmcl.video_mean": ",".join(str(v) for v in MEAN),
        "mmcl.video_std": ",".join(str(v) for v in STD),
        "mmcl.imu_units": "g,g,g,dps,dps,dps",
        "mmcl.imu_normalization": "per-channel z-score in graph: mean "
        + ",".join(map(str, IMU_MEAN)) + " std " + ",".join(map(str, IMU_STD)),
        "mmcl.fusion": "l2(concat(present_video*video_embedding, present_imu*imu_embedding))",
        "mmcl.provenance": "tests/data/encoder/make_tiny_encoder.py; seeded random weights "
        "(numpy default_rng(7)); test fixture only, not a real encoder",
        "mmcl.flops_per_window": str(flops),
    }
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model, full_check=True)
    return model


def frame_byte(n, t, y, x, c):
    """The RGB8 value of window n, frame t, pixel (y, x), channel c (Rust test mirrors it)."""
    return (n * 31 + t * 17 + y * 5 + x * 3 + c * 67) % 256


def imu_value(n, c, i):
    """IMU channel c at step i of window n, in g (c < 3) or deg/s (c >= 3)."""
    phase = 0.3 * n + 0.7 * c + 0.11 * i
    return float(np.float32(np.sin(phase) * (0.8 if c < 3 else 90.0) + (1.0 if c == 2 else 0.0)))


def reference(model_path):
    import onnxruntime as ort

    n_windows = 3
    video = np.zeros((n_windows, T, 3, H, W), dtype=np.float32)
    imu = np.zeros((n_windows, 6, L), dtype=np.float32)
    for n in range(n_windows):
        for t in range(T):
            for c in range(3):
                ys, xs = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
                raw = frame_byte(n, t, ys, xs, c).astype(np.float32) / np.float32(255.0)
                video[n, t, c] = (raw - np.float32(MEAN[c])) / np.float32(STD[c])
        for c in range(6):
            imu[n, c] = [imu_value(n, c, i) for i in range(L)]
    # Window 0: all modalities; window 1: video only; window 2: IMU only.
    present = np.array([[1, 1], [1, 0], [0, 1]], dtype=np.float32)
    video[2] = 0.0
    imu[1] = 0.0
    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    outs = sess.run(None, {"video": video, "imu": imu, "present": present})
    names = [o.name for o in sess.get_outputs()]
    return {
        "about": "inputs: window n, frame t, pixel (y,x), channel c has RGB8 byte "
        "(n*31 + t*17 + y*5 + x*3 + c*67) % 256 at model size (no resize); IMU channel c "
        "step i = f32(sin(0.3n + 0.7c + 0.11i) * (0.8 if c<3 else 90) + (1 if c==2 else 0)). "
        "Window 0 has both modalities, 1 video only, 2 IMU only. Outputs from onnxruntime "
        + ort.__version__,
        "windows": n_windows,
        "present": present.tolist(),
        "outputs": {name: out.tolist() for name, out in zip(names, outs)},
    }


def broken(model):
    """A copy that breaks the contract in four named ways (contract tests):
    input `present` renamed `presence`, output `embedding` declared 12-d while
    mmcl.embedding_dim says 11, mmcl.imu_len removed, mmcl.frames = "eight"."""
    bad = onnx.ModelProto()
    bad.CopyFrom(model)
    bad.graph.input[2].name = "presence"
    bad.graph.output[0].type.tensor_type.shape.dim[1].dim_value = D + 1
    props = {p.key: p.value for p in bad.metadata_props if p.key != "mmcl.imu_len"}
    props["mmcl.frames"] = "eight"
    del bad.metadata_props[:]
    helper.set_model_props(bad, props)
    return bad


def main():
    model = build()
    path = os.path.join(HERE, "tiny_encoder.onnx")
    onnx.save(model, path)
    onnx.save(broken(model), os.path.join(HERE, "tiny_broken.onnx"))
    with open(os.path.join(HERE, "tiny_reference.json"), "w") as f:
        json.dump(reference(path), f, indent=1)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
