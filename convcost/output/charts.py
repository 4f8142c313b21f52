"""Charts as SVG (or PNG) text, drawn from a summary with matplotlib, the optional ``plot`` extra.

Every chart is a function of a summary: where the MACs and params go module by module (each
bar split by kind) and layer by layer, MACs by kind, the roofline (each layer and variant a
point: arithmetic intensity against attainable FLOP/s, under the device's roofs), and a
sweep's saving against MobileNet's limit 1 − 1/D_K². The SVGs carry no date and no random ids,
so the same input gives the same bytes. Text is never under :data:`SMALLEST` points (a page
shows a chart at its size: 1 pt is 4/3 px), and each bar and point of an SVG has a hover
title with its full name and exact numbers, and the same numbers as ``data-`` attributes.
"""

from __future__ import annotations

import html
import io
import os
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from ..core.errors import escape_text, shorten
from . import chart_data
from .summary import LayerSummary, NetworkSummary, SweepSummary

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

INSTALL_HINT = "charts need matplotlib: pip install 'convcost[plot]'"
ImageFormat = Literal["svg", "png"]
#: The smallest text, in points: 7.5 pt is 10 px at the chart's size; nothing is drawn smaller.
SMALLEST = 9.0
FONT_SIZE = 10.0


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed, or cannot be loaded."""


@contextmanager
def _quiet() -> Iterator[None]:
    """matplotlib's warnings kept off the terminal. They are about the picture, not the numbers
    (a font without a name's glyphs draws boxes; the tables carry every name), and under
    ``PYTHONWARNINGS=error`` they would otherwise end the run with a traceback."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _load() -> None:
    """Load matplotlib for drawing to files (Agg), whatever ``MPLBACKEND`` says.

    matplotlib's import reads ``MPLBACKEND`` and raises on a name it does not know; convcost
    never opens a window, so the variable is hidden while it imports and Agg is chosen after.
    """
    hidden = os.environ.pop("MPLBACKEND", None)
    try:
        with _quiet():
            import matplotlib

            matplotlib.use("Agg")
    except Exception as error:  # not installed, or a broken install or matplotlibrc: one line
        if isinstance(error, ImportError) and error.name == "matplotlib":
            raise PlotUnavailable(INSTALL_HINT) from None
        reason = f"charts need matplotlib, which failed to load: {shorten(str(error))}"
        raise PlotUnavailable(reason) from None
    finally:
        if hidden is not None:
            os.environ["MPLBACKEND"] = hidden


def available() -> bool:
    return unavailable_reason() is None


def unavailable_reason() -> str | None:
    """Why no chart can be drawn here (one line), or None when matplotlib loads."""
    try:
        _load()
    except PlotUnavailable as error:
        return str(error)
    return None


def _figure(width: float = 8.0, height: float = 4.0) -> Figure:
    _load()
    import matplotlib
    from matplotlib.figure import Figure

    matplotlib.rcParams.update(
        {
            "svg.hashsalt": "convcost",
            "svg.fonttype": "none",
            "font.size": FONT_SIZE,
            "axes.titlesize": FONT_SIZE + 1,
            "legend.fontsize": SMALLEST,
        }
    )
    return Figure(figsize=(width, height), layout="constrained")


class Hover(NamedTuple):
    """What an SVG element of a chart says when pointed at, and its exact values."""

    title: str
    data: tuple[tuple[str, str], ...]


_HOVERS = "_convcost_hovers"


def hover(fig: Figure, artist: Artist, gid: str, title: str, **data: object) -> None:
    """Give ``artist`` the SVG id ``gid``, a ``<title>`` and ``data-`` attributes (``data_x=1``
    is ``data-data-x``: keywords name the attribute after ``data-``, underscores as hyphens)."""
    artist.set_gid(gid)
    hovers: dict[str, Hover] = getattr(fig, _HOVERS, None) or {}
    hovers[gid] = Hover(title, tuple((key.replace("_", "-"), str(value)) for key, value in data.items()))
    setattr(fig, _HOVERS, hovers)


def _with_hovers(svg: str, hovers: dict[str, Hover]) -> str:
    """matplotlib writes an artist with an id as ``<g id="…">``: its title and data go there."""

    def opened(match: re.Match[str]) -> str:
        found = hovers.get(match.group(1))
        if found is None:
            return match.group(0)
        data = "".join(f' data-{key}="{html.escape(escape_text(value))}"' for key, value in found.data)
        lines = (escape_text(line) for line in found.title.split("\n"))  # a line break stays one
        title = html.escape("\n".join(lines), quote=False)
        return f'<g id="{match.group(1)}"{data}>\n   <title>{title}</title>'

    return re.sub(r'<g id="([^"]+)">', opened, svg)


def render(fig: Figure, fmt: ImageFormat = "svg") -> bytes:
    buffer = io.BytesIO()
    metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {}
    with _quiet():
        fig.savefig(buffer, format=fmt, metadata=metadata, dpi=150)
    hovers = getattr(fig, _HOVERS, None)
    if fmt != "svg" or not hovers:
        return buffer.getvalue()
    return _with_hovers(buffer.getvalue().decode(), hovers).encode()


def short(name: str, width: int = 28) -> str:
    """A row name as a label: cut in the middle, control characters escaped, and ``$`` literal
    (not mathtext)."""
    name = escape_text(name)
    name = name if len(name) <= width else name[: width // 2 - 1] + "…" + name[-(width // 2) :]
    return name.replace("$", r"\$")


def engineering(axis: Any, which: str = "x") -> None:
    """Tick labels as ``10M``, ``2G``: no offset text (``1e7``) to multiply in one's head."""
    from matplotlib.ticker import EngFormatter

    target = axis.xaxis if which == "x" else axis.yaxis
    target.set_major_formatter(EngFormatter(sep=""))


def titled_panels(fig: Figure, title: str, count_title: str, count_axis: Any, params_axis: Any) -> None:
    """A bar chart's two panels side by side (a count, then params) under one title, on a grid."""
    fig.suptitle(title, x=0.01, ha="left", fontsize=FONT_SIZE + 1)
    count_axis.set_title(count_title, loc="left")
    params_axis.set_title("params", loc="left")
    for axis in (count_axis, params_axis):
        engineering(axis)
        axis.grid(axis="x", alpha=0.3)
        axis.set_axisbelow(True)


def _layer_hover(summary: NetworkSummary, row: Any) -> tuple[str, dict[str, object]]:
    label = summary.settings.convention.label
    module = f" (module {escape_text(row.module)})" if row.module and row.module != row.name else ""
    title = (
        f"{escape_text(row.name)}{module}: {escape_text(row.label)}\n"
        f"{row.work.headline:,} {label}, {row.work.params:,} params, "
        f"{row.memory.bytes:,} bytes of minimum traffic"
    )
    data = {"name": row.name, "module": row.module, "count": row.work.headline, "macs": row.work.macs}
    return title, {**data, "params": row.work.params, "bytes": row.memory.bytes}


def layer_bars(summary: NetworkSummary) -> Figure:
    """MACs and params per row of the table: rows with no MACs left out; of many, the largest."""
    chosen = chart_data.layer_bars(summary)
    rows = chosen.rows
    fig = _figure(11.0, 1.6 + 0.2 * max(1, len(rows)))
    macs_axis, params_axis = fig.subplots(1, 2, sharey=True, width_ratios=(3, 2))
    positions = list(range(len(rows)))
    kinds = [chart_data.main_kind(row) for row in rows]
    colours = [chart_data.KIND_COLOURS[kind] if kind else "#4c72b0" for kind in kinds]
    for axis, values, panel in (
        (macs_axis, [row.work.headline for row in rows], "count"),
        (params_axis, [row.work.params for row in rows], "params"),
    ):
        bars = axis.barh(positions, values, color=colours)
        for index, (bar, row) in enumerate(zip(bars, rows, strict=True)):
            title, data = _layer_hover(summary, row)
            hover(fig, bar, f"layers-{panel}-{index}", title, **data)
    macs_axis.set_yticks(positions, [short(row.name, 36) for row in rows])
    macs_axis.set_ylim(len(rows) - 0.5, -0.5)  # the first layer on top, no empty margin
    label = summary.settings.convention.label
    what = "rows" if summary.depth is not None else "layers"
    left_out = chosen.table_rows - chosen.with_work
    if len(rows) < chosen.with_work:
        title = f"{label} and params of the {len(rows):,} largest of {chosen.table_rows:,} {what}"
    elif left_out:
        title = f"{label} and params of the {len(rows):,} of {chosen.table_rows:,} {what} with any {label}"
    else:
        title = f"{label} and params per {what[:-1]}"
    if left_out:
        title += f" ({left_out:,} with no {label} left out)"
    titled_panels(fig, title, f"{label} (batch {summary.settings.batch})", macs_axis, params_axis)
    shown = [kind for kind in chart_data.CHART_KINDS if kind in kinds]
    if shown:  # the colours are the kinds of the modules' chart
        from matplotlib.patches import Patch

        fig.legend(
            [Patch(color=chart_data.KIND_COLOURS[kind]) for kind in shown],
            [chart_data.CHART_KINDS[kind] for kind in shown],
            loc="outside lower center",
            ncols=min(4, len(shown)),
            frameon=False,
        )
    return fig


def kinds_bar(summary: NetworkSummary) -> Figure:
    """MACs by kind of layer (MobileNet's Table 2 as a chart)."""
    kinds = [kind for kind in summary.breakdown if kind.work.headline]
    fig = _figure(8.0, 1.2 + 0.45 * max(1, len(kinds)))
    axis = fig.subplots()
    bars = axis.barh([kind.label for kind in kinds], [kind.work.headline for kind in kinds], color="#55a868")
    total = summary.totals.headline or 1
    label = summary.settings.convention.label
    for index, (bar, kind) in enumerate(zip(bars, kinds, strict=True)):
        title = f"{kind.label}: {kind.work.headline:,} {label}, {kind.work.params:,} params"
        hover(
            fig,
            bar,
            f"kinds-{index}",
            title,
            kind=kind.kind,
            count=kind.work.headline,
            params=kind.work.params,
        )
    for index, kind in enumerate(kinds):
        axis.annotate(
            f"{100 * kind.work.headline / total:.1f} %",
            (kind.work.headline, index),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
        )
    axis.invert_yaxis()
    axis.margins(x=0.12)  # room for the last label
    axis.set_title(f"{summary.settings.convention.label} by kind")
    engineering(axis)
    axis.grid(axis="x", alpha=0.3)
    axis.set_axisbelow(True)
    return fig


def saving_curve(summary: SweepSummary) -> Figure:
    """The depthwise-separable saving per point, against the limit 1 − 1/D_K²."""
    fig = _figure(8.0, 4.0)
    axis = fig.subplots()
    from .views import swept_text

    pcts = [p.layer.variants[-1].reduction_pct for p in summary.points]
    theory = [100 * (1 - p.layer.theory.ratio) for p in summary.points]
    labels = [" ".join(swept_text(p.swept[key]) for key in summary.varying) for p in summary.points]
    xs = list(range(len(pcts)))
    # The exact saving, thick, under the theory's dashed line: where they agree both show.
    axis.plot(
        xs, pcts, marker="o", markersize=4, linewidth=3, color="#4c72b0", label="exact saving", zorder=2
    )
    axis.plot(
        xs, theory, linestyle="--", linewidth=1.2, color="#dd8452", label="1 − (1/N + 1/D_K²)", zorder=3
    )
    tops = [*pcts, *theory]
    if summary.not_regular:  # a groups sweep: the layer asked for, against its regular form
        own = [p.own_saving_pct for p in summary.points]
        axis.plot(xs, own, marker="s", markersize=4, linewidth=2, color="#55a868", label="the swept layer")
        tops += own
        theory += own  # the axis' low end
    if summary.theory_limit_pct is not None:
        axis.axhline(summary.theory_limit_pct, color="gray", linestyle=":", label="limit 1 − 1/D_K²")
        tops.append(summary.theory_limit_pct)
    low, high = min(pcts + theory), max(tops)
    pad = max(0.5, (high - low) * 0.08)
    axis.set_ylim(low - pad, high + pad)
    step = max(1, len(xs) // 16)
    long_labels = max((len(label) for label in labels), default=0) * len(xs[::step]) > 60
    axis.set_xticks(
        xs[::step],
        labels[::step],
        rotation=45 if long_labels else 0,
        ha="right" if long_labels else "center",
        fontsize=SMALLEST,
    )
    axis.set_xlabel(", ".join(summary.varying) or "point")
    axis.set_ylabel("fewer MACs than regular (%)")
    axis.set_title(
        "Saving of the swept layer and its depthwise-separable form"
        if summary.not_regular
        else "Depthwise-separable saving"
    )
    axis.legend(loc="lower right")
    axis.grid(alpha=0.3)
    return fig


def live_bytes(summary: NetworkSummary) -> Figure:
    """Live activation bytes at each step of the graph's order, with the peak marked, the best
    order's and the patches' peaks, and the SRAM the run was checked against."""
    found = summary.peak_memory
    if found is None:
        raise ValueError("a memory chart needs the peak memory: give --memory")
    m = found.memory
    steps = [live for _, live in m.steps]
    xs = list(range(len(steps)))
    fig = _figure(10.0, 4.0)
    axis = fig.subplots()
    axis.fill_between(xs, steps, step="mid", color="#4c72b0", alpha=0.25, linewidth=0)
    axis.step(xs, steps, where="mid", color="#4c72b0", linewidth=1.2, label="live bytes, graph order")
    if steps:
        top = steps.index(m.peak_bytes) if m.peak_bytes in steps else 0
        axis.scatter([top], [m.peak_bytes], color="#c44e52", zorder=3, s=24)
        axis.annotate(
            f"peak {m.peak_bytes:,} B at {short(m.peak_at or '-')}",
            (top, m.peak_bytes),
            textcoords="offset points",
            xytext=(6, 4),
        )
    lines = []
    if m.best_order is not None and m.best_order.peak_bytes != m.peak_bytes:
        lines.append((m.best_order.peak_bytes, "best order's peak", "#55a868", "--"))
    if found.patched is not None:
        rows, cols = found.patched.patches
        lines.append((found.patched.peak_bytes, f"peak with {rows}x{cols} patches", "#dd8452", "--"))
    if found.sram is not None:
        lines.append((found.sram, f"SRAM {found.sram:,} B", "#333333", ":"))
    for value, label, colour, style in lines:
        axis.axhline(value, color=colour, linestyle=style, linewidth=1.2, label=label)
    axis.set_xlim(-0.5, max(0.5, len(steps) - 0.5))
    axis.set_ylim(bottom=0)
    axis.margins(y=0.12)
    axis.set_xlabel(f"step (layer, in the graph's order; {len(steps):,} in all)")
    axis.set_ylabel("live activation bytes")
    engineering(axis, "y")
    from .memory_view import rule_text

    axis.set_title(f"Live activation memory over the schedule ({rule_text(found)})")
    axis.legend(loc="upper right")
    axis.grid(alpha=0.3)
    axis.set_axisbelow(True)
    return fig


#: The network charts that draw bars of MACs and params, left out when there is nothing to count.
COUNTED = ("layers", "modules", "kinds")


def nothing_to_count(summary: NetworkSummary) -> bool:
    """No MACs (or the count asked for) and no params in the whole network: no bar to draw."""
    return not (summary.totals.headline or summary.totals.params)


def charts_for(summary: LayerSummary | NetworkSummary | SweepSummary) -> dict[str, Callable[[], Figure]]:
    """The charts that make sense for a summary, by name, drawn only when called (quietly)."""
    from . import network_charts

    found: dict[str, Callable[[], Figure]] = {}
    if isinstance(summary, NetworkSummary) and not nothing_to_count(summary):
        # (with nothing counted, bars of nothing are empty axes that read 200m…1 or −40m…40m)
        found["layers"] = lambda: layer_bars(summary)
        found["modules"] = lambda: network_charts.module_bars(summary)
        found["kinds"] = lambda: kinds_bar(summary)
    if isinstance(summary, NetworkSummary) and summary.peak_memory is not None:  # compare --memory
        found["memory"] = lambda: live_bytes(summary)
    if isinstance(summary, SweepSummary):
        found["saving"] = lambda: saving_curve(summary)
    elif summary.settings.device is not None:
        found["roofline"] = lambda: network_charts.roofline(summary)
    return {name: _quietly(draw) for name, draw in found.items()}


def _quietly(draw: Callable[[], Figure]) -> Callable[[], Figure]:
    def drawn() -> Figure:
        with _quiet():
            return draw()

    return drawn
