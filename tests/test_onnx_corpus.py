"""The corpus: 24 models from transformers and timm configs and plain torch, exported both ways.

tests/fixtures/onnx/corpus holds weightless exports (TorchScript opset 17 and dynamo) of the models in
tests/torch_nets/corpus.py, and truth.json: MACs = FlopCounterMode / 2 with the CPU attention kernel
and the LSTM layer counted (formulas registered there), params = sum(p.numel()), shared tensors once.
The fixtures and the truth are made by tests/torch_nets/corpus_export.py, which needs transformers and
timm; these tests need only convcost (no onnx: they run in the onnx-free venv too), and read the committed files.

Per fixture, convcost must give:

* **MACs** equal to FlopCounterMode's, less what the exporter itself folded into initializers
  (``macs_folded_by_exporter``: constant-only compute such as a position MLP over a coordinate table,
  gone from the graph; it never exceeds the compute FlopCounterMode saw reading no input-derived
  tensor, ``constant_macs``).
* **params** between the graph's weights (conv, linear, matmul, einsum and recurrent weights and
  embedding tables that are initializers, each tensor once: ``params_graph_weights``) and the model's
  true count (BN folded into convs and unused tensors are not in the graph), or, where the exporter
  wrote tensors the model does not hold (a table gathered out to every pair, a weight copied per use,
  a precomputed mask), exactly the true count plus that expansion (``EXPANDED``, each in words).
* every node costed (nothing left opaque), and an ``import`` that round-trips.

Cases that fail on today's convcost are marked ``xfail(strict=True)`` with the cause, in ``KNOWN``
(none now): a fix makes its case pass, and the strict mark then fails until it is removed.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcost.cli import cli

CORPUS = Path(__file__).parent / "fixtures" / "onnx" / "corpus"
MODELS = [
    "bert",
    "albert",
    "gpt2",
    "llama",
    "wav2vec2",
    "whisper_encoder",
    "videomae",
    "video3d",
    "cvt",
    "dinov2",
    "swinv2",
    "mobilevit",
    "edgenext",
    "coatnet",
    "maxvit",
    "sequencer",
    "recurrent",
    "regnet",
    "efficientnetv2",
    "convnextv2",
    "deit",
    "resnest",
    "dinov2_vit",
    "einsum_mixer",
]
# exports that fail, with the exporter's reason (their truth.json entries hold the error)
NOT_EXPORTED = {
    "maxvit.dynamo": "torch.export decomposes a reshape of a transposed tensor into an impossible view",
}
KEYS = [key for model in MODELS for key in (f"{model}.ts", f"{model}.dynamo") if key not in NOT_EXPORTED]

#: Exports whose params exceed the model's true count because the exporter wrote tensors the model
#: does not hold as initializers: ``key: (excess over truth.json's params, where it comes from)``. In a
#: weightless graph they are initializers read as a learned tensor is (combined with activations, or
#: as a weight), so convcost counts them, as the README's ONNX section says; the test pins each
#: excess exactly, so that any change to what convcost counts shows here.
COPY = "the exporter wrote the weight once per use (transposed), as separate initializers: "
MASK = "a {} attention mask the exporter precomputed (+{:,})"
QKV_BIAS = (
    "each attention's qkv bias, cat(q_bias, zeros, v_bias), folded into one initializer of 3·C, the "
    "zero third (C) counted (+608: 32+64+128+128+256)"
)
COATNET = (
    "the relative-position bias tables (1,980 numbers) gathered out to every pair of positions (9,600: "
    "+7,620); batch norms folded into the convs, each one's 2·C params a C bias (−3,616)"
)
EXPANDED: dict[str, tuple[int, str]] = {
    "gpt2.ts": (64_000, COPY + "the LM head's 64×1000 transpose of the 1000×64 token table (+64,000)"),
    "albert.dynamo": (
        64_256,
        COPY + "the shared layer's six matrices again at depths 2 and 3 (+65,536); the 64×32 position "
        "table gathered at the 16 positions with the token-type row added (+512, its 2,048 not in the "
        "graph: −2,048); " + MASK.format("1×1×16×16", 256),
    ),
    "llama.dynamo": (
        768,
        "the rotary cos and sin tables (1×1×16×16 each, computed from the inv_freq buffer, not a "
        "param) folded into initializers read by Mul (+512); " + MASK.format("causal 1×1×16×16", 256),
    ),
    "recurrent.dynamo": (
        32,
        "the unrolled RNN's first step: the product of R with the zero initial state folded, with "
        "its bias, into a 1×1×32 initializer (+32)",
    ),
    "swinv2.ts": (607, QKV_BIAS + "; a 1-element logit scale is not counted (−1)"),
    "swinv2.dynamo": (
        91_359,
        QKV_BIAS + "; each 7×7 window's position-bias MLP's first product, over the coordinate table, "
        "folded into a 1×7×7×512 initializer (4 of them: +100,352, in place of their 512×2 weights: "
        "−4,096), and the last stage's whole bias into 1×8×4×4 (+128, in place of its MLP: −5,632); a "
        "1-element logit scale is not counted (−1)",
    ),
    "coatnet.ts": (4_004, COATNET),
    "coatnet.dynamo": (4_004, COATNET),
    "dinov2.dynamo": (
        1_188,
        "the position table interpolated to the 26 tokens (1×26×64 for the 1×17×64 table: +576); "
        + MASK.format("1×1×26×26", 676)
        + "; the unused mask token is not in the graph (−64)",
    ),
    "videomae.dynamo": (
        2_048,
        "the fixed sinusoid position table (1×32×64, a plain tensor of the model, neither a param nor "
        "a buffer) written as an initializer added to the patches (+2,048)",
    ),
    "wav2vec2.dynamo": (
        12_466,
        MASK.format("two 1×1×79×79", 12_482)
        + "; the positional conv's weight-norm g (16) and v folded into one weight (−16)",
    ),
}
KNOWN: dict[str, dict[str, str]] = {"macs": {}, "params": {}, "costed": {}, "round_trip": {}}


def cases(test: str) -> list:
    return [
        pytest.param(key, marks=pytest.mark.xfail(strict=True, reason=KNOWN[test][key]))
        if key in KNOWN[test]
        else key
        for key in KEYS
    ]


@functools.cache
def truth() -> dict[str, dict]:
    return json.loads((CORPUS / "truth.json").read_text())


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, (result.stdout + result.stderr).strip()
    return result.stdout


@functools.cache
def costed(key: str) -> dict:
    return json.loads(run("compare", str(CORPUS / f"{key}.onnx"), "--json"))


def test_the_corpus_is_all_there() -> None:
    """Every model has its fixtures and truth; a missing file fails here and in every case below."""
    entries = truth()
    assert len(MODELS) >= 20
    assert set(entries) == set(KEYS) | set(NOT_EXPORTED)
    for key in NOT_EXPORTED:
        assert "export_error" in entries[key] and not (CORPUS / f"{key}.onnx").exists()
    for key in KEYS:
        assert "export_error" not in entries[key], key
        assert (CORPUS / f"{key}.onnx").exists(), key
        assert not (CORPUS / f"{key}.weights").exists()  # weightless on purpose
        assert entries[key]["bytes"] == (CORPUS / f"{key}.onnx").stat().st_size, key  # the file the truth is of
    ops = {op for key in KEYS for op in entries[key]["ops"]}
    assert {"Einsum", "LSTM", "GRU", "RNN", "Conv", "Gather", "MatMul"} <= ops
    # 1-D (audio), 2-D and 3-D (video) convolutions
    assert {len(entries[f"{m}.ts"]["input_shapes"][0]) for m in ("wav2vec2", "regnet", "video3d")} == {
        2,
        4,
        5,
    }


@pytest.mark.parametrize("key", KEYS)
def test_the_truth_is_consistent(key: str) -> None:
    """What the exporter folded is constant compute FlopCounterMode saw; the graph's weights fit."""
    entry = truth()[key]
    assert 0 <= entry["macs_folded_by_exporter"] <= entry["constant_macs"]
    assert entry["params_graph_weights"] <= entry["params"]


