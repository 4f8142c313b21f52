"""The registry of layer kinds: one entry per kind, blocks and merges included.

An entry holds everything the rest of the package needs to know about a kind: its
spec fields, its handler (input shapes → output shape and cost, in one small pure
function, as fvcore's counting handlers), how many inputs it takes, its receptive-field
rule, which what-if rewrites apply to it, and its help. The spec checker, the JSON
Schema, the breakdown, the table labels and the what-ifs are all derived from here, so
adding a kind is one :func:`register` call plus its tests.

MACs are convolutions, linear layers and matrix products only (``matmul`` between two
activations included, as attention's QKᵀ and AV): the figure torch's FlopCounterMode
gives, halved. Everything else is ``other_ops``, never mixed into MACs.

Counting rules for work that is not a multiply-accumulate (``other_ops``), per output
element unless said: add/mul/sub/div and other element-wise merges (inputs − 1);
upsampling 1 (nearest) or 4 (bilinear, as fvcore); resize 1 (nearest), 2ⁿ (n-linear) or
4ⁿ (cubic) for the n spatial dims it resizes; max pooling (window − 1) comparisons; average pooling
window − 1 adds + 1 divide; a global average pool, and any ``reduce``, 1 per input
element (fvcore's adaptive_avg_pool2d rule); layer, group and instance norm 5 per
element with a learned scale, 4 without (fvcore's norm rule); softmax 3n − 1 per row of n
(n exps, n − 1 adds, n divides, as thop). Batch norm counts none (it folds into the conv
at inference, as every peer counts it by default). Where convcost differs from fvcore:
an ``activation`` (relu, gelu, hardswish, sigmoid, …, whatever its formula) counts 1 per
element, where fvcore ignores activations and element-wise ops; fvcore has no rule for
softmax or pooling windows. Shape ops (reshape, transpose, expand, gather, slice, split,
concat, pad, shuffle) count nothing. Params: weights and biases, norm scales and shifts
(2 per channel, or per normalized element), and every learned ``parameter`` tensor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import floor, prod
from typing import Literal, NamedTuple

from ..core import values
from ..core.conv import ZERO, Conv, Counts, conv, pointwise
from ..core.errors import ConvCostError, bad_value
from . import receptive_field as rf_rules
from .receptive_field import ReceptiveField

Shape = tuple[int, ...]

#: Breakdown rows, in the order tables show them (MobileNet's Table 2, then the rest).
BreakdownKind = Literal["conv", "grouped", "depthwise", "pointwise", "linear", "other"]
BREAKDOWN: dict[BreakdownKind, str] = {
    "conv": "conv (regular)",
    "grouped": "grouped conv",
    "depthwise": "depthwise conv",
    "pointwise": "pointwise 1×1 conv",
    "linear": "linear (fully connected)",
    "other": "other (norms, merges, reshapes)",
}


class Field(NamedTuple):
    """One key a spec entry may have."""

    kind: str  # shape | int | dims | padding | bool | str | choice | layers | branches | names | axis
    help: str
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()


class Part(NamedTuple):
    """A piece of a layer's cost, classified for the breakdown (MobileNet's Table 2)."""

    kind: BreakdownKind
    counts: Counts


class Costed(NamedTuple):
    """What a handler returns."""

    output_shape: Shape
    counts: Counts
    parts: tuple[Part, ...]
    reference: Conv | None  # the conv whose variants describe this layer, if conv-like
    convs: tuple[Conv, ...]  # the convolutions actually performed, in order
    geometry: tuple[Conv, ...] = ()  # every sliding window, pools included (for receptive fields)


Handler = Callable[[Mapping[str, object], tuple[Shape, ...]], Costed]
#: (incoming fields, the layer's fields, what its handler returned) → the outgoing field.
FieldRule = Callable[
    [Sequence["ReceptiveField | None"], Mapping[str, object], Costed], "ReceptiveField | None"
]


def through_windows(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    return rf_rules.through_windows(fields[0], costed.geometry, costed.output_shape)


def merged(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    return rf_rules.merge(fields)


def unchanged(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    return fields[0]


def untracked(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    return None


@dataclass(frozen=True, slots=True)
class Kind:
    """One layer kind: a layer (with a handler), a merge (several inputs) or a block."""

    name: str
    help: str
    fields: dict[str, Field]
    handler: Handler | None = None  # None for blocks, which the graph compiler expands
    inputs: tuple[int, int | None] = (1, 1)  # fewest and most inputs
    receptive_field: FieldRule = through_windows
    width: Literal["scale", "follow", None] = None  # --width-mult scales 'out', or drops it to follow C_in
    forms: bool = False  # --as may rewrite it (regular ⇄ separable)
    block: bool = False

    @property
    def merges(self) -> bool:
        return self.inputs[1] is None or self.inputs[1] > 1


#: Every kind, by name, in the order the documentation lists them.
KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    if kind.name in KINDS:
        raise ValueError(f"layer kind {kind.name!r} is registered twice")
    KINDS[kind.name] = kind
    return kind


# ---------------------------------------------------------------- shared fields

_NAME = Field("str", "Row name; unique among its siblings (nested blocks give dotted paths).")
_INPUTS = Field(
    "names",
    "The layers whose outputs this one takes, by name (dotted for layers inside blocks), or 'input'; "
    "without it, the previous layer's output.",
)
_IN = Field("shape", "Input shape (e.g. 56x56x64): a fresh input for this layer, as a what-if.")
_KERNEL = Field("dims", "Kernel size: an int or one per spatial dim (3x5).", required=True)
_STRIDE = Field("dims", "Stride: an int or one per spatial dim.", default=1)
_PADDING = Field("padding", "An int, per dim (1x2), before:after pairs (0:1x0:1), same or valid.", default=0)
_DILATION = Field("dims", "Dilation: an int or one per spatial dim.", default=1)
_BIAS_OFF = Field("bool", "Count a bias per output channel (off by default).", default=False)
_MULTIPLIER = Field("int", "Depthwise channel multiplier (outputs per input channel).", default=1)
_AXIS = Field(
    "axis", "Axis of the channels-last shape: 0 is the first spatial dim, -1 the channels.", default=-1
)

#: Keys every entry may have, besides its kind's own.
COMMON_FIELDS = {
    "name": _NAME,
    "type": Field("str", "The layer or block type.", default="conv"),
    "inputs": _INPUTS,
}

CONV_FIELDS = {
    "out": Field("int", "Output channels.", required=True),
    "kernel": _KERNEL,
    "stride": _STRIDE,
    "padding": _PADDING,
    "dilation": _DILATION,
    "groups": Field("int", "Groups; must divide input channels and out.", default=1),
    "bias": _BIAS_OFF,
}


# ---------------------------------------------------------------- helpers


def classify(layer: Conv) -> BreakdownKind:
    """Which breakdown row a conv belongs to."""
    if layer.groups == 1:
        return "pointwise" if all(k == 1 for k in layer.kernel) else "conv"
    if layer.groups == layer.in_channels:
        return "depthwise"
    return "grouped"


def _conv_costed(layers: tuple[Conv, ...], reference: Conv) -> Costed:
    counts = ZERO
    parts = []
    for layer in layers:
        layer_counts = layer.counts()
        counts = counts.plus(layer_counts)
        parts.append(Part(classify(layer), layer_counts))
    return Costed(layers[-1].output_shape, counts, tuple(parts), reference, layers, layers)


def _conv(
    f: Mapping[str, object],
    shape: Shape,
    out: object,
    kernel: object,
    groups: object,
    bias: bool,
    transposed: bool = False,
) -> Conv:
    """A conv with the entry's stride, padding and dilation (and output padding, if transposed)."""
    return conv(
        shape,
        out,
        kernel,
        stride=f.get("stride", 1),
        padding=f.get("padding", 0),
        dilation=f.get("dilation", 1),
        groups=groups,
        bias=bias,
        transposed=transposed,
        output_padding=f.get("output_padding", 0) if transposed else 0,
    )


