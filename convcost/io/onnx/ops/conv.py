"""Convolutions: Conv and ConvTranspose (a Pad of zeros before a Conv folds into its padding)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

from ....core.errors import ConvCostError
from .. import rules
from ..layout import Shape, Value, decode, lead, pads_text, per_dim, text
from ..read import label
from ..registry import Attrs, Op, register
from .opaque import opaque

if TYPE_CHECKING:
    from onnx import NodeProto

    from ..context import Context, Fields


def padding(
    ctx: Context,
    node: NodeProto,
    attrs: Attrs,
    in_spatial: Shape,
    out_spatial: Shape,
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
) -> list[tuple[int, int]]:
    """A window's padding per spatial dim: as given, or what ``auto_pad`` makes of the output's size."""
    n = len(kernel)
    auto = decode(attrs.get("auto_pad", "NOTSET"))
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
        raise ctx.fail(node, f"has {len(pads)} pads for {n} spatial dims; it needs {2 * n}")
    return [(pads[i], pads[i + n]) for i in range(n)]


def conv_input(
    ctx: Context, node: NodeProto, name: str, weight_rank: int
) -> tuple[str, Value, list[tuple[int, int]] | None]:
    """The conv's data input in NCHW layout, and the padding of a Pad folded into it."""
    folded = None
    if name in ctx.folded:
        name, folded = ctx.folded[name]
    if name not in ctx.values:
        raise ctx.fail(node, f"its input {name!r} is a constant; convcost costs convolutions of activations")
    value = ctx.values[name]
    if len(value.shape) != weight_rank:
        raise ctx.fail(
            node,
            f"its input is {len(value.shape)}-D ({text(value.shape)}) but its weight is "
            f"{weight_rank}-D; they must have the same rank (N×C×spatial and C_out×C_in×kernel)",
        )
    entry, value = ctx.in_layout(node, name, "nchw")
    return entry, value, folded


def weight_and_bias(ctx: Context, node: NodeProto, names: list[str]) -> tuple[Shape | None, bool, bool]:
    """The weight's dims (None: computed), whether it was counted before (read again: the row's
    ``learned`` is false), and whether a static bias goes in the row. It does, but for a bias of its
    own beside a weight read again: that one is an add after the conv, its params counted. A bias
    read before beside a weight of its own stays in the row and counts again: exporters merge equal
    tensors, and the equal (zero) shifts of freshly folded batch norms are each conv's own."""
    again = ctx.read_again(names[1])
    weight = ctx.weight(node, names[1])
    bias = weight is not None and len(names) > 2 and bool(names[2]) and ctx.is_static(names[2])
    if bias and again and not ctx.read_again(names[2]):
        bias = False
    if bias:
        ctx.counted |= ctx.static[names[2]].sources
    return weight, again, bias


def add_bias(ctx: Context, node: NodeProto, out: str, name: str, channels: int) -> None:
    """A bias that is not the conv's own field, added to its output ``out``: ONNX's bias is one value
    a channel (M), which broadcasts over the stored N×…×C output as 1×…×C, not as numpy would (a bias
    of another shape, which onnx's inference lets through, is added as numpy broadcasts it)."""
    if ctx.dims(node, name) != (channels,):
        sources, batch, layout = ctx.broadcast_inputs(node, [out, name], out)
        ctx.produce(node, out, "add", {}, sources, batch, layout, suffix="bias")
        return
    value = ctx.values[out]
    source = ctx.conform(node, name, (1,) * (len(value.stored) - 1) + (channels,), "nchw")
    ctx.produce(node, out, "add", {}, [value.entry, source], value.batch, "nchw", suffix="bias")


