"""Count MACs and FLOPs per branch of an ONNX graph for one window, from inferred shapes."""

from __future__ import annotations

import numpy as np
import onnx


def node_flops(node, shapes: dict[str, list[int]], consts: dict[str, np.ndarray]) -> tuple:
    """(MACs, FLOPs) of one node: a multiply-add is 2 FLOPs; every other op 1 FLOP per element
    it reads (reductions, pooling) or writes (elementwise)."""
    out = int(np.prod(shapes[node.output[0]]))
    if node.op_type == "Conv":
        w = consts[node.input[1]]  # [out channels, in channels / group, kernel...]
        macs = out * w.shape[1] * int(np.prod(w.shape[2:]))
        return macs, 2 * macs + (out if len(node.input) > 2 else 0)
    if node.op_type == "Gemm":
        k = consts[node.input[1]].shape[1]
        return out * k, 2 * out * k + out
    if node.op_type in ("ReduceMean", "GlobalAveragePool"):
        return 0, int(np.prod(shapes[node.input[0]]))
    if node.op_type in ("Reshape", "Slice", "Concat", "Cast"):
        return 0, 0
    return 0, out


def count_flops(model: onnx.ModelProto) -> dict[str, tuple[int, int]]:
    """Per branch (node-name prefix) (MACs, FLOPs) for one window (N = 1)."""
    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    for tensor in list(fixed.graph.input) + list(fixed.graph.output):
        for dim in tensor.type.tensor_type.shape.dim:
            if dim.dim_param:
                dim.dim_value = 1
    inferred = onnx.shape_inference.infer_shapes(fixed, data_prop=True)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(inferred.graph.value_info) + list(inferred.graph.input)
              + list(inferred.graph.output)}
    consts = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    totals: dict[str, tuple[int, int]] = {}
    for node in model.graph.node:
        branch = node.name.split("/")[0]
        macs, flops = node_flops(node, shapes, consts)
        m, f = totals.get(branch, (0, 0))
        totals[branch] = (m + macs, f + flops)
    return totals
