"""Plain dicts for JSON: the public, stable layout documented in the README.

Counts stay ints; ratios are floats computed from the exact ints (their exact
fraction is given as a string beside them).
"""

from __future__ import annotations

from typing import Any

from . import __version__, conventions
from .conv import Conv, Counts
from .variants import Comparison, Variant


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
