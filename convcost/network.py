"""A network described as plain data (the spec format), checked and costed layer by layer.

The data is what a spec file holds — mappings, lists, ints and strings — so this
module needs no YAML: the spec reader hands it the loaded document, with line
numbers attached when it has them (``lines`` on mappings and lists). Errors name
the path in the spec (``layers[5].body[1].out``) and, where known, the line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from fractions import Fraction
from math import prod
from typing import NamedTuple

from . import values
from .conv import ZERO, Conv, Counts, effective_macs
from .errors import ConvCostError, show_value
from .layers import (
    BLOCK_FIELDS,
    COMMON_FIELDS,
    HANDLERS,
    LAYER_FIELDS,
    TYPE_NAMES,
    Costed,
    Part,
    scale_channels,
)
from .memory import Traffic, conv_traffic, traffic
from .settings import Settings
from .variants import DEPTHWISE_SEPARABLE, REGULAR, Comparison, compare

#: Upper bounds that keep hostile specs from running long: expanded layers and block depth.
MAX_LAYERS = 200_000
MAX_DEPTH = 32
TOP_LEVEL_KEYS = ("input", "layers", "name", "description")
AS_FORMS = ("regular", "separable")


class SpecErrors(Exception):
    """Every problem found in a spec, each a :class:`ConvCostError` with its path and line."""

    def __init__(self, errors: Sequence[ConvCostError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class Options(NamedTuple):
    """What-if rewrites applied to every layer before costing."""

    as_form: str | None = None  # None | "regular" | "separable"
    width_mult: Fraction | None = None
    input_shape: tuple[int, ...] | None = None


DEFAULT_OPTIONS = Options()


class Node(NamedTuple):
    """One checked spec entry: a layer, or a block with children."""

    type: str
    name: str
    path: str
    line: int | None
    fields: Mapping[str, object]
    children: tuple[tuple[Node, ...], ...] = ()  # repeat: (layers,); residual: (body, shortcut); branches


class Row(NamedTuple):
    """One costed layer of the flattened network, in execution order."""

    name: str
    type: str
    path: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    counts: Counts
    parts: tuple[Part, ...]
    comparison: Comparison | None
    costed: Costed | None
    effective_macs: int  # MACs that touch real input (taps on zero padding left out)
    receptive_field: Field | None  # None without spatial dims, or after a transposed conv


class Network(NamedTuple):
    """A costed network: its rows, totals, and whole-network what-ifs."""

    rows: tuple[Row, ...]
    input_shape: tuple[int, ...] | None
    output_shape: tuple[int, ...] | None
    options: Options

    @property
    def totals(self) -> Counts:
        total = ZERO
        for row in self.rows:
            total = total.plus(row.counts)
        return total

    def variant_totals(self) -> dict[str, Counts]:
        """Totals as written, with every spatial conv regular, and with every one depthwise-separable.

        Rewrites keep each layer's output shape, so each total is the sum of the
        rows' own variants; 1×1 convs, pools, linear layers and joins are unchanged.
        """
        written, regular, separable = ZERO, ZERO, ZERO
        for row in self.rows:
            written = written.plus(row.counts)
            c = row.comparison
            if c is None or all(k == 1 for k in c.layer.kernel):
                regular, separable = regular.plus(row.counts), separable.plus(row.counts)
                continue
            regular = regular.plus(c.variants[REGULAR].counts)
            separable = separable.plus(
                row.counts
                if row.type in ("separable", "depthwise")
                else c.variants[DEPTHWISE_SEPARABLE].counts
            )
        return {"as_written": written, REGULAR: regular, DEPTHWISE_SEPARABLE: separable}

    def breakdown(self) -> dict[str, Counts]:
        """MACs and params by kind of layer, as MobileNet's Table 2."""
        kinds = {kind: ZERO for kind in ("conv", "grouped", "depthwise", "pointwise", "linear", "other")}
        for row in self.rows:
            for part in row.parts:
                kinds[part.kind] = kinds[part.kind].plus(part.counts)
        return kinds


def parse_width(value: object) -> Fraction:
    """A width multiplier such as 0.75 or 3/4, kept exact."""
    try:
        alpha = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        alpha = Fraction(0)
    if alpha <= 0:
        raise ConvCostError(
            "width_mult", f"{show_value(value)} is not allowed; expected a positive number like 0.75"
        )
    return alpha


