"""Property tests: the formulas against first principles on many random layers."""

from __future__ import annotations

from fractions import Fraction
from math import prod

from hypothesis import given, settings
from hypothesis import strategies as st

from convcost import ConvCostError, compare, conv


@st.composite
def layers(draw: st.DrawFn, max_size: int = 12, max_ndim: int = 3):
    ndim = draw(st.integers(1, max_ndim))
    spatial = tuple(draw(st.integers(1, max_size)) for _ in range(ndim))
    groups = draw(st.integers(1, 4))
    c_in = groups * draw(st.integers(1, 4))
    out = groups * draw(st.integers(1, 4))
    kernel = tuple(draw(st.integers(1, 5)) for _ in range(ndim))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
    padding = draw(
        st.one_of(
            st.sampled_from(["same", "valid"]),
            st.tuples(*[st.tuples(st.integers(0, 3), st.integers(0, 3)) for _ in range(ndim)]),
        )
    )
    bias = draw(st.booleans())
    try:
        return conv(
            spatial + (c_in,),
            out,
            kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
        )
    except ConvCostError:
        # The kernel did not fit: the validation is tested on its own.
        from hypothesis import assume

        assume(False)
        raise


def brute_force_positions(size: int, k: int, s: int, d: int, lo: int, hi: int) -> int:
    """Slide the dilated kernel along a padded line and count where it fits."""
    padded = size + lo + hi
    span = d * (k - 1) + 1
    return sum(1 for start in range(0, padded, s) if start + span <= padded)


@settings(max_examples=300, deadline=None)
@given(layers())
def test_output_size_matches_a_sliding_window_count(layer) -> None:
    for axis, size in enumerate(layer.in_shape[:-1]):
        lo, hi = layer.padding[axis]
        expected = brute_force_positions(
            size, layer.kernel[axis], layer.stride[axis], layer.dilation[axis], lo, hi
        )
        assert layer.output_shape[axis] == expected


@settings(max_examples=300, deadline=None)
@given(layers())
def test_macs_count_every_tap_of_every_output(layer) -> None:
    taps = (layer.in_channels // layer.groups) * prod(layer.kernel)
    assert layer.macs == prod(layer.output_shape) * taps
    counts = layer.counts()
    assert counts.flops == 2 * counts.macs + (prod(layer.output_shape) if layer.bias else 0)
    assert counts.adds == prod(layer.output_shape) * (taps - 1 + layer.bias)


@settings(max_examples=300, deadline=None)
@given(layers())
def test_depthwise_separable_ratio_is_the_mobilenet_formula(layer) -> None:
    c = compare(layer)
    dws = c.variants["depthwise_separable"]
    theory = Fraction(1, layer.out_channels) + Fraction(1, prod(layer.kernel))
    assert dws.exact_ratio == theory  # MACs never include the bias, so this holds exactly
    if not layer.bias:
        params_ratio = Fraction(dws.counts.params, c.variants["regular"].counts.params)
        assert params_ratio == theory
    assert ("grouped" in c.variants) == (layer.groups > 1)
    if layer.groups > 1:
        assert c.variants["grouped"].exact_ratio == Fraction(1, layer.groups)


@settings(max_examples=200, deadline=None)
@given(layers(), st.integers(2, 5))
def test_macs_scale_linearly_in_out_channels(layer, factor) -> None:
    scaled = conv(
        layer.in_shape,
        layer.out_channels * factor,
        layer.kernel,
        stride=layer.stride,
        padding=layer.padding,
        dilation=layer.dilation,
        groups=layer.groups,
    )
    assert scaled.macs == factor * layer.macs


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 40), st.integers(1, 4), st.integers(1, 7), st.integers(1, 3))
def test_same_padding_gives_ceil_of_input_over_stride(size, stride, kernel, dilation) -> None:
    layer = conv((size, 3), 4, kernel, stride=stride, dilation=dilation, padding="same")
    assert layer.output_shape[0] == -(-size // stride)
    lo, hi = layer.padding[0]
    assert hi - lo in (0, 1)  # the odd pixel goes after, as TensorFlow
