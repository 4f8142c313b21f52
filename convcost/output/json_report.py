"""JSON documents (format version 2), rendered from the summary: the public, versioned layout.

Counts stay ints; ratios are floats computed from the exact ints (their exact fraction is
given as a string beside them). Counts of work (MACs, FLOPs, adds, other ops) are for the
whole batch; parameters are per model. The layout is documented in the README and checked
against :func:`convcost.output.json_schema.output_schema` by the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from functools import singledispatch
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..core import conventions
from ..core.conv import Conv
from ..core.devices import Device
from ..core.errors import bad_value
from ..core.forms import Comparison
from ..core.options import DEFAULT, Convention, Settings

if TYPE_CHECKING:  # imported where a network is reported: ``layer --json`` starts without them
    from ..model.evaluate import Network
    from ..model.receptive_field import ReceptiveField
from .summary import (
    LayerSummary,
    Memory,
    NetworkSummary,
    RowSummary,
    StepSummary,
    SweepSummary,
    Theory,
    VariantSummary,
    Work,
    layer_summary,
    network_summary,
)

FORMAT_VERSION = 2


def _join(*parts: Mapping[str, Any]) -> dict[str, Any]:
    """Merge objects whose keys must not collide: a key is never silently overwritten."""
    data: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key in data:
                raise AssertionError(f"JSON key {key!r} would be written twice")
            data[key] = value
    return data


def work_dict(w: Work) -> dict[str, int]:
    return {"macs": w.macs, "flops": w.flops, "adds": w.adds, "other_ops": w.other_ops, "params": w.params}


def memory_dict(m: Memory) -> dict[str, Any]:
    data: dict[str, Any] = {
        "bytes": m.bytes,
        "arithmetic_intensity": m.arithmetic_intensity,
        "memory": {
            "input_bytes": m.input_bytes,
            "weight_bytes": m.weight_bytes,
            "output_bytes": m.output_bytes,
            "intermediate_bytes": m.intermediate_bytes,
        },
    }
    if m.timing is not None:
        t = m.timing
        data.update(time_s=t.time_s, bound=t.bound, compute_s=t.compute_s, memory_s=t.memory_s)
    return data


def device_dict(device: Device) -> dict[str, Any]:
    """A device profile, the same object everywhere (``peak_flops`` per dtype)."""
    return {
        "name": device.name,
        "title": device.title,
        "peak_flops": {dtype.value: peak for dtype, peak in device.peak.items()},
        "bandwidth_bytes_per_s": device.bandwidth,
        "source": device.source,
    }


@singledispatch
def _echo(value: object) -> Any:
    """A setting's value as JSON: ints and booleans as they are (see the types registered below)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"no JSON echo for a setting of type {type(value).__name__}")


@_echo.register(Enum)
def _(value: Enum) -> Any:
    return value.value


@_echo.register(Convention)
def _(value: Convention) -> dict[str, Any]:
    kind = value.kind.value
    return {"count": kind, "bias": value.bias, "label": value.label, "definition": value.definition}


@_echo.register(Device)
def _(value: Device) -> dict[str, Any]:
    return device_dict(value)


def settings_dict(s: Settings) -> dict[str, Any]:
    """The settings a document was counted under: every field of :class:`Settings`, in its order."""
    return {name: _echo(value) for name, value in zip(type(s)._fields, s, strict=True)}


