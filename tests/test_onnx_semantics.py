"""What an imported ONNX graph means, on small hand-built models (issue 18).

* ``Cast`` folds to its target type (shape arithmetic in floats comes back to ints);
* compute whose inputs are all constants (an MLP over a coordinate table, a conv over a fixed
  map, a Gemm of a ``Constant``) is costed as layers, or folded away with ``fold_constants``;
  either way only initializers read as weights or tables are params, never a computed tensor;
* an embedding table (``Gather`` of an initializer) is params;
* what the ONNX checker rejects and could change a count is one line, exit 2, in bounded
  time and memory (each invalid model runs in a child process under resource limits).

Every count is worked out by hand in the comments.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcost.cli import cli
from convcost.model.evaluate import evaluate

ROOT = Path(__file__).resolve().parent.parent

#: What refusing an invalid model may take: 2 s of work (and the interpreter's start-up,
#: about 0.9 s of CPU with onnx and numpy imported) and 500 MB of address space.
CPU_SECONDS = 3
ADDRESS_SPACE = 500 * 1024 * 1024


# ---------------------------------------------------------------- building models


def tensor(name: str, *dims: int, dtype: str = "float32", values=None):
    import numpy as np
    from onnx import numpy_helper

    data = np.zeros(dims, dtype=dtype) if values is None else np.array(values, dtype=dtype).reshape(dims)
    return numpy_helper.from_array(data, name)


def scalar(name: str, value: int):
    import numpy as np
    from onnx import numpy_helper

    return numpy_helper.from_array(np.array(value, dtype=np.int64), name)


def ints(name: str, *values: int):
    import numpy as np
    from onnx import numpy_helper

    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def value(name: str, dims, elem: str = "FLOAT"):
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, getattr(TensorProto, elem), dims)


def node(op: str, inputs, outputs, name: str | None = None, **attrs):
    from onnx import helper

    return helper.make_node(op, list(inputs), list(outputs), name=name or outputs[0], **attrs)


def build(nodes, inputs, outputs, initializers=(), opset: int = 17, functions=()):
    """A model; ``inputs`` and ``outputs`` are value infos (see :func:`value`)."""
    from onnx import helper

    graph = helper.make_graph(nodes, "g", list(inputs), list(outputs), list(initializers))
    opsets = [helper.make_opsetid("", opset)]
    if functions:
        opsets.append(helper.make_opsetid("local", 1))
    return helper.make_model(graph, opset_imports=opsets, functions=list(functions))


def cost(model, **options):
    from convcost.io.onnx import load

    converted = load(model.SerializeToString(), "m.onnx", **options)
    return converted, evaluate(converted.document)


def rows(network) -> dict:
    return {row.name: row for row in network.rows}


def cli_json(path: Path, *args: str) -> dict:
    result = CliRunner().invoke(cli, ["compare", str(path), "--json", *args])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# ---------------------------------------------------------------- Cast


def cast_model():
    """MobileViT's patch arithmetic: ceil(H / patch) in floats, back to int64 for a Reshape.

    H = 6, patch = 4: ceil(6.0 / 4.0) = 2 → the target shape is [1, -1, 2·2·9] = [1, -1, 36], and
    x (1×4×6×6, 144 elements) becomes 1×4×36. Cast read as the identity keeps int64 and divides
    6 // 4 = 1 (and np.ceil of an int gives a float64 shape tensor, which Reshape refuses).
    """
    nodes = [
        node("Shape", ["x"], ["shp"]),
        node("Gather", ["shp", "two"], ["h"], axis=0),
        node("Cast", ["h"], ["hf"], to=1),  # FLOAT
        node("Cast", ["patch"], ["pf"], to=1),
        node("Div", ["hf", "pf"], ["q"]),
        node("Ceil", ["q"], ["c"]),
        node("Cast", ["c"], ["ci"], to=7),  # INT64
        node("Mul", ["ci", "ci"], ["n"]),
        node("Mul", ["n", "nine"], ["n9"]),
        node("Unsqueeze", ["n9", "zero"], ["n9u"]),
        node("Concat", ["head", "n9u"], ["target"], axis=0),
        node("Reshape", ["x", "target"], ["r"]),
        node("MatMul", ["r", "w"], ["y"], "fc"),
    ]
    initializers = [
        scalar("two", 2),
        scalar("patch", 4),
        scalar("nine", 9),
        ints("zero", 0),
        ints("head", 1, -1),
        tensor("w", 36, 10),
    ]
    return build(nodes, [value("x", [1, 4, 6, 6])], [value("y", None)], initializers)


def test_cast_folds_to_its_target_type(onnx) -> None:
    _, network = cost(cast_model())
    found = rows(network)
    # r is 4×36 per sample: a linear layer of 4 · 36 · 10 = 1440 MACs and 36 · 10 = 360 params
    assert found["fc"].type == "linear" and found["fc"].output_shape == (4, 10)
    assert network.totals.macs == 1440 and network.totals.params == 360


# ---------------------------------------------------------------- compute on constants


def position_bias_model():
    """A position-bias MLP over a coordinate table (Swin V2's continuous position bias).

    Scores: x (1×16×8) @ xᵀ → 16×16, 16 · 8 · 16 = 2048 MACs.
    Bias: coords (16×2, a buffer) @ W1 (2×32) + b1 → relu → @ W2 (32×16) → 16×16:
    16 · 2 · 32 = 1024 and 16 · 32 · 16 = 8192 MACs; params W1 64 + b1 32 + W2 512 = 608.
    coords is the MLP's input, not a weight: not a param.
    """
    nodes = [
        node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]),
        node("MatMul", ["x", "xt"], ["s"], "scores"),
        node("MatMul", ["coords", "w1"], ["h"], "pb_fc1"),
        node("Add", ["h", "b1"], ["hb"], "pb_fc1_bias"),
        node("Relu", ["hb"], ["hr"], "pb_relu"),
        node("MatMul", ["hr", "w2"], ["bias"], "pb_fc2"),
        node("Add", ["s", "bias"], ["y"], "biased"),
    ]
    initializers = [tensor("coords", 16, 2), tensor("w1", 2, 32), tensor("b1", 32), tensor("w2", 32, 16)]
    return build(nodes, [value("x", [1, 16, 8])], [value("y", None)], initializers)


def coordinate_conv_model():
    """A conv over a fixed coordinate map, added to the image's conv (CoordConv-like).

    x (1×3×4×4) → 3×3 conv, pads 1, to 8 channels: 16 · 8 · 27 = 3456 MACs, 216 params.
    grid (1×2×4×4, a constant) → 1×1 conv to 8 channels with bias: 16 · 8 · 2 = 256 MACs,
    16 + 8 = 24 params. grid itself is the conv's input: not a param.
    """
    nodes = [
        node("Conv", ["x", "wx"], ["cx"], "image_conv", pads=[1, 1, 1, 1]),
        node("Conv", ["grid", "wg", "bg"], ["cg"], "grid_conv"),
        node("Add", ["cx", "cg"], ["y"], "merged"),
    ]
    initializers = [
        tensor("wx", 8, 3, 3, 3),
        tensor("grid", 1, 2, 4, 4),
        tensor("wg", 8, 2, 1, 1),
        tensor("bg", 8),
    ]
    return build(nodes, [value("x", [1, 3, 4, 4])], [value("y", None)], initializers)


def constant_gemm_model():
    """A Gemm of a ``Constant`` node (not an initializer), added to the tokens.

    Gemm: A (6×3, a Constant) · Wg (3×5) + Cg (5): 6 · 3 · 5 = 90 MACs, 15 + 5 = 20 params.
    Then (x + g) (1×6×5) @ Wx (5×6): 6 · 5 · 6 = 180 MACs, 30 params.
    """
    from onnx import helper

    a = tensor("a_value", 6, 3, values=range(18))
    nodes = [
        helper.make_node("Constant", [], ["a"], name="a", value=a),
        node("Gemm", ["a", "wg", "cg"], ["g"], "const_gemm"),
        node("Add", ["x", "g"], ["xg"], "tokens_plus"),
        node("MatMul", ["xg", "wx"], ["y"], "fc"),
    ]
    initializers = [tensor("wg", 3, 5), tensor("cg", 5), tensor("wx", 5, 6)]
    return build(nodes, [value("x", [1, 6, 5])], [value("y", None)], initializers)


def gathered_table_model():
    """Swin's relative position bias: a learned table gathered by a constant index.

    table (9×2, learned) gathered by 16 constant indices → 16×2 → 4×4×2 → 2×4×4 → 1×2×4×4,
    added to x's scores. Params: the table's 18 elements; the gathered 32 are computed, never
    params.
    """
    index = ints("index", *[(i * 7 + 3) % 9 for i in range(16)])
    nodes = [
        node("Gather", ["table", "index"], ["g"], "bias_gather", axis=0),
        node("Reshape", ["g", "grid"], ["r"], "bias_grid"),
        node("Transpose", ["r"], ["t"], "bias_heads", perm=[2, 0, 1]),
        node("Unsqueeze", ["t", "zero"], ["u"], "bias_batch"),
        node("Add", ["x", "u"], ["s"], "biased"),
        node("Softmax", ["s"], ["y"], "attention", axis=-1),
    ]
    initializers = [tensor("table", 9, 2, values=range(18)), index, ints("grid", 4, 4, 2), ints("zero", 0)]
    return build(nodes, [value("x", [1, 2, 4, 4])], [value("y", None)], initializers)


#: model → (MACs, params) counted as layers, (MACs, params) folded.
CONSTANT_COMPUTE = {
    "position bias MLP": (position_bias_model, (2048 + 1024 + 8192, 608), (2048, 608)),
    "conv of a coordinate map": (coordinate_conv_model, (3456 + 256, 216 + 24), (3456, 216 + 24)),
    "Gemm of a Constant": (constant_gemm_model, (90 + 180, 20 + 30), (180, 20 + 30)),
    "gathered bias table": (gathered_table_model, (0, 18), (0, 18)),
}


@pytest.mark.parametrize("case", list(CONSTANT_COMPUTE))
def test_compute_on_constants_is_costed_as_layers(onnx, case: str) -> None:
    make, (macs, params), _ = CONSTANT_COMPUTE[case]
    converted, network = cost(make())
    assert (network.totals.macs, network.totals.params) == (macs, params)
    assert converted.unsupported == {}


@pytest.mark.parametrize("case", list(CONSTANT_COMPUTE))
def test_fold_constants_folds_it_and_keeps_only_the_weights_it_reads(onnx, case: str) -> None:
    make, _, (macs, params) = CONSTANT_COMPUTE[case]
    converted, network = cost(make(), fold_constants=True)
    assert (network.totals.macs, network.totals.params) == (macs, params)
    assert converted.unsupported == {}


def test_the_mlp_layers_are_rows_and_a_folded_result_is_no_param(onnx) -> None:
    _, network = cost(position_bias_model())
    found = rows(network)
    assert found["pb_fc1"].type == "linear" and found["pb_fc1"].counts.macs == 1024
    assert found["pb_fc1"].counts.params == 64 + 32  # b1 is its bias
    assert found["pb_relu"].counts.other_ops == 16 * 32
    assert found["pb_fc2"].counts.macs == 8192 and found["pb_fc2"].counts.params == 512
    assert found["scores"].counts.macs == 2048
    _, folded = cost(position_bias_model(), fold_constants=True)
    found = rows(folded)
    assert not any(name.startswith("pb_") for name in found)
    # the 16×16 bias is an input of 'biased' that costs nothing and holds no params
    sources = [row for row in folded.rows if row.type == "parameter" and row.output_shape == (16, 16)]
    assert len(sources) == 1 and sources[0].counts.params == 0


def test_the_option_on_the_command_line_and_in_the_settings(onnx, tmp_path) -> None:
    path = tmp_path / "pb.onnx"
    path.write_bytes(position_bias_model().SerializeToString())
    plain, folded = cli_json(path), cli_json(path, "--fold-constants")
    assert plain["fold_constants"] is False and folded["fold_constants"] is True
    assert plain["totals"]["macs"] == 11264 and folded["totals"]["macs"] == 2048
    assert plain["totals"]["params"] == folded["totals"]["params"] == 608
    assert "constants" in plain["conventions"]
    schema = json.loads(CliRunner().invoke(cli, ["schema", "output"]).stdout)
    assert "fold_constants" in json.dumps(schema)
    # import writes what compare costs, either way
    for args, macs in (([], 11264), (["--fold-constants"], 2048)):
        result = CliRunner().invoke(cli, ["import", str(path), *args])
        assert result.exit_code == 0, result.stderr
        spec = tmp_path / "pb.yaml"
        spec.write_text(result.stdout)
        assert cli_json(spec)["totals"]["macs"] == macs


def test_the_setting_is_validated_like_the_others() -> None:
    import convcost
    from convcost.core.errors import ConvCostError

    with pytest.raises(ConvCostError, match="fold_constants: 'yes'"):
        convcost.make_settings(fold_constants="yes")
    assert convcost.make_settings(fold_constants=True).fold_constants is True
    assert convcost.make_settings().fold_constants is False


def test_shape_arithmetic_stays_free_in_both_modes(onnx) -> None:
    for options in ({}, {"fold_constants": True}):
        _, network = cost(cast_model(), **options)
        assert [row.type for row in network.rows if row.counts.macs or row.counts.other_ops] == ["linear"]


# ---------------------------------------------------------------- embedding tables


def embedding_model(batch: int = 1):
    """BERT's embeddings: a token table gathered by the input ids, a position table by a range.

    word (100×8) → 800 params; pos (16×8) → 128 params (its gathered 5×8 is computed, not
    params); then (1×5×8) @ W (8×4): 5 · 8 · 4 = 160 MACs, 32 params. Total 960 params.
    """
    nodes = [
        node("Gather", ["word", "ids"], ["te"], "token_embedding", axis=0),
        node("Gather", ["pos", "pos_ids"], ["pe"], "position_embedding", axis=0),
        node("Add", ["te", "pe"], ["e"], "embeddings"),
        node("MatMul", ["e", "w"], ["y"], "fc"),
    ]
    initializers = [
        tensor("word", 100, 8),
        tensor("pos", 16, 8),
        ints("pos_ids", 0, 1, 2, 3, 4),
        tensor("w", 8, 4),
    ]
    return build(nodes, [value("ids", [batch, 5], "INT64")], [value("y", None)], initializers)


def test_an_embedding_table_is_params(onnx) -> None:
    converted, network = cost(embedding_model())
    assert converted.unsupported == {}
    found = rows(network)
    assert found["fc"].counts.macs == 160
    assert network.totals.macs == 160 and network.totals.params == 800 + 128 + 32
    assert found["embeddings"].output_shape == (5, 8)


def test_an_embedding_costs_per_sample(onnx) -> None:
    converted, network = cost(embedding_model(batch=2))
    assert converted.batch == 2
    assert network.totals.macs == 160 and network.totals.params == 960


def test_a_folded_embedding_keeps_its_tables(onnx) -> None:
    _, network = cost(embedding_model(), fold_constants=True)
    assert network.totals.macs == 160 and network.totals.params == 960


# ---------------------------------------------------------------- a weight read by several nodes


def tied_model():
    """GPT-2's tied LM head: the 100×8 table gathered for 5 tokens, then read again (transposed,
    8×100) as the head's weight. One table: 800 params; the head is 5·8·100 = 4,000 MACs."""
    nodes = [
        node("Gather", ["word", "ids"], ["e"], "embeddings"),
        node("Transpose", ["word"], ["word_t"], "word_t", perm=[1, 0]),
        node("MatMul", ["e", "word_t"], ["y"], "head"),
    ]
    return build(nodes, [value("ids", [1, 5], "INT64")], [value("y", None)], [tensor("word", 100, 8)])


