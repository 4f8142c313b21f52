"""Linear layers and matrix products: the MACs that are not convolutions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import prod

from ...core import values
from ...core.conv import Counts
from ..receptive_field import ReceptiveField
from .common import IN, LEARNED, MergeMismatch, boolean, broadcast, own_params
from .registry import BreakdownPart, Costed, Field, Kind, Shape, register, untracked


def cost_linear(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Fully connected on the flattened input; bias on by default (as PyTorch and Keras).

    With ``flatten: false`` it acts on the last dim of every position (a token-wise linear):
    prod(leading dims)·in·out MACs, in·out (+ out) params, counted once.
    """
    shape = shapes[0]
    out = values.positive_int(f.get("out"), "out")
    bias = boolean(f, "bias", True)
    flatten = boolean(f, "flatten", True)
    features, positions = (prod(shape), 1) if flatten else (shape[-1], prod(shape[:-1]))
    macs = positions * features * out
    bias_adds = positions * out if bias else 0
    params = features * out + (out if bias else 0)
    counts = Counts(macs, params, macs - positions * out + bias_adds, bias_adds)
    output = (out,) if flatten else shape[:-1] + (out,)
    return own_params(f, Costed(output, counts, (BreakdownPart("linear", counts),), None, ()))


def per_position(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    """A linear layer on each position keeps the field; one on the flattened input has none."""
    return None if f.get("flatten", True) else fields[0]


register(
    Kind(
        "linear",
        "Fully connected, on the flattened input.",
        {
            "in": IN,
            "out": Field("int", "Output features.", required=True),
            "bias": Field(
                "bool", "Bias per output feature (on by default, as PyTorch and Keras).", default=True
            ),
            "flatten": Field(
                "bool",
                "Flatten the input first (default); false: act on the last dim of every position.",
                default=True,
            ),
            "learned": LEARNED,
        },
        cost_linear,
        receptive_field=per_position,
    )
)


def cost_matmul(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """A matrix product of two activations, batched and broadcast as NumPy's matmul:
    prod(batch dims)·M·K·N MACs, no params."""
    a, b = shapes
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise MergeMismatch(
            0, 1, f"a matmul needs the first's last dim ({a2[-1]}) equal to the second's ({b2[-2]})"
        )
    batch = broadcast((a2[:-2] or (1,), b2[:-2] or (1,)), "broadcast over the batch dims")
    batch = batch if max(len(a2), len(b2)) > 2 else ()
    m, k, n = a2[-2], a2[-1], b2[-1]
    out = batch + (() if len(a) == 1 else (m,)) + (() if len(b) == 1 else (n,))
    macs = prod(batch) * m * k * n
    counts = Counts(macs, 0, macs - prod(batch) * m * n, 0)
    return Costed(out or (1,), counts, (BreakdownPart("linear", counts),), None, ())


register(
    Kind(
        "matmul",
        "A matrix product of two activations (attention's QKᵀ and AV), batched and broadcast.",
        {"inputs": Field("names", "The two operands, by name.", required=True)},
        cost_matmul,
        inputs=(2, 2),
        receptive_field=untracked,
    )
)
