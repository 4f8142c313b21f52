"""ONNX fixtures of real structures, both exporters, against torch's FlopCounterMode (truth.json).

tests/fixtures/onnx holds small weightless exports (TorchScript opset 17 and dynamo) of the
structures in tests/torch_nets, each with its ground truth: MACs = FlopCounterMode / 2 on the
torch model (attention counted by hand where FlopCounterMode is blind, see tests/torch_nets/truth.py)
and params = sum(p.numel()). Their weight bytes point at files that do not exist: every fixture
also checks that a model costs from its graph alone.
"""

from __future__ import annotations

import json
from math import prod
from pathlib import Path

import pytest
import yaml

from convcost.model.evaluate import evaluate

FIXTURES = Path(__file__).parent / "fixtures" / "onnx"
#: The fixtures are part of the repository: a missing truth.json or model fails, never skips
#: (python -m tests.torch_nets.export writes them again).
TRUTH: dict[str, dict] = json.loads((FIXTURES / "truth.json").read_text())
KEYS = sorted(key for key, entry in TRUTH.items() if "export_error" not in entry)


def fixture(key: str) -> Path:
    """A fixture that truth.json lists, or the test fails saying which is missing."""
    path = FIXTURES / f"{key}.onnx"
    assert key in TRUTH and path.exists(), f"missing fixture {path.name} (python -m tests.torch_nets.export)"
    return path
FLOAT = {1, 10, 11, 16}


def convert(key: str):
    from convcost.io.onnx import load

    entry = TRUTH[key]
    path = fixture(key)
    options = {}
    if entry["model"] == "dynamic":  # symbolic batch, height and width: give them
        n, c, *spatial = entry["input_shape"]
        options = {"input_shape": (*spatial, c), "batch": n}
    return load(path.read_bytes(), str(path), **options)


def folded_params(onnx, key: str | Path) -> int:
    """The params the exported graph holds: learned tensors, not BN running stats or resize scales.

    Where batch norms were folded into convs the graph's params differ from the torch model's
    (each folded BN's scale goes into the weights and its shift becomes the conv's bias).
    """
    path = key if isinstance(key, Path) else FIXTURES / f"{key}.onnx"
    model = onnx.load(str(path), load_external_data=False)
    not_params = set()
    for node in model.graph.node:
        if node.op_type == "BatchNormalization":
            not_params.update(node.input[3:5])
        if node.op_type in ("Resize", "Upsample"):
            not_params.update(node.input[1:])
    return sum(
        prod(t.dims)
        for t in model.graph.initializer
        if t.data_type in FLOAT and prod(t.dims) > 1 and t.name not in not_params
    )


