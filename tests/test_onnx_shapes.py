"""convcost's own shape inference and constant folding (issue 23), with onnx as the oracle.

On every ONNX fixture each value's dims equal onnx's inferred ones wherever onnx infers a dim; each
family of shape rules equals onnx's inference on small generated models; each fold equals onnx's
reference evaluator on constants. onnx and numpy are needed here only as oracles.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import optional_module

onnx = optional_module("onnx", "onnx")  # the oracle: onnx's own inference
np = optional_module("numpy", "onnx")

from onnx import TensorProto, helper  # noqa: E402

from convcost.core.errors import ConvCostError  # noqa: E402
from convcost.io.onnx import infer as own  # noqa: E402
from convcost.io.onnx import read  # noqa: E402
from convcost.io.onnx.fold import static_eval  # noqa: E402
from convcost.io.onnx.layout import wants_nchw  # noqa: E402
from convcost.io.onnx.read import attributes  # noqa: E402
from convcost.io.onnx.registry import lookup  # noqa: E402
from convcost.io.onnx.tensor import decode  # noqa: E402
from tests.test_fuzz_onnx import plausible_models  # noqa: E402

convert = importlib.import_module("convcost.io.onnx.convert")

FIXTURES = Path(__file__).parent / "fixtures" / "onnx"
MODELS = sorted([*FIXTURES.glob("*.onnx"), *(FIXTURES / "corpus").glob("*.onnx")])


def _both(model, shape=None):
    """(onnx's shapes, convcost's) of a parsed model, as the converter asks for them."""
    graph = model.graph
    initializers = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    wants = wants_nchw(graph)
    taken = convert.symbolic_batch(inputs[0])
    batch = 1 if taken is not None else None
    theirs = convert.onnx_shapes(model, graph.node[0], inputs[0].name, wants, shape, batch, taken)
    dims = own.given_inputs(inputs, wants, shape, batch)
    mine = own.infer(model, dims, batch is not None or shape is not None)
    return theirs, mine


def _differences(theirs, mine):
    """The values whose dims differ wherever onnx knows a dim (convcost may know more)."""
    return {
        name: (dims, mine.get(name))
        for name, dims in theirs.items()
        if any(d is not None for d in dims)
        and (
            mine.get(name) is None
            or len(mine[name]) != len(dims)
            or any(a is not None and a != b for a, b in zip(dims, mine[name], strict=True))
        )
    }


@pytest.mark.parametrize("path", MODELS, ids=[p.name for p in MODELS])
def test_every_fixture_has_onnx_inferred_shapes(path: Path) -> None:
    model = read.parse(path.read_bytes())
    assert own.missing_rule(model.graph) is None  # every op of every fixture has a rule
    theirs, mine = _both(model, (32, 32, 3) if path.name.startswith("dynamic.") else None)
    assert len(theirs) > len(model.graph.input)  # onnx infers the nodes' outputs
    assert _differences(theirs, mine) == {}


# ---------------------------------------------------------------------------- one node, both ways


def _value(name, array):
    return helper.make_tensor(
        name, helper.np_dtype_to_tensor_dtype(array.dtype), array.shape, array.reshape(-1).tolist()
    )


def one_node(op, inputs, attrs=None, constants=None, outputs=1, opset=17):
    """A model of one node: ``inputs`` (name, dims) float activations, ``constants`` (name → numpy
    array) initializers, read in the order ``inputs`` then ``constants`` unless names say otherwise."""
    constants = constants or {}
    names = [n for n, _ in inputs] + list(constants)
    outs = [f"y{i}" for i in range(outputs)]
    node = helper.make_node(op, names, outs, name="n", **(attrs or {}))
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(d)) for n, d in inputs],
        [helper.make_tensor_value_info(o, TensorProto.UNDEFINED, None) for o in outs],
        [_value(n, a) for n, a in constants.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def agree(model) -> dict[str, tuple[int, ...]]:
    """convcost's dims of the node's outputs equal onnx's (both refuse, or both infer them)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True).graph
        theirs = {
            i.name: tuple(
                d.dim_value if d.HasField("dim_value") else None for d in i.type.tensor_type.shape.dim
            )
            for i in [*inferred.value_info, *inferred.output]
            if i.type.tensor_type.HasField("shape")
        }
    except Exception:
        theirs = None
    inputs = {i.name: own.stated(i) for i in model.graph.input}
    least = 1 if lookup(model.graph.node[0].op_type).windowed else 0  # a window's dim of 0 is refused too
    if theirs is None or any(d is not None and d < least for dims in theirs.values() for d in dims):
        with pytest.raises(ConvCostError):
            own.infer(model, inputs, False)
        return {}
    mine = own.infer(model, inputs, False)
    theirs = {name: tuple(d if d else None for d in dims) for name, dims in theirs.items()}  # 0: None
    assert _differences(theirs, mine) == {}
    return {name: dims for name, dims in mine.items() if name.startswith("y")}


