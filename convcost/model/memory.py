"""Peak activation memory: the tensors live at each step of a schedule, and the most at once.

The rule (the README's "Peak memory" section, and JSON ``conventions``):

- **Buffers** are the graph's inputs and the outputs of layers that depend on an input.
  Weights, and layers computed from weights alone (a ``parameter`` and what is made of it),
  hold no activation.
- **Views** (``reshape``: flatten, squeeze and unsqueeze become one; identity and dropout are
  dropped on import) alias their input: no new buffer.
- **In place**: batch norm and element-wise activations overwrite their input when nothing
  else reads it (nor any view it was read through) and it is not a graph input or output.
  Everything else, add, mul and concat included, writes a new buffer.
- **Liveness**: a buffer lives from its producer's step (graph inputs from the first step) to
  the last step that reads it or a view of it; graph outputs live to the end.
- **Size** = elements × the element size of the dtype, times the batch.
- **Schedule**: the graph's own order (an ONNX file's node order); the peak is the most live
  bytes at any step.
- ``inplace_depthwise`` (TinyEngine): a depthwise conv whose input has no other reader
  overwrites it; its step holds the larger of input and output plus one output channel.

An in-place step is modelled as a new buffer whose step gives back its input's bytes
(``delta``), so one accounting (:func:`simulate`) serves every order. Sizes are counted in
elements of one sample and scaled at the end; the work is linear in the layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import NamedTuple

from ..core import limits
from ..core.dtypes import DType
from ..core.errors import ConvCostError
from .evaluate import Network, Row
from .graph import NETWORK_INPUT, SOURCE, Graph, Node

#: Element-wise activations that may run in place (the issue's list, with common other names).
INPLACE_FUNCTIONS = frozenset(
    {
        "relu", "relu6", "clip", "sigmoid", "hardswish", "hardsigmoid", "tanh", "leakyrelu", "elu",
        "selu", "softplus", "prelu", "gelu", "silu", "swish", "mish", "hardtanh", "celu",
    }
)  # fmt: skip
#: Kinds that alias their input.
VIEWS = frozenset({"reshape"})

#: How a step treats its input, as :attr:`Plan.how` says it.
NEW, VIEW, IN_PLACE, IN_PLACE_DEPTHWISE, STATIC = "new", "view", "in place", "in place (depthwise)", "static"


class Plan(NamedTuple):
    """A network's steps (its rows, in graph order) and the buffers they write and read.

    Counts are elements of one sample. ``delta`` is what a step needs beyond the live
    buffers and its own output (negative when it overwrites its input).
    """

    rows: tuple[Row, ...]
    how: tuple[str, ...]  # NEW, VIEW, IN_PLACE, IN_PLACE_DEPTHWISE or STATIC, per step
    out: tuple[int, ...]  # elements of the buffer each step writes (0: none)
    delta: tuple[int, ...]
    reads: tuple[tuple[int, ...], ...]  # buffers each step reads (directly or through views)
    writes: tuple[int, ...]  # the buffer each step writes, or -1
    sizes: tuple[int, ...]  # elements of each buffer
    consumers: tuple[int, ...]  # steps reading each buffer
    kept: tuple[bool, ...]  # graph outputs: live to the end
    inputs: tuple[int, ...]  # buffers live from the first step (the graph inputs read)
    input_values: tuple[int, ...]  # the values those buffers hold, in the same order
    after: tuple[tuple[int, ...], ...]  # the steps each step reads from (its producers)
    reads_values: tuple[tuple[int, ...], ...]  # the values (not buffers) each step reads, for patches
    produces: tuple[int, ...]  # the value each step makes
    value_step: tuple[int, ...]  # each value's producer step (-1: a graph input)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(row.name for row in self.rows)


class _Builder:
    """Pass 1: the graph walked as the evaluator walks it, repeats expanded, one value per node."""

    def __init__(self, rows: Sequence[Row]) -> None:
        self.rows = rows
        self.next_row = 0
        self.env: dict[int, int] = {}
        self.elems: list[int | None] = []
        self.is_input: list[bool] = []
        self.readers: list[int] = []
        self.step_of: list[int] = []
        self.steps: list[tuple[Node, tuple[int, ...], int]] = []

    def value(self, step: int, elems: int | None, is_input: bool = False) -> int:
        self.elems.append(elems)
        self.is_input.append(is_input)
        self.readers.append(0)
        self.step_of.append(step)
        return len(self.elems) - 1

    def walk(self, graph: Graph, prefix: str) -> None:
        for node in graph.nodes:
            if node.kind == SOURCE:
                self.env[node.key] = self.value(-1, None, True)
            elif node.body is not None:
                state = self.env[node.inputs[0]]
                base = f"{prefix}{node.name}."
                for copy in range(1, node.times + 1):
                    self.env[node.body.input] = state
                    self.walk(node.body, f"{base}{copy}." if node.times > 1 else base)
                    state = self.env[node.body.output]
                self.env[node.key] = state
            else:
                self.layer(node, prefix)

    def layer(self, node: Node, prefix: str) -> None:
        row = self.rows[self.next_row]
        if row.name != prefix + node.name:  # pragma: no cover - the evaluator walks the same graph
            raise AssertionError(f"memory: row {row.name!r} is not node {prefix + node.name!r}")
        step = self.next_row
        self.next_row += 1
        ins = tuple(self.env[key] for key in node.inputs)
        for value, shape in zip(ins, row.input_shapes, strict=False):
            if self.elems[value] is None:
                self.elems[value] = prod(shape)
        for value in dict.fromkeys(ins):
            self.readers[value] += 1
        out = self.value(step, prod(row.output_shape))
        self.env[node.key] = out
        self.steps.append((node, ins, out))


def _function(node: Node) -> str:
    fn = node.fields.get("fn", "relu")
    return str(fn).lower().replace("_", "").replace("-", "")


def _depthwise(row: Row) -> bool:
    if row.type == "depthwise":
        return True
    convs = row.costed.convs if row.costed is not None else ()
    return (
        len(convs) == 1
        and not convs[0].transposed
        and convs[0].groups > 1
        and convs[0].groups == convs[0].in_channels
    )


def plan(network: Network, inplace_depthwise: bool = False) -> Plan:
    """The steps and buffers of a costed network under the rule above (linear in its rows)."""
    compiled = network.graph
    if compiled is None:
        raise ConvCostError("memory", "needs the network's graph: cost it with convcost.evaluate")
    if network.row_count > limits.MAX_LAYERS:  # pragma: no cover - the spec check refuses it first
        raise ConvCostError("memory", f"the network lists more than {limits.MAX_LAYERS:,} layers")
    rows = network.rows
    build = _Builder(rows)
    build.env[NETWORK_INPUT] = build.value(-1, None, True)
    build.walk(compiled.graph, "")
    outputs = {build.env[key] for _, key in compiled.outputs if key in build.env}
    for value in outputs:
        build.readers[value] += 1  # a graph output is read at the end: never overwritten
    if build.elems[0] is None and network.input_shape is not None:
        build.elems[0] = prod(network.input_shape)
    return _assign(build, outputs, inplace_depthwise)


def _assign(build: _Builder, outputs: set[int], inplace_depthwise: bool) -> Plan:
    """Pass 2: buffers, views and in-place steps (each decision needs every value's readers)."""
    count = len(build.elems)
    buffer = [-1] * count
    solo = [False] * count  # no view on the way from the buffer's creator to it is read elsewhere
    active = [False] * count  # depends on an input
    sizes: list[int] = []
    inputs: list[int] = []
    input_values: list[int] = []
    readers = build.readers
    for value in range(count):
        if build.is_input[value]:
            active[value] = True
            if readers[value]:
                buffer[value] = len(sizes)
                inputs.append(len(sizes))
                input_values.append(value)
                sizes.append(build.elems[value] or 0)
    how: list[str] = []
    out: list[int] = []
    delta: list[int] = []
    reads: list[tuple[int, ...]] = []
    writes: list[int] = []
    after: list[tuple[int, ...]] = []
    consumers = [0] * len(sizes)
    for node, ins, value in build.steps:
        row = build.rows[build.step_of[value]]
        after.append(tuple(dict.fromkeys(build.step_of[v] for v in ins if build.step_of[v] >= 0)))
        live_ins = [v for v in dict.fromkeys(ins) if active[v]]
        if not live_ins:
            how.append(STATIC)
            out.append(0)
            delta.append(0)
            reads.append(())
            writes.append(-1)
            continue
        active[value] = True
        step_reads = tuple(dict.fromkeys(buffer[v] for v in live_ins))
        for b in step_reads:
            consumers[b] += 1
        reads.append(step_reads)
        elems = build.elems[value] or 0
        if row.type in VIEWS:
            source = live_ins[0]
            buffer[value] = buffer[source]
            solo[value] = solo[source] and readers[source] == 1
            how.append(VIEW)
            out.append(0)
            delta.append(0)
            writes.append(-1)
            continue
        buffer[value] = len(sizes)
        writes.append(len(sizes))
        sizes.append(elems)
        consumers.append(0)
        solo[value] = True
        source = live_ins[0]
        free = len(live_ins) == 1 and readers[source] == 1 and solo[source]
        size_in = sizes[buffer[source]]
        kind = row.type
        if free and (
            kind == "batchnorm"
            or (kind == "activation" and _function(node) in INPLACE_FUNCTIONS)
            or (kind == "elementwise" and _function(node) == "prelu")
        ):
            how.append(IN_PLACE)
            delta.append(-size_in)
        elif free and inplace_depthwise and _depthwise(row):
            channel = prod(row.output_shape[:-1])
            how.append(IN_PLACE_DEPTHWISE)
            delta.append(max(size_in, elems) + channel - size_in - elems)
        else:
            how.append(NEW)
            delta.append(0)
        out.append(elems)
    kept = [False] * len(sizes)
    for value in outputs:
        if buffer[value] >= 0:
            kept[buffer[value]] = True
    return Plan(
        tuple(build.rows),
        tuple(how),
        tuple(out),
        tuple(delta),
        tuple(reads),
        tuple(writes),
        tuple(sizes),
        tuple(consumers),
        tuple(kept),
        tuple(inputs),
        tuple(input_values),
        tuple(after),
        tuple(ins for _, ins, _ in build.steps),
        tuple(value for _, _, value in build.steps),
        tuple(build.step_of),
    )


def simulate(p: Plan, order: Sequence[int]) -> list[int]:
    """Live elements at each step of ``order`` (step indices, a topological order)."""
    remaining = list(p.consumers)
    sizes, kept, out, delta, reads, writes = p.sizes, p.kept, p.out, p.delta, p.reads, p.writes
    live = sum(sizes[b] for b in p.inputs)
    need = []
    for step in order:
        made = out[step]
        need.append(live + made + delta[step])
        live += made
        for b in reads[step]:
            remaining[b] -= 1
            if not remaining[b] and not kept[b]:
                live -= sizes[b]
        w = writes[step]
        if w >= 0 and not remaining[w] and not kept[w]:  # read by nothing: gone after its step
            live -= sizes[w]
    return need


class BestOrder(NamedTuple):
    """A topological order with a peak no higher than the graph's own."""

    peak_bytes: int
    peak_at: str | None
    order: tuple[str, ...]
    method: str  # "optimal" (every part searched exhaustively), or the heuristic that ran
    optimal: bool
    parts: int  # independent parts the graph splits into (at layers every path passes)
    searched: int  # parts searched exhaustively


class Memory(NamedTuple):
    """Peak activation memory in the graph's order (and, if asked, in the best order found)."""

    peak_bytes: int
    peak_at: str | None
    steps: tuple[tuple[str, int], ...]  # (row, live bytes during it), graph order
    element_bytes: int  # bytes of one element for the whole batch: dtype size × batch
    inplace_depthwise: bool
    best_order: BestOrder | None = None


def peak(names: Sequence[str], need: Sequence[int], scale: int) -> tuple[int, str | None]:
    if not need:
        return 0, None
    top = max(need)
    return top * scale, names[need.index(top)]


def memory(
    network: Network,
    dtype: DType | str = DType.FP32,
    batch: int = 1,
    *,
    inplace_depthwise: bool = False,
    best_order: bool = True,
    budget: int | None = None,
) -> Memory:
    """Peak activation memory of a costed network (see the module's rule).

    ``best_order`` also searches for a topological order with a lower peak
    (:mod:`convcost.model.schedule`), within ``budget`` search steps.
    """
    scale = DType(dtype).bytes * batch
    p = plan(network, inplace_depthwise)
    need = simulate(p, range(len(p.rows)))
    names = p.names
    top, at = peak(names, need, scale)
    best = None
    if best_order:
        from .schedule import best_order as search

        best = search(p, scale, need, budget)
    return Memory(
        top, at, tuple(zip(names, (n * scale for n in need), strict=True)), scale, inplace_depthwise, best
    )
