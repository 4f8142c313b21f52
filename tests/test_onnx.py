"""ONNX models: `compare model.onnx` and `import` against PyTorch exports and hand-built graphs."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcost import conv
from convcost.cli import cli


def compare_json(path: Path, *args: str) -> dict:
    result = CliRunner().invoke(cli, ["compare", str(path), "--json", *args])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def export(torch, model, shape: tuple[int, ...], path: Path) -> int:
    """Export in eval mode (batch norm folded) and return torch's MACs (FlopCounterMode / 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    model = model.eval()
    x = torch.zeros(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, str(path), dynamo=False)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() // 2


def resnetish(torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.c1, self.b1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
            self.c2, self.b2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            y = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
            return torch.relu(y + (x if self.down is None else self.down(x)))

    class Inception(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.a, self.b, self.p = nn.Conv2d(c, 4, 1), nn.Conv2d(c, 6, 3, padding=1), nn.MaxPool2d(3, 1, 1)

        def forward(self, x):
            return torch.cat([self.a(x), self.b(x), self.p(x)], 1)

    return nn.Sequential(
        nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU(), Block(8, 8, 1), Block(8, 16, 2),
        nn.Conv2d(16, 16, 3, padding=1, groups=16), Inception(16),
        nn.ConvTranspose2d(26, 8, 3, stride=2, padding=1, output_padding=1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10),
    )  # fmt: skip


def test_torch_export_with_folded_batchnorm_counts_exactly(torch, onnx, tmp_path) -> None:
    path = tmp_path / "resnetish.onnx"
    torch_macs = export(torch, resnetish(torch), (1, 3, 32, 32), path)
    data = compare_json(path)
    assert data["totals"]["macs"] == torch_macs
    types = [row["type"] for row in data["layers"]]
    assert types.count("add") == 2 and types.count("concat") == 1 and "transposed" in types
    assert data["notes"] == []
    # Folding gives every bias-less conv the batch norm's shift as a bias; the scales fold into the weights.
    model = resnetish(torch)
    plain = sum(
        p.numel()
        for m in model.modules()
        if not isinstance(m, torch.nn.BatchNorm2d)
        for p in m.parameters(recurse=False)
    )
    folded = sum(m.out_channels for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.bias is None)
    assert data["totals"]["params"] == plain + folded


def test_import_round_trips(torch, onnx, tmp_path) -> None:
    path = tmp_path / "resnetish.onnx"
    export(torch, resnetish(torch), (1, 3, 32, 32), path)
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 0
    spec = tmp_path / "resnetish.yaml"
    spec.write_text(result.stdout)
    # Node for node: the residual adds are graph merges wired by name, not chain-squeezed blocks.
    assert "type: residual" not in result.stdout and "type: add" in result.stdout
    assert "inputs: [" in result.stdout
    a, b = compare_json(path), compare_json(spec)
    assert a["totals"] == b["totals"]
    assert [r["output_shape"] for r in a["layers"]] == [r["output_shape"] for r in b["layers"]]


@pytest.mark.parametrize("depth", [1, 2])
def test_torch_chains_match(torch, onnx, tmp_path, depth) -> None:
    nn = torch.nn
    layers = [nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU6()]
    for _ in range(depth):
        layers += [nn.Conv2d(16, 16, 3, 1, 1, groups=16), nn.BatchNorm2d(16), nn.ReLU(), nn.Conv2d(16, 16, 1)]
    layers += [
        nn.AvgPool2d(2),
        nn.Conv2d(16, 8, (1, 3), padding=(0, 2), dilation=(1, 2)),
        nn.Flatten(),
        nn.Linear(8 * 8 * 8, 5),
    ]
    path = tmp_path / "chain.onnx"
    torch_macs = export(torch, nn.Sequential(*layers), (1, 3, 32, 32), path)
    data = compare_json(path)
    assert data["totals"]["macs"] == torch_macs
    assert all("in" not in row for row in data["layers"][1:])  # one chain: no explicit inputs after the first


def hand_built(onnx, path: Path) -> None:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    def weight(name: str, *dims: int):
        return numpy_helper.from_array(np.zeros(dims, dtype=np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"], name="asym", pads=[0, 0, 1, 1], strides=[2, 2]),
        helper.make_node(
            "Conv", ["a", "w2", "b2"], ["b"], name="same_lower", auto_pad="SAME_LOWER", strides=[2, 2]
        ),
        helper.make_node("AveragePool", ["b"], ["c"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["c"], ["d"], name="flat"),
        helper.make_node("MatMul", ["d", "w3"], ["e"], name="fc"),
        helper.make_node("Add", ["e", "bias3"], ["f"], name="fc_bias"),
        helper.make_node("TopK", ["f", "k"], ["g", "h"], name="topk"),
    ]
    graph = helper.make_graph(
        nodes, "hand", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 15, 15])],
        [helper.make_tensor_value_info("g", TensorProto.FLOAT, None)],
        [weight("w1", 8, 3, 3, 3), weight("w2", 8, 8, 4, 4), weight("b2", 8), weight("w3", 8 * 2 * 2, 6),
         weight("bias3", 6), numpy_helper.from_array(np.array([2], dtype=np.int64), "k")],
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))


