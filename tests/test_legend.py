"""A legend explains a column only when the table shows it: at a width where RF and FLOP/B are
left out to fit, nothing is said of them; where they are shown, they are explained."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from convcost.cli import cli
from convcost.output.text_table import Column, Legend, Table, render

RF = "RF: receptive field per spatial dim"
FLOP_B = "FLOP/B: arithmetic intensity of minimum traffic"


def compare_at(width: int | None, *args: str) -> str:
    env = {"COLUMNS": str(width) if width else ""}
    result = CliRunner().invoke(cli, ["compare", "resnet18", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def header(text: str) -> list[str]:
    return next(line for line in text.splitlines() if line.split()[:1] == ["layer"]).split()


@pytest.mark.parametrize("args", [[], ["--device", "a100"]])
def test_columns_left_out_to_fit_are_not_explained(args) -> None:
    text = compare_at(80, *args)
    assert "RF" not in header(text) and "FLOP/B" not in header(text)
    assert "Left out to fit 80 columns" in text and "RF, FLOP/B" in text
    assert "receptive field" not in text and "arithmetic intensity" not in text


@pytest.mark.parametrize("width", [None, 200])
def test_columns_shown_are_explained(width) -> None:
    text = compare_at(width)
    assert {"RF", "FLOP/B"} <= set(header(text))
    assert f"{RF}; {FLOP_B}." in text


def test_the_page_shows_every_column_and_explains_every_one() -> None:
    page = CliRunner().invoke(cli, ["compare", "resnet18", "--format", "html"]).stdout
    assert "<th class=num>RF</th>" in page and f"{RF}; {FLOP_B}." in page


def test_a_legend_says_only_what_the_width_shows() -> None:
    table = Table(
        [
            Column("name", ["a-long-layer-name", "b"]),
            Column("wide", ["x" * 30, "y"], drop=2),
            Column("FLOP/B", ["12.5", "3.0"], "right", drop=1),
        ]
    )
    legend = Legend("", "", table, (("wide", "a wide column"), ("FLOP/B", "intensity"), ("gone", "never")))
    assert legend.text == "wide: a wide column; FLOP/B: intensity."
    assert render([legend], None) == "wide: a wide column; FLOP/B: intensity.\n"
    assert render([legend], 30) == "FLOP/B: intensity.\n"  # 'wide' gave way to fit 30 columns
    # Too narrow even then: rows become blocks of label/value lines, every column shown.
    assert "  wide\n" in render([table], 8) and render([legend], 8).split() == legend.text.split()


def test_live_bytes_are_explained_only_when_shown_and_as_a_roll_up_takes_them() -> None:
    """``compare --memory`` adds ``live B``, the first column to give way: at 80 columns it is
    left out, and nothing may explain it; rolled up, a row's figure is the most of its steps'."""
    narrow = compare_at(80, "--memory")
    assert "live B" not in " ".join(header(narrow)) and "live bytes" in narrow  # named as left out
    assert "live during" not in narrow and "Live B" not in narrow
    assert "less B: below the graph order's peak" in narrow  # the peaks table's column still is
    flat = compare_at(None, "--memory")
    assert "live B: activation bytes live during the layer's step, graph order." in flat
    rolled = compare_at(None, "--memory", "--depth", "1")
    assert "live B: the most activation bytes live at any of the row's steps, graph order." in rolled


def test_in_out_says_it_sums_a_rows_layers_only_of_a_roll_up() -> None:
    flat, rolled = compare_at(200, "--wide"), compare_at(200, "--depth", "1")
    assert "in + out: activation bytes read and written; " in flat and "a row's layers summed" not in flat
    assert "in + out: activation bytes read and written (a row's layers summed); " in rolled
