"""The CLI's side of issue 20's habits: the layout warning on stderr, --channels-first, and the
nearest names for a missing spec."""

from __future__ import annotations

import json

from click.testing import CliRunner

from convcost.cli import cli

LAYER = ["layer", "--out", "64", "-k", "7", "--stride", "2", "--padding", "3"]


def test_a_channels_first_looking_input_warns_on_stderr_once_and_keeps_exit_0() -> None:
    result = CliRunner().invoke(cli, [*LAYER, "--in", "3x224x224", "--json"])
    assert result.exit_code == 0
    assert result.stderr == (
        "Warning: --in 3x224x224 is read channels-last: 3×224 positions of 224 channels; "
        "if it is PyTorch's C×H×W, give --in 224x224x3\n"
    )
    assert json.loads(result.stdout)["notes"][0] in result.stderr
    plain = CliRunner().invoke(cli, [*LAYER, "--in", "224x224x3", "--json"])
    assert plain.stderr == "" and json.loads(plain.stdout)["notes"] == []


def test_compare_warns_and_notes_a_channels_first_looking_input() -> None:
    result = CliRunner().invoke(cli, ["compare", "resnet50", "--in", "3x224x224", "--json"])
    assert result.exit_code == 0 and result.stderr.startswith("Warning: --in 3x224x224 is read")
    data = json.loads(result.stdout)
    assert data["totals"]["macs"] == 415_383_552 and "224x224x3" in data["notes"][0]


def test_channels_first_reads_pytorchs_order_and_its_batch() -> None:
    first = CliRunner().invoke(cli, [*LAYER, "--in", "3x224x224", "--channels-first", "--json"])
    last = CliRunner().invoke(cli, [*LAYER, "--in", "224x224x3", "--json"])
    assert first.exit_code == 0 and first.stderr == ""
    as_first, as_last = json.loads(first.stdout), json.loads(last.stdout)
    assert as_first.pop("channels_first") is True and as_last.pop("channels_first") is False
    assert as_first == as_last
    batched = CliRunner().invoke(cli, [*LAYER, "--in", "2x3x224x224", "--channels-first", "--json"])
    assert json.loads(batched.stdout)["batch"] == 2
    net = CliRunner().invoke(
        cli, ["compare", "resnet50", "--in", "1x3x224x224", "--channels-first", "--json"]
    )
    assert net.exit_code == 0 and json.loads(net.stdout)["totals"]["macs"] == 4_089_184_256
    clash = CliRunner().invoke(cli, [*LAYER, "--in", "2x3x224x224", "--channels-first", "--batch", "4"])
    assert clash.exit_code == 2 and "holds a batch of 2" in clash.stderr


def test_a_missing_spec_suggests_the_nearest_shipped_names() -> None:
    result = CliRunner().invoke(cli, ["compare", "mobilenet"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        "Error: SPEC: cannot read 'mobilenet': no such file or built-in spec; did you mean "
        "mobilenet_v1, mobilenet_v2, mobilenet_v3_large? (convcost models lists them)\n"
    )


def test_the_api_reads_channels_first_too() -> None:
    from convcost import api

    net = api.cost("resnet50", input_shape="2x3x224x224", channels_first=True)
    assert net.settings.batch == 2 and net.totals.macs == 2 * 4_089_184_256
    layer = api.cost_layer("3x32x32", 16, 3, channels_first=True)
    assert layer.layer.in_shape == (32, 32, 3) and layer.notes == ()


def test_schema_takes_output_as_a_file_and_its_old_flag_with_a_note(tmp_path) -> None:
    target = tmp_path / "s.json"
    written = CliRunner().invoke(cli, ["schema", "--output", str(target)])
    assert written.exit_code == 0 and written.stdout == "" and written.stderr == ""
    assert json.loads(target.read_text())["title"] == "convcost spec"
    old = CliRunner().invoke(cli, ["schema", "--output"])
    assert old.exit_code == 0 and json.loads(old.stdout)["title"] == "convcost --json output"
    assert old.stderr.startswith("Note: 'schema --output' is deprecated: say 'schema output'")
    both = CliRunner().invoke(cli, ["schema", "--output", "-o", str(target)])
    assert both.exit_code == 0 and json.loads(target.read_text())["title"] == "convcost --json output"


def test_layer_help_says_nothing_of_onnx() -> None:
    for command in ("layer", "sweep"):
        text = CliRunner().invoke(cli, [command, "--help"]).stdout
        assert "ONNX" not in text and "[default: 1]" in " ".join(text.split())
    assert "an ONNX model's own" in " ".join(CliRunner().invoke(cli, ["compare", "--help"]).stdout.split())