def shared_model():
    """ALBERT's one layer at each of 3 depths: the same 8×8 weight, 8 bias and layer norm read 3
    times. Params: 64 + 8 + 16 = 88, once; MACs: 3 · 5·8·8 = 960."""
    nodes = []
    current = "x"
    for depth in range(3):
        nodes += [
            node("MatMul", [current, "w"], [f"m{depth}"], f"fc{depth}"),
            node("Add", [f"m{depth}", "b"], [f"a{depth}"], f"bias{depth}"),
            node("LayerNormalization", [f"a{depth}", "g", "beta"], [f"n{depth}"], f"norm{depth}", axis=-1),
        ]
        current = f"n{depth}"
    initializers = [tensor("w", 8, 8), tensor("b", 8), tensor("g", 8), tensor("beta", 8)]
    return build(nodes, [value("x", [1, 5, 8])], [value(current, None)], initializers)


def test_a_tied_table_counts_once(onnx) -> None:
    converted, network = cost(tied_model())
    assert converted.unsupported == {}
    assert network.totals.params == 800
    assert network.totals.macs == 4000 and rows(network)["head"].counts.params == 0


def test_a_layer_shared_across_depth_counts_its_weights_once(onnx) -> None:
    converted, network = cost(shared_model())
    assert converted.unsupported == {}
    assert network.totals.params == 88
    assert network.totals.macs == 960
    found = rows(network)
    assert found["fc0"].counts.params == 64 + 8 and found["norm0"].counts.params == 16
    assert all(found[f"{kind}{d}"].counts.params == 0 for kind in ("fc", "norm") for d in (1, 2))


