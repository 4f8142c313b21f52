"""ONNX's protobuf messages, read in pure Python: an ONNX model without the onnx package.

:func:`parse` reads a serialized ``ModelProto`` into objects with the attribute names of onnx's
protobuf classes (``model.graph.node[0].attribute[0].ints``…), so that the importer can take
either. Field numbers and semantics are onnx-ml.proto's (IR version 11+):

- Every message, eagerly; those the importer reads with typed attributes, the others (training
  info, quantization annotations, tensor segments, device configurations) untyped. Doc strings
  and unknown fields, of every wire type (groups included), are skipped. The objects are
  read-only: the types of value infos with equal bytes are one object.
- ``raw_data`` is a read-only ``memoryview`` of the input: never read or copied unless the caller
  does. Typed value fields (``float_data``…) are checked when parsed and decoded when first read.
  External data is a list of key/value entries: no file is touched.
- Protobuf's semantics: a scalar's last value wins, a message given twice is merged, a oneof
  member clears the others, a proto2 enum value outside the enum is ignored, repeated numbers
  may be packed or not, int32 keeps the low 32 bits and varints the low 64, tags take ≤ 5 bytes.

Malformed bytes raise one error, :class:`MalformedModel` (a :class:`ConvCostError`) naming what is
wrong and where (byte, message path): all protobuf refuses (truncated or over-long varints,
lengths past their message, field number 0, wire types 6 and 7, unbalanced groups, nesting deeper
than protobuf's 100) and, stricter, a known field with another wire type (protobuf keeps it as
unknown) and text that is not UTF-8 (protobuf gives bytes): no ONNX writer makes either, and no
importer could use them. A budget of fields bounds the time of a file of empty fields.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from mmap import mmap
from typing import Any, ClassVar, Generic, TypeVar, overload

from ...core.errors import ConvCostError

#: Nesting of messages (and groups) below the model that protobuf's parser (upb) accepts.
MAX_DEPTH = 100
#: Fields read from one model (tags, and packed numbers decoded) before it is refused: a 20,000-node
#: transformer holds 500,000; a file of empty fields could hold 100 million (minutes of Python).
MAX_FIELDS = 4_000_000

_MASK64 = (1 << 64) - 1
_VARINT, _FIXED64, _LENGTH, _START_GROUP, _END_GROUP, _FIXED32 = 0, 1, 2, 3, 4, 5
_LONG_VARINT = re.compile(rb"[\x80-\xff]{10}")  # a varint of more than 10 bytes (protobuf's limit)
_EMPTY = memoryview(b"")


class MalformedModel(ConvCostError):
    """Bytes that are not a serialized ModelProto (the one error :func:`parse` raises)."""


class _Bad(Exception):
    """A problem found at byte ``pos``; the enclosing fields are added to ``path`` on the way out."""

    def __init__(self, problem: str, pos: int) -> None:
        super().__init__(problem)
        self.problem, self.pos, self.path = problem, pos, list[str]()


# How each known field is read (and so which wire types it takes): text, bytes, a view of the
# input, numbers, an enum, a message (merged when repeated), lists of those, numbers read lazily.
_STR, _BYTES, _RAW, _INT64, _INT32, _ENUM, _FLOAT, _MSG = range(8)
_RSTR, _RBYTES, _RINT64, _RFLOAT, _RMSG, _LAZY = range(8, 14)
_SCALARS = (_STR, _BYTES, _RAW, _INT64, _INT32, _ENUM, _FLOAT)  # those with a presence bit
_Field = tuple[str, int, Any, int]  # slot, kind, extra (a class, enum values, element code), bit


class _Slots(type):
    """Gives a message class ``__slots__``: its annotated fields, and ``_x`` for a descriptor ``x``."""

    def __new__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> _Slots:
        if "__slots__" not in namespace:
            hidden = ["_" + key for key, value in namespace.items() if isinstance(value, (_Sub, _Lazy))]
            namespace["__slots__"] = (*namespace.get("__annotations__", {}), *hidden)
        return super().__new__(cls, name, bases, namespace)


class _Message(metaclass=_Slots):
    """``HasField`` and ``WhichOneof`` as protobuf's have them. ``__init__`` and the parser are
    generated from the table (see :func:`_table`); message ``x`` is in slot ``_x`` (None: unset)."""

    __slots__ = ("_present",)
    _present: int
    _spec: ClassVar[dict[int, _Field]] = {}
    _bits: ClassVar[dict[str, int]] = {}  # optional scalar → its presence bit
    _oneof: ClassVar[tuple[str, ...]] = ()  # the members of the message's one oneof, "value"

    def HasField(self, name: str) -> bool:  # protobuf's name
        bit = self._bits.get(name)
        if bit is None and not isinstance(getattr(type(self), name, None), _Sub):
            raise ValueError(f"{type(self).__name__} has no optional field {name!r}")  # as protobuf
        return bool(self._present & bit) if bit is not None else getattr(self, "_" + name) is not None

    def WhichOneof(self, group: str) -> str | None:  # protobuf's name
        if group != "value" or not self._oneof:
            raise ValueError(f"{type(self).__name__} has no oneof {group!r}")
        return next((name for name in self._oneof if self.HasField(name)), None)


M = TypeVar("M", bound=_Message)


class _Sub(Generic[M]):
    """A message field: reads as an empty message while unset, as protobuf's do."""

    def __init__(self, make: Callable[[], M]) -> None:
        self.make, self.slot = make, ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    @overload
    def __get__(self, obj: None, owner: type) -> _Sub[M]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> M: ...
    def __get__(self, obj: object | None, owner: type) -> M | _Sub[M]:
        if obj is None:
            return self
        value: M | None = getattr(obj, self.slot)
        return self.make() if value is None else value


