"""Hostile ONNX files through the whole import, with or without the onnx package (issue 23).

The models are written byte by byte here (no onnx needed to make them), so the onnx-free CI venv
runs every case: truncated varints, wrong wire types, 20,000-deep nesting, tensors of huge dims,
external data paths that must never be opened nor looked at, and recursive or exploding local
functions. Each is one line naming what is wrong, exit 2, never a traceback, and all of it is
refused before any shape inference runs, so the outcome is the same in both venvs.
"""

from __future__ import annotations

import builtins
import os
import subprocess
import sys
from pathlib import Path

import pytest

from convcost.core.errors import ConvCostError
from convcost.io.onnx import load

MASK64 = (1 << 64) - 1


def varint(value: int) -> bytes:
    value &= MASK64
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def number(field: int, value: int) -> bytes:
    return varint(field << 3) + varint(value)


def nested(field: int, payload: bytes | str) -> bytes:
    payload = payload.encode() if isinstance(payload, str) else payload
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def value_info(name: str, dims: list[int] | None) -> bytes:
    shape = b"" if dims is None else nested(2, b"".join(nested(1, number(1, d)) for d in dims))
    return nested(1, name) + nested(2, nested(1, number(1, 1) + shape))  # a float tensor


def node(
    op: str, inputs: list[str], outputs: list[str], name: str = "", domain: str = "", attrs: bytes = b""
) -> bytes:
    fields = b"".join(nested(1, i) for i in inputs) + b"".join(nested(2, o) for o in outputs)
    return (
        fields
        + (nested(3, name) if name else b"")
        + nested(4, op)
        + (nested(7, domain) if domain else b"")
        + attrs
    )


def tensor(name: str, dims: list[int], extra: bytes = b"") -> bytes:
    return b"".join(number(1, d) for d in dims) + number(2, 1) + nested(8, name) + extra


def graph(nodes: list[bytes], inputs: list[bytes], outputs: list[bytes], weights: list[bytes] = ()) -> bytes:  # type: ignore[assignment]
    return (
        b"".join(nested(1, n) for n in nodes) + nested(2, "g") + b"".join(nested(5, w) for w in weights)
        + b"".join(nested(11, i) for i in inputs) + b"".join(nested(12, o) for o in outputs)
    )  # fmt: skip


def opset(domain: str, version: int) -> bytes:
    return nested(1, domain) + number(2, version)


def model(body: bytes, functions: list[bytes] = (), local: bool = False) -> bytes:  # type: ignore[assignment]
    opsets = nested(8, opset("", 17)) + (nested(8, opset("local", 1)) if local else b"")
    return number(1, 8) + opsets + nested(7, body) + b"".join(nested(25, f) for f in functions)


def function(name: str, nodes: list[bytes]) -> bytes:
    return (
        nested(1, name) + nested(4, "i") + nested(5, "o") + b"".join(nested(7, n) for n in nodes)
        + nested(9, opset("", 17)) + nested(9, opset("local", 1)) + nested(10, "local")
    )  # fmt: skip


X = value_info("x", [1, 3, 8, 8])
Y = value_info("y", None)


def conv_model(weights: list[bytes] | None = None) -> bytes:
    nodes = [node("Conv", ["x", "w"], ["y"], "conv")]
    return model(graph(nodes, [X], [Y], weights if weights is not None else [tensor("w", [4, 3, 1, 1])]))


def refused(data: bytes, *needles: str) -> str:
    """The one error ``load`` gives, holding each needle."""
    with pytest.raises(ConvCostError) as caught:
        load(data, "m.onnx")
    problem = str(caught.value)
    assert "\n" not in problem and all(needle in problem for needle in needles), problem
    return problem


def test_a_truncated_varint_is_one_error() -> None:
    data = conv_model()
    cut = data + number(5, 1 << 40)[:-3]  # model_version, its varint cut short
    refused(cut, "is not a readable ONNX model", "runs past the end")
    refused(data[:-2], "is not a readable ONNX model")
    refused(data + b"\xff" * 11, "is not a readable ONNX model", "longer than")


def test_a_wrong_wire_type_is_one_error() -> None:
    refused(number(1, 8) + number(7, 5), "is not a readable ONNX model", "field graph has wire type varint")
    data = model(graph([node("Conv", ["x", "w"], ["y"]) + number(4, 1)], [X], [Y]))
    refused(data, "field op_type has wire type varint", "graph.node[0]")


def test_20000_deep_nesting_is_one_error_not_a_recursion_error() -> None:
    inner = b""
    for _ in range(20_000):  # graph → node → attribute → graph …
        inner = nested(1, nested(5, nested(6, inner)))
    refused(number(1, 8) + nested(7, inner), "nest more than 100 deep")


def test_tensors_of_huge_dims_are_refused_before_anything_is_worked_out() -> None:
    many = tensor("bomb", [1 << 62] * 60_000)
    refused(conv_model([tensor("w", [4, 3, 1, 1]), many]), "'bomb' of 60,000 dims; at most 32")
    negative = tensor("w", [4, -3, 1, 1])
    refused(conv_model([negative]), "'w' of dims [4, -3, 1, 1]: a dim below 0")


