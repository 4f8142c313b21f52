"""``--format tsv``: the CSV table, tab-separated, cell for cell, for every command."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from convcost.cli import cli

COMMANDS = [
    ["compare", "resnet18"],
    ["compare", "seed_5x5_vs_3x3", "--device", "a100"],
    ["layer", "--in", "28x28x8", "--out", "16", "-k", "3"],
    ["sweep", "--in", "28x28x64", "--out", "64", "-k", "3", "--groups", "1..64*2"],
    ["devices"],
    ["models"],
    ["schema", "output"],
]


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_tsv_is_the_csv_table_with_tabs(command: list[str]) -> None:
    rows = list(csv.reader(io.StringIO(run(*command, "--format", "csv"))))
    lines = run(*command, "--format", "tsv").splitlines()
    assert [line.split("\t") for line in lines] == rows


def test_a_tab_or_newline_in_a_name_never_breaks_the_columns(tmp_path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text('layers: [{name: "a\\tb\\nc", in: 8x8x3, out: 4, kernel: 3}]\n')
    lines = run("compare", str(spec), "--format", "tsv").splitlines()
    assert len(lines) == 2 and lines[1].split("\t")[0] == "a\\tb\\nc"
    assert len(lines[1].split("\t")) == len(lines[0].split("\t"))


def test_tsv_is_offered_by_format() -> None:
    assert "tsv" in run("layer", "--help")
