"""Names are data in every format: Markdown escapes what would be markup, CSV guards formulas."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from convcost.cli import cli

NAME = "<img src=x onerror=alert(1)> & `code` | a\\|b [x](javascript:y)"
SPEC = json.dumps({"input": "8x8x3", "layers": [{"name": NAME, "out": 4, "kernel": 3}]})


def compare(fmt: str) -> str:
    result = CliRunner().invoke(cli, ["compare", "-", "--format", fmt], input=SPEC)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_markdown_escapes_html_ampersands_pipes_backticks_and_links_in_names() -> None:
    row = compare("markdown").splitlines()[2]
    assert row.startswith(
        "| &lt;img src=x onerror=alert(1)&gt; &amp; \\`code\\` \\| a\\\\\\|b [x]\\(javascript:y) | "
    )
    assert "<" not in row and "`code`" not in row and "](" not in row


def test_csv_keeps_the_name_as_written_and_its_formula_guard() -> None:
    rows = list(csv.DictReader(io.StringIO(compare("csv"))))
    assert rows[0]["name"] == NAME
    guarded = SPEC.replace("<img", "=HYPERLINK(1)<img")
    result = CliRunner().invoke(cli, ["compare", "-", "--format", "csv"], input=guarded)
    assert next(csv.DictReader(io.StringIO(result.stdout)))["name"].startswith("'=HYPERLINK(1)")
