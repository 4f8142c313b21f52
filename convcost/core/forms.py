"""Regular, grouped and depthwise-separable forms of one layer, side by side.

The depthwise-separable form is MobileNet's: a depthwise k×k conv (groups =
C_in, same stride, padding and dilation) then a pointwise 1×1 conv to C_out.
Its MAC ratio to the regular conv is exactly 1/N + 1/D_K² (N = C_out, D_K² =
the kernel's size): both forms see the same output positions, and a bias is
never a MAC. A bias, when on, sits on the pointwise conv only — one per output
channel, as Keras' SeparableConv2D — since a depthwise bias before a linear
pointwise conv folds into the pointwise one.
"""

from __future__ import annotations

from fractions import Fraction
from math import prod
from typing import NamedTuple

from .conv import Conv, Counts, pointwise
from .errors import bad_value
from .layout import channels_first_note

REGULAR = "regular"
GROUPED = "grouped"
DEPTHWISE_SEPARABLE = "depthwise_separable"


class Part(NamedTuple):
    """One conv inside a variant (the depthwise or the pointwise step)."""

    name: str
    layer: Conv
    counts: Counts


class Variant(NamedTuple):
    """One form of the layer, its counts summed over its parts."""

    name: str
    counts: Counts
    parts: tuple[Part, ...]
    regular: Counts  # the regular form's counts, the denominator of every ratio

    @property
    def ratio(self) -> float:
        """MACs / regular MACs."""
        return self.counts.macs / self.regular.macs

    @property
    def params_ratio(self) -> float:
        return self.counts.params / self.regular.params

    @property
    def exact_ratio(self) -> Fraction:
        return Fraction(self.counts.macs, self.regular.macs)

    @property
    def reduction_pct(self) -> float:
        """How many fewer MACs than the regular form, in percent."""
        return (1.0 - self.ratio) * 100.0


class Comparison(NamedTuple):
    """A layer as given, its variants, and MobileNet's theoretical ratio."""

    layer: Conv
    counts: Counts
    variants: dict[str, Variant]
    theory_n: int
    theory_dk2: int
    notes: tuple[str, ...]

    @property
    def theory_ratio(self) -> float:
        # one correctly rounded division of exact ints (1/N + 1/D_K² would round twice)
        return (self.theory_n + self.theory_dk2) / (self.theory_n * self.theory_dk2)

    @property
    def theory_expression(self) -> str:
        return f"1/{self.theory_n} + 1/{self.theory_dk2}"


def regular_form(layer: Conv) -> Conv:
    """The same layer with groups = 1."""
    if layer.groups == 1:
        return layer
    return Conv(*layer[:6], 1, *layer[7:])  # _replace(groups=1), without its keyword machinery


def depthwise_separable_parts(layer: Conv) -> tuple[Conv, Conv]:
    """Depthwise k×k (groups = C_in, same geometry) then pointwise 1×1 to C_out."""
    c_in = layer.in_channels
    # _replace(out_channels=c_in, groups=c_in, bias=False, output_shape=…), spelled out: hot path
    depthwise = Conv(layer[0], c_in, *layer[2:6], c_in, False, layer.output_shape[:-1] + (c_in,), *layer[9:])
    # The pointwise step is a plain 1×1 conv on the depthwise output, also after a
    # transposed depthwise step (whose output size comes from its own geometry).
    return depthwise, pointwise(depthwise.output_shape, layer.out_channels, layer.bias)


def _variant(name: str, parts: tuple[Part, ...], regular: Counts) -> Variant:
    counts = parts[0].counts
    for part in parts[1:]:
        counts = counts.plus(part.counts)
    return Variant(name, counts, parts, regular)


def compare(layer: Conv) -> Comparison:
    """Cost the layer in each of its forms.

    ``grouped`` is present only when the layer's own groups > 1.

    >>> from convcost import conv
    >>> c = compare(conv("28x28x8", 16, 3))
    >>> c.variants["depthwise_separable"].counts.macs
    135200
    """
    if not isinstance(layer, Conv):
        raise bad_value("layer", layer, "expected a layer made by convcost.conv(...)")
    regular = regular_form(layer)
    regular_counts = regular.counts()
    own = regular_counts if regular is layer else layer.counts()
    variants = {REGULAR: _variant(REGULAR, (Part("conv", regular, regular_counts),), regular_counts)}
    if layer.groups > 1:
        variants[GROUPED] = _variant(GROUPED, (Part("grouped", layer, own),), regular_counts)
    depthwise, pointwise = depthwise_separable_parts(layer)
    variants[DEPTHWISE_SEPARABLE] = _variant(
        DEPTHWISE_SEPARABLE,
        (Part("depthwise", depthwise, depthwise.counts()), Part("pointwise", pointwise, pointwise.counts())),
        regular_counts,
    )
    n, dk2 = layer.out_channels, prod(layer.kernel)
    return Comparison(layer, own, variants, n, dk2, _notes(layer, variants, n, dk2))


def _matches_theory(count: int, regular: int, n: int, dk2: int) -> bool:
    """count / regular == 1/n + 1/dk2, in integers (cheap: no Fractions on the hot path)."""
    return count * n * dk2 == regular * (n + dk2)


def _notes(layer: Conv, variants: dict[str, Variant], n: int, dk2: int) -> tuple[str, ...]:
    notes = []
    habit = channels_first_note(layer.in_shape)  # 3x224x224: PyTorch's order, read as H×W×C
    if habit is not None:
        notes.append(habit)
    dws, regular = variants[DEPTHWISE_SEPARABLE].counts, variants[REGULAR].counts
    if not _matches_theory(dws.macs, regular.macs, n, dk2):
        notes.append(
            f"The exact MAC ratio {Fraction(dws.macs, regular.macs)} differs from the theory "
            f"{Fraction(1, n) + Fraction(1, dk2)}: the depthwise and pointwise steps do not see the same "
            "positions as the regular conv."
        )
    if not _matches_theory(dws.params, regular.params, n, dk2):
        notes.append(
            f"The params ratio {dws.params / regular.params:.4f} differs from the theory "
            f"{(n + dk2) / (n * dk2):.4f}: the bias adds C_out parameters to each form, "
            "which 1/N + 1/D_K² leaves out."
        )
    if dk2 == 1:
        notes.append(
            "A 1×1 kernel gains nothing from the depthwise-separable form: it only adds a depthwise 1×1 pass."
        )
    return tuple(notes)
