"""The pure-Python ONNX reader (convcost/io/onnx/proto.py) against onnx's own parser (protobuf).

onnx is the oracle here only. Every fixture, and models built with ``onnx.helper`` to hold every
attribute type, sparse tensors, functions, subgraphs and metadata, must read the same field by
field (a recursive comparison over the fields the importer uses). Hostile bytes (truncation at
every offset, wrong wire types, deep nesting, huge dims, external data paths, fuzzed mutations)
must give the same outcome as protobuf, or the one documented error where the reader is stricter.

Without onnx and numpy (the plain install), the hostile cases still run, against the outcomes
protobuf gives (written in the tests); only the comparisons with onnx's reading are skipped.
"""

from __future__ import annotations

import math
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcost.core.errors import ConvCostError
from convcost.io.onnx import proto

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:  # the plain install: the reader's own checks run, the oracle's are skipped
    if os.environ.get("CI") and not os.environ.get("CONVCOST_WITHOUT_ONNX"):
        raise
    onnx = None
ORACLE = onnx is not None
needs_onnx = pytest.mark.skipif(not ORACLE, reason="compares with onnx, which is not installed")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "onnx").glob("*.onnx"))

# Each message's fields the importer may read, by how they compare: "s" a scalar with presence
# (optional), "l" a repeated scalar, "m" a message (presence and contents), "r" repeated messages,
# "raw" raw_data. A message with a oneof lists it under "oneof".
SSE = {"key": "s", "value": "s"}
SCHEMA: dict[str, dict[str, Any]] = {
    "ModelProto": {
        "ir_version": "s", "producer_name": "s", "producer_version": "s", "domain": "s", "model_version": "s",
        "opset_import": ("r", "OperatorSetIdProto"), "graph": ("m", "GraphProto"), "metadata_props": ("r", "SSE"),
        "functions": ("r", "FunctionProto"),
    },
    "OperatorSetIdProto": {"domain": "s", "version": "s"},
    "SSE": SSE,
    "GraphProto": {
        "node": ("r", "NodeProto"), "name": "s", "initializer": ("r", "TensorProto"),
        "sparse_initializer": ("r", "SparseTensorProto"), "input": ("r", "ValueInfoProto"),
        "output": ("r", "ValueInfoProto"), "value_info": ("r", "ValueInfoProto"), "metadata_props": ("r", "SSE"),
    },
    "NodeProto": {
        "input": "l", "output": "l", "name": "s", "op_type": "s", "domain": "s", "overload": "s",
        "attribute": ("r", "AttributeProto"), "metadata_props": ("r", "SSE"),
    },
    "AttributeProto": {
        "name": "s", "ref_attr_name": "s", "type": "s", "f": "s", "i": "s", "s": "s", "t": ("m", "TensorProto"),
        "g": ("m", "GraphProto"), "sparse_tensor": ("m", "SparseTensorProto"), "tp": ("m", "TypeProto"),
        "floats": "l", "ints": "l", "strings": "l", "tensors": ("r", "TensorProto"), "graphs": ("r", "GraphProto"),
        "sparse_tensors": ("r", "SparseTensorProto"), "type_protos": ("r", "TypeProto"),
    },
    "TensorProto": {
        "dims": "l", "data_type": "s", "float_data": "l", "int32_data": "l", "string_data": "l", "int64_data": "l",
        "name": "s", "raw_data": "raw", "external_data": ("r", "SSE"), "data_location": "s", "double_data": "l",
        "uint64_data": "l", "metadata_props": ("r", "SSE"),
    },
    "SparseTensorProto": {"values": ("m", "TensorProto"), "indices": ("m", "TensorProto"), "dims": "l"},
    "ValueInfoProto": {"name": "s", "type": ("m", "TypeProto"), "metadata_props": ("r", "SSE")},
    "TypeProto": {
        "oneof": "value", "tensor_type": ("m", "TypeTensor"), "sequence_type": ("m", "TypeSequence"),
        "map_type": ("m", "TypeMap"), "optional_type": ("m", "TypeSequence"),
        "sparse_tensor_type": ("m", "TypeTensor"), "opaque_type": ("m", "TypeOpaque"), "denotation": "s",
    },
    "TypeTensor": {"elem_type": "s", "shape": ("m", "TensorShapeProto")},
    "TypeSequence": {"elem_type": ("m", "TypeProto")},
    "TypeMap": {"key_type": "s", "value_type": ("m", "TypeProto")},
    "TypeOpaque": {"domain": "s", "name": "s"},
    "TensorShapeProto": {"dim": ("r", "Dimension")},
    "Dimension": {"oneof": "value", "dim_value": "s", "dim_param": "s", "denotation": "s"},
    "FunctionProto": {
        "name": "s", "input": "l", "output": "l", "attribute": "l", "attribute_proto": ("r", "AttributeProto"),
        "node": ("r", "NodeProto"), "opset_import": ("r", "OperatorSetIdProto"), "domain": "s", "overload": "s",
        "value_info": ("r", "ValueInfoProto"), "metadata_props": ("r", "SSE"),
    },
}  # fmt: skip
#: raw_data longer than this is compared by length only (a weight: the reader never reads it)
COMPARED_BYTES = 1 << 16


