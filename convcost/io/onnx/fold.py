"""Constant folding: a node's outputs worked out from known inputs, by its entry's ``fold``.

Only the shape arithmetic exporters write is folded, and nothing past :data:`MAX_STATIC` elements.
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

from .read import MAX_STATIC
from .registry import Attrs, lookup
from .tensor import Tensor, broadcast_dims

if TYPE_CHECKING:
    from onnx import NodeProto


def broadcast_size(inputs: list[Tensor | None]) -> int:
    """The elements of an element-wise result: its inputs broadcast together."""
    return prod(broadcast_dims(*(i.dims for i in inputs if i is not None)))


def gathered_size(inputs: list[Tensor | None]) -> int:
    """Of an op of several inputs (a Concat, a Max): its inputs and their broadcast, an upper bound."""
    shapes = [i.dims for i in inputs if i is not None]
    return sum(prod(shape) for shape in shapes) + prod(broadcast_dims(*shapes))


def static_eval(node: NodeProto, inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    """The outputs of a node on known inputs, or None where its entry does not fold it."""
    op = lookup(node.op_type)
    if op is None or op.fold is None:
        return None
    if not op.fold_first:
        if not inputs or inputs[0] is None:
            return None
        try:
            size = (op.fold_size or broadcast_size)(inputs)
        except Exception:  # shapes that do not broadcast, values that are not numbers: the fold says what
            size = sum(i.size for i in inputs if i is not None)
        if size > MAX_STATIC:
            return None
    return op.fold(inputs, attrs)
