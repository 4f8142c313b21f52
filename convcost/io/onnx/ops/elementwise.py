"""Element-wise ops: activations, merges of several inputs, and aliases (ops that change no value's cost).

Each keeps the layout of its inputs. An activation is one ``activation`` entry (so is CumSum's running
sum: one add per element); Add/Sub/Mul/Div/Sum are the spec's merges; any other element-wise op of
several inputs is an ``elementwise`` entry.
"""

from __future__ import annotations

from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING

from ..fold import gathered_size
from ..read import inputs_of
from ..registry import Array, Attrs, Fold, Op, register
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


def _same(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array]:
    return [inputs[0]]


def _cast(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array] | None:
    """To the type ``to`` names: shape arithmetic an exporter does in floats (MobileViT's
    ceil(H / patch)) comes back to the int64 a Reshape reads, and int division stays float."""
    from onnx import helper

    return _as_type(np, inputs[0], helper.tensor_dtype_to_np_dtype(int(attrs["to"])))


def _cast_like(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array] | None:
    """To the type of its second input."""
    if len(inputs) < 2 or inputs[1] is None:
        return None
    return _as_type(np, inputs[0], np.asarray(inputs[1]).dtype)


def _as_type(np: ModuleType, value: Array, dtype: Array) -> list[Array] | None:
    if np.dtype(dtype).kind not in "biuf":  # strings, and types numpy does no arithmetic in
        return None
    return [np.asarray(value).astype(dtype)]


def _unary(name: str) -> Fold:
    def fold(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array]:
        return [getattr(np, name)(inputs[0])]

    return fold


def _binary(name: str) -> Fold:
    def fold(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array] | None:
        if len(inputs) < 2 or inputs[1] is None:
            return None
        return [getattr(np, name)(inputs[0], inputs[1])]

    return fold


def _divide(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array] | None:
    if len(inputs) < 2 or inputs[1] is None:
        return None
    x, y = np.asarray(inputs[0]), np.asarray(inputs[1])
    if np.issubdtype(x.dtype, np.integer):  # ONNX's integer division truncates
        return [np.trunc(x / y).astype(x.dtype)]
    return [np.divide(inputs[0], inputs[1])]


def _where(np: ModuleType, inputs: list[Array], attrs: Attrs) -> list[Array]:
    return [np.where(*inputs[:3])]


register(
    # activations: one input, one entry
    Op("Relu", activation, transparent=True),
    Op("LeakyRelu", activation, transparent=True),
    Op("Sigmoid", activation, transparent=True),
    Op("HardSigmoid", activation, transparent=True),
    Op("HardSwish", activation, transparent=True),
    Op("Tanh", activation, transparent=True),
    Op("Gelu", activation, transparent=True),
    Op("Erf", activation, transparent=True),
    Op("Elu", activation, transparent=True),
    Op("Selu", activation, transparent=True),
    Op("Celu", activation, transparent=True),
    Op("Softplus", activation, transparent=True),
    Op("Softsign", activation, transparent=True),
    Op("Mish", activation, transparent=True),
    Op("Exp", activation, transparent=True),
    Op("Log", activation, transparent=True),
    Op("Sqrt", activation, transparent=True, fold=_unary("sqrt")),
    Op("Reciprocal", activation, transparent=True),
    Op("Neg", activation, transparent=True, fold=_unary("negative")),
    Op("Abs", activation, transparent=True, fold=_unary("abs")),
    Op("Floor", activation, transparent=True, fold=_unary("floor")),
    Op("Ceil", activation, transparent=True, fold=_unary("ceil")),
    Op("Round", activation, transparent=True),
    Op("Sign", activation, transparent=True),
    Op("Sin", activation, transparent=True),
    Op("Cos", activation, transparent=True),
    Op("Not", activation, transparent=True, fold=_unary("logical_not")),
    Op("Clip", activation, transparent=True),
    Op("ThresholdedRelu", activation, transparent=True),
    Op("Shrink", activation, transparent=True),
    Op("IsNaN", activation, transparent=True),
    Op("IsInf", activation, transparent=True),
    # a running sum along an axis: one add per element, as an Add's (its second input is the axis).
    # No fold: over constants (EdgeNeXt's Fourier encoding of a mask) it runs at every inference,
    # so it and what reads it are costed as layers (see .constants)
    Op("CumSum", activation, transparent=True),
    # merges: the spec's add, sub, mul, div
    Op(
        "Add",
        partial(elementwise, kind="add"),
        transparent=True,
        any_operand=True,
        fold=_binary("add"),
        bias_add=True,
    ),
    Op("Sub", partial(elementwise, kind="sub"), transparent=True, any_operand=True, fold=_binary("subtract")),
    Op("Mul", partial(elementwise, kind="mul"), transparent=True, any_operand=True, fold=_binary("multiply")),
    Op("Div", partial(elementwise, kind="div"), transparent=True, any_operand=True, fold=_divide),
    Op("Sum", partial(elementwise, kind="add"), transparent=True, any_operand=True),
    # other element-wise ops of several inputs
    Op("Pow", elementwise, transparent=True, any_operand=True, fold=_binary("power")),
    Op(
        "Max",
        elementwise,
        transparent=True,
        any_operand=True,
        fold=_binary("maximum"),
        fold_size=gathered_size,
    ),
    Op(
        "Min",
        elementwise,
        transparent=True,
        any_operand=True,
        fold=_binary("minimum"),
        fold_size=gathered_size,
    ),
    Op("Mean", elementwise, transparent=True, any_operand=True),
    Op("Mod", elementwise, transparent=True, any_operand=True, fold=_binary("mod")),
    Op("PRelu", elementwise, transparent=True, any_operand=True),
    Op("Equal", elementwise, transparent=True, any_operand=True, fold=_binary("equal")),
    Op("Less", elementwise, transparent=True, any_operand=True, fold=_binary("less")),
    Op("Greater", elementwise, transparent=True, any_operand=True, fold=_binary("greater")),
    Op("LessOrEqual", elementwise, transparent=True, any_operand=True),
    Op("GreaterOrEqual", elementwise, transparent=True, any_operand=True),
    Op("And", elementwise, transparent=True, any_operand=True, fold=_binary("logical_and")),
    Op("Or", elementwise, transparent=True, any_operand=True, fold=_binary("logical_or")),
    Op("Xor", elementwise, transparent=True, any_operand=True),
    Op("Where", elementwise, transparent=True, any_operand=True, fold=_where),
    Op("BitShift", elementwise, transparent=True, any_operand=True),
    # aliases: the same values (for costing) under another name
    Op("Identity", identity, transparent=True, any_operand=True, same_shape=True, fold=_same, moves=True),
    Op("Dropout", identity, transparent=True, any_operand=True, same_shape=True, moves=True),
    Op("Cast", identity, transparent=True, any_operand=True, fold=_cast, moves=True),
    Op("CastLike", identity, transparent=True, any_operand=True, fold=_cast_like, moves=True),
)