def test_a_conv_over_a_map_smaller_than_its_window_is_refused_in_onnx_words() -> None:
    model = one_node("Conv", [("x", (1, 2, 1, 1))], constants={"w": np.zeros((4, 2, 3, 3), np.float32)})
    with pytest.raises(
        ConvCostError, match=r"makes its output 'y0' 1x4x-1x-1 from 'x' 1x2x1x1, a dim below 1"
    ):
        own.infer(model, {"x": [1, 2, 1, 1]}, False)


windows = st.fixed_dictionaries(
    {
        "size": st.integers(1, 12),
        "kernel": st.integers(1, 4),
        "stride": st.integers(1, 3),
        "dilation": st.integers(1, 2),
        "pads": st.tuples(st.integers(0, 2), st.integers(0, 2)),
        "auto_pad": st.sampled_from(["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"]),
    }
)


@settings(max_examples=60)
@given(windows, st.booleans())
def test_conv_windows(w, transposed) -> None:
    attrs = {"strides": [w["stride"]], "dilations": [w["dilation"]], "auto_pad": w["auto_pad"]}
    if w["auto_pad"] == "NOTSET":
        attrs["pads"] = list(w["pads"])
    weight = np.zeros((3, 2, w["kernel"]), np.float32)
    agree(
        one_node(
            "ConvTranspose" if transposed else "Conv",
            [("x", (1, 3 if transposed else 2, w["size"]))],
            attrs,
            {"w": weight},
        )
    )


@settings(max_examples=60)
@given(windows, st.booleans(), st.sampled_from(["MaxPool", "AveragePool", "LpPool"]))
def test_pool_windows(w, ceil, op) -> None:
    attrs = {"kernel_shape": [w["kernel"]], "strides": [w["stride"]], "auto_pad": w["auto_pad"]}
    if op == "MaxPool":
        attrs["dilations"] = [w["dilation"]]
    if op != "LpPool":
        attrs["ceil_mode"] = int(ceil)
    if w["auto_pad"] == "NOTSET":
        attrs["pads"] = list(w["pads"])
    agree(one_node(op, [("x", (1, 2, w["size"]))], attrs, opset=19))


def test_conv_transpose_output_padding_and_shape() -> None:
    weight = {"w": np.zeros((2, 3, 3, 3), np.float32)}
    stated = one_node(
        "ConvTranspose", [("x", (1, 2, 5, 5))], {"strides": [2, 2], "output_padding": [1, 0]}, weight
    )
    assert agree(stated)["y0"] == (1, 3, 12, 11)
    assert agree(
        one_node(
            "ConvTranspose", [("x", (1, 2, 5, 5))], {"output_shape": [13, 12], "strides": [2, 2]}, weight
        )
    )


dims = st.lists(st.integers(1, 4), min_size=0, max_size=4)


