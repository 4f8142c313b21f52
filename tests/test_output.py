"""The output layer: one summary, every format rendered from it, JSON format 2 checked against its schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import jsonschema
import pytest
from click.testing import CliRunner

from convcost.cli import cli
from convcost.core.devices import Device
from convcost.core.dtypes import DType
from convcost.core.options import Convention
from convcost.output.json_report import _join
from convcost.output.json_schema import output_schema

SPECS = Path(__file__).parent.parent / "specs"
SHIPPED = sorted(p.name for p in SPECS.glob("*.yaml"))
VALIDATOR = jsonschema.Draft202012Validator(output_schema())


def run(*args: str, input: str | None = None):
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result


def valid(text: str) -> dict:
    data = json.loads(text)
    VALIDATOR.validate(data)
    assert data["format_version"] == 2
    return data


def test_the_output_schema_is_itself_valid_and_printed_by_the_cli() -> None:
    jsonschema.Draft202012Validator.check_schema(output_schema())
    assert json.loads(run("schema", "--output").stdout) == output_schema()


@pytest.mark.parametrize(
    "args",
    [
        ["--in", "28x28x8", "--out", "16", "-k", "3"],
        ["--in", "28x28x8", "--out", "16", "-k", "3", "--groups", "4", "--bias", "--padding", "same"],
        [
            "--in",
            "56x56x64",
            "--out",
            "64",
            "-k",
            "3",
            "--padding",
            "1",
            "--dtype",
            "fp16",
            "--device",
            "a100",
        ],
        ["--in", "7x7x16", "--out", "8", "-k", "3", "--stride", "2", "--transposed", "--output-padding", "1"],
        ["--in", "300x16", "--out", "32", "-k", "5", "--count", "ops", "--batch", "3", "--fused"],
        ["--in", "28x28x8", "--out", "16", "-k", "3", "--peak-tflops", "1", "--bandwidth-gbs", "10"],
    ],
)
def test_layer_json_follows_the_schema(args) -> None:
    valid(run("layer", *args, "--json").stdout)


@pytest.mark.parametrize("spec", SHIPPED)
def test_compare_json_follows_the_schema_for_every_shipped_spec(spec) -> None:
    data = valid(run("compare", str(SPECS / spec), "--json").stdout)
    assert data["totals"]["macs"] == sum(row["macs"] for row in data["layers"])
    assert data["totals"]["params"] == sum(row["params"] for row in data["layers"])
    assert data["totals"]["macs"] == sum(kind["macs"] for kind in data["breakdown"].values())


def test_compare_json_with_a_device_and_what_ifs_follows_the_schema() -> None:
    data = valid(
        run(
            "compare", str(SPECS / "mobilenet_v1.yaml"), "--json", "--device", "h100", "--dtype", "fp16",
            "--width-mult", "0.75", "--as", "regular", "--in", "160x160x3",
        ).stdout
    )  # fmt: skip
    assert data["options"] == {
        "as": "regular", "width_mult": "3/4", "in": [160, 160, 3], "depth": None, "hide_zero": False
    }  # fmt: skip
    assert data["totals"]["time_s"] > 0 and data["device"]["peak_flops"]["fp16"] == 989.4e12


def test_compare_json_rolled_up_follows_the_schema() -> None:
    data = valid(
        run("compare", "resnet50", "--json", "--device", "h100", "--depth", "2", "--hide-zero").stdout
    )
    assert data["options"]["depth"] == 2 and data["options"]["hide_zero"] is True
    block = data["layers"][2]
    assert block["module"] == "layer1.0" and block["forms"]["as_written"]["macs"] == block["macs"]
    assert block["time_s"] > 0 and block["bound"] in ("compute", "memory")


def test_sweep_and_devices_json_follow_the_schema() -> None:
    data = valid(run("sweep", "--in", "28x28x8", "--out", "16,32", "-k", "1,3", "--json").stdout)
    assert data["swept"] == {"out": [16, 16, 32, 32], "kernel": [1, 3, 1, 3]}
    assert all("dtype" not in point and "device" not in point for point in data["points"])
    devices = valid(run("devices", "--json").stdout)
    assert devices["devices"]["h100"]["peak_flops"]["int8"] == 1978.9e12


@pytest.mark.parametrize("spec", SHIPPED)
def test_the_table_shows_the_numbers_of_the_json(spec) -> None:
    """Both render the one summary: every row's MACs and params, and the totals, appear in the table."""
    data = json.loads(run("compare", str(SPECS / spec), "--json").stdout)
    table = run("compare", str(SPECS / spec)).stdout
    lines = {line.split()[0]: line for line in table.splitlines() if line.strip()}
    for row in data["layers"]:
        line = lines[row["name"]]
        assert f"{row['macs']:,}" in line and f"{row['params']:,}" in line, line
    total = lines["total"]
    assert f"{data['totals']['macs']:,}" in total and f"{data['totals']['params']:,}" in total


