"""Shape ops: what moves, cuts, joins or resizes a tensor, and the constants and shape arithmetic
exporters write (folded; they cost nothing).

Resize, Upsample, DepthToSpace and SpaceToDepth read an N×C×… tensor; Reshape recognizes ShuffleNet's
channel shuffle (reshape → transpose → reshape) as one ``shuffle`` entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from math import prod
from types import ModuleType
from typing import TYPE_CHECKING

from ....core.errors import ConvCostError
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
from ..read import MAX_STATIC, attributes, inputs_of, label, to_array, weight
from ..registry import Array, Attrs, Op, lookup, register
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
        constant = ctx.data(names[2]) if names[2] else 0
        axes = ctx.ints(names[3]) if names[3] else None
    else:
        pads, constant, axes = list(a.get("pads", [])), a.get("value", 0.0), None
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
    zero = constant is None or not ctx.np.any(ctx.np.asarray(constant))
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


def _constant(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array] | None:
    for key in ("value", "sparse_value"):
        if key in attrs:
            if key == "value" and weight(attrs[key]):
                return None  # a weight written as a constant: never read
            return [to_array(attrs[key])]
    for key in ("value_float", "value_int"):
        if key in attrs:
            return [np.array(attrs[key])]
    for key in ("value_floats", "value_ints"):
        if key in attrs:
            return [np.array(list(attrs[key]))]
    return None


def _constant_of_shape(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array]:
    fill = to_array(attrs["value"]) if "value" in attrs else np.zeros(1, dtype=np.float32)
    return [np.full([int(v) for v in inputs[0]], fill.reshape(-1)[0], dtype=fill.dtype)]


def _constant_of_shape_size(np: ModuleType, inputs: list[Array]) -> int:
    return prod(int(v) for v in np.asarray(inputs[0]).reshape(-1))


def _unsqueeze(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array]:
    x = inputs[0]
    axes = attrs.get("axes") or [int(v) for v in inputs[1]]
    result = x
    for axis in sorted(int(a) % (np.ndim(x) + len(axes)) for a in axes):
        result = np.expand_dims(result, axis)
    return [result]


def _squeeze(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array]:
    axes = attrs.get("axes") or (
        [int(v) for v in inputs[1]] if len(inputs) > 1 and inputs[1] is not None else None
    )
    return [np.squeeze(inputs[0], axis=tuple(axes) if axes else None)]


def _gather(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array]:
    return [np.take(inputs[0], inputs[1], axis=attrs.get("axis", 0))]


def _gather_size(np: ModuleType, inputs: list[Array]) -> int:
    return int(prod(np.shape(inputs[0])) * prod(np.shape(inputs[1])))


def _gather_elements(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array]:
    """ONNX's indices may be smaller than the data off the axis (numpy's take_along_axis broadcasts)."""
    indices = np.asarray(inputs[1])
    where = list(np.indices(indices.shape, sparse=True))
    where[int(attrs.get("axis", 0)) % indices.ndim] = indices
    return [np.asarray(inputs[0])[tuple(where)]]


def _gather_nd(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array] | None:
    if attrs.get("batch_dims", 0):
        return None  # positions per batch entry: left to the handler
    indices = np.asarray(inputs[1])
    return [np.asarray(inputs[0])[tuple(np.moveaxis(indices, -1, 0))]]


def _concat(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array] | None:
    if any(i is None for i in inputs):
        return None
    return [np.concatenate(inputs, axis=attrs.get("axis", 0))]


def _slice(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array]:
    x, starts, ends = inputs[0], inputs[1], inputs[2]
    axes = inputs[3] if len(inputs) > 3 and inputs[3] is not None else range(len(starts))
    steps = inputs[4] if len(inputs) > 4 and inputs[4] is not None else [1] * len(starts)
    index = [slice(None)] * np.ndim(x)
    for s, e, a, st in zip(starts, ends, axes, steps, strict=False):
        index[int(a)] = slice(int(s), int(e), int(st))
    return [x[tuple(index)]]


def _reshape(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array]:
    x = inputs[0]
    target = [int(v) for v in inputs[1]]
    target = [x.shape[i] if v == 0 and not attrs.get("allowzero", 0) else v for i, v in enumerate(target)]
    return [np.reshape(x, target)]


def _range(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array]:
    return [np.arange(inputs[0], inputs[1], inputs[2])]


def _range_size(np: ModuleType, inputs: list[Array]) -> int:
    start, limit, delta = (float(np.asarray(v).reshape(-1)[0]) for v in inputs[:3])
    return max(-int(-(limit - start) // delta), 0) if delta else MAX_STATIC + 1


def _expand(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array]:
    x = inputs[0]
    return [x * np.ones([int(v) for v in inputs[1]], dtype=x.dtype)]


def _expand_size(np: ModuleType, inputs: list[Array]) -> int:
    target = tuple(int(v) for v in np.asarray(inputs[1]).reshape(-1))
    return int(prod(np.broadcast_shapes(np.shape(inputs[0]), target)))


def _transpose(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array]:
    return [np.transpose(inputs[0], attrs.get("perm"))]


def _shape(dims: list[int], attrs: Attrs) -> list[int]:
    return dims[attrs.get("start", 0) : attrs.get("end", len(dims))]


def _size(dims: list[int], attrs: Attrs) -> int:
    return prod(dims)


TRANSPOSE = Op("Transpose", transpose, fold=_transpose, moves=True)
RESHAPE = Op("Reshape", partial(reshape, shuffle=True), fold=_reshape, moves=True)

register(
    Op("Concat", concat, arity=(1, None, "at least one input"), transparent=True, any_operand=True,
       fold=_concat, fold_size=gathered_size, moves=True),
    Op("Split", split, transparent=True, moves=True),
    Op("Slice", slice_, transparent=True, fold=_slice, moves=True),
    Op("Pad", pad, transparent=True, moves=True),
    Op("Gather", gather, fold=_gather, fold_size=_gather_size, moves=True, table=True),
    Op("GatherElements", gather_elements, fold=_gather_elements, fold_size=_gather_size, moves=True,
       table=True),
    Op("GatherND", gather_nd, fold=_gather_nd, fold_size=_gather_size, moves=True, table=True),
    RESHAPE,
    Op("Flatten", reshape, moves=True),
    Op("Squeeze", reshape, fold=_squeeze, moves=True),
    Op("Unsqueeze", reshape, fold=_unsqueeze, moves=True),
    TRANSPOSE,
    Op("Expand", expand, fold=_expand, fold_size=_expand_size, moves=True),
    Op("Resize", resize, spatial=True),
    Op("Upsample", resize, spatial=True),
    Op("DepthToSpace", depth_to_space, check=_block_attributes, spatial=True, shape=_depth_to_space_shape,
       moves=True),
    Op("SpaceToDepth", partial(depth_to_space, inverse=True), check=_block_attributes, spatial=True,
       shape=_space_to_depth_shape, moves=True),
    # constants and shape arithmetic: values, never costed
    Op("Constant", schema=False, fold=_constant, fold_first=True, moves=True),
    Op("ConstantOfShape", fold=_constant_of_shape, fold_size=_constant_of_shape_size, moves=True),
    Op("Range", fold=_range, fold_size=_range_size, moves=True),
    Op("Shape", of_shape=_shape),
    Op("Size", of_shape=_size),
)  # fmt: skip