def test_a_shared_weight_counts_once_when_folded_too(onnx) -> None:
    for model, params in ((tied_model(), 800), (shared_model(), 88)):
        _, network = cost(model, fold_constants=True)
        assert network.totals.params == params


def test_a_shared_norm_does_its_scales_work_at_every_depth(onnx) -> None:
    """The later norms read a scale counted before: no params, but the scale's work (5 ops an
    element, not the 4 of a norm without one)."""
    _, network = cost(shared_model())
    found = rows(network)
    assert [found[f"norm{d}"].counts.other_ops for d in range(3)] == [5 * 5 * 8] * 3


def shared_conv_model(bias: str = "b"):
    """One 3×3 conv (8→8, weight 576 and bias 8) run twice, a ReLU between: 584 params, once;
    2 · 10·10·8·8·9 = 115,200 MACs. ``bias`` names the second conv's bias ("c": one of its own)."""
    nodes = [
        node("Conv", ["x", "w", "b"], ["y"], "conv0", pads=[1, 1, 1, 1]),
        node("Relu", ["y"], ["r"], "relu"),
        node("Conv", ["r", "w", bias], ["z"], "conv1", pads=[1, 1, 1, 1]),
    ]
    initializers = [tensor("w", 8, 8, 3, 3), tensor("b", 8), tensor("c", 8)][: 3 if bias == "c" else 2]
    return build(nodes, [value("x", [1, 8, 10, 10])], [value("z", None)], initializers)


