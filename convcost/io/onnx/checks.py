"""What a model must be before it is converted: its opset, each node's schema, its declared dims.

A malformed model is one :class:`ConvCostError` naming the node, never a crash further on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...core import limits
from ...core.errors import ConvCostError
from ...core.limits import MAX_DIMS
from .layout import decode, dims_text
from .read import (
    declared_dims,
    has_shape,
    inputs_of,
    label,
    named_dims,
    opset,
    standard,
    subgraphs,
    tensor_attributes,
    tensor_dims,
)
from .registry import lookup
from .schemas import DATA_TYPES, NEWEST_OPSET, OLDEST_OPSET, ONNX_RELEASE, schema

if TYPE_CHECKING:
    from onnx import GraphProto, ModelProto, NodeProto

#: The values ONNX defines for the ``auto_pad`` attribute of convs and pools.
AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")
#: TensorProto.STRING: a tensor of strings, which only some ops take.
_STRING = 8
#: AttributeProto.STRING.
_STRING_ATTRIBUTE = 3


def check_opset(model: ModelProto) -> None:
    version = opset(model)
    used = [n for n in model.graph.node if standard(n)]
    if version is None:
        if used:
            raise ConvCostError(
                "spec", "declares no opset for the standard ONNX ops it uses; it is not a valid model"
            )
        return
    if not OLDEST_OPSET <= version <= NEWEST_OPSET:
        raise ConvCostError(
            "spec",
            f"uses ONNX opset {version}, which convcost does not know (it reads opsets {OLDEST_OPSET} to "
            f"{NEWEST_OPSET}, the newest onnx {ONNX_RELEASE} knows); re-export with an opset in that range"
            + (" or upgrade convcost" if version > NEWEST_OPSET else ""),
        )


def check_functions(model: ModelProto) -> None:
    """Local functions expand within the layer budget, counted before onnx inlines them: each
    function's size once expanded is worked out once, so a doubling chain of functions calling each
    other (a bomb of 2^40 nodes in a file of 40 functions) is refused by its size at once. Calls in
    the bodies of If and Loop count too. A function that calls itself, directly or not, is refused."""
    functions = {(f.domain, f.name): f for f in model.functions}
    if not functions:
        return
    budget = limits.MAX_GRAPH_NODES
    sizes: dict[tuple[str, str], int] = {}  # a function → its nodes once expanded (budget + 1 at most)

    def called(node: NodeProto) -> tuple[str, str] | None:
        key = (node.domain, node.op_type)
        return key if key in functions else None

    def size(root: tuple[str, str], caller: NodeProto) -> int:
        """Depth first without recursion: a call chain can be as long as the file allows."""
        stack, open_ = [(root, False)], set()
        while stack:
            key, done = stack.pop()
            if key in sizes:
                continue
            body = _flattened(functions[key].node)
            if done:
                open_.discard(key)
                total = sum(sizes[callee] if (callee := called(n)) else 1 for n in body)
                sizes[key] = min(total, budget + 1)
                continue
            open_.add(key)
            stack.append((key, True))
            for inner in body:
                callee = called(inner)
                if callee in open_:
                    raise ConvCostError(
                        label(caller),
                        f"calls the model-local function {'::'.join(root)}, in which "
                        f"{'::'.join(key)} calls {'::'.join(callee)} again; local functions must not recurse",
                    )
                if callee is not None and callee not in sizes:
                    stack.append((callee, False))
        return sizes[root]

    total = 0
    for node in model.graph.node:
        for inner in _flattened([node]):
            callee = called(inner)
            total += size(callee, node) if callee else 1
            if total > budget:
                raise ConvCostError(
                    label(node),
                    f"calls model-local functions that expand the graph past {budget:,} nodes; at most "
                    f"{budget:,} are converted (--max-layers raises the budget)",
                )


def _flattened(nodes: Sequence[NodeProto]) -> list[NodeProto]:
    """The nodes, and those in the graphs inside them (If and Loop bodies), however deep."""
    found: list[NodeProto] = []
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        found.append(node)
        for body in subgraphs(node):
            stack.extend(reversed(body.node))
    return found


def check_structure(graph: GraphProto, version: int | None) -> None:
    """What a node must have whatever the shapes: inputs, weights of the right rank, attributes; each
    value made once; tensors of types ONNX defines."""
    weights = {t.name: tuple(t.dims) for t in graph.initializer}
    check_names(graph)
    check_types(graph, version)
    for node in graph.node:
        if not standard(node):
            continue
        op = lookup(node.op_type)
        given = inputs_of(node)
        if op is not None and op.arity is not None:
            least, most, what = op.arity
            if len(given) < least or (most is not None and len(given) > most):
                raise ConvCostError(
                    label(node), f"needs {what}, but has {len(given)} input{'s' * (len(given) != 1)}"
                )
        if not any(node.output):
            raise ConvCostError(label(node), "has no output")
        if op is not None and op.check is not None:
            op.check(node, weights)
        if op is None or op.schema:
            check_schema(node, version)
        auto_pad = next((a for a in node.attribute if a.name == "auto_pad"), None)
        rule = decode(auto_pad.s) if auto_pad is not None and auto_pad.type == _STRING_ATTRIBUTE else None
        if rule is not None and rule not in AUTO_PADS:
            expected = ", ".join(AUTO_PADS)
            raise ConvCostError(label(node), f"has auto_pad {rule!r}; expected one of {expected}")
    # onnx's inference enters If and Loop bodies too, where an attribute it loops on hangs it as well
    for inner in _flattened([n for node in graph.node for body in subgraphs(node) for n in body.node]):
        found = lookup(inner.op_type) if standard(inner) else None
        if found is not None and found.check is not None:
            found.check(inner, weights)


def check_names(graph: GraphProto) -> None:
    """Each value has one maker: no graph input listed twice, no node output made twice or named like
    a graph input or weight (which of them a reader gets would be undefined)."""
    inputs: set[str] = set()
    for info in graph.input:
        if info.name in inputs:
            raise ConvCostError("spec", f"lists the graph input {info.name!r} twice; each input is one value")
        inputs.add(info.name)
    weights = {t.name for t in graph.initializer} | {t.values.name for t in graph.sparse_initializer}
    made: dict[str, NodeProto] = {}
    for node in graph.node:
        for out in node.output:
            if not out:
                continue
            if out in made:
                twice = f"makes {out!r}, which {label(made[out])} makes too; each value has one maker"
                raise ConvCostError(label(node), twice)
            if out in inputs or out in weights:
                kind = "input" if out in inputs else "weight"
                raise ConvCostError(
                    label(node), f"makes {out!r}, the name of a graph {kind}; each value has one maker"
                )
            made[out] = node


def check_types(graph: GraphProto, version: int | None) -> None:
    """Every tensor a node reads or holds is of a type ONNX defines, and of strings only where the op
    takes strings (a conv weight of strings would be costed as numbers)."""
    defined = DATA_TYPES
    types = {t.name: int(t.data_type) for t in graph.initializer}
    for node in graph.node:
        for attribute in node.attribute:
            held = tensor_attributes(attribute)
            for tensor in held[0] if held is not None else []:
                if tensor.data_type not in defined:
                    raise ConvCostError(
                        label(node),
                        f"holds a tensor {attribute.name!r} of data type {tensor.data_type}, "
                        "which ONNX does not define",
                    )
        for index, name in enumerate(node.input):
            kind = types.get(name)
            if kind is None:
                continue
            if kind not in defined:
                raise ConvCostError(
                    label(node), f"reads {name!r}, a tensor of data type {kind}, which ONNX does not define"
                )
            if kind == _STRING and standard(node):
                found = schema(node.op_type, version) if version is not None else None
                if found is not None and not found.takes_strings(index):
                    strings = f"reads {name!r}, a tensor of strings; {node.op_type} takes numbers there"
                    raise ConvCostError(label(node), strings)


_ATTRIBUTE_KINDS = {
    1: "a float", 2: "an int", 3: "a string", 4: "a tensor", 5: "a graph", 6: "a list of floats",
    7: "a list of ints", 8: "a list of strings", 9: "a list of tensors", 10: "a list of graphs",
    11: "a sparse tensor", 12: "a list of sparse tensors", 13: "a type", 14: "a list of types",
}  # fmt: skip


def _refuse_retired(node: NodeProto, name: str, version: int) -> None:
    """An attribute the op took at an older opset but not at the model's (Squeeze's ``axes`` became
    an input at 13): onnx's inference ignores it and the shape rules read it, so the shapes would
    differ; a runtime refuses such a node. An attribute no opset defines (a custom one) passes."""
    for older in range(version - 1, OLDEST_OPSET - 1, -1):
        before = schema(node.op_type, older)
        if before is not None and name in before.attributes:
            raise ConvCostError(
                label(node),
                f"has attribute {name!r}, which {node.op_type} takes until opset {older} only; "
                f"the model's opset is {version}",
            )


def check_schema(node: NodeProto, version: int | None) -> None:
    """What onnx's op schema asks of a node and its shape inference does not check (a node that
    breaks it crashes the conversion): each attribute once and of its type, the inputs it must
    have, no more inputs or outputs than it takes."""
    op = node.op_type
    found = schema(op, version) if version is not None else None
    seen: set[str] = set()
    for attribute in node.attribute:
        name, kind = attribute.name, int(attribute.type)
        if name in seen:
            raise ConvCostError(label(node), f"gives attribute {name!r} more than once")
        seen.add(name)
        if kind not in _ATTRIBUTE_KINDS:
            raise ConvCostError(label(node), f"has attribute {name!r} of no known type ({kind})")
        if found is not None and version is not None and name not in found.attributes:
            _refuse_retired(node, name, version)
        wanted = found.attributes.get(name, kind) if found is not None else kind
        if wanted != kind:
            raise ConvCostError(
                label(node),
                f"gives attribute {name!r} as {_ATTRIBUTE_KINDS[kind]}; {op} takes "
                f"{_ATTRIBUTE_KINDS.get(wanted, 'another type')}",
            )
    if found is None:
        return
    for name in found.required:
        if name not in seen:
            raise ConvCostError(label(node), f"has no attribute {name!r}, which {op} needs")
    inputs = list(node.input)
    count = len(inputs)
    if count > found.max_input:
        raise ConvCostError(label(node), f"has {count} inputs; {op} takes at most {found.max_input}")
    for index, (name, option, least) in enumerate(found.inputs):
        if option == "S" and index >= count:
            raise ConvCostError(label(node), f"has no input {index} ({name!r}), which {op} needs")
        if option == "S" and not inputs[index]:
            raise ConvCostError(label(node), f"leaves its input {index} ({name!r}) empty; {op} needs it")
        if option == "V":
            given = sum(1 for value in inputs[index:] if value)
            if given < least:
                raise ConvCostError(label(node), f"has {given} {name!r} inputs; {op} needs at least {least}")
    outputs = list(node.output)
    if len(outputs) > found.max_output:
        raise ConvCostError(label(node), f"has {len(outputs)} outputs; {op} makes at most {found.max_output}")
    for index, (name, option) in enumerate(found.outputs):
        if option == "S" and index < len(outputs) and not outputs[index]:
            raise ConvCostError(label(node), f"leaves its output {index} ({name!r}) without a name")


def check_declared_dims(graph: GraphProto) -> None:
    """No dim the model states (value info, weights, constants) is negative: onnx's shape inference
    takes them as they are, and a Slice of one aborts the process (see ``inference.guard_slices``)."""
    stated: dict[str, list[int | None]] = {}
    for info in [*graph.input, *graph.output, *graph.value_info]:
        if not has_shape(info):
            continue
        declared = declared_dims(info)
        if len(declared) > MAX_DIMS:
            raise ConvCostError("spec", too_many_dims(info.name, len(declared)))
        if any(d is not None and d < 0 for d in declared):
            raise ConvCostError("spec", f"declares {info.name!r} as {dims_text(declared)}: a dim below 0")
        # a value declared twice (a graph input again in value_info) with other dims: which one the
        # model means is a guess (onnx's inference takes one, convcost's the other), so neither is
        first = stated.setdefault(info.name, declared)
        if len(first) != len(declared) or any(
            a is not None and b is not None and a != b for a, b in zip(first, declared, strict=False)
        ):
            raise ConvCostError(
                "spec", f"declares {info.name!r} twice, as {dims_text(first)} and as {dims_text(declared)}"
            )
    for name, dims in tensor_dims([*graph.initializer], [*graph.sparse_initializer]):
        if len(dims) > MAX_DIMS:
            raise ConvCostError("spec", too_many_dims(name, len(dims)))
        if any(d < 0 for d in dims):
            raise ConvCostError("spec", f"has a tensor {name!r} of dims {list(dims)}: a dim below 0")
    for node in graph.node:
        for attribute in node.attribute:
            held = tensor_attributes(attribute)
            if held is None:
                continue
            for _, dims in tensor_dims(*held):
                if len(dims) > MAX_DIMS:
                    raise ConvCostError(label(node), too_many_dims(attribute.name, len(dims)))
                if any(d < 0 for d in dims):
                    raise ConvCostError(
                        label(node), f"has a tensor {attribute.name!r} of dims {list(dims)}: a dim below 0"
                    )
        for body in subgraphs(node):
            check_declared_dims(body)


def too_many_dims(name: str, count: int) -> str:
    return f"has a tensor {name!r} of {count:,} dims; at most {MAX_DIMS} are allowed"


def check_symbolic(model: ModelProto, initializers: set[str], batch_taken: str | None = None) -> None:
    """Refuse an input with dims still symbolic, in one message that lists them all and the flags
    that fix them. ``batch_taken``: the first input's symbolic batch, already taken as 1."""
    for index, info in enumerate(i for i in model.graph.input if i.name not in initializers):
        if not has_shape(info):
            raise ConvCostError("in", f"the model's input {info.name!r} has no shape; give the input shape")
        unknown = [(axis, dim) for axis, dim in enumerate(named_dims(info)) if not isinstance(dim, int)]
        if not unknown:
            continue
        listed = [f"{dim or '?'} (axis {axis})" for axis, dim in unknown]
        if index == 0 and batch_taken is not None:
            listed.insert(0, f"{batch_taken} (axis 0, the batch: taken as 1)")
        spatial = any(axis > 0 for axis, _ in unknown)
        needs = ["--batch N"] if unknown[0][0] == 0 else []
        if spatial:
            needs.append("--in (its dims after the batch, channels last, e.g. 224x224x3)")
        if batch_taken is not None and unknown[0][0] != 0:
            needs.append("--batch N for a batch other than 1")
        wanted = " and ".join(needs) if len(needs) < 3 else f"{', '.join(needs[:-1])}, and {needs[-1]}"
        raise ConvCostError(
            "in" if spatial else "batch",
            f"the model's input {info.name!r} has symbolic dims: {', '.join(listed)}; give {wanted}",
        )
