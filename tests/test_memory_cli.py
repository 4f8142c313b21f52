"""Peak memory through the public call and compare's flags (issue 22): the JSON object, the same
figures in every format, the fail switch, the errors."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

import convcost
from convcost.cli import cli
from convcost.output.json_schema import output_schema

VALIDATOR = jsonschema.Draft202012Validator(output_schema())
MCU = [
    "--dtype",
    "int8",
    "--inplace-depthwise",
    "--sram",
    "stm32f746",
    "--flash",
    "stm32f746",
    "--patches",
    "4x4",
]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def as_json(*args: str) -> dict[str, Any]:
    result = invoke("compare", *args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_the_public_call_gives_the_issue_figures_and_the_cli_json() -> None:
    found = convcost.cost("mobilenet_v2", dtype="int8", inplace_depthwise=True, memory=True).to_dict()
    assert (found["memory"]["peak_bytes"], found["memory"]["peak_at"]) == (1_404_928, "b2.expand")
    assert found == as_json("mobilenet_v2", "--dtype", "int8", "--inplace-depthwise", "--memory")
    plain = convcost.cost("mobilenet_v2", dtype="int8", memory=True).to_dict()["memory"]
    assert (plain["peak_bytes"], plain["peak_at"]) == (1_505_280, "b2.dw")


def test_any_memory_option_asks_for_it_and_none_leaves_the_result_as_before() -> None:
    assert convcost.cost("mobilenet_v2").peak_memory is None
    assert convcost.cost("mobilenet_v2", patches="2x2").peak_memory is not None
    data = as_json("mobilenet_v2")
    assert "memory" not in data and "peak_memory" not in data["conventions"]


def test_memory_in_the_json_follows_the_schema() -> None:
    data = as_json("mobilenet_v2", *MCU)
    VALIDATOR.validate(data)
    memory = data["memory"]
    assert [step["name"] for step in memory["steps"]] == [row["name"] for row in data["layers"]]
    assert max(step["live_bytes"] for step in memory["steps"]) == memory["peak_bytes"]
    assert memory["best_order"]["optimal"] and memory["patches"]["peak_bytes"] == 312_816
    assert memory["boards"] == ["stm32f746"] and memory["sram_bytes"] == 320 * 1024
    assert "peak_memory" in data["conventions"]


def _table_of(text: str, title: str) -> list[list[str]]:
    """The body rows of the table under ``title`` in a terminal table's text (cells split on 2+ spaces)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows = []
    for line in lines[start + 4 :]:
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def _int(cell: str) -> int:
    return int(cell.replace(",", ""))


def test_every_format_tells_the_same_figures_as_the_json() -> None:
    data = as_json("mobilenet_v2", *MCU)
    memory = data["memory"]
    live = [step["live_bytes"] for step in memory["steps"]]
    # CSV and Markdown: each layer's live bytes, the JSON's steps
    rows = list(
        csv.DictReader(io.StringIO(invoke("compare", "mobilenet_v2", *MCU, "--format", "csv").stdout))
    )
    assert [int(row["live_bytes"]) for row in rows] == live
    markdown = invoke("compare", "mobilenet_v2", *MCU, "--format", "markdown").stdout.splitlines()
    header = [cell.strip() for cell in markdown[0].strip("|").split("|")]
    column = header.index("live_bytes")
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in markdown[2:]]
    assert [_int(row[column]) for row in cells] == live
    # The table: every live cell, the peaks and every fit check
    table = invoke("compare", "mobilenet_v2", *MCU, "--wide").stdout
    layers = _table_of(table, "mobilenet_v2")
    assert [_int(row[-1]) for row in layers[: len(live)]] == live
    peaks = _table_of(table, "Peak activation memory (int8, in-place depthwise)")
    best, patches = memory["best_order"], memory["patches"]
    assert peaks == [
        ["graph order", f"{memory['peak_bytes']:,}", memory["peak_at"], "0", "—"],
        [
            "best order",
            f"{best['peak_bytes']:,}",
            best["peak_at"],
            f"{memory['peak_bytes'] - best['peak_bytes']:,}",
            "—",
        ],
        [
            "patches 4x4",
            f"{patches['peak_bytes']:,}",
            patches["peak_at"],
            f"{memory['peak_bytes'] - patches['peak_bytes']:,}",
            f"{patches['extra_macs']:,}",
        ],
    ]
    fits = _table_of(table, "Will it fit?")
    assert len(fits) == len(memory["fits"])
    for row, fit in zip(fits, memory["fits"], strict=True):
        assert [_int(cell) for cell in row[2:5]] == [
            fit["need_bytes"],
            fit["capacity_bytes"],
            fit["margin_bytes"],
        ]
        assert row[5] == ("yes" if fit["fits"] else "no")
        assert (row[6:] == ["yes"]) == fit["decides"]