@pytest.mark.parametrize("key", cases("macs"))
def test_macs_are_flopcountermodes(key: str) -> None:
    entry = truth()[key]
    data = costed(key)
    assert data["batch"] * data["totals"]["macs"] == entry["macs"] - entry["macs_folded_by_exporter"]


@pytest.mark.parametrize("key", cases("params"))
def test_params_lie_between_the_graphs_weights_and_the_models(key: str) -> None:
    """Between the graph's weights and the model's count; above it by exactly the exporter's expansion
    (``EXPANDED``) where the exporter wrote tensors the model does not hold."""
    entry = truth()[key]
    params = costed(key)["totals"]["params"]
    assert entry["params_graph_weights"] <= params
    excess, _ = EXPANDED.get(key, (0, ""))
    if excess:
        assert params == entry["params"] + excess
    else:
        assert params <= entry["params"]


def test_each_expansion_is_an_export_of_the_corpus() -> None:
    """Every allowance names an export, and says where it comes from."""
    assert set(EXPANDED) <= set(KEYS)
    assert all(excess > 0 and why for excess, why in EXPANDED.values())


@pytest.mark.parametrize("key", cases("costed"))
def test_every_node_is_costed(key: str) -> None:
    data = costed(key)
    assert not data.get("unsupported")
    assert len(data["outputs"]) == len(truth()[key]["output_shapes"])


@pytest.mark.parametrize("key", cases("round_trip"))
def test_import_round_trips(tmp_path, key: str) -> None:
    """import → spec YAML → compare: the same totals and the same layer shapes as the model."""
    spec = tmp_path / f"{key}.yaml"
    spec.write_text(run("import", str(CORPUS / f"{key}.onnx")))
    direct, again = costed(key), json.loads(run("compare", str(spec), "--json"))
    assert direct["totals"] == again["totals"]
    assert [r["output_shape"] for r in direct["layers"]] == [r["output_shape"] for r in again["layers"]]
