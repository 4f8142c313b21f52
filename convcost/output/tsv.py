"""``--format tsv``: the CSV table with tabs between cells, for ``cut -f``, ``sort -t$'\\t'`` and
spreadsheets' paste; raw values as in CSV (integers whole, shapes ``28x28x8``, the formula guard).

A tab, newline or carriage return inside a cell would break the columns: control characters are
escaped (``\\t``, ``\\n``) as in every other format, so a cell never holds one.
"""

from __future__ import annotations

from .emit import RenderOptions, Summary, flat_table
from .flat_tables import csv_cell


def render(summary: Summary, options: RenderOptions) -> str:
    header, rows = flat_table(summary)
    lines = ["\t".join(header)]
    lines += ["\t".join("" if cell is None else str(cell) for cell in map(csv_cell, row)) for row in rows]
    return "\n".join(lines) + "\n"