def shared_lstm_model():
    """One LSTM (4 features, hidden 4: W and R 16×4 each) run over its own output again: 128 params,
    once; 2 · T·B·(4·H)·(I + H) = 2 · 5·1·16·8 = 1,280 MACs."""
    nodes = [
        node("LSTM", ["x", "W", "R"], ["y"], "lstm0", hidden_size=4),
        node("Squeeze", ["y", "one"], ["y1"], "squeeze"),
        node("LSTM", ["y1", "W", "R"], ["z"], "lstm1", hidden_size=4),
    ]
    initializers = [tensor("W", 1, 16, 4), tensor("R", 1, 16, 4), ints("one", 1)]
    return build(nodes, [value("x", [5, 1, 4])], [value("z", None)], initializers)


@pytest.mark.parametrize(
    ("model", "params", "macs"),
    [(shared_conv_model, 584, 115_200), (shared_lstm_model, 128, 1_280)],
    ids=["conv", "lstm"],
)
def test_a_conv_or_recurrent_weight_read_twice_counts_once(onnx, tmp_path, model, params, macs) -> None:
    converted, network = cost(model())
    assert converted.unsupported == {}
    assert (network.totals.params, network.totals.macs) == (params, macs)
    second = [row for row in network.rows if row.name.startswith(("conv1", "lstm1"))]
    assert second and all(row.counts.params == 0 for row in second)
    assert sum(row.counts.macs for row in second) == macs // 2
    # the later rows are learned: false in the spec, so import → compare gives the same totals
    path = tmp_path / "m.onnx"
    path.write_bytes(model().SerializeToString())
    spec = tmp_path / "m.yaml"
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 0 and "learned: false" in result.stdout
    spec.write_text(result.stdout)
    assert cli_json(spec)["totals"] == cli_json(path)["totals"]


