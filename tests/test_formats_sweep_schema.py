"""Output formats, sweeps, the spec schema and shell completion."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcost.cli import cli
from convcost.io.spec_file import read

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# ------------------------------------------------------------------ formats


def test_layer_csv_one_row_per_variant_with_raw_integers() -> None:
    result = run("layer", "--in", "28x28x8", "--out", "16", "-k", "3", "--groups", "2", "--format", "csv")
    assert result.exit_code == 0
    rows = rows_of(result.stdout)
    assert [r["variant"] for r in rows] == ["regular", "grouped", "depthwise_separable"]
    assert rows[0]["macs"] == "778752" and rows[2]["macs"] == "135200" and rows[2]["ratio_exact"] == "25/144"
    assert rows[0]["output_shape"] == "26x26x16"


def test_compare_csv_one_row_per_layer_and_markdown_pastes() -> None:
    spec = str(SPECS / "mobilenet_v1.yaml")
    data = json.loads(run("compare", spec, "--json").stdout)
    rows = rows_of(run("compare", spec, "--format", "csv").stdout)
    assert [r["name"] for r in rows] == [layer["name"] for layer in data["layers"]]
    assert [r["module"] for r in rows] == [layer["module"] for layer in data["layers"]]
    assert sum(int(r["macs"]) for r in rows) == data["totals"]["macs"] == 568_740_352
    by_name = {r["name"]: r for r in rows}
    assert by_name["sep13"]["rf_size"] == "315x315" and by_name["fc"]["rf_size"] == ""
    md = run("compare", spec, "--format", "markdown").stdout.splitlines()
    assert md[0].startswith("| name | module | type |") and md[1].startswith("|---|---|")
    assert len(md) == 2 + len(rows) and all(line.count("|") == md[0].count("|") for line in md)
    assert "| 10,838,016 |" in md[2]


def test_csv_with_device_has_time_and_bound() -> None:
    rows = rows_of(
        run(
            "layer",
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
            "--format",
            "csv",
        ).stdout
    )
    assert {r["variant"]: r["bound"] for r in rows} == {"regular": "compute", "depthwise_separable": "memory"}
    assert float(rows[0]["time_s"]) > 0


def test_json_and_format_conflict_is_one_line() -> None:
    result = run("layer", "--in", "28x28x8", "--out", "16", "-k", "3", "--json", "--format", "csv")
    assert (
        result.exit_code == 2
        and result.stdout == ""
        and "--json: conflicts with --format csv" in result.stderr
    )


# ------------------------------------------------------------------ sweep


def test_sweep_shows_the_convergence_to_one_minus_one_over_dk2() -> None:
    data = json.loads(run("sweep", "--in", "28x28x8", "--out", "16..4096*2", "-k", "3", "--json").stdout)
    points = data["points"]
    assert [p["swept"]["out"] for p in points] == [16 * 2**i for i in range(9)]  # ints (format 2)
    assert data["swept"] == {"out": [p["swept"]["out"] for p in points]}
    reductions = [p["variants"]["depthwise_separable"]["reduction_pct"] for p in points]
    assert reductions == sorted(reductions) and reductions[0] == pytest.approx(100 * (1 - 25 / 144))
    assert 100 * (1 - 1 / 9) - reductions[-1] < 0.05  # approaches 88.9 %
    assert all(p["theory_ratio"] == p["variants"]["depthwise_separable"]["ratio"] for p in points)
    assert points[0]["macs"] == 778_752  # each point is shaped like `layer --json`
    table = run("sweep", "--in", "28x28x8", "--out", "16..4096*2", "-k", "3").stdout
    assert "┊ = the limit 1 − 1/D_K² = 88.9 %" in table and "█" in table and "4096" in table


def test_sweep_product_of_lists_and_ranges() -> None:
    rows = rows_of(
        run("sweep", "--in", "28x28x8,56x56x8", "--out", "16..32:8", "-k", "1,3", "--format", "csv").stdout
    )
    assert len(rows) == 2 * 3 * 2
    assert {r["out"] for r in rows} == {"16", "24", "32"} and {r["kernel"] for r in rows} == {"1", "3"}
    assert {r["in"] for r in rows} == {"28x28x8", "56x56x8"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--out", "32..16"], "--out: '32..16' is not allowed; a range goes from low to high"),
        (["--out", "16,,32"], "--out: '16,,32'"),
        (["--out", "1..100000000"], "at most 10,000"),
        (["--out", "16", "-k", "1..5"], "-k/--kernel: '1..5' is not allowed; ranges are for out and groups"),
        (["--out", "16..64*1"], "factor of at least 2"),
        (["--out", "1..200", "--groups", "1..200"], "at most 10,000 are allowed"),
        (["--out", "16", "--groups", "3"], "--groups: 3 must divide"),
    ],
)
def test_sweep_errors(args, needle) -> None:
    base = {"--in": "28x28x8", "-k": "3"}
    argv = ["sweep"]
    for key, value in base.items():
        if key not in args:
            argv += [key, value]
    result = run(*argv, *args)
    assert result.exit_code == 2 and result.stdout == "" and needle in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1


# ------------------------------------------------------------------ schema


@pytest.fixture(scope="module")
def validator():
    import jsonschema  # in the test extras

    schema = json.loads(run("schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("spec", sorted(p.name for p in SPECS.glob("*.yaml")))
def test_every_example_spec_validates(validator, spec) -> None:
    assert list(validator.iter_errors(read((SPECS / spec).read_bytes()))) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"layers": [{"in": "8x8x4", "out": 4, "kernal": 3}]},  # unknown key
        {"layers": [{"in": "8x8x4", "out": 4}]},  # missing kernel
        {"layers": [{"type": "seperable", "out": 4, "kernel": 3}]},
        {"layers": [{"in": "8x8x4", "out": 4, "kernel": 3, "padding": "full"}]},
        {"layers": [{"in": "8x8x4", "out": 4, "kernel": "3x"}]},
        {"layers": [{"type": "pool", "mode": "mean", "kernel": 2}]},
        {"layers": [{"type": "repeat", "times": 2}]},
        {"layers": [{"type": "residual", "body": [{"out": 4, "kernel": 3, "strid": 2}]}]},
        {"input": "224", "layers": []},
        {"layers": [], "extra": 1},
    ],
)
def test_schema_rejects_what_convcost_rejects(validator, bad) -> None:
    assert list(validator.iter_errors(bad))
    result = CliRunner().invoke(cli, ["compare", "-"], input=json.dumps(bad))
    assert result.exit_code == 2


def test_shipped_schema_file_is_the_generated_one() -> None:
    assert json.loads((SPECS / "convcost.schema.json").read_text()) == json.loads(run("schema").stdout)
    for spec in SPECS.glob("*.yaml"):
        assert spec.read_text().startswith("# yaml-language-server: $schema=./convcost.schema.json\n")


def test_schema_knows_every_layer_type_from_the_one_table() -> None:
    from convcost.model.kinds import KINDS

    schema = json.loads(run("schema").stdout)
    titles = [entry["title"] for entry in schema["$defs"]["entry"]["oneOf"]]
    assert titles == [*KINDS, "activation by name"]  # type: relu, and the other activations' names


# ------------------------------------------------------------------ completion


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("convcost la", "1", "plain,layer"),
        ("convcost layer --device h", "3", "plain,h100"),
        ("convcost layer --dtype b", "3", "plain,bf16"),
    ],
)
def test_shell_completion(words, cword, expected) -> None:
    env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": cword, "_CONVCOST_COMPLETE": "bash_complete"}
    proc = subprocess.run([sys.executable, "-m", "convcost"], env=env, capture_output=True, text=True)
    assert expected in proc.stdout.splitlines()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell) -> None:
    env = {**os.environ, "_CONVCOST_COMPLETE": f"{shell}_source"}
    proc = subprocess.run([sys.executable, "-m", "convcost"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and "_CONVCOST_COMPLETE" in proc.stdout