@settings(max_examples=60)
@given(dims, dims, st.sampled_from(["Add", "Where", "Max", "Equal", "MatMul", "PRelu"]))
def test_broadcasts_and_products(a, b, op) -> None:
    a, b = tuple(a) or (1,), tuple(b) or (1,)
    if op == "MatMul" and len(b) > 1:
        b = (*b[:-2], a[-1], b[-1])
    inputs = [("a", a), ("b", b)] if op != "Where" else [("c", a), ("a", a), ("b", b)]
    agree(one_node(op, inputs))


@pytest.mark.parametrize(
    ("a", "b", "attrs"),
    [((3, 4), (4, 5), {}), ((4, 3), (4, 5), {"transA": 1}), ((3, 4), (5, 4), {"transB": 1})],
)
def test_gemm(a, b, attrs) -> None:
    assert agree(one_node("Gemm", [("a", a), ("b", b)], attrs))["y0"] == (3, 5)


@settings(max_examples=60)
@given(
    st.lists(st.integers(-3, 2), max_size=3, unique=True),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["ReduceMean", "ReduceSum", "ReduceMax", "ReduceL2"]),
)
def test_reductions(axes, keepdims, as_input, op) -> None:
    attrs = {"keepdims": int(keepdims)}
    if as_input:
        constants = {"axes": np.array(axes, np.int64)} if axes else {}
        agree(one_node(op, [("x", (2, 3, 4))], attrs, constants, opset=18))
    else:
        agree(one_node(op, [("x", (2, 3, 4))], {**attrs, **({"axes": axes} if axes else {})}, opset=13))


@settings(max_examples=80)
@given(
    st.lists(
        st.tuples(st.integers(-8, 8), st.integers(-8, 8), st.sampled_from([-2, -1, 1, 2, 3])),
        min_size=1,
        max_size=3,
    ),
    st.booleans(),
)
def test_slices(bounds, old) -> None:
    starts, ends, steps = (list(x) for x in zip(*bounds, strict=True))
    axes = list(range(len(bounds)))
    if old:  # opset 9: attributes, no steps
        agree(one_node("Slice", [("x", (5, 6, 7))], {"starts": starts, "ends": ends, "axes": axes}, opset=9))
        return
    constants = {n: np.array(v, np.int64) for n, v in zip("sea", (starts, ends, axes), strict=True)}
    agree(one_node("Slice", [("x", (5, 6, 7))], None, {**constants, "t": np.array(steps, np.int64)}))


@pytest.mark.parametrize(
    ("target", "allowzero"),
    [([0, -1], 0), ([2, 0, 4], 0), ([-1], 0), ([4, 3, 2], 0), ([24], 1), ([3, -1, 2], 0), ([2, 3, 0], 0)],
)
def test_reshape(target, allowzero) -> None:
    agree(
        one_node("Reshape", [("x", (2, 3, 4))], {"allowzero": allowzero}, {"s": np.array(target, np.int64)})
    )


