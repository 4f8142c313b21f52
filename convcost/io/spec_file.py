"""Reading spec files: YAML (safe loading only) or JSON, with line numbers for errors.

This is the only module that imports yaml, and only ``compare`` imports it.
YAML 1.1's surprises are switched off so that spec values mean what they look
like: ``0x3`` is the string "0x3" (padding 0 and 3), not hexadecimal 3; ``1:2``
is a before:after pair, not sexagesimal 62; ``010`` is ten; only true/false are
booleans. Hostile input ends quickly with an error: deep nesting is refused
before the parser sees it (libyaml's composer recurses in C), the nodes the
parser composes are counted as it goes, aliases are never expanded (their
expansion is counted on the composed graph, in linear time, before anything is
built from it; a self-referencing alias is refused), only plain data tags are
accepted, ints of more digits than any spec needs stay text (the checker names
them), and the file size is capped.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import Any

import yaml

from ..core import limits
from ..core.errors import ConvCostError, show_value

MAX_BYTES = limits.MAX_SPEC_BYTES
MAX_FLOW_DEPTH = 200

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
#: The tags a spec may hold: plain data. Anything else (binary, timestamps, sets, local
#: tags, Python objects) is refused by name before anything is built.
_SCALAR_TAGS = frozenset({_STR, _INT, _FLOAT, _BOOL, _NULL, _MERGE})
_DROPPED = (_INT, _FLOAT, _BOOL, "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")
_DECIMAL = re.compile(r"[-+]?[0-9]+")
_FLOAT_TEXT = re.compile(
    r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's C parser when present
#: Plain scalar → its tag, as SpecLoader's resolvers decide (the same for every file).
_PLAIN_TAGS: dict[str, str] = {}


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
    """SafeLoader with YAML 1.2-style scalars, line-tracking containers and budgets."""

    composed = 0

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        """The tag of each untagged node, as the parser composes it: counted here.

        Plain scalars' tags are remembered (a spec repeats its values: ``3``, ``same``), which
        more than pays for the counting.
        """
        self.composed += 1
        if self.composed > limits.MAX_SPEC_VALUES:
            raise _too_many_values()
        if kind is yaml.ScalarNode:
            if not implicit[0]:
                return _STR
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                tag = _Base.resolve(self, kind, value, implicit)
                if len(value) <= 64 and len(_PLAIN_TAGS) < 10_000:
                    _PLAIN_TAGS[value] = tag
            return tag
        return _SEQ if kind is yaml.SequenceNode else _MAP

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        check_nodes(node)
        return self.construct_document(node)


SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
SpecLoader.add_implicit_resolver(_INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
SpecLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$|^[-+]?[0-9]+[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)
SpecLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_int(loader: SpecLoader, node: yaml.ScalarNode) -> int | str:
    """A decimal int; past the digit limit, its text (the checker names the field and the limit)."""
    text = loader.construct_scalar(node).strip()
    return int(text, 10) if len(text.lstrip("+-")) <= limits.MAX_DIGITS else text


def _line(node: yaml.Node) -> int | None:
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def _check_tag(node: yaml.Node) -> None:
    """Refuse any tag but plain data's, and explicitly tagged scalars that do not fit their tag."""
    tag = node.tag
    if isinstance(node, yaml.ScalarNode):
        if tag not in _SCALAR_TAGS:
            raise ConvCostError("spec", f"{_TAGS_PROBLEM} {show_value(tag)}; {_TAGS_HELP}", line=_line(node))
        value = node.value
        bad = (
            (tag == _INT and _DECIMAL.fullmatch(value.strip()) is None)
            or (tag == _FLOAT and _FLOAT_TEXT.fullmatch(value.strip()) is None)
            or (tag == _BOOL and value.strip().lower() not in ("true", "false"))
        )
        if bad:
            kind = {_INT: "decimal digits", _FLOAT: "a decimal number", _BOOL: "true or false"}[tag]
            short = tag.rsplit(":", 1)[-1]
            raise ConvCostError(
                "spec", f"has !!{short} {show_value(value)}; !!{short} takes {kind}", line=_line(node)
            )
    elif tag != (_SEQ if isinstance(node, yaml.SequenceNode) else _MAP):
        raise ConvCostError("spec", f"{_TAGS_PROBLEM} {show_value(tag)}; {_TAGS_HELP}", line=_line(node))


_TAGS_PROBLEM = "is not valid YAML for a spec: it has the tag"
_TAGS_HELP = "a spec holds only mappings, lists, numbers, text, true/false and null"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def check_nodes(root: yaml.Node) -> None:
    """Check the composed node graph before anything is built from it, in time linear in its size.

    Aliases make it a graph: the size of each node with every alias (and merge key) expanded
    is counted once per node, never by expanding it, and must stay within
    :data:`~convcost.core.limits.MAX_EXPANDED_VALUES`; so must its nesting within
    :data:`MAX_FLOW_DEPTH`. An alias inside its own anchor is refused; so is any tag but
    plain data's.
    """
    sizes: dict[int, tuple[int, int]] = {}  # id → (values once expanded, levels of nesting)
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, list[yaml.Node] | None]] = [(root, None)]
    while stack:
        node, children = stack.pop()
        key = id(node)
        if children is not None:  # every child done: this node's turn
            open_nodes.discard(key)
            size, depth = 1, 0
            for child in children:
                child_size, child_depth = sizes[id(child)]
                size += child_size
                depth = max(depth, child_depth)
            if size > limits.MAX_EXPANDED_VALUES:
                raise ConvCostError(
                    "spec",
                    f"expands to more than {limits.MAX_EXPANDED_VALUES:,} values through its aliases "
                    "(an alias bomb?); share blocks with fewer aliases, or use 'repeat'",
                    line=_line(node),
                )
            if depth >= MAX_FLOW_DEPTH:
                raise _nests_too_deep(_line(node))
            sizes[key] = (size, depth + 1)
            continue
        if key in sizes:
            continue
        _check_tag(node)
        children = _children(node)
        open_nodes.add(key)
        stack.append((node, children))
        for child in children:
            child_key = id(child)
            if child_key in sizes:
                continue
            if child_key in open_nodes:
                raise ConvCostError(
                    "spec",
                    "refers to itself: an alias inside its own anchor would never end",
                    line=_line(child),
                )
            if type(child) is yaml.ScalarNode:  # most nodes: done at once
                _check_tag(child)
                sizes[child_key] = (1, 1)
            else:
                stack.append((child, None))


