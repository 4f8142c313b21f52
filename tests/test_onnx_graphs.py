"""ONNX graphs built by hand (onnx.helper): each op's mapping, the probes of issue 9, malformed graphs.

Counts are worked out by hand in each test. The layer kinds the importer adds (activation,
softmax, layernorm, matmul, parameter, …) are checked on plain specs at the end.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcost.core.errors import ConvCostError
from convcost.model.evaluate import evaluate


def weight(name: str, *dims: int, dtype: str = "float32"):
    import numpy as np
    from onnx import numpy_helper

    return numpy_helper.from_array(np.zeros(dims, dtype=dtype), name)


def ints(name: str, *values: int):
    import numpy as np
    from onnx import numpy_helper

    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def build(nodes, inputs, outputs, initializers=(), opset: int = 17, value_info=()):
    """A model from nodes; inputs and outputs as (name, dims) pairs (dims None: unknown)."""
    from onnx import TensorProto, helper

    def info(name, dims):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)

    graph = helper.make_graph(
        nodes,
        "g",
        [info(*i) for i in inputs],
        [info(*o) for o in outputs],
        list(initializers),
        value_info=[info(*v) for v in value_info],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def node(op: str, inputs, outputs, name: str | None = None, **attrs):
    from onnx import helper

    return helper.make_node(op, list(inputs), list(outputs), name=name or outputs[0], **attrs)


def cost(model, **options):
    from convcost.io.onnx import load

    converted = load(model.SerializeToString(), "m.onnx", **options)
    return converted, evaluate(converted.document)


def rows(network) -> dict:
    return {row.name: row for row in network.rows}


# ---------------------------------------------------------------- malformed graphs: one line, the node named


def malformed(case: str):
    x = ("x", [1, 3, 8, 8])
    y = ("y", None)
    if case == "conv with one input":
        return build([node("Conv", ["x"], ["y"], "c1")], [x], [y]), "node 'c1' (Conv)", "has 1 input"
    if case == "2-D conv weight":
        model = build([node("Conv", ["x", "w"], ["y"], "c1")], [x], [y], [weight("w", 4, 3)])
        return model, "node 'c1' (Conv)", "2-D weight"
    if case == "rank mismatch":
        model = build([node("Conv", ["x", "w"], ["y"], "c1")], [x], [y], [weight("w", 4, 3, 3, 3, 3)])
        return model, "node 'c1' (Conv)", "dimensions"
    if case == "channel mismatch":
        model = build([node("Conv", ["x", "w"], ["y"], "c1")], [x], [y], [weight("w", 4, 5, 3, 3)])
        return model, "node 'c1' (Conv)", "takes 5 channels per group"
    if case == "matmul inner dims":
        model = build([node("MatMul", ["x", "w"], ["y"], "m1")], [x], [y], [weight("w", 7, 4)])
        return model, "node 'm1' (MatMul)", "the inner dims (8 and 7) differ"
    if case == "pool without kernel_shape":
        return build([node("MaxPool", ["x"], ["y"], "p1")], [x], [y]), "node 'p1' (MaxPool)", "kernel_shape"
    if case == "gemm with one input":
        return build([node("Gemm", ["x"], ["y"], "g1")], [x], [y]), "node 'g1' (Gemm)", "has 1 input"
    if case == "empty graph":
        return build([], [x], [x]), "spec", "empty graph"
    if case == "unknown opset":
        return build([node("Relu", ["x"], ["y"])], [x], [y], opset=99), "spec", "opset 99"
    if case == "ancient opset":
        return build([node("Relu", ["x"], ["y"])], [x], [y], opset=5), "spec", "opset 5"
    if case == "undefined value":
        model = build([node("Add", ["x", "ghost"], ["y"], "a1")], [x], [y])
        return model, "a1", "ghost"
    if case == "window larger than its input":  # ONNX infers a dim of -2 and goes on
        model = build([node("Conv", ["x", "w"], ["y"], "c1")], [x], [y], [weight("w", 4, 3, 11, 11)])
        return model, "node 'c1' (Conv)", "'y' 1x4x-2x-2 from 'x' 1x3x8x8, a dim below 1"
    if case == "window to a dim of 0":
        pool = node("MaxPool", ["x"], ["y"], "p1", kernel_shape=[3, 3], strides=[2, 2])
        model = build([pool], [("x", [1, 3, 1, 1])], [y])
        return model, "node 'p1' (MaxPool)", "1x3x0x0 from 'x' 1x3x1x1, a dim below 1"
    if case == "negative pads to a negative dim":
        model = build(
            [node("Pad", ["x", "p"], ["y"], "pad1")], [x], [y], [ints("p", 0, 0, -5, 0, 0, 0, -5, 0)]
        )
        return model, "node 'pad1' (Pad)", "'y' 1x3x-2x8 from 'x' 1x3x8x8, a dim below 0"
    if case == "declared negative dim":
        model = build(
            [node("Relu", ["x"], ["r"], "r1")], [x], [("r", None)], value_info=[("r", [1, -3, 8, 8])]
        )
        return model, "spec", "declares 'r' as 1x-3x8x8"
    if case == "weight of negative dims":
        w = weight("w", 4, 3, 3, 3)
        w.dims[0] = -4
        return build([node("Conv", ["x", "w"], ["y"], "c1")], [x], [y], [w]), "spec", "[-4, 3, 3, 3]"
    if case == "attribute twice":
        conv = node("Conv", ["x", "w"], ["y"], "c1", group=1)
        conv.attribute.extend(node("Conv", ["x", "w"], ["y"], "c1", group=[1, 2]).attribute)
        return (
            build([conv], [x], [y], [weight("w", 4, 3, 3, 3)]),
            "node 'c1' (Conv)",
            "'group' more than once",
        )
    if case == "attribute of another type":
        model = build([node("Conv", ["x", "w"], ["y"], "c1", strides=2)], [x], [y], [weight("w", 4, 3, 3, 3)])
        return model, "node 'c1' (Conv)", "'strides' as an int; Conv takes a list of ints"
    if case == "missing required attribute":
        return build([node("Concat", ["x", "x"], ["y"], "cat")], [x], [y]), "node 'cat' (Concat)", "'axis'"
    if case == "too many inputs":
        model = build([node("Relu", ["x", "x"], ["y"], "r1")], [x], [y])
        return model, "node 'r1' (Relu)", "has 2 inputs; Relu takes at most 1"
    if case == "empty required input":
        model = build([node("Reshape", ["x", ""], ["y"], "r1")], [x], [y])
        return model, "node 'r1' (Reshape)", "leaves its input 1 ('shape') empty"
    raise AssertionError(case)


CASES = [
    "conv with one input",
    "2-D conv weight",
    "rank mismatch",
    "channel mismatch",
    "matmul inner dims",
    "pool without kernel_shape",
    "gemm with one input",
    "empty graph",
    "unknown opset",
    "ancient opset",
    "undefined value",
    "window larger than its input",
    "window to a dim of 0",
    "negative pads to a negative dim",
    "declared negative dim",
    "weight of negative dims",
    "attribute twice",
    "attribute of another type",
    "missing required attribute",
    "too many inputs",
    "empty required input",
]


@pytest.mark.parametrize("case", CASES)
def test_a_malformed_graph_is_one_error_naming_the_node(onnx, case: str) -> None:
    model, where, problem = malformed(case)
    with pytest.raises(ConvCostError) as error:
        cost(model)
    assert where in error.value.field
    assert problem in error.value.problem
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("case", ["conv with one input", "empty graph", "rank mismatch", "unknown opset"])
def test_the_cli_says_it_in_one_line_and_exits_2(onnx, tmp_path, case: str) -> None:
    model, where, problem = malformed(case)
    path = tmp_path / "bad.onnx"
    path.write_bytes(model.SerializeToString())
    result = CliRunner().invoke(cli_command(), ["compare", str(path)])
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and problem in result.stderr
    assert where in result.stderr or where == "spec"


def cli_command():
    from convcost.cli import cli

    return cli


# ---------------------------------------------------------------- the probes of issue 9


def test_gemm_trans_a_is_640_macs_not_10(onnx) -> None:
    """A (K=16, M=4) input, Gemm(transA=1) by a 16×10 weight: 4·16·10 MACs (it was 10)."""
    model = build(
        [node("Gemm", ["x", "w", "b"], ["y"], "fc", transA=1)],
        [("x", [16, 4])],
        [("y", [4, 10])],
        [weight("w", 16, 10), weight("b", 10)],
    )
    converted, network = cost(model)
    assert network.totals.macs == 640 and network.totals.params == 170
    # the first dim is the sum's, not a batch: one pass over the whole input, said so
    assert converted.batch == 1
    assert any("batch" in note for note in converted.notes)


def test_gemm_trans_b_and_a_bias_row(onnx) -> None:
    model = build(
        [node("Gemm", ["x", "w", "b"], ["y"], "fc", transB=1)],
        [("x", [3, 8])],
        [("y", [3, 5])],
        [weight("w", 5, 8), weight("b", 5)],
    )
    converted, network = cost(model)
    assert converted.batch == 3
    assert network.totals.macs == 40 and network.totals.params == 45  # per sample


def test_max_pool_dilations_and_ceil_mode(onnx) -> None:
    model = build(
        [
            node("MaxPool", ["x"], ["a"], "dilated", kernel_shape=[3, 3], dilations=[2, 2]),
            node("MaxPool", ["a"], ["y"], "ceil", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        ],
        [("x", [1, 2, 9, 9])],
        [("y", None)],
    )
    _, network = cost(model)
    found = rows(network)
    # a 3×3 window dilated by 2 spans 5: 9 → 5; 8 comparisons per output
    assert found["dilated"].output_shape == (5, 5, 2)
    assert found["dilated"].counts.other_ops == 5 * 5 * 2 * 8
    # 5 → ceil(3/2) + 1 = 3 with ceil_mode (floor would give 2)
    assert found["ceil"].output_shape == (3, 3, 2)


def test_matmul_on_3d_and_4d_shapes(onnx) -> None:
    """Token-wise linear on L×C; attention's activation × activation products, batched."""
    model = build(
        [
            node("MatMul", ["x", "w"], ["h"], "proj"),
            node("Add", ["h", "b"], ["hb"], "proj_bias"),
            node("Transpose", ["hb"], ["ht"], "kT", perm=[0, 2, 1]),
            node("MatMul", ["hb", "ht"], ["s"], "scores"),
            node("Reshape", ["hb", "heads"], ["q"], "split_heads"),
            node("Transpose", ["q"], ["qh"], "to_heads", perm=[0, 2, 1, 3]),
            node("Transpose", ["qh"], ["kh"], "k_heads", perm=[0, 1, 3, 2]),
            node("MatMul", ["qh", "kh"], ["y"], "head_scores"),
        ],
        [("x", [1, 5, 8])],
        [("s", None), ("y", None)],
        [weight("w", 8, 6), weight("b", 6), ints("heads", 1, 5, 2, 3)],
    )
    converted, network = cost(model)
    found = rows(network)
    assert found["proj"].type == "linear" and found["proj"].output_shape == (5, 6)
    assert found["proj"].counts.macs == 5 * 8 * 6 and found["proj"].counts.params == 8 * 6 + 6
    assert "proj_bias" not in found  # the Add of a bias vector is the linear's bias
    assert found["scores"].output_shape == (5, 5) and found["scores"].counts.macs == 5 * 6 * 5
    assert found["head_scores"].output_shape == (2, 5, 5)
    assert found["head_scores"].counts.macs == 2 * 5 * 3 * 5
    assert network.totals.macs == 240 + 150 + 150
    assert converted.document["outputs"] == ["scores", "head_scores"]


