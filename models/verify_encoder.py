#!/usr/bin/env python3
"""Verify `models/encoder.onnx` and write the reference outputs the Rust encoder test reads.

Checks (each prints what it measured; the script exits 1 if any fails):
1. reproducibility: the build script run twice writes byte-identical files, equal to the model;
2. pretrained features: a test-only variant with torchvision's ImageNet classifier (224x224,
   single frame; built here, never committed) ranks the right class first on real photos from
   Debian's opencv-doc;
3. the encoder under ONNX Runtime: finite outputs and norm sqrt(2) for all-present, video-only,
   IMU-only, and all-zero inputs; batch equals one-by-one; the IMU branch equals its float64
   numpy reference; tract (the Rust side's engine) agrees when its Python bindings are installed;
   information only: a walking-vs-not probe of the IMU embedding on mobgap's reference bouts;
4. the frame stage: the graph cut at mmcl.frame_stage.input/output (with onnx.utils) gives
   per-frame features that do not depend on the other frames, and fusing them gives the
   whole-window outputs;
5. FLOPs per window, counted from the graph per branch;
then checks the outputs against tests/data/encoder/reference.json and updates its model fields
(sha256, name, measurements). The reference values are the target every rebuild must meet;
`--rewrite-reference` replaces them with this model's outputs (only for a model that is meant to
compute something else).
Usage: `python models/verify_encoder.py [--cache DIR] [--images DIR] [--rewrite-reference]`.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import build_encoder as be
import numpy as np
import onnx
import onnxruntime as ort
from encoder_build import flops, frame_stage, mobgap, walking
from encoder_build import minirocket as mr
from encoder_build.contract import (
    FRAME_FEATURES,
    FRAME_INPUT,
    FRAMES,
    HEIGHT,
    IMU_LEN,
    L2_EPS,
    VIDEO_DIM,
    VIDEO_MEAN,
    VIDEO_STD,
    WIDTH,
)
from PIL import Image

HERE = Path(__file__).resolve().parent
MODEL = HERE / "encoder.onnx"
REFERENCE = HERE.parent / "tests/data/encoder/reference.json"
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
# Photos in opencv-doc with an unambiguous ImageNet class (index, name as in ILSVRC2012).
IMAGES = (("squirrel_cls.jpg", 335, "fox squirrel"), ("orange.jpg", 950, "orange"),
          ("baboon.jpg", 372, "baboon"), ("messi5.jpg", 805, "soccer ball"))

VIDEO_FORMULA = ("video[n,t,c,y,x] = 1.5 * sin(0.11*x + 0.07*y + 1.3*c + 0.4*t + 0.9*n)"
                 " * cos(0.05*y - 0.03*x + 0.5*t)")
IMU_FORMULA = ("imu[n,c,i] = if c < 3 { 0.3*sin(0.2*i + c + n) + 0.1*sin(0.9*i + 2*c)"
               " + (if c == 2 { 1 } else { 0 }) } else { 40*cos(0.15*i + c + n)"
               " + 15*sin(0.6*i + c) }")
FORMULA_RULES = ("indices are integers converted to f64; evaluate in f64 with the operations in "
                 "the order written (left to right), sin/cos of the platform libm, then round "
                 "to f32. Window n=1 (video-only) has imu set to 0.0 everywhere; window n=2 "
                 "(IMU-only) has video set to 0.0 everywhere; present = [[1,1],[1,0],[0,1]].")
PRESENT = np.array([[1, 1], [1, 0], [0, 1]], dtype=np.float32)
HEAD = 8


class Checks:
    """Collects pass/fail lines so every check runs and the summary lists all failures."""

    def __init__(self):
        self.failures: list[str] = []

    def expect(self, ok: bool, what: str) -> None:
        print(f"  [{'ok' if ok else 'FAIL'}] {what}")
        if not ok:
            self.failures.append(what)


# ---------------------------------------------------------------------------------------------
# 1. reproducibility


def check_reproducible(checks: Checks, cache: Path) -> str:
    print("reproducibility: two builds")
    digests = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in (1, 2):
            out = Path(tmp) / f"encoder-{run}.onnx"
            subprocess.run([sys.executable, str(HERE / "build_encoder.py"), "--out", str(out),
                            "--cache", str(cache)], check=True, capture_output=True)
            digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
            print(f"  build {run}: sha256 {digests[-1]}")
    committed = hashlib.sha256(MODEL.read_bytes()).hexdigest()
    print(f"  {MODEL.name}: sha256 {committed}")
    checks.expect(digests[0] == digests[1], "two builds are byte-identical")
    checks.expect(digests[0] == committed, f"{MODEL.name} equals a fresh build")
    return committed


# ---------------------------------------------------------------------------------------------
# 2. pretrained features: the ImageNet classifier variant


def load_photo(path: Path, size: int) -> np.ndarray:
    """torchvision's eval transform: resize the short side to size*8/7, center crop, normalize."""
    image = Image.open(path).convert("RGB")
    short = round(size * 256 / 224)
    w, h = image.size
    r = short / min(w, h)
    image = image.resize((round(w * r), round(h * r)), Image.BILINEAR)
    w, h = image.size
    left, top = (w - size) // 2, (h - size) // 2
    image = image.crop((left, top, left + size, top + size))
    rgb = np.asarray(image, dtype=np.float32) / 255.0
    rgb = (rgb - np.array(VIDEO_MEAN, np.float32)) / np.array(VIDEO_STD, np.float32)
    return rgb.transpose(2, 0, 1)[None].astype(np.float32)


