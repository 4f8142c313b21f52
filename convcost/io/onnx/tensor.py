"""Tensor values in pure Python: the constants and shape arithmetic a model computes shapes with.

A :class:`Tensor` is an ONNX data type, dims and its elements as a flat row-major tuple of Python
numbers (ints, floats, bools). :func:`decode` reads one from a ``TensorProto`` (onnx's or
:mod:`.proto`'s: the same attribute names), never a weight's bytes (see ``read.weight``) and never
past :data:`MOST_ELEMENTS`. The operations here are what the ops' folds need, with numpy's
semantics for the values that reach shapes: integers wrap at their width, float32 and float16
results are rounded to their type (Python computes in doubles, which for one +, −, ×, ÷ or √ rounds
to the same float32 as float32 arithmetic does), and anything else (strings, complex, bfloat16 and
the 8-bit floats) is not a value here: :class:`NotFolded` is raised, the value stays unknown.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from math import prod
from typing import Protocol

Number = int | float | bool
Dims = tuple[int, ...]

#: The most elements a tensor decoded or computed here may have (shape arithmetic is small).
MOST_ELEMENTS = 1 << 16

# ONNX's TensorProto.DataType values (onnx.proto)
FLOAT, UINT8, INT8, UINT16, INT16, INT32, INT64, STRING, BOOL = range(1, 10)
FLOAT16, DOUBLE, UINT32, UINT64 = 10, 11, 12, 13
BFLOAT16 = 16

#: Integer types: (bits, signed).
INTEGERS = {UINT8: (8, False), INT8: (8, True), UINT16: (16, False), INT16: (16, True),
            INT32: (32, True), INT64: (64, True), UINT32: (32, False), UINT64: (64, False)}  # fmt: skip
FLOATS = frozenset({FLOAT, FLOAT16, DOUBLE, BFLOAT16})
#: The types held here: numbers and bools.
NUMERIC = frozenset({*INTEGERS, *FLOATS, BOOL})
#: How raw_data stores each type (little-endian).
_RAW = {FLOAT: "f", UINT8: "B", INT8: "b", UINT16: "H", INT16: "h", INT32: "i", INT64: "q", BOOL: "?",
        FLOAT16: "e", DOUBLE: "d", UINT32: "I", UINT64: "Q", BFLOAT16: "H"}  # fmt: skip


class NotFolded(ValueError):
    """A value that is not worked out here (its type, its size, an operation numpy would refuse)."""


@dataclass(frozen=True, slots=True)
class Tensor:
    dtype: int
    dims: Dims
    values: tuple[Number, ...]

    @property
    def size(self) -> int:
        return len(self.values)

    @property
    def rank(self) -> int:
        return len(self.dims)

    def ints(self) -> list[int]:
        """The elements as ints (floats truncated, as numpy's ``int()`` does)."""
        return [int(v) for v in self.values]

    def reshaped(self, dims: Sequence[int]) -> Tensor:
        dims = tuple(dims)
        if prod(dims) != self.size or any(d < 0 for d in dims):
            raise NotFolded(f"cannot reshape {self.size} elements to {list(dims)}")
        return Tensor(self.dtype, dims, self.values)


class _Proto(Protocol):
    """What :func:`decode` reads of a TensorProto (onnx's or :mod:`.proto`'s)."""

    dims: Sequence[int]
    data_type: int
    data_location: int

    @property
    def raw_data(self) -> bytes | memoryview: ...

    @property
    def float_data(self) -> Sequence[float]: ...

    @property
    def int32_data(self) -> Sequence[int]: ...

    @property
    def int64_data(self) -> Sequence[int]: ...

    @property
    def double_data(self) -> Sequence[float]: ...

    @property
    def uint64_data(self) -> Sequence[int]: ...


def decode(proto: _Proto) -> Tensor:
    """A TensorProto's values (raises NotFolded: external data, strings, other types, too many)."""
    dtype, dims = int(proto.data_type), tuple(int(d) for d in proto.dims)
    if dtype not in NUMERIC:
        raise NotFolded(f"data type {dtype} is not a number type read here")
    if proto.data_location == 1:
        raise NotFolded("its values are in an external file, which is never read")
    count = prod(dims)
    if count > MOST_ELEMENTS or any(d < 0 for d in dims):
        raise NotFolded(f"{count} elements are more than are read")
    raw = proto.raw_data
    values: Sequence[Number]
    if len(raw):
        code = _RAW[dtype]
        if len(raw) != count * struct.calcsize(code):
            raise NotFolded(f"{len(raw)} bytes of raw data for {count} elements")
        values = struct.unpack(f"<{count}{code}", raw)
        if dtype == BFLOAT16:
            values = _bfloat16(values)
    elif dtype == FLOAT:
        values = list(proto.float_data)
    elif dtype == DOUBLE:
        values = list(proto.double_data)
    elif dtype == INT64:
        values = list(proto.int64_data)
    elif dtype in (UINT32, UINT64):
        values = list(proto.uint64_data)
    elif dtype == FLOAT16:  # the bits of each float16, in int32_data
        bits = list(proto.int32_data)
        values = struct.unpack(f"<{len(bits)}e", struct.pack(f"<{len(bits)}H", *(b & 0xFFFF for b in bits)))
    elif dtype == BFLOAT16:  # the top 16 bits of each float32, in int32_data
        values = _bfloat16(list(proto.int32_data))
    else:  # the narrower ints and bools, in int32_data
        values = list(proto.int32_data)
    if len(values) != count:
        raise NotFolded(f"{len(values)} values for {count} elements")
    return Tensor(dtype, dims, tuple(convert(v, dtype) for v in values))


# ---------------------------------------------------------------------------- elements


def _f32(value: float) -> float:
    try:
        result: float = struct.unpack("<f", struct.pack("<f", value))[0]
        return result
    except OverflowError:  # past float32's range: infinite, as float32 arithmetic makes it
        return math.copysign(math.inf, value)


def _bfloat16(bits: Sequence[int]) -> tuple[float, ...]:
    """bfloat16 elements from their bits (the upper half of a float32's)."""
    return struct.unpack(f"<{len(bits)}f", struct.pack(f"<{len(bits)}I", *((b & 0xFFFF) << 16 for b in bits)))


def _bf16(value: float) -> float:
    """A float rounded to bfloat16 (to nearest, ties to even, from its float32)."""
    single = _f32(value)
    if not math.isfinite(single):
        return single
    (bits,) = struct.unpack("<I", struct.pack("<f", single))
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    result: float = struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]
    return result