def test_batch_two_is_reported_and_costs_per_sample(onnx) -> None:
    model = build(
        [node("Conv", ["x", "w"], ["y"], "c1", pads=[1, 1, 1, 1])],
        [("x", [2, 3, 8, 8])],
        [("y", None)],
        [weight("w", 4, 3, 3, 3)],
    )
    converted, network = cost(model)
    assert converted.batch == 2 and converted.document["input"] == "8x8x3"
    assert network.totals.macs == 8 * 8 * 4 * 27
    assert cost(model, batch=5)[0].batch == 5


def test_a_batch_mixed_into_other_dims_is_costed_whole(onnx) -> None:
    """Per-sample costs need the batch on its own axis; a model that merges it (here a Reshape of
    N×C×H×W to one vector, as attention's (L, N·heads, d) layouts do) is costed as one pass over
    its whole input: the batch becomes a leading dim that every conv window spans with size 1."""
    model = build(
        [
            node("Conv", ["x", "w"], ["c"], "c1", pads=[1, 1, 1, 1]),
            node("Reshape", ["c", "flat"], ["y"], "merge_batch"),
        ],
        [("x", [2, 3, 4, 4])],
        [("y", None)],
        [weight("w", 4, 3, 3, 3), ints("flat", -1)],
    )
    converted, network = cost(model)
    assert converted.batch == 1 and "mixes the batch axis" in converted.notes[0]
    assert converted.document["input"] == "2x4x4x3"
    found = rows(network)
    assert found["c1"].output_shape == (2, 4, 4, 4) and found["c1"].counts.macs == 2 * 16 * 4 * 27
    assert found["merge_batch"].output_shape == (128,)