def conv(ctx: Context, node: NodeProto) -> None:
    names = list(node.input)
    weight, again, bias = weight_and_bias(ctx, node, names)
    if weight is None:
        opaque(ctx, node, "computed weight")
        return
    entry, value, folded = conv_input(ctx, node, names[0], len(weight))
    a = ctx.attrs(node)
    groups = int(a.get("group", 1))
    channels = value.shape[1]
    if weight[1] * groups != channels:
        raise ctx.fail(
            node,
            f"its weight {text(weight)} takes {weight[1]} channels per group × {groups} group(s) = "
            f"{weight[1] * groups}, but its input has {channels}",
        )
    if weight[0] % groups:
        raise ctx.fail(node, f"its {weight[0]} output channels are not divisible by its {groups} groups")
    n = len(weight) - 2
    kernel = list(a.get("kernel_shape", weight[2:]))
    if tuple(kernel) != weight[2:]:
        raise ctx.fail(node, f"has kernel_shape {kernel} but its weight's kernel is {list(weight[2:])}")
    strides = list(a.get("strides", [1] * n))
    dilations = list(a.get("dilations", [1] * n))
    out = node.output[0]
    out_shape = ctx.shape_of(node, out)
    pads = padding(ctx, node, a, value.shape[2:], out_shape[2:], kernel, strides, dilations)
    if folded is not None:
        pads = [(lo + flo, hi + fhi) for (lo, hi), (flo, fhi) in zip(pads, folded, strict=True)]
    first = lead(value)  # a first dim that is not the batch: a spatial dim of kernel 1
    kernel, strides, dilations = [1] * first + kernel, [1] * first + strides, [1] * first + dilations
    pads = [(0, 0)] * first + pads
    fields: Fields = {"out": weight[0], "kernel": per_dim(kernel)}
    if any(s != 1 for s in strides):
        fields["stride"] = per_dim(strides)
    _window_fields(fields, pads, dilations, groups, bias, again)
    ctx.produce(node, out, "conv", fields, [entry], value.batch, "nchw")
    if len(names) > 2 and names[2] and not bias:  # computed, or not counted before when the weight was
        add_bias(ctx, node, out, names[2], weight[0])


def conv_transpose(ctx: Context, node: NodeProto) -> None:
    names = list(node.input)
    weight, again, bias = weight_and_bias(ctx, node, names)
    if weight is None:
        opaque(ctx, node, "computed weight")
        return
    entry, value, folded = conv_input(ctx, node, names[0], len(weight))
    if folded is not None:  # pragma: no cover - pads are folded into Conv only
        raise ctx.fail(node, "internal: a pad folded into a transposed conv")
    a = ctx.attrs(node)
    groups = int(a.get("group", 1))
    if weight[0] != value.shape[1]:
        raise ctx.fail(
            node, f"its weight {text(weight)} takes {weight[0]} channels but its input has {value.shape[1]}"
        )
    n = len(weight) - 2
    kernel = list(a.get("kernel_shape", weight[2:]))
    strides = list(a.get("strides", [1] * n))
    dilations = list(a.get("dilations", [1] * n))
    output_padding = list(a.get("output_padding", [0] * n))
    out = node.output[0]
    out_shape = ctx.shape_of(node, out)
    if len(out_shape) != len(value.shape):  # onnx's inference gives up on some output_shapes so
        raise ctx.fail(
            node,
            f"has output_shape {list(a.get('output_shape', []))}, of which onnx's shape inference makes a "
            f"{len(out_shape)}-D output ({text(out_shape)}) from a {len(value.shape)}-D input "
            f"({text(value.shape)}); convcost cannot cost that",
        )
    auto = decode(a.get("auto_pad", "NOTSET"))
    extra: list[tuple[int, int]] = []  # positions beyond the natural output, before and after
    if "output_shape" in a or auto != "NOTSET":
        # Padding chosen to give the stated output (the ONNX spec's, as its reference computes it):
        # total = s·(in−1) + op + d·(k−1) + 1 − out, split by auto_pad. Below zero (an output_shape past
        # the natural size) the output is extended: the transposed conv pads no less than 0, and its
        # output gets the rest as zeros, which no tap reaches.
        pairs = []
        for size, o, k, s, d, op in zip(
            value.shape[2:], out_shape[2:], kernel, strides, dilations, output_padding, strict=True
        ):
            total = s * (size - 1) + op + d * (k - 1) + 1 - o
            start = total // 2 if auto == "SAME_UPPER" else total - total // 2
            pairs.append((start, total - start))
        extra = [(max(-lo, 0), max(-hi, 0)) for lo, hi in pairs]
        pairs = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
    else:
        pads = list(a.get("pads", [0] * (2 * n)))
        pairs = [(pads[i], pads[i + n]) for i in range(n)]
    first = lead(value)
    kernel, strides, dilations = [1] * first + kernel, [1] * first + strides, [1] * first + dilations
    pairs, output_padding = [(0, 0)] * first + pairs, [0] * first + output_padding
    fields: Fields = {
        "out": weight[1] * groups,
        "kernel": per_dim(kernel),
        "stride": per_dim(strides),
    }
    _window_fields(fields, pairs, dilations, groups, bias, again)
    if any(op for op in output_padding):
        fields["output_padding"] = per_dim(output_padding)
    if any(extra):
        entry = ctx.emit(node, "transposed", fields, [entry], None)
        stored_pairs = [(0, 0)] * first + extra + [(0, 0)]  # channels-last: spatial dims, then C
        ctx.produce(
            node, out, "pad", {"pads": pads_text(stored_pairs)}, [entry], value.batch, "nchw", "extended"
        )
    else:
        ctx.produce(node, out, "transposed", fields, [entry], value.batch, "nchw")
    if len(names) > 2 and names[2] and not bias:
        add_bias(ctx, node, out, names[2], weight[1] * groups)


