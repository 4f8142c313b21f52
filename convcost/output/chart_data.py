"""What the network charts show, as plain values (no matplotlib): the modules' bars split by
kind, the largest rows, and the roofline points that get a label.

The charts, their hover titles and the page's tables all read these, so what a picture shows
is what ``--json`` says: every count here is a sum of the summary's own rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple, TypeVar

from ..model.rollup import fitting_depth, groups
from .summary import NetworkSummary, RowSummary, Timing, Work, work

T = TypeVar("T")

#: The most bars the per-module chart shows: the depth is the deepest whose modules fit.
MAX_MODULE_BARS = 40
#: At most this many rows get a bar in the per-layer chart: the ones with the most work.
MAX_BARS = 60
#: The roofline labels the memory-bound rows that take longest, and the compute-bound ones.
LABELLED_MEMORY = 8
LABELLED_COMPUTE = 4

#: The kinds a module's bar is split into, in stacking and legend order: the breakdown's
#: kinds, with a matmul's linear work (attention's QKᵀ and AV) and the norms' params told apart.
CHART_KINDS: dict[str, str] = {
    "conv": "conv (regular)",
    "grouped": "grouped conv",
    "depthwise": "depthwise conv",
    "pointwise": "pointwise 1×1 conv",
    "linear": "linear (fully connected)",
    "matmul": "matmul (attention)",
    "norm": "norm",
    "other": "other (pools, merges, parameters)",
}
#: One colour per kind, the same in every chart (colour-blind-safe, after Okabe and Ito).
KIND_COLOURS = {
    "conv": "#0072b2",
    "grouped": "#56b4e9",
    "depthwise": "#009e73",
    "pointwise": "#e69f00",
    "linear": "#cc79a7",
    "matmul": "#d55e00",
    "norm": "#999999",
    "other": "#f0e442",
}
_NORMS = frozenset({"batchnorm", "layernorm", "groupnorm", "instancenorm"})


def chart_kind(row_type: str, part_kind: str) -> str:
    """The kind a piece of a row's cost is drawn as."""
    if part_kind == "linear" and row_type == "matmul":
        return "matmul"
    if part_kind == "other" and row_type in _NORMS:
        return "norm"
    return part_kind


def main_kind(row: RowSummary) -> str | None:
    """The kind of most of a layer's count (its params, if it has no count); None for a roll-up
    row, whose layers may be of many kinds."""
    if not row.parts:
        return None
    best = max(row.parts, key=lambda part: (part.counts.macs, part.counts.params))
    return chart_kind(row.type, best.kind)


def _sum(works: Sequence[Work]) -> Work:
    """Works added field by field."""
    return Work(*(sum(column) for column in zip(*works, strict=True))) if works else Work(0, 0, 0, 0, 0, 0)


def is_zero(w: Work) -> bool:
    """Nothing to draw: no count under the convention and no params."""
    return not w.headline and not w.params


class ModuleBar(NamedTuple):
    """One module at the chart's depth: its subtotals, and the same split by kind."""

    module: str  # the dotted module path ("" for a row of the top-level forward)
    label: str  # how the chart names it: the module path, or the row's own name
    rows: int  # the layers it sums
    work: Work
    bytes: int  # minimum traffic of its rows, summed
    time_s: float | None  # its rows' roofline times, summed (with a device)
    kinds: tuple[tuple[str, Work], ...]  # (chart kind, its work), nonzero only, in CHART_KINDS order


class ModuleChart(NamedTuple):
    depth: int | None  # None: every layer is a bar
    bars: tuple[ModuleBar, ...]  # the bars drawn, in the order the modules first run
    modules: int  # the modules at that depth, bars or not
    zero: int  # modules left out for having no count and no params
    chosen: bool  # the depth was chosen to fit (not given with --depth)


def module_depth(summary: NetworkSummary) -> tuple[int | None, bool]:
    """The depth the per-module chart draws, and whether it was chosen: ``--depth`` if given,
    else the deepest whose modules fit in :data:`MAX_MODULE_BARS` bars, as a table chooses."""
    if summary.depth is not None:
        return summary.depth, False
    layers = summary.layers or summary.rows
    found = fitting_depth([r.module for r in layers], [r.name for r in layers], MAX_MODULE_BARS)
    return found, True


