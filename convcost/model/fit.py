"""Will it fit? Peak activation memory against SRAM, weights against flash.

Sizes are bytes, or a number with a unit: KB, MB, GB are powers of 1000, KiB, MiB, GiB of
1024 (``256KiB`` = 262,144; ``1MB`` = 1,000,000). Vendors' datasheets write KB for KiB: the
board profiles (:data:`~convcost.core.devices.BOARDS`) hold bytes, and a size may name one.

The exit status never depends on a fit unless asked: ``fail_over`` (``--fail-over`` on
``compare``) turns a misfit into exit 1 for CI. It judges what a deployment would run: the
weights against flash, and against SRAM the patch-based peak when patches are asked for,
otherwise the peak in the graph's own order (the order an interpreter such as TensorFlow Lite
Micro runs). The best order's peak is reported beside it, but reaching it means reordering
the exported graph, so it does not decide.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from ..core.devices import BOARDS, Board, find_board
from ..core.dtypes import DType
from ..core.errors import ConvCostError, bad_value
from ..core.limits import MAX_DIGITS, MAX_INT
from .evaluate import Network
from .memory import Memory
from .patches import Patched

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*")
SIZE_HELP = "expected bytes, or a number with KB, MB, GB (×1000) or KiB, MiB, GiB (×1024): 256KiB, 1MB"


def parse_size(value: object, field: str) -> int:
    """Bytes from ``262144``, ``"256KiB"``, ``"1.5MB"`` (a whole number of bytes)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 < value <= MAX_INT:
            raise bad_value(field, value, SIZE_HELP)
        return value
    if not isinstance(value, str) or len(value) > MAX_DIGITS + 8:
        raise bad_value(field, value, SIZE_HELP)
    match = _SIZE.fullmatch(value)
    if match is None or match.group(2).lower() not in _UNITS:
        raise bad_value(field, value, SIZE_HELP)
    try:
        number = Decimal(match.group(1)) * _UNITS[match.group(2).lower()]
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        raise bad_value(field, value, SIZE_HELP) from None
    if number != number.to_integral_value() or number <= 0:
        raise bad_value(field, value, "expected a whole, positive number of bytes")
    return int(number)


def capacity(value: object, field: str) -> tuple[int, Board | None]:
    """A size, or a board profile's SRAM (``field`` "sram") or flash (otherwise)."""
    if isinstance(value, str) and value.strip()[:1].isalpha():
        try:
            board = find_board(value)
        except ConvCostError:
            raise bad_value(field, value, f"{SIZE_HELP}; or a board: {', '.join(BOARDS)}") from None
        return (board.sram if field == "sram" else board.flash), board
    return parse_size(value, field), None


def weight_bytes(network: Network, dtype: DType | str = DType.FP32) -> int:
    """The weights' bytes: every parameter counted (biases included) × the dtype's size."""
    return network.totals.params * DType(dtype).bytes


class Fit(NamedTuple):
    """One check: ``need_bytes`` against ``capacity_bytes`` of ``memory`` (sram or flash)."""

    what: str  # "peak", "best_order_peak", "patches_peak" or "weights"
    memory: str  # "sram" or "flash"
    need_bytes: int
    capacity_bytes: int
    decides: bool  # whether fail_over acts on it

    @property
    def fits(self) -> bool:
        return self.need_bytes <= self.capacity_bytes

    @property
    def margin_bytes(self) -> int:
        """Bytes to spare (negative: over by that much)."""
        return self.capacity_bytes - self.need_bytes


def checks(
    found: Memory | None,
    weight_bytes: int,
    sram: int | None,
    flash: int | None,
    patched: Patched | None = None,
) -> tuple[Fit, ...]:
    """Every fit check the given sizes allow (none without sizes)."""
    result = []
    if sram is not None and found is not None:
        result.append(Fit("peak", "sram", found.peak_bytes, sram, patched is None))
        if found.best_order is not None:
            result.append(Fit("best_order_peak", "sram", found.best_order.peak_bytes, sram, False))
    if sram is not None and patched is not None:
        result.append(Fit("patches_peak", "sram", patched.peak_bytes, sram, True))
    if flash is not None:
        result.append(Fit("weights", "flash", weight_bytes, flash, True))
    return tuple(result)


_WORDS = {
    "peak": "the peak activation memory in graph order",
    "best_order_peak": "the peak activation memory in the best order",
    "patches_peak": "the peak activation memory with patch-based inference",
    "weights": "the weights' total",
}


def misfits(fits: tuple[Fit, ...]) -> list[str]:
    """One line per deciding check that fails: what ``fail_over`` exits 1 with."""
    return [
        f"{fit.memory}: {_WORDS[fit.what]} needs {fit.need_bytes:,} B, {-fit.margin_bytes:,} B more "
        f"than its {fit.capacity_bytes:,} B"
        for fit in fits
        if fit.decides and not fit.fits
    ]
