"""Layer kinds of a network: each a small pure handler, found through a registry.

A handler takes a layer's fields (already checked for unknown keys) and its
input shape, and returns the layer's cost. The field tables here are the one
source of truth for what a spec may say: the spec reader checks against them,
and the documentation is written from them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from math import floor, prod
from typing import NamedTuple

from . import values
from .conv import ZERO, Conv, Counts, conv, pointwise
from .errors import ConvCostError, bad_value


class Field(NamedTuple):
    """One key a spec entry may have."""

    kind: str  # shape | int | dims | padding | bool | str | choice | layers | branches
    help: str
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()


class Part(NamedTuple):
    """A piece of a layer's cost, classified for the breakdown (MobileNet's Table 2)."""

    kind: str  # conv | grouped | depthwise | pointwise | linear | other
    counts: Counts


class Costed(NamedTuple):
    """What a handler returns."""

    output_shape: tuple[int, ...]
    counts: Counts
    parts: tuple[Part, ...]
    reference: Conv | None  # the conv whose variants describe this layer, if conv-like
    convs: tuple[Conv, ...]  # the convolutions actually performed, in order
    geometry: tuple[Conv, ...] = ()  # every sliding window, pools included (for receptive fields)


BREAKDOWN_KINDS = ("conv", "grouped", "depthwise", "pointwise", "linear", "other")

_NAME = Field("str", "Row name; unique among its siblings (nested blocks give dotted paths).")
_IN = Field("shape", "Input shape (e.g. 56x56x64); without it, the previous layer's output.")
_KERNEL = Field("dims", "Kernel size: an int or one per spatial dim (3x5).", required=True)
_STRIDE = Field("dims", "Stride: an int or one per spatial dim.", default=1)
_PADDING = Field("padding", "An int, per dim (1x2), before:after pairs (0:1x0:1), same or valid.", default=0)
_DILATION = Field("dims", "Dilation: an int or one per spatial dim.", default=1)
_BIAS_OFF = Field("bool", "Count a bias per output channel (off by default).", default=False)
_MULTIPLIER = Field("int", "Depthwise channel multiplier (outputs per input channel).", default=1)

CONV_FIELDS = {
    "out": Field("int", "Output channels.", required=True),
    "kernel": _KERNEL,
    "stride": _STRIDE,
    "padding": _PADDING,
    "dilation": _DILATION,
    "groups": Field("int", "Groups; must divide input channels and out.", default=1),
    "bias": _BIAS_OFF,
}

#: Keys every entry may have, besides its type's own.
COMMON_FIELDS = {"name": _NAME, "type": Field("str", "The layer or block type.", default="conv")}

LAYER_FIELDS: dict[str, dict[str, Field]] = {
    "conv": {"in": _IN, **CONV_FIELDS},
    "transposed": {
        "in": _IN,
        **CONV_FIELDS,
        "output_padding": Field(
            "dims", "Extra output size on the far side: an int or one per dim.", default=0
        ),
    },
    "depthwise": {
        "in": _IN,
        "kernel": _KERNEL,
        "stride": _STRIDE,
        "padding": _PADDING,
        "dilation": _DILATION,
        "multiplier": _MULTIPLIER,
        "out": Field("int", "Output channels; if given, must equal input channels × multiplier."),
        "bias": _BIAS_OFF,
    },
    "separable": {
        "in": _IN,
        "out": Field("int", "Output channels of the pointwise 1×1 step.", required=True),
        "kernel": _KERNEL,
        "stride": _STRIDE,
        "padding": _PADDING,
        "dilation": _DILATION,
        "multiplier": _MULTIPLIER,
        "bias": Field("bool", "A bias on the pointwise output (off by default).", default=False),
    },
    "pool": {
        "in": _IN,
        "mode": Field("choice", "max or avg.", default="max", choices=("max", "avg")),
        "kernel": Field("dims", "Window size (not needed with global: true).", default=None),
        "stride": Field("dims", "Stride; defaults to the window size.", default=None),
        "padding": _PADDING,
        "global": Field("bool", "Pool each channel's whole map to 1×…×1.", default=False),
    },
    "linear": {
        "in": _IN,
        "out": Field("int", "Output features.", required=True),
        "bias": Field("bool", "Bias per output feature (on by default, as PyTorch and Keras).", default=True),
    },
    "batchnorm": {"in": _IN},
}

BLOCK_FIELDS: dict[str, dict[str, Field]] = {
    "repeat": {
        "in": _IN,
        "times": Field("int", "How many copies of layers, one after another.", required=True),
        "layers": Field("layers", "The layers to repeat.", required=True),
    },
    "residual": {
        "in": _IN,
        "body": Field("layers", "The main path.", required=True),
        "shortcut": Field("layers", "The shortcut path (identity when absent).", default=()),
    },
    "branches": {
        "in": _IN,
        "branches": Field("branches", "Parallel paths, each a list of layers.", required=True),
        "join": Field("choice", "How the paths join.", default="concat", choices=("concat", "add")),
    },
}

TYPE_NAMES = tuple(LAYER_FIELDS) + tuple(BLOCK_FIELDS)


def classify(layer: Conv) -> str:
    """Which breakdown row a conv belongs to."""
    if layer.groups == 1:
        return "pointwise" if all(k == 1 for k in layer.kernel) else "conv"
    if layer.groups == layer.in_channels:
        return "depthwise"
    return "grouped"


def _conv_costed(layers: tuple[Conv, ...], reference: Conv) -> Costed:
    counts = ZERO
    parts = []
    for layer in layers:
        layer_counts = layer.counts()
        counts = counts.plus(layer_counts)
        parts.append(Part(classify(layer), layer_counts))
    return Costed(layers[-1].output_shape, counts, tuple(parts), reference, layers, layers)


def _conv(
    f: Mapping[str, object],
    shape: tuple[int, ...],
    out: object,
    kernel: object,
    groups: object,
    bias: bool,
    transposed: bool = False,
) -> Conv:
    """A conv with the entry's stride, padding and dilation (and output padding, if transposed)."""
    return conv(
        shape,
        out,
        kernel,
        stride=f.get("stride", 1),
        padding=f.get("padding", 0),
        dilation=f.get("dilation", 1),
        groups=groups,
        bias=bias,
        transposed=transposed,
        output_padding=f.get("output_padding", 0) if transposed else 0,
    )