def class_names(images: Path) -> list[str] | None:
    path = images / "dnn/classification_classes_ILSVRC2012.txt"
    return path.read_text().splitlines() if path.exists() else None


def check_classifier(checks: Checks, state, images: Path) -> None:
    names = class_names(images)
    for size in (224, 112):
        label = "check" if size == 224 else "information only"
        print(f"ImageNet classifier variant at {size}x{size} ({label})")
        session = ort.InferenceSession(be.build_classifier(state, size).SerializeToString(),
                                       providers=["CPUExecutionProvider"])
        for filename, index, name in IMAGES:
            path = images / filename
            if not path.exists():
                checks.expect(False, f"{path} exists (apt-get install opencv-doc)")
                continue
            probs = session.run(None, {"image": load_photo(path, size)})[0][0]
            top = np.argsort(-probs)[:5]
            shown = ", ".join(f"{i} {(names[i].split(',')[0] if names else '?')} {probs[i]:.3f}"
                              for i in top)
            print(f"  {filename}: top-5 {shown}")
            if size == 224:
                checks.expect(int(top[0]) == index, f"{filename} top-1 is {index} {name}")


# ---------------------------------------------------------------------------------------------
# 3. the encoder


@functools.cache
def formula_inputs() -> tuple[np.ndarray, np.ndarray]:
    """The reference windows, evaluated element by element with math.sin/cos (libm), as the Rust
    test evaluates them with f64::sin/cos. Cached: callers must not modify the arrays."""
    video = np.zeros((3, FRAMES, 3, HEIGHT, WIDTH), np.float32)
    for n, t, c, y, x in np.ndindex(*video.shape):
        video[n, t, c, y, x] = 1.5 * math.sin(0.11 * x + 0.07 * y + 1.3 * c + 0.4 * t + 0.9 * n) \
            * math.cos(0.05 * y - 0.03 * x + 0.5 * t)
    imu = np.zeros((3, 6, IMU_LEN), np.float32)
    for n, c, i in np.ndindex(*imu.shape):
        if c < 3:
            imu[n, c, i] = 0.3 * math.sin(0.2 * i + c + n) + 0.1 * math.sin(0.9 * i + 2 * c) \
                + (1 if c == 2 else 0)
        else:
            imu[n, c, i] = 40 * math.cos(0.15 * i + c + n) + 15 * math.sin(0.6 * i + c)
    imu[1] = 0.0
    video[2] = 0.0
    video.flags.writeable = imu.flags.writeable = False
    return video, imu


def run(session, video, imu, present) -> dict[str, np.ndarray]:
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"video": video, "imu": imu, "present": present})))