def test_hand_built_graph_pads_auto_pad_matmul_and_unsupported_ops(onnx, tmp_path) -> None:
    path = tmp_path / "hand.onnx"
    hand_built(onnx, path)
    data = compare_json(path)
    rows = {row["name"]: row for row in data["layers"]}
    asym = conv("15x15x3", 8, 3, stride=2, padding="0:1x0:1")  # pads begin 0, end 1 in each dim
    assert rows["asym"]["output_shape"] == list(asym.output_shape) == [7, 7, 8]
    assert rows["asym"]["padding"] == [[0, 1], [0, 1]] and rows["asym"]["macs"] == asym.macs
    lower = rows["same_lower"]  # 7 → ceil(7/2) = 4; total pad 3·2 + 4 − 7 = 3, the odd one first
    assert lower["output_shape"] == [4, 4, 8] and lower["padding"] == [[2, 1], [2, 1]]
    assert rows["fc"]["type"] == "linear" and rows["fc"]["params"] == 32 * 6 + 6  # the Add is its bias
    assert any("unsupported op TopK (1×)" in note for note in data["notes"])
    table = CliRunner().invoke(cli, ["compare", str(path)]).stdout
    assert "Note: unsupported op TopK" in table


def _without_onnx(path: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``convcost compare PATH ARGS`` in a process where onnx (and numpy) cannot be imported."""
    code = (
        "import sys; sys.modules['onnx'] = sys.modules['numpy'] = None\n"
        "from convcost.cli import main\n"
        f"sys.argv = ['convcost', 'compare', {path!r}, *{args!r}]\n"
        "main()\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_without_onnx_a_model_is_read_and_checked(tmp_path) -> None:
    """Parsing and the checks are convcost's own: a model without nodes is refused in its words."""
    path = tmp_path / "m.onnx"
    path.write_bytes(b"\x08\x07")
    proc = _without_onnx(str(path))
    assert proc.returncode == 2 and proc.stdout == "" and len(proc.stderr.splitlines()) == 1
    assert proc.stderr.strip().endswith("has an empty graph (no nodes): there is nothing to cost")
    path.write_bytes(b"\x08\x07\x3a\x05")  # graph's length past the end
    proc = _without_onnx(str(path))
    assert proc.returncode == 2 and "is not a readable ONNX model" in proc.stderr


def test_without_onnx_a_model_costs_as_with_it() -> None:
    """Shapes are convcost's own: without onnx (or numpy) a model costs, and prints what it prints
    where onnx is installed."""
    path = str(Path(__file__).parent / "fixtures" / "onnx" / "aspp.ts.onnx")
    proc = _without_onnx(path, "--json")
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout == CliRunner().invoke(cli, ["compare", path, "--json"]).stdout


def test_broken_onnx_file_is_one_line(onnx, tmp_path) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"not a model at all \xff\xfe")
    result = CliRunner().invoke(cli, ["compare", str(path)])
    assert result.exit_code == 2 and "the file is not a readable ONNX model" in result.stderr
    assert len(result.stderr.splitlines()) == 1
