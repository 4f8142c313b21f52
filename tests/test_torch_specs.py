"""Random specs costed by convcost and by PyTorch, row by row. Required in CI."""

from __future__ import annotations

import random

import pytest

from convcost.core.conv import Conv
from convcost.model.evaluate import Network, evaluate

pytestmark = pytest.mark.torch


def random_spec(rng: random.Random) -> dict:
    size = rng.randint(10, 24)
    layers: list[dict] = []
    channels = rng.randint(1, 6)
    shape = f"{size}x{size + rng.randint(0, 5)}x{channels}"
    for _ in range(rng.randint(2, 7)):
        kind = rng.choice(
            ["conv", "conv", "depthwise", "separable", "pool", "batchnorm", "residual", "branches"]
        )
        k = rng.choice([1, 3, 3, 5])
        stride = rng.choice([1, 1, 2])
        padding = rng.choice(["same", "valid", k // 2, f"{k // 2}x0", "0:1x1:0"])
        if kind == "conv":
            groups = rng.choice([g for g in (1, 2, 3) if channels % g == 0])
            out = groups * rng.randint(1, 4)
            layers.append(
                {
                    "out": out,
                    "kernel": k,
                    "stride": stride,
                    "padding": padding,
                    "groups": groups,
                    "bias": rng.random() < 0.5,
                }
            )
            channels = out
        elif kind == "depthwise":
            m = rng.randint(1, 2)
            layers.append(
                {"type": "depthwise", "kernel": k, "stride": stride, "padding": padding, "multiplier": m}
            )
            channels *= m
        elif kind == "separable":
            out = rng.randint(1, 8)
            layers.append(
                {
                    "type": "separable",
                    "out": out,
                    "kernel": k,
                    "stride": stride,
                    "padding": padding,
                    "bias": rng.random() < 0.5,
                }
            )
            channels = out
        elif kind == "pool":
            pk = rng.choice([2, 3])
            layers.append(
                {
                    "type": "pool",
                    "mode": rng.choice(["max", "avg"]),
                    "kernel": pk,
                    "stride": rng.choice([1, 2]),
                    "padding": rng.randint(0, pk // 2),
                }
            )
        elif kind == "batchnorm":
            layers.append({"type": "batchnorm"})
        elif kind == "residual":
            layers.append({"type": "residual", "body": [{"out": channels, "kernel": 3, "padding": 1}]})
        else:
            layers.append(
                {
                    "type": "branches",
                    "branches": [
                        [{"out": rng.randint(1, 4), "kernel": 1}],
                        [{"out": rng.randint(1, 4), "kernel": 3, "padding": "same"}],
                    ],
                }
            )
            break  # the concat's channel count is left to the costed rows
    layers.append({"type": "pool", "mode": "avg", "global": True})
    layers.append({"type": "linear", "out": rng.randint(1, 10), "bias": rng.random() < 0.7})
    return {"input": shape, "layers": layers}


def torch_conv(torch, layer: Conv):
    module = torch.nn.Conv2d(
        layer.in_channels,
        layer.out_channels,
        layer.kernel,
        stride=layer.stride,
        dilation=layer.dilation,
        groups=layer.groups,
        bias=layer.bias,
    )
    flat = [side for lo, hi in reversed(layer.padding) for side in (lo, hi)]

    def run(x):
        return module(torch.nn.functional.pad(x, flat))

    return module, run


def check_network(torch, net: Network) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    total_flops = 0
    for row in net.rows:
        if row.type in ("add", "concat"):
            continue
        x = torch.zeros((1, row.input_shape[-1], *row.input_shape[:-1])) if len(row.input_shape) > 1 else None
        params = 0
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            if row.costed and row.costed.convs:
                y = x
                for layer in row.costed.convs:
                    module, run = torch_conv(torch, layer)
                    y = run(y)
                    params += sum(p.numel() for p in module.parameters())
            elif row.type == "pool":
                y = None  # no MACs, no params; its shapes are checked in test_pool_shapes_match_torch
            elif row.type == "batchnorm":
                module = torch.nn.BatchNorm2d(row.input_shape[-1]).eval()
                y = module(x)
                params = sum(p.numel() for p in module.parameters())
            elif row.type == "linear":
                features = 1
                for v in row.input_shape:
                    features *= v
                module = torch.nn.Linear(
                    features, row.output_shape[0], bias=row.counts.params > features * row.output_shape[0]
                )
                y = module(torch.zeros((1, features)))
                params = sum(p.numel() for p in module.parameters())
            else:
                raise AssertionError(row.type)
        if y is not None and row.type != "linear":
            assert tuple(y.shape[2:]) + (y.shape[1],) == row.output_shape, row
        assert params == row.counts.params, row
        assert counter.get_total_flops() == 2 * row.counts.macs, row
        total_flops += counter.get_total_flops()
    assert total_flops == 2 * net.totals.macs
    return len(net.rows)


def test_pool_shapes_match_torch(torch) -> None:
    rng = random.Random(3)
    for _ in range(100):
        h, w, c = rng.randint(4, 20), rng.randint(4, 20), rng.randint(1, 4)
        k = rng.randint(1, 4)
        s = rng.randint(1, 3)
        p = rng.randint(0, k // 2)
        mode = rng.choice(["max", "avg"])
        net = evaluate(
            {
                "input": f"{h}x{w}x{c}",
                "layers": [{"type": "pool", "mode": mode, "kernel": k, "stride": s, "padding": p}],
            }
        )
        pool = (torch.nn.MaxPool2d if mode == "max" else torch.nn.AvgPool2d)(k, s, p)
        y = pool(torch.zeros((1, c, h, w)))
        assert tuple(y.shape[2:]) + (c,) == net.rows[0].output_shape


def test_random_specs_match_torch_row_by_row(torch) -> None:
    rng = random.Random(1126)
    checked = 0
    for _ in range(60):
        spec = random_spec(rng)
        try:
            net = evaluate(spec)
        except Exception as exc:  # a random kernel that does not fit is fine to skip
            if "dilated kernel" in str(exc) or "spatial size" in str(exc):
                continue
            raise
        checked += check_network(torch, net)
    assert checked > 200
