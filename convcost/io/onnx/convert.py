"""The conversion: checks, shapes, then each node through its registry entry, into a spec document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from mmap import mmap
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple

from ...core.errors import INTERNAL, ConvCostError, internal_problem
from ...model.kinds import KINDS
from . import constants, proto
from . import infer as own
from .checks import check_declared_dims, check_functions, check_opset, check_structure, check_symbolic
from .context import BatchMixed, Context, Fields
from .inference import fold_constants, infer, set_inputs, unknown
from .inline import inline_local_functions
from .layout import Shapes, Static, Value, dims_field, stored_shape, text, wants_nchw
from .ops.opaque import opaque
from .read import check_size, inputs_of, label, named_dims, opset, parse, standard
from .registry import OfShape, lookup
from .tensor import of_ints
from .write import shapes_only

if TYPE_CHECKING:
    from onnx import ModelProto, NodeProto

INSTALL_HINT = "its shapes come from onnx's shape inference: pip install 'convcost[onnx]'"


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


#: The most rounds of folding shape arithmetic and inferring again (see :func:`_convert`).
_FOLD_ROUNDS = 16


def load(
    data: bytes | bytearray | memoryview | mmap,
    source: str,
    *,
    input_shape: Sequence[int] | None = None,
    batch: int | None = None,
    fold_constants: bool = False,
) -> Converted:
    """Convert an ONNX model (its bytes, or a memory map of its file) into a spec document.

    ``input_shape`` (channels-last, without the batch, as ``--in``) replaces the first input's
    dims and ``batch`` its batch dim; every shape is then inferred again. ``fold_constants``: compute
    whose inputs are all constants is folded (it costs nothing) instead of costed as layers.
    The model is read by convcost's own parser (:mod:`.proto`): weights' bytes are never read.
    """
    return convert(parse(data), source, input_shape=input_shape, batch=batch, fold_constants=fold_constants)


def convert(
    model: ModelProto,
    source: str,
    *,
    input_shape: Sequence[int] | None = None,
    batch: int | None = None,
    fold_constants: bool = False,
) -> Converted:
    """Convert a parsed model (see :func:`load`): one of :mod:`.proto`'s, or an ``onnx.ModelProto``."""
    if not isinstance(model, proto.ModelProto):  # onnx's own: read again by convcost's parser
        model = parse(model.SerializeToString())
    try:
        return _convert(model, source, input_shape, batch, fold_constants)
    except ConvCostError:
        raise
    except INTERNAL as exc:  # a guard: every malformed model known is refused in its own words before
        raise ConvCostError("spec", internal_problem(exc)) from None


def _convert(
    model: ModelProto, source: str, input_shape: Sequence[int] | None, batch: int | None, fold: bool
) -> Converted:
    if not model.graph.node:
        raise ConvCostError("spec", "has an empty graph (no nodes): there is nothing to cost")
    check_size(model.graph)
    check_opset(model)
    check_functions(model)
    if len(model.functions):
        model = inline_local_functions(model)
    graph = model.graph
    check_structure(graph, opset(model))
    check_declared_dims(graph)
    wants = wants_nchw(graph)
    initializers = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if not inputs:
        raise ConvCostError("spec", "has no inputs (every graph input is a weight): there is nothing to cost")
    # A symbolic batch is taken as 1 with a note (as onnx-tool does): only the spatial dims are asked for.
    taken = symbolic_batch(inputs[0]) if batch is None else None
    given = 1 if taken is not None else batch
    missing = own.missing_rule(graph)
    notes: list[str] = []
    if missing is None:
        dims = own.given_inputs(inputs, wants, input_shape, given)
        check_symbolic(own.as_model(dims), initializers, taken)
        shapes = own.infer(model, dims, input_shape is not None or given is not None)
    else:
        shapes = onnx_shapes(model, missing, inputs[0].name, wants, input_shape, given, taken)
        op = missing.op_type if standard(missing) else f"{missing.domain}::{missing.op_type}"
        notes.append(
            f"{label(missing)}: convcost has no shape rule for {op}, so the model's shapes are "
            "onnx's inference"
        )
    first = shapes[inputs[0].name]
    n = first[0] if first and first[0] is not None else 1
    converted = _run(model, shapes, wants, source, n, fold)
    if notes:
        converted = converted._replace(notes=[*notes, *converted.notes])
    if taken is None:
        return converted
    note = (
        f"the model's input {inputs[0].name!r} has a symbolic batch ({taken}): it is costed as a batch "
        "of 1 (give --batch N for another)"
    )
    return converted._replace(notes=[note, *converted.notes])