def _needs_spatial(shape: Shape, kind: str) -> None:
    if len(shape) < 2:
        raise ConvCostError(
            "in",
            f"a {kind} layer needs spatial dims, but its input is {values.format_dims(shape)} "
            "(features only, after a linear layer)",
        )


def _bool(f: Mapping[str, object], key: str, default: bool) -> bool:
    value = f.get(key, default)
    if not isinstance(value, bool):
        raise bad_value(key, value, "expected true or false")
    return value


def _multiplier(f: Mapping[str, object]) -> int:
    return values.positive_int(f.get("multiplier", 1), "multiplier")


def _depthwise(f: Mapping[str, object], shape: Shape, bias: bool) -> Conv:
    c_in = shape[-1]
    return _conv(f, shape, c_in * _multiplier(f), f.get("kernel"), c_in, bias)


def _axis(f: Mapping[str, object], shape: Shape) -> int:
    """The entry's axis as a non-negative index into ``shape`` (channels-last)."""
    value = f.get("axis", -1)
    if isinstance(value, bool) or not isinstance(value, int) or not -len(shape) <= value < len(shape):
        raise bad_value(
            "axis",
            value,
            f"expected an axis of the {len(shape)}-dim input, from {-len(shape)} to {len(shape) - 1}",
        )
    return value % len(shape)


# ---------------------------------------------------------------- conv-like layers