def test_symbolic_dims_name_the_input_and_dims(onnx) -> None:
    model = build(
        [node("Conv", ["image", "w"], ["y"], "c1")],
        [("image", ["N", 3, "H", "W"])],
        [("y", None)],
        [weight("w", 4, 3, 3, 3)],
    )
    with pytest.raises(ConvCostError) as error:
        cost(model)
    assert error.value.field == "in"
    assert "'image'" in error.value.problem
    assert "N (axis 0, the batch: taken as 1), H (axis 2), W (axis 3)" in error.value.problem
    _, network = cost(model, input_shape=(10, 12, 3), batch=1)
    assert network.totals.macs == 8 * 10 * 4 * 27
    with pytest.raises(ConvCostError, match="gives 2 dims"):
        cost(model, input_shape=(10, 3), batch=1)


def test_every_output_is_listed(onnx) -> None:
    model = build(
        [
            node("Conv", ["x", "w"], ["f"], "trunk"),
            node("Conv", ["f", "wa"], ["boxes"], "box_head"),
            node("Conv", ["f", "wb"], ["scores"], "class_head"),
        ],
        [("x", [1, 3, 8, 8])],
        [("boxes", None), ("scores", None)],
        [weight("w", 8, 3, 1, 1), weight("wa", 4, 8, 1, 1), weight("wb", 6, 8, 1, 1)],
    )
    converted, network = cost(model)
    assert converted.document["outputs"] == ["box_head", "class_head"]
    assert network.outputs == (("box_head", (8, 8, 4)), ("class_head", (8, 8, 6)))
    assert network.totals.macs == 64 * (8 * 3 + 4 * 8 + 6 * 8)


