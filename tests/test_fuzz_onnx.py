"""Fuzzing ONNX import (issue 10): random graphs built with ``onnx.helper``.

Graphs of the ops the converter knows and some it does not, with wrong arities, ranks,
dims (zero, negative, symbolic), attributes (kernel shapes of the wrong length, zero
strides, negative pads, odd auto_pad words), initializers of random shapes, missing
inputs and odd opsets. The property: the import either converts the model or raises
:class:`ConvCostError` (one line, exit 2 on the command line), never anything else, in
bounded time; a converted model costs or raises :class:`ConvCostError` too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcost.core.errors import ConvCostError
from tests.conftest import HANG_SECONDS, Clock, optional_module

onnx = optional_module("onnx", "onnx")
np = optional_module("numpy", "onnx")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SECONDS = 2.0  # per example, timed under -m perf only (the child reads CONVCOST_FUZZ_TIMED)
CLOCK = Clock()
EXAMPLES = int(os.environ.get("CONVCOST_FUZZ_EXAMPLES", "1000"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

OPS = [
    "Conv", "Conv", "Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Mul", "Sub", "Concat", "MaxPool",
    "AveragePool", "GlobalAveragePool", "BatchNormalization", "Relu", "Flatten", "Reshape", "Transpose",
    "Split", "Slice", "Resize", "Softmax", "ReduceMean", "Pad", "Squeeze", "Unsqueeze", "Identity",
    "Shape", "Gather", "Constant", "LayerNormalization", "Einsum", "NotAnOp",
]  # fmt: skip
SMALL = st.sampled_from([1, 1, 2, 3, 4, 8, 0, -1])
DIM = st.one_of(st.sampled_from([1, 2, 3, 4, 8, 16]), st.sampled_from([0, -3, "N", "batch", None]))
INTS = st.lists(st.integers(-2, 5), min_size=1, max_size=5)


def _attributes(draw: Any, op: str) -> dict[str, Any]:
    pool = {
        "kernel_shape": INTS,
        "strides": INTS,
        "pads": st.lists(st.integers(-1, 3), min_size=1, max_size=8),
        "dilations": INTS,
        "group": st.integers(-1, 8),
        "auto_pad": st.sampled_from(["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "BOGUS"]),
        "output_padding": INTS,
        "output_shape": INTS,
        "axis": st.integers(-5, 5),
        "axes": INTS,
        "perm": st.permutations([0, 1, 2, 3]).map(list) | INTS,
        "transA": st.integers(0, 1),
        "transB": st.integers(0, 1),
        "alpha": st.floats(-2, 2),
        "epsilon": st.floats(0, 1),
        "ceil_mode": st.integers(0, 1),
        "keepdims": st.integers(0, 1),
        "mode": st.sampled_from(["nearest", "linear", "cubic", "x"]),
        "split": INTS,
        "equation": st.sampled_from(["ij,jk->ik", "bchw->bhwc", "x"]),
        "value": st.just(numpy_helper.from_array(np.zeros((2,), np.int64), "c")),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(pool)), max_size=4, unique=True))
    attributes = {name: draw(pool[name]) for name in chosen}
    if op in ("Conv", "ConvTranspose", "MaxPool", "AveragePool") and draw(st.booleans()):
        rank = draw(st.integers(1, 3))
        attributes["kernel_shape"] = [draw(st.integers(1, 3)) for _ in range(rank)]
    return attributes


def _plausible_node(
    draw: Any, index: int, values: list[str], channels: int, initializers: list[Any]
) -> tuple[Any, int]:
    """A node that mostly fits what comes before it (a conv chain), so that the import gets far."""
    op = draw(st.sampled_from(["Conv", "Conv", "Conv", "ConvTranspose", "Relu", "MaxPool", "AveragePool",
                               "BatchNormalization", "Add", "Concat", "GlobalAveragePool", "Resize", "Pad",
                               "Split", "Slice", "Transpose", "Reshape", "Softmax", "ReduceMean", "Mul"]))  # fmt: skip
    last = values[-1]
    out = f"v{index}"
    attributes: dict[str, Any] = {}
    inputs = [last]

    def weight(name: str, shape: tuple[int, ...]) -> str:
        initializers.append(numpy_helper.from_array(np.ones(shape, np.float32), name))
        return name

    if op in ("Conv", "ConvTranspose"):
        k = draw(st.integers(1, 3))
        group = draw(st.sampled_from([1, 1, channels]))
        c_out = draw(st.sampled_from([channels, 4, 8])) if group == 1 else channels
        shape = (c_out, channels // group, k, k) if op == "Conv" else (channels, c_out // group, k, k)
        inputs.append(weight(f"w{index}", shape))
        if draw(st.booleans()):
            inputs.append(weight(f"b{index}", (c_out,)))
        attributes = {"kernel_shape": [k, k], "group": group}
        if draw(st.booleans()):
            attributes["pads"] = [draw(st.integers(0, 2))] * 4
        if draw(st.booleans()):
            attributes["strides"] = [draw(st.integers(1, 2))] * 2
        if draw(st.booleans()):
            attributes["dilations"] = [draw(st.integers(1, 2))] * 2
        channels = c_out
    elif op in ("MaxPool", "AveragePool"):
        attributes = {"kernel_shape": [2, 2], "strides": [draw(st.integers(1, 2))] * 2}
        if draw(st.booleans()):
            attributes["ceil_mode"] = 1
    elif op == "BatchNormalization":
        inputs += [weight(f"bn{index}_{i}", (channels,)) for i in range(4)]
    elif op in ("Add", "Mul", "Concat"):
        inputs.append(draw(st.sampled_from(values)))
        if op == "Concat":
            attributes = {"axis": draw(st.sampled_from([1, 1, -1, 0, 2]))}
    elif op == "Resize":
        scales = weight(f"s{index}", (4,))
        inputs = [last, "", scales]
        attributes = {"mode": draw(st.sampled_from(["nearest", "linear"]))}
    elif op in ("Split", "Softmax", "ReduceMean"):
        attributes = {"axis": draw(st.integers(-1, 3))} if op != "ReduceMean" else {"keepdims": 1}
    elif op == "Transpose":
        attributes = {"perm": draw(st.permutations([0, 1, 2, 3]))}
    elif op == "Reshape":
        initializers.append(numpy_helper.from_array(np.array([1, -1], np.int64), f"r{index}"))
        inputs.append(f"r{index}")
    elif op == "Slice":
        for name, value in (
            ("st", [0]),
            ("en", [draw(st.integers(1, 4))]),
            ("ax", [draw(st.integers(1, 3))]),
        ):
            initializers.append(numpy_helper.from_array(np.array(value, np.int64), f"{name}{index}"))
            inputs.append(f"{name}{index}")
    elif op == "Pad":
        initializers.append(
            numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), f"p{index}")
        )
        inputs.append(f"p{index}")
    return helper.make_node(op, inputs, [out], name=f"n{index}", **attributes), channels


@st.composite
def models(draw: Any) -> bytes:
    if draw(st.integers(0, 2)):
        return draw(plausible_models())
    return draw(wild_models())


@st.composite
def plausible_models(draw: Any) -> bytes:
    channels = draw(st.sampled_from([1, 3, 4]))
    size = draw(st.sampled_from([4, 8, 16, 1, 2]))  # small maps: windows larger than their input
    graph_inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, size, size])]
    values, nodes, initializers, declared = ["x"], [], [], []
    for index in range(draw(st.integers(1, 8))):
        node, channels = _plausible_node(draw, index, values, channels, initializers)
        if draw(st.integers(0, 4)) == 0:  # one thing wrong
            mutation = draw(st.sampled_from(["attr", "drop", "extra", "rename", "twice", "declared"]))
            if mutation == "attr":
                name = draw(
                    st.sampled_from(["kernel_shape", "strides", "pads", "dilations", "group", "axis"])
                )
                node.attribute.append(
                    helper.make_attribute(name, draw(INTS if name != "group" else st.integers(-1, 9)))
                )
            elif mutation == "twice" and node.attribute:  # again, maybe of another type
                name = draw(st.sampled_from([a.name for a in node.attribute]))
                node.attribute.append(helper.make_attribute(name, draw(st.one_of(INTS, st.integers(-1, 4)))))
            elif mutation == "declared":  # value info stating dims, right or wrong
                declared.append(
                    helper.make_tensor_value_info(
                        draw(st.sampled_from(values)), TensorProto.FLOAT, [draw(DIM) for _ in range(4)]
                    )
                )
            elif mutation == "drop" and node.input:
                del node.input[-1]
            elif mutation == "extra":
                node.input.append(draw(st.sampled_from([*values, "", "nowhere"])))
            else:
                node.op_type = draw(st.sampled_from(OPS))
        nodes.append(node)
        values.append(node.output[0])
    outputs = [helper.make_tensor_value_info(values[-1], TensorProto.FLOAT, None)]
    graph = helper.make_graph(
        nodes, "fuzz", graph_inputs, outputs, initializer=initializers, value_info=declared
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", draw(st.sampled_from([13, 17, 18])))]
    )
    model.ir_version = 8
    return model.SerializeToString()


@st.composite
def wild_models(draw: Any) -> bytes:
    rank = draw(st.integers(0, 5))
    dims = [draw(DIM) for _ in range(rank)]
    if draw(st.booleans()):  # a plausible NCHW input most of the time
        dims = [
            1,
            draw(st.sampled_from([1, 3, 4])),
            *[draw(st.sampled_from([4, 8])) for _ in range(draw(st.integers(1, 3)))],
        ]
    graph_inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims if rank or dims else None)]
    values = ["x"]
    nodes = []
    initializers = []
    for index in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(OPS))
        inputs = []
        for slot in range(draw(st.integers(0, 4))):
            kind = draw(st.sampled_from(["value", "value", "weight", "empty", "missing"]))
            if kind == "value":
                inputs.append(draw(st.sampled_from(values)))
            elif kind == "weight":
                name = f"w{index}_{slot}"
                shape = [draw(SMALL) for _ in range(draw(st.integers(0, 4)))]
                shape = [max(d, 0) for d in shape]
                dtype = draw(st.sampled_from([np.float32, np.int64]))
                initializers.append(numpy_helper.from_array(np.ones(shape, dtype), name))
                inputs.append(name)
            elif kind == "empty":
                inputs.append("")
            else:
                inputs.append("nowhere")
        if op in ("Conv", "ConvTranspose") and draw(st.booleans()):  # a weight that may fit
            name = f"k{index}"
            channels = draw(st.sampled_from([1, 3, 4]))
            initializers.append(numpy_helper.from_array(np.ones((4, channels, 3, 3), np.float32), name))
            inputs = [values[-1], name]
        output = f"v{index}"
        nodes.append(
            helper.make_node(
                op,
                inputs,
                [output],
                name=draw(st.sampled_from([f"n{index}", "", "\x1b[31m\n"])),
                **_attributes(draw, op),
            )
        )
        values.append(output)
    outputs = [helper.make_tensor_value_info(values[-1], TensorProto.FLOAT, None)]
    graph = helper.make_graph(nodes, "fuzz", graph_inputs, outputs, initializer=initializers)
    opset = draw(st.sampled_from([13, 13, 17, 11, 7, 1, 99]))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = draw(st.sampled_from([8, 8, 3, 99]))
    data = model.SerializeToString()
    if draw(st.integers(0, 9)) == 0:  # a damaged file
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=8)) + data[cut + 1 :]
    return data


def convert_and_cost(data: bytes) -> ConvCostError | None:
    """The property: ConvCostError (one line, in its own words) or success, at each step."""
    from convcost.io.onnx import load
    from convcost.model.evaluate import evaluate

    try:
        converted = load(data, "fuzz.onnx")
        evaluate(converted.document)
    except ConvCostError as error:
        assert "\n" not in str(error), str(error)
        # the converter's guard against its own bugs: a bug the fuzzer found, however well put
        assert "internal error" not in error.problem, str(error)
        return error
    return None


@FUZZ
@given(models())
def _fuzz(data: bytes) -> None:
    Path(os.environ["CONVCOST_FUZZ_LAST"]).write_bytes(data)  # the culprit, should the process die
    CLOCK.timed = os.environ.get("CONVCOST_FUZZ_TIMED") == "1"
    with CLOCK.bound(SECONDS, "an ONNX graph"):
        convert_and_cost(data)


@pytest.mark.slow
def test_random_onnx_graphs(tmp_path, clock: Clock) -> None:
    """The fuzzer runs in a child process: onnx's C++ shape inference can abort a process outright."""
    last = tmp_path / "last.onnx"
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import test_fuzz_onnx as t; t._fuzz()"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "CONVCOST_FUZZ_LAST": str(last),
            "CONVCOST_FUZZ_TIMED": "1" if clock.timed else "",
            "PYTHONPATH": str(ROOT),
        },
        timeout=10 * HANG_SECONDS,  # the whole run: a guard against a hang, far above its seconds
        check=False,
    )
    if proc.returncode < 0:
        model = onnx.load_model_from_string(last.read_bytes())
        pytest.fail(
            f"the import killed the process (signal {-proc.returncode}) on:\n{onnx.printer.to_text(model.graph)}"
        )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


