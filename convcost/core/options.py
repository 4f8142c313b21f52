"""The user's choices — dtype, batch, fusion, counting convention, device — validated in one place.

Flags, spec runs and the Python API all build a :class:`Settings` through
:func:`settings`, so a bad choice reads the same everywhere.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal, NamedTuple

from . import values
from .conv import Counts
from .devices import Device, find_device
from .dtypes import DType
from .errors import ConvCostError, bad_value, show_value
from .layout import from_channels_first
from .limits import DEFAULT_MAX_LAYERS, MAX_MAX_LAYERS, MAX_RATE, MIN_RATE

#: The forms ``--as`` can rewrite every spatial conv into.
AsForm = Literal["regular", "separable"]
AS_FORMS: tuple[AsForm, ...] = ("regular", "separable")


class CountKind(str, Enum):
    """What the headline number counts."""

    MACS = "macs"  # multiply-accumulates
    FLOPS = "flops"  # 2 per multiply-accumulate
    OPS = "ops"  # exact multiplications + exact additions


#: Whether the bias add is counted, when the user does not say: never a MAC, always a FLOP or an op.
DEFAULT_BIAS = {CountKind.MACS: False, CountKind.FLOPS: True, CountKind.OPS: True}


class Convention(NamedTuple):
    """A counting convention: the kind of count, and whether bias adds are in it."""

    kind: CountKind = CountKind.MACS
    bias: bool = False

    @property
    def label(self) -> str:
        base = {CountKind.MACS: "MACs", CountKind.FLOPS: "FLOPs", CountKind.OPS: "ops"}[self.kind]
        if self.bias != DEFAULT_BIAS[self.kind]:
            base += " +bias" if self.bias else " (no bias)"
        return base

    @property
    def definition(self) -> str:
        text = {
            CountKind.MACS: "multiply-accumulates",
            CountKind.FLOPS: "2 per multiply-accumulate",
            CountKind.OPS: "exact multiplications plus exact additions",
        }[self.kind]
        return text + (
            "; one add per output element for the bias" if self.bias else "; bias adds not counted"
        )

    def count(self, counts: Counts) -> int:
        """The headline number for some counts under this convention."""
        bias = counts.bias_adds if self.bias else 0
        if self.kind is CountKind.MACS:
            return counts.macs + bias
        if self.kind is CountKind.FLOPS:
            return 2 * counts.macs + bias
        return counts.macs + counts.adds - counts.bias_adds + bias


class Settings(NamedTuple):
    """What a run counts under. Every JSON document echoes these fields in this order, and the
    output schema describes them, both made from this class (``json_report.settings_dict``,
    ``json_schema``): a new field of a type they know needs no edit there."""

    convention: Convention = Convention()
    dtype: DType = DType.FP32
    batch: int = 1  # like every int setting, at least 1
    fused: bool = False
    device: Device | None = None
    #: Input shapes are written in PyTorch's order (C×H×W, N×C×H×W): see :func:`read_shape`.
    channels_first: bool = False
    #: An imported model's compute on constants folded away (free) rather than costed as layers.
    fold_constants: bool = False


DEFAULT = Settings()


def _choice(enum: type[DType] | type[CountKind], value: object, field: str) -> DType | CountKind:
    if isinstance(value, enum):
        return value
    try:
        if not isinstance(value, str):
            raise ValueError
        return enum(value.lower())
    except ValueError:
        raise bad_value(field, value, f"expected one of {', '.join(m.value for m in enum)}") from None


def _rate(value: object, field: str, unit: str) -> float:
    """A peak or a bandwidth: a positive number, within what any machine could have."""
    number = 0.0
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = value.strip() if isinstance(value, str) else value
        try:
            number = float(text) if not isinstance(text, str) or len(text) <= 100 else 0.0
        except (ValueError, OverflowError):
            number = 0.0
    if not number > 0 or number == float("inf"):
        raise bad_value(field, value, f"expected a positive number of {unit}")
    if not MIN_RATE <= number <= MAX_RATE:
        raise bad_value(
            field, value, f"expected {unit} from {MIN_RATE:g} to {MAX_RATE:g}; no machine is outside that"
        )
    return number


def max_layers(value: object) -> int:
    """The layer budget a run allows (``--max-layers``; see :func:`convcost.core.limits.allowing`)."""
    if value is None:
        return DEFAULT_MAX_LAYERS
    layers = values.positive_int(value, "max_layers")
    if layers > MAX_MAX_LAYERS:
        raise bad_value("max_layers", value, f"at most {MAX_MAX_LAYERS:,}")
    return layers


def _flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise bad_value(field, value, "expected true or false")
    return value


def settings(
    dtype: object = "fp32",
    batch: object = 1,
    fused: bool = False,
    count: object = "macs",
    count_bias: bool | None = None,
    device: object = None,
    peak_tflops: object = None,
    bandwidth_gbs: object = None,
    channels_first: bool = False,
    fold_constants: bool = False,
) -> Settings:
    """Validate the user's choices. ``device`` is a profile name; or give both
    ``peak_tflops`` (dense, for the chosen dtype) and ``bandwidth_gbs`` for any other machine.
    ``channels_first``: input shapes are given in PyTorch's order (:func:`read_shape`).
    ``fold_constants``: an imported ONNX model's compute on constants is folded (free), not costed."""
    kind = _choice(CountKind, count, "count")
    assert isinstance(kind, CountKind)
    chosen = _choice(DType, dtype, "dtype")
    assert isinstance(chosen, DType)
    machine = None
    if device is not None:
        if peak_tflops is not None or bandwidth_gbs is not None:
            raise ConvCostError("device", "give a device profile or peak_tflops and bandwidth_gbs, not both")
        if not isinstance(device, str):
            raise bad_value("device", device, "expected a device profile's name")
        machine = find_device(device)
    elif peak_tflops is not None or bandwidth_gbs is not None:
        if peak_tflops is None or bandwidth_gbs is None:
            missing = "peak_tflops" if peak_tflops is None else "bandwidth_gbs"
            raise ConvCostError(missing, "is needed too: a custom device takes both peak and bandwidth")
        peak = _rate(peak_tflops, "peak_tflops", "TFLOP/s")
        bandwidth = _rate(bandwidth_gbs, "bandwidth_gbs", "GB/s")
        machine = Device(
            "custom",
            f"custom ({peak:g} TFLOP/s, {bandwidth:g} GB/s)",
            {chosen: peak * 1e12},
            bandwidth * 1e9,
            "given on the command line",
        )
    return Settings(
        dtype=chosen,
        batch=values.positive_int(batch, "batch"),
        fused=_flag(fused, "fused"),
        convention=Convention(
            kind, DEFAULT_BIAS[kind] if count_bias is None else _flag(count_bias, "count_bias")
        ),
        device=machine,
        channels_first=_flag(channels_first, "channels_first"),
        fold_constants=_flag(fold_constants, "fold_constants"),
    )


def read_shape(value: object, chosen: Settings, field: str = "in") -> tuple[tuple[int, ...], Settings]:
    """An input shape (``--in``) under the settings: channels-last as written, or with
    ``channels_first`` read in PyTorch's order (C×H×W; N×C×H×W, whose N becomes the batch).

    A batch in the shape and another in the settings must agree, unless the settings' is the
    default 1. Returns the channels-last shape and the settings with that batch.

    >>> shape, chosen = read_shape("2x3x224x224", settings(channels_first=True))
    >>> shape, chosen.batch
    ((224, 224, 3), 2)
    """
    if not chosen.channels_first:
        return values.shape(value, field), chosen
    reading = from_channels_first(value, field)
    if reading.batch is None or reading.batch == chosen.batch:
        return reading.shape, chosen
    if chosen.batch != 1:
        raise ConvCostError(
            field,
            f"{show_value(value)} holds a batch of {reading.batch} (N×C×H×W, channels first) but the "
            f"batch is {chosen.batch}; give one, or the same",
        )
    return reading.shape, chosen._replace(batch=reading.batch)
