"""The JSON Schema (draft 2020-12) of the spec format, written from the layer tables.

There is no hand-kept copy: every key, type and default comes from
:data:`convcost.model.kinds.KINDS`, the registry the spec checker uses. The schema checks the form of values;
convcost itself checks what depends on shapes (a kernel that fits, groups that divide).
"""

from __future__ import annotations

from typing import Any

from ..model.kinds import ACTIVATION_TYPES, COMMON_FIELDS, KINDS, Field
from ..model.spec_check import TOP_LEVEL

_NUMBER = r"\+?[0-9]+"
_SEP = r"\s*[xX×*]\s*"
_DIMS = rf"^\s*{_NUMBER}({_SEP}{_NUMBER})*\s*$"
_SHAPE = rf"^\s*{_NUMBER}({_SEP}{_NUMBER})+\s*$"
_PAIR = rf"{_NUMBER}(\s*:\s*{_NUMBER})?"
_PADDING = rf"^\s*{_PAIR}({_SEP}{_PAIR})*\s*$"


def _ints(minimum: int, min_items: int = 1) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "integer", "minimum": minimum}, "minItems": min_items}


DEFINITIONS: dict[str, Any] = {
    "shape": {"anyOf": [{"type": "string", "pattern": _SHAPE}, _ints(1, 2)]},
    "int": {
        "anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": rf"^\s*{_NUMBER}\s*$"}]
    },
    "dims": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": _DIMS}, _ints(1)]},
    "dims0": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": _DIMS}, _ints(0)]},
    "padding": {
        "anyOf": [
            {"enum": ["same", "valid", "SAME", "VALID", "Same", "Valid"]},
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": _PADDING},
            {
                "type": "array",
                "minItems": 1,
                "items": {"anyOf": [{"type": "integer", "minimum": 0}, {**_ints(0, 2), "maxItems": 2}]},
            },
        ]
    },
    "layers": {"type": "array", "items": {"$ref": "#/$defs/entry"}},
    "names": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
    "int0": {
        "anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": rf"^\s*{_NUMBER}\s*$"}]
    },
    "axis": {"type": "integer"},
}


def _property(key: str, spec: Field) -> dict[str, Any]:
    if spec.kind == "bool":
        schema: dict[str, Any] = {"type": "boolean"}
    elif spec.kind == "str":
        schema = {"type": "string"}
    elif spec.kind == "choice":
        schema = {"enum": list(spec.choices)}
    elif spec.kind == "branches":
        schema = {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/layers"}}
    else:
        schema = {"$ref": f"#/$defs/{spec.kind}"}
    schema["description"] = spec.help
    if spec.default not in (None, ()):
        schema["default"] = spec.default
    return schema


def _entry(kind: str, fields: dict[str, Field], help_text: str) -> dict[str, Any]:
    properties = {key: _property(key, spec) for key, spec in COMMON_FIELDS.items() if key != "type"}
    properties["type"] = {"const": kind, "description": help_text}
    properties.update({key: _property(key, spec) for key, spec in fields.items()})
    required = [key for key, spec in fields.items() if spec.required]
    if kind != "conv":  # conv is the default type
        required.insert(0, "type")
    return {
        "title": kind,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _activation_by_name() -> dict[str, Any]:
    """``type: relu`` and the other activations' names: an activation whose name gives ``fn``."""
    fields = {key: spec for key, spec in KINDS["activation"].fields.items() if key != "fn"}
    entry = _entry("activation", fields, "")
    entry["title"] = "activation by name"
    entry["properties"]["type"] = {
        "enum": list(ACTIVATION_TYPES),
        "description": "An activation by its function's name: type: relu is type: activation, fn: relu.",
    }
    return entry


def spec_schema() -> dict[str, Any]:
    """The schema, as a dict ready for ``json.dumps``."""
    entries = [_entry(name, kind.fields, kind.help) for name, kind in KINDS.items()]
    entries.append(_activation_by_name())
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "convcost spec",
        "description": "A network, or a list of what-if layers, for `convcost compare`.",
        "type": "object",
        "properties": {key: _property(key, spec) for key, spec in TOP_LEVEL.items()},
        "required": ["layers"],
        "additionalProperties": False,
        "$defs": {**DEFINITIONS, "entry": {"oneOf": entries}},
    }