@pytest.mark.parametrize(
    ("op", "attrs", "constants", "opset"),
    [
        ("Split", {"axis": 1, "split": [1, 2]}, {}, 11),
        ("Split", {"axis": -1}, {"s": np.array([3, 1], np.int64)}, 13),
        ("Split", {"axis": 2}, {}, 13),
        ("Split", {"axis": 2}, {}, 18),  # neither split nor num_outputs: refused by both
        ("Split", {"axis": 2, "num_outputs": 2}, {}, 18),
        ("Concat", {"axis": 1}, {"c": np.zeros((2, 5, 4), np.float32)}, 17),
        ("Transpose", {"perm": [2, 0, 1]}, {}, 17),
        ("Transpose", {}, {}, 17),
        ("Flatten", {"axis": 2}, {}, 17),
        ("Flatten", {"axis": 0}, {}, 17),
        ("Unsqueeze", {"axes": [0, -1]}, {}, 11),
        ("Unsqueeze", {}, {"a": np.array([1, 4], np.int64)}, 13),
        ("Expand", {}, {"s": np.array([3, 1, 1, 4], np.int64)}, 17),
        ("Pad", {"pads": [0, 1, 2, 0, 3, 4]}, {}, 10),
        ("Pad", {}, {"p": np.array([0, 1, 2, 0, 3, 4], np.int64)}, 13),
        (
            "Pad",
            {},
            {
                "p": np.array([1, 2, 3, 4], np.int64),
                "v": np.array(0.0, np.float32),
                "a": np.array([1, -1], np.int64),
            },
            18,
        ),
        ("Gather", {"axis": 1}, {"i": np.array([[0, 2], [1, 1]], np.int64)}, 17),
        ("GatherElements", {"axis": 2}, {"i": np.zeros((2, 3, 2), np.int64)}, 17),
        ("GatherND", {}, {"i": np.zeros((2, 2), np.int64)}, 17),
        ("GatherND", {"batch_dims": 1}, {"i": np.zeros((2, 1), np.int64)}, 17),
        ("Resize", {}, {"r": np.array([], np.float32), "s": np.array([1, 1, 2, 1.5], np.float32)}, 13),
        ("Upsample", {}, {"s": np.array([1, 1, 2, 3], np.float32)}, 9),
        ("Shape", {"start": 1, "end": -1}, {}, 15),
        ("Size", {}, {}, 17),
        ("CumSum", {}, {"a": np.array(1, np.int64)}, 17),
        ("LayerNormalization", {"axis": 1}, {"s": np.zeros((3, 4), np.float32)}, 17),
        ("Softmax", {}, {}, 17),
        ("GlobalAveragePool", {}, {}, 17),
        ("DepthToSpace", {"blocksize": 1}, {}, 17),
        ("Einsum", {"equation": "abc->cb"}, {}, 17),
    ],
)
def test_moving_data(op, attrs, constants, opset) -> None:
    shape = (2, 3, 4) if op not in ("Resize", "Upsample") else (1, 2, 3, 4)
    outputs = 2 if op == "Split" else 1
    agree(one_node(op, [("x", shape)], attrs, constants, outputs=outputs, opset=opset))


def test_squeeze_attribute_and_input() -> None:
    assert agree(one_node("Squeeze", [("x", (1, 3, 1, 2))], {"axes": [2]}, opset=11))["y0"] == (1, 3, 2)
    squeezed = one_node("Squeeze", [("x", (1, 3, 1, 2))], {}, {"a": np.array([0, -2], np.int64)}, opset=13)
    assert agree(squeezed)["y0"] == (3, 2)
    assert agree(one_node("Squeeze", [("x", (1, 3, 1, 2))], opset=13))["y0"] == (3, 2)


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_recurrent(op) -> None:
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    constants = {"w": np.zeros((2, gates * 5, 6), np.float32), "r": np.zeros((2, gates * 5, 5), np.float32)}
    made = agree(
        one_node(
            op, [("x", (7, 3, 6))], {"hidden_size": 5, "direction": "bidirectional"}, constants, outputs=2
        )
    )
    assert made["y0"] == (7, 2, 3, 5)


# ---------------------------------------------------------------------------- values


def _shape_arithmetic(nodes, out):
    """A model computing ``out`` from the dims of an input x (2×3×4×6) by ``nodes``."""
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4, 6])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_shape_arithmetic_reaches_a_reshape() -> None:
    """Shape → Gather → Div (as floats, ceil) → Cast → Concat → Reshape: the MobileViT pattern."""
    c = helper.make_node
    ints = helper.make_tensor
    nodes = [
        c("Shape", ["x"], ["s"]),
        c("Constant", [], ["i"], value=ints("i", TensorProto.INT64, [1], [2])),
        c("Gather", ["s", "i"], ["h"], axis=0),
        c("Cast", ["h"], ["hf"], to=TensorProto.FLOAT),
        c("Constant", [], ["p"], value=ints("p", TensorProto.FLOAT, [], [3.0])),
        c("Div", ["hf", "p"], ["q"]),
        c("Ceil", ["q"], ["qc"]),
        c("Cast", ["qc"], ["qi"], to=TensorProto.INT64),
        c("Constant", [], ["m"], value=ints("m", TensorProto.INT64, [1], [-1])),
        c("Concat", ["qi", "m"], ["target"], axis=0),
        c("Reshape", ["x", "target"], ["y"]),
    ]
    mine = own.infer(_shape_arithmetic(nodes, "y"), {"x": [2, 3, 4, 6]}, False)
    assert mine["y"] == (2, 72)  # ceil(4 / 3) = 2 rows of 144 / 2


