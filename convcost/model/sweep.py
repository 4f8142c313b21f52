"""Sweeps: the product of lists and ranges of layer values, each point costed like ``layer``.

Syntax, for ``out``, ``kernel``, ``in``, ``groups`` and ``stride``: a comma list
(``16,32,64``; ``3x3,5x5``; ``28x28x8,56x56x16``); for ``out`` and ``groups`` also
ranges, inclusive: ``16..128`` (step 1), ``16..128:16`` (step 16), ``16..1024*2``
(×2 each step).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import NamedTuple

from ..core import values
from ..core.conv import conv
from ..core.errors import ConvCostError, bad_value
from ..core.forms import Comparison, compare

#: Points in one sweep, at most: enough for any chart, small enough to answer at once.
MAX_POINTS = 10_000
SWEPT = ("in", "out", "kernel", "groups", "stride")
RANGE_HELP = "expected a comma list (16,32,64) or a range a..b, a..b:step or a..b*factor"


class Point(NamedTuple):
    swept: dict[str, str]  # the swept values at this point, as written
    comparison: Comparison


def _int_range(item: str, field: str) -> list[int]:
    low_text, _, rest = item.partition("..")
    step, factor = 1, 0
    if ":" in rest:
        rest, _, step_text = rest.partition(":")
        step = values.positive_int(step_text, field)
    elif "*" in rest:
        rest, _, factor_text = rest.partition("*")
        factor = values.positive_int(factor_text, field)
        if factor < 2:
            raise bad_value(field, item, "a geometric range needs a factor of at least 2")
    low, high = values.positive_int(low_text, field), values.positive_int(rest, field)
    if high < low:
        raise bad_value(field, item, "a range goes from low to high")
    if factor:
        out, value = [], low
        while value <= high:
            out.append(value)
            value *= factor
        return out
    if (high - low) // step + 1 > MAX_POINTS:
        raise bad_value(field, item, f"at most {MAX_POINTS:,} values")
    return list(range(low, high + 1, step))


def expand(text: object, field: str) -> list[str]:
    """The values of one swept option, as strings the layer parser takes."""
    items = [part.strip() for part in str(text).split(",")]
    if not all(items):
        raise bad_value(field, text, RANGE_HELP)
    result: list[str] = []
    for item in items:
        if ".." in item:
            if field not in ("out", "groups"):
                raise bad_value(field, text, "ranges are for out and groups; give a comma list")
            result.extend(str(v) for v in _int_range(item, field))
        else:
            result.append(item)
    return result


def sweep(options: Mapping[str, object], fixed: Mapping[str, object]) -> list[Point]:
    """Cost every point of the product of the swept options (``SWEPT`` keys) with the fixed ones."""
    axes = {key: expand(options[key], key) for key in SWEPT if options.get(key) is not None}
    total = 1
    for choices in axes.values():
        total *= len(choices)
    if total > MAX_POINTS:
        raise ConvCostError(
            next(iter(axes)), f"the sweep has {total:,} points; at most {MAX_POINTS:,} are allowed"
        )
    points = []
    for combo in itertools.product(*axes.values()):
        chosen = dict(zip(axes, combo, strict=True))
        layer = conv(
            chosen.get("in", fixed.get("in")),
            chosen.get("out", fixed.get("out")),
            chosen.get("kernel", fixed.get("kernel")),
            stride=chosen.get("stride", fixed.get("stride", 1)),
            padding=fixed.get("padding", 0),
            dilation=fixed.get("dilation", 1),
            groups=chosen.get("groups", fixed.get("groups", 1)),
            bias=bool(fixed.get("bias", False)),
        )
        points.append(Point(chosen, compare(layer)))
    return points
