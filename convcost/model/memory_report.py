"""One call for every front end: peak memory, best order, patches and fit checks, as plain values.

:func:`analyse` runs what was asked; :meth:`Analysis.as_dict` is the JSON report's ``memory``
object, :meth:`Analysis.lines` the lines a table or page shows, :meth:`Analysis.misfits` what
``--fail-over`` exits 1 with. Nothing here prints or knows about flags.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..core.devices import Board
from ..core.dtypes import DType
from ..core.errors import bad_value
from .evaluate import Network
from .fit import Fit, capacity, checks, misfits, weight_bytes
from .memory import Memory, memory
from .patches import Patched, parse_patches, patched

#: The rule, for JSON ``conventions`` and the README (one line).
CONVENTION = (
    "peak memory = the most live activation bytes at any step of the schedule (graph order; an ONNX "
    "file's node order): buffers are graph inputs and outputs of layers that depend on one; reshapes "
    "are views; batch norm and element-wise activations run in place when nothing else reads their "
    "input and it is not a graph input or output; a buffer lives from its producer's step (inputs from "
    "the first) to its last reader's (outputs to the end); bytes = elements × dtype size × batch"
)


_MEMORY_NAMES = {"sram": "SRAM", "flash": "Flash"}


class Request(NamedTuple):
    """What a run asks of peak memory (``compare --memory`` and the flags that imply it), checked."""

    inplace_depthwise: bool = False
    sram: object = None  # as given: a size or a board name (checked by :func:`request`)
    flash: object = None
    patches: object = None


def request(
    memory: object = False,
    inplace_depthwise: object = False,
    sram: object = None,
    flash: object = None,
    patches: object = None,
) -> Request | None:
    """The memory analysis a run asks for, or None: ``memory`` asks for it, and so does any of the
    others. Sizes and patches are checked here, before any network is costed."""
    for field, value in (("memory", memory), ("inplace_depthwise", inplace_depthwise)):
        if not isinstance(value, bool):
            raise bad_value(field, value, "expected true or false")
    if not (memory or inplace_depthwise or sram is not None or flash is not None or patches is not None):
        return None
    for field, value in (("sram", sram), ("flash", flash)):
        if value is not None:
            capacity(value, field)
    if patches is not None:
        parse_patches(patches)
    return Request(inplace_depthwise is True, sram, flash, patches)


class Analysis(NamedTuple):
    memory: Memory
    patched: Patched | None
    weight_bytes: int
    sram: int | None
    flash: int | None
    boards: tuple[Board, ...]
    fits: tuple[Fit, ...]
    dtype: DType
    batch: int

    def as_dict(self) -> dict[str, Any]:
        m = self.memory
        data: dict[str, Any] = {
            "dtype": self.dtype.value,
            "batch": self.batch,
            "inplace_depthwise": m.inplace_depthwise,
            "peak_bytes": m.peak_bytes,
            "peak_at": m.peak_at,
            "steps": [{"name": name, "live_bytes": live} for name, live in m.steps],
            "weight_bytes": self.weight_bytes,
            "sram_bytes": self.sram,
            "flash_bytes": self.flash,
            "boards": [board.name for board in self.boards],
            "fits": [
                {
                    "what": fit.what,
                    "memory": fit.memory,
                    "need_bytes": fit.need_bytes,
                    "capacity_bytes": fit.capacity_bytes,
                    "fits": fit.fits,
                    "margin_bytes": fit.margin_bytes,
                    "decides": fit.decides,
                }
                for fit in self.fits
            ],
        }
        best = m.best_order
        if best is not None:
            data["best_order"] = {
                "peak_bytes": best.peak_bytes,
                "peak_at": best.peak_at,
                "method": best.method,
                "optimal": best.optimal,
                "parts": best.parts,
                "searched": best.searched,
                "order": list(best.order),
            }
        if self.patched is not None:
            p = self.patched
            data["patches"] = {
                "patches": list(p.patches),
                "split": p.split,
                "searched": p.searched,
                "peak_bytes": p.peak_bytes,
                "peak_at": p.peak_at,
                "stage_peak_bytes": p.stage_peak_bytes,
                "layer_peak_bytes": p.layer_peak_bytes,
                "stage_macs": p.stage_macs,
                "extra_macs": p.extra_macs,
            }
        return data

    def lines(self) -> list[str]:
        m = self.memory
        rule = f"{self.dtype.value}" + (f", batch {self.batch}" if self.batch != 1 else "")
        rule += ", in-place depthwise" if m.inplace_depthwise else ""
        found = [f"Peak activation memory ({rule}): {m.peak_bytes:,} B at {m.peak_at or '-'}."]
        best = m.best_order
        if best is not None:
            saved = m.peak_bytes - best.peak_bytes
            found.append(
                f"Best order: {best.peak_bytes:,} B"
                + (f" ({saved:,} B less)" if saved else " (the graph's order is as good)")
                + f"; {best.method}."
            )
        if self.patched is not None:
            p = self.patched
            rows, cols = p.patches
            found.append(
                f"Patches {rows}x{cols} up to {p.split}: {p.peak_bytes:,} B (at {p.peak_at}), for "
                f"{p.extra_macs:,} extra MACs ({p.extra_macs / p.stage_macs:.1%} of the stage's)."
                if p.stage_macs
                else f"Patches {rows}x{cols} up to {p.split}: {p.peak_bytes:,} B (at {p.peak_at})."
            )
        for fit in self.fits:
            verdict = (
                f"fits, {fit.margin_bytes:,} B to spare" if fit.fits else f"over by {-fit.margin_bytes:,} B"
            )
            found.append(
                f"{_MEMORY_NAMES[fit.memory]} {fit.capacity_bytes:,} B: {fit.what.replace('_', ' ')} "
                f"{fit.need_bytes:,} B {verdict}."
            )
        return found

    def misfits(self) -> list[str]:
        return misfits(self.fits)


def analyse(
    network: Network,
    dtype: DType | str = DType.FP32,
    batch: int = 1,
    *,
    inplace_depthwise: bool = False,
    sram: object = None,
    flash: object = None,
    patches: object = None,
    best_order: bool = True,
) -> Analysis:
    """Peak memory, and what was asked beside it. ``sram`` and ``flash`` are sizes (``256KiB``)
    or board names; ``patches`` is ``4x4``."""
    chosen = DType(dtype)
    boards: list[Board] = []
    sizes: dict[str, int | None] = {"sram": None, "flash": None}
    for field, value in (("sram", sram), ("flash", flash)):
        if value is not None:
            size, board = capacity(value, field)
            sizes[field] = size
            if board is not None and board not in boards:
                boards.append(board)
    counts = parse_patches(patches) if patches is not None else None
    found = memory(network, chosen, batch, inplace_depthwise=inplace_depthwise, best_order=best_order)
    split = (
        patched(network, counts, chosen, batch, inplace_depthwise=inplace_depthwise)
        if counts is not None
        else None
    )
    weights = weight_bytes(network, chosen)
    fits = checks(found, weights, sizes["sram"], sizes["flash"], split)
    return Analysis(found, split, weights, sizes["sram"], sizes["flash"], tuple(boards), fits, chosen, batch)
