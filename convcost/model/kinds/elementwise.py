"""Element-wise kinds: activations of one input, and merges of several (add, mul, sub, div, …).

Merges broadcast as NumPy does, on channels-last shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import prod

from ...core.conv import Counts
from .common import IN, MERGE_INPUTS, broadcast, other_costed
from .registry import BreakdownPart, Costed, Field, Handler, Kind, Shape, merged, register, unchanged


def _elementwise(how: str) -> Handler:
    def handler(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
        shape = broadcast(shapes, how)
        counts = Counts(0, 0, 0, 0, prod(shape) * (len(shapes) - 1))
        return Costed(shape, counts, (BreakdownPart("other", counts),), None, ())

    handler.__doc__ = f"Element-wise, broadcast: one op per output element per extra input ({how})."
    return handler


for _how, _result, _verb in (
    ("add", "sum", "added"),
    ("mul", "product", "multiplied"),
    ("sub", "difference", "subtracted"),
    ("div", "quotient", "divided"),
):
    register(
        Kind(
            _how,
            f"Element-wise {_result} of its inputs, broadcast over dims of size 1.",
            {"inputs": MERGE_INPUTS},
            _elementwise(_verb),
            inputs=(2, None),
            receptive_field=merged,
        )
    )
register(
    Kind(
        "elementwise",
        "Another element-wise op of two or more inputs (max, pow, where, …), broadcast.",
        {"inputs": MERGE_INPUTS, "fn": Field("str", "The op (max, min, pow, where, …).", default="max")},
        _elementwise("combined"),
        inputs=(2, None),
        receptive_field=merged,
    )
)


def cost_activation(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """An element-wise function (``fn``): one op per element."""
    return other_costed(shapes[0], prod(shapes[0]))


#: Activations by name, each a spec type of its own meaning ``activation`` with that ``fn``
#: (``type: relu``), as PyTorch users write the module: lowercase, as ONNX import writes ``fn``.
ACTIVATION_TYPES: tuple[str, ...] = (
    "relu", "relu6", "leakyrelu", "gelu", "silu", "swish", "sigmoid", "hardswish", "hardsigmoid",
    "tanh", "elu", "selu", "celu", "softplus", "softsign", "mish",
)  # fmt: skip

_FN = Field("str", "The function (relu, gelu, sigmoid, hardswish, …): one op per element whichever.",
            default="relu")  # fmt: skip
register(Kind("activation", "An element-wise function such as relu or gelu (one op per element).",
              {"in": IN, "fn": _FN}, cost_activation, receptive_field=unchanged))  # fmt: skip
