"""LSTM, GRU and RNN (issue 18): T·B·(gates·H)·(I + H) MACs a direction; W, R, B and peepholes are params.

Forward, reverse and bidirectional, ``layout`` 0 (time first) and 1 (batch first); every output
(Y, Y_h, Y_c) shaped as the ONNX spec says, which onnx's inference confirms.
"""

from __future__ import annotations

import os

import pytest

onnx = pytest.importorskip("onnx") if not os.environ.get("CI") else __import__("onnx")
np = pytest.importorskip("numpy")

from onnx_build import build, cost, inferred, node, weight  # noqa: E402

from convcost.core.errors import ConvCostError  # noqa: E402
from convcost.io.onnx.ops.recurrent import recurrent_shape  # noqa: E402

GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def recurrent_model(
    op: str, steps=5, batch=2, features=6, hidden=4, direction="forward", layout=0, bias=True, peepholes=False
):
    """One recurrent node whose three (or two) outputs each feed a Relu, so that every one is costed.

    The model's input is batch first (the batch is a model's first dim); with ``layout`` 0 a Transpose
    makes it time first, as PyTorch's exports of ``batch_first=True`` do.
    """
    gates, dirs = GATES[op], 2 if direction == "bidirectional" else 1
    inputs = ["x" if layout else "xt", "w", "r", "b" if bias else ""]
    inits = [weight("w", dirs, gates * hidden, features), weight("r", dirs, gates * hidden, hidden)]
    if bias:
        inits.append(weight("b", dirs, 2 * gates * hidden))
    if peepholes:
        inputs += ["", "", "", "p"]
        inits.append(weight("p", dirs, 3 * hidden))
    outputs = ["y", "y_h", "y_c"] if op == "LSTM" else ["y", "y_h"]
    attrs = {"hidden_size": hidden, "direction": direction}
    if layout:
        attrs["layout"] = layout
    nodes = [] if layout else [node("Transpose", ["x"], ["xt"], "time_first", perm=[1, 0, 2])]
    nodes += [node(op, inputs, outputs, "rnn", **attrs)]
    nodes += [node("Relu", [o], [f"{o}_out"], f"relu_{o}") for o in outputs]
    x = [batch, steps, features]
    model = build(nodes, [("x", x)], [(f"{o}_out", None) for o in outputs], inits, opset=14 if layout else 17)
    return model, outputs


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("layout", [0, 1])
def test_macs_params_and_shapes(op, direction, layout) -> None:
    steps, batch, features, hidden = 5, 2, 6, 4
    model, outputs = recurrent_model(op, steps, batch, features, hidden, direction, layout)
    converted, network = cost(model)
    gates, dirs = GATES[op], 2 if direction == "bidirectional" else 1
    assert converted.unsupported == {}
    assert converted.batch == batch  # the batch axis followed, not costed whole
    macs = steps * gates * hidden * (features + hidden) * dirs  # one sample
    assert network.totals.macs == macs
    assert network.totals.params == dirs * gates * hidden * (features + hidden) + dirs * 2 * gates * hidden
    shapes = inferred(model)
    rows = {row.name: row for row in network.rows}
    for out in outputs:  # each output, less its batch axis, as onnx infers it
        onnx_shape = shapes[out]
        batch_axis = 0 if layout else (2 if out == "y" else 1)
        assert onnx_shape[batch_axis] == batch
        assert rows[f"relu_{out}"].output_shape == tuple(
            d for i, d in enumerate(onnx_shape) if i != batch_axis
        )


def test_lstm_peepholes_are_params_and_no_bias_is_none() -> None:
    model, _ = recurrent_model("LSTM", direction="bidirectional", bias=False, peepholes=True)
    _, network = cost(model)
    assert network.totals.params == 2 * 4 * 4 * (6 + 4) + 2 * 3 * 4
    assert network.totals.macs == 5 * 4 * 4 * (6 + 4) * 2


def test_a_batch_of_one_and_a_whole_pass() -> None:
    model, _ = recurrent_model("GRU", batch=1)
    converted, network = cost(model)
    assert (converted.batch, network.totals.macs) == (1, 5 * 3 * 4 * 10)
    # a model's batch read as time (its batch-first input straight into layout 0): costed whole
    model = build(
        [node("GRU", ["x", "w", "r"], ["y"], "rnn", hidden_size=4), node("Relu", ["y"], ["z"], "out")],
        [("x", [2, 5, 6])], [("z", None)],
        [weight("w", 1, 12, 6), weight("r", 1, 12, 4)],
    )  # fmt: skip
    converted, network = cost(model)
    assert network.totals.macs == 2 * 5 * 12 * (6 + 4)  # T = 2 steps of a batch of 5, all of it once
    assert converted.batch == 1 and any("mixes the batch axis" in note for note in converted.notes)


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("layout", [0, 1])
def test_the_shape_rule_is_onnx_inference(op, layout) -> None:
    model, outputs = recurrent_model(op, direction="bidirectional", layout=layout)
    shapes = inferred(model)
    gates = GATES[op]
    x = (2, 5, 6) if layout else (5, 2, 6)  # batch 2, 5 steps
    made = recurrent_shape(
        [x, (2, gates * 4, 6), (2, gates * 4, 4)],
        {"hidden_size": 4, "direction": b"bidirectional", "layout": layout},
        gates,
    )
    assert [tuple(shapes[o]) for o in outputs] == made[: len(outputs)]


def test_weights_that_do_not_fit_are_one_line() -> None:
    with pytest.raises(ValueError, match="W 1x16x6 and R 1x16x5 do not fit"):
        recurrent_shape([(5, 2, 6), (1, 16, 6), (1, 16, 5)], {"hidden_size": 4}, 4)
    model, _ = recurrent_model("LSTM")
    model.graph.initializer[1].dims[2] = 5  # R of H = 5 against hidden_size 4
    with pytest.raises(ConvCostError) as error:
        cost(model)
    assert str(error.value).startswith("node 'rnn' (LSTM): its weights W 1x16x6 and R 1x16x5 do not fit")


def test_a_computed_weight_is_opaque() -> None:
    model = build(
        [
            node("Identity", ["w0"], ["w"], "copy"),
            node("Relu", ["x"], ["x1"], "act"),
            node("RNN", ["x1", "w", "r"], ["y"], "rnn", hidden_size=4),
            node("Relu", ["y"], ["z"], "out"),
        ],
        [("x", [5, 1, 6]), ("w0", [1, 4, 6])], [("z", None)],
        [weight("r", 1, 4, 4)],
    )  # fmt: skip
    converted, _ = cost(model)
    assert converted.unsupported == {"RNN (computed weight)": 1}
