"""Roll-ups to modules N levels deep: they partition the rows, so they sum to the totals."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from convcost.core.conv import weighted_sum
from convcost.io.spec_file import read
from convcost.model.evaluate import evaluate
from convcost.model.rollup import fitting_depth, groups, is_zero, module_at, rollup
from tests.test_zoo_specs import SPECS

MODULE = st.one_of(st.none(), st.just(""), st.sampled_from(["a", "b", "relu", "0", "x.y", "0.relu"]))


def _with_module(entry: dict, module: str | None) -> dict:
    return entry if module is None else {**entry, "module": module}


@st.composite
def entries(draw, depth: int = 0) -> list[dict]:
    made: list[dict] = []
    for i in range(draw(st.integers(1, 4))):
        choice = draw(st.integers(0, 3 if depth < 3 else 1))
        name = f"e{i}"
        if choice == 0:
            entry = {"name": name, "out": 4, "kernel": draw(st.sampled_from([1, 3])), "padding": "same"}
        elif choice == 1:
            entry = {"name": name, "type": "activation"}
        elif choice == 2:
            entry = {
                "name": name,
                "type": "repeat",
                "times": draw(st.integers(1, 4)),
                "layers": draw(entries(depth + 1)),
            }
            if draw(st.booleans()):
                entry["first_index"] = draw(st.integers(0, 3))
        else:
            entry = {"name": name, "type": "residual", "body": draw(entries(depth + 1))}
            if draw(st.booleans()):
                entry["shortcut"] = [{"name": "proj", "out": 4, "kernel": 1}]
        made.append(_with_module(entry, draw(MODULE)))
    return made


@settings(max_examples=60, deadline=None)
@given(entries(), st.integers(1, 6))
def test_rollups_partition_the_rows_and_sum_to_the_totals(layers, depth) -> None:
    net = evaluate({"input": "6x6x4", "layers": layers})
    rolled = rollup(net.rows, depth)
    members = [i for r in rolled for i in r.members]
    assert sorted(members) == list(range(len(net.rows)))
    assert weighted_sum((r.counts, 1) for r in rolled) == net.totals
    forms = net.variant_totals()
    assert weighted_sum((r.regular, 1) for r in rolled) == forms["regular"]
    assert weighted_sum((r.depthwise_separable, 1) for r in rolled) == forms["depthwise_separable"]
    for r in rolled:
        assert r.input_shape == next(
            (net.rows[i].input_shape for i in r.members if net.rows[i].input_shape), ()
        )
        assert r.output_shape == net.rows[r.members[-1]].output_shape
        assert all(module_at(net.rows[i].module, depth) == r.module for i in r.members)
    assert len({r.module for r in rolled if r.module}) == len([r for r in rolled if r.module])


def _resnet50():
    return evaluate(read((SPECS / "resnet50.yaml").read_bytes()))


def test_resnet50_at_depth_1_and_2() -> None:
    net = _resnet50()
    one = rollup(net.rows, 1)
    assert [r.label for r in one] == [
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"
    ]  # fmt: skip
    layer1 = one[4]
    assert (layer1.input_shape, layer1.output_shape, layer1.rows) == (
        (56, 56, 64),
        (56, 56, 256),
        3 * 10 + 2,
    )  # a block: 3 convs, 3 norms, add, 3 relus
    assert layer1.counts.macs == sum(r.counts.macs for r in net.rows if r.module.startswith("layer1."))
    two = rollup(net.rows, 2)
    assert len(two) == 6 + 3 + 4 + 6 + 3 and two[4].label == "layer1.0" and two[-1].label == "fc"


def test_rows_of_the_top_level_forward_stay_rows_of_their_own() -> None:
    found = groups(["", "a.b", "", "a.c"], ["flat", "x", "view", "y"], 1)
    assert [(g.label, g.members) for g in found] == [("flat", (0,)), ("a", (1, 3)), ("view", (2,))]


def test_the_fitting_depth_is_the_deepest_that_fits() -> None:
    net = _resnet50()
    modules, names = [r.module for r in net.rows], [r.name for r in net.rows]
    assert fitting_depth(modules, names, len(names)) is None  # every row fits: no roll-up
    assert fitting_depth(modules, names, 22) == 2
    assert fitting_depth(modules, names, 21) == 1
    assert fitting_depth(modules, names, 3) == 1  # nothing fits: the shortest roll-up
    assert fitting_depth(modules, names, 100, max_label=8) == 2  # layer1.0, not layer1.0.conv1
    assert fitting_depth(modules, names, 100, max_label=7) == 1


def test_zero_rows_have_no_macs_and_no_params() -> None:
    net = _resnet50()
    kinds = {r.type for r in net.rows if is_zero(r.counts)}
    assert kinds == {"activation", "pool", "add"}


def _compare(*args: str) -> dict:
    import json

    from click.testing import CliRunner

    from convcost.cli import cli

    result = CliRunner().invoke(cli, ["compare", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_depth_in_json_sums_to_the_same_totals_and_names_modules() -> None:
    every = _compare("resnet50")
    rolled = _compare("resnet50", "--depth", "1")
    assert rolled["totals"] == every["totals"] and rolled["variants"] == every["variants"]
    assert [r["name"] for r in rolled["layers"]][4:8] == ["layer1", "layer2", "layer3", "layer4"]
    for key in ("macs", "params", "bytes", "other_ops"):
        assert sum(r[key] for r in rolled["layers"]) == sum(r[key] for r in every["layers"])
    layer1 = rolled["layers"][4]
    assert (layer1["type"], layer1["rows"], layer1["input_shape"], layer1["output_shape"]) == (
        "module",
        32,
        [56, 56, 64],
        [56, 56, 256],
    )
    separable = sum(r["forms"]["depthwise_separable"]["macs"] for r in rolled["layers"] if "forms" in r)
    separable += sum(
        r["variants"]["depthwise_separable"]["macs"] if r.get("kernel", [1])[0] > 1 else r["macs"]
        for r in rolled["layers"] if "forms" not in r
    )  # fmt: skip
    assert separable == every["variants"]["depthwise_separable"]["macs"]
    assert rolled["options"]["depth"] == 1 and every["options"]["depth"] is None


def test_hide_zero_leaves_rows_out_but_not_the_totals() -> None:
    every = _compare("resnet50")
    shown = _compare("resnet50", "--hide-zero")
    assert shown["totals"] == every["totals"]
    assert all(r["macs"] or r["params"] for r in shown["layers"])
    assert len(shown["layers"]) == len(every["layers"]) - sum(
        1 for r in every["layers"] if not r["macs"] and not r["params"]
    )


def test_cost_takes_depth_and_hide_zero_and_names_a_bad_one() -> None:
    import pytest

    import convcost
    from convcost.core.errors import ConvCostError

    rolled = convcost.cost("resnet50", depth=1, hide_zero=True)
    assert [row.module for row in rolled.rows] == ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"]
    assert rolled.to_dict() == _compare("resnet50", "--depth", "1", "--hide-zero")
    for bad, needle in (({"depth": 0}, "depth: 0 is not allowed"), ({"hide_zero": "yes"}, "hide_zero: 'yes'")):
        with pytest.raises(ConvCostError, match=needle):
            convcost.cost("resnet50", **bad)
