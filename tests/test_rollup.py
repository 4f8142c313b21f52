"""Roll-ups to modules N levels deep: they partition the rows, so they sum to the totals."""

from __future__ import annotations

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from convcost.cli import cli
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
    assert [row.module for row in rolled.rows] == [
        "conv1",
        "bn1",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
        "fc",
    ]
    assert rolled.to_dict() == _compare("resnet50", "--depth", "1", "--hide-zero")
    for bad, needle in (
        ({"depth": 0}, "depth: 0 is not allowed"),
        ({"hide_zero": "yes"}, "hide_zero: 'yes'"),
    ):
        with pytest.raises(ConvCostError, match=needle):
            convcost.cost("resnet50", **bad)


# ------------------------------------------------------------------ the summary's rows (every format's)


@settings(max_examples=40, deadline=None)
@given(entries(), st.integers(1, 6), st.booleans())
def test_summary_rows_at_any_depth_sum_to_the_totals(layers, depth, hide_zero) -> None:
    from convcost.core.options import DEFAULT
    from convcost.output.summary import network_summary

    net = evaluate({"input": "6x6x4", "layers": layers})
    every = network_summary(net, None, DEFAULT)
    rolled = network_summary(net, None, DEFAULT, depth=depth, hide_zero=hide_zero)
    members = sorted(i for row in rolled.rows for i in row.members)
    groups_ = network_summary(net, None, DEFAULT, depth=depth).rows
    shown = sorted(
        i for row in groups_ if not hide_zero or row.work.macs or row.work.params for i in row.members
    )
    assert members == shown  # each row of the network in one row, unless its row is hidden for being zero
    assert rolled.hidden == len(groups_) - len(rolled.rows)
    # hidden rows have no MACs and no params (an activation's other ops, its bytes, are counted)
    fields = ("macs", "params") if hide_zero else ("headline", "macs", "flops", "adds", "params", "other_ops")
    for field in fields:
        assert sum(getattr(row.work, field) for row in rolled.rows) == getattr(rolled.totals, field)
    if not hide_zero:  # hidden rows move no MACs and no params, but they do move bytes
        assert sum(row.memory.bytes for row in rolled.rows) == rolled.total_bytes
        assert (
            sum(row.memory.input_bytes + row.memory.output_bytes for row in rolled.rows)
            == rolled.activation_bytes
        )
    for form in rolled.forms:  # every row's forms: a roll-up's own, a layer's as its variants say
        total = 0
        for row in rolled.rows:
            if row.forms:
                total += next(f.work.macs for f in row.forms if f.name == form.name)
            else:
                total += _layer_form(row, form.name)
        assert total == form.work.macs or hide_zero
    for row in rolled.rows:
        calls = [every.rows[i] for i in row.members]
        assert row.input_shape == next((r.input_shape for r in calls if r.input_shape), calls[0].input_shape)
        assert row.calls == 1 + sum(
            1 for a, b in zip(row.members, row.members[1:], strict=False) if b != a + 1
        )
        if row.calls == 1:
            assert row.output_shape == calls[-1].output_shape


def _layer_form(row, name: str) -> int:
    """A layer's MACs with every spatial conv in form ``name`` (evaluate.row_forms, from its variants)."""
    if name == "as_written" or row.layer is None or all(k == 1 for k in row.layer.kernel):
        return row.work.macs
    if name == "depthwise_separable" and row.type in ("separable", "depthwise"):
        return row.work.macs
    return next(v.work.macs for v in row.variants if v.name == name)


