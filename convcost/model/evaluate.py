"""Costing a compiled graph: shapes in topological order, each node's cost, rows, totals.

A ``repeat`` costs its copies only until they stop changing: once a copy's output has
its input's shape (and receptive-field stride), every later copy costs the same, so the
rest is kept as one :class:`Run` and multiplied. Totals are sums over distinct rows times
their copies; the rows of every copy are made only when something iterates them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import NamedTuple

from ..core import limits, values
from ..core.conv import Conv, Counts, capped_prod, effective_macs, weighted_sum
from ..core.errors import ConvCostError
from ..core.forms import DEPTHWISE_SEPARABLE, REGULAR, Comparison, compare
from ..core.layout import channels_first_note
from ..core.limits import MAX_RESULT, MAX_RESULT_DIGITS
from . import receptive_field as rf_rules
from .graph import NETWORK_INPUT, SOURCE, Compiled, Graph, Node, compile_graph, join_module
from .kinds import BREAKDOWN, KINDS, BreakdownKind, BreakdownPart, Costed, MergeMismatch
from .receptive_field import ReceptiveField
from .spec_check import Problems, SpecErrors, check, line_of
from .whatif import DEFAULT_OPTIONS, Options, checked, rewrite


class Row(NamedTuple):
    """One costed layer of the network, in execution order."""

    name: str
    type: str
    path: str
    input_shape: tuple[int, ...]  # the first input's
    output_shape: tuple[int, ...]
    counts: Counts
    parts: tuple[BreakdownPart, ...]
    comparison: Comparison | None
    costed: Costed | None
    effective_macs: int  # MACs that touch real input (taps on zero padding left out)
    receptive_field: ReceptiveField | None  # None without spatial dims, or after a transposed conv
    input_shapes: tuple[tuple[int, ...], ...] = ()  # every input's, for merges
    module: str = ""  # the dotted PyTorch module path (shared by the calls of one module)


class Run(NamedTuple):
    """Copies ``first``..``last`` of a repeat, each like the copy just before ``first``.

    ``segments`` are that copy's rows, named under ``prefix``; copy k's rows are named under
    ``base`` + k, and their receptive fields move by ``delta`` per copy. Their modules are
    under ``module`` (that copy's module path); copy k's under ``module_template`` with its
    index, ``first_index`` + ``index_step`` · (k − 1), in place of ``{}``.
    """

    segments: tuple[Segment, ...]
    first: int
    last: int
    prefix: str
    base: str
    delta: ReceptiveField | None
    module: str = ""
    module_template: str = "{}"
    first_index: int = 0
    index_step: int = 1

    @property
    def copies(self) -> int:
        return self.last - self.first + 1


Segment = Row | Run


class State(NamedTuple):
    """What flows along an edge: the shape, and the receptive field so far."""

    shape: tuple[int, ...]
    rf: ReceptiveField | None


def _weighted(segments: Sequence[Segment], times: int = 1) -> Iterator[tuple[Row, int]]:
    """Each distinct row once, with how many times it occurs."""
    for segment in segments:
        if isinstance(segment, Run):
            yield from _weighted(segment.segments, times * segment.copies)
        else:
            yield segment, times


def _expand(segments: Sequence[Segment], adjust: Callable[[Row], Row]) -> Iterator[Row]:
    for segment in segments:
        if isinstance(segment, Run):
            yield from _expand_run(segment, adjust)
        else:
            yield adjust(segment)


def _expand_run(run: Run, adjust: Callable[[Row], Row]) -> Iterator[Row]:
    cut, was = len(run.prefix), run.module
    for copy in range(run.first, run.last + 1):
        prefix, steps = f"{run.base}{copy}.", copy - run.first + 1
        module = run.module_template.replace("{}", str(run.first_index + run.index_step * (copy - 1)))

        def moved(row: Row, prefix: str = prefix, steps: int = steps, module: str = module) -> Row:
            rf = row.receptive_field
            if rf is not None and run.delta is not None:
                rf = rf.shifted(steps, run.delta)
            # A copy's rows are all inside its module (a module path never climbs out).
            return adjust(
                row._replace(
                    name=prefix + row.name[cut:], receptive_field=rf, module=module + row.module[len(was) :]
                )
            )

        yield from _expand(run.segments, moved)


def _same(row: Row) -> Row:
    return row


def row_forms(row: Row) -> tuple[Counts, Counts]:
    """The row's counts with every spatial conv regular, and with every one depthwise-separable
    (a 1×1 conv, a pool, a linear layer or a merge is the same in both)."""
    c = row.comparison
    if c is None or all(k == 1 for k in c.layer.kernel):
        return row.counts, row.counts
    separable = (
        row.counts if row.type in ("separable", "depthwise") else c.variants[DEPTHWISE_SEPARABLE].counts
    )
    return c.variants[REGULAR].counts, separable


@dataclass
class Network:
    """A costed network: its rows (made on demand), totals, and whole-network what-ifs."""

    segments: tuple[Segment, ...]
    input_shape: tuple[int, ...] | None
    output_shape: tuple[int, ...] | None
    options: Options
    outputs: tuple[tuple[str, tuple[int, ...]], ...] = ()
    #: What the reader should know about how the network was read (an input that looks
    #: written channels-first), for the result's ``notes``.
    notes: tuple[str, ...] = ()
    _rows: tuple[Row, ...] | None = field(default=None, repr=False)
    #: The graph the rows were costed from: which row reads which (peak memory needs it).
    graph: Compiled | None = field(default=None, repr=False, compare=False)

    @property
    def rows(self) -> tuple[Row, ...]:
        """Every row, repeats expanded (made once, on first use)."""
        if self._rows is None:
            self._rows = tuple(self.iter_rows())
        return self._rows

    def iter_rows(self) -> Iterator[Row]:
        return _expand(self.segments, _same)

    def weighted_rows(self) -> Iterator[tuple[Row, int]]:
        """Each distinct row once, with its number of copies: what totals are summed from."""
        return _weighted(self.segments)

    @property
    def row_count(self) -> int:
        return sum(times for _, times in self.weighted_rows())

    @property
    def totals(self) -> Counts:
        return weighted_sum((row.counts, times) for row, times in self.weighted_rows())

    def variant_totals(self) -> dict[str, Counts]:
        """Totals as written, with every spatial conv regular, and with every one depthwise-separable.

        Rewrites keep each layer's output shape, so each total is the sum of the
        rows' own variants; 1×1 convs, pools, linear layers and merges are unchanged.
        """
        written: list[tuple[Counts, int]] = []
        regular: list[tuple[Counts, int]] = []
        separable: list[tuple[Counts, int]] = []
        for row, times in self.weighted_rows():
            as_regular, as_separable = row_forms(row)
            written.append((row.counts, times))
            regular.append((as_regular, times))
            separable.append((as_separable, times))
        return {
            "as_written": weighted_sum(written),
            REGULAR: weighted_sum(regular),
            DEPTHWISE_SEPARABLE: weighted_sum(separable),
        }

    def breakdown(self) -> dict[BreakdownKind, Counts]:
        """MACs and params by kind of layer, as MobileNet's Table 2."""
        kinds: dict[BreakdownKind, list[tuple[Counts, int]]] = {kind: [] for kind in BREAKDOWN}
        for row, times in self.weighted_rows():
            for part in row.parts:
                kinds[part.kind].append((part.counts, times))
        return {kind: weighted_sum(items) for kind, items in kinds.items()}


class _Evaluator:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.env: dict[int, State | None] = {}
        self.errors: list[ConvCostError] = Problems()
        self.told_no_input = False
        self.costed = 0  # layers costed one by one, held to limits.MAX_COSTED_LAYERS
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
        line = line_of(node.fields, exc.field.split(".")[0]) or node.line
        self.errors.append(exc.within(node.path, line=line))

    def graph(self, graph: Graph, prefix: str, out: list[Segment], module: str = "") -> None:
        for node in graph.nodes:
            if node.kind == SOURCE:
                self.source(node)
            elif node.body is not None:
                self.repeat(node, prefix, out, module)
            else:
                self.layer(node, prefix, out, module)

    def source(self, node: Node) -> None:
        try:
            shape = values.shape(node.fields["in"], "in")
        except ConvCostError as exc:
            self.fail(exc, node)
            self.env[node.key] = None
            return
        self.env[node.key] = State(shape, rf_rules.fresh(shape))

    def inputs(self, node: Node) -> list[State] | None:
        """The node's input states, or None when an earlier error (or no input) lost one."""
        states = []
        for key in node.inputs:
            state = self.env.get(key)
            if state is None:
                if key == NETWORK_INPUT and NETWORK_INPUT not in self.env and not self.told_no_input:
                    self.told_no_input = True
                    self.errors.append(
                        ConvCostError(
                            node.path,
                            "has no input: give it 'in', or give the spec an 'input'",
                            line=node.line,
                        )
                    )
                return None
            states.append(state)
        return states

    def layer(self, node: Node, prefix: str, out: list[Segment], module: str) -> None:
        states = self.inputs(node)
        self.env[node.key] = None
        if states is None:
            return
        self.costed += 1
        if self.costed > limits.MAX_COSTED_LAYERS:
            raise SpecErrors(
                [
                    *self.errors,
                    ConvCostError(
                        node.path,
                        f"the network needs more than {limits.MAX_COSTED_LAYERS:,} layers costed one by one "
                        "here (a repeat whose copies never settle into one shape?); at most "
                        f"{limits.MAX_COSTED_LAYERS:,} are allowed (--max-layers raises the budget)",
                        line=node.line,
                    ),
                ]
            )
        shapes = tuple(state.shape for state in states)
        first: tuple[int, ...] = shapes[0] if shapes else ()  # a parameter reads nothing
        try:
            kind, fields = rewrite(node.kind, node.fields, first, self.options)
            handler = KINDS[kind].handler
            assert handler is not None
            costed = handler(fields, shapes)
            _within_limits(costed, node, prefix)
            comparison = self.compare(costed.reference) if costed.reference is not None else None
        except MergeMismatch as exc:
            a, b = exc.first, exc.other
            title = node.title or f"{node.kind} {prefix + node.name!r}"
            self.errors.append(
                ConvCostError(
                    node.path,
                    f"{title}: {node.labels[a]} gives {values.format_dims(shapes[a])} "
                    f"but {node.labels[b]} gives {values.format_dims(shapes[b])}; {exc.need}",
                    line=node.line,
                )
            )
            return
        except ConvCostError as exc:
            self.fail(exc, node)
            return
        rf = KINDS[kind].receptive_field([state.rf for state in states], fields, costed)
        if rf is not None and not _field_within_limits(rf):
            self.fail(ConvCostError("", _TOO_LARGE.format(what="receptive field")), node)
            return
        effective = sum(self.effective(c) for c in costed.convs) if costed.convs else costed.counts.macs
        out.append(
            Row(
                prefix + node.name,
                kind,
                node.path,
                first,
                costed.output_shape,
                costed.counts,
                costed.parts,
                comparison,
                costed,
                effective,
                rf,
                shapes,
                join_module(module, node.module),
            )
        )
        self.env[node.key] = State(costed.output_shape, rf)

    def repeat(self, node: Node, prefix: str, out: list[Segment], module: str) -> None:
        body = node.body
        assert body is not None
        states = self.inputs(node)
        self.env[node.key] = None
        if states is None:
            return
        state = states[0]
        base = f"{prefix}{node.name}."
        # Modules number their copies as nn.Sequential does, from 0 unless the spec says where
        # (first_index) and how far apart (index_step); the number goes where the module has
        # {} (denselayer{}), else after it. A single copy gets no number unless one is asked
        # for (a repeat of one is a group, as torchvision's layer1 holding its blocks).
        whole = join_module(module, node.module)
        template = whole if "{}" in node.module else join_module(whole, "{}")
        first_index = 0 if node.first_index is None else node.first_index
        numbered = node.times > 1 or node.first_index is not None or "{}" in node.module
        for copy in range(1, node.times + 1):
            copy_prefix = f"{base}{copy}." if node.times > 1 else base
            index = first_index + node.index_step * (copy - 1)
            copy_module = template.replace("{}", str(index)) if numbered else whole
            self.env[body.input] = state
            rows: list[Segment] = []
            self.graph(body, copy_prefix, rows, copy_module)
            out.extend(rows)
            result = self.env.get(body.output)
            if result is None:
                return
            if copy < node.times and body.closed and _steady(state, result):
                # Every later copy sees this copy's input shape: it costs the same.
                delta = result.rf.minus(state.rf) if result.rf is not None and state.rf is not None else None
                run = Run(
                    tuple(rows),
                    copy + 1,
                    node.times,
                    copy_prefix,
                    base,
                    delta,
                    copy_module,
                    template,
                    first_index,
                    node.index_step,
                )
                if rows:  # copies of nothing (an empty body) list nothing, however many there are
                    out.append(run)
                rf = result.rf.shifted(run.copies, delta) if result.rf is not None and delta else result.rf
                state = State(result.shape, rf)
                break
            state = result
        self.env[node.key] = state


_TOO_LARGE = (
    f"its {{what}} would pass 10^{MAX_RESULT_DIGITS}; no result may have more than "
    f"{MAX_RESULT_DIGITS} digits (a chain that grows without end?)"
)


def _within_limits(costed: Costed, node: Node, prefix: str) -> None:
    """Refuse a layer whose output has a size no one could write (a dim past 30 digits), or whose
    output or counts pass :data:`~convcost.core.limits.MAX_RESULT` (a repeated concat, upsample
    or linear layer can grow them copy by copy)."""
    shape = costed.output_shape
    if len(shape) > limits.MAX_DIMS or max(shape, default=0) > limits.MAX_INT:
        values.check_derived(shape, f"{node.title or f'{node.kind} {prefix + node.name!r}'}: its output")
    c = costed.counts
    if capped_prod(costed.output_shape) > MAX_RESULT:
        raise ConvCostError("", _TOO_LARGE.format(what="output"))
    if max(c.macs, c.params, c.adds, c.other_ops) > MAX_RESULT:
        raise ConvCostError("", _TOO_LARGE.format(what="counts"))


def _field_within_limits(rf: ReceptiveField) -> bool:
    return max(map(abs, chain.from_iterable(rf)), default=0) <= MAX_RESULT  # C loops: once a layer


def _steady(before: State, after: State) -> bool:
    if before.shape != after.shape or (before.rf is None) != (after.rf is None):
        return False
    return before.rf is None or after.rf is None or before.rf.stride == after.rf.stride


class InputRankError(ConvCostError):
    """An ``--in`` (``input_shape``) of another rank than the spec's input: the option's error."""


def _same_rank(given: tuple[int, ...] | None, written: tuple[int, ...] | None) -> None:
    """A new input for a spec that writes one keeps its rank: 3x224x224x1 for a 224x224x3
    network would make every 2-D conv a 3-D one, a different network, not a new input size."""
    if given is None or written is None or len(given) == len(written):
        return
    shown, spec = "x".join(map(str, given)), "x".join(map(str, written))
    dims = len(written) - 1
    raise InputRankError(
        "in",
        f"{shown} has {len(given) - 1} spatial dim{'s' if len(given) != 2 else ''}, but the spec's "
        f"input {spec} has {dims}; give {dims} and the channels, as {spec} does",
    )


def cost(compiled: Compiled, options: Options = DEFAULT_OPTIONS) -> Network:
    """Cost a compiled graph. Raises :class:`SpecErrors` listing every problem found."""
    options = checked(options)
    _same_rank(options.input_shape, compiled.input_shape)
    evaluator = _Evaluator(options)
    shape = options.input_shape or compiled.input_shape
    if shape is not None:
        evaluator.env[NETWORK_INPUT] = State(shape, rf_rules.fresh(shape))
    segments: list[Segment] = []
    evaluator.graph(compiled.graph, "", segments)
    if evaluator.errors:
        raise SpecErrors(evaluator.errors)
    outputs = []
    for name, key in compiled.outputs:
        state = evaluator.env.get(key)
        if state is not None:
            outputs.append((name, state.shape))
    first_input = shape
    if first_input is None:  # a what-if list: its first layer's own 'in'
        first_input = next((row.input_shape for row, _ in _weighted(segments)), None)
    habit = None
    if shape is not None:  # 3x224x224: PyTorch's order, read as H×W×C
        habit = channels_first_note(shape, "--in" if options.input_shape else "input:")
    network = Network(
        tuple(segments),
        first_input,
        outputs[-1][1] if outputs else None,
        options,
        tuple(outputs),
        (habit,) if habit else (),
    )
    network.graph = compiled
    return network


def evaluate(document: object, options: Options = DEFAULT_OPTIONS) -> Network:
    """Check, compile and cost a spec document (mappings and lists, as loaded from YAML or JSON).

    Raises :class:`SpecErrors` listing every problem found.
    """
    options = checked(options)
    entries = check(document)
    assert isinstance(document, Mapping)
    return cost(compile_graph(document, entries), options)
