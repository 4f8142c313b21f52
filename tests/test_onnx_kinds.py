"""The layer kinds an imported graph needs, on plain specs, counted by hand.

activation, sub/div/elementwise, softmax, layernorm/groupnorm/instancenorm, reduce, matmul,
reshape/transpose/expand/gather, pad, resize, parameter and opaque; linear's ``flatten: false``,
pool's ``ceil`` and ``dilation`` and slice's ``step``. The counting rules are in the docstring of
convcost.model.kinds.
"""

from __future__ import annotations

import pytest

from convcost.core.errors import ConvCostError
from convcost.model.evaluate import evaluate


def net(*layers: dict, input: str = "4x4x8", **top: object):
    return evaluate({"input": input, "layers": list(layers), **top})


def only(*layers: dict, input: str = "4x4x8"):
    network = net(*layers, input=input)
    return network.rows[-1]


def test_activation_is_one_op_per_element_and_no_macs() -> None:
    row = only({"type": "activation", "fn": "gelu"})
    assert row.output_shape == (4, 4, 8) and row.counts.macs == 0 and row.counts.other_ops == 128


@pytest.mark.parametrize("kind", ["sub", "div", "elementwise"])
def test_other_merges_broadcast_like_add(kind: str) -> None:
    network = net(
        {"name": "g", "type": "parameter", "shape": "1x1x8"},
        {"name": "m", "type": kind, "inputs": ["input", "g"]},
    )
    row = network.rows[-1]
    assert row.output_shape == (4, 4, 8) and row.counts.other_ops == 128


def test_softmax_counts_exps_adds_and_divides_per_row() -> None:
    row = only({"type": "softmax"}, input="17x17")
    assert row.counts.other_ops == 17 * (3 * 17 - 1)
    assert only({"type": "softmax", "axis": 0}, input="5x3").counts.other_ops == 3 * (3 * 5 - 1)


def test_norms_count_their_affine_params_and_fvcores_ops() -> None:
    row = only({"type": "layernorm"}, input="17x32")
    assert row.counts.params == 64 and row.counts.other_ops == 17 * 32 * 5
    row = only({"type": "layernorm", "axis": -2, "affine": False}, input="17x32")
    assert row.counts.params == 0 and row.counts.other_ops == 17 * 32 * 4
    row = only({"type": "layernorm", "bias": False}, input="17x32")
    assert row.counts.params == 32
    assert only({"type": "groupnorm", "groups": 4}).counts.params == 16
    assert only({"type": "instancenorm"}).counts.other_ops == 128 * 5
    with pytest.raises(ConvCostError, match="groups"):
        only({"type": "groupnorm", "groups": 3})


def test_reduce_counts_one_op_per_input_element() -> None:
    row = only({"type": "reduce", "axes": [0, 1]})
    assert row.output_shape == (1, 1, 8) and row.counts.other_ops == 128
    assert only({"type": "reduce", "axes": [0, 1], "keepdims": False}).output_shape == (8,)
    assert only({"type": "reduce", "mode": "max", "keepdims": False}).output_shape == (1,)


def test_matmul_is_batched_macs_between_two_activations() -> None:
    network = net(
        {"name": "k", "type": "transpose", "perm": [0, 2, 1]},
        {"name": "scores", "type": "matmul", "inputs": ["input", "k"]},
        input="4x17x8",
    )
    row = network.rows[-1]
    assert row.output_shape == (4, 17, 17)
    assert row.counts.macs == 4 * 17 * 8 * 17 and row.counts.params == 0
    # broadcast over batch dims; a 1-D operand as NumPy's matmul
    network = net(
        {"name": "v", "type": "parameter", "shape": 8, "learned": False},
        {"name": "mv", "type": "matmul", "inputs": ["input", "v"]},
        input="4x17x8",
    )
    assert network.rows[-1].output_shape == (4, 17) and network.rows[-1].counts.macs == 4 * 17 * 8
    with pytest.raises(ConvCostError, match="last dim"):
        net({"name": "bad", "type": "matmul", "inputs": ["input", "input"]}, input="4x17x8")


