"""Shapes from onnx's inference, for a graph with an op that has no shape rule of convcost's own
(see :mod:`.infer`), run on a copy of the model that holds no weights' bytes.

The copy's weight tensors keep their dims but not their bytes (and with ``load_external_data=False``
a model whose weight file is absent still costs: only shapes are needed). Inference runs on a copy in
which no Slice can read a negative dim (onnx would abort the process; see :func:`guard_slices`), and
shape arithmetic that onnx's data propagation misses is folded to constants, then inferred again.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, NamedTuple

from ...core.errors import ConvCostError
from .fold import static_eval
from .infer import given_inputs, refuse_below
from .layout import Shapes
from .read import (
    attributes,
    declared_dims,
    has_shape,
    inputs_of,
    label,
    one_line,
    opset,
    standard,
    subgraphs,
    weight,
)
from .registry import CONSTANT, CONTROL_FLOW, DATA_SOURCES, GUARD, PROPAGATING, SLICE, lookup
from .tensor import NotFolded, Tensor, decode, of_ints

if TYPE_CHECKING:
    from onnx import GraphProto, ModelProto, NodeProto, TensorProto


def shapes_only(model: ModelProto, onnx: ModuleType) -> ModelProto:
    """A copy whose large float tensors keep their dims but not their bytes: inference is fast, and a
    model of several GB is not copied."""
    copy: ModelProto = onnx.ModelProto()
    copy.ir_version = model.ir_version
    copy.opset_import.extend(model.opset_import)
    graph, source = copy.graph, model.graph
    graph.name = source.name
    graph.input.extend(source.input)
    graph.output.extend(source.output)
    graph.value_info.extend(source.value_info)
    graph.sparse_initializer.extend(source.sparse_initializer)
    for node in source.node:
        if node.op_type != CONSTANT or not any(a.type == 4 and weight(a.t) for a in node.attribute):
            graph.node.add().CopyFrom(node)
            continue
        # a weight some converters write as a constant node: its dims, never its bytes, copied
        kept_node = graph.node.add()
        kept_node.name, kept_node.op_type, kept_node.domain = node.name, node.op_type, node.domain
        kept_node.input.extend(node.input)
        kept_node.output.extend(node.output)
        for attribute in node.attribute:
            kept_attribute = kept_node.attribute.add()
            if attribute.type == 4 and weight(attribute.t):  # TENSOR
                kept_attribute.name, kept_attribute.type = attribute.name, attribute.type
                _dims_of(attribute.t, kept_attribute.t)
            else:
                kept_attribute.CopyFrom(attribute)
    for tensor in source.initializer:
        if weight(tensor):
            _dims_of(tensor, graph.initializer.add())
        else:
            graph.initializer.add().CopyFrom(tensor)
    return copy


def _dims_of(tensor: TensorProto, kept: TensorProto) -> None:
    """``kept`` becomes ``tensor`` without its values: name, type and dims."""
    kept.name, kept.data_type = tensor.name, tensor.data_type
    kept.dims.extend(tensor.dims)


def set_inputs(
    model: ModelProto, name: str, wants: set[str], shape: Sequence[int] | None, batch: int | None
) -> bool:
    """Apply ``--in`` and ``--batch`` to the inference copy; whether anything changed."""
    if shape is None and batch is None:
        return False
    graph = model.graph
    info = next(i for i in graph.input if i.name == name)
    every = [info, *(i for i in graph.input if i is not info)]
    given = given_inputs(every, wants, shape, batch)  # refused there as --in and --batch need
    for each in every:
        for dim, value in zip(each.type.tensor_type.shape.dim, given[each.name] or [], strict=False):
            if isinstance(value, int) and not (dim.HasField("dim_value") and dim.dim_value == value):
                dim.Clear()
                dim.dim_value = value
    # every shape is inferred again from the new input
    graph.ClearField("value_info")
    for output in graph.output:
        output.type.tensor_type.ClearField("shape")
    return True


_INFERENCE_ERROR = re.compile(r"\(op_type:(\w+), node name: ([^)]*)\):\s*(.*?)(?=\s*\(op_type:|$)", re.S)


def infer(model: ModelProto, onnx: ModuleType, changed: bool, attempts: int = 8) -> Shapes:
    """Every value's dims (None where unknown), from the model's value info and shape inference."""
    guarded = guard_slices(model, onnx)
    try:
        inferred = onnx.shape_inference.infer_shapes(
            guarded.model, check_type=False, strict_mode=True, data_prop=True
        )
    except Exception as exc:
        partial = _partial_inference(guarded.model, onnx)
        if partial is not None:
            _refuse_negative_dims(model, _raw_shapes(partial))
        if attempts and _fill_same_shapes(model, onnx):
            return infer(model, onnx, changed, attempts - 1)
        text = one_line(exc)
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


def _partial_inference(model: ModelProto, onnx: ModuleType) -> GraphProto | None:
    """The graph with what inference finds despite errors (None where it fails outright)."""
    try:
        graph: GraphProto = onnx.shape_inference.infer_shapes(
            model, check_type=False, strict_mode=False, data_prop=True
        ).graph
        return graph
    except Exception:  # onnx's inference gave up on the whole graph: every shape stays unknown
        return None


def _raw_shapes(graph: GraphProto) -> dict[str, list[int | None]]:
    """Every typed value's dims as inference leaves them: ints (zero and negative ones too), None."""
    return {
        info.name: declared_dims(info)
        for info in [*graph.input, *graph.value_info, *graph.output]
        if has_shape(info)
    }


