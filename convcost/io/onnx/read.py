"""The ONNX protobuf: parsing a model without its weights' bytes, and the few reads the rest makes.

Models are parsed by :mod:`.proto`, in pure Python, into read-only objects with the attribute
names of onnx's protobuf classes. Everything else in the package reads a model through plain
attributes (``node.op_type``, ``tensor.dims``, ``graph.initializer``…) and the helpers here, which
take onnx's own objects too (the copy onnx's inference reads, on the fallback path: :mod:`.write`).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from mmap import mmap
from typing import TYPE_CHECKING, Any, cast

from ...core import limits
from ...core.errors import ConvCostError
from ...core.limits import MAX_DIMS
from . import proto
from .registry import CONTROL_FLOW

if TYPE_CHECKING:  # the package names onnx's classes: :mod:`.proto`'s have the same fields
    from onnx import AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto

#: The most elements a computed constant may have: shape arithmetic is small, and a model stating a
#: huge one (ConstantOfShape of 30000×30000) is not worked out in memory.
MAX_STATIC = 1 << 16
#: The most bytes of a tensor whose values are read: MAX_STATIC elements of the widest type (a
#: tensor stating fewer elements than its raw_data holds is not read whole for them).
MOST_READ_BYTES = 16 * MAX_STATIC

FLOAT_TYPES = {1, 10, 11, 16}  # float, float16, double, bfloat16
#: The protobuf fields read per node of the layer budget before a file is refused: real exports
#: hold 10 to 60 a node (dynamo's metadata included); a file of empty fields stops at 2 million
#: by default (about 1.5 CPU s in pure Python), not at the 256 MiB size limit's 80 million.
FIELDS_PER_NODE = 100


def parse(data: bytes | bytearray | memoryview | mmap) -> ModelProto:
    """The model in ``data``, read by convcost's own protobuf reader (:mod:`.proto`), no onnx needed.

    Weights are most of a model's bytes and convcost reads only their dims (see :func:`weight`):
    their ``raw_data`` stay views of ``data``, never read or copied, and external data is never
    opened. Malformed bytes are one :class:`ConvCostError` naming what is wrong and where.
    """
    budget = FIELDS_PER_NODE * limits.MAX_GRAPH_NODES
    try:
        model = cast("ModelProto", proto.parse(data, max_fields=budget))
    except proto.MalformedModel as exc:
        if f"more than {budget:,} fields" in exc.problem:  # the budget, not broken bytes
            raise ConvCostError("spec", f"{exc.problem} (--max-layers raises the budget)") from None
        raise
    check_size(model.graph)
    return model


def weight(tensor: TensorProto) -> bool:
    """Whether convcost never reads a tensor's values, only its dims: a weight (a float tensor of
    more than 64 elements), or any tensor past :data:`MAX_STATIC` elements (shape arithmetic is
    small, and nothing larger is ever worked out). Shape arithmetic and small constants are read.
    A tensor of more dims than any shape has counts as one (``check_declared_dims`` refuses it)."""
    dims = tensor.dims
    if len(dims) > MAX_DIMS:
        return True
    elements = prod(dims)
    return elements > MAX_STATIC or (tensor.data_type in FLOAT_TYPES and elements > 64)


def check_size(graph: GraphProto) -> None:
    """The graph's nodes and tensors within the layer budget, counted before any is converted (the
    converter takes about 0.1 ms a node; a 9 MB file can hold a million empty initializers)."""
    nodes, tensors = len(graph.node), len(graph.initializer) + len(graph.sparse_initializer)
    if nodes > limits.MAX_GRAPH_NODES:
        raise ConvCostError(
            "spec",
            f"has {nodes:,} nodes; at most {limits.MAX_GRAPH_NODES:,} are converted "
            "(--max-layers raises the budget)",
        )
    if tensors > 2 * limits.MAX_GRAPH_NODES:  # real models hold one or two a node
        raise ConvCostError(
            "spec",
            f"has {tensors:,} initializers; at most {2 * limits.MAX_GRAPH_NODES:,} "
            "(--max-layers raises the budget)",
        )


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


# ---------------------------------------------------------------------------- reads


def label(node: NodeProto) -> str:
    """How errors name a node: by its name, else by what it makes."""
    if node.name:
        return f"node {node.name!r} ({node.op_type})"
    made = next((o for o in node.output if o), "")
    return f"the {node.op_type} node making {made!r}" if made else f"a {node.op_type} node"


def standard(node: NodeProto) -> bool:
    """Whether a node is of the standard ONNX domain (the ops the registry knows)."""
    return node.domain in ("", "ai.onnx")


def opset(model: ModelProto) -> int | None:
    """The model's version of the standard ONNX domain."""
    return next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