def _value(value: Any) -> Any:
    """A value as compared: floats by their bits (NaN equals itself), views as bytes."""
    if isinstance(value, float):
        return ("float", struct.pack("<d", value))
    if isinstance(value, (list, tuple)) or type(value).__name__.startswith("Repeated"):
        return [_value(v) for v in value]
    return value


def assert_same(ours: Any, theirs: Any, message: str = "ModelProto", path: str = "model") -> None:
    """Every field of SCHEMA[message] equal in ``ours`` (proto.py's) and ``theirs`` (protobuf's)."""
    schema = SCHEMA[message]
    if "oneof" in schema:
        assert ours.WhichOneof("value") == theirs.WhichOneof("value"), path
    for name, how in schema.items():
        if name == "oneof":
            continue
        where = f"{path}.{name}"
        if how == "raw":
            assert ours.HasField(name) == theirs.HasField(name), where
            assert len(ours.raw_data) == ours.raw_size == len(theirs.raw_data), where
            if len(theirs.raw_data) <= COMPARED_BYTES:
                assert bytes(ours.raw_data) == theirs.raw_data, where
        elif how == "s":
            assert ours.HasField(name) == theirs.HasField(name), where
            assert _value(getattr(ours, name)) == _value(getattr(theirs, name)), where
            assert type(getattr(ours, name)) is type(getattr(theirs, name)), where
        elif how == "l":
            assert _value(list(getattr(ours, name))) == _value(list(getattr(theirs, name))), where
        elif how[0] == "m":
            assert ours.HasField(name) == theirs.HasField(name), where
            if theirs.HasField(name):  # an unset one reads as empty (and types nest without end)
                assert_same(getattr(ours, name), getattr(theirs, name), how[1], where)
        else:
            mine, other = getattr(ours, name), getattr(theirs, name)
            assert len(mine) == len(other), where
            for index, (a, b) in enumerate(zip(mine, other, strict=True)):
                assert_same(a, b, how[1], f"{where}[{index}]")


def protobuf(data: bytes) -> Any:
    """protobuf's reading of ``data``, or the exception it raises (None: no onnx to ask)."""
    if not ORACLE:
        return None
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as exc:
        return exc
    return model


#: Problems the reader refuses where protobuf is lenient (see proto.py's doc): a known field of
#: another wire type (protobuf keeps it as an unknown field), and text that is not UTF-8.
STRICTER = ("has wire type", "is not UTF-8")


def agree(data: bytes, exact: bool = False) -> proto.ModelProto | None:
    """Check the reader against protobuf on ``data``: both read it (to the same fields), both
    refuse it, or (unless ``exact``) the reader refuses it for one of the STRICTER reasons."""
    theirs = protobuf(data)
    try:
        ours = proto.parse(data)
    except proto.MalformedModel as exc:
        assert "\n" not in str(exc)
        if theirs is not None and not isinstance(theirs, Exception):
            assert not exact and any(why in str(exc) for why in STRICTER), f"{exc}: protobuf reads it"
        return None
    if theirs is not None:
        assert not isinstance(theirs, Exception), f"protobuf refuses what the reader reads: {theirs}"
        assert_same(ours, theirs)
    return ours


def refused(data: bytes, expected: bool) -> bool:
    """``expected`` (whether protobuf refuses ``data``), checked against protobuf where it is here."""
    if ORACLE:
        assert isinstance(protobuf(data), Exception) == expected
    return expected


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_fixture_reads_as_protobuf_reads_it(path: Path) -> None:
    data = path.read_bytes()
    assert agree(data, exact=True) is not None