ints = st.integers(-20, 20)


def _reference(op, arrays, attrs):
    from onnx.reference import ReferenceEvaluator

    names = [f"i{k}" for k in range(len(arrays))]
    node = helper.make_node(op, names, ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
            for n, a in zip(names, arrays, strict=True)
        ],
        [helper.make_tensor_value_info("y", TensorProto.UNDEFINED, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    expected = ReferenceEvaluator(model).run(None, dict(zip(names, arrays, strict=True)))[0]
    mine = static_eval(
        node, [decode(_value(n, a)) for n, a in zip(names, arrays, strict=True)], attributes(node)
    )
    assert mine is not None
    assert mine[0].dims == tuple(expected.shape)
    assert list(mine[0].values) == pytest.approx(np.asarray(expected).reshape(-1).tolist(), nan_ok=True)


@settings(max_examples=40)
@given(
    st.lists(ints, min_size=1, max_size=6),
    st.lists(ints, min_size=1, max_size=1),
    st.sampled_from(["Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Equal", "Less", "Greater"]),
    st.sampled_from([np.int64, np.float32, np.int32]),
)
def test_arithmetic_folds_as_onnx_evaluates(a, b, op, dtype) -> None:
    if op in ("Div", "Mod") and 0 in b:
        b = [7]
    _reference(op, [np.array(a, dtype), np.array(b, dtype)], {})


@settings(max_examples=30)
@given(
    st.lists(st.floats(-50, 50, width=32), min_size=1, max_size=5),
    st.sampled_from(["Floor", "Ceil", "Neg", "Abs", "Sqrt"]),
)
def test_unary_folds_as_onnx_evaluates(a, op) -> None:
    values = np.array(a, np.float32)
    _reference(op, [np.abs(values) if op == "Sqrt" else values], {})


@pytest.mark.parametrize(
    ("op", "arrays", "attrs"),
    [
        ("Cast", [np.array([1.7, -2.5, 3.0], np.float32)], {"to": TensorProto.INT64}),
        ("Cast", [np.array([70000, -3], np.int64)], {"to": TensorProto.INT16}),
        ("Cast", [np.array([1, 0, 2], np.int64)], {"to": TensorProto.BOOL}),
        ("Cast", [np.array([1 / 3], np.float64)], {"to": TensorProto.FLOAT16}),
        ("Gather", [np.arange(12, dtype=np.int64).reshape(3, 4), np.array([[-1, 0]], np.int64)], {"axis": 1}),
        (
            "GatherElements",
            [np.arange(6, dtype=np.int64).reshape(2, 3), np.array([[2, 0], [-1, 1]], np.int64)],
            {"axis": 1},
        ),
        (
            "GatherND",
            [np.arange(12, dtype=np.int64).reshape(3, 4), np.array([[1, 2], [2, -1]], np.int64)],
            {},
        ),
        ("Concat", [np.array([1, 2], np.int64), np.array([3], np.int64)], {"axis": 0}),
        (
            "Slice",
            [
                np.arange(10, dtype=np.int64),
                np.array([8], np.int64),
                np.array([1], np.int64),
                np.array([0], np.int64),
                np.array([-3], np.int64),
            ],
            {},
        ),
        ("Reshape", [np.arange(6, dtype=np.int64), np.array([3, -1], np.int64)], {}),
        ("Range", [np.array(1, np.int64), np.array(10, np.int64), np.array(3, np.int64)], {}),
        ("Range", [np.array(0.5, np.float32), np.array(2, np.float32), np.array(0.25, np.float32)], {}),
        ("Expand", [np.array([[1], [2]], np.int64), np.array([2, 3], np.int64)], {}),
        ("Where", [np.array([True, False]), np.array([1, 2], np.int64), np.array([9], np.int64)], {}),
        ("Squeeze", [np.zeros((1, 2, 1), np.int64), np.array([0], np.int64)], {}),
        ("Unsqueeze", [np.array([4, 5], np.int64), np.array([0, 2], np.int64)], {}),
        ("Transpose", [np.arange(6, dtype=np.int64).reshape(1, 2, 3)], {"perm": [2, 0, 1]}),
        (
            "ConstantOfShape",
            [np.array([2, 3], np.int64)],
            {"value": helper.make_tensor("v", TensorProto.INT64, [1], [7])},
        ),
        ("Pow", [np.array([2, 3], np.float32), np.array([3], np.float32)], {}),
        ("And", [np.array([True, False]), np.array([True, True])], {}),
        ("Not", [np.array([True, False])], {}),
        ("Identity", [np.array([1.5], np.float32)], {}),
    ],
)
def test_folds_as_onnx_evaluates(op, arrays, attrs) -> None:
    _reference(op, arrays, attrs)


def test_float32_arithmetic_rounds_as_float32() -> None:
    _reference("Div", [np.array([1.0, 2.0], np.float32), np.array([3.0], np.float32)], {})
    _reference("Mul", [np.array([0.1], np.float32), np.array([3.0], np.float32)], {})


def test_int64_wraps() -> None:
    _reference("Mul", [np.array([2**62], np.int64), np.array([4], np.int64)], {})


# ---------------------------------------------------------------------------- no rule: onnx's


def _custom_op():
    """Relu → a com.example op (its output stated in value_info) → Conv."""
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="relu"),
        helper.make_node("Warp", ["a"], ["b"], name="warp", domain="com.example"),
        helper.make_node("Conv", ["b", "w"], ["y"], name="after"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [_value("w", np.zeros((4, 3, 1, 1), np.float32))],
        value_info=[helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 3, 8, 8])],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)]
    return helper.make_model(graph, opset_imports=opsets)


