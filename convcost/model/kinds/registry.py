"""The registry itself: what an entry holds, what a handler returns, and :func:`register`.

The family modules beside this one each register their kinds; the package puts them in
the order the documentation lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from ...core.conv import Conv, Counts
from .. import receptive_field as rf_rules
from ..receptive_field import ReceptiveField

Shape = tuple[int, ...]

#: Breakdown rows, in the order tables show them (MobileNet's Table 2, then the rest).
BreakdownKind = Literal["conv", "grouped", "depthwise", "pointwise", "linear", "other"]
BREAKDOWN: dict[BreakdownKind, str] = {
    "conv": "conv (regular)",
    "grouped": "grouped conv",
    "depthwise": "depthwise conv",
    "pointwise": "pointwise 1×1 conv",
    "linear": "linear (fully connected)",
    "other": "other (norms, merges, reshapes)",
}


#: How a field's value is read and checked. Each but bool, str, choice and branches names its
#: definition in the spec's JSON Schema (``convcost.io.schema.DEFINITIONS``).
FieldKind = Literal[
    "shape",  # spatial dims then channels, at least two values (56x56x64)
    "int",  # a positive int
    "int0",  # a non-negative int
    "dims",  # an int or one per dim, each positive (3x5)
    "dims0",  # the same, each non-negative
    "padding",  # an int, one per dim, before:after pairs, same or valid
    "axis",  # an axis of the channels-last shape, negative from the end
    "bool",
    "str",
    "choice",  # one of the field's choices
    "names",  # layer names (a merge's inputs)
    "layers",  # a list of spec entries (a block's body)
    "branches",  # a list of such lists
]


class Field(NamedTuple):
    """One key a spec entry may have."""

    kind: FieldKind
    help: str
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()


class BreakdownPart(NamedTuple):
    """A piece of a layer's cost, classified for the breakdown (MobileNet's Table 2)."""

    kind: BreakdownKind
    counts: Counts


class Costed(NamedTuple):
    """What a handler returns."""

    output_shape: Shape
    counts: Counts
    parts: tuple[BreakdownPart, ...]
    reference: Conv | None  # the conv whose variants describe this layer, if conv-like
    convs: tuple[Conv, ...]  # the convolutions actually performed, in order
    geometry: tuple[Conv, ...] = ()  # every sliding window, pools included (for receptive fields)


Handler = Callable[[Mapping[str, object], tuple[Shape, ...]], Costed]
#: (incoming fields, the layer's fields, what its handler returned) → the outgoing field.
FieldRule = Callable[
    [Sequence["ReceptiveField | None"], Mapping[str, object], Costed], "ReceptiveField | None"
]


def through_windows(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    return rf_rules.through_windows(fields[0], costed.geometry, costed.output_shape)


def merged(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    return rf_rules.merge(fields)


def unchanged(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    return fields[0]


def untracked(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    return None


@dataclass(frozen=True, slots=True)
class Kind:
    """One layer kind: a layer (with a handler), a merge (several inputs) or a block."""

    name: str
    help: str
    fields: dict[str, Field]
    handler: Handler | None = None  # None for blocks, which the graph compiler expands
    inputs: tuple[int, int | None] = (1, 1)  # fewest and most inputs
    receptive_field: FieldRule = through_windows
    width: Literal["scale", "follow", None] = None  # --width-mult scales 'out', or drops it to follow C_in
    forms: bool = False  # --as may rewrite it (regular ⇄ separable)
    block: bool = False

    @property
    def merges(self) -> bool:
        return self.inputs[1] is None or self.inputs[1] > 1


#: Every kind, by name, in the order the documentation lists them (see :func:`put_in_order`).
KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    if kind.name in KINDS:
        raise ValueError(f"layer kind {kind.name!r} is registered twice")
    KINDS[kind.name] = kind
    return kind


def put_in_order(order: Sequence[str]) -> None:
    """Reorder :data:`KINDS` in place: the kinds ``order`` names first, in its order, then any
    other in the order it was registered (so adding a kind is still one :func:`register`)."""
    unknown = [name for name in order if name not in KINDS]
    if unknown:
        raise ValueError(f"the kind order names unregistered kinds: {', '.join(unknown)}")
    ordered = {name: KINDS[name] for name in order}
    ordered.update((name, kind) for name, kind in KINDS.items() if name not in ordered)
    KINDS.clear()
    KINDS.update(ordered)


_NAME = Field("str", "Row name; unique among its siblings (nested blocks give dotted paths).")
_INPUTS = Field(
    "names",
    "The layers whose outputs this one takes, by name (dotted for layers inside blocks), or 'input'; "
    "without it, the previous layer's output.",
)

#: Keys every entry may have, besides its kind's own.
COMMON_FIELDS = {
    "name": _NAME,
    "type": Field("str", "The layer or block type.", default="conv"),
    "inputs": _INPUTS,
    "module": Field(
        "str",
        "The PyTorch module path, relative to the block around it (dotted: 0.relu; '' for no level "
        "of its own; in a repeat's, {} is where each copy's number goes: denselayer{}); without it, "
        "the path the row name has in that block.",
    ),
}
