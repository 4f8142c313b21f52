"""Model-local functions inlined in pure Python (convcost/io/onnx/inline.py) against onnx's inliner.

The names of inlined values and nodes reach the output (rows are named after nodes), so the
inliner must make the very graph ``onnx.inliner.inline_local_functions`` makes: node for node,
name for name, attribute for attribute. onnx is the oracle here only.
"""

from __future__ import annotations

from typing import Any

import pytest

from convcost.core.errors import ConvCostError
from convcost.io.onnx import read, write
from convcost.io.onnx.inline import inline_local_functions
from tests.conftest import optional_module

onnx = optional_module("onnx", "onnx")

from onnx import TensorProto, helper, inliner  # noqa: E402

OPSETS = [helper.make_opsetid("", 17), helper.make_opsetid("local", 1)]


def function(name: str, body: list[Any], inputs=("i",), outputs=("o",), **options: Any) -> Any:
    return helper.make_function("local", name, list(inputs), list(outputs), body, OPSETS, **options)


def model(nodes: list[Any], functions: list[Any], outputs=("y",), opsets=OPSETS, initializers=()) -> Any:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs],
        list(initializers),
    )
    return helper.make_model(graph, opset_imports=opsets, functions=functions)


def ours(built: Any) -> Any:
    """convcost's inlining, back in onnx's classes to compare."""
    inlined = inline_local_functions(read.parse(built.SerializeToString()))
    return onnx.ModelProto.FromString(bytes(write.message(inlined)))


def theirs(built: Any) -> Any:
    expected = inliner.inline_local_functions(built)
    for node in expected.graph.node:  # convcost's reader skips doc strings
        node.ClearField("doc_string")
    return expected


def call(name: str, inputs: list[str], outputs: list[str], node_name: str = "", **attrs: Any) -> Any:
    return helper.make_node(name, inputs, outputs, name=node_name or None, domain="local", **attrs)


CONV_RELU = function(
    "conv_relu",
    [
        helper.make_node("Constant", [], ["w"], value=helper.make_tensor("w", 1, [3, 3, 1, 1], [1.0] * 9)),
        helper.make_node("Conv", ["i", "w"], ["c"], name="cv"),
        helper.make_node("Relu", ["c"], ["o"]),
    ],
)


def leaky() -> Any:
    """LeakyRelu with ``alpha`` a reference to the function's attribute of that name."""
    node = helper.make_node("LeakyRelu", ["i"], ["o"], name="lr")
    node.attribute.append(helper.make_attribute_ref("alpha", onnx.AttributeProto.FLOAT))
    return function("leaky", [node], attributes=["alpha"])


LEAKY = leaky()
LEAKY_DEFAULT = function(
    "leaky", list(LEAKY.node), attribute_protos=[helper.make_attribute("alpha", 0.5)]
)  # ``alpha`` given a default in the function
TWICE = function("twice", [call("conv_relu", ["i"], ["t"], "in"), call("conv_relu", ["t"], ["o"], "out")])
PAIR = function(
    "pair",
    [helper.make_node("Relu", ["i"], ["a"]), helper.make_node("Sigmoid", ["i"], ["b"])],
    outputs=("a", "b"),
)


def branchy() -> Any:
    """A function whose body holds an If: its branches read the function's values and make their own."""
    then_branch = helper.make_graph(
        [helper.make_node("Relu", ["i"], ["t"], name="inner"), call("conv_relu", ["t"], ["u"], "deep")],
        "then", [], [helper.make_tensor_value_info("u", TensorProto.FLOAT, None)],
    )  # fmt: skip
    else_branch = helper.make_graph(
        [helper.make_node("Identity", ["i"], ["e"])],
        "else",
        [],
        [helper.make_tensor_value_info("e", 1, None)],
    )
    body = [
        helper.make_node(
            "Constant", [], ["cond"], value=helper.make_tensor("cond", TensorProto.BOOL, [], [True])
        ),
        helper.make_node(
            "If", ["cond"], ["o"], name="branch", then_branch=then_branch, else_branch=else_branch
        ),
    ]
    return function("branchy", body)


CASES = {
    "two named calls and an unnamed one": model(
        [call("conv_relu", ["x"], ["a"], "first"), call("conv_relu", ["a"], ["b"], "second"),
         call("conv_relu", ["b"], ["y"])],
        [CONV_RELU],
    ),
    "attribute references, given and not": model(
        [call("leaky", ["x"], ["a"], "given", alpha=0.3), call("leaky", ["a"], ["y"], "left")], [LEAKY]
    ),
    "an attribute reference with a default": model(
        [call("leaky", ["x"], ["a"], "given", alpha=0.3), call("leaky", ["a"], ["y"], "left")], [LEAKY_DEFAULT]
    ),
    "a function calling another twice": model([call("twice", ["x"], ["y"], "outer")], [TWICE, CONV_RELU]),
    "names already taken": model(
        [helper.make_node("Relu", ["x"], ["c__1"], name="cv__1"), call("conv_relu", ["c__1"], ["w__1"], "f"),
         call("conv_relu", ["w__1"], ["y"], "cv__1_0")],
        [CONV_RELU],
    ),
    "an output left out and one unnamed": model(
        [call("pair", ["x"], ["y"], "first"), call("pair", ["y"], ["", "z"], "second")], [PAIR], outputs=("z",)
    ),
    "an If inside a function": model([call("branchy", ["x"], ["y"], "b")], [branchy(), CONV_RELU]),
    "a call in a graph's If branch": model(
        [helper.make_node(
            "If", ["cond"], ["y"], name="top",
            then_branch=helper.make_graph([call("conv_relu", ["x"], ["t"], "in_then")], "then", [],
                                          [helper.make_tensor_value_info("t", 1, None)]),
            else_branch=helper.make_graph([call("conv_relu", ["x"], ["e"])], "else", [],
                                          [helper.make_tensor_value_info("e", 1, None)]),
        ), call("conv_relu", ["y"], ["z"], "after")],
        [CONV_RELU], outputs=("z",),
        initializers=[helper.make_tensor("cond", TensorProto.BOOL, [], [True])],
    ),
    "a function of another opset stays": model(
        [call("conv_relu", ["x"], ["y"], "kept")],
        [helper.make_function("local", "conv_relu", ["i"], ["o"], list(CONV_RELU.node),
                              [helper.make_opsetid("", 13), helper.make_opsetid("local", 1)])],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_inlining_makes_the_graph_onnxs_inliner_makes(case: str) -> None:
    built = CASES[case]
    mine, truth = ours(built), theirs(built)
    assert [str(n) for n in mine.graph.node] == [str(n) for n in truth.graph.node]
    assert [f.name for f in mine.functions] == [f.name for f in truth.functions]
    assert mine.graph.initializer == truth.graph.initializer


def test_a_call_with_more_inputs_than_the_function_has_is_one_error() -> None:
    built = model([call("conv_relu", ["x", "x"], ["y"], "extra")], [CONV_RELU])
    with pytest.raises(ConvCostError, match=r"node 'extra' \(conv_relu\).* 2 inputs; it has 1"):
        ours(built)


def test_a_model_without_functions_is_the_model_itself() -> None:
    parsed = read.parse(model([helper.make_node("Relu", ["x"], ["y"])], []).SerializeToString())
    assert inline_local_functions(parsed) is parsed