# ---------------------------------------------------------------- checking the document


def _line_of(container: object, key: object) -> int | None:
    lines = getattr(container, "lines", None)
    if isinstance(lines, dict):
        found = lines.get(key)
        return found if isinstance(found, int) else None
    return None


def _own_line(container: object) -> int | None:
    line = getattr(container, "line", None)
    return line if isinstance(line, int) else None


class _Checker:
    """Turns the loaded document into Nodes, collecting every problem it can see."""

    def __init__(self) -> None:
        self.errors: list[ConvCostError] = []
        self.expanded: dict[int, int] = {}
        self.active: set[int] = set()
        self.parsed: dict[int, tuple[Node, ...]] = {}

    def error(self, path: str, problem: str, line: int | None) -> None:
        self.errors.append(ConvCostError(path, problem, line=line))

    def layer_list(self, items: object, path: str, line: int | None, depth: int) -> tuple[Node, ...]:
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
            node = self.entry(item, f"{path}[{index}]", _line_of(items, index) or line, depth, index)
            if node is not None:
                nodes.append(node)
        self.active.discard(id(items))
        self._check_unique_names(nodes)
        self.parsed[id(items)] = tuple(nodes)
        return self.parsed[id(items)]

    def _check_unique_names(self, nodes: list[Node]) -> None:
        seen: dict[str, str] = {}
        for node in nodes:
            if node.name in seen:
                self.error(
                    f"{node.path}.name", f"{node.name!r} is already used by {seen[node.name]}", node.line
                )
            seen.setdefault(node.name, node.path)

    def entry(self, item: object, path: str, line: int | None, depth: int, index: int) -> Node | None:
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
        kind = item.get("type", "conv")
        if not isinstance(kind, str) or kind not in TYPE_NAMES:
            self.error(
                f"{path}.type",
                f"{show_value(kind)} is not a type{_did_you_mean(kind, TYPE_NAMES)}; "
                f"expected one of {', '.join(TYPE_NAMES)}",
                _line_of(item, "type") or line,
            )
            return None
        fields = LAYER_FIELDS.get(kind) or BLOCK_FIELDS[kind]
        allowed = {**COMMON_FIELDS, **fields}
        ok = True
        for key in item:
            if key not in allowed:
                ok = False
                self.error(
                    f"{path}.{key}",
                    f"unknown key for a {kind}{_did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}",
                    _line_of(item, key) or line,
                )
        for key, spec in fields.items():
            if spec.required and key not in item:
                ok = False
                self.error(path, f"a {kind} needs {key!r}", line)
        name = item.get("name", f"{kind}{index + 1}")
        if not isinstance(name, str) or not name or "." in name:
            self.error(f"{path}.name", f"{show_value(name)} is not allowed; expected text without dots", line)
            ok = False
        for key, spec in fields.items():
            if spec.kind == "choice" and key in item and item[key] not in spec.choices:
                ok = False
                self.error(
                    f"{path}.{key}",
                    f"{show_value(item[key])} is not allowed; expected one of {', '.join(spec.choices)}",
                    _line_of(item, key) or line,
                )
        if not ok:
            return None
        children = self.block_children(kind, item, path, line, depth)
        return Node(kind, str(name), path, line, item, children)

    def block_children(
        self, kind: str, item: Mapping[str, object], path: str, line: int | None, depth: int
    ) -> tuple[tuple[Node, ...], ...]:
        def sub(key: str, value: object) -> tuple[Node, ...]:
            return self.layer_list(value, f"{path}.{key}", _line_of(item, key) or line, depth + 1)

        if kind == "repeat":
            return (sub("layers", item["layers"]),)
        if kind == "residual":
            return (sub("body", item["body"]), sub("shortcut", item.get("shortcut", [])))
        if kind == "branches":
            paths = item["branches"]
            if not isinstance(paths, list) or not paths:
                self.error(
                    f"{path}.branches", "expected a non-empty list of layer lists", _line_of(item, "branches")
                )
                return ()
            return tuple(
                self.layer_list(branch, f"{path}.branches[{i}]", _line_of(paths, i) or line, depth + 1)
                for i, branch in enumerate(paths)
            )
        return ()

    def count(self, nodes: tuple[Node, ...]) -> int:
        """Layers after expansion, memoised so shared (aliased) lists are counted cheaply."""
        total = 0
        for node in nodes:
            total += self.count_node(node)
            if total > MAX_LAYERS:
                return total
        return total

    def count_node(self, node: Node) -> int:
        key = id(node.fields)
        if key in self.expanded:
            return self.expanded[key]
        if node.type == "repeat":
            times = node.fields["times"]
            try:
                n = values.positive_int(times, "times")
            except ConvCostError as exc:
                raise exc.within(node.path, line=_line_of(node.fields, "times") or node.line) from None
            inner = self.count(node.children[0])
            size = n * inner if inner else 0
            if size > MAX_LAYERS:
                raise ConvCostError(
                    f"{node.path}.times",
                    f"{n} copies of {inner} layers would make {size:,} layers; "
                    f"at most {MAX_LAYERS:,} are allowed",
                    line=_line_of(node.fields, "times") or node.line,
                )
        elif node.children:
            size = sum(self.count(child) for child in node.children) + 1
        else:
            size = 1
        self.expanded[key] = size
        return size


