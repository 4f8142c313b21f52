"""PyTorch's channels-first habit: catching a C×H×W shape given where H×W×C is meant, and reading
one on purpose.

convcost's shapes are channels-last (``224x224x3``). PyTorch users think in ``N×C×H×W``, and
``--in 3x224x224`` is then read as an image 3 pixels high, 224 wide, of 224 channels: a wrong
answer, exit 0. :func:`channels_first_note` says so when a shape looks like that (a first dim of
1 to 4, the last two equal and larger); :func:`from_channels_first` reads a shape written in
PyTorch's order on purpose (``--channels-first``).

Both read the dims the same way: up to 3 dims are C then the spatial dims (``C×L``,
``C×H×W``), 4 or more a batch first (``N×C×H×W``, ``N×C×D×H×W``), as PyTorch's 1-D and 2-D
convs take them unbatched and batched. (A batched 1-D ``N×C×L`` or an unbatched 3-D
``C×D×H×W`` is ambiguous: give the batch with ``--batch``, or ``1×C×D×H×W``.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from . import values

#: First dims that give a C×H×W shape away: the channels of an image (grey, 2, RGB, RGBA), or
#: a small batch.
_SMALL = range(1, 5)


class ChannelsLast(NamedTuple):
    """A shape turned channels-last, and the batch it held (None when it held none)."""

    shape: tuple[int, ...]
    batch: int | None


def _turned(dims: Sequence[int]) -> ChannelsLast:
    """``C×spatial`` (up to 3 dims) or ``N×C×spatial`` (4 or more) as channels-last."""
    if len(dims) >= 4:
        return ChannelsLast((*dims[2:], dims[1]), dims[0])
    return ChannelsLast((*dims[1:], dims[0]), None)


def looks_channels_first(shape: Sequence[int]) -> ChannelsLast | None:
    """The channels-last reading of ``shape`` when it looks written channels-first, else None.

    It does when its first dim is 1 to 4 (an image's channels, or a small batch) and its last
    two are equal and larger: ``3x224x224``, ``1x3x224x224``. A real H×W×C input of that form
    (4 pixels high, 16 wide, 16 channels) is rare; one that is gets a note, never an error.

    >>> looks_channels_first((3, 224, 224))
    ChannelsLast(shape=(224, 224, 3), batch=None)
    >>> looks_channels_first((224, 224, 3)) is None
    True
    """
    if len(shape) < 3 or shape[0] not in _SMALL or shape[-1] != shape[-2] or shape[-1] <= shape[0]:
        return None
    return _turned(shape)


def channels_first_note(shape: Sequence[int], given_as: str = "--in") -> str | None:
    """One line saying how ``shape`` is read and what to give if it is PyTorch's order, or None.

    ``given_as`` is how the user gave it, and how the suggestion is written: ``--in`` for a flag,
    ``input:`` for a spec's input.
    """
    reading = looks_channels_first(shape)
    if reading is None:
        return None
    written = values.format_dims(shape)
    *spatial, channels = shape
    batched = reading.batch is not None
    order = "N×C×" if batched else "C×"
    order += {1: "L", 2: "H×W", 3: "D×H×W"}.get(len(reading.shape) - 1, "…")
    suggestion = f"{given_as} {values.format_dims(reading.shape)}"
    if batched and reading.batch != 1:
        suggestion += f" with a batch of {reading.batch} (--batch {reading.batch})"
    return (
        f"{given_as} {written} is read channels-last: {values.format_dims(spatial, '×')} positions of "
        f"{channels} channels; if it is PyTorch's {order}, give {suggestion}"
    )


def from_channels_first(value: object, field: str = "in") -> ChannelsLast:
    """A shape written in PyTorch's order (``3x224x224``, ``1x3x224x224``) read as convcost's.

    The same syntax and limits as any shape (:func:`convcost.core.values.shape`); up to 3 dims
    are C then the spatial dims, 4 or more a batch first.

    >>> from_channels_first("1x3x224x224")
    ChannelsLast(shape=(224, 224, 3), batch=1)
    """
    return _turned(values.shape(value, field))