def test_every_structure_has_fixtures_from_both_exporters() -> None:
    models = {entry["model"] for entry in TRUTH.values()}
    assert len(models) >= 19  # as exported: an emptied truth.json must not pass
    assert all("export_error" not in entry for entry in TRUTH.values())
    for model in models:
        assert {f"{model}.ts", f"{model}.dynamo"} <= set(KEYS), model
    for key in KEYS:
        fixture(key)
        assert not (FIXTURES / f"{key}.weights").exists()  # the weight files are absent on purpose
        assert TRUTH[key]["bytes"] == (FIXTURES / f"{key}.onnx").stat().st_size, key  # the truth's file
    assert {path.name.removesuffix(".onnx") for path in FIXTURES.glob("*.onnx")} == set(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_macs_are_exactly_flopcountermode_and_params_the_models(onnx, key: str) -> None:
    entry = TRUTH[key]
    converted = convert(key)
    network = evaluate(converted.document)
    assert converted.batch * network.totals.macs == entry["macs"]
    if entry["params_folded"]:
        assert network.totals.params == folded_params(onnx, key)
    else:
        assert network.totals.params == entry["params"]
    assert converted.unsupported == {}
    assert all("unsupported" not in note for note in converted.notes)
    # every output of the model is listed, with its shape
    assert len(network.outputs) == len(entry["output_shapes"])


@pytest.mark.parametrize("key", KEYS)
def test_import_round_trips(key: str) -> None:
    """The document, written as YAML and read back, costs the same, row for row."""
    converted = convert(key)
    text = yaml.safe_dump(converted.document, sort_keys=False, default_flow_style=None, width=110)
    direct, again = evaluate(converted.document), evaluate(yaml.safe_load(text))
    assert direct.totals == again.totals
    assert [(r.name, r.output_shape) for r in direct.rows] == [(r.name, r.output_shape) for r in again.rows]
    assert direct.outputs == again.outputs


@pytest.mark.parametrize("key", [k for k in KEYS if k.split(".")[0] in ("dense_block", "densenet121")])
def test_dense_concats_keep_their_channels(key: str) -> None:
    """DenseNet was 30 % low when concats that are not chains lost their channel counts."""
    network = evaluate(convert(key).document)
    concats = [row for row in network.rows if row.type == "concat"]
    assert concats
    for row in concats:
        assert row.output_shape[-1] == sum(shape[-1] for shape in row.input_shapes)


@pytest.mark.parametrize("key", [k for k in KEYS if k.startswith(("shuffle_unit.", "shufflenet"))])
def test_shufflenet_channel_shuffle_is_one_entry(key: str) -> None:
    document = convert(key).document
    types = [layer["type"] for layer in document["layers"]]
    assert "shuffle" in types and "transpose" not in types


@pytest.mark.parametrize("key", [k for k in KEYS if k.startswith("convnext")])
def test_convnext_permutes_move_no_data_and_tokens_cost_once(key: str) -> None:
    """The NCHW → NHWC permute is a relabelling of convcost's channels-last shape: no row.

    (The dynamo export's classifier permutes a 1×768×1×1 view: a transpose of one non-1 dim.)
    """
    network = evaluate(convert(key).document)
    moved = [row for row in network.rows if row.type == "transpose"]
    assert all(sum(d > 1 for d in row.input_shape) == 1 for row in moved)
    linears = [row for row in network.rows if row.type == "linear" and len(row.input_shape) == 3]
    assert linears  # token-wise MLPs on H×W×C
    for row in linears:
        h, w, c = row.input_shape
        out = row.output_shape[-1]
        assert row.counts.macs == h * w * c * out and row.counts.params == c * out + out


@pytest.mark.parametrize("key", [k for k in KEYS if TRUTH[k]["model"].startswith("vit")])
def test_attention_matmuls_are_macs(key: str) -> None:
    network = evaluate(convert(key).document)
    matmuls = [row for row in network.rows if row.type == "matmul"]
    assert len(matmuls) >= 2  # QKᵀ and AV of each block
    assert all(row.counts.macs > 0 and row.counts.params == 0 for row in matmuls)


def test_batch_comes_from_the_model() -> None:
    converted = convert("batch2.ts")
    assert converted.batch == 2
    network = evaluate(converted.document)
    assert network.totals.macs * 2 == TRUTH["batch2.ts"]["macs"]
    assert network.input_shape == (16, 16, 3)  # per sample: the batch is not a dim of the document


@pytest.mark.parametrize("exporter", ["ts", "dynamo"])
def test_symbolic_dims_are_an_error_until_given(onnx, exporter: str) -> None:
    from convcost.core.errors import ConvCostError
    from convcost.io.onnx import load

    data = fixture(f"dynamic.{exporter}").read_bytes()
    with pytest.raises(ConvCostError) as error:
        load(data, "m.onnx")
    text = str(error.value)
    assert error.value.field == "in" and "'input'" in text
    assert "axis 0" in text and "axis 2" in text and "axis 3" in text and "\n" not in text
    assert "(axis 0, the batch: taken as 1)" in text and "--in" in text and "--batch" in text
    taken = load(data, "m.onnx", input_shape=(32, 32, 3))  # a symbolic batch is 1, with a note
    assert taken.batch == 1 and "symbolic batch" in taken.notes[0]
    small = evaluate(load(data, "m.onnx", input_shape=(32, 32, 3), batch=1).document)
    assert evaluate(taken.document).totals.macs == small.totals.macs
    large = load(data, "m.onnx", input_shape=(64, 64, 3), batch=4)
    assert small.totals.macs == TRUTH[f"dynamic.{exporter}"]["macs"]
    assert large.batch == 4
    # --in infers every shape again: four times the pixels, four times the conv work
    head = 16 * 10  # the classifier's MACs do not grow with the input
    assert evaluate(large.document).totals.macs - head == 4 * (small.totals.macs - head)


@pytest.mark.parametrize("exporter", ["ts", "dynamo"])
def test_in_reinfers_a_static_model_and_batch_overrides(onnx, exporter: str) -> None:
    from convcost.io.onnx import load

    data = fixture(f"two_head_detector.{exporter}").read_bytes()
    base = load(data, "m.onnx")
    bigger = load(data, "m.onnx", input_shape=(64, 64, 3), batch=3)
    assert bigger.batch == 3 and bigger.document["input"] == "64x64x3"
    # convs only: every count scales with the pixels
    assert evaluate(bigger.document).totals.macs == 4 * evaluate(base.document).totals.macs


def test_shapes_fixed_inside_a_model_do_not_fit_another_input(onnx) -> None:
    from convcost.core.errors import ConvCostError
    from convcost.io.onnx import load

    path = fixture("shuffle_unit.ts")  # its Reshape targets are constants of the export size
    with pytest.raises(ConvCostError) as error:
        load(path.read_bytes(), "m.onnx", input_shape=(32, 32, 3))
    assert "Reshape" in error.value.field and "\n" not in str(error.value)


def test_several_outputs_are_all_listed() -> None:
    key = "two_head_detector.ts"
    converted = convert(key)
    network = evaluate(converted.document)
    assert len(converted.document["outputs"]) == 2
    assert [list((1, *shape[2:], shape[1]))[1:] for shape in TRUTH[key]["output_shapes"]] == [
        list(shape) for _, shape in network.outputs
    ]


@pytest.mark.parametrize("key", KEYS)
def test_imported_documents_follow_the_spec_schema(key: str) -> None:
    import jsonschema  # the test extra's

    from convcost.io.schema import spec_schema

    jsonschema.validate(convert(key).document, spec_schema())


@pytest.mark.parametrize("exporter", ["ts", "dynamo"])
@pytest.mark.parametrize("name", ["vit_block_mha", "vit_block", "shuffle_unit"])
def test_a_batch_of_three_costs_the_same_work(torch, onnx, tmp_path, name: str, exporter: str) -> None:
    """Exported at batch 3: per-sample costs times 3, or — where the model mixes its batch into other
    dims (nn.MultiheadAttention's (L, N·heads, d) layout) — one pass over the whole input."""
    import contextlib
    import io
    import warnings

    from convcost.io.onnx import load
    from tests.torch_nets import structures, truth
    from tests.torch_nets.export import randomize

    model, shape = getattr(structures, name)()
    randomize(model)  # distinct values: no exporter shares equal tensors between layers
    shape = (3, *shape[1:])
    path = tmp_path / "m.onnx"
    options = {"opset_version": 17} if exporter == "ts" else {}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(shape),), str(path), dynamo=exporter == "dynamo", **options)
    converted = load(path.read_bytes(), "m.onnx")
    network = evaluate(converted.document)
    expected = truth.count(model, shape)
    assert converted.batch * network.totals.macs == expected["macs"]
    mixed = name == "vit_block_mha"
    assert converted.batch == (1 if mixed else 3)
    assert any("mixes the batch axis" in note for note in converted.notes) == mixed
    folded = any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    # a class token the exporter expanded to the batch is still one token's params
    assert network.totals.params == (folded_params(onnx, path) if folded else expected["params"])
