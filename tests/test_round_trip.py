"""One truth per command: every format parsed back gives the numbers ``--json`` gives.

Each text format (CSV, TSV, Markdown, and the sweep's and layer's terminal tables) is read back
cell by cell and compared with the JSON document of the same run, for sweeps over every swept
field (groups included), a layer in each of its forms, and ``compare`` of every shipped spec.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from click.testing import CliRunner

from convcost.cli import cli
from convcost.io.builtin_specs import names

FLAT = ("csv", "tsv", "markdown")


def run(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.stdout


def flat_rows(text: str, fmt: str) -> list[dict[str, str]]:
    """The rows of a CSV, TSV or Markdown table, each cell as written."""
    if fmt == "markdown":
        lines = [line for line in text.splitlines() if line.startswith("|")]
        cells = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]
        header, body = cells[0], cells[2:]
        return [dict(zip(header, row, strict=True)) for row in body]
    reader = csv.reader(io.StringIO(text), delimiter="\t" if fmt == "tsv" else ",")
    header, *body = [row for row in reader if row]
    return [dict(zip(header, row, strict=True)) for row in body]


def text_rows(text: str, first: str) -> list[dict[str, str]]:
    """The rows of the terminal table whose header starts with ``first``: each cell is the text
    (words one space apart) that overlaps its header's span, as columns align left or right."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [first])
    spans = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+(?: \S+)*", lines[start])]
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        if line.strip().startswith(("├", "└")):
            continue
        row = {}
        for m in re.finditer(r"\S+(?: \S+)*", line):
            for name, left, right in spans:
                if m.start() < right and left < m.end():
                    row[name] = m.group()
        rows.append(row)
    return rows


def number(cell: str) -> int | float | str:
    """A cell's value as written in any format: 1,234 and 1234 alike, 26×26×64 as 26x26x64."""
    text = cell.lstrip("'").replace(",", "").replace("×", "x").removesuffix(" %").strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def same(cell: str, value: Any, what: str) -> None:
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        expected: Any = "x".join(map(str, value))
        if number(cell) == value[0] and len(set(value)) == 1:  # one value for every dim: "3" is 3x3
            return
    else:
        expected = value
    got = number(cell)
    if isinstance(expected, float) and not isinstance(expected, bool):
        assert got == pytest.approx(expected, rel=1e-3, abs=1e-4), what
    else:
        assert got == expected, what


SWEEPS = [
    ["--in", "28x28x64", "--out", "64", "-k", "3", "--groups", "1..64*2"],
    ["--in", "28x28x64", "--out", "64", "-k", "3", "--groups", "1,2,4", "--count", "flops"],
    ["--in", "28x28x8,56x56x8", "--out", "16", "-k", "3"],
    ["--in", "28x28x8", "--out", "16..128*2", "-k", "3"],
    ["--in", "28x28x8", "--out", "16", "-k", "1,3,5"],
    ["--in", "28x28x8", "--out", "16", "-k", "3", "--stride", "1,2"],
    ["--in", "28x28x8", "--out", "16", "-k", "3", "--dilation", "1,2", "--bias", "--count", "ops"],
    ["--in", "28x28x8", "--out", "16", "-k", "3", "--groups", "1,2", "--transposed", "--stride", "1,2"],
    ["--in", "28x28x64", "--out", "64", "-k", "3", "--groups", "1,2,64", "--device", "a100"],
    ["--in", "56x56x64", "--out", "64..256*2", "-k", "3", "--device", "h100", "--dtype", "fp16"],
]

#: A sweep's flat column → where its value sits in a JSON point.
SWEEP_FIELDS = {
    "output_shape": ("output_shape",),
    "macs": ("macs",),
    "params": ("params",),
    "dws_macs": ("variants", "depthwise_separable", "macs"),
    "dws_params": ("variants", "depthwise_separable", "params"),
    "dws_ratio": ("variants", "depthwise_separable", "ratio"),
    "theory_ratio": ("theory_ratio",),
    "dws_reduction_pct": ("variants", "depthwise_separable", "reduction_pct"),
    "dws_count_ratio": ("variants", "depthwise_separable", "count_ratio"),
    "grouped_ratio": ("variants", "grouped", "ratio"),
    "grouped_reduction_pct": ("variants", "grouped", "reduction_pct"),
    "grouped_count_ratio": ("variants", "grouped", "count_ratio"),
    "time_s": ("time_s",),
    "bound": ("bound",),
    "dws_time_s": ("variants", "depthwise_separable", "time_s"),
    "dws_bound": ("variants", "depthwise_separable", "bound"),
}


def headline(work: dict[str, Any], count: str) -> int:
    """The count --count names: macs, flops, or ops (exact multiplications plus additions)."""
    return int(work["macs"] + work["adds"]) if count == "ops" else int(work[count])


def dig(data: Any, path: tuple[str, ...]) -> Any:
    if path[:2] == ("variants", "grouped") and "grouped" not in data["variants"]:
        path = ("variants", "regular", *path[2:])  # groups 1: the layer as swept is the regular conv
    for key in path:
        data = data[key]
    return data