def check_contract(checks: Checks, model: onnx.ModelProto) -> None:
    print("contract")
    meta = {p.key: p.value for p in model.metadata_props}
    for key, want in (("mmcl.contract", "1"), ("mmcl.frames", "8"), ("mmcl.height", "112"),
                      ("mmcl.width", "112"), ("mmcl.imu_len", "128"), ("mmcl.imu_rate_hz", "25"),
                      ("mmcl.window_seconds", "5.12"), ("mmcl.modalities", "video,imu"),
                      ("mmcl.imu_units", "g,g,g,dps,dps,dps"),
                      ("mmcl.name", be.MODEL_NAME),
                      ("mmcl.frame_stage.input", FRAME_INPUT),
                      ("mmcl.frame_stage.output", FRAME_FEATURES)):
        checks.expect(meta.get(key) == want, f"metadata {key} = {want!r}")
    checks.expect(model.opset_import[0].version == 17 and model.ir_version <= 9,
                  f"opset {model.opset_import[0].version}, IR {model.ir_version}")
    ops = sorted({n.op_type for n in model.graph.node})
    print(f"  ops: {', '.join(ops)}")
    print(f"  size: {MODEL.stat().st_size} bytes; embedding_dim {meta.get('mmcl.embedding_dim')}")


def check_outputs(checks: Checks, out: dict[str, np.ndarray], present: np.ndarray, what: str):
    finite = all(np.isfinite(v).all() for v in out.values())
    norms = np.linalg.norm(out["embedding"], axis=1)
    want = np.where(present.sum(axis=1) > 0, math.sqrt(2), 0.0)
    checks.expect(finite and np.allclose(norms, want, atol=1e-5),
                  f"{what}: finite, |embedding| = {np.round(norms, 6).tolist()}")


def check_presence_cases(checks: Checks, session) -> dict[str, np.ndarray]:
    print("encoder under ONNX Runtime")
    video, imu = formula_inputs()
    out = run(session, video, imu, PRESENT)
    check_outputs(checks, out, PRESENT, "formula windows (all, video-only, IMU-only)")
    singles = [run(session, video[n:n + 1], imu[n:n + 1], PRESENT[n:n + 1]) for n in range(3)]
    diff = max(float(np.abs(s["embedding"][0] - out["embedding"][n]).max())
               for n, s in enumerate(singles))
    checks.expect(diff < 1e-5, f"batch of 3 equals one by one (max diff {diff:.2e})")
    zeros_v, zeros_i = np.zeros_like(video), np.zeros_like(imu)
    for present in ([[0, 0]] * 3, [[1, 1]] * 3, PRESENT.tolist()):
        p = np.array(present, np.float32)
        check_outputs(checks, run(session, zeros_v, zeros_i, p), p, f"all-zero inputs, "
                      f"present {present[0] if len(set(map(tuple, present))) == 1 else 'mixed'}")
    v_only, i_only = out["embedding"][1], out["embedding"][2]
    checks.expect(bool(np.all(v_only[VIDEO_DIM:] == 0) and np.all(i_only[:VIDEO_DIM] == 0)),
                  "absent modality contributes exact zeros")
    return out


def ppv_margin(spec: mr.ImuSpec, imu: np.ndarray) -> tuple[float, float]:
    """(smallest |conv output - bias|, largest float32-vs-float64 conv error) on these windows:
    a PPV can only flip between engines when their float error reaches the margin."""
    x64 = mr.imu_channels(imu.astype(np.float64), spec.inv_scale)
    x32, masks32 = x64.astype(np.float32), spec.masks.astype(np.float32)
    margins, errors = [], []
    for g, (j, pad, ks) in enumerate(mr.kernel_groups()):
        exact = mr.conv_group(x64, spec.masks, j, pad, ks)
        errors.append(np.abs(mr.conv_group(x32, masks32, j, pad, ks) - exact).max())
        margins.append(np.abs(exact[:, :, None, :] - spec.conv_biases[g][None, :, :, None]).min())
    margins.append(np.abs(x64[:, :, None, :] - spec.level_thresholds[None, :, :, None]).min())
    return float(min(margins)), float(max(errors))