def _refuse_negative_dims(model: ModelProto, raw: dict[str, list[int | None]]) -> None:
    """The first node that shape inference gives an output dim below zero (a window's: below one).

    ONNX works such dims out without a word (a 3×3 conv on a 1×1 map is "-1" wide): convcost
    refuses them at the node that makes them.
    """
    if all(d is None or d > 0 for dims in raw.values() for d in dims):
        return
    for node in model.graph.node:
        for out in node.output:
            dims = raw.get(out)
            if dims is not None:
                refuse_below(node, out, dims, raw)


class _Guarded(NamedTuple):
    model: ModelProto  # the copy that shape inference reads
    slices: dict[str, str]  # guard node name → how errors name the Slice it guards
    made: set[str]  # the values the guards add


def guard_slices(model: ModelProto, onnx: ModuleType) -> _Guarded:
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
    version = opset(model)
    if version is None or version < 10:
        return _Guarded(model, {}, set())
    slices = _guarded_slices(model.graph)
    if not slices and not _nested_guards(model.graph):
        return _Guarded(model, {}, set())
    taken = _all_names(model.graph)
    prefix = "convcost_guard"
    while any(name.startswith(prefix) for name in taken):
        prefix += "_"
    copy: ModelProto = onnx.ModelProto()
    copy.CopyFrom(model)
    guarded = _Guarded(copy, {}, set())
    _guard_graph(copy.graph, slices, onnx, prefix, guarded)
    return guarded


def _guarded_slices(graph: GraphProto) -> list[int]:
    """The positions of the Slices in ``graph`` that read an activation (not a shape vector or constant)."""
    if SLICE not in {node.op_type for node in graph.node}:
        return []
    static = {t.name for t in graph.initializer} | {t.values.name for t in graph.sparse_initializer}
    found = []
    for index, node in enumerate(graph.node):
        op = node.op_type
        if not standard(node):
            continue
        if op == SLICE and node.input and node.input[0] and node.input[0] not in static:
            found.append(index)
        if op in DATA_SOURCES or (op in PROPAGATING and all(name in static for name in node.input if name)):
            static.update(node.output)
    return found


def _nested_guards(graph: GraphProto) -> bool:
    """Whether a graph inside ``graph`` has a Slice to guard."""
    if not CONTROL_FLOW & {node.op_type for node in graph.node}:
        return False
    return any(
        _guarded_slices(body) or _nested_guards(body) for node in graph.node for body in subgraphs(node)
    )


def _all_names(graph: GraphProto) -> set[str]:
    """The names of the values in ``graph`` and the graphs inside it."""
    names = {t.name for t in graph.initializer}
    names.update(info.name for info in [*graph.input, *graph.value_info])
    for node in graph.node:
        names.update(node.output)
        for body in subgraphs(node):
            names |= _all_names(body)
    return names


