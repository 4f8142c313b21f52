"""The ``convcost`` group, and what every command shares: the format chosen, the -o file checked,
a progress bar, and the one call that hands a result to the output layer.

Imports stay lazy so that ``--json`` never loads rich and flags never load yaml.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from .. import __version__
from ..core.errors import ConvCostError, debugging, show_value
from ..output import streams
from ..output.formats import ANY_TEXT, FORMATS, Format, by_suffix
from .errors import OneLineError, fail

if TYPE_CHECKING:
    from ..output.emit import Summary
    from ..output.progress import Progress

#: The arguments this run was given, for the HTML page's "made with" line.
_ARGS: list[str] = []


class Interrupted(Exception):
    """Ctrl-C during a command, carried past click (which would print a blank line and exit 1)."""


def _check_completion() -> None:
    """An instruction click does not know in ``_CONVCOST_COMPLETE`` (it would exit 1 silently)."""
    import os

    instruction = os.environ.get("_CONVCOST_COMPLETE")
    if not instruction:
        return
    from click.shell_completion import get_completion_class

    shell, _, action = instruction.partition("_")
    if get_completion_class(shell) is None or action not in ("source", "complete"):
        fail(
            OneLineError(
                f"_CONVCOST_COMPLETE: {show_value(instruction)} is no completion instruction; "
                "use bash_source, zsh_source or fish_source"
            )
        )
    if action == "complete":  # what the shell's script sets; click reads them unchecked
        words, word = os.environ.get("COMP_WORDS"), os.environ.get("COMP_CWORD")
        if words is None or word is None or (shell != "fish" and not word.strip().lstrip("-").isdigit()):
            fail(
                OneLineError(
                    f"_CONVCOST_COMPLETE={instruction} needs COMP_WORDS and COMP_CWORD (a word's index) "
                    "from the completion script: source the output of _CONVCOST_COMPLETE="
                    f"{shell}_source convcost"
                )
            )


class ConvcostGroup(click.Group):
    """Every error, click's own included, becomes one line on stderr: no usage dump, no traceback.

    Bare ``convcost`` prints the help, as ``convcost --help`` does.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.pop("standalone_mode", True)
        given = kwargs.get("args", args[0] if args else None)
        _ARGS[:] = list(sys.argv[1:] if given is None else given)
        streams.fit_the_terminal()
        _check_completion()
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
            if sys.stdout is not None:
                sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
        except click.exceptions.NoArgsIsHelpError as exc:
            if exc.ctx is not None:
                click.echo(exc.ctx.get_help())
            result = 0
        except click.ClickException as exc:
            fail(exc)
        except ConvCostError as exc:  # an error no command put in a flag's or a spec's words
            fail(OneLineError(str(exc)))
        except Interrupted:
            streams.error_line("Interrupted; nothing was written (an -o FILE is left as it was).")
            sys.exit(130)  # 128 + SIGINT, as a shell reports it
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except OSError as exc:
            streams.output_failed(exc)
        except RecursionError:  # a guard: every known deep input is refused before it recurses
            if debugging():
                raise
            fail(OneLineError("the input nests too deeply"))
        if standalone:
            sys.exit(result if isinstance(result, int) else 0)
        return result

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted from None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            commands = ", ".join(self.list_commands(ctx))
            raise OneLineError(f"{show_value(name)}: no such command; the commands are {commands}", ctx)
        return super().resolve_command(ctx, args)


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


def output_format(
    fmt: str | None, as_json: bool, output: str | None = None, default: Format = "table"
) -> Format:
    """The chosen format, with the output file checked before any work is done.

    With no --format (or --json), an -o FILE's suffix chooses (``x.csv``: csv); a suffix that
    names another format than the one given is refused, as the file would lie about its contents.
    """
    if as_json and fmt not in (None, "json"):
        raise OneLineError(f"--json: conflicts with --format {fmt}; give one of them")
    check_output(output)
    given = "json" if as_json else fmt
    named = by_suffix(output) if output is not None and output != "-" else None
    if given is not None and named is not None and named != given and not _any_text(output):
        flag = "--json" if as_json else f"--format {given}"
        raise OneLineError(
            f"-o/--output: {show_value(output)} names {named} output but {flag} was given; "
            "change the suffix, or leave the format out"
        )
    return next(f for f in FORMATS if f == (given or named or default))


def _any_text(path: str | None) -> bool:
    import os

    return path is not None and os.path.splitext(path)[1].lower() in ANY_TEXT


@contextmanager
def writing() -> Iterator[None]:
    """The -o file's problems as one line naming the option."""
    from ..output.sink import CannotWrite

    try:
        yield
    except CannotWrite as exc:
        raise OneLineError(f"-o/--output: cannot write {show_value(exc.path)}: {exc.reason}") from None


def check_not_input(output: str | None, source: str, what: str) -> None:
    """Refuse an -o FILE that is the input itself (``in.yaml``, ``./in.yaml``, a link to it, a hard
    link, or the file stdin is redirected from), before any work: the file being read would be
    replaced by its own report."""
    if output is None or output == "-":
        return
    import os

    if source == "-":  # stdin redirected from the file (< in.yaml) is that file too
        try:
            read, written = os.fstat(0), os.stat(output)
        except (OSError, ValueError):
            return
        same = (read.st_dev, read.st_ino) == (written.st_dev, written.st_ino)
    else:
        from ..api import source_path

        path = source_path(source)
        try:
            same = os.path.samefile(path, output)
        except (OSError, ValueError):  # one of them is not there: compare where they would be
            same = os.path.realpath(path) == os.path.realpath(output)
    if same:
        raise OneLineError(
            f"-o/--output: {show_value(output)} is the input {what} itself; writing it would replace "
            "what is read; give another file"
        )


def check_output(output: str | None) -> None:
    from ..output.sink import check_writable

    with writing():
        check_writable(output)


def progress(label: str, fmt: str, output: str | None, total: int | None = None) -> Progress:
    """A bar on stderr, shown only on a terminal, only after half a second, never for JSON or a pipe."""
    from ..output import progress as bars
    from ..output.sink import to_stdout

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

    from ..output.emit import RenderOptions, emit

    command = "convcost " + " ".join(shlex.quote(arg) for arg in _ARGS)
    with writing():
        emit(summary, fmt, RenderOptions(title, notes, output, wide, command))


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds: a temp file beside the -o FILE is removed


def main() -> None:
    """Console-script entry point. SIGTERM (``timeout``, ``kill``) ends the run as a shell reports
    it (143), after the same clean-up as Ctrl-C: the -o FILE as it was, no temp file beside it."""
    import signal

    signal.signal(signal.SIGTERM, _terminated)
    cli(prog_name="convcost")
