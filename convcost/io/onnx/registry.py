"""The op registry: all convcost knows of one ONNX op, in one :class:`Op` entry.

An entry holds an op's arity, its layout facts, its shape rule, its constant fold and its handler
(the cost, as spec entries); each handler's output is checked against the shapes inferred. The
entries live in the ``ops/`` modules by family, one per op; adding an op is one new entry there.
Modelled on fvcore's handle table, onnx-tool's ``NODE_REGISTRY`` and TVM's op registry.

Besides the entries, this module alone names ops: the facts about onnx itself listed below.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from .tensor import Tensor

if TYPE_CHECKING:
    from onnx import NodeProto

    from .context import Context

# ---------------------------------------------------------------------------- onnx's facts

#: Ops with a data propagator: onnx carries shape vectors through them (Shape → Gather → Concat → …).
PROPAGATING = frozenset({"Add", "Cast", "Concat", "Gather", "Mul", "Slice", "Squeeze", "Sub", "Unsqueeze"})
#: Ops whose outputs onnx's data propagation knows whatever their inputs are.
DATA_SOURCES = frozenset({"Constant", "Shape", "Size"})
#: Ops with graph attributes whose bodies onnx's shape inference enters.
CONTROL_FLOW = frozenset({"If", "Loop", "Scan", "SequenceMap"})
#: The op whose inference aborts the process on a negative dim (see ``inference.guard_slices``).
SLICE = "Slice"
#: The op a tensor written into the graph is (a weight some converters write so; a folded value).
CONSTANT = "Constant"
#: The ops a Slice's guard is made of, in order: Shape, ConstantOfShape, Shape, Expand.
GUARD = ("Shape", "ConstantOfShape", "Shape", "Expand")

# ---------------------------------------------------------------------------- entries

#: A node's attributes by name, as ``read.attributes`` gives them: ints, floats, bytes, lists, tensors.
Attrs = dict[str, Any]

Handler = Callable[["Context", "NodeProto"], None]
#: A constant fold: (the inputs' values or None, the attributes) → the outputs' values (None: not
#: folded). Any exception it raises means "not folded".
Fold = Callable[["list[Tensor | None]", Attrs], "list[Tensor] | None"]
#: How many elements a fold would make of its inputs (an upper bound), checked before it runs.
FoldSize = Callable[["list[Tensor | None]"], int]
#: A check of a node whatever the shapes (given the graph's weights' dims): raises ConvCostError.
Check = Callable[["NodeProto", Mapping[str, tuple[int, ...]]], None]
#: Attributes onnx's inference needs that a node may leave out, worked out of its weights' dims (an
#: LSTM's hidden_size): added to the copy inference runs on, never to the model.
Complete = Callable[["NodeProto", Mapping[str, tuple[int, ...]]], dict[str, Any]]
#: A shape rule of dims alone: (its inputs' dims, its attributes) → its outputs' dims.
ShapeRule = Callable[[list[tuple[int, ...]], Attrs], "list[tuple[int, ...]]"]


class Given(NamedTuple):
    """What an op's shape rule reads of a node: each input's dims and value (None: the input is left
    out, or its value is not known here), and the model's opset."""

    dims: list[tuple[int, ...] | None]
    values: list[Tensor | None]
    opset: int
    outputs: int = 1  # how many outputs the node names (a Split's parts)


#: An op's shape rule, per the ONNX spec: (its inputs, its attributes) → its outputs' dims, in order.
#: Raises ValueError, in words that follow the node's name, for inputs that do not fit, and
#: ``rules.Unknown`` where it needs a value that is not known.
Rule = Callable[[Given, Attrs], "list[tuple[int, ...]]"]
#: The value of an op that reads only its input's shape: (dims, attributes) → an int or a vector.
OfShape = Callable[[list[int], Attrs], "int | list[int]"]


@dataclass(frozen=True)
class Op:
    """What convcost knows of one op (by its ``op_type`` in the standard domain)."""

    name: str
    #: Converts a node whose data is an activation into spec entries (None: an ``opaque`` entry).
    handler: Handler | None = None
    #: (least, most or None, what) inputs; checked before anything else.
    arity: tuple[int, int | None, str] | None = None
    #: What a node must have whatever the shapes (a conv weight's rank, a pool's kernel).
    check: Check | None = None
    #: Attributes its inference needs, where the node leaves them out (see :data:`Complete`).
    complete: Complete | None = None
    #: Checked against onnx's op schema (not Constant, whose tensor is read in a guarded evaluation).
    schema: bool = True
    #: Its first input is an N×C×… tensor (stored channels-last).
    spatial: bool = False
    #: Its output keeps the layout of its inputs (spatial ones stay channels-last through it).
    transparent: bool = False
    #: The handler reads whichever inputs are activations (others need their first input to be one).
    any_operand: bool = False
    #: Its output has its first input's shape (filled in where onnx's inference leaves it out).
    same_shape: bool = False
    #: Its inference works out windows: an output dim of 0 is as wrong as a negative one.
    windowed: bool = False
    #: Its shape rule (convcost's own inference; onnx's where an op of the graph has none).
    shape: Rule | None = None
    fold: Fold | None = None
    fold_size: FoldSize | None = None
    #: Folded before its inputs are looked at (an op of no inputs).
    fold_first: bool = False
    #: Its outputs depend on its input's shape only, not on its values (then always static).
    of_shape: OfShape | None = None
    #: A zero constant Pad read only by it folds into its padding.
    absorbs_pad: bool = False
    #: An add of a static bias right after a linear layer: the layer's bias.
    bias_add: bool = False
    #: It only moves or reinterprets data: a tensor it makes of constants costs nothing to make, and holds
    #: the learned elements of the tensors it is made of (see :mod:`.constants`).
    moves: bool = False
    #: Its first input is the data and the others its weights: a constant read as its first input is the
    #: layer's input (a coordinate table under an MLP), not a learned param.
    weighted: bool = False
    #: Its first input may be a table (an initializer) read at positions the model computes: an
    #: embedding, whose table is learned params.
    table: bool = False


#: Every op convcost knows, by op_type (filled by the ``ops/`` modules as they are imported).
OPS: dict[str, Op] = {}


def register(*ops: Op) -> None:
    for op in ops:
        if op.name in OPS:
            raise ValueError(f"op {op.name!r} is registered twice")
        OPS[op.name] = op


@functools.cache
def _table() -> dict[str, Op]:
    from . import ops  # noqa: F401  (its modules register every entry)

    return OPS


def lookup(op_type: str) -> Op | None:
    """The entry of an op, or None: an op convcost does not know (costed as opaque)."""
    return _table().get(op_type)


def has(op_type: str, flag: str) -> bool:
    """Whether an op is known and its entry has ``flag`` set."""
    found = _table().get(op_type)
    return found is not None and bool(getattr(found, flag))
