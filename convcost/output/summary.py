"""The one summary every output renders from: built once from the model, formatted elsewhere.

Every number a format shows is here — counts under the chosen convention and batch, traffic,
roofline times, shares, ratios, the savings a table's footnote quotes — so the JSON, CSV,
Markdown and Rich views only choose and format fields; they compute nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from math import gcd, prod
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from ..core import values
from ..core.conv import Conv, Counts, effective_macs, weighted_sum
from ..core.forms import DEPTHWISE_SEPARABLE, REGULAR, Comparison, Variant
from ..core.forms import Part as Step
from ..core.options import Settings
from ..core.traffic import Traffic, chain, conv_traffic, estimate, ridge_point, traffic

if TYPE_CHECKING:  # the network's and sweep's model: imported where a network is summarised, so
    # that ``layer`` starts without loading the graph machinery
    from ..model.evaluate import Network, Row
    from ..model.kinds import BreakdownKind, BreakdownPart
    from ..model.memory_report import Analysis
    from ..model.receptive_field import ReceptiveField
    from ..model.sweep import Point, Skipped

# The types made once per row, variant or sweep point are NamedTuples: as immutable as frozen
# dataclasses, and several times cheaper to build (a frozen dataclass sets each field through
# object.__setattr__). The few made once per run stay dataclasses.

Bound = Literal["compute", "memory"]
VariantName = Literal["regular", "grouped", "depthwise_separable"]
NetworkForm = Literal["as_written", "regular", "depthwise_separable"]


class Work(NamedTuple):
    """Counts for the whole batch (params per model), and the headline count under the convention."""

    headline: int  # the count the convention names (MACs, FLOPs or ops)
    macs: int
    flops: int
    adds: int
    params: int
    other_ops: int


class Timing(NamedTuple):
    """A roofline lower bound: max(FLOPs / peak, bytes / bandwidth)."""

    time_s: float
    compute_s: float
    memory_s: float
    bound: Bound


class Memory(NamedTuple):
    """Minimum memory traffic and what it implies on the device, if one is given."""

    flops: int
    bytes: int
    arithmetic_intensity: float
    input_bytes: int
    weight_bytes: int
    output_bytes: int
    intermediate_bytes: int
    between_bytes: int  # what the intermediate tensors cost in traffic (0 when fused)
    timing: Timing | None


class StepSummary(NamedTuple):
    """One conv inside a variant: the depthwise or the pointwise step."""

    name: str
    layer: Conv
    work: Work
    memory: Memory


class VariantSummary(NamedTuple):
    name: VariantName
    layer: Conv | None  # the conv, when the variant is one (regular, grouped)
    work: Work
    ratio: float  # MACs / regular MACs
    ratio_exact: str
    params_ratio: float
    reduction_pct: float
    count_ratio: float  # the headline count / the regular form's
    count_reduction_pct: float
    memory: Memory
    steps: tuple[StepSummary, ...]  # empty for a single conv


class Theory(NamedTuple):
    """MobileNet's 1/N + 1/D_K²."""

    n: int
    dk2: int
    expression: str
    ratio: float
    ratio_exact: str


class Change(NamedTuple):
    """How the depthwise-separable form compares with the regular one on one measure."""

    before: float  # the regular form's
    after: float  # the depthwise-separable form's
    factor: float  # the larger over the smaller, never below 1 (0 when either is 0)
    pct: float  # |after − before| / before · 100 (0 when before is 0)


def change(before: float, after: float) -> Change:
    factor = max(before, after) / min(before, after) if before and after else 0.0
    return Change(before, after, factor, abs(after - before) / before * 100 if before else 0.0)


class Saving(NamedTuple):
    """The depthwise-separable form against the regular one, as a table's closing line says it."""

    headline: Change  # in the headline count (MACs, FLOPs or ops)
    bytes: Change
    time: Change | None  # with a device
    regular_bound: Bound | None
    separable_bound: Bound | None
    regular_intensity: float
    separable_intensity: float


