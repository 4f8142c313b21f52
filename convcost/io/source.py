"""Reading an input: a spec or a model from a path, a shipped spec's name, bytes, or stdin.

What it is — YAML, JSON or ONNX — is told by the name (``.onnx``) or by a peek at the first
byte (a protobuf ModelProto starts with its ``ir_version`` field, 0x08; no text does), and the
whole is then read once, up to the size limit of what it turned out to be.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Mapping, Sequence
from mmap import mmap
from types import MappingProxyType
from typing import BinaryIO, NamedTuple

from ..core import limits
from ..core.errors import ConvCostError, show_value

#: The first byte of a serialized ONNX ModelProto: field 1 (ir_version), a varint.
ONNX_FIRST_BYTE = b"\x08"

STDIN = "<stdin>"


class CannotRead(OSError):
    """The input cannot be read at all (no such file, stdin closed): ``message`` says why, in the
    words an error line uses after naming the input's argument."""

    def __init__(self, path: str, message: str, errno: int | None = None) -> None:
        super().__init__(errno, message, path)
        self.path = path
        self.message = message


class SourceErrors(ConvCostError):
    """Every problem found in one input (``errors``), each with its spec path and line; ``source``
    names the input (a file name, or ``<stdin>``). Its own field and problem are the first's."""

    def __init__(self, source: str, errors: Sequence[ConvCostError]) -> None:
        self.errors = tuple(errors)
        first = self.errors[0]
        super().__init__(first.field, first.problem, line=first.line)
        self.source = source
        self.args = ("\n".join(located(source, e) for e in self.errors),)


class NotOnnx(ConvCostError):
    """An input that had to be an ONNX model is a spec."""


def located(source: str, exc: ConvCostError) -> str:
    """``file:line: path: problem`` — what an editor can jump to."""
    where = f"{source}:{exc.line}" if exc.line else source
    if exc.field == "spec":
        return f"{where}: the file {exc.problem}"
    return f"{where}: {exc.field}: {exc.problem}"


def source_name(path: str) -> str:
    return STDIN if path == "-" else path


def read_input(path: str) -> tuple[bytes | mmap, bool]:
    """A spec's or model's bytes from a path or stdin (``-``), and whether they are ONNX.

    Read up to the size limit of what they turn out to be (16 MiB of YAML or JSON,
    256 MiB of ONNX), so that a stream without end (``/dev/zero``, a pipe) stops there.
    """
    try:
        if path != "-":
            with open(path, "rb") as handle:
                return read_sniffed(handle, path)
        if sys.stdin is None:
            raise CannotRead(path, "'-' reads stdin, but stdin is closed")
        return read_sniffed(sys.stdin.buffer, path)
    except CannotRead:
        raise
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CannotRead(path, f"cannot read {show_value(path)}: {reason}", exc.errno) from None
    except ConvCostError as exc:
        raise SourceErrors(source_name(path), [exc]) from None


def read_sniffed(stream: BinaryIO, path: str) -> tuple[bytes | mmap, bool]:
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


def _read_at_most(stream: BinaryIO, limit: int, onnx: bool, already: int = 0) -> bytes | mmap:
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
    if onnx and size and not already:  # mapped, not read: the reader touches only the graph's pages
        mapped = _mapped(stream)
        if mapped is not None:
            return mapped
    data = stream.read(limit + 1 - already if size is None else size + 1)  # + 1: a file that grows
    if data is None:
        raise ConvCostError("spec", _NOT_READY)
    if already + len(data) > limit:
        raise ConvCostError("spec", _too_big(None, limit, onnx))
    return data


def _mapped(stream: BinaryIO) -> mmap | None:
    """A regular file mapped read-only, from where the stream is (None: it cannot be mapped).

    An ONNX model's weights are most of its bytes and convcost never reads them: mapped, their
    pages are never read from disk, nor held (a 100 MB model costs its graph's pages, not 100 MB).
    """
    import mmap as mmaps

    try:
        if stream.tell():  # read from where it is (never so for a file opened here)
            return None
        return mmaps.mmap(stream.fileno(), 0, access=mmaps.ACCESS_READ)
    except (OSError, ValueError, AttributeError):  # a file that cannot be mapped is read instead
        return None


def _too_big(size: int | None, limit: int, onnx: bool) -> str:
    if not onnx:
        from .spec_file import too_big

        return too_big(size, limit)
    what = f"is {size:,} bytes" if size is not None else f"is larger than {limit:,} bytes"
    return (
        f"{what}; at most {limit:,} are read (convcost reads only the graph: save the model with "
        "its weights in an external file, save_as_external_data=True, and cost the .onnx alone)"
    )


class Loaded(NamedTuple):
    """An input's spec document, and what reading it found out."""

    document: object
    notes: list[str]
    onnx: bool = False
    batch: int = 1  # an ONNX model's own batch (or the one given)
    unsupported: Mapping[str, int] = MappingProxyType({})


def parse(
    data: bytes | mmap,
    onnx: bool,
    source: str,
    input_shape: Sequence[int] | None = None,
    batch: int | None = None,
    fold_constants: bool = False,
) -> Loaded:
    """The spec document in ``data``: YAML or JSON read, or an ONNX model converted (with
    ``input_shape`` and ``batch`` applied)."""
    try:
        if onnx:
            from .onnx import load

            converted = load(
                data, source, input_shape=input_shape, batch=batch, fold_constants=fold_constants
            )
            return Loaded(converted.document, converted.notes, True, converted.batch, converted.unsupported)
        from .spec_file import read

        return Loaded(read(data if isinstance(data, bytes) else bytes(data)), [])  # specs are read
    except ConvCostError as exc:
        raise SourceErrors(source, [exc]) from None


def resolve(spec: str) -> str:
    """The path to read for ``spec``: a shipped spec's file for its name, else ``spec`` itself."""
    from .builtin_specs import find

    builtin = find(spec)
    return str(builtin) if builtin is not None else spec


def load_document(
    spec: str,
    input_shape: Sequence[int] | None = None,
    batch: int | None = None,
    *,
    onnx_only: bool = False,
    fold_constants: bool = False,
) -> Loaded:
    """A spec file's document, by path, shipped spec's name, or ``-`` for stdin: YAML, JSON, or an
    ONNX model converted (``onnx_only``: a spec is refused with :class:`NotOnnx`)."""
    if "\x00" in spec:  # no file name holds one (the OS refuses it), nor does a shipped spec's
        raise ConvCostError("source", f"{show_value(spec)} holds a NUL character; no path or spec name can")
    try:
        data, onnx = read_input(resolve(spec))
    except CannotRead as exc:
        if exc.errno != errno.ENOENT or onnx_only:
            raise
        from .builtin_specs import not_found  # a misspelt shipped name, or a missing file

        raise CannotRead(spec, not_found(spec), exc.errno) from None
    if onnx_only and not onnx:
        raise NotOnnx("source", f"{show_value(spec)} is not an ONNX model")
    return parse(data, onnx, source_name(spec), input_shape, batch, fold_constants)
