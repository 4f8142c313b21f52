"""Compute whose inputs are all constants, and which tensors are learned params.

A node whose inputs are all constants (initializers, ``Constant`` nodes, shape arithmetic) is worked
out as a static value (:func:`evaluate`), its value computed where it can be (:mod:`.tensor`). What
becomes of it depends on how the model uses it:

* Read as a shape, an axis, indices or a scale (a Reshape's target, a Gather's positions), it is
  shape arithmetic and costs nothing, as it is worked out here.
* Read as data of the model's activations, a tensor made of learned ones (an MLP over a coordinate
  table, a table gathered by a constant index) or too big or too involved to work out here is compute
  on constants. It runs at every inference unless a runtime folds it, so it is costed as layers like
  any other (:func:`materialize`); with ``fold_constants`` it is folded instead (:func:`folded`): a
  constant source that costs nothing.

Params follow one rule, the same either way: the initializers the graph reads as weights (a conv's,
a linear layer's, a norm's), as tables (a Gather's data) or combined with activations (class tokens,
position embeddings, layer scales) are learned params, each counted once. A constant read as a
weighted layer's input (a coordinate table under an MLP) is that layer's input, not a param; and a
tensor computed from constants never is one: what counts is the learned tensors it is made of.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .fold import static_eval
from .layout import Shape, Static, Value, dims_field, stored_shape
from .read import inputs_of, standard
from .registry import lookup

if TYPE_CHECKING:
    from onnx import NodeProto

    from .context import Context


def evaluate(ctx: Context, node: NodeProto) -> None:
    """A node of static inputs: its outputs are static too (computed where they can be).

    They are made of the learned tensors its inputs are made of, but for a weighted layer's first
    input read as it is (a coordinate table under an MLP is the layer's input, not a param)."""
    op = lookup(node.op_type) if standard(node) else None
    names = inputs_of(node)
    first = node.input[0] if node.input else ""
    if op is not None and op.weighted and first and ctx.static[first].node is None:
        names = [name for name in names if name != first]
    sources: frozenset[str] = frozenset().union(*(ctx.static[i].sources for i in names))
    computed = bool(inputs_of(node))  # a node of no inputs (a Constant) holds its value: it is read
    # an op's shape arithmetic (an Expand's target shape) costs the tensor it makes nothing
    costed = computed and (
        op is None or not op.moves or any(ctx.static[i].costed and tensor(ctx, i) for i in inputs_of(node))
    )
    try:
        results = static_eval(node, [ctx.data(i) if i else None for i in node.input], ctx.attrs(node))
    except Exception:  # a fold's refusal (shapes, types, an op not worked out here): the value stays unknown
        results = None
    for index, out in enumerate(node.output):
        if not out:
            continue
        data = results[index] if results is not None and index < len(results) else None
        found = ctx.shapes.get(out)
        shape: Shape | None = None
        if found is not None and all(d is not None for d in found):
            shape = tuple(int(d) for d in found if d is not None)
        elif data is not None:
            shape = data.dims
        ctx.static[out] = Static(shape, data, sources, node if computed else None, costed)


def tensor(ctx: Context, name: str) -> bool:
    """Whether a static value is a tensor the model computes with: made of learned tensors, or too big
    or too involved to work out here. What is worked out of constants alone (shape arithmetic,
    indices, an attention scale, a small coordinate table) is a constant."""
    static = ctx.static[name]
    return bool(static.sources) or static.data is None


def computed(ctx: Context, name: str, target: Shape) -> bool:
    """Whether a static operand read as ``target`` is compute on constants (costed as layers, or
    folded): work was done to make it, or its learned elements are not the target's own (a table
    gathered by a constant index: its params are the table's, not the gathered copies')."""
    static = ctx.static.get(name)
    if static is None or static.node is None or not tensor(ctx, name):
        return False
    return static.costed or not ctx.plan(name, target).exact


def materialize(ctx: Context, name: str) -> None:
    """Cost the nodes computing static ``name`` as layers, in graph order: it becomes an activation.

    The nodes are those that make it from constants: shape arithmetic and the constants they start
    from stay static (read by the handlers as they read any weight or shape)."""
    cone: list[NodeProto] = []
    seen: set[int] = set()
    stack = [name]
    while stack:  # no recursion: a chain of constants can be as long as the graph
        value = stack.pop()
        static = ctx.static.get(value)
        if value in ctx.values or static is None or static.node is None or not tensor(ctx, value):
            continue
        if id(static.node) in seen:
            continue
        seen.add(id(static.node))
        cone.append(static.node)
        stack.extend(inputs_of(static.node))
    cone.sort(key=lambda node: ctx.order[id(node)])
    for node in cone:
        if all(out in ctx.values for out in node.output if out):
            continue
        _layer(ctx, node)


def _layer(ctx: Context, node: NodeProto) -> None:
    """A node of constant inputs as a layer: its first input a source entry where the handler needs an
    activation there (a constant one for a weighted layer), then its handler."""
    from .ops.opaque import opaque

    op = lookup(node.op_type) if standard(node) else None
    first = node.input[0] if node.input else ""
    if op is None or op.handler is None:
        for name in inputs_of(node):
            if name not in ctx.values:
                as_value(ctx, node, name)
        opaque(ctx, node)
        return
    if first and first not in ctx.values and (not op.any_operand or op.weighted):
        as_value(ctx, node, first, learned=not op.weighted)
    op.handler(ctx, node)


def as_value(ctx: Context, node: NodeProto, name: str, learned: bool = True) -> None:
    """A static tensor read as a layer's data: a source entry of its shape (no params unless
    ``learned``), from then on an activation."""
    shape = ctx.dims(node, name)
    layout = ctx.layout_for(name, shape, None)
    stored = stored_shape(shape, layout, None)
    if learned:
        entry = ctx.parameter(node, name, stored)
    else:
        fields: dict[str, object] = {"shape": dims_field(stored), "learned": False}
        entry = ctx.emit(node, "parameter", fields, [], stored, name=name)
    ctx.values[name] = Value(shape, layout, None, entry)


def folded(ctx: Context, node: NodeProto, name: str, target: Shape) -> str:
    """``fold_constants``: a tensor computed from constants as a constant source, of no params and no
    work; the learned tensors it is made of are counted once each, as source entries of their own."""
    key = (name, target, "folded")
    if key in ctx.cache:
        return ctx.cache[key]
    fresh = sorted(ctx.static[name].sources - ctx.counted)
    ctx.counted.update(fresh)
    for source in fresh:
        own = ctx.static[source].shape or (1,)
        ctx.emit(node, "parameter", {"shape": dims_field(own)}, [], own, name=source)
    fields: dict[str, object] = {"shape": dims_field(target), "learned": False}
    ctx.cache[key] = ctx.emit(node, "parameter", fields, [], target, name=name)
    ctx.constants_folded += 1
    return ctx.cache[key]
