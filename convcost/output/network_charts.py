"""The network seen whole: its modules as bars split by kind, and the roofline with its
longest layers labelled. The values are :mod:`.chart_data`'s; the drawing is matplotlib's."""

from __future__ import annotations

from math import log10
from typing import TYPE_CHECKING, Any, NamedTuple

from ..core.errors import escape_text
from . import chart_data
from .chart_data import CHART_KINDS, KIND_COLOURS, ModuleBar
from .charts import FONT_SIZE, _figure, engineering, hover, short, titled_panels
from .summary import LayerSummary, NetworkSummary

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _depth_words(chart: chart_data.ModuleChart) -> str:
    if chart.depth is None:
        return "per layer"
    return f"per module at depth {chart.depth}" + ("" if chart.chosen else " (--depth)")


def _segment_title(summary: NetworkSummary, bar: ModuleBar, kind: str, part: Any) -> str:
    label = summary.settings.convention.label
    lines = [
        f"{escape_text(bar.label)}: {CHART_KINDS[kind]}",
        f"{part.headline:,} {label} and {part.params:,} params of the module's "
        f"{bar.work.headline:,} {label} and {bar.work.params:,} params",
        f"{bar.rows:,} layer{'' if bar.rows == 1 else 's'}, {bar.bytes:,} bytes of minimum traffic",
    ]
    return "\n".join(lines)


def module_bars(summary: NetworkSummary) -> Figure:
    """Each module at the chosen depth a bar of its count and one of its params, each split
    by kind (:data:`.chart_data.CHART_KINDS`); modules with neither are left out."""
    chart = chart_data.module_chart(summary)
    bars = chart.bars
    fig = _figure(11.0, 2.2 + 0.27 * max(1, len(bars)))
    count_axis, params_axis = fig.subplots(1, 2, sharey=True, width_ratios=(3, 2))
    positions = list(range(len(bars)))
    label = summary.settings.convention.label
    seen: dict[str, Any] = {}
    for axis, panel in ((count_axis, "count"), (params_axis, "params")):
        left = [0] * len(bars)
        for kind in CHART_KINDS:
            values = [dict(bar.kinds).get(kind) for bar in bars]
            sizes = [(w.headline if panel == "count" else w.params) if w is not None else 0 for w in values]
            if not any(sizes):
                continue
            drawn = axis.barh(
                positions, sizes, left=left, color=KIND_COLOURS[kind], label=CHART_KINDS[kind], height=0.7
            )
            seen.setdefault(kind, drawn)
            for index, (rect, bar, part, size) in enumerate(zip(drawn, bars, values, sizes, strict=True)):
                if size and part is not None:
                    hover(
                        fig,
                        rect,
                        f"modules-{panel}-{index}-{kind}",
                        _segment_title(summary, bar, kind, part),
                        module=bar.label,
                        kind=kind,
                        count=part.headline,
                        macs=part.macs,
                        params=part.params,
                        module_count=bar.work.headline,
                        module_params=bar.work.params,
                        module_bytes=bar.bytes,
                    )
            left = [a + b for a, b in zip(left, sizes, strict=True)]
    total = summary.totals.headline
    for index, bar in enumerate(bars):
        if bar.work.headline and total:
            share = 100 * bar.work.headline / total
            count_axis.annotate(
                f"{share:.1f} %" if share >= 0.05 else "< 0.1 %",
                (bar.work.headline, index),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
            )
    count_axis.set_xlim(
        0, max((bar.work.headline for bar in bars), default=0) * 1.12 or 1
    )  # room for the shares
    params_axis.set_xlim(0, max((bar.work.params for bar in bars), default=0) * 1.04 or 1)
    count_axis.set_yticks(positions, [short(bar.label, 32) for bar in bars])
    count_axis.set_ylim(len(bars) - 0.5, -0.5)
    kept = f"the {len(bars):,} largest of " if len(bars) < chart.modules - chart.zero else ""
    title = f"{label} and params {_depth_words(chart)}: {kept}{chart.modules:,} modules"
    if chart.depth is None:
        title = f"{label} and params per layer: {kept}{chart.modules:,} layers"
    if chart.zero:
        title += f" ({chart.zero:,} with no {label} and no params left out)"
    titled_panels(fig, title, f"{label} (batch {summary.settings.batch})", count_axis, params_axis)
    kinds = [kind for kind in CHART_KINDS if kind in seen]
    fig.legend(
        [seen[kind] for kind in kinds],
        [CHART_KINDS[kind] for kind in kinds],
        loc="outside lower center",
        ncols=min(4, len(kinds)),
        frameon=False,
    )
    return fig


