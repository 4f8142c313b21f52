"""Conv-like kinds: regular and grouped, transposed, depthwise, and separable (depthwise + pointwise).

Each is one or two :class:`~convcost.core.conv.Conv` values, whose arithmetic is exact; the
``reference`` conv is the one whose regular, grouped and separable forms the tables compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from math import floor

from ...core import values
from ...core.conv import ZERO, Conv, conv, pointwise
from ...core.errors import ConvCostError
from .common import DILATION, IN, LEARNED, PADDING, boolean, needs_spatial, own_params
from .registry import BreakdownKind, BreakdownPart, Costed, Field, Kind, Shape, register, untracked

_KERNEL = Field("dims", "Kernel size: an int or one per spatial dim (3x5).", required=True)
_STRIDE = Field("dims", "Stride: an int or one per spatial dim.", default=1)
_BIAS_OFF = Field("bool", "Count a bias per output channel (off by default).", default=False)
_MULTIPLIER = Field("int", "Depthwise channel multiplier (outputs per input channel).", default=1)

CONV_FIELDS = {
    "out": Field("int", "Output channels.", required=True),
    "kernel": _KERNEL,
    "stride": _STRIDE,
    "padding": PADDING,
    "dilation": DILATION,
    "groups": Field("int", "Groups; must divide input channels and out.", default=1),
    "bias": _BIAS_OFF,
    "learned": LEARNED,
}


def classify(layer: Conv) -> BreakdownKind:
    """Which breakdown row a conv belongs to."""
    if layer.groups == 1:
        return "pointwise" if all(k == 1 for k in layer.kernel) else "conv"
    if layer.groups == layer.in_channels:
        return "depthwise"
    return "grouped"


def _conv_costed(f: Mapping[str, object], layers: tuple[Conv, ...], reference: Conv) -> Costed:
    counts = ZERO
    parts = []
    for layer in layers:
        layer_counts = layer.counts()
        counts = counts.plus(layer_counts)
        parts.append(BreakdownPart(classify(layer), layer_counts))
    return own_params(f, Costed(layers[-1].output_shape, counts, tuple(parts), reference, layers, layers))


def _conv(
    f: Mapping[str, object],
    shape: Shape,
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


def _multiplier(f: Mapping[str, object]) -> int:
    return values.positive_int(f.get("multiplier", 1), "multiplier")


def _depthwise(f: Mapping[str, object], shape: Shape, bias: bool) -> Conv:
    c_in = shape[-1]
    return _conv(f, shape, c_in * _multiplier(f), f.get("kernel"), c_in, bias)


def scale_channels(out: object, alpha: Fraction) -> int:
    """``out`` × α, rounded to the nearest int (halves up), at least 1 — exact for MobileNet's α."""
    channels = values.positive_int(out, "out")
    scaled = channels * alpha
    return max(1, floor(scaled + Fraction(1, 2)))


def cost_conv(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """A regular or grouped conv (``groups``)."""
    shape = shapes[0]
    needs_spatial(shape, "conv")
    layer = _conv(f, shape, f.get("out"), f.get("kernel"), f.get("groups", 1), boolean(f, "bias", False))
    return _conv_costed(f, (layer,), layer)


register(Kind("conv", "A regular or grouped convolution.", {"in": IN, **CONV_FIELDS}, cost_conv,
              width="scale", forms=True))  # fmt: skip


def cost_transposed(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """A transposed conv; MACs counted per input element (the multiplications actually done)."""
    shape = shapes[0]
    needs_spatial(shape, "transposed")
    layer = _conv(
        f, shape, f.get("out"), f.get("kernel"), f.get("groups", 1), boolean(f, "bias", False), True
    )
    return _conv_costed(f, (layer,), layer)


register(
    Kind(
        "transposed",
        "A transposed convolution (MACs counted per input element).",
        {
            "in": IN,
            **CONV_FIELDS,
            "output_padding": Field(
                "dims0", "Extra output size on the far side: an int or one per dim.", default=0
            ),
        },
        cost_transposed,
        receptive_field=untracked,
    )
)


def cost_depthwise(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """A depthwise conv: groups = input channels, ``multiplier`` outputs each."""
    shape = shapes[0]
    needs_spatial(shape, "depthwise")
    layer = _depthwise(f, shape, boolean(f, "bias", False))
    if "out" in f and values.positive_int(f["out"], "out") != layer.out_channels:
        raise ConvCostError(
            "out",
            f"{f['out']} is not input channels × multiplier ({shape[-1]} × {_multiplier(f)} = "
            f"{layer.out_channels}); drop out, or set multiplier",
        )
    return _conv_costed(f, (layer,), layer)


register(
    Kind(
        "depthwise",
        "A depthwise convolution: one filter per input channel (times the multiplier).",
        {
            "in": IN,
            "kernel": _KERNEL,
            "stride": _STRIDE,
            "padding": PADDING,
            "dilation": DILATION,
            "multiplier": _MULTIPLIER,
            "out": Field("int", "Output channels; if given, must equal input channels × multiplier."),
            "bias": _BIAS_OFF,
            "learned": LEARNED,
        },
        cost_depthwise,
        width="follow",
        forms=True,
    )
)


def cost_separable(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Depthwise k×k then pointwise 1×1 to ``out``, one entry (Keras' SeparableConv2D).

    The bias, when on, is on the pointwise output only.
    """
    shape = shapes[0]
    needs_spatial(shape, "separable")
    depthwise = _depthwise(f, shape, False)
    step = pointwise(
        depthwise.output_shape, values.positive_int(f.get("out"), "out"), boolean(f, "bias", False)
    )
    # the same layer as one regular conv: the depthwise geometry, all channels, the pointwise outputs
    reference = depthwise._replace(
        out_channels=step.out_channels, groups=1, bias=step.bias, output_shape=step.output_shape
    )
    return _conv_costed(f, (depthwise, step), reference)


register(
    Kind(
        "separable",
        "Depthwise k×k then pointwise 1×1, as one entry (Keras' SeparableConv2D).",
        {
            "in": IN,
            "out": Field("int", "Output channels of the pointwise 1×1 step.", required=True),
            "kernel": _KERNEL,
            "stride": _STRIDE,
            "padding": PADDING,
            "dilation": DILATION,
            "multiplier": _MULTIPLIER,
            "bias": Field("bool", "A bias on the pointwise output (off by default).", default=False),
            "learned": LEARNED,
        },
        cost_separable,
        width="scale",
        forms=True,
    )
)
