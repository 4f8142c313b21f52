"""``convcost models``: the shipped specs, each with its paper, input, MACs and params.

The CLI costs each spec and hands the figures over; this module only lays them out, for
every format.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..core.errors import escape_text
from ..core.values import format_dims
from .json_report import FORMAT_VERSION
from .summary import Catalogue
from .text_table import Block, Column, Para, Table


def _shape(shape: Sequence[int] | None) -> str:
    return format_dims(shape, "×") if shape else "—"


def catalogue_view(catalogue: Catalogue) -> list[Block]:
    models = catalogue.models
    table = Table(
        [
            Column("name", [m.name for m in models]),
            Column("paper", [escape_text(m.paper or m.network) for m in models], shrink="words"),
            Column("input", [_shape(m.input_shape) for m in models], drop=1),
            Column("MACs", [f"{m.macs:,}" for m in models], "right"),
            Column("params", [f"{m.params:,}" for m in models], "right"),
        ],
        title=["Shipped specs: convcost compare NAME (a file path wins over a name)"],
    )
    return [
        table,
        Para("MACs at batch 1, bias adds not counted; 'convcost compare NAME' for the layers.", "dim"),
    ]


def catalogue_document(catalogue: Catalogue) -> dict[str, Any]:
    """``models --json``."""
    return {
        "format_version": FORMAT_VERSION,
        "convcost_version": __version__,
        "models": {
            m.name: {
                "network": m.network,
                "paper": m.paper,
                "title": m.title,
                "input_shape": list(m.input_shape) if m.input_shape else None,
                "macs": m.macs,
                "params": m.params,
                "layers": m.layers,
            }
            for m in catalogue.models
        },
    }


def catalogue_table(catalogue: Catalogue) -> tuple[list[str], list[list[Any]]]:
    """``models --format csv|markdown``."""
    from .flat_tables import Shape

    header = ["name", "network", "paper", "input_shape", "macs", "params", "layers"]
    rows: list[list[Any]] = [
        [
            m.name,
            m.network,
            m.paper,
            Shape(m.input_shape) if m.input_shape else None,
            m.macs,
            m.params,
            m.layers,
        ]
        for m in catalogue.models
    ]
    return header, rows
