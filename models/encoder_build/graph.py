"""A small ONNX graph builder: nodes and initializers collected in order, so the same build
always serializes to the same bytes."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .contract import L2_EPS


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