def test_the_fixtures_are_there() -> None:
    assert len(FIXTURES) >= 30


# ---------------------------------------------------------------- models built to cover every field


def _tensors() -> list[Any]:
    ext = TensorProto(name="ext", data_type=TensorProto.FLOAT, dims=[4, 4], data_location=TensorProto.EXTERNAL)
    for key, value in (("location", "/dev/zero"), ("offset", "0"), ("length", "64")):
        ext.external_data.add(key=key, value=value)
    ext2 = TensorProto(name="ext2", data_type=TensorProto.FLOAT, dims=[1], data_location=TensorProto.EXTERNAL)
    ext2.external_data.add(key="location", value="../../etc/passwd")
    meta = numpy_helper.from_array(np.array([1, 2], dtype=np.int64), "meta")
    meta.metadata_props.add(key="k", value="v")
    return [
        helper.make_tensor("f", TensorProto.FLOAT, [2, 2], [1.0, -2.5, float("nan"), 3e38]),
        helper.make_tensor("i64", TensorProto.INT64, [3], [-1, 2**62, -(2**63)]),
        helper.make_tensor("i32", TensorProto.INT32, [2], [-5, 2**31 - 1]),
        helper.make_tensor("d", TensorProto.DOUBLE, [2], [1.5, -1e300]),
        helper.make_tensor("u64", TensorProto.UINT64, [2], [2**64 - 1, 3]),
        helper.make_tensor("u8", TensorProto.UINT8, [3], [0, 7, 255]),
        helper.make_tensor("b", TensorProto.BOOL, [2], [True, False]),
        helper.make_tensor("h", TensorProto.FLOAT16, [2], [1.0, 2.0]),
        helper.make_tensor("str", TensorProto.STRING, [2], [b"a", b"\xff\x00"]),
        numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "raw"),
        numpy_helper.from_array(np.zeros((0, 3), dtype=np.float32), "empty"),
        helper.make_tensor("scalar", TensorProto.INT64, [], [5]),
        ext, ext2, meta,
    ]  # fmt: skip


def _sparse() -> Any:
    values = helper.make_tensor("sv", TensorProto.FLOAT, [2], [1.0, 2.0])
    indices = helper.make_tensor("si", TensorProto.INT64, [2], [1, 5])
    return helper.make_sparse_tensor(values, indices, [2, 3])


def _types() -> list[Any]:
    tensor = helper.make_tensor_type_proto(TensorProto.FLOAT, ["N", 3, None, 0])
    tensor.tensor_type.shape.dim[0].denotation = "DATA_BATCH"
    tensor.denotation = "IMAGE"
    opaque = onnx.TypeProto()
    opaque.opaque_type.domain, opaque.opaque_type.name = "com.x", "thing"
    sparse = onnx.TypeProto()
    sparse.sparse_tensor_type.elem_type = TensorProto.INT8
    sparse.sparse_tensor_type.shape.dim.add().dim_value = 7
    return [
        tensor,
        helper.make_tensor_type_proto(TensorProto.INT64, None),
        helper.make_tensor_type_proto(TensorProto.INT64, []),
        helper.make_sequence_type_proto(tensor),
        helper.make_map_type_proto(TensorProto.STRING, helper.make_sequence_type_proto(tensor)),
        helper.make_optional_type_proto(helper.make_sequence_type_proto(tensor)),
        opaque,
        sparse,
    ]


def _branch(name: str, depth: int) -> Any:
    """A graph with an If (and a Loop inside it) nested ``depth`` deep."""
    out = helper.make_tensor_value_info(f"{name}_y", TensorProto.FLOAT, [1])
    if depth == 0:
        node = helper.make_node("Constant", [], [f"{name}_y"], value_float=1.0)
        return helper.make_graph([node], name, [], [out])
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond"], ["cond_out"])],
        f"{name}_body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, [])],
    )  # fmt: skip
    nodes = [
        helper.make_node("If", ["c"], [f"{name}_y"], then_branch=_branch(f"{name}t", depth - 1),
                         else_branch=_branch(f"{name}e", depth - 1)),
        helper.make_node("Loop", ["n", "c"], [], body=body),
    ]  # fmt: skip
    return helper.make_graph(nodes, name, [], [out])


