"""Charts as SVG (or PNG) text, drawn from a summary with matplotlib, the optional ``plot`` extra.

Every chart is a function of a summary: where the MACs and params go layer by layer, MACs by
kind, the roofline (each layer and variant a point: arithmetic intensity against attainable
FLOP/s, under the device's roofs), and a sweep's saving against MobileNet's limit
1 − 1/D_K². The SVGs carry no date and no random ids, so the same input gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..core.errors import escape_text
from .summary import LayerSummary, NetworkSummary, SweepSummary

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INSTALL_HINT = "charts need matplotlib: pip install 'convcost[plot]'"
ImageFormat = Literal["svg", "png"]
#: Charts per summary kind, by name (``convcost plot --chart NAME``).
CHART_NAMES = ("layers", "kinds", "roofline", "saving")


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed."""


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width: float = 8.0, height: float = 4.0) -> Figure:
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotUnavailable(INSTALL_HINT) from None
    matplotlib.rcParams.update({"svg.hashsalt": "convcost", "svg.fonttype": "none", "font.size": 9})
    return Figure(figsize=(width, height), layout="constrained")


def render(fig: Figure, fmt: ImageFormat = "svg") -> bytes:
    buffer = io.BytesIO()
    metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {}
    fig.savefig(buffer, format=fmt, metadata=metadata, dpi=150)
    return buffer.getvalue()


def _short(name: str, width: int = 28) -> str:
    """A row name as a label: cut, control characters escaped, and ``$`` literal (not mathtext)."""
    name = escape_text(name)
    name = name if len(name) <= width else name[: width // 2 - 1] + "…" + name[-(width // 2) :]
    return name.replace("$", r"\$")


def layer_bars(summary: NetworkSummary) -> Figure:
    """MACs and params per layer (rows with neither left out)."""
    rows = [row for row in summary.rows if row.work.macs or row.work.params]
    height = min(40.0, 1.5 + 0.16 * len(rows))
    fig = _figure(10.0, height)
    macs_axis, params_axis = fig.subplots(1, 2, sharey=True)
    positions = list(range(len(rows)))
    macs_axis.barh(positions, [row.work.macs for row in rows], color="#4c72b0")
    params_axis.barh(positions, [row.work.params for row in rows], color="#dd8452")
    macs_axis.set_yticks(positions, [_short(row.name) for row in rows], fontsize=6 if len(rows) > 40 else 8)
    macs_axis.invert_yaxis()
    macs_axis.set_title(f"{summary.settings.convention.label} per layer (batch {summary.settings.batch})")
    params_axis.set_title("params per layer")
    for axis in (macs_axis, params_axis):
        axis.ticklabel_format(axis="x", style="sci", scilimits=(0, 3))
        axis.grid(axis="x", alpha=0.3)
    return fig


def kinds_bar(summary: NetworkSummary) -> Figure:
    """MACs by kind of layer (MobileNet's Table 2 as a chart)."""
    kinds = [kind for kind in summary.breakdown if kind.work.macs]
    fig = _figure(8.0, 1.2 + 0.45 * max(1, len(kinds)))
    axis = fig.subplots()
    axis.barh([kind.label for kind in kinds], [kind.work.macs for kind in kinds], color="#55a868")
    for index, kind in enumerate(kinds):
        axis.text(kind.work.macs, index, f" {100 * kind.macs_share:.1f} %", va="center")
    axis.invert_yaxis()
    axis.set_title("MACs by kind")
    axis.ticklabel_format(axis="x", style="sci", scilimits=(0, 3))
    return fig


def _roofline_points(summary: LayerSummary | NetworkSummary) -> list[tuple[str, float, float]]:
    """(label, arithmetic intensity, attainable FLOP/s) for each layer or variant with work."""
    points = []
    if isinstance(summary, LayerSummary):
        items: Sequence[tuple[str, Any]] = [(v.name.replace("_", "-"), v.memory) for v in summary.variants]
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
    axis.plot(xs, [min(peak, x * bandwidth) for x in xs], color="black", linewidth=1.5, label="roof")
    axis.axvline(ridge, color="gray", linestyle=":", linewidth=1)
    axis.text(ridge, peak * 1.15, f"ridge {ridge:.0f} FLOP/B", ha="center", fontsize=8)
    memory_bound = [p for p in points if p[1] < ridge]
    compute_bound = [p for p in points if p[1] >= ridge]
    for group, colour, label in (
        (memory_bound, "#c44e52", "memory-bound"),
        (compute_bound, "#4c72b0", "compute-bound"),
    ):
        if group:
            axis.scatter(
                [p[1] for p in group], [p[2] for p in group], s=14, color=colour, label=label, zorder=3
            )
    if isinstance(summary, LayerSummary) or len(points) <= 12:
        for label, x, y in points:
            axis.annotate(_short(label, 20), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("arithmetic intensity (FLOP/B of minimum traffic)")
    axis.set_ylabel("attainable FLOP/s")
    axis.set_title(f"Roofline: {s.device.title}, {s.dtype.value}")
    axis.legend(loc="lower right", fontsize=8)
    axis.grid(alpha=0.3, which="both")
    return fig


def saving_curve(summary: SweepSummary) -> Figure:
    """The depthwise-separable saving per point, against the limit 1 − 1/D_K²."""
    fig = _figure(8.0, 4.0)
    axis = fig.subplots()
    pcts = [p.layer.variants[-1].reduction_pct for p in summary.points]
    theory = [100 * (1 - p.layer.theory.ratio) for p in summary.points]
    labels = [" ".join(str(p.swept[key]) for key in summary.varying) for p in summary.points]
    xs = list(range(len(pcts)))
    axis.plot(xs, pcts, marker="o", markersize=3, label="exact saving")
    axis.plot(xs, theory, linestyle="--", label="1 − (1/N + 1/D_K²)")
    if summary.theory_limit_pct is not None:
        axis.axhline(summary.theory_limit_pct, color="gray", linestyle=":", label="limit 1 − 1/D_K²")
    step = max(1, len(xs) // 16)
    axis.set_xticks(xs[::step], labels[::step], rotation=45, ha="right", fontsize=7)
    axis.set_xlabel(", ".join(summary.varying) or "point")
    axis.set_ylabel("fewer MACs than regular (%)")
    axis.set_title("Depthwise-separable saving")
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    return fig


def charts_for(summary: LayerSummary | NetworkSummary | SweepSummary) -> dict[str, Callable[[], Figure]]:
    """The charts that make sense for a summary, by name, drawn only when called."""
    found: dict[str, Callable[[], Figure]] = {}
    if isinstance(summary, NetworkSummary):
        found["layers"] = lambda: layer_bars(summary)
        found["kinds"] = lambda: kinds_bar(summary)
    if isinstance(summary, SweepSummary):
        found["saving"] = lambda: saving_curve(summary)
    elif summary.settings.device is not None:
        found["roofline"] = lambda: roofline(summary)
    return found