def _nests_too_deep(line: int | None = None) -> ConvCostError:
    return ConvCostError("spec", f"nests deeper than {MAX_FLOW_DEPTH} levels; no spec needs that", line=line)


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


#: A line whose leading indentation, dashes and colons reach this may nest deeply.
_DEEP_LEAD = re.compile(rf"^[ \t\-?:]{{{MAX_FLOW_DEPTH // 2}}}", re.MULTILINE)
_OPENING = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSING = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _too_many_values() -> ConvCostError:
    return ConvCostError(
        "spec",
        f"has more than {limits.MAX_SPEC_VALUES:,} values; that is more than any spec needs "
        "(repeat a block with 'repeat' instead of writing it out)",
    )


@functools.lru_cache(maxsize=1)
def _parser_limits_nesting() -> bool:
    """Whether the parser refuses deep nesting itself, before its composer could recurse on it.

    libyaml 0.2.5 stops at 1,000 levels of flow or block nesting with an error, so its
    recursive composer never goes deeper; an older libyaml, or PyYAML's Python parser, needs
    :func:`_too_deep` to look first.
    """
    if _Base is yaml.SafeLoader:
        return False
    try:
        yaml.compose("[" * 1100 + "]" * 1100, Loader=_Base)
    except yaml.YAMLError:
        return True
    return False


def _too_deep(text: str) -> bool:
    """True when the text nests deeper than any spec needs (libyaml's composer would recurse in C).

    Text with few brackets and no deep indentation cannot nest deeply (two C-speed scans);
    other text is walked through libyaml's event parser, which keeps its own stack, counting
    the depth and the values as it goes.
    """
    if text.count("[") + text.count("{") <= MAX_FLOW_DEPTH and _DEEP_LEAD.search(text) is None:
        return False
    depth = events = 0
    try:
        for event in yaml.parse(text, Loader=_Base):
            events += 1
            if events > 2 * limits.MAX_SPEC_VALUES:
                raise _too_many_values()
            if isinstance(event, _OPENING):
                depth += 1
                if depth > MAX_FLOW_DEPTH:
                    return True
            elif isinstance(event, _CLOSING):
                depth -= 1
    except yaml.YAMLError as exc:  # libyaml stops at its own nesting limit (1,000) with an error
        return "nesting depth" in str(exc)  # others the loader reports, with their line
    return False


def _json_pairs(pairs: list[tuple[str, Any]]) -> SpecMap:
    data = SpecMap()
    for key, value in pairs:
        if key in data:
            raise ConvCostError(key, "is given twice in one object")
        data[key] = value
    return data


def _json_int(text: str) -> int | str:
    """A JSON int; past the digit limit, its text (the checker names the field and the limit)."""
    return int(text) if len(text.lstrip("-")) <= limits.MAX_DIGITS else text


def parse(text: str) -> object:
    """Load a spec document from text (JSON when it parses as JSON, else YAML)."""
    if text.lstrip().startswith("{"):
        if text.count(",") + text.count("[") + text.count("{") > limits.MAX_SPEC_VALUES:
            raise _too_many_values()  # counted before json builds a single value
        try:
            return json.loads(text, object_pairs_hook=_json_pairs, parse_int=_json_int)
        except ConvCostError:
            raise
        except (ValueError, RecursionError):
            pass  # YAML flow style that is not JSON; the YAML parser reports real problems
    if not _parser_limits_nesting() and _too_deep(text):
        raise _nests_too_deep()
    try:
        return yaml.load(text, Loader=SpecLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if "nesting depth" in str(exc.problem):  # libyaml's own limit (1,000 levels)
            raise _nests_too_deep(mark.line + 1 if mark else None) from None
        problem = " ".join(str(exc.problem or exc.context or "is not valid YAML").split())
        raise ConvCostError(
            "spec", f"is not valid YAML: {problem}", line=mark.line + 1 if mark else None
        ) from None
    except yaml.YAMLError as exc:
        raise ConvCostError("spec", f"is not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ConvCostError("spec", "nests too deeply") from None
    except ConvCostError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError) as exc:  # a corner of YAML no check foresaw
        raise ConvCostError("spec", f"is not valid YAML: {' '.join(str(exc).split())[:200]}") from None


def too_big(size: int | None, limit: int) -> str:
    """The problem of a file past its size limit (``size`` None: more than the limit was there)."""
    what = f"is {size:,} bytes" if size is not None else f"is larger than {limit:,} bytes"
    return (
        f"{what}; at most {limit:,} are read (a spec that large is generated: repeat blocks with "
        "'repeat', or cost it through the Python API)"
    )


def read(data: bytes) -> object:
    """Decode and load a spec file's bytes."""
    if len(data) > MAX_BYTES:
        raise ConvCostError("spec", too_big(len(data), MAX_BYTES))
    if b"\0" in data:
        raise ConvCostError("spec", "is binary, not a YAML or JSON text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConvCostError("spec", f"is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise ConvCostError("spec", "is empty; expected a mapping with a 'layers' list")
    return parse(text)