def _window_fields(
    fields: Fields,
    pads: Sequence[tuple[int, int]],
    dilations: Sequence[int],
    groups: int,
    bias: bool,
    again: bool,
) -> None:
    """A conv's (or transposed conv's) fields that are written only off their defaults, in the
    order a spec lists them; ``again``: its weight was counted at an earlier read."""
    if any(p != (0, 0) for p in pads):
        fields["padding"] = pads_text(pads)
    if any(d != 1 for d in dilations):
        fields["dilation"] = per_dim(dilations)
    if groups != 1:
        fields["groups"] = groups
    if bias:
        fields["bias"] = True
    if again:
        fields["learned"] = False


def _weight_rank(node: NodeProto, weights: Mapping[str, tuple[int, ...]]) -> None:
    """A conv weight is (C_out, C_in/groups, kernel…): 3-D or more."""
    given = [name for name in node.input if name]
    if given[1] in weights:
        rank = len(weights[given[1]])
        if rank < 3:
            raise ConvCostError(
                label(node),
                f"has a {rank}-D weight {list(weights[given[1]])}; a conv weight is "
                "(C_out, C_in/groups, kernel…), 3-D or more",
            )


def _transpose_checks(node: NodeProto, weights: Mapping[str, tuple[int, ...]]) -> None:
    """A conv weight's rank, and an ``output_shape`` of one positive size per spatial dim."""
    _weight_rank(node, weights)
    stated = next((list(a.ints) for a in node.attribute if a.name == "output_shape"), None)
    if stated is None:
        return
    given = [name for name in node.input if name]
    spatial = len(weights[given[1]]) - 2 if given[1] in weights else None
    if spatial is not None and len(stated) != spatial:
        raise ConvCostError(
            label(node),
            f"has output_shape {stated} of {len(stated)} dim(s); its {spatial}-D kernel needs one output "
            f"size per spatial dim ({spatial})",
        )
    if any(size < 1 for size in stated):
        raise ConvCostError(label(node), f"has output_shape {stated}: an output size below 1")


_CONV_ARITY = (2, 3, "an input and a weight (and an optional bias)")

register(
    Op(
        "Conv", conv, arity=_CONV_ARITY, check=_weight_rank, spatial=True, windowed=True,
        any_operand=True, absorbs_pad=True, weighted=True, shape=rules.conv,
    ),
    Op(
        "ConvTranspose", conv_transpose, arity=_CONV_ARITY, check=_transpose_checks, spatial=True,
        windowed=True, any_operand=True, weighted=True, shape=rules.conv_transpose,
    ),
    # not costed (opaque), but onnx's inference works out their windows
    Op("ConvInteger", windowed=True, shape=rules.conv),
    Op("QLinearConv", windowed=True, shape=partial(rules.conv, weight=3)),
)  # fmt: skip
