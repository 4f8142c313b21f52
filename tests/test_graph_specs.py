"""Graph specs: `inputs`, merges, shape ops, outputs, repeats costed once, and every bad graph."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from convcost.cli import cli
from convcost.model.evaluate import Run, evaluate
from convcost.model.kinds import KINDS
from convcost.model.spec_check import SpecErrors
from tests.conftest import Clock

#: Timed only under `pytest -m perf` (the second run of the tests that use the `clock` fixture).
CLOCK = Clock()


def rows(net):
    return {row.name: row for row in net.rows}


# ------------------------------------------------------------------ the three examples, counted by hand


DENSE = {
    "input": "8x8x4",
    "layers": [
        {"name": "c1", "out": 4, "kernel": 3, "padding": 1},
        {"name": "cat1", "type": "concat", "inputs": ["input", "c1"]},
        {"name": "c2", "out": 4, "kernel": 3, "padding": 1},
        {"name": "cat2", "type": "concat", "inputs": ["input", "c1", "c2"]},
        {"name": "trans", "out": 6, "kernel": 1},
    ],
}


def test_dense_block_concatenates_the_input_and_every_earlier_output() -> None:
    net = evaluate(DENSE)
    by_name = rows(net)
    assert by_name["cat1"].output_shape == (8, 8, 8)
    assert by_name["cat2"].output_shape == (8, 8, 12)
    assert by_name["c2"].counts.macs == 8 * 8 * 4 * (8 * 9)  # reads the 8-channel concat
    assert net.totals.macs == 8 * 8 * 4 * 4 * 9 + 8 * 8 * 4 * 8 * 9 + 8 * 8 * 6 * 12 == 32_256
    assert net.totals.params == 4 * 4 * 9 + 4 * 8 * 9 + 6 * 12 == 504
    assert by_name["cat2"].input_shapes == ((8, 8, 4), (8, 8, 4), (8, 8, 4))


def test_dense_block_as_a_repeat_whose_channels_grow() -> None:
    net = evaluate(
        {
            "input": "8x8x4",
            "layers": [
                {
                    "name": "dense",
                    "type": "repeat",
                    "times": 3,
                    "layers": [
                        {"name": "conv", "out": 4, "kernel": 3, "padding": 1},
                        {"name": "cat", "type": "concat", "inputs": ["input", "conv"]},
                    ],
                }
            ],
        }
    )
    by_name = rows(net)
    assert [by_name[f"dense.{i}.cat"].output_shape[-1] for i in (1, 2, 3)] == [8, 12, 16]
    assert net.totals.macs == 8 * 8 * 4 * 9 * (4 + 8 + 12) == 55_296
    assert net.output_shape == (8, 8, 16)


SE = {
    "input": "8x8x16",
    "layers": [
        {"name": "dw", "type": "depthwise", "kernel": 3, "padding": 1},
        {"name": "squeeze", "type": "pool", "mode": "avg", "global": True},
        {"name": "reduce", "out": 4, "kernel": 1, "bias": True},
        {"name": "expand", "out": 16, "kernel": 1, "bias": True},
        {"name": "scale", "type": "mul", "inputs": ["dw", "expand"]},
        {"name": "project", "out": 8, "kernel": 1},
    ],
}


def test_squeeze_and_excitation_multiplies_the_map_by_a_vector_computed_from_it() -> None:
    net = evaluate(SE)
    by_name = rows(net)
    assert by_name["expand"].output_shape == (1, 1, 16)
    assert by_name["scale"].output_shape == (8, 8, 16)  # H×W×C times 1×1×C
    assert by_name["scale"].counts.macs == 0 and by_name["scale"].counts.other_ops == 8 * 8 * 16
    assert net.totals.macs == 8 * 8 * 16 * 9 + 16 * 4 + 4 * 16 + 8 * 8 * 8 * 16 == 17_536
    assert net.totals.params == 16 * 9 + (16 * 4 + 4) + (4 * 16 + 16) + 16 * 8 == 420


HEADS = {
    "input": "16x16x3",
    "layers": [
        {"name": "stem", "out": 8, "kernel": 3, "stride": 2, "padding": 1},
        {"name": "cls", "out": 10, "kernel": 1, "inputs": ["stem"]},
        {"name": "box", "out": 4, "kernel": 3, "padding": 1, "inputs": ["stem"]},
    ],
    "outputs": ["cls", "box"],
}


def test_two_heads_both_count_and_both_are_outputs() -> None:
    net = evaluate(HEADS)
    assert net.totals.macs == 8 * 8 * 8 * 3 * 9 + 8 * 8 * 10 * 8 + 8 * 8 * 4 * 8 * 9 == 37_376
    assert net.outputs == (("cls", (8, 8, 10)), ("box", (8, 8, 4)))
    data = json.loads(CliRunner().invoke(cli, ["compare", "-", "--json"], input=json.dumps(HEADS)).stdout)
    assert data["outputs"] == [{"name": "cls", "shape": [8, 8, 10]}, {"name": "box", "shape": [8, 8, 4]}]
    assert data["totals"]["macs"] == 37_376


def test_a_layer_feeding_no_output_still_counts() -> None:
    spec = {**HEADS, "outputs": ["cls"]}
    assert evaluate(spec).totals.macs == 37_376


def test_dotted_names_reach_into_blocks() -> None:
    net = evaluate(
        {
            "input": "8x8x4",
            "layers": [
                {
                    "name": "res",
                    "type": "residual",
                    "body": [{"name": "a", "out": 4, "kernel": 3, "padding": 1}],
                },
                {"name": "tap", "out": 2, "kernel": 1, "inputs": ["res.a"]},
                {"name": "sum", "type": "add", "inputs": ["res", "res.a"]},
            ],
        }
    )
    by_name = rows(net)
    assert by_name["tap"].input_shape == (8, 8, 4) and by_name["sum"].output_shape == (8, 8, 4)


def test_inside_a_block_input_is_the_blocks_input() -> None:
    net = evaluate(
        {
            "input": "8x8x4",
            "layers": [
                {"name": "grow", "out": 8, "kernel": 1},
                {
                    "name": "res",
                    "type": "residual",
                    "body": [
                        {"name": "a", "out": 8, "kernel": 3, "padding": 1},
                        {"name": "both", "type": "concat", "inputs": ["input", "a"]},
                        {"name": "back", "out": 8, "kernel": 1},
                    ],
                },
            ],
        }
    )
    assert rows(net)["res.both"].output_shape == (8, 8, 16)


# ------------------------------------------------------------------ shape ops and merges


def test_shufflenet_unit_with_split_and_shuffle() -> None:
    net = evaluate(
        {
            "input": "8x8x16",
            "layers": [
                {"name": "left", "type": "split", "parts": 2, "index": 0},
                {"name": "right", "type": "split", "parts": 2, "index": 1, "inputs": ["input"]},
                {"name": "pw1", "out": 8, "kernel": 1},
                {"name": "dw", "type": "depthwise", "kernel": 3, "padding": 1},
                {"name": "pw2", "out": 8, "kernel": 1},
                {"name": "cat", "type": "concat", "inputs": ["left", "pw2"]},
                {"name": "shuffle", "type": "shuffle", "groups": 2},
            ],
        }
    )
    by_name = rows(net)
    assert by_name["left"].output_shape == by_name["right"].output_shape == (8, 8, 8)
    assert net.output_shape == (8, 8, 16)
    assert net.totals.macs == 2 * (8 * 8 * 8 * 8) + 8 * 8 * 8 * 9


def test_slice_and_concat_along_an_axis() -> None:
    net = evaluate(
        {
            "input": "10x6",
            "layers": [
                {"name": "head", "type": "slice", "start": 2, "stop": 5, "axis": 0},
                {"name": "cat", "type": "concat", "axis": 0, "inputs": ["input", "head"]},
            ],
        }
    )
    assert rows(net)["head"].output_shape == (3, 6) and net.output_shape == (13, 6)


def test_add_broadcasts_over_size_one_dims() -> None:
    net = evaluate(
        {
            "input": "4x4x8",
            "layers": [
                {"name": "v", "type": "pool", "global": True},
                {"name": "sum", "type": "add", "inputs": ["input", "v"]},
            ],
        }
    )
    assert net.output_shape == (4, 4, 8) and rows(net)["sum"].counts.other_ops == 4 * 4 * 8


@pytest.mark.parametrize(("mode", "ops", "rf_size"), [("nearest", 1, 3), ("bilinear", 4, 5)])
def test_upsample_costs_no_macs_and_divides_the_receptive_field_stride(mode, ops, rf_size) -> None:
    net = evaluate(
        {
            "input": "8x8x4",
            "layers": [
                {"name": "down", "out": 4, "kernel": 3, "stride": 2, "padding": 1},
                {"name": "up", "type": "upsample", "scale": 2, "mode": mode},
            ],
        }
    )
    up = rows(net)["up"]
    assert up.output_shape == (8, 8, 4) and up.counts.macs == 0 and up.counts.other_ops == 8 * 8 * 4 * ops
    assert up.receptive_field.stride == (1, 1) and up.receptive_field.size == (rf_size, rf_size)


def test_upsample_is_one_registry_entry_known_to_the_schema() -> None:
    schema = json.loads(CliRunner().invoke(cli, ["schema"]).stdout)
    titles = [entry["title"] for entry in schema["$defs"]["entry"]["oneOf"]]
    assert "upsample" in titles and titles == [*KINDS, "activation by name"]


# ------------------------------------------------------------------ a weight read again: learned: false

#: Each kind with weights, as one entry on a 6×6×8 input.
WEIGHTED = [
    {"out": 8, "kernel": 3, "padding": 1, "bias": True},
    {"type": "transposed", "out": 4, "kernel": 2, "stride": 2, "bias": True},
    {"type": "depthwise", "kernel": 3, "padding": 1},
    {"type": "separable", "out": 16, "kernel": 3},
    {"type": "linear", "out": 5, "flatten": False},
    {"type": "batchnorm"},
    {"type": "layernorm"},
    {"type": "groupnorm", "groups": 2},
    {"type": "instancenorm"},
]


@pytest.mark.parametrize("entry", WEIGHTED, ids=[e.get("type", "conv") for e in WEIGHTED])
def test_a_weight_read_again_does_its_work_with_no_params(entry) -> None:
    """``learned: false``: another row's weights (a tied or shared weight read again), so the same
    MACs, adds and other ops and no params, in the row and in its breakdown."""

    def costed(learned: bool) -> tuple:
        spec = {
            "input": "6x6x8",
            "layers": [{**entry, "name": "w", **({} if learned else {"learned": False})}],
        }
        row = evaluate(spec).rows[0]
        return row.counts, row.parts

    (own, own_parts), (again, parts) = costed(True), costed(False)
    assert own.params > 0 and again.params == 0
    assert again == own._replace(params=0)
    assert all(part.counts.params == 0 for part in parts) and len(parts) == len(own_parts)


# ------------------------------------------------------------------ repeat: distinct copies costed once


@pytest.mark.usefixtures("clock")
def test_a_long_repeat_is_costed_once_and_multiplied() -> None:
    spec = {
        "input": "8x8x16",
        "layers": [
            {
                "name": "r",
                "type": "repeat",
                "times": 150_000,
                "layers": [{"out": 16, "kernel": 3, "padding": 1}],
            }
        ],
    }
    with CLOCK.bound(1.0, "150,000 copies"):  # timed: generous, no copy is built
        net = evaluate(spec)
    assert net.totals.macs == 150_000 * 8 * 8 * 16 * 16 * 9
    assert len(net.segments) == 2 and isinstance(net.segments[1], Run)  # copy 1, then a run of 149,999
    assert net.row_count == 150_000
    last = next(row for i, row in enumerate(net.iter_rows()) if i == 149_999)
    assert last.name == "r.150000.conv1" and last.receptive_field.size == (1 + 2 * 150_000,) * 2


def _unrolled(times: int, body: list[dict]) -> list[dict]:
    return [dict(layer, name=f"c{i}_{layer['name']}") for i in range(times) for layer in body]


@settings(max_examples=40, deadline=None)
@given(
    times=st.integers(1, 6),
    kernels=st.lists(st.sampled_from([1, 3, 5]), min_size=1, max_size=3),
    residual=st.booleans(),
)
def test_a_repeat_gives_the_rows_of_its_unrolled_copies(times, kernels, residual) -> None:
    body = [{"name": f"l{j}", "out": 6, "kernel": k, "padding": k // 2} for j, k in enumerate(kernels)]
    if residual:
        body = [{"name": "res", "type": "residual", "body": body}]
    repeated = evaluate(
        {"input": "12x12x6", "layers": [{"name": "r", "type": "repeat", "times": times, "layers": body}]}
    )
    unrolled = evaluate({"input": "12x12x6", "layers": _unrolled(times, body)})
    assert [(r.output_shape, r.counts, r.receptive_field) for r in repeated.rows] == [
        (r.output_shape, r.counts, r.receptive_field) for r in unrolled.rows
    ]
    assert repeated.totals == unrolled.totals and repeated.breakdown() == unrolled.breakdown()
    assert repeated.variant_totals() == unrolled.variant_totals()


def test_nested_repeats_name_every_copy() -> None:
    net = evaluate(
        {
            "input": "4x4x2",
            "layers": [
                {
                    "name": "outer",
                    "type": "repeat",
                    "times": 3,
                    "layers": [
                        {
                            "name": "inner",
                            "type": "repeat",
                            "times": 2,
                            "layers": [{"name": "c", "out": 2, "kernel": 1}],
                        }
                    ],
                }
            ],
        }
    )
    assert [r.name for r in net.rows] == [f"outer.{i}.inner.{j}.c" for i in (1, 2, 3) for j in (1, 2)]


# ------------------------------------------------------------------ bad graphs: one line each, naming the path


def problems(spec: dict) -> list[str]:
    with pytest.raises(SpecErrors) as caught:
        evaluate(spec)
    return [str(e) for e in caught.value.errors]


@pytest.mark.parametrize(
    ("layers", "needle"),
    [
        ([{"out": 4, "kernel": 1, "inputs": ["nothing"]}], "layers[0].inputs: 'nothing' is not a layer name"),
        (
            [{"name": "a", "out": 4, "kernel": 1, "inputs": ["b"]}, {"name": "b", "out": 4, "kernel": 1}],
            "layers[0].inputs: 'b' is not defined before this layer (a forward reference",
        ),
        (
            [{"name": "a", "out": 4, "kernel": 1, "inputs": ["a"]}],
            "layers[0].inputs: 'a' is not defined before",
        ),
        (
            [
                {"name": "half", "out": 4, "kernel": 3, "stride": 2, "padding": 1},
                {"name": "cat", "type": "concat", "inputs": ["input", "half"]},
            ],
            "layers[1]: concat 'cat': input gives 8x8x4 but half gives 4x4x4; concat needs the same spatial size",
        ),
        (
            [
                {"name": "wide", "out": 6, "kernel": 1},
                {"name": "sum", "type": "add", "inputs": ["input", "wide"]},
            ],
            "layers[1]: add 'sum': input gives 8x8x4 but wide gives 8x8x6; they must match, or be 1 to broadcast",
        ),
        (
            [{"name": "sum", "type": "add", "inputs": ["input"]}],
            "layers[0].inputs: a add takes 2 or more inputs, not 1",
        ),
        ([{"name": "m", "type": "mul"}], "layers[0]: a mul needs 'inputs'"),
        ([{"out": 4, "kernel": 1, "inputs": ["input"], "in": "8x8x4"}], "layers[0].in: give 'in'"),
        (
            [{"out": 4, "kernel": 1, "inputs": "input"}],
            "layers[0].inputs: 'input' is not allowed; expected a list",
        ),
        (
            [
                {"name": "r", "type": "repeat", "times": 2, "layers": [{"name": "c", "out": 4, "kernel": 1}]},
                {"out": 4, "kernel": 1, "inputs": ["c"]},
            ],
            "layers[1].inputs: 'c' is not defined before this layer (a forward reference, a cycle, or a layer inside a repeat)",
        ),
        ([{"type": "split", "parts": 3}], "layers[0].parts: 3 is not allowed; must divide the axis' 4"),
        ([{"type": "concat", "inputs": ["input", "input"], "axis": 5}], "layers[0].axis: 5 is not allowed"),
    ],
)
def test_bad_graphs_are_refused_naming_the_layer(layers, needle) -> None:
    found = problems({"input": "8x8x4", "layers": layers})
    assert any(needle in line for line in found), found


def test_unknown_output_is_refused() -> None:
    found = problems({"input": "8x8x4", "layers": [{"name": "a", "out": 4, "kernel": 1}], "outputs": ["b"]})
    assert found == [
        "outputs: 'b' is not a layer name; give earlier layers' names (dotted inside blocks) or 'input'"
    ]


def test_bad_graph_on_the_command_line_is_one_line_and_exit_2() -> None:
    spec = "input: 8x8x4\nlayers:\n  - {name: a, out: 4, kernel: 1, inputs: [zz]}\n"
    result = CliRunner().invoke(cli, ["compare", "-"], input=spec)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: <stdin>:3: layers[0].inputs: 'zz' is not a layer name; "
        "give earlier layers' names (dotted inside blocks) or 'input'"
    ]