def test_a_module_run_in_separate_places_is_one_row_with_its_first_calls_shapes() -> None:
    import jsonschema

    from convcost.output.json_schema import output_schema

    document = _compare("resnet50", "--depth", "3")
    jsonschema.Draft202012Validator(output_schema()).validate(document)  # calls is in the schema
    rolled = document["layers"]
    names = [r["name"] for r in rolled]
    relu = rolled[names.index("layer1.0.relu")]
    # torchvision's Bottleneck runs its one ReLU after bn1, after bn2 and after the add: one row,
    # where it first runs (after bn1), with the shapes of that first call, not 64 → 256 channels
    assert names[names.index("layer1.0.bn1") + 1] == "layer1.0.relu"
    assert (relu["input_shape"], relu["output_shape"], relu["rows"], relu["calls"]) == (
        [56, 56, 64],
        [56, 56, 64],
        3,
        3,
    )
    assert "calls" not in rolled[names.index("layer1.0.downsample")]  # one call of two rows
    text = CliRunner().invoke(cli, ["compare", "resnet50", "--depth", "3", "--wide"]).stdout
    line = next(line for line in text.splitlines() if line.startswith(" layer1.0.relu "))
    assert "activation, 3 calls" in line and "56×56×64 → 56×56×64" in line
    # the block's own add, among its submodules' rows, says what it is (not "layer1.0": the block)
    assert any(line.startswith(" layer1.0 (add) ") for line in text.splitlines())
    assert rolled[names.index("layer1.0")]["type"] == "add"  # JSON names it by its module


def test_fitting_depth_counts_shown_rows_and_leaves_a_flat_list_alone() -> None:
    net = _resnet50()
    modules, names = [r.module for r in net.rows], [r.name for r in net.rows]
    counted = [not is_zero(r.counts) for r in net.rows]
    assert fitting_depth(modules, names, 107, counted=counted) is None  # 107 rows are not zero
    assert fitting_depth(modules, names, 19, counted=counted) == 2  # 22 rows at depth 2, 19 not zero
    assert fitting_depth(modules, names, 18, counted=counted) == 1
    flat = [f"m{i}" for i in range(100)]
    assert fitting_depth(flat, flat, 50) is None  # no roll-up has fewer rows: every row it is
    assert fitting_depth(modules, names, 3, only_fitting=True) is None  # no depth fits: every row
    assert fitting_depth(modules, names, 10, only_fitting=True) == 1


def test_a_table_that_no_depth_fits_keeps_every_row(onnx, tmp_path) -> None:
    """The corpus's recurrent model exported by dynamo, with the exporter's name scopes dropped
    (as a tool that strips node metadata leaves it): most of its ops are then the model's own,
    outside any module, so a roll-up to depth 1 still has more rows than fit. Rolling up would
    hide its modules and still not fit: every row it is. With the scopes (the fixture as
    committed) its rows are its modules' and it rolls up; so does ViT-B/16's dynamo export, as
    its TorchScript export does."""
    from tests.test_onnx_fixtures import FIXTURES

    path = FIXTURES / "corpus" / "recurrent.dynamo.onnx"
    text = CliRunner().invoke(cli, ["compare", str(path)], env={"COLUMNS": "80"}).stdout
    heading = " ".join(text.split("\n")[:2])  # the path is long: the heading wraps
    assert "recurrent.dynamo.onnx: 145 layers, 6 rows at depth 1" in heading
    model = onnx.load_from_string(path.read_bytes())
    for node in model.graph.node:
        del node.metadata_props[:]
    stripped = tmp_path / "recurrent.dynamo.onnx"
    stripped.write_bytes(model.SerializeToString())
    text = CliRunner().invoke(cli, ["compare", str(stripped)], env={"COLUMNS": "80"}).stdout
    heading = " ".join(text.split("\n")[:2]).strip()
    assert heading.endswith("recurrent.dynamo.onnx: 145 layers") and "rolled up" not in text
    for exporter, layers in (("dynamo", 455), ("ts", 562)):
        path = FIXTURES / f"vit_b_16.{exporter}.onnx"
        text = CliRunner().invoke(cli, ["compare", str(path)], env={"COLUMNS": "80"}).stdout
        heading = " ".join(text.split("\n")[:2])  # the path is long: the heading wraps
        assert f"vit_b_16.{exporter}.onnx: {layers} layers, 21 rows at depth 3" in heading


