"""Checking a spec document's structure: known kinds and keys, names, nesting, and its size.

The document is what a spec file holds — mappings, lists, ints and strings — so this
module needs no YAML: the spec reader hands it the loaded document, with line numbers
attached when it has them (``lines`` on mappings and lists). Errors name the path in the
spec (``layers[5].body[1].out``) and, where known, the line. Every problem found is
reported at once, as a :class:`SpecErrors`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from ..core import limits, values
from ..core.errors import ConvCostError, shorten, show_value
from .kinds import ACTIVATION_TYPES, COMMON_FIELDS, KINDS, TYPE_NAMES, Field

#: Upper bounds that keep hostile specs from running long: expanded layers and block depth.
MAX_DEPTH = 32
#: Longest layer name: rows repeat names (a repeat's copies), so a long one would multiply.
MAX_NAME_CHARS = 200
#: Longest ``module`` value of one entry, bounded as names are (a row's whole path joins its
#: blocks' values, so it grows with nesting as a row's name does).
MAX_MODULE_CHARS = 200

#: The keys of a spec's top level.
TOP_LEVEL = {
    "input": Field("shape", "The network's input: spatial dims then channels (224x224x3)."),
    "layers": Field("layers", "The layers and blocks, in order.", required=True),
    "outputs": Field("names", "The network's outputs, by name (default: the last layer)."),
    "name": Field("str", "A name for the spec."),
    "description": Field("str", "Free text."),
}


class SpecErrors(ConvCostError):
    """Every problem found in a spec, each a :class:`ConvCostError` with its path and line."""

    def __init__(self, errors: Sequence[ConvCostError]) -> None:
        self.errors = tuple(errors)
        first = self.errors[0]
        super().__init__(first.field, first.problem, line=first.line)
        self.args = ("\n".join(str(e) for e in self.errors),)


class Problems(list[ConvCostError]):
    """The problems found so far. At :data:`~convcost.core.limits.MAX_PROBLEMS` checking stops:
    a file with a problem on every line must not take longer to refuse than to read."""

    def append(self, problem: ConvCostError) -> None:
        super().append(problem)
        if len(self) >= limits.MAX_PROBLEMS:
            stop = ConvCostError("spec", f"has more problems; checking stopped after {limits.MAX_PROBLEMS:,}")
            raise SpecErrors([*self, stop])


class Entry(NamedTuple):
    """One checked spec entry: a layer, or a block with children."""

    type: str
    name: str
    path: str
    line: int | None
    fields: Mapping[str, object]
    children: tuple[tuple[Entry, ...], ...] = ()  # repeat: (layers,); residual: (body, shortcut); branches


def line_of(container: object, key: object) -> int | None:
    lines = getattr(container, "lines", None)
    if isinstance(lines, dict):
        found = lines.get(key)
        return found if isinstance(found, int) else None
    return None


def _own_line(container: object) -> int | None:
    line = getattr(container, "line", None)
    return line if isinstance(line, int) else None


class _Checker:
    """Turns the loaded document into Entries, collecting every problem it can see."""

    def __init__(self) -> None:
        self.errors: list[ConvCostError] = Problems()
        self.expanded: dict[int, int] = {}
        self.active: set[int] = set()
        self.parsed: dict[int, tuple[Entry, ...]] = {}
        self.list_sizes: dict[int, int] = {}  # id of a parsed list → its layers after expansion
        self.graph_sizes: dict[int, int] = {}  # id of a list or an entry's fields → its graph nodes

    def error(self, path: str, problem: str, line: int | None) -> None:
        self.errors.append(ConvCostError(path, problem, line=line))

    def layer_list(self, items: object, path: str, line: int | None, depth: int) -> tuple[Entry, ...]:
        if not isinstance(items, list):
            self.error(path, f"{show_value(items)} is not allowed; expected a list of layers", line)
            return ()
        if id(items) in self.active:
            self.error(path, "refers to itself (a YAML alias inside its own anchor)", line)
            return ()
        if id(items) in self.parsed:  # a list shared through YAML aliases is checked once
            return self.parsed[id(items)]
        self.active.add(id(items))
        nodes = []
        for index, item in enumerate(items):
            node = self.entry(item, f"{path}[{index}]", line_of(items, index) or line, depth, index)
            if node is not None:
                nodes.append(node)
        self.active.discard(id(items))
        self._check_unique_names(nodes)
        self.parsed[id(items)] = tuple(nodes)
        return self.parsed[id(items)]

    def _check_unique_names(self, nodes: list[Entry]) -> None:
        seen: dict[str, str] = {}
        for node in nodes:
            if node.name in seen:
                self.error(
                    f"{node.path}.name",
                    f"{show_value(node.name)} is already used by {seen[node.name]}",
                    node.line,
                )
            seen.setdefault(node.name, node.path)

    def entry(self, item: object, path: str, line: int | None, depth: int, index: int) -> Entry | None:
        if depth > MAX_DEPTH:
            self.error(path, f"blocks are nested more than {MAX_DEPTH} deep", line)
            return None
        if not isinstance(item, Mapping):
            self.error(
                path,
                f"{show_value(item)} is not allowed; expected a mapping like {{out: 16, kernel: 3}}",
                line,
            )
            return None
        line = _own_line(item) or line
        kind = written = item.get("type", "conv")
        if isinstance(written, str) and written in ACTIVATION_TYPES:
            kind = "activation"  # the name of an activation means an activation with that fn
        if not isinstance(kind, str) or kind not in TYPE_NAMES:
            self.error(
                f"{path}.type",
                f"{show_value(kind)} is not a type{_did_you_mean(kind, (*TYPE_NAMES, *ACTIVATION_TYPES))}; "
                f"expected one of {', '.join(TYPE_NAMES)}, "
                f"or an activation's name: {', '.join(ACTIVATION_TYPES)}",
                line_of(item, "type") or line,
            )
            return None
        assert isinstance(written, str)
        allowed, required, checked = _rules(written)
        ok = True
        for key in item:
            if key not in allowed:
                ok = False
                implied = f" (type: {written} is an activation, fn: {written})" if key == "fn" else ""
                self.error(
                    f"{path}.{key_text(key)}",
                    f"unknown key for a {written}{_did_you_mean(key, allowed)}{implied}; "
                    f"allowed: {', '.join(allowed)}",
                    line_of(item, key) or line,
                )
        for key in required:
            if key not in item:
                ok = False
                self.error(path, f"a {kind} needs {key!r}", line)
        name = item.get("name", f"{written}{index + 1}")
        if not isinstance(name, str) or not name or "." in name or len(name) > MAX_NAME_CHARS:
            self.error(
                f"{path}.name",
                f"{show_value(name)} is not allowed; expected text without dots, "
                f"at most {MAX_NAME_CHARS} characters",
                line,
            )
            ok = False
        for key, spec in checked:
            if key not in item:
                continue
            if spec.kind == "names" and not _is_names(item[key]):
                ok = False
                self.error(
                    f"{path}.{key}",
                    f"{show_value(item[key])} is not allowed; expected a list of layer names",
                    line_of(item, key) or line,
                )
            if spec.kind == "choice" and item[key] not in spec.choices:
                ok = False
                self.error(
                    f"{path}.{key}",
                    f"{show_value(item[key])} is not allowed; expected one of {', '.join(spec.choices)}",
                    line_of(item, key) or line,
                )
        if not ok:
            return None
        children = self.block_children(kind, item, path, line, depth)
        fields = item if written == kind else _Meaning(item, {"type": kind, "fn": written})
        return Entry(kind, str(name), path, line, fields, children)

    def block_children(
        self, kind: str, item: Mapping[str, object], path: str, line: int | None, depth: int
    ) -> tuple[tuple[Entry, ...], ...]:
        def sub(key: str, value: object) -> tuple[Entry, ...]:
            return self.layer_list(value, f"{path}.{key}", line_of(item, key) or line, depth + 1)

        children: list[tuple[Entry, ...]] = []
        for key, spec in KINDS[kind].fields.items():
            if spec.kind == "layers":
                children.append(sub(key, item.get(key, [])))
            elif spec.kind == "branches":
                paths = item[key]
                if not isinstance(paths, list) or not paths:
                    self.error(
                        f"{path}.{key}", "expected a non-empty list of layer lists", line_of(item, key)
                    )
                    return ()
                children.extend(
                    self.layer_list(branch, f"{path}.{key}[{i}]", line_of(paths, i) or line, depth + 1)
                    for i, branch in enumerate(paths)
                )
        return tuple(children)

    def count(self, nodes: tuple[Entry, ...]) -> int:
        """Layers after expansion, memoised so shared (aliased) lists are counted once each."""
        found = self.list_sizes.get(id(nodes))
        if found is not None:
            return found
        total = 0
        for node in nodes:
            total += self.count_node(node)
            if total > limits.MAX_LAYERS:
                break
        self.list_sizes[id(nodes)] = total
        return total

    def count_node(self, node: Entry) -> int:
        key = id(node.fields)
        if key in self.expanded:
            return self.expanded[key]
        if node.type == "repeat":
            times = node.fields["times"]
            try:
                n = values.positive_int(times, "times")
            except ConvCostError as exc:
                raise exc.within(node.path, line=line_of(node.fields, "times") or node.line) from None
            inner = self.count(node.children[0])
            size = n * inner if inner else 0
            if size > limits.MAX_LAYERS:
                raise ConvCostError(
                    f"{node.path}.times",
                    f"{n} copies of {inner} layers would make {size:,} layers; "
                    f"at most {limits.MAX_LAYERS:,} are allowed",
                    line=line_of(node.fields, "times") or node.line,
                )
        elif node.children:
            size = 1
            for child in node.children:
                size += self.count(child)
                if size > limits.MAX_LAYERS:
                    break
        else:
            size = 1
        self.expanded[key] = size
        return size

    def graph_count(self, nodes: tuple[Entry, ...]) -> int:
        """Nodes of the compiled graph: blocks and aliases expanded, each repeat's body once."""
        found = self.graph_sizes.get(id(nodes))
        if found is not None:
            return found
        total = 0
        for node in nodes:
            total += self.graph_node(node)
            if total > limits.MAX_GRAPH_NODES:
                break
        self.graph_sizes[id(nodes)] = total
        return total

    def graph_node(self, node: Entry) -> int:
        key = id(node.fields)
        found = self.graph_sizes.get(key)
        if found is None:
            found = 1
            for child in node.children:
                found += self.graph_count(child)
                if found > limits.MAX_GRAPH_NODES:
                    break
            self.graph_sizes[key] = found
        return found