def test_csv_and_markdown_say_what_the_json_says() -> None:
    spec = str(SPECS / "resnet18.yaml")
    data = json.loads(run("compare", spec, "--json").stdout)
    csv_rows = run("compare", spec, "--format", "csv").stdout.splitlines()[1:]
    assert [int(line.split(",")[6]) for line in csv_rows] == [row["macs"] for row in data["layers"]]
    markdown = run("compare", spec, "--format", "markdown").stdout
    assert f"| {data['layers'][0]['macs']:,} |" in markdown


def test_no_json_key_is_ever_written_twice() -> None:
    assert _join({"a": 1}, {"b": 2}) == {"a": 1, "b": 2}
    with pytest.raises(AssertionError, match="'a' would be written twice"):
        _join({"a": 1}, {"a": 2})


def test_devices_table_fills_columns_by_dtype_not_by_dict_order(monkeypatch) -> None:
    from convcost.core import devices

    backwards = Device(
        "back",
        "Backwards",
        {DType.INT8: 8e12, DType.BF16: 4e12, DType.FP16: 2e12, DType.FP32: 1e12},
        1e9,
        "t",
    )
    monkeypatch.setitem(devices.DEVICES, "back", backwards)
    line = next(line for line in run("devices").stdout.splitlines() if line.split()[:1] == ["back"])
    assert line.split()[2:7] == ["1", "2", "4", "8", "1"]
    rows = run("devices", "--format", "csv").stdout.splitlines()
    assert rows[0].startswith("name,title,peak_flops_fp32,peak_flops_fp16,peak_flops_bf16,peak_flops_int8")
    assert any(row.startswith("back,Backwards,1000000000000.0,2000000000000.0,") for row in rows)


def test_the_settings_echo_and_its_schema_are_made_from_settings() -> None:
    """A new Settings field of a known type needs no edit to the JSON report or its schema."""
    from convcost.core.options import DEFAULT, Settings
    from convcost.output.json_report import head_dict, settings_dict
    from convcost.output.json_schema import output_schema, settings_properties

    assert list(settings_dict(More()))[-2:] == ["sparse", "passes"]
    assert settings_dict(More())["sparse"] is True and settings_dict(More())["passes"] == 3
    assert settings_properties(More)["sparse"] == {"type": "boolean"}
    assert settings_properties(More)["passes"] == {"type": "integer", "minimum": 1}
    head = head_dict(DEFAULT)
    assert list(head)[3:] == list(Settings._fields)
    layer = output_schema()["oneOf"][0]
    assert all(field in layer["properties"] and field in layer["required"] for field in Settings._fields)


class More(NamedTuple):
    """Settings with two more fields (at module level: the schema reads its annotations)."""

    convention: Convention = Convention()
    dtype: DType = DType.FP32
    batch: int = 1
    fused: bool = False
    device: Device | None = None
    sparse: bool = True
    passes: int = 3


@pytest.mark.parametrize(
    ("value", "shown"),
    [(999, "999 B"), (999_499, "999 kB"), (999_500, "1 MB"), (999_999, "1 MB"), (1_234_567, "1.23 MB")],
)
def test_a_size_rounds_into_the_next_unit_and_never_reads_in_exponent_form(value, shown) -> None:
    """3 significant digits: 999,999 B is ``1 MB``, not ``1e+03 kB`` (a number that reads cut)."""
    from convcost.output.views import bytes_text

    assert bytes_text(value) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (999.7e-9, "1 µs"),
        (999.4e-9, "999 ns"),
        (0.99996e-3, "1 ms"),
        (999.7e-6, "1 ms"),
        (2.5e-10, "0.25 ns"),
    ],
)
def test_a_time_rounds_into_the_next_unit_and_never_reads_in_exponent_form(seconds, shown) -> None:
    from convcost.output.views import time_text

    assert time_text(seconds) == shown
