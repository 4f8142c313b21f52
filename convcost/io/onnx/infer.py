"""convcost's own shape inference: the graph walked in order, each node's outputs by its entry's rule.

Every value's dims are worked out from the graph's inputs (as ``--in`` and ``--batch`` set them) and
its initializers' dims, node by node, with each op's shape rule (:mod:`.rules`, named in its entry);
the values of shape arithmetic (Shape → Gather → Concat → Reshape…) by its entry's fold, in pure
Python (:mod:`.tensor`). A value no rule works out takes the dims the model states in its value info.
A graph with an op that has no rule (another domain's, control flow) is left to onnx's inference
(:mod:`.inference`), which :func:`missing_rule` tells.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from ...core import values as core_values
from ...core.errors import ConvCostError
from .fold import static_eval
from .layout import Shapes, dims_text
from .read import attributes, declared_dims, has_shape, label, opset, standard, weight
from .registry import Given, lookup
from .rules import Unknown
from .tensor import NotFolded, Tensor, decode, of_ints

if TYPE_CHECKING:
    from onnx import GraphProto, ModelProto, NodeProto, ValueInfoProto

Dims = tuple[int | None, ...]
#: The largest dim ONNX can hold (its dims are int64).
INT64_MAX = (1 << 63) - 1
#: An input's dims as stated: an int where known, the symbol's name (or None) where not.
Stated = list[int | str | None]


def missing_rule(graph: GraphProto) -> NodeProto | None:
    """The first node whose op has no shape rule here (another domain's, control flow), or None."""
    for node in graph.node:
        op = lookup(node.op_type) if standard(node) else None
        if op is None or op.shape is None:
            found: NodeProto = node
            return found
    return None


# ---------------------------------------------------------------------------- the inputs


def stated(info: ValueInfoProto) -> Stated | None:
    """An input's dims as its type states them (None: no shape)."""
    if not has_shape(info):
        return None
    found: Stated = []
    for dim in info.type.tensor_type.shape.dim:
        found.append(int(dim.dim_value) if dim.HasField("dim_value") else dim.dim_param or None)
    return found


def given_inputs(
    inputs: Sequence[ValueInfoProto], wants: set[str], shape: Sequence[int] | None, batch: int | None
) -> dict[str, Stated | None]:
    """Each input's dims once ``--in`` (the first input's dims after the batch, channels last for an
    N×C×… input) and ``--batch`` (every input's first dim, where it is not a number) are applied."""
    dims = {info.name: stated(info) for info in inputs}
    if shape is None and batch is None:
        return dims
    name = inputs[0].name
    first = dims[name] or []
    rank = len(first)
    if rank == 0:
        raise ConvCostError("in", f"the model's input {name!r} is a scalar; it has no shape to set")
    if shape is not None:
        shape = tuple(shape)
        nchw = rank >= 3 and name in wants
        if len(shape) != rank - 1:
            form = "spatial dims then channels" if nchw else "its dims after the batch"
            raise ConvCostError(
                "in",
                f"{core_values.format_dims(shape)} gives {len(shape)} dims but the model's input {name!r} "
                f"has {rank - 1} besides the batch; give {form}",
            )
        onnx_dims = (shape[-1],) + shape[:-1] if nchw else shape
        first[1:] = list(onnx_dims)
    if batch is not None:
        first[0] = batch
        for info in inputs[1:]:
            other = dims[info.name]
            if other and not isinstance(other[0], int):
                other[0] = batch
    dims[name] = first
    return dims


class _Dim:
    """A dim as checks.check_symbolic reads it (protobuf's ``HasField``)."""

    def __init__(self, dim: int | str | None) -> None:
        self.dim_value = dim if isinstance(dim, int) else 0
        self.dim_param = dim if isinstance(dim, str) else ""
        self.known = isinstance(dim, int)

    def HasField(self, name: str) -> bool:  # protobuf's name
        return name == "dim_value" and self.known


class _Input:
    """An input as checks.check_symbolic reads it: its name and (given) dims."""

    def __init__(self, name: str, dims: Stated | None) -> None:
        self.name = name
        self.type = self.tensor_type = self.shape = self
        self.dim = [_Dim(d) for d in dims or []]
        self.shaped = dims is not None

    def HasField(self, name: str) -> bool:  # protobuf's name: type.tensor_type, tensor_type.shape
        return self.shaped


def as_model(dims: dict[str, Stated | None]) -> ModelProto:
    """A stand-in of the model's inputs with their given dims, for checks.check_symbolic."""
    graph = SimpleNamespace(input=[_Input(name, found) for name, found in dims.items()])
    return cast("ModelProto", SimpleNamespace(graph=graph))


# ---------------------------------------------------------------------------- the walk


def infer(model: ModelProto, inputs: dict[str, Stated | None], changed: bool) -> Shapes:
    """Every value's dims (None where unknown), node by node. ``changed``: ``--in`` or ``--batch`` was
    given, and the model's value info (stated for the old input) is not used."""
    graph = model.graph
    version = opset(model) or 1
    dims: dict[str, Dims] = {}
    values: dict[str, Tensor] = {}
    for name, found in inputs.items():
        if found is not None:
            dims[name] = tuple(d if isinstance(d, int) else None for d in found)
    for tensor in graph.initializer:
        dims[tensor.name] = tuple(int(d) for d in tensor.dims)
        if not weight(tensor):
            # shape arithmetic and small constants; weights are never read (strings, an external
            # file: the value stays unknown)
            with contextlib.suppress(NotFolded):
                values[tensor.name] = decode(tensor)
    for sparse in graph.sparse_initializer:
        dims[sparse.values.name] = tuple(int(d) for d in sparse.dims)
    declared: dict[str, list[int | None]] = {}
    if not changed:
        for info in [*graph.value_info, *graph.output]:
            if has_shape(info):
                declared[info.name] = declared_dims(info)
    hint = "; shapes fixed inside the model do not fit the input given" if changed else ""
    for node in graph.node:
        _node(node, version, dims, values, declared, hint)
    return {
        name: tuple(d if d is not None and d > 0 else None for d in found) for name, found in dims.items()
    } | {t.name: tuple(int(d) for d in t.dims) for t in graph.initializer}


def _node(
    node: NodeProto,
    version: int,
    dims: dict[str, Dims],
    values: dict[str, Tensor],
    declared: dict[str, list[int | None]],
    hint: str,
) -> None:
    op = lookup(node.op_type)
    assert op is not None and op.shape is not None  # missing_rule() is asked first
    names = list(node.input)
    known: list[tuple[int, ...] | None] = []
    for name in names:
        held = dims.get(name) if name else None
        known.append(None if held is None or None in held else cast("tuple[int, ...]", held))
    given = Given(known, [values.get(name) if name else None for name in names], version, len(node.output))
    attrs = attributes(node)
    made: list[tuple[int, ...]] | None = None
    if not any(name and known[index] is None for index, name in enumerate(names)) or op.fold_first:
        try:
            made = op.shape(given, attrs)
        except Unknown:
            made = None
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            problem = str(exc) if isinstance(exc, ValueError) else f"lacks what its shape rule reads ({exc})"
            raise ConvCostError(label(node), f"{problem}{hint}") from None
    results = _values(node, op.of_shape is not None, given, attrs)
    for index, out in enumerate(node.output):
        if not out:
            continue
        found: Dims | None = made[index] if made is not None and index < len(made) else None
        value = results[index] if results is not None and index < len(results) else None
        if value is not None:
            values[out] = value
            if found is None:
                found = value.dims
        if out in declared:
            found = _merged(node, out, found, declared[out])
        if found is not None:
            dims[out] = found
            refuse_below(node, out, found, dims)


def _values(node: NodeProto, of_shape: bool, given: Given, attrs: dict[str, Any]) -> list[Tensor] | None:
    """The outputs' values, where the entry folds them (or reads only the input's shape)."""
    op = lookup(node.op_type)
    assert op is not None
    try:
        if op.of_shape is not None:
            first = given.dims[0] if given.dims else None
            if first is None:
                return None
            made = op.of_shape(list(first), attrs)
            return [of_ints([made], ()) if isinstance(made, int) else of_ints(made)]
        if all(value is not None for name, value in zip(node.input, given.values, strict=True) if name):
            return static_eval(node, list(given.values), attrs)
    except Exception:  # a fold's refusal (types, sizes, what numpy would refuse): the values stay unknown
        return None
    return None


def _merged(node: NodeProto, out: str, found: Dims | None, stated_dims: list[int | None]) -> Dims:
    """The dims worked out, checked against those the model states (as onnx's inference does)."""
    if found is None:
        return tuple(stated_dims)
    if len(found) != len(stated_dims):
        raise ConvCostError(
            label(node),
            f"shape inference fails: Inferred shape and existing shape differ in rank: "
            f"({len(found)}) vs ({len(stated_dims)})",
        )
    for axis, (mine, theirs) in enumerate(zip(found, stated_dims, strict=True)):
        if mine is not None and theirs is not None and mine != theirs:
            raise ConvCostError(
                label(node),
                f"shape inference fails: Inferred shape and existing shape differ in dimension {axis}: "
                f"({mine}) vs ({theirs})",
            )
    return tuple(
        mine if mine is not None else theirs for mine, theirs in zip(found, stated_dims, strict=True)
    )


def refuse_below(
    node: NodeProto, out: str, found: Sequence[int | None], dims: Mapping[str, Sequence[int | None]]
) -> None:
    """A dim below zero (a window's: below one) is refused at the node that makes it: ONNX works
    such dims out without a word (a 3×3 conv on a 1×1 map is "-1" wide). ``dims``: every value's,
    to name the input's."""
    op = lookup(node.op_type)
    windowed = op is not None and op.windowed and standard(node)
    least = 1 if windowed else 0
    if any(d is not None and d > INT64_MAX for d in found):
        # ONNX's dims are int64: a Shape of this value would wrap it (to a dim that may even fit)
        raise ConvCostError(
            label(node),
            f"shape inference makes its output {out!r} {dims_text(found)}, a dim above "
            f"{INT64_MAX:,} (int64's most): its inputs or attributes do not fit",
        )
    if all(d is None or d >= least for d in found):
        return
    data = next((name for name in node.input if name), "")
    given = f" from {data!r} {dims_text(dims[data])}" if data in dims else ""
    if windowed:
        why = "its input is smaller than its window (kernel and dilation, after padding)"
    else:
        why = "its inputs or attributes do not fit"
    raise ConvCostError(
        label(node),
        f"shape inference makes its output {out!r} {dims_text(found)}{given}, a dim below {least}: {why}",
    )
