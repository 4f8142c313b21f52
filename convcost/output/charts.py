"""Charts as SVG (or PNG) text, drawn from a summary with matplotlib, the optional ``plot`` extra.

Every chart is a function of a summary: where the MACs and params go layer by layer, MACs by
kind, the roofline (each layer and variant a point: arithmetic intensity against attainable
FLOP/s, under the device's roofs), and a sweep's saving against MobileNet's limit
1 − 1/D_K². The SVGs carry no date and no random ids, so the same input gives the same bytes.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

from ..core.errors import escape_text, shorten
from .summary import LayerSummary, NetworkSummary, SweepSummary

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INSTALL_HINT = "charts need matplotlib: pip install 'convcost[plot]'"
ImageFormat = Literal["svg", "png"]


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

    matplotlib.rcParams.update({"svg.hashsalt": "convcost", "svg.fonttype": "none", "font.size": 9})
    return Figure(figsize=(width, height), layout="constrained")


def render(fig: Figure, fmt: ImageFormat = "svg") -> bytes:
    buffer = io.BytesIO()
    metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {}
    with _quiet():
        fig.savefig(buffer, format=fmt, metadata=metadata, dpi=150)
    return buffer.getvalue()


def _short(name: str, width: int = 28) -> str:
    """A row name as a label: cut, control characters escaped, and ``$`` literal (not mathtext)."""
    name = escape_text(name)
    name = name if len(name) <= width else name[: width // 2 - 1] + "…" + name[-(width // 2) :]
    return name.replace("$", r"\$")


def _engineering(axis: Any, which: str = "x") -> None:
    """Tick labels as ``10M``, ``2G``: no offset text (``1e7``) to multiply in one's head."""
    from matplotlib.ticker import EngFormatter

    target = axis.xaxis if which == "x" else axis.yaxis
    target.set_major_formatter(EngFormatter(sep=""))


#: At most this many layers get a bar: the ones with the most work, in network order.
MAX_BARS = 60


def layer_bars(summary: NetworkSummary) -> Figure:
    """MACs and params per layer (rows with neither left out; of a big network, the largest)."""
    rows = [row for row in summary.rows if row.work.headline or row.work.params]
    shown = len(rows)
    if shown > MAX_BARS:
        largest = sorted(range(shown), key=lambda i: (-rows[i].work.headline, -rows[i].work.params, i))
        keep = sorted(largest[:MAX_BARS])
        rows = [rows[i] for i in keep]
    height = min(40.0, 1.5 + 0.16 * len(rows))
    fig = _figure(10.0, height)
    macs_axis, params_axis = fig.subplots(1, 2, sharey=True)
    positions = list(range(len(rows)))
    macs_axis.barh(positions, [row.work.headline for row in rows], color="#4c72b0")
    params_axis.barh(positions, [row.work.params for row in rows], color="#dd8452")
    macs_axis.set_yticks(positions, [_short(row.name) for row in rows], fontsize=6 if len(rows) > 40 else 8)
    macs_axis.set_ylim(len(rows) - 0.5, -0.5)  # the first layer on top, no empty margin
    label = summary.settings.convention.label
    title = f"{label} per layer (batch {summary.settings.batch})"
    if shown > len(rows):
        title = f"{label} of the {len(rows)} largest of {shown:,} layers (batch {summary.settings.batch})"
    macs_axis.set_title(title)
    params_axis.set_title("params per layer")
    for axis in (macs_axis, params_axis):
        _engineering(axis)
        axis.grid(axis="x", alpha=0.3)
        axis.set_axisbelow(True)
    return fig


def kinds_bar(summary: NetworkSummary) -> Figure:
    """MACs by kind of layer (MobileNet's Table 2 as a chart)."""
    kinds = [kind for kind in summary.breakdown if kind.work.headline]
    fig = _figure(8.0, 1.2 + 0.45 * max(1, len(kinds)))
    axis = fig.subplots()
    axis.barh([kind.label for kind in kinds], [kind.work.headline for kind in kinds], color="#55a868")
    total = summary.totals.headline or 1
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
    _engineering(axis)
    axis.grid(axis="x", alpha=0.3)
    axis.set_axisbelow(True)
    return fig


