"""Normalizations and softmax: batch, layer, instance and group norms; Softmax and LogSoftmax."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from .. import rules
from ..layout import axis_map
from ..read import inputs_of
from ..registry import Attrs, Given, Op, register
from ..rules import Shape

if TYPE_CHECKING:
    from onnx import NodeProto

    from ..context import Context, Fields
    from ..layout import Layout


def batchnorm(ctx: Context, node: NodeProto) -> None:
    name = node.input[0]
    value = ctx.values[name]
    layout: Layout = "nchw" if len(value.shape) >= 3 else "plain"
    entry, value = ctx.in_layout(node, name, layout) if layout == "nchw" else (value.entry, value)
    fresh = [ctx.learned(extra) for extra in inputs_of(node)[1:]]  # counted now, each once
    fields: Fields = {} if any(fresh) else {"learned": False}  # a norm read again: another row's
    ctx.produce(node, node.output[0], "batchnorm", fields, [entry], value.batch, layout)


def layernorm(ctx: Context, node: NodeProto) -> None:
    name = node.input[0]
    value = ctx.values[name]
    rank = len(value.shape)
    axis = int(ctx.attrs(node).get("axis", -1)) % rank
    if value.batch is not None and value.batch >= axis:
        name = ctx.unbatched(node, name, "it normalizes over the batch axis")
        value = ctx.values[name]
    if value.layout == "nchw" and axis != 1:
        entry, value = ctx.in_layout(node, name, "plain")
    else:
        entry = value.entry
    mapped = [m for m in axis_map(rank, value.layout, value.batch)[axis:] if m is not None]
    stored = value.stored
    start = min(mapped) if mapped else len(stored) - 1
    fields: Fields = {}
    if start != len(stored) - 1:
        fields["axis"] = start - len(stored)
    affine(ctx, node, fields)
    ctx.produce(node, node.output[0], "layernorm", fields, [entry], value.batch, value.layout)


def affine(ctx: Context, node: NodeProto, fields: Fields) -> None:
    """A norm's scale and shift. A learned scale is affine work (fvcore's 5 ops an element, 4 without)
    wherever it is read; its params and the shift's count the first time only: a norm whose scale
    another node read first is ``learned: false`` (one flag for the row: a shift of its own beside a
    scale read again is not counted, a shift read again beside a scale of its own is ``bias: false``)."""
    names = [*node.input, "", ""]
    learned_scale = names[1] in ctx.static and bool(ctx.static[names[1]].sources)
    scale, shift = ctx.learned(names[1]), ctx.learned(names[2])
    if not learned_scale:
        fields["affine"] = False
    elif not scale:
        fields["learned"] = False
    elif not shift:
        fields["bias"] = False


def channel_norm(ctx: Context, node: NodeProto, kind: str) -> None:
    """An instance norm, or (``kind`` groupnorm) a group norm of ``num_groups``."""
    entry, value = ctx.in_layout(node, node.input[0], "nchw")
    fields: Fields = {}
    if kind == "groupnorm":
        fields["groups"] = int(ctx.attrs(node)["num_groups"])
    affine(ctx, node, fields)
    ctx.produce(node, node.output[0], kind, fields, [entry], value.batch, "nchw")


def softmax(ctx: Context, node: NodeProto) -> None:
    rank = len(ctx.values[node.input[0]].shape)
    default = -1 if ctx.opset >= 13 else 1
    axis = int(ctx.attrs(node).get("axis", default))
    if ctx.opset < 13 and axis % rank != rank - 1:
        ctx.notes.append(
            f"{ctx.where(node)}: a softmax over several axes (opset < 13) is counted over its first"
        )
    value, mapped = ctx.axis(node, node.input[0], axis, "it works along the batch axis")
    fields: Fields = {} if mapped == len(value.stored) - 1 else {"axis": mapped}
    ctx.produce(node, node.output[0], "softmax", fields, [value.entry], value.batch, value.layout)


def _softmax_shape(given: Given, attrs: Attrs) -> list[Shape]:
    """Its input's dims, along an axis it has (a scalar has none: onnx refuses it too)."""
    dims = rules.dims_of(given, 0)
    rules.axis_in(int(attrs.get("axis", -1)), len(dims))
    return [dims]


def _batchnorm_shape(given: Given, attrs: Attrs) -> list[Shape]:
    """Y as X; in training mode (opset 14 on) the running mean and variance, one per channel."""
    dims = rules.dims_of(given, 0)
    channels = (dims[1],) if len(dims) > 1 else (1,)
    return [dims, channels, channels]


def _layernorm_shape(given: Given, attrs: Attrs) -> list[Shape]:
    """Y as X; the optional Mean and InvStdDev keep the dims before ``axis`` and 1 from it on."""
    dims = rules.dims_of(given, 0)
    axis = rules.axis_in(int(attrs.get("axis", -1)), len(dims))
    kept = (*dims[:axis], *[1] * (len(dims) - axis))
    return [dims, kept, kept]


register(
    Op(
        "BatchNormalization", batchnorm, arity=(5, 5, "an input, scale, bias, mean and variance"),
        spatial=True, same_shape=True, shape=_batchnorm_shape,
    ),
    Op(
        "LayerNormalization", layernorm, arity=(2, 3, "an input and a scale (and an optional bias)"),
        same_shape=True, shape=_layernorm_shape,
    ),
    Op("InstanceNormalization", partial(channel_norm, kind="instancenorm"), spatial=True, same_shape=True,
       shape=rules.same),
    Op("GroupNormalization", partial(channel_norm, kind="groupnorm"), spatial=True, same_shape=True,
       shape=rules.same),
    Op("LRN", spatial=True, same_shape=True, shape=rules.same),
    Op("MeanVarianceNormalization", same_shape=True, shape=rules.same),
    Op("LpNormalization", same_shape=True, shape=rules.same),
    Op("Softmax", softmax, transparent=True, same_shape=True, shape=_softmax_shape),
    Op("LogSoftmax", softmax, transparent=True, same_shape=True, shape=_softmax_shape),
)  # fmt: skip
