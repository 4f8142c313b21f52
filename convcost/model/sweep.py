"""Sweeps: the product of lists and ranges of layer values, each point costed like ``layer``.

Syntax, for ``in``, ``out``, ``kernel``, ``groups``, ``stride`` and ``dilation``: a comma list
(``16,32,64``; ``3x3,5x5``; ``28x28x8,56x56x16``); for ``out`` and ``groups`` also
ranges, inclusive: ``16..128`` (step 1), ``16..128:16`` (step 16), ``16..1024*2``
(×2 each step).

A point that cannot exist — groups that do not divide the channels, a kernel larger than
the (padded) input — is skipped and counted, not an error: a product of lists easily holds
some. Values that do not parse are errors, and so is a sweep whose every point is skipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import NamedTuple

from ..core import limits, values
from ..core.conv import conv
from ..core.errors import ConvCostError, bad_value
from ..core.forms import Comparison, compare

#: Points in one sweep, at most: enough for any chart, small enough to answer at once.
MAX_POINTS = limits.MAX_POINTS
SWEPT = ("in", "out", "kernel", "groups", "stride", "dilation")
#: Fields whose error, at one point of a sweep, means that the point cannot exist (it is skipped).
CANNOT_EXIST = frozenset({"groups", "kernel", "stride", "dilation", "padding", "output_padding"})
RANGE_HELP = "expected a comma list (16,32,64) or a range a..b, a..b:step or a..b*factor"


class Point(NamedTuple):
    swept: dict[str, str]  # the swept values at this point, as written
    comparison: Comparison


class Skipped(NamedTuple):
    """Points of one kind that cannot exist: how many, and the first one's error."""

    points: int
    example: ConvCostError


class Points(list[Point]):
    """The points of a sweep (a list), with the points that were skipped because they cannot exist."""

    def __init__(self, points: list[Point], skipped: Mapping[str, Skipped], total: int) -> None:
        super().__init__(points)
        self.skipped_by_field = dict(skipped)  # field → how many, and the first error
        self.total = total  # points in the product, skipped ones included

    @property
    def skipped(self) -> int:
        return sum(s.points for s in self.skipped_by_field.values())


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


def _check_values(key: str, texts: list[str]) -> None:
    """Every value of a swept option parses on its own: a typo is an error, never a skipped point."""
    for text in dict.fromkeys(texts):
        if key == "in":
            values.shape(text, key)
        elif key in ("out", "groups"):
            values.positive_int(text, key)
        else:
            values.dims(text, key)


def _plain(key: str, value: object) -> object:
    """A value as plain ints where it reads as them (``"16"`` → 16, ``"3x5"`` → (3, 5)); anything
    else unchanged, for conv() to read or refuse with its usual words."""
    if not isinstance(value, str):
        return value
    try:
        if key == "in":
            return values.shape(value, key)
        numbers = values.dims(value, key, minimum=0)
    except ConvCostError:
        return value
    return numbers[0] if len(numbers) == 1 else numbers


def sweep(
    options: Mapping[str, object],
    fixed: Mapping[str, object],
    on_point: Callable[[], None] | None = None,
) -> Points:
    """Cost every point of the product of the swept options (``SWEPT`` keys) with the fixed ones.

    Points that cannot exist are skipped and counted (``Points.skipped``); ``on_point`` is
    called after each point (a progress bar).
    """
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
    for key, texts in axes.items():
        _check_values(key, texts)
    # Each value parsed once, not once per point: plain ints take conv()'s fast path.
    plain = {key: {text: _plain(key, text) for text in dict.fromkeys(texts)} for key, texts in axes.items()}
    steady = {key: _plain(key, value) for key, value in fixed.items()}
    points = []
    skipped: dict[str, Skipped] = {}
    first_error: ConvCostError | None = None
    for combo in itertools.product(*axes.values()):
        chosen = dict(zip(axes, combo, strict=True))
        given = {**steady, **{key: plain[key][text] for key, text in chosen.items()}}
        try:
            layer = conv(
                given.get("in"),
                given.get("out"),
                given.get("kernel"),
                stride=given.get("stride", 1),
                padding=steady.get("padding", 0),
                dilation=given.get("dilation", 1),
                groups=given.get("groups", 1),
                bias=fixed.get("bias", False),  # type: ignore[arg-type]  # conv() checks it is a bool
                transposed=fixed.get("transposed", False),  # type: ignore[arg-type]
                output_padding=steady.get("output_padding", 0),
            )
        except ConvCostError as exc:
            first_error = first_error or exc
            field = exc.field.split(".")[0].split("[")[0]
            if field not in CANNOT_EXIST:
                raise
            seen = skipped.get(field)
            skipped[field] = Skipped(seen.points + 1, seen.example) if seen else Skipped(1, exc)
        else:
            points.append(Point(chosen, compare(layer)))
        if on_point is not None:
            on_point()
    if not points and first_error is not None:
        raise first_error  # every point is impossible: that is the user's error, not an empty sweep
    return Points(points, skipped, total)
