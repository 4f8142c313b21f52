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


def test_torchscript_scopes_that_repeat_their_parents_last_levels(onnx) -> None:
    nodes = [
        node(onnx, "/layer1/layer1.0/downsample/downsample.0/Conv"),  # a Sequential in a block
        node(onnx, "/convs.0/convs.0.0/Conv"),  # an item of a ModuleList the model iterates
        node(onnx, "/layers.0/conv1/Conv"),
        node(onnx, "/encoder/layers.0/attn/MatMul"),  # encoder iterates its ModuleList
        node(onnx, "/0/0.1/Conv"),  # a Sequential in a Sequential
    ]
    assert paths(nodes) == [
        "layer1.0.downsample.0", "convs.0.0", "layers.0.conv1", "encoder.layers.0.attn", "0.1"
    ]  # fmt: skip


def test_a_node_without_scopes_takes_a_parameters_owner_or_its_neighbours_holder(onnx) -> None:
    """A file whose metadata was dropped: a parameter names its owner; a MatMul read by the Add
    of a linear's bias is that linear's; a run between modules takes the module holding them."""
    helper = onnx.helper
    nodes = [
        helper.make_node("Conv", ["x", "blocks.0.conv.weight"], ["c"], name="n0"),
        helper.make_node("Transpose", ["c"], ["t"], name="n1"),  # between blocks.0.conv and blocks.0.fc
        helper.make_node("MatMul", ["t", "val_3"], ["m"], name="n2"),  # val_3: the weight, transposed
        helper.make_node("Add", ["m", "blocks.0.fc.bias"], ["a"], name="n3"),
        helper.make_node("Relu", ["a"], ["r"], name="n4"),  # between blocks.0.fc and blocks.1.fc
        helper.make_node("Add", ["r", "blocks.1.fc.bias"], ["b"], name="n5"),
        helper.make_node("Flatten", ["b"], ["y"], name="n6"),  # the model's output: the model's
        helper.make_node("Constant", [], ["k"], name="n7"),
    ]
    got = paths(nodes, ("blocks.0.conv.weight", "val_3", "blocks.0.fc.bias", "blocks.1.fc.bias"))
    assert got == ["blocks.0.conv", "blocks.0", "blocks.0.fc", "blocks.0.fc", "blocks", "blocks.1.fc", "", ""]


def test_scopes_of_either_exporter_win_over_neighbours(onnx) -> None:
    nodes = [
        node(onnx, "a", ("x",), "['', 'head', 'head.fc', 'linear']"),
        onnx.helper.make_node("Relu", ["y"], ["z"], name="/Relu"),  # the model's own, by its name
    ]
    nodes[0].output[0] = "y"
    assert paths(nodes) == ["head.fc", ""]


#: Corpus models (tests/torch_nets/corpus.py) whose two exports agree. Those that cannot: albert
#: (the shared layer's second pass is MatMuls in the TorchScript export, linears in dynamo's),
#: gpt2 (the tied lm_head: dynamo reads the embedding table, a matmul, not a linear), edgenext,
#: swinv2 and recurrent (dynamo folds constant compute: the positional encoding's token
#: projection, the continuous position bias MLP, the RNN's product with its zero initial state).
CORPUS_PAIRS = [
    "bert",
    "coatnet",
    "convnextv2",
    "cvt",
    "deit",
    "dinov2",
    "dinov2_vit",
    "efficientnetv2",
    "einsum_mixer",
    "llama",
    "mobilevit",
    "regnet",
    "resnest",
    "sequencer",
    "video3d",
    "videomae",
    "wav2vec2",
    "whisper_encoder",
]

#: Corpus models whose dynamo export agrees only with its name scopes: without them, a layer
#: whose weight the exporter transposed or repacked and that has no bias to name it (llama's
#: projections, videomae's and whisper's attention keys, sequencer's LSTMs) reads no parameter
#: of its own and takes its block's module from its neighbours.
NEEDS_SCOPES = {"corpus/llama", "corpus/sequencer", "corpus/videomae", "corpus/whisper_encoder"}


