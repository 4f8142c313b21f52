"""The example specs: exact totals pinned, and checked against the papers' printed figures."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from convcost.io.spec_file import read
from convcost.model.evaluate import Network, evaluate
from convcost.model.whatif import Options

SPECS = Path(__file__).resolve().parent.parent / "specs"


def cost(name: str, **options: object) -> Network:
    return evaluate(read((SPECS / name).read_bytes()), Options(**options))  # type: ignore[arg-type]


def near(exact: int, printed: float, unit: float) -> bool:
    """Agrees with a paper's figure to its printed precision (rounded or truncated)."""
    return abs(exact / unit - printed) < 1


def test_mobilenet_v1_table_1_and_8() -> None:
    net = cost("mobilenet_v1.yaml")
    assert net.totals.macs == 568_740_352 and near(net.totals.macs, 569, 1e6)
    assert net.totals.params == 4_210_088 and round(net.totals.params / 1e6, 1) == 4.2
    assert net.output_shape == (1000,)
    # Table 1: the 13th depthwise layer keeps 7×7 (its "s2" is a typo)
    shapes = {row.name: row.output_shape for row in net.rows}
    assert shapes["sep12"] == (7, 7, 1024) and shapes["sep13"] == (7, 7, 1024)
    assert sum(row.type == "separable" for row in net.rows) == 13


def test_conv_mobilenet_table_4() -> None:
    net = cost("mobilenet_v1.yaml", as_form="regular")
    assert net.totals.macs == 4_867_293_184
    fc_macs = 1024 * 1000
    # The paper's 4866M leaves out the FC's MACs (see the spec's comment).
    assert near(net.totals.macs - fc_macs, 4866, 1e6)
    assert net.totals.params == 29_282_120 and round(net.totals.params / 1e6, 1) == 29.3
    # the same figure as the network-level "regular" variant of the spec as written
    assert cost("mobilenet_v1.yaml").variant_totals()["regular"] == net.totals


def test_mobilenet_table_2_breakdown() -> None:
    net = cost("mobilenet_v1.yaml")
    total = net.totals.macs
    kinds = net.breakdown()
    assert round(100 * kinds["pointwise"].macs / total, 2) == 94.86
    assert round(100 * kinds["depthwise"].macs / total, 2) == 3.06
    assert round(100 * kinds["linear"].macs / total, 2) == 0.18
    # Printed as 1.19 %: a transposition (the paper's four shares then sum to 99.29 %).
    assert round(100 * kinds["conv"].macs / total, 2) == 1.91
    weights = net.totals.params - 1000  # the paper's parameter shares leave out the FC biases
    assert round(100 * kinds["pointwise"].params / weights, 2) == 74.59
    assert round(100 * (kinds["linear"].params - 1000) / weights, 2) == 24.33
    assert round(100 * kinds["depthwise"].params / weights, 2) == 1.06
    assert round(100 * kinds["conv"].params / weights, 2) == 0.02


@pytest.mark.parametrize(
    ("alpha", "macs", "params", "paper_macs", "paper_params"),
    [
        ("0.75", 325_400_448, 2_569_144, 325, 2.6),
        ("0.5", 149_497_088, 1_320_648, 149, 1.3),
        ("0.25", 41_030_272, 464_600, 41, 0.5),
    ],
)
def test_mobilenet_table_6_width_multiplier(alpha, macs, params, paper_macs, paper_params) -> None:
    net = cost("mobilenet_v1.yaml", width_mult=Fraction(alpha))
    assert (net.totals.macs, net.totals.params) == (macs, params)
    assert near(macs, paper_macs, 1e6) and round(params / 1e6, 1) == paper_params


@pytest.mark.parametrize(
    ("size", "macs", "paper_macs"),
    [(192, 418_121_728, 418), (160, 290_675_200, 290), (128, 186_400_768, 186)],
)
def test_mobilenet_table_7_resolution(size, macs, paper_macs) -> None:
    net = cost("mobilenet_v1.yaml", input_shape=(size, size, 3))
    assert net.totals.macs == macs and near(macs, paper_macs, 1e6)
    assert net.totals.params == 4_210_088


def test_mobilenet_v2() -> None:
    net = cost("mobilenet_v2.yaml")
    assert net.totals.macs == 300_774_272 and near(net.totals.macs, 300, 1e6)
    assert net.totals.params == 3_470_760
    assert int(net.totals.params / 1e5) / 10 == 3.4  # the paper truncates 3.47M
    assert sum(row.type == "add" for row in net.rows) == 10  # residual bottlenecks


def test_vgg16() -> None:
    net = cost("vgg16.yaml")
    assert net.totals.params == 138_357_544 and round(net.totals.params / 1e6) == 138
    assert net.totals.macs == 15_470_264_320


def test_resnet18_matches_torchvision() -> None:
    net = cost("resnet18.yaml")
    assert net.totals.params == 11_689_512
    assert net.totals.macs == 1_814_073_344 and round(net.totals.macs / 1e9, 1) == 1.8


def test_resnet50_matches_torchvision() -> None:
    net = cost("resnet50.yaml")
    assert net.totals.params == 25_557_032
    assert net.totals.macs == 4_089_184_256
    assert net.breakdown()["other"].params == 53_120  # batch norm


def test_seed_specs() -> None:
    seed = {row.name: row for row in cost("seed_layer.yaml").rows}
    assert seed["seed"].counts.macs == 778_752
    assert seed["seed"].comparison is not None
    assert seed["seed"].comparison.variants["depthwise_separable"].counts.macs == 135_200
    assert seed["image_8_kernels"].output_shape == (222, 222, 8)
    stack = {row.name: row for row in cost("seed_5x5_vs_3x3.yaml").rows}
    assert stack["one_5x5"].counts.macs == 58_080_000
    assert stack["stack_3x3_b"].input_shape == (222, 222, 16)  # the real 16-channel second layer
    assert stack["stack_3x3_a"].counts.macs + stack["stack_3x3_b"].counts.macs == 132_804_288
    assert (
        stack["stack16_3x3_a"].counts.macs + stack["stack16_3x3_b"].counts.macs
        < stack["one_5x5_16ch"].counts.macs
    )


@pytest.mark.parametrize("spec", sorted(p.name for p in SPECS.glob("*.yaml")))
def test_rows_sum_to_totals_and_breakdown(spec) -> None:
    net = cost(spec)
    assert sum(row.counts.macs for row in net.rows) == net.totals.macs
    assert sum(row.counts.params for row in net.rows) == net.totals.params
    kinds = net.breakdown().values()
    assert sum(k.macs for k in kinds) == net.totals.macs
    assert sum(k.params for k in kinds) == net.totals.params
    names = [row.name for row in net.rows]
    assert len(names) == len(set(names))
