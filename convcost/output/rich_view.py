"""Rich tables for people. Imported only on the table path: ``--json`` never loads rich."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..core import conventions
from ..core.conv import Conv
from ..core.devices import Device
from ..core.forms import DEPTHWISE_SEPARABLE, REGULAR, Comparison, Part
from ..core.options import DEFAULT, Settings
from ..core.traffic import Traffic, conv_traffic, estimate, ridge_point
from ..core.values import PadPairs

if TYPE_CHECKING:
    from typing import IO

    from ..model.evaluate import Network, Row
    from ..model.sweep import Point


#: Width used when output goes to a file or pipe: wide enough that no number is ever folded.
PIPE_WIDTH = 200


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


def layer_tables(c: Comparison, s: Settings = DEFAULT) -> list[RenderableType]:
    """The ``convcost layer`` view: the variants, then their memory traffic and time."""
    layer = c.layer
    batch = f", batch {s.batch}" if s.batch > 1 else ""
    title = f"{shape_text(layer.in_shape)} → {shape_text(layer.output_shape)}\n{describe(layer)}{batch}"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("variant", no_wrap=True)
    for label in ("kernel", "groups", "output"):
        table.add_column(label, no_wrap=True, justify="right" if label == "groups" else "left")
    for label in (s.convention.label, "params", "ratio", "reduction"):
        table.add_column(label, justify="right", no_wrap=True)
    for name, variant in c.variants.items():
        single = variant.parts[0].layer if len(variant.parts) == 1 else None
        table.add_row(
            name.replace("_", "-"),
            *(_geometry_cells(single) if single else ("", "", "")),
            int_text(s.convention.count(variant.counts) * s.batch),
            int_text(variant.counts.params),
            ratio_text(variant.ratio),
            pct_text(variant.reduction_pct),
        )
        for branch, part in _branches(variant.parts):
            table.add_row(
                f" {branch} {part.name}",
                *_geometry_cells(part.layer),
                int_text(s.convention.count(part.counts) * s.batch),
                int_text(part.counts.params),
                "",
                "",
                style="dim",
            )
    lines: list[RenderableType] = [table, Text(_theory_line(c))]
    lines.extend(Text(f"Note: {note}") for note in c.notes)
    lines.append(Text(""))
    lines.extend(memory_view(c, s))
    lines.append(footer(s))
    return lines


def _branches(parts: Sequence[Part]) -> list[tuple[str, Part]]:
    if len(parts) < 2:
        return []
    return [("└" if i == len(parts) - 1 else "├", part) for i, part in enumerate(parts)]


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


def memory_view(c: Comparison, s: Settings) -> list[RenderableType]:
    """Minimum traffic, arithmetic intensity and (with a device) roofline time, per variant."""
    fused = ", depthwise-separable fused" if s.fused else ""
    title = f"Minimum memory traffic, {s.dtype.value}, batch {s.batch}{fused}"
    if s.device is not None:
        title += f"\n{device_line(s.device, s)}"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    labels = ["variant", "FLOPs", "weights", "in + out", "between", "bytes", "FLOP/B"]
    if s.device is not None:
        labels += ["time ≥", "bound"]
    for label in labels:
        table.add_column(label, justify="left" if label in ("variant", "bound") else "right", no_wrap=True)
    works = {}
    for name, variant in c.variants.items():
        work = conv_traffic([p.layer for p in variant.parts], s)
        works[name] = work
        table.add_row(name.replace("_", "-"), *_traffic_cells(work, s))
        for branch, part in _branches(variant.parts):
            table.add_row(
                f" {branch} {part.name}", *_traffic_cells(conv_traffic([part.layer], s), s), style="dim"
            )
    lines: list[RenderableType] = [table]
    regular, dws = works[REGULAR], works[DEPTHWISE_SEPARABLE]
    fewer = c.variants[REGULAR].counts.macs / c.variants[DEPTHWISE_SEPARABLE].counts.macs
    summary = f"depthwise-separable: {fewer:.2f}× fewer MACs"
    if s.device is not None:
        before, after = estimate(regular, s.device, s.dtype), estimate(dws, s.device, s.dtype)
        summary += f", {_times(before.time_s, after.time_s, 'less time', 'more time')}"
        summary += (
            f": the regular conv is {before.bound}-bound "
            f"({regular.arithmetic_intensity:.0f} FLOP/B), the depthwise-separable form {after.bound}-bound "
            f"({dws.arithmetic_intensity:.0f} FLOP/B; ridge point {ridge_point(s.device, s.dtype):.0f})."
        )
        lines.append(Text(summary))
        lines.append(
            Text(
                "Times are lower bounds — max(FLOPs / peak, bytes / bandwidth) with the datasheet's dense "
                "peak; real kernels take longer.",
                style="dim",
            )
        )
    else:
        summary += (
            f", {_times(regular.bytes, dws.bytes, 'fewer bytes', 'more bytes')}; arithmetic intensity "
            f"{regular.arithmetic_intensity:.0f} → {dws.arithmetic_intensity:.0f} FLOP/B "
            "(add --device NAME for a roofline time)."
        )
        lines.append(Text(summary))
    return lines


def _times(before: float, after: float, less: str, more: str) -> str:
    """``2.10× less time`` or ``1.07× more time``: a factor is never below 1."""
    return f"{before / after:.2f}× {less}" if before >= after else f"{after / before:.2f}× {more}"


def device_line(device: Device, s: Settings) -> str:
    return (
        f"{device.title}: {device.peak[s.dtype] / 1e12:g} TFLOP/s {s.dtype.value}, "
        f"{device.bandwidth / 1e9:g} GB/s, ridge point {ridge_point(device, s.dtype):.0f} FLOP/B"
    )


def footer(s: Settings) -> Text:
    text = conventions.FOOTER
    if s.convention != DEFAULT.convention:
        text += f" Counted here: {s.convention.label} = {s.convention.definition}."
    return Text(text, style="dim")


def _traffic_cells(work: Traffic, s: Settings) -> list[str]:
    cells = [
        int_text(work.flops),
        bytes_text(work.weight_bytes),
        bytes_text(work.input_bytes + work.output_bytes),
        bytes_text(0 if work.fused else 2 * work.intermediate_bytes) if work.intermediate_bytes else "",
        bytes_text(work.bytes),
        f"{work.arithmetic_intensity:.1f}",
    ]
    if s.device is not None:
        bound = estimate(work, s.device, s.dtype)
        cells += [time_text(bound.time_s), bound.bound]
    return cells


def _geometry_cells(layer: Conv) -> tuple[str, str, str]:
    return shape_text(layer.kernel), str(layer.groups), shape_text(layer.output_shape)


def _theory_line(c: Comparison) -> str:
    dws = c.variants["depthwise_separable"]
    return (
        f"MobileNet theory: 1/N + 1/D_K² = {c.theory_expression} = {ratio_text(c.theory_ratio)}"
        f"   (exact depthwise-separable ratio {dws.exact_ratio} = {ratio_text(dws.ratio)})"
    )


def print_all(renderables: Iterable[RenderableType], console: Console | None = None) -> None:
    console = console or make_console()
    for renderable in renderables:
        console.print(renderable)


_KIND_LABELS = {
    "conv": "conv (regular)",
    "grouped": "grouped conv",
    "depthwise": "depthwise conv",
    "pointwise": "pointwise 1×1 conv",
    "linear": "linear (fully connected)",
    "other": "other (batchnorm)",
}


def _share_text(part: int, whole: int) -> str:
    return pct_text(100.0 * part / whole) if whole else "—"


def network_tables(
    network: Network, title: str, s: Settings = DEFAULT, notes: Sequence[str] = ()
) -> list[RenderableType]:
    """The ``convcost compare`` view: per-layer rows, totals, the network what-ifs and the breakdown."""
    from .summary import row_traffic

    totals = network.totals
    count = s.convention.count
    works = [row_traffic(row, s) for row in network.rows]
    if s.batch > 1 or s.device is not None:
        title += f" — {s.dtype.value}, batch {s.batch}"
    if s.device is not None:
        title += f"\n{device_line(s.device, s)}"
    layers = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_footer=True)
    layers.add_column("layer", footer="total", no_wrap=True)
    layers.add_column("type", no_wrap=True)
    layers.add_column("in → out", no_wrap=True)
    layers.add_column(
        s.convention.label, footer=int_text(count(totals) * s.batch), justify="right", no_wrap=True
    )
    layers.add_column("params", footer=int_text(totals.params), justify="right", no_wrap=True)
    layers.add_column("% MACs", footer=_share_text(totals.macs, totals.macs), justify="right", no_wrap=True)
    layers.add_column("RF", no_wrap=True, justify="right")
    layers.add_column("FLOP/B", justify="right", no_wrap=True)
    if s.device is not None:
        total_time = sum(estimate(w, s.device, s.dtype).time_s for w in works)
        layers.add_column("time ≥", footer=time_text(total_time), justify="right", no_wrap=True)
        layers.add_column("bound", no_wrap=True)
    for row, work in zip(network.rows, works, strict=True):
        cells = [
            row.name,
            _type_text(row),
            f"{shape_text(row.input_shape)} → {shape_text(row.output_shape)}",
            int_text(count(row.counts) * s.batch),
            int_text(row.counts.params),
            _share_text(row.counts.macs, totals.macs),
            shape_text(row.receptive_field.size) if row.receptive_field else "—",
            f"{work.arithmetic_intensity:.1f}" if work.flops else "—",
        ]
        if s.device is not None:
            bound = estimate(work, s.device, s.dtype)
            cells += [time_text(bound.time_s), bound.bound if work.flops else "memory"]
        layers.add_row(*cells)

    variants = network.variant_totals()
    regular = variants["regular"]
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
    for name, label in (
        ("as_written", "as written"),
        ("regular", "regular convs"),
        ("depthwise_separable", "depthwise-separable"),
    ):
        counts = variants[name]
        whatif.add_row(
            label,
            int_text(counts.macs),
            int_text(counts.params),
            ratio_text(counts.macs / regular.macs) if regular.macs else "—",
            ratio_text(counts.params / regular.params) if regular.params else "—",
        )

    kinds = Table(title="Breakdown by kind", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for label in ("kind", "MACs", "% MACs", "params", "% params"):
        kinds.add_column(label, justify="left" if label == "kind" else "right", no_wrap=True)
    for kind, counts in network.breakdown().items():
        if counts.macs or counts.params:
            kinds.add_row(
                _KIND_LABELS[kind],
                int_text(counts.macs),
                _share_text(counts.macs, totals.macs),
                int_text(counts.params),
                _share_text(counts.params, totals.params),
            )
    lines: list[RenderableType] = [layers, whatif, kinds, *(Text(f"Note: {note}") for note in notes)]
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


def devices_table(devices: dict[str, Device]) -> RenderableType:
    table = Table(
        title="Device profiles (dense peaks)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    table.add_column("name", no_wrap=True)
    table.add_column("device", no_wrap=True)
    for dtype in ("fp32", "fp16", "bf16", "int8"):
        label = f"{dtype} TOPS" if dtype == "int8" else f"{dtype} TFLOP/s"
        table.add_column(label, justify="right", no_wrap=True)
    table.add_column("GB/s", justify="right", no_wrap=True)
    for name, device in devices.items():
        table.add_row(
            name,
            device.title,
            *(f"{peak / 1e12:g}" for peak in device.peak.values()),
            f"{device.bandwidth / 1e9:g}",
        )
    sources = [Text(f"{name}: {device.source}.", style="dim") for name, device in devices.items()]
    note = Text("Estimates with these are lower bounds on time: max(FLOPs / peak, bytes / bandwidth).")
    return Group(table, note, *sources)


def _type_text(row: Row) -> str:
    c = row.comparison
    if c is None:
        return row.type
    k = shape_text(c.layer.kernel)
    if row.type == "conv":
        layer = row.costed.convs[0] if row.costed else c.layer
        stride = "" if all(s == 1 for s in layer.stride) else f" /{_dims_text(layer.stride)}"
        groups = f" g{layer.groups}" if layer.groups > 1 else ""
        return f"conv {k}{stride}{groups}"
    stride = "" if all(s == 1 for s in c.layer.stride) else f" /{_dims_text(c.layer.stride)}"
    return f"{row.type} {k}{stride}"


CHART_WIDTH = 50


def sweep_tables(points: Sequence[Point]) -> list[RenderableType]:
    """A row per point, then a bar chart of the depthwise-separable saving against the swept value."""
    varying = [key for key in (points[0].swept if points else {}) if len({p.swept[key] for p in points}) > 1]
    table = Table(
        title=f"Sweep: {len(points)} points", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for key in varying:
        table.add_column(key, justify="right", no_wrap=True)
    for label in ("output", "MACs", "DWS MACs", "ratio", "1/N + 1/D_K²", "reduction"):
        table.add_column(label, justify="left" if label == "output" else "right", no_wrap=True)
    for point in points:
        c = point.comparison
        dws = c.variants["depthwise_separable"]
        table.add_row(
            *(point.swept[key] for key in varying),
            shape_text(c.layer.output_shape),
            int_text(c.variants["regular"].counts.macs),
            int_text(dws.counts.macs),
            ratio_text(dws.ratio),
            ratio_text(c.theory_ratio),
            pct_text(dws.reduction_pct),
        )
    return [table, *saving_chart(points, varying)]


def saving_chart(points: Sequence[Point], varying: Sequence[str]) -> list[RenderableType]:
    """Reduction % per point as bars; ┊ marks the limit 1 − 1/D_K² when every point shares the kernel."""
    if not points:
        return []
    labels = [" ".join(p.swept[key] for key in varying) for p in points]
    width = max(len(label) for label in labels)
    kernels = {p.comparison.theory_dk2 for p in points}
    limit = (1 - 1 / next(iter(kernels))) * 100 if len(kernels) == 1 else None
    title = f"Depthwise-separable saving (reduction %) against {', '.join(varying) or 'the point'}"
    if limit is not None:
        title += f"; ┊ = the limit 1 − 1/D_K² = {limit:.1f} % as N grows"
    pcts = [p.comparison.variants["depthwise_separable"].reduction_pct for p in points]
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