# ---------------------------------------------------------------- roofline


class _Point(NamedTuple):
    """A point as the roofline draws it: where, its label (or none), its hover."""

    x: float
    y: float
    text: str
    bound: str
    title: str
    data: dict[str, object]


def _layer_points(summary: LayerSummary) -> list[_Point]:
    """A layer's variants and their steps: every one labelled."""
    items: list[tuple[str, Any]] = []
    for v in summary.variants:
        items.append((v.name.replace("_", "-"), v.memory))
        items += [(f"{step.name} step", step.memory) for step in v.steps]
    points = []
    for name, memory in items:
        timing = memory.timing
        if memory.flops and timing is not None and timing.time_s > 0:
            points.append(
                _Point(
                    memory.arithmetic_intensity,
                    memory.flops / timing.time_s,
                    name,
                    timing.bound,
                    _roof_title(name, "", memory),
                    _roof_data(name, "", memory),
                )
            )
    return points


def _roof_title(name: str, module: str, memory: Any) -> str:
    from .views import time_text

    where = f" (module {escape_text(module)})" if module and module != name else ""
    timing = memory.timing
    return (
        f"{escape_text(name)}{where}\n"
        f"{memory.flops:,} FLOPs, {memory.bytes:,} bytes: {memory.arithmetic_intensity:.1f} FLOP/B\n"
        f"time ≥ {time_text(timing.time_s)}, {timing.bound}-bound"
    )


def _roof_data(name: str, module: str, memory: Any) -> dict[str, object]:
    return {
        "name": name,
        "module": module,
        "flops": memory.flops,
        "bytes": memory.bytes,
        "time_s": repr(memory.timing.time_s),
        "bound": memory.timing.bound,
    }


def _network_points(summary: NetworkSummary) -> list[_Point]:
    """The table's rows: the longest memory- and compute-bound ones labelled by number."""
    points = []
    for p in chart_data.roof_points(summary):
        row = p.row
        text = ""
        if p.number:
            alike = f" ×{p.alike}" if p.alike > 1 else ""
            text = f"{p.number}  {short(row.name, 36)}{alike}"
        data = {**_roof_data(row.name, row.module, row.memory), "count": row.work.headline, "label": p.number}
        bound = row.memory.timing.bound if row.memory.timing is not None else ""
        title = _roof_title(row.name, row.module, row.memory)
        points.append(_Point(p.intensity, p.attainable, text, bound, title, data))
    return points


