"""Memory traffic, arithmetic intensity and roofline estimates.

Minimum traffic of a layer run alone: read its input and its weights once,
write its output once. A chain of convs run as separate kernels (the
depthwise-separable form) also writes and reads each intermediate tensor,
unless fused. FLOPs here are 2·MACs plus one add per output with bias.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import NamedTuple

from .conv import Conv
from .devices import Device
from .dtypes import DType
from .options import Settings


class Traffic(NamedTuple):
    """Work and minimum memory traffic for one layer (or variant), for the whole batch."""

    flops: int
    input_bytes: int
    weight_bytes: int
    output_bytes: int
    intermediate_bytes: int  # each intermediate tensor's size (written once, read once unless fused)
    fused: bool

    @property
    def bytes(self) -> int:
        between = 0 if self.fused else 2 * self.intermediate_bytes
        return self.input_bytes + self.weight_bytes + self.output_bytes + between

    @property
    def arithmetic_intensity(self) -> float:
        """FLOPs per byte of minimum traffic."""
        return self.flops / self.bytes if self.bytes else 0.0


class Estimate(NamedTuple):
    """A roofline lower bound on time: max(FLOPs / peak, bytes / bandwidth)."""

    compute_s: float
    memory_s: float

    @property
    def time_s(self) -> float:
        return max(self.compute_s, self.memory_s)

    @property
    def bound(self) -> str:
        return "compute" if self.compute_s >= self.memory_s else "memory"


def traffic(
    flops: int,
    input_elements: int,
    weights: int,
    output_elements: int,
    settings: Settings,
    intermediate_elements: int = 0,
) -> Traffic:
    """Per-sample element counts → traffic for the batch in the chosen dtype (weights read once)."""
    size, batch = settings.dtype.bytes, settings.batch
    return Traffic(
        flops * batch,
        input_elements * batch * size,
        weights * size,
        output_elements * batch * size,
        intermediate_elements * batch * size,
        settings.fused,
    )


def conv_traffic(convs: Sequence[Conv], settings: Settings) -> Traffic:
    """A conv, or convs run one after another (depthwise then pointwise)."""
    return chain([single_traffic(c, settings) for c in convs])


def single_traffic(layer: Conv, settings: Settings) -> Traffic:
    return traffic(layer.flops, prod(layer.in_shape), layer.params, prod(layer.output_shape), settings)


def chain(steps: Sequence[Traffic]) -> Traffic:
    """Steps run one after another: every output but the last is an intermediate tensor."""
    if len(steps) == 1:
        return steps[0]
    flops = weights = between = 0
    for step in steps:  # a loop, not three sum() generators: this runs for every separable form
        flops += step.flops
        weights += step.weight_bytes
        between += step.output_bytes
    first, last = steps[0], steps[-1]
    return Traffic(
        flops, first.input_bytes, weights, last.output_bytes, between - last.output_bytes, first.fused
    )


def estimate(work: Traffic, device: Device, dtype: DType) -> Estimate:
    return Estimate(work.flops / device.peak[dtype], work.bytes / device.bandwidth)


def ridge_point(device: Device, dtype: DType) -> float:
    """The arithmetic intensity (FLOPs per byte) above which a kernel can be compute-bound."""
    return device.peak[dtype] / device.bandwidth
