"""The JSON Schema (draft 2020-12) of ``--json`` output, format version 2.

One schema for every command's document (``layer``, ``compare``, ``sweep``, ``devices``,
``models``), each a branch of ``oneOf`` (``schema --json`` prints a JSON Schema itself).
Objects are closed (``additionalProperties: false``) so that the tests catch a key that the
README does not document.
"""

from __future__ import annotations

from enum import Enum
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from ..core.devices import Device
from ..core.options import AS_FORMS, Convention, CountKind, Settings
from .json_report import FORMAT_VERSION

_INT = {"type": "integer"}
_COUNT = {"type": "integer", "minimum": 0}
_NUMBER = {"type": "number"}
_STRING = {"type": "string"}
_BOOL = {"type": "boolean"}
_INTS = {"type": "array", "items": _INT}
_SHAPE = {"type": "array", "items": {"type": "integer", "minimum": 1}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _object(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": [key for key in properties if key not in optional],
        "additionalProperties": False,
    }


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_WORK = {"macs": _COUNT, "flops": _COUNT, "adds": _COUNT, "other_ops": _COUNT, "params": _COUNT}
_TIMING = ("time_s", "bound", "compute_s", "memory_s")
_MEMORY = {
    "bytes": _COUNT,
    "arithmetic_intensity": _NUMBER,
    "memory": _object(
        {"input_bytes": _COUNT, "weight_bytes": _COUNT, "output_bytes": _COUNT, "intermediate_bytes": _COUNT}
    ),
    "time_s": _NUMBER,
    "bound": {"enum": ["compute", "memory"]},
    "compute_s": _NUMBER,
    "memory_s": _NUMBER,
}

def _setting(kind: Any) -> dict[str, Any]:
    """The schema of a setting of type ``kind`` (an annotation of :class:`Settings`)."""
    if get_origin(kind) in (Union, UnionType):
        members = [arg for arg in get_args(kind) if arg is not type(None)]
        assert len(members) == 1, kind
        return _nullable(_setting(members[0]))
    if kind is Convention:
        return _object(
            {
                "count": {"enum": [k.value for k in CountKind]},
                "bias": _BOOL,
                "label": _STRING,
                "definition": _STRING,
            }
        )
    if kind is Device:
        return _ref("device")
    if isinstance(kind, type) and issubclass(kind, Enum):
        return {"enum": [member.value for member in kind]}
    if kind is bool:
        return _BOOL
    if kind is int:
        return {"type": "integer", "minimum": 1}  # every int setting is at least 1 (batch)
    raise TypeError(f"no schema for a setting of type {kind!r}")


def settings_properties(settings: type = Settings) -> dict[str, Any]:
    """The schema of every field of :class:`Settings`, in its order, from its annotations."""
    return {name: _setting(kind) for name, kind in get_type_hints(settings).items()}


_HEAD = {
    "format_version": {"const": FORMAT_VERSION},
    "convcost_version": _STRING,
    "conventions": {"type": "object", "additionalProperties": _STRING},
    **settings_properties(),
}

_GEOMETRY = {
    "input_shape": _SHAPE,
    "output_shape": _SHAPE,
    "out": _COUNT,
    "kernel": _SHAPE,
    "stride": _SHAPE,
    "padding": {"type": "array", "items": {"type": "array", "items": _COUNT, "minItems": 2, "maxItems": 2}},
    "padding_rule": {"enum": ["explicit", "same", "valid"]},
    "dilation": _SHAPE,
    "groups": _COUNT,
    "bias": _BOOL,
    "transposed": _BOOL,
    "output_padding": _INTS,
}

_LAYER_BODY = {
    **_GEOMETRY,
    **_WORK,
    "effective_macs": _COUNT,
    "dense_macs": _COUNT,
    **_MEMORY,
    "variants": _ref("variants"),
    "theory_ratio": _NUMBER,
    "theory": _object({"expression": _STRING, "n": _COUNT, "dk2": _COUNT, "ratio_exact": _STRING}),
    "notes": {"type": "array", "items": _STRING},
}
_LAYER_OPTIONAL = ("output_padding", "dense_macs", *_TIMING)

_STEP = _object(
    {**_WORK, "kernel": _SHAPE, "groups": _COUNT, "output_shape": _SHAPE, **_MEMORY}, optional=_TIMING
)
_VARIANT = _object(
    {
        **_WORK,
        "ratio": _NUMBER,
        "ratio_exact": _STRING,
        "params_ratio": _NUMBER,
        "reduction_pct": _NUMBER,
        "count_ratio": _NUMBER,
        **_MEMORY,
        "parts": {"type": "object", "additionalProperties": _ref("step")},
    },
    optional=("parts", *_TIMING),
)
_FIELD = _object({"size": _SHAPE, "stride": _SHAPE, "start": _INTS})
_ROW = _object(
    {
        "name": _STRING,
        "module": _STRING,
        "type": _STRING,
        "path": _STRING,
        "input_shape": _SHAPE,
        "output_shape": _SHAPE,
        **_WORK,
        "macs_share": _NUMBER,
        "effective_macs": _COUNT,
        **_MEMORY,
        "receptive_field": _nullable(_FIELD),
        "kernel": _SHAPE,
        "stride": _SHAPE,
        "padding": _GEOMETRY["padding"],
        "variants": _ref("variants"),
        "theory_ratio": _NUMBER,
        "rows": {"type": "integer", "minimum": 2},
        "calls": {"type": "integer", "minimum": 2},
        "forms": _object(
            {
                form: _object({**_WORK, "ratio": _nullable(_NUMBER), "params_ratio": _nullable(_NUMBER)})
                for form in ("as_written", "regular", "depthwise_separable")
            }
        ),
    },
    optional=("kernel", "stride", "padding", "variants", "theory_ratio", "rows", "calls", "forms", *_TIMING),
)
_SWEPT = {"type": "object", "additionalProperties": {"anyOf": [_COUNT, _SHAPE]}}


_NAMES = {"type": "array", "items": _STRING}
#: compare --memory (and --sram, --flash, --patches, --inplace-depthwise): see model.memory_report.
_PEAK_MEMORY = _object(
    {
        "dtype": _STRING,
        "batch": _COUNT,
        "inplace_depthwise": _BOOL,
        "peak_bytes": _COUNT,
        "peak_at": _nullable(_STRING),
        "steps": {"type": "array", "items": _object({"name": _STRING, "live_bytes": _COUNT})},
        "weight_bytes": _COUNT,
        "sram_bytes": _nullable(_COUNT),
        "flash_bytes": _nullable(_COUNT),
        "boards": _NAMES,
        "fits": {
            "type": "array",
            "items": _object(
                {
                    "what": {"enum": ["peak", "best_order_peak", "patches_peak", "weights"]},
                    "memory": {"enum": ["sram", "flash"]},
                    "need_bytes": _COUNT,
                    "capacity_bytes": _COUNT,
                    "fits": _BOOL,
                    "margin_bytes": _INT,
                    "decides": _BOOL,
                }
            ),
        },
        "best_order": _object(
            {
                "peak_bytes": _COUNT,
                "peak_at": _nullable(_STRING),
                "method": _STRING,
                "optimal": _BOOL,
                "parts": _COUNT,
                "searched": _COUNT,
                "order": _NAMES,
            }
        ),
        "patches": _object(
            {
                "patches": {"type": "array", "items": _COUNT, "minItems": 2, "maxItems": 2},
                "split": _STRING,
                "searched": _BOOL,
                "peak_bytes": _COUNT,
                "peak_at": _STRING,
                "stage_peak_bytes": _COUNT,
                "layer_peak_bytes": _COUNT,
                "stage_macs": _COUNT,
                "extra_macs": _COUNT,
            }
        ),
    },
    optional=("best_order", "patches"),
)


def output_schema() -> dict[str, Any]:
    """The schema, as a dict ready for ``json.dumps``."""
    layer = _object({**_HEAD, **_LAYER_BODY}, optional=_LAYER_OPTIONAL)
    layer["title"] = "layer --json"
    network = _object(
        {
            **_HEAD,
            "source": _nullable(_STRING),
            "options": _object(
                {
                    "as": _nullable({"enum": list(AS_FORMS)}),
                    "width_mult": _nullable(_STRING),
                    "in": _nullable(_SHAPE),
                    "depth": _nullable({"type": "integer", "minimum": 1}),
                    "hide_zero": _BOOL,
                }
            ),
            "input_shape": _nullable(_SHAPE),
            "output_shape": _nullable(_SHAPE),
            "outputs": {"type": "array", "items": _object({"name": _STRING, "shape": _SHAPE})},
            "layers": {"type": "array", "items": _ref("row")},
            "totals": _object({**_WORK, "bytes": _COUNT, "time_s": _NUMBER}, optional=("time_s",)),
            "variants": _object(
                {
                    form: _object({**_WORK, "ratio": _nullable(_NUMBER), "params_ratio": _nullable(_NUMBER)})
                    for form in ("as_written", "regular", "depthwise_separable")
                }
            ),
            "breakdown": {
                "type": "object",
                "additionalProperties": _object(
                    {**_WORK, "label": _STRING, "macs_share": _NUMBER, "params_share": _NUMBER}
                ),
            },
            "notes": {"type": "array", "items": _STRING},
            "unsupported": {"type": "object", "additionalProperties": _COUNT},
            "memory": _PEAK_MEMORY,
        },
        optional=("memory",),
    )
    network["title"] = "compare --json"
    point = _object({"swept": _SWEPT, **_LAYER_BODY}, optional=_LAYER_OPTIONAL)
    sweep = _object(
        {
            **_HEAD,
            "swept": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"anyOf": [_COUNT, _SHAPE]}},
            },
            "skipped": _COUNT,
            "points": {"type": "array", "items": point},
        }
    )
    sweep["title"] = "sweep --json"
    devices = _object(
        {
            "format_version": {"const": FORMAT_VERSION},
            "convcost_version": _STRING,
            "devices": {"type": "object", "additionalProperties": _ref("device")},
        }
    )
    devices["title"] = "devices --json"
    models = _object(
        {
            "format_version": {"const": FORMAT_VERSION},
            "convcost_version": _STRING,
            "models": {
                "type": "object",
                "additionalProperties": _object(
                    {
                        "network": _STRING,
                        "paper": _STRING,
                        "title": _STRING,
                        "input_shape": _nullable(_SHAPE),
                        "macs": _COUNT,
                        "params": _COUNT,
                        "layers": _COUNT,
                    }
                ),
            },
        }
    )
    models["title"] = "models --json"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "convcost --json output",
        "description": f"Format version {FORMAT_VERSION}: one object per command run.",
        "oneOf": [layer, network, sweep, devices, models],
        "$defs": {
            "device": _object(
                {
                    "name": _STRING,
                    "title": _STRING,
                    "peak_flops": {"type": "object", "additionalProperties": _NUMBER},
                    "bandwidth_bytes_per_s": _NUMBER,
                    "source": _STRING,
                }
            ),
            "variants": {"type": "object", "additionalProperties": _VARIANT},
            "step": _STEP,
            "row": _ROW,
        },
    }
