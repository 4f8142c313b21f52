"""Small ONNX models built by hand (onnx.helper), for the tests of one op's entry each."""

from __future__ import annotations

from typing import Any

from convcost.model.evaluate import evaluate


def weight(name: str, *dims: int, dtype: str = "float32") -> Any:
    import numpy as np
    from onnx import numpy_helper

    return numpy_helper.from_array(np.zeros(dims, dtype=dtype), name)


def build(nodes, inputs, outputs, initializers=(), opset: int = 17) -> Any:
    """A model from nodes; inputs and outputs as (name, dims) pairs (dims None: unknown)."""
    from onnx import TensorProto, helper

    def info(name, dims):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)

    graph = helper.make_graph(
        nodes, "g", [info(*i) for i in inputs], [info(*o) for o in outputs], list(initializers)
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def node(op: str, inputs, outputs, name: str | None = None, **attrs) -> Any:
    from onnx import helper

    return helper.make_node(op, list(inputs), list(outputs), name=name or outputs[0], **attrs)


def cost(model, **options) -> tuple[Any, Any]:
    """The model converted (``Converted``) and costed (the evaluated network)."""
    from convcost.io.onnx import load

    converted = load(model.SerializeToString(), "m.onnx", **options)
    return converted, evaluate(converted.document)


def inferred(model) -> dict[str, list[int]]:
    """onnx's own shapes of every value (the oracle the shape rules are checked against)."""
    import onnx

    graph = onnx.shape_inference.infer_shapes(model, strict_mode=True).graph
    return {
        info.name: [d.dim_value for d in info.type.tensor_type.shape.dim]
        for info in [*graph.value_info, *graph.output]
    }