def test_an_op_without_a_rule_gets_onnx_inference_and_a_note_naming_it() -> None:
    from convcost.io.onnx import load

    model = _custom_op()
    assert own.missing_rule(model.graph).name == "warp"
    converted = load(model.SerializeToString(), "m.onnx")
    assert converted.notes[0] == (
        "node 'warp' (Warp): convcost has no shape rule for com.example::Warp, so the model's shapes are "
        "onnx's inference"
    )
    assert converted.unsupported == {"com.example::Warp": 1}


def test_without_onnx_an_op_without_a_rule_is_one_error_naming_it(monkeypatch) -> None:
    model = _custom_op()
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    with pytest.raises(ConvCostError) as error:
        convert.onnx_shapes(model, model.graph.node[1], "x", set(), None, None, None)
    assert str(error.value) == (
        "node 'warp' (Warp): is a com.example::Warp node, for which convcost has no shape rule of its own; "
        "with onnx installed its inference would give the shapes: pip install 'convcost[onnx]'"
    )


@pytest.mark.parametrize("stated", [[1, 3, 8, 9], [1, 3, 8]])
def test_a_stated_shape_that_differs_is_refused_as_onnx_refuses_it(stated) -> None:
    from convcost.io.onnx import load

    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="r"),
        helper.make_node("Relu", ["a"], ["y"], name="r2"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        value_info=[helper.make_tensor_value_info("a", TensorProto.FLOAT, stated)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(ConvCostError) as mine:
        load(model.SerializeToString(), "m.onnx")
    with pytest.raises(ConvCostError) as theirs:
        parsed = read.parse(model.SerializeToString())
        convert.onnx_shapes(parsed, parsed.graph.node[0], "x", set(), None, None, None)
    assert str(mine.value) == str(theirs.value)
    assert str(mine.value).startswith("node 'r' (Relu): shape inference fails: Inferred shape and existing")


# ---------------------------------------------------------------------------- random graphs


def _loaded(data: bytes, onnx_inference: bool) -> object:
    """The model converted (its document and notes), or the ConvCostError that refuses it."""
    from convcost.io.onnx import load

    missing = own.missing_rule
    if onnx_inference:  # as if its first node had no rule: the whole graph is onnx's
        own.missing_rule = lambda graph: graph.node[0] if len(graph.node) else None
    try:
        converted = load(data, "m.onnx")
    except ConvCostError as exc:
        return exc
    finally:
        own.missing_rule = missing
    notes = [n for n in converted.notes if "so the model's shapes are onnx's inference" not in n]
    return converted.document, notes, converted.batch


@settings(max_examples=120)
@given(plausible_models())
def test_random_graphs_convert_as_with_onnx_inference(model) -> None:
    """Where onnx's inference converts a random conv graph, convcost's own converts it to the same
    document (it may also convert one onnx's leaves unknown, or refuse it in other words)."""
    theirs = _loaded(model, True)
    if isinstance(theirs, ConvCostError):
        return
    assert _loaded(model, False) == theirs


@pytest.mark.parametrize(
    ("bounds", "dtype"), [((0, 100_000, 1), np.int64), ((5, -4, -2), np.int64), ((0.5, 2.0, 0.3), np.float32)]
)
def test_range_counts_however_large(bounds, dtype) -> None:
    """Its count from its scalars, also past what its fold makes (100,000 elements)."""
    constants = {name: np.array(v, dtype) for name, v in zip(("s", "l", "d"), bounds, strict=True)}
    assert agree(one_node("Range", [], None, constants))["y0"] == (len(np.arange(*bounds, dtype=dtype)),)


# ---------------------------------------------------------------------------- decoding


DTYPES = ["float32", "float16", "float64", "int8", "uint8", "int16", "uint16", "int32", "int64", "uint32",
          "uint64", "bool"]  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("raw", [True, False])
def test_tensors_decode_from_raw_data_and_typed_fields_of_either_reader(dtype, raw) -> None:
    from onnx import numpy_helper

    from convcost.io.onnx import proto

    values = np.array([[0, 1, 5], [7, 2, 3]]).astype(dtype)
    if dtype.startswith(("int", "float")):
        values[0, 0] = -3 if dtype.startswith("int") else -2.5
    made = numpy_helper.from_array(values, "t")
    if not raw:  # the typed field onnx.helper writes (float16 as bits in int32_data)
        made = helper.make_tensor("t", made.data_type, values.shape, values.reshape(-1).tolist())
    assert bool(made.raw_data) == raw
    graph = helper.make_graph([], "g", [], [], [made])
    parsed = proto.parse(helper.make_model(graph).SerializeToString()).graph.initializer[0]
    for tensor in (made, parsed):
        found = decode(tensor)
        assert found.dims == (2, 3)
        assert list(found.values) == values.reshape(-1).tolist()


def test_weights_external_data_and_strings_are_not_decoded() -> None:
    from convcost.io.onnx.tensor import NotFolded

    external = helper.make_tensor("e", TensorProto.INT64, [2], [1, 2])
    external.data_location = TensorProto.EXTERNAL
    strings = helper.make_tensor("s", TensorProto.STRING, [1], [b"a"])
    huge = helper.make_tensor("h", TensorProto.INT64, [1 << 17], [0] * (1 << 17))
    for tensor in (external, strings, huge):
        with pytest.raises(NotFolded):
            decode(tensor)


# ---------------------------------------------------------------------------- hostile shape arithmetic


def _chain(nodes, constants, out="y", inits=()):
    """A model of ``nodes`` over a float input x of 1×3×8×8, with ``constants`` as Constant nodes."""
    made = [
        helper.make_node("Constant", [], [name], value=_value(f"{name}_v", np.asarray(array)))
        for name, array in constants.items()
    ]
    graph = helper.make_graph(
        [*made, *nodes],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info(out, TensorProto.UNDEFINED, None)],
        list(inits),
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_a_dim_past_int64_is_refused_before_a_shape_wraps_it_to_one_that_fits() -> None:
    # Range(0, 2**64 + 4096, 1) has 2**64 + 4096 elements; its Shape as int64 would wrap to 4096,
    # and 4096 − 3904 = 192 reshapes x without a word
    model = _chain(
        [
            helper.make_node("Range", ["a", "b", "d"], ["t"], name="rg"),
            helper.make_node("Shape", ["t"], ["s0"], name="sh"),
            helper.make_node("Add", ["s0", "k"], ["s"], name="add"),
            helper.make_node("Reshape", ["x", "s"], ["y"], name="r"),
        ],
        {"a": np.array(0.0), "b": np.array(2.0**64 + 4096), "d": np.array(1.0), "k": np.array([-3904])},
    )
    with pytest.raises(ConvCostError, match=r"node 'rg' \(Range\).*a dim above 9,223,372,036,854,775,807"):
        own.infer(model, {"x": [1, 3, 8, 8]}, False)


@pytest.mark.parametrize(
    "nodes",
    [
        [helper.make_node("Expand", ["one", "d"], ["t"], name="ex")],
        [
            helper.make_node("ConstantOfShape", ["d"], ["c"], name="cos"),
            helper.make_node("Transpose", ["c"], ["t"], name="tp", perm=[1, 0]),
        ],
        [
            helper.make_node("ConstantOfShape", ["d"], ["c"], name="cos"),
            helper.make_node("Slice", ["c", "zero", "one_i"], ["t"], name="sl"),
        ],
        [
            helper.make_node("ConstantOfShape", ["d"], ["c"], name="cos"),
            helper.make_node("Gather", ["c", "empty"], ["t"], name="ga", axis=1),
        ],
        [
            helper.make_node("ConstantOfShape", ["d"], ["c"], name="cos"),
            helper.make_node("Concat", ["c", "c"], ["t"], name="cc", axis=1),
        ],
    ],
    ids=["expand", "transpose", "slice", "gather", "concat"],
)
def test_an_empty_tensor_beside_a_huge_dim_folds_at_once(nodes) -> None:
    """A 2**40 × 0 tensor has no elements, but walking its positions axis by axis never ended (10 s
    and 3.5 GB before it was killed): each fold of an empty result returns at once."""
    import time

    constants = {
        "one": np.array([1.0], np.float32), "d": np.array([1 << 40, 0]), "zero": np.array([0]),
        "one_i": np.array([1]), "empty": np.zeros((0,), np.int64),
    }  # fmt: skip
    model = _chain([*nodes, helper.make_node("Shape", ["t"], ["y"], name="sh")], constants)
    start = time.perf_counter()
    found = own.infer(model, {"x": [1, 3, 8, 8]}, False)
    assert time.perf_counter() - start < 1
    assert found["y"] == (2,)


@pytest.mark.parametrize(("op", "opset"), [("Squeeze", 13), ("Squeeze", 17), ("Unsqueeze", 13)])
def test_an_attribute_an_op_took_until_an_older_opset_is_refused(op, opset) -> None:
    """onnx's inference ignores Squeeze's axes attribute at opset 13 on (it squeezes every 1: 3×8 of
    1×3×1×8) while a rule reading it gives 3×1×8: the node is refused, as a runtime refuses it."""
    from convcost.io.onnx.checks import check_schema

    model = one_node(op, [("x", (1, 3, 1, 8))], {"axes": [0]}, opset=opset)
    with pytest.raises(ConvCostError, match=rf"attribute 'axes', which {op} takes until opset 12 only"):
        check_schema(model.graph.node[0], opset)
    check_schema(one_node(op, [("x", (1, 3, 1, 8))], {"axes": [0]}, opset=12).graph.node[0], 12)
    check_schema(one_node("Relu", [("x", (1, 3, 1, 8))], {"custom": 3}).graph.node[0], 17)  # no opset's
