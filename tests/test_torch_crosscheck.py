"""Cross-checks against PyTorch: output shapes, parameter counts and FlopCounterMode.

FlopCounterMode counts a conv as 2 FLOPs per multiply-accumulate and leaves the
bias out, so its FLOPs / 2 must equal convcost's MACs exactly. Required in CI.
"""

from __future__ import annotations

import random
from math import prod

import pytest

from convcost import Conv, ConvCostError, conv

pytestmark = pytest.mark.torch

N_CONFIGS = 300


def random_layer(rng: random.Random) -> Conv:
    while True:
        ndim = rng.choice((1, 2, 2, 3))
        spatial = tuple(rng.randint(1, 9 if ndim == 3 else 17) for _ in range(ndim))
        style = rng.choice(("regular", "grouped", "depthwise"))
        if style == "regular":
            groups, c_in, out = 1, rng.randint(1, 6), rng.randint(1, 6)
        elif style == "grouped":
            groups = rng.randint(2, 4)
            c_in, out = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
        else:
            c_in = rng.randint(2, 8)
            groups, out = c_in, c_in * rng.randint(1, 2)
        kernel = tuple(rng.randint(1, 5) for _ in range(ndim))
        stride = tuple(rng.randint(1, 3) for _ in range(ndim))
        dilation = tuple(rng.randint(1, 3) for _ in range(ndim))
        padding: object = rng.choice(
            [
                "same",
                "valid",
                rng.randint(0, 2),
                tuple(rng.randint(0, 3) for _ in range(ndim)),
                tuple((rng.randint(0, 2), rng.randint(0, 2)) for _ in range(ndim)),
            ]
        )
        try:
            return conv(
                spatial + (c_in,),
                out,
                kernel,
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=groups,
                bias=rng.random() < 0.5,
            )
        except ConvCostError:
            continue


def torch_count(torch, layer: Conv) -> tuple[tuple[int, ...], int, int]:
    """Build the layer in torch, run it, return (channels-last output shape, params, FLOPs)."""
    from torch.utils.flop_counter import FlopCounterMode

    nd = layer.ndim
    module_type = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[nd]
    pads = layer.padding
    symmetric = all(lo == hi for lo, hi in pads)
    module = module_type(
        layer.in_channels,
        layer.out_channels,
        layer.kernel,
        stride=layer.stride,
        padding=tuple(lo for lo, _ in pads) if symmetric else 0,
        dilation=layer.dilation,
        groups=layer.groups,
        bias=layer.bias,
    )
    x = torch.zeros((1, layer.in_channels, *layer.in_shape[:-1]))
    if not symmetric:
        # torch pads symmetrically; asymmetric (and TF 'same') padding is an explicit pad first.
        flat = [side for lo, hi in reversed(pads) for side in (lo, hi)]
        x = torch.nn.functional.pad(x, flat)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        y = module(x)
    shape = tuple(y.shape[2:]) + (y.shape[1],)
    params = sum(p.numel() for p in module.parameters())
    return shape, params, counter.get_total_flops()


def test_random_layers_match_torch(torch) -> None:
    rng = random.Random(20261126)
    checked_same_padding = 0
    for _ in range(N_CONFIGS):
        layer = random_layer(rng)
        shape, params, flops = torch_count(torch, layer)
        assert layer.output_shape == shape, layer
        assert layer.params == params, layer
        assert 2 * layer.macs == flops, layer
        checked_same_padding += layer.padding_rule == "same"
    assert checked_same_padding > 20


def test_same_padding_at_stride_1_is_torchs_same(torch) -> None:
    rng = random.Random(7)
    for _ in range(60):
        nd = rng.randint(1, 3)
        size = tuple(rng.randint(1, 12) for _ in range(nd))
        kernel = tuple(rng.randint(1, 6) for _ in range(nd))
        dilation = tuple(rng.randint(1, 3) for _ in range(nd))
        layer = conv(size + (3,), 4, kernel, dilation=dilation, padding="same")
        module = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[nd](
            3, 4, kernel, dilation=dilation, padding="same"
        )
        y = module(torch.zeros((1, 3, *size)))
        assert layer.output_shape == tuple(y.shape[2:]) + (4,)
        assert prod(layer.output_shape[:-1]) == prod(size)
