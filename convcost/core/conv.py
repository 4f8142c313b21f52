"""A convolution layer, validated once, and the exact arithmetic of its cost.

Shapes are channels-last tuples: spatial dims first, channels last, in the
order the user wrote them (``28x28x8`` is H×W×C). Every count is a Python int.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from math import gcd, prod
from typing import NamedTuple

from . import values
from .errors import ConvCostError, bad_value, shorten, show_value
from .limits import MAX_DIMS, MAX_INT, MAX_RESULT, MAX_RESULT_DIGITS


class Counts(NamedTuple):
    """Exact operation and parameter counts for one forward pass of one sample.

    ``macs``: multiply-accumulates, one per weight tap; a bias add is never a MAC.
    ``adds``: exact additions — accumulating the taps of each output, plus the bias add.
    ``bias_adds``: one per output element when the layer has a bias, else 0.
    ``flops`` (derived): 2·MACs + bias adds, the convention most papers use.
    ``other_ops``: the work of everything that is not a multiply-accumulate (activations,
    norms, pooling windows, elementwise merges), one op per element under the stated rule
    of each layer kind; never part of MACs or FLOPs.
    """

    macs: int
    params: int
    adds: int
    bias_adds: int
    other_ops: int = 0

    @property
    def flops(self) -> int:
        return 2 * self.macs + self.bias_adds

    def plus(self, other: Counts) -> Counts:
        """Element-wise sum (tuple ``+`` would concatenate)."""
        return Counts(
            self.macs + other.macs,
            self.params + other.params,
            self.adds + other.adds,
            self.bias_adds + other.bias_adds,
            self.other_ops + other.other_ops,
        )

    def times(self, n: int) -> Counts:
        """These counts repeated ``n`` times (the params too: each copy has its own weights)."""
        return Counts(self.macs * n, self.params * n, self.adds * n, self.bias_adds * n, self.other_ops * n)


ZERO = Counts(0, 0, 0, 0, 0)


def weighted_sum(items: Iterable[tuple[Counts, int]]) -> Counts:
    """The sum of each counts times its weight (a network's totals: one pass, no Counts per row)."""
    macs = params = adds = bias_adds = other_ops = 0
    for counts, times in items:
        m, p, a, b, o = counts
        if times != 1:
            m, p, a, b, o = m * times, p * times, a * times, b * times, o * times
        macs += m
        params += p
        adds += a
        bias_adds += b
        other_ops += o
    return Counts(macs, params, adds, bias_adds, other_ops)


class Conv(NamedTuple):
    """A convolution (or transposed convolution) with every value resolved per spatial dim.

    Build one with :func:`conv`, which validates; the fields are then consistent.
    ``padding`` holds (before, after) per dim, already resolved from 'same'/'valid'.
    """

    in_shape: tuple[int, ...]
    out_channels: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: values.PadPairs
    dilation: tuple[int, ...]
    groups: int
    bias: bool
    output_shape: tuple[int, ...]
    padding_rule: str = "explicit"
    transposed: bool = False
    output_padding: tuple[int, ...] = ()

    @property
    def ndim(self) -> int:
        """Number of spatial dims (1, 2, 3, …)."""
        return len(self.in_shape) - 1

    @property
    def in_channels(self) -> int:
        return self.in_shape[-1]

    @property
    def macs(self) -> int:
        """Multiply-accumulates.

        Regular: prod(out spatial) · C_out · (C_in / groups) · prod(kernel).
        Transposed: counted per input element — prod(in spatial) · C_in ·
        (C_out / groups) · prod(kernel) — the multiplications actually done,
        as torch's FlopCounterMode, fvcore and ptflops count them.
        """
        # Indexing, not field names: this runs once per layer costed, millions of times in a search.
        if self[10]:  # transposed
            return prod(self[0][:-1]) * self[0][-1] * (self[1] // self[6]) * prod(self[2])
        return prod(self[8]) * (self[0][-1] // self[6]) * prod(self[2])

    @property
    def dense_macs(self) -> int:
        """MACs counted per output element, as if every tap were real.

        For a transposed conv this counts the zeros inserted between input
        elements too (thop's and torchinfo's figure); otherwise it equals ``macs``.
        """
        out_channel_taps = self.in_shape[-1] // self.groups * prod(self.kernel)
        return prod(self.output_shape) * out_channel_taps

    @property
    def params(self) -> int:
        """Weights (C_out · C_in / groups · prod(kernel)) plus C_out when bias is on."""
        out = self[1]
        weights = out * (self[0][-1] // self[6]) * prod(self[2])
        return weights + out if self[7] else weights

    @property
    def output_elements(self) -> int:
        return prod(self.output_shape)

    @property
    def flops(self) -> int:
        """2·MACs, plus one add per output element with bias (``counts().flops``, cheaper)."""
        return 2 * self.macs + (prod(self.output_shape) if self.bias else 0)

    def axes(self) -> list[tuple[int, int, int, int, int, int]]:
        """Per spatial dim: (input size, output size, kernel, stride, dilation, padding before)."""
        return [
            (size_in, size_out, k, s, d, lo)
            for size_in, size_out, k, s, d, (lo, _hi) in zip(
                self.in_shape[:-1],
                self.output_shape[:-1],
                self.kernel,
                self.stride,
                self.dilation,
                self.padding,
                strict=True,
            )
        ]

    def counts(self) -> Counts:
        outputs = prod(self.output_shape)
        bias_adds = outputs if self.bias else 0
        macs = self.macs
        if self.transposed:
            # Summing the p products that land on an output takes p − 1 additions; outputs hit
            # by none take none, and products cropped by the padding are never added.
            adds = effective_macs(self) - _outputs_touched(self) * self.out_channels + bias_adds
        else:
            adds = macs - outputs + bias_adds
        return Counts(macs, self.params, adds, bias_adds)


def pointwise(shape: tuple[int, ...], out: int, bias: bool) -> Conv:
    """A 1×1 conv, stride 1, no padding: valid for any shape and out ≥ 1, so built without checks."""
    n = len(shape) - 1
    return Conv(shape, out, (1,) * n, (1,) * n, ((0, 0),) * n, (1,) * n, 1, bias, shape[:-1] + (out,))


def _outputs_touched(layer: Conv) -> int:
    """Output positions (per channel) that receive at least one product of a transposed conv.

    Input i's tap j lands on i·s + j·d − lo: per dim, the distinct such positions in
    [0, size_out), counted in closed form (no set, no loop over positions).
    """
    total = 1
    for size_in, size_out, k, s, d, lo in layer.axes():
        total *= _values_between(lo, lo + size_out - 1, size_in, k, s, d)
    return total


def _same_padding(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow's 'same': output = ceil(size / stride), the odd pixel after."""
    out = -(-size // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
    return (total // 2, total - total // 2)


def conv(
    in_shape: object,
    out: object,
    kernel: object,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    bias: bool = False,
    transposed: bool = False,
    output_padding: object = 0,
) -> Conv:
    """Validate a convolution's description and resolve it into a :class:`Conv`.

    Values take the forms the CLI and spec files take: ints, tuples or lists,
    or strings such as ``"28x28x8"``, ``"3x5"``, ``"same"``, ``"0:1x0:1"``.
    Raises :class:`ConvCostError` naming the field (``kernel``, ``groups``…).

    >>> conv("28x28x8", 16, 3).macs
    778752
    """
    fast = _plain_conv(
        in_shape, out, kernel, stride, padding, dilation, groups, bias, transposed, output_padding
    )
    if fast is not None:
        return fast
    shape = (
        in_shape
        if type(in_shape) is tuple and len(in_shape) <= MAX_DIMS and _all_positive(in_shape)
        else values.shape(in_shape, "in")
    )
    ndim = len(shape) - 1
    out_channels = out if type(out) is int and 0 < out <= MAX_INT else values.positive_int(out, "out")
    ks = values.per_dim(kernel, "kernel", ndim)
    ss = values.per_dim(stride, "stride", ndim)
    ds = values.per_dim(dilation, "dilation", ndim)
    g = groups if type(groups) is int and 0 < groups <= MAX_INT else values.positive_int(groups, "groups")
    if not isinstance(bias, bool):
        raise bad_value("bias", bias, "expected true or false")
    if not isinstance(transposed, bool):
        raise bad_value("transposed", transposed, "expected true or false")
    in_channels = shape[-1]
    if in_channels % g or out_channels % g:
        raise ConvCostError(
            "groups",
            f"{g} must divide both the input channels ({in_channels}) and out ({out_channels})",
        )

    request = values.padding(padding)
    rule = request if isinstance(request, str) else "explicit"
    spatial = shape[:-1]
    if request == "valid":
        pads: values.PadPairs = ((0, 0),) * ndim
    elif request == "same":
        if transposed:
            raise bad_value("padding", padding, "a transposed conv takes explicit padding, not 'same'")
        pads = tuple(_same_padding(*dim) for dim in zip(spatial, ks, ss, ds, strict=True))
    elif len(request) == 1:
        pads = request * ndim
    elif len(request) == ndim:
        pads = request
    else:
        raise ConvCostError(
            "padding",
            f"{show_value(padding)} gives {len(request)} values but the input has {ndim} "
            f"spatial dim{'s' if ndim != 1 else ''}; give one value or {ndim}",
        )

    if transposed:
        ops = values.per_dim(output_padding, "output_padding", ndim, minimum=0)
        out_spatial = _transposed_output(spatial, ks, ss, pads, ds, ops, padding)
    else:
        if (
            output_padding not in (0, "0", None)
            and values.per_dim(output_padding, "output_padding", ndim, minimum=0) != (0,) * ndim
        ):
            raise bad_value("output_padding", output_padding, "only a transposed conv takes output padding")
        ops = ()
        out_spatial = _output(spatial, ks, ss, pads, ds)
    values.check_derived(out_spatial + (out_channels,), "the layer's output", "in")
    _check_size(shape, out_spatial, out_channels, ks)
    return Conv(
        shape, out_channels, ks, ss, pads, ds, g, bias, out_spatial + (out_channels,), rule, transposed, ops
    )


#: Values below this keep every count of a conv of up to 3 spatial dims far under MAX_RESULT.
_PLAIN = 1 << 31


def _plain_conv(
    in_shape: object,
    out: object,
    kernel: object,
    stride: object,
    padding: object,
    dilation: object,
    groups: object,
    bias: object,
    transposed: object,
    output_padding: object,
) -> Conv | None:
    """The common API call — a tuple of ints and plain ints — resolved without the general parsing.

    Returns None for anything else (or anything wrong), which the general path then handles or
    refuses with its usual message; so both paths give the same Conv for the same layer.
    """
    if not (
        type(in_shape) is tuple
        and 2 <= len(in_shape) <= 4
        and type(out) is int
        and type(kernel) is int
        and type(stride) is int
        and type(padding) is int
        and type(dilation) is int
        and type(groups) is int
        and transposed is False
        and (bias is False or bias is True)
        and type(output_padding) is int
        and output_padding == 0
        and 0 < out < _PLAIN
        and 0 < kernel < _PLAIN
        and 0 < stride < _PLAIN
        and 0 <= padding < _PLAIN
        and 0 < dilation < _PLAIN
        and 0 < groups < _PLAIN
    ):
        return None
    for size in in_shape:
        if type(size) is not int or not 0 < size < _PLAIN:
            return None
    channels = in_shape[-1]
    if channels % groups or out % groups:
        return None
    span = dilation * (kernel - 1) + 1 - 2 * padding  # the padded input must be at least this long
    if len(in_shape) == 3:  # images: unrolled, since this is the hot path of an architecture search
        height, width = in_shape[0], in_shape[1]
        if height < span or width < span:
            return None
        output = ((height - span) // stride + 1, (width - span) // stride + 1, out)
        return tuple.__new__(
            Conv,
            (in_shape, out, (kernel, kernel), (stride, stride), ((padding, padding),) * 2,
             (dilation, dilation), groups, bias, output, "explicit", False, ()),
        )  # fmt: skip
    spatial = in_shape[:-1]
    if min(spatial) < span:
        return None
    n = len(spatial)
    return tuple.__new__(
        Conv,
        (
            in_shape,
            out,
            (kernel,) * n,
            (stride,) * n,
            ((padding, padding),) * n,
            (dilation,) * n,
            groups,
            bias,
            tuple((size - span) // stride + 1 for size in spatial) + (out,),
            "explicit",
            False,
            (),
        ),
    )


def _dims_shown(numbers: tuple[int, ...]) -> str:
    return shorten(values.format_dims(numbers[:30]) + ("x…" if len(numbers) > 30 else ""), 40)


def capped_prod(numbers: Sequence[int]) -> int:
    """prod(numbers) for positive ints, or just past :data:`~convcost.core.limits.MAX_RESULT`
    once it passes it (so thousands of huge dims cost nothing)."""
    total: int = 1
    for number in numbers:
        total *= number
        if total > MAX_RESULT:
            return MAX_RESULT + 1
    return total


def _all_positive(items: tuple[object, ...]) -> bool:
    return len(items) >= 2 and all(type(v) is int and 0 < v <= MAX_INT for v in items)


def _check_size(
    shape: tuple[int, ...], out_spatial: tuple[int, ...], out_channels: int, ks: tuple[int, ...]
) -> None:
    """Refuse a layer whose counts would pass :data:`~convcost.core.limits.MAX_RESULT`.

    Every count of the layer (MACs dense or not, params, elements) is at most this bound.
    """
    kernel = capped_prod(ks)
    bound = (
        max(capped_prod(shape) * out_channels, capped_prod(out_spatial) * shape[-1] * out_channels) * kernel
    )
    if bound > MAX_RESULT:
        raise ConvCostError(
            "in",
            f"the layer's counts would pass 10^{MAX_RESULT_DIGITS} (input {_dims_shown(shape)}, "
            f"kernel {_dims_shown(ks)}); no result may have more than {MAX_RESULT_DIGITS} digits",
        )


def _output(
    spatial: tuple[int, ...],
    ks: tuple[int, ...],
    ss: tuple[int, ...],
    pads: values.PadPairs,
    ds: tuple[int, ...],
) -> tuple[int, ...]:
    sizes = []
    for axis, (size, k, s, (lo, hi), d) in enumerate(zip(spatial, ks, ss, pads, ds, strict=True)):
        span = size + lo + hi - d * (k - 1) - 1
        if span < 0:
            raise ConvCostError(
                "kernel",
                f"the dilated kernel spans {d * (k - 1) + 1} in spatial dim {axis + 1} but the "
                f"padded input is only {size + lo + hi} ({size} + padding {lo}+{hi}); "
                "use a smaller kernel or dilation, or more padding",
            )
        sizes.append(span // s + 1)
    return tuple(sizes)


def _transposed_output(
    spatial: tuple[int, ...],
    ks: tuple[int, ...],
    ss: tuple[int, ...],
    pads: values.PadPairs,
    ds: tuple[int, ...],
    ops: tuple[int, ...],
    padding: object,
) -> tuple[int, ...]:
    sizes = []
    for axis, (size, k, s, (lo, hi), d, op) in enumerate(zip(spatial, ks, ss, pads, ds, ops, strict=True)):
        if op >= max(s, d):
            raise ConvCostError(
                "output_padding",
                f"{op} in spatial dim {axis + 1} must be smaller than the stride ({s}) or the dilation ({d})",
            )
        length = (size - 1) * s - lo - hi + d * (k - 1) + op + 1
        if length < 1:
            raise bad_value("padding", padding, f"it leaves no output in spatial dim {axis + 1}")
        sizes.append(length)
    return tuple(sizes)


def _floor_sum(n: int, m: int, a: int, b: int) -> int:
    """sum(floor((a*i + b) / m) for i in range(n)), for n, m >= 1 and a, b >= 0, in O(log)."""
    total = 0
    while True:
        if a >= m:
            total += (n - 1) * n // 2 * (a // m)
            a %= m
        if b >= m:
            total += n * (b // m)
            b %= m
        y_max = a * n + b
        if y_max < m:
            return total
        n, b, m, a = y_max // m, y_max % m, a, m


def _pairs_at_most(x: int, n: int, k: int, a: int, b: int) -> int:
    """#{(i, j) : 0 <= i < n, 0 <= j < k, i*a + j*b <= x}, for a, b >= 1, in O(log)."""
    if x < 0 or n <= 0 or k <= 0:
        return 0
    # j <= full: every i fits (i*a <= (n-1)*a <= x - j*b); j <= some: at least i = 0 fits
    full = min(k - 1, (x - (n - 1) * a) // b) if x >= (n - 1) * a else -1
    some = min(k - 1, x // b)
    total = (full + 1) * n
    count = some - full
    if count > 0:
        # j = some - t for t in [0, count): floor((x - j*b) / a) + 1 = floor((t*b + x - some*b) / a) + 1
        total += _floor_sum(count, a, b, x - some * b) + count
    return total


def _pairs_between(low: int, high: int, n: int, k: int, a: int, b: int) -> int:
    """#{(i, j) : 0 <= i < n, 0 <= j < k, low <= i*a + j*b <= high}.

    For the kernels networks use, the i of each j are counted directly (k steps: cheaper
    than the general closed form); past 64 taps, in O(log) whatever the sizes.
    """
    if high < low or n <= 0 or k <= 0:
        return 0
    if k <= 64:
        total = 0
        for j in range(k):
            first = max(0, -((j * b - low) // a))  # ceil((low − j·b) / a)
            last = min(n - 1, (high - j * b) // a)
            total += max(0, last - first + 1)
        return total
    return _pairs_at_most(high, n, k, a, b) - _pairs_at_most(low - 1, n, k, a, b)


def _values_between(low: int, high: int, n: int, k: int, a: int, b: int) -> int:
    """#{i*a + j*b : 0 <= i < n, 0 <= j < k} ∩ [low, high]: distinct values, not pairs.

    With g = gcd(a, b), values are multiples of g. The pairs of one value are (i − t·b', j + t·a')
    (a' = a/g, b' = b/g), so counting each value by its pair of smallest i leaves out exactly
    the pairs (i, j) with i >= b' and j + a' < k: another pair of smaller i has their value.
    """
    g = gcd(a, b)
    a, b = a // g, b // g
    low, high = -(-low // g), high // g
    return _pairs_between(low, high, n, k, a, b) - _pairs_between(
        low - a * b, high - a * b, n - b, k - a, a, b
    )


def _taps_on_input(size_in: int, size_out: int, k: int, s: int, d: int, lo: int) -> int:
    """(output position, tap) pairs of one dim whose input index lies inside the unpadded input.

    Tap j of output o reads input o·s + j·d − lo: count the pairs with that index in
    [0, size_in), in closed form (O(log), whatever the sizes and the kernel).
    """
    return _pairs_between(lo, lo + size_in - 1, size_out, k, s, d)


def _products_kept(size_in: int, size_out: int, k: int, s: int, d: int, lo: int) -> int:
    """For a transposed conv: (input position, tap) pairs whose product lands in the kept output."""
    return _pairs_between(lo, lo + size_out - 1, size_in, k, s, d)


def effective_macs(layer: Conv) -> int:
    """Multiplications that touch real input: taps on zero padding left out.

    ``macs`` (the dense figure every counter reports) counts a tap on padding as a
    multiply too. For a transposed conv, products that land on cropped output are left out.
    """
    if not isinstance(layer, Conv):
        raise bad_value("layer", layer, "expected a layer made by convcost.conv(...)")
    positions = _positions(layer)
    if layer.transposed:
        return positions * layer.in_channels * (layer.out_channels // layer.groups)
    return positions * layer.out_channels * (layer.in_channels // layer.groups)


#: Spatial geometry → (position, tap) pairs that count. Networks and sweeps vary the channels far
#: more than the geometry, so this is bounded by the geometries seen, not the layers.
_POSITIONS: dict[tuple[object, ...], int] = {}


def _positions(layer: Conv) -> int:
    key = (layer[0][:-1], layer[8][:-1], layer[2], layer[3], layer[4], layer[5], layer[10])
    found = _POSITIONS.get(key)
    if found is None:
        per_dim = _products_kept if layer.transposed else _taps_on_input
        found = 1
        for axis in layer.axes():
            found *= per_dim(*axis)
        if len(_POSITIONS) < 4096:  # a cache, never a leak: a million-layer search stays bounded
            _POSITIONS[key] = found
    return found
