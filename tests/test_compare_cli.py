"""`convcost compare`: the spec format, every layer type and block, flags, and every error class."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcost.cli import cli
from tests.conftest import hang_guard

SPECS = Path(__file__).resolve().parent.parent / "specs"


def compare(tmp_path: Path, text: str, *args: str):
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return CliRunner().invoke(cli, ["compare", str(path), *args])


def compare_json(tmp_path: Path, text: str, *args: str) -> dict:
    result = compare(tmp_path, text, "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def rows(data: dict) -> dict[str, dict]:
    return {row["name"]: row for row in data["layers"]}


# ------------------------------------------------------------------ the format


def test_the_issue_example(tmp_path) -> None:
    data = compare_json(
        tmp_path,
        """
        input: 224x224x3
        layers:
          - {name: conv1, out: 32, kernel: 3, stride: 2, padding: 1}
          - {name: sep1, type: separable, out: 64, kernel: 3, padding: 1}
        """,
    )
    conv1, sep1 = data["layers"]
    assert conv1["output_shape"] == [112, 112, 32] and conv1["macs"] == 112 * 112 * 32 * 27
    assert sep1["input_shape"] == [112, 112, 32] and sep1["output_shape"] == [112, 112, 64]
    assert sep1["macs"] == 112 * 112 * 32 * 9 + 112 * 112 * 32 * 64
    assert set(sep1["variants"]) == {"regular", "depthwise_separable"}
    assert data["totals"]["macs"] == conv1["macs"] + sep1["macs"]
    assert set(data["variants"]) >= {"regular", "depthwise_separable"}
    assert set(data["breakdown"]) >= {"conv", "grouped", "depthwise", "pointwise", "linear"}


def test_yaml_1_1_surprises_are_off(tmp_path) -> None:
    data = compare_json(
        tmp_path,
        """
        layers:
          - {in: 8x8x4, out: 4, kernel: 1x3, padding: 0x3}
          - {in: 8x8x4, out: 4, kernel: 3, padding: 1:2}
          - {in: 8x8x4, out: 010, kernel: 3}
        """,
    )
    a, b, c = data["layers"]
    assert a["padding"] == [[0, 0], [3, 3]]  # not hexadecimal 3
    assert b["padding"] == [[1, 2], [1, 2]]  # not sexagesimal 62
    assert c["output_shape"][-1] == 10  # not octal 8


def test_yes_is_not_a_boolean(tmp_path) -> None:
    result = compare(tmp_path, "layers: [{in: 8x8x4, out: 4, kernel: 3, bias: yes}]")
    assert (
        result.exit_code == 2
        and "layers[0].bias: 'yes' is not allowed; expected true or false" in result.stderr
    )


def test_yaml_lists_and_ints_work_like_strings(tmp_path) -> None:
    as_text = compare_json(tmp_path, "layers: [{in: 9x9x4, out: 8, kernel: 3x1, stride: 2, padding: 0:1x1}]")
    as_lists = compare_json(
        tmp_path,
        "layers: [{in: [9, 9, 4], out: 8, kernel: [3, 1], stride: [2, 2], padding: [[0, 1], [1, 1]]}]",
    )
    assert as_text["layers"] == as_lists["layers"]


def test_json_spec_and_stdin(tmp_path) -> None:
    spec = json.dumps({"input": "28x28x8", "layers": [{"out": 16, "kernel": 3}]})
    result = CliRunner().invoke(cli, ["compare", "-", "--json"], input=spec)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["source"] == "<stdin>" and data["totals"]["macs"] == 778_752


def test_independent_what_if_layers_and_chains_mix(tmp_path) -> None:
    data = compare_json(
        tmp_path,
        """
        input: 32x32x3
        layers:
          - {name: a, out: 8, kernel: 3}
          - {name: b, out: 8, kernel: 3}
          - {name: c, in: 10x10x4, out: 2, kernel: 3}
          - {name: d, out: 2, kernel: 3}
        """,
    )
    r = rows(data)
    assert r["b"]["input_shape"] == [30, 30, 8]
    assert r["c"]["input_shape"] == [10, 10, 4] and r["d"]["input_shape"] == [8, 8, 2]


def test_layer_types(tmp_path) -> None:
    data = compare_json(
        tmp_path,
        """
        input: 16x16x8
        layers:
          - {name: dw, type: depthwise, kernel: 3, padding: 1, multiplier: 2}
          - {name: g, out: 16, kernel: 3, padding: same, groups: 4, bias: true}
          - {name: mp, type: pool, kernel: 2}
          - {name: ap, type: pool, mode: avg, kernel: 3, stride: 1, padding: 1}
          - {name: bn, type: batchnorm}
          - {name: gp, type: pool, global: true}
          - {name: fc, type: linear, out: 10}
          - {name: fc2, type: linear, out: 5, bias: false}
        """,
    )
    r = rows(data)
    assert r["dw"]["output_shape"] == [16, 16, 16] and r["dw"]["macs"] == 16 * 16 * 16 * 9
    assert r["g"]["macs"] == 16 * 16 * 16 * (16 // 4) * 9 and r["g"]["params"] == 16 * 4 * 9 + 16
    assert set(r["g"]["variants"]) == {"regular", "grouped", "depthwise_separable"}
    assert r["mp"]["output_shape"] == [8, 8, 16] and r["mp"]["macs"] == 0 and r["mp"]["params"] == 0
    assert r["ap"]["output_shape"] == [8, 8, 16]
    assert r["bn"]["params"] == 32 and r["bn"]["macs"] == 0
    assert r["gp"]["output_shape"] == [1, 1, 16]
    assert r["fc"]["output_shape"] == [10] and r["fc"]["macs"] == 160 and r["fc"]["params"] == 170  # bias on
    assert r["fc2"]["macs"] == 50 and r["fc2"]["params"] == 50
    kinds = data["breakdown"]
    assert kinds["depthwise"]["macs"] == r["dw"]["macs"]
    assert kinds["grouped"]["macs"] == r["g"]["macs"]
    assert kinds["linear"]["macs"] == 210
    assert kinds["other"]["params"] == 32


def test_blocks_repeat_residual_branches_nested(tmp_path) -> None:
    data = compare_json(
        tmp_path,
        """
        input: 8x8x4
        layers:
          - name: stage
            type: repeat
            times: 2
            layers:
              - name: res
                type: residual
                body:
                  - {name: c1, out: 4, kernel: 3, padding: 1}
                  - {name: c2, out: 4, kernel: 3, padding: 1}
          - name: inception
            type: branches
            branches:
              - [{name: one, out: 2, kernel: 1}]
              - [{name: three, out: 3, kernel: 3, padding: 1}]
              - [{name: pool, type: pool, kernel: 3, stride: 1, padding: 1}]
          - name: proj
            type: residual
            body: [{name: c, out: 6, kernel: 3, stride: 2, padding: 1}]
            shortcut: [{name: down, out: 6, kernel: 1, stride: 2}]
          - name: sum
            type: branches
            join: add
            branches: [[{name: a, out: 6, kernel: 1}], [{name: b, out: 6, kernel: 1}]]
        """,
    )
    names = [row["name"] for row in data["layers"]]
    assert names[:6] == [
        "stage.1.res.c1", "stage.1.res.c2", "stage.1.res.add",
        "stage.2.res.c1", "stage.2.res.c2", "stage.2.res.add",
    ]  # fmt: skip
    r = rows(data)
    assert r["inception.concat"]["output_shape"] == [8, 8, 2 + 3 + 4]
    assert r["inception.1.three"]["input_shape"] == [8, 8, 4]
    assert r["proj.shortcut.down"]["output_shape"] == [4, 4, 6]
    assert r["proj.add"]["output_shape"] == [4, 4, 6]
    assert r["sum.add"]["output_shape"] == [4, 4, 6]
    assert data["output_shape"] == [4, 4, 6]
    assert r["stage.1.res.c1"]["path"] == "layers[0].layers[0].body[0]"


def test_aliases_and_merge_keys_are_shared_not_copied(tmp_path) -> None:
    data = compare_json(
        tmp_path,
        """
        input: 8x8x4
        layers:
          - &c3 {name: a, out: 4, kernel: 3, padding: 1}
          - {<<: *c3, name: b}
          - {<<: *c3, name: c, out: 8}
        """,
    )
    assert [r["output_shape"] for r in data["layers"]] == [[8, 8, 4], [8, 8, 4], [8, 8, 8]]


def test_as_regular_and_separable(tmp_path) -> None:
    spec = """
        input: 16x16x8
        layers:
          - {name: c, out: 16, kernel: 3, padding: 1, groups: 2}
          - {name: s, type: separable, out: 16, kernel: 3, padding: 1}
          - {name: d, type: depthwise, kernel: 3, padding: 1}
          - {name: p, out: 8, kernel: 1}
          - {name: fc, type: linear, out: 10}
        """
    regular = rows(compare_json(tmp_path, spec, "--as", "regular"))
    assert [regular[n]["type"] for n in "csdp"] == ["conv", "conv", "conv", "conv"]
    assert regular["c"]["macs"] == 16 * 16 * 16 * 8 * 9  # groups → 1
    assert regular["d"]["macs"] == 16 * 16 * 16 * 16 * 9 and regular["d"]["output_shape"] == [16, 16, 16]
    separable = rows(compare_json(tmp_path, spec, "--as", "separable"))
    assert [separable[n]["type"] for n in "csdp"] == ["separable", "separable", "depthwise", "conv"]
    assert separable["c"]["macs"] == 16 * 16 * 8 * 9 + 16 * 16 * 8 * 16
    assert separable["fc"]["macs"] == regular["fc"]["macs"] == 16 * 16 * 8 * 10


def test_width_mult_rounds_half_up_and_keeps_linear(tmp_path) -> None:
    spec = """
        input: 8x8x3
        layers:
          - {name: a, out: 10, kernel: 1}
          - {name: b, out: 3, kernel: 1}
          - {name: d, type: depthwise, kernel: 3, padding: 1, out: 3}
          - {name: fc, type: linear, out: 7}
        """
    r = rows(compare_json(tmp_path, spec, "--width-mult", "0.25"))
    assert r["a"]["output_shape"][-1] == 3  # 2.5 → 3 (halves up)
    assert r["b"]["output_shape"][-1] == 1  # 0.75 → 1
    assert r["d"]["output_shape"][-1] == 1  # follows its input
    assert r["fc"]["output_shape"] == [7]
    exact = rows(compare_json(tmp_path, spec, "--width-mult", "3/2"))
    assert exact["a"]["output_shape"][-1] == 15


def test_in_replaces_the_input(tmp_path) -> None:
    data = compare_json(tmp_path, "input: 32x32x3\nlayers: [{out: 4, kernel: 3}]", "--in", "16x16x3")
    assert data["input_shape"] == [16, 16, 3] and data["layers"][0]["output_shape"] == [14, 14, 4]


def test_table_shows_rows_totals_whatifs_and_breakdown() -> None:
    result = CliRunner().invoke(cli, ["compare", str(SPECS / "mobilenet_v1.yaml")])
    assert result.exit_code == 0
    out = result.stdout
    assert "568,740,352" in out and "4,210,088" in out
    assert "4,867,293,184" in out  # every conv regular: Conv MobileNet
    assert "pointwise 1×1 conv" in out and "94.9 %" in out
    assert "sep7_11.3.sep" in out
    assert "\x1b[" not in out


def test_golden_compare_table(golden, render_plain) -> None:
    from rich.console import Group

    from convcost.core.options import DEFAULT
    from convcost.io.spec_file import read
    from convcost.model.evaluate import evaluate
    from convcost.output.summary import network_summary
    from convcost.output.views import network_tables

    net = evaluate(read((SPECS / "seed_5x5_vs_3x3.yaml").read_bytes()))
    golden("compare_seed_5x5_vs_3x3", render_plain(Group(*network_tables(network_summary(net, None, DEFAULT), "seed_5x5_vs_3x3.yaml"))))


# ------------------------------------------------------------------ errors


def assert_errors(result, *needles: str) -> list[str]:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert all(line.startswith("Error: ") for line in lines), lines
    for needle in needles:
        assert any(needle in line for line in lines), (needle, lines)
    return lines


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (
            "layers: [{in: 8x8x4, out: 4, kernal: 3}]",
            ["layers[0].kernal: unknown key", "did you mean 'kernel'"],
        ),
        ("layers: [{in: 8x8x4, out: 4}]", ["layers[0]: a conv needs 'kernel'"]),
        ("layers: [{in: 8x8x4, out: 4, kernel: 3, type: seperable}]", ["did you mean 'separable'"]),
        ("layer: []", ["layer: unknown top-level key (did you mean 'layers'?)"]),
        (
            "input: 8x8x4\nlayers:\n  - {out: 4, kernel: 3}\n  - {out: 0, kernel: 3}\n",
            [":4: layers[1].out: 0"],
        ),
        (
            "input: 8x8x4\nlayers:\n  - {out: 4, kernel: 3}\n  - {out: 4, kernel: 0}\n",
            [":4: layers[1].kernel"],
        ),
        ("layers: [{out: 4, kernel: 3}]", ["layers[0]: has no input"]),
        ("input: 8\nlayers: [{out: 4, kernel: 3}]", ["input: 8 is not allowed"]),
        ("layers: [{in: 2x2x4, out: 4, kernel: 3}]", ["layers[0].kernel: the dilated kernel spans 3"]),
        ("layers: [{in: 8x8x4, out: 4, kernel: 3, groups: 3}]", ["layers[0].groups: 3 must divide"]),
        ("layers: [{in: 8x8x4, type: pool, mode: mean, kernel: 2}]", ["layers[0].mode: 'mean'", "max, avg"]),
        (
            "layers: [{in: 8x8x4, type: depthwise, kernel: 3, out: 5}]",
            ["layers[0].out: 5 is not input channels"],
        ),
        (
            "layers: [{in: 8x8x4, type: linear, out: 3}, {out: 3, kernel: 1}]",
            ["layers[1].in: a conv layer needs"],
        ),
        ("layers: [{in: 8x8x4, out: 4, kernel: 3, name: a.b}]", ["layers[0].name"]),
        (
            "layers: [{in: 8x8x4, out: 4, kernel: 3, name: a}, {in: 8x8x4, out: 4, kernel: 3, name: a}]",
            ["layers[1].name: 'a' is already used by layers[0]"],
        ),
        (
            "input: 8x8x4\nlayers:\n  - type: residual\n    body: [{out: 8, kernel: 3, padding: 1}]\n",
            ["layers[0]: residual 'residual1': body gives 8x8x8 but shortcut gives 8x8x4"],
        ),
        (
            "input: 8x8x4\nlayers:\n  - type: branches\n    branches: [[{out: 2, kernel: 1}], [{out: 2, kernel: 3}]]\n",
            ["concat needs the same spatial size"],
        ),
        (
            "input: 8x8x4\nlayers:\n  - type: residual\n    body:\n      - {out: 4, kernel: 3, padding: 1}\n"
            "      - {out: -4, kernel: 3, padding: 1}\n",
            [":6: layers[0].body[1].out: -4"],
        ),
        ("layers: {out: 4}", ["layers: {'out': 4} is not allowed; expected a list of layers"]),
        ("- 1\n- 2\n", ["the file is a list, not a mapping"]),
        ("layers: [{in: 8x8x4, out: 4, kernel: 3, kernel: 5}]", ["kernel: is given twice"]),
        ("layers: [{in: 8x8x4, out: 4, kernel: 3}", ["the file is not valid YAML"]),
        (
            "layers: [{in: 8x8x4, out: 4, kernel: !!python/object:os.system 3}]",
            ["the file is not valid YAML"],
        ),
    ],
)
def test_bad_specs_name_the_path(tmp_path, text, needles) -> None:
    assert_errors(compare(tmp_path, text), *needles)


def test_every_problem_gets_its_own_line(tmp_path) -> None:
    text = """
        layers:
          - {in: 8x8x4, out: 4, kernal: 3}
          - {in: 8x8x4, out: 4, kernel: 3, strid: 2}
          - {in: 8x8x4, out: 4}
        """
    lines = assert_errors(
        compare(tmp_path, text), "layers[0].kernal", "layers[1].strid", "layers[2]: a conv needs"
    )
    assert len(lines) == 4  # layers[0] also lacks its kernel


def test_value_errors_in_independent_layers_are_all_reported(tmp_path) -> None:
    text = "layers:\n  - {in: 8x8x4, out: 0, kernel: 3}\n  - {in: 8x8x4, out: 4, kernel: 9}\n"
    lines = assert_errors(compare(tmp_path, text), ":2: layers[0].out", ":3: layers[1].kernel")
    assert len(lines) == 2


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "the file is empty"),
        (b"   \n# only a comment\n", "the file is empty"),
        (b"\x00\x01\x02\xff" * 100, "the file is binary"),
        (b"\xff\xfe\xfa layers", "the file is not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nests deeper than"),
        (b"layers:\n" + b"".join(b" " * i + b"- \n" for i in range(0, 6000, 2)), "nests deeper than"),
        (b"layers: &a [{type: repeat, times: 2, layers: *a}]", "refers to itself"),
        (
            b"layers:\n  - {type: repeat, times: 1000000000, layers: [{in: 8x8x4, out: 4, kernel: 3}]}\n",
            "layers[0].times: 1000000000 copies of 1 layers would make",
        ),
    ],
)
def test_hostile_files_end_quickly_with_an_error(tmp_path, content, needle) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_bytes(content)
    with hang_guard():  # how quickly is test_hostile's, timed under pytest -m perf
        result = CliRunner().invoke(cli, ["compare", str(path), "--json"])
    assert_errors(result, needle)


def test_alias_bomb_is_refused_quickly(tmp_path) -> None:
    # 40 levels, each referring twice to the one before: 2**40 layers if expanded.
    text = "input: 8x8x4\nlayers:\n  - type: repeat\n    times: 1\n    layers: &a0 [{out: 4, kernel: 3, padding: 1}]\n"
    for i in range(1, 40):
        text += (
            f"  - {{type: repeat, times: 1, layers: &a{i} [{{type: repeat, times: 1, layers: *a{i - 1}}}, "
        )
        text += f"{{type: repeat, times: 1, layers: *a{i - 1}}}]}}\n"
    with hang_guard():
        result = compare(tmp_path, text, "--json")
    assert_errors(result, "expands to more than")


def test_missing_file_and_bad_flags(tmp_path) -> None:
    assert_errors(CliRunner().invoke(cli, ["compare", str(tmp_path / "nope.yaml")]), "SPEC: cannot read")
    spec = str(SPECS / "mobilenet_v1.yaml")
    assert_errors(CliRunner().invoke(cli, ["compare", spec, "--width-mult", "0"]), "--width-mult: '0'")
    assert_errors(CliRunner().invoke(cli, ["compare", spec, "--width-mult", "half"]), "--width-mult: 'half'")
    assert_errors(CliRunner().invoke(cli, ["compare", spec, "--in", "160x0x3"]), "--in: '160x0x3'")
    assert_errors(CliRunner().invoke(cli, ["compare", spec, "--as", "dense"]), "--as")


def test_width_mult_that_breaks_groups_names_the_layer(tmp_path) -> None:
    result = compare(tmp_path, "layers: [{in: 8x8x8, out: 8, kernel: 3, groups: 8}]", "--width-mult", "0.5")
    assert_errors(result, "layers[0].groups: 8 must divide")


def test_compare_json_never_imports_rich() -> None:
    code = (
        "import sys\nfrom convcost.cli import cli\n"
        f"try:\n    cli.main(['compare', {str(SPECS / 'resnet18.yaml')!r}, '--json'])\n"
        "except SystemExit:\n    pass\n"
        "print('rich' in sys.modules, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stderr.strip() == "False"


def test_cycle_collection_is_paused_only_while_costing() -> None:
    import gc

    assert gc.isenabled()
    CliRunner().invoke(cli, ["compare", str(SPECS / "resnet18.yaml"), "--json"])
    CliRunner().invoke(cli, ["compare", str(SPECS / "nope.yaml")])  # an error path too
    assert gc.isenabled()


# ------------------------------------------------------------------ ONNX models on the command line

FIXTURES = Path(__file__).parent / "fixtures" / "onnx"


def onnx_json(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["compare", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_an_onnx_models_own_batch_is_the_batch(onnx) -> None:
    data = onnx_json(str(FIXTURES / "batch2.ts.onnx"))
    assert data["batch"] == 2 and data["totals"]["macs"] == 64_832  # FlopCounterMode / 2 at batch 2
    again = onnx_json(str(FIXTURES / "batch2.ts.onnx"), "--batch", "3")
    assert again["batch"] == 3 and again["totals"]["macs"] == 64_832 // 2 * 3


def test_in_reinfers_every_shape_of_an_onnx_model(onnx) -> None:
    data = onnx_json(str(FIXTURES / "batch2.ts.onnx"), "--in", "32x32x3")
    assert data["input_shape"] == [32, 32, 3] and data["options"]["in"] == [32, 32, 3]
    # the same network as the 'dynamic' fixture, whose FlopCounterMode truth at 1×3×32×32 is 129,184
    assert data["batch"] == 2 and data["totals"]["macs"] == 2 * 129_184


def test_symbolic_dims_are_listed_in_one_message_naming_the_flags(onnx) -> None:
    model = str(FIXTURES / "dynamic.dynamo.onnx")
    result = CliRunner().invoke(cli, ["compare", model])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.endswith(
        "in: the model's input 'input' has symbolic dims: batch (axis 0, the batch: taken as 1), "
        "height (axis 2), width (axis 3); give --in (its dims after the batch, channels last, "
        "e.g. 224x224x3) and --batch N for a batch other than 1\n"
    )
    assert len(result.stderr.splitlines()) == 1
    data = onnx_json(model, "--in", "32x32x3", "--batch", "1")
    assert data["totals"]["macs"] == 129_184 and data["unsupported"] == {}


def test_a_symbolic_batch_is_taken_as_1_with_a_note(onnx) -> None:
    model = str(FIXTURES / "dynamic.dynamo.onnx")
    data = onnx_json(model, "--in", "32x32x3")  # one run: only the spatial dims asked for
    assert data["batch"] == 1 and data["totals"]["macs"] == 129_184
    assert data["notes"][0] == (
        "the model's input 'input' has a symbolic batch (batch): it is costed as a batch of 1 "
        "(give --batch N for another)"
    )
    assert onnx_json(model, "--in", "32x32x3", "--batch", "3")["totals"]["macs"] == 3 * 129_184


def test_unsupported_ops_are_listed_in_the_json(onnx, tmp_path) -> None:
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    node = helper.make_node("Det", ["x"], ["y"], name="odd")
    model = helper.make_model(helper.make_graph([node], "g", [x], [y]), opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "odd.onnx"
    path.write_bytes(model.SerializeToString())
    data = onnx_json(str(path))
    assert data["unsupported"] == {"Det": 1} and any("Det" in note for note in data["notes"])


def test_a_shipped_spec_by_name_from_an_empty_directory(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    data = json.loads(CliRunner().invoke(cli, ["compare", "resnet50", "--json"]).stdout)
    assert data["totals"]["macs"] == 4_089_184_256
    (tmp_path / "resnet50").write_text("input: 8x8x4\nlayers: [{out: 4, kernel: 1}]\n")
    mine = json.loads(CliRunner().invoke(cli, ["compare", "resnet50", "--json"]).stdout)
    assert mine["totals"]["macs"] == 8 * 8 * 4 * 4  # a file of that name wins over the shipped spec


def test_a_spec_name_the_file_system_refuses_is_one_line() -> None:
    result = CliRunner().invoke(cli, ["compare", "1" * 5000])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: SPEC: cannot read '111") and "File name too long" in result.stderr


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["compare", "\x00"], "SPEC"),
        (["import", "x\x00.onnx"], "MODEL.onnx"),
        (["layer", "--in", "28x28x8", "--out", "16", "-k", "3", "-o", "a\x00b"], "-o/--output"),
    ],
)
def test_a_nul_byte_in_a_file_name_is_one_line(args, option) -> None:
    """Only the API can pass one (no shell can); it is refused like any bad value."""
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"Error: {option}: ") and "holds a NUL byte" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_the_title_counts_one_layer_and_one_row_in_the_singular(tmp_path: Path) -> None:
    spec = tmp_path / "one.yaml"
    spec.write_text("layers:\n  - {name: seed, in: 28x28x8, out: 16, kernel: 3}\n")
    result = CliRunner().invoke(cli, ["compare", str(spec), "--depth", "1"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith(f"{spec}: 1 layer, 1 row at depth 1")
    two = CliRunner().invoke(cli, ["compare", "seed_layer"])
    assert two.stdout.splitlines()[0].startswith("seed_layer: 2 layers")