def onnx_shapes(
    model: ModelProto,
    missing: NodeProto,
    name: str,
    wants: set[str],
    input_shape: Sequence[int] | None,
    batch: int | None,
    taken: str | None,
) -> Shapes:
    """The shapes of onnx's inference, on a copy of the model without its weights' bytes
    (:mod:`.write`), for a graph with an op that has no shape rule here: the one step of a
    conversion that can need the onnx package."""
    try:
        import onnx
    except ImportError:
        op = missing.op_type if standard(missing) else f"{missing.domain}::{missing.op_type}"
        raise ConvCostError(
            label(missing),
            f"is a {op} node, for which convcost has no shape rule of its own; with onnx installed its "
            "inference would give the shapes: pip install 'convcost[onnx]'",
        ) from None
    copy = onnx.load_model_from_string(shapes_only(model))
    complete(copy, onnx)
    changed = set_inputs(copy, name, wants, input_shape, batch)
    initializers = {t.name for t in model.graph.initializer}
    check_symbolic(copy, initializers, taken)
    shapes = infer(copy, onnx, changed)
    # Shape arithmetic ONNX's data propagation misses (Div, Where, Mod, …): fold, infer again. Each
    # round can only reach as far as the shapes known before it (Swin V2's padded windows take two
    # rounds a stage: the Pad's amounts, then the reshapes from its shape), so rounds go on while
    # they fold something, up to a bound that keeps a model built to need more from taking long.
    for _ in range(_FOLD_ROUNDS):
        if not unknown(copy, shapes) or not fold_constants(copy, shapes):
            break
        shapes = infer(copy, onnx, changed)
    return shapes


def symbolic_batch(info: Any) -> str | None:
    """The name of an input's symbolic first dim (``?`` when unnamed), when it has two dims or more."""
    dims = named_dims(info)
    if len(dims) < 2 or isinstance(dims[0], int):
        return None
    return dims[0] or "?"


def _run(model: ModelProto, shapes: Any, wants: set[str], source: str, n: int, fold: bool) -> Converted:
    """The conversion at batch ``n``; a model that mixes the batch with other dims, as one pass."""
    try:
        return run(Context(model, shapes, wants, source, n, n, fold=fold))
    except BatchMixed as mixed:
        if n == 1:  # pragma: no cover - a batch of one never mixes
            raise
        converted = run(Context(model, shapes, wants, source, None, n, fold=fold))
        note = mixed.note or (
            f"{mixed.where} mixes the batch axis with other dims ({mixed.why}): the model is costed as one "
            f"pass over its whole input, the {n} samples of its first dim included; the totals are for that"
        )
        return converted._replace(notes=[note, *converted.notes])


def complete(copy: Any, onnx: ModuleType) -> None:
    """Attributes a node leaves out that onnx's inference needs, from its entry (on the copy only)."""
    weights = {t.name: tuple(int(d) for d in t.dims) for t in copy.graph.initializer}
    for node in copy.graph.node:
        op = lookup(node.op_type) if standard(node) else None
        if op is not None and op.complete is not None:
            for name, value in op.complete(node, weights).items():
                node.attribute.append(onnx.helper.make_attribute(name, value))


# ---------------------------------------------------------------------------- the node loop


