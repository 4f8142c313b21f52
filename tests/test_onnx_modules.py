"""ONNX rows' modules: from weight names, the dynamo exporter's name scopes, or TorchScript node names.

Done when: for torchvision's ResNet-50 (tests/torch_nets/zoo.py, exported by both exporters),
the conv and linear rows' modules are named_modules()'s names, as the built-in spec's are, and a
roll-up to depth 1 or 2 gives the same per-module MACs from all three.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from convcost.io.spec_file import read
from convcost.model.evaluate import evaluate
from convcost.model.rollup import rollup

ROOT = Path(__file__).parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "onnx"


def node(onnx, name: str, inputs=("x",), scopes: str | None = None):
    made = onnx.helper.make_node("Relu", list(inputs), ["y"], name=name)
    if scopes is not None:
        prop = made.metadata_props.add()
        prop.key, prop.value = "pkg.torch.onnx.name_scopes", scopes
    return made


def paths(nodes, initializers=()) -> list[str]:
    from convcost.io.onnx.modules import module_paths

    found = module_paths(nodes, dict.fromkeys(initializers))
    return [found[id(n)] for n in nodes]


def test_torchscript_scopes_give_the_path_and_a_second_call_its_module(onnx) -> None:
    nodes = [
        node(onnx, "/conv1/Conv"),
        node(onnx, "/layer1/layer1.0/relu/Relu"),
        node(onnx, "/layer1/layer1.0/Add"),
        node(onnx, "/layer1/layer1.0/relu_1/Relu"),  # the block's ReLU called again
        node(onnx, "/features/features.0/features.0.0/Conv"),
        node(onnx, "/head/proj_1/Gemm"),  # a module named proj_1, no proj before it
        node(onnx, "/Flatten"),
        node(onnx, "Identity_3"),
    ]
    assert paths(nodes) == [
        "conv1", "layer1.0.relu", "layer1.0", "layer1.0.relu", "features.0.0", "head.proj_1", "", ""
    ]  # fmt: skip


def test_dynamo_name_scopes_give_the_innermost_module(onnx) -> None:
    nodes = [
        node(onnx, "node_relu", scopes="['', 'layer1', 'layer1.0', 'layer1.0.relu', 'relu']"),
        node(onnx, "node_add", scopes="['', 'layer1', 'layer1.0', 'add']"),
        node(onnx, "node_mean", scopes="['', 'mean']"),
        node(onnx, "node_bad", scopes="not a list ["),  # unreadable: the model itself
    ]
    assert paths(nodes) == ["layer1.0.relu", "layer1.0", "", ""]


def test_a_weight_named_as_a_state_dict_key_wins(onnx) -> None:
    # the dynamo exporter folds a batch norm into its conv and gives the conv the norm's scopes
    folded = node(
        onnx,
        "node_Conv_64",
        ("x", "layer1.0.conv1.weight"),
        "['', 'layer1', 'layer1.0', 'layer1.0.bn1', 'bn']",
    )
    attention = node(onnx, "/MatMul", ("x", "encoder.layers.encoder_layer_0.self_attention.in_proj_weight"))
    renamed = node(onnx, "/layer1/layer1.0/conv1/Conv", ("x", "onnx::Conv_193"))  # folded by TorchScript
    initializers = (
        "layer1.0.conv1.weight",
        "encoder.layers.encoder_layer_0.self_attention.in_proj_weight",
        "onnx::Conv_193",
    )
    assert paths([folded, attention, renamed], initializers) == [
        "layer1.0.conv1",
        "encoder.layers.encoder_layer_0.self_attention",
        "layer1.0.conv1",
    ]


def test_a_path_a_spec_cannot_hold_keeps_its_leading_levels_that_it_can(onnx) -> None:
    nodes = [
        node(onnx, "/my block/conv/Conv"),  # a space: no level can be named
        node(onnx, "/layer1/my\tblock/Conv"),
        node(onnx, "/a/b\u202ec/Conv"),  # a bidi override
        node(onnx, "/" + "a" * 10_000 + "/Conv"),
        node(onnx, "/" + "/".join(["a"] * 500) + "/Conv"),
        node(onnx, "n", ("x", "...weight")),
        node(onnx, "n", ("x", "a..b.weight")),
        node(onnx, "n", ("x", "модуль.weight")),
    ]
    found = paths(nodes, ("...weight", "a..b.weight", "модуль.weight"))
    assert found[:4] == ["", "layer1", "a", ""]
    assert found[4] == ".".join(["a"] * 100)  # 199 characters: as many levels as fit 200
    assert found[5:] == ["", "a", "модуль"]


def _odd_model(onnx, node_name: str, weight: str = "w") -> bytes:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    conv = helper.make_node("Conv", ["X", weight], ["Y"], name=node_name)
    relu = helper.make_node("Relu", ["Y"], ["Z"], name=node_name + "r")
    graph = helper.make_graph(
        [conv, relu],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("Z", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.zeros((4, 3, 3, 3), np.float32), weight)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("node_name", "weight"),
    [
        ("/my block/conv/Conv", "w"),
        ("/a\tb/Conv", "w"),
        ("/" + "a" * 10_000 + "/Conv", "w"),
        ("/" + "/".join(["a"] * 500) + "/Conv", "w"),
        ("n", "...weight"),
        ("n", "a..b.weight"),
        ("n", "a" * 10_000 + ".weight"),
        ("x" * 10_000, "w"),
    ],
)
def test_a_valid_model_with_odd_names_is_costed_never_refused(onnx, node_name, weight) -> None:
    import convcost

    result = convcost.cost(_odd_model(onnx, node_name, weight))
    assert result.totals.macs == 6 * 6 * 4 * 27
    names = [row.name for row in result.rows]
    assert len(set(names)) == 2 and all(len(name) <= 200 for name in names)
    assert all(len(row.module) <= 200 for row in result.rows)


def _networks():
    from convcost.io.onnx import load

    found = {"spec": evaluate(read((ROOT / "specs" / "resnet50.yaml").read_bytes()))}
    for exporter in ("ts", "dynamo"):
        path = FIXTURES / f"resnet50.{exporter}.onnx"
        found[exporter] = evaluate(load(path.read_bytes(), str(path)).document)
    return found


def test_resnet50_modules_agree_with_torchvision_from_the_spec_and_both_exports(torch, onnx) -> None:
    from tests.torch_nets import zoo

    model, _ = zoo.resnet50()
    layers = (torch.nn.Conv2d, torch.nn.Linear)
    want = [path for path, module in model.named_modules() if isinstance(module, layers)]
    for source, net in _networks().items():
        got = [row.module for row in net.rows if row.type in ("conv", "linear")]
        assert got == want, source


@pytest.mark.parametrize("depth", [1, 2])
def test_resnet50_rollups_agree_across_the_spec_and_both_exports(onnx, depth) -> None:
    """The same modules carry the same MACs. The exports fold the batch norms into the convs
    (no bn1 row) and flatten at the top level (a row of their own); the spec's linear flattens."""
    rolled = {source: rollup(net.rows, depth) for source, net in _networks().items()}
    working = {
        source: [(r.label, r.counts.macs) for r in rows if r.counts.macs] for source, rows in rolled.items()
    }
    assert working["ts"] == working["spec"] == working["dynamo"]
    modules = {source: [r.module for r in rows if r.module] for source, rows in rolled.items()}
    for exporter in ("ts", "dynamo"):
        assert modules[exporter] == [m for m in modules["spec"] if m != "bn1"]
    if depth == 1:
        assert [r.label for r in rolled["spec"]] == [
            "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"
        ]  # fmt: skip
