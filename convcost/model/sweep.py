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

from ..core import limits, values
from ..core.conv import conv
from ..core.errors import ConvCostError, bad_value
from ..core.forms import Comparison, compare

#: Points in one sweep, at most: enough for any chart, small enough to answer at once.
MAX_POINTS = limits.MAX_POINTS
SWEPT = ("in", "out", "kernel", "groups", "stride")
RANGE_HELP = "expected a comma list (16,32,64) or a range a..b, a..b:step or a..b*factor"


class Point(NamedTuple):
    swept: dict[str, str]  # the swept values at this point, as written
    comparison: Comparison


class _Range(NamedTuple):
    low: int
    high: int
    step: int  # arithmetic step, or 0 for a geometric range
    factor: int  # geometric factor, or 0

    def size(self) -> int:
        """How many values, without listing them (a geometric range takes O(digits) steps)."""
        if not self.factor:
            return (self.high - self.low) // self.step + 1
        n, value = 0, self.low
        while value <= self.high:
            n, value = n + 1, value * self.factor
        return n

    def values(self) -> list[int]:
        if not self.factor:
            return list(range(self.low, self.high + 1, self.step))
        out, value = [], self.low
        while value <= self.high:
            out.append(value)
            value *= self.factor
        return out


def _int_range(item: str, field: str) -> _Range:
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
    return _Range(low, high, 0 if factor else step, factor)


def _items(text: object, field: str) -> list[str | _Range]:
    """One swept option's items, ranges parsed but not expanded."""
    if not isinstance(text, (str, int)) or isinstance(text, bool):
        raise bad_value(field, text, RANGE_HELP)
    items = [part.strip() for part in str(text).split(",")]
    if not all(items):
        raise bad_value(field, text, RANGE_HELP)
    parsed: list[str | _Range] = []
    for item in items:
        if ".." in item:
            if field not in ("out", "groups"):
                raise bad_value(field, text, "ranges are for out and groups; give a comma list")
            parsed.append(_int_range(item, field))
        else:
            parsed.append(item)
    return parsed


def _count(items: list[str | _Range]) -> int:
    return sum(item.size() if isinstance(item, _Range) else 1 for item in items)


def _expand(items: list[str | _Range]) -> list[str]:
    result: list[str] = []
    for item in items:
        if isinstance(item, _Range):
            result.extend(str(v) for v in item.values())
        else:
            result.append(item)
    return result


def expand(text: object, field: str) -> list[str]:
    """The values of one swept option, as strings the layer parser takes."""
    items = _items(text, field)
    total = _count(items)
    if total > MAX_POINTS:
        raise bad_value(field, text, f"it gives {total:,} values; at most {MAX_POINTS:,}")
    return _expand(items)


def sweep(options: Mapping[str, object], fixed: Mapping[str, object]) -> list[Point]:
    """Cost every point of the product of the swept options (``SWEPT`` keys) with the fixed ones."""
    if not isinstance(options, Mapping) or not isinstance(fixed, Mapping):
        raise bad_value("options", options, "expected two mappings: the swept options and the fixed ones")
    parsed = {key: _items(options[key], key) for key in SWEPT if options.get(key) is not None}
    total = 1
    for key, items in parsed.items():  # the product is counted before any list is made
        total *= _count(items)
        if total > MAX_POINTS:
            raise ConvCostError(
                key,
                f"the sweep has {'at least ' if key != list(parsed)[-1] else ''}{total:,} points; "
                f"at most {MAX_POINTS:,} are allowed (sweep fewer values, or split the sweep)",
            )
    axes = {key: _expand(items) for key, items in parsed.items()}
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
            bias=fixed.get("bias", False),  # type: ignore[arg-type]  # conv() checks it is a bool
        )
        points.append(Point(chosen, compare(layer)))
    return points
