"""One self-contained HTML page per run: the tables, and the charts as inline SVG.

The page loads nothing (no script, no font, no stylesheet from anywhere), so it opens
offline and can be mailed. Its tables are the terminal's (the same blocks, every column
shown); without matplotlib it still has every table, and says how to get the charts.
Every name and value from a spec or model is escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from .. import __version__
from ..core.errors import escape_text
from . import charts
from .summary import LayerSummary, NetworkSummary, SweepSummary
from .text_table import Blank, Block, Drawn, Para, Table

Summary = LayerSummary | NetworkSummary | SweepSummary

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 92em; color: #222;
       padding: 0 1.5em; }
h1 { font-size: 1.4em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin: 1.8em 0 .3em; }
p { margin: .3em 0; } p.sub { margin: 0; color: #444; }
table { border-collapse: collapse; margin: .6em 0 1em; font-variant-numeric: tabular-nums; }
th, td { padding: .15em .6em; border-bottom: 1px solid #e3e3e3; text-align: left; white-space: nowrap; }
th { border-bottom: 2px solid #888; }
td.num, th.num { text-align: right; }
tr.sub td { color: #666; } tr.sub td:first-child { padding-left: 1.5em; }
tr.total td { font-weight: 600; border-top: 2px solid #888; border-bottom: none; }
.note { color: #555; } .chart svg { max-width: min(100%, 64em); height: auto; }
.scroll { overflow-x: auto; } code { font-size: .95em; }
"""

_CHART_TITLES = {
    "layers": "Where the MACs and params go, layer by layer",
    "kinds": "MACs by kind of layer",
    "roofline": "Roofline",
    "saving": "Saving against 1 − 1/D_K²",
    "memory": "Live activation memory over the schedule",
}


def _text(value: str) -> str:
    return html.escape(escape_text(value))


def _tree_free(cell: str) -> str:
    """A sub-row's name without the tree characters the terminal draws (`` ├ depthwise``)."""
    return re.sub(r"^\s*[├└]\s*", "", cell)


def table_html(table: Table) -> str:
    parts: list[str] = []
    if table.title:
        parts.append(f"<h2>{_text(table.title[0])}</h2>")
        parts += [f'<p class="sub">{_text(line)}</p>' for line in table.title[1:]]
    columns = table.columns
    if not columns:
        return "\n".join(parts)
    numeric = [c.align == "right" for c in columns]
    head = "".join(
        f"<th{' class=num' if num else ''}>{_text(c.label)}</th>"
        for c, num in zip(columns, numeric, strict=True)
    )
    lines = [f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>']
    styles = table.row_styles or [""] * table.rows
    for i in range(table.rows):
        cells = "".join(
            f"<td{' class=num' if num else ''}>{_text(_tree_free(c.cells[i]) if j == 0 else c.cells[i])}</td>"
            for j, (c, num) in enumerate(zip(columns, numeric, strict=True))
        )
        lines.append(f"<tr{' class=sub' if styles[i] == 'dim' else ''}>{cells}</tr>")
    if any(c.footer for c in columns):
        cells = "".join(
            f"<td{' class=num' if num else ''}>{_text(c.footer)}</td>"
            for c, num in zip(columns, numeric, strict=True)
        )
        lines.append(f'<tr class="total">{cells}</tr>')
    lines.append("</tbody></table></div>")
    return "\n".join([*parts, *lines])


def blocks_html(blocks: Sequence[Block]) -> list[str]:
    body: list[str] = []
    for block in blocks:
        if isinstance(block, Table):
            body.append(table_html(block))
        elif isinstance(block, Para):
            css = ' class="note"' if block.style == "dim" else ""
            body.append(f"<p{css}>{_text(block.text)}</p>")
        elif isinstance(block, (Blank, Drawn)):
            continue  # spacing is the stylesheet's; a text chart has its SVG below
    return body


def chart_sections(summary: Summary) -> list[str]:
    wanted = charts.charts_for(summary)
    if not wanted:
        return []
    if not charts.available():
        reason = charts.unavailable_reason() or charts.INSTALL_HINT
        return [
            "<h2>Charts</h2>",
            f'<p class="note" id="no-charts">No charts here: {html.escape(reason)}, '
            "then run the command again.</p>",
        ]
    sections = []
    for name, draw in wanted.items():
        svg = charts.render(draw(), "svg").decode()
        svg = svg[svg.index("<svg") :]  # inline: no XML declaration or doctype
        sections.append(f'<h2>{_CHART_TITLES[name]}</h2>\n<div class="chart" id="chart-{name}">{svg}</div>')
    return sections


def _default_blocks(summary: object, title: str) -> list[Block]:
    from . import views

    if isinstance(summary, LayerSummary):
        return views.layer_tables(summary)
    if isinstance(summary, NetworkSummary):
        return views.network_tables(summary, title)
    if isinstance(summary, SweepSummary):
        return views.sweep_tables(summary)
    return []


def page(summary: object, title: str, blocks: Sequence[Block] | None = None, command: str = "") -> str:
    """The whole page as text: a heading, the blocks (by default the summary's tables), then the
    summary's charts, if it has any (a layer's or a network's with a device, a sweep's)."""
    body: list[str] = [f"<h1>{_text(title)}</h1>"]
    if command:
        body.append(f'<p class="note">Made with <code>{_text(command)}</code></p>')
    body += blocks_html(_default_blocks(summary, title) if blocks is None else blocks)
    if isinstance(summary, (LayerSummary, NetworkSummary, SweepSummary)):
        body += chart_sections(summary)
    body.append(f'<p class="note">Written by convcost {html.escape(__version__)}.</p>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
