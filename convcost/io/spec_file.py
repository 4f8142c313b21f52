"""Reading spec files: YAML (safe loading only) or JSON, with line numbers for errors.

This is the only module that imports yaml, and only ``compare`` imports it.
YAML 1.1's surprises are switched off so that spec values mean what they look
like: ``0x3`` is the string "0x3" (padding 0 and 3), not hexadecimal 3; ``1:2``
is a before:after pair, not sexagesimal 62; ``010`` is ten; only true/false are
booleans. Hostile input ends quickly with an error: deep nesting is refused
before the parser sees it (libyaml's composer recurses in C), aliases are never
expanded (the network counts shared lists once), and the file size is capped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import yaml

from ..core.errors import ConvCostError

MAX_BYTES = 64 * 1024 * 1024
MAX_FLOW_DEPTH = 200
MAX_INDENT = 2000

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's C parser when present


class SpecMap(dict[Any, Any]):
    """A mapping that remembers the line of each of its values (1-based)."""

    line: int | None = None

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[Any, int] = {}


class SpecList(list[Any]):
    """A list that remembers the line of each of its items (1-based)."""

    line: int | None = None

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[int, int] = {}


class SpecLoader(_Base):  # type: ignore[misc]
    """SafeLoader with YAML 1.2-style scalars and line-tracking containers."""


SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT, _BOOL)]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
SpecLoader.add_implicit_resolver(_INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
SpecLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$|^[-+]?[0-9]+[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)
SpecLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_int(loader: SpecLoader, node: yaml.ScalarNode) -> int:
    return int(loader.construct_scalar(node), 10)


def _construct_map(loader: SpecLoader, node: yaml.MappingNode) -> Iterator[SpecMap]:
    data = SpecMap()
    data.line = node.start_mark.line + 1
    yield data
    seen = set()
    for key_node, _ in node.value:  # the mapping's own keys; merged ones (<<: *base) may be overridden
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            if key_node.value in seen:
                raise ConvCostError(
                    key_node.value, "is given twice in one mapping", line=key_node.start_mark.line + 1
                )
            seen.add(key_node.value)
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=False)
        if not isinstance(key, (str, int, bool, float)):
            raise ConvCostError("spec", "has a key that is not text", line=key_node.start_mark.line + 1)
        data[key] = loader.construct_object(value_node, deep=False)
        data.lines[key] = value_node.start_mark.line + 1


def _construct_seq(loader: SpecLoader, node: yaml.SequenceNode) -> Iterator[SpecList]:
    data = SpecList()
    data.line = node.start_mark.line + 1
    yield data
    for index, item in enumerate(node.value):
        data.append(loader.construct_object(item, deep=False))
        data.lines[index] = item.start_mark.line + 1


SpecLoader.add_constructor(_INT, _construct_int)
SpecLoader.add_constructor(_MAP, _construct_map)
SpecLoader.add_constructor(_SEQ, _construct_seq)


_QUOTED = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\n]|'')*'")
_COMMENT = re.compile(r"(?:^|\s)#[^\n]*")
_BRACKETS = re.compile(r"[\[\]{}]")
_LEAD = re.compile(r"^[ \t\-?:]*", re.MULTILINE)


def _too_deep(text: str) -> bool:
    """True when the text nests deeper than any spec needs (libyaml would recurse in C on it)."""
    if max((len(m.group()) for m in _LEAD.finditer(text)), default=0) > MAX_INDENT:
        return True
    bare = _COMMENT.sub(" ", _QUOTED.sub('""', text))
    depth = 0
    for match in _BRACKETS.finditer(bare):
        depth += 1 if match.group() in "[{" else -1
        if depth > MAX_FLOW_DEPTH:
            return True
    return False


def _json_pairs(pairs: list[tuple[str, Any]]) -> SpecMap:
    data = SpecMap()
    for key, value in pairs:
        if key in data:
            raise ConvCostError(key, "is given twice in one object")
        data[key] = value
    return data


def parse(text: str) -> object:
    """Load a spec document from text (JSON when it parses as JSON, else YAML)."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text, object_pairs_hook=_json_pairs)
        except (ValueError, RecursionError):
            pass  # YAML flow style that is not JSON; the YAML parser reports real problems
    if _too_deep(text):
        raise ConvCostError("spec", f"nests deeper than {MAX_FLOW_DEPTH} levels; no spec needs that")
    try:
        return yaml.load(text, Loader=SpecLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(exc.problem or exc.context or "is not valid YAML").split())
        raise ConvCostError(
            "spec", f"is not valid YAML: {problem}", line=mark.line + 1 if mark else None
        ) from None
    except yaml.YAMLError as exc:
        raise ConvCostError("spec", f"is not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ConvCostError("spec", "nests too deeply") from None


def read(data: bytes) -> object:
    """Decode and load a spec file's bytes."""
    if len(data) > MAX_BYTES:
        raise ConvCostError("spec", f"is {len(data):,} bytes; at most {MAX_BYTES:,} are read")
    if b"\0" in data:
        raise ConvCostError("spec", "is binary, not a YAML or JSON text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConvCostError("spec", f"is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise ConvCostError("spec", "is empty; expected a mapping with a 'layers' list")
    return parse(text)
