"""Reading ONNX models into the graph spec format (needs the optional ``onnx`` package).

The model becomes the same plain document a YAML spec gives, node for node: one spec entry
per ONNX node that does work or moves a shape, wired to its inputs by name, so
``compare model.onnx`` and ``compare`` of ``convcost import model.onnx`` agree by
construction. Nothing is squeezed into a chain: dense blocks, inception and ASPP concats,
channel shuffles, attention and several heads are graphs as they are.

Shapes come from the model's value info and ONNX shape inference, run on a copy whose
weight tensors keep their dims but not their bytes (and with ``load_external_data=False``
a model whose weight file is absent still costs: only shapes are needed). A model given as
bytes (:func:`load`) is parsed without its weights' bytes in the first place. Every value is
tracked as an NCHW-style tensor (stored channels-last, as convcost's shapes are) or a plain
tensor (stored as it is), and by where its batch axis is, so that transposes NCHW → NHWC,
reshapes between tokens and grids and ShuffleNet's 5-D channel shuffle move shapes exactly.
The batch axis is dropped: the document costs one sample and :attr:`Converted.batch` says
how many the model's input holds. A model that mixes its batch axis into the computation
(a ``Gemm`` with ``transA`` over the batch) is costed as one pass over its whole input.

Shape ops, constants and shape arithmetic cost nothing; a learned tensor used as an
operand (a class token, a position embedding, a layer scale) is a ``parameter`` entry,
its elements counted once. An op convcost cannot cost becomes an ``opaque`` entry that
passes its shape on, and is listed in the notes and in :attr:`Converted.unsupported` —
never silently dropped. A malformed graph is a :class:`ConvCostError` naming the node: what
onnx's op schemas ask (inputs, attributes once and of their type) is checked first, a dim that
shape inference makes negative is refused at the node that makes it, and inference runs on a copy
in which no Slice can read such a dim (onnx would abort the process; see :func:`_guard_slices`).
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from math import prod
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from ..core import limits, values
from ..core.errors import ConvCostError
from ..core.limits import MAX_DIMS
from ..model.kinds import KINDS, MergeMismatch

INSTALL_HINT = "reading ONNX needs the onnx package: pip install 'convcost[onnx]'"

#: The standard-domain opsets this reader knows the ops of (the newest is onnx's own).
OLDEST_OPSET = 7

Shape = tuple[int, ...]
Layout = Literal["nchw", "plain"]


class Converted(NamedTuple):
    """An ONNX model as a spec document, with what the reader has to say about it.

    ``batch``: the samples the model's input holds (its static batch dim, or the one given);
    the document costs one of them. ``unsupported``: op → how many nodes convcost could not
    cost (each is an ``opaque`` entry in the document and a line in ``notes``).
    """

    document: dict[str, Any]
    notes: list[str]
    batch: int = 1
    unsupported: Mapping[str, int] = MappingProxyType({})


def load(
    data: bytes,
    source: str,
    *,
    input_shape: Sequence[int] | None = None,
    batch: int | None = None,
) -> Converted:
    """Convert an ONNX model (its bytes) into a spec document.

    ``input_shape`` (channels-last, without the batch, as ``--in``) replaces the first input's
    dims and ``batch`` its batch dim; every shape is then inferred again.
    """
    try:
        import onnx
    except ImportError:
        raise ConvCostError("spec", f"is an ONNX model; {INSTALL_HINT}") from None
    return convert(_parse(data, onnx), source, input_shape=input_shape, batch=batch)


def _parse(data: bytes, onnx: Any) -> Any:
    """The model in ``data``, its weights without their bytes where protobuf can parse it so.

    Weights are most of a model's bytes and convcost reads only their dims (see :func:`_weight`):
    parsing them would be most of the time and memory an import takes. So the model is parsed from
    ``data`` less its initializers' ``raw_data`` (see :class:`_Skim`), and the tensors whose values
    are read get theirs back. A model the skim does not follow, or whose pieces do not parse, is
    parsed as it is, so that a broken file fails with protobuf's own words.
    """
    skim = _Skim(data)
    # Only where the cut is most of the file: joining the pieces copies what is kept, which for a
    # model of few weights (a huge doc string, weights as float_data) is most of it, for nothing.
    if skim.pieces is not None and 2 * sum(len(piece) for piece in skim.pieces) < len(data):
        with contextlib.suppress(Exception):  # pieces that fail to parse: so does the model, below
            model = onnx.load_model_from_string(b"".join(skim.pieces))
            for tensor, span in zip(model.graph.initializer, skim.spans, strict=True):
                if span is not None and not _weight(tensor) and span[1] - span[0] <= _MOST_READ_BYTES:
                    tensor.raw_data = data[span[0] : span[1]]
            return model
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf raises several types for a broken file
        raise ConvCostError("spec", f"is not a readable ONNX model: {_one_line(exc)}") from None
    _check_size(model.graph)
    for tensor in model.graph.initializer:  # as the skim leaves them: what is never read, dropped
        if tensor.raw_data and (_weight(tensor) or len(tensor.raw_data) > _MOST_READ_BYTES):
            tensor.ClearField("raw_data")
    return model


#: Protobuf wire types (a field's tag is its number shifted left by 3, or'ed with its wire type).
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5
#: The field numbers of ModelProto.graph, GraphProto.initializer and TensorProto.raw_data in onnx.proto.
_MODEL_GRAPH, _GRAPH_INITIALIZER, _TENSOR_RAW_DATA = 7, 5, 9
#: The most fields the skim walks before it leaves a model to protobuf: a Python loop over each
#: field is slower than protobuf's parse, and a hostile file can hold millions of empty ones.
_MOST_FIELDS = 1 << 17
_Field = tuple[int, int, int, int, int, int]  # number, wire type, start, end of tag, start of value, end
_Piece = bytes | memoryview


class _Unskimmable(Exception):
    """Bytes that :class:`_Skim` does not follow as protobuf does (a group, a length past the end…)."""


class _Skim:
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
            if self.walked > _MOST_FIELDS:
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
                pieces += [self.view[kept:head], _varint_bytes(sum(len(p) for p in content)), *content]
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


def _varint_bytes(value: int) -> bytes:
    """A length (never negative) as a protobuf varint."""
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def convert(
    model: Any, source: str, *, input_shape: Sequence[int] | None = None, batch: int | None = None
) -> Converted:
    """Convert a loaded ``onnx.ModelProto`` (see :func:`load`)."""
    try:
        return _convert(model, source, input_shape, batch)
    except ConvCostError:
        raise
    except INTERNAL as exc:  # a guard: every malformed model known is refused in its own words before
        raise ConvCostError("spec", internal(exc)) from None


#: What a bug in the converter raises (a guard turns it into one line, never a traceback).
INTERNAL = (ArithmeticError, AssertionError, AttributeError, LookupError, TypeError, ValueError)


def internal(exc: BaseException) -> str:
    return (
        f"convcost cannot convert it (an internal error, {type(exc).__name__}: {_one_line(exc)}); "
        "please report it with the model"
    )


def _convert(model: Any, source: str, input_shape: Sequence[int] | None, batch: int | None) -> Converted:
    import onnx

    if not model.graph.node:
        raise ConvCostError("spec", "has an empty graph (no nodes): there is nothing to cost")
    _check_size(model.graph)
    _check_opset(model, onnx)
    if len(model.functions):
        try:
            from onnx import inliner

            model = inliner.inline_local_functions(model)
        except Exception as exc:
            raise ConvCostError(
                "spec", f"has model-local functions onnx cannot inline: {_one_line(exc)}"
            ) from None
    graph = model.graph
    _check_structure(graph, _opset(model))
    _check_declared_dims(graph)
    wants = _wants_nchw(graph)
    initializers = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if not inputs:
        raise ConvCostError("spec", "has no inputs (every graph input is a weight): there is nothing to cost")
    copy = _shapes_only(model, onnx)
    changed = _set_inputs(copy, inputs[0].name, wants, input_shape, batch)
    _check_symbolic(copy, initializers)
    shapes = _infer(copy, onnx, changed)
    for _ in range(4):  # shape arithmetic ONNX's data propagation misses (Div, Where, …): fold, infer again
        if not _unknown(copy, shapes) or not _fold_constants(copy, shapes):
            break
        shapes = _infer(copy, onnx, changed)
    first = shapes[inputs[0].name]
    n = first[0] if first and first[0] is not None else 1
    try:
        return _Converter(model, shapes, wants, source, n, n).run()
    except _BatchMixed as mixed:
        if n == 1:  # pragma: no cover - a batch of one never mixes
            raise
        converted = _Converter(model, shapes, wants, source, None, n).run()
        note = (
            f"{mixed.where} mixes the batch axis with other dims ({mixed.why}): the model is costed as one "
            f"pass over its whole input, the {n} samples of its first dim included; the totals are for that"
        )
        return converted._replace(notes=[note, *converted.notes])


# ---------------------------------------------------------------------------- checks and shapes


def _check_size(graph: Any) -> None:
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


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _label(node: Any) -> str:
    """How errors name a node: by its name, else by what it makes."""
    if node.name:
        return f"node {node.name!r} ({node.op_type})"
    made = next((o for o in node.output if o), "")
    return f"the {node.op_type} node making {made!r}" if made else f"a {node.op_type} node"


def _opset(model: Any) -> int | None:
    """The model's version of the standard ONNX domain."""
    return next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


def _check_opset(model: Any, onnx: Any) -> None:
    newest = int(onnx.defs.onnx_opset_version())
    version = _opset(model)
    standard = [n for n in model.graph.node if n.domain in ("", "ai.onnx")]
    if version is None:
        if standard:
            raise ConvCostError(
                "spec", "declares no opset for the standard ONNX ops it uses; it is not a valid model"
            )
        return
    if not OLDEST_OPSET <= version <= newest:
        raise ConvCostError(
            "spec",
            f"uses ONNX opset {version}, which convcost does not know (it reads opsets {OLDEST_OPSET} to "
            f"{newest}, the newest onnx {onnx.__version__} knows); re-export with an opset in that range"
            + (" or upgrade onnx" if version > newest else ""),
        )


def _inputs_of(node: Any) -> list[str]:
    return [name for name in node.input if name]


def _attr_names(node: Any) -> set[str]:
    return {a.name for a in node.attribute}


def _check_structure(graph: Any, version: int | None) -> None:
    """What a node must have whatever the shapes: inputs, weights of the right rank, attributes."""
    weights = {t.name: tuple(t.dims) for t in graph.initializer}
    arity = {
        "Conv": (2, 3, "an input and a weight (and an optional bias)"),
        "ConvTranspose": (2, 3, "an input and a weight (and an optional bias)"),
        "Gemm": (2, 3, "two matrices (and an optional C)"),
        "MatMul": (2, 2, "two operands"),
        "BatchNormalization": (5, 5, "an input, scale, bias, mean and variance"),
        "LayerNormalization": (2, 3, "an input and a scale (and an optional bias)"),
        "Concat": (1, None, "at least one input"),
    }
    for node in graph.node:
        if node.domain not in ("", "ai.onnx"):
            continue
        op = node.op_type
        given = _inputs_of(node)
        if op in arity:
            least, most, what = arity[op]
            if len(given) < least or (most is not None and len(given) > most):
                raise ConvCostError(
                    _label(node), f"needs {what}, but has {len(given)} input{'s' * (len(given) != 1)}"
                )
        if not any(node.output):
            raise ConvCostError(_label(node), "has no output")
        if op in ("Conv", "ConvTranspose") and given[1] in weights:
            rank = len(weights[given[1]])
            if rank < 3:
                raise ConvCostError(
                    _label(node),
                    f"has a {rank}-D weight {list(weights[given[1]])}; a conv weight is "
                    "(C_out, C_in/groups, kernel…), 3-D or more",
                )
        if op in ("MaxPool", "AveragePool", "LpPool") and "kernel_shape" not in _attr_names(node):
            raise ConvCostError(_label(node), "has no kernel_shape; a pool needs its window size")
        if op != "Constant":  # read in a guarded evaluation only
            _check_schema(node, version)


_ATTRIBUTE_KINDS = {
    1: "a float", 2: "an int", 3: "a string", 4: "a tensor", 5: "a graph", 6: "a list of floats",
    7: "a list of ints", 8: "a list of strings", 9: "a list of tensors", 10: "a list of graphs",
    11: "a sparse tensor", 12: "a list of sparse tensors", 13: "a type", 14: "a list of types",
}  # fmt: skip


class _Schema(NamedTuple):
    """What convcost checks of an op's ONNX schema, as plain data."""

    attributes: dict[str, int]  # name → AttributeProto type
    required: tuple[str, ...]
    inputs: tuple[tuple[str, str, int], ...]  # (name, "Single"/"Optional"/"Variadic", least count)
    max_input: int
    outputs: tuple[tuple[str, str], ...]
    max_output: int


