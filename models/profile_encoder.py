#!/usr/bin/env python3
"""Per-operator time of an encoder in tract and in ONNX Runtime, one window (N = 1), one thread.

tract: its Python bindings (the same tract version as the Rust runtime) with the batch bound
before optimizing and no other change, i.e. the plan tract makes by itself; the Rust runtime's
own plan (after its channel-last pass) is profiled by `cargo bench --bench encoder -- --profile`.
ONNX Runtime: its built-in profiler; fused Conv nodes are grouped by what the convolution is
(stem 3x3, depthwise 3x3, pointwise 1x1, IMU).

Usage: `python models/profile_encoder.py [MODEL] [--runs N]` (docs/encoder.md has the figures).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx

HERE = Path(__file__).resolve().parent


def window_inputs(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((1, 8, 3, 112, 112)).astype(np.float32),
            (5 * rng.standard_normal((1, 6, 128))).astype(np.float32),
            np.ones((1, 2), np.float32)]


def median_ms(run, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def tract_profile(path: Path, runs: int) -> tuple[float, dict]:
    import tract
    model = tract.onnx().load(str(path))
    for i, fact in enumerate(("1,8,3,112,112,f32", "1,6,128,f32", "1,2,f32")):
        model.set_input_fact(i, fact)
    runnable = model.into_model().into_runnable()
    inputs = window_inputs()
    for _ in range(3):
        runnable.run(inputs)
    total = median_ms(lambda: runnable.run(inputs), runs)
    kinds = collections.defaultdict(lambda: [0, 0.0, 0])
    for _ in range(runs):
        for node in json.loads(runnable.profile_json(inputs))["nodes"]:
            k = kinds[node["op_name"]]
            k[0] += 1
            k[1] += node.get("secs_per_iter", 0.0) * 1e3 / runs
            k[2] += int(node.get("cost", {}).get("FMA(F32)", 0))
    return total, {op: (n // runs, ms, 2 * fma / runs) for op, (n, ms, fma) in kinds.items()}


def conv_kinds(model: onnx.ModelProto) -> dict[str, str]:
    """Node or output tensor name -> what its convolution is (ONNX Runtime names a fused node
    after its last output), following Clip/Add outputs."""
    kind = {}
    for node in model.graph.node:
        if node.op_type == "Conv":
            group = next((a.i for a in node.attribute if a.name == "group"), 1)
            k = next(a.ints for a in node.attribute if a.name == "kernel_shape")[0]
            kind[node.output[0]] = kind[node.name] = (
                "IMU" if node.name.startswith("imu") else "depthwise 3x3" if group > 1 else
                "pointwise 1x1" if k == 1 else "stem 3x3")
        elif node.op_type in ("Clip", "Add"):
            source = next((i for i in node.input if i in kind), None)
            if source:
                kind[node.output[0]] = kind[source]
    return kind


def ort_profile(path: Path, runs: int) -> tuple[float, dict]:
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(tempfile.mkdtemp(), "ort")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = dict(zip(("video", "imu", "present"), window_inputs()))
    for _ in range(3):
        session.run(None, feed)
    total = median_ms(lambda: session.run(None, feed), runs)
    events = json.loads(Path(session.end_profiling()).read_text())
    kinds, conv = collections.defaultdict(lambda: [0, 0.0]), conv_kinds(onnx.load(str(path)))
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        op = e["args"]["op_name"]
        if op == "Conv":
            name = e["name"].removesuffix("_kernel_time").removesuffix("_nchwc")
            op = f"Conv ({conv.get(name, 'other')})"
        kinds[op][0] += 1
        kinds[op][1] += e["dur"] / 1e3 / (runs + 3)
    return total, {op: (n // (runs + 3), ms, 0.0) for op, (n, ms) in kinds.items()}


def print_table(engine: str, total: float, kinds: dict) -> None:
    profiled = sum(ms for _n, ms, _f in kinds.values())
    print(f"\n{engine}: {total:.2f} ms per window (median); by operator, {profiled:.2f} ms in all")
    for op, (n, ms, flops) in sorted(kinds.items(), key=lambda kv: -kv[1][1]):
        if ms < 0.05:
            continue
        rate = f"{flops / ms / 1e6:6.1f} GFLOP/s" if flops else ""
        print(f"  {op:28s} x{n:<4d} {ms:8.2f} ms {100 * ms / profiled:5.1f} %  {rate}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, nargs="?", default=HERE / "encoder.onnx")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    print_table("tract (Python bindings, its own plan)", *tract_profile(args.model, args.runs))
    print_table("ONNX Runtime CPU", *ort_profile(args.model, args.runs))


if __name__ == "__main__":
    main()