def cost_conv(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """A regular or grouped conv (``groups``)."""
    shape = shapes[0]
    _needs_spatial(shape, "conv")
    layer = _conv(f, shape, f.get("out"), f.get("kernel"), f.get("groups", 1), _bool(f, "bias", False))
    return _conv_costed((layer,), layer)


def cost_transposed(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """A transposed conv; MACs counted per input element (the multiplications actually done)."""
    shape = shapes[0]
    _needs_spatial(shape, "transposed")
    layer = _conv(f, shape, f.get("out"), f.get("kernel"), f.get("groups", 1), _bool(f, "bias", False), True)
    return _conv_costed((layer,), layer)


def cost_depthwise(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """A depthwise conv: groups = input channels, ``multiplier`` outputs each."""
    shape = shapes[0]
    _needs_spatial(shape, "depthwise")
    layer = _depthwise(f, shape, _bool(f, "bias", False))
    if "out" in f and values.positive_int(f["out"], "out") != layer.out_channels:
        raise ConvCostError(
            "out",
            f"{f['out']} is not input channels × multiplier ({shape[-1]} × {_multiplier(f)} = "
            f"{layer.out_channels}); drop out, or set multiplier",
        )
    return _conv_costed((layer,), layer)


def cost_separable(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Depthwise k×k then pointwise 1×1 to ``out``, one entry (Keras' SeparableConv2D).

    The bias, when on, is on the pointwise output only.
    """
    shape = shapes[0]
    _needs_spatial(shape, "separable")
    depthwise = _depthwise(f, shape, False)
    step = pointwise(
        depthwise.output_shape, values.positive_int(f.get("out"), "out"), _bool(f, "bias", False)
    )
    # the same layer as one regular conv: the depthwise geometry, all channels, the pointwise outputs
    reference = depthwise._replace(
        out_channels=step.out_channels, groups=1, bias=step.bias, output_shape=step.output_shape
    )
    return _conv_costed((depthwise, step), reference)


def _ceil_output(window: Conv) -> Shape:
    """Pool output sizes rounded up (ceil_mode), dropping a last window that would start in the far
    padding, as PyTorch and ONNX do."""
    sizes: list[int] = []
    for size, _, k, s, d, lo in window.axes():
        hi = window.padding[len(sizes)][1]
        out = -(-(size + lo + hi - d * (k - 1) - 1) // s) + 1
        if (out - 1) * s >= size + lo:
            out -= 1
        sizes.append(out)
    return tuple(sizes) + (window.out_channels,)


def cost_pool(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Max or average pooling: no MACs, no params; window comparisons or adds as other ops."""
    shape = shapes[0]
    _needs_spatial(shape, "pool")
    channels = shape[-1]
    average = f.get("mode", "max") == "avg"
    if _bool(f, "global", False):
        if "kernel" in f or "stride" in f:
            raise ConvCostError("global", "a global pool takes no kernel or stride; drop them")
        window = conv(shape, channels, shape[:-1], groups=channels)
    else:
        if f.get("kernel") is None:
            raise ConvCostError("kernel", "is required for a pool unless global: true")
        kernel, stride = f["kernel"], f.get("stride")
        window = conv(
            shape,
            channels,
            kernel,
            groups=channels,
            stride=kernel if stride is None else stride,
            padding=f.get("padding", 0),
            dilation=f.get("dilation", 1),
        )
        if _bool(f, "ceil", False):
            window = window._replace(output_shape=_ceil_output(window))
    taps = prod(window.kernel)
    ops = prod(window.output_shape) * (taps if average else taps - 1)
    counts = Counts(0, 0, 0, 0, ops)
    return Costed(window.output_shape, counts, (Part("other", counts),), None, (), (window,))


def cost_linear(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Fully connected on the flattened input; bias on by default (as PyTorch and Keras).

    With ``flatten: false`` it acts on the last dim of every position (a token-wise linear):
    prod(leading dims)·in·out MACs, in·out (+ out) params, counted once.
    """
    shape = shapes[0]
    out = values.positive_int(f.get("out"), "out")
    bias = _bool(f, "bias", True)
    flatten = _bool(f, "flatten", True)
    features, positions = (prod(shape), 1) if flatten else (shape[-1], prod(shape[:-1]))
    macs = positions * features * out
    bias_adds = positions * out if bias else 0
    params = features * out + (out if bias else 0)
    counts = Counts(macs, params, macs - positions * out + bias_adds, bias_adds)
    output = (out,) if flatten else shape[:-1] + (out,)
    return Costed(output, counts, (Part("linear", counts),), None, ())


def cost_batchnorm(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Batch normalization: 2·C parameters (scale and shift), no MACs (folds into the conv at inference)."""
    shape = shapes[0]
    counts = Counts(0, 2 * shape[-1], 0, 0)
    return Costed(shape, counts, (Part("other", counts),), None, ())


# ---------------------------------------------------------------- merges and shape ops


class MergeMismatch(ConvCostError):
    """Two inputs of a merge that do not fit: the graph names them from the indices."""

    def __init__(self, first: int, other: int, need: str) -> None:
        super().__init__("inputs", need)
        self.first, self.other, self.need = first, other, need


def _broadcast(shapes: tuple[Shape, ...], how: str) -> Shape:
    """NumPy's rule on channels-last shapes: dims aligned from the right, each equal or 1."""
    rank = max(len(s) for s in shapes)
    result = [1] * rank
    owner = [0] * rank  # which input set each dim, to name it in an error
    for index, shape in enumerate(shapes):
        for axis, size in enumerate(shape, start=rank - len(shape)):
            if size == 1 or size == result[axis]:
                continue
            if result[axis] != 1:
                raise MergeMismatch(owner[axis], index, f"they must match, or be 1 to broadcast, to be {how}")
            result[axis], owner[axis] = size, index
    return tuple(result)


def _elementwise(how: str) -> Handler:
    def handler(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
        shape = _broadcast(shapes, how)
        counts = Counts(0, 0, 0, 0, prod(shape) * (len(shapes) - 1))
        return Costed(shape, counts, (Part("other", counts),), None, ())

    handler.__doc__ = f"Element-wise, broadcast: one op per output element per extra input ({how})."
    return handler


def cost_concat(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Concatenation along ``axis`` (channels unless given): every other dim must match. No work."""
    first = shapes[0]
    axis = _axis(f, first)
    for index, shape in enumerate(shapes[1:], start=1):
        if len(shape) != len(first) or any(
            a != b for i, (a, b) in enumerate(zip(shape, first, strict=True)) if i != axis
        ):
            need = (
                "concat needs the same spatial size"
                if axis == len(first) - 1
                else (f"concat along axis {axis} needs every other dim the same")
            )
            raise MergeMismatch(0, index, need)
    out = first[:axis] + (sum(s[axis] for s in shapes),) + first[axis + 1 :]
    return Costed(out, ZERO, (), None, ())


def _part_bounds(f: Mapping[str, object], size: int) -> tuple[int, int]:
    if "sizes" in f:
        sizes = values.dims(f["sizes"], "sizes")
        if sum(sizes) != size:
            raise bad_value("sizes", f["sizes"], f"the sizes must add up to the axis' {size}")
    else:
        parts = values.positive_int(f.get("parts", 2), "parts")
        if size % parts:
            raise bad_value("parts", f.get("parts", 2), f"must divide the axis' {size}")
        sizes = (size // parts,) * parts
    index = f.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(sizes):
        raise bad_value("index", index, f"expected a part from 0 to {len(sizes) - 1}")
    start = sum(sizes[:index])
    return start, start + sizes[index]


def _sliced(shape: Shape, axis: int, start: int, stop: int) -> Costed:
    return Costed(shape[:axis] + (stop - start,) + shape[axis + 1 :], ZERO, (), None, ())


def cost_split(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """One part of a split (``parts`` equal ones, or ``sizes``) along ``axis``: a view, no work."""
    shape = shapes[0]
    axis = _axis(f, shape)
    return _sliced(shape, axis, *_part_bounds(f, shape[axis]))


def cost_slice(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Positions ``start`` (inclusive) to ``stop`` (exclusive), every ``step``-th, along ``axis``: a view."""
    shape = shapes[0]
    axis = _axis(f, shape)
    start = f.get("start", 0)
    stop = f.get("stop", shape[axis])
    for key, value in (("start", start), ("stop", stop)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= shape[axis]:
            raise bad_value(key, value, f"expected a position from 0 to {shape[axis]}")
    assert isinstance(start, int) and isinstance(stop, int)
    if stop <= start:
        raise bad_value("stop", stop, f"must be after start ({start})")
    step = values.positive_int(f.get("step", 1), "step")
    return _sliced(shape, axis, 0, -(-(stop - start) // step))


def cost_shuffle(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """ShuffleNet's channel shuffle: channels regrouped across ``groups``. Moves data, no work."""
    shape = shapes[0]
    groups = values.positive_int(f.get("groups", 2), "groups")
    if shape[-1] % groups:
        raise bad_value("groups", f.get("groups", 2), f"must divide the {shape[-1]} channels")
    return Costed(shape, ZERO, (), None, ())


def cost_upsample(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Nearest or bilinear upsampling by an integer ``scale``: no MACs; 1 or 4 ops per output element."""
    shape = shapes[0]
    _needs_spatial(shape, "upsample")
    scale = values.per_dim(f.get("scale", 2), "scale", len(shape) - 1)
    out = tuple(size * s for size, s in zip(shape[:-1], scale, strict=True)) + (shape[-1],)
    per_output = 1 if f.get("mode", "nearest") == "nearest" else 4
    counts = Counts(0, 0, 0, 0, prod(out) * per_output)
    return Costed(out, counts, (Part("other", counts),), None, ())


def upsampled(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    rf = fields[0]
    if rf is None:
        return None
    scale = values.per_dim(f.get("scale", 2), "scale", len(rf.size))
    return rf_rules.upsampled(rf, scale, 1 if f.get("mode", "nearest") == "nearest" else 2)


def sliced(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    """Along the channels a view keeps the field; along a spatial axis it is not tracked."""
    rf = fields[0]
    if rf is None or f.get("axis", -1) in (-1, len(rf.size)):
        return rf
    return None


def per_position(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    """A linear layer on each position keeps the field; one on the flattened input has none."""
    return None if f.get("flatten", True) else fields[0]


# ---------------------------------------------------------------- the registry

register(Kind("conv", "A regular or grouped convolution.", {"in": _IN, **CONV_FIELDS}, cost_conv,
              width="scale", forms=True))  # fmt: skip
register(
    Kind(
        "transposed",
        "A transposed convolution (MACs counted per input element).",
        {
            "in": _IN,
            **CONV_FIELDS,
            "output_padding": Field(
                "dims0", "Extra output size on the far side: an int or one per dim.", default=0
            ),
        },
        cost_transposed,
        receptive_field=untracked,
    )
)
register(
    Kind(
        "depthwise",
        "A depthwise convolution: one filter per input channel (times the multiplier).",
        {
            "in": _IN,
            "kernel": _KERNEL,
            "stride": _STRIDE,
            "padding": _PADDING,
            "dilation": _DILATION,
            "multiplier": _MULTIPLIER,
            "out": Field("int", "Output channels; if given, must equal input channels × multiplier."),
            "bias": _BIAS_OFF,
        },
        cost_depthwise,
        width="follow",
        forms=True,
    )
)
register(
    Kind(
        "separable",
        "Depthwise k×k then pointwise 1×1, as one entry (Keras' SeparableConv2D).",
        {
            "in": _IN,
            "out": Field("int", "Output channels of the pointwise 1×1 step.", required=True),
            "kernel": _KERNEL,
            "stride": _STRIDE,
            "padding": _PADDING,
            "dilation": _DILATION,
            "multiplier": _MULTIPLIER,
            "bias": Field("bool", "A bias on the pointwise output (off by default).", default=False),
        },
        cost_separable,
        width="scale",
        forms=True,
    )
)
register(
    Kind(
        "pool",
        "Max or average pooling.",
        {
            "in": _IN,
            "mode": Field("choice", "max or avg.", default="max", choices=("max", "avg")),
            "kernel": Field("dims", "Window size (not needed with global: true).", default=None),
            "stride": Field("dims", "Stride; defaults to the window size.", default=None),
            "padding": _PADDING,
            "dilation": _DILATION,
            "ceil": Field(
                "bool", "Round the output size up (ceil_mode), as PyTorch and ONNX.", default=False
            ),
            "global": Field("bool", "Pool each channel's whole map to 1×…×1.", default=False),
        },
        cost_pool,
    )
)
register(
    Kind(
        "linear",
        "Fully connected, on the flattened input.",
        {
            "in": _IN,
            "out": Field("int", "Output features.", required=True),
            "bias": Field(
                "bool", "Bias per output feature (on by default, as PyTorch and Keras).", default=True
            ),
            "flatten": Field(
                "bool",
                "Flatten the input first (default); false: act on the last dim of every position.",
                default=True,
            ),
        },
        cost_linear,
        receptive_field=per_position,
    )
)
register(Kind("batchnorm", "Batch normalization (2·C params; folds into the conv).", {"in": _IN},
              cost_batchnorm, receptive_field=unchanged))  # fmt: skip

_MERGE_INPUTS = Field("names", "The layers to merge, by name (two or more).", required=True)
for _how, _verb in (("add", "added"), ("mul", "multiplied")):
    register(
        Kind(
            _how,
            f"Element-wise {'sum' if _how == 'add' else 'product'} of its inputs, "
            "broadcast over dims of size 1.",
            {"inputs": _MERGE_INPUTS},
            _elementwise(_verb),
            inputs=(2, None),
            receptive_field=merged,
        )
    )
register(
    Kind(
        "concat",
        "Concatenation of its inputs along the channels (or axis).",
        {"inputs": _MERGE_INPUTS, "axis": _AXIS},
        cost_concat,
        inputs=(2, None),
        receptive_field=merged,
    )
)
register(
    Kind(
        "split",
        "One part of a split along an axis (channels unless given): parts equal parts, or sizes.",
        {
            "in": _IN,
            "parts": Field("int", "Equal parts (default 2).", default=2),
            "sizes": Field("dims", "Part sizes instead of equal parts (e.g. 24x24)."),
            "index": Field("int0", "Which part (from 0).", default=0),
            "axis": _AXIS,
        },
        cost_split,
        receptive_field=sliced,
    )
)
register(
    Kind(
        "slice",
        "Positions start to stop (exclusive) along an axis (channels unless given).",
        {
            "in": _IN,
            "start": Field("int0", "First position kept (from 0).", default=0),
            "stop": Field("int", "One past the last position kept (default: the end)."),
            "step": Field("int", "Keep every step-th position (default 1).", default=1),
            "axis": _AXIS,
        },
        cost_slice,
        receptive_field=sliced,
    )
)
register(
    Kind(
        "shuffle",
        "ShuffleNet's channel shuffle across groups (moves data, costs nothing).",
        {"in": _IN, "groups": Field("int", "Groups to shuffle across.", default=2)},
        cost_shuffle,
        receptive_field=unchanged,
    )
)
register(
    Kind(
        "upsample",
        "Nearest or bilinear upsampling by an integer scale (no MACs).",
        {
            "in": _IN,
            "scale": Field("dims", "Scale: an int or one per spatial dim.", default=2),
            "mode": Field(
                "choice", "nearest or bilinear.", default="nearest", choices=("nearest", "bilinear")
            ),
        },
        cost_upsample,
        receptive_field=upsampled,
    )
)

register(
    Kind(
        "repeat",
        "Copies of its layers, one after another.",
        {
            "in": _IN,
            "times": Field("int", "How many copies of layers, one after another.", required=True),
            "layers": Field("layers", "The layers to repeat.", required=True),
        },
        block=True,
    )
)
register(
    Kind(
        "residual",
        "A main path plus a shortcut (identity when absent), added.",
        {
            "in": _IN,
            "body": Field("layers", "The main path.", required=True),
            "shortcut": Field("layers", "The shortcut path (identity when absent).", default=()),
        },
        block=True,
    )
)
register(
    Kind(
        "branches",
        "Parallel paths from one input, joined by concat or add.",
        {
            "in": _IN,
            "branches": Field("branches", "Parallel paths, each a list of layers.", required=True),
            "join": Field("choice", "How the paths join.", default="concat", choices=("concat", "add")),
        },
        block=True,
    )
)

# ---------------------------------------------------------------- graph ops (imported models, issue 9)
#
# Kinds that whole graphs need: activations, norms, softmax, reductions, matmuls between two
# activations, shape ops and learned tensors. Each is small; the counting rule of each is in the
# module docstring.


def _count(f: Mapping[str, object], key: str) -> int:
    return values.positive_int(f.get(key), key)


def _dims0(f: Mapping[str, object], key: str, default: Sequence[int] = ()) -> tuple[int, ...]:
    value = f.get(key)
    if value is None:
        return tuple(default)
    return values.dims(value, key, "expected non-negative integers, e.g. [0, 2, 1]", minimum=0)


def _other(shape: Shape, ops: int, params: int = 0) -> Costed:
    counts = Counts(0, params, 0, 0, ops)
    return Costed(shape, counts, (Part("other", counts),) if ops or params else (), None, ())


def cost_activation(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """An element-wise function (``fn``): one op per element."""
    return _other(shapes[0], prod(shapes[0]))


def cost_softmax(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Softmax along ``axis``: n exps, n − 1 adds and n divides per row of n (thop's count)."""
    shape = shapes[0]
    n = shape[_axis(f, shape)]
    return _other(shape, prod(shape) // n * (3 * n - 1))


def _affine(f: Mapping[str, object]) -> tuple[bool, bool]:
    affine = _bool(f, "affine", True)
    return affine, affine and _bool(f, "bias", True)


def cost_layernorm(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Layer norm over the dims from ``axis`` on: a scale and a shift per normalized element."""
    shape = shapes[0]
    normalized = prod(shape[_axis(f, shape) :])
    scale, shift = _affine(f)
    return _other(shape, prod(shape) * (5 if scale else 4), normalized * (scale + shift))


def cost_channel_norm(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Group or instance norm: statistics per (group of) channels, a scale and a shift per channel."""
    shape = shapes[0]
    channels = shape[-1]
    if "groups" in f and channels % _count(f, "groups"):
        raise bad_value("groups", f["groups"], f"must divide the {channels} channels")
    scale, shift = _affine(f)
    return _other(shape, prod(shape) * (5 if scale else 4), channels * (scale + shift))


_REDUCE_MODES = ("mean", "sum", "max", "min", "prod", "l1", "l2", "logsumexp", "sumsquare")


def cost_reduce(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """A reduction over ``axes`` (all when absent): one op per input element."""
    shape = shapes[0]
    axes = _dims0(f, "axes", range(len(shape)))
    for axis in axes:
        if axis >= len(shape):
            raise bad_value("axes", f.get("axes"), f"expected axes of the {len(shape)}-dim input")
    keep = _bool(f, "keepdims", True)
    out = tuple(1 if i in axes else n for i, n in enumerate(shape) if keep or i not in axes)
    return _other(out or (1,), prod(shape))


def cost_matmul(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """A matrix product of two activations, batched and broadcast as NumPy's matmul:
    prod(batch dims)·M·K·N MACs, no params."""
    a, b = shapes
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise MergeMismatch(
            0, 1, f"a matmul needs the first's last dim ({a2[-1]}) equal to the second's ({b2[-2]})"
        )
    batch = _broadcast((a2[:-2] or (1,), b2[:-2] or (1,)), "broadcast over the batch dims")
    batch = batch if max(len(a2), len(b2)) > 2 else ()
    m, k, n = a2[-2], a2[-1], b2[-1]
    out = batch + (() if len(a) == 1 else (m,)) + (() if len(b) == 1 else (n,))
    macs = prod(batch) * m * k * n
    counts = Counts(macs, 0, macs - prod(batch) * m * n, 0)
    return Costed(out or (1,), counts, (Part("linear", counts),), None, ())


def cost_reshape(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """The same elements in a new ``shape``: no work."""
    shape = values.dims(f.get("shape"), "shape")
    if prod(shape) != prod(shapes[0]):
        raise bad_value(
            "shape", f.get("shape"), f"must hold the input's {prod(shapes[0])} elements, not {prod(shape)}"
        )
    return Costed(shape, ZERO, (), None, ())


def cost_transpose(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """The dims reordered by ``perm`` (output dim i is input dim perm[i]): moves data, no work."""
    shape = shapes[0]
    perm = _dims0(f, "perm")
    if sorted(perm) != list(range(len(shape))):
        raise bad_value("perm", f.get("perm"), f"expected an order of 0…{len(shape) - 1}")
    return Costed(tuple(shape[i] for i in perm), ZERO, (), None, ())


def cost_expand(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """The input broadcast to ``shape`` (dims of size 1 repeated): no work."""
    shape = values.dims(f.get("shape"), "shape")
    try:
        out = _broadcast((shapes[0], shape), "expanded")
    except MergeMismatch:
        raise bad_value(
            "shape", f.get("shape"), f"cannot be broadcast from {values.format_dims(shapes[0])}"
        ) from None
    if out != shape:
        raise bad_value("shape", f.get("shape"), f"is not a broadcast of {values.format_dims(shapes[0])}")
    return Costed(shape, ZERO, (), None, ())


def cost_gather(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Positions picked along ``axis``: one (``index``, the axis dropped) or ``count`` of them. No work."""
    shape = shapes[0]
    axis = _axis(f, shape)
    if "count" in f:
        return Costed(shape[:axis] + (_count(f, "count"),) + shape[axis + 1 :], ZERO, (), None, ())
    index = f.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < shape[axis]:
        raise bad_value("index", index, f"expected a position from 0 to {shape[axis] - 1}")
    return Costed(shape[:axis] + shape[axis + 1 :] or (1,), ZERO, (), None, ())


def cost_pad(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Padding before:after on every dim (channels included): a copy, no work."""
    shape = shapes[0]
    request = values.padding(f.get("pads", 0), "pads")
    if isinstance(request, str):
        raise bad_value("pads", f.get("pads"), "expected before:after pairs, one per dim")
    pairs = request * len(shape) if len(request) == 1 else request
    if len(pairs) != len(shape):
        raise bad_value("pads", f.get("pads"), f"expected one pair per dim of the {len(shape)}-dim input")
    out = tuple(n + lo + hi for n, (lo, hi) in zip(shape, pairs, strict=True))
    geometry: tuple[Conv, ...] = ()
    if len(shape) > 1 and pairs[-1] == (0, 0):
        geometry = (conv(shape, shape[-1], 1, groups=shape[-1], padding=pairs[:-1]),)
    return Costed(out, ZERO, (), None, (), geometry)


_RESIZE_OPS = {"nearest": 1, "linear": 2, "cubic": 4}


def cost_resize(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Resizing the spatial dims to ``size``: per output element 1 (nearest), 2ⁿ (n-linear) or 4ⁿ
    (cubic) over the n dims whose size changes."""
    shape = shapes[0]
    _needs_spatial(shape, "resize")
    size = values.per_dim(f.get("size"), "size", len(shape) - 1)
    out = size + (shape[-1],)
    resized = sum(1 for before, after in zip(shape, size, strict=False) if before != after)
    return _other(out, prod(out) * _RESIZE_OPS[str(f.get("mode", "nearest"))] ** resized)


def cost_parameter(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """A tensor the model holds (a class token, a position embedding, a layer scale): a source.
    Its elements are params when ``learned``; a constant counts none."""
    shape = values.dims(f.get("shape"), "shape")
    return _other(shape, 0, prod(shape) if _bool(f, "learned", True) else 0)


def cost_opaque(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """An op convcost cannot cost: it passes its stated output ``shape`` on and counts nothing."""
    return Costed(values.dims(f.get("shape"), "shape"), ZERO, (), None, ())


def sees_nothing(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    """A learned tensor depends on no input position: the empty field, which merges pass over."""
    return rf_rules.NOTHING


def _same_field(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    """Kept when the output has the input's spatial dims, else not tracked."""
    rf = fields[0]
    return rf if rf is not None and len(costed.output_shape) == len(rf.size) + 1 else None


def padded(
    fields: Sequence[ReceptiveField | None], f: Mapping[str, object], costed: Costed
) -> ReceptiveField | None:
    return (
        rf_rules.through_windows(fields[0], costed.geometry, costed.output_shape) if costed.geometry else None
    )


_FN = Field("str", "The function (relu, gelu, sigmoid, hardswish, …): one op per element whichever.",
            default="relu")  # fmt: skip
_AFFINE = Field("bool", "A learned scale per normalized element (or channel).", default=True)
_SHIFT = Field("bool", "A learned shift too, when affine.", default=True)
_SHAPE = Field("dims", "The output shape (channels-last, without the batch).", required=True)

register(Kind("activation", "An element-wise function such as relu or gelu (one op per element).",
              {"in": _IN, "fn": _FN}, cost_activation, receptive_field=unchanged))  # fmt: skip
for _how, _verb in (("sub", "subtracted"), ("div", "divided")):
    register(
        Kind(
            _how,
            f"Element-wise {'difference' if _how == 'sub' else 'quotient'} of its inputs, "
            "broadcast over dims of size 1.",
            {"inputs": _MERGE_INPUTS},
            _elementwise(_verb),
            inputs=(2, None),
            receptive_field=merged,
        )
    )
register(
    Kind(
        "elementwise",
        "Another element-wise op of two or more inputs (max, pow, where, …), broadcast.",
        {"inputs": _MERGE_INPUTS, "fn": Field("str", "The op (max, min, pow, where, …).", default="max")},
        _elementwise("combined"),
        inputs=(2, None),
        receptive_field=merged,
    )
)
register(Kind("softmax", "Softmax along an axis (the last unless given).", {"in": _IN, "axis": _AXIS},
              cost_softmax, receptive_field=_same_field))  # fmt: skip
register(
    Kind(
        "layernorm",
        "Layer normalization over the dims from axis on (the last unless given).",
        {"in": _IN, "axis": _AXIS, "affine": _AFFINE, "bias": _SHIFT},
        cost_layernorm,
        receptive_field=unchanged,
    )
)
register(
    Kind(
        "groupnorm",
        "Group normalization: statistics per group of channels, a scale and shift per channel.",
        {
            "in": _IN,
            "groups": Field("int", "Channel groups.", required=True),
            "affine": _AFFINE,
            "bias": _SHIFT,
        },
        cost_channel_norm,
        receptive_field=unchanged,
    )
)
register(
    Kind(
        "instancenorm",
        "Instance normalization: statistics per channel, a scale and shift per channel.",
        {"in": _IN, "affine": _AFFINE, "bias": _SHIFT},
        cost_channel_norm,
        receptive_field=unchanged,
    )
)
register(
    Kind(
        "reduce",
        "A reduction (mean unless given) over axes (all unless given).",
        {
            "in": _IN,
            "axes": Field("dims0", "The axes reduced (0 is the first dim).", default=None),
            "keepdims": Field("bool", "Keep reduced dims as size 1.", default=True),
            "mode": Field("choice", "The reduction.", default="mean", choices=_REDUCE_MODES),
        },
        cost_reduce,
        receptive_field=untracked,
    )
)
register(
    Kind(
        "matmul",
        "A matrix product of two activations (attention's QKᵀ and AV), batched and broadcast.",
        {"inputs": Field("names", "The two operands, by name.", required=True)},
        cost_matmul,
        inputs=(2, 2),
        receptive_field=untracked,
    )
)
register(Kind("reshape", "The same elements in a new shape (no work).", {"in": _IN, "shape": _SHAPE},
              cost_reshape, receptive_field=untracked))  # fmt: skip
register(
    Kind(
        "transpose",
        "The dims reordered (no work).",
        {"in": _IN, "perm": Field("dims0", "Output dim i is input dim perm[i].", required=True)},
        cost_transpose,
        receptive_field=untracked,
    )
)
register(Kind("expand", "The input broadcast to a larger shape (no work).", {"in": _IN, "shape": _SHAPE},
              cost_expand, receptive_field=untracked))  # fmt: skip
register(
    Kind(
        "gather",
        "Positions picked along an axis: one (the axis dropped) or a count of them (no work).",
        {
            "in": _IN,
            "axis": _AXIS,
            "index": Field("int0", "The position picked (from 0); the axis is dropped.", default=0),
            "count": Field("int", "Pick this many positions instead; the axis is kept."),
        },
        cost_gather,
        receptive_field=untracked,
    )
)
register(
    Kind(
        "pad",
        "Padding on every dim, channels included (a copy, no work).",
        {
            "in": _IN,
            "pads": Field("padding", "before:after per dim of the input (0:1x0:1x0:0).", required=True),
            "mode": Field(
                "choice",
                "What fills the padding.",
                default="constant",
                choices=("constant", "reflect", "edge", "wrap"),
            ),
        },
        cost_pad,
        receptive_field=padded,
    )
)
register(
    Kind(
        "resize",
        "Resizing the spatial dims to a given size (no MACs).",
        {
            "in": _IN,
            "size": Field("dims", "The output's spatial size: an int or one per spatial dim.", required=True),
            "mode": Field("choice", "Interpolation.", default="nearest", choices=tuple(_RESIZE_OPS)),
        },
        cost_resize,
        receptive_field=untracked,
    )
)
register(
    Kind(
        "parameter",
        "A tensor the model holds (class token, position embedding, layer scale): a source of its shape.",
        {
            "shape": _SHAPE,
            "learned": Field("bool", "Its elements are learned params (false: a constant).", default=True),
        },
        cost_parameter,
        inputs=(0, 0),
        receptive_field=sees_nothing,
    )
)
register(
    Kind(
        "opaque",
        "An op convcost cannot cost (from an imported model): passes its stated shape on, counts nothing.",
        {
            "op": Field("str", "The op, as the model names it.", required=True),
            "shape": _SHAPE,
        },
        cost_opaque,
        inputs=(1, None),
        receptive_field=untracked,
    )
)

TYPE_NAMES = tuple(KINDS)


def scale_channels(out: object, alpha: Fraction) -> int:
    """``out`` × α, rounded to the nearest int (halves up), at least 1 — exact for MobileNet's α."""
    channels = values.positive_int(out, "out")
    scaled = channels * alpha
    return max(1, floor(scaled + Fraction(1, 2)))
