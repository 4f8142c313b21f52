"""The one way out: a summary and a format in, text on stdout.

Each format module is imported only when chosen, so ``--json`` never loads rich.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from ..core.devices import Device
from ..core.errors import ConvCostError
from .formats import Format
from .summary import LayerSummary, NetworkSummary, SweepSummary

Summary = LayerSummary | NetworkSummary | SweepSummary | Mapping[str, Device]


def json_text(data: Any) -> str:
    """One object, then a newline: indented on a terminal; compact in a pipe (C-encoded, fast).

    Never a bare ``Infinity`` or ``NaN`` (invalid JSON): a result that is not finite is an error.
    """
    import json

    try:
        if sys.stdout.isatty():
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
    return json_report.devices_document(summary)


def _flat(summary: Summary, fmt: Format) -> str:
    from . import flat_tables

    if isinstance(summary, LayerSummary):
        table = flat_tables.layer_table(summary)
    elif isinstance(summary, NetworkSummary):
        table = flat_tables.network_table(summary)
    elif isinstance(summary, SweepSummary):
        table = flat_tables.sweep_table(summary)
    else:
        table = flat_tables.devices_table(summary)
    return flat_tables.render(table, fmt)


def _tables(summary: Summary, title: str) -> None:
    from . import rich_view

    if isinstance(summary, LayerSummary):
        renderables = rich_view.layer_tables(summary)
    elif isinstance(summary, NetworkSummary):
        renderables = rich_view.network_tables(summary, title)
    elif isinstance(summary, SweepSummary):
        renderables = rich_view.sweep_tables(summary)
    else:
        renderables = [rich_view.devices_table(summary)]
    rich_view.print_all(renderables)


def emit(summary: Summary, fmt: Format, title: str = "") -> None:
    """Write ``summary`` to stdout in ``fmt``."""
    if fmt == "json":
        sys.stdout.write(json_text(_json(summary)))
    elif fmt == "table":
        _tables(summary, title)
    else:
        sys.stdout.write(_flat(summary, fmt))
