"""One self-contained HTML page per run: the tables, and the charts as inline SVG.

The page loads nothing (no script, no font, no stylesheet from anywhere), so it opens
offline and can be mailed. Without matplotlib it still has every table, and says how to
get the charts. Every name and value from a spec or model is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..core.errors import escape_text
from . import charts, flat_tables
from .summary import LayerSummary, NetworkSummary, SweepSummary

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222;
       padding: 0 1em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0 1.5em; font-variant-numeric: tabular-nums; }
th, td { padding: .2em .7em; border-bottom: 1px solid #ddd; text-align: left; white-space: nowrap; }
td.num, th.num { text-align: right; }
tr.total td { font-weight: 600; border-top: 2px solid #888; }
.note { color: #555; } .chart svg { max-width: 100%; height: auto; }
.scroll { overflow-x: auto; }
"""


def _cell(value: Any) -> tuple[str, bool]:
    """(text, numeric?) for one table cell."""
    if value is None:
        return "", False
    if isinstance(value, bool):
        return str(value).lower(), False
    if isinstance(value, int):
        return f"{value:,}", True
    if isinstance(value, float):
        return (f"{value:.4g}" if abs(value) < 1e-3 or abs(value) >= 1e6 else f"{value:.4f}"), True
    return escape_text(str(value)), False


def table_html(
    header: Sequence[str], rows: Sequence[Sequence[Any]], total: Sequence[Any] | None = None
) -> str:
    numeric = [
        bool(rows) and all(_cell(row[i])[1] or row[i] is None for row in rows) for i in range(len(header))
    ]
    head = "".join(
        f"<th{' class=num' if num else ''}>{html.escape(str(label))}</th>"
        for label, num in zip(header, numeric, strict=True)
    )
    lines = [f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>']
    for row, css in [*((row, "") for row in rows), *(((total, ' class="total"'),) if total else ())]:
        cells = []
        for value in row:
            text, num = _cell(value)
            cells.append(f"<td{' class=num' if num else ''}>{html.escape(text)}</td>")
        lines.append(f"<tr{css}>{''.join(cells)}</tr>")
    lines.append("</tbody></table></div>")
    return "\n".join(lines)


def _chart_sections(summary: LayerSummary | NetworkSummary | SweepSummary) -> list[str]:
    wanted = charts.charts_for(summary)
    if not wanted:
        return []
    if not charts.available():
        return [f'<p class="note">No charts: {html.escape(charts.INSTALL_HINT)}.</p>']
    titles = {
        "layers": "Where the MACs and params go",
        "kinds": "MACs by kind",
        "roofline": "Roofline",
        "saving": "Saving against 1 − 1/D_K²",
    }
    sections = []
    for name, draw in wanted.items():
        svg = charts.render(draw(), "svg").decode()
        svg = svg[svg.index("<svg") :]  # inline: no XML declaration or doctype
        sections.append(f'<h2>{titles[name]}</h2>\n<div class="chart" id="chart-{name}">{svg}</div>')
    return sections


def _settings_line(summary: LayerSummary | NetworkSummary | SweepSummary) -> str:
    s = summary.settings
    device = f", {s.device.title}" if s.device is not None else ""
    return f"{s.convention.label}: {s.convention.definition}. {s.dtype.value}, batch {s.batch}{device}."


def page(summary: LayerSummary | NetworkSummary | SweepSummary, title: str) -> str:
    """The whole page as text."""
    title = escape_text(title)
    body: list[str] = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="note">{html.escape(_settings_line(summary))}</p>',
    ]
    if isinstance(summary, LayerSummary):
        header, rows = flat_tables.layer_table(summary)
        body += ["<h2>Forms of the layer</h2>", table_html(header, rows)]
        t = summary.theory
        body.append(f"<p>MobileNet theory: 1/N + 1/D_K² = {html.escape(t.expression)} = {t.ratio:.4f}</p>")
        body += [f'<p class="note">Note: {html.escape(note)}</p>' for note in summary.notes]
    elif isinstance(summary, NetworkSummary):
        header, rows = flat_tables.network_table(summary)
        totals = summary.totals
        total_row = ["total", *[""] * 4, totals.macs, totals.flops, totals.other_ops, totals.params, 1.0]
        total_row += [""] * (len(header) - len(total_row))
        body += ["<h2>Layers</h2>", table_html(header, rows, total_row)]
        body += [
            "<h2>Every spatial conv as…</h2>",
            table_html(
                ["network", "macs", "params", "ratio", "params_ratio"],
                [[f.name, f.work.macs, f.work.params, f.ratio, f.params_ratio] for f in summary.forms],
            ),
            "<h2>Breakdown by kind</h2>",
            table_html(
                ["kind", "macs", "macs_share", "params", "params_share"],
                [
                    [k.label, k.work.macs, k.macs_share, k.work.params, k.params_share]
                    for k in summary.breakdown
                    if k.work.macs or k.work.params
                ],
            ),
        ]
        body += [f'<p class="note">Note: {html.escape(note)}</p>' for note in summary.notes]
    else:
        header, rows = flat_tables.sweep_table(summary)
        body += [f"<h2>Sweep: {len(summary.points)} points</h2>", table_html(header, rows)]
    body += _chart_sections(summary)
    body.append(f'<p class="note">Written by convcost {html.escape(__version__)}.</p>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
