"""What several families share: spec fields, readers of an entry's values, and broadcasting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ...core import values
from ...core.conv import Counts
from ...core.errors import ConvCostError, bad_value
from .registry import BreakdownPart, Costed, Field, Shape

IN = Field("shape", "Input shape (e.g. 56x56x64): a fresh input for this layer, as a what-if.")
PADDING = Field("padding", "An int, per dim (1x2), before:after pairs (0:1x0:1), same or valid.", default=0)
DILATION = Field("dims", "Dilation: an int or one per spatial dim.", default=1)
AXIS = Field(
    "axis", "Axis of the channels-last shape: 0 is the first spatial dim, -1 the channels.", default=-1
)
MERGE_INPUTS = Field("names", "The layers to merge, by name (two or more).", required=True)
SHAPE = Field("dims", "The output shape (channels-last, without the batch).", required=True)
LEARNED = Field(
    "bool",
    "Its weights are its own params (false: another row's, a tied or shared weight read again: the "
    "same work, no params of its own).",
    default=True,
)


def needs_spatial(shape: Shape, kind: str) -> None:
    if len(shape) < 2:
        raise ConvCostError(
            "in",
            f"a {kind} layer needs spatial dims, but its input is {values.format_dims(shape)} "
            "(features only, after a linear layer)",
        )


def boolean(f: Mapping[str, object], key: str, default: bool) -> bool:
    value = f.get(key, default)
    if not isinstance(value, bool):
        raise bad_value(key, value, "expected true or false")
    return value


def own_params(f: Mapping[str, object], costed: Costed) -> Costed:
    """``costed``, less its params where they are another row's (``learned: false``): a weight that
    two rows read is counted once, at the first, while each row does its work."""
    if boolean(f, "learned", True):
        return costed
    parts = tuple(part._replace(counts=part.counts._replace(params=0)) for part in costed.parts)
    return costed._replace(counts=costed.counts._replace(params=0), parts=parts)


def axis_of(f: Mapping[str, object], shape: Shape) -> int:
    """The entry's axis as a non-negative index into ``shape`` (channels-last)."""
    value = f.get("axis", -1)
    if isinstance(value, bool) or not isinstance(value, int) or not -len(shape) <= value < len(shape):
        raise bad_value(
            "axis",
            value,
            f"expected an axis of the {len(shape)}-dim input, from {-len(shape)} to {len(shape) - 1}",
        )
    return value % len(shape)


def count(f: Mapping[str, object], key: str) -> int:
    return values.positive_int(f.get(key), key)


def dims0(f: Mapping[str, object], key: str, default: Sequence[int] = ()) -> tuple[int, ...]:
    value = f.get(key)
    if value is None:
        return tuple(default)
    return values.dims(value, key, "expected non-negative integers, e.g. [0, 2, 1]", minimum=0)


def other_costed(shape: Shape, ops: int, params: int = 0) -> Costed:
    """A layer of no MACs: ``ops`` other ops and ``params`` params, in the breakdown's other row."""
    counts = Counts(0, params, 0, 0, ops)
    return Costed(shape, counts, (BreakdownPart("other", counts),) if ops or params else (), None, ())


class MergeMismatch(ConvCostError):
    """Two inputs of a merge that do not fit: the graph names them from the indices."""

    def __init__(self, first: int, other: int, need: str) -> None:
        super().__init__("inputs", need)
        self.first, self.other, self.need = first, other, need


def broadcast(shapes: tuple[Shape, ...], how: str) -> Shape:
    """NumPy's rule on channels-last shapes: dims aligned from the right, each equal or 1."""
    rank = max(len(s) for s in shapes)
    result = [1] * rank
    owner = [0] * rank  # which input set each dim, to name it in an error
    for index, shape in enumerate(shapes):
        for axis, size in enumerate(shape, start=rank - len(shape)):
            if size == 1 or size == result[axis]:
                continue
            if result[axis] != 1:
                raise MergeMismatch(owner[axis], index, f"they must match, or be 1 to broadcast, to be {how}")
            result[axis], owner[axis] = size, index
    return tuple(result)
