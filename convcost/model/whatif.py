"""Whole-network what-ifs: every spatial conv as regular or separable, a width multiplier, a new input.

Which kinds each rewrite applies to is read from the registry (``Kind.forms``, ``Kind.width``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from fractions import Fraction
from typing import NamedTuple

from ..core import values
from ..core.errors import ConvCostError, bad_value
from ..core.limits import MAX_DIGITS, MAX_INT
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
    if as_form is not None and (not isinstance(as_form, str) or as_form not in AS_FORMS):
        raise bad_value("as", as_form, f"expected one of {', '.join(AS_FORMS)}")
    form: AsForm | None = "regular" if as_form == "regular" else "separable" if as_form else None
    return Options(
        form,
        parse_width(width_mult) if width_mult is not None else None,
        values.shape(input_shape, "in") if input_shape is not None else None,
    )


def checked(chosen: object) -> Options:
    """Options built by hand (the Python API) validated as the flags are."""
    if chosen is None or chosen is DEFAULT_OPTIONS:
        return DEFAULT_OPTIONS
    if not isinstance(chosen, Options):
        raise bad_value(
            "options", chosen, "expected convcost.Options(as_form=…, width_mult=…, input_shape=…)"
        )
    return options(chosen.as_form, chosen.width_mult, chosen.input_shape)


#: A decimal (with an exponent) or a fraction, its parts' digits checked before any arithmetic:
#: Fraction("1e999999999") would compute 10**999999999.
_WIDTH = re.compile(
    r"(?P<num>[0-9]+)/(?P<den>[0-9]+)|[+]?(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[-+]?[0-9]+))?"
)
_WIDTH_HELP = "expected a positive number like 0.75 or 3/4"


def parse_width(value: object) -> Fraction:
    """A width multiplier such as 0.75 or 3/4, kept exact.

    Its digits and exponent are held to :data:`~convcost.core.limits.MAX_DIGITS`, so that
    no multiplier costs more than a few operations to read.
    """
    alpha = value if isinstance(value, Fraction) else _width_text(value)
    if alpha <= 0:
        raise bad_value("width_mult", value, _WIDTH_HELP)
    if alpha.numerator > MAX_INT or alpha.denominator > MAX_INT:
        raise bad_value("width_mult", value, f"{_WIDTH_HELP}, of at most {MAX_DIGITS} digits")
    return alpha


def _width_text(value: object) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise bad_value("width_mult", value, _WIDTH_HELP)
    text = value.strip() if isinstance(value, str) else repr(value)
    match = _WIDTH.fullmatch(text) if len(text) <= 4 * MAX_DIGITS else None
    if match is None or not (match["num"] or match["int"] or match["frac"]):
        raise bad_value("width_mult", value, _WIDTH_HELP)
    parts = [match[name] or "" for name in ("num", "den", "int", "frac")]
    exponent = match["exp"] or "0"
    if max(len(part) for part in parts) > MAX_DIGITS or len(exponent.lstrip("+-")) > 2:
        raise bad_value("width_mult", value, f"{_WIDTH_HELP}, of at most {MAX_DIGITS} digits and exponents")
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return Fraction(0)


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
