"""The standard streams, as the environment hands them over: any encoding, closed, full or gone.

* A stream that cannot encode ``×``, ``→`` or the table's box characters (``PYTHONIOENCODING=
  ascii``, ``LC_ALL=C PYTHONUTF8=0``) writes ASCII stand-ins of the same width instead,
  so tables stay aligned; any other character (a name's ``全``) as its escape ``\\u5168``, so
  that no name is lost (and JSON reads back exact).
* A closed stdout (``>&-``) fails the first write like any other broken stream.
* A reader that went away (``| head``) ends the command quietly; any other failed write
  (``> /dev/full``) says so in one line. Either way the exit status is 1, and Python's own
  flush at exit has nothing left to complain about.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import io
import os
import sys
from typing import NoReturn

#: Stand-ins of the same width (one column) for the non-ASCII characters the output uses.
ASCII_FALLBACKS = {
    "×": "x",
    "→": ">",
    "←": "<",
    "─": "-",
    "━": "-",
    "│": "|",
    "├": "|",
    "└": "`",
    "┊": ":",
    "█": "#",
    "≥": ">",
    "≤": "<",
    "·": ".",
    "²": "2",
    "ⁿ": "n",
    "ᵀ": "T",
    "µ": "u",
    "…": ".",
    "−": "-",
    "–": "-",
    "—": "-",
    "≈": "~",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
}
_HANDLER = "convcost-ascii"
#: Characters every table and line may use: a stream that cannot encode them gets the stand-ins.
_PROBE = "×→─├└┊█≥·²µ…−—"


def _escaped(char: str) -> str:
    """A character no stand-in covers, as ``\\u5168`` (a pair of them past U+FFFF): nothing of
    a name is lost, and inside a JSON string it is JSON's own escape for the same character."""
    code = ord(char)
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    return "".join(ASCII_FALLBACKS.get(char) or _escaped(char) for char in text), error.end


codecs.register_error(_HANDLER, _fallback)


def _can_encode(stream: object) -> bool:
    encoding = getattr(stream, "encoding", None)
    if not encoding:
        return True
    try:
        _PROBE.encode(encoding)
    except (UnicodeError, LookupError):
        return False
    return True


class _ClosedStream(io.TextIOBase):
    """What stdout is when the process was started with it closed: every write fails."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "stdout is closed")

    def writable(self) -> bool:
        return True


class _TextOnly(io.TextIOBase):
    """A text stream, without the binary buffer under it.

    Click rewraps an ASCII stdout's buffer as UTF-8 for its help and usage text; through this
    it writes text, as every other output does, and gets the same ASCII stand-ins.
    """

    def __init__(self, stream: io.TextIOWrapper) -> None:
        super().__init__()
        self._stream = stream

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self._stream.errors

    def write(self, text: str) -> int:
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True


def fit_the_terminal() -> None:
    """Make stdout and stderr safe to write to: ASCII stand-ins where needed; a closed stdout fails."""
    if sys.stdout is None:
        sys.stdout = _ClosedStream()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and not _can_encode(stream) and isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors=_HANDLER)
                if stream is sys.stdout:
                    sys.stdout = _TextOnly(stream)


def error_line(line: str) -> None:
    """One line on stderr; nothing at all if stderr is closed or broken."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def _drop_stdout() -> None:
    """Point stdout's descriptor at /dev/null: what is still buffered goes nowhere at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # no real descriptor (a test's captured stream, a closed stdout)


def output_failed(exc: OSError) -> NoReturn:
    """stdout can take no more: say why in one line (not when the reader simply left), exit 1."""
    _drop_stdout()
    if exc.errno != errno.EPIPE:
        error_line(f"Error: cannot write the output: {exc.strerror or exc}")
    sys.exit(1)