@pytest.mark.parametrize("sweep", SWEEPS, ids=[" ".join(s) for s in SWEEPS])
def test_every_sweep_format_gives_the_json_numbers(sweep: list[str]) -> None:
    data = json.loads(run(["sweep", *sweep, "--json"]))
    points = data["points"]
    count = data["convention"]["count"]
    swept = list(data["swept"])
    for fmt in FLAT:
        rows = flat_rows(run(["sweep", *sweep, "--format", fmt]), fmt)
        assert len(rows) == len(points)
        known = {*swept, *SWEEP_FIELDS, "count", "dws_count"}
        assert not set(rows[0]) - known, f"{fmt}: columns nobody checks: {set(rows[0]) - known}"
        grouped = any("grouped" in point["variants"] for point in points)
        assert ("grouped_ratio" in rows[0]) == grouped and "dws_ratio" in rows[0]
        for row, point in zip(rows, points, strict=True):
            assert ("time_s" in row and "dws_bound" in row) == (data["device"] is not None)
            for key in swept:
                same(row[key], point["swept"][key], f"{fmt} {key}")
            for column, path in SWEEP_FIELDS.items():
                if column in row:
                    same(row[column], dig(point, path), f"{fmt} {column}")
            if "count" in row:
                same(row["count"], headline(point, count), f"{fmt} count")
                same(
                    row["dws_count"], headline(point["variants"]["depthwise_separable"], count), f"{fmt} dws"
                )
    label = data["convention"]["label"]
    rows = text_rows(run(["sweep", *sweep, "--wide"]), swept[0])
    assert len(rows) == len(points)
    for row, point in zip(rows, points, strict=True):
        for key in swept:
            same(row[key], point["swept"][key], f"table {key}")
        same(row["output"], point["output_shape"], "table output")
        same(row[label], headline(point, count), f"table {label}")
        same(row[f"DWS {label}"], headline(point["variants"]["depthwise_separable"], count), "table DWS")
        if data["device"] is not None:  # the roofline per point, as 'layer' shows it
            assert row["bound"] == point["bound"] and row["time"]
            assert row["DWS bound"] == point["variants"]["depthwise_separable"]["bound"]


LAYERS = [
    ["--in", "28x28x8", "--out", "16", "-k", "3"],
    ["--in", "28x28x8", "--out", "16", "-k", "3", "--groups", "2", "--bias"],
    ["--in", "28x28x8", "--out", "16", "-k", "3", "--groups", "8", "--count", "flops"],
    ["--in", "14x14x8", "--out", "16", "-k", "3", "--stride", "2", "--transposed", "--groups", "2"],
]


@pytest.mark.parametrize("layer", LAYERS, ids=[" ".join(s) for s in LAYERS])
def test_every_layer_format_gives_the_json_numbers(layer: list[str]) -> None:
    data = json.loads(run(["layer", *layer, "--json"]))
    variants = data["variants"]
    for fmt in FLAT:
        rows = flat_rows(run(["layer", *layer, "--format", fmt]), fmt)
        assert [row["variant"] for row in rows] == list(variants)
        for row in rows:
            variant = variants[row["variant"]]
            for column in ("macs", "flops", "params", "ratio", "reduction_pct", "bytes"):
                same(row[column], variant[column], f"{fmt} {row['variant']} {column}")
    label = data["convention"]["label"]
    rows = text_rows(run(["layer", *layer, "--wide"]), "variant")
    assert [row["variant"].replace("-", "_") for row in rows] == list(variants)
    for row in rows:
        variant = variants[row["variant"].replace("-", "_")]
        same(row[label], headline(variant, data["convention"]["count"]), f"table {row['variant']}")
        same(row["params"], variant["params"], f"table {row['variant']} params")


@pytest.mark.parametrize("name", names())
def test_every_compare_format_gives_the_json_numbers(name: str) -> None:
    data = json.loads(run(["compare", name, "--json"]))
    layers = data["layers"]
    for fmt in FLAT:
        rows = flat_rows(run(["compare", name, "--format", fmt]), fmt)
        assert len(rows) == len(layers)
        for row, layer in zip(rows, layers, strict=True):
            for column in ("name", "type", "output_shape", "macs", "flops", "params", "bytes"):
                same(row[column], layer[column], f"{fmt} {layer['name']} {column}")


def test_a_groups_sweep_page_and_chart_show_the_grouped_layer() -> None:
    sweep = ["sweep", "--in", "28x28x64", "--out", "64", "-k", "3", "--groups", "1,2,64"]
    page = run([*sweep, "--format", "html"])
    assert "12,460,032" in page and "389,376" in page  # 2 and 64 groups, not the regular conv
    timed = run([*sweep, "--device", "a100", "--format", "html"])
    assert "DWS bound" in timed and "compute" in timed and "memory" in timed
    table = run([*sweep, "--wide"])
    assert "Saving of the swept layer" in table
    assert [line.split()[-2] for line in table.splitlines()[-3:]] == ["0.0", "50.0", "98.4"]
