"""The flags: each group of options written once, shared by the commands that take it.

Values stay text here; the core parses and checks them, so a flag and a spec key read the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from ..core import limits
from ..core.dtypes import DType
from ..core.errors import show_value
from ..core.options import AS_FORMS, CountKind
from ..output.formats import FORMATS, format_help
from ..output.sink import TABLE_ROWS

F = TypeVar("F", bound=Callable[..., Any])


def _completer(*choices: str) -> Callable[[click.Context, click.Parameter, str], list[str]]:
    """Shell completion of an option's words."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
        return [word for word in choices if word.startswith(incomplete)]

    return complete


def _complete_device(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from ..core.devices import DEVICES

    return [name for name in DEVICES if name.startswith(incomplete)]


def _complete_board(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from ..core.devices import BOARDS

    return [name for name in BOARDS if name.startswith(incomplete)]


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


def spec_path() -> click.Path:
    """SPEC and MODEL: a path (the shell completes files), ``-`` for stdin; existence is checked later
    (a shipped spec's name is not a file)."""
    return FilePath(allow_dash=True, dir_okay=True)


def add(func: F, options: Sequence[Callable[[F], F]]) -> F:
    for option in reversed(options):
        func = option(func)
    return func


def cost_options(func: F) -> F:
    """The options that say how to count and what machine to estimate for (layer, sweep)."""
    return _cost_options(func, "Batch size: work and activations scale. [default: 1]")


def network_cost_options(func: F) -> F:
    """The cost options of ``compare``, whose input may be an ONNX model with a batch of its own."""
    return _cost_options(
        func,
        "Batch size: work and activations scale. [default: 1, or an ONNX model's own; a symbolic one is 1]",
    )


def _cost_options(func: F, batch_help: str) -> F:
    return add(
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
                help=batch_help,
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


def file_option(required: bool = False, help_text: str = "") -> Callable[[F], F]:
    return click.option(
        "-o",
        "--output",
        "output",
        type=FilePath(allow_dash=True),
        required=required,
        metavar="FILE",
        help=help_text
        or "Write to FILE instead of stdout, atomically (a failed run leaves no half file); "
        "with no --format its suffix picks one: .json .csv .tsv .md .html.",
    )


def format_options(func: F) -> F:
    """--format, --json as its shorthand, and -o/--output."""
    return add(
        func,
        [
            click.option(
                "--format",
                "fmt",
                type=Choice(FORMATS),
                default=None,
                metavar="FORMAT",
                help=format_help(),
            ),
            click.option("--json", "as_json", is_flag=True, help="Shorthand for --format json."),
            file_option(),
        ],
    )


def output_options(func: F) -> F:
    """The format options, and --wide for tables."""
    return add(
        format_options(func),
        [
            click.option(
                "--wide",
                is_flag=True,
                help="Tables at their natural width, every column and every row (default: fit the "
                "terminal).",
            )
        ],
    )


def channels_first_option() -> Callable[[F], F]:
    return click.option(
        "--channels-first",
        is_flag=True,
        help="Read --in in PyTorch's order: C×H×W, or N×C×H×W (N is the batch).",
    )


_SHAPE_HELP = (
    "Input shape: spatial dims then channels joined by 'x' — "
    "28x28x8 (H×W×C), 300x16 (L×C), 16x56x56x64 (D×H×W×C)."
)


def layer_options(func: F) -> F:
    """The flags of one layer (``layer`` and ``plot layer``)."""
    return add(
        func,
        [
            click.option("--in", "in_shape", required=True, metavar="SHAPE", help=_SHAPE_HELP),
            channels_first_option(),
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


#: ONNX compute on constants: costed as layers (the default), or folded away.
fold_constants_option = click.option(
    "--fold-constants",
    is_flag=True,
    help="ONNX: fold compute whose inputs are all constants (it then costs nothing) instead of "
    "costing it as layers.",
)


def compare_options(func: F) -> F:
    return add(
        func,
        [
            click.argument("spec", metavar="SPEC", type=spec_path()),
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
            channels_first_option(),
            click.option(
                "--max-layers",
                metavar="N",
                help="Layer budget, for generated networks: graph layers and layers costed one by "
                f"one.  [default: {limits.DEFAULT_MAX_LAYERS:,}]",
            ),
            click.option(
                "--depth",
                metavar="N",
                help="Roll rows up to modules N levels deep (1: layer1, layer2, …; 2: layer1.0, …); "
                f"the totals are the same. On a terminal, a table of more than {TABLE_ROWS} rows "
                "rolls up to the deepest depth that fits unless this or --wide is given.",
            ),
            click.option(
                "--hide-zero",
                is_flag=True,
                help="Leave out rows with no MACs and no params (not from the totals).",
            ),
            fold_constants_option,
            network_cost_options,
        ],
    )


def memory_options(func: F) -> F:
    """compare's peak-memory flags (not plot compare's: its charts do not show memory).
    Any of them asks for the analysis; the values stay text, checked by the model."""
    return add(
        func,
        [
            click.option("--memory", is_flag=True, help="Peak activation memory, and a best order."),
            click.option(
                "--inplace-depthwise",
                is_flag=True,
                help="Depthwise convs overwrite an input nothing else reads (TinyEngine).",
            ),
            click.option(
                "--sram",
                metavar="SIZE",
                help="Does the peak fit? A size (256KiB, 1MB) or a board (stm32f746).",
                shell_complete=_complete_board,
            ),
            click.option(
                "--flash",
                metavar="SIZE",
                help="Do the weights fit? A size (2MiB) or a board.",
                shell_complete=_complete_board,
            ),
            click.option(
                "--patches", metavar="NxM", help="Run the first stage patch by patch (MCUNetV2), e.g. 4x4."
            ),
            click.option(
                "--fail-over",
                is_flag=True,
                help="Exit 1 after the report when the weights or the peak do not fit (for CI).",
            ),
        ],
    )


def memory_args(args: dict[str, Any]) -> dict[str, Any]:
    """The memory options, popped from compare's keyword arguments, as the API's keywords
    (``--fail-over`` is the command's own: it decides the exit status, not the result)."""
    return {key: args.pop(key) for key in ("memory", "inplace_depthwise", "sram", "flash", "patches")}


def sweep_options(func: F) -> F:
    return add(
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


def chart_options(func: F) -> F:
    return add(
        func,
        [
            click.option(
                "--chart",
                type=Choice(("layers", "modules", "kinds", "roofline", "saving")),
                metavar="NAME",
                help="layers, modules, kinds, roofline or saving (default: the first that fits).",
            ),
            file_option(required=True, help_text="The image: FILE.svg or FILE.png (written atomically)."),
        ],
    )


def cost_args(args: dict[str, Any]) -> dict[str, Any]:
    """The cost options, popped from a command's keyword arguments, as the API's keywords."""
    batch = args.pop("batch")
    layout = {"channels_first": args.pop("channels_first")} if "channels_first" in args else {}
    return {
        **layout,
        "dtype": args.pop("dtype"),
        "batch": 1 if batch == "" else batch,  # an empty --batch is 1, as it always was
        "fused": args.pop("fused"),
        "count": args.pop("count_kind"),
        "count_bias": args.pop("count_bias"),
        "device": args.pop("device"),
        "peak_tflops": args.pop("peak_tflops"),
        "bandwidth_gbs": args.pop("bandwidth_gbs"),
    }
