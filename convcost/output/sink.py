"""Where output goes: stdout, or a file written atomically (a temp file, then a rename).

A run that fails — a bad input, a full disk, Ctrl-C — never leaves half a file: the file
named by ``-o`` is either untouched or whole. Also here: how wide a table may be, how many
rows a network's table shows, and whether to colour it, decided from the stream the text goes to.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import sys
import tempfile

#: A terminal's width (COLUMNS) is taken within these bounds: 0 would print nothing at all.
MIN_WIDTH, MAX_WIDTH = 20, 1000


class CannotWrite(Exception):
    """The output file cannot be written: ``reason`` says why (the CLI names the option)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def to_stdout(path: str | None) -> bool:
    return path is None or path == "-"


def _special(path: str) -> bool:
    """Whether ``path`` is there and is not a regular file (``/dev/null``, a FIFO, ``/dev/stdout``)."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def check_writable(path: str | None) -> None:
    """Refuse, before any work, an output file that could not be written (no folder, a folder)."""
    if to_stdout(path):
        return
    assert path is not None
    if not path.strip():  # realpath('') is the current folder: "it is a folder" would puzzle
        raise CannotWrite(path, "names no file; give a file name, or '-' for stdout")
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:  # realpath would stop in the loop, and a file replace the link
            raise CannotWrite(path, "its symbolic links form a loop") from None
    real = os.path.realpath(path)
    if os.path.isdir(real):
        raise CannotWrite(path, "it is a folder; give a file name")
    if path.endswith(("/", os.sep)):  # to a shell too, x.txt/ is a folder's name, never a file's
        raise CannotWrite(path, "a name ending in a slash is a folder's; give a file name")
    if _special(real):
        if not os.access(real, os.W_OK):
            raise CannotWrite(path, "it is not writable")
        return
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        raise CannotWrite(path, f"there is no folder {folder}")
    if not os.access(folder, os.W_OK):
        raise CannotWrite(path, f"the folder {folder} is not writable")


def write(data: str | bytes, path: str | None) -> None:
    """``data`` to stdout (``path`` None or ``-``), or atomically to the file ``path`` (UTF-8 text).

    A regular file (or a new one) is replaced whole, through a temp file beside it; a link is
    followed, and its target replaced. A device or a pipe (``/dev/null``, ``>(…)``) is written
    in place: it is never replaced by a file.
    """
    if to_stdout(path):
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        return
    assert path is not None
    payload = data.encode("utf-8") if isinstance(data, str) else data
    real = os.path.realpath(path)
    if _special(real):
        try:
            with open(real, "wb") as handle:
                handle.write(payload)
        except OSError as exc:
            raise CannotWrite(path, exc.strerror or str(exc)) from None
        return
    folder = os.path.dirname(real)
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(real)}.", suffix=".tmp")
    except OSError as exc:
        raise CannotWrite(path, exc.strerror or str(exc)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, _mode(real))
        os.replace(temp, real)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise CannotWrite(path, exc.strerror or str(exc)) from None
        raise


def _mode(path: str) -> int:
    """An existing file keeps its permissions; a new one gets the usual ones (0666 less the umask)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _clamp(width: int) -> int:
    return max(MIN_WIDTH, min(width, MAX_WIDTH))


def table_width(path: str | None, wide: bool) -> int | None:
    """The width tables fit: the terminal's, or COLUMNS when set; None (natural width) for files,
    for ``--wide``, and for pipes when COLUMNS is not set."""
    if wide or not to_stdout(path):
        return None
    columns = os.environ.get("COLUMNS", "")
    if columns.strip().isdigit() and len(columns.strip()) < 6:
        return _clamp(int(columns))
    stream = sys.stdout
    try:
        if stream is not None and stream.isatty():
            return _clamp(shutil.get_terminal_size().columns)
    except (OSError, ValueError):
        pass
    return None


#: The most rows a network's table fitted to a terminal shows before it rolls up to modules:
#: the deepest depth whose rows fit, if one does (model/rollup.py's fitting_depth). About a tall
#: terminal's screen, and as many as torchinfo's depth-2 summary of a ResNet-50 with room to
#: spare. A fixed budget, not the terminal's height: the whole output (three tables and notes)
#: scrolls anyway, and a table that changed with the window's height could not be compared,
#: quoted or tested.
TABLE_ROWS = 50


def table_rows(path: str | None, wide: bool) -> int | None:
    """The rows a network's table may show: :data:`TABLE_ROWS` where the table fits a width (a
    terminal, or COLUMNS); None (every row) for files, pipes and ``--wide``, as their width."""
    return TABLE_ROWS if table_width(path, wide) is not None else None


def colour(path: str | None) -> bool:
    """ANSI styles only on a terminal, and never with NO_COLOR or TERM=dumb."""
    if not to_stdout(path) or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(sys.stdout is not None and sys.stdout.isatty())
    except (OSError, ValueError):
        return False
