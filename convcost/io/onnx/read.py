"""The ONNX protobuf: parsing a model without its weights' bytes, and the few reads the rest makes.

Everything else in the package reads a model through plain attributes (``node.op_type``,
``tensor.dims``, ``graph.initializer``…) and the helpers here; protobuf's own methods (``HasField``,
``ClearField``) stay here and in :mod:`.inference`, which builds the copy onnx's inference reads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from math import prod
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ...core import limits
from ...core.errors import ConvCostError
from ...core.limits import MAX_DIMS
from .registry import CONTROL_FLOW

if TYPE_CHECKING:
    from onnx import AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto

#: The most elements a computed constant may have: shape arithmetic is small, and a model stating a
#: huge one (ConstantOfShape of 30000×30000) is not worked out in memory.
MAX_STATIC = 1 << 16
#: The most bytes of a tensor whose values are read: MAX_STATIC elements of the widest type (a
#: tensor stating fewer elements than its raw_data holds is not read whole for them).
MOST_READ_BYTES = 16 * MAX_STATIC

FLOAT_TYPES = {1, 10, 11, 16}  # float, float16, double, bfloat16


def parse(data: bytes, onnx: ModuleType) -> ModelProto:
    """The model in ``data``, its weights without their bytes where protobuf can parse it so.

    Weights are most of a model's bytes and convcost reads only their dims (see :func:`weight`):
    parsing them would be most of the time and memory an import takes. So the model is parsed from
    ``data`` less its initializers' ``raw_data`` (see :class:`Skim`), and the tensors whose values
    are read get theirs back. A model the skim does not follow, or whose pieces do not parse, is
    parsed as it is, so that a broken file fails with protobuf's own words.
    """
    skim = Skim(data)
    model: ModelProto
    # Only where the cut is most of the file: joining the pieces copies what is kept, which for a
    # model of few weights (a huge doc string, weights as float_data) is most of it, for nothing.
    if skim.pieces is not None and 2 * sum(len(piece) for piece in skim.pieces) < len(data):
        with contextlib.suppress(Exception):  # pieces that fail to parse: so does the model, below
            model = onnx.load_model_from_string(b"".join(skim.pieces))
            for tensor, span in zip(model.graph.initializer, skim.spans, strict=True):
                if span is not None and not weight(tensor) and span[1] - span[0] <= MOST_READ_BYTES:
                    tensor.raw_data = data[span[0] : span[1]]
            return model
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf raises several types for a broken file
        raise ConvCostError("spec", f"is not a readable ONNX model: {one_line(exc)}") from None
    check_size(model.graph)
    for tensor in model.graph.initializer:  # as the skim leaves them: what is never read, dropped
        if tensor.raw_data and (weight(tensor) or len(tensor.raw_data) > MOST_READ_BYTES):
            tensor.ClearField("raw_data")
    return model


#: Protobuf wire types (a field's tag is its number shifted left by 3, or'ed with its wire type).
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5
#: The field numbers of ModelProto.graph, GraphProto.initializer and TensorProto.raw_data in onnx.proto.
_MODEL_GRAPH, _GRAPH_INITIALIZER, _TENSOR_RAW_DATA = 7, 5, 9
#: The most fields the skim walks before it leaves a model to protobuf: a Python loop over each
#: field is slower than protobuf's parse, and a hostile file can hold millions of empty ones.
MOST_FIELDS = 1 << 17
_Field = tuple[int, int, int, int, int, int]  # number, wire type, start, end of tag, start of value, end
_Piece = bytes | memoryview


class _Unskimmable(Exception):
    """Bytes that :class:`Skim` does not follow as protobuf does (a group, a length past the end…)."""


class Skim:
    """A model's bytes in pieces, less its graph's initializers' ``raw_data`` fields.

    ``pieces``: a ModelProto that differs from ``data`` only there, the lengths of the graph and of
    each cut tensor rewritten and every other byte as it is (None: no initializer has ``raw_data``,
    or the walk met bytes it does not follow). protobuf parses the pieces exactly when it parses
    ``data``: the walk checks what protobuf checks of what it cuts and of what encloses it (a varint
    of at most 10 bytes; a tag of at most 5, within 32 bits and not field 0; a length below 2³¹ − 1
    and within its message), leaves the rest to protobuf, and gives up at groups or unknown wire
    types; and protobuf never looks inside ``raw_data``'s bytes.
    ``spans``: for each initializer in order (across repeated ``graph`` fields, which protobuf
    merges), where in ``data`` the value of its last ``raw_data`` is (the one protobuf keeps), or None.
    """

    def __init__(self, data: bytes) -> None:
        self.data, self.view = data, memoryview(data)
        self.spans: list[tuple[int, int] | None] = []
        self.walked = 0
        self.pieces: list[_Piece] | None
        try:
            self.pieces = self.replaced(0, len(data), _MODEL_GRAPH, self.graph)
        except _Unskimmable:
            self.pieces = None

    def varint(self, pos: int, end: int) -> tuple[int, int]:
        """The varint at ``pos`` as protobuf reads it (modulo 2⁶⁴), and where it ends."""
        data, value, shift = self.data, 0, 0
        while pos < end and shift < 70:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value & 0xFFFF_FFFF_FFFF_FFFF, pos
            shift += 7
        raise _Unskimmable

    def fields(self, pos: int, end: int) -> list[_Field]:
        """The fields of the message in ``data[pos:end]``."""
        found: list[_Field] = []
        while pos < end:
            self.walked += 1
            if self.walked > MOST_FIELDS:
                raise _Unskimmable
            start = pos
            tag, head = self.varint(pos, end)
            number, wire = tag >> 3, tag & 7
            if number == 0 or tag > 0xFFFF_FFFF or head - start > 5:
                raise _Unskimmable
            value = head
            if wire == _VARINT:
                pos = self.varint(head, end)[1]
            elif wire == _FIXED64:
                pos = head + 8
            elif wire == _FIXED32:
                pos = head + 4
            elif wire == _LENGTH:
                size, value = self.varint(head, end)
                if size >= (1 << 31) - 1 or value - head > 5:  # protobuf refuses a longer length
                    raise _Unskimmable
                pos = value + size
            else:  # groups (long deprecated, never in onnx.proto) and wire types that do not exist
                raise _Unskimmable
            if pos > end:
                raise _Unskimmable
            found.append((number, wire, start, head, value, pos))
        return found

    def replaced(
        self, pos: int, end: int, number: int, inner: Callable[[int, int], list[_Piece] | None]
    ) -> list[_Piece] | None:
        """The message in ``data[pos:end]`` with each message field ``number`` as ``inner`` makes
        its value (None: ``inner`` changes none)."""
        pieces: list[_Piece] = []
        kept = pos
        for field_number, wire, _, head, value, after in self.fields(pos, end):
            if field_number != number or wire != _LENGTH:
                continue
            content = inner(value, after)
            if content is not None:
                pieces += [self.view[kept:head], varint_bytes(sum(len(p) for p in content)), *content]
                kept = after
        return [*pieces, self.view[kept:end]] if pieces else None

    def graph(self, pos: int, end: int) -> list[_Piece] | None:
        return self.replaced(pos, end, _GRAPH_INITIALIZER, self.tensor)

    def tensor(self, pos: int, end: int) -> list[_Piece] | None:
        pieces: list[_Piece] = []
        kept, span = pos, None
        for number, wire, start, _, value, after in self.fields(pos, end):
            if number == _TENSOR_RAW_DATA and wire == _LENGTH:
                pieces.append(self.view[kept:start])
                kept, span = after, (value, after)
        self.spans.append(span)
        return [*pieces, self.view[kept:end]] if pieces else None


def varint_bytes(value: int) -> bytes:
    """A length (never negative) as a protobuf varint."""
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


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


def attributes(node: NodeProto) -> dict[str, Any]:
    """A node's attributes by name, as Python values (ints, floats, bytes, lists, tensors)."""
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


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