def module_chart(summary: NetworkSummary, depth: int | None = None) -> ModuleChart:
    """The network's layers summed by module at ``depth`` (by default :func:`module_depth`'s),
    each split by kind; modules with no count and no params are left out, and of more than
    :data:`MAX_MODULE_BARS` the largest are kept."""
    chosen = depth is None
    if depth is None:
        depth, chosen = module_depth(summary)
    s = summary.settings
    layers = summary.layers or summary.rows
    grouped: list[tuple[str, str, tuple[int, ...]]]
    if depth is None:
        grouped = [(row.module, row.name, (i,)) for i, row in enumerate(layers)]
    else:
        found = groups([r.module for r in layers], [r.name for r in layers], depth)
        grouped = [(g.module, g.label, g.members) for g in found]
    bars = []
    for module, label, members in grouped:
        rows = [layers[i] for i in members]
        by_kind: dict[str, list[Work]] = {}
        for row in rows:
            for part in row.parts:
                by_kind.setdefault(chart_kind(row.type, part.kind), []).append(work(part.counts, s))
        kinds = tuple(
            (kind, total)
            for kind in CHART_KINDS
            if kind in by_kind and not is_zero(total := _sum(by_kind[kind]))
        )
        times = [row.memory.timing.time_s for row in rows if row.memory.timing is not None]
        bars.append(
            ModuleBar(
                module,
                label,
                len(rows),
                _sum([row.work for row in rows]),
                sum(row.memory.bytes for row in rows),
                sum(times) if times else None,
                kinds,
            )
        )
    drawn = [bar for bar in bars if not is_zero(bar.work)]
    kept = largest(drawn, MAX_MODULE_BARS, lambda bar: (bar.work.headline, bar.work.params))
    return ModuleChart(depth, tuple(kept), len(bars), len(bars) - len(drawn), chosen)


def largest(items: Sequence[T], count: int, size: Callable[[T], tuple[int, ...]]) -> list[T]:
    """The ``count`` largest items by ``size``, in their own order (ties: the first)."""
    if len(items) <= count:
        return list(items)
    ranked = sorted(range(len(items)), key=lambda i: (tuple(-v for v in size(items[i])), i))
    return [items[i] for i in sorted(ranked[:count])]


class LayerBars(NamedTuple):
    """The per-layer chart's rows: of the table's rows, those with a count, the largest kept."""

    rows: tuple[RowSummary, ...]
    table_rows: int  # the rows the page's table shows
    with_work: int  # of those, the rows with any count (the others are never "largest")


def layer_bars(summary: NetworkSummary) -> LayerBars:
    candidates = [row for row in summary.rows if row.work.headline]
    kept = largest(candidates, MAX_BARS, lambda row: (row.work.headline, row.work.params))
    return LayerBars(tuple(kept), len(summary.rows), len(candidates))


class RoofPoint(NamedTuple):
    """A row on the roofline: its intensity and attainable FLOP/s; a labelled one has a number."""

    row: RowSummary
    intensity: float  # FLOP/B of its minimum traffic
    attainable: float  # its FLOPs / its time bound
    number: int  # its label's number, 1 for the longest; 0: not labelled
    alike: int  # a labelled point's rows at the very same point, itself included (a block's copies)


def _point(row: RowSummary) -> tuple[int, int, int, float]:
    """What puts a row at a point of the roofline: rows with the same are one label."""
    return (row.work.headline, row.memory.flops, row.memory.bytes, _timing(row).time_s)


def roof_points(summary: NetworkSummary) -> list[RoofPoint]:
    """Each table row with FLOPs and a time, in order. Of the memory-bound points, the
    :data:`LABELLED_MEMORY` that take longest get a label, and so do the :data:`LABELLED_COMPUTE`
    compute-bound ones that take longest; rows at the very same point (the copies of a block)
    share the first one's label. Labels are numbered from the longest."""
    found = [
        (i, row)
        for i, row in enumerate(summary.rows)
        if row.memory.flops and row.memory.timing is not None and row.memory.timing.time_s > 0
    ]
    alike: dict[tuple[int, int, int, float], list[int]] = {}
    for i, row in found:
        alike.setdefault(_point(row), []).append(i)
    numbered: list[tuple[int, RowSummary]] = []
    for bound, count in (("memory", LABELLED_MEMORY), ("compute", LABELLED_COMPUTE)):
        firsts = [(i, row) for i, row in found if _timing(row).bound == bound and alike[_point(row)][0] == i]
        firsts.sort(key=lambda item: (-_timing(item[1]).time_s, item[0]))
        numbered += firsts[:count]
    numbered.sort(key=lambda item: (-_timing(item[1]).time_s, item[0]))
    numbers = {i: n for n, (i, _) in enumerate(numbered, 1)}
    return [
        RoofPoint(
            row,
            row.memory.arithmetic_intensity,
            row.memory.flops / _timing(row).time_s,
            numbers.get(i, 0),
            len(alike[_point(row)]) if i in numbers else 0,
        )
        for i, row in found
    ]


def off_the_roofline(summary: NetworkSummary) -> tuple[int, float]:
    """The table's rows with a time but no FLOPs (a point at intensity 0 has no place on a log
    axis): how many, and their time."""
    times = [
        row.memory.timing.time_s
        for row in summary.rows
        if row.memory.timing is not None and not row.memory.flops
    ]
    return len(times), sum(times)


def labelled(points: Sequence[RoofPoint]) -> list[RoofPoint]:
    """The numbered points, by number."""
    return sorted((p for p in points if p.number), key=lambda p: p.number)


def _timing(row: RowSummary) -> Timing:
    timing = row.memory.timing
    assert timing is not None
    return timing