def test_a_conv_read_again_with_a_bias_of_its_own_counts_that_bias(onnx) -> None:
    """The second conv's weight is the first's, its bias its own: 576 + 8 + 8 params."""
    _, network = cost(shared_conv_model("c"))
    assert network.totals.params == 576 + 8 + 8
    assert network.totals.macs == 115_200


def external(name: str, offset: int, *dims: int):
    """A weightless float tensor whose bytes are in ``w.bin`` at ``offset`` (a file never read)."""
    from onnx import TensorProto

    tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=list(dims))
    tensor.data_location = TensorProto.EXTERNAL
    for key, given in (("location", "w.bin"), ("offset", str(offset)), ("length", str(4 * 64))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, given
    return tensor


@pytest.mark.parametrize(("second", "params"), [(0, 64), (256, 128)], ids=["same bytes", "other bytes"])
def test_two_initializers_at_the_same_bytes_are_one_tensor(onnx, second: int, params: int) -> None:
    """Two 8×8 linear weights stored at the same place of the same file hold the same numbers: one
    tensor, counted once (a tool that wrote a tied weight once). At other bytes they are two."""
    nodes = [node("MatMul", ["x", "a"], ["y"], "fc0"), node("MatMul", ["y", "b"], ["z"], "fc1")]
    model = build(
        nodes,
        [value("x", [1, 5, 8])],
        [value("z", None)],
        [external("a", 0, 8, 8), external("b", second, 8, 8)],
    )
    converted, network = cost(model)
    assert converted.unsupported == {}
    assert network.totals.params == params and network.totals.macs == 2 * 5 * 8 * 8


def test_a_computed_conv_bias_is_added_per_channel(onnx) -> None:
    """A bias the model computes (here the input's mean per channel) is ONNX's one value a channel:
    an add of 10·10·8 elements after the conv (it was refused as not broadcasting)."""
    nodes = [
        node("ReduceMean", ["x", "axes"], ["m"], "mean", keepdims=0),
        node("Reshape", ["m", "c"], ["b"], "bias"),
        node("Conv", ["x", "w", "b"], ["z"], "conv", pads=[1, 1, 1, 1]),
    ]
    initializers = [tensor("w", 8, 8, 3, 3), ints("axes", 0, 2, 3), ints("c", 8)]
    model = build(nodes, [value("x", [1, 8, 10, 10])], [value("z", None)], initializers, opset=18)
    _, network = cost(model)
    found = rows(network)
    assert network.totals.params == 576 and network.totals.macs == 57_600
    assert found["conv_bias"].type == "add" and found["conv_bias"].counts.other_ops == 800


# ---------------------------------------------------------------- local functions that are fine


def function(name: str, body, inputs=("i",), outputs=("o",)):
    from onnx import helper

    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("local", 1)]
    return helper.make_function("local", name, list(inputs), list(outputs), body, opsets)