def head_dict(s: Settings) -> dict[str, Any]:
    """What every document starts with: version, conventions and the settings it was counted under."""
    return {
        "format_version": FORMAT_VERSION,
        "convcost_version": __version__,
        "conventions": conventions.AS_JSON,
        **settings_dict(s),
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


# The objects below run once per row or sweep point: they are dict displays (ruff refuses a key
# written twice in one), not _join calls, for speed.


def _step_dict(step: StepSummary) -> dict[str, Any]:
    return {
        **work_dict(step.work),
        "kernel": list(step.layer.kernel),
        "groups": step.layer.groups,
        "output_shape": list(step.layer.output_shape),
        **memory_dict(step.memory),
    }


def variant_dict(v: VariantSummary) -> dict[str, Any]:
    data = {
        **work_dict(v.work),
        "ratio": v.ratio,
        "ratio_exact": v.ratio_exact,
        "params_ratio": v.params_ratio,
        "reduction_pct": v.reduction_pct,
        "count_ratio": v.count_ratio,
        **memory_dict(v.memory),
    }
    if v.steps:
        data["parts"] = {step.name: _step_dict(step) for step in v.steps}
    return data


def _theory_dict(t: Theory) -> dict[str, Any]:
    return {"expression": t.expression, "n": t.n, "dk2": t.dk2, "ratio_exact": t.ratio_exact}


def _layer_body(summary: LayerSummary) -> dict[str, Any]:
    """A layer without the settings: the body of ``layer --json``, and of each sweep point."""
    extra: dict[str, Any] = {"effective_macs": summary.effective_macs}
    if summary.dense_macs is not None:
        extra["dense_macs"] = summary.dense_macs
    return {
        **geometry_dict(summary.layer),
        **work_dict(summary.work),
        **extra,
        **memory_dict(summary.memory),
        "variants": {v.name: variant_dict(v) for v in summary.variants},
        "theory_ratio": summary.theory.ratio,
        "theory": _theory_dict(summary.theory),
        "notes": list(summary.notes),
    }


def layer_document(summary: LayerSummary) -> dict[str, Any]:
    """The body of ``convcost layer --json``."""
    return _join(head_dict(summary.settings), _layer_body(summary))


def _field_dict(rf: ReceptiveField | None) -> dict[str, Any] | None:
    return None if rf is None else {"size": list(rf.size), "stride": list(rf.stride), "start": list(rf.start)}


def row_dict(row: RowSummary, variants_memo: dict[int, dict[str, Any]]) -> dict[str, Any]:
    data = {
        "name": row.name,
        "module": row.module,
        "type": row.type,
        "path": row.path,
        "input_shape": list(row.input_shape),
        "output_shape": list(row.output_shape),
        **work_dict(row.work),
        "macs_share": row.macs_share,
        "effective_macs": row.effective_macs,
        **memory_dict(row.memory),
        "receptive_field": _field_dict(row.receptive_field),
    }
    if row.layer is not None:
        # rows with the same conv share one (read-only) variants object
        found = variants_memo.get(id(row.variants))
        if found is None:
            found = variants_memo[id(row.variants)] = {v.name: variant_dict(v) for v in row.variants}
        data.update(
            kernel=list(row.layer.kernel),
            stride=list(row.layer.stride),
            padding=[list(pair) for pair in row.layer.padding],
            variants=found,
            theory_ratio=row.theory_ratio,
        )
    if row.forms:  # a roll-up of several rows (--depth)
        data["rows"] = row.rows
        if row.calls > 1:  # a module run in separate places (its shapes are its first call's)
            data["calls"] = row.calls
        data["forms"] = {
            form.name: _join(work_dict(form.work), {"ratio": form.ratio, "params_ratio": form.params_ratio})
            for form in row.forms
        }
    return data


def network_document(summary: NetworkSummary) -> dict[str, Any]:
    """The body of ``convcost compare --json``."""
    memo: dict[int, dict[str, Any]] = {}
    totals = _join(work_dict(summary.totals), {"bytes": summary.total_bytes})
    if summary.total_time_s is not None:
        totals["time_s"] = summary.total_time_s
    head = head_dict(summary.settings)
    asked: dict[str, Any] = {}
    if summary.peak_memory is not None:  # asked for (compare --memory): its rule joins the conventions
        from ..model.memory_report import CONVENTION

        head["conventions"] = {**head["conventions"], "peak_memory": CONVENTION}
        asked["memory"] = summary.peak_memory.as_dict()
    return _join(
        head,
        {
            "source": summary.source,
            "options": dict(summary.options),
            "input_shape": list(summary.input_shape) if summary.input_shape else None,
            "output_shape": list(summary.output_shape) if summary.output_shape else None,
            "outputs": [{"name": name, "shape": list(shape)} for name, shape in summary.outputs],
            "layers": [row_dict(row, memo) for row in summary.rows],
            "totals": totals,
            "variants": {
                form.name: _join(
                    work_dict(form.work), {"ratio": form.ratio, "params_ratio": form.params_ratio}
                )
                for form in summary.forms
            },
            "breakdown": {
                kind.kind: _join(
                    work_dict(kind.work),
                    {"label": kind.label, "macs_share": kind.macs_share, "params_share": kind.params_share},
                )
                for kind in summary.breakdown
            },
            "notes": list(summary.notes),
            "unsupported": dict(summary.unsupported),
        },
        asked,
    )


def _swept(value: int | tuple[int, ...]) -> int | list[int]:
    return value if isinstance(value, int) else list(value)


def sweep_document(summary: SweepSummary) -> dict[str, Any]:
    """The body of ``sweep --json``: the settings once, then every point shaped like a layer."""
    return _join(
        head_dict(summary.settings),
        {
            "swept": {key: [_swept(p.swept[key]) for p in summary.points] for key in summary.varying},
            "skipped": summary.skipped,
            "points": [
                {"swept": {k: _swept(v) for k, v in p.swept.items()}, **_layer_body(p.layer)}
                for p in summary.points
            ],
        },
    )


def devices_document(devices: Mapping[str, Device]) -> dict[str, Any]:
    """The body of ``devices --json``."""
    return {
        "format_version": FORMAT_VERSION,
        "convcost_version": __version__,
        "devices": {name: device_dict(d) for name, d in devices.items()},
    }


def _api_check(value: object, kind: type, field: str, made_by: str) -> None:
    if not isinstance(value, kind):
        raise bad_value(field, value, f"expected {made_by}")


def comparison_dict(c: Comparison, s: Settings = DEFAULT) -> dict[str, Any]:
    """``layer --json`` for a comparison (the Python API's shortcut)."""
    _api_check(c, Comparison, "comparison", "what convcost.compare(...) returns")
    _api_check(s, Settings, "settings", "convcost.make_settings(...)")
    return layer_document(layer_summary(c, s))


def network_dict(
    network: Network, source: str | None = None, s: Settings = DEFAULT, notes: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``compare --json`` for a costed network (the Python API's shortcut)."""
    from ..model.evaluate import Network

    _api_check(network, Network, "network", "what convcost.evaluate(...) returns")
    _api_check(s, Settings, "settings", "convcost.make_settings(...)")
    if source is not None and not isinstance(source, str):
        raise bad_value("source", source, "expected text or None")
    given: object = notes
    if not isinstance(given, (tuple, list)) or not all(isinstance(note, str) for note in given):
        raise bad_value("notes", notes, "expected a tuple of texts")
    return network_document(network_summary(network, source, s, notes))
