"""Reading spec files: YAML (safe loading only) or JSON, with line numbers for errors.

This is the only module that imports yaml, and only ``compare`` imports it.
YAML 1.1's surprises are switched off so that spec values mean what they look
like: ``0x3`` is the string "0x3" (padding 0 and 3), not hexadecimal 3; ``1:2``
is a before:after pair, not sexagesimal 62; ``010`` is ten; only true/false are
booleans. Hostile input ends quickly with an error: deep nesting is refused
before the parser sees it (libyaml's composer recurses in C), the nodes the
parser composes are counted as it goes, aliases are never expanded (an aliased
node is built once and shared; its expansion is counted on the composed graph, in
linear time, as it is built; a self-referencing alias is refused), only plain
data tags are accepted, ints of more digits than any spec needs stay text (the
checker names them), and the file size is capped.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from typing import Any

import yaml

from ..core import collector, limits
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
#: tags, Python objects) is refused by name, never built.
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
    """A mapping that remembers its line and the line of each of its values (1-based).

    Slots, not an instance dict: a spec has one per layer, each made as it loads. (The dict
    itself is empty from ``dict.__new__``: there is nothing for ``dict.__init__`` to do.)
    """

    __slots__ = ("line", "lines")

    def __init__(self) -> None:
        self.line: int | None = None
        self.lines: dict[Any, int] = {}


class SpecList(list[Any]):
    """A list that remembers its line and the line of each of its items (1-based)."""

    __slots__ = ("line", "lines")

    def __init__(self) -> None:
        self.line: int | None = None
        self.lines: dict[int, int] = {}


class SpecLoader(_Base):  # type: ignore[misc]
    """libyaml's parser and composer with YAML 1.2-style scalars and a budget, and a builder of its own."""

    composed = 0

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """Called by the composer before each node it composes, tagged or not: counted here."""
        self.composed += 1
        if self.composed > limits.MAX_SPEC_VALUES:
            raise _too_many_values()

    def ascend_resolver(self) -> None:
        """Called after each node: nothing to undo, as no path resolvers are used."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        """The tag of each untagged node.

        A plain scalar whose first character starts no implicit resolver (most of a spec's
        text: keys, names, ``same``) is text at once; others' tags are remembered (a spec
        repeats its values: ``3``, ``1``).
        """
        if kind is not yaml.ScalarNode:
            return _SEQ if kind is yaml.SequenceNode else _MAP
        if not implicit[0] or value[:1] not in _RESOLVED_FIRST:
            return _STR
        tag = _PLAIN_TAGS.get(value)
        if tag is None:
            tag = _Base.resolve(self, kind, value, implicit)
            if len(value) <= 64 and len(_PLAIN_TAGS) < 10_000:
                _PLAIN_TAGS[value] = tag
        return tag

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        return _Builder(self).build(node)


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
#: First characters some implicit resolver claims ("" for the empty scalar, null).
_RESOLVED_FIRST = frozenset(SpecLoader.yaml_implicit_resolvers)


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


def _nests_too_deep(line: int | None = None) -> ConvCostError:
    return ConvCostError("spec", f"nests deeper than {MAX_FLOW_DEPTH} levels; no spec needs that", line=line)


class _Builder:
    """Builds a spec's objects from libyaml's composed node graph in one walk, checking it as it goes.

    PyYAML's own constructor sends every node through generic machinery (a generator per
    container, a dispatch per node) and the checks would need a walk of their own; this one
    walk checks each node and builds it, bottom up. Aliases make the graph a DAG: each
    container is built once and its object shared (a memo by node id), so time and memory
    stay linear in the composed graph however often it is aliased, and the size of each node
    with every alias (and merge key) expanded is counted, never expanded, and must stay within
    :data:`~convcost.core.limits.MAX_EXPANDED_VALUES`; its nesting, within
    :data:`MAX_FLOW_DEPTH`. An alias inside its own anchor is refused; so is any tag but plain
    data's. Those checks raise at once, in the order of a walk of the graph before anything is
    built, as they always did. A problem met while building (a key given twice, a key that is
    not text, a bad merge, a ``!!bool`` or ``!!float`` Python cannot read) is raised only once
    the whole graph has passed them, and of several, the one PyYAML's constructor met first
    (exactly so in a file without aliases and merge keys; with them, as a rule).
    """

    def __init__(self, loader: SpecLoader) -> None:
        self.loader = loader
        #: id(container) → (its object, values once expanded, levels of nesting)
        self.done: dict[int, tuple[Any, int, int]] = {}
        self.problem: Exception | None = None  # the first building problem, in PyYAML's order
        self.problem_at = (0, 0)  # (its container's level below the root, its character index)
        self.level = 0  # the level of the container being built
        #: Values built so far: each container's own items, and what merge keys copy. Sharing
        #: keeps this to the composed graph's size, but a merge key copies its source's pairs,
        #: so this too is held to MAX_EXPANDED_VALUES, before each copy is made.
        self.built = 0

    def build(self, root: yaml.Node) -> Any:
        """The document's object, or its first problem raised."""
        if type(root) is yaml.ScalarNode:
            _check_tag(root)
            data = self.scalar(root)
        else:
            data = self.walk(root)
        problem, self.problem = self.problem, None
        if problem is not None:
            try:
                raise problem
            finally:  # no reference from this frame (its traceback's) to it: no cycle outlives the load
                del problem
        return data

    def walk(self, root: yaml.Node) -> Any:
        """Depth first, each container after its children (its last container child first).

        The walk the checks always made, so that a file with several problems they find reports
        the same one; it keeps each container's level below the root for :meth:`note`.
        """
        scalar_node, sequence_node, done = yaml.ScalarNode, yaml.SequenceNode, self.done
        open_nodes: set[int] = set()  # the containers on the path to the one at hand
        stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]  # (node, its level, children done?)
        while stack:
            node, level, children_done = stack.pop()
            key = id(node)
            if children_done:
                open_nodes.discard(key)
                self.level = level
                done[key] = self.mapping(node) if isinstance(node, yaml.MappingNode) else self.sequence(node)
                continue
            if key in done:
                continue
            _check_tag(node)
            if len(node.value) > limits.MAX_EXPANDED_VALUES:  # a list of aliases composes cheaply
                raise _expands_too_far(node)
            open_nodes.add(key)
            stack.append((node, level, True))
            items = node.value if type(node) is sequence_node else itertools.chain.from_iterable(node.value)
            for child in items:
                if type(child) is scalar_node:  # most nodes: checked at once, built with their container
                    if child.tag != _STR:
                        _check_tag(child)
                    continue
                child_key = id(child)
                if child_key in done:
                    continue
                if child_key in open_nodes:
                    raise ConvCostError(
                        "spec",
                        "refers to itself: an alias inside its own anchor would never end",
                        line=_line(child),
                    )
                stack.append((child, level + 1, False))
        return done[id(root)][0]

    def scalar(self, node: yaml.ScalarNode) -> Any:
        """A scalar's value (its tag already checked); past the digit limit, an int's text."""
        tag = node.tag
        if tag == _STR:
            return node.value
        if tag == _INT:
            text = node.value.strip()
            return int(text, 10) if len(text.lstrip("+-")) <= limits.MAX_DIGITS else text
        if tag == _NULL:
            return None
        try:  # PyYAML's own readings, errors and all ("<<" anywhere but a key has none)
            if tag == _BOOL:
                return self.loader.construct_yaml_bool(node)
            if tag == _FLOAT:
                return self.loader.construct_yaml_float(node)
            return self.loader.construct_undefined(node)
        except (yaml.YAMLError, ValueError, KeyError) as exc:
            self.note(exc, node.start_mark.index)
            return None

    def value(self, node: yaml.Node) -> Any:
        """A child's object: a scalar's value, or the container built before its parent."""
        return self.scalar(node) if type(node) is yaml.ScalarNode else self.done[id(node)][0]

    def sequence(self, node: yaml.Node) -> tuple[SpecList, int, int]:
        scalar_node, done = yaml.ScalarNode, self.done
        items = node.value
        self.spend(len(items), node)
        size, depth = 1 + len(items), 1 if items else 0
        data = SpecList()
        data.line = node.start_mark.line + 1
        lines = data.lines
        for index, item in enumerate(items):
            if type(item) is scalar_node:
                data.append(item.value if item.tag == _STR else self.scalar(item))
            else:
                value, item_size, item_depth = done[id(item)]
                data.append(value)
                size += item_size - 1
                depth = max(depth, item_depth)
            lines[index] = item.start_mark.line + 1
        return data, *self.checked_size(node, size, depth)

    def mapping(self, node: yaml.Node) -> tuple[SpecMap, int, int]:
        scalar_node, done = yaml.ScalarNode, self.done
        pairs = node.value
        self.spend(2 * len(pairs), node)
        size, depth = 1 + 2 * len(pairs), 1 if pairs else 0
        data = SpecMap()
        data.line = node.start_mark.line + 1
        lines = data.lines
        plain = True  # every key text (most mappings): built here, else by general_mapping
        for key_node, value_node in pairs:
            if type(key_node) is scalar_node:
                plain = plain and key_node.tag == _STR
            else:
                plain = False
                _, child_size, child_depth = done[id(key_node)]
                size += child_size - 1
                depth = max(depth, child_depth)
            if type(value_node) is scalar_node:
                value = value_node.value if value_node.tag == _STR else self.scalar(value_node)
            else:
                value, child_size, child_depth = done[id(value_node)]
                size += child_size - 1
                depth = max(depth, child_depth)
            if plain:
                data[key_node.value] = value
                lines[key_node.value] = value_node.start_mark.line + 1
        size, depth = self.checked_size(node, size, depth)
        if not plain:
            data = self.general_mapping(node, size)
        elif len(data) != len(pairs):
            self.note_duplicates(node)
        return data, size, depth

    def general_mapping(self, node: yaml.Node, size: int) -> SpecMap:
        """A mapping whose keys are not all text (numbers, merge keys ``<<``...), built as PyYAML does
        (``size``: its values with its merge keys' expanded, which merging copies)."""
        self.note_duplicates(node)
        if any(key_node.tag == _MERGE for key_node, _ in node.value):
            self.spend(size, node)
            try:  # PyYAML's own merging: merged pairs first, then the mapping's own
                self.loader.flatten_mapping(node)
            except yaml.MarkedYAMLError as exc:
                self.note(exc, node.start_mark.index)
        data = SpecMap()
        data.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if not isinstance(key, (str, int, bool, float)):
                problem = ConvCostError("spec", "has a key that is not text", line=_line(key_node))
                self.note(problem, key_node.start_mark.index)
                continue
            data[key] = self.value(value_node)
            data.lines[key] = value_node.start_mark.line + 1
        return data

    def note_duplicates(self, node: yaml.Node) -> None:
        """Note the first key a mapping gives twice, by its text (merged keys may be overridden)."""
        seen = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE:
                if key_node.value in seen:
                    problem = ConvCostError(
                        key_node.value, "is given twice in one mapping", line=_line(key_node)
                    )
                    self.note(problem, node.start_mark.index)
                    return
                seen.add(key_node.value)

    def note(self, problem: Exception, where: int) -> None:
        """Keep a building problem for later, if PyYAML's constructor would have met it first.

        That constructor builds level by level: each container's own problems (duplicates,
        then merges, then its pairs' in order) before any of those below it. ``where`` is the
        problem's character index in the file.
        """
        at = (self.level, where)
        if self.problem is None or at < self.problem_at:
            self.problem, self.problem_at = problem, at

    def spend(self, values: int, node: yaml.Node) -> None:
        self.built += values
        if self.built > limits.MAX_EXPANDED_VALUES:
            raise _expands_too_far(node)

    @staticmethod
    def checked_size(node: yaml.Node, size: int, depth: int) -> tuple[int, int]:
        """A container's size and nesting, from its children's, within their limits."""
        if size > limits.MAX_EXPANDED_VALUES:
            raise _expands_too_far(node)
        if depth >= MAX_FLOW_DEPTH:
            raise _nests_too_deep(_line(node))
        return size, depth + 1