class _Meaning(dict[str, object]):
    """An entry as what it means (``type: relu`` as ``type: activation, fn: relu``), its keys'
    line numbers those it was written with, so that errors still point at the file."""

    __slots__ = ("line", "lines")

    def __init__(self, item: Mapping[str, object], implied: Mapping[str, object]) -> None:
        super().__init__(item)
        self.update(implied)
        self.line = _own_line(item)
        lines = getattr(item, "lines", None)
        self.lines = lines if isinstance(lines, dict) else {}


@functools.cache
def _rules(kind: str) -> tuple[dict[str, Field], tuple[str, ...], tuple[tuple[str, Field], ...]]:
    """A kind's keys (its own and the common ones), its required keys, and the keys whose values
    are checked here (names, choices): worked out once per kind, not once per entry. An
    activation's name takes an activation's keys but ``fn``, which the name gives."""
    if kind in ACTIVATION_TYPES:
        allowed, required, checked = _rules("activation")
        return {k: v for k, v in allowed.items() if k != "fn"}, required, checked
    fields = KINDS[kind].fields
    allowed = {**COMMON_FIELDS, **fields}
    required = tuple(key for key, spec in fields.items() if spec.required)
    checked = tuple((key, spec) for key, spec in allowed.items() if spec.kind in ("names", "choice"))
    return allowed, required, checked


