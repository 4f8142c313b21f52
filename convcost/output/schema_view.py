"""``convcost schema`` as a table: a JSON Schema flattened to one row per key.

``--format json`` prints the schema itself; the other formats list, for each kind of
entry (or each command's document), its keys, what values they take, their default and
what they mean.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .summary import SchemaDocument
from .text_table import Block, Column, Para, Table


@dataclass(frozen=True, slots=True)
class SchemaRow:
    where: str  # the top level, a layer type, or a command's document
    key: str
    value: str
    default: str
    required: bool
    meaning: str


def value_text(schema: Mapping[str, Any]) -> str:
    """What values a schema allows, in a few words: ``dims``, ``same | valid``, ``list of int``."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(dict.fromkeys(value_text(s) for s in schema[key]))
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {value_text(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        return f"object of {value_text(schema['additionalProperties'])}"
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    return str(kind)


def _object_rows(where: str, schema: Mapping[str, Any], prefix: str = "", depth: int = 0) -> list[SchemaRow]:
    rows = []
    required = set(schema.get("required", ()))
    for key, sub in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        rows.append(
            SchemaRow(
                where,
                path,
                value_text(sub),
                json.dumps(sub["default"]) if "default" in sub else "",
                key in required,
                " ".join(str(sub.get("description", "")).split()),
            )
        )
        if sub.get("type") == "object" and "properties" in sub and depth < 3:
            rows.extend(_object_rows(where, sub, f"{path}.", depth + 1))
    return rows


def schema_rows(document: Mapping[str, Any]) -> list[SchemaRow]:
    """The keys of a spec schema (top level, then each layer type) or of the output schema (per command)."""
    rows: list[SchemaRow] = []
    if "properties" in document:
        rows.extend(_object_rows("top level", document))
    entries = document.get("$defs", {}).get("entry", {}).get("oneOf", [])
    for entry in entries:
        rows.extend(_object_rows(str(entry.get("title", "entry")), entry))
    for branch in document.get("oneOf", []):
        rows.extend(_object_rows(str(branch.get("title", "document")), branch))
    for name, sub in document.get("$defs", {}).items():
        if name != "entry" and sub.get("type") == "object" and "properties" in sub:
            rows.extend(_object_rows(f"$defs/{name}", sub))
    return rows


def schema_view(schema: SchemaDocument) -> list[Block]:
    rows = schema_rows(schema.document)
    label = "spec files" if schema.which == "spec" else "the --json output (format 2)"
    table = Table(
        [
            Column("where", [r.where for r in rows]),
            Column("key", [r.key for r in rows], shrink="middle"),
            Column("value", [r.value for r in rows], shrink="words", drop=2),
            Column("default", [r.default for r in rows], drop=3),
            Column("req", ["yes" if r.required else "" for r in rows], drop=4, what="required"),
            Column("meaning", [r.meaning for r in rows], shrink="words", drop=1),
        ],
        title=[f"JSON Schema of {label}, one row per key"],
    )
    return [table, Para("The schema itself: convcost schema (--format json).", "dim")]


def schema_table(schema: SchemaDocument) -> tuple[list[str], list[list[Any]]]:
    rows = schema_rows(schema.document)
    header = ["where", "key", "value", "default", "required", "meaning"]
    return header, [[r.where, r.key, r.value, r.default, r.required, r.meaning] for r in rows]