def rich_model() -> Any:
    """A model holding every attribute type and message the reader covers."""
    tensors, types, sparse = _tensors(), _types(), _sparse()
    attributes = {
        "a_float": -0.0, "a_int": -(2**63), "a_string": b"\xe2\x82\xac bytes \x00", "a_tensor": tensors[0],
        "a_graph": _branch("g", 2), "a_sparse": sparse, "a_type": types[3], "a_floats": [1.5, float("inf")],
        "a_ints": [0, -1, 2**40], "a_strings": [b"x", b""], "a_tensors": tensors[:3],
        "a_graphs": [_branch("h", 1), _branch("k", 0)], "a_sparses": [sparse, sparse], "a_types": types[:3],
    }  # fmt: skip
    node = helper.make_node("Custom", ["x", "", "w"], ["y", "z"], name="n\u00e9", domain="com.x", **attributes)
    node.metadata_props.add(key="source", value="line 3")
    empty_ints = helper.make_attribute("empty_ints", [], attr_type=onnx.AttributeProto.INTS)
    node.attribute.append(empty_ints)
    called = helper.make_node("fn", ["y"], ["u"], domain="local", alpha=2.0)
    inputs = [helper.make_value_info(f"v{i}", t) for i, t in enumerate(types)]
    inputs[0].metadata_props.add(key="k", value="v")
    graph = helper.make_graph(
        [node, called, helper.make_node("If", ["c"], ["q"], then_branch=_branch("t", 3), else_branch=_branch("e", 0))],
        "rich",
        inputs,
        [helper.make_tensor_value_info("u", TensorProto.FLOAT, ["N", 4])],
        initializer=tensors,
        value_info=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, "M"])],
        sparse_initializer=[sparse],
    )
    graph.metadata_props.add(key="graph", value="meta")
    ref = helper.make_node("Elu", ["a"], ["b"])
    ref.attribute.append(onnx.AttributeProto(name="alpha", ref_attr_name="alpha", type=onnx.AttributeProto.FLOAT))
    recursive = helper.make_node("fn", ["b"], ["c"], domain="local")  # a function calling itself
    function = helper.make_function(
        "local", "fn", ["a"], ["c"], [ref, recursive], [helper.make_opsetid("", 18)], ["alpha"],
        attribute_protos=[helper.make_attribute("beta", 3)],
    )  # fmt: skip
    function.value_info.append(helper.make_tensor_value_info("b", TensorProto.FLOAT, [1]))
    function.metadata_props.add(key="f", value="1")
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("local", 1)], functions=[function],
        producer_name="tests", producer_version="1.0", domain="org.test", model_version=7,
    )  # fmt: skip
    helper.set_model_props(model, {"author": "me", "ünïcode": "✓"})
    return model


@needs_onnx
def test_a_model_of_every_field_reads_as_protobuf_reads_it() -> None:
    data = rich_model().SerializeToString()
    ours = agree(data, exact=True)
    assert ours is not None
    node = ours.graph.node[0]  # spot checks of what the comparison covers, in the importer's terms
    types = {a.name: a.type for a in node.attribute}
    assert types["a_float"] == onnx.AttributeProto.FLOAT and types["a_types"] == onnx.AttributeProto.TYPE_PROTOS
    then = next(a for a in ours.graph.node[2].attribute if a.name == "then_branch")
    assert then.g.node[0].op_type == "If" and then.g.node[0].attribute[1].g.name == "tt"
    assert ours.functions[0].node[0].attribute[0].ref_attr_name == "alpha"
    assert ours.graph.initializer[1].int64_data == [-1, 2**62, -(2**63)]


@needs_onnx
def test_has_field_refuses_what_protobuf_refuses() -> None:
    theirs, ours = rich_model(), proto.parse(rich_model().SerializeToString())
    for name in ("float_data", "dims", "nonsense"):
        with pytest.raises(ValueError):
            theirs.graph.initializer[0].HasField(name)
        with pytest.raises(ValueError):
            ours.graph.initializer[0].HasField(name)
    with pytest.raises(ValueError):
        ours.graph.WhichOneof("value")


@needs_onnx
def test_raw_data_is_a_view_of_the_input_never_a_copy() -> None:
    data = rich_model().SerializeToString()
    tensor = next(t for t in proto.parse(data).graph.initializer if t.name == "raw")
    assert tensor.raw_data.obj is data and tensor.raw_data.readonly
    assert tensor.raw_size == 24 and np.frombuffer(tensor.raw_data, np.float32).tolist() == [0, 1, 2, 3, 4, 5]
    buffer = bytearray(data)  # any buffer: a bytearray is read through a read-only view
    assert proto.parse(buffer).graph.initializer[9].raw_data.readonly


