"""Plain dicts for JSON: the public, stable layout documented in the README.

Counts stay ints; ratios are floats computed from the exact ints (their exact
fraction is given as a string beside them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import __version__, conventions
from .conv import Conv, Counts
from .variants import Comparison, Variant

if TYPE_CHECKING:
    from .network import Network, Row


def counts_dict(counts: Counts) -> dict[str, int]:
    return {
        "macs": counts.macs,
        "flops": counts.flops,
        "adds": counts.adds,
        "params": counts.params,
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


def variant_dict(variant: Variant) -> dict[str, Any]:
    data: dict[str, Any] = counts_dict(variant.counts)
    data.update(
        ratio=variant.ratio,
        ratio_exact=str(variant.exact_ratio),
        params_ratio=variant.params_ratio,
        reduction_pct=variant.reduction_pct,
    )
    if len(variant.parts) > 1:
        data["parts"] = {
            part.name: {**counts_dict(part.counts), **_part_geometry(part.layer)} for part in variant.parts
        }
    return data


def _part_geometry(layer: Conv) -> dict[str, Any]:
    return {
        "kernel": list(layer.kernel),
        "groups": layer.groups,
        "output_shape": list(layer.output_shape),
    }


def comparison_dict(c: Comparison) -> dict[str, Any]:
    """The body of ``convcost layer --json``."""
    data: dict[str, Any] = {"convcost_version": __version__, "conventions": conventions.AS_JSON}
    data.update(geometry_dict(c.layer))
    data.update(counts_dict(c.counts))
    data["variants"] = {name: variant_dict(v) for name, v in c.variants.items()}
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


def row_dict(row: Row, total_macs: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": row.name,
        "type": row.type,
        "path": row.path,
        "input_shape": list(row.input_shape),
        "output_shape": list(row.output_shape),
    }
    data.update(counts_dict(row.counts))
    data["macs_share"] = _share(row.counts.macs, total_macs)
    if row.comparison is not None:
        c = row.comparison
        data["kernel"] = list(c.layer.kernel)
        data["stride"] = list(c.layer.stride)
        data["padding"] = [list(pair) for pair in c.layer.padding]
        data["variants"] = {name: variant_dict(v) for name, v in c.variants.items()}
        data["theory_ratio"] = c.theory_ratio
    return data


def network_dict(network: Network, source: str | None = None) -> dict[str, Any]:
    """The body of ``convcost compare --json``."""
    totals = network.totals
    options = network.options
    variants = network.variant_totals()
    regular = variants["regular"]
    return {
        "convcost_version": __version__,
        "conventions": conventions.AS_JSON,
        "source": source,
        "options": {
            "as": options.as_form,
            "width_mult": str(options.width_mult) if options.width_mult is not None else None,
            "in": list(options.input_shape) if options.input_shape is not None else None,
        },
        "input_shape": list(network.input_shape) if network.input_shape else None,
        "output_shape": list(network.output_shape) if network.output_shape else None,
        "layers": [row_dict(row, totals.macs) for row in network.rows],
        "totals": counts_dict(totals),
        "variants": {
            name: {
                **counts_dict(counts),
                "ratio": _share(counts.macs, regular.macs),
                "params_ratio": _share(counts.params, regular.params),
            }
            for name, counts in variants.items()
        },
        "breakdown": {
            kind: {
                **counts_dict(counts),
                "macs_share": _share(counts.macs, totals.macs),
                "params_share": _share(counts.params, totals.params),
            }
            for kind, counts in network.breakdown().items()
        },
    }