class _Numbers(list[tuple[int, int]]):
    """Numbers not decoded yet: checked packed runs of the input (an unpacked one is a run of one)."""


_FIXED = {"f": 4, "d": 8}  # element code → bytes; the others ("q" int64, "i" int32, "Q" uint64) are varints


class _Lazy:
    """A repeated number field of TensorProto, decoded from its spans when first read."""

    def __init__(self, code: str) -> None:
        self.code, self.slot = code, ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, obj: TensorProto | None, owner: type) -> Any:
        if obj is None:
            return self
        value = getattr(obj, self.slot)
        if isinstance(value, _Numbers):
            value = _decode_numbers(obj._buffer, value, self.code)
            setattr(obj, self.slot, value)
        return value


class StringStringEntryProto(_Message):
    key: str
    value: str


class OperatorSetIdProto(_Message):
    domain: str
    version: int


class Dimension(_Message):
    """TensorShapeProto.Dimension: ``dim_value`` or ``dim_param`` (a oneof), or neither."""

    dim_value: int
    dim_param: str
    denotation: str


class TensorShapeProto(_Message):
    dim: list[Dimension]


class TypeTensor(_Message):
    """TypeProto.Tensor, and TypeProto.SparseTensor (the same two fields)."""

    elem_type: int
    shape = _Sub(TensorShapeProto)


class TypeSequence(_Message):
    """TypeProto.Sequence and TypeProto.Optional: one element type."""

    elem_type = _Sub(lambda: TypeProto())


class TypeMap(_Message):
    key_type: int
    value_type = _Sub(lambda: TypeProto())


class TypeOpaque(_Message):
    domain: str
    name: str


class TypeProto(_Message):
    tensor_type = _Sub(TypeTensor)
    sequence_type = _Sub(TypeSequence)
    map_type = _Sub(TypeMap)
    optional_type = _Sub(TypeSequence)
    sparse_tensor_type = _Sub(TypeTensor)
    opaque_type = _Sub(TypeOpaque)
    denotation: str


class ValueInfoProto(_Message):
    name: str
    type = _Sub(TypeProto)
    metadata_props: list[StringStringEntryProto]


class TensorProto(_Message):
    dims: list[int]
    data_type: int
    name: str
    string_data: list[bytes]
    external_data: list[StringStringEntryProto]
    data_location: int
    metadata_props: list[StringStringEntryProto]
    _raw: tuple[int, int] | None
    _buffer: memoryview
    segment = _Sub(lambda: _SEGMENT())
    float_data = _Lazy("f")
    int32_data = _Lazy("i")
    int64_data = _Lazy("q")
    double_data = _Lazy("d")
    uint64_data = _Lazy("Q")
    UNDEFINED, FLOAT, UINT8, INT8, UINT16, INT16, INT32, INT64, STRING, BOOL = range(10)  # onnx's enums
    FLOAT16, DOUBLE, UINT32, UINT64, COMPLEX64, COMPLEX128, BFLOAT16 = range(10, 17)
    DEFAULT, EXTERNAL = 0, 1

    @property
    def raw_data(self) -> memoryview:
        """The bytes, as a read-only view of the input: nothing is read or copied until used."""
        return _EMPTY if self._raw is None else self._buffer[self._raw[0] : self._raw[1]]

    @property
    def raw_size(self) -> int:
        """``len(raw_data)``, without making a view."""
        return 0 if self._raw is None else self._raw[1] - self._raw[0]


class SparseTensorProto(_Message):
    values = _Sub(TensorProto)
    indices = _Sub(TensorProto)
    dims: list[int]


