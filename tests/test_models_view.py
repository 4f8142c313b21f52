"""``convcost models`` on a narrow terminal: titles give way first, then co-authors, and the
short input column stays; nothing is cut to a word or two."""

from __future__ import annotations

import re

from click.testing import CliRunner

from convcost.cli import cli
from convcost.io.builtin_specs import names


def rows_at(width: int) -> tuple[list[str], dict[str, list[str]], str]:
    result = CliRunner().invoke(cli, ["models"], env={"COLUMNS": str(width)})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.split()[:1] == ["name"])
    shipped = set(names())
    cells = [re.split(r"\s{2,}", line.strip()) for line in lines]
    rows = {row[0]: row for row in cells if row[0] in shipped}
    return re.split(r"\s{2,}", header.strip()), rows, result.stdout


def test_at_80_columns_the_input_stays_and_a_paper_is_its_first_author_and_year() -> None:
    header, rows, text = rows_at(80)
    assert header == ["name", "paper", "input", "MACs", "params"]
    assert rows["resnet50"] == ["resnet50", "He 2016", "224×224×3", "4,089,184,256", "25,557,032"]
    assert rows["vgg16"][1:3] == ["Simonyan 2015", "224×224×3"]
    assert rows["seed_layer"][1:3] == ["—", "28×28×8"]
    assert "…" not in text and "Left out to fit 80 columns: title, co-authors." in text


def test_at_100_columns_the_whole_citation_and_at_120_the_titles_cut_at_a_word() -> None:
    header, rows, _ = rows_at(100)
    assert header == ["name", "paper", "input", "MACs", "params"]
    assert rows["vgg16"][1] == "Simonyan & Zisserman 2015"
    header, rows, _ = rows_at(120)
    assert header == ["name", "paper", "title", "input", "MACs", "params"]
    assert rows["mobilenet_v1"][1:3] == ["Howard et al. 2017", "MobileNets"]
    assert rows["resnet18"][2] == "Deep Residual Learning for…"
    assert rows["seed_layer"][1] == "—" and rows["seed_layer"][2].startswith("The seed example")


def test_csv_and_json_keep_the_paper_whole() -> None:
    csv_text = CliRunner().invoke(cli, ["models", "--format", "csv"]).stdout
    assert 'He et al. 2016, ""Deep Residual Learning for Image Recognition""' in csv_text