# ------------------------------------------------------------------ crashes the fuzzer found


def _model(nodes: list[Any], inputs: list[Any], initializers: list[Any], opset: int = 13) -> bytes:
    graph = helper.make_graph(
        nodes, "found", inputs, [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)],
        initializer=initializers,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model.SerializeToString()


def _ints(name: str, values: list[int]) -> Any:
    return numpy_helper.from_array(np.array(values, np.int64), name)


def slice_of_a_negative_dim() -> bytes:
    """A 3×3 conv on a 1×1 map (ONNX infers a dim of -1), then a Slice on that axis."""
    return _model(
        [
            helper.make_node("GlobalAveragePool", ["x"], ["g"]),
            helper.make_node("Conv", ["g", "w"], ["c"], kernel_shape=[3, 3]),
            helper.make_node("Slice", ["c", "st", "en", "ax"], ["y"]),
        ],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 4, 4])],
        [numpy_helper.from_array(np.ones((8, 4, 3, 3), np.float32), "w"), _ints("st", [0]), _ints("en", [3]), _ints("ax", [3])],
    )  # fmt: skip


def _x(*dims: int) -> list[Any]:
    return [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(dims))]


def _twice(node: Any, name: str, value: Any) -> Any:
    node.attribute.append(helper.make_attribute(name, value))
    return node


