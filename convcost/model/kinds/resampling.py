"""Resampling the spatial dims: upsampling by an integer scale, resizing to a size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import prod

from ...core import values
from ...core.conv import Counts
from .. import receptive_field as rf_rules
from ..receptive_field import ReceptiveField
from .common import IN, needs_spatial, other_costed
from .registry import BreakdownPart, Costed, Field, Kind, Shape, register, untracked


def cost_upsample(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Nearest or bilinear upsampling by an integer ``scale``: no MACs; 1 or 4 ops per output element."""
    shape = shapes[0]
    needs_spatial(shape, "upsample")
    scale = values.per_dim(f.get("scale", 2), "scale", len(shape) - 1)
    out = tuple(size * s for size, s in zip(shape[:-1], scale, strict=True)) + (shape[-1],)
    per_output = 1 if f.get("mode", "nearest") == "nearest" else 4
    counts = Counts(0, 0, 0, 0, prod(out) * per_output)
    return Costed(out, counts, (BreakdownPart("other", counts),), None, ())


def upsampled(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    rf = fields[0]
    if rf is None:
        return None
    scale = values.per_dim(f.get("scale", 2), "scale", len(rf.size))
    return rf_rules.upsampled(rf, scale, 1 if f.get("mode", "nearest") == "nearest" else 2)


register(
    Kind(
        "upsample",
        "Nearest or bilinear upsampling by an integer scale (no MACs).",
        {
            "in": IN,
            "scale": Field("dims", "Scale: an int or one per spatial dim.", default=2),
            "mode": Field(
                "choice", "nearest or bilinear.", default="nearest", choices=("nearest", "bilinear")
            ),
        },
        cost_upsample,
        receptive_field=upsampled,
    )
)

_RESIZE_OPS = {"nearest": 1, "linear": 2, "cubic": 4}


def cost_resize(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Resizing the spatial dims to ``size``: per output element 1 (nearest), 2ⁿ (n-linear) or 4ⁿ
    (cubic) over the n dims whose size changes."""
    shape = shapes[0]
    needs_spatial(shape, "resize")
    size = values.per_dim(f.get("size"), "size", len(shape) - 1)
    out = size + (shape[-1],)
    resized = sum(1 for before, after in zip(shape, size, strict=False) if before != after)
    return other_costed(out, prod(out) * _RESIZE_OPS[str(f.get("mode", "nearest"))] ** resized)


register(
    Kind(
        "resize",
        "Resizing the spatial dims to a given size (no MACs).",
        {
            "in": IN,
            "size": Field("dims", "The output's spatial size: an int or one per spatial dim.", required=True),
            "mode": Field("choice", "Interpolation.", default="nearest", choices=tuple(_RESIZE_OPS)),
        },
        cost_resize,
        receptive_field=untracked,
    )
)
