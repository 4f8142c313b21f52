"""The API's fast paths (plain ints) give exactly what the general path gives, errors included."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcost import ConvCostError, conv
from convcost.core.batch import cost_many

sizes = st.integers(1, 40)


@settings(max_examples=400, deadline=None)
@given(
    shape=st.lists(sizes, min_size=2, max_size=4).map(tuple),
    out=st.integers(1, 12),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 4),
    padding=st.integers(0, 4),
    dilation=st.integers(1, 3),
    groups=st.sampled_from([1, 2, 3]),
    bias=st.booleans(),
)
def test_plain_ints_take_the_fast_path_to_the_same_conv(
    shape, out, kernel, stride, padding, dilation, groups, bias
):
    def general():
        # strings force the general parser
        return conv(
            "x".join(map(str, shape)), str(out), str(kernel), stride=str(stride), padding=str(padding),
            dilation=str(dilation), groups=str(groups), bias=bias,
        )  # fmt: skip

    try:
        expected = general()
    except ConvCostError as exc:
        with pytest.raises(ConvCostError) as caught:
            conv(
                shape,
                out,
                kernel,
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=groups,
                bias=bias,
            )
        assert str(caught.value) == str(exc)
        with pytest.raises(ConvCostError, match=r"^layers\[0\]"):
            cost_many([(shape, out, kernel, stride, padding, dilation, groups)])
        return
    fast = conv(
        shape, out, kernel, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias
    )
    assert fast == expected and type(fast) is type(expected)
    assert (fast.macs, fast.params, fast.counts()) == (expected.macs, expected.params, expected.counts())
    if not bias:
        [(shape_out, macs, params)] = cost_many([(shape, out, kernel, stride, padding, dilation, groups)])
        assert (shape_out, macs, params) == (expected.output_shape, expected.macs, expected.params)


def test_cost_many_takes_any_layer_conv_takes_and_names_the_bad_one() -> None:
    results = cost_many([((28, 28, 8), 16, 3), ("28x28x8", 16, 3), ((300, 16), 32, 5, 1, 2)])
    assert results[0] == results[1] == ((26, 26, 16), 778_752, 1_152)
    assert results[2] == ((300, 32), 300 * 32 * 16 * 5, 32 * 16 * 5)
    with pytest.raises(ConvCostError, match=r"^layers\[1\]\.groups: 3 must divide"):
        cost_many([((28, 28, 8), 16, 3), ((28, 28, 8), 16, 3, 1, 0, 1, 3)])
    with pytest.raises(
        ConvCostError, match=r"^layers\[0\]: .* is not allowed; expected \(in_shape, out, kernel"
    ):
        cost_many([((28, 28, 8), 16)])
    with pytest.raises(ConvCostError, match=r"^layers\[0\]: 7 is not allowed"):
        cost_many([7])
    with pytest.raises(ConvCostError, match=r"^layers\[0\]\.out: True is not allowed"):
        cost_many([((28, 28, 8), True, 3)])  # a bool is not an int


@given(
    shape=st.tuples(*[st.integers(1, 40)] * 3),
    out=st.integers(1, 64),
    kernel=st.integers(1, 7),
    geometry=st.tuples(st.integers(1, 3), st.integers(0, 3), st.integers(1, 2), st.sampled_from([1, 2, 4])),
    given_count=st.integers(0, 4),
)
def test_cost_many_reads_every_tuple_length_as_its_defaults_say(
    shape: tuple[int, int, int],
    out: int,
    kernel: int,
    geometry: tuple[int, int, int, int],
    given_count: int,
) -> None:
    """(in, out, kernel) plus 0–4 of stride, padding, dilation, groups: the rest default."""
    given = geometry[:given_count]
    full = (shape, out, kernel, *given, *(1, 0, 1, 1)[given_count:])
    short = (shape, out, kernel, *given)
    try:
        expected = cost_many([full])
    except ConvCostError as exc:
        with pytest.raises(ConvCostError) as caught:
            cost_many([short])
        assert str(caught.value) == str(exc)
        return
    assert cost_many([short]) == expected