class AttributeProto(_Message):
    name: str
    ref_attr_name: str
    type: int
    f: float
    i: int
    s: bytes
    t = _Sub(TensorProto)
    g = _Sub(lambda: GraphProto())
    sparse_tensor = _Sub(SparseTensorProto)
    tp = _Sub(TypeProto)
    floats: list[float]
    ints: list[int]
    strings: list[bytes]
    tensors: list[TensorProto]
    graphs: list[GraphProto]
    sparse_tensors: list[SparseTensorProto]
    type_protos: list[TypeProto]
    UNDEFINED, FLOAT, INT, STRING, TENSOR, GRAPH, FLOATS, INTS, STRINGS, TENSORS, GRAPHS = range(11)
    SPARSE_TENSOR, SPARSE_TENSORS, TYPE_PROTO, TYPE_PROTOS = 11, 12, 13, 14


class NodeProto(_Message):
    input: list[str]
    output: list[str]
    name: str
    op_type: str
    domain: str
    overload: str
    attribute: list[AttributeProto]
    metadata_props: list[StringStringEntryProto]
    device_configurations: list[_Message]  # never read: untyped


class GraphProto(_Message):
    node: list[NodeProto]
    name: str
    initializer: list[TensorProto]
    sparse_initializer: list[SparseTensorProto]
    input: list[ValueInfoProto]
    output: list[ValueInfoProto]
    value_info: list[ValueInfoProto]
    metadata_props: list[StringStringEntryProto]
    quantization_annotation: list[_Message]  # never read: untyped


class FunctionProto(_Message):
    name: str
    input: list[str]
    output: list[str]
    attribute: list[str]
    attribute_proto: list[AttributeProto]
    node: list[NodeProto]
    opset_import: list[OperatorSetIdProto]
    domain: str
    overload: str
    value_info: list[ValueInfoProto]
    metadata_props: list[StringStringEntryProto]


class ModelProto(_Message):
    ir_version: int
    opset_import: list[OperatorSetIdProto]
    producer_name: str
    producer_version: str
    domain: str
    model_version: int
    graph = _Sub(GraphProto)
    metadata_props: list[StringStringEntryProto]
    functions: list[FunctionProto]
    training_info: list[_Message]  # never read: untyped
    configuration: list[_Message]


def _table(cls: type[_Message], fields: dict[int, tuple[str, int, Any]], oneof: tuple[str, ...] = ()) -> None:
    """Set ``cls``'s fields (number → name, kind, extra), their presence bits, oneof, and ``__init__``."""
    spec: dict[int, _Field] = {}
    bits: dict[str, int] = {}
    init = ["def __init__(self):", "    self._present = 0"]
    for number, (name, kind, extra) in fields.items():
        bit = 0
        if kind in _SCALARS:
            bit = bits[name] = 1 << len(bits)
        slot = "_raw" if kind == _RAW else "_" + name if kind in (_MSG, _LAZY) else name
        spec[number] = (slot, kind, extra, bit)
        default = {_STR: '""', _BYTES: 'b""', _FLOAT: "0.0", _MSG: "None", _RAW: "None"}.get(kind, "[]")
        init.append(f"    self.{slot} = {'0' if kind in (_INT64, _INT32, _ENUM) else default}")
    if any(f[1] == _RAW for f in spec.values()):
        init.append("    self._buffer = _EMPTY")
    cls._spec, cls._bits, cls._oneof = spec, bits, oneof
    namespace: dict[str, Any] = {"_EMPTY": _EMPTY}
    exec("\n".join(init), namespace)  # as fast as written out: a loop over the fields is 3× slower
    cls.__init__ = namespace["__init__"]  # type: ignore[method-assign]


_SSE, _OPSET, _TYPE = StringStringEntryProto, OperatorSetIdProto, TypeProto


def _unread(name: str, fields: dict[int, tuple[str, int, Any]]) -> type[_Message]:
    """A message of onnx.proto the importer never reads, parsed all the same (so that the bytes
    protobuf refuses are refused) into an object with protobuf's field names, untyped."""
    slots = tuple("_" + n if kind == _MSG else n for n, kind, _ in fields.values())
    subs = {n: _Sub(extra) for n, kind, extra in fields.values() if kind == _MSG}
    cls = type(name, (_Message,), {"__slots__": slots, "__module__": __name__, **subs})
    _table(cls, fields)
    return cls


_SEGMENT: type[_Message] = _unread("Segment", {1: ("begin", _INT64, None), 2: ("end", _INT64, None)})
_ANNOTATION = _unread("TensorAnnotation", {1: ("tensor_name", _STR, None),
                                           2: ("quant_parameter_tensor_names", _RMSG, _SSE)})  # fmt: skip