def inputs_of(node: NodeProto) -> list[str]:
    return [name for name in node.input if name]


def attr_names(node: NodeProto) -> set[str]:
    return {a.name for a in node.attribute}


#: The field that holds an attribute's value, by its AttributeProto type (1 FLOAT … 14 TYPE_PROTOS).
_ATTRIBUTE_FIELDS = (
    "", "f", "i", "s", "t", "g", "floats", "ints", "strings", "tensors", "graphs", "sparse_tensor",
    "sparse_tensors", "tp", "type_protos",
)  # fmt: skip
_LISTS = frozenset({6, 7, 8, 9, 10, 12, 14})


def attribute_value(attribute: AttributeProto) -> Any:
    """An attribute's value by its type, as ``onnx.helper.get_attribute_value`` gives it: an int, a
    float, bytes, a tensor or graph, or a list of those (a copy)."""
    kind = int(attribute.type)
    if not 0 < kind < len(_ATTRIBUTE_FIELDS):
        raise ValueError(f"attribute {attribute.name!r} has no known type ({kind})")
    value = getattr(attribute, _ATTRIBUTE_FIELDS[kind])
    return list(value) if kind in _LISTS else value


def attributes(node: NodeProto) -> dict[str, Any]:
    """A node's attributes by name, as Python values (ints, floats, bytes, lists, tensors)."""
    return {a.name: attribute_value(a) for a in node.attribute}


def subgraphs(node: NodeProto) -> list[GraphProto]:
    """The graphs inside a control-flow node, which onnx's shape inference enters."""
    found: list[GraphProto] = []
    if node.op_type not in CONTROL_FLOW:
        return found
    for attribute in node.attribute:
        if attribute.type == 5:  # GRAPH
            found.append(attribute.g)
        elif attribute.type == 10:  # GRAPHS
            found.extend(attribute.graphs)
    return found


def tensor_attributes(attribute: AttributeProto) -> tuple[list[TensorProto], list[Any]] | None:
    """The dense and sparse tensors an attribute holds (None: it holds none)."""
    kind = attribute.type
    if kind not in (4, 9, 11, 12):  # TENSOR, TENSORS, SPARSE_TENSOR, SPARSE_TENSORS
        return None
    dense = [attribute.t] if kind == 4 else list(attribute.tensors)
    sparse = [attribute.sparse_tensor] if kind == 11 else list(attribute.sparse_tensors)
    return dense, sparse


def tensor_dims(dense: Sequence[TensorProto], sparse: Sequence[Any]) -> list[tuple[str, Sequence[int]]]:
    found: list[tuple[str, Sequence[int]]] = [(t.name, t.dims) for t in dense]
    for t in sparse:
        found += [(t.values.name, t.dims), (t.values.name, t.values.dims), (t.values.name, t.indices.dims)]
    return found


def has_shape(info: ValueInfoProto) -> bool:
    """Whether a value's type states a shape (of however many dims)."""
    return bool(info.type.HasField("tensor_type") and info.type.tensor_type.HasField("shape"))


def declared_dims(info: ValueInfoProto) -> list[int | None]:
    """A value's dims as stated: ints (zero and negative ones too), None where there is none."""
    dims = info.type.tensor_type.shape.dim
    return [int(d.dim_value) if d.HasField("dim_value") else None for d in dims]


def named_dims(info: ValueInfoProto) -> list[int | str | None]:
    """A value's dims: ints where known, the symbol's name (or None) where not."""
    found: list[int | str | None] = []
    for dim in info.type.tensor_type.shape.dim:
        if dim.HasField("dim_value") and dim.dim_value > 0:
            found.append(int(dim.dim_value))
        else:
            found.append(dim.dim_param or None)
    return found
