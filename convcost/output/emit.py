"""The one way out: a result, a format and the :class:`RenderOptions` in; text on stdout, or a file
written atomically.

What each result type shows is dispatched once per aspect — its JSON document, its flat table
(CSV, Markdown), its blocks for people (the terminal, the HTML page), its page title — with
:func:`functools.singledispatch`: a new result type registers one function per aspect, beside
the others here. Each format's renderer (see :mod:`.formats`) is imported only when chosen, so
``--json`` never loads rich (and the tables never do either: they are written line by line,
see :mod:`.text_table`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from functools import singledispatch
from typing import TYPE_CHECKING, Any, NamedTuple

from ..core.devices import Device
from ..core.errors import ConvCostError
from . import sink
from .formats import Format, renderer
from .summary import Catalogue, LayerSummary, NetworkSummary, SchemaDocument, SweepSummary

if TYPE_CHECKING:
    from .flat_tables import Table
    from .text_table import Block

Summary = LayerSummary | NetworkSummary | SweepSummary | Mapping[str, Device] | Catalogue | SchemaDocument


class RenderOptions(NamedTuple):
    """How a result is rendered, beside its format."""

    title: str = ""  # a network's title line ("resnet50.yaml: 125 layers")
    notes: Sequence[str] = ()  # lines under the tables (the command's own notes)
    output: str | None = None  # the -o file (None or "-": stdout): decides width, colour, JSON layout
    wide: bool = False  # tables at their natural width
    command: str = ""  # the command line, for the HTML page's "made with" line


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


# ---------------------------------------------------------------- the JSON document


@singledispatch
def document(summary: object) -> dict[str, Any]:
    """The ``--json`` object of a result."""
    raise TypeError(f"no JSON document for {type(summary).__name__}")


@document.register(LayerSummary)
def _(summary: LayerSummary) -> dict[str, Any]:
    from .json_report import layer_document

    return layer_document(summary)


@document.register(NetworkSummary)
def _(summary: NetworkSummary) -> dict[str, Any]:
    from .json_report import network_document

    return network_document(summary)


@document.register(SweepSummary)
def _(summary: SweepSummary) -> dict[str, Any]:
    from .json_report import sweep_document

    return sweep_document(summary)


@document.register(Catalogue)
def _(summary: Catalogue) -> dict[str, Any]:
    from .catalogue import catalogue_document

    return catalogue_document(summary)


@document.register(SchemaDocument)
def _(summary: SchemaDocument) -> dict[str, Any]:
    return dict(summary.document)


@document.register(Mapping)
def _(summary: Mapping[str, Device]) -> dict[str, Any]:
    from .json_report import devices_document

    return devices_document(summary)


# ---------------------------------------------------------------- the flat table (CSV, Markdown)


@singledispatch
def flat_table(summary: object) -> Table:
    """The one table of a result that CSV and Markdown write, raw values in every cell."""
    raise TypeError(f"no table for {type(summary).__name__}")


@flat_table.register(LayerSummary)
def _(summary: LayerSummary) -> Table:
    from .flat_tables import layer_table

    return layer_table(summary)


@flat_table.register(NetworkSummary)
def _(summary: NetworkSummary) -> Table:
    from .flat_tables import network_table

    return network_table(summary)


@flat_table.register(SweepSummary)
def _(summary: SweepSummary) -> Table:
    from .flat_tables import sweep_table

    return sweep_table(summary)


@flat_table.register(Catalogue)
def _(summary: Catalogue) -> Table:
    from .catalogue import catalogue_table

    return catalogue_table(summary)


@flat_table.register(SchemaDocument)
def _(summary: SchemaDocument) -> Table:
    from .schema_view import schema_table

    return schema_table(summary)


@flat_table.register(Mapping)
def _(summary: Mapping[str, Device]) -> Table:
    from .flat_tables import devices_table

    return devices_table(summary)


# ---------------------------------------------------------------- the blocks people read


@singledispatch
def blocks(summary: object, title: str = "", notes: Sequence[str] = ()) -> list[Block]:
    """What a person reads, for the terminal and the HTML page alike."""
    raise TypeError(f"no view of {type(summary).__name__}")


@blocks.register(LayerSummary)
def _(summary: LayerSummary, title: str = "", notes: Sequence[str] = ()) -> list[Block]:
    from .views import layer_tables

    return layer_tables(summary, notes)


@blocks.register(NetworkSummary)
def _(summary: NetworkSummary, title: str = "", notes: Sequence[str] = ()) -> list[Block]:
    from .views import network_tables

    return network_tables(summary, title, notes)


@blocks.register(SweepSummary)
def _(summary: SweepSummary, title: str = "", notes: Sequence[str] = ()) -> list[Block]:
    from .views import sweep_tables

    return sweep_tables(summary, notes)


@blocks.register(Catalogue)
def _(summary: Catalogue, title: str = "", notes: Sequence[str] = ()) -> list[Block]:
    from .catalogue import catalogue_view

    return catalogue_view(summary)


@blocks.register(SchemaDocument)
def _(summary: SchemaDocument, title: str = "", notes: Sequence[str] = ()) -> list[Block]:
    from .schema_view import schema_view

    return schema_view(summary)


@blocks.register(Mapping)
def _(summary: Mapping[str, Device], title: str = "", notes: Sequence[str] = ()) -> list[Block]:
    from .views import devices_table

    return devices_table(summary)


# ---------------------------------------------------------------- the HTML page's heading


@singledispatch
def page_title(summary: object, title: str = "") -> str:
    """The page's heading: what the page is about, in words (the tables' titles give the details)."""
    raise TypeError(f"no page title for {type(summary).__name__}")


@page_title.register(LayerSummary)
def _(summary: LayerSummary, title: str = "") -> str:
    from .views import shape_text

    kernel = shape_text(summary.layer.kernel)
    return f"The cost of a {kernel} conv layer, {shape_text(summary.layer.in_shape)} in, and of its forms"


@page_title.register(SweepSummary)
def _(summary: SweepSummary, title: str = "") -> str:
    count = len(summary.points)
    layers = f"{count:,} layer{'' if count == 1 else 's'}"
    return f"A sweep of {layers}: what the depthwise-separable form saves"


@page_title.register(NetworkSummary)
def _(summary: NetworkSummary, title: str = "") -> str:
    return f"The cost of {summary.source or title}, layer by layer"


@page_title.register(Catalogue)
def _(summary: Catalogue, title: str = "") -> str:
    return "The specs shipped with convcost"


@page_title.register(SchemaDocument)
def _(summary: SchemaDocument, title: str = "") -> str:
    return f"The JSON Schema of {'spec files' if summary.which == 'spec' else 'the --json output'}"


@page_title.register(Mapping)
def _(summary: Mapping[str, Device], title: str = "") -> str:
    return "Device profiles for roofline estimates"


# ---------------------------------------------------------------- the formats' renderers


def render_json(summary: Summary, options: RenderOptions) -> str:
    if isinstance(summary, SchemaDocument):  # a schema is for reading and for editors: always indented
        import json

        return json.dumps(summary.document, indent=2, ensure_ascii=False) + "\n"
    return json_text(document(summary), pretty=sink.to_stdout(options.output) and sys.stdout.isatty())


def render_csv(summary: Summary, options: RenderOptions) -> str:
    from .flat_tables import to_csv

    return to_csv(flat_table(summary))


def render_markdown(summary: Summary, options: RenderOptions) -> str:
    from .flat_tables import to_markdown

    return to_markdown(flat_table(summary))


def render_html(summary: Summary, options: RenderOptions) -> str:
    from . import html_page

    shown = blocks(summary, options.title, options.notes)
    return html_page.page(summary, page_title(summary, options.title), shown, options.command)


def render_table(summary: Summary, options: RenderOptions) -> str:
    from .text_table import render

    shown = blocks(summary, options.title, options.notes)
    return render(shown, sink.table_width(options.output, options.wide), sink.colour(options.output))


PLAIN = RenderOptions()


def text(summary: Summary, fmt: Format, options: RenderOptions = PLAIN) -> str:
    """The whole output, as text."""
    return renderer(fmt)(summary, options)  # type: ignore[no-any-return]


def emit(summary: Summary, fmt: Format, options: RenderOptions = PLAIN) -> None:
    """Write ``summary`` in ``fmt`` to stdout, or atomically to the file ``options.output``."""
    sink.write(text(summary, fmt, options), options.output)