_TRAINING = _unread("TrainingInfoProto", {1: ("initialization", _MSG, GraphProto),
                    2: ("algorithm", _MSG, GraphProto), 3: ("initialization_binding", _RMSG, _SSE),
                    4: ("update_binding", _RMSG, _SSE)})  # fmt: skip
_DEVICES = _unread("DeviceConfigurationProto", {1: ("name", _STR, None), 2: ("num_devices", _INT32, None),
                                                3: ("device", _RSTR, None)})  # fmt: skip
_MAP = _unread("IntIntListEntryProto", {1: ("key", _INT64, None), 2: ("value", _RINT64, None)})
_SIMPLE = _unread("SimpleShardedDimProto", {1: ("dim_value", _INT64, None), 2: ("dim_param", _STR, None),
                                            3: ("num_shards", _INT64, None)})  # fmt: skip
_SHARDED = _unread("ShardedDimProto", {1: ("axis", _INT64, None), 2: ("simple_sharding", _RMSG, _SIMPLE)})
_SHARDING = _unread("ShardingSpecProto", {1: ("tensor_name", _STR, None), 2: ("device", _RINT64, None),
                    3: ("index_to_device_group_map", _RMSG, _MAP),
                    4: ("sharded_dim", _RMSG, _SHARDED)})  # fmt: skip
_NODE_DEVICES = _unread("NodeDeviceConfigurationProto", {1: ("configuration_id", _STR, None),
                        2: ("sharding_spec", _RMSG, _SHARDING),
                        3: ("pipeline_stage", _INT32, None)})  # fmt: skip
_table(_SSE, {1: ("key", _STR, None), 2: ("value", _STR, None)})
_table(_OPSET, {1: ("domain", _STR, None), 2: ("version", _INT64, None)})
_table(Dimension, {1: ("dim_value", _INT64, None), 2: ("dim_param", _STR, None),
                   3: ("denotation", _STR, None)}, ("dim_value", "dim_param"))  # fmt: skip
_table(TensorShapeProto, {1: ("dim", _RMSG, Dimension)})
_table(TypeTensor, {1: ("elem_type", _INT32, None), 2: ("shape", _MSG, TensorShapeProto)})
_table(TypeSequence, {1: ("elem_type", _MSG, _TYPE)})
_table(TypeMap, {1: ("key_type", _INT32, None), 2: ("value_type", _MSG, _TYPE)})
_table(TypeOpaque, {1: ("domain", _STR, None), 2: ("name", _STR, None)})
_table(
    TypeProto,
    {1: ("tensor_type", _MSG, TypeTensor), 6: ("denotation", _STR, None), 5: ("map_type", _MSG, TypeMap),
     4: ("sequence_type", _MSG, TypeSequence), 9: ("optional_type", _MSG, TypeSequence),
     8: ("sparse_tensor_type", _MSG, TypeTensor), 7: ("opaque_type", _MSG, TypeOpaque)},
    ("tensor_type", "sequence_type", "map_type", "optional_type", "sparse_tensor_type", "opaque_type"),
)  # fmt: skip
_table(
    ValueInfoProto, {1: ("name", _STR, None), 2: ("type", _MSG, _TYPE), 4: ("metadata_props", _RMSG, _SSE)}
)
_table(
    TensorProto,
    {1: ("dims", _RINT64, None), 2: ("data_type", _INT32, None), 4: ("float_data", _LAZY, "f"),
     5: ("int32_data", _LAZY, "i"), 6: ("string_data", _RBYTES, None), 7: ("int64_data", _LAZY, "q"),
     8: ("name", _STR, None), 9: ("raw_data", _RAW, None), 10: ("double_data", _LAZY, "d"),
     11: ("uint64_data", _LAZY, "Q"), 13: ("external_data", _RMSG, _SSE), 3: ("segment", _MSG, _SEGMENT),
     14: ("data_location", _ENUM, frozenset({0, 1})), 16: ("metadata_props", _RMSG, _SSE)},
)  # fmt: skip
_table(SparseTensorProto, {1: ("values", _MSG, TensorProto), 2: ("indices", _MSG, TensorProto),
                           3: ("dims", _RINT64, None)})  # fmt: skip
