"""The public calls: cost a network, a layer or a sweep the way the command line does.

:func:`cost` takes anything ``convcost compare`` takes — a shipped spec's name, a spec or ONNX
file, ``-`` for stdin — and also the bytes of one, a spec dict, or (with the torch extra) a
PyTorch module. Its options are ``compare``'s flags, dashes written as underscores (``--as``
is ``as_form``, ``--in`` is ``input_shape``). Each call returns the summary every output format
renders from; ``.to_dict()`` is the ``--json`` object.

Errors are :class:`~convcost.core.errors.ConvCostError`: an option's names the option
(``width_mult``); problems in the input are one :class:`~convcost.io.source.SourceErrors`
naming the input, each problem with its spec path and line; an input that cannot be read at
all is a :class:`~convcost.io.source.CannotRead` (an ``OSError``).

Nothing here imports click or rich: the command line is a thin layer over these calls.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Union

from .core import limits, values
from .core.errors import ConvCostError, bad_value
from .core.options import Settings, read_shape, settings
from .core.options import max_layers as layer_budget
from .io.source import CannotRead, NotOnnx, SourceErrors, located
from .model.sweep import SWEPT

if TYPE_CHECKING:
    from .io.source import Loaded
    from .output.summary import Catalogue, LayerSummary, NetworkSummary, SchemaDocument, SweepSummary

#: What :func:`cost` takes: a name, a path or ``-``; the bytes of a spec or a model; a spec dict;
#: or a ``torch.nn.Module`` (with ``input=``).
Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, Mapping[str, Any], Any]

#: The name a source held in memory goes by in messages and in the result's ``source``.
BYTES = "<bytes>"


def make_settings(
    dtype: object = "fp32",
    batch: object = None,
    fused: object = False,
    count: object = "macs",
    count_bias: object = None,
    device: object = None,
    peak_tflops: object = None,
    bandwidth_gbs: object = None,
    fold_constants: object = False,
    channels_first: object = False,
) -> Settings:
    """The settings of a run, from the flags' values (``batch`` None: 1)."""
    return settings(
        dtype=dtype,
        batch=1 if batch is None else batch,
        fused=fused,  # type: ignore[arg-type]  # settings() checks it is a bool
        count=count,
        count_bias=count_bias,  # type: ignore[arg-type]
        device=device,
        peak_tflops=peak_tflops,
        bandwidth_gbs=bandwidth_gbs,
        fold_constants=fold_constants,  # type: ignore[arg-type]  # settings() checks it is a bool
        channels_first=channels_first,  # type: ignore[arg-type]  # settings() checks it is a bool
    )


def cost(
    source: Source,
    *,
    as_form: object = None,
    width_mult: object = None,
    input_shape: object = None,
    max_layers: object = None,
    depth: object = None,
    hide_zero: object = False,
    fit_rows: object = None,
    input: object = None,
    dtype: object = "fp32",
    batch: object = None,
    fused: object = False,
    count: object = "macs",
    count_bias: object = None,
    device: object = None,
    peak_tflops: object = None,
    bandwidth_gbs: object = None,
    fold_constants: object = False,
    memory: object = False,
    inplace_depthwise: object = False,
    sram: object = None,
    flash: object = None,
    patches: object = None,
    channels_first: object = False,
) -> NetworkSummary:
    """The cost of a network: what ``convcost compare SOURCE`` shows, in every format.

    ``batch`` None is 1, or an ONNX model's own batch; given, it replaces an ONNX model's.
    ``input`` (a shape, or a tensor or tuple of tensors) is the example input of a PyTorch
    module, which is exported to ONNX in memory and costed as the model.
    ``channels_first`` reads ``input_shape`` in PyTorch's order (``3x224x224``; ``1x3x224x224``,
    whose first dim is the batch).
    ``depth`` rolls the rows up to modules that many levels deep; ``hide_zero`` leaves out rows
    with no MACs and no params (the totals keep them). ``fit_rows`` (with no ``depth``) rolls
    them up to the deepest depth that shows at most that many rows, when there are more (what
    the terminal's table does; ``.fitted`` says so); the rows are never rolled up unasked.
    ``fold_constants``: an ONNX model's compute whose inputs are all constants is folded (free)
    instead of costed as layers.
    ``memory=True`` adds the peak activation memory (``.peak_memory``; JSON ``memory``), and so
    does any of ``inplace_depthwise`` (TinyEngine's in-place depthwise convs), ``sram`` and
    ``flash`` (a size such as ``"256KiB"``, or a board's name: does it fit?) and ``patches``
    (``"4x4"``: the first stage run patch by patch, MCUNetV2).
    """
    chosen = make_settings(
        dtype,
        batch,
        fused,
        count,
        count_bias,
        device,
        peak_tflops,
        bandwidth_gbs,
        fold_constants=fold_constants,
        channels_first=channels_first,
    )
    from .model.memory_report import request
    from .model.whatif import options as what_if

    asked_memory = request(memory, inplace_depthwise, sram, flash, patches)
    given_batch = chosen.batch if batch is not None else None
    if input_shape is not None:
        input_shape, read = read_shape(input_shape, chosen)
        if read.batch != chosen.batch:  # the N of an N×C×H×W given with --channels-first
            chosen, given_batch = read, read.batch
    options = what_if(as_form, width_mult, input_shape)
    budget = layer_budget(max_layers)
    levels = None if depth is None else values.positive_int(depth, "depth")
    budget_rows = None if fit_rows is None else values.positive_int(fit_rows, "fit_rows")
    if not isinstance(hide_zero, bool):
        raise bad_value("hide_zero", hide_zero, "expected true or false")
    with limits.allowing(budget):
        name, loaded = _load(source, options.input_shape, given_batch, input, chosen.fold_constants)
        asked = options
        if loaded.onnx:
            # The converter re-inferred every shape for input_shape, and the model's batch is the batch.
            options = options._replace(input_shape=None)
            chosen = chosen._replace(batch=loaded.batch)
        network = _evaluate(loaded.document, options, name)
        network.options = asked  # report the what-ifs the user asked for
        from .output.summary import network_summary

        summary = network_summary(
            network, name, chosen, loaded.notes, loaded.unsupported, levels, hide_zero, budget_rows
        )
        if asked_memory is None:
            return summary
        import dataclasses

        from .model.memory_report import analyse

        found = analyse(
            network,
            chosen.dtype,
            chosen.batch,
            inplace_depthwise=asked_memory.inplace_depthwise,
            sram=asked_memory.sram,
            flash=asked_memory.flash,
            patches=asked_memory.patches,
        )
        return dataclasses.replace(summary, peak_memory=found)


