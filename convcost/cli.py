"""The command line: build inputs, call the core once, render. Nothing else lives here.

Imports stay lazy so that ``--json`` never loads rich and flags never load yaml.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, BinaryIO, NamedTuple, NoReturn, TypeVar

import click

from . import __version__
from .core import conventions, limits
from .core.conv import conv
from .core.dtypes import DType
from .core.errors import ConvCostError, escape_text, shorten, show_value
from .core.forms import compare
from .core.options import AS_FORMS, CountKind, Settings, settings
from .output import streams
from .output.formats import FORMATS, Format

#: Core field names → the flag a user typed, so errors name what they can fix.
OPTION_NAMES = {
    "in": "--in",
    "out": "--out",
    "kernel": "-k/--kernel",
    "stride": "--stride",
    "padding": "--padding",
    "dilation": "--dilation",
    "groups": "--groups",
    "bias": "--bias",
    "output_padding": "--output-padding",
    "width_mult": "--width-mult",
    "dtype": "--dtype",
    "batch": "--batch",
    "count": "--count",
    "device": "--device",
    "peak_tflops": "--peak-tflops",
    "bandwidth_gbs": "--bandwidth-gbs",
}


F = TypeVar("F", bound=Callable[..., Any])


def _completer(*choices: str) -> Callable[[click.Context, click.Parameter, str], list[str]]:
    """Shell completion of an option's words."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
        return [word for word in choices if word.startswith(incomplete)]

    return complete


