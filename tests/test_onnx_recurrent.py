"""LSTM, GRU and RNN (issue 18): T·B·(gates·H)·(I + H) MACs a direction; W, R, B and peepholes are params.

Forward, reverse and bidirectional, ``layout`` 0 (time first) and 1 (batch first); every output
(Y, Y_h, Y_c) shaped as the ONNX spec says, which onnx's inference confirms.
"""

from __future__ import annotations

import pytest

from tests.conftest import optional_module

onnx = optional_module("onnx", "onnx")
np = optional_module("numpy", "onnx")

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
    assert converted.batch == 1 and not any("mixes the batch axis" in note for note in converted.notes)
    assert converted.notes == [
        "node 'rnn' (GRU) reads 'x' steps first (layout 0: steps × batch × features, here 2x5x6): the first "
        "dim of the model's input is not a batch of samples, so the model is costed as one pass over its "
        "whole input; the totals are for that"
    ]


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


def _with_inputs(op: str, extra: dict[int, tuple[int, ...]], batch_input: bool = False):
    """``recurrent_model``'s node (bidirectional, H 4, batch 2) with optional inputs of these dims (by
    input index) as weights, or with ``batch_input`` as graph inputs."""
    model, _ = recurrent_model(op, direction="bidirectional")
    rnn = next(n for n in model.graph.node if n.name == "rnn")
    names = list(rnn.input) + [""] * (max(extra) + 1 - len(rnn.input))
    for index, dims in extra.items():
        names[index] = f"in{index}"
        if index == 3:  # B replaced
            model.graph.initializer.pop(
                next(i for i, t in enumerate(model.graph.initializer) if t.name == "b")
            )
        if batch_input:
            from onnx import TensorProto, helper

            model.graph.input.append(
                helper.make_tensor_value_info(f"in{index}", TensorProto.FLOAT, list(dims))
            )
        else:
            model.graph.initializer.append(
                weight(f"in{index}", *dims, dtype="int32" if index == 4 else "float32")
            )
    del rnn.input[:]
    rnn.input.extend(names)
    return model


@pytest.mark.parametrize(
    ("op", "index", "dims", "problem"),
    [
        (
            "LSTM",
            3,
            (1, 10000),
            "its bias 'in3' is 1x10000, but 2 direction(s) of hidden size 4 over a batch of 2 need 2x32",
        ),
        ("LSTM", 3, (2, 7), "its bias 'in3' is 2x7"),
        ("LSTM", 3, (64,), "its bias 'in3' is 64,"),
        (
            "GRU",
            3,
            (2, 32),
            "its bias 'in3' is 2x32, but 2 direction(s) of hidden size 4 over a batch of 2 need 2x24",
        ),
        (
            "RNN",
            3,
            (2, 4),
            "its bias 'in3' is 2x4, but 2 direction(s) of hidden size 4 over a batch of 2 need 2x8 ([num_directions, 2·hidden_size])",
        ),
        ("LSTM", 4, (3,), "its sequence_lens 'in4' is 3, but"),
        (
            "LSTM",
            5,
            (9, 9, 9),
            "its initial_h 'in5' is 9x9x9, but 2 direction(s) of hidden size 4 over a batch of 2 need 2x2x4",
        ),
        ("GRU", 5, (2, 2, 5), "its initial_h 'in5' is 2x2x5"),
        ("LSTM", 6, (1, 2, 4), "its initial_c 'in6' is 1x2x4"),
        (
            "LSTM",
            7,
            (2, 5),
            "its peepholes P 'in7' is 2x5, but 2 direction(s) of hidden size 4 over a batch of 2 need 2x12",
        ),
        ("LSTM", 7, (1, 100000), "its peepholes P 'in7' is 1x100000"),
    ],
)
def test_an_optional_input_of_the_wrong_shape_is_refused(op, index, dims, problem) -> None:
    """B, sequence_lens, initial_h/c and P as the ONNX spec shapes them (onnx's inference checks none)."""
    with pytest.raises(ConvCostError) as error:
        cost(_with_inputs(op, {index: dims}))
    assert str(error.value).startswith(f"node 'rnn' ({op}): {problem}")


def test_optional_inputs_of_the_right_shape_pass_as_weights_or_inputs() -> None:
    right = {3: (2, 32), 4: (2,), 5: (2, 2, 4), 6: (2, 2, 4), 7: (2, 12)}
    _, network = cost(_with_inputs("LSTM", right))
    assert network.totals.macs == 5 * 16 * (6 + 4) * 2
    assert network.totals.params == 2 * 16 * (6 + 4) + 2 * 32 + 2 * 12
    with pytest.raises(ConvCostError, match="its initial_h 'in5' is 2x2x3"):
        cost(_with_inputs("LSTM", {5: (2, 2, 3)}, batch_input=True))


@pytest.mark.parametrize(
    ("attrs", "problem"),
    [
        ({"direction": "foo"}, "has direction 'foo'; expected one of forward, reverse, bidirectional"),
        ({"layout": 2}, "has layout 2; expected 0 (steps first: T×B×…) or 1 (batch first: B×T×…)"),
        ({"layout": -1}, "has layout -1; expected 0"),
        ({"hidden_size": 0}, "has hidden_size 0; it must be at least 1"),
        ({"hidden_size": -4}, "has hidden_size -4; it must be at least 1"),
    ],
)
def test_attributes_onnx_does_not_define_are_refused(attrs, problem) -> None:
    model, _ = recurrent_model("LSTM")
    rnn = next(n for n in model.graph.node if n.name == "rnn")
    kept = [a for a in rnn.attribute if a.name not in attrs]
    del rnn.attribute[:]
    rnn.attribute.extend(kept)
    from onnx import helper

    rnn.attribute.extend(helper.make_attribute(k, v) for k, v in attrs.items())
    with pytest.raises(ConvCostError) as error:
        cost(model)
    assert str(error.value).startswith(f"node 'rnn' (LSTM): {problem}")


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_hidden_size_left_out_is_rs_last_dim(op) -> None:
    """hidden_size is optional in ONNX: R's last dim gives it (onnx's inference alone leaves H unknown)."""
    model, _ = recurrent_model(op, direction="bidirectional")
    _, expected = cost(model)
    rnn = next(n for n in model.graph.node if n.name == "rnn")
    kept = [a for a in rnn.attribute if a.name != "hidden_size"]
    del rnn.attribute[:]
    rnn.attribute.extend(kept)
    _, network = cost(model)
    assert (network.totals.macs, network.totals.params) == (expected.totals.macs, expected.totals.params)
    assert [r.output_shape for r in network.rows] == [r.output_shape for r in expected.rows]
    assert not any(a.name == "hidden_size" for a in rnn.attribute)  # the model itself is left as it is
