"""``convcost.cost()``: the one public call, the same result ``convcost compare --json`` prints.

For every shipped spec (by name), every spec file under specs/ and every ONNX fixture, the API's
``.to_dict()`` equals the command's JSON object; the README's API examples run as written.
"""

from __future__ import annotations

import doctest
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import convcost
from convcost.cli import cli
from convcost.io.builtin_specs import names

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "onnx"
TRUTH: dict[str, dict] = json.loads((FIXTURES / "truth.json").read_text())
ONNX_KEYS = sorted(key for key, entry in TRUTH.items() if "export_error" not in entry)
CORPUS = FIXTURES / "corpus"
CORPUS_TRUTH: dict[str, dict] = json.loads((CORPUS / "truth.json").read_text())
#: the one corpus export convcost still refuses (tests/test_onnx_corpus.py says why)
REFUSED = {"swinv2.ts"}
CORPUS_KEYS = sorted(
    key for key, entry in CORPUS_TRUTH.items() if "export_error" not in entry and key not in REFUSED
)


def command_json(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["compare", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def as_json(data: dict) -> dict:
    """What the object reads as once written (tuples become lists)."""
    return json.loads(json.dumps(data))


@pytest.mark.parametrize("name", names())
def test_cost_of_a_shipped_name_is_compare_json(name: str) -> None:
    assert as_json(convcost.cost(name).to_dict()) == command_json(name)


@pytest.mark.parametrize("path", sorted((ROOT / "specs").glob("*.yaml")), ids=lambda p: p.name)
def test_cost_of_a_spec_file_is_compare_json(path: Path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    relative = str(path.relative_to(ROOT))
    assert as_json(convcost.cost(relative).to_dict()) == command_json(relative)


def test_cost_takes_the_flags_as_keywords() -> None:
    flags = ["--as", "separable", "--width-mult", "0.5", "--in", "160x160x3", "--device", "a100"]
    flags += ["--dtype", "fp16", "--batch", "4", "--count", "flops", "--fused"]
    result = convcost.cost(
        "mobilenet_v2", as_form="separable", width_mult="0.5", input_shape="160x160x3",
        device="a100", dtype="fp16", batch=4, count="flops", fused=True,
    )
    assert as_json(result.to_dict()) == command_json("mobilenet_v2", *flags)


def test_cost_of_bytes_a_dict_and_a_path_agree() -> None:
    path = ROOT / "specs" / "resnet18.yaml"
    by_path = convcost.cost(path).to_dict()
    by_bytes = convcost.cost(path.read_bytes()).to_dict()
    import yaml

    by_dict = convcost.cost(yaml.safe_load(path.read_text())).to_dict()
    for other in (by_bytes, by_dict):
        assert other["layers"] == by_path["layers"] and other["totals"] == by_path["totals"]
    assert (by_path["source"], by_bytes["source"], by_dict["source"]) == (str(path), "<bytes>", None)


def test_cost_of_stdin(monkeypatch) -> None:
    import io

    data = (ROOT / "specs" / "seed_layer.yaml").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))
    assert convcost.cost("-").to_dict()["source"] == "<stdin>"


def test_cost_errors_name_the_option_and_the_input() -> None:
    with pytest.raises(convcost.ConvCostError) as caught:
        convcost.cost("resnet18", width_mult="-1")
    assert caught.value.field == "width_mult"
    with pytest.raises(convcost.api.SourceErrors) as problems:
        convcost.cost({"input": "8x8x3", "layers": [{"out": 4, "kernel": 9}]})
    assert problems.value.errors[0].field.startswith("layers[0]")
    with pytest.raises(OSError):
        convcost.cost("no/such/file.yaml")
    with pytest.raises(convcost.ConvCostError, match="source"):
        convcost.cost(3.5)
    with pytest.raises(convcost.ConvCostError, match="input: is the example input of a PyTorch module"):
        convcost.cost("resnet18", input=(1, 3, 224, 224))


def test_layer_and_sweep_results_are_their_commands_json() -> None:
    layer = convcost.cost_layer("28x28x8", 16, 3, device="a100")
    result = CliRunner().invoke(cli, ["layer", "--in", "28x28x8", "--out", "16", "-k", "3", "--device", "a100", "--json"])
    assert as_json(layer.to_dict()) == json.loads(result.stdout)
    sweep = convcost.cost_sweep({"in": "28x28x64", "out": "64", "kernel": "3", "groups": "1..64*2"})
    result = CliRunner().invoke(cli, ["sweep", "--in", "28x28x64", "--out", "64", "-k", "3", "--groups", "1..64*2", "--json"])
    assert as_json(sweep.to_dict()) == json.loads(result.stdout)


def test_cost_loads_neither_click_nor_rich() -> None:
    code = "import sys, convcost; r = convcost.cost('resnet50'); print('click' in sys.modules, 'rich' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert proc.stdout.split() == ["False", "False"]


# ------------------------------------------------------------------ ONNX fixtures


def _onnx_options(key: str) -> tuple[dict, list[str]]:
    """The dynamic fixture's symbolic batch, height and width, as the API's keywords and as flags."""
    entry = TRUTH[key]
    if entry["model"] != "dynamic":
        return {}, []
    n, c, *spatial = entry["input_shape"]
    shape = "x".join(map(str, (*spatial, c)))
    return {"input_shape": shape, "batch": n}, ["--in", shape, "--batch", str(n)]


@pytest.mark.parametrize("key", ONNX_KEYS)
def test_cost_of_an_onnx_fixture_is_compare_json(onnx, key: str) -> None:
    path = str(FIXTURES / f"{key}.onnx")
    options, flags = _onnx_options(key)
    assert as_json(convcost.cost(path, **options).to_dict()) == command_json(path, *flags)


@pytest.mark.parametrize("key", CORPUS_KEYS)
def test_cost_of_a_corpus_model_is_compare_json(onnx, key: str) -> None:
    path = str(CORPUS / f"{key}.onnx")
    assert as_json(convcost.cost(path).to_dict()) == command_json(path)


# ------------------------------------------------------------------ PyTorch modules


@pytest.mark.torch
def test_a_torch_module_is_costed_as_its_export_with_module_names(torch, onnx) -> None:
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(8, 8, 3, padding=1)

        def forward(self, x):
            return torch.relu(self.conv(x)) + x

    model = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), Block(), nn.Flatten(), nn.Linear(8 * 16 * 16, 10))
    result = convcost.cost(model, input=(1, 3, 32, 32))
    names = [row.name for row in result.rows]
    assert names[:2] == ["0", "1_conv"] and names[-1] == "3"
    # exact: 3·3·3·8 per output position of 16×16, the block's 3·3·8·8, and the linear layer
    assert result.totals.macs == 16 * 16 * (27 * 8 + 72 * 8) + 8 * 16 * 16 * 10
    same = convcost.cost(model, input=torch.zeros(1, 3, 32, 32))
    assert same.to_dict() == result.to_dict()
    assert model.training  # exported in eval mode, given back as it came