_table(
    AttributeProto,
    {1: ("name", _STR, None), 21: ("ref_attr_name", _STR, None), 20: ("type", _ENUM, frozenset(range(15))),
     2: ("f", _FLOAT, None), 3: ("i", _INT64, None), 4: ("s", _BYTES, None), 5: ("t", _MSG, TensorProto),
     6: ("g", _MSG, GraphProto), 22: ("sparse_tensor", _MSG, SparseTensorProto), 14: ("tp", _MSG, _TYPE),
     7: ("floats", _RFLOAT, None), 8: ("ints", _RINT64, None), 9: ("strings", _RBYTES, None),
     10: ("tensors", _RMSG, TensorProto), 11: ("graphs", _RMSG, GraphProto),
     23: ("sparse_tensors", _RMSG, SparseTensorProto), 15: ("type_protos", _RMSG, _TYPE)},
)  # fmt: skip
_table(
    NodeProto,
    {1: ("input", _RSTR, None), 2: ("output", _RSTR, None), 3: ("name", _STR, None),
     4: ("op_type", _STR, None),
     7: ("domain", _STR, None), 8: ("overload", _STR, None), 5: ("attribute", _RMSG, AttributeProto),
     9: ("metadata_props", _RMSG, _SSE), 10: ("device_configurations", _RMSG, _NODE_DEVICES)},
)  # fmt: skip
_table(
    GraphProto,
    {1: ("node", _RMSG, NodeProto), 2: ("name", _STR, None), 5: ("initializer", _RMSG, TensorProto),
     15: ("sparse_initializer", _RMSG, SparseTensorProto), 11: ("input", _RMSG, ValueInfoProto),
     12: ("output", _RMSG, ValueInfoProto), 13: ("value_info", _RMSG, ValueInfoProto),
     16: ("metadata_props", _RMSG, _SSE), 14: ("quantization_annotation", _RMSG, _ANNOTATION)},
)  # fmt: skip
_table(
    FunctionProto,
    {1: ("name", _STR, None), 4: ("input", _RSTR, None), 5: ("output", _RSTR, None),
     6: ("attribute", _RSTR, None), 11: ("attribute_proto", _RMSG, AttributeProto),
     7: ("node", _RMSG, NodeProto), 9: ("opset_import", _RMSG, _OPSET), 10: ("domain", _STR, None),
     13: ("overload", _STR, None), 12: ("value_info", _RMSG, ValueInfoProto),
     14: ("metadata_props", _RMSG, _SSE)},
)  # fmt: skip
_table(
    ModelProto,
    {1: ("ir_version", _INT64, None), 8: ("opset_import", _RMSG, _OPSET), 2: ("producer_name", _STR, None),
     3: ("producer_version", _STR, None), 4: ("domain", _STR, None), 5: ("model_version", _INT64, None),
     7: ("graph", _MSG, GraphProto), 14: ("metadata_props", _RMSG, _SSE),
     25: ("functions", _RMSG, FunctionProto), 20: ("training_info", _RMSG, _TRAINING),
     26: ("configuration", _RMSG, _DEVICES)},
)  # fmt: skip

_WIRE_OF_CODE = {"f": _FIXED32, "d": _FIXED64, "q": _VARINT, "i": _VARINT, "Q": _VARINT}
_WIRE_NAMES = ("varint", "64-bit", "length-delimited", "group start", "group end", "32-bit", "6", "7")
_FLOAT32 = struct.Struct("<f")