def test_linear_on_tokens_costs_every_position_and_its_params_once() -> None:
    row = only({"type": "linear", "out": 32, "flatten": False}, input="17x64")
    assert row.output_shape == (17, 32)
    assert row.counts.macs == 17 * 64 * 32 and row.counts.params == 64 * 32 + 32
    assert row.counts.bias_adds == 17 * 32
    flat = only({"type": "linear", "out": 32}, input="17x64")
    assert flat.output_shape == (32,) and flat.counts.params == 17 * 64 * 32 + 32


def test_shape_kinds_move_shapes_and_cost_nothing() -> None:
    network = net(
        {"type": "reshape", "shape": "16x8"},
        {"type": "transpose", "perm": [1, 0]},
        {"type": "expand", "shape": "3x8x16"},
        {"type": "gather", "axis": 0, "index": 2},
        {"type": "gather", "axis": 0, "count": 5},
        {"type": "pad", "pads": "1:1x0:2"},
        {"type": "slice", "axis": 0, "start": 1, "stop": 7, "step": 2},
    )
    shapes = [row.output_shape for row in network.rows]
    assert shapes == [(16, 8), (8, 16), (3, 8, 16), (8, 16), (5, 16), (7, 18), (3, 18)]
    assert network.totals.macs == 0 and network.totals.other_ops == 0
    with pytest.raises(ConvCostError, match="elements"):
        net({"type": "reshape", "shape": "3x8"})
    with pytest.raises(ConvCostError, match="perm"):
        net({"type": "transpose", "perm": [0, 0, 1]})


def test_pool_ceil_and_dilation() -> None:
    assert only({"type": "pool", "kernel": 3, "stride": 2}, input="8x8x4").output_shape == (3, 3, 4)
    ceil = only({"type": "pool", "kernel": 3, "stride": 2, "ceil": True}, input="8x8x4")
    assert ceil.output_shape == (4, 4, 4)
    # a last window that would start in the far padding is dropped (PyTorch, ONNX)
    edge = only({"type": "pool", "kernel": 2, "stride": 2, "padding": 1, "ceil": True}, input="5x5x1")
    assert edge.output_shape == (3, 3, 1)
    dilated = only({"type": "pool", "kernel": 3, "stride": 1, "dilation": 2}, input="9x9x2")
    assert dilated.output_shape == (5, 5, 2) and dilated.counts.other_ops == 5 * 5 * 2 * 8


def test_resize_to_a_size() -> None:
    row = only({"type": "resize", "size": "6x9", "mode": "linear"}, input="4x4x2")
    assert row.output_shape == (6, 9, 2) and row.counts.other_ops == 6 * 9 * 2 * 4
    assert only({"type": "resize", "size": 5, "mode": "cubic"}, input="4x4x2").counts.other_ops == 50 * 16


def test_parameter_is_a_source_whose_elements_are_params() -> None:
    network = net(
        {"name": "cls", "type": "parameter", "shape": "1x8"},
        {"name": "tokens", "type": "reshape", "inputs": ["input"], "shape": "16x8"},
        {"name": "joined", "type": "concat", "inputs": ["cls", "tokens"], "axis": 0},
        {"name": "pos", "type": "parameter", "shape": "17x8"},
        {"name": "embedded", "type": "add", "inputs": ["joined", "pos"]},
        {"name": "half", "type": "parameter", "shape": 1, "learned": False},
        {"name": "scaled", "type": "mul", "inputs": ["embedded", "half"]},
    )
    assert network.totals.params == 8 + 17 * 8
    assert network.outputs == (("scaled", (17, 8)),)
    with pytest.raises(ConvCostError, match="takes 0 inputs"):
        net({"name": "p", "type": "parameter", "shape": 3, "inputs": ["input"]})


def test_opaque_passes_its_shape_on_and_counts_nothing() -> None:
    network = net({"type": "opaque", "op": "TopK", "shape": "5"}, {"type": "linear", "out": 2})
    assert network.rows[0].output_shape == (5,) and network.rows[0].counts == network.rows[0].counts._make(
        (0, 0, 0, 0, 0)
    )
    assert network.totals.macs == 10