def test_an_op_convcost_cannot_cost_is_listed_never_dropped(onnx) -> None:
    from onnx import helper

    custom = helper.make_node("Warp", ["a"], ["b"], name="warp", domain="com.example")
    model = build(
        [node("Relu", ["x"], ["a"]), custom, node("Conv", ["b", "w"], ["y"], "after")],
        [("x", [1, 3, 8, 8])],
        [("y", None)],
        [weight("w", 4, 3, 1, 1)],
        value_info=[("b", [1, 3, 8, 8])],
    )
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    converted, network = cost(model)
    assert converted.unsupported == {"com.example::Warp": 1}
    assert any("unsupported op com.example::Warp (1×)" in note for note in converted.notes)
    found = rows(network)
    assert found["warp"].type == "opaque" and found["warp"].counts.macs == 0
    assert found["after"].counts.macs == 64 * 4 * 3  # the graph goes on with the model's shape


def test_a_zero_pad_folds_into_the_conv_after_it(onnx) -> None:
    model = build(
        [
            node("Pad", ["x", "pads"], ["p"], "pad", mode="constant"),
            node("Conv", ["p", "w"], ["c"], "conv"),
            node("Pad", ["c", "pads"], ["y"], "mirror", mode="reflect"),
        ],
        [("x", [1, 3, 8, 8])],
        [("y", None)],
        [weight("w", 4, 3, 3, 3), ints("pads", 0, 0, 1, 1, 0, 0, 1, 1)],
    )
    _, network = cost(model)
    found = rows(network)
    assert "pad" not in found and found["conv"].output_shape == (8, 8, 4)
    assert found["conv"].effective_macs < found["conv"].counts.macs  # padding taps are known as padding
    assert found["mirror"].type == "pad" and found["mirror"].output_shape == (10, 10, 4)


