"""The command line: build inputs, call the core once, render. Nothing else lives here.

Imports stay lazy so that ``--json`` never loads rich and flags never load yaml.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple, NoReturn, TypeVar

import click

from . import __version__
from .core import collector, conventions, limits
from .core.conv import conv
from .core.dtypes import DType
from .core.errors import ConvCostError, escape_text, shorten, show_value
from .core.forms import compare
from .core.options import AS_FORMS, CountKind, Settings, max_layers, settings
from .output import streams
from .output.formats import FORMATS, Format

if TYPE_CHECKING:
    from .output.emit import Summary
    from .output.progress import Progress

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
    "max_layers": "--max-layers",
    "dtype": "--dtype",
    "batch": "--batch",
    "count": "--count",
    "device": "--device",
    "peak_tflops": "--peak-tflops",
    "bandwidth_gbs": "--bandwidth-gbs",
}


F = TypeVar("F", bound=Callable[..., Any])

#: The arguments this run was given, for the HTML page's "made with" line.
_ARGS: list[str] = []


def _completer(*choices: str) -> Callable[[click.Context, click.Parameter, str], list[str]]:
    """Shell completion of an option's words."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
        return [word for word in choices if word.startswith(incomplete)]

    return complete


def _complete_device(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from .core.devices import DEVICES

    return [name for name in DEVICES if name.startswith(incomplete)]


class Choice(click.Choice):  # type: ignore[type-arg]
    """click's Choice, with the error worded as every other: ``'xml' is not allowed; expected one of …``."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value in self.choices:
            return value
        self.fail(f"{show_value(value)} is not allowed; expected one of {', '.join(map(str, self.choices))}")


class FilePath(click.Path):
    """click's Path, but a NUL byte (which only the API can pass) is refused, not a traceback."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and "\0" in value:
            self.fail(f"{show_value(value)} is not a file name (it holds a NUL byte)", param, ctx)
        return super().convert(value, param, ctx)


def _spec_path() -> click.Path:
    """SPEC and MODEL: a path (the shell completes files), ``-`` for stdin; existence is checked later
    (a shipped spec's name is not a file)."""
    return FilePath(allow_dash=True, dir_okay=True)


def _add(func: F, options: Sequence[Callable[[F], F]]) -> F:
    for option in reversed(options):
        func = option(func)
    return func


def cost_options(func: F) -> F:
    """The options that say how to count and what machine to estimate for (layer, compare, sweep)."""
    return _add(
        func,
        [
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
                help="Headline count: macs, flops (2 per MAC) or ops (exact multiplications + additions); "
                "ratios follow it.",
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
            click.option(
                "--peak-tflops", metavar="X", help="Roofline for any machine: its dense peak, TFLOP/s."
            ),
            click.option("--bandwidth-gbs", metavar="Y", help="… and its memory bandwidth, GB/s."),
        ],
    )


def _file_option(required: bool = False, help_text: str = "") -> Callable[[F], F]:
    return click.option(
        "-o",
        "--output",
        "output",
        type=FilePath(allow_dash=True),
        required=required,
        metavar="FILE",
        help=help_text or "Write to FILE instead of stdout, atomically (a failed run leaves no half file).",
    )


def format_options(func: F) -> F:
    """--format, --json as its shorthand, and -o/--output."""
    return _add(
        func,
        [
            click.option(
                "--format",
                "fmt",
                type=Choice(FORMATS),
                default=None,
                metavar="FORMAT",
                help="table (for people; the default), json, csv (raw integers), markdown or html "
                "(a self-contained page with charts).",
            ),
            click.option("--json", "as_json", is_flag=True, help="Shorthand for --format json."),
            _file_option(),
        ],
    )


def output_options(func: F) -> F:
    """The format options, and --wide for tables."""
    return _add(
        format_options(func),
        [
            click.option(
                "--wide",
                is_flag=True,
                help="Tables at their natural width, every column (default: fit the terminal).",
            )
        ],
    )


def output_format(
    fmt: str | None, as_json: bool, output: str | None = None, default: Format = "table"
) -> Format:
    """The chosen format, with the output file checked before any work is done."""
    if as_json and fmt not in (None, "json"):
        raise OneLineError(f"--json: conflicts with --format {fmt}; give one of them")
    check_output(output)
    return next(f for f in FORMATS if f == ("json" if as_json else fmt or default))


@contextmanager
def writing() -> Iterator[None]:
    """The -o file's problems as one line naming the option."""
    from .output.sink import CannotWrite

    try:
        yield
    except CannotWrite as exc:
        raise OneLineError(f"-o/--output: cannot write {show_value(exc.path)}: {exc.reason}") from None


def check_output(output: str | None) -> None:
    from .output.sink import check_writable

    with writing():
        check_writable(output)


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
            fold_constants=options.pop("fold_constants", False),
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
    """Every error, click's own included, becomes one line on stderr: no usage dump, no traceback.

    Bare ``convcost`` prints the help, as ``convcost --help`` does.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.pop("standalone_mode", True)
        given = kwargs.get("args", args[0] if args else None)
        _ARGS[:] = list(sys.argv[1:] if given is None else given)
        streams.fit_the_terminal()
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
            if sys.stdout is not None:
                sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
        except click.exceptions.NoArgsIsHelpError as exc:
            if exc.ctx is not None:
                click.echo(exc.ctx.get_help())
            result = 0
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

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            commands = ", ".join(self.list_commands(ctx))
            raise OneLineError(f"{show_value(name)}: no such command; the commands are {commands}", ctx)
        return super().resolve_command(ctx, args)


def _param_name(param: click.Parameter | None) -> str:
    if param is None:
        return "the command line"
    if isinstance(param, click.Argument):
        return param.metavar or (param.name or "").upper()
    opts = [*param.opts, *param.secondary_opts]
    short = [o for o in param.opts if not o.startswith("--")]
    long = [o for o in param.opts if o.startswith("--")]
    return "/".join([*short[:1], *long[:1]]) or "/".join(opts)


_MISSING_WORDS = {
    "SPEC": "give a spec file, a shipped spec's name or '-' for stdin; 'convcost models' lists the names",
    "MODEL.onnx": "give an ONNX model, or '-' for stdin",
}


def _click_message(exc: click.ClickException) -> str:
    """click's own errors in the one style: ``WHERE: what is wrong; what to do``."""
    if isinstance(exc, OneLineError):
        return exc.format_message()
    if isinstance(exc, click.NoSuchOption):
        message = f"{exc.option_name}: no such option"
        if exc.possibilities:
            message += f" (did you mean {', '.join(sorted(exc.possibilities))}?)"
        return message
    if isinstance(exc, click.MissingParameter):
        name = _param_name(exc.param)
        return f"{name}: missing; {_MISSING_WORDS.get(name, 'it is required')}"
    if isinstance(exc, click.BadOptionUsage):
        if "requires an argument" in exc.message:
            return f"{exc.option_name}: needs a value"
        return f"{exc.option_name}: {exc.message}"
    if isinstance(exc, click.BadParameter):
        return f"{_param_name(exc.param)}: {exc.message}"
    message = exc.format_message()
    if message.startswith("Got unexpected extra argument"):
        extra = message[message.find("(") + 1 : message.rfind(")")]
        return f"{show_value(extra)}: unexpected extra argument"
    return message


def _fail(exc: click.ClickException) -> NoReturn:
    """One line per problem on stderr, escaped (a name or value can never start a line of its own)."""
    if isinstance(exc, SpecProblems):
        lines = exc.lines[: limits.MAX_ERROR_LINES]
        if len(exc.lines) > len(lines):
            lines.append(f"… and {len(exc.lines) - len(lines):,} more problems")
        for line in lines:
            streams.error_line(f"Error: {escape_text(line)}")
        sys.exit(exc.exit_code)
    message = " ".join(_click_message(exc).split())
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
        raise OneLineError(flag_error(exc, names)) from None


def flag_error(exc: ConvCostError, names: dict[str, str] = OPTION_NAMES) -> str:
    head = exc.field.split(".")[0].split("[")[0]
    return f"{names.get(head, exc.field)}: {flag_words(exc.problem, names)}"


def flag_words(text: str, names: dict[str, str] = OPTION_NAMES) -> str:
    """The core names fields (``peak_tflops``); on the command line say the flag (``--peak-tflops``)."""
    for field, flag in names.items():
        if "_" in field and field in text:
            text = text.replace(field, flag.split("/")[-1])
    return text


def progress(label: str, fmt: str, output: str | None, total: int | None = None) -> Progress:
    """A bar on stderr, shown only on a terminal, only after half a second, never for JSON or a pipe."""
    from .output import progress as bars
    from .output.sink import to_stdout

    return bars.Progress(label, total, enabled=bars.wanted(fmt, to_stdout(output)))


def show(
    summary: Summary,
    fmt: Format,
    title: str = "",
    *,
    notes: Sequence[str] = (),
    output: str | None = None,
    wide: bool = False,
) -> None:
    """Write the result in its format, to stdout or the -o file."""
    import shlex

    from .output.emit import emit

    command = "convcost " + " ".join(shlex.quote(arg) for arg in _ARGS)
    with writing():
        emit(summary, fmt, title, notes=notes, output=output, wide=wide, command=command)


# ---------------------------------------------------------------- the group


@click.group(
    cls=ConvcostGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="convcost", message="%(prog)s %(version)s")
def cli() -> None:
    """Exact cost of convolution layers and networks: shapes, MACs, params, memory
    traffic, and what the regular, grouped and depthwise-separable forms cost.

    \b
    Conventions: MACs = multiply-accumulates (a bias add is never a MAC);
    FLOPs = 2·MACs, plus one add per output element when bias is on.

    \b
    Examples:
      convcost layer --in 28x28x8 --out 16 -k 3
      convcost compare mobilenet_v1
      convcost models
      convcost sweep --in 28x28x8 --out 16..1024*2 -k 3 --format html -o s.html
    """


# ---------------------------------------------------------------- layer

_SHAPE_HELP = (
    "Input shape: spatial dims then channels joined by 'x' — "
    "28x28x8 (H×W×C), 300x16 (L×C), 16x56x56x64 (D×H×W×C)."
)


def layer_options(func: F) -> F:
    """The flags of one layer (``layer`` and ``plot layer``)."""
    return _add(
        func,
        [
            click.option("--in", "in_shape", required=True, metavar="SHAPE", help=_SHAPE_HELP),
            click.option("--out", required=True, metavar="N", help="Output channels (number of kernels)."),
            click.option(
                "-k",
                "--kernel",
                required=True,
                metavar="K",
                help="Kernel size: 3, or one per spatial dim (3x5).",
            ),
            click.option(
                "--stride",
                default="1",
                show_default=True,
                metavar="S",
                help="Stride: one int or per dim (2x1).",
            ),
            click.option(
                "--padding",
                default="0",
                show_default=True,
                metavar="P",
                help="An int, per dim (1x2), before:after pairs (0:1x0:1), 'valid', or 'same' "
                "(output = ceil(in/stride), the odd pixel after, as TensorFlow).",
            ),
            click.option(
                "--dilation",
                default="1",
                show_default=True,
                metavar="D",
                help="Dilation: one int or per dim.",
            ),
            click.option(
                "--groups",
                default="1",
                show_default=True,
                metavar="G",
                help="Groups; must divide input channels and --out.",
            ),
            click.option(
                "--bias/--no-bias",
                default=False,
                show_default=True,
                help="Count a bias per output channel. Off by default: counts are of the weights alone.",
            ),
            click.option(
                "--transposed", is_flag=True, help="A transposed conv (MACs counted per input element)."
            ),
            click.option(
                "--output-padding",
                default="0",
                show_default=True,
                metavar="P",
                help="Transposed only: extra output.",
            ),
            cost_options,
        ],
    )


def layer_summary_of(args: dict[str, Any]) -> Any:
    """The layer's summary from the command's arguments (the cost options are popped)."""
    chosen = make_settings(args)
    with core_errors():
        comparison = compare(
            conv(
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
            )
        )
    from .output.summary import layer_summary

    return layer_summary(comparison, chosen)


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


# ---------------------------------------------------------------- compare


def _fold_constants_option() -> Callable[[F], F]:
    return click.option(
        "--fold-constants",
        is_flag=True,
        help="ONNX: fold compute whose inputs are all constants (it then costs nothing) instead of "
        "costing it as layers.",
    )


def compare_options(func: F) -> F:
    return _add(
        func,
        [
            click.argument("spec", metavar="SPEC", type=_spec_path()),
            click.option(
                "--as",
                "as_form",
                type=Choice(AS_FORMS),
                metavar="FORM",
                help="regular or separable: rewrite every conv with a kernel larger than 1×1 "
                "in that form first.",
            ),
            click.option(
                "--width-mult",
                metavar="A",
                help="Scale conv output channels by A (e.g. 0.75); linear outputs stay.",
            ),
            click.option(
                "--in", "in_shape", metavar="SHAPE", help="Replace the spec's input shape (e.g. 160x160x3)."
            ),
            _fold_constants_option(),
            click.option(
                "--max-layers",
                metavar="N",
                help="Layer budget, for generated networks: graph layers and layers costed one by "
                f"one.  [default: {limits.DEFAULT_MAX_LAYERS:,}]",
            ),
            cost_options,
        ],
    )


class Costed(NamedTuple):
    summary: Any  # NetworkSummary
    title: str
    notes: list[str]


def network_summary_of(args: dict[str, Any], fmt: str, output: str | None) -> Costed:
    """The network's summary from the command's arguments (a bar on stderr while it is costed)."""
    from .model.evaluate import evaluate
    from .model.spec_check import SpecErrors
    from .model.whatif import options as what_if

    spec = args["spec"]
    given_batch = args["batch"]
    chosen = make_settings(args)
    with core_errors():
        options = what_if(args["as_form"], args["width_mult"], args["in_shape"])
        budget = max_layers(args["max_layers"])
    source = "<stdin>" if spec == "-" else spec
    with progress(f"Costing {escape_text(source)}", fmt, output), limits.allowing(budget):
        batch = chosen.batch if given_batch is not None else None
        loaded = load_document(spec, options.input_shape, batch, fold_constants=chosen.fold_constants)
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
        from .output.summary import network_summary

        summary = network_summary(network, source, chosen, loaded.notes, loaded.unsupported)
    notes = []
    if asked.input_shape is not None and len(asked.input_shape) == 2:
        from .output.views import one_d_words

        notes.append(f"--in {'x'.join(map(str, asked.input_shape))}: {one_d_words(asked.input_shape)}.")
    return Costed(summary, f"{source}: {len(summary.rows):,} layers", notes)


@cli.command("compare", short_help="A network or a what-if list from YAML, JSON or ONNX.")
@compare_options
@output_options
def compare_command(fmt: str | None, as_json: bool, output: str | None, wide: bool, **args: Any) -> None:
    """Cost a network or a list of layers: a YAML, JSON or ONNX file, a shipped spec by name
    (see 'convcost models'), or '-' for stdin (any of the three).

    \b
    Examples:
      convcost compare mobilenet_v1
      convcost compare mobilenet_v1 --width-mult 0.5 --in 160x160x3 --json
      convcost compare resnet50 --device a100 --format html -o resnet50.html
      cat model.onnx | convcost compare - --format csv
    """
    shown = output_format(fmt, as_json, output)
    with collector.paused():
        costed = network_summary_of(args, shown, output)
        show(costed.summary, shown, costed.title, notes=costed.notes, output=output, wide=wide)


class Loaded(NamedTuple):
    """A spec file's document, and what reading it found out."""

    document: object
    notes: list[str]
    onnx: bool = False
    batch: int = 1  # an ONNX model's own batch (or the one given)
    unsupported: Mapping[str, int] = MappingProxyType({})


def load_document(
    spec: str,
    input_shape: tuple[int, ...] | None = None,
    batch: int | None = None,
    what: str = "SPEC",
    fold_constants: bool = False,
) -> Loaded:
    """A spec file's document: YAML, JSON, or an ONNX model converted (with --in and --batch applied).

    ONNX is known by its name (``.onnx``) or, from stdin or under any other name, by its first
    byte (a protobuf ModelProto starts with its ``ir_version`` field, 0x08; no text does).
    """
    from .io.builtin_specs import find

    builtin = find(spec)
    path = str(builtin) if builtin is not None else spec
    source = "<stdin>" if spec == "-" else spec
    data, onnx = read_input(path, what)
    if what == "MODEL" and not onnx:
        raise OneLineError(
            f"MODEL: {show_value(spec)} is not an ONNX model; 'convcost compare' costs YAML and JSON specs"
        )
    try:
        if onnx:
            from .io.onnx import load

            converted = load(
                data, source, input_shape=input_shape, batch=batch, fold_constants=fold_constants
            )
            return Loaded(converted.document, converted.notes, True, converted.batch, converted.unsupported)
        from .io.spec_file import read

        return Loaded(read(data), [])
    except ConvCostError as exc:
        raise SpecProblems([spec_problem(source, exc)]) from None


# ---------------------------------------------------------------- import


@cli.command("import", short_help="The spec YAML of an ONNX model.")
@click.argument("model", metavar="MODEL.onnx", type=_spec_path())
@click.option("--in", "in_shape", metavar="SHAPE", help="Replace the model's input shape (e.g. 160x160x3).")
@click.option("--batch", metavar="N", help="Replace the model's batch (needed when it is symbolic).")
@_fold_constants_option()
@_file_option()
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
    from .core import values

    check_output(output)
    with core_errors():
        shape = values.shape(in_shape, "in") if in_shape is not None else None
        samples = values.positive_int(batch, "batch") if batch is not None else None
    with progress(f"Reading {escape_text(model)}", "yaml", output):
        loaded = load_document(model, shape, samples, what="MODEL", fold_constants=fold_constants)
    import yaml

    # comment lines: a newline in the file name or a note must not start a line of YAML
    source = "<stdin>" if model == "-" else model
    header = [f"# {escape_text(source)}, converted by convcost {__version__} ('convcost import')."]
    header.append(f"# The model holds a batch of {loaded.batch}; this spec costs one sample (use --batch).")
    header += [f"# Note: {escape_text(note)}" for note in loaded.notes]
    body = yaml.safe_dump(
        loaded.document, sort_keys=False, allow_unicode=True, default_flow_style=None, width=110
    )
    from .output.sink import write

    with writing():
        write("\n".join(header) + "\n" + body, output)


# ---------------------------------------------------------------- sweep


def sweep_options(func: F) -> F:
    return _add(
        func,
        [
            click.option(
                "--in",
                "in_shape",
                required=True,
                metavar="SHAPES",
                help="Input shape, or a comma list of them.",
            ),
            click.option(
                "--out",
                required=True,
                metavar="N",
                help="Output channels: a list (16,32,64) or a range (16..1024*2, 16..128:16).",
            ),
            click.option(
                "-k", "--kernel", required=True, metavar="K", help="Kernel size, or a list (1,3,5,7)."
            ),
            click.option("--stride", default="1", show_default=True, metavar="S", help="Stride, or a list."),
            click.option(
                "--padding",
                default="0",
                show_default=True,
                metavar="P",
                help="Padding, as for 'layer' (one value for every point).",
            ),
            click.option(
                "--dilation", default="1", show_default=True, metavar="D", help="Dilation, or a list."
            ),
            click.option(
                "--groups", default="1", show_default=True, metavar="G", help="Groups, a list or a range."
            ),
            click.option(
                "--bias/--no-bias", default=False, show_default=True, help="Count a bias per output channel."
            ),
            click.option("--transposed", is_flag=True, help="Transposed convs."),
            click.option(
                "--output-padding",
                default="0",
                show_default=True,
                metavar="P",
                help="Transposed only: extra output.",
            ),
            cost_options,
        ],
    )


_SKIP_WORDS = {
    "groups": "--groups does not divide the channels",
    "kernel": "the kernel is larger than the (padded) input",
}


def sweep_summary_of(args: dict[str, Any], fmt: str, output: str | None) -> Costed:
    from .model.sweep import SWEPT, sweep

    chosen = make_settings(args)
    swept = {key: args["in_shape" if key == "in" else key] for key in SWEPT}
    fixed = {key: args[key] for key in ("padding", "bias", "transposed", "output_padding")}
    from .output.summary import sweep_summary

    with core_errors(), progress("Sweeping", fmt, output) as bar:
        points = sweep(swept, fixed, on_point=bar.advance)
        summary = sweep_summary(points, chosen, points.skipped)
    notes = []
    if points.skipped:
        reasons = [
            f"{skip.points:,} where {_SKIP_WORDS[field]} (e.g. {flag_error(skip.example)})"
            if field in _SKIP_WORDS
            else f"{skip.points:,} with {flag_error(skip.example)}"
            for field, skip in points.skipped_by_field.items()
        ]
        notes.append(
            f"Skipped {points.skipped:,} of {points.total:,} points that cannot exist: {'; '.join(reasons)}."
        )
    one_d = sorted({p.comparison.layer.in_shape for p in points if len(p.comparison.layer.in_shape) == 2})
    if one_d:
        from .output.views import one_d_words

        notes += [f"--in {'x'.join(map(str, shape))}: {one_d_words(shape)}." for shape in one_d]
    return Costed(summary, "", notes)


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


# ---------------------------------------------------------------- schema, devices, models


@cli.command(short_help="The JSON Schema of spec files, or of --json output.")
@click.argument("which", required=False, type=Choice(("spec", "output")), metavar="[spec|output]")
@click.option("--output", "of_output", is_flag=True, help="Same as 'output': the schema of --json output.")
@click.option(
    "--format",
    "fmt",
    type=Choice(FORMATS),
    default=None,
    metavar="FORMAT",
    help="json (the schema itself; the default), or table, csv, markdown, html: one row per key.",
)
@click.option("--json", "as_json", is_flag=True, help="Shorthand for --format json.")
@click.option("-o", "out_file", type=FilePath(allow_dash=True), metavar="FILE",
              help="Write to FILE instead of stdout, atomically.")  # fmt: skip
@click.option("--wide", is_flag=True, help="Tables at their natural width.")
def schema(
    which: str | None, of_output: bool, fmt: str | None, as_json: bool, out_file: str | None, wide: bool
) -> None:
    """Print the JSON Schema (draft 2020-12) of the spec format, or of the JSON output.

    (Here '--output' names the schema, as it always has; write to a file with -o FILE.)

    \b
    Examples:
      convcost schema -o convcost.schema.json
      # then, first line of a spec:
      #   # yaml-language-server: $schema=./convcost.schema.json
      convcost schema output -o convcost.output.schema.json
      convcost schema --format table
    """
    shown = output_format(fmt, as_json, out_file, default="json")
    from .output.summary import SchemaDocument

    if of_output or which == "output":
        from .output.json_schema import output_schema

        document = SchemaDocument(output_schema(), "output")
    else:
        from .io.schema import spec_schema

        document = SchemaDocument(spec_schema(), "spec")
    show(document, shown, output=out_file, wide=wide)


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
    from .core.devices import DEVICES

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
    from .io.builtin_specs import catalogue
    from .model.evaluate import evaluate
    from .output.summary import Catalogue, ModelInfo

    shown = output_format(fmt, as_json, output)
    found = catalogue()
    infos = []
    with collector.paused(), progress("Costing the shipped specs", shown, output, len(found)) as bar:
        for spec in found:
            with spec.path.open("rb") as handle:
                data = handle.read()
            from .io.spec_file import read

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
            bar.advance()
    show(Catalogue(tuple(infos)), shown, output=output, wide=wide)


# ---------------------------------------------------------------- plot


@cli.group(short_help="A chart as SVG or PNG, for a paper or a slide.")
def plot() -> None:
    """Draw one chart of a layer, a network or a sweep to an SVG or PNG file.
    Needs matplotlib: pip install 'convcost[plot]'.

    \b
    Charts: layers (MACs and params per layer), kinds (MACs by kind),
    roofline (needs --device), saving (a sweep's saving against 1 − 1/D_K²).

    \b
    Examples:
      convcost plot compare mobilenet_v1 -o layers.svg
      convcost plot compare resnet50 --chart roofline --device a100 -o roof.png
      convcost plot layer --in 56x56x64 --out 64 -k 3 --device h100 -o layer.svg
      convcost plot sweep --in 28x28x8 --out 16..1024*2 -k 3 -o saving.svg
    """


def chart_options(func: F) -> F:
    return _add(
        func,
        [
            click.option(
                "--chart",
                type=Choice(("layers", "kinds", "roofline", "saving")),
                metavar="NAME",
                help="layers, kinds, roofline or saving (default: the first that fits).",
            ),
            _file_option(required=True, help_text="The image: FILE.svg or FILE.png (written atomically)."),
        ],
    )


def draw(summary: Any, chart: str | None, output: str) -> None:
    """One chart of ``summary`` to ``output`` (SVG or PNG by its name)."""
    kind = output.rsplit(".", 1)[-1].lower() if "." in output else ""
    if kind not in ("svg", "png"):
        raise OneLineError(f"-o/--output: {show_value(output)} is not a .svg or .png file name")
    check_output(output)
    from .output import charts

    found = charts.charts_for(summary)
    if chart is None:
        if not found:
            raise OneLineError(
                "--chart: a layer has one chart, the roofline, and it needs --device NAME "
                "(or --peak-tflops and --bandwidth-gbs)"
            )
        chart = next(iter(found))
    if chart not in found:
        if chart == "roofline":
            raise OneLineError("--chart: roofline needs --device NAME (or --peak-tflops and --bandwidth-gbs)")
        raise OneLineError(
            f"--chart: {chart} is not drawn for this command; it draws: {', '.join(found) or 'none'}"
        )
    if not charts.available():
        raise OneLineError(f"plot: {charts.INSTALL_HINT}")
    from .output.sink import write

    with progress("Drawing", kind, output):
        image = charts.render(found[chart](), "png" if kind == "png" else "svg")
    with writing():
        write(image, output)


@plot.command("layer", short_help="The roofline of one layer's forms (needs --device).")
@layer_options
@chart_options
def plot_layer(chart: str | None, output: str, **args: Any) -> None:
    """The roofline of a layer's regular and depthwise-separable forms (needs --device).

    \b
    Example:
      convcost plot layer --in 56x56x64 --out 64 -k 3 --device h100 -o layer.svg
    """
    check_output(output)
    draw(layer_summary_of(args), chart, output)


@plot.command("compare", short_help="A network's layers, kinds or roofline.")
@compare_options
@chart_options
def plot_compare(chart: str | None, output: str, **args: Any) -> None:
    """MACs and params per layer, MACs by kind, or the roofline (needs --device) of a network.

    \b
    Examples:
      convcost plot compare mobilenet_v1 -o layers.svg
      convcost plot compare mobilenet_v1 --chart kinds -o kinds.png
    """
    check_output(output)
    with collector.paused():
        draw(network_summary_of(args, "image", output).summary, chart, output)


@plot.command("sweep", short_help="A sweep's saving against 1 − 1/D_K².")
@sweep_options
@chart_options
def plot_sweep(chart: str | None, output: str, **args: Any) -> None:
    """The depthwise-separable saving of each point of a sweep, against the limit 1 − 1/D_K².

    \b
    Example:
      convcost plot sweep --in 28x28x8 --out 16..1024*2 -k 3 -o saving.svg
    """
    check_output(output)
    with collector.paused():
        draw(sweep_summary_of(args, "image", output).summary, chart, output)


# ---------------------------------------------------------------- reading input


def read_input(path: str, what: str = "SPEC") -> tuple[bytes, bool]:
    """A spec's or model's bytes from a path or stdin, and whether they are ONNX.

    Read up to the size limit of what they turn out to be (16 MiB of YAML or JSON,
    256 MiB of ONNX), so that a stream without end (``/dev/zero``, a pipe) stops there.
    """
    source = "<stdin>" if path == "-" else path
    try:
        if path != "-":
            with open(path, "rb") as handle:
                return _read_sniffed(handle, path)
        if sys.stdin is None:
            raise OneLineError(f"{what}: '-' reads stdin, but stdin is closed")
        return _read_sniffed(sys.stdin.buffer, path)
    except OSError as exc:
        raise OneLineError(f"{what}: cannot read {show_value(path)}: {exc.strerror or exc}") from None
    except ConvCostError as exc:
        raise SpecProblems([spec_problem(source, exc)]) from None


#: The first byte of a serialized ONNX ModelProto: field 1 (ir_version), a varint.
ONNX_FIRST_BYTE = b"\x08"


def _read_sniffed(stream: BinaryIO, path: str) -> tuple[bytes, bool]:
    """Whether the stream is ONNX, told by the name or by a peek at its first byte (nothing is read
    twice or copied: a model of 256 MiB on stdin is held once), then the whole in one read."""
    onnx = path.lower().endswith(".onnx")
    first = b""
    if not onnx:
        peek = getattr(stream, "peek", None)  # a BufferedReader's: files and pipes alike
        head = peek(1) if peek is not None else stream.read(1)  # else a stream held in memory
        if head is None:
            raise ConvCostError("spec", _NOT_READY)
        onnx = head[:1] == ONNX_FIRST_BYTE
        first = b"" if peek is not None else head
    limit = limits.MAX_ONNX_BYTES if onnx else limits.MAX_SPEC_BYTES
    data = _read_at_most(stream, limit, onnx, len(first))
    return (first + data if first else data), onnx


_NOT_READY = "cannot be read now: the stream is in non-blocking mode and has no data yet"


def _read_at_most(stream: BinaryIO, limit: int, onnx: bool, already: int = 0) -> bytes:
    """The stream in one read: a file is read straight into one buffer, never copied; one known to
    be too large is not read at all; a stream without end stops one byte past the limit."""
    import os
    import stat

    try:
        status = os.fstat(stream.fileno())
        size = status.st_size if stat.S_ISREG(status.st_mode) else None
    except (OSError, ValueError, AttributeError):  # not backed by a file descriptor (a test's stream)
        size = None
    if size is not None and size > limit:
        raise ConvCostError("spec", _too_big(size, limit, onnx))
    data = stream.read(limit + 1 - already if size is None else size + 1)  # + 1: a file that grows
    if data is None:
        raise ConvCostError("spec", _NOT_READY)
    if already + len(data) > limit:
        raise ConvCostError("spec", _too_big(None, limit, onnx))
    return data


def _too_big(size: int | None, limit: int, onnx: bool) -> str:
    if not onnx:
        from .io.spec_file import too_big

        return too_big(size, limit)
    what = f"is {size:,} bytes" if size is not None else f"is larger than {limit:,} bytes"
    return (
        f"{what}; at most {limit:,} are read (convcost reads only the graph: save the model with "
        "its weights in an external file, save_as_external_data=True, and cost the .onnx alone)"
    )


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
