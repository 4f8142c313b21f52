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
from . import chart_data, charts
from .summary import LayerSummary, NetworkSummary, SweepSummary
from .text_table import Blank, Block, Column, Drawn, Para, Table

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
.note { color: #555; } .chart svg { max-width: 100%; height: auto; }
.scroll { overflow-x: auto; } code { font-size: .95em; }
"""

_CHART_TITLES = {
    "modules": "Where the MACs and params go, module by module",
    "layers": "The largest layers",
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


def chart_sections(summary: Summary, names: Sequence[str] | None = None) -> list[str]:
    """The summary's charts (those in ``names``, if given) as sections, a roofline's labelled
    points as a table below it; without matplotlib, a note on how to get the charts."""
    wanted = charts.charts_for(summary)
    if names is not None:
        wanted = {name: draw for name, draw in wanted.items() if name in names}
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
        heading = _CHART_TITLES[name]
        if (
            name == "modules"
            and isinstance(summary, NetworkSummary)
            and chart_data.module_depth(summary)[0] is None
        ):
            heading = "Where the MACs and params go, layer by layer"  # few layers: each its own bar
        sections.append(f'<h2 id="{name}">{heading}</h2>')
        sections.append(f'<div class="chart" id="chart-{name}">{svg}</div>')
        if name == "roofline" and isinstance(summary, NetworkSummary):
            sections.append(table_html(roofline_table(summary)))
    return sections


def roofline_table(summary: NetworkSummary) -> Table:
    """The roofline's labelled points: the rows that take longest, memory- and compute-bound."""
    from .views import int_text, time_text

    points = chart_data.labelled(chart_data.roof_points(summary))
    label = summary.settings.convention.label
    timings = [p.row.memory.timing for p in points]
    columns = [
        Column("#", [str(p.number) for p in points], "right"),
        Column("layer", [escape_text(p.row.name) for p in points]),
        Column("module", [escape_text(p.row.module) for p in points]),
        Column("alike", [f"×{p.alike}" if p.alike > 1 else "" for p in points], "right"),
        Column(label, [int_text(p.row.work.headline) for p in points], "right"),
        Column("bytes", [int_text(p.row.memory.bytes) for p in points], "right"),
        Column("FLOP/B", [f"{p.intensity:.1f}" for p in points], "right"),
        Column("time ≥", [time_text(t.time_s) if t else "" for t in timings], "right"),
        Column("bound", [t.bound if t else "" for t in timings]),
    ]
    memory = sum(1 for t in timings if t and t.bound == "memory")
    compute = len(points) - memory
    bounds = f"{memory} memory-bound and {compute} compute-bound" if compute else f"{memory} memory-bound"
    title = [
        f"The roofline's labels: the {bounds} rows that take longest",
        "alike: rows at the very same point (a block's copies), labelled once.",
    ]
    off, off_time = chart_data.off_the_roofline(summary)
    if off and summary.total_time_s:
        title.append(
            f"Not on the roofline: {off:,} rows at 0 FLOP/B (reshapes, norms, activations, merges…), "
            f"{time_text(off_time)} of the {time_text(summary.total_time_s)} in all."
        )
    return Table(columns, title=title)


def _default_blocks(summary: object, title: str) -> list[Block]:
    from . import views

    if isinstance(summary, LayerSummary):
        return views.layer_tables(summary)
    if isinstance(summary, NetworkSummary):
        return views.network_tables(summary, title)
    if isinstance(summary, SweepSummary):
        return views.sweep_tables(summary)
    return []


_LINKS = {
    "modules": "modules",
    "layers": "largest layers",
    "kinds": "MACs by kind",
    "roofline": "roofline",
    "memory": "live memory",
}


def _contents(names: Sequence[str]) -> str:
    ordered = sorted(names, key=lambda name: name != "modules")  # the modules' chart comes first
    links = " · ".join(f'<a href="#{name}">{_LINKS[name]}</a>' for name in ordered)
    return f'<p class="note">Charts: {links}.</p>'


def page(summary: object, title: str, blocks: Sequence[Block] | None = None, command: str = "") -> str:
    """The whole page as text: a heading, the blocks (by default the summary's tables), then the
    summary's charts, if it has any (a layer's or a network's with a device, a sweep's)."""
    body: list[str] = [f"<h1>{_text(title)}</h1>"]
    if command:
        body.append(f'<p class="note">Made with <code>{_text(command)}</code></p>')
    first: list[str] = []  # a network's modules come first: the picture of the whole
    left_out: list[str] = []
    if isinstance(summary, NetworkSummary) and charts.available():
        if chart_data.module_depth(summary)[0] is None:  # every layer a bar already: no repeat
            left_out = ["layers"]
        names = [name for name in charts.charts_for(summary) if name not in left_out]
        body.append(_contents(names))
        first = ["modules"]
        body += chart_sections(summary, first)
    body += blocks_html(_default_blocks(summary, title) if blocks is None else blocks)
    if isinstance(summary, (LayerSummary, NetworkSummary, SweepSummary)):
        rest = [name for name in charts.charts_for(summary) if name not in first + left_out]
        body += chart_sections(summary, rest)
    body.append(f'<p class="note">Written by convcost {html.escape(__version__)}.</p>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