def _small_resnet(nn):
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(8)
            self.relu = nn.ReLU()  # called twice, as torchvision's blocks do
            self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)

        def forward(self, x):
            return self.relu(self.conv2(self.relu(self.bn1(self.conv1(x)))) + x)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(8)
            self.relu = nn.ReLU()
            self.maxpool = nn.MaxPool2d(2)
            self.layer1 = nn.Sequential(Block(), Block())
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(8, 10)

        def forward(self, x):
            x = self.layer1(self.maxpool(self.relu(self.bn1(self.conv1(x)))))
            return self.fc(self.avgpool(x).flatten(1))

    return Net()


@pytest.mark.torch
def test_a_torch_modules_rows_have_the_modules_of_its_export_to_a_file(torch, onnx, tmp_path) -> None:
    import io
    import warnings

    model = _small_resnet(torch.nn).eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 3, 32, 32),), buffer, dynamo=False, opset_version=17)
    from_file = convcost.cost(buffer.getvalue())
    from_module = convcost.cost(model, input=(1, 3, 32, 32))
    modules = [row.module for row in from_module.rows]
    assert modules == [row.module for row in from_file.rows]
    assert modules.count("layer1.0.relu") == 2 and "layer1.1.conv2" in modules
    rolled = convcost.cost(model, input=(1, 3, 32, 32), depth=1)
    assert [row.module for row in rolled.rows] == ["conv1", "relu", "maxpool", "layer1", "avgpool", "", "fc"]
    assert rolled.totals == from_module.totals