#: A line whose leading indentation, dashes and colons reach this may nest deeply.
_DEEP_LEAD = re.compile(rf"^[ \t\-?:]{{{MAX_FLOW_DEPTH // 2}}}", re.MULTILINE)
_OPENING = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSING = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _expands_too_far(node: yaml.Node) -> ConvCostError:
    return ConvCostError(
        "spec",
        f"expands to more than {limits.MAX_EXPANDED_VALUES:,} values through its aliases "
        "(an alias bomb?); share blocks with fewer aliases, or use 'repeat'",
        line=_line(node),
    )


def _too_many_values() -> ConvCostError:
    return ConvCostError(
        "spec",
        f"has more than {limits.MAX_SPEC_VALUES:,} values (repeat a block with 'repeat' instead of "
        "writing it out, or raise the layer budget with --max-layers)",
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
    data.update(pairs)
    if len(data) != len(pairs):  # a key given twice: name the first
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise ConvCostError(key, "is given twice in one object")
            seen.add(key)
    return data


def _json_int(text: str) -> int | str:
    """A JSON int; past the digit limit, its text (the checker names the field and the limit)."""
    return int(text) if len(text.lstrip("-")) <= limits.MAX_DIGITS else text


#: A run of digits longer than any int a spec may give (only then must JSON's ints be read one by one).
_LONG_DIGITS = re.compile(f"[0-9]{{{limits.MAX_DIGITS + 1}}}")


@collector.paused()
def parse(text: str) -> object:
    """Load a spec document from text (JSON when it parses as JSON, else YAML)."""
    if text.lstrip().startswith("{"):
        if text.count(",") + text.count("[") + text.count("{") > limits.MAX_SPEC_VALUES:
            raise _too_many_values()  # counted before json builds a single value
        parse_int = _json_int if _LONG_DIGITS.search(text) else None  # None: json's own, in C
        try:
            return json.loads(text, object_pairs_hook=_json_pairs, parse_int=parse_int)
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