def run(ctx: Context) -> Converted:
    graph = ctx.model.graph
    initializers = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    document: dict[str, Any] = {"name": ctx.source}
    for index, info in enumerate(inputs):
        shape = ctx.shapes.get(info.name)
        if shape is None or any(d is None for d in shape):  # pragma: no cover - checked before
            raise ConvCostError("in", f"the model's input {info.name!r} has no static shape")
        dims = tuple(int(d) for d in shape if d is not None)
        batch = 0 if ctx.n is not None and dims and dims[0] == ctx.n else None
        layout = ctx.layout_for(info.name, dims, batch)
        stored = stored_shape(dims, layout, batch)
        given = (1,) * (2 - len(stored)) + stored  # a spec's input has two dims or more
        if index == 0:
            document["input"] = text(given)
            ctx.stored["input"] = given
            entry = "input"
            if given != stored:
                entry = ctx.emit(
                    None, "reshape", {"shape": dims_field(stored)}, ["input"], stored, name=info.name
                )
        else:  # another input: an entry with its own 'in'
            ctx.stored[f"{info.name}#in"] = given
            entry = ctx.emit(
                None,
                "reshape",
                {"shape": dims_field(stored), "in": text(given)},
                [f"{info.name}#in"],
                stored,
                name=info.name,
            )
            del ctx.entries[-1]["inputs"]
        ctx.values[info.name] = Value(dims, layout, batch, entry)
    for node in graph.node:
        try:
            convert_node(ctx, node)
        except (ConvCostError, BatchMixed):
            raise
        except INTERNAL as exc:  # a guard, as in convert(): the node named
            raise ctx.fail(node, internal_problem(exc)) from None
    outputs = []
    for info in graph.output:
        if (  # an output computed from constants: its layers
            info.name in ctx.static
            and info.name not in ctx.values
            and not ctx.fold
            and ctx.static[info.name].costed
            and constants.tensor(ctx, info.name)
        ):
            constants.materialize(ctx, info.name)
        if info.name in ctx.values:
            outputs.append(ctx.values[info.name].entry)
        elif info.name in ctx.static:
            ctx.notes.append(f"output {info.name!r} is a constant: it is not costed")
        else:  # pragma: no cover - every node output is made above
            raise ConvCostError("spec", f"has an output {info.name!r} that no node makes")
    layers = chained(ctx.entries)
    if not any(entry["type"] not in ("parameter",) for entry in layers):
        raise ConvCostError("spec", "has no layers convcost can cost (only constants and shape arithmetic)")
    document["layers"] = layers
    if outputs:
        document["outputs"] = outputs
    if ctx.constants_folded:
        ctx.notes.append(
            f"fold_constants: {ctx.constants_folded} tensor(s) computed from constants are folded; "
            "their compute costs nothing"
        )
    for op, count in sorted(ctx.unsupported.items()):
        ctx.notes.append(f"unsupported op {op} ({count}×): not counted — the totals leave it out")
    return Converted(document, ctx.notes, ctx.n or 1, dict(ctx.unsupported))


def convert_node(ctx: Context, node: NodeProto) -> None:
    if id(node) in ctx.absorbed:  # folded into the node before it
        if ctx.absorbed[id(node)]:
            ctx.alias(node.output[0], ctx.absorbed[id(node)])
        return
    for name in inputs_of(node):
        if name not in ctx.values and name not in ctx.static and name not in ctx.folded:
            raise ctx.fail(node, f"reads {name!r}, which no earlier node makes and no input or weight is")
    op = lookup(node.op_type) if standard(node) else None
    if op is not None and op.of_shape is not None:
        shape_op(ctx, node, op.of_shape)
    elif not any(name in ctx.values or name in ctx.folded for name in inputs_of(node)):
        constants.evaluate(ctx, node)
    elif op is not None and op.handler is not None:
        first = node.input[0]
        if not op.any_operand and not op.table and first not in ctx.values and first not in ctx.folded:
            opaque(ctx, node, "data computed from constants")
        else:
            op.handler(ctx, node)
    else:
        opaque(ctx, node)


def chained(entries: list[Fields]) -> list[Fields]:
    """Drop ``inputs`` where an entry reads just the entry before it (the spec's default)."""
    previous = "input"
    for entry in entries:
        kind = KINDS[str(entry["type"])]
        required = "inputs" in kind.fields and kind.fields["inputs"].required
        if entry.get("inputs") == [previous] and not required:
            del entry["inputs"]
        previous = str(entry["name"])
    return entries


def shape_op(ctx: Context, node: NodeProto, of_shape: OfShape) -> None:
    """An op whose value is its input's shape (or part of it): static, known when the shape is."""
    shape = ctx.shapes.get(node.input[0])
    data = None
    if shape is not None and all(d is not None for d in shape):
        dims = [int(d) for d in shape if d is not None]
        found = of_shape(dims, ctx.attrs(node))
        data = of_ints([found], ()) if isinstance(found, int) else of_ints(found)
    out = node.output[0]
    ctx.static[out] = Static(data.dims if data is not None else None, data)