@needs_onnx
def test_a_memory_map_reads_as_the_bytes_do(tmp_path: Path) -> None:
    import mmap

    path = tmp_path / "rich.onnx"
    path.write_bytes(rich_model().SerializeToString())
    with path.open("rb") as file:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        model = proto.parse(mapped)
        assert_same(model, rich_model())
        assert model.graph.initializer[9].raw_data.obj is mapped
        del model
        mapped.close()  # every view of it gone with the model


@needs_onnx
def test_external_data_is_never_opened_or_looked_at(monkeypatch: pytest.MonkeyPatch) -> None:
    touched: list[Any] = []

    def record(*args: Any, **kwargs: Any) -> Any:
        touched.append(args)
        raise OSError("the reader must not touch the file system")

    data = rich_model().SerializeToString()
    with monkeypatch.context() as patch:  # undone before anything is asserted (pytest stats files)
        for name in ("stat", "lstat", "open", "access", "scandir", "listdir"):
            patch.setattr(os, name, record)
        patch.setattr("builtins.open", record)
        model = proto.parse(data)
    assert not touched
    ext = [t for t in model.graph.initializer if t.data_location == TensorProto.EXTERNAL]
    assert [e.external_data[0].value for e in ext] == ["/dev/zero", "../../etc/passwd"]
    assert ext[0].raw_size == 0


# ---------------------------------------------------------------- protobuf's wire semantics


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, wire: int, payload: bytes = b"", value: int | None = None) -> bytes:
    """One field: its tag, then ``value`` as a varint, or ``payload`` (length-prefixed for wire 2)."""
    tag = varint(number << 3 | wire)
    if value is not None:
        return tag + varint(value)
    return tag + (varint(len(payload)) + payload if wire == 2 else payload)


def graph_of(*nodes: bytes) -> bytes:
    return field(7, 2, b"".join(field(1, 2, n) for n in nodes))


def node_of(*fields: bytes) -> bytes:
    return b"".join(fields)


ATTR = 5  # NodeProto.attribute


