"""Pooling: max or average over a window, or over each channel's whole map (global)."""

from __future__ import annotations

from collections.abc import Mapping
from math import prod

from ...core.conv import Conv, Counts, conv
from ...core.errors import ConvCostError
from .common import DILATION, IN, PADDING, boolean, needs_spatial
from .registry import BreakdownPart, Costed, Field, Kind, Shape, register


def _ceil_output(window: Conv) -> Shape:
    """Pool output sizes rounded up (ceil_mode), dropping a last window that would start in the far
    padding, as PyTorch and ONNX do."""
    sizes: list[int] = []
    for size, _, k, s, d, lo in window.axes():
        hi = window.padding[len(sizes)][1]
        out = -(-(size + lo + hi - d * (k - 1) - 1) // s) + 1
        if (out - 1) * s >= size + lo:
            out -= 1
        sizes.append(out)
    return tuple(sizes) + (window.out_channels,)


def cost_pool(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Max or average pooling: no MACs, no params; window comparisons or adds as other ops."""
    shape = shapes[0]
    needs_spatial(shape, "pool")
    channels = shape[-1]
    average = f.get("mode", "max") == "avg"
    if boolean(f, "global", False):
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
            dilation=f.get("dilation", 1),
        )
        if boolean(f, "ceil", False):
            window = window._replace(output_shape=_ceil_output(window))
    taps = prod(window.kernel)
    ops = prod(window.output_shape) * (taps if average else taps - 1)
    counts = Counts(0, 0, 0, 0, ops)
    return Costed(window.output_shape, counts, (BreakdownPart("other", counts),), None, (), (window,))


register(
    Kind(
        "pool",
        "Max or average pooling.",
        {
            "in": IN,
            "mode": Field("choice", "max or avg.", default="max", choices=("max", "avg")),
            "kernel": Field("dims", "Window size (not needed with global: true).", default=None),
            "stride": Field("dims", "Stride; defaults to the window size.", default=None),
            "padding": PADDING,
            "dilation": DILATION,
            "ceil": Field(
                "bool", "Round the output size up (ceil_mode), as PyTorch and ONNX.", default=False
            ),
            "global": Field("bool", "Pool each channel's whole map to 1×…×1.", default=False),
        },
        cost_pool,
    )
)