def test_a_local_function_called_twice_is_costed_twice(onnx) -> None:
    """conv_relu(i) = relu(conv(i, w)) with w a Constant inside: 16 · 3 · 3 = 144 MACs a call."""
    from onnx import helper

    body = [
        helper.make_node("Constant", [], ["w"], value=tensor("w", 3, 3, 1, 1, values=[1] * 9)),
        helper.make_node("Conv", ["i", "w"], ["c"]),
        helper.make_node("Relu", ["c"], ["o"]),
    ]
    nodes = [
        helper.make_node("conv_relu", ["x"], ["a"], name="first", domain="local"),
        helper.make_node("conv_relu", ["a"], ["y"], name="second", domain="local"),
    ]
    model = build(
        nodes, [value("x", [1, 3, 4, 4])], [value("y", None)], functions=[function("conv_relu", body)]
    )
    _, network = cost(model)
    assert network.totals.macs == 2 * 144


# ---------------------------------------------------------------- invalid models


def conv_model(weight, **attrs):
    x = value("x", [1, 3, 8, 8])
    return build([node("Conv", ["x", "w"], ["y"], "c", **attrs)], [x], [value("y", None)], [weight])


def function_bomb(levels: int = 40):
    """f0 calls f1 twice, f1 calls f2 twice, …: 2^39 relus once inlined, in a file of 40 functions."""
    from onnx import helper

    functions = []
    for level in range(levels):
        if level == levels - 1:
            body = [helper.make_node("Relu", ["i"], ["o"])]
        else:
            callee = f"f{level + 1}"
            body = [
                helper.make_node(callee, ["i"], ["t"], domain="local"),
                helper.make_node(callee, ["t"], ["o"], domain="local"),
            ]
        functions.append(function(f"f{level}", body))
    nodes = [
        node("Conv", ["x", "w"], ["c"], "c"),
        helper.make_node("f0", ["c"], ["y"], name="bomb", domain="local"),
    ]
    x = value("x", [1, 3, 8, 8])
    return build(nodes, [x], [value("y", None)], [tensor("w", 4, 3, 1, 1)], functions=functions)


