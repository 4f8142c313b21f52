"""Work along axes: softmax (per row) and reductions (mean, sum, max, …)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import prod

from ...core.errors import bad_value
from ..receptive_field import ReceptiveField
from .common import AXIS, IN, axis_of, boolean, dims0, other_costed
from .registry import Costed, Field, Kind, Shape, register, untracked


def cost_softmax(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Softmax along ``axis``: n exps, n − 1 adds and n divides per row of n (thop's count)."""
    shape = shapes[0]
    n = shape[axis_of(f, shape)]
    return other_costed(shape, prod(shape) // n * (3 * n - 1))


def _same_field(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    """Kept when the output has the input's spatial dims, else not tracked."""
    rf = fields[0]
    return rf if rf is not None and len(costed.output_shape) == len(rf.size) + 1 else None


register(Kind("softmax", "Softmax along an axis (the last unless given).", {"in": IN, "axis": AXIS},
              cost_softmax, receptive_field=_same_field))  # fmt: skip

_REDUCE_MODES = ("mean", "sum", "max", "min", "prod", "l1", "l2", "logsumexp", "sumsquare")


def cost_reduce(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """A reduction over ``axes`` (all when absent): one op per input element."""
    shape = shapes[0]
    axes = dims0(f, "axes", range(len(shape)))
    for axis in axes:
        if axis >= len(shape):
            raise bad_value("axes", f.get("axes"), f"expected axes of the {len(shape)}-dim input")
    keep = boolean(f, "keepdims", True)
    out = tuple(1 if i in axes else n for i, n in enumerate(shape) if keep or i not in axes)
    return other_costed(out or (1,), prod(shape))


register(
    Kind(
        "reduce",
        "A reduction (mean unless given) over axes (all unless given).",
        {
            "in": IN,
            "axes": Field("dims0", "The axes reduced (0 is the first dim).", default=None),
            "keepdims": Field("bool", "Keep reduced dims as size 1.", default=True),
            "mode": Field("choice", "The reduction.", default="mean", choices=_REDUCE_MODES),
        },
        cost_reduce,
        receptive_field=untracked,
    )
)
