"""ConvTranspose with ``output_shape`` (issue 18): supported per the ONNX spec.

The padding is worked out from the stated output and ``auto_pad`` (total = s·(in−1) + output_padding
+ d·(k−1) + 1 − out, split as the spec's reference does); an output past the natural size is the
transposed conv's output with zeros after (or before), which no tap reaches. MACs are per input element.
"""

from __future__ import annotations

import pytest

from tests.conftest import optional_module

onnx = optional_module("onnx", "onnx")
optional_module("numpy", "onnx")

from onnx_build import build, cost, inferred, node, weight  # noqa: E402

from convcost.core.errors import ConvCostError  # noqa: E402


def transposed(**attrs):
    return build(
        [node("ConvTranspose", ["x", "w", "b"], ["y"], "up", **attrs), node("Relu", ["y"], ["z"], "act")],
        [("x", [2, 4, 8, 8])], [("z", None)], [weight("w", 4, 3, 3, 3), weight("b", 3)],
    )  # fmt: skip


MACS = 8 * 8 * 4 * 3 * 9  # each input element times each tap of each output channel
PARAMS = 4 * 3 * 9 + 3


@pytest.mark.parametrize(
    "attrs",
    [
        {"strides": [2, 2], "output_shape": [16, 16]},  # inside the natural 17: padding 1:0
        {"strides": [2, 2], "output_shape": [14, 15]},
        {"strides": [2, 2], "output_shape": [17, 17]},  # the natural size
        {"strides": [2, 2], "output_shape": [18, 20]},  # past it: was refused (negative padding)
        {"strides": [2, 2], "output_shape": [21, 19], "auto_pad": "SAME_UPPER"},
        {"strides": [2, 2], "output_shape": [18, 17], "auto_pad": "SAME_LOWER"},
        {"strides": [2, 2], "output_shape": [16, 16], "auto_pad": "SAME_UPPER"},
        {"strides": [3, 3], "auto_pad": "SAME_UPPER"},  # out = in·s = 24, the natural 3·7 + 3
        {"strides": [4, 4], "auto_pad": "SAME_LOWER"},  # out = 32, past the natural 4·7 + 3 = 31: extended
        {"strides": [2, 2], "output_shape": [18, 18], "output_padding": [1, 1]},
    ],
)
def test_the_output_is_as_onnx_infers_and_macs_per_input_element(attrs) -> None:
    model = transposed(**attrs)
    converted, network = cost(model)
    assert not converted.unsupported
    assert converted.batch == 2
    n, c, h, w = inferred(model)["y"]
    assert n == 2
    assert network.rows[-1].output_shape == (h, w, c)
    assert network.totals.macs == MACS
    assert network.totals.params == PARAMS


def test_an_output_past_the_natural_size_is_padded_after_the_conv() -> None:
    converted, _ = cost(transposed(strides=[2, 2], output_shape=[21, 19]))
    layers = {layer["name"]: layer for layer in converted.document["layers"]}
    assert "padding" not in layers["up"]
    assert layers["up_extended"] == {"name": "up_extended", "type": "pad", "module": "", "pads": "2x1x0"}


@pytest.mark.parametrize(
    ("attrs", "problem"),
    [
        ({"output_shape": [0, 0]}, "has output_shape [0, 0]: an output size below 1"),
        ({"output_shape": [16, -1]}, "has output_shape [16, -1]: an output size below 1"),
        ({"output_shape": [17]}, "has output_shape [17] of 1 dim(s); its 2-D kernel needs one output size"),
        ({"output_shape": [2, 3, 17, 17]}, "has output_shape [2, 3, 17, 17] of 4 dim(s)"),
    ],
)
def test_an_output_shape_that_does_not_fit_is_one_line(attrs, problem) -> None:
    with pytest.raises(ConvCostError) as error:
        cost(transposed(strides=[2, 2], **attrs))
    assert str(error.value).startswith(f"node 'up' (ConvTranspose): {problem}")
    assert "internal error" not in str(error.value)


@pytest.mark.parametrize("stated", [[1, 1], [7, 12]])
def test_an_output_shape_far_below_the_natural_size_is_costed_per_the_spec(stated) -> None:
    """onnx's inference leaves the spatial dims out of these (a 2-D output); convcost's own follows
    the spec: the stated size, the padding the rest of the natural 17x17."""
    converted, network = cost(transposed(strides=[2, 2], output_shape=stated))
    assert not converted.unsupported
    assert network.rows[-2].output_shape == (*stated, 3)
    assert network.totals.macs == MACS
