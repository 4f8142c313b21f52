"""Shape ops: what moves, cuts, joins or resizes a tensor, and the constants and shape arithmetic
exporters write (folded; they cost nothing).

Resize, Upsample, DepthToSpace and SpaceToDepth read an N×C×… tensor; Reshape recognizes ShuffleNet's
channel shuffle (reshape → transpose → reshape) as one ``shuffle`` entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from math import prod
from typing import TYPE_CHECKING

from ....core.errors import ConvCostError
from .. import rules, tensor
from ..fold import gathered_size
from ..layout import (
    Shape,
    Value,
    axis_map,
    can_nchw,
    decode,
    dims_field,
    lead,
    pads_text,
    per_dim,
    stored_shape,
    text,
)
from ..read import MAX_STATIC, attributes, inputs_of, label, weight
from ..registry import Attrs, Op, lookup, register
from ..rules import range_count, reshaped_dims, slice_range, squeezed, unsqueezed
from ..tensor import Tensor
from .opaque import opaque

if TYPE_CHECKING:
    from onnx import NodeProto

    from ..context import Context, Fields


def concat(ctx: Context, node: NodeProto) -> None:
    names = inputs_of(node)
    out = node.output[0]
    shape = ctx.shape_of(node, out)
    rank = len(shape)
    axis = int(ctx.attrs(node)["axis"]) % rank
    if len(names) == 1:
        ctx.alias(out, names[0])
        return
    batch = ctx.merge_batch(node, names, rank)
    if batch == axis:
        ctx.lost(node, "it concatenates along the batch axis")
        batch = None
    names, layout = ctx.joined(node, names, shape, batch, "it concatenates along the batch axis")
    sources = []
    for name in names:
        full = tuple(ctx.dims(node, name))
        if batch is not None and full[batch] == 1 and ctx.n is not None and ctx.n > 1:
            full = full[:batch] + (ctx.n,) + full[batch + 1 :]
        sources.append(ctx.conform(node, name, stored_shape(full, layout, batch), layout))
    mapped = axis_map(rank, layout, batch)[axis]
    assert mapped is not None
    stored_rank = len(stored_shape(shape, layout, batch))
    fields: Fields = {} if mapped == stored_rank - 1 else {"axis": mapped}
    ctx.produce(node, out, "concat", fields, sources, batch, layout)


def split(ctx: Context, node: NodeProto) -> None:
    a = ctx.attrs(node)
    axis = int(a.get("axis", 0))
    value, mapped = ctx.axis(node, node.input[0], axis, "it splits the batch axis")
    axis %= len(value.shape)
    outs = list(node.output)
    sizes = [ctx.shape_of(node, o)[axis] if o else 0 for o in outs]
    if not all(o for o in outs):  # an output nobody reads: its size is the rest
        rest = value.shape[axis] - sum(sizes)
        sizes = [s if o else rest for s, o in zip(sizes, outs, strict=True)]
    for index, out in enumerate(outs):
        if not out:
            continue
        fields: Fields = {}
        if len(set(sizes)) == 1:
            if len(sizes) != 2:
                fields["parts"] = len(sizes)
        else:
            fields["sizes"] = text(sizes)
        if index:
            fields["index"] = index
        if mapped != len(value.stored) - 1:
            fields["axis"] = mapped
        ctx.produce(node, out, "split", fields, [value.entry], value.batch, value.layout, suffix=str(index))


def slice_(ctx: Context, node: NodeProto) -> None:
    value = ctx.values[node.input[0]]
    out = node.output[0]
    out_shape = ctx.shape_of(node, out)
    rank = len(value.shape)
    a = ctx.attrs(node)
    if ctx.opset >= 10:
        names = [*node.input, "", "", "", "", ""]
        starts, ends = ctx.ints(names[1]), ctx.ints(names[2])
        axes = ctx.ints(names[3]) if names[3] else None
        steps = ctx.ints(names[4]) if names[4] else None
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
            value = ctx.values[ctx.unbatched(node, node.input[0], "it slices the batch axis")]
            entry = value.entry
        mapped = axis_map(rank, value.layout, value.batch)[axis]
        if mapped is None:
            raise ctx.fail(node, f"slices axis {axis}, the batch axis of an N×C×… tensor")
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
        fields: Fields = {"start": start, "stop": stop}
        if step != 1:
            fields["step"] = step
        stored = stored_shape(value.shape, value.layout, value.batch)
        if mapped != len(stored) - 1:
            fields["axis"] = mapped
        shape = value.shape[:axis] + (size,) + value.shape[axis + 1 :]
        expected = stored_shape(shape, value.layout, value.batch)
        entry = ctx.emit(
            node, "slice", fields, [entry], expected, suffix=f"axis{axis}" if len(axes) > 1 else ""
        )
        value = Value(shape, value.layout, value.batch, entry)
    if value.shape != out_shape:  # pragma: no cover - every changed axis is sliced above
        raise ctx.fail(node, f"convcost slices it to {text(value.shape)}, the model to {text(out_shape)}")
    ctx.values[out] = value


def gather(ctx: Context, node: NodeProto) -> None:
    data, indices = node.input[0], node.input[1]
    if ctx.is_static(data) and indices in ctx.values:
        embedding(ctx, node)
        return
    if indices in ctx.values:  # positions the model computes: rows picked, whichever they are
        axis = int(ctx.attrs(node).get("axis", 0)) % len(ctx.dims(node, data))
        picked(ctx, node, axis, 1, ctx.dims(node, indices))
        return
    if data not in ctx.values:
        opaque(ctx, node, "embedding lookup")
        return
    value = ctx.values[data]
    index_shape = ctx.static[indices].shape
    axis = int(ctx.attrs(node).get("axis", 0)) % len(value.shape)
    if index_shape is None:
        opaque(ctx, node, "indices of unknown shape")
        return
    value, mapped = ctx.axis(node, data, axis, "it gathers along the batch axis")
    fields: Fields = {}
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
        found = ctx.ints(indices)
        if found:
            fields["index"] = found[0] % value.shape[axis]
        layout = "plain"
        if batch is not None and axis < batch:
            batch -= 1
    out_shape = ctx.shape_of(node, node.output[0])
    if layout == "nchw" and not can_nchw(out_shape, batch):  # pragma: no cover - same rank
        layout = "plain"
    ctx.produce(node, node.output[0], "gather", fields, [value.entry], batch, layout)


def embedding(ctx: Context, node: NodeProto) -> None:
    """Rows of a table (BERT's token embeddings) at positions the model computes: a ``gather`` of as
    many rows as each sample has positions, from the table, which is learned params."""
    table, indices = node.input[0], node.input[1]
    shape = ctx.dims(node, table)
    positions = ctx.values[indices]
    axis = int(ctx.attrs(node).get("axis", 0)) % len(shape)
    source = ctx.conform(node, table, shape, "plain")
    fields: Fields = {"count": prod(positions.stored)}  # one sample's (the batch is dropped)
    if axis != len(shape) - 1:
        fields["axis"] = axis
    batch = axis + positions.batch if positions.batch is not None else None
    ctx.produce(node, node.output[0], "gather", fields, [source], batch, "plain")


def picked(ctx: Context, node: NodeProto, axis: int, span: int, positions: Shape) -> None:
    """Elements picked at positions that are not one list along one axis (GatherND, GatherElements,
    a Gather of computed indices): data movement, no work. The data is viewed as lead × the ``span``
    dims from ``axis`` × the rest, and ``prod(positions)`` positions of the middle dim are gathered;
    a reshape then gives the model's shape (the same elements)."""
    data = node.input[0]
    shape = ctx.dims(node, data)
    if data in ctx.values:
        data = ctx.unbatched(node, data, "it picks elements across the batch axis")
        entry, _ = ctx.in_layout(node, data, "plain")
    else:  # a table (learned params, counted once) read at positions the model computes
        entry = ctx.conform(node, data, shape or (1,), "plain")
    count = prod(positions)
    if not count:
        opaque(ctx, node, "no positions")
        return
    view = (prod(shape[:axis]), prod(shape[axis : axis + span]), prod(shape[axis + span :]))
    if ctx.stored[entry] != view:
        entry = ctx.emit(node, "reshape", {"shape": dims_field(view)}, [entry], view, suffix="view")
    ctx.produce(node, node.output[0], "gather", {"axis": 1, "count": count}, [entry], None, "plain")


def gather_nd(ctx: Context, node: NodeProto) -> None:
    """``indices[..., :k]`` pick slices after the ``batch_dims`` leading dims."""
    batch_dims = int(ctx.attrs(node).get("batch_dims", 0))
    indices = ctx.dims(node, node.input[1])
    if not indices:
        raise ctx.fail(node, "its indices are a scalar; GatherND needs at least one dim of them")
    picked(ctx, node, batch_dims, indices[-1], indices[batch_dims:-1])


def gather_elements(ctx: Context, node: NodeProto) -> None:
    """One element per index: the output has the indices' shape."""
    picked(ctx, node, 0, len(ctx.dims(node, node.input[0])), ctx.dims(node, node.input[1]))


def reshaped_batch(ctx: Context, node: NodeProto, value: Value, out: Shape) -> int | None:
    """Where the batch axis is after a reshape: the output axis with the same elements before it."""
    if value.batch is None:
        if ctx.n == 1 and out and out[0] == 1 and (not value.shape or value.shape[0] != 1):
            return 0  # a batch of one comes back as the leading 1
        return None
    before = prod(value.shape[: value.batch])
    running = 1
    for axis, size in enumerate(out):
        if running == before and size == value.shape[value.batch]:
            return axis
        running *= size
    ctx.lost(node, "it reshapes the batch axis together with others")
    return None


def reshape(ctx: Context, node: NodeProto, shuffle: bool = False) -> None:
    """A reshape (Flatten, Squeeze, Unsqueeze too); with ``shuffle``, a channel shuffle is one entry."""
    name = node.input[0]
    value = ctx.values[name]
    out = node.output[0]
    shape = ctx.shape_of(node, out)
    if shuffle and channel_shuffle(ctx, node, value, shape):
        return
    batch = reshaped_batch(ctx, node, value, shape)
    if batch is None and value.batch is not None:
        value = ctx.values[ctx.unbatched(node, name, "it reshapes the batch axis together with others")]
    layout = ctx.layout_for(out, shape, batch)
    stored = stored_shape(shape, layout, batch)
    if stored == value.stored and (layout == value.layout or shape == value.shape):
        ctx.values[out] = Value(shape, layout, batch, value.entry)
        return
    entry = ctx.emit(node, "reshape", {"shape": dims_field(stored)}, [value.entry], stored)
    ctx.set_value(node, out, shape, layout, batch, entry)


def channel_shuffle(ctx: Context, node: NodeProto, value: Value, shape: Shape) -> bool:
    """ShuffleNet's reshape to N×g×C/g×H×W → transpose(0, 2, 1, 3, 4) → reshape back: one ``shuffle``."""
    if value.layout != "nchw" or value.batch != 0 or len(value.shape) != 4 or len(shape) != 5:
        return False
    if shape[0] != value.shape[0] or shape[1] * shape[2] != value.shape[1] or shape[3:] != value.shape[2:]:
        return False
    readers = ctx.consumers.get(node.output[0], [])
    if len(readers) != 1 or readers[0].op_type != TRANSPOSE.name or node.output[0] in ctx.outputs:
        return False
    transpose_ = readers[0]
    if list(ctx.attrs(transpose_).get("perm", [])) != [0, 2, 1, 3, 4]:
        return False
    readers = ctx.consumers.get(transpose_.output[0], [])
    if len(readers) != 1 or readers[0].op_type != RESHAPE.name or transpose_.output[0] in ctx.outputs:
        return False
    back = readers[0]
    if ctx.shapes.get(back.output[0]) != value.shape or back.input[0] != transpose_.output[0]:
        return False
    entry = ctx.emit(node, "shuffle", {"groups": shape[1]}, [value.entry], value.stored, suffix="shuffle")
    ctx.set_value(node, back.output[0], value.shape, "nchw", 0, entry)
    ctx.absorbed[id(transpose_)] = ctx.absorbed[id(back)] = ""
    return True


def transpose(ctx: Context, node: NodeProto) -> None:
    name = node.input[0]
    value = ctx.values[name]
    rank = len(value.shape)
    perm = [int(p) for p in ctx.attrs(node).get("perm", list(range(rank))[::-1])]
    if sorted(perm) != list(range(rank)):  # ONNX's checker misses it when the shapes are inferred late
        raise ctx.fail(node, f"has perm {perm}, not an order of its input's {rank} axes")
    out = node.output[0]
    shape = ctx.shape_of(node, out)
    batch = perm.index(value.batch) if value.batch is not None else None
    to_nchw = rank >= 4 and perm == [0, rank - 1, *range(1, rank - 1)]  # N×H×W×C → N×C×H×W
    layout = ctx.layout_for(out, shape, batch, "nchw" if to_nchw else None)
    stored = stored_shape(shape, layout, batch)
    source_axes = axis_map(rank, value.layout, value.batch)
    target_axes = axis_map(rank, layout, batch)
    order: list[int | None] = [None] * len(stored)
    for axis in range(rank):
        target = target_axes[axis]
        if target is not None:
            order[target] = source_axes[perm[axis]]
    if any(o is None for o in order) or len(order) != len(value.stored):
        entry = ctx.emit(node, "reshape", {"shape": dims_field(stored)}, [value.entry], stored)
    elif order == list(range(len(order))):
        ctx.values[out] = Value(shape, layout, batch, value.entry)
        return
    else:
        entry = ctx.emit(node, "transpose", {"perm": order}, [value.entry], stored)
    ctx.set_value(node, out, shape, layout, batch, entry)


def expand(ctx: Context, node: NodeProto) -> None:
    out = node.output[0]
    shape = ctx.shape_of(node, out)
    sources, batch, layout = ctx.broadcast_inputs(node, [node.input[0]], out)
    stored = stored_shape(shape, layout, batch)
    if ctx.stored[sources[0]] == stored:
        ctx.values[out] = Value(shape, layout, batch, sources[0])
        return
    ctx.produce(node, out, "expand", {"shape": dims_field(stored)}, sources, batch, layout)


def pad(ctx: Context, node: NodeProto) -> None:
    name = node.input[0]
    value = ctx.values[name]
    rank = len(value.shape)
    a = ctx.attrs(node)
    mode = decode(a.get("mode", "constant"))
    names = [*node.input, "", "", ""]
    if ctx.opset >= 11:
        pads = ctx.ints(names[1]) if names[1] else None
        fill = ctx.data(names[2]) if names[2] else None
        zero = fill is None or not any(fill.values)
        axes = ctx.ints(names[3]) if names[3] else None
    else:
        pads, zero, axes = list(a.get("pads", [])), not a.get("value", 0.0), None
    out = node.output[0]
    out_shape = ctx.shape_of(node, out)
    axes = [x % rank for x in axes] if axes is not None else list(range(rank))
    pairs = [(0, 0)] * rank
    if pads is not None and len(pads) == 2 * len(axes):
        for i, axis in enumerate(axes):
            pairs[axis] = (pads[i], pads[i + len(axes)])
    else:  # unknown amounts: all of it after (the same count)
        pairs = [(0, o - i) for i, o in zip(value.shape, out_shape, strict=True)]
    if any(lo < 0 or hi < 0 for lo, hi in pairs):
        opaque(ctx, node, "negative pads")
        return
    consumers = ctx.consumers.get(out, [])
    reader = lookup(consumers[0].op_type) if len(consumers) == 1 else None
    if (
        mode == "constant"
        and zero
        and pairs[0] == (0, 0)
        and pairs[1] == (0, 0)
        and reader is not None
        and reader.absorbs_pad
        and list(consumers[0].input).count(out) == 1  # its data only, not its bias too
        and consumers[0].input[0] == out
        and out not in ctx.outputs
        and can_nchw(value.shape, value.batch)
        and decode(ctx.attrs(consumers[0]).get("auto_pad", "NOTSET")) == "NOTSET"
    ):
        ctx.folded[out] = (name, pairs[2:])
        return
    if value.batch is not None and pairs[value.batch] != (0, 0):
        value = ctx.values[ctx.unbatched(node, name, "it pads the batch axis")]
    stored_pairs: list[tuple[int, int]] = [(0, 0)] * len(value.stored)
    for axis, target in enumerate(axis_map(rank, value.layout, value.batch)):
        if target is not None:
            stored_pairs[target] = pairs[axis]
    fields: Fields = {"pads": pads_text(stored_pairs)}
    if mode != "constant":
        fields["mode"] = mode
    ctx.produce(node, out, "pad", fields, [value.entry], value.batch, value.layout)


def resize(ctx: Context, node: NodeProto) -> None:
    entry, value = ctx.in_layout(node, node.input[0], "nchw")
    out = node.output[0]
    shape = ctx.shape_of(node, out)
    if shape[:2] != value.shape[:2]:
        opaque(ctx, node, "resizing batch or channels")
        return
    mode = decode(ctx.attrs(node).get("mode", "nearest"))
    mode = "linear" if mode == "bilinear" else mode
    spatial_in, spatial_out = value.shape[2:], shape[2:]
    scales = [o // i for i, o in zip(spatial_in, spatial_out, strict=True)]
    exact = all(s * i == o for s, i, o in zip(scales, spatial_in, spatial_out, strict=True))
    first = lead(value)
    fields: Fields
    if exact and (mode == "nearest" or (mode == "linear" and len(scales) == 2)):
        fields = {"scale": per_dim([1] * first + scales)}
        if mode == "linear":
            fields["mode"] = "bilinear"
        ctx.produce(node, out, "upsample", fields, [entry], value.batch, "nchw")
        return
    fields = {"size": dims_field(shape[:first] + spatial_out)}
    if mode != "nearest":
        fields["mode"] = mode
    ctx.produce(node, out, "resize", fields, [entry], value.batch, "nchw")


def depth_to_space(ctx: Context, node: NodeProto, inverse: bool = False) -> None:
    """DepthToSpace (a pixel shuffle), or with ``inverse`` SpaceToDepth: data moved, no work.

    On the channels-last tensor it is a reshape that splits the channels (DCR: blocks outermost;
    CRD: channels outermost) or the rows and columns, a transpose that interleaves the blocks with
    them, and a reshape that joins them: exactly the op's data movement, entry for entry.
    """
    a = ctx.attrs(node)
    rule = _space_to_depth_shape if inverse else _depth_to_space_shape
    try:  # the channels or the map divide by the block before anything is reshaped
        rule([ctx.dims(node, node.input[0])], a)
    except ValueError as exc:
        raise ctx.fail(node, str(exc)) from None
    entry, value = ctx.in_layout(node, node.input[0], "nchw")
    size = int(a["blocksize"])
    first = lead(value)
    outer, (rows, cols, channels) = value.stored[:first], value.stored[first:]
    f = first
    if inverse:  # [rows/b, b, cols/b, b, C] → [rows/b, cols/b, b, b, C]
        split = (*outer, rows // size, size, cols // size, size, channels)
        order = [*range(f), f, f + 2, f + 1, f + 3, f + 4]
    elif decode(a.get("mode", "DCR")) == "CRD":  # channels as [C/b², b, b]
        split = (*outer, rows, cols, channels // size**2, size, size)
        order = [*range(f), f, f + 3, f + 1, f + 4, f + 2]
    else:  # DCR: channels as [b, b, C/b²]
        split = (*outer, rows, cols, size, size, channels // size**2)
        order = [*range(f), f, f + 2, f + 1, f + 3, f + 4]
    entry = ctx.emit(node, "reshape", {"shape": dims_field(split)}, [entry], split, suffix="blocks")
    moved = tuple(split[i] for i in order)
    entry = ctx.emit(node, "transpose", {"perm": order}, [entry], moved, suffix="moved")
    out = node.output[0]
    joined = ctx.shape_of(node, out)
    shape = stored_shape(joined, "nchw", value.batch)
    ctx.produce(node, out, "reshape", {"shape": dims_field(shape)}, [entry], value.batch, "nchw")


_MODES = ("DCR", "CRD")


def _block_attributes(node: NodeProto, weights: Mapping[str, tuple[int, ...]]) -> None:
    """A blocksize of at least 1 and (DepthToSpace) a mode ONNX defines, DCR or CRD (case and all)."""
    a = attributes(node)
    size = a.get("blocksize")
    if isinstance(size, int) and size < 1:
        raise ConvCostError(label(node), f"has blocksize {size}; it must be at least 1")
    mode = a.get("mode", b"DCR") if node.op_type == "DepthToSpace" else b"DCR"
    if isinstance(mode, bytes) and decode(mode) not in _MODES:
        raise ConvCostError(label(node), f"has mode {decode(mode)!r}; expected {' or '.join(_MODES)}")


def _four_dims(dims: Shape) -> tuple[int, int, int, int]:
    if len(dims) != 4:
        raise ValueError(f"its input is {len(dims)}-D ({text(dims)}); it needs 4 dims (N×C×H×W)")
    n, c, h, w = dims
    return n, c, h, w


def _depth_to_space_shape(dims: list[Shape], attrs: Attrs) -> list[Shape]:
    """[N, C, H, W] → [N, C/b², H·b, W·b]."""
    (n, c, h, w), size = _four_dims(dims[0]), int(attrs["blocksize"])
    if c % (size * size):
        raise ValueError(f"its {c} channels are not divisible by blocksize² ({size * size})")
    return [(n, c // (size * size), h * size, w * size)]


def _space_to_depth_shape(dims: list[Shape], attrs: Attrs) -> list[Shape]:
    """[N, C, H, W] → [N, C·b², H/b, W/b]."""
    (n, c, h, w), size = _four_dims(dims[0]), int(attrs["blocksize"])
    if h % size or w % size:
        raise ValueError(f"its {h}x{w} map is not divisible by blocksize {size}")
    return [(n, c * size * size, h // size, w // size)]


# ---------------------------------------------------------------------------- folds


#: The attributes a Constant holds its value in: exactly one of them (the ONNX spec).
_CONSTANT_VALUES = ("value", "sparse_value", "value_float", "value_floats", "value_int", "value_ints",
                    "value_string", "value_strings")  # fmt: skip


def _one_constant_value(node: NodeProto, weights: Mapping[str, tuple[int, ...]]) -> None:
    found = [a.name for a in node.attribute if a.name in _CONSTANT_VALUES]
    if len(found) != 1:
        raise ConvCostError(
            label(node),
            f"needs exactly one of {', '.join(_CONSTANT_VALUES)}, but has {', '.join(found) or 'none'}",
        )


def _constant(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    if "value" in attrs:
        if weight(attrs["value"]):
            return None  # a weight written as a constant: never read
        return [tensor.decode(attrs["value"])]
    if "value_float" in attrs:
        return [tensor.make(tensor.FLOAT, (), [float(attrs["value_float"])])]
    if "value_int" in attrs:
        return [tensor.of_ints([int(attrs["value_int"])], ())]
    if "value_floats" in attrs:
        floats = [float(v) for v in attrs["value_floats"]]
        return [tensor.make(tensor.FLOAT, (len(floats),), floats)]
    if "value_ints" in attrs:
        return [tensor.of_ints([int(v) for v in attrs["value_ints"]])]
    return None  # a sparse tensor, strings: not worked out here


def _constant_of_shape(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    shape = inputs[0]
    if shape is None:
        return None
    fill = tensor.decode(attrs["value"]) if "value" in attrs else tensor.make(tensor.FLOAT, (1,), [0.0])
    dims = shape.ints()
    if any(d < 0 for d in dims):
        raise tensor.NotFolded(f"dims {dims} below 0")
    return [tensor.Tensor(fill.dtype, tuple(dims), (tensor.first(fill),) * prod(dims))]


def _constant_of_shape_size(inputs: list[Tensor | None]) -> int:
    return prod(inputs[0].ints()) if inputs[0] is not None else 0


def _axes(inputs: list[Tensor | None], attrs: Attrs) -> list[int] | None:
    """Squeeze's and Unsqueeze's axes: the attribute (opset < 13) or the second input."""
    if "axes" in attrs:
        return [int(a) for a in attrs["axes"]]
    if len(inputs) > 1 and inputs[1] is not None:
        return inputs[1].ints()
    return None


def _unsqueeze(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    x, axes = inputs[0], _axes(inputs, attrs)
    if x is None or axes is None:
        return None
    return [x.reshaped(unsqueezed(x.dims, axes))]


def _squeeze(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    x = inputs[0]
    if x is None:
        return None
    return [x.reshaped(squeezed(x.dims, _axes(inputs, attrs)))]


def _gather(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    """numpy's ``take`` along ``axis``: the indices' dims in place of the axis."""
    data, indices = inputs[0], inputs[1] if len(inputs) > 1 else None
    if data is None or indices is None:
        return None
    axis = int(attrs.get("axis", 0))
    if not -data.rank <= axis < data.rank:
        raise tensor.NotFolded(f"axis {axis} of a {data.rank}-D tensor")
    axis %= data.rank
    values = tensor.taken(data, axis, indices.ints())
    dims = (*data.dims[:axis], *indices.dims, *data.dims[axis + 1 :])
    return [tensor.Tensor(data.dtype, dims, values)]


def _gather_size(inputs: list[Tensor | None]) -> int:
    data, indices = inputs[0], inputs[1] if len(inputs) > 1 else None
    return (data.size if data is not None else 0) * (indices.size if indices is not None else 1)


def _gather_elements(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    """One element per index: the data at the index's position, the axis' coordinate replaced."""
    data, indices = inputs[0], inputs[1] if len(inputs) > 1 else None
    if data is None or indices is None or data.rank != indices.rank or not data.rank:
        return None
    axis = int(attrs.get("axis", 0)) % indices.rank
    own, steps = data.dims, tensor.strides(data.dims)
    values = []
    for flat, index in enumerate(indices.ints()):
        at, rest = 0, flat
        for position in range(indices.rank - 1, -1, -1):
            rest, coordinate = divmod(rest, indices.dims[position])
            if position == axis:
                coordinate = index
            if not -own[position] <= coordinate < own[position]:
                raise tensor.NotFolded(f"index {coordinate} is out of range for a dim of {own[position]}")
            at += (coordinate % own[position]) * steps[position]
        values.append(data.values[at])
    return [tensor.Tensor(data.dtype, indices.dims, tuple(values))]


def _gather_nd(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    data, indices = inputs[0], inputs[1] if len(inputs) > 1 else None
    if data is None or indices is None or attrs.get("batch_dims", 0):
        return None  # positions per batch entry: left to the handler
    if not indices.rank or indices.dims[-1] > data.rank:
        raise tensor.NotFolded("indices that do not fit the data")
    depth = indices.dims[-1]
    inner = prod(data.dims[depth:])
    steps = tensor.strides(data.dims)
    points = indices.ints()
    values: list[tensor.Number] = []
    for start in range(0, len(points), depth) if depth else range(prod(indices.dims[:-1])):
        at = 0
        for axis, coordinate in enumerate(points[start : start + depth]):
            size = data.dims[axis]
            if not -size <= coordinate < size:
                raise tensor.NotFolded(f"index {coordinate} is out of range for a dim of {size}")
            at += (coordinate % size) * steps[axis]
        values.extend(data.values[at : at + inner])
    dims = (*indices.dims[:-1], *data.dims[depth:])
    return [tensor.Tensor(data.dtype, dims, tuple(values))]


def _concat(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    if any(i is None for i in inputs):
        return None
    return [tensor.concatenated([i for i in inputs if i is not None], int(attrs.get("axis", 0)))]


def _slice(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    """Slice (opset 10 on: bounds as inputs), with Python's slicing of each axis."""
    if len(inputs) < 3 or any(i is None for i in inputs[:3]):
        return None
    x, starts, ends = (i for i in inputs[:3] if i is not None)
    first, last = starts.ints(), ends.ints()
    given = [*inputs, None, None]
    axes = given[3].ints() if given[3] is not None else list(range(len(first)))
    steps = given[4].ints() if given[4] is not None else [1] * len(first)
    bounds: dict[int, range] = {}
    for start, stop, axis, step in zip(first, last, axes, steps, strict=False):
        if not -x.rank <= axis < x.rank or not step:
            raise tensor.NotFolded(f"axis {axis} of a {x.rank}-D tensor, or a step of 0")
        bounds[axis % x.rank] = slice_range(x.dims[axis % x.rank], start, stop, step)
    return [tensor.sliced(x, bounds)]


def _reshape(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    x, target = inputs[0], inputs[1] if len(inputs) > 1 else None
    if x is None or target is None:
        return None
    return [x.reshaped(reshaped_dims(x.dims, target.ints(), bool(attrs.get("allowzero", 0))))]


def _range(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    if len(inputs) < 3 or any(i is None for i in inputs[:3]):
        return None
    start, limit, delta = (tensor.first(i) for i in inputs[:3] if i is not None)
    dtype = inputs[0].dtype if inputs[0] is not None else tensor.INT64
    count = range_count(start, limit, delta)
    return [tensor.make(dtype, (count,), (start + i * delta for i in range(count)))]


def _range_size(inputs: list[Tensor | None]) -> int:
    if any(i is None for i in inputs[:3]):
        return 0
    start, limit, delta = (float(tensor.first(i)) for i in inputs[:3] if i is not None)
    return max(-int(-(limit - start) // delta), 0) if delta else MAX_STATIC + 1


def _expand(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    x, shape = inputs[0], inputs[1] if len(inputs) > 1 else None
    if x is None or shape is None:
        return None
    dims = tensor.broadcast_dims(x.dims, shape.ints())
    return [tensor.Tensor(x.dtype, dims, tensor.expanded(x, dims))]


def _expand_size(inputs: list[Tensor | None]) -> int:
    x, shape = inputs[0], inputs[1] if len(inputs) > 1 else None
    if x is None or shape is None:
        return 0
    return prod(tensor.broadcast_dims(x.dims, shape.ints()))


def _transpose(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    x = inputs[0]
    if x is None:
        return None
    perm = attrs.get("perm")
    return [tensor.transposed(x, [int(p) for p in perm] if perm is not None else list(range(x.rank))[::-1])]


def _shape(dims: list[int], attrs: Attrs) -> list[int]:
    return dims[attrs.get("start", 0) : attrs.get("end", len(dims))]


def _size(dims: list[int], attrs: Attrs) -> int:
    return prod(dims)


TRANSPOSE = Op("Transpose", transpose, shape=rules.transpose, fold=_transpose, moves=True)
RESHAPE = Op("Reshape", partial(reshape, shuffle=True), shape=rules.reshape, fold=_reshape, moves=True)

register(
    Op("Concat", concat, arity=(1, None, "at least one input"), transparent=True, any_operand=True,
       shape=rules.concat, fold=_concat, fold_size=gathered_size, moves=True),
    Op("Split", split, transparent=True, shape=rules.split, moves=True),
    Op("Slice", slice_, transparent=True, shape=rules.slice_, fold=_slice, moves=True),
    Op("Pad", pad, transparent=True, shape=rules.pad, moves=True),
    Op("Gather", gather, shape=rules.gather, fold=_gather, fold_size=_gather_size, moves=True, table=True),
    Op("GatherElements", gather_elements, shape=rules.gather_elements, fold=_gather_elements,
       fold_size=_gather_size, moves=True, table=True),
    Op("GatherND", gather_nd, shape=rules.gather_nd, fold=_gather_nd, fold_size=_gather_size, moves=True,
       table=True),
    RESHAPE,
    Op("Flatten", reshape, shape=rules.flatten, moves=True),
    Op("Squeeze", reshape, shape=rules.squeeze, fold=_squeeze, moves=True),
    Op("Unsqueeze", reshape, shape=rules.unsqueeze, fold=_unsqueeze, moves=True),
    TRANSPOSE,
    Op("Expand", expand, shape=rules.expand, fold=_expand, fold_size=_expand_size, moves=True),
    Op("Resize", resize, spatial=True, shape=rules.resize),
    Op("Upsample", resize, spatial=True, shape=rules.upsample),
    Op("DepthToSpace", depth_to_space, check=_block_attributes, spatial=True,
       shape=rules.of_dims(_depth_to_space_shape), moves=True),
    Op("SpaceToDepth", partial(depth_to_space, inverse=True), check=_block_attributes, spatial=True,
       shape=rules.of_dims(_space_to_depth_shape), moves=True),
    # constants and shape arithmetic: values, never costed
    Op("Constant", arity=(0, 0, "no inputs"), check=_one_constant_value, schema=False, shape=rules.constant,
       fold=_constant, fold_first=True, moves=True),
    Op("ConstantOfShape", shape=rules.constant_of_shape, fold=_constant_of_shape,
       fold_size=_constant_of_shape_size, moves=True),
    Op("Range", shape=rules.range_, fold=_range, fold_size=_range_size, moves=True),
    Op("Shape", shape=rules.shape, of_shape=_shape),
    Op("Size", shape=rules.scalar, of_shape=_size),
)  # fmt: skip