def _f16(value: float) -> float:
    try:
        result: float = struct.unpack("<e", struct.pack("<e", value))[0]
        return result
    except OverflowError:
        return math.copysign(math.inf, value)


def convert(value: Number, dtype: int) -> Number:
    """One element as ``dtype`` holds it (numpy's ``astype``): ints wrap, floats round, truncation
    toward zero from floats to ints (a NaN or infinity there is refused)."""
    if dtype == BOOL:
        return bool(value)
    if dtype in INTEGERS:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise NotFolded(f"{value} has no integer value")
            value = math.trunc(value)
        bits, signed = INTEGERS[dtype]
        wrapped = int(value) & ((1 << bits) - 1)
        return wrapped - (1 << bits) if signed and wrapped >> (bits - 1) else wrapped
    if dtype == FLOAT:
        return _f32(float(value))
    if dtype == FLOAT16:
        return _f16(float(value))
    if dtype == DOUBLE:
        return float(value)
    if dtype == BFLOAT16:
        return _bf16(float(value))
    raise NotFolded(f"data type {dtype} is not a number type read here")


def make(dtype: int, dims: Sequence[int], values: Iterable[Number]) -> Tensor:
    """A tensor of ``values`` converted to ``dtype``."""
    found = tuple(convert(v, dtype) for v in values)
    dims = tuple(dims)
    if len(found) != prod(dims):
        raise NotFolded(f"{len(found)} values for dims {list(dims)}")
    return Tensor(dtype, dims, found)


def of_ints(values: Sequence[int], dims: Sequence[int] | None = None) -> Tensor:
    """An int64 tensor (a vector unless ``dims`` says otherwise)."""
    return make(INT64, (len(values),) if dims is None else dims, values)


def check_size(count: int) -> None:
    if count > MOST_ELEMENTS:
        raise NotFolded(f"{count} elements are more than are worked out")


# ---------------------------------------------------------------------------- layout


def strides(dims: Sequence[int]) -> list[int]:
    out, step = [0] * len(dims), 1
    for axis in range(len(dims) - 1, -1, -1):
        out[axis] = step
        step *= dims[axis]
    return out


