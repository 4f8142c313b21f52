"""CSV and Markdown views, written from the JSON dicts so every format says the same thing.

CSV keeps raw values (integers exact, shapes as ``26x26x16``); Markdown is a pipe
table ready to paste, with thousands separators.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

Table = tuple[list[str], list[list[Any]]]

FORMATS = ("table", "json", "csv", "markdown")


def _shape(value: Any) -> Any:
    return "x".join(str(v) for v in value) if isinstance(value, list) else value


def _timing(item: dict[str, Any]) -> list[Any]:
    return [item.get("time_s"), item.get("bound")] if "time_s" in item else []


def layer_table(data: dict[str, Any]) -> Table:
    """One row per variant of ``layer --json``."""
    timed = "time_s" in data["variants"]["regular"]
    header = [
        "variant",
        "output_shape",
        "macs",
        "flops",
        "params",
        "ratio",
        "ratio_exact",
        "reduction_pct",
        "bytes",
        "arithmetic_intensity",
    ] + (["time_s", "bound"] if timed else [])
    rows = [
        [
            name,
            _shape(data["output_shape"]),
            v["macs"],
            v["flops"],
            v["params"],
            v["ratio"],
            v["ratio_exact"],
            v["reduction_pct"],
            v["bytes"],
            v["arithmetic_intensity"],
            *_timing(v),
        ]
        for name, v in data["variants"].items()
    ]
    return header, rows


def network_table(data: dict[str, Any]) -> Table:
    """One row per layer of ``compare --json``."""
    timed = bool(data["layers"]) and "time_s" in data["layers"][0]
    header = [
        "name",
        "type",
        "path",
        "input_shape",
        "output_shape",
        "macs",
        "flops",
        "params",
        "macs_share",
        "effective_macs",
        "bytes",
        "arithmetic_intensity",
        "rf_size",
        "rf_stride",
    ]
    header += ["time_s", "bound"] if timed else []
    rows = []
    for row in data["layers"]:
        rf = row["receptive_field"] or {}
        rows.append(
            [
                row["name"],
                row["type"],
                row["path"],
                _shape(row["input_shape"]),
                _shape(row["output_shape"]),
                row["macs"],
                row["flops"],
                row["params"],
                row["macs_share"],
                row["effective_macs"],
                row["bytes"],
                row["arithmetic_intensity"],
                _shape(rf.get("size")),
                _shape(rf.get("stride")),
                *_timing(row),
            ]
        )
    return header, rows


def sweep_table(data: dict[str, Any]) -> Table:
    """One row per point of ``sweep --json``."""
    swept = list(data["swept"])
    header = [
        *swept,
        "output_shape",
        "macs",
        "params",
        "dws_macs",
        "dws_params",
        "ratio",
        "theory_ratio",
        "reduction_pct",
    ]
    rows = []
    for point in data["points"]:
        dws = point["variants"]["depthwise_separable"]
        rows.append(
            [
                *(_shape(point["swept"][key]) for key in swept),
                _shape(point["output_shape"]),
                point["macs"],
                point["params"],
                dws["macs"],
                dws["params"],
                dws["ratio"],
                point["theory_ratio"],
                dws["reduction_pct"],
            ]
        )
    return header, rows


def to_csv(table: Table) -> str:
    header, rows = table
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return buffer.getvalue()


def _markdown_cell(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return str(cell).lower()
    if isinstance(cell, int):
        return f"{cell:,}"
    if isinstance(cell, float):
        return (
            f"{cell:.4g}" if abs(cell) < 1e-3 or abs(cell) >= 1e6 else f"{cell:.4f}".rstrip("0").rstrip(".")
        )
    return str(cell).replace("|", "\\|")


def to_markdown(table: Table) -> str:
    header, rows = table
    numeric = [
        all(
            isinstance(row[i], (int, float)) and not isinstance(row[i], bool)
            for row in rows
            if row[i] is not None
        )
        and bool(rows)
        for i in range(len(header))
    ]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if num else "---" for num in numeric) + "|",
    ]
    lines += ["| " + " | ".join(_markdown_cell(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def render(table: Table, fmt: str) -> str:
    return to_csv(table) if fmt == "csv" else to_markdown(table)


__all__: Sequence[str] = ["FORMATS", "layer_table", "network_table", "render", "sweep_table"]
