"""A network as a directed acyclic graph of named nodes, compiled from checked spec entries.

Every spec feature becomes nodes: a chain is nodes that each read the previous one;
``residual`` and ``branches`` are their paths' nodes plus a merge node (``add`` or
``concat``) named after the block; a layer's ``in`` is a source node of that shape;
``inputs`` wires a node to any earlier ones. A ``repeat`` stays one node holding its
body as a sub-graph, so that costing can cost each distinct copy once.

Names: a layer is found by its name among its siblings and the lists around it, or by
its dotted path (``stage2.conv1``, as its row is named) from anywhere after it. Inside a
block's list, ``input`` is the block's input; at the top level, the network's.

Modules: every node also carries the dotted module path PyTorch would give it (``module``),
relative to the repeat copy it is in, as its name is. An entry's ``module`` key is its path
relative to the module of the block around it (dotted, or ``""`` for no level of its own);
without the key it is the path its row name has inside that block (``conv1``;
``shortcut.conv1`` in a residual's shortcut; ``0.conv1`` in the first branch). A block's
merge row (the add of a residual, the concat of branches) belongs to the block's module,
as the op in a PyTorch module's ``forward`` does. Two entries may share a module (a ReLU
module called twice); names stay unique.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..core import values
from ..core.errors import ConvCostError, bad_value, show_value
from .kinds import KINDS
from .spec_check import MAX_MODULE_CHARS, Entry, Problems, SpecErrors, _did_you_mean, is_module_path, line_of

#: The key of the network's input value.
NETWORK_INPUT = 0
#: The internal kind of a source node (a layer's or block's own ``in``): it has no row.
SOURCE: Literal["source"] = "source"


@dataclass(frozen=True, slots=True)
class Node:
    """One node: a layer or merge (costed as a row), a source, or a repeat holding a sub-graph."""

    key: int  # unique in the network: what other nodes' ``inputs`` hold
    name: str  # the row name, relative to the copy of the repeat it is in
    kind: str
    fields: Mapping[str, object]
    inputs: tuple[int, ...]
    labels: tuple[str, ...]  # how errors name each input ("body", "shortcut", a layer name)
    path: str  # where it is in the spec: layers[3].body[1]
    line: int | None
    body: Graph | None = None  # repeat only
    times: int = 1
    title: str = ""  # how errors name it, when not by its kind and name (a block's merge)
    module: str = ""  # the PyTorch module path, relative to the repeat copy it is in
    first_index: int | None = None  # repeat only: the module index of its first copy, when given
    index_step: int = 1  # repeat only: how far apart its copies' module indices are


@dataclass(frozen=True, slots=True)
class Graph:
    """Nodes in an order where every input comes first; ``input`` is read, ``output`` is the result."""

    input: int
    nodes: tuple[Node, ...]
    output: int
    #: True when nothing inside reads a value from outside, so each copy of a repeated
    #: graph depends on its input alone.
    closed: bool = True

    def walk(self) -> Iterator[Node]:
        """Every node, those inside repeats included."""
        for node in self.nodes:
            yield node
            if node.body is not None:
                yield from node.body.walk()


@dataclass(frozen=True, slots=True)
class Compiled:
    """The compiled spec: its graph, its outputs (keys and names) and its input shape, if given."""

    graph: Graph
    outputs: tuple[tuple[str, int], ...]
    input_shape: tuple[int, ...] | None


@dataclass
class _Scope:
    """One list of entries: its siblings by name, and the value its first entry reads."""

    input: int
    parent: _Scope | None
    names: dict[str, int] = field(default_factory=dict)
    #: Rows' dotted names → keys, for the repeat copy (or network) this list is in.
    dotted: dict[str, int] = field(default_factory=dict)
    repeat_root: bool = False


class _Compiler:
    def __init__(self, document: Mapping[str, object]) -> None:
        self.document = document
        self.next_key = NETWORK_INPUT + 1
        self.errors: list[ConvCostError] = Problems()
        self.stack: list[list[Node]] = [[]]
        self.every_name: set[str] | None = None
        self.suggested = 0
        self.top: list[Entry] = []

    def key(self) -> int:
        self.next_key += 1
        return self.next_key - 1

    def add(self, node: Node) -> int:
        self.stack[-1].append(node)
        return node.key

    def fail(self, path: str, problem: str, line: int | None) -> None:
        self.errors.append(ConvCostError(path, problem, line=line))

    # ------------------------------------------------------------ names

    def lookup(self, name: str, scope: _Scope) -> int | None:
        if name == "input":
            return scope.input
        at: _Scope | None = scope
        while at is not None:
            if name in at.names:
                return at.names[name]
            at = at.parent
        at = scope
        while at is not None:
            if name in at.dotted:
                return at.dotted[name]
            at = at.parent
        return None

    def register(self, scope: _Scope, dotted: str, key: int) -> None:
        at: _Scope | None = scope
        while at is not None and not at.repeat_root:
            at = at.parent
        if at is not None:
            at.dotted[dotted] = key

    def _all_names(self) -> set[str]:
        """Every name and dotted path the spec defines (only when explaining a bad reference)."""
        if self.every_name is None:
            found: set[str] = set()

            def visit(entries: Sequence[Entry], prefix: str) -> None:
                for entry in entries:
                    found.add(entry.name)
                    found.add(prefix + entry.name)
                    if entry.type == "residual":
                        visit(entry.children[0], f"{prefix}{entry.name}.")
                        visit(entry.children[1], f"{prefix}{entry.name}.shortcut.")
                    elif entry.type == "branches":
                        for i, branch in enumerate(entry.children):
                            visit(branch, f"{prefix}{entry.name}.{i}.")
                    elif entry.type == "repeat":
                        visit(entry.children[0], "")

            visit(self.top, "")
            self.every_name = found
        return self.every_name

    def resolve(self, names: object, scope: _Scope, path: str, line: int | None) -> tuple[int, ...] | None:
        assert isinstance(names, list)
        keys = []
        for name in names:
            found = self.lookup(str(name), scope)
            if found is None:
                if name in self._all_names():
                    problem = (
                        f"{show_value(name)} is not defined before this layer (a forward reference, a "
                        "cycle, or a layer inside a repeat); a layer takes earlier layers' outputs"
                    )
                else:
                    self.suggested += 1  # each suggestion reads every name: only for the first few
                    hint = _did_you_mean(name, sorted(self._all_names())) if self.suggested <= 5 else ""
                    problem = (
                        f"{show_value(name)} is not a layer name{hint}; "
                        "give earlier layers' names (dotted inside blocks) or 'input'"
                    )
                self.fail(path, problem, line)
                return None
            keys.append(found)
        return tuple(keys)

    # ------------------------------------------------------------ entries

    def entries(
        self,
        entries: Sequence[Entry],
        start: int,
        prefix: str,
        scope: _Scope,
        module: str = "",
        default: str = "",
    ) -> int:
        """Compile a list whose first entry reads ``start``; the key of its last output.

        ``module`` is the module path of the block the list is in; ``default`` what an entry
        without a ``module`` key puts before its name within it (``shortcut``, a branch's index).
        """
        previous = start
        for entry in entries:
            own = self.module_of(entry, default)
            previous = self.entry(entry, previous, prefix, scope, join_module(module, own))
            scope.names[entry.name] = previous
            self.register(scope, prefix + entry.name, previous)
        return previous

    def source(self, entry: Entry) -> int:
        return self.add(
            Node(
                self.key(),
                "",
                SOURCE,
                {"in": entry.fields["in"]},
                (),
                (),
                entry.path,
                line_of(entry.fields, "in"),
            )
        )

    def module_of(self, entry: Entry, default: str) -> str:
        """The entry's module path relative to the block around it."""
        given = entry.fields.get("module")
        if given is None:
            return join_module(default, entry.name)
        if not isinstance(given, str) or not is_module_path(given):
            self.fail(
                f"{entry.path}.module",
                f"{show_value(given)} is not a module path; expected names joined by dots "
                f"(layer1.0.conv1) without spaces or control characters, at most {MAX_MODULE_CHARS} "
                "characters, or '' for no level of its own",
                line_of(entry.fields, "module") or entry.line,
            )
            return entry.name
        if "{}" in given and entry.type != "repeat":
            self.fail(
                f"{entry.path}.module",
                f"{show_value(given)}: only a repeat's module may hold {{}} (where its copies' numbers go)",
                line_of(entry.fields, "module") or entry.line,
            )
            return entry.name
        return given

    def entry(self, entry: Entry, previous: int, prefix: str, scope: _Scope, module: str) -> int:
        f = entry.fields
        kind = KINDS[entry.type]
        name = prefix + entry.name
        if "inputs" in f and "in" in f:
            self.fail(f"{entry.path}.in", "give 'in' (a fresh input) or 'inputs', not both", entry.line)
            return self.add(Node(self.key(), name, entry.type, f, (), (), entry.path, entry.line))
        if "inputs" in f:
            names = f["inputs"]
            assert isinstance(names, list)
            keys = self.resolve(names, scope, f"{entry.path}.inputs", line_of(f, "inputs") or entry.line)
            if keys is None:  # reported; the spec fails before anything is costed
                return self.add(Node(self.key(), name, entry.type, f, (), (), entry.path, entry.line))
            inputs, labels = keys, tuple(str(n) for n in names)
        elif "in" in f:
            inputs, labels = (self.source(entry),), ("in",)
        elif kind.inputs[1] == 0:  # a source of its own (a parameter)
            inputs, labels = (), ()
        else:
            inputs, labels = (previous,), ("input",)
        fewest, most = kind.inputs
        if len(inputs) < fewest or (most is not None and len(inputs) > most):
            takes = (
                f"{fewest}"
                if fewest == most
                else f"{fewest} or more"
                if most is None
                else f"{fewest} to {most}"
            )
            self.fail(
                f"{entry.path}.inputs",
                f"a {entry.type} takes {takes} input{'' if takes == '1' else 's'}, not {len(inputs)}"
                + ("; name them: inputs: [a, b]" if most is None else ""),
                line_of(f, "inputs") or entry.line,
            )
            return self.add(Node(self.key(), name, entry.type, f, (), labels, entry.path, entry.line))
        if not kind.block:
            node = Node(
                self.key(), name, entry.type, f, inputs, labels, entry.path, entry.line, module=module
            )
            return self.add(node)
        start = inputs[0]
        inner = _Scope(start, scope)
        if entry.type == "repeat":
            return self.repeat(entry, start, name, inner, module)
        if entry.type == "residual":
            body = self.entries(entry.children[0], start, f"{name}.", inner, module)
            shortcut = self.entries(
                entry.children[1], start, f"{name}.shortcut.", _Scope(start, scope), module, "shortcut"
            )
            merge, outs, labels = "add", (body, shortcut), ("body", "shortcut")
            outs_: tuple[int, ...] = outs
        else:  # branches
            outs_ = tuple(
                self.entries(branch, start, f"{name}.{i}.", _Scope(start, scope), module, str(i))
                for i, branch in enumerate(entry.children)
            )
            merge = str(f.get("join", "concat"))
            labels = tuple(f"branches[{i}]" for i in range(len(outs_)))
        title = f"{entry.type} {entry.name!r}"
        node = Node(
            self.key(),
            f"{name}.{merge}",
            merge,
            {},
            outs_,
            labels,
            entry.path,
            entry.line,
            title=title,
            module=module,
        )
        return self.add(node)

    def index_key(self, entry: Entry, key: str, least: int) -> int | None:
        """A repeat's ``first_index`` or ``index_step``: an int from ``least``; None when absent."""
        if key not in entry.fields:
            return None
        given = entry.fields[key]
        allowed = f"expected an integer from {least}"
        try:
            found = values.dims(given, key, allowed, minimum=least)
            if len(found) != 1:
                raise bad_value(key, given, allowed)
        except ConvCostError as exc:
            self.errors.append(exc.within(entry.path, line=line_of(entry.fields, key) or entry.line))
            return None
        return found[0]

    def repeat(self, entry: Entry, start: int, name: str, scope: _Scope, module: str) -> int:
        try:
            times = values.positive_int(entry.fields["times"], "times")
        except ConvCostError as exc:
            self.errors.append(exc.within(entry.path, line=line_of(entry.fields, "times") or entry.line))
            times = 1
        first_index = self.index_key(entry, "first_index", 0)
        index_step = self.index_key(entry, "index_step", 1)
        body_input = self.key()
        self.stack.append([])
        scope.repeat_root = True
        scope.input = body_input
        output = self.entries(entry.children[0], body_input, "", scope)
        nodes = tuple(self.stack.pop())
        body = Graph(body_input, nodes, output, _closed(body_input, nodes))
        return self.add(
            Node(
                self.key(),
                name,
                "repeat",
                entry.fields,
                (start,),
                ("input",),
                entry.path,
                entry.line,
                body,
                times,
                module=module,
                first_index=first_index,
                index_step=1 if index_step is None else index_step,
            )
        )


def join_module(parent: str, child: str) -> str:
    """``parent.child``, where either may be the empty path."""
    return f"{parent}.{child}" if parent and child else parent or child


def _closed(start: int, nodes: tuple[Node, ...]) -> bool:
    """Whether each copy depends on its input alone (no outside reads, no fresh sources)."""
    inside = {start}
    for node in Graph(start, nodes, start).walk():
        if node.kind == SOURCE:
            return False
        inside.add(node.key)
        if node.body is not None:
            inside.add(node.body.input)
    return all(key in inside for node in Graph(start, nodes, start).walk() for key in node.inputs)


def compile_graph(document: Mapping[str, object], entries: tuple[Entry, ...]) -> Compiled:
    """Wire checked entries into a graph; raise :class:`SpecErrors` for bad names and arities."""
    compiler = _Compiler(document)
    compiler.top = list(entries)
    top = _Scope(NETWORK_INPUT, None, repeat_root=True)
    last = compiler.entries(entries, NETWORK_INPUT, "", top)
    outputs: list[tuple[str, int]] = []
    wanted = document.get("outputs")
    if isinstance(wanted, list):
        line = line_of(document, "outputs")
        keys = compiler.resolve(wanted, top, "outputs", line) or ()
        outputs = [(str(n), k) for n, k in zip(wanted, keys, strict=False)]
    elif entries:
        outputs = [(entries[-1].name, last)]
    if compiler.errors:
        raise SpecErrors(compiler.errors)
    graph = Graph(NETWORK_INPUT, tuple(compiler.stack[0]), last)
    raw = document.get("input")
    shape = None
    if raw is not None:
        try:
            shape = values.shape(raw, "input")
        except ConvCostError as exc:
            raise SpecErrors([ConvCostError("input", exc.problem, line=line_of(document, "input"))]) from None
    return Compiled(graph, tuple(outputs), shape)