def _complete_device(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from .core.devices import DEVICES

    return [name for name in DEVICES if name.startswith(incomplete)]


def cost_options(func: F) -> F:
    """The options that say how to count and what machine to estimate for (layer and compare)."""
    options = [
        click.option(
            "--dtype",
            default="fp32",
            show_default=True,
            metavar="T",
            help="Element type: fp32, fp16, bf16 or int8.",
            shell_complete=_completer(*(t.value for t in DType)),
        ),
        click.option(
            "--batch",
            default=None,
            metavar="N",
            help="Batch size: work and activations scale. [default: 1, or an ONNX model's own]",
        ),
        click.option(
            "--fused",
            is_flag=True,
            help="Run a depthwise-separable pair as one kernel: its intermediate tensor stays on chip.",
        ),
        click.option(
            "--count",
            "count_kind",
            default="macs",
            show_default=True,
            metavar="KIND",
            help="Headline count: macs, flops (2 per MAC) or ops (exact multiplications + additions).",
            shell_complete=_completer(*(k.value for k in CountKind)),
        ),
        click.option(
            "--count-bias/--no-count-bias",
            default=None,
            help="Bias adds in the headline count (default: not in MACs; in FLOPs and ops).",
        ),
        click.option(
            "--device",
            metavar="NAME",
            help="Roofline estimate for a profile (see 'convcost devices').",
            shell_complete=_complete_device,
        ),
        click.option("--peak-tflops", metavar="X", help="Roofline for any machine: its dense peak, TFLOP/s."),
        click.option("--bandwidth-gbs", metavar="Y", help="… and its memory bandwidth, GB/s."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def output_options(func: F) -> F:
    """--format, and --json as its shorthand."""
    func = click.option("--json", "as_json", is_flag=True, help="Shorthand for --format json.")(func)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=None,
        help="Output: a table for people (default), one JSON object, CSV (raw integers) or a Markdown table.",
    )(func)


def output_format(fmt: str | None, as_json: bool) -> Format:
    if as_json and fmt not in (None, "json"):
        raise OneLineError(f"--json: conflicts with --format {fmt}; give one of them")
    return next(f for f in FORMATS if f == ("json" if as_json else fmt or "table"))


def make_settings(options: dict[str, Any]) -> Settings:
    """Build the settings from the cost options (popped from a command's keyword arguments)."""
    with core_errors():
        return settings(
            dtype=options.pop("dtype"),
            batch=options.pop("batch") or 1,
            fused=options.pop("fused"),
            count=options.pop("count_kind"),
            count_bias=options.pop("count_bias"),
            device=options.pop("device"),
            peak_tflops=options.pop("peak_tflops"),
            bandwidth_gbs=options.pop("bandwidth_gbs"),
        )


class OneLineError(click.UsageError):
    """A usage error shown as a single line on stderr (exit status 2)."""


class SpecProblems(click.ClickException):
    """Every problem in a spec file, one line each (exit status 2)."""

    exit_code = 2

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class ConvcostGroup(click.Group):
    """Every error, click's own included, becomes one line on stderr: no usage dump, no traceback."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.pop("standalone_mode", True)
        streams.fit_the_terminal()
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
            if sys.stdout is not None:
                sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
        except click.ClickException as exc:
            _fail(exc)
        except ConvCostError as exc:  # an error no command put in a flag's or a spec's words
            _fail(OneLineError(str(exc)))
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except OSError as exc:
            streams.output_failed(exc)
        except RecursionError:  # a guard: every known deep input is refused before it recurses
            _fail(OneLineError("the input nests too deeply"))
        if standalone:
            sys.exit(result if isinstance(result, int) else 0)
        return result


def _fail(exc: click.ClickException) -> NoReturn:
    """One line per problem on stderr, escaped (a name or value can never start a line of its own)."""
    if isinstance(exc, SpecProblems):
        lines = exc.lines[: limits.MAX_ERROR_LINES]
        if len(exc.lines) > len(lines):
            lines.append(f"… and {len(exc.lines) - len(lines):,} more problems")
        for line in lines:
            streams.error_line(f"Error: {escape_text(line)}")
        sys.exit(exc.exit_code)
    message = " ".join(exc.format_message().split())
    hint = ""
    if isinstance(exc, click.UsageError) and not isinstance(exc, OneLineError) and exc.ctx is not None:
        hint = f" (see '{exc.ctx.command_path} --help')"
    streams.error_line(f"Error: {shorten(message, 2000)}{hint}")
    sys.exit(exc.exit_code)


@contextmanager
def core_errors(names: dict[str, str] = OPTION_NAMES) -> Iterator[None]:
    """Turn the core's error into a one-line usage error naming the flag."""
    try:
        yield
    except ConvCostError as exc:
        head = exc.field.split(".")[0].split("[")[0]
        option = names.get(head, exc.field)
        raise OneLineError(f"{option}: {flag_words(exc.problem, names)}") from None


def flag_words(text: str, names: dict[str, str] = OPTION_NAMES) -> str:
    """The core names fields (``peak_tflops``); on the command line say the flag (``--peak-tflops``)."""
    for field, flag in names.items():
        if "_" in field and field in text:
            text = text.replace(field, flag.split("/")[-1])
    return text


@contextmanager
def cycle_collection_off() -> Iterator[None]:
    """Pause Python's cycle collector while a big network or sweep is costed and printed.

    Costing builds about a hundred containers per layer, none of them in a cycle; the
    collector's passes over that growing heap took over half the time of a 10,000-layer
    ``compare --json`` (2.9 s → 1.4 s in-process without them).
    """
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@click.group(cls=ConvcostGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="convcost", message="%(prog)s %(version)s")
def cli() -> None:
    """Exact cost of convolution layers: shapes, MACs, params, and what the
    regular, grouped and depthwise-separable forms of each layer cost.

    \b
    Conventions: MACs = multiply-accumulates (a bias add is never a MAC);
    FLOPs = 2·MACs, plus one add per output element when bias is on.

    \b
    Example:
      convcost layer --in 28x28x8 --out 16 -k 3
    """


_SHAPE_HELP = (
    "Input shape: spatial dims then channels joined by 'x' — "
    "28x28x8 (H×W×C), 300x16 (L×C), 16x56x56x64 (D×H×W×C)."
)


@cli.command()
@click.option("--in", "in_shape", required=True, metavar="SHAPE", help=_SHAPE_HELP)
@click.option("--out", required=True, metavar="N", help="Output channels (number of kernels).")
@click.option(
    "-k", "--kernel", required=True, metavar="K", help="Kernel size: 3, or one per spatial dim (3x5)."
)
@click.option(
    "--stride", default="1", show_default=True, metavar="S", help="Stride: one int or per dim (2x1)."
)
@click.option(
    "--padding",
    default="0",
    show_default=True,
    metavar="P",
    help="An int, per dim (1x2), before:after pairs (0:1x0:1), 'valid', or 'same' "
    "(output = ceil(in/stride), the odd pixel after, as TensorFlow).",
)
@click.option("--dilation", default="1", show_default=True, metavar="D", help="Dilation: one int or per dim.")
@click.option(
    "--groups",
    default="1",
    show_default=True,
    metavar="G",
    help="Groups; must divide input channels and --out.",
)
@click.option(
    "--bias/--no-bias",
    default=False,
    show_default=True,
    help="Count a bias per output channel. Off by default: counts are of the weights alone.",
)
@click.option("--transposed", is_flag=True, help="A transposed conv (MACs counted per input element).")
@click.option(
    "--output-padding", default="0", show_default=True, metavar="P", help="Transposed only: extra output."
)
@cost_options
@output_options
def layer(
    in_shape: str,
    out: str,
    kernel: str,
    stride: str,
    padding: str,
    dilation: str,
    groups: str,
    bias: bool,
    transposed: bool,
    output_padding: str,
    fmt: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Cost one conv layer and its regular, grouped and depthwise-separable forms.

    \b
    Example:
      convcost layer --in 28x28x8 --out 16 -k 3
      convcost layer --in 56x56x64 --out 64 -k 3 --padding 1 --dtype fp16 --device h100
      convcost layer --in 224x224x3 --out 32 -k 3 --stride 2 --padding same --json
    """
    chosen = make_settings(options)
    shown = output_format(fmt, as_json)
    with core_errors():
        comparison = compare(
            conv(
                in_shape,
                out,
                kernel,
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=groups,
                bias=bias,
                transposed=transposed,
                output_padding=output_padding,
            )
        )
    from .output.emit import emit
    from .output.summary import layer_summary

    emit(layer_summary(comparison, chosen), shown)


@cli.command("compare")
@click.argument("spec", metavar="SPEC")
@click.option(
    "--as",
    "as_form",
    type=click.Choice(AS_FORMS),
    help="Rewrite every conv with a kernel larger than 1×1 as a regular or a depthwise-separable conv first.",
)
@click.option(
    "--width-mult", metavar="A", help="Scale conv output channels by A (e.g. 0.75); linear outputs stay."
)
@click.option("--in", "in_shape", metavar="SHAPE", help="Replace the spec's input shape (e.g. 160x160x3).")
@cost_options
@output_options
def compare_command(
    spec: str,
    as_form: str | None,
    width_mult: str | None,
    in_shape: str | None,
    fmt: str | None,
    as_json: bool,
    **cost: Any,
) -> None:
    """Cost a network or a list of layers from a YAML, JSON or ONNX file ('-' reads stdin).

    \b
    Example:
      convcost compare specs/mobilenet_v1.yaml
      convcost compare specs/mobilenet_v1.yaml --width-mult 0.5 --in 160x160x3 --json | jq .totals.macs
    """
    with cycle_collection_off():
        _compare(spec, as_form, width_mult, in_shape, fmt, as_json, cost)


def _compare(
    spec: str,
    as_form: str | None,
    width_mult: str | None,
    in_shape: str | None,
    fmt: str | None,
    as_json: bool,
    cost: dict[str, Any],
) -> None:
    from .model.evaluate import evaluate
    from .model.spec_check import SpecErrors
    from .model.whatif import options as what_if

    shown = output_format(fmt, as_json)
    given_batch = cost["batch"]
    chosen = make_settings(cost)
    with core_errors():
        options = what_if(as_form, width_mult, in_shape)
    source = "<stdin>" if spec == "-" else spec
    loaded = load_document(spec, options.input_shape, chosen.batch if given_batch is not None else None)
    asked = options
    if loaded.onnx:
        # The converter re-inferred every shape for --in, and the model's batch is the batch.
        options = options._replace(input_shape=None)
        chosen = chosen._replace(batch=loaded.batch)
    try:
        network = evaluate(loaded.document, options)
        network.options = asked  # report the what-ifs the user asked for
    except SpecErrors as errors:
        raise SpecProblems([spec_problem(source, e) for e in errors.errors]) from None
    except ConvCostError as exc:
        raise SpecProblems([spec_problem(source, exc)]) from None
    from .output.emit import emit
    from .output.summary import network_summary

    summary = network_summary(network, source, chosen, loaded.notes, loaded.unsupported)
    emit(summary, shown, f"{source}: {len(summary.rows)} layers")


class Loaded(NamedTuple):
    """A spec file's document, and what reading it found out."""

    document: object
    notes: list[str]
    onnx: bool = False
    batch: int = 1  # an ONNX model's own batch (or the one given)
    unsupported: Mapping[str, int] = MappingProxyType({})


def load_document(
    spec: str, input_shape: tuple[int, ...] | None = None, batch: int | None = None
) -> Loaded:
    """A spec file's document: YAML, JSON, or an ONNX model converted (with --in and --batch applied)."""
    from .io.builtin_specs import find

    builtin = find(spec)
    path = str(builtin) if builtin is not None else spec
    source = "<stdin>" if spec == "-" else spec
    onnx = spec.lower().endswith(".onnx")
    data = read_source(path, limits.MAX_ONNX_BYTES if onnx else limits.MAX_SPEC_BYTES)
    try:
        if onnx:
            from .io.onnx_graph import load

            converted = load(data, source, input_shape=input_shape, batch=batch)
            return Loaded(converted.document, converted.notes, True, converted.batch, converted.unsupported)
        from .io.spec_file import read

        return Loaded(read(data), [])
    except ConvCostError as exc:
        raise SpecProblems([spec_problem(source, exc)]) from None


@cli.command("import")
@click.argument("model", metavar="MODEL.onnx")
@click.option("--in", "in_shape", metavar="SHAPE", help="Replace the model's input shape (e.g. 160x160x3).")
@click.option("--batch", metavar="N", help="Replace the model's batch (needed when it is symbolic).")
def import_command(model: str, in_shape: str | None, batch: str | None) -> None:
    """Write the spec YAML of an ONNX model to stdout (needs: pip install 'convcost[onnx]').

    \b
    Example:
      convcost import resnet18.onnx > resnet18.yaml
      convcost compare resnet18.yaml
    """
    if not model.lower().endswith(".onnx"):
        raise OneLineError(f"MODEL: {show_value(model)} is not an .onnx file")
    from .core import values

    with core_errors():
        shape = values.shape(in_shape, "in") if in_shape is not None else None
        samples = values.positive_int(batch, "batch") if batch is not None else None
    loaded = load_document(model, shape, samples)
    import yaml

    # comment lines: a newline in the file name or a note must not start a line of YAML
    header = [f"# {escape_text(model)}, converted by convcost {__version__} ('convcost import')."]
    header.append(f"# The model holds a batch of {loaded.batch}; this spec costs one sample (use --batch).")
    header += [f"# Note: {escape_text(note)}" for note in loaded.notes]
    body = yaml.safe_dump(
        loaded.document, sort_keys=False, allow_unicode=True, default_flow_style=None, width=110
    )
    sys.stdout.write("\n".join(header) + "\n" + body)


@cli.command("sweep")
@click.option(
    "--in", "in_shape", required=True, metavar="SHAPES", help="Input shape, or a comma list of them."
)
@click.option(
    "--out", required=True, metavar="N", help="Output channels: a list (16,32,64) or a range (16..1024*2)."
)
@click.option("-k", "--kernel", required=True, metavar="K", help="Kernel size, or a comma list (1,3,5,7).")
@click.option("--stride", default="1", show_default=True, metavar="S", help="Stride, or a comma list.")
@click.option(
    "--padding", default="0", show_default=True, metavar="P", help="Padding, as for 'layer' (not swept)."
)
@click.option("--dilation", default="1", show_default=True, metavar="D", help="Dilation (not swept).")
@click.option("--groups", default="1", show_default=True, metavar="G", help="Groups, a list or a range.")
@click.option("--bias/--no-bias", default=False, show_default=True, help="Count a bias per output channel.")
@output_options
def sweep_command(
    in_shape: str,
    out: str,
    kernel: str,
    stride: str,
    padding: str,
    dilation: str,
    groups: str,
    bias: bool,
    fmt: str | None,
    as_json: bool,
) -> None:
    """Cost a layer over lists and ranges of its values, and chart the depthwise-separable saving.

    \b
    Example:
      convcost sweep --in 28x28x8 --out 16..1024*2 -k 3
      convcost sweep --in 56x56x64 --out 64 -k 1,3,5,7 --padding same --format csv
    """
    from .model.sweep import sweep

    shown = output_format(fmt, as_json)
    swept = {"in": in_shape, "out": out, "kernel": kernel, "groups": groups, "stride": stride}
    fixed = {"padding": padding, "dilation": dilation, "bias": bias}
    with core_errors(), cycle_collection_off():
        points = sweep(swept, fixed)
    from .core.options import DEFAULT
    from .output.emit import emit
    from .output.summary import sweep_summary

    emit(sweep_summary(points, DEFAULT), shown)


@cli.command()
@click.option("--output", "of_output", is_flag=True, help="The schema of --json output (format 2) instead.")
def schema(of_output: bool) -> None:
    """Print the JSON Schema (draft 2020-12) of the spec format, or of the JSON output.

    \b
    Example:
      convcost schema > convcost.schema.json
      # then, first line of a spec:  # yaml-language-server: $schema=./convcost.schema.json
      convcost schema --output > convcost.output.schema.json
    """
    import json

    if of_output:
        from .output.json_schema import output_schema

        document = output_schema()
    else:
        from .io.schema import spec_schema

        document = spec_schema()
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


@cli.command()
@output_options
def devices(fmt: str | None, as_json: bool) -> None:
    """List the built-in device profiles for roofline estimates, with their sources.

    \b
    Example:
      convcost devices
      convcost layer --in 56x56x64 --out 64 -k 3 --padding 1 --dtype fp16 --device h100
    """
    from .core.devices import DEVICES
    from .output.emit import emit

    emit(DEVICES, output_format(fmt, as_json))


def read_source(spec: str, limit: int) -> bytes:
    """The spec's bytes from a path or stdin, at most ``limit`` of them, or a one-line error.

    Read in chunks, so that a stream without end (``/dev/zero``, a pipe) stops at the limit.
    """
    try:
        if spec != "-":
            with open(spec, "rb") as handle:
                return _read_at_most(handle, limit)
        if sys.stdin is None:
            raise OneLineError("SPEC: '-' reads stdin, but stdin is closed")
        return _read_at_most(sys.stdin.buffer, limit)
    except OSError as exc:
        raise OneLineError(f"SPEC: cannot read {show_value(spec)}: {exc.strerror or exc}") from None
    except ConvCostError as exc:
        raise SpecProblems([spec_problem("<stdin>" if spec == "-" else spec, exc)]) from None


def _read_at_most(stream: BinaryIO, limit: int) -> bytes:
    from .io.spec_file import too_big

    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(min(1 << 20, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    raise ConvCostError("spec", too_big(None, limit))


def spec_problem(source: str, exc: ConvCostError) -> str:
    """``file:line: path: problem`` — what an editor can jump to."""
    where = f"{source}:{exc.line}" if exc.line else source
    if exc.field == "spec":
        return f"{where}: the file {exc.problem}"
    return f"{where}: {exc.field}: {exc.problem}"


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="convcost")


__all__ = ["cli", "conventions", "main"]