def test_layer_scale_and_norms_count_their_params_once(onnx) -> None:
    """ConvNeXt's pattern: NCHW → NHWC (free), layer norm, token MLP, layer scale, back, residual."""
    model = build(
        [
            node("Conv", ["x", "w", "wb"], ["c"], "dw", group=8, pads=[1, 1, 1, 1]),
            node("Transpose", ["c"], ["t"], "to_nhwc", perm=[0, 2, 3, 1]),
            node("LayerNormalization", ["t", "ln_w", "ln_b"], ["n"], "norm", axis=-1),
            node("MatMul", ["n", "fc"], ["h"], "mlp"),
            node("Mul", ["gamma", "h"], ["s"], "scale"),
            node("Mul", ["s", "gamma"], ["s2"], "scale_again"),
            node("Transpose", ["s2"], ["back"], "to_nchw", perm=[0, 3, 1, 2]),
            node("Add", ["c", "back"], ["y"], "residual"),
        ],
        [("x", [1, 8, 4, 4])],
        [("y", None)],
        [
            weight("w", 8, 1, 3, 3),
            weight("wb", 8),
            weight("ln_w", 8),
            weight("ln_b", 8),
            weight("fc", 8, 8),
            weight("gamma", 8),
        ],
    )
    _, network = cost(model)
    found = rows(network)
    assert not any(row.type == "transpose" for row in network.rows)
    assert found["norm"].counts.params == 16 and found["norm"].counts.other_ops == 4 * 4 * 8 * 5
    assert found["mlp"].counts.macs == 16 * 8 * 8
    assert network.totals.params == (72 + 8) + 16 + 64 + 8  # gamma once, though used twice
    assert found["residual"].output_shape == (4, 4, 8)


def test_resize_integer_scales_upsample_others_resize(onnx) -> None:
    import numpy as np
    from onnx import numpy_helper

    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales")
    sizes = ints("sizes", 1, 3, 12, 12)
    model = build(
        [
            node("Resize", ["x", "", "scales"], ["up"], "up", mode="linear"),
            node("Resize", ["up", "", "", "sizes"], ["y"], "odd", mode="nearest"),
        ],
        [("x", [1, 3, 4, 4])],
        [("y", None)],
        [scales, sizes],
        opset=13,
    )
    _, network = cost(model)
    found = rows(network)
    assert found["up"].type == "upsample" and found["up"].output_shape == (8, 8, 3)
    assert found["up"].counts.other_ops == 8 * 8 * 3 * 4  # bilinear: 4 per output (fvcore)
    assert found["odd"].type == "resize" and found["odd"].output_shape == (12, 12, 3)


