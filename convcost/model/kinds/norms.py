"""Normalization: batch norm (folded into the conv at inference), layer, group and instance norm."""

from __future__ import annotations

from collections.abc import Mapping
from math import prod

from ...core.conv import Counts
from ...core.errors import bad_value
from .common import AXIS, IN, LEARNED, axis_of, boolean, count, other_costed, own_params
from .registry import BreakdownPart, Costed, Field, Kind, Shape, register, unchanged

#: Whether a layer, group or instance norm learns a scale, and a shift.
_AFFINE = {
    "affine": Field("bool", "A learned scale per normalized element (or channel).", default=True),
    "bias": Field("bool", "A learned shift too, when affine.", default=True),
    "learned": LEARNED,
}


def cost_batchnorm(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Batch normalization: 2·C parameters (scale and shift), no MACs (folds into the conv at inference)."""
    shape = shapes[0]
    counts = Counts(0, 2 * shape[-1], 0, 0)
    return own_params(f, Costed(shape, counts, (BreakdownPart("other", counts),), None, ()))


register(Kind("batchnorm", "Batch normalization (2·C params; folds into the conv).",
              {"in": IN, "learned": LEARNED}, cost_batchnorm, receptive_field=unchanged))  # fmt: skip


def _normalized(f: Mapping[str, object], shape: Shape, learned: int) -> Costed:
    """5 ops per element with a learned scale, 4 without (fvcore's rule); a scale and a shift,
    when learned, for each of ``learned`` elements or channels."""
    scale = boolean(f, "affine", True)
    shift = scale and boolean(f, "bias", True)
    return own_params(f, other_costed(shape, prod(shape) * (5 if scale else 4), learned * (scale + shift)))


def cost_layernorm(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Layer norm over the dims from ``axis`` on: a scale and a shift per normalized element."""
    shape = shapes[0]
    return _normalized(f, shape, prod(shape[axis_of(f, shape) :]))


register(
    Kind(
        "layernorm",
        "Layer normalization over the dims from axis on (the last unless given).",
        {"in": IN, "axis": AXIS, **_AFFINE},
        cost_layernorm,
        receptive_field=unchanged,
    )
)


def cost_channel_norm(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Group or instance norm: statistics per (group of) channels, a scale and a shift per channel."""
    shape = shapes[0]
    channels = shape[-1]
    if "groups" in f and channels % count(f, "groups"):
        raise bad_value("groups", f["groups"], f"must divide the {channels} channels")
    return _normalized(f, shape, channels)


register(
    Kind(
        "groupnorm",
        "Group normalization: statistics per group of channels, a scale and shift per channel.",
        {"in": IN, "groups": Field("int", "Channel groups.", required=True), **_AFFINE},
        cost_channel_norm,
        receptive_field=unchanged,
    )
)
register(
    Kind(
        "instancenorm",
        "Instance normalization: statistics per channel, a scale and shift per channel.",
        {"in": IN, **_AFFINE},
        cost_channel_norm,
        receptive_field=unchanged,
    )
)