@functools.lru_cache(maxsize=1024)
def _schema(op: str, version: int) -> _Schema | None:
    """The schema of a standard op at an opset, or None for an op onnx does not know (then opaque)."""
    import onnx

    schema: Any
    try:
        schema = onnx.defs.get_schema(op, version, "")
        options: Any = onnx.defs.OpSchema.FormalParameterOption
        kinds = {options.Single: "Single", options.Optional: "Optional", options.Variadic: "Variadic"}
        attributes = schema.attributes
        return _Schema(
            {name: int(a.type.value) for name, a in attributes.items()},
            tuple(name for name, a in attributes.items() if a.required),
            tuple((f.name, kinds.get(f.option, "Optional"), int(f.min_arity)) for f in schema.inputs),
            int(schema.max_input),
            tuple((f.name, kinds.get(f.option, "Optional")) for f in schema.outputs),
            int(schema.max_output),
        )
    except Exception:  # SchemaError: no such op at this opset (or an onnx that words schemas otherwise)
        return None


def _check_schema(node: Any, version: int | None) -> None:
    """What onnx's op schema asks of a node and its shape inference does not check (a node that
    breaks it crashes the conversion): each attribute once and of its type, the inputs it must
    have, no more inputs or outputs than it takes."""
    op = node.op_type
    schema = _schema(op, version) if version is not None else None
    seen: set[str] = set()
    for attribute in node.attribute:
        name, kind = attribute.name, attribute.type
        if name in seen:
            raise ConvCostError(_label(node), f"gives attribute {name!r} more than once")
        seen.add(name)
        if kind not in _ATTRIBUTE_KINDS:
            raise ConvCostError(_label(node), f"has attribute {name!r} of no known type ({kind})")
        wanted = schema.attributes.get(name, kind) if schema is not None else kind
        if wanted != kind:
            raise ConvCostError(
                _label(node),
                f"gives attribute {name!r} as {_ATTRIBUTE_KINDS[kind]}; {op} takes "
                f"{_ATTRIBUTE_KINDS.get(wanted, 'another type')}",
            )
    if schema is None:
        return
    for name in schema.required:
        if name not in seen:
            raise ConvCostError(_label(node), f"has no attribute {name!r}, which {op} needs")
    inputs = list(node.input)
    count = len(inputs)
    if count > schema.max_input:
        raise ConvCostError(_label(node), f"has {count} inputs; {op} takes at most {schema.max_input}")
    for index, (name, option, least) in enumerate(schema.inputs):
        if option == "Single" and index >= count:
            raise ConvCostError(_label(node), f"has no input {index} ({name!r}), which {op} needs")
        if option == "Single" and not inputs[index]:
            raise ConvCostError(_label(node), f"leaves its input {index} ({name!r}) empty; {op} needs it")
        if option == "Variadic":
            given = sum(1 for value in inputs[index:] if value)
            if given < least:
                raise ConvCostError(_label(node), f"has {given} {name!r} inputs; {op} needs at least {least}")
    outputs = list(node.output)
    if len(outputs) > schema.max_output:
        raise ConvCostError(
            _label(node), f"has {len(outputs)} outputs; {op} makes at most {schema.max_output}"
        )
    for index, (name, option) in enumerate(schema.outputs):
        if option == "Single" and index < len(outputs) and not outputs[index]:
            raise ConvCostError(_label(node), f"leaves its output {index} ({name!r}) without a name")


def _check_declared_dims(graph: Any) -> None:
    """No dim the model states (value info, weights, constants) is negative: onnx's shape inference
    takes them as they are, and a Slice of one aborts the process (see :func:`_guard_slices`)."""
    for info in [*graph.input, *graph.output, *graph.value_info]:
        tensor = info.type.tensor_type
        if tensor.HasField("shape") and len(tensor.shape.dim) > MAX_DIMS:
            raise ConvCostError("spec", _too_many_dims(info.name, len(tensor.shape.dim)))
        if tensor.HasField("shape") and any(d.dim_value < 0 for d in tensor.shape.dim):
            shown = _dims_text([d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim])
            raise ConvCostError("spec", f"declares {info.name!r} as {shown}: a dim below 0")
    for name, dims in _tensor_dims([*graph.initializer], [*graph.sparse_initializer]):
        if len(dims) > MAX_DIMS:
            raise ConvCostError("spec", _too_many_dims(name, len(dims)))
        if any(d < 0 for d in dims):
            raise ConvCostError("spec", f"has a tensor {name!r} of dims {list(dims)}: a dim below 0")
    for node in graph.node:
        for attribute in node.attribute:
            kind = attribute.type
            if kind not in (4, 9, 11, 12):  # TENSOR, TENSORS, SPARSE_TENSOR, SPARSE_TENSORS
                continue
            dense = [attribute.t] if kind == 4 else list(attribute.tensors)
            sparse = [attribute.sparse_tensor] if kind == 11 else list(attribute.sparse_tensors)
            for _, dims in _tensor_dims(dense, sparse):
                if len(dims) > MAX_DIMS:
                    raise ConvCostError(_label(node), _too_many_dims(attribute.name, len(dims)))
                if any(d < 0 for d in dims):
                    raise ConvCostError(
                        _label(node), f"has a tensor {attribute.name!r} of dims {list(dims)}: a dim below 0"
                    )
        for body in _subgraphs(node):
            _check_declared_dims(body)


def _too_many_dims(name: str, count: int) -> str:
    return f"has a tensor {name!r} of {count:,} dims; at most {MAX_DIMS} are allowed"


def _tensor_dims(dense: list[Any], sparse: list[Any]) -> list[tuple[str, Sequence[int]]]:
    found = [(t.name, t.dims) for t in dense]
    for t in sparse:
        found += [(t.values.name, t.dims), (t.values.name, t.values.dims), (t.values.name, t.indices.dims)]
    return found


def _wants_nchw(graph: Any) -> set[str]:
    """Values best stored channels-last: read by a spatial op, directly or through element-wise ops,
    or merged element-wise with a spatial op's output."""
    made: set[str] = set()  # values spatial ops make (and element-wise ops pass on)
    for node in graph.node:
        if node.op_type in SPATIAL or (node.op_type in TRANSPARENT and made & set(node.input)):
            made.update(node.output)
    wants: set[str] = set()
    for node in reversed(graph.node):
        spatial = node.op_type in SPATIAL
        merged = node.op_type in TRANSPARENT and (
            any(out in wants for out in node.output) or len(made & set(node.input)) > 0
        )
        for index, name in enumerate(node.input):
            if name and ((spatial and index == 0) or merged):
                wants.add(name)
    return wants


_FLOAT_TYPES = {1, 10, 11, 16}  # float, float16, double, bfloat16


def _weight(tensor: Any) -> bool:
    """Whether convcost never reads a tensor's values, only its dims: a weight (a float tensor of
    more than 64 elements), or any tensor past :data:`MAX_STATIC` elements (shape arithmetic is
    small, and nothing larger is ever worked out). Shape arithmetic and small constants are read.
    A tensor of more dims than any shape has counts as one (:func:`_check_declared_dims` refuses it)."""
    dims = tensor.dims
    if len(dims) > MAX_DIMS:
        return True
    elements = prod(dims)
    return elements > MAX_STATIC or (tensor.data_type in _FLOAT_TYPES and elements > 64)


def _shapes_only(model: Any, onnx: Any) -> Any:
    """A copy whose large float tensors keep their dims but not their bytes: inference is fast, and a
    model of several GB is not copied."""
    copy = onnx.ModelProto()
    copy.ir_version = model.ir_version
    copy.opset_import.extend(model.opset_import)
    graph, source = copy.graph, model.graph
    graph.name = source.name
    for name in ("input", "output", "value_info", "sparse_initializer"):
        getattr(graph, name).extend(getattr(source, name))
    for node in source.node:
        if node.op_type != "Constant" or not any(a.type == 4 and _weight(a.t) for a in node.attribute):
            graph.node.add().CopyFrom(node)
            continue
        # a weight some converters write as a constant node: its dims, never its bytes, copied
        kept_node = graph.node.add()
        kept_node.name, kept_node.op_type, kept_node.domain = node.name, node.op_type, node.domain
        kept_node.input.extend(node.input)
        kept_node.output.extend(node.output)
        for attribute in node.attribute:
            kept_attribute = kept_node.attribute.add()
            if attribute.type == 4 and _weight(attribute.t):  # TENSOR
                kept_attribute.name, kept_attribute.type = attribute.name, attribute.type
                _dims_of(attribute.t, kept_attribute.t)
            else:
                kept_attribute.CopyFrom(attribute)
    for tensor in source.initializer:
        if _weight(tensor):
            _dims_of(tensor, graph.initializer.add())
        else:
            graph.initializer.add().CopyFrom(tensor)
    return copy


def _dims_of(tensor: Any, kept: Any) -> None:
    """``kept`` becomes ``tensor`` without its values: name, type and dims."""
    kept.name, kept.data_type = tensor.name, tensor.data_type
    kept.dims.extend(tensor.dims)


def _dims(info: Any) -> list[int | str | None]:
    """A value's dims: ints where known, the symbol's name (or None) where not."""
    found: list[int | str | None] = []
    for dim in info.type.tensor_type.shape.dim:
        if dim.HasField("dim_value") and dim.dim_value > 0:
            found.append(int(dim.dim_value))
        else:
            found.append(dim.dim_param or None)
    return found


def _set_inputs(
    model: Any, name: str, wants: set[str], shape: Sequence[int] | None, batch: int | None
) -> bool:
    """Apply ``--in`` and ``--batch`` to the inference copy; whether anything changed."""
    if shape is None and batch is None:
        return False
    graph = model.graph
    info = next(i for i in graph.input if i.name == name)
    dims = info.type.tensor_type.shape.dim
    rank = len(dims)
    if rank == 0:
        raise ConvCostError("in", f"the model's input {name!r} is a scalar; it has no shape to set")
    if shape is not None:
        shape = tuple(shape)
        nchw = rank >= 3 and name in wants
        if len(shape) != rank - 1:
            form = "spatial dims then channels" if nchw else "its dims after the batch"
            raise ConvCostError(
                "in",
                f"{values.format_dims(shape)} gives {len(shape)} dims but the model's input {name!r} "
                f"has {rank - 1} besides the batch; give {form}",
            )
        onnx_dims = (shape[-1],) + shape[:-1] if nchw else shape
        for dim, value in zip(list(dims)[1:], onnx_dims, strict=True):
            dim.Clear()
            dim.dim_value = value
    if batch is not None:
        dims[0].Clear()
        dims[0].dim_value = batch
        for other in graph.input:
            other_dims = other.type.tensor_type.shape.dim
            if other is not info and len(other_dims) and not other_dims[0].HasField("dim_value"):
                other_dims[0].Clear()
                other_dims[0].dim_value = batch
    # every shape is inferred again from the new input
    graph.ClearField("value_info")
    for output in graph.output:
        output.type.tensor_type.ClearField("shape")
    return True


def _check_symbolic(model: Any, initializers: set[str]) -> None:
    for info in model.graph.input:
        if info.name in initializers:
            continue
        if not info.type.tensor_type.HasField("shape"):
            raise ConvCostError("in", f"the model's input {info.name!r} has no shape; give the input shape")
        unknown = [(axis, dim) for axis, dim in enumerate(_dims(info)) if not isinstance(dim, int)]
        if not unknown:
            continue
        listed = ", ".join(f"{dim or '?'} (axis {axis})" for axis, dim in unknown)
        spatial = any(axis > 0 for axis, _ in unknown)
        needs = (["the batch"] if unknown[0][0] == 0 else []) + (["the input shape"] if spatial else [])
        raise ConvCostError(
            "in" if spatial else "batch",
            f"the model's input {info.name!r} has symbolic dims: {listed}; give {' and '.join(needs)}",
        )


_INFERENCE_ERROR = re.compile(r"\(op_type:(\w+), node name: ([^)]*)\):\s*(.*?)(?=\s*\(op_type:|$)", re.S)
#: Ops whose output has their first input's shape (filled in where ONNX's inference leaves it out,
#: as for GroupNormalization, whose opset-21 schema is a function).
SAME_SHAPE = {
    "GroupNormalization", "InstanceNormalization", "LayerNormalization", "BatchNormalization", "Softmax",
    "LogSoftmax", "Dropout", "Identity", "LRN", "MeanVarianceNormalization", "LpNormalization",
}  # fmt: skip


def _infer(model: Any, onnx: Any, changed: bool, attempts: int = 8) -> dict[str, tuple[int | None, ...]]:
    """Every value's dims (None where unknown), from the model's value info and shape inference."""
    guarded = _guard_slices(model, onnx)
    try:
        inferred = onnx.shape_inference.infer_shapes(
            guarded.model, check_type=False, strict_mode=True, data_prop=True
        )
    except Exception as exc:
        partial = _partial_inference(guarded.model, onnx)
        if partial is not None:
            _refuse_negative_dims(model, _raw_shapes(partial))
        if attempts and _fill_same_shapes(model, onnx):
            return _infer(model, onnx, changed, attempts - 1)
        text = _one_line(exc)
        found = _INFERENCE_ERROR.search(text)
        if found:
            op, name, problem = found.groups()
            problem = re.sub(r"\[\w+Error\]\s*", "", problem).strip().rstrip(".")
            where = guarded.slices.get(name) or (f"node {name!r} ({op})" if name else f"a {op} node")
            hint = "; shapes fixed inside the model do not fit the input given" if changed else ""
            raise ConvCostError(where, f"shape inference fails: {problem}{hint}") from None
        raise ConvCostError("spec", f"fails ONNX shape inference: {text}") from None
    raw = _raw_shapes(inferred.graph)
    _refuse_negative_dims(model, raw)
    shapes = _shapes_of(inferred.graph, raw)
    for name in guarded.made:
        shapes.pop(name, None)
    return shapes