def _weights() -> list[Any]:
    return [
        numpy_helper.from_array(np.ones((), np.float32), "w0"),
        numpy_helper.from_array(np.ones((8, 0), np.float32), "w1"),
    ]


#: Graphs the fuzzer found that crashed the converter with something other than ConvCostError:
#: each → (the op its error names, what the error says).
FOUND = {
    "a Gather with one input (IndexError)": (
        lambda: _model([helper.make_node("Gather", ["x"], ["y"], axis=3)], _x(1, 1, 8, 8), []),
        "Gather", "has no input 1 ('indices')",
    ),
    "a Gather with an empty index name (KeyError '')": (
        lambda: _model([helper.make_node("Gather", ["x", ""], ["y"])], _x(1, 1, 8, 8), []),
        "Gather", "leaves its input 1 ('indices') empty",
    ),
    "an attribute given twice, int and ints (TypeError)": (
        lambda: _model(
            [_twice(helper.make_node("Concat", ["x", "x"], ["y"], axis=-1), "axis", [3, 2])], _x(1, 1, 4, 4), []
        ),
        "Concat", "gives attribute 'axis' more than once",
    ),
    "a Softmax with its axis twice (TypeError)": (
        lambda: _model(
            [_twice(helper.make_node("Softmax", ["x"], ["y"], axis=2), "axis", [4, 0])], _x(1, 3, 16, 16), []
        ),
        "Softmax", "gives attribute 'axis' more than once",
    ),
    "a Split with its axis twice (TypeError)": (
        lambda: _model(
            [_twice(helper.make_node("Split", ["x"], ["y"], axis=0), "axis", [2])], _x(1, 1, 4, 4), []
        ),
        "Split", "gives attribute 'axis' more than once",
    ),
    "an empty input name after a weights-only node (KeyError '')": (
        lambda: _model(
            [helper.make_node("LayerNormalization", ["w0", "w1"], ["n"]),
             helper.make_node("Transpose", ["", "", "x"], ["y"])],
            _x(1, 1, 8, 4, 8),
            _weights(),
        ),
        "Transpose", "has 3 inputs; Transpose takes at most 1",
    ),
    "an attribute of the wrong type (TypeError)": (
        lambda: _model([helper.make_node("Softmax", ["x"], ["y"], axis=[1, 2])], _x(1, 3, 4, 4), []),
        "Softmax", "gives attribute 'axis' as a list of ints; Softmax takes an int",
    ),
    "a Resize of a constant, an activation its second input (KeyError)": (
        lambda: _model([helper.make_node("Resize", ["w0", "x"], ["y"], name="n0")], _x(1), _weights(), opset=7),
        "node 'n0' (Resize)", "shape inference does not know the shape of its output 'y'",
    ),
    "a 3×3 conv on a 1×1 map (a dim of -1)": (
        slice_of_a_negative_dim, "Conv", "'c' 1x8x-1x-1 from 'g' 1x4x1x1, a dim below 1",
    ),
    "a Constant of an input and no value, then a Softmax of it (ZeroDivisionError)": (
        lambda: _model(
            [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Constant", ["r"], ["c"], name="n2"),
             helper.make_node("Softmax", ["c"], ["y"], axis=0)], _x(1, 1, 4, 4), [],
        ),
        "node 'n2' (Constant)", "needs no inputs, but has 1 input",
    ),
    "a Constant of no value (a scalar of no axis, ZeroDivisionError in a Softmax)": (
        lambda: _model(
            [helper.make_node("Constant", [], ["c"], name="n2"), helper.make_node("Add", ["x", "c"], ["y"])],
            _x(1, 1, 4, 4), [],
        ),
        "node 'n2' (Constant)", "needs exactly one of value, sparse_value",
    ),
    "a Softmax of a scalar (ZeroDivisionError)": (
        lambda: _model(
            [helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0, name="sum"),
             helper.make_node("Softmax", ["s"], ["y"], name="soft")], _x(1, 1, 4, 4), [],
        ),
        "node 'soft' (Softmax)", "has axis -1, out of range for its 0-D input",
    ),
}  # fmt: skip