def check_imu_reference(checks: Checks, session, spec: mr.ImuSpec, recordings) -> float:
    """The calibration windows sit on the biases by construction (each bias is a quantile of
    their conv outputs), so there a few PPVs flip between float32 and float64: count them."""
    print("IMU branch against its float64 numpy reference")
    windows = mobgap.calibration_windows(recordings)[::20].astype(np.float32)
    _, formula_imu = formula_inputs()
    for name, imu in (("mobgap windows", windows),
                      ("formula windows 0 and 2", formula_imu[[0, 2]])):
        n = imu.shape[0]
        video = np.zeros((n, FRAMES, 3, HEIGHT, WIDTH), np.float32)
        got = run(session, video, imu, np.tile([[0, 1]], (n, 1)).astype(np.float32))
        ref = mr.imu_features_reference(spec, imu.astype(np.float64))
        ref /= np.sqrt((ref ** 2).sum(axis=1, keepdims=True) + L2_EPS)
        diff = np.abs(got["imu_embedding"] - ref)
        flips = int((diff > 1e-4).sum())
        checks.expect(flips <= diff.size // 1000 and float(np.median(diff)) < 1e-6,
                      f"{name} ({n}): {flips} of {diff.size} values differ by > 1e-4 "
                      f"(PPV flips), max {diff.max():.2e}, median {np.median(diff):.1e}")
    margin, error = ppv_margin(spec, formula_imu[[0, 2]])
    checks.expect(margin > 5 * error, f"formula windows: smallest |conv - bias| {margin:.2e} "
                                      f"> 5 x largest float32 conv error {error:.2e}")
    return margin


def walking_probe(session, sources) -> None:
    """Information: do the IMU embeddings carry activity? Walking vs not walking on mobgap's
    reference bouts, 3 participants, leave one out. The biases saw these windows (unlabelled)."""
    try:
        import scipy.io  # noqa: F401
    except ImportError:
        print("walking probe: scipy not installed, skipped")
        return
    windows, labels, people = walking.labelled_windows(sources.mobgap_sdist, sources.recordings)
    n = windows.shape[0]
    video = np.zeros((n, FRAMES, 3, HEIGHT, WIDTH), np.float32)
    emb = run(session, video, windows, np.tile([[0, 1]], (n, 1)).astype(np.float32))
    stats = np.concatenate([windows.mean(2), windows.std(2)], axis=1)
    print(f"walking probe (information): {n} windows ({labels.mean():.0%} walking), "
          "leave-one-participant-out balanced accuracy")
    for probe, predict in (("nearest class mean", walking.ncm_predict),
                           ("ridge", walking.ridge_predict)):
        ours = walking.leave_one_out(predict, emb["imu_embedding"], labels, people, cosine=True)
        base = walking.leave_one_out(predict, stats, labels, people, cosine=False)
        print(f"  {probe}: imu_embedding {ours:.3f}; baseline per-channel mean+std {base:.3f}")


def check_tract(checks: Checks, ort_out: dict[str, np.ndarray]) -> float | None:
    try:
        import tract
    except ImportError:
        print("tract: Python bindings not installed, skipped")
        return None
    print(f"tract {tract.version()} (the engine of the Rust runtime)")
    runnable = tract.onnx().load(str(MODEL)).into_model().into_runnable()
    video, imu = formula_inputs()
    outs = [t.to_numpy() for t in runnable.run([video, imu, PRESENT])]
    diff = max(float(np.abs(outs[i] - ort_out[name]).max())
               for i, name in enumerate(("embedding", "video_embedding", "imu_embedding")))
    checks.expect(diff < 1e-4, f"tract agrees with ONNX Runtime on the formula windows "
                               f"(max diff {diff:.2e})")
    return diff


# ---------------------------------------------------------------------------------------------
# 4. the frame stage


def check_frame_stage(checks: Checks, model: onnx.ModelProto, out: dict[str, np.ndarray]) -> None:
    print("frame stage (mmcl.frame_stage.input -> output, then the rest)")
    video, imu = formula_inputs()
    for ok, what in frame_stage.check(model, out, video, imu, PRESENT):
        checks.expect(ok, what)


# ---------------------------------------------------------------------------------------------
# 5. FLOPs


def report_flops(model: onnx.ModelProto, state) -> dict:
    print("FLOPs per window (N = 1), counted from the graph")
    totals = flops.count_flops(model)
    for branch, (macs, count) in sorted(totals.items()):
        print(f"  {branch:6s} {macs / 1e6:10.3f} M MACs  {count / 1e6:10.3f} M FLOPs")
    single = {}
    for size in (112, 224):
        macs, count = flops.count_flops(be.build_classifier(state, size))["video"]
        single[size] = count
        print(f"  one frame of MobileNetV2 features at {size}x{size}: {macs / 1e6:.3f} M MACs, "
              f"{count / 1e6:.3f} M FLOPs")
    return {"branches": totals, "frame_flops": single}


