"""Model-local functions inlined in pure Python, as onnx's inliner (``onnx.inliner``) does it.

Each call of a function whose opsets agree with the model's is replaced by the function's nodes,
call by call and depth first, with the names onnx gives them: a value or node name ``x`` inside the
function becomes ``x__N`` at the N-th call inlined (``x__N_K`` where that name is taken), the
function's inputs and outputs become the call's; attribute references take the call's attribute
(or are dropped). Calls inside If and Loop bodies are inlined too. The names match onnx's so that
a model costs the same with onnx installed or not. The model is read-only: the nodes made are new.

:func:`.checks.check_functions` has sized the expansion within the layer budget and refused
recursion before this runs, so the loops here end; none of them recurses in Python.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from ...core.errors import ConvCostError
from .read import label

if TYPE_CHECKING:
    from .proto import FunctionProto, GraphProto, NodeProto


M = TypeVar("M")


def _domain(domain: str) -> str:
    return "" if domain == "ai.onnx" else domain


class _Names:
    """The names a model uses (values and nodes, in one space, as onnx's inliner keeps them), and
    new ones made unique against them."""

    def __init__(self, graph: GraphProto) -> None:
        self.taken: set[str] = set()
        self.index = 0
        self.calls = 0  # the calls inlined so far, across the whole model (If bodies too)
        graphs = [graph]
        while graphs:
            inner = graphs.pop()
            self.taken.update(i.name for i in inner.input)
            self.taken.update(t.name for t in inner.initializer)
            self.taken.update(o.name for o in inner.output)
            for node in inner.node:
                self.taken.add(node.name)
                self.taken.update(node.input)
                self.taken.update(node.output)
                graphs.extend(_graphs_of(node))

    def new(self, suggested: str) -> str:
        name = suggested
        while name in self.taken:
            name = f"{suggested}_{self.index}"
            self.index += 1
        self.taken.add(name)
        return name


def _graphs_of(node: NodeProto) -> list[GraphProto]:
    """The graphs in a node's attributes, in onnx's visiting order."""
    found: list[GraphProto] = []
    for attribute in node.attribute:
        if attribute.HasField("g"):
            found.append(attribute.g)
        found.extend(attribute.graphs)
    return found


def _clone(msg: M) -> M:
    """A shallow copy of one of :mod:`.proto`'s messages (its lists copied, their items shared)."""
    copy: M = type(msg)()
    for cls in type(msg).__mro__[:-1]:
        for slot in getattr(cls, "__slots__", ()):
            value = getattr(msg, slot)
            setattr(copy, slot, list(value) if type(value) is list else value)
    return copy


def _set_text(msg: Any, name: str, value: str) -> None:
    setattr(msg, name, value)
    msg._present |= type(msg)._bits[name]


def _with_graphs(node: NodeProto, graphs: list[GraphProto]) -> NodeProto:
    """``node`` with the graphs of its attributes replaced, in :func:`_graphs_of`'s order."""
    copy = _clone(node)
    left = iter(graphs)
    attributes = []
    for attribute in node.attribute:
        if attribute.HasField("g") or attribute.graphs:
            attribute = _clone(attribute)
            if attribute.HasField("g"):
                attribute._g = next(left)  # type: ignore[attr-defined]  # g's slot
            attribute.graphs = [next(left) for _ in attribute.graphs]
        attributes.append(attribute)
    copy.attribute = attributes
    return copy


def _bound(node: NodeProto, given: dict[str, Any]) -> NodeProto:
    """A copy of a function's node (and of the graphs inside it) with its attribute references
    replaced by the call's attributes of those names, kept under their own names, or dropped."""
    copy = _clone(node)
    attributes = []
    for attribute in node.attribute:
        if attribute.ref_attr_name:
            replacement = given.get(attribute.ref_attr_name)
            if replacement is not None:
                attribute_copy = _clone(replacement)
                _set_text(attribute_copy, "name", attribute.name)
                attributes.append(attribute_copy)
            continue
        if attribute.HasField("g") or attribute.graphs:
            attribute = _clone(attribute)
            if attribute.HasField("g"):
                attribute._g = _bound_graph(attribute.g, given)  # type: ignore[attr-defined]  # g's slot
            attribute.graphs = [_bound_graph(g, given) for g in attribute.graphs]
        attributes.append(attribute)
    copy.attribute = attributes
    return copy


def _bound_graph(graph: GraphProto, given: dict[str, Any]) -> GraphProto:
    copy = _clone(graph)
    copy.node = [_bound(node, given) for node in graph.node]
    copy.input = [_clone(info) for info in graph.input]
    copy.output = [_clone(info) for info in graph.output]
    copy.initializer = [_clone(tensor) for tensor in graph.initializer]
    return copy


class _Renamer:
    """The names of one call's copy of a function body (onnx's ``InliningRenamer``), in place."""

    def __init__(self, suffix: str, names: _Names) -> None:
        self.suffix, self.names = suffix, names
        self.scopes: list[dict[str, str]] = [{}]

    def unique(self, name: str) -> str:
        return self.names.new(name + self.suffix)

    def rename(self, name: str) -> str:
        self.scopes[-1][name] = new = self.unique(name)
        return new

    def lookup(self, name: str, defines: bool) -> str:
        if not name:
            return name
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return self.rename(name) if defines else name  # an outer scope's value keeps its name

    def bind(self, call: NodeProto, function: FunctionProto) -> None:
        scope = self.scopes[-1]
        for formals, actuals, outputs in (
            (function.input, call.input, False),
            (function.output, call.output, True),
        ):
            if len(actuals) > len(formals):
                what = "outputs" if outputs else "inputs"
                raise ConvCostError(
                    label(cast(Any, call)),
                    f"calls the model-local function {function.domain}::{function.name} with "
                    f"{len(actuals)} {what}; it has {len(formals)}",
                )
            for index, formal in enumerate(formals):
                actual = actuals[index] if index < len(actuals) else ""
                scope[formal] = actual or (self.unique(formal) if outputs else "")

    def nodes(self, nodes: list[NodeProto]) -> None:
        """Rename each node, then the graphs inside it (onnx's order), depth first without recursion."""
        work: list[tuple[Any, ...]] = [("nodes", nodes, 0)]
        while work:
            task = work.pop()
            if task[0] == "pop":
                self.scopes.pop()
            elif task[0] == "graph":  # a body's own inputs, weights and outputs are new names
                graph = task[1]
                self.scopes.append({})
                for info in [*graph.input, *graph.initializer, *graph.output]:
                    _set_text(info, "name", self.rename(info.name))
                work += [("pop",), ("nodes", graph.node, 0)]
            elif task[2] < len(task[1]):
                items, index = task[1], task[2]
                node = items[index]
                if node.name:
                    node.name = self.unique(node.name)
                node.input = [self.lookup(name, False) for name in node.input]
                node.output = [self.lookup(name, True) for name in node.output]
                work.append(("nodes", items, index + 1))
                work += [("graph", graph) for graph in reversed(_graphs_of(node))]


def _inlined(
    nodes: list[NodeProto], functions: dict[tuple[str, str], FunctionProto], names: _Names
) -> list[NodeProto]:
    """``nodes`` with every call of ``functions`` replaced by its body (calls made in a body too)."""
    out: list[NodeProto] = []
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        function = functions.get((_domain(node.domain), node.op_type))
        if function is not None:
            names.calls += 1
            given = {a.name: a for a in node.attribute}
            body = [_bound(inner, given) for inner in function.node]
            renamer = _Renamer(f"__{names.calls}", names)
            renamer.bind(node, function)
            renamer.nodes(body)
            stack.extend(reversed(body))
            continue
        graphs = _graphs_of(node)
        if graphs:
            inner = [_inlined_graph(graph, functions, names) for graph in graphs]
            if any(new is not old for new, old in zip(inner, graphs, strict=True)):
                node = _with_graphs(node, inner)
        out.append(node)
    return out


def _inlined_graph(
    graph: GraphProto, functions: dict[tuple[str, str], FunctionProto], names: _Names
) -> GraphProto:
    nodes = _inlined(list(graph.node), functions, names)
    if all(new is old for new, old in zip(nodes, graph.node, strict=False)) and len(nodes) == len(graph.node):
        return graph
    copy = _clone(graph)
    copy.node = nodes
    return copy


def inline_local_functions(model: Any) -> Any:
    """The model with its local functions inlined (those whose opsets differ from the model's stay,
    their calls then opaque), as ``onnx.inliner.inline_local_functions`` gives it."""
    opsets: dict[str, int] = {}
    for entry in model.opset_import:
        opsets.setdefault(_domain(entry.domain), entry.version)
    functions: dict[tuple[str, str], FunctionProto] = {}
    for function in model.functions:
        if all(opsets.get(_domain(o.domain), o.version) == o.version for o in function.opset_import):
            functions[(_domain(function.domain), function.name)] = function
    if not functions:
        return model
    names = _Names(model.graph)
    copy, graph = _clone(model), _clone(model.graph)
    graph.node = _inlined(list(model.graph.node), functions, names)
    copy._graph = graph
    copy.functions = [f for f in model.functions if (_domain(f.domain), f.name) not in functions]
    return copy