def broadcast_dims(*shapes: Sequence[int]) -> Dims:
    """numpy's (and ONNX's multidirectional) broadcast of several shapes (ValueError if they do not)."""
    rank = max((len(s) for s in shapes), default=0)
    out: list[int] = []
    for axis in range(rank):
        sizes = {s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            raise ValueError(f"dims {' and '.join(str(list(s)) for s in shapes)} do not broadcast")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def expanded(tensor: Tensor, dims: Sequence[int]) -> tuple[Number, ...]:
    """The elements of ``tensor`` broadcast to ``dims`` (which it must broadcast to)."""
    dims = tuple(dims)
    if tensor.dims == dims:
        return tensor.values
    count = prod(dims)
    check_size(count)
    if not count:  # an empty result: no index walk (a dim of 2**40 beside a 0 would never end)
        return ()
    rank = len(dims)
    own = (1,) * (rank - tensor.rank) + tensor.dims
    steps = [0 if size == 1 else step for size, step in zip(own, strides(own), strict=True)]
    indices = [0]
    for size, step in zip(dims, steps, strict=True):
        indices = [base + i * step for base in indices for i in range(size)]
    values = tensor.values
    return tuple(values[i] for i in indices)


def elementwise(fn: Callable[..., Number], tensors: Sequence[Tensor], dtype: int | None = None) -> Tensor:
    """``fn`` applied element by element to ``tensors`` broadcast together, as ``dtype`` (the first's)."""
    dims = broadcast_dims(*(t.dims for t in tensors))
    check_size(prod(dims))
    columns = [expanded(t, dims) for t in tensors]
    return make(tensors[0].dtype if dtype is None else dtype, dims, map(fn, *columns))


def transposed(tensor: Tensor, perm: Sequence[int]) -> Tensor:
    rank = tensor.rank
    if sorted(perm) != list(range(rank)):
        raise NotFolded(f"perm {list(perm)} is not an order of {rank} axes")
    own = strides(tensor.dims)
    dims = tuple(tensor.dims[p] for p in perm)
    if not tensor.size:  # empty: no index walk over its other (maybe huge) dims
        return Tensor(tensor.dtype, dims, ())
    indices = [0]
    for axis, size in zip(perm, dims, strict=True):
        step = own[axis]
        indices = [base + i * step for base in indices for i in range(size)]
    return Tensor(tensor.dtype, dims, tuple(tensor.values[i] for i in indices))


def positions(tensor: Tensor, axis: int) -> tuple[int, int, int]:
    """``tensor`` as outer × dims[axis] × inner: those three counts."""
    dims = tensor.dims
    return prod(dims[:axis]), dims[axis], prod(dims[axis + 1 :])


def taken(tensor: Tensor, axis: int, index: Sequence[int]) -> tuple[Number, ...]:
    """The elements of ``tensor`` at positions ``index`` along ``axis`` (numpy's ``take``): a negative
    index counts from the end, one out of range is refused."""
    outer, size, inner = positions(tensor, axis)
    picked = []
    for i in index:
        if not -size <= i < size:
            raise NotFolded(f"index {i} is out of range for a dim of {size}")
        picked.append(i % size)
    count = outer * len(picked) * inner
    check_size(count)
    if not count:  # empty: no walk over the other (maybe huge) counts
        return ()
    values = tensor.values
    return tuple(
        values[(o * size + i) * inner + k] for o in range(outer) for i in picked for k in range(inner)
    )


def concatenated(tensors: Sequence[Tensor], axis: int) -> Tensor:
    first = tensors[0]
    rank = first.rank
    if not -rank <= axis < rank or any(t.rank != rank for t in tensors):
        raise NotFolded("tensors of other ranks, or an axis out of range")
    axis %= rank
    rest = [d for a, d in enumerate(first.dims) if a != axis]
    if any([d for a, d in enumerate(t.dims) if a != axis] != rest for t in tensors):
        raise NotFolded("dims that differ off the axis")
    outer = prod(first.dims[:axis])
    parts = [(t.values, t.dims[axis] * prod(t.dims[axis + 1 :])) for t in tensors]
    check_size(sum(t.size for t in tensors))
    values: list[Number] = []
    for o in range(outer if any(width for _, width in parts) else 0):  # empty: no walk of outer
        for own, width in parts:
            values.extend(own[o * width : (o + 1) * width])
    dims = (*first.dims[:axis], sum(t.dims[axis] for t in tensors), *first.dims[axis + 1 :])
    dtype = first.dtype
    return (
        make(dtype, dims, values)
        if any(t.dtype != dtype for t in tensors)
        else Tensor(dtype, dims, tuple(values))
    )


def sliced(tensor: Tensor, bounds: dict[int, range]) -> Tensor:
    """``tensor`` at the positions ``bounds`` gives along each axis in it (the others whole)."""
    ranges = [bounds.get(axis, range(size)) for axis, size in enumerate(tensor.dims)]
    dims = tuple(len(r) for r in ranges)
    if not prod(dims):  # empty: no index walk over its other (maybe huge) dims
        return Tensor(tensor.dtype, dims, ())
    own = strides(tensor.dims)
    indices = [0]
    for axis, kept in enumerate(ranges):
        step = own[axis]
        indices = [base + i * step for base in indices for i in kept]
    return Tensor(tensor.dtype, dims, tuple(tensor.values[i] for i in indices))


def first(tensor: Tensor) -> Number:
    if not tensor.values:
        raise NotFolded("an empty tensor has no first element")
    return tensor.values[0]
