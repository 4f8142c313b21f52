"""Linear layers and matrix products: MatMul and Gemm.

A product by a static 2-D weight is a ``linear`` layer over the last dim (the bias of an Add right
after it folded in); a product of two activations is a ``matmul`` entry, a static operand a parameter.
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

from ..layout import Shape, Static, Value, aligned, stored_shape, text
from ..read import inputs_of, standard
from ..registry import Op, lookup, register

if TYPE_CHECKING:
    from onnx import NodeProto

    from ..context import Context, Fields


def bias_after(ctx: Context, out: str, features: int) -> bool:
    """The static bias of an add that is the only reader of ``out``: a linear layer's bias."""
    readers = ctx.consumers.get(out, [])
    if len(readers) != 1 or out in ctx.outputs:
        return False
    add = readers[0]
    op = lookup(add.op_type)
    if op is None or not op.bias_add or not standard(add) or len(inputs_of(add)) != 2:
        return False
    other = next((n for n in add.input if n != out), None)
    if other is None or not ctx.is_static(other):
        return False
    static = ctx.static[other]
    if (
        static.shape is None
        or prod(static.shape) != features
        or (static.shape and static.shape[-1] != features)
    ):
        return False
    if not static.sources or static.sources & ctx.counted:
        return False
    ctx.absorbed[id(add)] = out
    ctx.counted |= static.sources
    return True


def linear(ctx: Context, node: NodeProto, data: str, weight: Shape, bias: bool, out: str) -> None:
    """A product by a 2-D weight: a linear layer over the last dim (its bias an Add after it)."""
    value = ctx.values[data]
    if value.batch is not None and value.batch == len(value.shape) - 1:
        data = ctx.unbatched(node, data, "it sums over the batch axis")
    entry, value = ctx.in_layout(node, data, "plain")
    if value.shape[-1] != weight[0]:
        raise ctx.fail(
            node,
            f"multiplies {text(value.shape)} by a {text(weight)} weight; the inner dims "
            f"({value.shape[-1]} and {weight[0]}) must match",
        )
    if not bias:
        bias = bias_after(ctx, out, weight[1])
    fields: Fields = {"out": weight[1]}
    if not bias:
        fields["bias"] = False
    if len(value.stored) > 1:
        fields["flatten"] = False
    ctx.produce(node, out, "linear", fields, [entry], value.batch, "plain")


def matmul(ctx: Context, node: NodeProto) -> None:
    a, b = node.input[0], node.input[1]
    out = node.output[0]
    if a in ctx.values and ctx.is_static(b) and len(ctx.static[b].shape or ()) == 2:
        weight = ctx.weight(node, b)
        assert weight is not None
        linear(ctx, node, a, weight, False, out)
        return
    product(ctx, node, a, b, out)


def product(ctx: Context, node: NodeProto, a: str, b: str, out: str) -> None:
    """A matrix product with an activation operand (a static one is a parameter), as NumPy's matmul."""
    shape = ctx.shape_of(node, out)
    rank = len(shape)
    dims = {name: ctx.dims(node, name) for name in (a, b)}
    axes: set[int] = set()
    mixed = False
    for name, first in ((a, True), (b, False)):
        value = ctx.values.get(name)
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
        ctx.lost(node, "it multiplies over the batch axis")
    elif axes:
        batch = axes.pop()
    sources = []
    for name in (a, b):
        shape_of = dims[name]
        if batch is None:
            if name in ctx.values:
                name = ctx.unbatched(node, name, "it multiplies over the batch axis")
            target = shape_of
        elif batch < rank - 2 and len(shape_of) >= 2:
            full = aligned(shape_of, rank)
            target = full[:batch] + full[batch + 1 :]
        elif name in ctx.values:
            target = stored_shape(shape_of, "plain", ctx.values[name].batch)
        else:
            target = shape_of
        sources.append(ctx.conform(node, name, target or (1,), "plain"))
    ctx.produce(node, out, "matmul", {}, sources, batch, "plain")


def gemm(ctx: Context, node: NodeProto) -> None:
    names = [*node.input, ""]
    a_name, b_name, c_name = names[0], names[1], names[2]
    attrs = ctx.attrs(node)
    trans_a, trans_b = bool(attrs.get("transA", 0)), bool(attrs.get("transB", 0))
    beta = float(attrs.get("beta", 1.0))
    out = node.output[0]
    for flag, name, label in ((trans_a, a_name, "A"), (trans_b, b_name, "B")):
        if flag and name in ctx.values:  # an explicit transpose of a 2-D activation
            value = ctx.values[ctx.unbatched(node, name, f"trans{label} moves the batch axis")]
            flipped = value.shape[::-1]
            entry = ctx.emit(
                node, "transpose", {"perm": [1, 0]}, [value.entry], flipped, suffix=f"trans{label}"
            )
            ctx.values[f"{name}#T"] = Value(flipped, "plain", None, entry)
    if trans_a:
        if a_name not in ctx.values:
            ctx.static[f"{a_name}#T"] = Static(
                (ctx.static[a_name].shape or ())[::-1], None, ctx.static[a_name].sources
            )
        a_name = f"{a_name}#T"
    extra = c_name if c_name and beta != 0 else ""
    if a_name in ctx.values and ctx.is_static(b_name):
        weight = ctx.weight(node, b_name)
        assert weight is not None
        if trans_b:
            weight = weight[::-1]
        bias = False
        if extra and ctx.is_static(extra):
            c = ctx.static[extra]
            if (
                c.shape is not None
                and prod(c.shape) == weight[1]
                and (not c.shape or c.shape[-1] == weight[1])
            ):
                bias, extra = True, ""
                ctx.counted |= c.sources
        linear(ctx, node, a_name, weight, bias, out)
    else:
        if trans_b:
            if b_name not in ctx.values:
                ctx.static[f"{b_name}#T"] = Static(
                    (ctx.static[b_name].shape or ())[::-1], None, ctx.static[b_name].sources
                )
            b_name = f"{b_name}#T"
        product(ctx, node, a_name, b_name, out)
    if extra:
        sources, batch, layout = ctx.broadcast_inputs(node, [out, extra], out)
        ctx.produce(node, out, "add", {}, sources, batch, layout, suffix="C")


register(
    Op("MatMul", matmul, arity=(2, 2, "two operands"), any_operand=True),
    Op("Gemm", gemm, arity=(2, 3, "two matrices (and an optional C)"), any_operand=True),
)