def bomb_in_a_branch():
    """The bomb's call inside an If's then-branch: inlining reaches into branches too."""
    from onnx import helper

    model = function_bomb()
    then_branch = helper.make_graph(
        [helper.make_node("f0", ["c"], ["t"], domain="local")], "then", [], [value("t", None)]
    )
    else_branch = helper.make_graph(
        [helper.make_node("Identity", ["c"], ["e"])], "else", [], [value("e", None)]
    )
    branch = helper.make_node(
        "If", ["cond"], ["y"], name="branch", then_branch=then_branch, else_branch=else_branch
    )
    model.graph.node[1].CopyFrom(branch)
    model.graph.initializer.append(tensor("cond", dtype="bool", values=[True]))
    return model


def recursive_function():
    """f calls itself: no expansion ends."""
    from onnx import helper

    body = [helper.make_node("f", ["i"], ["o"], domain="local")]
    nodes = [helper.make_node("f", ["x"], ["y"], name="loop", domain="local")]
    return build(nodes, [value("x", [1, 3, 8, 8])], [value("y", None)], functions=[function("f", body)])


def invalid(case: str):
    """The model, and what its one error line must hold (the node or value named)."""
    from onnx import TensorProto, helper

    x, y = value("x", [1, 3, 8, 8]), value("y", None)
    if case == "duplicate node output":
        nodes = [
            node("Relu", ["x"], ["a"], "r1"),
            node("Sigmoid", ["x"], ["a"], "r2"),  # 'a' made twice: which one the conv reads is undefined
            node("Conv", ["a", "w"], ["y"], "c"),
        ]
        return build(nodes, [x], [y], [tensor("w", 4, 3, 1, 1)]), ["node 'r2' (Sigmoid)", "'a'"]
    if case == "output named like an input":
        nodes = [node("Relu", ["x"], ["x"], "r1"), node("Conv", ["x", "w"], ["y"], "c")]
        return build(nodes, [x], [y], [tensor("w", 4, 3, 1, 1)]), ["node 'r1' (Relu)", "'x'"]
    if case == "duplicate graph input":
        model = build(
            [node("Conv", ["x", "w"], ["y"], "c")],
            [x, value("x", [1, 3, 8, 8])],
            [y],
            [tensor("w", 4, 3, 1, 1)],
        )
        return model, ["'x'", "twice"]
    if case == "a value declared twice with other dims":
        # onnx's inference took the value info's 1x3x1x1, convcost's the input's 1x3x8x8
        model = build([node("Conv", ["x", "w"], ["y"], "c")], [x], [y], [tensor("w", 4, 3, 1, 1)])
        model.graph.value_info.append(value("x", [1, 3, 1, 1]))
        return model, ["'x'", "twice", "1x3x8x8", "1x3x1x1"]
    if case == "unknown auto_pad":
        return conv_model(tensor("w", 4, 3, 3, 3), auto_pad="FOO"), ["node 'c' (Conv)", "'FOO'"]
    if case == "string weight":
        weight = helper.make_tensor("w", TensorProto.STRING, [4, 3, 1, 1], [b"a"] * 12)
        return conv_model(weight), ["node 'c' (Conv)", "'w'"]
    if case == "unknown weight dtype":
        weight = tensor("w", 4, 3, 1, 1)
        weight.data_type = 99
        return conv_model(weight), ["node 'c' (Conv)", "'w'"]
    if case == "undefined weight dtype":
        weight = tensor("w", 4, 3, 1, 1)
        weight.data_type = 0
        return conv_model(weight), ["node 'c' (Conv)", "'w'"]
    if case == "function expansion bomb":
        return function_bomb(), ["node 'bomb'"]
    if case == "function expansion bomb in a branch":
        return bomb_in_a_branch(), ["node 'branch'"]
    if case == "recursive function":
        return recursive_function(), ["node 'loop'"]
    raise AssertionError(case)


