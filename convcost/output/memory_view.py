"""Peak activation memory for people: the tables the terminal and the HTML page show when
``compare`` is asked for memory (``--memory``, ``--sram``, ``--flash``, ``--patches``, …).

Like every view it only chooses and formats fields: the numbers are the analysis's
(:class:`~convcost.model.memory_report.Analysis`), the same ones the JSON ``memory`` object holds.
Bytes are written whole, with thousands separators, so that every format tells the same figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.errors import escape_text
from .text_table import Blank, Block, Column, Para, Table

if TYPE_CHECKING:
    from ..model.memory_report import Analysis
    from .summary import NetworkSummary

#: The fit checks' rows, as the table names them.
CHECKS = {
    "peak": "peak, graph order",
    "best_order_peak": "peak, best order",
    "patches_peak": "peak, patches",
    "weights": "weights",
}
_MEMORIES = {"sram": "SRAM", "flash": "flash"}


def _bytes(value: int) -> str:
    return f"{value:,}"


def _name(value: str | None) -> str:
    return escape_text(value) if value else "—"


def live_cells(summary: NetworkSummary) -> list[str] | None:
    """Each row's live bytes during its step (the per-layer table's column), or None when not asked."""
    live = summary.live_bytes()
    return None if live is None else [_bytes(n) for n in live]


def rule_text(found: Analysis) -> str:
    words = [found.dtype.value]
    if found.batch != 1:
        words.append(f"batch {found.batch}")
    if found.memory.inplace_depthwise:
        words.append("in-place depthwise")
    return ", ".join(words)


def _peaks(found: Analysis) -> tuple[Table, list[str]]:
    """The peak of each schedule, against the graph order's, and what each schedule is in words."""
    m = found.memory
    names, peaks, at = ["graph order"], [m.peak_bytes], [_name(m.peak_at)]
    extra = ["—"]
    words = []
    best = m.best_order
    if best is not None:
        names.append("best order")
        peaks.append(best.peak_bytes)
        at.append(_name(best.peak_at))
        extra.append("—")
        words.append(f"Best order: {best.method}.")
    p = found.patched
    if p is not None:
        rows, cols = p.patches
        names.append(f"patches {rows}x{cols}")
        peaks.append(p.peak_bytes)
        at.append(_name(p.peak_at))
        extra.append(f"{p.extra_macs:,}")
        split = f"up to {_name(p.split)}" + (" (the split of least peak, searched)" if p.searched else "")
        share = (
            f"; the extra MACs are {100 * p.extra_macs / p.stage_macs:.1f} % of the stage's {p.stage_macs:,}"
            if p.stage_macs
            else ""
        )
        words.append(f"Patches {rows}x{cols}: the first stage {split}, patch by patch{share}.")
    table = Table(
        [
            Column("schedule", names),
            Column("peak B", [_bytes(peak) for peak in peaks], "right"),
            Column("at", at, shrink="middle"),
            Column("less B", [_bytes(m.peak_bytes - peak) for peak in peaks], "right", drop=2),
            Column("extra MACs", extra, "right", drop=1),
        ],
        title=[f"Peak activation memory ({rule_text(found)})"],
    )
    return table, words


def _capacity(size: int | None, memory: str, found: Analysis) -> str:
    boards = [b.name for b in found.boards if (b.sram if memory == "sram" else b.flash) == size]
    return f"{_MEMORIES[memory]} {size:,} B" + (f" ({', '.join(boards)})" if boards else "")


def _fits(found: Analysis) -> Table:
    fits = found.fits
    sizes = [(found.sram, "sram"), (found.flash, "flash")]
    title = "Will it fit? " + ", ".join(_capacity(size, memory, found) for size, memory in sizes if size)
    return Table(
        [
            Column("check", [CHECKS[f.what] for f in fits]),
            Column("memory", [_MEMORIES[f.memory] for f in fits]),
            Column("need B", [_bytes(f.need_bytes) for f in fits], "right"),
            Column("capacity B", [_bytes(f.capacity_bytes) for f in fits], "right"),
            Column("margin B", [_bytes(f.margin_bytes) for f in fits], "right"),
            Column("fits", ["yes" if f.fits else "no" for f in fits]),
            Column("decides", ["yes" if f.decides else "" for f in fits], drop=1),
        ],
        title=[title],
    )


def memory_blocks(summary: NetworkSummary) -> list[Block]:
    """The peaks (graph order, best order, patches), the weights, and the fit checks."""
    found = summary.peak_memory
    if found is None:
        return []
    peaks, words = _peaks(found)
    blocks: list[Block] = [peaks, *(Para(line) for line in words)]
    if found.fits:
        blocks += Blank(), _fits(found)
    blocks.append(
        Para(
            # live B, a column of the per-layer table, is said by that table's legend
            f"less B: below the graph order's peak. Weights: "
            f"{found.weight_bytes:,} B (params × {found.dtype.value})."
            + (
                " Margin: capacity − need (negative: over); --fail-over exits 1 when a check "
                "that decides does not fit."
                if found.fits
                else ""
            ),
            "dim",
        )
    )
    return blocks
