"""The registry of layer kinds: one entry per kind, blocks and merges included.

An entry holds everything the rest of the package needs to know about a kind: its
spec fields, its handler (input shapes → output shape and cost, in one small pure
function, as fvcore's counting handlers), how many inputs it takes, its receptive-field
rule, which what-if rewrites apply to it, and its help. The spec checker, the JSON
Schema, the breakdown, the table labels and the what-ifs are all derived from here, so
adding a kind is one :func:`register` call, beside its handler in its family's module, plus its
tests.

MACs are convolutions, linear layers and matrix products only (``matmul`` between two
activations included, as attention's QKᵀ and AV): the figure torch's FlopCounterMode
gives, halved. Everything else is ``other_ops``, never mixed into MACs.

Counting rules for work that is not a multiply-accumulate (``other_ops``), per output
element unless said: add/mul/sub/div and other element-wise merges (inputs − 1);
upsampling 1 (nearest) or 4 (bilinear, as fvcore); resize 1 (nearest), 2ⁿ (n-linear) or
4ⁿ (cubic) for the n spatial dims it resizes; max pooling (window − 1) comparisons; average pooling
window − 1 adds + 1 divide; a global average pool, and any ``reduce``, 1 per input
element (fvcore's adaptive_avg_pool2d rule); layer, group and instance norm 5 per
element with a learned scale, 4 without (fvcore's norm rule); softmax 3n − 1 per row of n
(n exps, n − 1 adds, n divides, as thop). Batch norm counts none (it folds into the conv
at inference, as every peer counts it by default). Where convcost differs from fvcore:
an ``activation`` (relu, gelu, hardswish, sigmoid, …, whatever its formula) counts 1 per
element, where fvcore ignores activations and element-wise ops; fvcore has no rule for
softmax or pooling windows. Shape ops (reshape, transpose, expand, gather, slice, split,
concat, pad, shuffle) count nothing. Params: weights and biases, norm scales and shifts
(2 per channel, or per normalized element), and every learned ``parameter`` tensor.
"""

from __future__ import annotations

from . import blocks  # noqa: F401  (its register() calls are all it has: the block kinds)
from .common import MergeMismatch
from .convolutions import (
    CONV_FIELDS,
    classify,
    cost_conv,
    cost_depthwise,
    cost_separable,
    cost_transposed,
    scale_channels,
)
from .elementwise import ACTIVATION_TYPES, cost_activation
from .linear import cost_linear, cost_matmul, per_position
from .norms import cost_batchnorm, cost_channel_norm, cost_layernorm
from .pooling import cost_pool
from .reductions import cost_reduce, cost_softmax
from .registry import (
    BREAKDOWN,
    COMMON_FIELDS,
    KINDS,
    BreakdownKind,
    BreakdownPart,
    Costed,
    Field,
    FieldKind,
    FieldRule,
    Handler,
    Kind,
    Shape,
    merged,
    put_in_order,
    register,
    through_windows,
    unchanged,
    untracked,
)
from .resampling import cost_resize, cost_upsample, upsampled
from .shapes import (
    cost_concat,
    cost_expand,
    cost_gather,
    cost_pad,
    cost_reshape,
    cost_shuffle,
    cost_slice,
    cost_split,
    cost_transpose,
    padded,
    sliced,
)
from .sources import cost_opaque, cost_parameter, sees_nothing

# The order the schema, the help and every list of types in an error have always given.
put_in_order(
    (
        # layers, merges and blocks (the README's table of spec entries, with transposed)
        "conv", "transposed", "depthwise", "separable", "pool", "linear", "batchnorm",
        "add", "mul", "concat", "split", "slice", "shuffle", "upsample",
        "repeat", "residual", "branches",
        # the kinds whole graphs need (imported models)
        "activation", "sub", "div", "elementwise", "softmax",
        "layernorm", "groupnorm", "instancenorm", "reduce", "matmul",
        "reshape", "transpose", "expand", "gather", "pad", "resize", "parameter", "opaque",
    )
)  # fmt: skip

TYPE_NAMES = tuple(KINDS)
if set(ACTIVATION_TYPES) & set(KINDS):  # a kind's own name must always mean that kind
    raise ValueError(f"activation names shadow kinds: {sorted(set(ACTIVATION_TYPES) & set(KINDS))}")

__all__ = [
    "ACTIVATION_TYPES",
    "BREAKDOWN",
    "COMMON_FIELDS",
    "CONV_FIELDS",
    "KINDS",
    "TYPE_NAMES",
    "BreakdownKind",
    "BreakdownPart",
    "Costed",
    "Field",
    "FieldKind",
    "FieldRule",
    "Handler",
    "Kind",
    "MergeMismatch",
    "Shape",
    "classify",
    "cost_activation",
    "cost_batchnorm",
    "cost_channel_norm",
    "cost_concat",
    "cost_conv",
    "cost_depthwise",
    "cost_expand",
    "cost_gather",
    "cost_layernorm",
    "cost_linear",
    "cost_matmul",
    "cost_opaque",
    "cost_pad",
    "cost_parameter",
    "cost_pool",
    "cost_reduce",
    "cost_reshape",
    "cost_resize",
    "cost_separable",
    "cost_shuffle",
    "cost_slice",
    "cost_softmax",
    "cost_split",
    "cost_transpose",
    "cost_transposed",
    "cost_upsample",
    "merged",
    "padded",
    "per_position",
    "register",
    "scale_channels",
    "sees_nothing",
    "sliced",
    "through_windows",
    "unchanged",
    "untracked",
    "upsampled",
]
