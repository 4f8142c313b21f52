"""Normalization: batch norm (folded into the conv at inference), layer, group and instance norm."""

from __future__ import annotations

from collections.abc import Mapping
from math import prod

from ...core.conv import Counts
from ...core.errors import bad_value
from .common import AXIS, IN, axis_of, boolean, count, other_costed
from .registry import BreakdownPart, Costed, Field, Kind, Shape, register, unchanged

_AFFINE = Field("bool", "A learned scale per normalized element (or channel).", default=True)
_SHIFT = Field("bool", "A learned shift too, when affine.", default=True)


def cost_batchnorm(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Batch normalization: 2·C parameters (scale and shift), no MACs (folds into the conv at inference)."""
    shape = shapes[0]
    counts = Counts(0, 2 * shape[-1], 0, 0)
    return Costed(shape, counts, (BreakdownPart("other", counts),), None, ())


register(Kind("batchnorm", "Batch normalization (2·C params; folds into the conv).", {"in": IN},
              cost_batchnorm, receptive_field=unchanged))  # fmt: skip


def _affine(f: Mapping[str, object]) -> tuple[bool, bool]:
    affine = boolean(f, "affine", True)
    return affine, affine and boolean(f, "bias", True)


def cost_layernorm(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Layer norm over the dims from ``axis`` on: a scale and a shift per normalized element."""
    shape = shapes[0]
    normalized = prod(shape[axis_of(f, shape) :])
    scale, shift = _affine(f)
    return other_costed(shape, prod(shape) * (5 if scale else 4), normalized * (scale + shift))


register(
    Kind(
        "layernorm",
        "Layer normalization over the dims from axis on (the last unless given).",
        {"in": IN, "axis": AXIS, "affine": _AFFINE, "bias": _SHIFT},
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
    scale, shift = _affine(f)
    return other_costed(shape, prod(shape) * (5 if scale else 4), channels * (scale + shift))


register(
    Kind(
        "groupnorm",
        "Group normalization: statistics per group of channels, a scale and shift per channel.",
        {
            "in": IN,
            "groups": Field("int", "Channel groups.", required=True),
            "affine": _AFFINE,
            "bias": _SHIFT,
        },
        cost_channel_norm,
        receptive_field=unchanged,
    )
)
register(
    Kind(
        "instancenorm",
        "Instance normalization: statistics per channel, a scale and shift per channel.",
        {"in": IN, "affine": _AFFINE, "bias": _SHIFT},
        cost_channel_norm,
        receptive_field=unchanged,
    )
)