class _Reader:
    """One parse: the input, the fields read so far, and the walk."""

    def __init__(self, data: bytes | bytearray | memoryview | mmap, max_fields: int) -> None:
        self.view = memoryview(data).cast("B").toreadonly()  # bytes index fastest, any other buffer so
        self.data: bytes | memoryview = data if isinstance(data, bytes) else self.view
        self.left = self.budget = max_fields
        self.shared: dict[tuple[bytes, int], TypeProto] = {}
        self.origin: dict[int, tuple[int, int]] = {}

    def varint(self, pos: int, end: int, what: str = "a number", most: int = 10) -> tuple[int, int]:
        """The varint at ``pos`` (modulo 2⁶⁴, as protobuf reads it) and where it ends."""
        data, result, shift, start = self.data, 0, 0, pos
        while True:
            if pos >= end:
                raise _Bad(f"{what} runs past the end of its message", start)
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result & _MASK64, pos
            shift += 7
            if shift == 7 * most:
                raise _Bad(f"{what} is longer than {most} bytes", start)

    def tag(self, pos: int, end: int) -> tuple[int, int]:
        """A field's tag: protobuf reads at most 5 bytes of it, and refuses one past 32 bits."""
        tag, after = self.varint(pos, end, "a field's tag", 5)
        if tag >> 32 or tag >> 3 == 0:
            raise _Bad(f"a field's tag ({tag}) has no valid field number", pos)
        return tag, after

    def length(self, pos: int, end: int) -> tuple[int, int]:
        """The bytes of a length-delimited value: where they start and end."""
        data = self.data
        if pos < end and data[pos] < 0x80:
            size, pos = data[pos], pos + 1
        else:
            size, pos = self.varint(pos, end, "a length", 5)  # upb refuses a longer one
        if size > end - pos:
            raise _Bad(f"a field of {size:,} bytes runs past the end of its message", pos)
        return pos, pos + size

    def skip(self, number: int, wire: int, pos: int, end: int, depth: int) -> int:
        """Past an unknown field's value (groups nest: each must close with its own number)."""
        if wire == _VARINT:
            return self.varint(pos, end)[1]
        if wire == _LENGTH:
            return self.length(pos, end)[1]
        if wire in (_FIXED32, _FIXED64):
            pos += 4 if wire == _FIXED32 else 8
            if pos > end:
                raise _Bad("a fixed-size field runs past the end of its message", end)
            return pos
        if wire == _START_GROUP:
            groups = [number]
            while groups:
                if depth + len(groups) > MAX_DEPTH:
                    raise _Bad(f"groups nest more than {MAX_DEPTH} deep", pos)
                if pos >= end:
                    raise _Bad(f"group {groups[-1]} is not closed", end)
                tag, pos = self.tag(pos, end)
                self.left -= 1
                inner, inner_wire = tag >> 3, tag & 7
                if inner_wire == _END_GROUP:
                    if inner != groups.pop():
                        raise _Bad(f"group end {inner} closes another group", pos)
                elif inner_wire == _START_GROUP:
                    groups.append(inner)
                else:
                    pos = self.skip(inner, inner_wire, pos, end, depth)
            if self.left < 0:
                raise self.over(pos)
            return pos
        if wire == _END_GROUP:
            raise _Bad(f"group end {number} closes no group", pos)
        raise _Bad(f"wire type {wire} does not exist", pos)

    def other(self, msg: _Message, tag: int, pos: int, end: int, depth: int) -> int:
        """Past a field the generated parser has no branch for: unknown, or of a wrong wire type."""
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise _Bad(f"a field's tag ({tag}) has no valid field number", pos - 1)
        field = msg._spec.get(number)
        if field is not None:
            raise _Bad(f"field {field[0].lstrip('_')} has wire type {_WIRE_NAMES[wire]}", pos - 1)
        return self.skip(number, wire, pos, end, depth)

    def past(self, start: int, stop: int) -> _Bad:
        return _Bad(f"a field of {stop - start:,} bytes runs past the end of its message", start)

    def over(self, pos: int) -> _Bad:
        return _Bad(f"holds more than {self.budget:,} fields", pos)

    def check(self, code: str, start: int, end: int) -> None:
        """Refuse a packed run of numbers protobuf would refuse (they are decoded later)."""
        size = _FIXED.get(code)
        if size and (end - start) % size:
            raise _Bad(f"packed numbers of {size} bytes take {end - start:,} bytes", start)
        if (
            not size
            and start < end
            and (self.data[end - 1] >= 0x80 or _LONG_VARINT.search(self.view, start, end))
        ):
            raise _Bad("packed numbers end in a broken varint", start)

    def packed(self, code: str, start: int, end: int) -> list[Any]:
        """A packed run of numbers, decoded now (``dims``, ``ints``, ``floats``)."""
        self.check(code, start, end)
        self.left -= end - start  # at most a number a byte: bounds the time decoding takes
        if self.left < 0:
            raise self.over(start)
        return _decode_numbers(self.view, [(start, end)], code)

    def lazy(self, msg: _Message, slot: str, code: str, start: int, end: int, packed: bool = True) -> None:
        """Note a run of numbers for decoding when read, checking now what decoding would find."""
        if packed:
            self.check(code, start, end)
        numbers = getattr(msg, slot)
        if not isinstance(numbers, _Numbers):  # the first run (the field's default is [])
            numbers = _Numbers()
            setattr(msg, slot, numbers)
            msg._buffer = self.view  # type: ignore[attr-defined]  # a TensorProto's
        numbers.append((start, end))


def _decode_numbers(view: memoryview, spans: list[tuple[int, int]], code: str) -> list[Any]:
    """The numbers of a lazy field, from its checked spans."""
    out: list[Any] = []
    reader = _Reader(view, 0)
    for start, end in spans:
        if code in _FIXED:
            out.extend(struct.unpack_from(f"<{(end - start) // _FIXED[code]}{code}", view, start))
            continue
        pos = start
        while pos < end:
            value, pos = reader.varint(pos, end)
            if code == "q":
                value -= value >> 63 << 64
            elif code == "i":
                value &= 0xFFFFFFFF
                value -= value >> 31 << 32
            out.append(value)
    return out


# Each message's parser is generated from its table: a branch per (field, wire type) that reads
# the value and stores it, with no lookups or dispatch left for the running parse. It reads
# three to four times as fast as a loop over the table does (a 20,000-node graph in 0.3 s).
_LENGTH_PREFIX = """
                if pos < end and data[pos] < 0x80:
                    start = pos + 1
                    pos = start + data[pos]
                    if pos > end:
                        raise r.past(start, pos)
                else:
                    start, pos = r.length(pos, end)"""
