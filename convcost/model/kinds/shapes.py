"""Shape ops: data moved, viewed or copied, never computed on (concat, split, slice, shuffle,
reshape, transpose, expand, gather, pad). They count nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import prod

from ...core import values
from ...core.conv import ZERO, Conv, conv
from ...core.errors import bad_value
from .. import receptive_field as rf_rules
from ..receptive_field import ReceptiveField
from .common import (
    AXIS,
    IN,
    MERGE_INPUTS,
    SHAPE,
    MergeMismatch,
    axis_of,
    broadcast,
    count,
    dims0,
)
from .registry import Costed, Field, Kind, Shape, merged, register, unchanged, untracked


def cost_concat(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Concatenation along ``axis`` (channels unless given): every other dim must match. No work."""
    first = shapes[0]
    axis = axis_of(f, first)
    for index, shape in enumerate(shapes[1:], start=1):
        if len(shape) != len(first) or any(
            a != b for i, (a, b) in enumerate(zip(shape, first, strict=True)) if i != axis
        ):
            need = (
                "concat needs the same spatial size"
                if axis == len(first) - 1
                else (f"concat along axis {axis} needs every other dim the same")
            )
            raise MergeMismatch(0, index, need)
    out = first[:axis] + (sum(s[axis] for s in shapes),) + first[axis + 1 :]
    return Costed(out, ZERO, (), None, ())


register(
    Kind(
        "concat",
        "Concatenation of its inputs along the channels (or axis).",
        {"inputs": MERGE_INPUTS, "axis": AXIS},
        cost_concat,
        inputs=(2, None),
        receptive_field=merged,
    )
)


