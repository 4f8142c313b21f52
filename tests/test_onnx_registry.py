"""The ONNX importer's shape (issue 18): one registry entry per op, and no module too long to read.

Everything convcost knows of an op lives in its entry in one ``ops/`` module, so an op's name is
written there and nowhere else: not in the node loop, the checks or shape inference (the registry's
list of onnx's own facts aside). These tests scan the sources to hold that.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

IO = Path(__file__).parent.parent / "convcost" / "io"
PACKAGE = IO / "onnx"


def _strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _registered_in(path: Path) -> set[str]:
    """The ops a module registers: the names given to ``Op(...)`` in it."""
    tree = ast.parse(path.read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Op"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def _op_names() -> set[str]:
    from convcost.io.onnx.registry import OPS, lookup

    lookup("Conv")  # loads every ops/ module
    names = set(OPS)
    try:
        import onnx
    except ImportError:
        return names
    return names | {schema.name for schema in onnx.defs.get_all_schemas_with_history()}


def test_no_module_under_io_is_over_800_lines() -> None:
    long = {
        str(p.relative_to(IO)): n for p in IO.rglob("*.py") if (n := len(p.read_text().splitlines())) > 800
    }
    assert not long


def test_every_entry_is_registered_by_exactly_one_ops_module() -> None:
    from convcost.io.onnx.registry import OPS, lookup

    lookup("Conv")
    found: dict[str, list[str]] = {}
    for path in sorted((PACKAGE / "ops").glob("*.py")):
        for name in _registered_in(path):
            found.setdefault(name, []).append(path.name)
    assert {name: where for name, where in found.items() if len(where) > 1} == {}
    assert set(found) == set(OPS)


def test_op_names_appear_only_in_their_entries() -> None:
    """An op's name is written in the ops/ module that registers it, or in the registry's onnx facts."""
    names = _op_names()
    misplaced = []
    for path in sorted(IO.rglob("*.py")):
        relative = path.relative_to(IO)
        if relative == Path("onnx/registry.py"):
            continue  # onnx's own facts (ops with data propagators, with subgraphs…)
        allowed = _registered_in(path) if relative.parent == Path("onnx/ops") else set()
        misplaced += [
            f"{relative}:{line}: {text!r}"
            for line, text in _strings(path)
            if text in names and text not in allowed
        ]
    assert misplaced == []


def test_the_scan_sees_a_misplaced_name(tmp_path: Path) -> None:
    """The check above can fail: a literal op name in a handler of another family is found."""
    source = tmp_path / "m.py"
    source.write_text('Op("Relu", f)\nif node.op_type == "Conv":\n    pass\n')
    names = _op_names()
    allowed = _registered_in(source)
    assert allowed == {"Relu"}
    assert [text for _, text in _strings(source) if text in names and text not in allowed] == ["Conv"]


def test_every_entry_is_an_onnx_op() -> None:
    onnx = pytest.importorskip("onnx")
    from convcost.io.onnx.registry import OPS, lookup

    lookup("Conv")
    known = {schema.name for schema in onnx.defs.get_all_schemas_with_history() if schema.domain == ""}
    assert set(OPS) - known == set()
