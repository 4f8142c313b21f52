"""Receptive fields (Araujo et al., Distill 2019): the recurrence through windows, and merges.

Each layer kind names its rule in the registry; the rules here are the shared ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ..core.conv import Conv


class ReceptiveField(NamedTuple):
    """A receptive field per spatial dim.

    ``size``: input positions one output element sees; ``stride``: input positions between
    neighbouring outputs (the effective stride); ``start``: the input coordinate of the
    first output's field (minus the effective padding).
    """

    size: tuple[int, ...]
    stride: tuple[int, ...]
    start: tuple[int, ...]

    def shifted(self, steps: int, delta: ReceptiveField) -> ReceptiveField:
        """This field moved ``steps`` times by ``delta``'s size and start (a repeated block)."""
        if not self.size:  # sees no input position, wherever the copy is
            return self
        return ReceptiveField(
            tuple(s + steps * d for s, d in zip(self.size, delta.size, strict=True)),
            self.stride,
            tuple(s + steps * d for s, d in zip(self.start, delta.start, strict=True)),
        )

    def minus(self, before: ReceptiveField) -> ReceptiveField:
        """What one pass added to ``before`` (size and start; the stride must be unchanged)."""
        return ReceptiveField(
            tuple(a - b for a, b in zip(self.size, before.size, strict=True)),
            self.stride,
            tuple(a - b for a, b in zip(self.start, before.start, strict=True)),
        )


#: The field of a tensor that depends on no input position (a learned parameter): no dims.
NOTHING = ReceptiveField((), (), ())


def fresh(shape: tuple[int, ...]) -> ReceptiveField | None:
    """The field of an input tensor: each position sees itself."""
    n = len(shape) - 1
    return ReceptiveField((1,) * n, (1,) * n, (0,) * n) if n > 0 else None


def through_windows(
    rf: ReceptiveField | None, windows: Sequence[Conv], output_shape: tuple[int, ...]
) -> ReceptiveField | None:
    """The standard recurrence through each conv or pooling window of a layer.

    r += (dilation·(k−1))·j; start −= pad_before·j; j ·= stride. A transposed conv's field
    is not tracked; without spatial dims there is none.
    """
    if rf is None or len(output_shape) < 2:
        return None
    size, jump, start = list(rf.size), list(rf.stride), list(rf.start)
    for window in windows:
        if window.transposed or len(window.kernel) != len(size):
            return None
        for axis in range(len(size)):
            span = window.dilation[axis] * (window.kernel[axis] - 1)
            size[axis] += span * jump[axis]
            start[axis] -= window.padding[axis][0] * jump[axis]
            jump[axis] *= window.stride[axis]
    return ReceptiveField(tuple(size), tuple(jump), tuple(start))


def merge(fields: Sequence[ReceptiveField | None]) -> ReceptiveField | None:
    """Paths joined by add, mul or concat: the largest field over the paths.

    If any path's field is not tracked, neither is the merged one. Paths that see no input
    position (learned tensors, :data:`NOTHING`) add nothing.
    """
    if any(f is None for f in fields):
        return None
    known = [f for f in fields if f is not None and f.size]
    if not known:
        return NOTHING
    if len({len(f.size) for f in known}) != 1:
        return None
    return ReceptiveField(
        tuple(max(sizes) for sizes in zip(*(f.size for f in known), strict=True)),
        tuple(max(strides) for strides in zip(*(f.stride for f in known), strict=True)),
        tuple(min(starts) for starts in zip(*(f.start for f in known), strict=True)),
    )


def upsampled(rf: ReceptiveField | None, scale: tuple[int, ...], taps: int) -> ReceptiveField | None:
    """Upsampling by an integer ``scale``: the jump divides by it; ``taps`` inputs per dim are read.

    Nearest reads one input per output (``taps`` 1), bilinear two neighbours (``taps`` 2). Where
    the jump does not divide by the scale, the field falls between input positions: not tracked.
    """
    if rf is None or len(scale) != len(rf.size) or any(j % s for j, s in zip(rf.stride, scale, strict=True)):
        return None
    return ReceptiveField(
        tuple(size + (taps - 1) * j for size, j in zip(rf.size, rf.stride, strict=True)),
        tuple(j // s for j, s in zip(rf.stride, scale, strict=True)),
        rf.start,
    )