def is_module_level(level: str) -> bool:
    """Whether ``level`` can be one level of a module path (``layer1``, ``0``): some text without
    dots, spaces, or control and format characters (a NUL, a tab, a bidi override, a zero-width
    space), which would break a table's or a CSV's row, or show one path as another."""
    return bool(level) and "." not in level and level.isprintable() and not any(c.isspace() for c in level)


def is_module_path(path: str) -> bool:
    """Whether ``path`` is a module path a spec's ``module`` key holds: levels joined by dots, at
    most :data:`MAX_MODULE_CHARS` characters ('' is the model itself)."""
    if len(path) > MAX_MODULE_CHARS:
        return False
    return not path or all(is_module_level(level) for level in path.split("."))


def key_text(key: object) -> str:
    """A spec key as its path shows it: short, escaped."""
    return shorten(key, 40) if isinstance(key, str) else show_value(key)


def _did_you_mean(word: object, choices: Sequence[str] | Mapping[str, object]) -> str:
    if not isinstance(word, str) or len(word) > MAX_NAME_CHARS:
        return ""
    import difflib  # only when there is a mistake to explain

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _kind_of(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    return "a number" if isinstance(value, (int, float)) else f"a {type(value).__name__}"


def _is_names(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v for v in value)


def check(document: object) -> tuple[Entry, ...]:
    """Check a loaded spec's structure; return its top-level entries."""
    checker = _Checker()
    if not isinstance(document, Mapping):
        what = "empty" if document is None else f"{_kind_of(document)}, not a mapping"
        raise SpecErrors([ConvCostError("spec", f"is {what}; expected a mapping with a 'layers' list")])
    for key in document:
        if key not in TOP_LEVEL:
            checker.error(
                key_text(key),
                f"unknown top-level key{_did_you_mean(key, TOP_LEVEL)}; allowed: {', '.join(TOP_LEVEL)}",
                line_of(document, key),
            )
    if "outputs" in document and not _is_names(document["outputs"]):
        checker.error(
            "outputs",
            f"{show_value(document['outputs'])} is not allowed; expected a list of layer names",
            line_of(document, "outputs"),
        )
    if "layers" not in document:
        checker.error("layers", "is missing; a spec needs a 'layers' list", _own_line(document))
        raise SpecErrors(checker.errors)
    nodes = checker.layer_list(document["layers"], "layers", line_of(document, "layers"), 0)
    if not checker.errors:
        try:
            total = checker.count(nodes)
        except ConvCostError as exc:
            raise SpecErrors([exc]) from None
        if total > limits.MAX_LAYERS:
            raise SpecErrors(
                [
                    ConvCostError(
                        "layers",
                        f"expands to more than {limits.MAX_LAYERS:,} layers",
                        line=line_of(document, "layers"),
                    )
                ]
            )
        if checker.graph_count(nodes) > limits.MAX_GRAPH_NODES:
            raise SpecErrors(
                [
                    ConvCostError(
                        "layers",
                        f"has more than {limits.MAX_GRAPH_NODES:,} layers once its blocks and aliases are "
                        f"expanded (a repeat's body counts once); at most {limits.MAX_GRAPH_NODES:,} are "
                        "allowed: repeat blocks with 'repeat' instead of writing them out, or raise "
                        "the budget with --max-layers",
                        line=line_of(document, "layers"),
                    )
                ]
            )
    if checker.errors:
        raise SpecErrors(checker.errors)
    return nodes
