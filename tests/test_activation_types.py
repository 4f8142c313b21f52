"""An activation's name as a spec type (issue 20): ``type: relu`` is ``type: activation, fn: relu``.

PyTorch users write the module's name; before, ``type: relu`` was refused with a hint at
``reduce``. Flags-free, so the spec checker, the schema and the Python API agree.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from convcost.cli import cli
from convcost.io.schema import spec_schema
from convcost.model.evaluate import evaluate
from convcost.model.kinds import ACTIVATION_TYPES, KINDS
from convcost.model.spec_check import SpecErrors

NAMED = ("relu", "gelu", "silu", "sigmoid", "hardswish")


@pytest.mark.parametrize("fn", NAMED)
def test_an_activation_name_as_type_is_that_activation(fn: str) -> None:
    by_name = evaluate({"input": "8x8x4", "layers": [{"out": 6, "kernel": 3}, {"type": fn}]})
    written = evaluate(
        {"input": "8x8x4", "layers": [{"out": 6, "kernel": 3}, {"type": "activation", "fn": fn}]}
    )
    row, twin = by_name.rows[1], written.rows[1]
    assert row.type == twin.type == "activation"
    assert row.name == f"{fn}2" and twin.name == "activation2"  # named as written
    assert row.output_shape == twin.output_shape == (6, 6, 6)
    assert row.counts == twin.counts and row.counts.other_ops == 6 * 6 * 6
    assert row.costed is not None and by_name.totals == written.totals
    assert row.receptive_field == twin.receptive_field


def test_every_named_activation_is_known_and_none_hides_a_kind() -> None:
    assert set(NAMED) <= set(ACTIVATION_TYPES)
    assert not set(ACTIVATION_TYPES) & set(KINDS)  # a kind's own name always means that kind
    assert "relu6" in ACTIVATION_TYPES and "tanh" in ACTIVATION_TYPES


def test_the_command_line_costs_type_relu_and_keeps_its_line_numbers(tmp_path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("input: 8x8x4\nlayers:\n  - {out: 6, kernel: 3}\n  - type: relu\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["compare", str(spec), "--json"])
    assert result.exit_code == 0, result.stderr
    layer = json.loads(result.stdout)["layers"][1]
    assert (layer["name"], layer["type"], layer["other_ops"]) == ("relu2", "activation", 216)
    spec.write_text("input: 8x8x4\nlayers:\n  - {out: 6, kernel: 3}\n  - type: relu\n    fn: gelu\n")
    refused = CliRunner().invoke(cli, ["compare", str(spec)])
    assert refused.exit_code == 2 and refused.stdout == ""
    assert f"Error: {spec}:5: layers[1].fn: unknown key for a relu" in refused.stderr
    assert "type: relu is an activation, fn: relu" in refused.stderr
    assert "allowed: name, type, inputs, module, in\n" in refused.stderr


def test_a_misspelt_activation_suggests_it_not_reduce() -> None:
    with pytest.raises(SpecErrors) as caught:
        evaluate({"input": "8x8x4", "layers": [{"type": "rellu"}]})
    problem = str(caught.value)
    assert "(did you mean 'relu'?)" in problem
    assert "or an activation's name: relu, relu6, " in problem


def test_the_schema_accepts_an_activation_by_name_and_refuses_a_second_function() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = spec_schema()
    for fn in ACTIVATION_TYPES:
        jsonschema.validate({"layers": [{"type": fn, "name": "act"}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"layers": [{"type": "relu", "fn": "gelu"}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"layers": [{"type": "rellu"}]}, schema)
