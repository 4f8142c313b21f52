"""Pooling and reductions: windows (Max/Average), global pools, and Reduce* over axes."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING

from ....core.errors import ConvCostError
from .. import rules
from ..layout import axis_map, lead, pads_text, per_dim
from ..read import attr_names, label
from ..registry import Op, register
from .conv import padding
from .opaque import opaque

if TYPE_CHECKING:
    from onnx import NodeProto

    from ..context import Context, Fields
    from ..layout import Layout


def pool(ctx: Context, node: NodeProto, mode: str, whole: bool = False) -> None:
    """A ``pool`` entry: ``mode`` max or avg, over a window or (``whole``) every spatial dim."""
    entry, value = ctx.in_layout(node, node.input[0], "nchw")
    out = node.output[0]
    first = lead(value)
    fields: Fields
    if whole:
        fields = {"mode": mode, "global": True}
        if first:  # every spatial dim but the leading one
            fields = {"mode": mode, "kernel": per_dim([1, *value.shape[2:]]), "stride": 1}
        ctx.produce(node, out, "pool", fields, [entry], value.batch, "nchw")
        return
    a = ctx.attrs(node)
    kernel = list(a["kernel_shape"])
    n = len(kernel)
    if n != len(value.shape) - 2:
        raise ctx.fail(
            node,
            f"has a {n}-D kernel_shape {kernel} for a {len(value.shape)}-D input; "
            f"it needs {len(value.shape) - 2} dims",
        )
    strides = list(a.get("strides", [1] * n))
    dilations = list(a.get("dilations", [1] * n))
    out_shape = ctx.shape_of(node, out)
    pads = padding(ctx, node, a, value.shape[2:], out_shape[2:], kernel, strides, dilations)
    kernel, strides, dilations = [1] * first + kernel, [1] * first + strides, [1] * first + dilations
    pads = [(0, 0)] * first + pads
    fields = {"mode": mode, "kernel": per_dim(kernel), "stride": per_dim(strides)}
    if any(p != (0, 0) for p in pads):
        fields["padding"] = pads_text(pads)
    if any(d != 1 for d in dilations):
        fields["dilation"] = per_dim(dilations)
    if a.get("ceil_mode", 0):
        fields["ceil"] = True
    ctx.produce(node, out, "pool", fields, [entry], value.batch, "nchw")


def _kernel_given(node: NodeProto, weights: Mapping[str, tuple[int, ...]]) -> None:
    if "kernel_shape" not in attr_names(node):
        raise ConvCostError(label(node), "has no kernel_shape; a pool needs its window size")


def reduce(ctx: Context, node: NodeProto, mode: str) -> None:
    """A ``reduce`` entry (``mode``: mean, sum, max…) over the axes given (attribute or input)."""
    value = ctx.values[node.input[0]]
    rank = len(value.shape)
    a = ctx.attrs(node)
    axes = a.get("axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = ctx.ints(node.input[1])
        if axes is None:
            opaque(ctx, node, "computed axes")
            return
    if not axes:
        if a.get("noop_with_empty_axes", 0):
            ctx.alias(node.output[0], node.input[0])
            return
        axes = list(range(rank))
    axes = sorted({int(x) % rank for x in axes})
    keep = bool(a.get("keepdims", 1))
    if value.batch is not None and value.batch in axes:
        value = ctx.values[ctx.unbatched(node, node.input[0], "it reduces over the batch axis")]
    mapping = axis_map(rank, value.layout, value.batch)
    stored_axes = sorted(m for m in (mapping[x] for x in axes) if m is not None)
    fields: Fields = {"mode": mode, "axes": stored_axes}
    batch = value.batch
    layout: Layout = value.layout
    if not keep:
        fields["keepdims"] = False
        layout = "plain"
        if batch is not None:
            batch -= sum(1 for x in axes if x < batch)
    if mode == "mean":
        del fields["mode"]
    ctx.produce(node, node.output[0], "reduce", fields, [value.entry], batch, layout)


register(
    Op(
        "MaxPool",
        partial(pool, mode="max"),
        check=_kernel_given,
        spatial=True,
        windowed=True,
        shape=rules.pool,
    ),
    Op(
        "AveragePool",
        partial(pool, mode="avg"),
        check=_kernel_given,
        spatial=True,
        windowed=True,
        shape=rules.pool,
    ),
    Op("LpPool", check=_kernel_given, spatial=True, windowed=True, shape=rules.pool),
    Op("GlobalMaxPool", partial(pool, mode="max", whole=True), spatial=True, shape=rules.global_pool),
    Op("GlobalAveragePool", partial(pool, mode="avg", whole=True), spatial=True, shape=rules.global_pool),
    Op("GlobalLpPool", spatial=True, shape=rules.global_pool),
    Op("ReduceMean", partial(reduce, mode="mean"), transparent=True, shape=rules.reduce),
    Op("ReduceSum", partial(reduce, mode="sum"), transparent=True, shape=rules.reduce),
    Op("ReduceMax", partial(reduce, mode="max"), transparent=True, shape=rules.reduce),
    Op("ReduceMin", partial(reduce, mode="min"), transparent=True, shape=rules.reduce),
    Op("ReduceProd", partial(reduce, mode="prod"), transparent=True, shape=rules.reduce),
    Op("ReduceL1", partial(reduce, mode="l1"), transparent=True, shape=rules.reduce),
    Op("ReduceL2", partial(reduce, mode="l2"), transparent=True, shape=rules.reduce),
    Op("ReduceLogSumExp", partial(reduce, mode="logsumexp"), transparent=True, shape=rules.reduce),
    Op("ReduceSumSquare", partial(reduce, mode="sumsquare"), transparent=True, shape=rules.reduce),
)