def roofline(summary: LayerSummary | NetworkSummary) -> Figure:
    """Each layer (or variant) as a point under the device's compute and memory roofs. Every
    point lies on a roof (its time is the larger bound), so the labels stand apart: the
    memory-bound ones stacked above the memory roof, the compute-bound ones below the compute
    roof, each with a line to its point."""
    s = summary.settings
    if s.device is None or summary.ridge_point is None:
        raise ValueError(
            "a roofline needs a device: give --device NAME, or --peak-tflops and --bandwidth-gbs"
        )
    peak, bandwidth, ridge = s.device.peak[s.dtype], s.device.bandwidth, summary.ridge_point
    points = _layer_points(summary) if isinstance(summary, LayerSummary) else _network_points(summary)
    intensities = [p.x for p in points] or [ridge]
    low, high = min(min(intensities), ridge) / 4, max(max(intensities), ridge) * 4
    column = _column([p.text for p in points if p.text and p.bound == "memory"])
    leftmost = min((p.x for p in points if p.text and p.bound == "memory"), default=None)
    if leftmost is not None:  # the axis starts far enough left for the labels' column to fit
        low = min(low, 10 ** ((log10(leftmost) - (column + 0.04) * log10(high)) / (1 - column - 0.04)))
    fig = _figure(_WIDTH, 6.5)
    axis = fig.subplots()
    xs = [low, ridge, high]
    axis.plot(
        xs, [min(peak, x * bandwidth) for x in xs], color="#888888", linewidth=2, label="roof", zorder=1
    )
    axis.axvline(ridge, color="gray", linestyle=":", linewidth=1, label=f"ridge point {ridge:.0f} FLOP/B")
    colours = {"memory": "#c44e52", "compute": "#4c72b0"}
    for bound in ("memory", "compute"):
        group = [p for p in points if p.bound == bound]
        if group:  # the legend's entry: one invisible point of the group's look
            axis.plot([], [], "o", color=colours[bound], label=f"{bound}-bound ({len(group):,})")
    for index, p in enumerate(points):
        (marker,) = axis.plot(
            [p.x], [p.y], "o", markersize=6, color=colours[p.bound], markeredgecolor="white",
            markeredgewidth=0.6, zorder=3,
        )  # fmt: skip
        hover(fig, marker, f"roofline-{index}", p.title, **p.data)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlim(low, high)
    axis.set_ylim(top=peak * 3)
    _label(axis, points, low, high, ridge, column)
    axis.set_xlabel("arithmetic intensity (FLOP/B of minimum traffic)")
    axis.set_ylabel("attainable FLOP/s (its FLOPs / its time bound)")
    engineering(axis, "y")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))  # not 10⁻¹: small
    for scale in (axis.xaxis, axis.yaxis):
        scale.set_minor_formatter(NullFormatter())
    axis.set_title(f"Roofline: {escape_text(s.device.title)}, {s.dtype.value}".replace("$", r"\$"))
    fig.legend(loc="outside lower center", ncols=4, frameon=False)
    axis.grid(alpha=0.3, which="both")
    return fig


#: The stacked labels' spacing, in axes fractions; the roofline's width in inches.
_STEP = 0.055
_WIDTH = 10.0


def _column(texts: list[str]) -> float:
    """Where the memory-bound labels' column ends, as a fraction of the axes' width: right of
    the longest label (about 0.6 em a character; the axes take about 85 % of the figure)."""
    longest = max((len(text) for text in texts), default=0)
    return min(0.6, max(0.25, 0.04 + longest * 0.6 * FONT_SIZE / (_WIDTH * 72 * 0.85)))


def _label(axis: Any, points: list[_Point], low: float, high: float, ridge: float, column: float) -> None:
    """Every point lies on a roof, and the space under and over the roofs is empty: the labels
    go there, in columns, each with a line to its point, ordered so that no two lines cross.

    Memory-bound points: a column right-aligned above the memory roof, left of every one of
    them (the axis starts far enough left), the highest point's label on top. Compute-bound
    points: a column right-aligned under the memory roof, left of the ridge point, the leftmost
    point's label on top."""

    def across(x: float) -> float:  # a data x as a fraction of the axes' width (log scale)
        return (log10(x) - log10(low)) / (log10(high) - log10(low))

    line = {"arrowstyle": "-", "color": "#999999", "linewidth": 0.6, "shrinkB": 4, "relpos": (1.0, 0.5)}
    memory = sorted((p for p in points if p.text and p.bound == "memory"), key=lambda p: (-p.y, p.x))
    for index, p in enumerate(memory):
        axis.annotate(
            p.text, (p.x, p.y), xytext=(column - 0.02, 0.95 - _STEP * index), textcoords="axes fraction",
            ha="right", va="center", arrowprops=line,
        )  # fmt: skip
    compute = sorted((p for p in points if p.text and p.bound == "compute"), key=lambda p: (p.x, -p.y))
    for index, p in enumerate(compute):
        axis.annotate(
            p.text, (p.x, p.y), xytext=(across(ridge) - 0.04, 0.05 + _STEP * (len(compute) - 1 - index)),
            textcoords="axes fraction", ha="right", va="center", arrowprops=line,
        )  # fmt: skip