def sliced(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    """Along the channels a view keeps the field; along a spatial axis it is not tracked."""
    rf = fields[0]
    if rf is None or f.get("axis", -1) in (-1, len(rf.size)):
        return rf
    return None


def _part_bounds(f: Mapping[str, object], size: int) -> tuple[int, int]:
    if "sizes" in f:
        sizes = values.dims(f["sizes"], "sizes")
        if sum(sizes) != size:
            raise bad_value("sizes", f["sizes"], f"the sizes must add up to the axis' {size}")
    else:
        parts = values.positive_int(f.get("parts", 2), "parts")
        if size % parts:
            raise bad_value("parts", f.get("parts", 2), f"must divide the axis' {size}")
        sizes = (size // parts,) * parts
    index = f.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(sizes):
        raise bad_value("index", index, f"expected a part from 0 to {len(sizes) - 1}")
    start = sum(sizes[:index])
    return start, start + sizes[index]


def _sliced(shape: Shape, axis: int, start: int, stop: int) -> Costed:
    return Costed(shape[:axis] + (stop - start,) + shape[axis + 1 :], ZERO, (), None, ())


def cost_split(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """One part of a split (``parts`` equal ones, or ``sizes``) along ``axis``: a view, no work."""
    shape = shapes[0]
    axis = axis_of(f, shape)
    return _sliced(shape, axis, *_part_bounds(f, shape[axis]))


register(
    Kind(
        "split",
        "One part of a split along an axis (channels unless given): parts equal parts, or sizes.",
        {
            "in": IN,
            "parts": Field("int", "Equal parts (default 2).", default=2),
            "sizes": Field("dims", "Part sizes instead of equal parts (e.g. 24x24)."),
            "index": Field("int0", "Which part (from 0).", default=0),
            "axis": AXIS,
        },
        cost_split,
        receptive_field=sliced,
    )
)


def cost_slice(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Positions ``start`` (inclusive) to ``stop`` (exclusive), every ``step``-th, along ``axis``: a view."""
    shape = shapes[0]
    axis = axis_of(f, shape)
    start = f.get("start", 0)
    stop = f.get("stop", shape[axis])
    for key, value in (("start", start), ("stop", stop)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= shape[axis]:
            raise bad_value(key, value, f"expected a position from 0 to {shape[axis]}")
    assert isinstance(start, int) and isinstance(stop, int)
    if stop <= start:
        raise bad_value("stop", stop, f"must be after start ({start})")
    step = values.positive_int(f.get("step", 1), "step")
    return _sliced(shape, axis, 0, -(-(stop - start) // step))


register(
    Kind(
        "slice",
        "Positions start to stop (exclusive) along an axis (channels unless given).",
        {
            "in": IN,
            "start": Field("int0", "First position kept (from 0).", default=0),
            "stop": Field("int", "One past the last position kept (default: the end)."),
            "step": Field("int", "Keep every step-th position (default 1).", default=1),
            "axis": AXIS,
        },
        cost_slice,
        receptive_field=sliced,
    )
)


def cost_shuffle(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """ShuffleNet's channel shuffle: channels regrouped across ``groups``. Moves data, no work."""
    shape = shapes[0]
    groups = values.positive_int(f.get("groups", 2), "groups")
    if shape[-1] % groups:
        raise bad_value("groups", f.get("groups", 2), f"must divide the {shape[-1]} channels")
    return Costed(shape, ZERO, (), None, ())


register(
    Kind(
        "shuffle",
        "ShuffleNet's channel shuffle across groups (moves data, costs nothing).",
        {"in": IN, "groups": Field("int", "Groups to shuffle across.", default=2)},
        cost_shuffle,
        receptive_field=unchanged,
    )
)


def cost_reshape(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """The same elements in a new ``shape``: no work."""
    shape = values.dims(f.get("shape"), "shape")
    if prod(shape) != prod(shapes[0]):
        raise bad_value(
            "shape", f.get("shape"), f"must hold the input's {prod(shapes[0])} elements, not {prod(shape)}"
        )
    return Costed(shape, ZERO, (), None, ())


register(Kind("reshape", "The same elements in a new shape (no work).", {"in": IN, "shape": SHAPE},
              cost_reshape, receptive_field=untracked))  # fmt: skip


def cost_transpose(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """The dims reordered by ``perm`` (output dim i is input dim perm[i]): moves data, no work."""
    shape = shapes[0]
    perm = dims0(f, "perm")
    if sorted(perm) != list(range(len(shape))):
        raise bad_value("perm", f.get("perm"), f"expected an order of 0…{len(shape) - 1}")
    return Costed(tuple(shape[i] for i in perm), ZERO, (), None, ())


register(
    Kind(
        "transpose",
        "The dims reordered (no work).",
        {"in": IN, "perm": Field("dims0", "Output dim i is input dim perm[i].", required=True)},
        cost_transpose,
        receptive_field=untracked,
    )
)


def cost_expand(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """The input broadcast to ``shape`` (dims of size 1 repeated): no work."""
    shape = values.dims(f.get("shape"), "shape")
    try:
        out = broadcast((shapes[0], shape), "expanded")
    except MergeMismatch:
        raise bad_value(
            "shape", f.get("shape"), f"cannot be broadcast from {values.format_dims(shapes[0])}"
        ) from None
    if out != shape:
        raise bad_value("shape", f.get("shape"), f"is not a broadcast of {values.format_dims(shapes[0])}")
    return Costed(shape, ZERO, (), None, ())


register(Kind("expand", "The input broadcast to a larger shape (no work).", {"in": IN, "shape": SHAPE},
              cost_expand, receptive_field=untracked))  # fmt: skip


def cost_gather(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Positions picked along ``axis``: one (``index``, the axis dropped) or ``count`` of them. No work."""
    shape = shapes[0]
    axis = axis_of(f, shape)
    if "count" in f:
        return Costed(shape[:axis] + (count(f, "count"),) + shape[axis + 1 :], ZERO, (), None, ())
    index = f.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < shape[axis]:
        raise bad_value("index", index, f"expected a position from 0 to {shape[axis] - 1}")
    return Costed(shape[:axis] + shape[axis + 1 :] or (1,), ZERO, (), None, ())


register(
    Kind(
        "gather",
        "Positions picked along an axis: one (the axis dropped) or a count of them (no work).",
        {
            "in": IN,
            "axis": AXIS,
            "index": Field("int0", "The position picked (from 0); the axis is dropped.", default=0),
            "count": Field("int", "Pick this many positions instead; the axis is kept."),
        },
        cost_gather,
        receptive_field=untracked,
    )
)


def cost_pad(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Padding before:after on every dim (channels included): a copy, no work."""
    shape = shapes[0]
    request = values.padding(f.get("pads", 0), "pads")
    if isinstance(request, str):
        raise bad_value("pads", f.get("pads"), "expected before:after pairs, one per dim")
    pairs = request * len(shape) if len(request) == 1 else request
    if len(pairs) != len(shape):
        raise bad_value("pads", f.get("pads"), f"expected one pair per dim of the {len(shape)}-dim input")
    out = tuple(n + lo + hi for n, (lo, hi) in zip(shape, pairs, strict=True))
    geometry: tuple[Conv, ...] = ()
    if len(shape) > 1 and pairs[-1] == (0, 0):
        geometry = (conv(shape, shape[-1], 1, groups=shape[-1], padding=pairs[:-1]),)
    return Costed(out, ZERO, (), None, (), geometry)


def padded(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    return (
        rf_rules.through_windows(fields[0], costed.geometry, costed.output_shape) if costed.geometry else None
    )


register(
    Kind(
        "pad",
        "Padding on every dim, channels included (a copy, no work).",
        {
            "in": IN,
            "pads": Field("padding", "before:after per dim of the input (0:1x0:1x0:0).", required=True),
            "mode": Field(
                "choice",
                "What fills the padding.",
                default="constant",
                choices=("constant", "reflect", "edge", "wrap"),
            ),
        },
        cost_pad,
        receptive_field=padded,
    )
)
