"""``convcost plot``: one chart of a layer, a network or a sweep, to an SVG or PNG file."""

from __future__ import annotations

from typing import Any

from ..core import collector
from ..core.errors import show_value
from .commands import layer_summary_of, network_summary_of, sweep_summary_of
from .errors import OneLineError
from .group import check_output, cli, progress, writing
from .options import chart_options, compare_options, layer_options, sweep_options


@cli.group(short_help="A chart as SVG or PNG, for a paper or a slide.")
def plot() -> None:
    """Draw one chart of a layer, a network or a sweep to an SVG or PNG file.
    Needs matplotlib: pip install 'convcost[plot]'.

    \b
    Charts: layers (MACs and params of the largest layers), modules (per
    module at a depth that fits, or --depth, split by kind), kinds (MACs by
    kind), roofline (needs --device), saving (a sweep's saving against
    1 − 1/D_K²).

    \b
    Examples:
      convcost plot compare mobilenet_v1 -o layers.svg
      convcost plot compare resnet50 --chart modules --depth 1 -o stages.svg
      convcost plot compare resnet50 --chart roofline --device a100 -o roof.png
      convcost plot layer --in 56x56x64 --out 64 -k 3 --device h100 -o layer.svg
      convcost plot sweep --in 28x28x8 --out 16..1024*2 -k 3 -o saving.svg
    """


def draw(summary: Any, chart: str | None, output: str) -> None:
    """One chart of ``summary`` to ``output`` (SVG or PNG by its name)."""
    kind = output.rsplit(".", 1)[-1].lower() if "." in output else ""
    if kind not in ("svg", "png"):
        raise OneLineError(f"-o/--output: {show_value(output)} is not a .svg or .png file name")
    check_output(output)
    from ..output import charts
    from ..output.summary import NetworkSummary

    found = charts.charts_for(summary)
    if (
        chart in (None, *charts.COUNTED)
        and isinstance(summary, NetworkSummary)
        and charts.nothing_to_count(summary)
        and not (chart is None and found)
    ):
        label = summary.settings.convention.label
        raise OneLineError(
            f"--chart: every row has no {label} and no params: no {chart or 'bar'} chart to draw"
        )
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
        raise OneLineError(f"plot: {charts.unavailable_reason() or charts.INSTALL_HINT}")
    from ..output.sink import write

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


@plot.command("compare", short_help="A network's layers, modules, kinds or roofline.")
@compare_options
@chart_options
def plot_compare(chart: str | None, output: str, **args: Any) -> None:
    """MACs and params per layer or per module, MACs by kind, or the roofline (needs --device).

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
