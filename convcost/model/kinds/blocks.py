"""Blocks: entries with layers inside, which the graph compiler expands (they have no handler)."""

from __future__ import annotations

from .common import IN
from .registry import Field, Kind, register

register(
    Kind(
        "repeat",
        "Copies of its layers, one after another.",
        {
            "in": IN,
            "times": Field("int", "How many copies of layers, one after another.", required=True),
            "layers": Field("layers", "The layers to repeat.", required=True),
            "first_index": Field(
                "int0",
                "The module index of the first copy (copies are modules first_index, first_index + 1, …); "
                "without it, copies are numbered from 0 when there are two or more.",
            ),
            "index_step": Field(
                "int",
                "How far apart the copies' module indices are (2 when each copy is two modules of one "
                "nn.Sequential, as VGG's conv and ReLU).",
                default=1,
            ),
        },
        block=True,
    )
)
register(
    Kind(
        "residual",
        "A main path plus a shortcut (identity when absent), added.",
        {
            "in": IN,
            "body": Field("layers", "The main path.", required=True),
            "shortcut": Field("layers", "The shortcut path (identity when absent).", default=()),
        },
        block=True,
    )
)
register(
    Kind(
        "branches",
        "Parallel paths from one input, joined by concat or add.",
        {
            "in": IN,
            "branches": Field("branches", "Parallel paths, each a list of layers.", required=True),
            "join": Field("choice", "How the paths join.", default="concat", choices=("concat", "add")),
        },
        block=True,
    )
)