@pytest.mark.parametrize(
    "data",
    [
        # a message field given twice is merged; scalars: the last wins
        graph_of(node_of(field(4, 2, b"Relu"))) + graph_of(node_of(field(4, 2, b"Add"))) + field(1, 0, value=3)
        + field(1, 0, value=9),
        # a oneof: the last member set wins and clears the other
        graph_of(node_of(field(ATTR, 2, field(14, 2, field(1, 2, field(1, 0, value=1)) + field(4, 2, b""))))),
        graph_of(node_of(field(ATTR, 2, field(14, 2, field(4, 2, b"") + field(1, 2, field(1, 0, value=1)))))),
        # a oneof member given twice, with another between: read again from empty
        graph_of(node_of(field(ATTR, 2, field(14, 2, field(1, 2, field(1, 0, value=3)) + field(4, 2, b"")
                                                + field(1, 2, field(2, 2, b"")))))),
        # Dimension's oneof of a number and a text, both ways
        field(7, 2, field(11, 2, field(2, 2, field(1, 2, field(2, 2, field(1, 2, field(1, 0, value=5)
                                                                               + field(2, 2, b"N"))))))),
        field(7, 2, field(11, 2, field(2, 2, field(1, 2, field(2, 2, field(1, 2, field(2, 2, b"N")
                                                                               + field(1, 0, value=5))))))),
        # a proto2 enum value outside the enum leaves the field as it was
        graph_of(node_of(field(ATTR, 2, field(20, 0, value=2) + field(20, 0, value=99)))),
        graph_of(node_of(field(ATTR, 2, field(20, 0, value=99)))),
        field(7, 2, field(5, 2, field(14, 0, value=1) + field(14, 0, value=7))),
        # … as an int32: its low 32 bits are the value checked
        graph_of(node_of(field(ATTR, 2, field(20, 0, value=2**33 + 4)))),
        field(7, 2, field(5, 2, field(14, 0, value=2**32 + 1) + field(14, 0, value=2**33 + 4))),
        # int32 keeps the low 32 bits; int64 the low 64 (a 10th byte's high bits are dropped)
        field(7, 2, field(5, 2, field(2, 0, value=2**32 + 1) + field(1, 0, value=-5))),
        field(7, 2, field(5, 2, field(2, 0, value=-1))),
        field(1, 0) + b"\xff" * 9 + b"\x7f",
        # repeated numbers packed and unpacked, mixed, in every typed field
        field(7, 2, field(5, 2, field(1, 0, value=2) + field(1, 2, varint(3) + varint(-4)) + field(1, 0, value=5)
                             + field(4, 5, struct.pack("<f", 1.5)) + field(4, 2, struct.pack("<2f", 2, 3))
                             + field(5, 0, value=-7) + field(5, 2, varint(2**31 + 5)) + field(7, 0, value=-1)
                             + field(7, 2, varint(1) + varint(2**63)) + field(10, 1, struct.pack("<d", 0.5))
                             + field(10, 2, struct.pack("<d", -2)) + field(11, 0, value=-1)
                             + field(11, 2, varint(3)) + field(3, 2, field(1, 0, value=2) + field(2, 0, value=9)))),
        graph_of(node_of(field(ATTR, 2, field(8, 0, value=1) + field(8, 2, varint(2) + varint(-3))
                                        + field(7, 5, struct.pack("<f", 0.25)) + field(7, 2, struct.pack("<f", 4))))),
        # unknown fields of every wire type, nested groups included, anywhere
        field(99, 0, value=1) + field(98, 1, b"12345678") + field(97, 2, b"xyz") + field(96, 5, b"1234")
        + field(95, 3) + field(94, 0, value=1) + field(93, 3) + field(93, 4) + field(95, 4)
        + graph_of(node_of(field(4, 2, b"Relu") + field(50, 3) + field(1, 2, b"x") + field(50, 4))),
        # tags of up to 5 bytes, and the largest field number
        b"\x92\x80\x80\x80\x00" + varint(2) + b"ab" + varint((2**29 - 1) << 3) + varint(1),
        # empty messages and empty input
        b"", field(7, 2, b""), graph_of(b"", b""),
    ],
)
def test_protobuf_wire_semantics(data: bytes) -> None:
    assert agree(data, exact=True) is not None


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (field(1, 0) + b"\xff" * 10 + b"\x01", "longer than 10 bytes"),
        (field(1, 0) + b"\xff\xff", "runs past the end"),
        (field(2, 2, b"abc")[:-1], "runs past the end"),
        (field(7, 2, field(2, 2, b"abcdef"))[:-2], "runs past the end"),
        (graph_of(node_of(field(4, 2, b"x")))[:-1], "runs past the end"),
        (b"\x02\x00", "no valid field number"),
        (b"\x92\x80\x80\x80\x80\x00\x01a", "longer than 5 bytes"),
        (b"\xfa\xff\xff\xff\x1f\x00", "no valid field number"),
        (field(99, 6), "wire type 6"),
        (field(99, 7), "wire type 7"),
        (field(99, 4), "closes no group"),
        (field(99, 3) + field(98, 4), "closes another group"),
        (field(99, 3) + field(1, 0, value=1), "not closed"),
        (field(7, 2, field(5, 2, field(4, 2, b"\x00\x00\x00"))), "packed"),
        (field(7, 2, field(5, 2, field(7, 2, b"\x01\x80"))), "broken varint"),
        (field(7, 2, field(5, 2, field(7, 2, b"\x80" * 10 + b"\x01"))), "broken varint"),
        (field(7, 2, field(5, 2, field(1, 2, b"\x01\x80"))), "broken varint"),
        (field(7, 2, field(5, 2, field(10, 2, b"\x00" * 7))), "packed"),
        (field(7, 2, field(5, 2, field(4, 5, b"\x00\x00"))), "runs past the end"),
        (graph_of(node_of(field(ATTR, 2, field(7, 2, b"\x00")))), "packed numbers of 4 bytes"),
    ],
)
def test_malformed_bytes_are_one_error_where_protobuf_refuses_them(data: bytes, words: str) -> None:
    refused(data, True)
    with pytest.raises(proto.MalformedModel, match=words) as caught:
        proto.parse(data)
    assert isinstance(caught.value, ConvCostError) and "\n" not in str(caught.value)
    assert str(caught.value).startswith("spec: is not a readable ONNX model: ")


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (field(2, 0, value=1), "producer_name"),  # a text field as a number
        (field(7, 0, value=1), "graph"),  # a message as a number
        (graph_of(node_of(field(4, 5, b"abcd"))), "graph.node[0]: field op_type has wire type 32-bit"),
        (field(1, 2, b"\x01"), "ir_version"),  # a number as bytes
        (graph_of(node_of(field(ATTR, 2, field(2, 0, value=1)))), "attribute[0]"),  # float f as a varint
        (field(7, 2, field(5, 2, field(4, 0, value=1))), "float_data"),
        (field(7, 2, field(5, 2, field(10, 5, b"abcd"))), "double_data"),
        (graph_of(node_of(field(4, 3) + field(4, 4))), "op_type has wire type group start"),
        (field(2, 2, b"\xff\xfe"), "not UTF-8"),
        (graph_of(node_of(field(1, 2, b"\xc3"))), "not UTF-8"),
    ],
)
def test_stricter_than_protobuf_wrong_wire_types_and_text_that_is_not_utf8(data: bytes, where: str) -> None:
    """Protobuf reads these (a known field of another wire type becomes an unknown field; a text
    that is not UTF-8 comes back as bytes); no ONNX writer makes them and no importer could use
    them, so the reader refuses them, naming the field."""
    refused(data, False)
    with pytest.raises(proto.MalformedModel) as caught:
        proto.parse(data)
    message = str(caught.value)
    assert any(why in message for why in STRICTER), message
    assert where in message or where.split(":")[-1].strip() in message, message


