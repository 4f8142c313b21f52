"""The converter's state, and what every handler does with it: emit entries, conform inputs.

A :class:`Context` holds what the conversion has made so far; the node being converted is passed to
each method that reports or names (``fail``, ``emit``, …), never kept as state.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from math import prod
from typing import TYPE_CHECKING, Any, NamedTuple

from ...core.errors import ConvCostError
from ...model.kinds import KINDS, MergeMismatch
from ...model.spec_check import MAX_NAME_CHARS
from .layout import (
    Layout,
    Shape,
    Shapes,
    Static,
    Value,
    aligned,
    axis_map,
    can_nchw,
    dims_field,
    stored_shape,
    text,
)
from .modules import module_paths
from .read import FLOAT_TYPES, attributes, inputs_of, label, weight
from .tensor import NotFolded, Tensor, decode

if TYPE_CHECKING:
    from onnx import ModelProto, NodeProto

#: The longest row name made from a node's (the spec's limit, less room for a ``_N`` counter),
#: and how much of its start an elided one keeps.
_LONGEST = MAX_NAME_CHARS - 12
_HEAD = _LONGEST // 2

#: A spec entry's fields, as the spec's kinds read them.
Fields = dict[str, object]


class Plan(NamedTuple):
    """How :meth:`Context.parameter` counts a static tensor read as some target shape."""

    fresh: frozenset[str]  # the learned initializers it is made of, not counted before
    numel: int  # their elements (of one sample, when the model is costed whole)
    small: Shape | None  # the shape they broadcast from to the target, where they do
    exact: bool  # they are the target's elements, or those of a broadcast: nothing is guessed


class BatchMixed(Exception):
    """The model mixes its batch axis with others at ``where``: it is costed whole instead."""

    def __init__(self, where: str, why: str, note: str | None = None) -> None:
        super().__init__(where, why)
        #: ``note``: the whole note, where the model does not mix its batch but its first dim is not one
        self.where, self.why, self.note = where, why, note


@dataclass
class Context:
    model: ModelProto
    shapes: Shapes
    wants: set[str]
    source: str
    n: int | None  # samples per batch, or None: the batch axis is not tracked (one pass over everything)
    samples: int = 1  # the batch size of the model's first input
    values: dict[str, Value] = field(default_factory=dict)
    static: dict[str, Static] = field(default_factory=dict)
    entries: list[Fields] = field(default_factory=list)
    stored: dict[str, Shape] = field(default_factory=dict)  # entry name → its output shape
    names: set[str] = field(default_factory=lambda: {"input"})
    suffixes: dict[str, int] = field(default_factory=dict)  # a cleaned base → the last counter it took
    counted: set[str] = field(default_factory=set)  # initializers whose elements are counted
    notes: list[str] = field(default_factory=list)
    unsupported: Counter[str] = field(default_factory=Counter)
    cache: dict[tuple[str, Shape, str], str] = field(default_factory=dict)
    absorbed: dict[int, str] = field(default_factory=dict)  # id(node) → the value its output is ("": none)
    folded: dict[str, tuple[str, list[tuple[int, int]]]] = field(default_factory=dict)
    fold: bool = False  # compute on constants folded (free), not costed as layers (see .constants)
    constants_folded: int = 0  # the tensors computed from constants it folded

    def __post_init__(self) -> None:
        graph = self.model.graph
        self.opset = next((o.version for o in self.model.opset_import if o.domain in ("", "ai.onnx")), 17)
        self.consumers: dict[str, list[NodeProto]] = {}
        self.producers: dict[str, NodeProto] = {}
        self.nodes = list(graph.node)  # held, so that each node keeps its id() (upb reuses freed ones)
        self.order = {id(node): index for index, node in enumerate(self.nodes)}
        for node in graph.node:
            for name in set(inputs_of(node)):
                self.consumers.setdefault(name, []).append(node)
            for name in node.output:
                self.producers[name] = node
        self.outputs = {o.name for o in graph.output}
        self.modules = module_paths(graph.node, {t.name: None for t in graph.initializer})
        stored: dict[tuple[object, ...], str] = {}  # where an external tensor's bytes are → its name
        for tensor in graph.initializer:
            dims = tuple(int(d) for d in tensor.dims)
            data = None
            if not weight(tensor):
                try:  # shape arithmetic and small constants; weights are never read
                    data = decode(tensor)
                except NotFolded:  # strings, an external file, an odd encoding: the value stays unknown
                    data = None
            learned = tensor.data_type in FLOAT_TYPES and prod(dims) > 1
            source = tensor.name
            if learned and tensor.data_location == 1:
                # Two initializers at the same bytes of the same file, of one type and dims, are one
                # tensor (a tied weight a tool wrote once): counted once, as a tensor read again. The
                # bytes are never read; an exporter's separate copy (at other bytes) stays separate.
                place = {e.key: e.value for e in tensor.external_data}
                if "location" in place:
                    at = (place["location"], place.get("offset", "0"), place.get("length"))
                    source = stored.setdefault((*at, tensor.data_type, dims), tensor.name)
            self.static[tensor.name] = Static(dims, data, frozenset({source}) if learned else frozenset())

    # ------------------------------------------------------------------ small helpers

    @staticmethod
    def where(node: NodeProto | None) -> str:
        return "the model's input" if node is None else label(node)

    def fail(self, node: NodeProto | None, problem: str) -> ConvCostError:
        return ConvCostError(self.where(node), problem)

    @staticmethod
    def attrs(node: NodeProto) -> dict[str, Any]:
        return attributes(node)

    def shape_of(self, node: NodeProto, name: str) -> Shape:
        found = self.shapes.get(name)
        if found is None or any(d is None for d in found):
            known = "no shape" if found is None else f"dims {['?' if d is None else d for d in found]}"
            raise self.fail(
                node, f"shape inference gives {known} for {name!r}; export the model with static shapes"
            )
        return tuple(int(d) for d in found if d is not None)

    def unique(self, base: str) -> str:
        clean = re.sub(r"[^0-9A-Za-z_-]+", "_", base).strip("_") or "node"
        if len(clean) > _LONGEST:  # a spec's names are bounded: the middle goes, room kept for a counter
            clean = f"{clean[:_HEAD]}__{clean[len(clean) - (_LONGEST - _HEAD - 2) :]}"
        # The first free of clean, clean_1, clean_2, …: names are only ever added, so the counters
        # a base took before are still taken and the search resumes at its last (a tied weight used
        # by every layer would otherwise make naming quadratic in the layers).
        k = self.suffixes.get(clean, 0)
        name = f"{clean}_{k}" if k else clean
        while name in self.names:
            k += 1
            name = f"{clean}_{k}"
        self.suffixes[clean] = k
        self.names.add(name)
        return name

    @staticmethod
    def node_name(node: NodeProto, suffix: str = "") -> str:
        base = node.name or next((o for o in node.output if o), "") or node.op_type.lower()
        return f"{base}_{suffix}" if suffix else base

    def lost(self, node: NodeProto | None, why: str, note: str | None = None) -> None:
        """The batch axis is mixed with others here: fine for one sample, else cost the whole input."""
        if self.n is not None and self.n > 1:
            raise BatchMixed(self.where(node), why, note)

    def is_static(self, name: str) -> bool:
        return name in self.static and name not in self.values

    def data(self, name: str) -> Tensor | None:
        found = self.static.get(name)
        return None if found is None else found.data

    def ints(self, name: str) -> list[int] | None:
        found = self.data(name)
        return None if found is None else found.ints()

    def dims(self, node: NodeProto, name: str) -> Shape:
        """The ONNX dims of an activation or static value."""
        found = self.values[name].shape if name in self.values else self.static[name].shape
        if found is None:
            raise self.fail(node, f"shape inference gives no shape for {name!r}")
        return found

    # ------------------------------------------------------------------ entries

    def emit(
        self,
        node: NodeProto | None,
        kind: str,
        fields: Fields,
        sources: Sequence[str],
        expected: Shape | None,
        suffix: str = "",
        name: str | None = None,
    ) -> str:
        """Add one spec entry; check convcost's shape for it against the model's. Its name."""
        handler = KINDS[kind].handler
        assert handler is not None
        shapes = tuple(self.stored[s] for s in sources)
        try:
            costed = handler(fields, shapes)
        except MergeMismatch as exc:
            raise self.fail(
                node, f"its inputs {', '.join(text(s) for s in shapes)} do not fit: {exc.need}"
            ) from None
        except ConvCostError as exc:
            raise self.fail(node, str(exc)) from None
        if not name:
            assert node is not None
            name = self.node_name(node, suffix)
        entry_name = self.unique(name)
        entry: Fields = {"name": entry_name, "type": kind}
        # the module the node ran in (a node of a subgraph, or none, belongs to the model itself)
        entry["module"] = "" if node is None else self.modules.get(id(node), "")
        if KINDS[kind].inputs[1] != 0:
            entry["inputs"] = list(sources)
        entry.update(fields)
        self.entries.append(entry)
        self.stored[entry_name] = costed.output_shape
        if expected is not None and costed.output_shape != expected:
            if prod(costed.output_shape) == prod(expected):
                return self.emit(
                    node, "reshape", {"shape": dims_field(expected)}, [entry_name], expected, "reshape"
                )
            raise self.fail(
                node,
                f"convcost makes it {text(costed.output_shape)} but the model's shapes say {text(expected)}",
            )
        return entry_name

    def set_value(
        self, node: NodeProto | None, name: str, shape: Shape, layout: Layout, batch: int | None, entry: str
    ) -> Value:
        value = Value(shape, layout, batch, entry)
        if value.stored != self.stored[entry]:  # pragma: no cover - emit() reshapes to the expected shape
            raise self.fail(
                node, f"internal: {name!r} is {text(self.stored[entry])}, expected {text(value.stored)}"
            )
        self.values[name] = value
        return value

    def layout_for(self, name: str, shape: Shape, batch: int | None, prefer: Layout | None = None) -> Layout:
        if not can_nchw(shape, batch):
            return "plain"
        if prefer is not None:
            return prefer
        return "nchw" if name in self.wants else "plain"

    def produce(
        self,
        node: NodeProto,
        out: str,
        kind: str,
        fields: Fields,
        sources: Sequence[str],
        batch: int | None,
        layout: Layout | None = None,
        suffix: str = "",
    ) -> Value:
        """Emit the entry making ONNX value ``out`` (shape from inference)."""
        shape = self.shape_of(node, out)
        chosen = self.layout_for(out, shape, batch, layout)
        entry = self.emit(node, kind, fields, sources, stored_shape(shape, chosen, batch), suffix)
        return self.set_value(node, out, shape, chosen, batch, entry)

    def alias(self, out: str, name: str) -> None:
        if name in self.values:
            self.values[out] = self.values[name]
        elif name in self.static:
            self.static[out] = self.static[name]

    # ------------------------------------------------------------------ conforming inputs

    def in_layout(self, node: NodeProto | None, name: str, layout: Layout) -> tuple[str, Value]:
        """The entry giving activation ``name`` in ``layout`` (a free transpose if stored otherwise)."""
        value = self.values[name]
        if value.layout == layout:
            return value.entry, value
        if layout == "nchw" and not can_nchw(value.shape, value.batch):
            if value.batch is not None and len(value.shape) >= 3:  # the batch is not its first dim
                name = self.unbatched(node, name, "it reads the batch axis as data")
                return self.in_layout(node, name, layout)
            raise self.fail(node, f"its input {name!r} ({text(value.shape)}) is not an N×C×… tensor")
        converted = Value(value.shape, layout, value.batch, "")
        key = (name, converted.stored, layout)
        if key not in self.cache and len(converted.stored) != len(value.stored):  # a leading 1 dropped
            self.cache[key] = self.emit(
                node,
                "reshape",
                {"shape": dims_field(converted.stored)},
                [value.entry],
                converted.stored,
                name=f"{name}_to_{layout}",
            )
        if key not in self.cache:
            rank = len(value.shape)
            source_axes = axis_map(rank, value.layout, value.batch)
            target_axes = axis_map(rank, layout, value.batch)
            perm = [0] * len(converted.stored)
            for axis in range(rank):
                target = target_axes[axis]
                if target is not None:
                    source = source_axes[axis]
                    assert source is not None
                    perm[target] = source
            self.cache[key] = self.emit(
                node, "transpose", {"perm": perm}, [value.entry], converted.stored, name=f"{name}_to_{layout}"
            )
        converted.entry = self.cache[key]
        return converted.entry, converted

    def conform(self, node: NodeProto, name: str, target: Shape, layout: Layout) -> str:
        """The entry giving ``name`` (activation or static) as convcost shape ``target``."""
        if name not in self.values:
            from . import constants

            if constants.computed(self, name, target):
                if self.fold:
                    return constants.folded(self, node, name, target)
                constants.materialize(self, name)
        if name not in self.values:
            return self.parameter(node, name, target)
        value = self.values[name]
        if value.stored == target:
            return value.entry
        entry, converted = value.entry, value
        if value.layout != layout and (layout == "plain" or can_nchw(value.shape, value.batch)):
            entry, converted = self.in_layout(node, name, layout)
            if converted.stored == target:
                return entry
        if prod(converted.stored) != prod(target):
            self.lost(node, f"its input {name!r} ({text(value.shape)}) holds the batch elsewhere")
            raise self.fail(node, f"its input {name!r} ({text(value.shape)}) does not fit the others")
        key = (name, target, "reshape")
        if key not in self.cache:
            self.cache[key] = self.emit(
                node,
                "reshape",
                {"shape": dims_field(target)},
                [entry],
                target,
                name=f"{name}_as_{text(target)}",
            )
        return self.cache[key]

    def parameter(self, node: NodeProto, name: str, target: Shape) -> str:
        """A static tensor as a source entry: its learned elements counted the first time only.

        A learned tensor broadcast over the batch (a class token expanded to every sample) is its
        own shape, expanded: its params are its elements, not the copies'.
        """
        static = self.static[name]
        key = (name, target, "parameter")
        if key in self.cache:
            return self.cache[key]
        fresh, numel, small, exact = self.plan(name, target)
        self.counted |= fresh
        fields: Fields = {"shape": dims_field(target)}
        label_ = next(iter(static.sources)) if len(static.sources) == 1 else name
        if not fresh:
            fields["learned"] = False
        if small is not None:
            source = self.emit(node, "parameter", {"shape": dims_field(small)}, [], small, name=label_)
            self.cache[key] = self.emit(node, "expand", fields, [source], target, name=f"{label_}_expanded")
            return self.cache[key]
        if not exact:
            self.notes.append(
                f"{self.where(node)}: the learned tensor {name!r} ({numel} elements) is used as "
                f"{text(target)}; its params are counted as {prod(target)}"
            )
        self.cache[key] = self.emit(node, "parameter", fields, [], target, name=label_)
        return self.cache[key]

    def plan(self, name: str, target: Shape) -> Plan:
        """How the learned elements of static ``name`` are counted when it is read as ``target``."""
        fresh = self.static[name].sources - self.counted
        numel = sum(prod(self.static[s].shape or ()) for s in fresh)
        own = self.static[next(iter(fresh))].shape or () if len(fresh) == 1 else ()
        whole = self.n is None and self.samples > 1 and len(own) > 1 and own[0] == self.samples
        if whole:  # costed whole, a tensor of the model's batch size: copies of one sample's
            numel //= self.samples
        if not fresh or (not whole and numel in (prod(target), prod(target) * self.samples)):
            return Plan(fresh, numel, None, True)
        kept = tuple(d for d in own[1 if whole else 0 :] if d != 1)
        small = aligned(kept, len(target)) if len(kept) <= len(target) else None
        if (
            small is not None
            and prod(small) == numel
            and all(a in (1, b) for a, b in zip(small, target, strict=True))
        ):
            return Plan(fresh, numel, small, True)
        return Plan(fresh, numel, None, False)

    def unbatched(self, node: NodeProto | None, name: str, why: str, note: str | None = None) -> str:
        """``name`` with its batch axis (of one sample) kept as an ordinary dim: a name in ``values``."""
        value = self.values[name]
        if value.batch is None:
            return name
        self.lost(node, why, note)
        alias = f"{name}#whole"
        if alias not in self.values:
            whole = Value(value.shape, value.layout, None, value.entry)
            if whole.stored != value.stored:
                whole.entry = self.emit(
                    node,
                    "reshape",
                    {"shape": dims_field(whole.stored)},
                    [value.entry],
                    whole.stored,
                    name=f"{name}_whole",
                )
            self.values[alias] = whole
        return alias

    def merge_batch(self, node: NodeProto, names: Sequence[str], rank: int) -> int | None:
        """The batch axis of an element-wise result: where every batched input has it, aligned."""
        axes = set()
        for name in names:
            if name in self.values:
                value = self.values[name]
                if value.batch is not None:
                    axes.add(value.batch + rank - len(value.shape))
        if len(axes) > 1:
            self.lost(node, "its inputs hold the batch on different axes")
            return None
        return axes.pop() if axes else None

    def broadcast_inputs(
        self, node: NodeProto, names: Sequence[str], out: str
    ) -> tuple[list[str], int | None, Layout]:
        """Every input (activation or static) as convcost shapes that broadcast to the output's."""
        shape = self.shape_of(node, out)
        rank = len(shape)
        batch = self.merge_batch(node, names, rank)
        if batch is not None and any(
            name in self.values
            and self.values[name].batch is None
            and aligned(self.values[name].shape, rank)[batch] != 1
            for name in names
        ):
            self.lost(node, "an input without the batch axis is combined with one that has it")
            batch = None
        names, layout = self.joined(node, names, shape, batch, "an input holds the batch elsewhere")
        sources = []
        for name in names:
            full = aligned(self.dims(node, name), rank)
            if batch is not None and full[batch] not in (1, self.n):
                self.lost(node, f"its input {name!r} does not broadcast over the batch")
            sources.append(self.conform(node, name, stored_shape(full, layout, batch), layout))
        return sources, batch, layout

    def joined(
        self, node: NodeProto, names: Sequence[str], shape: Shape, batch: int | None, why: str
    ) -> tuple[list[str], Layout]:
        """The operands of a node that joins several (a broadcast, a concat) and the layout they meet
        in: without a common batch axis every activation is taken unbatched first (``why``); NCHW
        where any operand is NCHW and the output can be."""
        if batch is None:
            names = [self.unbatched(node, n, why) if n in self.values else n for n in names]
        nchw = any(n in self.values and self.values[n].layout == "nchw" for n in names)
        return list(names), "nchw" if nchw and can_nchw(shape, batch) else "plain"

    # ------------------------------------------------------------------ weights and axes

    def weight(self, node: NodeProto, name: str) -> Shape | None:
        """A static operand's dims, its learned elements counted (None: it is an activation)."""
        if not self.is_static(name):
            return None
        shape = self.static[name].shape
        if shape is None:
            raise self.fail(node, f"shape inference gives no shape for its weight {name!r}")
        self.counted |= self.static[name].sources
        return shape

    def read_again(self, name: str) -> bool:
        """Whether a static operand is made only of learned tensors counted before: a tied or shared
        weight read again (GPT-2's LM head reading the embedding table, ALBERT's one layer run at each
        depth). A layer reading it holds no params of its own: each initializer counts once."""
        sources = self.static[name].sources if self.is_static(name) else frozenset()
        return bool(sources) and sources <= self.counted

    def learned(self, name: str | None) -> bool:
        """Whether an optional operand is a learned tensor not counted before (it is counted now)."""
        if not name or name not in self.static:
            return False
        fresh = bool(self.static[name].sources - self.counted)  # a shared norm's scale counts once
        self.counted |= self.static[name].sources
        return fresh

    def axis(self, node: NodeProto, name: str, axis: int, why: str) -> tuple[Value, int]:
        """An ONNX axis of activation ``name`` as a convcost axis (unbatched if it is the batch axis)."""
        value = self.values[name]
        rank = len(value.shape)
        axis %= rank
        mapped = axis_map(rank, value.layout, value.batch)[axis]
        if mapped is None:
            value = self.values[self.unbatched(node, name, why)]
            mapped = axis_map(rank, value.layout, value.batch)[axis]
            if mapped is None:  # the dropped leading 1 of an N×C×… tensor
                entry, value = self.in_layout(node, name, "plain")
                value = Value(value.shape, "plain", None, entry)
                mapped = axis
        return value, mapped
