"""The registry of layer kinds: one entry per kind, blocks and merges included.

An entry holds everything the rest of the package needs to know about a kind: its
spec fields, its handler (input shapes → output shape and cost, in one small pure
function, as fvcore's counting handlers), how many inputs it takes, its receptive-field
rule, which what-if rewrites apply to it, and its help. The spec checker, the JSON
Schema, the breakdown, the table labels and the what-ifs are all derived from here, so
adding a kind is one :func:`register` call plus its tests.

Counting rules for work that is not a multiply-accumulate (``other_ops``), per output
element unless said: add/mul/sub/div merges (inputs − 1); upsampling 1 (nearest) or 4
(bilinear, as fvcore); max pooling (window − 1) comparisons; average pooling window − 1
adds + 1 divide; a global average pool 1 per input element. Batch norm counts none (it
folds into the conv at inference, as every peer counts it by default).
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
        )
    taps = prod(window.kernel)
    ops = prod(window.output_shape) * (taps if average else taps - 1)
    counts = Counts(0, 0, 0, 0, ops)
    return Costed(window.output_shape, counts, (Part("other", counts),), None, (), (window,))


def cost_linear(f: Mapping[str, object], shapes: tuple[Shape, ...]) -> Costed:
    """Fully connected on the flattened input; bias on by default (as PyTorch and Keras)."""
    features = prod(shapes[0])
    out = values.positive_int(f.get("out"), "out")
    bias = _bool(f, "bias", True)
    macs = features * out
    bias_adds = out if bias else 0
    counts = Counts(macs, macs + bias_adds, macs - out + bias_adds, bias_adds)
    return Costed((out,), counts, (Part("linear", counts),), None, ())


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
    """Positions ``start`` (inclusive) to ``stop`` (exclusive) along ``axis``: a view, no work."""
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
    return _sliced(shape, axis, start, stop)


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
        },
        cost_linear,
        receptive_field=untracked,
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

TYPE_NAMES = tuple(KINDS)


def scale_channels(out: object, alpha: Fraction) -> int:
    """``out`` × α, rounded to the nearest int (halves up), at least 1 — exact for MobileNet's α."""
    channels = values.positive_int(out, "out")
    scaled = channels * alpha
    return max(1, floor(scaled + Fraction(1, 2)))
