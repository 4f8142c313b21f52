"""The views through Rich, for callers that print with a Rich console.

The command line writes the views' lines itself (:mod:`.text_table`, fast at any size);
every block is also a Rich renderable, laid out at the console's width, so
``Console.print(*layer_tables(...))`` gives the same text. Rich is imported only here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import IO, Any

from rich.console import Console, RenderableType

from .views import (
    bytes_text,
    describe,
    devices_table,
    int_text,
    layer_tables,
    memory_view,
    network_tables,
    pct_text,
    ratio_text,
    shape_text,
    sweep_tables,
    time_text,
)

#: A terminal's width (COLUMNS) is taken within these bounds: 0 would print nothing at all.
MIN_WIDTH, MAX_WIDTH = 20, 1000


def make_console(
    file: IO[str] | None = None, width: int | None = None, force_terminal: bool | None = None
) -> Console:
    """A console that writes plain text when not on a terminal or when NO_COLOR is set."""
    options: dict[str, Any] = {
        "file": file,
        "highlight": False,
        "markup": False,
        "emoji": False,
        "force_terminal": force_terminal,
    }
    if os.environ.get("NO_COLOR"):
        options["color_system"] = None
    console = Console(width=width, **options)
    if width is None and not MIN_WIDTH <= console.width <= MAX_WIDTH:  # COLUMNS=0, or absurd
        console = Console(width=max(MIN_WIDTH, min(console.width, MAX_WIDTH)), **options)
    return console


def print_all(renderables: Iterable[RenderableType], console: Console | None = None) -> None:
    console = console or make_console()
    for renderable in renderables:
        console.print(renderable)


__all__ = [
    "bytes_text",
    "describe",
    "devices_table",
    "int_text",
    "layer_tables",
    "make_console",
    "memory_view",
    "network_tables",
    "pct_text",
    "print_all",
    "ratio_text",
    "shape_text",
    "sweep_tables",
    "time_text",
]