def _did_you_mean(word: object, choices: Sequence[str] | Mapping[str, object]) -> str:
    if not isinstance(word, str):
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


def check(document: object) -> tuple[tuple[Node, ...], object]:
    """Check a loaded spec's structure; return its top-level nodes and its ``input``."""
    checker = _Checker()
    if not isinstance(document, Mapping):
        what = "empty" if document is None else f"{_kind_of(document)}, not a mapping"
        raise SpecErrors([ConvCostError("spec", f"is {what}; expected a mapping with a 'layers' list")])
    for key in document:
        if key not in TOP_LEVEL_KEYS:
            checker.error(
                str(key),
                f"unknown top-level key{_did_you_mean(key, TOP_LEVEL_KEYS)}; "
                f"allowed: {', '.join(TOP_LEVEL_KEYS)}",
                _line_of(document, key),
            )
    if "layers" not in document:
        checker.error("layers", "is missing; a spec needs a 'layers' list", _own_line(document))
        raise SpecErrors(checker.errors)
    nodes = checker.layer_list(document["layers"], "layers", _line_of(document, "layers"), 0)
    if not checker.errors:
        try:
            total = checker.count(nodes)
        except ConvCostError as exc:
            raise SpecErrors([exc]) from None
        if total > MAX_LAYERS:
            raise SpecErrors(
                [
                    ConvCostError(
                        "layers",
                        f"expands to more than {MAX_LAYERS:,} layers",
                        line=_line_of(document, "layers"),
                    )
                ]
            )
    if checker.errors:
        raise SpecErrors(checker.errors)
    return nodes, document.get("input")


# ---------------------------------------------------------------- receptive fields


class Field(NamedTuple):
    """A receptive field per spatial dim (Araujo et al., Distill 2019).

    ``size``: input positions one output element sees; ``stride``: input positions between
    neighbouring outputs (the effective stride); ``start``: the input coordinate of the
    first output's field (minus the effective padding).
    """

    size: tuple[int, ...]
    stride: tuple[int, ...]
    start: tuple[int, ...]


class State(NamedTuple):
    """What flows from layer to layer: the shape, and the receptive field so far."""

    shape: tuple[int, ...]
    rf: Field | None


def _fresh(shape: tuple[int, ...]) -> State:
    n = len(shape) - 1
    return State(shape, Field((1,) * n, (1,) * n, (0,) * n) if n > 0 else None)


def receptive_field(rf: Field | None, costed: Costed) -> Field | None:
    """The standard recurrence through each conv or pooling window of a layer.

    r += (dilation·(k−1))·j; start −= pad_before·j; j ·= stride. A linear layer flattens
    (no spatial dims left); a transposed conv's field is not tracked.
    """
    if rf is None or len(costed.output_shape) < 2:
        return None
    size, jump, start = list(rf.size), list(rf.stride), list(rf.start)
    for window in costed.geometry:
        if window.transposed:
            return None
        for axis in range(len(size)):
            span = window.dilation[axis] * (window.kernel[axis] - 1)
            size[axis] += span * jump[axis]
            start[axis] -= window.padding[axis][0] * jump[axis]
            jump[axis] *= window.stride[axis]
    return Field(tuple(size), tuple(jump), tuple(start))