def _needs_spatial(shape: tuple[int, ...], kind: str) -> None:
    if len(shape) < 2:
        raise ConvCostError(
            "in",
            f"a {kind} layer needs spatial dims, but its input is {values.format_dims(shape)} "
            "(features only, after a linear layer)",
        )


def cost_conv(f: Mapping[str, object], shape: tuple[int, ...]) -> Costed:
    """A regular or grouped conv (``groups``)."""
    _needs_spatial(shape, "conv")
    layer = _conv(f, shape, f.get("out"), f.get("kernel"), f.get("groups", 1), _bool(f, "bias", False))
    return _conv_costed((layer,), layer)


def cost_transposed(f: Mapping[str, object], shape: tuple[int, ...]) -> Costed:
    """A transposed conv; MACs counted per input element (the multiplications actually done)."""
    _needs_spatial(shape, "transposed")
    layer = _conv(f, shape, f.get("out"), f.get("kernel"), f.get("groups", 1), _bool(f, "bias", False), True)
    return _conv_costed((layer,), layer)


def _multiplier(f: Mapping[str, object]) -> int:
    return values.positive_int(f.get("multiplier", 1), "multiplier")


def _depthwise(f: Mapping[str, object], shape: tuple[int, ...], bias: bool) -> Conv:
    c_in = shape[-1]
    return _conv(f, shape, c_in * _multiplier(f), f.get("kernel"), c_in, bias)


