"""convcost's own table of ONNX's op schemas (convcost/io/onnx/schemas.txt) against ``onnx.defs``.

The checks read the table, never onnx, so that the plain install checks a model as the onnx extra
does. Here onnx is the oracle: the table must be what onnx's schemas say, op for op and opset for
opset, so the two cannot drift. ``python -m tests.test_onnx_schemas`` writes the table again.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from convcost.io.onnx import schemas
from convcost.io.onnx.registry import OPS, lookup
from tests.conftest import optional_module

TABLE = Path(schemas.__file__).with_name("schemas.txt")


def facts(onnx: Any, found: Any) -> str:
    """One schema as a line of the table (see :mod:`convcost.io.onnx.schemas`)."""
    options = onnx.defs.OpSchema.FormalParameterOption
    letters = {options.Single: "S", options.Optional: "O", options.Variadic: "V"}
    attributes = " ".join(
        f"{name}={int(a.type.value)}{'!' * bool(a.required)}" for name, a in sorted(found.attributes.items())
    )
    allowed = {c.type_param_str: set(c.allowed_type_strs) for c in found.type_constraints}
    inputs = " ".join(
        f"{f.name}:{letters.get(f.option, 'O')}:{int(f.min_arity)}:"
        f"{int('tensor(string)' in allowed.get(f.type_str, {f.type_str}))}"
        for f in found.inputs
    )
    outputs = " ".join(f"{f.name}:{letters.get(f.option, 'O')}" for f in found.outputs)
    return f"{attributes}|{inputs}|{found.max_input}|{outputs}|{found.max_output}"


def table(onnx: Any) -> str:
    """The table as onnx's schemas give it, for every op of the standard domain."""
    lines = []
    names = sorted({s.name for s in onnx.defs.get_all_schemas_with_history() if s.domain == ""})
    for name in names:
        previous = None
        for version in range(schemas.OLDEST_OPSET, schemas.NEWEST_OPSET + 1):
            try:
                line = facts(onnx, onnx.defs.get_schema(name, version, ""))
            except onnx.defs.SchemaError:
                line = "-"
            if line != previous and (previous is not None or line != "-"):
                lines.append(f"{name} {version}|{line}")
            previous = line
    return "\n".join(lines) + "\n"


def test_the_table_is_onnxs_schemas() -> None:
    onnx = optional_module("onnx", "onnx")
    assert TABLE.read_text(encoding="utf-8") == table(onnx)


def test_every_registered_op_reads_as_onnx_defs_has_it() -> None:
    """Op for op, at every opset: what the checks read equals what they read from onnx.defs before."""
    onnx = optional_module("onnx", "onnx")
    lookup("Conv")
    options = onnx.defs.OpSchema.FormalParameterOption
    names = {options.Single: "S", options.Optional: "O", options.Variadic: "V"}
    for op in sorted(OPS):
        for version in range(schemas.OLDEST_OPSET, schemas.NEWEST_OPSET + 1):
            try:
                found = onnx.defs.get_schema(op, version, "")
            except onnx.defs.SchemaError:
                assert schemas.schema(op, version) is None, (op, version)
                continue
            ours = schemas.schema(op, version)
            assert ours is not None, (op, version)
            attributes: dict[str, Any] = found.attributes
            assert ours.attributes == {name: int(a.type.value) for name, a in attributes.items()}
            assert set(ours.required) == {name for name, a in attributes.items() if a.required}
            assert ours.inputs == tuple((f.name, names[f.option], int(f.min_arity)) for f in found.inputs)
            assert (ours.max_input, ours.max_output) == (found.max_input, found.max_output)
            assert ours.outputs == tuple((f.name, names[f.option]) for f in found.outputs)


def test_the_data_types_and_opsets_are_onnxs() -> None:
    onnx = optional_module("onnx", "onnx")
    defined = set(onnx.TensorProto.DataType.values()) - {0}
    assert defined >= schemas.DATA_TYPES
    assert all(kind > max(schemas.DATA_TYPES) for kind in defined - schemas.DATA_TYPES)  # newer onnx only
    assert onnx.defs.onnx_opset_version() >= schemas.NEWEST_OPSET


def test_an_op_before_its_first_opset_or_unknown_has_no_schema() -> None:
    assert schemas.schema("Gelu", 19) is None and schemas.schema("Gelu", 20) is not None
    assert schemas.schema("NoSuchOp", 17) is None
    conv = schemas.schema("Conv", 17)
    assert conv is not None and conv.attributes["kernel_shape"] == 7 and conv.max_input == 3
    assert [name for name, _, _ in conv.inputs] == ["X", "W", "B"]


if __name__ == "__main__":
    TABLE.write_text(table(optional_module("onnx", "onnx")), encoding="utf-8")
    sys.exit(0)