def _roofline_points(summary: LayerSummary | NetworkSummary) -> list[tuple[str, float, float]]:
    """(label, arithmetic intensity, attainable FLOP/s) for each layer or variant with work."""
    points = []
    if isinstance(summary, LayerSummary):
        items: list[tuple[str, Any]] = []
        for v in summary.variants:
            items.append((v.name.replace("_", "-"), v.memory))
            items += [(f"{step.name} step", step.memory) for step in v.steps]
    else:
        items = [(row.name, row.memory) for row in summary.rows]
    for label, memory in items:
        if memory.flops and memory.timing is not None and memory.timing.time_s > 0:
            points.append((label, memory.arithmetic_intensity, memory.flops / memory.timing.time_s))
    return points


def roofline(summary: LayerSummary | NetworkSummary) -> Figure:
    """Each layer (or variant) as a point under the device's compute and memory roofs."""
    s = summary.settings
    if s.device is None or summary.ridge_point is None:
        raise ValueError(
            "a roofline needs a device: give --device NAME, or --peak-tflops and --bandwidth-gbs"
        )
    peak, bandwidth, ridge = s.device.peak[s.dtype], s.device.bandwidth, summary.ridge_point
    points = _roofline_points(summary)
    intensities = [p[1] for p in points] or [ridge]
    low, high = min(min(intensities), ridge) / 4, max(max(intensities), ridge) * 4
    fig = _figure(8.0, 5.0)
    axis = fig.subplots()
    xs = [low, ridge, high]
    axis.plot(
        xs, [min(peak, x * bandwidth) for x in xs], color="#888888", linewidth=2, label="roof", zorder=1
    )
    axis.axvline(ridge, color="gray", linestyle=":", linewidth=1, label=f"ridge point {ridge:.0f} FLOP/B")
    memory_bound = [p for p in points if p[1] < ridge]
    compute_bound = [p for p in points if p[1] >= ridge]
    for group, colour, label in (
        (memory_bound, "#c44e52", "memory-bound"),
        (compute_bound, "#4c72b0", "compute-bound"),
    ):
        if group:
            axis.scatter(
                [p[1] for p in group],
                [p[2] for p in group],
                s=28,
                color=colour,
                edgecolors="white",
                linewidths=0.6,
                label=f"{label} ({len(group)})",
                zorder=3,
            )
    if isinstance(summary, LayerSummary) or len(points) <= 12:
        for label, x, y in points:
            axis.annotate(_short(label, 28), (x, y), textcoords="offset points", xytext=(5, -11), fontsize=7)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("arithmetic intensity (FLOP/B of minimum traffic)")
    axis.set_ylabel("attainable FLOP/s (its FLOPs / its time bound)")
    _engineering(axis, "y")
    axis.set_ylim(top=peak * 3)
    axis.set_title(f"Roofline: {escape_text(s.device.title)}, {s.dtype.value}".replace("$", r"\$"))
    axis.legend(loc="lower right", fontsize=8)
    axis.grid(alpha=0.3, which="both")
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
        fontsize=7,
    )
    axis.set_xlabel(", ".join(summary.varying) or "point")
    axis.set_ylabel("fewer MACs than regular (%)")
    axis.set_title(
        "Saving of the swept layer and its depthwise-separable form"
        if summary.not_regular
        else "Depthwise-separable saving"
    )
    axis.legend(fontsize=8, loc="lower right")
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
            f"peak {m.peak_bytes:,} B at {_short(m.peak_at or '-')}",
            (top, m.peak_bytes),
            textcoords="offset points",
            xytext=(6, 4),
            fontsize=8,
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
    _engineering(axis, "y")
    from .memory_view import rule_text

    axis.set_title(f"Live activation memory over the schedule ({rule_text(found)})")
    axis.legend(fontsize=8, loc="upper right")
    axis.grid(alpha=0.3)
    axis.set_axisbelow(True)
    return fig


def charts_for(summary: LayerSummary | NetworkSummary | SweepSummary) -> dict[str, Callable[[], Figure]]:
    """The charts that make sense for a summary, by name, drawn only when called (quietly)."""
    found: dict[str, Callable[[], Figure]] = {}
    if isinstance(summary, NetworkSummary):
        found["layers"] = lambda: layer_bars(summary)
        found["kinds"] = lambda: kinds_bar(summary)
        if summary.peak_memory is not None:  # asked for (compare --memory)
            found["memory"] = lambda: live_bytes(summary)
    if isinstance(summary, SweepSummary):
        found["saving"] = lambda: saving_curve(summary)
    elif summary.settings.device is not None:
        found["roofline"] = lambda: roofline(summary)
    return {name: _quietly(draw) for name, draw in found.items()}


def _quietly(draw: Callable[[], Figure]) -> Callable[[], Figure]:
    def drawn() -> Figure:
        with _quiet():
            return draw()

    return drawn
