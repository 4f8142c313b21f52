"""Every error of a run as one line on stderr naming what the user can fix: a flag, a spec path.

The core names fields (``peak_tflops``, ``layers[3].kernel``); here they become the flags a user
typed (``--peak-tflops``). With ``CONVCOST_DEBUG=1`` an error that is a bug in convcost keeps its
traceback, for a report.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click

from ..api import CannotRead, NotOnnx, SourceErrors, located
from ..core import limits
from ..core.errors import ConvCostError, escape_text, shorten, show_value
from ..output import streams

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
    "depth": "--depth",
    "dtype": "--dtype",
    "batch": "--batch",
    "count": "--count",
    "device": "--device",
    "peak_tflops": "--peak-tflops",
    "bandwidth_gbs": "--bandwidth-gbs",
    "sram": "--sram",
    "flash": "--flash",
    "patches": "--patches",
}

class OneLineError(click.UsageError):
    """A usage error shown as a single line on stderr (exit status 2)."""


class SpecProblems(click.ClickException):
    """Every problem in a spec file, one line each (exit status 2)."""

    exit_code = 2

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


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


def fail(exc: click.ClickException) -> NoReturn:
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


def flag_error(exc: ConvCostError, names: dict[str, str] = OPTION_NAMES) -> str:
    head = exc.field.split(".")[0].split("[")[0]
    return f"{names.get(head, exc.field)}: {flag_words(exc.problem, names)}"


def flag_words(text: str, names: dict[str, str] = OPTION_NAMES) -> str:
    """The core names fields (``peak_tflops``); on the command line say the flag (``--peak-tflops``)."""
    for field, flag in names.items():
        if "_" in field and field in text:
            text = text.replace(field, flag.split("/")[-1])
    return text


@contextmanager
def core_errors(names: dict[str, str] = OPTION_NAMES) -> Iterator[None]:
    """Turn the core's error into a one-line usage error naming the flag."""
    try:
        yield
    except ConvCostError as exc:
        raise OneLineError(flag_error(exc, names)) from None


@contextmanager
def input_errors(what: str = "SPEC") -> Iterator[None]:
    """The errors of a call that reads an input (``what``: its argument, SPEC or MODEL): the input's
    problems one line each, ``file:line: path: problem``; an unreadable input in one line naming
    the argument; an option's error naming the flag."""
    try:
        yield
    except SourceErrors as errors:
        raise SpecProblems([located(errors.source, e) for e in errors.errors]) from None
    except NotOnnx as exc:
        raise OneLineError(f"{what}: {exc.problem}; 'convcost compare' costs YAML and JSON specs") from None
    except CannotRead as exc:
        raise OneLineError(f"{what}: {exc.message}") from None
    except ConvCostError as exc:
        raise OneLineError(flag_error(exc)) from None