def test_a_model_without_its_weight_file_still_costs(onnx, tmp_path) -> None:
    import onnx as onnx_module

    model = build(
        [node("Conv", ["x", "w"], ["y"], "c1")],
        [("x", [1, 3, 8, 8])],
        [("y", None)],
        [weight("w", 64, 3, 3, 3)],
    )
    path = tmp_path / "m.onnx"
    onnx_module.save_model(
        model, str(path), save_as_external_data=True, location="m.weights", size_threshold=0
    )
    (tmp_path / "m.weights").unlink()
    result = CliRunner().invoke(cli_command(), ["compare", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["macs"] == 6 * 6 * 64 * 27


def test_import_writes_inputs_by_name_and_round_trips(onnx, tmp_path) -> None:
    model = build(
        [
            node("Conv", ["x", "w1"], ["a"], "a"),
            node("Conv", ["x", "w2"], ["b"], "b", pads=[1, 1, 1, 1]),
            node("Concat", ["x", "a", "b"], ["cat"], "cat", axis=1),
            node("Conv", ["cat", "w3"], ["y"], "fuse"),
        ],
        [("x", [1, 3, 8, 8])],
        [("y", None)],
        [weight("w1", 4, 3, 1, 1), weight("w2", 5, 3, 3, 3), weight("w3", 2, 12, 1, 1)],
    )
    path = tmp_path / "dense.onnx"
    path.write_bytes(model.SerializeToString())
    result = CliRunner().invoke(cli_command(), ["import", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "inputs: [input, a, b]" in result.stdout
    spec = Path(tmp_path / "dense.yaml")
    spec.write_text(result.stdout)
    runner = CliRunner()
    a = json.loads(runner.invoke(cli_command(), ["compare", str(path), "--json"]).stdout)
    b = json.loads(runner.invoke(cli_command(), ["compare", str(spec), "--json"]).stdout)
    assert a["totals"] == b["totals"]
    assert a["totals"]["macs"] == 64 * (4 * 3 + 5 * 27 + 2 * 12)


def test_norms_softmax_reduce_split_slice_gather_and_transposed_conv(onnx) -> None:
    """Ops the fixtures use little or not at all, in one opset-21 graph, on an N×C×H×W input."""
    model = build(
        [
            node("GroupNormalization", ["x", "g_s", "g_b"], ["gn"], "gn", num_groups=2),
            node("InstanceNormalization", ["gn", "i_s", "i_b"], ["inorm"], "inorm"),
            node("LayerNormalization", ["inorm", "l_s", "l_b"], ["ln"], "ln", axis=1),
            node("Softmax", ["ln"], ["sm"], "sm", axis=1),
            node("ReduceMean", ["sm", "axes"], ["pooled"], "pooled", keepdims=0),
            node("Split", ["x", "sizes"], ["first", "rest"], "split", axis=1),
            node("Slice", ["x", "start", "end", "axis2", "two"], ["every_other"], "every_other"),
            node("Gather", ["x", "picks"], ["picked"], "picked", axis=1),
            node("ConvTranspose", ["x", "wt"], ["up"], "up", strides=[2, 2]),
            node("Sum", ["x", "x", "x"], ["tripled"], "tripled"),
            node("Einsum", ["x", "x"], ["gram"], "gram", equation="nchw,ndhw->ncd"),
        ],
        [("x", [1, 4, 6, 6])],
        [
            (name, None)
            for name in ("pooled", "first", "rest", "every_other", "picked", "up", "tripled", "gram")
        ],
        [
            weight("g_s", 4),
            weight("g_b", 4),
            weight("i_s", 4),
            weight("i_b", 4),
            weight("l_s", 4, 6, 6),
            weight("l_b", 4, 6, 6),
            ints("axes", 2, 3),
            ints("sizes", 1, 3),
            ints("start", 0),
            ints("end", 6),
            ints("axis2", 2),
            ints("two", 2),
            ints("picks", 0, 2),
            weight("wt", 4, 2, 3, 3),
        ],
        opset=21,
    )
    converted, network = cost(model)
    found = rows(network)
    assert found["gn"].type == "groupnorm" and found["gn"].counts.params == 8
    assert found["inorm"].counts.params == 8 and found["inorm"].counts.other_ops == 144 * 5
    assert found["ln"].counts.params == 2 * 144  # over C×H×W: a scale and shift per element
    assert found["sm"].output_shape == (6, 6, 4) and found["sm"].counts.other_ops == 36 * (3 * 4 - 1)
    assert found["pooled"].output_shape == (4,) and found["pooled"].counts.other_ops == 144
    assert found["split_0"].output_shape == (6, 6, 1) and found["split_1"].output_shape == (6, 6, 3)
    assert found["every_other"].output_shape == (3, 6, 4)
    assert found["picked"].output_shape == (6, 6, 2)
    assert found["up"].type == "transposed" and found["up"].output_shape == (13, 13, 2)
    assert found["up"].counts.macs == 36 * 4 * 2 * 9  # per input element, as FlopCounterMode
    assert found["tripled"].type == "add" and found["tripled"].counts.other_ops == 144 * 2
    # a Gram matrix as an Einsum: one matmul over c, d and the h·w positions contracted
    assert found["gram"].type == "matmul" and found["gram"].counts.macs == 4 * 4 * 36
    assert converted.unsupported == {}
    assert len(converted.document["outputs"]) == 8


def test_a_transpose_whose_perm_misses_axes_is_refused_in_its_words(onnx) -> None:
    """The fuzzer's find: a 4-axis perm on the 6-d output of an Unsqueeze was an internal error."""
    from onnx import TensorProto, helper

    axes = helper.make_tensor("axes", TensorProto.INT64, [2], [1, -1])
    model = build(
        [node("Unsqueeze", ["x", "axes"], ["u"]), node("Transpose", ["u"], ["y"], perm=[0, 1, 2, 3])],
        [("x", [1, 1, 4, 4])],
        [("y", None)],
        [axes],
    )
    with pytest.raises(ConvCostError) as error:
        cost(model)
    assert str(error.value) == "node 'y' (Transpose): has perm [0, 1, 2, 3], not an order of its input's 6 axes"
