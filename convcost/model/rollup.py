"""Rows rolled up to modules N levels deep, as torchinfo's ``depth`` and fvcore's ``max_depth``.

A row belongs to the module its ``module`` path names; at depth N it is counted in that
path's first N parts (``layer1.0.conv1`` → ``layer1`` at depth 1, ``layer1.0`` at depth 2).
Rows whose module is no deeper than N stay under their own module, and the rows of every
call of one module (ResNet's one ReLU per block) share its roll-up row. Roll-up rows come in the
order their modules first run. A row of the network's own ``forward`` (module ``""``: a
flatten, a reshape an ONNX exporter wrote at the top) belongs to no module, so each stays a
row of its own. Every row is in exactly one roll-up row, so the roll-up rows sum to the
totals. A roll-up row's shapes are its first input (of the first row that has one: a
parameter's row reads nothing) and its last output. A module that runs in separate places
(its rows are not consecutive: the shared ReLU that runs after each norm of a block) has one
row, where it first runs, with the counts of every call and the shapes of its first call
(relu 56×56×64 → 56×56×64, not → 56×56×256, which is the last call's); ``calls`` says how many.

The table's depth: when a network has more rows than a terminal's table shows (a fixed
budget, output/sink.py's TABLE_ROWS), the table shows the deepest roll-up whose rows fit, if
one does (:func:`fitting_depth`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ..core.conv import Counts, weighted_sum
from .evaluate import Row, row_forms

Shape = tuple[int, ...]


class Group(NamedTuple):
    """The rows of one module at the chosen depth."""

    module: str  # the module path at that depth; "" for a row of the top-level forward
    label: str  # how a table names it: the module path, or the row's own name at the top level
    members: tuple[int, ...]  # indices of its rows, in order


class Rolled(NamedTuple):
    """One module's subtotals: what a roll-up row shows."""

    module: str
    label: str
    type: str  # the row's type for a single row, else "module"
    rows: int  # how many rows it rolls up
    calls: int  # the separate places its rows run (runs of consecutive rows)
    input_shape: Shape  # its first input (a parameter's row has none)
    output_shape: Shape  # its first call's last row's output
    counts: Counts
    regular: Counts  # as Network.variant_totals: every spatial conv regular
    depthwise_separable: Counts  # every spatial conv depthwise-separable
    members: tuple[int, ...]


def module_at(module: str, depth: int) -> str:
    """The first ``depth`` parts of a dotted module path."""
    if depth < 1:
        raise ValueError(f"depth must be 1 or more, not {depth}")
    parts = module.split(".")
    return module if len(parts) <= depth else ".".join(parts[:depth])


def groups(modules: Sequence[str], names: Sequence[str], depth: int) -> list[Group]:
    """Rows (given by their modules and names) grouped by module at ``depth``, in order of first run."""
    found: dict[str, list[int]] = {}
    order: list[tuple[str, str, list[int]]] = []
    for index, (module, name) in enumerate(zip(modules, names, strict=True)):
        if not module:
            order.append(("", name, [index]))
            continue
        key = module_at(module, depth)
        members = found.get(key)
        if members is None:
            members = found[key] = []
            order.append((key, key, members))
        members.append(index)
    return [Group(module, label, tuple(members)) for module, label, members in order]


def rollup(rows: Sequence[Row], depth: int) -> tuple[Rolled, ...]:
    """``rows`` rolled up to modules ``depth`` levels deep."""
    made = []
    forms = [row_forms(row) for row in rows]
    for group in groups([r.module for r in rows], [r.name for r in rows], depth):
        members = [rows[i] for i in group.members]
        calls = runs(group.members)
        first = [rows[i] for i in calls[0]]
        made.append(
            Rolled(
                group.module,
                group.label,
                members[0].type if len(members) == 1 else "module",
                len(members),
                len(calls),
                next((row.input_shape for row in first if row.input_shape), ()),
                first[-1].output_shape,
                weighted_sum((row.counts, 1) for row in members),
                weighted_sum((forms[i][0], 1) for i in group.members),
                weighted_sum((forms[i][1], 1) for i in group.members),
                group.members,
            )
        )
    return tuple(made)


def runs(members: Sequence[int]) -> list[list[int]]:
    """Row indices (in order) split into runs of consecutive rows: the separate places a module
    runs (one run for a module that runs once, as a stage does)."""
    found: list[list[int]] = []
    for index in members:
        if found and found[-1][-1] == index - 1:
            found[-1].append(index)
        else:
            found.append([index])
    return found


def is_zero(counts: Counts) -> bool:
    """No MACs and no params: a norm folded away, an activation, a reshape (what tables may hide)."""
    return counts.macs == 0 and counts.params == 0


def depth_of(modules: Sequence[str]) -> int:
    """The deepest module path's number of parts (0 when no row has a module)."""
    return max((m.count(".") + 1 for m in modules if m), default=0)


def fitting_depth(
    modules: Sequence[str],
    names: Sequence[str],
    max_rows: int,
    max_label: int | None = None,
    counted: Sequence[bool] | None = None,
    only_fitting: bool = False,
) -> int | None:
    """The depth a table with room for ``max_rows`` rows (and labels of ``max_label``
    characters, if given) shows: ``None`` (every row) when every row fits, or when no roll-up
    has fewer rows than the rows themselves (a flat list); else the deepest depth whose
    roll-up fits; else 1, the shortest roll-up there is (``None`` with ``only_fitting``).

    ``counted``: which rows a table shows (``--hide-zero`` leaves the others out), when not
    all; a roll-up row shows when any of its rows does. ``only_fitting``: what the terminal's
    table asks for. Where no depth fits (an ONNX export whose ops are mostly outside any module
    scope: ViT-B/16's dynamo export is 419 rows at depth 1 for 455), a roll-up would hide the
    modules there are and still not fit; every row hides nothing.

    Deeper is better while it fits: it hides the least. A depth is not chosen when its
    labels would not fit (a table would elide them), unless no depth fits.
    """

    def shown(found: Sequence[Group]) -> list[str]:
        if counted is None:
            return [g.label for g in found]
        return [g.label for g in found if any(counted[i] for i in g.members)]

    def fits(labels: Sequence[str]) -> bool:
        return len(labels) <= max_rows and (
            max_label is None or max((len(t) for t in labels), default=0) <= max_label
        )

    every = [name for i, name in enumerate(names) if counted is None or counted[i]]
    if fits(every):
        return None
    for depth in range(depth_of(modules), 0, -1):
        if fits(shown(groups(modules, names, depth))):
            return depth
    if only_fitting or depth_of(modules) == 0 or len(shown(groups(modules, names, 1))) >= len(every):
        return None  # no roll-up shortens the table: every row it is
    return 1