class LayerSummary(NamedTuple):
    """``convcost layer``: one conv, its forms, their traffic."""

    settings: Settings
    ridge_point: float | None
    layer: Conv
    work: Work
    effective_macs: int
    dense_macs: int | None  # transposed only: per output element, zeros included
    memory: Memory
    variants: tuple[VariantSummary, ...]
    theory: Theory
    saving: Saving
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The ``layer --json`` object."""
        from .json_report import layer_document

        return layer_document(self)


class RowSummary(NamedTuple):
    name: str
    type: str
    label: str  # the type with its kernel, stride and groups: "conv 3×3 /2 g4"
    path: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    work: Work
    macs_share: float
    effective_macs: int
    memory: Memory
    receptive_field: ReceptiveField | None
    layer: Conv | None  # the conv whose variants describe the row, if conv-like
    variants: tuple[VariantSummary, ...]
    theory_ratio: float | None
    module: str = ""  # the dotted PyTorch module path
    rows: int = 1  # the rows a roll-up row (--depth) sums; 1 for a layer
    forms: tuple[FormSummary, ...] = ()  # a roll-up row's totals with every spatial conv in each form
    parts: tuple[BreakdownPart, ...] = ()  # a layer's cost by kind, per item of the batch (the breakdown's)
    # the network's rows this row stands for, by index (one for a layer): what per-row lists of
    # the whole network (peak memory's live bytes) are read through
    members: tuple[int, ...] = ()
    # the separate places a roll-up row's module runs (torchvision's one ReLU per block: 3); its
    # shapes and receptive field are those of the first
    calls: int = 1


@dataclass(frozen=True, slots=True)
class FormSummary:
    """The whole network with every spatial conv in one form."""

    name: NetworkForm
    work: Work
    ratio: float | None  # MACs / regular MACs
    params_ratio: float | None


@dataclass(frozen=True, slots=True)
class KindSummary:
    """One row of the breakdown by kind."""

    kind: BreakdownKind
    label: str
    work: Work
    macs_share: float
    params_share: float


@dataclass(frozen=True, slots=True)
class NetworkSummary:
    """``convcost compare``: every row, the totals, the network in each form, the breakdown."""

    settings: Settings
    ridge_point: float | None
    source: str | None
    options: Mapping[str, object]  # as, width_mult (exact text), in
    input_shape: tuple[int, ...] | None
    output_shape: tuple[int, ...] | None
    outputs: tuple[tuple[str, tuple[int, ...]], ...]
    rows: tuple[RowSummary, ...]
    totals: Work
    total_bytes: int
    total_flops: int
    total_time_s: float | None
    forms: tuple[FormSummary, ...]
    breakdown: tuple[KindSummary, ...]
    notes: tuple[str, ...]
    unsupported: Mapping[str, int]  # op → nodes of an imported model that could not be costed
    layer_count: int = 0  # the network's rows, whatever rows are shown
    depth: int | None = None  # the depth rows are rolled up to (--depth), if any
    hidden: int = 0  # rows left out for having no MACs and no params (--hide-zero)
    fitted: int | None = None  # the row budget the depth was chosen for (a terminal's table), if so
    activation_bytes: int = 0  # every row's input and output bytes (hidden rows too), summed
    # peak activation memory, when asked for (``compare --memory``): computed by the model, as
    # every other number here, and only shown by the views
    peak_memory: Analysis | None = None
    # every layer's row, before any roll-up or hiding: what the per-module chart splits by kind
    layers: tuple[RowSummary, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The ``compare --json`` object."""
        from .json_report import network_document

        return network_document(self)

    def live_bytes(self) -> list[int] | None:
        """Each shown row's live bytes during its step (the most of its rows'), or None when peak
        memory was not asked for. A roll-up row's is the most live at any of its steps."""
        if self.peak_memory is None:
            return None
        steps = self.peak_memory.memory.steps
        return [max(steps[i][1] for i in row.members) for row in self.rows]


class PointSummary(NamedTuple):
    swept: Mapping[str, int | tuple[int, ...]]
    layer: LayerSummary

    @property
    def own_saving_pct(self) -> float:
        """How much less the layer as swept counts (its headline) than its regular form, in %:
        a grouped layer's saving; 0 for a regular one."""
        regular = self.layer.variants[0].work.headline
        return 100 * (1 - self.layer.work.headline / regular) if regular else 0.0

    @property
    def as_swept(self) -> VariantSummary:
        """The variant that is the layer as swept: grouped where it has groups, else regular."""
        return next((v for v in self.layer.variants if v.name == "grouped"), self.layer.variants[0])


