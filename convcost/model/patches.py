"""Patch-based inference (MCUNetV2, Lin et al., NeurIPS 2021): the first stage run patch by patch.

The output of the stage's last layer (the split) is cut into N×M patches. Each patch is computed
on its own from the region of every earlier tensor it needs, found backwards through each
layer's windows: output positions [lo, hi) of a window with kernel k, stride s, dilation d
and padding p read input positions [lo·s − p, (hi − 1)·s − p + d·(k − 1) + 1), clipped to
the tensor (this is the receptive-field recurrence, taken layer by layer, so the halos where
neighbouring patches overlap are exact). Element-wise layers, merges and channel concats need
the same region of each input. A stage ends where one tensor alone crosses it; a layer that
mixes positions otherwise (a global pool, a reshape, attention) ends the stages that can be
split at all.

Memory in the patch stage: the whole input (held, as MCUNetV2 holds the image), the whole
output of the split being filled, and the worst patch's live tensors under the usual rule
(:mod:`convcost.model.memory`); after the split, layer by layer as before. Overlapping regions
are computed once per patch that needs them: the extra MACs are the price.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import NamedTuple

from ..core import values
from ..core.conv import Conv
from ..core.dtypes import DType
from ..core.errors import ConvCostError, bad_value
from .evaluate import Network, Row
from .memory import IN_PLACE, IN_PLACE_DEPTHWISE, STATIC, VIEW, Plan, plan, simulate

#: Work bound for the split search: steps simulated (patches × stage length, summed over splits).
SEARCH_STEPS = 300_000

Range = tuple[int, int]
Region = tuple[Range, Range]


class Patched(NamedTuple):
    """The first stage run patch by patch, up to and including ``split``."""

    patches: tuple[int, int]
    split: str
    searched: bool  # the split was searched (the one of least peak), not given
    peak_bytes: int  # of the whole network: the patch stage's and the rest's
    peak_at: str  # "patches" when the patch stage holds the peak, else the row
    stage_peak_bytes: int  # the input, the split's whole output, and the worst patch's tensors
    layer_peak_bytes: int  # the same network run layer by layer, for comparison
    stage_macs: int  # the stage's MACs run layer by layer (one sample)
    extra_macs: int  # MACs added by recomputing the overlaps (one sample)


def parse_patches(value: object, field: str = "patches") -> tuple[int, int]:
    """``4x4`` (rows × columns of patches) or ``4`` (4×4)."""
    counts = values.dims(value, field, "expected patches per side: 4x4, or 4 for 4×4")
    if len(counts) == 1:
        return counts[0], counts[0]
    if len(counts) != 2:
        raise bad_value(field, value, "expected two counts (rows × columns), e.g. 4x4")
    return counts[0], counts[1]


def _windows(row: Row) -> tuple[bool, tuple[Conv, ...]]:
    """Whether a 2-D layer maps regions back (and through which windows, last first)."""
    if len(row.output_shape) != 3 or any(len(s) != 3 for s in row.input_shapes):
        return False, ()
    if row.type in ("conv", "depthwise", "separable", "pool"):
        geometry = row.costed.geometry if row.costed is not None else ()
        if not geometry or any(w.transposed or len(w.kernel) != 2 for w in geometry):
            return False, ()
        return True, tuple(reversed(geometry))
    if row.type in ("activation", "batchnorm", "add", "sub", "mul", "div", "elementwise", "concat"):
        return True, ()
    return False, ()


def _back(region: Region, windows: Sequence[Conv]) -> Region:
    rows, cols = region
    for w in windows:
        ranges = []
        for axis, (lo, hi) in enumerate((rows, cols)):
            s, d, k = w.stride[axis], w.dilation[axis], w.kernel[axis]
            pad, size = w.padding[axis][0], w.in_shape[axis]
            a = max(0, lo * s - pad)
            b = min(size, (hi - 1) * s - pad + d * (k - 1) + 1)
            ranges.append((a, max(a, b)))
        rows, cols = ranges[0], ranges[1]
    return rows, cols


def _hull(a: Region | None, b: Region) -> Region:
    if a is None:
        return b
    return (min(a[0][0], b[0][0]), max(a[0][1], b[0][1])), (min(a[1][0], b[1][0]), max(a[1][1], b[1][1]))


def _area(region: Region | None) -> int:
    if region is None:
        return 0
    return max(0, region[0][1] - region[0][0]) * max(0, region[1][1] - region[1][0])


class _Stage:
    """Splits a network's first stage can end at, with what each needs per patch."""

    def __init__(self, p: Plan) -> None:
        self.p = p
        n = len(p.rows)
        last_read = [-1] * len(p.value_step)
        for s in range(n):
            for v in p.reads_values[s]:
                last_read[v] = s
        for s in range(n):
            if p.writes[s] >= 0 and p.kept[p.writes[s]]:  # a graph output is read at the end
                last_read[p.produces[s]] = n
        self.windows: list[tuple[Conv, ...]] = []
        self.channels: list[int] = []  # output channels of each step of the stage
        self.input_channels: dict[int, int] = {}  # of each graph input the stage reads
        self.splits: list[int] = []
        reach = max((last_read[v] for v in range(len(p.value_step)) if p.value_step[v] < 0), default=-1)
        for s in range(n):
            row = p.rows[s]
            ok, windows = _windows(row)
            if not ok and p.how[s] != STATIC:
                break
            if p.how[s] == VIEW:
                break
            self.windows.append(windows)
            self.channels.append(row.output_shape[-1] if len(row.output_shape) == 3 else 0)
            for v, shape in zip(p.reads_values[s], row.input_shapes, strict=False):
                if p.value_step[v] < 0 and len(shape) == 3:
                    self.input_channels[v] = shape[-1]
            if p.how[s] == STATIC:
                continue
            if reach <= s and p.writes[s] >= 0:
                self.splits.append(s)
            reach = max(reach, last_read[p.produces[s]])

    def regions(self, split: int, patch: Region) -> dict[int, Region]:
        """Each value's region (by value index) that one patch of the split's output needs."""
        p = self.p
        need: dict[int, Region] = {p.produces[split]: patch}
        for s in range(split, -1, -1):
            region = need.get(p.produces[s])
            if region is None:
                continue
            below = _back(region, self.windows[s])
            for v in p.reads_values[s]:
                need[v] = _hull(need.get(v), below)
        return need

    def patch_peak(self, split: int, need: dict[int, Region], input_whole: bool) -> tuple[int, list[int]]:
        """The most live elements while one patch runs (the split's output not counted, nor the
        input when held whole), and the output positions each step computes (work ∝ the stage)."""
        p = self.p
        size: dict[int, int] = {}
        for s in range(split + 1):
            if p.writes[s] >= 0:
                size[p.writes[s]] = _area(need.get(p.produces[s])) * self.channels[s]
        for b, v in zip(p.inputs, p.input_values, strict=True):
            # Held whole, the input is counted once beside the patches; read patch by patch
            # (from a camera or flash), only its region is there.
            size[b] = 0 if input_whole else _area(need.get(v)) * self.input_channels.get(v, 0)
        size[p.writes[split]] = 0  # written into the whole output buffer
        remaining: dict[int, int] = {}
        live = sum(size[b] for b in p.inputs)
        top = 0
        positions = []
        for s in range(split + 1):
            w = p.writes[s]
            out = size[w] if w >= 0 else 0
            delta = 0
            if s < split and p.how[s] == IN_PLACE:
                delta = -size[p.reads[s][0]]
            elif s < split and p.how[s] == IN_PLACE_DEPTHWISE:
                size_in = size[p.reads[s][0]]
                delta = max(size_in, out) + _area(need.get(p.produces[s])) - size_in - out
            top = max(top, live + out + delta)
            live += out
            for b in p.reads[s]:
                left = remaining.get(b, p.consumers[b]) - 1
                remaining[b] = left
                if not left and not p.kept[b]:
                    live -= size[b]
            if w >= 0 and not p.consumers[w] and not p.kept[w]:
                live -= size[w]
            positions.append(_area(need.get(p.produces[s])))
        return top, positions