def _pairs() -> list[str]:
    return sorted(
        p.name.removesuffix(".dynamo.onnx")
        for p in FIXTURES.glob("*.dynamo.onnx")
        if p.name != "dynamic.dynamo.onnx"  # symbolic dims: needs --in
    ) + [f"corpus/{name}" for name in CORPUS_PAIRS]


def _net(data: bytes, name: str):
    from convcost.io.onnx import load

    return evaluate(load(data, name).document)


def _stripped(data: bytes) -> bytes:
    import onnx

    model = onnx.load_from_string(data)
    for made in model.graph.node:
        del made.metadata_props[:]
    return model.SerializeToString()  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", _pairs())
def test_both_exports_of_a_model_give_its_layers_the_same_modules(onnx, name) -> None:
    """Every dynamo fixture carries the exporter's name scopes (on the nodes it gave them); with
    them, and with them dropped,
    the conv and linear rows' modules are the TorchScript export's, and so are a depth-1 roll-up's
    MACs per module (rows of the model itself are named after their nodes, which differ)."""
    ts = _net((FIXTURES / f"{name}.ts.onnx").read_bytes(), "ts")
    data = (FIXTURES / f"{name}.dynamo.onnx").read_bytes()
    assert _scoped_nodes(data)

    def layers(net):
        return [row.module for row in net.rows if row.type in ("conv", "linear")]

    def stages(net):
        return [(r.module, r.counts.macs) for r in rollup(net.rows, 1) if r.module and r.counts.macs]

    exports = [_net(data, "dynamo")] + ([] if name in NEEDS_SCOPES else [_net(_stripped(data), "stripped")])
    for dynamo in exports:
        assert layers(dynamo) == layers(ts)
        assert stages(dynamo) == stages(ts)
        assert sum(r.counts.macs for r in rollup(dynamo.rows, 1)) == sum(r.counts.macs for r in ts.rows)


def _scoped_nodes(data: bytes) -> int:
    import onnx

    model = onnx.load_from_string(data)
    return sum(any(p.key == "pkg.torch.onnx.name_scopes" for p in n.metadata_props) for n in model.graph.node)


def test_vit_b_16s_layers_have_torchvisions_module_names(torch, onnx) -> None:
    from tests.torch_nets import zoo

    model, _ = zoo.vit_b_16()
    names = {path for path, _ in model.named_modules()}
    for exporter in ("ts", "dynamo"):
        net = _net((FIXTURES / f"vit_b_16.{exporter}.onnx").read_bytes(), exporter)
        layers = [row.module for row in net.rows if row.type in ("conv", "linear")]
        assert layers[:3] == [
            "conv_proj",
            "encoder.layers.encoder_layer_0.self_attention",
            "encoder.layers.encoder_layer_0.self_attention.out_proj",
        ]
        assert {row.module for row in net.rows} <= names


@pytest.mark.parametrize(
    "name",
    [
        "vit_b_16",
        "convnext_tiny",
        "densenet121",
        "efficientnet_b0",
        "mobilenet_v3_large",
        "shufflenet_v2_x1_0",
    ],
)
def test_the_built_in_spec_and_both_exports_agree_module_by_module(onnx, name) -> None:
    """The built-in specs reproduce torchvision: the modules that do work are the same, and a
    depth-1 roll-up gives each the same MACs."""
    spec = evaluate(read((ROOT / "specs" / f"{name}.yaml").read_bytes()))
    for exporter in ("ts", "dynamo"):
        net = _net((FIXTURES / f"{name}.{exporter}.onnx").read_bytes(), exporter)
        for depth in (1, None):
            rows = [rollup(n.rows, depth) if depth else n.rows for n in (spec, net)]
            working = [{r.module: 0 for r in found if r.module and r.counts.macs} for found in rows]
            for table, found in zip(working, rows, strict=True):
                for r in found:
                    if r.module in table:
                        table[r.module] += r.counts.macs
            assert working[0] == working[1], (exporter, depth)