def cost_depthwise(f: Mapping[str, object], shape: tuple[int, ...]) -> Costed:
    """A depthwise conv: groups = input channels, ``multiplier`` outputs each."""
    _needs_spatial(shape, "depthwise")
    layer = _depthwise(f, shape, _bool(f, "bias", False))
    if "out" in f and values.positive_int(f["out"], "out") != layer.out_channels:
        raise ConvCostError(
            "out",
            f"{f['out']} is not input channels × multiplier ({shape[-1]} × {_multiplier(f)} = "
            f"{layer.out_channels}); drop out, or set multiplier",
        )
    return _conv_costed((layer,), layer)


def cost_separable(f: Mapping[str, object], shape: tuple[int, ...]) -> Costed:
    """Depthwise k×k then pointwise 1×1 to ``out``, one entry (Keras' SeparableConv2D).

    The bias, when on, is on the pointwise output only.
    """
    _needs_spatial(shape, "separable")
    depthwise = _depthwise(f, shape, False)
    step = pointwise(
        depthwise.output_shape, values.positive_int(f.get("out"), "out"), _bool(f, "bias", False)
    )
    # the same layer as one regular conv: the depthwise geometry, all channels, the pointwise outputs
    reference = depthwise._replace(
        out_channels=step.out_channels, groups=1, bias=step.bias, output_shape=step.output_shape
    )
    return _conv_costed((depthwise, step), reference)


def cost_pool(f: Mapping[str, object], shape: tuple[int, ...]) -> Costed:
    """Max or average pooling: no MACs, no params."""
    _needs_spatial(shape, "pool")
    channels = shape[-1]
    if _bool(f, "global", False):
        if "kernel" in f or "stride" in f:
            raise ConvCostError("global", "a global pool takes no kernel or stride; drop them")
        window = conv(shape, channels, shape[:-1], groups=channels)
    else:
        if f.get("kernel") is None:
            raise ConvCostError("kernel", "is required for a pool unless global: true")
        kernel, stride = f["kernel"], f.get("stride")
        window = conv(
            shape,
            channels,
            kernel,
            groups=channels,
            stride=kernel if stride is None else stride,
            padding=f.get("padding", 0),
        )
    return Costed(window.output_shape, ZERO, (), None, (), (window,))


def cost_linear(f: Mapping[str, object], shape: tuple[int, ...]) -> Costed:
    """Fully connected on the flattened input; bias on by default (as PyTorch and Keras)."""
    features = prod(shape)
    out = values.positive_int(f.get("out"), "out")
    bias = _bool(f, "bias", True)
    macs = features * out
    bias_adds = out if bias else 0
    counts = Counts(macs, macs + bias_adds, macs - out + bias_adds, bias_adds)
    return Costed((out,), counts, (Part("linear", counts),), None, ())


def cost_batchnorm(f: Mapping[str, object], shape: tuple[int, ...]) -> Costed:
    """Batch normalization: 2·C parameters (scale and shift), no MACs (folds into the conv at inference)."""
    counts = Counts(0, 2 * shape[-1], 0, 0)
    return Costed(shape, counts, (Part("other", counts),), None, ())


def _bool(f: Mapping[str, object], key: str, default: bool) -> bool:
    value = f.get(key, default)
    if not isinstance(value, bool):
        raise bad_value(key, value, "expected true or false")
    return value


#: Layer type → handler. Blocks (repeat, residual, branches) are walked by the network.
HANDLERS: dict[str, Callable[[Mapping[str, object], tuple[int, ...]], Costed]] = {
    "conv": cost_conv,
    "transposed": cost_transposed,
    "depthwise": cost_depthwise,
    "separable": cost_separable,
    "pool": cost_pool,
    "linear": cost_linear,
    "batchnorm": cost_batchnorm,
}


def scale_channels(out: object, alpha: Fraction) -> int:
    """``out`` × α, rounded to the nearest int (halves up), at least 1 — exact for MobileNet's α."""
    channels = values.positive_int(out, "out")
    scaled = channels * alpha
    return max(1, floor(scaled + Fraction(1, 2)))