@dataclass(frozen=True, slots=True)
class SweepSummary:
    settings: Settings
    varying: tuple[str, ...]  # the swept options whose value changes between points
    points: tuple[PointSummary, ...]
    theory_limit_pct: float | None  # 1 − 1/D_K² when every point shares its kernel
    skipped: int  # points that cannot exist (see the sweep's note)
    skipped_by_field: Mapping[str, Skipped] = field(default_factory=dict)  # field → count, first error
    total: int = 0  # points in the product, skipped ones included

    @property
    def not_regular(self) -> bool:
        """Whether some point's layer is not its own regular form (a groups sweep): its charts
        show that layer's saving, not only the depthwise-separable one's."""
        return any(p.layer.work != p.layer.variants[0].work for p in self.points)

    def to_dict(self) -> dict[str, Any]:
        """The ``sweep --json`` object."""
        from .json_report import sweep_document

        return sweep_document(self)


# ---------------------------------------------------------------- building blocks


def work(counts: Counts, s: Settings) -> Work:
    n = s.batch
    return Work(
        s.convention.count(counts) * n,
        counts.macs * n,
        counts.flops * n,
        counts.adds * n,
        counts.params,
        counts.other_ops * n,
    )


def memory(t: Traffic, s: Settings) -> Memory:
    timing = None
    if s.device is not None:
        bound = estimate(t, s.device, s.dtype)
        timing = Timing(
            bound.time_s, bound.compute_s, bound.memory_s, "compute" if bound.bound == "compute" else "memory"
        )
    between = 0 if t.fused else 2 * t.intermediate_bytes
    total = t.input_bytes + t.weight_bytes + t.output_bytes + between  # Traffic.bytes, inlined: hot path
    return Memory(
        t.flops,
        total,
        t.flops / total if total else 0.0,
        t.input_bytes,
        t.weight_bytes,
        t.output_bytes,
        t.intermediate_bytes,
        between,
        timing,
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def fraction_text(numerator: int, denominator: int) -> str:
    """``str(Fraction(n, d))`` without building a Fraction (this runs for every layer of a network)."""
    common = gcd(numerator, denominator) or 1
    n, d = numerator // common, denominator // common
    return str(n) if d == 1 else f"{n}/{d}"


def step_traffic(step: Step, s: Settings) -> Traffic:
    """A variant step's traffic, from the counts it already has."""
    layer = step.layer
    return traffic(step.counts.flops, prod(layer.in_shape), step.counts.params, prod(layer.output_shape), s)


_VARIANT_NAMES: dict[str, VariantName] = {
    REGULAR: "regular",
    "grouped": "grouped",
    DEPTHWISE_SEPARABLE: "depthwise_separable",
}


class Pieces:
    """What the summaries of one run share: a conv step's work and memory are made once per
    distinct conv (a sweep's points share their depthwise step; a network repeats its blocks)."""

    def __init__(self, s: Settings) -> None:
        self.s = s
        self.steps: dict[tuple[str, Conv], tuple[StepSummary, Traffic]] = {}

    def step(self, part: Step) -> tuple[StepSummary, Traffic]:
        key = (part.name, part.layer)
        found = self.steps.get(key)
        if found is None:
            s = self.s
            t = step_traffic(part, s)
            found = self.steps[key] = (
                StepSummary(part.name, part.layer, work(part.counts, s), memory(t, s)),
                t,
            )
        return found

    def variant(self, v: Variant) -> VariantSummary:
        s = self.s
        count = s.convention.count
        counts, regular = v.counts, v.regular
        made = [self.step(part) for part in v.parts]
        if len(made) == 1:
            only = made[0][0]
            own, memory_ = only.work, only.memory
            layer: Conv | None = only.layer
            steps: tuple[StepSummary, ...] = ()
        else:
            own, memory_, layer = work(counts, s), memory(chain([t for _, t in made]), s), None
            steps = tuple(step for step, _ in made)
        ratio = _share(counts.macs, regular.macs)
        count_ratio = _share(count(counts), count(regular))
        return VariantSummary(
            _VARIANT_NAMES[v.name],
            layer,
            own,
            ratio,
            fraction_text(counts.macs, regular.macs),
            _share(counts.params, regular.params),
            (1.0 - ratio) * 100.0,
            count_ratio,
            (1.0 - count_ratio) * 100.0,
            memory_,
            steps,
        )


def theory(c: Comparison) -> Theory:
    n, dk2 = c.theory_n, c.theory_dk2  # 1/n + 1/dk2 = (n + dk2) / (n·dk2), reduced as a Fraction is
    return Theory(n, dk2, c.theory_expression, c.theory_ratio, fraction_text(n + dk2, n * dk2))


def _saving(variants: Sequence[VariantSummary], s: Settings) -> Saving:
    regular = next(v for v in variants if v.name == REGULAR)
    dws = next(v for v in variants if v.name == DEPTHWISE_SEPARABLE)
    before, after = regular.memory, dws.memory
    return Saving(
        change(regular.work.headline, dws.work.headline),
        change(before.bytes, after.bytes),
        change(before.timing.time_s, after.timing.time_s) if before.timing and after.timing else None,
        before.timing.bound if before.timing else None,
        after.timing.bound if after.timing else None,
        before.arithmetic_intensity,
        after.arithmetic_intensity,
    )


def _ridge(s: Settings) -> float | None:
    return ridge_point(s.device, s.dtype) if s.device is not None else None


# ---------------------------------------------------------------- summaries


def layer_summary(c: Comparison, s: Settings, pieces: Pieces | None = None) -> LayerSummary:
    """Everything ``convcost layer`` shows, in every format (``pieces``: shared across a sweep)."""
    pieces = pieces or Pieces(s)
    variants = tuple(pieces.variant(v) for v in c.variants.values())
    layer = c.layer
    own = next((v for v in variants if v.layer is layer), None)  # the layer is one of its own forms
    return LayerSummary(
        s,
        _ridge(s),
        layer,
        own.work if own else work(c.counts, s),
        effective_macs(layer) * s.batch,
        layer.dense_macs * s.batch if layer.transposed else None,
        own.memory if own else memory(conv_traffic([layer], s), s),
        variants,
        theory(c),
        _saving(variants, s),
        c.notes,
    )


def row_traffic(row: Row, settings: Settings, merges: bool) -> Traffic:
    """Minimum memory traffic of one row run on its own (see :mod:`convcost.core.traffic`);
    ``merges``: whether its kind merges inputs."""
    if row.costed is not None and row.costed.convs:
        return conv_traffic(row.costed.convs, settings)
    outputs = prod(row.output_shape)
    if merges:  # reads every input (a matmul's two, an add's), writes the result; its FLOPs as any row's
        inputs = sum(prod(shape) for shape in row.input_shapes)
        return traffic(row.counts.flops, inputs, row.counts.params, outputs, settings)
    return traffic(row.counts.flops, prod(row.input_shape), row.counts.params, outputs, settings)


def row_label(row: Row) -> str:
    """``conv 3×3 /2 g4``: the kind, and the geometry that tells rows apart."""
    c = row.comparison
    if c is None:
        return row.type
    layer = row.costed.convs[0] if row.type == "conv" and row.costed else c.layer
    kernel = values.format_dims(c.layer.kernel, "×")
    strided = any(v != 1 for v in layer.stride)
    stride = f" /{values.format_dims(layer.stride, collapse=True)}" if strided else ""
    groups = f" g{layer.groups}" if row.type == "conv" and layer.groups > 1 else ""
    return f"{row.type} {kernel}{stride}{groups}"


class _RowMaker:
    """Rows of one network; pieces that repeat (a conv's variants) are made once per distinct conv."""

    def __init__(self, s: Settings, total_macs: int) -> None:
        from ..model.kinds import KINDS

        self.merges = {name: kind.merges for name, kind in KINDS.items()}
        self.s = s
        self.total_macs = total_macs
        self.pieces = Pieces(s)
        self.variants: dict[Conv, tuple[VariantSummary, ...]] = {}

    def row(self, row: Row, index: int) -> RowSummary:
        s = self.s
        c = row.comparison
        variants: tuple[VariantSummary, ...] = ()
        same: VariantSummary | None = None  # the form the row is, if it is one of its conv's forms
        if c is not None:
            found = self.variants.get(c.layer)
            if found is None:
                found = self.variants[c.layer] = tuple(self.pieces.variant(v) for v in c.variants.values())
            variants = found
            convs = row.costed.convs if row.costed is not None else ()
            for form, v in zip(c.variants.values(), variants, strict=True):
                if form.counts == row.counts and tuple(part.layer for part in form.parts) == convs:
                    same = v
                    break
        return RowSummary(
            row.name,
            row.type,
            row_label(row),
            row.path,
            row.input_shape,
            row.output_shape,
            same.work if same else work(row.counts, s),
            _share(row.counts.macs, self.total_macs),
            row.effective_macs * s.batch,
            same.memory if same else memory(row_traffic(row, s, self.merges[row.type]), s),
            row.receptive_field if row.receptive_field and row.receptive_field.size else None,
            c.layer if c is not None else None,
            variants,
            c.theory_ratio if c is not None else None,
            row.module,
            parts=row.parts,
            members=(index,),
        )


def network_summary(
    network: Network,
    source: str | None,
    s: Settings,
    notes: Iterable[str] = (),
    unsupported: Mapping[str, int] | None = None,
    depth: int | None = None,
    hide_zero: bool = False,
    fit_rows: int | None = None,
) -> NetworkSummary:
    """Everything ``convcost compare`` shows, in every format.

    ``depth``: rows rolled up to modules that many levels deep (model/rollup.py), the totals
    unchanged; ``hide_zero``: rows with no MACs and no params left out (not from the totals);
    ``fit_rows`` (with no ``depth``): the deepest roll-up that shows at most that many rows, when
    the rows themselves are more (what a terminal's table asks for; see rollup.fitting_depth).
    """
    from ..model.kinds import BREAKDOWN
    from ..model.rollup import fitting_depth, is_zero

    totals = network.totals
    maker = _RowMaker(s, totals.macs)
    layers = tuple(network.iter_rows())
    rows = tuple(maker.row(row, index) for index, row in enumerate(layers))
    fitted = None
    if depth is None and fit_rows is not None:
        modules, labels = [row.module for row in layers], [row.name for row in layers]
        counted = [not is_zero(row.counts) for row in layers] if hide_zero else None
        depth = fitting_depth(modules, labels, fit_rows, counted=counted, only_fitting=True)
        fitted = fit_rows if depth is not None else None
    forms = network.variant_totals()
    regular = forms[REGULAR]
    names: tuple[NetworkForm, ...] = ("as_written", "regular", "depthwise_separable")
    form_rows = tuple(
        FormSummary(
            name,
            work(counts, s),
            counts.macs / regular.macs if regular.macs else None,
            counts.params / regular.params if regular.params else None,
        )
        for name, counts in ((name, forms[name]) for name in names)
    )
    breakdown = tuple(
        KindSummary(
            kind,
            BREAKDOWN[kind],
            work(counts, s),
            _share(counts.macs, totals.macs),
            _share(counts.params, totals.params),
        )
        for kind, counts in network.breakdown().items()
    )
    options = network.options
    times = [row.memory.timing.time_s for row in rows if row.memory.timing is not None]
    total_bytes = sum(row.memory.bytes for row in rows)
    total_flops = sum(row.memory.flops for row in rows)
    shown = rows if depth is None else _rolled_up(layers, rows, depth, s)
    before = len(shown)
    if hide_zero:
        shown = tuple(row for row in shown if row.work.macs or row.work.params)
    return NetworkSummary(
        s,
        _ridge(s),
        source,
        {
            "as": options.as_form,
            "width_mult": str(options.width_mult) if options.width_mult is not None else None,
            "in": list(options.input_shape) if options.input_shape is not None else None,
            "depth": depth,
            "hide_zero": hide_zero,
        },
        network.input_shape,
        network.output_shape,
        network.outputs,
        shown,
        work(totals, s),
        total_bytes,
        total_flops,
        sum(times) if s.device is not None else None,
        form_rows,
        breakdown,
        (*notes, *network.notes),
        dict(sorted((unsupported or {}).items())),
        len(rows),
        depth,
        before - len(shown),
        fitted,
        sum(row.memory.input_bytes + row.memory.output_bytes for row in rows),
        layers=rows,
    )


def _rolled_up(
    layers: Sequence[Row], rows: Sequence[RowSummary], depth: int, s: Settings
) -> tuple[RowSummary, ...]:
    """Rows summed by module ``depth`` levels deep (model.rollup's groups): subtotals of every
    count and byte; the first row's input and its run's last output (see rollup.py)."""
    from ..model.evaluate import row_forms
    from ..model.rollup import groups, runs

    made = []
    for group in groups([row.module for row in layers], [row.name for row in layers], depth):
        members = [rows[i] for i in group.members]
        if len(members) == 1:
            made.append(members[0]._replace(name=group.label, module=group.module))
            continue
        forms = [row_forms(layers[i]) for i in group.members]
        regular = weighted_sum((f[0], 1) for f in forms)
        totals: tuple[tuple[NetworkForm, Counts], ...] = (
            ("as_written", weighted_sum((layers[i].counts, 1) for i in group.members)),
            ("regular", regular),
            ("depthwise_separable", weighted_sum((f[1], 1) for f in forms)),
        )
        calls = runs(group.members)
        first = [rows[i] for i in calls[0]]  # the first call: its shapes are the row's
        labels = {m.label for m in members}
        if len(calls) == 1:
            label = f"{len(members)} layers"
        elif len(calls) == len(members) and len(labels) == 1:  # one row per call: ReLU, 3 calls
            label = f"{members[0].label}, {len(calls)} calls"
        else:
            label = f"{len(members)} layers, {len(calls)} calls"
        made.append(
            RowSummary(
                group.label,
                "module",
                label,
                "",
                next((m.input_shape for m in first if m.input_shape), first[0].input_shape),
                first[-1].output_shape,
                Work(*(sum(column) for column in zip(*(m.work for m in members), strict=True))),
                sum(m.macs_share for m in members),
                sum(m.effective_macs for m in members),
                _summed_memory([m.memory for m in members]),
                first[-1].receptive_field,
                None,
                (),
                None,
                group.module,
                len(members),
                tuple(
                    FormSummary(
                        name,
                        work(counts, s),
                        counts.macs / regular.macs if regular.macs else None,
                        counts.params / regular.params if regular.params else None,
                    )
                    for name, counts in totals
                ),
                members=group.members,
                calls=len(calls),
            )
        )
    return tuple(made)


def _summed_memory(parts: Sequence[Memory]) -> Memory:
    """Rows' traffic added up; their roofline times too (each row a kernel of its own)."""
    flops, total = sum(m.flops for m in parts), sum(m.bytes for m in parts)
    timing = None
    times = [m.timing for m in parts if m.timing is not None]
    if times:
        compute_s, memory_s = sum(t.compute_s for t in times), sum(t.memory_s for t in times)
        bound: Bound = "compute" if compute_s >= memory_s else "memory"
        timing = Timing(sum(t.time_s for t in times), compute_s, memory_s, bound)
    return Memory(
        flops,
        total,
        flops / total if total else 0.0,
        sum(m.input_bytes for m in parts),
        sum(m.weight_bytes for m in parts),
        sum(m.output_bytes for m in parts),
        sum(m.intermediate_bytes for m in parts),
        sum(m.between_bytes for m in parts),
        timing,
    )


def _swept_value(text: str) -> int | tuple[int, ...]:
    """A swept value as written ("3", "3x5", "28x28x8") as an int or a tuple of ints."""
    if text.isascii() and text.isdigit() and text.strip("0"):  # "16": most points, read at C speed
        return int(text)
    parts = values.dims(text, "swept")  # the layer parser's syntax: 3x5, 3×5, 3X5, 3*5
    return parts[0] if len(parts) == 1 else parts


def sweep_summary(
    points: Sequence[Point],
    s: Settings,
    skipped: int = 0,
    skipped_by_field: Mapping[str, Skipped] | None = None,
    total: int = 0,
) -> SweepSummary:
    keys = list(points[0].swept) if points else []
    varying = tuple(key for key in keys if len({p.swept[key] for p in points}) > 1)
    kernels = {p.comparison.theory_dk2 for p in points}
    limit = (1 - 1 / next(iter(kernels))) * 100 if len(kernels) == 1 else None
    pieces = Pieces(s)
    return SweepSummary(
        s,
        varying,
        tuple(
            PointSummary(
                {key: _swept_value(p.swept[key]) for key in varying}, layer_summary(p.comparison, s, pieces)
            )
            for p in points
        ),
        limit,
        skipped,
        dict(skipped_by_field or {}),
        total or len(points) + skipped,
    )


# ---------------------------------------------------------------- the other commands' summaries
# (here, not beside their views, so that emit dispatches on them without importing those)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One shipped spec, costed under the default conventions."""

    name: str  # what ``convcost compare NAME`` takes
    network: str  # the network, as its header names it: "ResNet-50, 224×224"
    paper: str  # where its figures come from: 'He et al. 2016, "Deep Residual Learning…"'
    title: str  # the header's first paragraph, whole
    input_shape: tuple[int, ...] | None
    macs: int
    params: int
    layers: int


@dataclass(frozen=True, slots=True)
class Catalogue:
    models: tuple[ModelInfo, ...]


@dataclass(frozen=True, slots=True)
class SchemaDocument:
    """A JSON Schema and what it describes (``spec``: spec files; ``output``: the ``--json`` output)."""

    document: Mapping[str, Any]
    which: str
