"""Element-wise ops: activations, merges of several inputs, and aliases (ops that change no value's cost).

Each keeps the layout of its inputs. An activation is one ``activation`` entry (so is CumSum's running
sum: one add per element); Add/Sub/Mul/Div/Sum are the spec's merges; any other element-wise op of
several inputs is an ``elementwise`` entry.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from .. import rules, tensor
from ..fold import gathered_size
from ..read import inputs_of
from ..registry import Attrs, Fold, Op, register
from ..tensor import Number, Tensor
from .opaque import opaque

if TYPE_CHECKING:
    from onnx import NodeProto

    from ..context import Context


def activation(ctx: Context, node: NodeProto) -> None:
    name = node.input[0]
    if name not in ctx.values:
        opaque(ctx, node)
        return
    value = ctx.values[name]
    fields: dict[str, object] = {"fn": node.op_type.lower()}
    ctx.produce(node, node.output[0], "activation", fields, [value.entry], value.batch, value.layout)


def elementwise(ctx: Context, node: NodeProto, kind: str = "elementwise") -> None:
    """A merge (``kind``: add, sub, mul, div) or another element-wise op of several inputs."""
    names = inputs_of(node)
    if len(names) == 1:  # a Sum or Max of one
        ctx.alias(node.output[0], names[0])
        return
    sources, batch, layout = ctx.broadcast_inputs(node, names, node.output[0])
    fields: dict[str, object] = {"fn": node.op_type.lower()} if kind == "elementwise" else {}
    ctx.produce(node, node.output[0], kind, fields, sources, batch, layout)


def identity(ctx: Context, node: NodeProto) -> None:
    ctx.alias(node.output[0], node.input[0])


def _same(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    return [inputs[0]] if inputs[0] is not None else None


def _cast(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    """To the type ``to`` names: shape arithmetic an exporter does in floats (MobileViT's
    ceil(H / patch)) comes back to the int64 a Reshape reads, and int division stays float."""
    return _as_type(inputs[0], int(attrs["to"]))


def _cast_like(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    """To the type of its second input."""
    if len(inputs) < 2 or inputs[1] is None:
        return None
    return _as_type(inputs[0], inputs[1].dtype)


def _as_type(value: Tensor | None, dtype: int) -> list[Tensor] | None:
    if value is None or dtype not in tensor.NUMERIC:  # strings, and types not worked out here
        return None
    return [tensor.make(dtype, value.dims, value.values)]


def _float_of(fn: Callable[[float], float]) -> Callable[[Number], Number]:
    """``fn`` on an element, NaN where math refuses it (a negative's square root), as numpy gives."""

    def one(value: Number) -> Number:
        try:
            return fn(value)
        except ValueError:
            return math.nan
        except OverflowError:
            return math.inf

    return one


def _rounding(fn: Callable[[float], int]) -> Callable[[Number], Number]:
    """floor or ceil of a float (NaN and infinities as they are); an int as it is."""

    def one(value: Number) -> Number:
        if isinstance(value, float) and math.isfinite(value):
            return float(fn(value))
        return value

    return one


def _unary(fn: Callable[[Number], Number], floats: bool = False, dtype: int | None = None) -> Fold:
    """An element-wise fold of one input; ``floats``: an int input gives doubles (as numpy's sqrt)."""

    def fold(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
        x = inputs[0]
        if x is None:
            return None
        made = dtype if dtype is not None else x.dtype
        if floats and made not in tensor.FLOATS:
            made = tensor.DOUBLE
        return [tensor.elementwise(fn, [x], made)]

    return fold


def _promoted(first: int, second: int) -> int:
    """The type of a result of two types (ONNX gives both one type; else as numpy promotes)."""
    if first == second or second == tensor.BOOL:
        return first
    if first == tensor.BOOL:
        return second
    if first in tensor.FLOATS or second in tensor.FLOATS:
        return tensor.DOUBLE
    return tensor.INT64


def _binary(fn: Callable[[Number, Number], Number], compare: bool = False) -> Fold:
    """An element-wise fold of two inputs, broadcast; ``compare``: a bool result."""

    def fold(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
        if len(inputs) < 2 or inputs[0] is None or inputs[1] is None:
            return None
        x, y = inputs[0], inputs[1]
        dtype = tensor.BOOL if compare else _promoted(x.dtype, y.dtype)
        return [tensor.elementwise(fn, [x, y], dtype)]

    return fold


def _divide_one(x: Number, y: Number) -> Number:
    """ONNX's division: an integer one truncates (by zero: refused), a float one is IEEE's."""
    if isinstance(x, float) or isinstance(y, float):
        if y == 0:
            return math.nan if x == 0 or x != x else math.copysign(math.inf, x) * math.copysign(1.0, y)
        return x / y
    if y == 0:
        raise tensor.NotFolded("an integer division by zero")
    quotient = abs(x) // abs(y)
    return quotient if (x < 0) == (y < 0) else -quotient


def _mod_one(x: Number, y: Number) -> Number:
    """numpy's mod: the sign of the divisor (by zero: 0 for ints, NaN for floats)."""
    if y == 0:
        return math.nan if isinstance(x, float) or isinstance(y, float) else 0
    return x % y


def _power_one(x: Number, y: Number) -> Number:
    if isinstance(x, float) or isinstance(y, float):
        try:
            return math.pow(x, y)
        except ValueError:
            return math.nan
        except OverflowError:
            return math.inf
    if y < 0:
        raise tensor.NotFolded("integers to negative integer powers")
    return pow(int(x), int(y), 1 << 64)  # wrapped to its width after


def _extreme(pick: Callable[[Number, Number], Number]) -> Callable[[Number, Number], Number]:
    """numpy's maximum and minimum: a NaN in either gives NaN."""

    def one(x: Number, y: Number) -> Number:
        if x != x or y != y:
            return math.nan
        return pick(x, y)

    return one


def _where(inputs: list[Tensor | None], attrs: Attrs) -> list[Tensor] | None:
    if len(inputs) < 3 or any(i is None for i in inputs[:3]):
        return None
    condition, x, y = (i for i in inputs[:3] if i is not None)
    dtype = _promoted(x.dtype, y.dtype)
    return [tensor.elementwise(lambda c, a, b: a if c else b, [condition, x, y], dtype)]


register(
    # activations: one input, one entry
    Op("Relu", activation, transparent=True, shape=rules.same),
    Op("LeakyRelu", activation, transparent=True, shape=rules.same),
    Op("Sigmoid", activation, transparent=True, shape=rules.same),
    Op("HardSigmoid", activation, transparent=True, shape=rules.same),
    Op("HardSwish", activation, transparent=True, shape=rules.same),
    Op("Tanh", activation, transparent=True, shape=rules.same),
    Op("Gelu", activation, transparent=True, shape=rules.same),
    Op("Erf", activation, transparent=True, shape=rules.same),
    Op("Elu", activation, transparent=True, shape=rules.same),
    Op("Selu", activation, transparent=True, shape=rules.same),
    Op("Celu", activation, transparent=True, shape=rules.same),
    Op("Softplus", activation, transparent=True, shape=rules.same),
    Op("Softsign", activation, transparent=True, shape=rules.same),
    Op("Mish", activation, transparent=True, shape=rules.same),
    Op("Exp", activation, transparent=True, shape=rules.same),
    Op("Log", activation, transparent=True, shape=rules.same),
    Op(
        "Sqrt", activation, transparent=True, shape=rules.same, fold=_unary(_float_of(math.sqrt), floats=True)
    ),
    Op("Reciprocal", activation, transparent=True, shape=rules.same),
    Op("Neg", activation, transparent=True, shape=rules.same, fold=_unary(operator.neg)),
    Op("Abs", activation, transparent=True, shape=rules.same, fold=_unary(abs)),
    Op("Floor", activation, transparent=True, shape=rules.same, fold=_unary(_rounding(math.floor))),
    Op("Ceil", activation, transparent=True, shape=rules.same, fold=_unary(_rounding(math.ceil))),
    Op("Round", activation, transparent=True, shape=rules.same),
    Op("Sign", activation, transparent=True, shape=rules.same),
    Op("Sin", activation, transparent=True, shape=rules.same),
    Op("Cos", activation, transparent=True, shape=rules.same),
    Op("Not", activation, transparent=True, shape=rules.same, fold=_unary(operator.not_, dtype=tensor.BOOL)),
    Op("Clip", activation, transparent=True, shape=rules.same),
    Op("ThresholdedRelu", activation, transparent=True, shape=rules.same),
    Op("Shrink", activation, transparent=True, shape=rules.same),
    Op("IsNaN", activation, transparent=True, shape=rules.same),
    Op("IsInf", activation, transparent=True, shape=rules.same),
    # a running sum along an axis: one add per element, as an Add's (its second input is the axis).
    # No fold: over constants (EdgeNeXt's Fourier encoding of a mask) it runs at every inference,
    # so it and what reads it are costed as layers (see .constants)
    Op("CumSum", activation, transparent=True, shape=rules.same),
    # merges: the spec's add, sub, mul, div
    Op(
        "Add",
        partial(elementwise, kind="add"),
        transparent=True,
        any_operand=True,
        shape=rules.broadcast,
        fold=_binary(operator.add),
        bias_add=True,
    ),
    Op(
        "Sub",
        partial(elementwise, kind="sub"),
        transparent=True,
        any_operand=True,
        shape=rules.broadcast,
        fold=_binary(operator.sub),
    ),
    Op(
        "Mul",
        partial(elementwise, kind="mul"),
        transparent=True,
        any_operand=True,
        shape=rules.broadcast,
        fold=_binary(operator.mul),
    ),
    Op(
        "Div",
        partial(elementwise, kind="div"),
        transparent=True,
        any_operand=True,
        shape=rules.broadcast,
        fold=_binary(_divide_one),
    ),
    Op("Sum", partial(elementwise, kind="add"), transparent=True, any_operand=True, shape=rules.broadcast),
    # other element-wise ops of several inputs
    Op(
        "Pow",
        elementwise,
        transparent=True,
        any_operand=True,
        shape=rules.broadcast,
        fold=_binary(_power_one),
    ),
    Op(
        "Max",
        elementwise,
        transparent=True,
        any_operand=True,
        shape=rules.broadcast,
        fold=_binary(_extreme(max)),
        fold_size=gathered_size,
    ),
    Op(
        "Min",
        elementwise,
        transparent=True,
        any_operand=True,
        shape=rules.broadcast,
        fold=_binary(_extreme(min)),
        fold_size=gathered_size,
    ),
    Op("Mean", elementwise, transparent=True, any_operand=True, shape=rules.broadcast),
    Op("Mod", elementwise, transparent=True, any_operand=True, shape=rules.broadcast, fold=_binary(_mod_one)),
    Op("PRelu", elementwise, transparent=True, any_operand=True, shape=rules.same),
    Op(
        "Equal",
        elementwise,
        transparent=True,
        any_operand=True,
        shape=rules.broadcast,
        fold=_binary(operator.eq, compare=True),
    ),
    Op(
        "Less",
        elementwise,
        transparent=True,
        any_operand=True,
        shape=rules.broadcast,
        fold=_binary(operator.lt, compare=True),
    ),
    Op(
        "Greater",
        elementwise,
        transparent=True,
        any_operand=True,
        shape=rules.broadcast,
        fold=_binary(operator.gt, compare=True),
    ),
    Op("LessOrEqual", elementwise, transparent=True, any_operand=True, shape=rules.broadcast),
    Op("GreaterOrEqual", elementwise, transparent=True, any_operand=True, shape=rules.broadcast),
    Op(
        "And",
        elementwise,
        transparent=True,
        any_operand=True,
        shape=rules.broadcast,
        fold=_binary(lambda x, y: bool(x) and bool(y), compare=True),
    ),
    Op(
        "Or",
        elementwise,
        transparent=True,
        any_operand=True,
        shape=rules.broadcast,
        fold=_binary(lambda x, y: bool(x) or bool(y), compare=True),
    ),
    Op("Xor", elementwise, transparent=True, any_operand=True, shape=rules.broadcast),
    Op("Where", elementwise, transparent=True, any_operand=True, shape=rules.broadcast, fold=_where),
    Op("BitShift", elementwise, transparent=True, any_operand=True, shape=rules.broadcast),
    # aliases: the same values (for costing) under another name
    Op(
        "Identity",
        identity,
        transparent=True,
        any_operand=True,
        shape=rules.same,
        same_shape=True,
        fold=_same,
        moves=True,
    ),
    Op(
        "Dropout", identity, transparent=True, any_operand=True, shape=rules.same, same_shape=True, moves=True
    ),
    Op("Cast", identity, transparent=True, any_operand=True, shape=rules.same, fold=_cast, moves=True),
    Op(
        "CastLike",
        identity,
        transparent=True,
        any_operand=True,
        shape=rules.same,
        fold=_cast_like,
        moves=True,
    ),
)
