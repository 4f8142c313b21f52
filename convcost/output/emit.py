"""The one way out: a summary and a format in; text on stdout, or a file written atomically.

Each format module is imported only when chosen, so ``--json`` never loads rich (and the
tables never do either: they are written line by line, see :mod:`.text_table`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core.devices import Device
from ..core.errors import ConvCostError
from . import sink
from .formats import Format
from .summary import Catalogue, LayerSummary, NetworkSummary, SchemaDocument, SweepSummary

if TYPE_CHECKING:
    from .text_table import Block

Summary = LayerSummary | NetworkSummary | SweepSummary | Mapping[str, Device] | Catalogue | SchemaDocument


def json_text(data: Any, pretty: bool | None = None) -> str:
    """One object, then a newline: indented on a terminal; compact in a pipe (C-encoded, fast).

    Never a bare ``Infinity`` or ``NaN`` (invalid JSON): a result that is not finite is an error.
    """
    import json

    if pretty is None:
        pretty = sys.stdout.isatty()
    try:
        if pretty:
            return json.dumps(data, indent=2, allow_nan=False) + "\n"
        return json.dumps(data, separators=(",", ":"), allow_nan=False) + "\n"
    except ValueError:
        raise ConvCostError(
            "output", "a result is not a finite number; check the peak and bandwidth given"
        ) from None


def _json(summary: Summary) -> dict[str, Any]:
    from . import json_report

    if isinstance(summary, LayerSummary):
        return json_report.layer_document(summary)
    if isinstance(summary, NetworkSummary):
        return json_report.network_document(summary)
    if isinstance(summary, SweepSummary):
        return json_report.sweep_document(summary)
    if isinstance(summary, Catalogue):
        from .catalogue import catalogue_document

        return catalogue_document(summary)
    if isinstance(summary, SchemaDocument):
        return dict(summary.document)
    return json_report.devices_document(summary)


def _flat(summary: Summary, fmt: Format) -> str:
    from . import flat_tables

    if isinstance(summary, LayerSummary):
        table = flat_tables.layer_table(summary)
    elif isinstance(summary, NetworkSummary):
        table = flat_tables.network_table(summary)
    elif isinstance(summary, SweepSummary):
        table = flat_tables.sweep_table(summary)
    elif isinstance(summary, Catalogue):
        from .catalogue import catalogue_table

        table = catalogue_table(summary)
    elif isinstance(summary, SchemaDocument):
        from .schema_view import schema_table

        table = schema_table(summary)
    else:
        table = flat_tables.devices_table(summary)
    return flat_tables.render(table, fmt)


def blocks(summary: Summary, title: str = "", notes: Sequence[str] = ()) -> list[Block]:
    """What a person reads, for the terminal and the HTML page alike."""
    from . import views

    if isinstance(summary, LayerSummary):
        return views.layer_tables(summary, notes)
    if isinstance(summary, NetworkSummary):
        return views.network_tables(summary, title, notes)
    if isinstance(summary, SweepSummary):
        return views.sweep_tables(summary, notes)
    if isinstance(summary, Catalogue):
        from .catalogue import catalogue_view

        return catalogue_view(summary)
    if isinstance(summary, SchemaDocument):
        from .schema_view import schema_view

        return schema_view(summary)
    return views.devices_table(summary)


def _page_title(summary: Summary, title: str) -> str:
    """The page's heading: what the page is about, in words (the tables' titles give the details)."""
    from .views import shape_text

    if isinstance(summary, LayerSummary):
        kernel = shape_text(summary.layer.kernel)
        return f"The cost of a {kernel} conv layer, {shape_text(summary.layer.in_shape)} in, and of its forms"
    if isinstance(summary, SweepSummary):
        count = len(summary.points)
        layers = f"{count:,} layer{'' if count == 1 else 's'}"
        return f"A sweep of {layers}: what the depthwise-separable form saves"
    if isinstance(summary, NetworkSummary):
        return f"The cost of {summary.source or title}, layer by layer"
    if isinstance(summary, Catalogue):
        return "The specs shipped with convcost"
    if isinstance(summary, SchemaDocument):
        return f"The JSON Schema of {'spec files' if summary.which == 'spec' else 'the --json output'}"
    return "Device profiles for roofline estimates"


def text(
    summary: Summary,
    fmt: Format,
    title: str = "",
    *,
    notes: Sequence[str] = (),
    output: str | None = None,
    wide: bool = False,
    command: str = "",
) -> str:
    """The whole output, as text."""
    if fmt == "json":
        if isinstance(summary, SchemaDocument):
            import json

            return json.dumps(summary.document, indent=2, ensure_ascii=False) + "\n"
        return json_text(_json(summary), pretty=sink.to_stdout(output) and sys.stdout.isatty())
    if fmt in ("csv", "markdown"):
        return _flat(summary, fmt)
    shown = blocks(summary, title, notes)
    if fmt == "html":
        from . import html_page

        return html_page.page(summary, _page_title(summary, title), shown, command)
    from .text_table import render

    return render(shown, sink.table_width(output, wide), sink.colour(output))


def emit(
    summary: Summary,
    fmt: Format,
    title: str = "",
    *,
    notes: Sequence[str] = (),
    output: str | None = None,
    wide: bool = False,
    command: str = "",
) -> None:
    """Write ``summary`` in ``fmt`` to stdout, or atomically to the file ``output``."""
    sink.write(text(summary, fmt, title, notes=notes, output=output, wide=wide, command=command), output)
