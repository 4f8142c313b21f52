"""What convcost checks of ONNX's op schemas, as data of its own: no ``onnx.defs`` at run time.

``schemas.txt`` holds, for every op of the standard domain, the facts :func:`schema` gives at each
opset from :data:`OLDEST_OPSET` to :data:`NEWEST_OPSET` where they change: its attributes and their
types, which are required, its formal inputs and outputs and how many it takes. It is written from
``onnx.defs`` by ``python -m tests.test_onnx_schemas``, and that test holds it equal to onnx's.
A line reads ``Op since|name=type[!] …|input:option:least:strings …|max inputs|output:option …|max
outputs`` (``!``: required; option S, O or V: single, optional, variadic; strings 1: the input's
type allows a tensor of strings), or ``Op since|-`` where the op has no schema from that opset on.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import NamedTuple

#: The standard-domain opsets this reader knows the ops of.
OLDEST_OPSET, NEWEST_OPSET = 7, 28
#: The tensor data types ONNX defines (TensorProto.DataType, less UNDEFINED), as of opset 28.
DATA_TYPES = frozenset(range(1, 29))
#: The onnx release the facts were written from (named in the error for a newer opset).
ONNX_RELEASE = "1.23"


class Schema(NamedTuple):
    """What convcost checks of an op's ONNX schema, as plain data."""

    attributes: dict[str, int]  # name → AttributeProto type
    required: tuple[str, ...]
    inputs: tuple[tuple[str, str, int], ...]  # (name, option S/O/V: single, optional, variadic, least count)
    max_input: int
    outputs: tuple[tuple[str, str], ...]
    max_output: int
    strings: tuple[bool, ...] = ()  # per formal input: whether its type allows a tensor of strings

    def takes_strings(self, index: int) -> bool:
        """Whether input ``index`` may be a tensor of strings (past the last formal input: a variadic's)."""
        return bool(self.strings) and self.strings[min(index, len(self.strings) - 1)]


@functools.cache
def _lines() -> dict[str, list[tuple[int, str]]]:
    """Each op's lines (since, facts), oldest first; read once, parsed per op as asked."""
    table: dict[str, list[tuple[int, str]]] = {}
    for line in Path(__file__).with_name("schemas.txt").read_text(encoding="utf-8").splitlines():
        head, _, facts = line.partition("|")
        op, _, since = head.partition(" ")
        table.setdefault(op, []).append((int(since), facts))
    return table


@functools.lru_cache(maxsize=1024)
def schema(op: str, version: int) -> Schema | None:
    """The schema of a standard op at an opset, or None: an op ONNX does not define there."""
    found = None
    for since, facts in _lines().get(op, []):
        if since > version:
            break
        found = facts
    if found is None or found == "-" or not OLDEST_OPSET <= version <= NEWEST_OPSET:
        return None
    return parsed(found)


def parsed(facts: str) -> Schema:
    attributes_text, inputs_text, max_input, outputs_text, max_output = facts.split("|")
    attributes: dict[str, int] = {}
    required: list[str] = []
    for item in attributes_text.split():
        name, _, kind = item.partition("=")
        attributes[name] = int(kind.rstrip("!"))
        if kind.endswith("!"):
            required.append(name)
    inputs, strings = [], []
    for item in inputs_text.split():
        name, option, least, takes = item.split(":")
        inputs.append((name, option, int(least)))
        strings.append(takes == "1")
    outputs = [(name, option) for name, option in (o.split(":") for o in outputs_text.split())]
    return Schema(
        attributes, tuple(required), tuple(inputs), int(max_input), tuple(outputs), int(max_output),
        tuple(strings),
    )  # fmt: skip
