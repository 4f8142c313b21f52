"""The arithmetic the product starts from, and MobileNet's Table 3, pinned to exact integers."""

from __future__ import annotations

from fractions import Fraction

from convcost import compare, conv


def test_eight_3x3_kernels_over_a_224_image_give_222x222x8() -> None:
    assert conv("224x224x3", 8, 3).output_shape == (222, 222, 8)


def test_28x28x8_to_16_with_3x3() -> None:
    c = compare(conv("28x28x8", 16, 3))
    assert c.counts.macs == 26 * 26 * 3 * 3 * 8 * 16 == 778_752
    dws = c.variants["depthwise_separable"]
    depthwise, pointwise = dws.parts
    assert (depthwise.name, depthwise.counts.macs) == ("depthwise", 26 * 26 * 3 * 3 * 8)
    assert depthwise.counts.macs == 48_672
    assert (pointwise.name, pointwise.counts.macs) == ("pointwise", 86_528)
    assert dws.counts.macs == 135_200
    assert dws.exact_ratio == Fraction(1, 16) + Fraction(1, 9) == Fraction(135_200, 778_752)
    assert round(dws.reduction_pct, 1) == 82.6


def test_ratio_tends_to_one_ninth_as_n_grows() -> None:
    ratios = [compare(conv("28x28x8", n, 3)).variants["depthwise_separable"].ratio for n in (16, 256, 65536)]
    assert ratios[0] > ratios[1] > ratios[2] > 1 / 9
    assert abs(ratios[2] - 1 / 9) < 1e-4


def test_5x5_on_224x224x3_to_16_is_58_080_000() -> None:
    # The seed text also prints 580,800,000 for this layer: that is 10x too big.
    # 220·220·3·5·5·16 = 58,080,000 exactly; pin the true value.
    layer = conv("224x224x3", 16, 5)
    assert layer.output_shape == (220, 220, 16)
    assert layer.macs == 220 * 220 * 3 * 5 * 5 * 16 == 58_080_000


def test_two_stacked_3x3_cost_less_than_one_5x5_with_the_real_16_channel_second_layer() -> None:
    first = conv("224x224x3", 16, 3)
    second = conv(first.output_shape, 16, 3)  # takes 16 input channels, not 3
    assert second.output_shape == (220, 220, 16)  # the same 5×5 view as one 5×5 conv
    assert first.macs == 222 * 222 * 3 * 9 * 16 == 21_290_688
    assert second.macs == 220 * 220 * 16 * 9 * 16 == 111_513_600
    # With real channels the stack is *dearer* than one 5×5 (132.8M vs 58.08M) on a
    # 3-channel input: the saving holds only when in and out channels match.
    assert first.macs + second.macs > conv("224x224x3", 16, 5).macs
    same_channels_5x5 = conv("224x224x16", 16, 5).macs
    assert conv("224x224x16", 16, 3).macs + second.macs < same_channels_5x5


def test_mobilenet_table_3_one_14x14x512_layer() -> None:
    # Howard et al. 2017, Table 3: 462M vs 52.3M mult-adds, 2.36M vs 0.27M params.
    c = compare(conv("14x14x512", 512, 3, padding="same"))
    regular, dws = c.variants["regular"].counts, c.variants["depthwise_separable"].counts
    assert regular.macs == 462_422_016 and round(regular.macs / 1e6) == 462
    assert dws.macs == 52_283_392 and round(dws.macs / 1e6, 1) == 52.3
    assert regular.params == 2_359_296 and round(regular.params / 1e6, 2) == 2.36
    assert dws.params == 266_752 and round(dws.params / 1e6, 2) == 0.27


def test_huge_layer_is_an_exact_int() -> None:
    layer = conv("100000x100000x1024", 4096, 7, padding="same")
    assert layer.output_shape == (100000, 100000, 4096)
    assert layer.macs == 100000 * 100000 * 4096 * 1024 * 49
    assert type(layer.macs) is int


def test_python_api_reaches_every_layer_of_the_tool() -> None:
    import convcost

    assert set(convcost.__all__) <= set(dir(convcost)) | set(convcost._LAZY)
    s = convcost.make_settings(dtype="fp16", batch=2, device="a100")
    data = convcost.comparison_dict(convcost.compare(convcost.conv("28x28x8", 16, 3)), s)
    assert data["macs"] == 2 * 778_752 and data["variants"]["regular"]["bound"] in ("compute", "memory")
    net = convcost.evaluate({"input": "28x28x8", "layers": [{"out": 16, "kernel": 3}]})
    assert convcost.network_dict(net)["totals"]["macs"] == 778_752
    points = convcost.sweep_points({"in": "28x28x8", "out": "16,32", "kernel": "3"}, {})
    assert [p.comparison.counts.macs for p in points] == [778_752, 2 * 778_752]
    assert "a100" in convcost.DEVICES
