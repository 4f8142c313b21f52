"""What a person reads: every summary as blocks of text (tables, lines of prose).

The terminal, a pipe and the HTML page render these same blocks (:mod:`.text_table`,
:mod:`.html_page`); each view only chooses and formats fields of the summary. Shapes are
written one way everywhere, ``26×26×16``; numbers with thousands separators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..core import conventions
from ..core.conv import Conv
from ..core.devices import Device
from ..core.dtypes import DType
from ..core.errors import escape_text
from ..core.options import DEFAULT, Settings
from ..core.values import PadPairs, format_dims
from .summary import Change, LayerSummary, Memory, NetworkSummary, StepSummary, SweepSummary, VariantSummary
from .text_table import Blank, Block, Column, Drawn, Legend, Para, Table, cell_len, wrap

# ---------------------------------------------------------------- formatting


def shape_text(shape: Sequence[int]) -> str:
    return format_dims(shape, "×")


def dims_text(values: Sequence[int]) -> str:
    """One value when every dim has it (``2``), else one per dim (``2×1``)."""
    return format_dims(values, "×", collapse=True)


def padding_text(pads: PadPairs) -> str:
    if all(lo == hi for lo, hi in pads):
        sides = [str(lo) for lo, _ in pads]
    else:
        sides = [f"{lo}:{hi}" for lo, hi in pads]
    return format_dims(sides, "×", collapse=True)


def int_text(value: int) -> str:
    return f"{value:,}"


def ratio_text(value: float) -> str:
    return f"{value:.4f}"


def pct_text(value: float) -> str:
    return f"{value:.1f} %"


def _in_unit(value: float, units: Sequence[tuple[str, float]]) -> str:
    """``value`` to 3 significant digits in the largest of ``units`` (largest first, the last
    one taking whatever is left) that it reaches once rounded: 999,999 B is ``1 MB``; picked
    before rounding, the unit would be kB and the figure ``1e+03 kB``."""
    rounded = float(f"{value:.3g}")
    for unit, size in units:
        if rounded >= size or unit == units[-1][0]:
            return f"{rounded / size:.3g} {unit}"
    raise AssertionError("unreachable: the last unit takes every value")


def bytes_text(n: float) -> str:
    return _in_unit(n, (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3), ("B", 1.0)))


def time_text(seconds: float) -> str:
    return _in_unit(seconds, (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)))


def swept_text(value: int | tuple[int, ...]) -> str:
    return str(value) if isinstance(value, int) else shape_text(value)


def one_d_words(shape: Sequence[int]) -> str:
    """``1-D input: length 28, 28 channels``: what a 2-token ``--in`` means, said out loud."""
    length, channels = shape
    return (
        f"1-D input: length {length}, {channels} channels "
        f"(for a {length}×{channels} image give its channels too: --in {length}x{channels}x1)"
    )


def compared(c: Change, noun: str, fewer: str = "fewer", more: str = "more") -> str:
    """How the separable form compares: ``5.76× fewer MACs``, ``1.06× more MACs``, ``as many MACs``.

    The factor is never below 1: the word says which way. Within half a percent the
    difference is given in percent, so that a factor never reads ``1.00×``.
    """
    if c.before == c.after:
        return f"as many {noun}" if noun != "time" else "the same time"
    if c.after == 0:
        return f"no {noun} at all"
    if c.before == 0:
        return f"{c.after:,.0f} {noun} against none"
    word = fewer if c.after < c.before else more
    if c.factor < 1.005:
        return f"{c.pct:.2g} % {word} {noun}"
    return f"{c.factor:.2f}× {word} {noun}"


def describe(layer: Conv) -> str:
    """``conv 3×3, stride 2, padding same (0:1), groups 4, bias on``."""
    kind = "transposed conv" if layer.transposed else "conv"
    pieces = [f"{kind} {shape_text(layer.kernel)}", f"stride {dims_text(layer.stride)}"]
    pad = padding_text(layer.padding)
    pieces.append(
        f"padding {layer.padding_rule} ({pad})" if layer.padding_rule != "explicit" else f"padding {pad}"
    )
    if any(d != 1 for d in layer.dilation):
        pieces.append(f"dilation {dims_text(layer.dilation)}")
    if layer.transposed and any(layer.output_padding):
        pieces.append(f"output padding {dims_text(layer.output_padding)}")
    pieces.append(f"groups {layer.groups}")
    pieces.append(f"bias {'on' if layer.bias else 'off'}")
    return ", ".join(pieces)


def device_line(device: Device, s: Settings, ridge: float | None) -> str:
    return (
        f"{escape_text(device.title)}: {device.peak[s.dtype] / 1e12:g} TFLOP/s {s.dtype.value}, "
        f"{device.bandwidth / 1e9:g} GB/s, ridge point {ridge or 0:.0f} FLOP/B"
    )


def footer(s: Settings) -> Para:
    text = conventions.FOOTER
    if s.convention != DEFAULT.convention:
        text += f" Counted here: {s.convention.label} = {s.convention.definition}."
    return Para(text, "dim")


def notes_paras(notes: Sequence[str]) -> list[Block]:
    return [Para(f"Note: {escape_text(note)}") for note in notes]


# ---------------------------------------------------------------- layer


def _branches(steps: Sequence[StepSummary]) -> list[tuple[str, StepSummary]]:
    return [("└" if i == len(steps) - 1 else "├", step) for i, step in enumerate(steps)]


def _variant_rows(summary: LayerSummary) -> list[tuple[str, VariantSummary | StepSummary, bool]]:
    rows: list[tuple[str, VariantSummary | StepSummary, bool]] = []
    for v in summary.variants:
        rows.append((v.name.replace("_", "-"), v, False))
        rows.extend((f" {branch} {step.name}", step, True) for branch, step in _branches(v.steps))
    return rows


def _layer_title(summary: LayerSummary) -> list[str]:
    layer, s = summary.layer, summary.settings
    batch = f", batch {s.batch}" if s.batch > 1 else ""
    title = [f"{shape_text(layer.in_shape)} → {shape_text(layer.output_shape)}"]
    if len(layer.in_shape) == 2:
        title.append(one_d_words(layer.in_shape))
    title.append(f"{describe(layer)}{batch}")
    return title


def layer_tables(summary: LayerSummary, notes: Sequence[str] = ()) -> list[Block]:
    """The ``convcost layer`` view: the variants, then their memory traffic and time."""
    s = summary.settings
    label = s.convention.label
    rows = _variant_rows(summary)
    geometry = [
        (shape_text(item.layer.kernel), str(item.layer.groups), shape_text(item.layer.output_shape))
        if item.layer is not None
        else ("", "", "")
        for _, item, _ in rows
    ]
    variants = [item for _, item, sub in rows]
    table = Table(
        [
            Column("variant", [name for name, _, _ in rows], shrink="middle"),
            Column("kernel", [g[0] for g in geometry], drop=3),
            Column("groups", [g[1] for g in geometry], "right", drop=4),
            Column("output", [g[2] for g in geometry], drop=2),
            Column(label, [int_text(v.work.headline) for v in variants], "right"),
            Column("params", [int_text(v.work.params) for v in variants], "right"),
            Column(
                f"{label} ratio",
                [ratio_text(v.count_ratio) if isinstance(v, VariantSummary) else "" for v in variants],
                "right",
            ),
            Column(
                f"{label} saved",
                [pct_text(v.count_reduction_pct) if isinstance(v, VariantSummary) else "" for v in variants],
                "right",
                drop=1,
            ),
        ],
        title=_layer_title(summary),
        row_styles=["dim" if sub else "" for _, _, sub in rows],
    )
    blocks: list[Block] = [table, Para(_theory_line(summary))]
    blocks.extend(notes_paras([*summary.notes, *notes]))
    blocks.append(Blank())
    blocks.extend(memory_view(summary))
    blocks.append(footer(s))
    return blocks


def _theory_line(summary: LayerSummary) -> str:
    dws = summary.variants[-1]
    t = summary.theory
    return (
        f"MobileNet theory: 1/N + 1/D_K² = {t.expression} = {ratio_text(t.ratio)}"
        f"   (exact depthwise-separable MACs ratio {dws.ratio_exact} = {ratio_text(dws.ratio)})"
    )


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


def memory_view(summary: LayerSummary) -> list[Block]:
    """Minimum traffic, arithmetic intensity and (with a device) roofline time, per variant."""
    s = summary.settings
    fused = ", depthwise-separable fused" if s.fused else ""
    title = [f"Minimum memory traffic, {s.dtype.value}, batch {s.batch}{fused}"]
    if s.device is not None:
        title.append(device_line(s.device, s, summary.ridge_point))
    rows = _variant_rows(summary)
    cells = [_traffic_cells(item.memory) for _, item, _ in rows]
    specs: list[tuple[str, str, int]] = [
        ("FLOPs", "right", 2),
        ("weights", "right", 3),
        ("in + out", "right", 4),
        ("between", "right", 5),
        ("bytes", "right", 0),
        ("FLOP/B", "right", 0),
    ]
    if s.device is not None:
        specs += [("time ≥", "right", 0), ("bound", "left", 1)]
    columns = [Column("variant", [name for name, _, _ in rows], shrink="middle")]
    columns += [
        Column(name, [row[i] for row in cells], align, drop=drop)  # type: ignore[arg-type]
        for i, (name, align, drop) in enumerate(specs)
    ]
    table = Table(columns, title=title, row_styles=["dim" if sub else "" for _, _, sub in rows])
    blocks: list[Block] = [table]
    saving = summary.saving
    line = f"depthwise-separable: {compared(saving.headline, s.convention.label)}"
    if saving.time is not None and summary.ridge_point:
        line += f", {compared(saving.time, 'time', 'less')}"
        line += (
            f": the regular conv is {saving.regular_bound}-bound "
            f"({saving.regular_intensity:.0f} FLOP/B), "
            f"the depthwise-separable form {saving.separable_bound}-bound "
            f"({saving.separable_intensity:.0f} FLOP/B; ridge point {summary.ridge_point:.0f})."
        )
        blocks.append(Para(line))
        blocks.append(
            Para(
                "Times are lower bounds — max(FLOPs / peak, bytes / bandwidth) with the datasheet's dense "
                "peak; real kernels take longer.",
                "dim",
            )
        )
    else:
        line += (
            f", {compared(saving.bytes, 'bytes')}; arithmetic intensity "
            f"{saving.regular_intensity:.0f} → {saving.separable_intensity:.0f} FLOP/B "
            "(add --device NAME for a roofline time)."
        )
        blocks.append(Para(line))
    return blocks


# ---------------------------------------------------------------- compare


def _share(part: int, whole: int) -> str:
    return pct_text(100.0 * part / whole) if whole else "—"


_FORM_LABELS = {
    "as_written": "as written",
    "regular": "regular convs",
    "depthwise_separable": "depthwise-separable",
}


def network_tables(summary: NetworkSummary, title: str, notes: Sequence[str] = ()) -> list[Block]:
    """The ``convcost compare`` view: per-layer rows, totals, the network what-ifs and the breakdown."""
    s = summary.settings
    label = s.convention.label
    totals = summary.totals
    heading = escape_text(title)  # it holds the file name, as given
    if s.batch > 1 or s.device is not None:
        heading += f" — {s.dtype.value}, batch {s.batch}"
    titles = [heading]
    if s.device is not None:
        titles.append(device_line(s.device, s, summary.ridge_point))
    rows = summary.rows
    outputs = [shape_text(row.output_shape) for row in rows]
    in_out = [f"{shape_text(row.input_shape)} → {out}" for row, out in zip(rows, outputs, strict=True)]
    # What gives way first when the table is too wide (the highest ``drop``): live bytes, RF,
    # FLOP/B, the activation bytes, the type; then names shorten to text_table.NAME_MIN; only
    # then do the shapes go (in → out to output, then output): shapes outlive names.
    columns = [
        Column("layer", [escape_text(name) for name in _row_names(summary)], footer="total", shrink="middle"),
        Column("type", [escape_text(row.label) for row in rows], drop=7),
        Column(
            "in → out",
            in_out,
            drop=6,
            what="input shapes",
            outlives_names=True,
            narrow=Column("output", outputs, drop=4, what="output shapes", outlives_names=True),
        ),
        Column(
            label, [int_text(row.work.headline) for row in rows], "right", footer=int_text(totals.headline)
        ),
        Column(
            "params", [int_text(row.work.params) for row in rows], "right", footer=int_text(totals.params)
        ),
        Column(
            f"% {label}",
            [_share(row.work.headline, totals.headline) for row in rows],
            "right",
            footer=_share(totals.headline, totals.headline),
            drop=3,
        ),
        Column(
            "in + out",
            [bytes_text(row.memory.input_bytes + row.memory.output_bytes) for row in rows],
            "right",
            footer=bytes_text(summary.activation_bytes),
            drop=8,
            what="activation bytes",
        ),
        Column(
            "RF",
            [shape_text(row.receptive_field.size) if row.receptive_field else "—" for row in rows],
            "right",
            drop=10,
        ),
        Column(
            "FLOP/B",
            [f"{row.memory.arithmetic_intensity:.1f}" if row.memory.flops else "—" for row in rows],
            "right",
            drop=9,
        ),
    ]
    if summary.total_time_s is not None:
        timings = [row.memory.timing for row in rows]
        columns += [
            Column(
                "time ≥",
                [time_text(t.time_s) if t is not None else "" for t in timings],
                "right",
                footer=time_text(summary.total_time_s),
                drop=2,
            ),
            Column(
                "bound",
                [
                    (t.bound if row.memory.flops else "memory") if t is not None else ""
                    for t, row in zip(timings, rows, strict=True)
                ],
                drop=5,
            ),
        ]
    from .memory_view import live_cells, memory_blocks

    live = live_cells(summary)
    if live is not None:  # asked for (compare --memory): the first column to give way
        columns.append(Column("live B", live, "right", drop=11, what="live bytes"))
    table = Table(columns, title=titles)
    blocks: list[Block] = [table]
    blocks += _rows_note(summary)
    blocks += _forms_table(summary), _kinds_table(summary)
    blocks += memory_blocks(summary)
    blocks += notes_paras([*summary.notes, *notes])
    if s.device is not None:
        blocks.append(Para("Times are lower bounds per layer (each run alone, no fusion), summed.", "dim"))
    rolled = summary.depth is not None
    words = (
        ("in + out", _IN_OUT_ROLLED if rolled else _IN_OUT),
        *_LEGEND,
        ("live B", _LIVE_ROLLED if rolled else _LIVE),
    )
    blocks.append(Legend("", "dim", table, words))
    blocks.append(footer(s))
    return blocks


def _row_names(summary: NetworkSummary) -> list[str]:
    """Each row's name; in a roll-up, a module's own ops shown among its submodules' rows (a
    block's residual add) say what they are, ``features.3 (add)``: alone, ``features.3`` with no
    MACs would read as the whole block costing nothing."""
    if summary.depth is None:
        return [row.name for row in summary.rows]
    parents = {
        ".".join(parts[:end])
        for parts in (row.module.split(".") for row in summary.rows)
        for end in range(1, len(parts))
    }
    return [f"{row.name} ({row.label})" if row.module in parents else row.name for row in summary.rows]


def _rows_note(summary: NetworkSummary) -> list[Block]:
    """Under the table, what it does not show row by row: the roll-up it chose to fit, and the
    rows --hide-zero left out (the totals count both)."""
    words = []
    if summary.fitted is not None:
        words.append(
            f"Rows rolled up to depth {summary.depth} to fit {summary.fitted} rows: see every layer with "
            "--wide, or choose with --depth N."
        )
    hidden = summary.hidden
    if hidden and not summary.rows:
        words.append(
            f"All {hidden:,} rows have no MACs and no params and are hidden (--hide-zero); the "
            "totals count them."
        )
    elif hidden:
        rows = "row" if hidden == 1 else "rows"
        words.append(
            f"{hidden:,} {rows} with no MACs and no params hidden (--hide-zero); the totals count them."
        )
    return [Para(" ".join(words), "dim"), Blank()] if words else []


#: The compare table's columns that need words, said only when shown (a Legend).
_LEGEND = (
    ("RF", "receptive field per spatial dim"),
    ("FLOP/B", "arithmetic intensity of minimum traffic"),
)
# ``live B`` (compare --memory) is the first column to give way, so it is said here, of the table
# that has it, and not with the peaks below; a roll-up row's figure is the most of its steps'.
_IN_OUT = "activation bytes read and written"
_IN_OUT_ROLLED = "activation bytes read and written (a row's layers summed)"
_LIVE = "activation bytes live during the layer's step, graph order"
_LIVE_ROLLED = "the most activation bytes live at any of the row's steps, graph order"


def _forms_table(summary: NetworkSummary) -> Table:
    label = summary.settings.convention.label
    forms = summary.forms
    regular = next((f for f in forms if f.name == "regular"), forms[0])
    return Table(
        [
            Column("network", [_FORM_LABELS[f.name] for f in forms], shrink="middle"),
            Column(label, [int_text(f.work.headline) for f in forms], "right"),
            Column("params", [int_text(f.work.params) for f in forms], "right"),
            Column(
                f"{label} ratio",
                [
                    ratio_text(f.work.headline / regular.work.headline) if regular.work.headline else "—"
                    for f in forms
                ],
                "right",
            ),
            Column(
                "params ratio",
                [ratio_text(f.params_ratio) if f.params_ratio is not None else "—" for f in forms],
                "right",
                drop=1,
            ),
        ],
        title=["Every spatial conv (kernel > 1) as…"],
    )


def _kinds_table(summary: NetworkSummary) -> Table:
    label = summary.settings.convention.label
    totals = summary.totals
    kinds = [kind for kind in summary.breakdown if kind.work.headline or kind.work.params]
    return Table(
        [
            Column("kind", [kind.label for kind in kinds], shrink="middle"),
            Column(label, [int_text(kind.work.headline) for kind in kinds], "right"),
            Column(
                f"% {label}", [_share(kind.work.headline, totals.headline) for kind in kinds], "right", drop=2
            ),
            Column("params", [int_text(kind.work.params) for kind in kinds], "right"),
            Column("% params", [_share(kind.work.params, totals.params) for kind in kinds], "right", drop=1),
        ],
        title=["Breakdown by kind"],
    )


# ---------------------------------------------------------------- sweep

CHART_WIDTH = 50


def sweep_tables(summary: SweepSummary, notes: Sequence[str] = ()) -> list[Block]:
    """A row per point, then a bar chart of the depthwise-separable saving against the swept value."""
    points = summary.points
    label = summary.settings.convention.label
    skipped = f" ({summary.skipped:,} skipped: they cannot exist)" if summary.skipped else ""
    columns = [Column(key, [swept_text(p.swept[key]) for p in points], "right") for key in summary.varying]
    layers = [p.layer for p in points]
    dws = [layer.variants[-1] for layer in layers]
    # Unprefixed: the layer as swept (grouped, transposed), not its regular form; "DWS": its
    # depthwise-separable form. Ratios and savings: against the regular conv (groups 1).
    columns += [
        Column("output", [shape_text(layer.layer.output_shape) for layer in layers], drop=2),
        Column(label, [int_text(layer.work.headline) for layer in layers], "right"),
    ]
    if summary.not_regular:
        saved = [pct_text(p.as_swept.count_reduction_pct) for p in points]
        columns.append(Column(f"{label} saved", saved, "right"))
    columns += [
        Column(f"DWS {label}", [int_text(v.work.headline) for v in dws], "right"),
        # what gives way first: the bounds, the theory, the ratio (the saving says it too), the output
        Column(f"DWS {label} ratio", [ratio_text(v.count_ratio) for v in dws], "right", drop=4),
        Column("1/N + 1/D_K²", [ratio_text(layer.theory.ratio) for layer in layers], "right", drop=5),
        Column(f"DWS {label} saved", [pct_text(v.count_reduction_pct) for v in dws], "right", drop=1),
    ]
    if summary.settings.device is not None:  # the roofline per point, as 'layer' shows it
        timings = [(layer.memory.timing, v.memory.timing) for layer, v in zip(layers, dws, strict=True)]
        columns += [
            Column("time", [time_text(t.time_s) if t else "" for t, _ in timings], "right"),
            Column("bound", [t.bound if t else "" for t, _ in timings], drop=6),
            Column("DWS time", [time_text(t.time_s) if t else "" for _, t in timings], "right"),
            Column("DWS bound", [t.bound if t else "" for _, t in timings], drop=7),
        ]
    table = Table(columns, title=[f"Sweep: {len(points):,} point{'' if len(points) == 1 else 's'}{skipped}"])
    blocks: list[Block] = [table]
    meanings = (
        (f"{label} saved", "by the layer as swept (grouped) against the regular conv of its shape"),
        (f"DWS {label} ratio", "of the depthwise-separable form to the regular conv"),
        (f"DWS {label} saved", "by the depthwise-separable form against the regular conv"),
    )
    blocks += [Legend("", "dim", table, meanings), Blank()]
    blocks += notes_paras(notes)
    if points:
        blocks.append(Drawn(lambda width: saving_chart(summary, width)))
    return blocks


def saving_chart(summary: SweepSummary, width: int | None = None) -> list[str]:
    """Reduction % per point as bars; ┊ marks the limit 1 − 1/D_K² when every point shares the kernel."""
    points = summary.points
    label = summary.settings.convention.label
    labels = [" ".join(swept_text(p.swept[key]) for key in summary.varying) for p in points]
    name_width = max(cell_len(text) for text in labels)
    bars = CHART_WIDTH if width is None else max(1, min(CHART_WIDTH, width - name_width - 10))
    limit = summary.theory_limit_pct
    against = ", ".join(summary.varying) or "the point"
    if summary.not_regular:  # a groups sweep: the layer asked for, against its regular form
        limit = None
        title = f"Saving of the swept layer ({label} saved against its regular form) against {against}"
        pcts = [p.own_saving_pct for p in points]
    else:
        title = f"Depthwise-separable saving ({label} saved) against {against}"
        pcts = [p.layer.variants[-1].count_reduction_pct for p in points]
    if limit is not None:
        title += f"; ┊ = the limit 1 − 1/D_K² = {limit:.1f} % as N grows"
    # Zoom the axis onto the data (whole tens) so that a few percent still show.
    low = min(0.0, (min(pcts) // 10) * 10) if min(pcts) < 0 else max(0.0, (min(pcts) // 10) * 10 - 10)
    high = 100.0

    def column(pct: float) -> int:
        return max(0, min(bars, round((pct - low) / (high - low) * bars)))

    axis = f"{low:.0f} %".ljust(bars) + "100 %"
    lines = [*wrap(title, width), f"{'':>{name_width}} {axis}"]
    for text, pct in zip(labels, pcts, strict=True):
        filled = column(pct)
        bar = list("█" * filled + " " * (bars - filled))
        if limit is not None:
            mark = min(bars - 1, column(limit))
            bar[mark] = "┊" if bar[mark] == " " else bar[mark]
        lines.append(f"{' ' * (name_width - cell_len(text))}{text} {''.join(bar)} {pct:5.1f} %")
    return lines


# ---------------------------------------------------------------- devices


def devices_table(devices: Mapping[str, Device]) -> list[Block]:
    names = list(devices)
    columns = [
        Column("name", names),
        Column("device", [escape_text(devices[n].title) for n in names], shrink="words"),
    ]
    for dtype in DType:
        peaks = [devices[n].peak.get(dtype) for n in names]
        columns.append(
            Column(dtype.value, [f"{p / 1e12:g}" if p is not None else "—" for p in peaks], "right")
        )
    columns.append(Column("GB/s", [f"{devices[n].bandwidth / 1e9:g}" for n in names], "right"))
    table = Table(columns, title=["Device profiles: dense peaks in TFLOP/s (int8: TOPS), bandwidth in GB/s"])
    blocks: list[Block] = [
        table,
        Para("Estimates with these are lower bounds on time: max(FLOPs / peak, bytes / bandwidth)."),
    ]
    blocks += [Para(f"{name}: {escape_text(devices[name].source)}.", "dim") for name in names]
    return blocks
