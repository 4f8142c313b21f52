"""Values and their layout: how an ONNX tensor is stored as one of convcost's shapes.

Every value is tracked as an NCHW-style tensor (stored channels-last, as convcost's shapes are) or a
plain tensor (stored as it is), and by where its batch axis is, so that transposes NCHW → NHWC,
reshapes between tokens and grids and ShuffleNet's 5-D channel shuffle move shapes exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ...core.values import format_dims
from .registry import lookup

if TYPE_CHECKING:
    from onnx import GraphProto, NodeProto

    from .tensor import Tensor

Shape = tuple[int, ...]
Layout = Literal["nchw", "plain"]
#: What shape inference knows of each value: its dims, None where one is unknown.
Shapes = dict[str, tuple[int | None, ...]]


@dataclass
class Value:
    """An activation: its ONNX shape, how convcost stores it, and the entry that makes it."""

    shape: Shape
    layout: Layout
    batch: int | None  # the ONNX axis holding the batch, or None
    entry: str

    @property
    def stored(self) -> Shape:
        return stored_shape(self.shape, self.layout, self.batch)


@dataclass
class Static:
    """A value known without the input's data: a weight, a constant, shape arithmetic."""

    shape: Shape | None
    data: Tensor | None = None  # its value, where it is known (see :mod:`.tensor`)
    sources: frozenset[str] = frozenset()  # learned initializers it is made from
    node: NodeProto | None = None  # the node computing it from other constants (None: it is read)
    costed: bool = False  # that node, or one before it, does work (not only moving data)


def can_nchw(shape: Sequence[int], batch: int | None) -> bool:
    return len(shape) >= 3 and batch in (0, None)


def stored_shape(shape: Shape, layout: Layout, batch: int | None) -> Shape:
    """ONNX dims → convcost's, without the batch axis: an N×C×… tensor channels-last, a plain one as is.

    An N×C×… tensor whose first dim is not the batch (the model mixes the batch elsewhere, and is
    costed whole) keeps it as a leading spatial dim that every window spans with size 1.
    """
    if layout == "nchw":
        return (shape[:1] if batch is None else ()) + shape[2:] + (shape[1],)
    kept = shape[:batch] + shape[batch + 1 :] if batch is not None else shape
    return kept or (1,)


def axis_map(rank: int, layout: Layout, batch: int | None) -> list[int | None]:
    """ONNX axis → convcost axis (None for the batch)."""
    if layout == "nchw":
        if batch is None:
            return [0, rank - 1, *range(1, rank - 1)]
        return [None, rank - 2, *range(rank - 2)]
    return [None if a == batch else a - (batch is not None and a > batch) for a in range(rank)]


def lead(value: Value) -> int:
    """Leading dims an N×C×… tensor keeps before its spatial ones (its first, when not the batch)."""
    return 1 if value.batch is None else 0


def aligned(shape: Sequence[int], rank: int) -> Shape:
    return (1,) * (rank - len(shape)) + tuple(shape)


def text(dims: Sequence[int]) -> str:
    return format_dims(dims)


def dims_text(dims: Sequence[int | None]) -> str:
    return format_dims(["?" if d is None else d for d in dims])


def dims_field(dims: Sequence[int]) -> int | str:
    """Dims as a spec writes them: ``3`` or ``3x5``."""
    return int(dims[0]) if len(dims) == 1 else text(dims)


def per_dim(dims: Sequence[int]) -> int | str:
    """A value per spatial dim as a spec writes it: ``2`` when every dim has it, else ``1x2``."""
    return int(dims[0]) if len(set(dims)) == 1 else text(dims)


def pads_text(pairs: Sequence[tuple[int, int]]) -> int | str:
    """Padding as a spec writes it: ``1``, ``1x2`` (symmetric) or ``0:1x0:1``."""
    if all(lo == hi for lo, hi in pairs):
        return per_dim([lo for lo, _ in pairs])
    return format_dims([f"{lo}:{hi}" for lo, hi in pairs])


def decode(value: object) -> object:
    """A string attribute as text (onnx gives bytes)."""
    return value.decode() if isinstance(value, bytes) else value


def wants_nchw(graph: GraphProto) -> set[str]:
    """Values best stored channels-last: read by a spatial op, directly or through element-wise ops,
    or merged element-wise with a spatial op's output."""
    made: set[str] = set()  # values spatial ops make (and element-wise ops pass on)
    for node in graph.node:
        op = lookup(node.op_type)
        if op is not None and (op.spatial or (op.transparent and made & set(node.input))):
            made.update(node.output)
    wants: set[str] = set()
    for node in reversed(graph.node):
        op = lookup(node.op_type)
        spatial = op is not None and op.spatial
        merged = (
            op is not None
            and op.transparent
            and (any(out in wants for out in node.output) or len(made & set(node.input)) > 0)
        )
        for index, name in enumerate(node.input):
            if name and ((spatial and index == 0) or merged):
                wants.add(name)
    return wants
