"""Plain dicts for JSON: the public, stable layout documented in the README.

Counts stay ints; ratios are floats computed from the exact ints (their exact
fraction is given as a string beside them). Counts of work (MACs, FLOPs, adds)
are for the whole batch; parameters are per model.
"""

from __future__ import annotations

from math import gcd, prod
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..core import conventions
from ..core.conv import Conv, Counts, effective_macs
from ..core.forms import Comparison, Part, Variant
from ..core.options import DEFAULT, Settings
from ..core.traffic import Traffic, chain, conv_traffic, estimate, traffic

if TYPE_CHECKING:
    from ..model.evaluate import Network, Row
    from ..model.sweep import Point


def counts_dict(counts: Counts, s: Settings = DEFAULT) -> dict[str, int]:
    n = s.batch
    return {
        "count": s.convention.count(counts) * n,
        "macs": counts.macs * n,
        "flops": counts.flops * n,
        "adds": counts.adds * n,
        "params": counts.params,
    }


def traffic_dict(work: Traffic, s: Settings) -> dict[str, Any]:
    total = work.bytes
    data: dict[str, Any] = {
        "bytes": total,
        "arithmetic_intensity": work.flops / total if total else 0.0,
        "memory": {
            "input_bytes": work.input_bytes,
            "weight_bytes": work.weight_bytes,
            "output_bytes": work.output_bytes,
            "intermediate_bytes": work.intermediate_bytes,
        },
    }
    if s.device is not None:
        bound = estimate(work, s.device, s.dtype)
        data.update(
            time_s=bound.time_s, bound=bound.bound, compute_s=bound.compute_s, memory_s=bound.memory_s
        )
    return data


def settings_dict(s: Settings) -> dict[str, Any]:
    device = None
    if s.device is not None:
        device = {
            "name": s.device.name,
            "title": s.device.title,
            "peak_flops": s.device.peak[s.dtype],
            "bandwidth_bytes_per_s": s.device.bandwidth,
            "source": s.device.source,
        }
    return {
        "convcost_version": __version__,
        "conventions": conventions.AS_JSON,
        "convention": {
            "count": s.convention.kind.value,
            "bias": s.convention.bias,
            "label": s.convention.label,
            "definition": s.convention.definition,
        },
        "dtype": s.dtype.value,
        "batch": s.batch,
        "fused": s.fused,
        "device": device,
    }


def geometry_dict(layer: Conv) -> dict[str, Any]:
    """The resolved geometry: lists one entry per spatial dim, padding as [before, after]."""
    geometry: dict[str, Any] = {
        "input_shape": list(layer.in_shape),
        "output_shape": list(layer.output_shape),
        "out": layer.out_channels,
        "kernel": list(layer.kernel),
        "stride": list(layer.stride),
        "padding": [list(pair) for pair in layer.padding],
        "padding_rule": layer.padding_rule,
        "dilation": list(layer.dilation),
        "groups": layer.groups,
        "bias": layer.bias,
        "transposed": layer.transposed,
    }
    if layer.transposed:
        geometry["output_padding"] = list(layer.output_padding)
    return geometry


def part_traffic(part: Part, s: Settings) -> Traffic:
    """A variant step's traffic, from the counts it already has."""
    layer = part.layer
    return traffic(part.counts.flops, prod(layer.in_shape), part.counts.params, prod(layer.output_shape), s)


def _fraction_text(numerator: int, denominator: int) -> str:
    """``str(Fraction(n, d))`` without building a Fraction (this runs for every layer of a network)."""
    common = gcd(numerator, denominator)
    n, d = numerator // common, denominator // common
    return str(n) if d == 1 else f"{n}/{d}"


def variant_dict(variant: Variant, s: Settings = DEFAULT) -> dict[str, Any]:
    data: dict[str, Any] = counts_dict(variant.counts, s)
    data.update(
        ratio=variant.ratio,
        ratio_exact=_fraction_text(variant.counts.macs, variant.regular.macs),
        params_ratio=variant.params_ratio,
        reduction_pct=variant.reduction_pct,
    )
    steps = [part_traffic(part, s) for part in variant.parts]
    data.update(traffic_dict(chain(steps), s))
    if len(variant.parts) > 1:
        data["parts"] = {
            part.name: {
                **counts_dict(part.counts, s),
                "kernel": list(part.layer.kernel),
                "groups": part.layer.groups,
                "output_shape": list(part.layer.output_shape),
                **traffic_dict(step, s),
            }
            for part, step in zip(variant.parts, steps, strict=True)
        }
    return data