# ---------------------------------------------------------------------------------------------
# reference.json


def rounded(values) -> list[float]:
    """9 significant digits round-trip any f32 exactly and keep the file small."""
    return [float(f"{float(v):.9g}") for v in values]


def reference_doc(out: dict[str, np.ndarray], sha: str, margin: float, tract_diff) -> dict:
    meta = {p.key: p.value for p in onnx.load(str(MODEL), load_external_data=False)
            .metadata_props}
    windows = []
    for n, name in enumerate(("all_present", "video_only", "imu_only")):
        windows.append({
            "n": n, "name": name, "present": PRESENT[n].tolist(),
            "embedding": rounded(out["embedding"][n]),
            "video_embedding_head": rounded(out["video_embedding"][n][:HEAD]),
            "imu_embedding_head": rounded(out["imu_embedding"][n][:HEAD]),
        })
    return {
        "model": "models/encoder.onnx", "model_sha256": sha, "name": meta["mmcl.name"],
        "embedding_dim": int(meta["mmcl.embedding_dim"]), "video_dim": VIDEO_DIM,
        "imu_dim": int(meta["mmcl.embedding_dim"]) - VIDEO_DIM,
        "batch": 3, "video_shape": [3, FRAMES, 3, HEIGHT, WIDTH],
        "imu_shape": [3, 6, IMU_LEN], "present": PRESENT.tolist(),
        "video_formula": VIDEO_FORMULA, "imu_formula": IMU_FORMULA, "formula_rules": FORMULA_RULES,
        "produced_by": f"onnxruntime {ort.__version__} CPU, models/verify_encoder.py",
        "measured": {"tract_vs_onnxruntime_max_abs": tract_diff, "ppv_margin": margin},
        "suggested_tolerance_abs": 1e-4,
        "windows": windows,
    }


def write_reference(checks: Checks, doc: dict, rewrite: bool) -> None:
    """Keeps the committed reference values (the target) unless told to rewrite them; the model
    fields are this model's either way."""
    if REFERENCE.exists() and not rewrite:
        committed = json.loads(REFERENCE.read_text())
        keys = ("embedding", "video_embedding_head", "imu_embedding_head")
        diff = max(float(np.abs(np.array(new[k]) - np.array(old[k])).max())
                   for new, old in zip(doc["windows"], committed["windows"]) for k in keys)
        checks.expect(diff <= committed["suggested_tolerance_abs"],
                      f"outputs equal the committed reference values (max diff {diff:.2e})")
        doc["windows"] = committed["windows"]
        doc["produced_by"] = committed["produced_by"]
        doc["measured"]["reference_vs_this_model_max_abs"] = diff
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    REFERENCE.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {REFERENCE} ({REFERENCE.stat().st_size} bytes)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache/mmcl-encoder-build")
    parser.add_argument("--images", type=Path, default=OPENCV_DATA)
    parser.add_argument("--rewrite-reference", action="store_true",
                        help="replace the reference values with this model's outputs")
    args = parser.parse_args(argv)
    checks = Checks()
    sha = check_reproducible(checks, args.cache)
    sources = be.load_sources(be.parse_args(["--cache", str(args.cache)]))
    check_classifier(checks, sources.state, args.images)
    model = onnx.load(str(MODEL))
    check_contract(checks, model)
    session = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    out = check_presence_cases(checks, session)
    recordings = [mobgap.resample_to_25hz(rows) for _n, rows in sources.recordings]
    spec, _ = mr.fit_imu_spec(recordings)
    margin = check_imu_reference(checks, session, spec, recordings)
    walking_probe(session, sources)
    tract_diff = check_tract(checks, out)
    check_frame_stage(checks, model, out)
    report_flops(model, sources.state)
    write_reference(checks, reference_doc(out, sha, margin, tract_diff), args.rewrite_reference)
    print(f"{len(checks.failures)} failed" + "".join(f"\n  {f}" for f in checks.failures))
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