def _guard_graph(
    graph: GraphProto, slices: list[int], onnx: ModuleType, prefix: str, guarded: _Guarded
) -> None:
    for node in graph.node:
        for body in subgraphs(node):
            _guard_graph(body, _guarded_slices(body), onnx, prefix, guarded)
    if not slices:
        return
    nodes = list(graph.node)
    made: list[NodeProto] = []
    shape_op, zeros_op, again_op, expand_op = GUARD
    for index, node in enumerate(nodes):
        if slices and slices[0] == index:
            del slices[0]
            data, tag, domain = node.input[0], f"{prefix}{len(guarded.slices)}", node.domain
            shape, zeros, again, kept = (f"{tag}_{part}" for part in ("shape", "zeros", "again", "data"))
            made += [
                onnx.NodeProto(op_type=shape_op, input=[data], output=[shape], name=tag, domain=domain),
                onnx.NodeProto(op_type=zeros_op, input=[shape], output=[zeros], name=tag, domain=domain),
                onnx.NodeProto(op_type=again_op, input=[zeros], output=[again], name=tag, domain=domain),
                onnx.NodeProto(
                    op_type=expand_op, input=[data, again], output=[kept], name=tag, domain=domain
                ),
            ]
            guarded.made.update((shape, zeros, again, kept))
            guarded.slices[tag] = label(node)
            node.input[0] = kept
        made.append(node)
    del graph.node[:]
    graph.node.extend(made)


def _shapes_of(graph: GraphProto, raw: dict[str, list[int | None]]) -> Shapes:
    shapes = {name: tuple(d if d is not None and d > 0 else None for d in dims) for name, dims in raw.items()}
    for tensor in graph.initializer:
        shapes[tensor.name] = tuple(int(d) for d in tensor.dims)
    return shapes


def _fill_same_shapes(model: ModelProto, onnx: ModuleType) -> bool:
    """Give the outputs of shape-keeping ops that inference leaves untyped their input's shape."""
    inferred = _partial_inference(guard_slices(model, onnx).model, onnx)
    if inferred is None:
        return False
    known = {i.name: i for i in [*inferred.input, *inferred.value_info]}
    filled = False
    for node in model.graph.node:
        out = node.output[0] if node.output else ""
        source = known.get(node.input[0]) if node.input else None
        op = lookup(node.op_type)
        if op is not None and op.same_shape and out and out not in known and source is not None:
            info = model.graph.value_info.add()
            info.CopyFrom(source)
            info.name = out
            filled = True
    return filled


def unknown(model: ModelProto, shapes: Shapes) -> bool:
    """Whether some node's output has no full shape."""
    return any(
        out and (out not in shapes or None in shapes[out]) for node in model.graph.node for out in node.output
    )


def fold_constants(model: ModelProto, shapes: Shapes) -> bool:
    """Replace shape arithmetic whose result can be worked out here by constants; whether any was."""
    from onnx import helper

    known: dict[str, Tensor] = {}
    for tensor in model.graph.initializer:
        if not weight(tensor):
            with contextlib.suppress(NotFolded):  # a tensor without its bytes, of strings
                known[tensor.name] = decode(tensor)
    folded = False
    for index, node in enumerate(model.graph.node):
        inputs = inputs_of(node)
        results: list[Tensor] | None = None
        op = lookup(node.op_type)
        try:
            if op is not None and op.of_shape is not None:
                dims = shapes.get(node.input[0])
                if dims is not None and None not in dims:
                    full = [int(d) for d in dims if d is not None]
                    found = op.of_shape(full, attributes(node))
                    results = [of_ints([found], ()) if isinstance(found, int) else of_ints(found)]
            elif standard(node) and all(name in known for name in inputs):
                results = static_eval(
                    node, [known.get(i) if i else None for i in node.input], attributes(node)
                )
        except Exception:  # a fold's refusal: this node's outputs stay unknown, and are not folded
            results = None
        if not results or len(results) < len(node.output) or any(r is None for r in results):
            continue
        if any(r.size > 4096 for r in results):
            continue
        for out, result in zip(node.output, results, strict=False):
            known[out] = result
        if node.op_type != CONSTANT and len(node.output) == 1:
            first = results[0]
            value = helper.make_tensor(node.output[0], first.dtype, first.dims, list(first.values))
            constant = helper.make_node(CONSTANT, [], [node.output[0]], name=node.name, value=value)
            model.graph.node[index].CopyFrom(constant)
            folded = True
    return folded