def test_the_terminal_table_rolls_up_to_fit_and_every_other_output_keeps_every_row(tmp_path) -> None:
    import json

    runner = CliRunner()
    fitted = runner.invoke(cli, ["compare", "resnet50"], env={"COLUMNS": "80"}).stdout
    assert fitted.startswith("resnet50: 174 layers, 22 rows at depth 2\n")
    assert "Rows rolled up to depth 2 to fit 50 rows: see every layer with --wide" in fitted
    wide = runner.invoke(cli, ["compare", "resnet50", "--wide"], env={"COLUMNS": "80"}).stdout
    assert wide.startswith("resnet50: 174 layers\n") and "rolled up" not in wide
    piped = runner.invoke(cli, ["compare", "resnet50"], env={"COLUMNS": ""}).stdout
    assert piped == wide  # a pipe with no COLUMNS: natural width, every row
    asked = runner.invoke(cli, ["compare", "resnet50", "--depth", "3"], env={"COLUMNS": "80"}).stdout
    assert asked.startswith("resnet50: 174 layers, 138 rows at depth 3\n") and "rolled up" not in asked
    for fmt, count in (
        ("csv", lambda t: len(t.splitlines()) - 1),
        ("json", lambda t: len(json.loads(t)["layers"])),
    ):
        out = runner.invoke(cli, ["compare", "resnet50", "--format", fmt], env={"COLUMNS": "80"}).stdout
        assert count(out) == 174
    markdown = runner.invoke(
        cli, ["compare", "resnet50", "--format", "markdown"], env={"COLUMNS": "80"}
    ).stdout
    assert len(markdown.splitlines()) == 2 + 174
    written = tmp_path / "t.txt"
    runner.invoke(cli, ["compare", "resnet50", "-o", str(written)], env={"COLUMNS": "80"})
    assert written.read_text().startswith("resnet50: 174 layers\n")
    import convcost

    assert len(convcost.cost("resnet50").rows) == 174  # cost() never rolls up unasked
    fit = convcost.cost("resnet50", fit_rows=50)
    assert (len(fit.rows), fit.depth, fit.fitted) == (22, 2, 50)


def test_live_bytes_follow_the_rows_shown(tmp_path) -> None:
    import csv
    import io

    every = list(
        csv.DictReader(
            io.StringIO(
                CliRunner().invoke(cli, ["compare", "mobilenet_v2", "--memory", "--format", "csv"]).stdout
            )
        )
    )
    live = {row["name"]: int(row["live_bytes"]) for row in every}
    shown = (
        CliRunner()
        .invoke(cli, ["compare", "mobilenet_v2", "--memory", "--hide-zero", "--format", "csv"])
        .stdout
    )
    for row in csv.DictReader(io.StringIO(shown)):
        assert int(row["live_bytes"]) == live[row["name"]]
    rolled = (
        CliRunner()
        .invoke(cli, ["compare", "mobilenet_v2", "--memory", "--depth", "2", "--format", "csv"])
        .stdout
    )
    for row in csv.DictReader(io.StringIO(rolled)):
        inside = [
            live[r["name"]]
            for r in every
            if r["module"] == row["module"] or r["module"].startswith(row["module"] + ".")
        ]
        assert int(row["live_bytes"]) == max(inside)
    table = CliRunner().invoke(cli, ["compare", "mobilenet_v2", "--memory", "--depth", "2", "--wide"])
    assert table.exit_code == 0 and "live B" in table.stdout


def test_hidden_rows_are_counted_in_a_note_under_the_table(tmp_path) -> None:
    spec = tmp_path / "zero.yaml"
    spec.write_text(
        "input: 8x8x4\nlayers:\n  - {name: r, type: activation}\n  - {name: p, type: pool, kernel: 2, stride: 2}\n"
    )
    empty = CliRunner().invoke(cli, ["compare", str(spec), "--hide-zero"], env={"COLUMNS": "120"}).stdout
    table, rest = empty.split("\n\nEvery spatial conv")[0].split(" total", 1)
    assert "──\n\n" in table  # no rows, then the totals
    assert (
        "All 2 rows have no MACs and no params and are hidden (--hide-zero); the totals count them." in rest
    )
    some = CliRunner().invoke(cli, ["compare", "mobilenet_v1", "--hide-zero"], env={"COLUMNS": "120"}).stdout
    assert "\n1 row with no MACs and no params hidden (--hide-zero); the totals count them.\n" in some
    assert some.index("1 row with no MACs") < some.index("Every spatial conv")  # under the table
