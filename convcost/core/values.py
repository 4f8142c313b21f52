"""Reading user values — ints, ``3x5`` dimension lists, padding words — into ints.

One reader serves flags (strings), YAML (ints, strings, lists) and the Python
API (ints, tuples), so every front end accepts the same syntax and rejects it
with the same words.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from typing import Literal, SupportsIndex, TypeAlias

from .errors import ConvCostError, bad_value, show_value
from .limits import MAX_DIGITS, MAX_DIMS, MAX_INT, digits

#: A padding pair per spatial dimension: (before, after).
PadPairs: TypeAlias = tuple[tuple[int, int], ...]
#: What padding can be before it is resolved against an input size.
PaddingRequest: TypeAlias = Literal["same", "valid"] | PadPairs

_SEPARATORS = ("×", "X", "*")

DIMS_HELP = "expected one positive integer, or one per spatial dim joined by 'x' (e.g. 3x5)"
PADDING_HELP = (
    "'same', 'valid', a non-negative integer, one per spatial dim (1x2), "
    "or before:after pairs per dim (0:1x0:1)"
)


def _split_dims(value: str, field: str) -> list[str]:
    text = value
    for sep in _SEPARATORS:
        text = text.replace(sep, "x")
    if text.count("x") >= MAX_DIMS:  # counted before the split: a text of a million dims
        raise _too_many_dims(field, value, text.count("x") + 1)
    return [part.strip() for part in text.strip().split("x")]


def _too_many_dims(field: str, value: object, count: int) -> ConvCostError:
    return ConvCostError(
        field, f"{show_value(value)} gives {count:,} values; at most {MAX_DIMS} are allowed, one per dim"
    )


_DECIMAL = re.compile(r"[+-]?[0-9]+")


def too_many_digits(field: str, value: object, count: int) -> ConvCostError:
    """The error for an int past :data:`~convcost.core.limits.MAX_DIGITS`."""
    return ConvCostError(
        field, f"{show_value(value)} has {count:,} digits; at most {MAX_DIGITS} are allowed in any number"
    )


def _int_token(token: object, field: str) -> int | None:
    """An int from an int or a decimal string; None when it is neither.

    Bools are not ints; integer scalars of other libraries (numpy's) are. An int of more
    than :data:`~convcost.core.limits.MAX_DIGITS` digits is refused before it is converted.
    """
    if isinstance(token, bool):
        return None
    if isinstance(token, str):
        text = token.strip()
        if _DECIMAL.fullmatch(text) is None:
            return None
        if len(text.lstrip("+-")) > MAX_DIGITS:
            raise too_many_digits(field, token, len(text.lstrip("+-")))
        return int(text)
    if isinstance(token, int):
        number = token
    elif isinstance(token, SupportsIndex) and not _is_bool_like(token):
        try:
            number = operator.index(token)  # numpy integer scalars, NAS users pass them
        except (TypeError, ValueError):
            return None
    else:
        return None
    if not -MAX_INT <= number <= MAX_INT:
        raise too_many_digits(field, token, digits(number))
    return number


def _is_bool_like(token: object) -> bool:
    """numpy's bool scalars (np.True_) are bools too, not ints."""
    return type(token).__name__ in ("bool", "bool_")


def positive_int(value: object, field: str) -> int:
    """A positive int from an int or a decimal string."""
    number = _int_token(value, field)
    if number is None or number < 1:
        raise bad_value(field, value, "expected a positive integer")
    return number


def dims(value: object, field: str, allowed: str = DIMS_HELP, minimum: int = 1) -> tuple[int, ...]:
    """A tuple of ints >= ``minimum`` from ``3``, ``"3x5"``, ``[3, 5]`` or ``(3, 5)``."""
    if isinstance(value, str):
        parts: Sequence[object] = _split_dims(value, field)
    elif isinstance(value, (list, tuple)):
        parts = value
        if len(parts) > MAX_DIMS:
            raise _too_many_dims(field, value, len(parts))
    else:
        parts = (value,)
    numbers = []
    for part in parts:
        number = _int_token(part, field)
        if number is None or number < minimum:
            raise bad_value(field, value, allowed)
        numbers.append(number)
    if not numbers:
        raise bad_value(field, value, allowed)
    return tuple(numbers)


def shape(value: object, field: str) -> tuple[int, ...]:
    """An input shape: spatial dims then channels, e.g. ``28x28x8``."""
    allowed = (
        "expected spatial dims then channels joined by 'x', all positive: "
        "300x16 (L×C), 28x28x8 (H×W×C) or 16x56x56x64 (D×H×W×C)"
    )
    result = dims(value, field, allowed)
    if len(result) < 2:
        raise bad_value(field, value, allowed)
    return result


def per_dim(value: object, field: str, ndim: int, minimum: int = 1) -> tuple[int, ...]:
    """One value for every spatial dim: a single value is repeated, else the count must match."""
    if type(value) is int and minimum <= value <= MAX_INT:
        return (value,) * ndim  # the common case, kept fast for API users costing many layers
    allowed = DIMS_HELP if minimum == 1 else DIMS_HELP.replace("positive", "non-negative")
    result = dims(value, field, allowed, minimum)
    if len(result) == 1:
        return result * ndim
    if len(result) != ndim:
        raise ConvCostError(
            field,
            f"{show_value(value)} gives {len(result)} values but the input has {ndim} "
            f"spatial dim{'s' if ndim != 1 else ''}; give one value or {ndim}",
        )
    return result


def padding(value: object, field: str = "padding") -> PaddingRequest:
    """'same', 'valid', or (before, after) pairs — one pair, or one per spatial dim."""
    if type(value) is int and 0 <= value <= MAX_INT:
        return ((value, value),)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("same", "valid"):
            return "same" if word == "same" else "valid"
        items: Sequence[object] = _split_dims(value, field)
    elif isinstance(value, (list, tuple)):
        items = value
        if len(items) > MAX_DIMS:
            raise _too_many_dims(field, value, len(items))
    else:
        items = (value,)
    pairs = []
    for item in items:
        pair = _pad_pair(item, field)
        if pair is None:
            raise bad_value(field, value, f"expected {PADDING_HELP}")
        pairs.append(pair)
    if not pairs:
        raise bad_value(field, value, f"expected {PADDING_HELP}")
    return tuple(pairs)


def _pad_pair(item: object, field: str) -> tuple[int, int] | None:
    if isinstance(item, str) and ":" in item:
        halves = item.split(":")
        if len(halves) != 2:
            return None
        lo, hi = _int_token(halves[0], field), _int_token(halves[1], field)
    elif isinstance(item, (list, tuple)):
        if len(item) != 2:
            return None
        lo, hi = _int_token(item[0], field), _int_token(item[1], field)
    else:
        lo = hi = _int_token(item, field)
    if lo is None or hi is None or lo < 0 or hi < 0:
        return None
    return (lo, hi)


def check_derived(shape: Sequence[int], what: str, field: str = "") -> None:
    """Refuse a worked-out shape (a concat's, a transposed conv's, a repeat's growth) that could
    not have been written: a dim past :data:`~convcost.core.limits.MAX_DIGITS` digits, or more than
    :data:`~convcost.core.limits.MAX_DIMS` dims. ``what`` names the shape in the message.

    Every size a user writes is held to these limits; a size a layer works out is held to the
    same, so that doubling channels by concatenation cannot reach what ``--in`` refuses.
    """
    if len(shape) > MAX_DIMS:
        raise ConvCostError(
            field, f"{what} has {len(shape):,} dims; at most {MAX_DIMS} are allowed, as in a written shape"
        )
    if not shape or max(shape) <= MAX_INT:
        return
    axis = next(i for i, size in enumerate(shape) if size > MAX_INT)
    dim = "channels have" if axis == len(shape) - 1 else f"spatial dim {axis + 1} has"
    shown = "x".join(str(size) if size < 10**12 else f"{str(size)[:10]}…" for size in shape[:8])
    raise ConvCostError(
        field,
        f"{what} {shown}{'x…' if len(shape) > 8 else ''}: {dim} {digits(shape[axis]):,} digits; "
        f"at most {MAX_DIGITS} are allowed in any size, written or worked out",
    )


def format_dims(values: Sequence[int | str], sep: str = "x", *, collapse: bool = False) -> str:
    """``(28, 28, 8)`` → ``28x28x8``, the syntax the flags take; ``sep="×"`` for text people read.

    The one dims-to-text join of the package. With ``collapse``, one value when every dim has it
    (``(2, 2)`` → ``2``), as the flags take a stride or a dilation.

    >>> format_dims((28, 28, 8)), format_dims((3, 5), "×"), format_dims((2, 2), collapse=True)
    ('28x28x8', '3×5', '2')
    """
    if collapse and len(set(values)) == 1:
        return str(values[0])
    return sep.join(str(v) for v in values)
