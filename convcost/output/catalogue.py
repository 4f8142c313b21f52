"""``convcost models``: the shipped specs, each with its paper, input, MACs and params.

The CLI costs each spec and hands the figures over; this module only lays them out, for
every format.
"""

from __future__ import annotations

import re
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


#: A shipped spec's paper: 'He et al. 2016, "Deep Residual Learning for Image Recognition"'.
_CITED = re.compile(r'(?P<authors>.+?) (?P<year>\d{4}), "(?P<title>.+)"\Z', re.S)


def _cited(paper: str, network: str) -> tuple[str, str, str]:
    """A paper as its citation ('He et al. 2016'), first author and year ('He 2016'), and title.

    A spec without a paper (the seed examples) has no citation; its description is its title.
    """
    found = _CITED.match(paper)
    if found is None:
        return ("—", "—", paper or network) if not paper else (paper, paper, "")
    first = found["authors"].split(" ")[0].rstrip(",")
    return f"{found['authors']} {found['year']}", f"{first} {found['year']}", found["title"]


def catalogue_view(catalogue: Catalogue) -> list[Block]:
    """The table of shipped specs. A narrow terminal leaves out the titles first, then the
    co-authors (a citation 'He et al. 2016' becomes 'He 2016'), then the input: a title cut to a
    word or two says nothing, while the short input column and a citation are read whole."""
    models = catalogue.models
    cited = [tuple(escape_text(part) for part in _cited(m.paper, m.network)) for m in models]
    table = Table(
        [
            Column("name", [m.name for m in models]),
            Column(
                "paper",
                [citation for citation, _, _ in cited],
                drop=2,
                narrow=Column("paper", [first for _, first, _ in cited]),
                what="co-authors",
            ),
            Column("title", [title for _, _, title in cited], shrink="words", drop=3),
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