def _partial_inference(model: Any, onnx: Any) -> Any:
    """The graph with what inference finds despite errors (None where it fails outright)."""
    try:
        return onnx.shape_inference.infer_shapes(
            model, check_type=False, strict_mode=False, data_prop=True
        ).graph
    except Exception:
        return None


#: Ops whose shape inference works out windows: an output dim of 0 is as wrong as a negative one.
WINDOWED = {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "ConvInteger", "QLinearConv"}


def _dims_text(dims: Sequence[int | None]) -> str:
    return "x".join("?" if d is None else str(d) for d in dims)


def _raw_shapes(graph: Any) -> dict[str, list[int | None]]:
    """Every typed value's dims as inference leaves them: ints (zero and negative ones too), None."""
    raw: dict[str, list[int | None]] = {}
    for info in [*graph.input, *graph.value_info, *graph.output]:
        if info.type.HasField("tensor_type") and info.type.tensor_type.HasField("shape"):
            dims = info.type.tensor_type.shape.dim
            raw[info.name] = [int(d.dim_value) if d.HasField("dim_value") else None for d in dims]
    return raw


def _refuse_negative_dims(model: Any, raw: dict[str, list[int | None]]) -> None:
    """The first node that shape inference gives an output dim below zero (a window's: below one).

    ONNX works such dims out without a word (a 3×3 conv on a 1×1 map is "-1" wide): convcost
    refuses them at the node that makes them.
    """
    if all(d is None or d > 0 for dims in raw.values() for d in dims):
        return
    for node in model.graph.node:
        windowed = node.op_type in WINDOWED and node.domain in ("", "ai.onnx")
        least = 1 if windowed else 0
        for out in node.output:
            dims = raw.get(out)
            if dims is None or all(d is None or d >= least for d in dims):
                continue
            data = next((name for name in node.input if name), "")
            given = f" from {data!r} {_dims_text(raw[data])}" if data in raw else ""
            if windowed:
                why = "its input is smaller than its window (kernel and dilation, after padding)"
            else:
                why = "its inputs or attributes do not fit"
            raise ConvCostError(
                _label(node),
                f"shape inference makes its output {out!r} {_dims_text(dims)}{given}, "
                f"a dim below {least}: {why}",
            )


#: Ops with a data propagator: onnx carries shape vectors through them (Shape → Gather → Concat → …).
PROPAGATING = {"Add", "Cast", "Concat", "Gather", "Mul", "Slice", "Squeeze", "Sub", "Unsqueeze"}


class _Guarded(NamedTuple):
    model: Any  # the copy that shape inference reads
    slices: dict[str, str]  # guard node name → how errors name the Slice it guards
    made: set[str]  # the values the guards add


def _guard_slices(model: Any, onnx: Any) -> _Guarded:
    """A copy for shape inference in which no Slice reads a dim below zero.

    onnx's inference of Slice (opset 10 on) clamps its bounds with ``std::clamp(v, 0, dim)``, whose
    assertion aborts the whole process when ``dim`` is negative, before any Python handler can act;
    ONNX makes such dims without a word (a 3×3 conv on a 1×1 map is "-1" wide). So each Slice of an
    activation reads its data through ``Expand(x, Shape(ConstantOfShape(Shape(x))))``: the same tensor
    and shape, but ConstantOfShape's inference refuses a negative dim with an error Python catches,
    and the Slice then sees no shape and leaves it alone. Slices of shape vectors and constants keep
    their input: onnx carries shape data through them, and their dims, made from ranks and constant
    tensors' dims (checked before), are never negative. A check in Python before inference cannot
    do this: the dims it would check are the ones inference works out. Nor a child process: it would
    cost every import a process start.
    """
    version = _opset(model)
    if version is None or version < 10:
        return _Guarded(model, {}, set())
    slices = _guarded_slices(model.graph)
    if not slices and not _nested_guards(model.graph):
        return _Guarded(model, {}, set())
    taken = _all_names(model.graph)
    prefix = "convcost_guard"
    while any(name.startswith(prefix) for name in taken):
        prefix += "_"
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    guarded = _Guarded(copy, {}, set())
    _guard_graph(copy.graph, slices, onnx, prefix, guarded)
    return guarded


#: Ops with graph attributes whose bodies onnx's shape inference enters.
CONTROL_FLOW = {"If", "Loop", "Scan", "SequenceMap"}


def _subgraphs(node: Any) -> list[Any]:
    found: list[Any] = []
    if node.op_type not in CONTROL_FLOW:
        return found
    for attribute in node.attribute:
        if attribute.type == 5:  # GRAPH
            found.append(attribute.g)
        elif attribute.type == 10:  # GRAPHS
            found.extend(attribute.graphs)
    return found


def _guarded_slices(graph: Any) -> list[int]:
    """The positions of the Slices in ``graph`` that read an activation (not a shape vector or constant)."""
    if "Slice" not in {node.op_type for node in graph.node}:
        return []
    static = {t.name for t in graph.initializer} | {t.values.name for t in graph.sparse_initializer}
    found = []
    for index, node in enumerate(graph.node):
        op = node.op_type
        if node.domain not in ("", "ai.onnx"):
            continue
        if op == "Slice" and node.input and node.input[0] and node.input[0] not in static:
            found.append(index)
        if op in ("Constant", "Shape", "Size") or (
            op in PROPAGATING and all(name in static for name in node.input if name)
        ):
            static.update(node.output)
    return found


def _nested_guards(graph: Any) -> bool:
    """Whether a graph inside ``graph`` has a Slice to guard."""
    if not CONTROL_FLOW & {node.op_type for node in graph.node}:
        return False
    return any(
        _guarded_slices(body) or _nested_guards(body) for node in graph.node for body in _subgraphs(node)
    )


def _all_names(graph: Any) -> set[str]:
    """The names of the values in ``graph`` and the graphs inside it."""
    names = {t.name for t in graph.initializer}
    names.update(info.name for info in [*graph.input, *graph.value_info])
    for node in graph.node:
        names.update(node.output)
        for body in _subgraphs(node):
            names |= _all_names(body)
    return names


def _guard_graph(graph: Any, slices: list[int], onnx: Any, prefix: str, guarded: _Guarded) -> None:
    for node in graph.node:
        for body in _subgraphs(node):
            _guard_graph(body, _guarded_slices(body), onnx, prefix, guarded)
    if not slices:
        return
    nodes = list(graph.node)
    made: list[Any] = []
    for index, node in enumerate(nodes):
        if slices and slices[0] == index:
            del slices[0]
            data, tag, domain = node.input[0], f"{prefix}{len(guarded.slices)}", node.domain
            shape, zeros, again, kept = (f"{tag}_{part}" for part in ("shape", "zeros", "again", "data"))
            made += [
                onnx.NodeProto(op_type="Shape", input=[data], output=[shape], name=tag, domain=domain),
                onnx.NodeProto(
                    op_type="ConstantOfShape", input=[shape], output=[zeros], name=tag, domain=domain
                ),
                onnx.NodeProto(op_type="Shape", input=[zeros], output=[again], name=tag, domain=domain),
                onnx.NodeProto(op_type="Expand", input=[data, again], output=[kept], name=tag, domain=domain),
            ]
            guarded.made.update((shape, zeros, again, kept))
            guarded.slices[tag] = _label(node)
            node.input[0] = kept
        made.append(node)
    del graph.node[:]
    graph.node.extend(made)


def _shapes_of(graph: Any, raw: dict[str, list[int | None]]) -> dict[str, tuple[int | None, ...]]:
    shapes = {name: tuple(d if d is not None and d > 0 else None for d in dims) for name, dims in raw.items()}
    for tensor in graph.initializer:
        shapes[tensor.name] = tuple(int(d) for d in tensor.dims)
    return shapes


def _fill_same_shapes(model: Any, onnx: Any) -> bool:
    """Give the outputs of shape-keeping ops that inference leaves untyped their input's shape."""
    inferred = _partial_inference(_guard_slices(model, onnx).model, onnx)
    if inferred is None:
        return False
    known = {i.name: i for i in [*inferred.input, *inferred.value_info]}
    filled = False
    for node in model.graph.node:
        out = node.output[0] if node.output else ""
        source = known.get(node.input[0]) if node.input else None
        if node.op_type in SAME_SHAPE and out and out not in known and source is not None:
            info = model.graph.value_info.add()
            info.CopyFrom(source)
            info.name = out
            filled = True
    return filled


def _unknown(model: Any, shapes: dict[str, tuple[int | None, ...]]) -> bool:
    """Whether some node's output has no full shape."""
    return any(
        out and (out not in shapes or None in shapes[out]) for node in model.graph.node for out in node.output
    )


def _fold_constants(model: Any, shapes: dict[str, tuple[int | None, ...]]) -> bool:
    """Replace shape arithmetic whose result numpy can compute by constants; whether any was."""
    import numpy
    from onnx import helper, numpy_helper

    known: dict[str, Any] = {}
    for tensor in model.graph.initializer:
        if tensor.data_location != 1 and not _weight(tensor):
            with contextlib.suppress(Exception):  # a tensor without its bytes
                known[tensor.name] = numpy_helper.to_array(tensor)
    folded = False
    for index, node in enumerate(model.graph.node):
        inputs = _inputs_of(node)
        results: list[Any] | None = None
        try:
            if node.op_type in SHAPE_ONLY:
                dims = shapes.get(node.input[0])
                if dims is not None and None not in dims:
                    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
                    full = [int(d) for d in dims if d is not None]
                    part = full[attrs.get("start", 0) : attrs.get("end", len(full))]
                    results = [numpy.array(prod(full) if node.op_type == "Size" else part, dtype=numpy.int64)]
            elif node.domain in ("", "ai.onnx") and all(name in known for name in inputs):
                attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
                results = _static_eval(numpy, node, [known.get(i) if i else None for i in node.input], attrs)
        except Exception:
            results = None
        if not results or len(results) < len(node.output) or any(r is None for r in results):
            continue
        arrays = [numpy.asarray(r) for r in results]
        if any(a.size > 4096 for a in arrays):
            continue
        for out, array in zip(node.output, arrays, strict=False):
            known[out] = array
        if node.op_type != "Constant" and len(node.output) == 1:
            value = numpy_helper.from_array(arrays[0], node.output[0])
            constant = helper.make_node("Constant", [], [node.output[0]], name=node.name, value=value)
            model.graph.node[index].CopyFrom(constant)
            folded = True
    return folded


# ---------------------------------------------------------------------------- op tables

