"""The output formats, each registered once: ``--format`` offers these, its help is made from them,
and :mod:`.emit` writes a result in one by calling its renderer.

A renderer is named as ``module:function`` under :mod:`convcost.output` and imported only when its
format is chosen, so ``--json`` never loads the tables and no format loads rich. It takes the
result and the :class:`~convcost.output.emit.RenderOptions`, and returns the whole output as text.
Adding a format is one module with its renderer, and one line below.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, NamedTuple

#: A format's name, as ``--format`` takes it.
Format = str


class OutputFormat(NamedTuple):
    name: Format
    note: str  # what --format's help says of it, in parentheses; may be empty
    renderer: str  # "module:function" under convcost.output
    suffixes: tuple[str, ...] = ()  # what an -o FILE ending in one is written as, with no --format


REGISTRY: dict[Format, OutputFormat] = {
    f.name: f
    for f in (
        OutputFormat("table", "for people; the default", "emit:render_table"),
        OutputFormat("json", "", "emit:render_json", (".json",)),
        OutputFormat("csv", "raw integers", "emit:render_csv", (".csv",)),
        OutputFormat("tsv", "the same, tab-separated", "tsv:render", (".tsv", ".tab")),
        OutputFormat("markdown", "", "emit:render_markdown", (".md", ".markdown")),
        OutputFormat("html", "a self-contained page with charts", "emit:render_html", (".html", ".htm")),
    )
}

FORMATS: tuple[Format, ...] = tuple(REGISTRY)


def _spoken(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def format_help() -> str:
    """``--format``'s help: every format, each with its note."""
    return _spoken([f"{f.name} ({f.note})" if f.note else f.name for f in REGISTRY.values()]) + "."


#: Suffixes that hold any text: they keep the command's own default (the table; schema's JSON) and
#: contradict no --format.
ANY_TEXT = (".txt",)


def by_suffix(path: str) -> Format | None:
    """The format a file name's suffix names (``x.csv``: csv; case aside), or None."""
    import os

    suffix = os.path.splitext(path)[1].lower()
    return next((f.name for f in REGISTRY.values() if suffix in f.suffixes), None)


def renderer(name: Format) -> Callable[..., Any]:
    """The function that renders ``name`` (imported now)."""
    module, function = REGISTRY[name].renderer.split(":")
    return getattr(importlib.import_module(f"convcost.output.{module}"), function)  # type: ignore[no-any-return]
