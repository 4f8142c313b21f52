"""The commands: each builds its inputs from the flags, makes one call to :mod:`convcost.api`, and
hands the result to the output layer. Reading inputs, costing and formatting all live below.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

import click

from .. import __version__, api
from ..core import collector
from ..core.errors import escape_text
from ..core.layout import channels_first_note
from ..core.values import format_dims
from ..output import sink, streams
from ..output.formats import FORMATS
from .errors import OneLineError, flag_error, input_errors
from .group import check_not_input, check_output, cli, output_format, progress, show, writing
from .options import (
    Choice,
    FilePath,
    compare_options,
    cost_args,
    file_option,
    fold_constants_option,
    layer_options,
    memory_args,
    memory_options,
    output_options,
    spec_path,
    sweep_options,
)

# ---------------------------------------------------------------- the calls, from the flags


class Costed(NamedTuple):
    summary: Any  # NetworkSummary or SweepSummary
    title: str
    notes: list[str]


def one_d_note(shape: Any) -> str:
    from ..output.views import one_d_words

    return f"--in {format_dims(shape)}: {one_d_words(tuple(shape))}."


def warn_layout(notes: Sequence[str], shape: Sequence[int] | None) -> None:
    """A layout habit caught (3x224x224 given for 224x224x3): the result's note about ``shape``, if
    it has one, also as one line on stderr; the exit stays 0."""
    if shape is None:
        return
    habits = {channels_first_note(shape, given) for given in ("--in", "input:")}
    for note in notes:
        if note in habits:
            streams.error_line(f"Warning: {escape_text(note)}")


def layer_summary_of(args: dict[str, Any]) -> Any:
    """The layer's summary from the command's arguments."""
    with input_errors():
        summary = api.cost_layer(
            args["in_shape"],
            args["out"],
            args["kernel"],
            stride=args["stride"],
            padding=args["padding"],
            dilation=args["dilation"],
            groups=args["groups"],
            bias=args["bias"],
            transposed=args["transposed"],
            output_padding=args["output_padding"],
            **cost_args(args),
        )
    warn_layout(summary.notes, summary.layer.in_shape)
    return summary


def network_summary_of(args: dict[str, Any], fmt: str, output: str | None, wide: bool = False) -> Costed:
    """The network's summary from the command's arguments (a bar on stderr while it is costed).

    A table fitted to a terminal (not ``--wide``, a file or a plain pipe) with no ``--depth``
    rolls up to the deepest depth that shows at most :data:`sink.TABLE_ROWS` rows."""
    spec = args["spec"]
    check_not_input(output, spec, "SPEC")
    source = "<stdin>" if spec == "-" else spec
    options = cost_args(args)
    if "memory" in args:  # compare's memory flags (plot compare has none)
        options.update(memory_args(args))
    with input_errors(), progress(f"Costing {escape_text(source)}", fmt, output):
        summary = api.cost(
            spec,
            as_form=args["as_form"],
            width_mult=args["width_mult"],
            input_shape=args["in_shape"],
            max_layers=args["max_layers"],
            depth=args["depth"],
            hide_zero=args["hide_zero"],
            fit_rows=sink.table_rows(output, wide) if fmt == "table" else None,
            fold_constants=args["fold_constants"],
            **options,
        )
    warn_layout(summary.notes, summary.input_shape)
    asked = summary.options["in"]
    notes = [one_d_note(asked)] if isinstance(asked, list) and len(asked) == 2 else []
    title = f"{source}: {_counted(summary.layer_count, 'layer')}"
    if summary.depth is not None:
        title += f", {_counted(len(summary.rows), 'row')} at depth {summary.depth}"
    return Costed(summary, title, notes)


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'s' * (count != 1)}"


_SKIP_WORDS = {
    "groups": "--groups does not divide the channels",
    "kernel": "the kernel is larger than the (padded) input",
}


def sweep_summary_of(args: dict[str, Any], fmt: str, output: str | None) -> Costed:
    """The sweep's summary from the command's arguments, and its notes: what was skipped, and why."""
    swept = {key: args["in_shape" if key == "in" else key] for key in api.SWEPT}
    fixed = {key: args[key] for key in ("padding", "bias", "transposed", "output_padding")}
    options = cost_args(args)
    with input_errors(), progress("Sweeping", fmt, output) as bar:
        summary = api.cost_sweep(swept, fixed, on_point=bar.advance, **options)
    notes = []
    if summary.skipped:
        reasons = [
            f"{skip.points:,} where {_SKIP_WORDS[field]} (e.g. {flag_error(skip.example)})"
            if field in _SKIP_WORDS
            else f"{skip.points:,} with {flag_error(skip.example)}"
            for field, skip in summary.skipped_by_field.items()
        ]
        skipped = f"Skipped {summary.skipped:,} of {summary.total:,} points"
        notes.append(f"{skipped} that cannot exist: {'; '.join(reasons)}.")
    one_d = sorted({p.layer.layer.in_shape for p in summary.points if len(p.layer.layer.in_shape) == 2})
    notes += [one_d_note(shape) for shape in one_d]
    return Costed(summary, "", notes)


# ---------------------------------------------------------------- layer, compare, sweep


@cli.command(short_help="One conv layer and its regular, grouped, separable forms.")
@layer_options
@output_options
def layer(fmt: str | None, as_json: bool, output: str | None, wide: bool, **args: Any) -> None:
    """Cost one conv layer and its regular, grouped and depthwise-separable forms.

    \b
    Examples:
      convcost layer --in 28x28x8 --out 16 -k 3
      convcost layer --in 56x56x64 --out 64 -k 3 --padding 1 --device h100
      convcost layer --in 224x224x3 --out 32 -k 3 --stride 2 --padding same --json
      convcost layer --in 28x28x8 --out 16 -k 3 --format html -o layer.html
    """
    shown = output_format(fmt, as_json, output)
    show(layer_summary_of(args), shown, output=output, wide=wide)


@cli.command("compare", short_help="A network or a what-if list from YAML, JSON or ONNX.")
@compare_options
@memory_options
@output_options
def compare_command(
    fmt: str | None, as_json: bool, output: str | None, wide: bool, fail_over: bool, **args: Any
) -> None:
    """Cost a network or a list of layers: a YAML, JSON or ONNX file, a shipped spec by name
    (see 'convcost models'), or '-' for stdin (any of the three).

    \b
    Examples:
      convcost compare mobilenet_v1
      convcost compare mobilenet_v1 --width-mult 0.5 --in 160x160x3 --json
      convcost compare resnet50 --device a100 --format html -o resnet50.html
      cat model.onnx | convcost compare - --format csv
      convcost compare mobilenet_v2 --dtype int8 --sram stm32f746 --patches 4x4
    """
    shown = output_format(fmt, as_json, output)
    if fail_over and args["sram"] is None and args["flash"] is None:
        raise OneLineError("--fail-over: nothing to fail on; give --sram SIZE or --flash SIZE too")
    with collector.paused():
        costed = network_summary_of(args, shown, output, wide)
        show(costed.summary, shown, costed.title, notes=costed.notes, output=output, wide=wide)
    found = costed.summary.peak_memory
    misfits = found.misfits() if fail_over and found is not None else []
    if misfits:  # --fail-over: the report is written in full, then a misfit fails the run
        for line in misfits:
            streams.error_line(f"Does not fit: {line}")
        sys.exit(1)


@cli.command("sweep", short_help="A layer over lists and ranges; the saving charted.")
@sweep_options
@output_options
def sweep_command(fmt: str | None, as_json: bool, output: str | None, wide: bool, **args: Any) -> None:
    """Cost a layer over lists and ranges of its values, and chart the depthwise-separable saving.

    Every 'layer' flag works; --in, --out, -k, --groups, --stride and --dilation take
    comma lists, --out and --groups ranges too. Points that cannot exist (groups that do
    not divide the channels, a kernel larger than the input) are skipped and counted.

    \b
    Examples:
      convcost sweep --in 28x28x8 --out 16..1024*2 -k 3
      convcost sweep --in 56x56x64 --out 64 -k 1,3,5,7 --padding same --format csv
      convcost sweep --in 28x28x64 --out 64 -k 3 --groups 1..64*2 --device a100
      convcost sweep --in 28x28x8 --out 16..1024*2 -k 3 --format html -o s.html
    """
    shown = output_format(fmt, as_json, output)
    with collector.paused():
        costed = sweep_summary_of(args, shown, output)
        show(costed.summary, shown, notes=costed.notes, output=output, wide=wide)


# ---------------------------------------------------------------- import


@cli.command("import", short_help="The spec YAML of an ONNX model.")
@click.argument("model", metavar="MODEL.onnx", type=spec_path())
@click.option("--in", "in_shape", metavar="SHAPE", help="Replace the model's input shape (e.g. 160x160x3).")
@click.option("--batch", metavar="N", help="Replace the model's batch (a symbolic one is taken as 1).")
@fold_constants_option
@file_option()
def import_command(
    model: str, in_shape: str | None, batch: str | None, fold_constants: bool, output: str | None
) -> None:
    """Write the spec YAML of an ONNX model ('-' reads it from stdin). Needs the onnx extra:
    pip install 'convcost[onnx]'.

    \b
    Examples:
      convcost import resnet18.onnx -o resnet18.yaml
      convcost compare resnet18.yaml
      cat model.onnx | convcost import - > model.yaml
    """
    check_output(output)
    check_not_input(output, model, "MODEL")
    with input_errors("MODEL"), progress(f"Reading {escape_text(model)}", "yaml", output):
        loaded = api.convert(model, in_shape, batch, fold_constants)
    import yaml

    # comment lines: a newline in the file name or a note must not start a line of YAML
    source = "<stdin>" if model == "-" else model
    header = [f"# {escape_text(source)}, converted by convcost {__version__} ('convcost import')."]
    header.append(f"# The model holds a batch of {loaded.batch}; this spec costs one sample (use --batch).")
    header += [f"# Note: {escape_text(note)}" for note in loaded.notes]
    body = yaml.safe_dump(
        loaded.document, sort_keys=False, allow_unicode=True, default_flow_style=None, width=110
    )
    from ..output.sink import write

    with writing():
        write("\n".join(header) + "\n" + body, output)


# ---------------------------------------------------------------- schema, devices, models


#: What a bare ``schema --output`` gives, the old spelling of ``schema output`` (--output took no
#: FILE there); kept working, with a note.
_OLD_OUTPUT_FLAG = "\x01schema --output"


def _bare_output_flag(out_file: str | None) -> bool:
    """Whether the old bare ``--output`` was given beside ``-o FILE`` (which took the value)."""
    from .group import _ARGS

    args = [*_ARGS, ""]
    return out_file is not None and any(
        arg == "--output" and args[i + 1].startswith("-") and args[i + 1] != "-"
        for i, arg in enumerate(args[:-1])
    )


@cli.command(short_help="The JSON Schema of spec files, or of --json output.")
@click.argument("which", required=False, type=Choice(("spec", "output")), metavar="[spec|output]")
@click.option(
    "--format",
    "fmt",
    type=Choice(FORMATS),
    default=None,
    metavar="FORMAT",
    help=f"json (the schema itself; the default), or {', '.join(f for f in FORMATS if f != 'json')}: "
    "one row per key.",
)
@click.option("--json", "as_json", is_flag=True, help="Shorthand for --format json.")
@click.option(
    "-o",
    "--output",
    "out_file",
    type=FilePath(allow_dash=True),
    is_flag=False,
    flag_value=_OLD_OUTPUT_FLAG,
    metavar="FILE",
    help="Write to FILE instead of stdout, atomically; with no --format its suffix picks one.",
)
@click.option("--wide", is_flag=True, help="Tables at their natural width.")
def schema(which: str | None, fmt: str | None, as_json: bool, out_file: str | None, wide: bool) -> None:
    """Print the JSON Schema (draft 2020-12) of the spec format ('spec', the default), or of the
    JSON output ('output').

    \b
    Examples:
      convcost schema -o convcost.schema.json
      # then, first line of a spec:
      #   # yaml-language-server: $schema=./convcost.schema.json
      convcost schema output -o convcost.output.schema.json
      convcost schema --format table
    """
    if out_file == _OLD_OUTPUT_FLAG or _bare_output_flag(out_file):
        streams.error_line(
            "Note: 'schema --output' is deprecated: say 'schema output' (--output FILE names a file, "
            "as in every command)."
        )
        which = "output"
        out_file = None if out_file == _OLD_OUTPUT_FLAG else out_file
    shown = output_format(fmt, as_json, out_file, default="json")
    show(api.schema(which or "spec"), shown, output=out_file, wide=wide)


@cli.command(short_help="The device profiles for roofline estimates.")
@output_options
def devices(fmt: str | None, as_json: bool, output: str | None, wide: bool) -> None:
    """List the built-in device profiles for roofline estimates, with their sources.

    \b
    Examples:
      convcost devices
      convcost layer --in 56x56x64 --out 64 -k 3 --padding 1 --device h100
      convcost devices --format csv -o devices.csv
    """
    from ..core.devices import DEVICES

    show(DEVICES, output_format(fmt, as_json, output), output=output, wide=wide)


@cli.command(short_help="The shipped specs: paper, input, MACs, params.")
@output_options
def models(fmt: str | None, as_json: bool, output: str | None, wide: bool) -> None:
    """List the specs shipped with convcost, each with its paper, input, MACs and params.

    Any of them works by name, from any directory: 'convcost compare resnet50'.

    \b
    Examples:
      convcost models
      convcost compare mobilenet_v2
      convcost models --format markdown
    """
    shown = output_format(fmt, as_json, output)
    with collector.paused(), progress("Costing the shipped specs", shown, output, api.model_count()) as bar:
        found = api.models(on_model=bar.advance)
    show(found, shown, output=output, wide=wide)