def _load(
    source: Source,
    input_shape: tuple[int, ...] | None,
    batch: int | None,
    example: object,
    fold_constants: bool = False,
) -> tuple[str | None, Loaded]:
    """The source's name and its document."""
    from .io import source as reading

    if _is_module_class(source):
        assert isinstance(source, type)
        name = source.__name__
        raise ConvCostError("source", f"{name} is a class of PyTorch modules; pass a module, {name}(...)")
    if example is not None and not _is_module(source):
        raise ConvCostError("input", "is the example input of a PyTorch module; this source is not one")
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if isinstance(source, str):
        document = reading.load_document(source, input_shape, batch, fold_constants=fold_constants)
        return reading.source_name(source), document
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        onnx = data[:1] == reading.ONNX_FIRST_BYTE
        return BYTES, reading.parse(data, onnx, BYTES, input_shape, batch, fold_constants)
    if isinstance(source, Mapping):
        return None, reading.Loaded(source, [])
    if _is_module(source):
        from .io.torch_export import export

        if example is None:
            raise ConvCostError("input", "a PyTorch module needs an example input: a shape or tensors")
        name = type(source).__name__
        return name, reading.parse(export(source, example), True, name, input_shape, batch, fold_constants)
    raise bad_value(
        "source",
        source,
        "expected a shipped spec's name, a path, '-', the bytes of a spec or model, a spec dict, "
        "or a torch.nn.Module",
    )


def _is_module(source: object) -> bool:
    """Whether ``source`` is a ``torch.nn.Module`` (torch is never imported to find out)."""
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(source, torch.nn.Module)


def _is_module_class(source: object) -> bool:
    """Whether ``source`` is a subclass of ``torch.nn.Module`` (torch is never imported to find out)."""
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(source, type) and issubclass(source, torch.nn.Module)


def _evaluate(document: object, options: Any, name: str | None) -> Any:
    """The network of a document; its problems are one :class:`SourceErrors` naming the input."""
    from .model.evaluate import InputRankError, evaluate
    from .model.spec_check import SpecErrors

    where = name if name is not None else "spec"
    try:
        return evaluate(document, options)
    except InputRankError:
        raise  # the input_shape given is at fault, not the spec
    except SpecErrors as errors:
        raise SourceErrors(where, errors.errors) from None
    except ConvCostError as exc:
        raise SourceErrors(where, [exc]) from None