def _cuts(size: int, count: int) -> list[Range]:
    return [(size * k // count, size * (k + 1) // count) for k in range(count)]


def patched(
    network: Network,
    patches: tuple[int, int] | str = (4, 4),
    dtype: DType | str = DType.FP32,
    batch: int = 1,
    *,
    split: str | None = None,
    inplace_depthwise: bool = False,
    input_whole: bool = True,
) -> Patched:
    """Peak memory with the first stage run in ``patches`` (rows × columns) up to ``split``
    (a row name), or up to the split of least peak when none is given."""
    counts = parse_patches(patches) if isinstance(patches, str) else patches
    scale = DType(dtype).bytes * batch
    p = plan(network, inplace_depthwise)
    stage = _Stage(p)
    layer_need = simulate(p, range(len(p.rows)))
    layer_peak = max(layer_need, default=0)
    after_peak = [0] * (len(layer_need) + 1)  # the most any step from each on needs
    for k in range(len(layer_need) - 1, -1, -1):
        after_peak[k] = max(after_peak[k + 1], layer_need[k])
    names = p.names
    candidates = stage.splits
    if split is not None:
        if split not in names:
            raise bad_value("split", split, "is not a row of the network")
        index = names.index(split)
        if index not in candidates:
            raise bad_value(
                "split",
                split,
                "cannot end a patch stage: every layer up to it must slide windows over 2-D "
                "positions (conv, pool, element-wise, concat), and its output must be the only "
                "tensor that later layers read",
            )
        candidates = [index]
    usable = []
    for s in candidates:
        h, w = p.rows[s].output_shape[:2]
        if h >= counts[0] and w >= counts[1]:
            usable.append(s)
    if not usable:
        raise ConvCostError(
            "patches",
            f"no layer can end a patch stage of {counts[0]}x{counts[1]} patches here: the first "
            "stage must be 2-D convs, pools and element-wise layers whose output has at least "
            "that many rows and columns",
        )
    best: tuple[int, int, int, int, int] | None = None  # (peak, extra, split, stage peak, stage macs)
    budget = SEARCH_STEPS
    input_elems = sum(p.sizes[b] for b in p.inputs) if input_whole else 0
    for s in usable:
        if best is not None and input_elems + p.sizes[p.writes[s]] >= best[0]:
            continue  # the split's whole output alone needs more than the best so far
        budget -= (s + 1) * counts[0] * counts[1]
        if budget < 0 and best is not None:
            break
        h, w = p.rows[s].output_shape[:2]
        worst = 0
        computed = [0] * (s + 1)
        for rows in _cuts(h, counts[0]):
            for cols in _cuts(w, counts[1]):
                need = stage.regions(s, (rows, cols))
                top, positions = stage.patch_peak(s, need, input_whole)
                worst = max(worst, top)
                for k, n in enumerate(positions):
                    computed[k] += n
        stage_peak = input_elems + p.sizes[p.writes[s]] + worst
        extra = 0
        stage_macs = 0
        for k in range(s + 1):
            row = p.rows[k]
            full = prod(row.output_shape[:2]) if p.how[k] != STATIC else 0
            if full:
                extra += row.counts.macs * computed[k] // full - row.counts.macs
                stage_macs += row.counts.macs
        rest = after_peak[s + 1]
        total = max(stage_peak, rest)
        key = (total, extra, s, stage_peak, stage_macs)
        if best is None or key[:2] < best[:2]:
            best = key
    assert best is not None
    total, extra, s, stage_peak, stage_macs = best
    at = "patches" if stage_peak >= total else names[s + 1 + layer_need[s + 1 :].index(total)]
    return Patched(
        counts,
        names[s],
        split is None,
        total * scale,
        at,
        stage_peak * scale,
        layer_peak * scale,
        stage_macs,
        extra,
    )
