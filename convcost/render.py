"""Rich tables for people. Imported only on the table path: ``--json`` never loads rich."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from . import conventions
from .conv import Conv
from .values import PadPairs
from .variants import Comparison

if TYPE_CHECKING:
    from typing import IO

    from .network import Network, Row


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


def layer_table(c: Comparison) -> RenderableType:
    """The ``convcost layer`` view: one row per variant, the depthwise/pointwise parts beneath."""
    layer = c.layer
    title = f"{shape_text(layer.in_shape)} → {shape_text(layer.output_shape)}\n{describe(layer)}"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("variant", no_wrap=True)
    for label in ("kernel", "groups", "output"):
        table.add_column(label, no_wrap=True, justify="right" if label == "groups" else "left")
    for label in ("MACs", "params", "ratio", "reduction"):
        table.add_column(label, justify="right", no_wrap=True)
    for name, variant in c.variants.items():
        single = variant.parts[0].layer if len(variant.parts) == 1 else None
        table.add_row(
            name.replace("_", "-"),
            *(_geometry_cells(single) if single else ("", "", "")),
            int_text(variant.counts.macs),
            int_text(variant.counts.params),
            ratio_text(variant.ratio),
            pct_text(variant.reduction_pct),
        )
        if len(variant.parts) > 1:
            for index, part in enumerate(variant.parts):
                branch = "└" if index == len(variant.parts) - 1 else "├"
                table.add_row(
                    f" {branch} {part.name}",
                    *_geometry_cells(part.layer),
                    int_text(part.counts.macs),
                    int_text(part.counts.params),
                    "",
                    "",
                    style="dim",
                )
    lines: list[RenderableType] = [table, Text(_theory_line(c))]
    lines.extend(Text(f"Note: {note}") for note in c.notes)
    lines.append(Text(conventions.FOOTER, style="dim"))
    return Group(*lines)


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


def network_tables(network: Network, title: str) -> list[RenderableType]:
    """The ``convcost compare`` view: per-layer rows, totals, the network what-ifs and the breakdown."""
    totals = network.totals
    layers = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_footer=True)
    layers.add_column("layer", footer="total", no_wrap=True)
    layers.add_column("type", no_wrap=True)
    layers.add_column("in → out", no_wrap=True)
    layers.add_column("MACs", footer=int_text(totals.macs), justify="right", no_wrap=True)
    layers.add_column("params", footer=int_text(totals.params), justify="right", no_wrap=True)
    layers.add_column("% MACs", footer=_share_text(totals.macs, totals.macs), justify="right", no_wrap=True)
    for row in network.rows:
        layers.add_row(
            row.name,
            _type_text(row),
            f"{shape_text(row.input_shape)} → {shape_text(row.output_shape)}",
            int_text(row.counts.macs),
            int_text(row.counts.params),
            _share_text(row.counts.macs, totals.macs),
        )

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
    return [layers, whatif, kinds, Text(conventions.FOOTER, style="dim")]


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
