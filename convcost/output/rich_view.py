"""Rich tables for people. Imported only on the table path: ``--json`` never loads rich."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..core import conventions
from ..core.conv import Conv
from ..core.devices import Device
from ..core.dtypes import DType
from ..core.errors import escape_text
from ..core.options import DEFAULT, Settings
from ..core.values import PadPairs
from .summary import LayerSummary, Memory, NetworkSummary, StepSummary, SweepSummary

if TYPE_CHECKING:
    from typing import IO


#: Width used when output goes to a file or pipe: wide enough that no number is ever folded.
PIPE_WIDTH = 200
#: A terminal's width (COLUMNS) is taken within these bounds: 0 would print nothing at all.
MIN_WIDTH, MAX_WIDTH = 20, 1000


def make_console(
    file: IO[str] | None = None, width: int | None = None, force_terminal: bool | None = None
) -> Console:
    """A console that writes plain text when not on a terminal or when NO_COLOR is set.

    Rich keeps bold and dim under NO_COLOR; here NO_COLOR means no escape codes at all.
    Rich would wrap piped output at 80 columns; tables here size to their content
    instead, so a pipe gets the full table on unbroken lines.
    """
    plain = bool(os.environ.get("NO_COLOR"))
    # markup and emoji off: nothing here is markup, and parsing it costs start-up time.
    options: dict[str, Any] = {
        "file": file,
        "highlight": False,
        "markup": False,
        "emoji": False,
        "force_terminal": force_terminal,
    }
    if plain:
        options["color_system"] = None
    console = Console(width=width, **options)
    if width is None and not console.is_terminal:
        console = Console(width=PIPE_WIDTH, **options)
    elif width is None and not MIN_WIDTH <= console.width <= MAX_WIDTH:  # COLUMNS=0, or absurd
        console = Console(width=max(MIN_WIDTH, min(console.width, MAX_WIDTH)), **options)
    return console


def shape_text(shape: Sequence[int]) -> str:
    return "×".join(str(v) for v in shape)


def padding_text(pads: PadPairs) -> str:
    if all(lo == hi for lo, hi in pads):
        sides = [str(lo) for lo, _ in pads]
    else:
        sides = [f"{lo}:{hi}" for lo, hi in pads]
    return sides[0] if len(set(sides)) == 1 else "x".join(sides)


def _dims_text(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "x".join(str(v) for v in values)


def int_text(value: int) -> str:
    return f"{value:,}"


def ratio_text(value: float) -> str:
    return f"{value:.4f}"


def pct_text(value: float) -> str:
    return f"{value:.1f} %"


def describe(layer: Conv) -> str:
    """``conv 3×3, stride 2, padding same (0:1), groups 4, bias on``."""
    kind = "transposed conv" if layer.transposed else "conv"
    pieces = [f"{kind} {shape_text(layer.kernel)}", f"stride {_dims_text(layer.stride)}"]
    pad = padding_text(layer.padding)
    pieces.append(
        f"padding {layer.padding_rule} ({pad})" if layer.padding_rule != "explicit" else f"padding {pad}"
    )
    if any(d != 1 for d in layer.dilation):
        pieces.append(f"dilation {_dims_text(layer.dilation)}")
    if layer.transposed and any(layer.output_padding):
        pieces.append(f"output padding {_dims_text(layer.output_padding)}")
    pieces.append(f"groups {layer.groups}")
    pieces.append(f"bias {'on' if layer.bias else 'off'}")
    return ", ".join(pieces)


def layer_tables(summary: LayerSummary) -> list[RenderableType]:
    """The ``convcost layer`` view: the variants, then their memory traffic and time."""
    s = summary.settings
    layer = summary.layer
    batch = f", batch {s.batch}" if s.batch > 1 else ""
    title = f"{shape_text(layer.in_shape)} → {shape_text(layer.output_shape)}\n{describe(layer)}{batch}"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("variant", no_wrap=True)
    for label in ("kernel", "groups", "output"):
        table.add_column(label, no_wrap=True, justify="right" if label == "groups" else "left")
    for label in (s.convention.label, "params", "ratio", "reduction"):
        table.add_column(label, justify="right", no_wrap=True)
    for v in summary.variants:
        table.add_row(
            v.name.replace("_", "-"),
            *(_geometry_cells(v.layer) if v.layer else ("", "", "")),
            int_text(v.work.count),
            int_text(v.work.params),
            ratio_text(v.ratio),
            pct_text(v.reduction_pct),
        )
        for branch, step in _branches(v.steps):
            table.add_row(
                f" {branch} {step.name}",
                *_geometry_cells(step.layer),
                int_text(step.work.count),
                int_text(step.work.params),
                "",
                "",
                style="dim",
            )
    lines: list[RenderableType] = [table, Text(_theory_line(summary))]
    lines.extend(Text(f"Note: {escape_text(note)}") for note in summary.notes)
    lines.append(Text(""))
    lines.extend(memory_view(summary))
    lines.append(footer(s))
    return lines


def _branches(steps: Sequence[StepSummary]) -> list[tuple[str, StepSummary]]:
    return [("└" if i == len(steps) - 1 else "├", step) for i, step in enumerate(steps)]


def bytes_text(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def time_text(seconds: float) -> str:
    for unit, size in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def memory_view(summary: LayerSummary) -> list[RenderableType]:
    """Minimum traffic, arithmetic intensity and (with a device) roofline time, per variant."""
    s = summary.settings
    fused = ", depthwise-separable fused" if s.fused else ""
    title = f"Minimum memory traffic, {s.dtype.value}, batch {s.batch}{fused}"
    if s.device is not None:
        title += f"\n{device_line(s.device, s, summary.ridge_point)}"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    labels = ["variant", "FLOPs", "weights", "in + out", "between", "bytes", "FLOP/B"]
    if s.device is not None:
        labels += ["time ≥", "bound"]
    for label in labels:
        table.add_column(label, justify="left" if label in ("variant", "bound") else "right", no_wrap=True)
    for v in summary.variants:
        table.add_row(v.name.replace("_", "-"), *_traffic_cells(v.memory))
        for branch, step in _branches(v.steps):
            table.add_row(f" {branch} {step.name}", *_traffic_cells(step.memory), style="dim")
    lines: list[RenderableType] = [table]
    saving = summary.saving
    summary_line = f"depthwise-separable: {_factor(saving.macs_factor, 'fewer MACs', 'more MACs')}"
    if saving.time_factor is not None and summary.ridge_point is not None:
        summary_line += f", {_factor(saving.time_factor, 'less time', 'more time')}"
        summary_line += (
            f": the regular conv is {saving.regular_bound}-bound "
            f"({saving.regular_intensity:.0f} FLOP/B), "
            f"the depthwise-separable form {saving.separable_bound}-bound "
            f"({saving.separable_intensity:.0f} FLOP/B; ridge point {summary.ridge_point:.0f})."
        )
        lines.append(Text(summary_line))
        lines.append(
            Text(
                "Times are lower bounds — max(FLOPs / peak, bytes / bandwidth) with the datasheet's dense "
                "peak; real kernels take longer.",
                style="dim",
            )
        )
    else:
        summary_line += (
            f", {_factor(saving.bytes_factor, 'fewer bytes', 'more bytes')}; arithmetic intensity "
            f"{saving.regular_intensity:.0f} → {saving.separable_intensity:.0f} FLOP/B "
            "(add --device NAME for a roofline time)."
        )
        lines.append(Text(summary_line))
    return lines


def _factor(before_over_after: float, less: str, more: str) -> str:
    """``2.10× less time`` or ``1.07× more time``: a factor is never below 1."""
    if before_over_after >= 1 or before_over_after == 0:
        return f"{before_over_after:.2f}× {less}"
    return f"{1 / before_over_after:.2f}× {more}"


def device_line(device: Device, s: Settings, ridge: float | None) -> str:
    return (
        f"{device.title}: {device.peak[s.dtype] / 1e12:g} TFLOP/s {s.dtype.value}, "
        f"{device.bandwidth / 1e9:g} GB/s, ridge point {ridge or 0:.0f} FLOP/B"
    )


def footer(s: Settings) -> Text:
    text = conventions.FOOTER
    if s.convention != DEFAULT.convention:
        text += f" Counted here: {s.convention.label} = {s.convention.definition}."
    return Text(text, style="dim")


def _traffic_cells(m: Memory) -> list[str]:
    cells = [
        int_text(m.flops),
        bytes_text(m.weight_bytes),
        bytes_text(m.input_bytes + m.output_bytes),
        bytes_text(m.between_bytes) if m.intermediate_bytes else "",
        bytes_text(m.bytes),
        f"{m.arithmetic_intensity:.1f}",
    ]
    if m.timing is not None:
        cells += [time_text(m.timing.time_s), m.timing.bound]
    return cells


def _geometry_cells(layer: Conv) -> tuple[str, str, str]:
    return shape_text(layer.kernel), str(layer.groups), shape_text(layer.output_shape)


def _theory_line(summary: LayerSummary) -> str:
    dws = summary.variants[-1]
    t = summary.theory
    return (
        f"MobileNet theory: 1/N + 1/D_K² = {t.expression} = {ratio_text(t.ratio)}"
        f"   (exact depthwise-separable ratio {dws.ratio_exact} = {ratio_text(dws.ratio)})"
    )


def print_all(renderables: Iterable[RenderableType], console: Console | None = None) -> None:
    console = console or make_console()
    for renderable in renderables:
        console.print(renderable)


def _share_text(share: float, whole: int) -> str:
    return pct_text(100.0 * share) if whole else "—"


_FORM_LABELS = {
    "as_written": "as written",
    "regular": "regular convs",
    "depthwise_separable": "depthwise-separable",
}


def network_tables(summary: NetworkSummary, title: str) -> list[RenderableType]:
    """The ``convcost compare`` view: per-layer rows, totals, the network what-ifs and the breakdown."""
    s = summary.settings
    totals = summary.totals
    title = escape_text(title)  # it holds the file name, as given
    if s.batch > 1 or s.device is not None:
        title += f" — {s.dtype.value}, batch {s.batch}"
    if s.device is not None:
        title += f"\n{device_line(s.device, s, summary.ridge_point)}"
    layers = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_footer=True)
    layers.add_column("layer", footer="total", no_wrap=True)
    layers.add_column("type", no_wrap=True)
    layers.add_column("in → out", no_wrap=True)
    layers.add_column(s.convention.label, footer=int_text(totals.count), justify="right", no_wrap=True)
    layers.add_column("params", footer=int_text(totals.params), justify="right", no_wrap=True)
    layers.add_column("% MACs", footer=_share_text(1.0, totals.macs), justify="right", no_wrap=True)
    layers.add_column("RF", no_wrap=True, justify="right")
    layers.add_column("FLOP/B", justify="right", no_wrap=True)
    if summary.total_time_s is not None:
        layers.add_column("time ≥", footer=time_text(summary.total_time_s), justify="right", no_wrap=True)
        layers.add_column("bound", no_wrap=True)
    for row in summary.rows:
        cells = [
            escape_text(row.name),
            escape_text(row.label),
            f"{shape_text(row.input_shape)} → {shape_text(row.output_shape)}",
            int_text(row.work.count),
            int_text(row.work.params),
            _share_text(row.macs_share, totals.macs),
            shape_text(row.receptive_field.size) if row.receptive_field else "—",
            f"{row.memory.arithmetic_intensity:.1f}" if row.memory.flops else "—",
        ]
        timing = row.memory.timing
        if timing is not None:
            cells += [time_text(timing.time_s), timing.bound if row.memory.flops else "memory"]
        layers.add_row(*cells)

    whatif = Table(
        title="Every spatial conv (kernel > 1) as…", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for label, justify in (
        ("network", "left"),
        ("MACs", "right"),
        ("params", "right"),
        ("MACs ratio", "right"),
        ("params ratio", "right"),
    ):
        whatif.add_column(label, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for form in summary.forms:
        whatif.add_row(
            _FORM_LABELS[form.name],
            int_text(form.work.macs),
            int_text(form.work.params),
            ratio_text(form.ratio) if form.ratio is not None else "—",
            ratio_text(form.params_ratio) if form.params_ratio is not None else "—",
        )

    kinds = Table(title="Breakdown by kind", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for label in ("kind", "MACs", "% MACs", "params", "% params"):
        kinds.add_column(label, justify="left" if label == "kind" else "right", no_wrap=True)
    for kind in summary.breakdown:
        if kind.work.macs or kind.work.params:
            kinds.add_row(
                kind.label,
                int_text(kind.work.macs),
                _share_text(kind.macs_share, totals.macs),
                int_text(kind.work.params),
                _share_text(kind.params_share, totals.params),
            )
    notes = (Text(f"Note: {escape_text(note)}") for note in summary.notes)
    lines: list[RenderableType] = [layers, whatif, kinds, *notes]
    if s.device is not None:
        lines.append(
            Text("Times are lower bounds per layer (each run alone, no fusion), summed.", style="dim")
        )
    lines.append(
        Text(
            "RF: receptive field per spatial dim; FLOP/B: arithmetic intensity of minimum traffic.",
            style="dim",
        )
    )
    return [*lines, footer(s)]


def devices_table(devices: Mapping[str, Device]) -> RenderableType:
    table = Table(
        title="Device profiles (dense peaks)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    table.add_column("name", no_wrap=True)
    table.add_column("device", no_wrap=True)
    for dtype in DType:
        label = f"{dtype.value} TOPS" if dtype is DType.INT8 else f"{dtype.value} TFLOP/s"
        table.add_column(label, justify="right", no_wrap=True)
    table.add_column("GB/s", justify="right", no_wrap=True)
    for name, device in devices.items():
        # Columns by dtype, not by the profile's dict order (an int8-first profile stays in place).
        peaks = [device.peak.get(dtype) for dtype in DType]
        table.add_row(
            name,
            escape_text(device.title),
            *(f"{peak / 1e12:g}" if peak is not None else "—" for peak in peaks),
            f"{device.bandwidth / 1e9:g}",
        )
    sources = [Text(f"{name}: {device.source}.", style="dim") for name, device in devices.items()]
    note = Text("Estimates with these are lower bounds on time: max(FLOPs / peak, bytes / bandwidth).")
    return Group(table, note, *sources)


CHART_WIDTH = 50


def sweep_tables(summary: SweepSummary) -> list[RenderableType]:
    """A row per point, then a bar chart of the depthwise-separable saving against the swept value."""
    points = summary.points
    table = Table(
        title=f"Sweep: {len(points)} points", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for key in summary.varying:
        table.add_column(key, justify="right", no_wrap=True)
    for label in ("output", "MACs", "DWS MACs", "ratio", "1/N + 1/D_K²", "reduction"):
        table.add_column(label, justify="left" if label == "output" else "right", no_wrap=True)
    for point in points:
        layer = point.layer
        dws = layer.variants[-1]
        table.add_row(
            *(_swept_text(point.swept[key]) for key in summary.varying),
            shape_text(layer.layer.output_shape),
            int_text(layer.variants[0].work.macs),
            int_text(dws.work.macs),
            ratio_text(dws.ratio),
            ratio_text(layer.theory.ratio),
            pct_text(dws.reduction_pct),
        )
    return [table, *saving_chart(summary)]


def _swept_text(value: int | tuple[int, ...]) -> str:
    return str(value) if isinstance(value, int) else shape_text(value)


def saving_chart(summary: SweepSummary) -> list[RenderableType]:
    """Reduction % per point as bars; ┊ marks the limit 1 − 1/D_K² when every point shares the kernel."""
    points = summary.points
    if not points:
        return []
    labels = [" ".join(_swept_text(p.swept[key]) for key in summary.varying) for p in points]
    width = max(len(label) for label in labels)
    limit = summary.theory_limit_pct
    title = f"Depthwise-separable saving (reduction %) against {', '.join(summary.varying) or 'the point'}"
    if limit is not None:
        title += f"; ┊ = the limit 1 − 1/D_K² = {limit:.1f} % as N grows"
    pcts = [p.layer.variants[-1].reduction_pct for p in points]
    # Zoom the axis onto the data (whole tens) so that a few percent still show.
    low = min(0.0, (min(pcts) // 10) * 10) if min(pcts) < 0 else max(0.0, (min(pcts) // 10) * 10 - 10)
    high = 100.0

    def column(pct: float) -> int:
        return max(0, min(CHART_WIDTH, round((pct - low) / (high - low) * CHART_WIDTH)))

    axis = f"{low:.0f} %".ljust(CHART_WIDTH) + "100 %"
    lines: list[RenderableType] = [Text(""), Text(title), Text(f"{'':>{width}} {axis}", style="dim")]
    for label, pct in zip(labels, pcts, strict=True):
        filled = column(pct)
        bar = list("█" * filled + " " * (CHART_WIDTH - filled))
        if limit is not None:
            mark = min(CHART_WIDTH - 1, column(limit))
            bar[mark] = "┊" if bar[mark] == " " else bar[mark]
        lines.append(Text(f"{label:>{width}} {''.join(bar)} {pct:5.1f} %"))
    return lines