ACTIVATIONS = {
    "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Gelu", "Erf", "Elu", "Selu",
    "Celu", "Softplus", "Softsign", "Mish", "Exp", "Log", "Sqrt", "Reciprocal", "Neg", "Abs", "Floor",
    "Ceil", "Round", "Sign", "Sin", "Cos", "Not", "Clip", "ThresholdedRelu", "Shrink", "IsNaN", "IsInf",
}  # fmt: skip
MERGES = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Sum": "add"}
OTHER_ELEMENTWISE = {
    "Pow", "Max", "Min", "Mean", "Mod", "PRelu", "Equal", "Less", "Greater", "LessOrEqual",
    "GreaterOrEqual", "And", "Or", "Xor", "Where", "BitShift",
}  # fmt: skip
ALIASES = {"Identity", "Dropout", "Cast", "CastLike"}
REDUCES = {
    "ReduceMean": "mean", "ReduceSum": "sum", "ReduceMax": "max", "ReduceMin": "min", "ReduceProd": "prod",
    "ReduceL1": "l1", "ReduceL2": "l2", "ReduceLogSumExp": "logsumexp", "ReduceSumSquare": "sumsquare",
}  # fmt: skip
POOLS = {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"}
#: Ops whose first input is an NCHW-style tensor.
SPATIAL = {
    "Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool",
    "GlobalLpPool", "BatchNormalization", "InstanceNormalization", "GroupNormalization", "Resize",
    "Upsample", "LRN", "DepthToSpace", "SpaceToDepth",
}  # fmt: skip
#: Ops whose output keeps the layout of their inputs.
TRANSPARENT = (
    ACTIVATIONS | set(MERGES) | OTHER_ELEMENTWISE | ALIASES | set(REDUCES)
    | {"Concat", "Split", "Slice", "Softmax", "LogSoftmax", "Pad"}
)  # fmt: skip
#: Ops the converter reads whichever of their inputs are activations (the others' first input must be).
ANY_OPERAND = (
    set(MERGES) | OTHER_ELEMENTWISE | ALIASES | {"Concat", "MatMul", "Gemm", "Conv", "ConvTranspose"}
)
#: Ops whose outputs only depend on shapes, not on the values of their inputs.
SHAPE_ONLY = {"Shape", "Size"}


# ---------------------------------------------------------------------------- values


@dataclass
class _Value:
    """An activation: its ONNX shape, how convcost stores it, and the entry that makes it."""

    shape: Shape
    layout: Layout
    batch: int | None  # the ONNX axis holding the batch, or None
    entry: str

    @property
    def stored(self) -> Shape:
        return stored_shape(self.shape, self.layout, self.batch)


@dataclass
class _Static:
    """A value known without the input's data: a weight, a constant, shape arithmetic."""

    shape: Shape | None
    data: Any = None  # a numpy array when known
    sources: frozenset[str] = frozenset()  # learned initializers it is made from


def can_nchw(shape: Sequence[int], batch: int | None) -> bool:
    return len(shape) >= 3 and batch in (0, None)


def stored_shape(shape: Shape, layout: Layout, batch: int | None) -> Shape:
    """ONNX dims → convcost's, without the batch axis: an N×C×… tensor channels-last, a plain one as is.

    An N×C×… tensor whose first dim is not the batch (the model mixes the batch elsewhere, and is
    costed whole) keeps it as a leading spatial dim that every window spans with size 1.
    """
    if layout == "nchw":
        return (shape[:1] if batch is None else ()) + shape[2:] + (shape[1],)
    kept = shape[:batch] + shape[batch + 1 :] if batch is not None else shape
    return kept or (1,)


def axis_map(rank: int, layout: Layout, batch: int | None) -> list[int | None]:
    """ONNX axis → convcost axis (None for the batch)."""
    if layout == "nchw":
        if batch is None:
            return [0, rank - 1, *range(1, rank - 1)]
        return [None, rank - 2, *range(rank - 2)]
    return [None if a == batch else a - (batch is not None and a > batch) for a in range(rank)]


def _lead(value: _Value) -> int:
    """Leading dims an N×C×… tensor keeps before its spatial ones (its first, when not the batch)."""
    return 1 if value.batch is None else 0


def aligned(shape: Sequence[int], rank: int) -> Shape:
    return (1,) * (rank - len(shape)) + tuple(shape)


def _text(dims: Sequence[int]) -> str:
    return "x".join(str(d) for d in dims)


def _dims_field(dims: Sequence[int]) -> int | str:
    """Dims as a spec writes them: ``3`` or ``3x5``."""
    return int(dims[0]) if len(dims) == 1 else _text(dims)


def _per_dim(dims: Sequence[int]) -> int | str:
    """A value per spatial dim as a spec writes it: ``2`` when every dim has it, else ``1x2``."""
    return int(dims[0]) if len(set(dims)) == 1 else _text(dims)


def _pads_text(pairs: Sequence[tuple[int, int]]) -> int | str:
    """Padding as a spec writes it: ``1``, ``1x2`` (symmetric) or ``0:1x0:1``."""
    if all(lo == hi for lo, hi in pairs):
        return _per_dim([lo for lo, _ in pairs])
    return "x".join(f"{lo}:{hi}" for lo, hi in pairs)


def _decode(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


class _BatchMixed(Exception):
    def __init__(self, where: str, why: str) -> None:
        super().__init__(where, why)
        self.where, self.why = where, why


# ---------------------------------------------------------------------------- the converter


@dataclass
class _Converter:
    model: Any
    shapes: dict[str, tuple[int | None, ...]]
    wants: set[str]
    source: str
    n: int | None  # samples per batch, or None: the batch axis is not tracked (one pass over everything)
    samples: int = 1  # the batch size of the model's first input
    values: dict[str, _Value] = field(default_factory=dict)
    static: dict[str, _Static] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    stored: dict[str, Shape] = field(default_factory=dict)  # entry name → its output shape
    names: set[str] = field(default_factory=lambda: {"input"})
    counted: set[str] = field(default_factory=set)  # initializers whose elements are counted
    notes: list[str] = field(default_factory=list)
    unsupported: Counter[str] = field(default_factory=Counter)
    cache: dict[tuple[str, Shape, str], str] = field(default_factory=dict)
    absorbed: dict[int, str] = field(default_factory=dict)  # id(node) → the value its output is ("": none)
    folded: dict[str, tuple[str, list[tuple[int, int]]]] = field(default_factory=dict)
    node: Any = None  # the node being converted

    def __post_init__(self) -> None:
        import numpy

        self.np = numpy
        graph = self.model.graph
        self.opset = next((o.version for o in self.model.opset_import if o.domain in ("", "ai.onnx")), 17)
        self.consumers: dict[str, list[Any]] = {}
        self.producers: dict[str, Any] = {}
        for node in graph.node:
            for name in set(_inputs_of(node)):
                self.consumers.setdefault(name, []).append(node)
            for name in node.output:
                self.producers[name] = node
        self.outputs = {o.name for o in graph.output}
        from onnx import numpy_helper

        for tensor in graph.initializer:
            dims = tuple(int(d) for d in tensor.dims)
            data = None
            if tensor.data_location != 1 and not _weight(tensor):
                try:  # shape arithmetic and small constants; weights are never read
                    data = numpy_helper.to_array(tensor)
                except Exception:
                    data = None
            learned = tensor.data_type in _FLOAT_TYPES and prod(dims) > 1
            self.static[tensor.name] = _Static(
                dims, data, frozenset({tensor.name}) if learned else frozenset()
            )

    # ------------------------------------------------------------------ small helpers

    @property
    def where(self) -> str:
        return "the model's input" if self.node is None else _label(self.node)

    def fail(self, problem: str) -> ConvCostError:
        return ConvCostError(self.where, problem)

    def attrs(self, node: Any | None = None) -> dict[str, Any]:
        from onnx import helper

        return {a.name: helper.get_attribute_value(a) for a in (node or self.node).attribute}

    def shape_of(self, name: str) -> Shape:
        found = self.shapes.get(name)
        if found is None or any(d is None for d in found):
            known = "no shape" if found is None else f"dims {['?' if d is None else d for d in found]}"
            raise self.fail(
                f"shape inference gives {known} for {name!r}; export the model with static shapes"
            )
        return tuple(int(d) for d in found if d is not None)

    def unique(self, base: str) -> str:
        text = re.sub(r"[^0-9A-Za-z_-]+", "_", base).strip("_") or "node"
        name, k = text, 1
        while name in self.names:
            name = f"{text}_{k}"
            k += 1
        self.names.add(name)
        return name

    def node_name(self, suffix: str = "") -> str:
        node = self.node
        base = node.name or next((o for o in node.output if o), "") or node.op_type.lower()
        return f"{base}_{suffix}" if suffix else base

    def lost(self, why: str) -> None:
        """The batch axis is mixed with others here: fine for one sample, else cost the whole input."""
        if self.n is not None and self.n > 1:
            raise _BatchMixed(self.where, why)

    def is_static(self, name: str) -> bool:
        return name in self.static and name not in self.values

    def data(self, name: str) -> Any:
        found = self.static.get(name)
        return None if found is None else found.data

    def ints(self, name: str) -> list[int] | None:
        found = self.data(name)
        if found is None:
            return None
        return [int(v) for v in self.np.asarray(found).reshape(-1)]

    # ------------------------------------------------------------------ entries

    def emit(
        self,
        kind: str,
        fields: dict[str, Any],
        sources: Sequence[str],
        expected: Shape | None,
        suffix: str = "",
        name: str | None = None,
    ) -> str:
        """Add one spec entry; check convcost's shape for it against the model's. Its name."""
        handler = KINDS[kind].handler
        assert handler is not None
        shapes = tuple(self.stored[s] for s in sources)
        try:
            costed = handler(fields, shapes)
        except MergeMismatch as exc:
            raise self.fail(
                f"its inputs {', '.join(_text(s) for s in shapes)} do not fit: {exc.need}"
            ) from None
        except ConvCostError as exc:
            raise self.fail(str(exc)) from None
        entry_name = self.unique(name or self.node_name(suffix))
        entry: dict[str, Any] = {"name": entry_name, "type": kind}
        if KINDS[kind].inputs[1] != 0:
            entry["inputs"] = list(sources)
        entry.update(fields)
        self.entries.append(entry)
        self.stored[entry_name] = costed.output_shape
        if expected is not None and costed.output_shape != expected:
            if prod(costed.output_shape) == prod(expected):
                return self.emit(
                    "reshape", {"shape": _dims_field(expected)}, [entry_name], expected, "reshape"
                )
            raise self.fail(
                f"convcost makes it {_text(costed.output_shape)} but the model's shapes say {_text(expected)}"
            )
        return entry_name

    def set_value(self, name: str, shape: Shape, layout: Layout, batch: int | None, entry: str) -> _Value:
        value = _Value(shape, layout, batch, entry)
        if value.stored != self.stored[entry]:  # pragma: no cover - emit() reshapes to the expected shape
            raise self.fail(
                f"internal: {name!r} is {_text(self.stored[entry])}, expected {_text(value.stored)}"
            )
        self.values[name] = value
        return value

    def layout_for(self, name: str, shape: Shape, batch: int | None, prefer: Layout | None = None) -> Layout:
        if not can_nchw(shape, batch):
            return "plain"
        if prefer is not None:
            return prefer
        return "nchw" if name in self.wants else "plain"

    def produce(
        self,
        out: str,
        kind: str,
        fields: dict[str, Any],
        sources: Sequence[str],
        batch: int | None,
        layout: Layout | None = None,
        suffix: str = "",
    ) -> _Value:
        """Emit the entry making ONNX value ``out`` (shape from inference)."""
        shape = self.shape_of(out)
        chosen = self.layout_for(out, shape, batch, layout)
        entry = self.emit(kind, fields, sources, stored_shape(shape, chosen, batch), suffix)
        return self.set_value(out, shape, chosen, batch, entry)

    def alias(self, out: str, name: str) -> None:
        if name in self.values:
            self.values[out] = self.values[name]
        elif name in self.static:
            self.static[out] = self.static[name]

    # ------------------------------------------------------------------ conforming inputs

    def in_layout(self, name: str, layout: Layout) -> tuple[str, _Value]:
        """The entry giving activation ``name`` in ``layout`` (a free transpose if stored otherwise)."""
        value = self.values[name]
        if value.layout == layout:
            return value.entry, value
        if layout == "nchw" and not can_nchw(value.shape, value.batch):
            if value.batch is not None and len(value.shape) >= 3:  # the batch is not its first dim
                name = self.unbatched(name, "it reads the batch axis as data")
                return self.in_layout(name, layout)
            raise self.fail(f"its input {name!r} ({_text(value.shape)}) is not an N×C×… tensor")
        converted = _Value(value.shape, layout, value.batch, "")
        key = (name, converted.stored, layout)
        if key not in self.cache and len(converted.stored) != len(value.stored):  # a leading 1 dropped
            self.cache[key] = self.emit(
                "reshape",
                {"shape": _dims_field(converted.stored)},
                [value.entry],
                converted.stored,
                name=f"{name}_to_{layout}",
            )
        if key not in self.cache:
            rank = len(value.shape)
            source_axes = axis_map(rank, value.layout, value.batch)
            target_axes = axis_map(rank, layout, value.batch)
            perm = [0] * len(converted.stored)
            for axis in range(rank):
                target = target_axes[axis]
                if target is not None:
                    source = source_axes[axis]
                    assert source is not None
                    perm[target] = source
            self.cache[key] = self.emit(
                "transpose", {"perm": perm}, [value.entry], converted.stored, name=f"{name}_to_{layout}"
            )
        converted.entry = self.cache[key]
        return converted.entry, converted

    def conform(self, name: str, target: Shape, layout: Layout) -> str:
        """The entry giving ``name`` (activation or static) as convcost shape ``target``."""
        if name not in self.values:
            return self.parameter(name, target)
        value = self.values[name]
        if value.stored == target:
            return value.entry
        entry, converted = value.entry, value
        if value.layout != layout and (layout == "plain" or can_nchw(value.shape, value.batch)):
            entry, converted = self.in_layout(name, layout)
            if converted.stored == target:
                return entry
        if prod(converted.stored) != prod(target):
            self.lost(f"its input {name!r} ({_text(value.shape)}) holds the batch elsewhere")
            raise self.fail(f"its input {name!r} ({_text(value.shape)}) does not fit the others")
        key = (name, target, "reshape")
        if key not in self.cache:
            self.cache[key] = self.emit(
                "reshape", {"shape": _dims_field(target)}, [entry], target, name=f"{name}_as_{_text(target)}"
            )
        return self.cache[key]

    def parameter(self, name: str, target: Shape) -> str:
        """A static tensor as a source entry: its learned elements counted the first time only.

        A learned tensor broadcast over the batch (a class token expanded to every sample) is its
        own shape, expanded: its params are its elements, not the copies'.
        """
        static = self.static[name]
        key = (name, target, "parameter")
        if key in self.cache:
            return self.cache[key]
        fresh = static.sources - self.counted
        self.counted |= fresh
        fields: dict[str, Any] = {"shape": _dims_field(target)}
        label = next(iter(static.sources)) if len(static.sources) == 1 else name
        if not fresh:
            fields["learned"] = False
        numel = sum(prod(self.static[s].shape or ()) for s in fresh)
        own = self.static[next(iter(fresh))].shape or () if len(fresh) == 1 else ()
        whole = self.n is None and self.samples > 1 and len(own) > 1 and own[0] == self.samples
        if whole:  # costed whole, a tensor of the model's batch size: copies of one sample's
            numel //= self.samples
        if fresh and (whole or numel not in (prod(target), prod(target) * self.samples)):
            kept = tuple(d for d in own[1 if whole else 0 :] if d != 1)
            small = aligned(kept, len(target)) if len(kept) <= len(target) else None
            if (
                small is not None
                and prod(small) == numel
                and all(a in (1, b) for a, b in zip(small, target, strict=True))
            ):
                source = self.emit("parameter", {"shape": _dims_field(small)}, [], small, name=label)
                self.cache[key] = self.emit("expand", fields, [source], target, name=f"{label}_expanded")
                return self.cache[key]
            self.notes.append(
                f"{self.where}: the learned tensor {name!r} ({numel} elements) is used as "
                f"{_text(target)}; its params are counted as {prod(target)}"
            )
        self.cache[key] = self.emit("parameter", fields, [], target, name=label)
        return self.cache[key]

    def unbatched(self, name: str, why: str) -> str:
        """``name`` with its batch axis (of one sample) kept as an ordinary dim: a name in ``values``."""
        value = self.values[name]
        if value.batch is None:
            return name
        self.lost(why)
        alias = f"{name}#whole"
        if alias not in self.values:
            whole = _Value(value.shape, value.layout, None, value.entry)
            if whole.stored != value.stored:
                whole.entry = self.emit(
                    "reshape",
                    {"shape": _dims_field(whole.stored)},
                    [value.entry],
                    whole.stored,
                    name=f"{name}_whole",
                )
            self.values[alias] = whole
        return alias

    # ------------------------------------------------------------------ run

    def run(self) -> Converted:
        graph = self.model.graph
        initializers = {t.name for t in graph.initializer}
        inputs = [i for i in graph.input if i.name not in initializers]
        document: dict[str, Any] = {"name": self.source}
        for index, info in enumerate(inputs):
            self.node = None
            shape = self.shapes.get(info.name)
            if shape is None or any(d is None for d in shape):  # pragma: no cover - checked before
                raise ConvCostError("in", f"the model's input {info.name!r} has no static shape")
            dims = tuple(int(d) for d in shape if d is not None)
            batch = 0 if self.n is not None and dims and dims[0] == self.n else None
            layout = self.layout_for(info.name, dims, batch)
            stored = stored_shape(dims, layout, batch)
            given = (1,) * (2 - len(stored)) + stored  # a spec's input has two dims or more
            if index == 0:
                document["input"] = _text(given)
                self.stored["input"] = given
                entry = "input"
                if given != stored:
                    entry = self.emit(
                        "reshape", {"shape": _dims_field(stored)}, ["input"], stored, name=info.name
                    )
            else:  # another input: an entry with its own 'in'
                self.stored[f"{info.name}#in"] = given
                entry = self.emit(
                    "reshape",
                    {"shape": _dims_field(stored), "in": _text(given)},
                    [f"{info.name}#in"],
                    stored,
                    name=info.name,
                )
                del self.entries[-1]["inputs"]
            self.values[info.name] = _Value(dims, layout, batch, entry)
        handlers = self.handlers()
        for node in graph.node:
            self.node = node
            try:
                self.convert_node(node, handlers)
            except (ConvCostError, _BatchMixed):
                raise
            except INTERNAL as exc:  # a guard, as in convert(): the node named
                raise self.fail(internal(exc)) from None
        outputs = []
        for info in graph.output:
            if info.name in self.values:
                outputs.append(self.values[info.name].entry)
            elif info.name in self.static:
                self.notes.append(f"output {info.name!r} is a constant: it is not costed")
            else:  # pragma: no cover - every node output is made above
                raise ConvCostError("spec", f"has an output {info.name!r} that no node makes")
        layers = self.chained()
        if not any(entry["type"] not in ("parameter",) for entry in layers):
            raise ConvCostError(
                "spec", "has no layers convcost can cost (only constants and shape arithmetic)"
            )
        document["layers"] = layers
        if outputs:
            document["outputs"] = outputs
        for op, count in sorted(self.unsupported.items()):
            self.notes.append(f"unsupported op {op} ({count}×): not counted — the totals leave it out")
        return Converted(document, self.notes, self.n or 1, dict(self.unsupported))

    def convert_node(self, node: Any, handlers: dict[str, Callable[[Any], None]]) -> None:
        if id(node) in self.absorbed:  # folded into the node before it
            if self.absorbed[id(node)]:
                self.alias(node.output[0], self.absorbed[id(node)])
            return
        for name in _inputs_of(node):
            if name not in self.values and name not in self.static and name not in self.folded:
                raise self.fail(f"reads {name!r}, which no earlier node makes and no input or weight is")
        standard = node.domain in ("", "ai.onnx")
        op = node.op_type
        if standard and op in SHAPE_ONLY:
            self.shape_op(node)
        elif not any(name in self.values or name in self.folded for name in _inputs_of(node)):
            self.evaluate(node)
        elif standard and op in handlers:
            if (
                op not in ANY_OPERAND
                and node.input[0] not in self.values
                and node.input[0] not in self.folded
            ):
                self.opaque(node, "data computed from constants")
            else:
                handlers[op](node)
        else:
            self.opaque(node)

    def chained(self) -> list[dict[str, Any]]:
        """Drop ``inputs`` where an entry reads just the entry before it (the spec's default)."""
        previous = "input"
        for entry in self.entries:
            kind = KINDS[entry["type"]]
            required = "inputs" in kind.fields and kind.fields["inputs"].required
            if entry.get("inputs") == [previous] and not required:
                del entry["inputs"]
            previous = entry["name"]
        return self.entries

    def handlers(self) -> dict[str, Callable[[Any], None]]:
        table: dict[str, Callable[[Any], None]] = {
            "Conv": self.conv,
            "ConvTranspose": self.conv_transpose,
            "Gemm": self.gemm,
            "MatMul": self.matmul,
            "BatchNormalization": self.batchnorm,
            "LayerNormalization": self.layernorm,
            "InstanceNormalization": self.channel_norm,
            "GroupNormalization": self.channel_norm,
            "Softmax": self.softmax,
            "LogSoftmax": self.softmax,
            "Concat": self.concat,
            "Split": self.split,
            "Slice": self.slice,
            "Gather": self.gather,
            "Reshape": self.reshape,
            "Flatten": self.reshape,
            "Squeeze": self.reshape,
            "Unsqueeze": self.reshape,
            "Transpose": self.transpose,
            "Expand": self.expand,
            "Pad": self.pad,
            "Resize": self.resize,
            "Upsample": self.resize,
        }
        for op in POOLS:
            table[op] = self.pool
        for op in ACTIVATIONS:
            table[op] = self.activation
        for op in set(MERGES) | OTHER_ELEMENTWISE:
            table[op] = self.elementwise
        for op in ALIASES:
            table[op] = self.identity
        for op in REDUCES:
            table[op] = self.reduce
        return table

    # ------------------------------------------------------------------ static values

    def shape_op(self, node: Any) -> None:
        shape = self.shapes.get(node.input[0])
        data = None
        if shape is not None and all(d is not None for d in shape):
            dims = [int(d) for d in shape if d is not None]
            if node.op_type == "Size":
                data = self.np.array(prod(dims), dtype=self.np.int64)
            else:
                a = self.attrs(node)
                data = self.np.array(dims[a.get("start", 0) : a.get("end", len(dims))], dtype=self.np.int64)
        out = node.output[0]
        self.static[out] = _Static(tuple(data.shape) if data is not None else None, data)

    def evaluate(self, node: Any) -> None:
        """A node of static inputs: its outputs are static too (computed when numpy can)."""
        sources = frozenset().union(*(self.static[i].sources for i in _inputs_of(node)))
        try:
            results = _static_eval(
                self.np, node, [self.data(i) if i else None for i in node.input], self.attrs(node)
            )
        except Exception:
            results = None
        for index, out in enumerate(node.output):
            if not out:
                continue
            data = results[index] if results is not None and index < len(results) else None
            found = self.shapes.get(out)
            shape: Shape | None = None
            if found is not None and all(d is not None for d in found):
                shape = tuple(int(d) for d in found if d is not None)
            elif data is not None:
                shape = tuple(int(d) for d in self.np.shape(data))
            self.static[out] = _Static(shape, data, sources)

    # ------------------------------------------------------------------ ops

    def opaque(self, node: Any, why: str = "") -> None:
        """An op convcost cannot cost: it passes the model's shapes on and is listed."""
        label = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}"
        self.unsupported[label + (f" ({why})" if why else "")] += 1
        sources = []
        batched = False
        for name in dict.fromkeys(_inputs_of(node)):
            if name in self.values:
                sources.append(self.values[name].entry)
                batched = batched or self.values[name].batch == 0
        for index, out in enumerate(node.output):
            if not out:
                continue
            if out not in self.shapes or None in self.shapes[out]:
                raise self.fail(
                    f"is an op convcost cannot cost, and shape inference does not know the shape of its "
                    f"output {out!r}; give it in the model's value_info"
                )
            shape = self.shape_of(out)
            batch = 0 if self.n is not None and batched and shape and shape[0] == self.n else None
            if batch is None and self.n is not None and self.n > 1:
                self.lost(f"convcost cannot tell where the batch of its output {out!r} is")
            layout = self.layout_for(out, shape, batch)
            stored = stored_shape(shape, layout, batch)
            fields = {"op": label, "shape": _dims_field(stored)}
            entry = self.emit("opaque", fields, sources, stored, suffix=str(index) if index else "")
            self.set_value(out, shape, layout, batch, entry)

    def identity(self, node: Any) -> None:
        self.alias(node.output[0], node.input[0])

    def activation(self, node: Any) -> None:
        name = node.input[0]
        if name not in self.values:
            self.opaque(node)
            return
        value = self.values[name]
        fields = {"fn": node.op_type.lower()}
        self.produce(node.output[0], "activation", fields, [value.entry], value.batch, value.layout)

    def _merge_batch(self, names: Sequence[str], rank: int) -> int | None:
        """The batch axis of an element-wise result: where every batched input has it, aligned."""
        axes = set()
        for name in names:
            if name in self.values:
                value = self.values[name]
                if value.batch is not None:
                    axes.add(value.batch + rank - len(value.shape))
        if len(axes) > 1:
            self.lost("its inputs hold the batch on different axes")
            return None
        return axes.pop() if axes else None

    def broadcast_inputs(self, names: Sequence[str], out: str) -> tuple[list[str], int | None, Layout]:
        """Every input (activation or static) as convcost shapes that broadcast to the output's."""
        shape = self.shape_of(out)
        rank = len(shape)
        batch = self._merge_batch(names, rank)
        if batch is not None and any(
            name in self.values
            and self.values[name].batch is None
            and aligned(self.values[name].shape, rank)[batch] != 1
            for name in names
        ):
            self.lost("an input without the batch axis is combined with one that has it")
            batch = None
        if batch is None:
            names = [
                self.unbatched(n, "an input holds the batch elsewhere") if n in self.values else n
                for n in names
            ]
        nchw = any(n in self.values and self.values[n].layout == "nchw" for n in names)
        layout: Layout = "nchw" if nchw and can_nchw(shape, batch) else "plain"
        sources = []
        for name in names:
            dims = self.values[name].shape if name in self.values else self.static[name].shape
            if dims is None:
                raise self.fail(f"shape inference gives no shape for {name!r}")
            full = aligned(dims, rank)
            if batch is not None and full[batch] not in (1, self.n):
                self.lost(f"its input {name!r} does not broadcast over the batch")
            sources.append(self.conform(name, stored_shape(full, layout, batch), layout))
        return sources, batch, layout

    def elementwise(self, node: Any) -> None:
        names = _inputs_of(node)
        if len(names) == 1:  # a Sum or Max of one
            self.alias(node.output[0], names[0])
            return
        sources, batch, layout = self.broadcast_inputs(names, node.output[0])
        kind = MERGES.get(node.op_type, "elementwise")
        fields = {"fn": node.op_type.lower()} if kind == "elementwise" else {}
        self.produce(node.output[0], kind, fields, sources, batch, layout)

    # conv-like

    def padding(
        self,
        attrs: dict[str, Any],
        in_spatial: Shape,
        out_spatial: Shape,
        kernel: Sequence[int],
        strides: Sequence[int],
        dilations: Sequence[int],
    ) -> list[tuple[int, int]]:
        n = len(kernel)
        auto = _decode(attrs.get("auto_pad", "NOTSET"))
        if auto == "VALID":
            return [(0, 0)] * n
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            pairs = []
            for size, out, k, s, d in zip(in_spatial, out_spatial, kernel, strides, dilations, strict=True):
                total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
                small, large = total // 2, total - total // 2
                pairs.append((small, large) if auto == "SAME_UPPER" else (large, small))
            return pairs
        pads = list(attrs.get("pads", [0] * (2 * n)))
        if len(pads) != 2 * n:
            raise self.fail(f"has {len(pads)} pads for {n} spatial dims; it needs {2 * n}")
        return [(pads[i], pads[i + n]) for i in range(n)]

    def conv_input(self, name: str, weight_rank: int) -> tuple[str, _Value, list[tuple[int, int]] | None]:
        """The conv's data input in NCHW layout, and the padding of a Pad folded into it."""
        folded = None
        if name in self.folded:
            name, folded = self.folded[name]
        if name not in self.values:
            raise self.fail(f"its input {name!r} is a constant; convcost costs convolutions of activations")
        value = self.values[name]
        if len(value.shape) != weight_rank:
            raise self.fail(
                f"its input is {len(value.shape)}-D ({_text(value.shape)}) but its weight is "
                f"{weight_rank}-D; they must have the same rank (N×C×spatial and C_out×C_in×kernel)"
            )
        entry, value = self.in_layout(name, "nchw")
        return entry, value, folded

    def weight(self, name: str) -> Shape | None:
        if not self.is_static(name):
            return None
        shape = self.static[name].shape
        if shape is None:
            raise self.fail(f"shape inference gives no shape for its weight {name!r}")
        self.counted |= self.static[name].sources
        return shape

    def conv(self, node: Any) -> None:
        names = list(node.input)
        weight = self.weight(names[1])
        if weight is None:
            self.opaque(node, "computed weight")
            return
        entry, value, folded = self.conv_input(names[0], len(weight))
        a = self.attrs(node)
        groups = int(a.get("group", 1))
        channels = value.shape[1]
        if weight[1] * groups != channels:
            raise self.fail(
                f"its weight {_text(weight)} takes {weight[1]} channels per group × {groups} group(s) = "
                f"{weight[1] * groups}, but its input has {channels}"
            )
        if weight[0] % groups:
            raise self.fail(f"its {weight[0]} output channels are not divisible by its {groups} groups")
        n = len(weight) - 2
        kernel = list(a.get("kernel_shape", weight[2:]))
        if tuple(kernel) != weight[2:]:
            raise self.fail(f"has kernel_shape {kernel} but its weight's kernel is {list(weight[2:])}")
        strides = list(a.get("strides", [1] * n))
        dilations = list(a.get("dilations", [1] * n))
        out = node.output[0]
        out_shape = self.shape_of(out)
        pads = self.padding(a, value.shape[2:], out_shape[2:], kernel, strides, dilations)
        if folded is not None:
            pads = [(lo + flo, hi + fhi) for (lo, hi), (flo, fhi) in zip(pads, folded, strict=True)]
        lead = _lead(value)  # a first dim that is not the batch: a spatial dim of kernel 1
        kernel, strides, dilations = [1] * lead + kernel, [1] * lead + strides, [1] * lead + dilations
        pads = [(0, 0)] * lead + pads
        bias = len(names) > 2 and bool(names[2])
        computed_bias = bias and not self.is_static(names[2])
        if bias and not computed_bias:
            self.counted |= self.static[names[2]].sources
        fields: dict[str, Any] = {"out": weight[0], "kernel": _per_dim(kernel)}
        if any(s != 1 for s in strides):
            fields["stride"] = _per_dim(strides)
        if any(p != (0, 0) for p in pads):
            fields["padding"] = _pads_text(pads)
        if any(d != 1 for d in dilations):
            fields["dilation"] = _per_dim(dilations)
        if groups != 1:
            fields["groups"] = groups
        if bias and not computed_bias:
            fields["bias"] = True
        self.produce(out, "conv", fields, [entry], value.batch, "nchw")
        if computed_bias:
            sources, batch, layout = self.broadcast_inputs([out, names[2]], out)
            self.produce(out, "add", {}, sources, batch, layout, suffix="bias")

    def conv_transpose(self, node: Any) -> None:
        names = list(node.input)
        weight = self.weight(names[1])
        if weight is None:
            self.opaque(node, "computed weight")
            return
        entry, value, folded = self.conv_input(names[0], len(weight))
        if folded is not None:  # pragma: no cover - pads are folded into Conv only
            raise self.fail("internal: a pad folded into a transposed conv")
        a = self.attrs(node)
        groups = int(a.get("group", 1))
        if weight[0] != value.shape[1]:
            raise self.fail(
                f"its weight {_text(weight)} takes {weight[0]} channels but its input has {value.shape[1]}"
            )
        n = len(weight) - 2
        kernel = list(a.get("kernel_shape", weight[2:]))
        strides = list(a.get("strides", [1] * n))
        dilations = list(a.get("dilations", [1] * n))
        output_padding = list(a.get("output_padding", [0] * n))
        out = node.output[0]
        out_shape = self.shape_of(out)
        auto = _decode(a.get("auto_pad", "NOTSET"))
        if "output_shape" in a or auto != "NOTSET":
            # Padding chosen to give the stated output: total = s·(in−1) + op + d·(k−1) + 1 − out.
            pairs = []
            for size, o, k, s, d, op in zip(
                value.shape[2:], out_shape[2:], kernel, strides, dilations, output_padding, strict=True
            ):
                total = s * (size - 1) + op + d * (k - 1) + 1 - o
                first = total // 2 if auto == "SAME_UPPER" else total - total // 2
                pairs.append((first, total - first))
        else:
            pads = list(a.get("pads", [0] * (2 * n)))
            pairs = [(pads[i], pads[i + n]) for i in range(n)]
        lead = _lead(value)
        kernel, strides, dilations = [1] * lead + kernel, [1] * lead + strides, [1] * lead + dilations
        pairs, output_padding = [(0, 0)] * lead + pairs, [0] * lead + output_padding
        bias = len(names) > 2 and bool(names[2]) and self.is_static(names[2])
        if bias:
            self.counted |= self.static[names[2]].sources
        fields: dict[str, Any] = {
            "out": weight[1] * groups,
            "kernel": _per_dim(kernel),
            "stride": _per_dim(strides),
        }
        if any(p != (0, 0) for p in pairs):
            fields["padding"] = _pads_text(pairs)
        if any(d != 1 for d in dilations):
            fields["dilation"] = _per_dim(dilations)
        if groups != 1:
            fields["groups"] = groups
        if bias:
            fields["bias"] = True
        if any(op for op in output_padding):
            fields["output_padding"] = _per_dim(output_padding)
        self.produce(out, "transposed", fields, [entry], value.batch, "nchw")
        if len(names) > 2 and names[2] and not bias:
            sources, batch, layout = self.broadcast_inputs([out, names[2]], out)
            self.produce(out, "add", {}, sources, batch, layout, suffix="bias")

    def pool(self, node: Any) -> None:
        name = node.input[0]
        entry, value = self.in_layout(name, "nchw")
        mode = "max" if "Max" in node.op_type else "avg"
        out = node.output[0]
        lead = _lead(value)
        if node.op_type.startswith("Global"):
            fields: dict[str, Any] = {"mode": mode, "global": True}
            if lead:  # every spatial dim but the leading one
                fields = {"mode": mode, "kernel": _per_dim([1, *value.shape[2:]]), "stride": 1}
            self.produce(out, "pool", fields, [entry], value.batch, "nchw")
            return
        a = self.attrs(node)
        kernel = list(a["kernel_shape"])
        n = len(kernel)
        if n != len(value.shape) - 2:
            raise self.fail(
                f"has a {n}-D kernel_shape {kernel} for a {len(value.shape)}-D input; "
                f"it needs {len(value.shape) - 2} dims"
            )
        strides = list(a.get("strides", [1] * n))
        dilations = list(a.get("dilations", [1] * n))
        out_shape = self.shape_of(out)
        pads = self.padding(a, value.shape[2:], out_shape[2:], kernel, strides, dilations)
        kernel, strides, dilations = [1] * lead + kernel, [1] * lead + strides, [1] * lead + dilations
        pads = [(0, 0)] * lead + pads
        fields = {"mode": mode, "kernel": _per_dim(kernel), "stride": _per_dim(strides)}
        if any(p != (0, 0) for p in pads):
            fields["padding"] = _pads_text(pads)
        if any(d != 1 for d in dilations):
            fields["dilation"] = _per_dim(dilations)
        if a.get("ceil_mode", 0):
            fields["ceil"] = True
        self.produce(out, "pool", fields, [entry], value.batch, "nchw")

    def batchnorm(self, node: Any) -> None:
        name = node.input[0]
        value = self.values[name]
        layout: Layout = "nchw" if len(value.shape) >= 3 else "plain"
        entry, value = self.in_layout(name, layout) if layout == "nchw" else (value.entry, value)
        for extra in _inputs_of(node)[1:]:
            if extra in self.static:
                self.counted |= self.static[extra].sources
        self.produce(node.output[0], "batchnorm", {}, [entry], value.batch, layout)

    def _learned(self, name: str | None) -> bool:
        if not name or name not in self.static:
            return False
        fresh = bool(self.static[name].sources)
        self.counted |= self.static[name].sources
        return fresh

    def layernorm(self, node: Any) -> None:
        name = node.input[0]
        value = self.values[name]
        rank = len(value.shape)
        axis = int(self.attrs().get("axis", -1)) % rank
        if value.batch is not None and value.batch >= axis:
            name = self.unbatched(name, "it normalizes over the batch axis")
            value = self.values[name]
        if value.layout == "nchw" and axis != 1:
            entry, value = self.in_layout(name, "plain")
        else:
            entry = value.entry
        mapped = [m for m in axis_map(rank, value.layout, value.batch)[axis:] if m is not None]
        stored = value.stored
        start = min(mapped) if mapped else len(stored) - 1
        fields: dict[str, Any] = {}
        if start != len(stored) - 1:
            fields["axis"] = start - len(stored)
        names = list(node.input) + ["", ""]
        scale, shift = self._learned(names[1]), self._learned(names[2])
        if not scale:
            fields["affine"] = False
        elif not shift:
            fields["bias"] = False
        self.produce(node.output[0], "layernorm", fields, [entry], value.batch, value.layout)

    def channel_norm(self, node: Any) -> None:
        entry, value = self.in_layout(node.input[0], "nchw")
        names = list(node.input) + ["", ""]
        scale, shift = self._learned(names[1]), self._learned(names[2])
        fields: dict[str, Any] = {}
        kind = "instancenorm"
        if node.op_type == "GroupNormalization":
            kind = "groupnorm"
            fields["groups"] = int(self.attrs()["num_groups"])
        if not scale:
            fields["affine"] = False
        elif not shift:
            fields["bias"] = False
        self.produce(node.output[0], kind, fields, [entry], value.batch, "nchw")

    def _axis(self, name: str, axis: int, why: str) -> tuple[_Value, int]:
        """An ONNX axis of activation ``name`` as a convcost axis (unbatched if it is the batch axis)."""
        value = self.values[name]
        rank = len(value.shape)
        axis %= rank
        mapped = axis_map(rank, value.layout, value.batch)[axis]
        if mapped is None:
            value = self.values[self.unbatched(name, why)]
            mapped = axis_map(rank, value.layout, value.batch)[axis]
            if mapped is None:  # the dropped leading 1 of an N×C×… tensor
                entry, value = self.in_layout(name, "plain")
                value = _Value(value.shape, "plain", None, entry)
                mapped = axis
        return value, mapped

    def softmax(self, node: Any) -> None:
        rank = len(self.values[node.input[0]].shape)
        default = -1 if self.opset >= 13 else 1
        axis = int(self.attrs().get("axis", default))
        if self.opset < 13 and axis % rank != rank - 1:
            self.notes.append(
                f"{self.where}: a softmax over several axes (opset < 13) is counted over its first"
            )
        value, mapped = self._axis(node.input[0], axis, "it works along the batch axis")
        fields = {} if mapped == len(value.stored) - 1 else {"axis": mapped}
        self.produce(node.output[0], "softmax", fields, [value.entry], value.batch, value.layout)

    def reduce(self, node: Any) -> None:
        value = self.values[node.input[0]]
        rank = len(value.shape)
        a = self.attrs()
        axes = a.get("axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            axes = self.ints(node.input[1])
            if axes is None:
                self.opaque(node, "computed axes")
                return
        if not axes:
            if a.get("noop_with_empty_axes", 0):
                self.alias(node.output[0], node.input[0])
                return
            axes = list(range(rank))
        axes = sorted({int(x) % rank for x in axes})
        keep = bool(a.get("keepdims", 1))
        if value.batch is not None and value.batch in axes:
            value = self.values[self.unbatched(node.input[0], "it reduces over the batch axis")]
        mapping = axis_map(rank, value.layout, value.batch)
        stored_axes = sorted(m for m in (mapping[x] for x in axes) if m is not None)
        fields: dict[str, Any] = {"mode": REDUCES[node.op_type], "axes": stored_axes}
        batch = value.batch
        layout = value.layout
        if not keep:
            fields["keepdims"] = False
            layout = "plain"
            if batch is not None:
                batch -= sum(1 for x in axes if x < batch)
        if layout == "nchw" and not keep:  # pragma: no cover - set above
            layout = "plain"
        if fields["mode"] == "mean":
            del fields["mode"]
        self.produce(node.output[0], "reduce", fields, [value.entry], batch, layout)

    # shape ops

    def concat(self, node: Any) -> None:
        names = _inputs_of(node)
        out = node.output[0]
        shape = self.shape_of(out)
        rank = len(shape)
        axis = int(self.attrs()["axis"]) % rank
        if len(names) == 1:
            self.alias(out, names[0])
            return
        batch = self._merge_batch(names, rank)
        if batch == axis:
            self.lost("it concatenates along the batch axis")
            batch = None
        if batch is None:
            names = [
                self.unbatched(n, "it concatenates along the batch axis") if n in self.values else n
                for n in names
            ]
        nchw = any(n in self.values and self.values[n].layout == "nchw" for n in names)
        layout: Layout = "nchw" if nchw and can_nchw(shape, batch) else "plain"
        sources = []
        for name in names:
            dims = self.values[name].shape if name in self.values else self.static[name].shape
            if dims is None:
                raise self.fail(f"shape inference gives no shape for {name!r}")
            full = tuple(dims)
            if batch is not None and full[batch] == 1 and self.n is not None and self.n > 1:
                full = full[:batch] + (self.n,) + full[batch + 1 :]
            sources.append(self.conform(name, stored_shape(full, layout, batch), layout))
        mapped = axis_map(rank, layout, batch)[axis]
        assert mapped is not None
        stored_rank = len(stored_shape(shape, layout, batch))
        fields = {} if mapped == stored_rank - 1 else {"axis": mapped}
        self.produce(out, "concat", fields, sources, batch, layout)

    def split(self, node: Any) -> None:
        a = self.attrs()
        axis = int(a.get("axis", 0))
        value, mapped = self._axis(node.input[0], axis, "it splits the batch axis")
        axis %= len(value.shape)
        outs = [o for o in node.output]
        sizes = [self.shape_of(o)[axis] if o else 0 for o in outs]
        if not all(o for o in outs):  # an output nobody reads: its size is the rest
            rest = value.shape[axis] - sum(sizes)
            sizes = [s if o else rest for s, o in zip(sizes, outs, strict=True)]
        for index, out in enumerate(outs):
            if not out:
                continue
            fields: dict[str, Any] = {}
            if len(set(sizes)) == 1:
                if len(sizes) != 2:
                    fields["parts"] = len(sizes)
            else:
                fields["sizes"] = _text(sizes)
            if index:
                fields["index"] = index
            if mapped != len(value.stored) - 1:
                fields["axis"] = mapped
            self.produce(out, "split", fields, [value.entry], value.batch, value.layout, suffix=str(index))

    def slice(self, node: Any) -> None:
        value = self.values[node.input[0]]
        out = node.output[0]
        out_shape = self.shape_of(out)
        rank = len(value.shape)
        a = self.attrs()
        if self.opset >= 10:
            names = list(node.input) + [""] * 5
            starts, ends = self.ints(names[1]), self.ints(names[2])
            axes = self.ints(names[3]) if names[3] else None
            steps = self.ints(names[4]) if names[4] else None
        else:
            starts, ends = list(a.get("starts", [])), list(a.get("ends", []))
            axes, steps = a.get("axes"), None
        changed = [x for x in range(rank) if out_shape[x] != value.shape[x]]
        if axes is None:
            axes = list(range(len(starts))) if starts is not None else changed
        axes = [int(x) % rank for x in axes]
        entry = value.entry
        for position, axis in enumerate(axes):
            size = out_shape[axis]
            step = steps[position] if steps is not None else 1
            if size == value.shape[axis] and step == 1:
                continue
            if value.batch is not None and axis == value.batch:
                value = self.values[self.unbatched(node.input[0], "it slices the batch axis")]
                entry = value.entry
            mapped = axis_map(rank, value.layout, value.batch)[axis]
            if mapped is None:
                raise self.fail(f"slices axis {axis}, the batch axis of an N×C×… tensor")
            dim = value.shape[axis]
            start, stop = 0, size
            if starts is not None and ends is not None and step > 0:
                lo, hi = starts[position], ends[position]
                lo = min(max(lo + dim if lo < 0 else lo, 0), dim)
                hi = min(max(hi + dim if hi < 0 else hi, 0), dim)
                if -(-(hi - lo) // step) == size:
                    start, stop = lo, hi
                else:
                    step = 1
            else:  # a reversed or unknown slice: the same count of positions from the start
                step = 1
            fields: dict[str, Any] = {"start": start, "stop": stop}
            if step != 1:
                fields["step"] = step
            stored = stored_shape(value.shape, value.layout, value.batch)
            if mapped != len(stored) - 1:
                fields["axis"] = mapped
            shape = value.shape[:axis] + (size,) + value.shape[axis + 1 :]
            expected = stored_shape(shape, value.layout, value.batch)
            entry = self.emit(
                "slice", fields, [entry], expected, suffix=f"axis{axis}" if len(axes) > 1 else ""
            )
            value = _Value(shape, value.layout, value.batch, entry)
        if value.shape != out_shape:  # pragma: no cover - every changed axis is sliced above
            raise self.fail(f"convcost slices it to {_text(value.shape)}, the model to {_text(out_shape)}")
        self.values[out] = value

    def gather(self, node: Any) -> None:
        data, indices = node.input[0], node.input[1]
        if data not in self.values or indices in self.values:
            self.opaque(node, "indices computed from data" if indices in self.values else "embedding lookup")
            return
        value = self.values[data]
        index_shape = self.static[indices].shape
        axis = int(self.attrs().get("axis", 0)) % len(value.shape)
        if index_shape is None:
            self.opaque(node, "indices of unknown shape")
            return
        value, mapped = self._axis(data, axis, "it gathers along the batch axis")
        fields: dict[str, Any] = {}
        if mapped != len(value.stored) - 1:
            fields["axis"] = mapped
        batch, layout = value.batch, value.layout
        if index_shape:  # positions along the axis (several dims of them: then reshaped)
            fields["count"] = prod(index_shape)
            if batch is not None and axis < batch:
                batch += len(index_shape) - 1
            if len(index_shape) > 1:
                layout = "plain"
        else:
            found = self.ints(indices)
            if found:
                fields["index"] = found[0] % value.shape[axis]
            layout = "plain"
            if batch is not None and axis < batch:
                batch -= 1
        out_shape = self.shape_of(node.output[0])
        if layout == "nchw" and not can_nchw(out_shape, batch):  # pragma: no cover - same rank
            layout = "plain"
        self.produce(node.output[0], "gather", fields, [value.entry], batch, layout)

    def reshaped_batch(self, value: _Value, out: Shape) -> int | None:
        """Where the batch axis is after a reshape: the output axis with the same elements before it."""
        if value.batch is None:
            if self.n == 1 and out and out[0] == 1 and (not value.shape or value.shape[0] != 1):
                return 0  # a batch of one comes back as the leading 1
            return None
        before = prod(value.shape[: value.batch])
        running = 1
        for axis, size in enumerate(out):
            if running == before and size == value.shape[value.batch]:
                return axis
            running *= size
        self.lost("it reshapes the batch axis together with others")
        return None

    def reshape(self, node: Any) -> None:
        name = node.input[0]
        value = self.values[name]
        out = node.output[0]
        shape = self.shape_of(out)
        if node.op_type == "Reshape" and self.channel_shuffle(node, value, shape):
            return
        batch = self.reshaped_batch(value, shape)
        if batch is None and value.batch is not None:
            value = self.values[self.unbatched(name, "it reshapes the batch axis together with others")]
        layout = self.layout_for(out, shape, batch)
        stored = stored_shape(shape, layout, batch)
        if stored == value.stored and (layout == value.layout or shape == value.shape):
            self.values[out] = _Value(shape, layout, batch, value.entry)
            return
        entry = self.emit("reshape", {"shape": _dims_field(stored)}, [value.entry], stored)
        self.set_value(out, shape, layout, batch, entry)

    def channel_shuffle(self, node: Any, value: _Value, shape: Shape) -> bool:
        """ShuffleNet's reshape to N×g×C/g×H×W → transpose(0, 2, 1, 3, 4) → reshape back: one ``shuffle``."""
        if value.layout != "nchw" or value.batch != 0 or len(value.shape) != 4 or len(shape) != 5:
            return False
        if (
            shape[0] != value.shape[0]
            or shape[1] * shape[2] != value.shape[1]
            or shape[3:] != value.shape[2:]
        ):
            return False
        readers = self.consumers.get(node.output[0], [])
        if len(readers) != 1 or readers[0].op_type != "Transpose" or node.output[0] in self.outputs:
            return False
        transpose = readers[0]
        if list(self.attrs(transpose).get("perm", [])) != [0, 2, 1, 3, 4]:
            return False
        readers = self.consumers.get(transpose.output[0], [])
        if len(readers) != 1 or readers[0].op_type != "Reshape" or transpose.output[0] in self.outputs:
            return False
        back = readers[0]
        if self.shapes.get(back.output[0]) != value.shape or back.input[0] != transpose.output[0]:
            return False
        entry = self.emit("shuffle", {"groups": shape[1]}, [value.entry], value.stored, suffix="shuffle")
        self.set_value(back.output[0], value.shape, "nchw", 0, entry)
        self.absorbed[id(transpose)] = self.absorbed[id(back)] = ""
        return True

    def transpose(self, node: Any) -> None:
        name = node.input[0]
        value = self.values[name]
        rank = len(value.shape)
        perm = [int(p) for p in self.attrs().get("perm", list(range(rank))[::-1])]
        out = node.output[0]
        shape = self.shape_of(out)
        batch = perm.index(value.batch) if value.batch is not None else None
        to_nchw = rank >= 4 and perm == [0, rank - 1, *range(1, rank - 1)]  # N×H×W×C → N×C×H×W
        layout = self.layout_for(out, shape, batch, "nchw" if to_nchw else None)
        stored = stored_shape(shape, layout, batch)
        source_axes = axis_map(rank, value.layout, value.batch)
        target_axes = axis_map(rank, layout, batch)
        order: list[int | None] = [None] * len(stored)
        for axis in range(rank):
            target = target_axes[axis]
            if target is not None:
                order[target] = source_axes[perm[axis]]
        if any(o is None for o in order) or len(order) != len(value.stored):
            entry = self.emit("reshape", {"shape": _dims_field(stored)}, [value.entry], stored)
        elif order == list(range(len(order))):
            self.values[out] = _Value(shape, layout, batch, value.entry)
            return
        else:
            entry = self.emit("transpose", {"perm": order}, [value.entry], stored)
        self.set_value(out, shape, layout, batch, entry)

    def expand(self, node: Any) -> None:
        out = node.output[0]
        shape = self.shape_of(out)
        sources, batch, layout = self.broadcast_inputs([node.input[0]], out)
        stored = stored_shape(shape, layout, batch)
        if self.stored[sources[0]] == stored:
            self.values[out] = _Value(shape, layout, batch, sources[0])
            return
        self.produce(out, "expand", {"shape": _dims_field(stored)}, sources, batch, layout)

    def pad(self, node: Any) -> None:
        name = node.input[0]
        value = self.values[name]
        rank = len(value.shape)
        a = self.attrs()
        mode = _decode(a.get("mode", "constant"))
        names = list(node.input) + ["", "", ""]
        if self.opset >= 11:
            pads = self.ints(names[1]) if names[1] else None
            constant = self.data(names[2]) if names[2] else 0
            axes = self.ints(names[3]) if names[3] else None
        else:
            pads, constant, axes = list(a.get("pads", [])), a.get("value", 0.0), None
        out = node.output[0]
        out_shape = self.shape_of(out)
        axes = [x % rank for x in axes] if axes is not None else list(range(rank))
        pairs = [(0, 0)] * rank
        if pads is not None and len(pads) == 2 * len(axes):
            for i, axis in enumerate(axes):
                pairs[axis] = (pads[i], pads[i + len(axes)])
        else:  # unknown amounts: all of it after (the same count)
            pairs = [(0, o - i) for i, o in zip(value.shape, out_shape, strict=True)]
        if any(lo < 0 or hi < 0 for lo, hi in pairs):
            self.opaque(node, "negative pads")
            return
        zero = constant is None or not self.np.any(self.np.asarray(constant))
        consumers = self.consumers.get(out, [])
        if (
            mode == "constant"
            and zero
            and pairs[0] == (0, 0)
            and pairs[1] == (0, 0)
            and len(consumers) == 1
            and consumers[0].op_type == "Conv"
            and list(consumers[0].input).count(out) == 1  # its data only, not its bias too
            and consumers[0].input[0] == out
            and out not in self.outputs
            and can_nchw(value.shape, value.batch)
            and _decode(self.attrs(consumers[0]).get("auto_pad", "NOTSET")) == "NOTSET"
        ):
            self.folded[out] = (name, pairs[2:])
            return
        if value.batch is not None and pairs[value.batch] != (0, 0):
            value = self.values[self.unbatched(name, "it pads the batch axis")]
        stored_pairs: list[tuple[int, int]] = [(0, 0)] * len(value.stored)
        for axis, target in enumerate(axis_map(rank, value.layout, value.batch)):
            if target is not None:
                stored_pairs[target] = pairs[axis]
        fields: dict[str, Any] = {"pads": _pads_text(stored_pairs)}
        if mode != "constant":
            fields["mode"] = mode
        self.produce(out, "pad", fields, [value.entry], value.batch, value.layout)

    def resize(self, node: Any) -> None:
        entry, value = self.in_layout(node.input[0], "nchw")
        out = node.output[0]
        shape = self.shape_of(out)
        if shape[:2] != value.shape[:2]:
            self.opaque(node, "resizing batch or channels")
            return
        mode = _decode(self.attrs().get("mode", "nearest"))
        mode = "linear" if mode == "bilinear" else mode
        spatial_in, spatial_out = value.shape[2:], shape[2:]
        scales = [o // i for i, o in zip(spatial_in, spatial_out, strict=True)]
        exact = all(s * i == o for s, i, o in zip(scales, spatial_in, spatial_out, strict=True))
        lead = _lead(value)
        if exact and (mode == "nearest" or (mode == "linear" and len(scales) == 2)):
            fields: dict[str, Any] = {"scale": _per_dim([1] * lead + scales)}
            if mode == "linear":
                fields["mode"] = "bilinear"
            self.produce(out, "upsample", fields, [entry], value.batch, "nchw")
            return
        fields = {"size": _dims_field(shape[:lead] + spatial_out)}
        if mode != "nearest":
            fields["mode"] = mode
        self.produce(out, "resize", fields, [entry], value.batch, "nchw")

    # linear and matmul

    def bias_after(self, out: str, features: int) -> bool:
        """The static bias of an ``Add`` that is the only reader of ``out``: a linear layer's bias."""
        readers = self.consumers.get(out, [])
        if len(readers) != 1 or out in self.outputs:
            return False
        add = readers[0]
        if add.op_type != "Add" or add.domain not in ("", "ai.onnx") or len(_inputs_of(add)) != 2:
            return False
        other = next((n for n in add.input if n != out), None)
        if other is None or not self.is_static(other):
            return False
        static = self.static[other]
        if (
            static.shape is None
            or prod(static.shape) != features
            or (static.shape and static.shape[-1] != features)
        ):
            return False
        if not static.sources or static.sources & self.counted:
            return False
        self.absorbed[id(add)] = out
        self.counted |= static.sources
        return True

    def linear(self, data: str, weight: Shape, bias: bool, out: str) -> None:
        """A product by a 2-D weight: a linear layer over the last dim (its bias an Add after it)."""
        value = self.values[data]
        if value.batch is not None and value.batch == len(value.shape) - 1:
            data = self.unbatched(data, "it sums over the batch axis")
        entry, value = self.in_layout(data, "plain")
        if value.shape[-1] != weight[0]:
            raise self.fail(
                f"multiplies {_text(value.shape)} by a {_text(weight)} weight; the inner dims "
                f"({value.shape[-1]} and {weight[0]}) must match"
            )
        if not bias:
            bias = self.bias_after(out, weight[1])
        fields: dict[str, Any] = {"out": weight[1]}
        if not bias:
            fields["bias"] = False
        if len(value.stored) > 1:
            fields["flatten"] = False
        self.produce(out, "linear", fields, [entry], value.batch, "plain")

    def matmul(self, node: Any) -> None:
        a, b = node.input[0], node.input[1]
        out = node.output[0]
        if a in self.values and self.is_static(b) and len(self.static[b].shape or ()) == 2:
            weight = self.weight(b)
            assert weight is not None
            self.linear(a, weight, False, out)
            return
        self.product(a, b, out)

    def product(self, a: str, b: str, out: str) -> None:
        """A matrix product with an activation operand (a static one is a parameter), as NumPy's matmul."""
        shape = self.shape_of(out)
        rank = len(shape)
        dims: dict[str, Shape] = {}
        for name in (a, b):
            found = self.values[name].shape if name in self.values else self.static[name].shape
            if found is None:
                raise self.fail(f"shape inference gives no shape for {name!r}")
            dims[name] = found
        axes: set[int] = set()
        mixed = False
        for name, first in ((a, True), (b, False)):
            value = self.values.get(name)
            if value is None or value.batch is None:
                continue
            r = len(value.shape)
            if r >= 3 and value.batch < r - 2:  # a batch dim of the product
                axes.add(value.batch + rank - r)
            elif first and r == 2 and value.batch == 0:  # the rows of A
                axes.add(rank - 2 if len(dims[b]) >= 2 else rank - 1)
            elif not first and r == 2 and value.batch == 1:  # the columns of B
                axes.add(rank - 1)
            else:
                mixed = True
        batch: int | None = None
        if mixed or len(axes) > 1:
            self.lost("it multiplies over the batch axis")
        elif axes:
            batch = axes.pop()
        sources = []
        for name in (a, b):
            shape_of = dims[name]
            if batch is None:
                if name in self.values:
                    name = self.unbatched(name, "it multiplies over the batch axis")
                target = shape_of
            elif batch < rank - 2 and len(shape_of) >= 2:
                full = aligned(shape_of, rank)
                target = full[:batch] + full[batch + 1 :]
            elif name in self.values:
                target = stored_shape(shape_of, "plain", self.values[name].batch)
            else:
                target = shape_of
            sources.append(self.conform(name, target or (1,), "plain"))
        self.produce(out, "matmul", {}, sources, batch, "plain")

    def gemm(self, node: Any) -> None:
        names = list(node.input) + [""]
        a_name, b_name, c_name = names[0], names[1], names[2]
        attrs = self.attrs()
        trans_a, trans_b = bool(attrs.get("transA", 0)), bool(attrs.get("transB", 0))
        beta = float(attrs.get("beta", 1.0))
        out = node.output[0]
        for flag, name, label in ((trans_a, a_name, "A"), (trans_b, b_name, "B")):
            if flag and name in self.values:  # an explicit transpose of a 2-D activation
                value = self.values[self.unbatched(name, f"trans{label} moves the batch axis")]
                flipped = value.shape[::-1]
                entry = self.emit(
                    "transpose", {"perm": [1, 0]}, [value.entry], flipped, suffix=f"trans{label}"
                )
                self.values[f"{name}#T"] = _Value(flipped, "plain", None, entry)
        if trans_a:
            if a_name not in self.values:
                self.static[f"{a_name}#T"] = _Static(
                    (self.static[a_name].shape or ())[::-1], None, self.static[a_name].sources
                )
            a_name = f"{a_name}#T"
        extra = c_name if c_name and beta != 0 else ""
        if a_name in self.values and self.is_static(b_name):
            weight = self.weight(b_name)
            assert weight is not None
            if trans_b:
                weight = weight[::-1]
            bias = False
            if extra and self.is_static(extra):
                c = self.static[extra]
                if (
                    c.shape is not None
                    and prod(c.shape) == weight[1]
                    and (not c.shape or c.shape[-1] == weight[1])
                ):
                    bias, extra = True, ""
                    self.counted |= c.sources
            self.linear(a_name, weight, bias, out)
        else:
            if trans_b:
                if b_name not in self.values:
                    self.static[f"{b_name}#T"] = _Static(
                        (self.static[b_name].shape or ())[::-1], None, self.static[b_name].sources
                    )
                b_name = f"{b_name}#T"
            self.product(a_name, b_name, out)
        if extra:
            sources, batch, layout = self.broadcast_inputs([out, extra], out)
            self.produce(out, "add", {}, sources, batch, layout, suffix="C")


#: The most elements a computed constant may have: shape arithmetic is small, and a model stating a
#: huge one (ConstantOfShape of 30000×30000) is not worked out in memory.
MAX_STATIC = 1 << 16
#: The most bytes of a tensor whose values are read: MAX_STATIC elements of the widest type (a
#: tensor stating fewer elements than its raw_data holds is not read whole for them).
_MOST_READ_BYTES = 16 * MAX_STATIC


def _result_size(np: Any, op: str, inputs: list[Any], attrs: dict[str, Any]) -> int:
    """How many elements ``op`` makes of ``inputs`` (an upper bound; huge where it cannot tell)."""
    huge = MAX_STATIC + 1
    try:
        shapes = [np.shape(i) for i in inputs if i is not None]
        if op == "ConstantOfShape":
            return prod(int(v) for v in np.asarray(inputs[0]).reshape(-1))
        if op == "Expand":
            target = tuple(int(v) for v in np.asarray(inputs[1]).reshape(-1))
            return int(prod(np.broadcast_shapes(shapes[0], target)))
        if op == "Range":
            start, limit, delta = (float(np.asarray(v).reshape(-1)[0]) for v in inputs[:3])
            return max(-int(-(limit - start) // delta), 0) if delta else huge
        if op == "Gather":
            data, indices = inputs[0], inputs[1]
            return int(prod(np.shape(data)) * prod(np.shape(indices)))
        if op in ("Concat", "Sum", "Mean", "Max", "Min"):
            return int(sum(prod(shape) for shape in shapes) + prod(np.broadcast_shapes(*shapes)))
        return int(prod(np.broadcast_shapes(*shapes)))
    except Exception:  # shapes that do not broadcast, values that are not numbers: numpy says what
        return int(sum(prod(np.shape(i)) for i in inputs if i is not None))


def _static_eval(np: Any, node: Any, inputs: list[Any], attrs: dict[str, Any]) -> list[Any] | None:
    """The outputs of a node on known (numpy) inputs: the shape arithmetic exporters write."""
    from onnx import numpy_helper

    op = node.op_type
    if op == "Constant":
        for key in ("value", "sparse_value"):
            if key in attrs:
                if key == "value" and _weight(attrs[key]):
                    return None  # a weight written as a constant: never read
                return [numpy_helper.to_array(attrs[key])]
        for key in ("value_float", "value_int"):
            if key in attrs:
                return [np.array(attrs[key])]
        for key in ("value_floats", "value_ints"):
            if key in attrs:
                return [np.array(list(attrs[key]))]
        return None
    if any(x is None for x in inputs[:1]) or not inputs:
        return None
    if _result_size(np, op, inputs, attrs) > MAX_STATIC:
        return None
    x = inputs[0]
    if op in ("Identity", "Cast", "CastLike"):
        return [x]
    if op == "ConstantOfShape":
        fill = numpy_helper.to_array(attrs["value"]) if "value" in attrs else np.zeros(1, dtype=np.float32)
        return [np.full([int(v) for v in x], fill.reshape(-1)[0], dtype=fill.dtype)]
    if op == "Unsqueeze":
        axes = attrs.get("axes") or [int(v) for v in inputs[1]]
        result = x
        for axis in sorted(int(a) % (np.ndim(x) + len(axes)) for a in axes):
            result = np.expand_dims(result, axis)
        return [result]
    if op == "Squeeze":
        axes = attrs.get("axes") or (
            [int(v) for v in inputs[1]] if len(inputs) > 1 and inputs[1] is not None else None
        )
        return [np.squeeze(x, axis=tuple(axes) if axes else None)]
    if op == "Gather":
        return [np.take(x, inputs[1], axis=attrs.get("axis", 0))]
    if op == "Concat":
        if any(i is None for i in inputs):
            return None
        return [np.concatenate(inputs, axis=attrs.get("axis", 0))]
    if op == "Slice":
        starts, ends = inputs[1], inputs[2]
        axes = inputs[3] if len(inputs) > 3 and inputs[3] is not None else range(len(starts))
        steps = inputs[4] if len(inputs) > 4 and inputs[4] is not None else [1] * len(starts)
        index = [slice(None)] * np.ndim(x)
        for s, e, a, st in zip(starts, ends, axes, steps, strict=False):
            index[int(a)] = slice(int(s), int(e), int(st))
        return [x[tuple(index)]]
    if op == "Reshape":
        target = [int(v) for v in inputs[1]]
        target = [x.shape[i] if v == 0 and not attrs.get("allowzero", 0) else v for i, v in enumerate(target)]
        return [np.reshape(x, target)]
    if op == "Range":
        return [np.arange(inputs[0], inputs[1], inputs[2])]
    if op == "Expand":
        return [x * np.ones([int(v) for v in inputs[1]], dtype=x.dtype)]
    if op == "Where":
        return [np.where(*inputs[:3])]
    if op == "Transpose":
        return [np.transpose(x, attrs.get("perm"))]
    unary = {
        "Neg": np.negative,
        "Abs": np.abs,
        "Floor": np.floor,
        "Ceil": np.ceil,
        "Sqrt": np.sqrt,
        "Not": np.logical_not,
    }
    if op in unary:
        return [unary[op](x)]
    if len(inputs) < 2 or inputs[1] is None:
        return None
    y = inputs[1]
    if op == "Div" and np.issubdtype(np.asarray(x).dtype, np.integer):
        return [np.trunc(np.asarray(x) / np.asarray(y)).astype(np.asarray(x).dtype)]
    binary = {
        "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Equal": np.equal,
        "Less": np.less, "Greater": np.greater, "Max": np.maximum, "Min": np.minimum, "Mod": np.mod,
        "Pow": np.power, "And": np.logical_and, "Or": np.logical_or,
    }  # fmt: skip
    if op in binary:
        return [binary[op](x, y)]
    return None