_VARINT_VALUE = """
                start = pos
                if pos < end and data[pos] < 0x80:
                    value = data[pos]
                    pos += 1
                else:
                    value, pos = r.varint(pos, end)"""
_FIXED_VALUE = """
                start = pos
                pos += {size}
                if pos > end:
                    raise r.past(start, pos)"""
_DESCEND = """
                r.left -= count
                count = 0
                try:
                    {parser}(r, item, start, pos, depth + 1)
                except _Bad as bad:
                    bad.path.append({where})
                    raise
                left = r.left"""
# A value's type, read once for all the values whose type has the same bytes (at the same depth):
# most of a graph's value infos share a handful of types, and reading each again was 80 % of
# the time. The objects are shared, so read-only. A type given twice in one message (merged by
# protobuf) is read into a copy of its own: the shared one's bytes again, then the new ones.
_SHARED = (
    """
                item = msg.{slot}
                if item is None:
                    key = (bytes(data[start:pos]), depth)
                    item = r.shared.get(key)
                    if item is None:
                        item = r.shared[key] = TypeProto()
                        r.origin[id(item)] = (start, pos)"""
    + _DESCEND.replace("\n", "\n        ")
    + """
                    msg.{slot} = item
                else:
                    if id(item) in r.origin:
                        first, last = r.origin[id(item)]
                        item = msg.{slot} = TypeProto()
                        _parse_TypeProto(r, item, first, last, depth + 1)"""
    + _DESCEND.replace("\n", "\n    ")
)
_PARSER = """
def {name}(r, msg, pos, end, depth):
    if depth > MAX_DEPTH:
        raise _Bad(f"messages nest more than {{MAX_DEPTH}} deep", pos)
    data, count, left, start = r.data, 0, r.left, pos
    try:
        while pos < end:
            tag = data[pos]
            if tag < 0x80:
                pos += 1
            else:
                tag, pos = r.tag(pos, end)
            count += 1
            if count > left:
                raise r.over(pos)
            if False:
                pass{branches}
            else:
                pos = r.other(msg, tag, pos, end, depth)
    except UnicodeDecodeError:
        raise _Bad("a text field is not UTF-8", start) from None
    r.left -= count
"""


_DEFAULTS = {"dim_value": "0", "dim_param": '""'}  # of the scalars in a oneof