@pytest.mark.parametrize("found", list(FOUND))
def test_found_graphs_are_refused_in_one_line(found: str) -> None:
    make, op, problem = FOUND[found]
    error = convert_and_cost(make())
    assert error is not None, "converted"
    assert op in error.field, str(error)
    assert problem in error.problem, str(error)


def pad_read_as_data_and_bias() -> bytes:
    """A Pad whose one reader, a Conv, reads it twice: as its data (the pad folded into it) and its bias."""
    return _model(
        [
            helper.make_node("Pad", ["x", "p"], ["v"]),
            helper.make_node("Conv", ["v", "w", "v"], ["y"], kernel_shape=[2, 2], dilations=[2, 2], pads=[1] * 4),
        ],
        _x(1, 4, 4, 4),
        [_ints("p", [0, 0, 1, 1, 0, 0, 1, 1]), numpy_helper.from_array(np.ones((4, 4, 2, 2), np.float32), "w")],
    )  # fmt: skip


def test_found_graphs_that_convert() -> None:
    """Crashes the fuzzer found in graphs convcost can cost: now costed."""
    from convcost.io.onnx import load

    assert convert_and_cost(pad_read_as_data_and_bias()) is None
    layers = load(pad_read_as_data_and_bias(), "found.onnx").document["layers"]
    assert [layer["type"] for layer in layers] == ["pad", "conv", "add"]  # the pad is not folded


def test_found_a_slice_of_a_negative_dim_aborted_the_process(tmp_path) -> None:
    """onnx 1.23's Slice inference asserts (std::clamp, SIGABRT) on a negative dim: refused before."""
    path = tmp_path / "found.onnx"
    path.write_bytes(slice_of_a_negative_dim())
    proc = subprocess.run(
        [sys.executable, "-m", "convcost", "compare", str(path)],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=HANG_SECONDS, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-500:])
    assert proc.stdout == "" and len(proc.stderr.splitlines()) == 1
    assert "Conv" in proc.stderr and "a dim below 1" in proc.stderr