def test_the_html_page_shows_the_tables_and_charts_live_bytes() -> None:
    pytest.importorskip("matplotlib")
    page = invoke("compare", "mobilenet_v2", *MCU, "--format", "html").stdout
    assert "<h2>Peak activation memory (int8, in-place depthwise)</h2>" in page
    assert "<h2>Will it fit? SRAM 327,680 B (stm32f746), flash 1,048,576 B (stm32f746)</h2>" in page
    assert '<div class="chart" id="chart-memory"><svg' in page
    plain = invoke("compare", "mobilenet_v2", "--format", "html").stdout
    assert "chart-memory" not in plain and "Peak activation memory" not in plain


def test_a_misfit_alone_never_fails_the_run() -> None:
    result = invoke("compare", "mobilenet_v2", "--dtype", "int8", "--sram", "nrf52840", "--flash", "8MB")
    assert result.exit_code == 0
    fits = _table_of(result.stdout, "Will it fit? SRAM 262,144 B (nrf52840), flash 8,000,000 B")
    assert fits[0][:6] == ["peak, graph order", "SRAM", "1,505,280", "262,144", "-1,243,136", "no"]
    assert fits[-1][:6] == ["weights", "flash", "3,470,760", "8,000,000", "4,529,240", "yes"]


def test_fail_over_exits_1_on_a_misfit_after_writing_the_report_in_full(tmp_path: Path) -> None:
    args = ["compare", "mobilenet_v2", "--dtype", "int8", "--inplace-depthwise", "--fail-over"]
    over = invoke(*args, "--json", "--sram", "320KiB")
    assert over.exit_code == 1
    data = json.loads(over.stdout)  # the whole report, then the verdict
    VALIDATOR.validate(data)
    assert data["memory"]["fits"][0]["fits"] is False
    assert over.stderr == (
        "Does not fit: sram: the peak activation memory in graph order needs 1,404,928 B, "
        "1,077,248 B more than its 327,680 B\n"
    )
    # Written to a file, the file is whole too
    target = tmp_path / "report.csv"
    to_file = invoke(*args, "--sram", "320KiB", "--format", "csv", "-o", str(target))
    assert to_file.exit_code == 1 and to_file.stdout == ""
    assert target.read_text().count("\n") == len(data["layers"]) + 1
    # Patch by patch it fits 320 KiB: the patch peak decides, not the graph order's
    assert invoke(*args, "--json", "--sram", "320KiB", "--patches", "4x4").exit_code == 0
    assert invoke(*args, "--json", "--flash", "2MiB").exit_code == 1
    assert invoke(*args, "--json", "--flash", "4MiB").exit_code == 0
    # The best order's peak is reported, never decides: 1,404,928 B fits 1,404,928 B exactly
    assert invoke(*args, "--json", "--sram", "1404928").exit_code == 0
    assert invoke(*args, "--json", "--sram", "1404927").exit_code == 1


def test_bad_values_are_one_line_errors() -> None:
    cases = (
        ("--sram", "lots"),
        ("--flash", "-1"),
        ("--patches", "4x4x4"),
        ("--sram", "0"),
        ("--flash", "1.5B"),
    )
    for flag, value in cases:
        result = invoke("compare", "mobilenet_v2", flag, value)
        assert result.exit_code == 2
        assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"Error: {flag}: ")
    alone = invoke("compare", "mobilenet_v2", "--fail-over")
    assert alone.exit_code == 2 and alone.stderr.startswith("Error: --fail-over: nothing to fail on")
    with pytest.raises(convcost.ConvCostError, match="inplace_depthwise"):
        convcost.cost("mobilenet_v2", inplace_depthwise="yes")


def test_the_readme_shows_real_output() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    command = "compare mobilenet_v2 " + " ".join(MCU)
    start = readme.index(f"$ convcost {command}\n…\n") + len(f"$ convcost {command}\n…\n")
    shown = readme[start : readme.index("```", start)]
    output = invoke(*command.split()).stdout
    tail = output[output.index("Peak activation memory") :]
    assert shown == tail[: tail.index("less B:")].rstrip() + "\n"


SHIPPED = sorted(path.stem for path in (Path(__file__).parents[1] / "convcost" / "specs").glob("*.yaml"))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_spec_has_one_step_per_row_in_every_format(name: str) -> None:
    result = convcost.cost(name, memory=True)
    found = result.peak_memory
    assert found is not None
    assert [step for step, _ in found.memory.steps] == [row.name for row in result.rows]
    steps = [live for _, live in found.memory.steps]
    assert max(steps) == found.memory.peak_bytes
    from convcost.output.emit import text

    rows = list(csv.DictReader(io.StringIO(text(result, "csv"))))
    assert [int(row["live_bytes"]) for row in rows] == steps