def _nested_types(depth: int) -> bytes:
    """A value info whose type is a sequence of a sequence of … ``depth`` deep (2 messages a level)."""
    inner = b""
    for _ in range(depth):
        inner = field(4, 2, field(1, 2, inner))
    return field(7, 2, field(11, 2, field(2, 2, inner)))


@pytest.mark.parametrize("depth", [47, 48, 49, 50, 10_000])
def test_nesting_is_bounded_as_protobuf_bounds_it(depth: int) -> None:
    data = _nested_types(depth)
    if refused(data, depth > 48):  # upb's limit: 100 messages below the model
        with pytest.raises(proto.MalformedModel, match="nest more than 100 deep"):
            proto.parse(data)
    else:
        agree(data, exact=True)


@pytest.mark.parametrize("depth", [99, 100, 101])
@pytest.mark.parametrize("inside", [False, True])
def test_unknown_groups_nest_as_deep_as_protobuf_lets_them(depth: int, inside: bool) -> None:
    groups = field(9, 3) * depth + field(9, 4) * depth
    data = field(7, 2, groups) if inside else groups  # in the graph: one message deeper
    if refused(data, depth + inside > 100):
        with pytest.raises(proto.MalformedModel, match="nest more than 100 deep"):
            proto.parse(data)
    else:
        agree(data, exact=True)


def test_20000_deep_subgraphs_and_groups_are_one_error_not_a_recursion_error() -> None:
    graph = b""
    for _ in range(20_000):  # graph → node → attribute → graph …
        graph = field(1, 2, field(ATTR, 2, field(6, 2, graph)))
    with pytest.raises(proto.MalformedModel, match="nest more than 100 deep"):
        proto.parse(field(7, 2, graph))
    groups = field(9, 3) * 20_000 + field(9, 4) * 20_000
    refused(groups, True)
    with pytest.raises(proto.MalformedModel, match="nest more than 100 deep"):
        proto.parse(groups)


def test_value_types_with_equal_bytes_are_one_object_and_merging_one_leaves_the_others() -> None:
    float_type = field(1, 2, field(1, 0, value=1))
    shape = field(1, 2, field(2, 2, field(1, 2, field(1, 0, value=7))))
    infos = [field(1, 2, b"a") + field(2, 2, float_type), field(1, 2, b"b") + field(2, 2, float_type),
             field(1, 2, b"c") + field(2, 2, float_type) + field(2, 2, shape)]  # fmt: skip
    model = agree(field(7, 2, b"".join(field(13, 2, info) for info in infos)), exact=True)
    assert model is not None
    a, b, c = (info.type for info in model.graph.value_info)
    assert a is b and c is not a and not a.tensor_type.HasField("shape")
    assert c.tensor_type.elem_type == 1 and c.tensor_type.shape.dim[0].dim_value == 7


