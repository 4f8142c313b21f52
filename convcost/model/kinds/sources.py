"""Kinds whose output shape is stated, not worked out: a tensor the model holds, and an op
convcost cannot cost."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import prod

from ...core import values
from ...core.conv import ZERO
from .. import receptive_field as rf_rules
from ..receptive_field import ReceptiveField
from .common import SHAPE, boolean, other_costed
from .registry import Costed, Field, Kind, Shape, register, untracked


def cost_parameter(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """A tensor the model holds (a class token, a position embedding, a layer scale): a source.
    Its elements are params when ``learned``; a constant counts none."""
    shape = values.dims(f.get("shape"), "shape")
    return other_costed(shape, 0, prod(shape) if boolean(f, "learned", True) else 0)


def sees_nothing(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    """A learned tensor depends on no input position: the empty field, which merges pass over."""
    return rf_rules.NOTHING


register(
    Kind(
        "parameter",
        "A tensor the model holds (class token, position embedding, layer scale): a source of its shape.",
        {
            "shape": SHAPE,
            "learned": Field("bool", "Its elements are learned params (false: a constant).", default=True),
        },
        cost_parameter,
        inputs=(0, 0),
        receptive_field=sees_nothing,
    )
)


def cost_opaque(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """An op convcost cannot cost: it passes its stated output ``shape`` on and counts nothing."""
    return Costed(values.dims(f.get("shape"), "shape"), ZERO, (), None, ())


register(
    Kind(
        "opaque",
        "An op convcost cannot cost (from an imported model): passes its stated shape on, counts nothing.",
        {
            "op": Field("str", "The op, as the model names it.", required=True),
            "shape": SHAPE,
        },
        cost_opaque,
        inputs=(1, None),
        receptive_field=untracked,
    )
)
