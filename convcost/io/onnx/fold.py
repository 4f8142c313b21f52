"""Constant folding: a node's outputs worked out from known inputs, by its entry's ``fold``.

Only the shape arithmetic exporters write is folded, and nothing past :data:`MAX_STATIC` elements.
"""

from __future__ import annotations

from math import prod
from types import ModuleType
from typing import TYPE_CHECKING

from .read import MAX_STATIC
from .registry import Array, Attrs, lookup

if TYPE_CHECKING:
    from onnx import NodeProto


def broadcast_size(np: ModuleType, inputs: list[Array]) -> int:
    """The elements of an element-wise result: its inputs broadcast together."""
    return int(prod(np.broadcast_shapes(*(np.shape(i) for i in inputs if i is not None))))


def gathered_size(np: ModuleType, inputs: list[Array]) -> int:
    """Of an op of several inputs (a Concat, a Max): its inputs and their broadcast, an upper bound."""
    shapes = [np.shape(i) for i in inputs if i is not None]
    return int(sum(prod(shape) for shape in shapes) + prod(np.broadcast_shapes(*shapes)))


def static_eval(np: ModuleType, node: NodeProto, inputs: list[Array], attrs: Attrs) -> list[Array] | None:
    """The outputs of a node on known (numpy) inputs, or None where its entry does not fold it."""
    op = lookup(node.op_type)
    if op is None or op.fold is None:
        return None
    if not op.fold_first:
        if not inputs or inputs[0] is None:
            return None
        try:
            size = (op.fold_size or broadcast_size)(np, inputs)
        except Exception:  # shapes that do not broadcast, values that are not numbers: numpy says what
            size = int(sum(prod(np.shape(i)) for i in inputs if i is not None))
        if size > MAX_STATIC:
            return None
    return op.fold(np, inputs, attrs)
