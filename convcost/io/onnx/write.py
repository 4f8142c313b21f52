""":mod:`.proto`'s objects back to protobuf bytes: the copy onnx's inference reads, where it runs.

Models are parsed by convcost's own reader; onnx, where its inference is still the one that gives
shapes, reads a copy written here: the model's graph with its weights' dims but not their bytes
(as onnx's ``load_external_data=False`` would have it, a file of several GB is never copied).
Every field is written from the message's table in :mod:`.proto`, so nothing read is lost.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import proto
from .read import MOST_READ_BYTES
from .read import weight as _weight
from .registry import CONSTANT

if TYPE_CHECKING:
    from .proto import GraphProto, ModelProto, NodeProto, TensorProto

_MASK64 = (1 << 64) - 1
weight: Callable[[Any], bool] = _weight  # read.py names onnx's classes; these are :mod:`.proto`'s
_NUMBERS = (proto._INT64, proto._INT32, proto._ENUM)
_FIXED_CODES = {"f": struct.Struct("<f"), "d": struct.Struct("<d")}


def _varint(value: int, out: bytearray) -> None:
    value &= _MASK64  # negative numbers as protobuf writes them: ten bytes of two's complement
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)


def _length(number: int, payload: bytes | bytearray | memoryview, out: bytearray) -> None:
    _varint(number << 3 | 2, out)
    _varint(len(payload), out)
    out += payload


def message(msg: Any, out: bytearray | None = None) -> bytearray:
    """``msg`` (any of :mod:`.proto`'s messages) serialized, every field it holds."""
    out = bytearray() if out is None else out
    for number, (slot, kind, extra, bit) in type(msg)._spec.items():
        if kind in (proto._STR, proto._BYTES):
            if msg._present & bit:
                value = getattr(msg, slot)
                _length(number, value.encode() if kind == proto._STR else value, out)
        elif kind in _NUMBERS:
            if msg._present & bit:
                _varint(number << 3, out)
                _varint(getattr(msg, slot), out)
        elif kind == proto._FLOAT:
            if msg._present & bit:
                _varint(number << 3 | 5, out)
                out += _FIXED_CODES["f"].pack(getattr(msg, slot))
        elif kind == proto._RAW:
            if msg._raw is not None:
                _length(number, msg.raw_data, out)
        elif kind == proto._MSG:
            inner = getattr(msg, slot)
            if inner is not None:
                _length(number, message(inner), out)
        elif kind in (proto._RSTR, proto._RBYTES):
            for value in getattr(msg, slot):
                _length(number, value.encode() if kind == proto._RSTR else value, out)
        elif kind == proto._RMSG:
            for inner in getattr(msg, slot):
                _length(number, message(inner), out)
        elif kind == proto._RINT64:
            for value in getattr(msg, slot):
                _varint(number << 3, out)
                _varint(value, out)
        elif kind == proto._RFLOAT:
            for value in getattr(msg, slot):
                _varint(number << 3 | 5, out)
                out += _FIXED_CODES["f"].pack(value)
        elif kind == proto._LAZY:
            _numbers(number, extra, getattr(msg, slot.lstrip("_")), out)
    return out


def _numbers(number: int, code: str, values: list[Any], out: bytearray) -> None:
    packed = _FIXED_CODES.get(code)
    for value in values:
        if packed is not None:
            _varint(number << 3 | (5 if code == "f" else 1), out)
            out += packed.pack(value)
        else:
            _varint(number << 3, out)
            _varint(value, out)


def tensor_bytes(tensor: TensorProto) -> bytes:
    """A tensor serialized whole (for onnx's helper, on the types numpy does not hold)."""
    return bytes(message(tensor))


def _dims_only(tensor: TensorProto) -> bytearray:
    """A tensor without its values: name, type and dims."""
    out = bytearray()
    for value in tensor.dims:
        _varint(1 << 3, out)
        _varint(value, out)
    _varint(2 << 3, out)
    _varint(tensor.data_type, out)
    _length(8, tensor.name.encode(), out)
    return out


def _node(node: NodeProto) -> bytearray:
    """A node; a weight some converters write as a Constant node keeps its dims, not its bytes."""
    if node.op_type != CONSTANT or not any(a.type == 4 and weight(a.t) for a in node.attribute):
        return message(node)
    kept = proto.NodeProto()
    for name in ("name", "op_type", "domain", "input", "output"):
        setattr(kept, name, getattr(node, name))
    kept._present = node._present
    out = message(kept)
    for attribute in node.attribute:
        if attribute.type == 4 and weight(attribute.t):
            inner = bytearray()
            _length(1, attribute.name.encode(), inner)
            _length(5, _dims_only(attribute.t), inner)
            _varint(20 << 3, inner)
            _varint(4, inner)
            _length(5, inner, out)
        else:
            _length(5, message(attribute), out)
    return out


def _graph(graph: GraphProto) -> bytearray:
    out = bytearray()
    for node in graph.node:
        _length(1, _node(node), out)
    _length(2, graph.name.encode(), out)
    for tensor in graph.initializer:
        if weight(tensor):
            _length(5, _dims_only(tensor), out)
        elif tensor.raw_size > MOST_READ_BYTES:  # more bytes than its dims hold: never read
            kept = proto.TensorProto()
            for slot in proto.TensorProto.__slots__:
                setattr(kept, slot, getattr(tensor, slot))
            kept._present = tensor._present
            kept._raw = None
            _length(5, message(kept), out)
        else:
            _length(5, message(tensor), out)
    for number, infos in ((11, graph.input), (12, graph.output), (13, graph.value_info)):
        for info in infos:
            _length(number, message(info), out)
    for sparse in graph.sparse_initializer:
        _length(15, message(sparse), out)
    return out


def shapes_only(model: ModelProto) -> bytes:
    """What onnx's inference reads of a model: its IR version, opsets and graph, the graph's weights
    without their bytes (they keep name, type and dims)."""
    out = bytearray()
    _varint(1 << 3, out)
    _varint(model.ir_version, out)
    for opset in model.opset_import:
        _length(8, message(opset), out)
    _length(7, _graph(model.graph), out)
    return bytes(out)
