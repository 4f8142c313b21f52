"""Whole-network what-ifs: every spatial conv as regular or separable, a width multiplier, a new input.

Which kinds each rewrite applies to is read from the registry (``Kind.forms``, ``Kind.width``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from fractions import Fraction
from typing import NamedTuple

from ..core import values
from ..core.errors import ConvCostError, bad_value, show_value
from ..core.options import AS_FORMS, AsForm
from .kinds import KINDS, scale_channels


class Options(NamedTuple):
    """What-if rewrites applied to every layer before costing."""

    as_form: AsForm | None = None
    width_mult: Fraction | None = None
    input_shape: tuple[int, ...] | None = None


DEFAULT_OPTIONS = Options()


def options(as_form: object = None, width_mult: object = None, input_shape: object = None) -> Options:
    """Validate what-if options from any front end (flags, the API)."""
    if as_form is not None and as_form not in AS_FORMS:
        raise bad_value("as", as_form, f"expected one of {', '.join(AS_FORMS)}")
    form: AsForm | None = "regular" if as_form == "regular" else "separable" if as_form else None
    return Options(
        form,
        parse_width(width_mult) if width_mult is not None else None,
        values.shape(input_shape, "in") if input_shape is not None else None,
    )


def parse_width(value: object) -> Fraction:
    """A width multiplier such as 0.75 or 3/4, kept exact."""
    if isinstance(value, Fraction):
        alpha = value
    else:
        try:
            alpha = Fraction(str(value).strip())
        except (ValueError, ZeroDivisionError):
            alpha = Fraction(0)
    if alpha <= 0:
        raise ConvCostError(
            "width_mult", f"{show_value(value)} is not allowed; expected a positive number like 0.75"
        )
    return alpha


def _has_spatial_kernel(kernel: object) -> bool:
    try:
        return any(k > 1 for k in values.dims(kernel, "kernel"))
    except ConvCostError:
        return True  # let the handler report it


def rewrite(
    kind: str, fields: Mapping[str, object], shape: tuple[int, ...], chosen: Options
) -> tuple[str, Mapping[str, object]]:
    """Apply --width-mult and --as to one layer's fields."""
    entry = KINDS[kind]
    alpha = chosen.width_mult
    if (alpha is None or entry.width is None) and (chosen.as_form is None or not entry.forms):
        return kind, fields
    changed = dict(fields)
    if alpha is not None and entry.width == "scale" and "out" in changed:
        with contextlib.suppress(ConvCostError):  # the handler reports a bad value with its path
            changed["out"] = scale_channels(changed["out"], alpha)
    if alpha is not None and entry.width == "follow":
        changed.pop("out", None)  # it follows the (scaled) input channels
    form = chosen.as_form
    if form is None or not entry.forms or not _has_spatial_kernel(changed.get("kernel")):
        return kind, changed
    if form == "regular" and (kind != "conv" or changed.get("groups", 1) != 1):
        if kind == "depthwise":
            changed["out"] = shape[-1] * values.positive_int(changed.get("multiplier", 1), "multiplier")
        changed.pop("multiplier", None)
        return "conv", {**changed, "groups": 1}
    if form == "separable" and kind == "conv":
        changed.pop("groups", None)
        return "separable", changed
    return kind, changed