def test_huge_dims_and_many_of_them_read_as_protobuf_reads_them() -> None:
    dims = [2**63 - 1, -(2**63), 0, -1, 2**40]
    tensor = field(1, 2, b"".join(map(varint, dims))) + field(1, 0, value=2**64 + 3)  # wraps to 3
    model = agree(field(7, 2, field(5, 2, tensor)), exact=True)
    assert model is not None and model.graph.initializer[0].dims == [*dims, 3]
    shape = b"".join(field(1, 2, field(1, 0, value=d)) for d in dims)
    model = agree(field(7, 2, field(11, 2, field(2, 2, field(1, 2, field(2, 2, shape))))), exact=True)
    assert model is not None
    assert [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim] == dims
    many = field(7, 2, field(5, 2, field(1, 2, b"\x01" * 200_000)))
    model = agree(many, exact=True)
    assert model is not None and len(model.graph.initializer[0].dims) == 200_000


def test_a_budget_of_fields_bounds_the_time_a_file_of_empty_fields_takes() -> None:
    data = field(7, 2, field(99, 0, value=0) * 50_000)
    assert proto.parse(data, max_fields=60_000).graph.node == []
    with pytest.raises(proto.MalformedModel, match="more than 40,000 fields"):
        proto.parse(data, max_fields=40_000)
    packed = field(7, 2, field(5, 2, field(1, 2, b"\x01" * 50_000)))
    with pytest.raises(proto.MalformedModel, match="more than 40,000 fields"):
        proto.parse(packed, max_fields=40_000)


def test_truncation_at_every_byte_reads_as_protobuf_reads_it() -> None:
    """Cut anywhere: inside a field, both refuse it; between two of the model's own fields, both
    read the fields before the cut (a prefix of a message is a message)."""
    data = (ROOT / "tests" / "fixtures" / "onnx" / "batch2.ts.onnx").read_bytes()
    read = [cut for cut in range(len(data) + 1) if agree(data[:cut], exact=True) is not None]
    assert 4 <= len(read) < 12 and read[0] == 0 and read[-1] == len(data)  # the top-level fields' ends


RICH = [rich_model().SerializeToString()] if ORACLE else []


@settings(max_examples=int(os.environ.get("CONVCOST_FUZZ_EXAMPLES", "300")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(st.data())
def test_fuzzed_bytes_give_protobufs_reading_or_the_one_error(data: st.DataObject) -> None:
    sources = [FIXTURES[0].read_bytes()[:4000], FIXTURES[-2].read_bytes()[:4000], *RICH]
    blob = bytearray(data.draw(st.sampled_from(sources)))
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(blob)))
        action = data.draw(st.sampled_from(["flip", "set", "insert", "delete", "cut"]))
        if action == "cut":
            del blob[at:]
        elif action == "delete":
            del blob[at : at + data.draw(st.integers(1, 4))]
        elif action == "insert":
            blob[at:at] = data.draw(st.binary(min_size=1, max_size=6))
        elif at < len(blob):
            blob[at] = blob[at] ^ (1 << data.draw(st.integers(0, 7))) if action == "flip" else data.draw(
                st.sampled_from([0x00, 0x7F, 0x80, 0xFF, 0x08, 0x12, 0x1A, 0x0B, 0x0C]))  # fmt: skip
    agree(bytes(blob))


def test_the_reader_imports_neither_onnx_nor_numpy() -> None:
    code = (
        "import sys; sys.modules['onnx'] = sys.modules['numpy'] = sys.modules['google'] = None\n"
        "from convcost.io.onnx import proto\n"
        "m = proto.parse(open(sys.argv[1], 'rb').read())\n"
        "assert m.graph.node and not {'onnx', 'numpy'} & {k for k, v in sys.modules.items() if v}\n"
    )
    subprocess.run([sys.executable, "-c", code, str(FIXTURES[0])], cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


@needs_onnx
def test_typed_number_fields_are_decoded_when_read_and_equal_onnxs_arrays() -> None:
    for tensor, theirs in zip(proto.parse(rich_model().SerializeToString()).graph.initializer,
                              rich_model().graph.initializer, strict=True):  # fmt: skip
        for name in ("float_data", "int32_data", "int64_data", "double_data", "uint64_data"):
            assert isinstance(getattr(tensor, name), list)
            values = [x if not isinstance(x, float) or not math.isnan(x) else "nan" for x in getattr(tensor, name)]
            expected = [x if not isinstance(x, float) or not math.isnan(x) else "nan" for x in getattr(theirs, name)]
            assert values == expected