@pytest.mark.torch
def test_a_shared_module_and_an_lstm_have_their_modules(torch, onnx) -> None:
    nn = torch.nn

    class Shared(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.r, self.c1, self.c2 = nn.ReLU(), nn.Conv2d(3, 3, 3, padding=1), nn.Conv2d(3, 3, 3, padding=1)

        def forward(self, x):
            return self.r(self.c2(self.r(self.c1(x))))

    class Recurrent(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l = nn.LSTM(16, 32, batch_first=True)

        def forward(self, x):
            return self.l(x)[0]

    shared = convcost.cost(Shared(), input=(1, 3, 8, 8))
    assert [row.module for row in shared.rows] == ["c1", "r", "c2", "r"]
    recurrent = convcost.cost(Recurrent(), input=(2, 5, 16))
    assert {row.module for row in recurrent.rows} == {"l"}


def test_a_source_with_a_nul_is_refused_naming_source() -> None:
    from convcost.core.errors import ConvCostError

    for source in ("res\x00net", Path("a\x00.yaml")):
        with pytest.raises(ConvCostError, match=r"^source: 'r?e?s?a?\\x00.*holds a NUL character"):
            convcost.cost(source)
    from convcost.api import convert

    with pytest.raises(ConvCostError, match=r"^source: .*NUL"):
        convert("m\x00.onnx")


@pytest.mark.torch
def test_torch_sources_that_cannot_be_exported_are_refused_in_one_line(torch, onnx) -> None:
    from convcost.core.errors import ConvCostError

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3))
    refused = {
        "^input: .*at most 100,000,000 elements": lambda: convcost.cost(model, input=(1, 3, 100_000, 100_000)),
        "^input: .*at most 32 dims": lambda: convcost.cost(model, input=(1,) * 33),
        "^source: is a TorchScript module": lambda: convcost.cost(
            torch.jit.trace(model, torch.zeros(1, 3, 8, 8)), input=(1, 3, 8, 8)
        ),
        r"^source: Sequential is a class of PyTorch modules; pass a module, Sequential\(...\)": lambda: (
            convcost.cost(torch.nn.Sequential, input=(1, 3, 8, 8))
        ),
    }
    for needle, call in refused.items():
        with pytest.raises(ConvCostError, match=needle):
            call()
    with pytest.raises(ConvCostError, match=r"^source: Sequential is a class"):
        convcost.cost(torch.nn.Sequential)  # without input= too
    assert convcost.cost(model, input=(1, 3, 8, 8)).totals.macs == 6 * 6 * 8 * 27


# ------------------------------------------------------------------ the README


def _readme_blocks(kind: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"```{kind}\n(.*?)```", text, flags=re.DOTALL)


def test_the_readme_python_blocks_run(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    for block in _readme_blocks("python"):
        exec(compile(block, "README.md", "exec"), namespace)


def test_the_readme_api_examples_are_doctests(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    blocks = _readme_blocks("pycon")
    assert blocks, "the README shows the API as >>> examples"
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for index, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"README[{index}]", "README.md", 0))
    assert runner.summarize(verbose=False).failed == 0
