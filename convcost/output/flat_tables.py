"""CSV and Markdown views, written from the summary like every other format.

CSV keeps raw values (integers exact, shapes as ``26x26x16``, as ``--in`` takes them);
Markdown is a pipe table ready to paste, with thousands separators and shapes written
``26×26×16``, as every view for people writes them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..core.devices import Device
from ..core.dtypes import DType
from ..core.errors import escape_text
from ..core.options import DEFAULT
from ..core.values import format_dims
from .summary import LayerSummary, Memory, NetworkSummary, SweepSummary

Table = tuple[list[str], list[list[Any]]]


class Shape(str):
    """A shape cell: ``26x26x16`` in CSV, ``26×26×16`` in Markdown."""

    def __new__(cls, dims: Sequence[int]) -> Shape:
        return super().__new__(cls, format_dims(dims))

    def for_people(self) -> str:
        return self.replace("x", "×")


def _shape(value: Sequence[int] | None) -> Shape | None:
    return None if value is None else Shape(value)


def _swept(value: int | tuple[int, ...]) -> int | Shape:
    return value if isinstance(value, int) else Shape(value)


def _counted(summary: LayerSummary | NetworkSummary | SweepSummary) -> bool:
    """Whether ``--count`` or ``--count-bias`` chose another headline count than MACs (its columns join)."""
    return summary.settings.convention != DEFAULT.convention


def _timing(memory: Memory) -> list[Any]:
    t = memory.timing
    return [] if t is None else [t.time_s, t.bound]


_TIMING = ["time_s", "bound"]


def layer_table(summary: LayerSummary) -> Table:
    """One row per variant of ``layer``."""
    timed = summary.settings.device is not None
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
        *(_TIMING if timed else []),
        *(["count", "count_ratio", "count_reduction_pct"] if _counted(summary) else []),
    ]
    rows = [
        [
            v.name,
            _shape(summary.layer.output_shape),
            v.work.macs,
            v.work.flops,
            v.work.params,
            v.ratio,
            v.ratio_exact,
            v.reduction_pct,
            v.memory.bytes,
            v.memory.arithmetic_intensity,
            *_timing(v.memory),
            *([v.work.headline, v.count_ratio, v.count_reduction_pct] if _counted(summary) else []),
        ]
        for v in summary.variants
    ]
    return header, rows


def network_table(summary: NetworkSummary) -> Table:
    """One row per layer of ``compare``."""
    timed = summary.settings.device is not None
    header = [
        "name",
        "module",
        "type",
        "path",
        "input_shape",
        "output_shape",
        "macs",
        "flops",
        "other_ops",
        "params",
        "macs_share",
        "effective_macs",
        "bytes",
        "input_bytes",
        "output_bytes",
        "arithmetic_intensity",
        "rf_size",
        "rf_stride",
        *(_TIMING if timed else []),
        *(["count"] if _counted(summary) else []),
        *(["live_bytes"] if summary.peak_memory is not None else []),
    ]
    live = summary.live_bytes()
    rows = []
    for index, row in enumerate(summary.rows):
        rf = row.receptive_field
        rows.append(
            [
                row.name,
                row.module,
                row.type,
                row.path,
                _shape(row.input_shape),
                _shape(row.output_shape),
                row.work.macs,
                row.work.flops,
                row.work.other_ops,
                row.work.params,
                row.macs_share,
                row.effective_macs,
                row.memory.bytes,
                row.memory.input_bytes,
                row.memory.output_bytes,
                row.memory.arithmetic_intensity,
                _shape(rf.size) if rf else None,
                _shape(rf.stride) if rf else None,
                *_timing(row.memory),
                *([row.work.headline] if _counted(summary) else []),
                *([live[index]] if live is not None else []),
            ]
        )
    return header, rows


def sweep_table(summary: SweepSummary) -> Table:
    """One row per point of ``sweep``. Unprefixed counts are the layer as swept; ``dws_`` columns
    its depthwise-separable form and ``grouped_`` ones (a sweep where some layer has groups) the
    layer as swept, each ratio and saving against the regular conv of the point's shape, as the
    JSON's ``variants.depthwise_separable`` and ``variants.grouped`` are."""
    counted = _counted(summary)
    grouped = summary.not_regular
    header = [
        *summary.varying,
        "output_shape",
        "macs",
        "params",
        *(["grouped_ratio", "grouped_reduction_pct"] if grouped else []),
        "dws_macs",
        "dws_params",
        "dws_ratio",
        "theory_ratio",
        "dws_reduction_pct",
        *(["count", "dws_count", "dws_count_ratio"] if counted else []),
        *(["grouped_count_ratio"] if counted and grouped else []),
        *([*_TIMING, "dws_time_s", "dws_bound"] if summary.settings.device is not None else []),
    ]
    rows = []
    for point in summary.points:
        layer = point.layer
        swept = layer.work  # the layer as swept (grouped, transposed), not its regular form
        own = point.as_swept
        dws = layer.variants[-1]
        rows.append(
            [
                *(_swept(point.swept[key]) for key in summary.varying),
                _shape(layer.layer.output_shape),
                swept.macs,
                swept.params,
                *([own.ratio, own.reduction_pct] if grouped else []),
                dws.work.macs,
                dws.work.params,
                dws.ratio,
                layer.theory.ratio,
                dws.reduction_pct,
                *([swept.headline, dws.work.headline, dws.count_ratio] if counted else []),
                *([own.count_ratio] if counted and grouped else []),
                *_timing(layer.memory),
                *_timing(dws.memory),
            ]
        )
    return header, rows


def devices_table(devices: Mapping[str, Device]) -> Table:
    """One row per device profile, the peak of each dtype in its own column."""
    header = ["name", "title", *(f"peak_flops_{dtype.value}" for dtype in DType), "bandwidth_bytes_per_s"]
    rows = [
        [name, d.title, *(d.peak.get(dtype) for dtype in DType), d.bandwidth] for name, d in devices.items()
    ]
    return header, rows


#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@")


def csv_cell(cell: Any) -> Any:
    """Numbers as they are; text escaped, and quoted with ' where a spreadsheet would run it."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if not isinstance(cell, str):
        return cell
    text = escape_text(cell)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(table: Table) -> str:
    header, rows = table
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([csv_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def _markdown_cell(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Shape):
        return cell.for_people()
    if isinstance(cell, bool):
        return str(cell).lower()
    if isinstance(cell, int):
        return f"{cell:,}"
    if isinstance(cell, float):
        if abs(cell) >= 1e6 and cell.is_integer():  # a device's peak: every digit, as an integer is
            return f"{int(cell):,}"
        return (
            f"{cell:.4g}" if abs(cell) < 1e-3 or abs(cell) >= 1e6 else f"{cell:.4f}".rstrip("0").rstrip(".")
        )
    return _MARKDOWN_DATA.sub(_markdown_escape, escape_text(str(cell)))


#: What would be markup in a cell: a backslash, HTML and its entities, the cell's own pipe, code
#: spans, and the ``](`` that opens a link's target. One pass, so no escape is escaped again.
_MARKDOWN_DATA = re.compile(r"[\\&<>|`]|\]\(")
_MARKDOWN_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "](": "]\\("}


def _markdown_escape(match: re.Match[str]) -> str:
    """A cell's text is data, never markup: each special character as itself."""
    found = match.group()
    return _MARKDOWN_ESCAPES.get(found, "\\" + found)


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


__all__: Sequence[str] = [
    "Shape",
    "devices_table",
    "layer_table",
    "network_table",
    "sweep_table",
    "to_csv",
    "to_markdown",
]