INVALID = [
    "duplicate node output",
    "output named like an input",
    "duplicate graph input",
    "a value declared twice with other dims",
    "unknown auto_pad",
    "string weight",
    "unknown weight dtype",
    "undefined weight dtype",
    "function expansion bomb",
    "function expansion bomb in a branch",
    "recursive function",
]


def _limited() -> None:  # pragma: no cover - runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_limited(path: Path, tmp_path: Path) -> tuple[int, str, str, float, float]:
    """``compare`` in a child process held to CPU_SECONDS and ADDRESS_SPACE: its exit status (a
    negative signal number when a limit killed it), stdout, stderr, CPU seconds and peak MB."""
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "convcost", "compare", str(path)],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            preexec_fn=_limited,
        )
        _, wait_status, usage = os.wait4(proc.pid, 0)  # this child's own CPU time and peak
        proc.returncode = os.waitstatus_to_exitcode(wait_status)
    cpu, peak_mb = usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
    return proc.returncode, out_path.read_text(), err_path.read_text("utf-8", "replace"), cpu, peak_mb


@pytest.mark.parametrize("case", INVALID)
def test_an_invalid_model_is_one_line_and_exit_2_in_bounded_resources(onnx, tmp_path, case: str) -> None:
    model, needles = invalid(case)
    path = tmp_path / "bad.onnx"
    path.write_bytes(model.SerializeToString())
    status, out, err, cpu, peak_mb = run_limited(path, tmp_path)
    # -24 (SIGXCPU), -6 or -9: a limit killed it
    assert status == 2, (status, f"{cpu:.2f} s of CPU, {peak_mb:.0f} MB", err[-2000:])
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize("case", INVALID)
def test_the_api_refuses_the_same_invalid_models(onnx, case: str) -> None:
    from convcost.core.errors import ConvCostError

    model, needles = invalid(case)
    with pytest.raises(ConvCostError) as error:
        cost(model)
    assert "\n" not in str(error.value)
    for needle in needles:
        assert needle in str(error.value)