def cost_layer(
    in_shape: object,
    out: object,
    kernel: object,
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    bias: object = False,
    transposed: object = False,
    output_padding: object = 0,
    dtype: object = "fp32",
    batch: object = None,
    fused: object = False,
    count: object = "macs",
    count_bias: object = None,
    device: object = None,
    peak_tflops: object = None,
    bandwidth_gbs: object = None,
    channels_first: object = False,
) -> LayerSummary:
    """One conv layer and its forms: what ``convcost layer`` shows. The arguments are its flags;
    ``channels_first`` reads ``in_shape`` in PyTorch's order (C×H×W, or N×C×H×W)."""
    from .core.conv import conv
    from .core.forms import compare

    chosen = make_settings(
        dtype,
        batch,
        fused,
        count,
        count_bias,
        device,
        peak_tflops,
        bandwidth_gbs,
        channels_first=channels_first,
    )
    shape, chosen = read_shape(in_shape, chosen)
    comparison = compare(
        conv(
            shape,
            out,
            kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,  # type: ignore[arg-type]  # conv() checks it is a bool
            transposed=transposed,  # type: ignore[arg-type]
            output_padding=output_padding,
        )
    )
    from .output.summary import layer_summary

    return layer_summary(comparison, chosen)


def cost_sweep(
    swept: Mapping[str, object],
    fixed: Mapping[str, object] | None = None,
    *,
    on_point: Callable[[], None] | None = None,
    dtype: object = "fp32",
    batch: object = None,
    fused: object = False,
    count: object = "macs",
    count_bias: object = None,
    device: object = None,
    peak_tflops: object = None,
    bandwidth_gbs: object = None,
) -> SweepSummary:
    """A layer over lists and ranges of its values: what ``convcost sweep`` shows.

    ``swept`` maps ``in``, ``out``, ``kernel``, ``groups``, ``stride`` and ``dilation`` to a value,
    a comma list or a range (``16..1024*2``); ``fixed`` holds ``padding``, ``bias``, ``transposed``
    and ``output_padding``. ``on_point`` is called after each point (a progress bar).
    """
    from .model.sweep import sweep
    from .output.summary import sweep_summary

    chosen = make_settings(dtype, batch, fused, count, count_bias, device, peak_tflops, bandwidth_gbs)
    points = sweep(swept, fixed if fixed is not None else {}, on_point=on_point)
    return sweep_summary(points, chosen, points.skipped, points.skipped_by_field, points.total)


def source_path(source: str) -> str:
    """The file read for ``source`` (``convcost compare``'s SPEC): a shipped spec's for its name."""
    from .io.source import resolve

    return resolve(source)


def convert(
    source: str, input_shape: object = None, batch: object = None, fold_constants: object = False
) -> Loaded:
    """An ONNX model (a path, or ``-``) as a spec document (``convcost import``); a spec is refused."""
    from .core import values
    from .io.source import load_document

    shape = values.shape(input_shape, "in") if input_shape is not None else None
    samples = values.positive_int(batch, "batch") if batch is not None else None
    if not isinstance(fold_constants, bool):
        raise bad_value("fold_constants", fold_constants, "expected true or false")
    return load_document(source, shape, samples, onnx_only=True, fold_constants=fold_constants)


def model_count() -> int:
    """How many specs are shipped (``convcost models`` lists them)."""
    from .io.builtin_specs import names

    return len(names())


def models(on_model: Callable[[], None] | None = None) -> Catalogue:
    """The shipped specs, each costed under the default conventions (``convcost models``)."""
    from .io.builtin_specs import catalogue
    from .io.spec_file import read
    from .model.evaluate import evaluate
    from .output.summary import Catalogue, ModelInfo

    infos = []
    for spec in catalogue():
        with spec.path.open("rb") as handle:
            data = handle.read()
        network = evaluate(read(data))
        totals = network.totals
        infos.append(
            ModelInfo(
                spec.name,
                spec.network,
                spec.paper,
                spec.title,
                network.input_shape,
                totals.macs,
                totals.params,
                network.row_count,
            )
        )
        if on_model is not None:
            on_model()
    return Catalogue(tuple(infos))


def schema(which: str = "spec") -> SchemaDocument:
    """The JSON Schema of spec files (``spec``) or of the ``--json`` output (``output``)."""
    from .output.summary import SchemaDocument

    if which == "output":
        from .output.json_schema import output_schema

        return SchemaDocument(output_schema(), "output")
    if which != "spec":
        raise bad_value("which", which, "expected spec or output")
    from .io.schema import spec_schema

    return SchemaDocument(spec_schema(), "spec")


__all__ = [
    "SWEPT",
    "CannotRead",
    "NotOnnx",
    "Source",
    "SourceErrors",
    "convert",
    "cost",
    "cost_layer",
    "cost_sweep",
    "located",
    "make_settings",
    "models",
    "schema",
    "source_path",
]