def _branches(cls: type[_Message]) -> str:
    """The source of ``cls``'s branches: ``elif tag == …:`` and the statements that store the value."""
    out: list[str] = []
    n = "\n" + " " * 16  # a new line in a branch

    def branch(number: int, wire: int, *lines: str) -> None:
        out.append(f"\n            elif tag == {number << 3 | wire}:" + "".join(lines))

    for number, (slot, kind, extra, bit) in cls._spec.items():
        name = slot.lstrip("_")
        present = f"{n}msg._present |= {bit}" if bit else ""
        clear = "".join(  # setting a member of the oneof clears the others
            f"{n}msg.{other} = {_DEFAULTS[other]}{n}msg._present &= ~{cls._bits[other]}"
            if other in cls._bits
            else f"{n}msg._{other} = None"
            for other in cls._oneof
            if name in cls._oneof and other != name
        )
        text, blob = 'str(data[start:pos], "utf-8")', "bytes(data[start:pos])"
        parser = f"_parse_{extra.__name__}" if isinstance(extra, type) else ""
        if kind in (_STR, _BYTES):
            branch(
                number,
                _LENGTH,
                _LENGTH_PREFIX,
                f"{n}msg.{slot} = {text if kind == _STR else blob}",
                present,
                clear,
            )
        elif kind in (_RSTR, _RBYTES):
            branch(
                number, _LENGTH, _LENGTH_PREFIX, f"{n}msg.{slot}.append({text if kind == _RSTR else blob})"
            )
        elif kind == _RAW:
            branch(
                number, _LENGTH, _LENGTH_PREFIX, f"{n}msg._raw = (start, pos){n}msg._buffer = r.view", present
            )
        elif kind == _MSG and extra is TypeProto:
            branch(
                number, _LENGTH, _LENGTH_PREFIX, _SHARED.format(slot=slot, parser=parser, where=repr(name))
            )
        elif kind == _MSG:
            get = f"{n}item = msg.{slot}{n}if item is None:{n}    item = msg.{slot} = {extra.__name__}()"
            branch(
                number, _LENGTH, _LENGTH_PREFIX, clear, get, _DESCEND.format(parser=parser, where=repr(name))
            )
        elif kind == _RMSG:
            get = f"{n}item = {extra.__name__}(){n}items = msg.{slot}{n}items.append(item)"
            where = f'f"{name}[{{len(items) - 1}}]"'
            branch(number, _LENGTH, _LENGTH_PREFIX, get, _DESCEND.format(parser=parser, where=where))
        elif kind in (_INT64, _INT32, _ENUM, _RINT64):
            if kind == _INT64:
                store = f"{n}msg.{slot} = value - (value >> 63 << 64)" + present + clear
            elif kind == _INT32:
                store = f"{n}value &= 0xFFFFFFFF{n}msg.{slot} = value - (value >> 31 << 32)" + present
            elif kind == _ENUM:  # a proto2 enum (an int32): a value outside it leaves the field as it was
                members = "{" + ", ".join(map(str, sorted(extra))) + "}"
                store = f"{n}value &= 0xFFFFFFFF{n}if value in {members}:{n}    msg.{slot} = value"
                store += present.replace(n, n + "    ")
            else:
                store = f"{n}msg.{slot}.append(value - (value >> 63 << 64))"
                branch(number, _LENGTH, _LENGTH_PREFIX, f'{n}msg.{slot}.extend(r.packed("q", start, pos))')
            branch(number, _VARINT, _VARINT_VALUE, store)
        elif kind in (_FLOAT, _RFLOAT):
            value = "_FLOAT32.unpack_from(data, start)[0]"
            store = f"msg.{slot} = {value}" + present if kind == _FLOAT else f"msg.{slot}.append({value})"
            branch(number, _FIXED32, _FIXED_VALUE.format(size=4), n + store)
            if kind == _RFLOAT:
                branch(number, _LENGTH, _LENGTH_PREFIX, f'{n}msg.{slot}.extend(r.packed("f", start, pos))')
        elif kind == _LAZY:
            wire = _WIRE_OF_CODE[extra]
            single = _VARINT_VALUE if wire == _VARINT else _FIXED_VALUE.format(size=_FIXED.get(extra))
            lazy = f"{n}r.lazy(msg, {slot!r}, {extra!r}, start, pos, {{}})"
            branch(number, wire, single, lazy.format(False))
            branch(number, _LENGTH, _LENGTH_PREFIX, lazy.format(True))
    return "".join(out)


_CLASSES: tuple[type[_Message], ...] = (
    StringStringEntryProto, OperatorSetIdProto, Dimension, TensorShapeProto, TypeTensor, TypeSequence,
    TypeMap, TypeOpaque, TypeProto, ValueInfoProto, TensorProto, SparseTensorProto, AttributeProto,
    NodeProto, GraphProto, FunctionProto, ModelProto, _SEGMENT, _ANNOTATION, _TRAINING, _DEVICES, _MAP,
    _SIMPLE, _SHARDED, _SHARDING, _NODE_DEVICES,
)  # fmt: skip
_NAMESPACE: dict[str, Any] = {
    "MAX_DEPTH": MAX_DEPTH, "_Bad": _Bad, "_FLOAT32": _FLOAT32, **{c.__name__: c for c in _CLASSES}
}  # fmt: skip


def _compiled_when_called(cls: type[_Message]) -> Callable[..., None]:
    """``cls``'s parser, generated and compiled at its first call (all of them take 30 ms, and
    a model needs about half); it then takes its own place, where the other parsers call it."""
    name = f"_parse_{cls.__name__}"

    def first(*args: Any) -> None:
        source = _PARSER.format(name=name, branches=_branches(cls))
        exec(compile(source, f"<{__name__} {cls.__name__}>", "exec"), _NAMESPACE)
        _NAMESPACE[name](*args)

    return first


_NAMESPACE.update({f"_parse_{c.__name__}": _compiled_when_called(c) for c in _CLASSES})


def parse(
    data: bytes | bytearray | memoryview | mmap, field: str = "spec", max_fields: int = MAX_FIELDS
) -> ModelProto:
    """The ModelProto serialized in ``data`` (see the module's doc for what is read and how).

    ``data`` (any buffer: a memory map reads only the pages the structure is on) is kept, not
    copied: ``raw_data`` are views of it. Raises :class:`MalformedModel` (``field``: what is wrong,
    where) for bytes protobuf would refuse.
    """
    reader = _Reader(data, max_fields)
    model = ModelProto()
    try:
        _NAMESPACE["_parse_ModelProto"](reader, model, 0, len(reader.view), 0)
    except _Bad as bad:
        inside = f" (in {'.'.join(reversed(bad.path))})" if bad.path else ""
        problem = f"is not a readable ONNX model: {bad.problem} at byte {bad.pos:,}{inside}"
        raise MalformedModel(field, problem) from None
    return model