def test_external_data_is_never_opened_nor_looked_at(monkeypatch: pytest.MonkeyPatch) -> None:
    """A weight whose bytes are in '/etc/shadow' or '../../outside': only its dims are read."""
    touched: list[str] = []
    paths = ("/etc/shadow", "../../outside", "weights.bin")

    def watch(real):
        def call(path, *args, **kwargs):
            if any(p in str(path) for p in paths):
                touched.append(str(path))
            return real(path, *args, **kwargs)

        return call

    for module, name in ((builtins, "open"), (os, "open"), (os, "stat"), (os, "lstat"), (os.path, "exists")):
        monkeypatch.setattr(module, name, watch(getattr(module, name)))
    for location in paths:
        external = nested(13, nested(1, "location") + nested(2, location)) + number(14, 1)
        data = conv_model([tensor("w", [4, 3, 1, 1], external)])
        try:
            converted = load(data, "m.onnx")
            assert converted.document["layers"][0]["type"] == "conv"
        except ConvCostError as error:  # the onnx-free venv: shapes need onnx's inference for now
            assert "pip install 'convcost[onnx]'" in str(error)
    assert touched == []


def test_recursive_local_functions_are_refused() -> None:
    itself = function("f", [node("f", ["i"], ["o"], domain="local")])
    data = model(graph([node("f", ["x"], ["y"], "loop", "local")], [X], [Y]), [itself], local=True)
    refused(data, "node 'loop' (f)", "must not recurse")
    ping = function("ping", [node("pong", ["i"], ["o"], domain="local")])
    pong = function("pong", [node("ping", ["i"], ["o"], domain="local")])
    data = model(graph([node("ping", ["x"], ["y"], "rally", "local")], [X], [Y]), [ping, pong], local=True)
    refused(data, "node 'rally' (ping)", "must not recurse")


def test_a_doubling_chain_of_functions_is_refused_by_its_size_at_once() -> None:
    functions = [function("f39", [node("Relu", ["i"], ["o"])])]
    for level in range(39):
        callee = f"f{level + 1}"
        body = [node(callee, ["i"], ["t"], domain="local"), node(callee, ["t"], ["o"], domain="local")]
        functions.append(function(f"f{level}", body))
    data = model(graph([node("f0", ["x"], ["y"], "bomb", "local")], [X], [Y]), functions, local=True)
    refused(data, "node 'bomb' (f0)", "expand the graph past")


def test_without_onnx_the_cli_refuses_each_in_one_line(tmp_path: Path) -> None:
    """The same refusals from the command line, in a process where onnx and numpy cannot load."""
    path = tmp_path / "deep.onnx"
    inner = b""
    for _ in range(20_000):
        inner = nested(1, nested(5, nested(6, inner)))
    path.write_bytes(number(1, 8) + nested(7, inner))
    code = (
        "import sys; sys.modules['onnx'] = sys.modules['numpy'] = None\n"
        "from convcost.cli import main\n"
        f"sys.argv = ['convcost', 'compare', {str(path)!r}]\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == "" and len(proc.stderr.splitlines()) == 1
    assert "nest more than 100 deep" in proc.stderr


def test_a_model_file_is_mapped_never_read_and_a_pipe_is_read(tmp_path: Path) -> None:
    """A file's weights are never read from disk: the reader gets a memory map of it."""
    import io
    import mmap

    from convcost.io.source import read_input, read_sniffed

    path = tmp_path / "m.onnx"
    path.write_bytes(conv_model())
    data, onnx = read_input(str(path))
    assert isinstance(data, mmap.mmap) and onnx and bytes(data) == conv_model()
    sniffed = tmp_path / "model.bin"  # told by its first byte
    sniffed.write_bytes(conv_model())
    assert isinstance(read_input(str(sniffed))[0], mmap.mmap)
    piped, onnx = read_sniffed(io.BufferedReader(io.BytesIO(conv_model())), "-")  # type: ignore[arg-type]
    assert piped == conv_model() and onnx


def test_a_file_of_empty_fields_stops_at_the_field_budget_of_the_layer_budget() -> None:
    from convcost.core import limits

    fields = number(99, 0)  # an unknown field: skipped, but counted
    with limits.allowing(1_000):  # 100 fields a node: 100,000
        refused(number(1, 8) + nested(7, fields * 100_001), "more than 100,000 fields", "--max-layers")
        refused(number(1, 8) + nested(7, fields * 99_990), "has an empty graph")


def test_reading_checking_and_inlining_import_neither_onnx_nor_numpy() -> None:
    """Where both are installed too: everything before the shapes is convcost's own."""
    fixture = Path(__file__).parent / "fixtures" / "onnx" / "aspp.dynamo.onnx"
    code = (
        "import sys\n"
        "from convcost.io.onnx import checks, read\n"
        "from convcost.io.onnx.inline import inline_local_functions\n"
        f"model = inline_local_functions(read.parse(open({str(fixture)!r}, 'rb').read()))\n"
        "checks.check_opset(model); checks.check_functions(model)\n"
        "checks.check_structure(model.graph, read.opset(model)); checks.check_declared_dims(model.graph)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('onnx', 'numpy', 'ml_dtypes')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stderr