def comparison_dict(c: Comparison, s: Settings = DEFAULT) -> dict[str, Any]:
    """The body of ``convcost layer --json``."""
    data = settings_dict(s)
    data.update(geometry_dict(c.layer))
    data.update(counts_dict(c.counts, s))
    data["effective_macs"] = effective_macs(c.layer) * s.batch
    if c.layer.transposed:
        data["dense_macs"] = c.layer.dense_macs * s.batch
    data.update(traffic_dict(conv_traffic([c.layer], s), s))
    data["variants"] = {name: variant_dict(v, s) for name, v in c.variants.items()}
    data["theory_ratio"] = c.theory_ratio
    data["theory"] = {
        "expression": c.theory_expression,
        "n": c.theory_n,
        "dk2": c.theory_dk2,
        "ratio_exact": str(c.theory_ratio_exact),
    }
    data["notes"] = list(c.notes)
    return data


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def row_dict(
    row: Row,
    total_macs: int,
    s: Settings = DEFAULT,
    work: Traffic | None = None,
    memo: dict[Conv, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    if work is None:
        from .summary import row_traffic

        work = row_traffic(row, s)
    data: dict[str, Any] = {
        "name": row.name,
        "type": row.type,
        "path": row.path,
        "input_shape": list(row.input_shape),
        "output_shape": list(row.output_shape),
    }
    data.update(counts_dict(row.counts, s))
    data["macs_share"] = _share(row.counts.macs, total_macs)
    data["effective_macs"] = row.effective_macs * s.batch
    data.update(traffic_dict(work, s))
    rf = row.receptive_field
    data["receptive_field"] = (
        None if rf is None else {"size": list(rf.size), "stride": list(rf.stride), "start": list(rf.start)}
    )
    if row.comparison is not None:
        c = row.comparison
        data["kernel"] = list(c.layer.kernel)
        data["stride"] = list(c.layer.stride)
        data["padding"] = [list(pair) for pair in c.layer.padding]
        data["variants"] = _variants(c, s, memo)
        data["theory_ratio"] = c.theory_ratio
    return data


def _variants(c: Comparison, s: Settings, memo: dict[Conv, dict[str, Any]] | None) -> dict[str, Any]:
    """A layer's variants as JSON; rows with the same conv share one (read-only) object."""
    if memo is None:
        return {name: variant_dict(v, s) for name, v in c.variants.items()}
    found = memo.get(c.layer)
    if found is None:
        found = memo[c.layer] = {name: variant_dict(v, s) for name, v in c.variants.items()}
    return found


def network_dict(network: Network, source: str | None = None, s: Settings = DEFAULT) -> dict[str, Any]:
    """The body of ``convcost compare --json``."""
    from .summary import row_traffic

    totals = network.totals
    options = network.options
    variants = network.variant_totals()
    regular = variants["regular"]
    work = [row_traffic(row, s) for row in network.rows]
    memo: dict[Conv, dict[str, Any]] = {}
    total_traffic: dict[str, Any] = {
        "bytes": sum(w.bytes for w in work),
        "flops": sum(w.flops for w in work),
    }
    if s.device is not None:
        total_traffic["time_s"] = sum(estimate(w, s.device, s.dtype).time_s for w in work)
    return {
        **settings_dict(s),
        "source": source,
        "options": {
            "as": options.as_form,
            "width_mult": str(options.width_mult) if options.width_mult is not None else None,
            "in": list(options.input_shape) if options.input_shape is not None else None,
        },
        "input_shape": list(network.input_shape) if network.input_shape else None,
        "output_shape": list(network.output_shape) if network.output_shape else None,
        "layers": [row_dict(row, totals.macs, s, w, memo) for row, w in zip(network.rows, work, strict=True)],
        "totals": {**counts_dict(totals, s), **total_traffic},
        "variants": {
            name: {
                **counts_dict(counts, s),
                "ratio": _share(counts.macs, regular.macs),
                "params_ratio": _share(counts.params, regular.params),
            }
            for name, counts in variants.items()
        },
        "breakdown": {
            kind: {
                **counts_dict(counts, s),
                "macs_share": _share(counts.macs, totals.macs),
                "params_share": _share(counts.params, totals.params),
            }
            for kind, counts in network.breakdown().items()
        },
    }


def sweep_dict(points: list[Point]) -> dict[str, Any]:
    """The body of ``sweep --json``: every point shaped like ``layer --json``, plus what was swept there."""
    swept = [key for key in points[0].swept if len({p.swept[key] for p in points}) > 1] if points else []
    return {
        "convcost_version": __version__,
        "conventions": conventions.AS_JSON,
        "swept": {key: [p.swept[key] for p in points] for key in swept},
        "points": [{**comparison_dict(p.comparison), "swept": p.swept} for p in points],
    }