def merge_fields(fields: Sequence[Field | None]) -> Field | None:
    """Paths joined by add or concat: the largest field over the paths."""
    known = [f for f in fields if f is not None]
    if len(known) != len(fields) or not known:
        return None
    return Field(
        tuple(max(sizes) for sizes in zip(*(f.size for f in known), strict=True)),
        tuple(max(strides) for strides in zip(*(f.stride for f in known), strict=True)),
        tuple(min(starts) for starts in zip(*(f.start for f in known), strict=True)),
    )


def row_traffic(row: Row, settings: Settings) -> Traffic:
    """Minimum memory traffic of one row run on its own (see :mod:`convcost.memory`)."""
    if row.costed is not None and row.costed.convs:
        return conv_traffic(row.costed.convs, settings)
    inputs, outputs = prod(row.input_shape), prod(row.output_shape)
    if row.type == "add":  # reads both paths' outputs, writes one
        return traffic(0, 2 * outputs, 0, outputs, settings)
    if row.type == "concat":  # reads every path, writes the joined tensor
        return traffic(0, outputs, 0, outputs, settings)
    return traffic(row.counts.flops, inputs, row.counts.params, outputs, settings)


# ---------------------------------------------------------------- costing


class _Walker:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.rows: list[Row] = []
        self.errors: list[ConvCostError] = []
        # Networks repeat layers (blocks, stages): cost each distinct conv once.
        self.comparisons: dict[Conv, Comparison] = {}
        self.effective_counts: dict[Conv, int] = {}

    def compare(self, layer: Conv) -> Comparison:
        found = self.comparisons.get(layer)
        if found is None:
            found = self.comparisons[layer] = compare(layer)
        return found

    def effective(self, layer: Conv) -> int:
        found = self.effective_counts.get(layer)
        if found is None:
            found = self.effective_counts[layer] = effective_macs(layer)
        return found

    def fail(self, exc: ConvCostError, node: Node) -> None:
        line = _line_of(node.fields, exc.field.split(".")[0]) or node.line
        self.errors.append(exc.within(node.path, line=line))

    def walk(self, nodes: tuple[Node, ...], state: State | None, prefix: str) -> State | None:
        for node in nodes:
            if "in" in node.fields:
                try:
                    state = _fresh(values.shape(node.fields["in"], "in"))
                except ConvCostError as exc:
                    self.fail(exc, node)
                    state = None
                    continue
            elif state is None:
                if not self.rows and not self.errors:
                    self.errors.append(
                        ConvCostError(
                            node.path,
                            "has no input: give it 'in', or give the spec an 'input'",
                            line=node.line,
                        )
                    )
                continue  # the shape was lost to an earlier error; later layers with 'in' still get checked
            state = self.node(node, state, prefix)
        return state

    def node(self, node: Node, state: State, prefix: str) -> State | None:
        name = f"{prefix}{node.name}"
        if node.type == "repeat":
            times = values.positive_int(node.fields["times"], "times")
            current: State | None = state
            for copy in range(1, times + 1):
                # A single copy is a plain group: its rows need no copy number.
                inner = f"{name}.{copy}." if times > 1 else f"{name}."
                current = self.walk(node.children[0], current, inner)
                if current is None:
                    return None
            return current
        if node.type == "residual":
            body = self.walk(node.children[0], state, f"{name}.")
            shortcut = self.walk(node.children[1], state, f"{name}.shortcut.")
            return self.join(node, name, "add", state, [body, shortcut], ["body", "shortcut"])
        if node.type == "branches":
            outs = [self.walk(branch, state, f"{name}.{i}.") for i, branch in enumerate(node.children)]
            labels = [f"branches[{i}]" for i in range(len(outs))]
            join = str(node.fields.get("join", "concat"))
            return self.join(node, name, join, state, outs, labels)
        return self.layer(node, state, name)

    def layer(self, node: Node, state: State, name: str) -> State | None:
        shape = state.shape
        try:
            kind, fields = self.rewrite(node, shape)
            costed = HANDLERS[kind](fields, shape)
            comparison = self.compare(costed.reference) if costed.reference is not None else None
        except ConvCostError as exc:
            self.fail(exc, node)
            return None
        rf = receptive_field(state.rf, costed)
        effective = sum(self.effective(c) for c in costed.convs) if costed.convs else costed.counts.macs
        self.rows.append(
            Row(
                name,
                kind,
                node.path,
                shape,
                costed.output_shape,
                costed.counts,
                costed.parts,
                comparison,
                costed,
                effective,
                rf,
            )
        )
        return State(costed.output_shape, rf)

    def rewrite(self, node: Node, shape: tuple[int, ...]) -> tuple[str, Mapping[str, object]]:
        """Apply --width-mult and --as to one layer's fields."""
        kind, fields = node.type, dict(node.fields)
        alpha = self.options.width_mult
        if alpha is not None and kind in ("conv", "separable") and "out" in fields:
            with contextlib.suppress(ConvCostError):  # the handler reports a bad value with its path
                fields["out"] = scale_channels(fields["out"], alpha)
        if alpha is not None and kind == "depthwise":
            fields.pop("out", None)  # it follows the (scaled) input channels
        form = self.options.as_form
        if form is None or kind not in ("conv", "separable", "depthwise"):
            return kind, fields
        if not _has_spatial_kernel(fields.get("kernel")):
            return kind, fields
        if form == "regular" and (kind != "conv" or fields.get("groups", 1) != 1):
            if kind == "depthwise":
                fields["out"] = shape[-1] * values.positive_int(fields.get("multiplier", 1), "multiplier")
            fields.pop("multiplier", None)
            return "conv", {**fields, "groups": 1}
        if form == "separable" and kind == "conv":
            fields.pop("groups", None)
            return "separable", fields
        return kind, fields

    def join(
        self,
        node: Node,
        name: str,
        how: str,
        state: State,
        outs: list[State | None],
        labels: list[str],
    ) -> State | None:
        if any(out is None for out in outs):
            return None
        states = [out for out in outs if out is not None]
        shapes = [out.shape for out in states]
        # add needs equal shapes; concat needs equal spatial sizes and sums the channels
        keep = slice(None) if how == "add" else slice(None, -1)
        for label, out in zip(labels[1:], shapes[1:], strict=True):
            if out[keep] != shapes[0][keep]:
                need = "they must match to be added" if how == "add" else "concat needs the same spatial size"
                self.errors.append(
                    ConvCostError(
                        node.path,
                        f"{node.type} {node.name!r}: {labels[0]} gives {values.format_dims(shapes[0])} "
                        f"but {label} gives {values.format_dims(out)}; {need}",
                        line=node.line,
                    )
                )
                return None
        result = shapes[0] if how == "add" else shapes[0][:-1] + (sum(out[-1] for out in shapes),)
        rf = merge_fields([out.rf for out in states])
        self.rows.append(
            Row(f"{name}.{how}", how, node.path, state.shape, result, ZERO, (), None, None, 0, rf)
        )
        return State(result, rf)


def _has_spatial_kernel(kernel: object) -> bool:
    try:
        return any(k > 1 for k in values.dims(kernel, "kernel"))
    except ConvCostError:
        return True  # let the handler report it


def evaluate(document: object, options: Options = DEFAULT_OPTIONS) -> Network:
    """Check and cost a spec document (mappings and lists, as loaded from YAML or JSON).

    Raises :class:`SpecErrors` listing every problem found.
    """
    nodes, raw_input = check(document)
    walker = _Walker(options)
    shape: tuple[int, ...] | None = None
    if options.input_shape is not None:
        shape = options.input_shape
    elif raw_input is not None:
        try:
            shape = values.shape(raw_input, "input")
        except ConvCostError as exc:
            raise SpecErrors(
                [ConvCostError("input", exc.problem, line=_line_of(document, "input"))]
            ) from None
    first_input = shape
    output = walker.walk(nodes, _fresh(shape) if shape is not None else None, "")
    if walker.errors:
        raise SpecErrors(walker.errors)
    if first_input is None and walker.rows:
        first_input = walker.rows[0].input_shape  # a what-if list: its first layer's own 'in'
    return Network(tuple(walker.rows), first_input, output.shape if output else None, options)
