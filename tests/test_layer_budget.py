"""``compare --max-layers``: the layer budget a run allows, raised or lowered knowingly."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from convcost.cli import cli
from convcost.core import limits
from convcost.core.errors import ConvCostError
from convcost.core.options import max_layers
from convcost.model.evaluate import evaluate
from convcost.model.spec_check import SpecErrors


def _chain(layers: int) -> str:
    rows = "".join(f"  - {{name: c{i}, out: {8 + i}, kernel: 1}}\n" for i in range(layers))
    return f"input: 8x8x8\nlayers:\n{rows}"


def _compare(spec: str, *flags: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["compare", "-", "--json", *flags], input=spec)


def test_the_budget_bounds_the_layers_costed_and_names_the_flag_that_raises_it() -> None:
    spec = _chain(12)
    refused = _compare(spec, "--max-layers", "11")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert "more than 11 layers" in refused.stderr and "--max-layers" in refused.stderr
    allowed = _compare(spec, "--max-layers", "12")
    assert allowed.exit_code == 0, allowed.stderr
    assert allowed.stdout == _compare(spec).stdout  # the budget never changes a result


def test_the_budget_scales_the_values_a_spec_may_hold() -> None:
    with limits.allowing(40):  # below the default: in proportion, 12.5 values a layer
        assert (limits.MAX_SPEC_VALUES, limits.MAX_EXPANDED_VALUES) == (500, 4_000)
        assert limits.MAX_GRAPH_NODES == limits.MAX_COSTED_LAYERS == 40
        assert limits.MAX_LAYERS == 200_000  # rows listed are never lowered
    with limits.allowing(100_000):  # past it: 25 values and 100 expanded a layer more
        assert (limits.MAX_SPEC_VALUES, limits.MAX_EXPANDED_VALUES) == (2_250_000, 10_000_000)
        assert limits.MAX_LAYERS == 200_000
    with limits.allowing(limits.DEFAULT_MAX_LAYERS):
        assert (limits.MAX_SPEC_VALUES, limits.MAX_EXPANDED_VALUES) == (250_000, 2_000_000)
    assert (limits.MAX_GRAPH_NODES, limits.MAX_COSTED_LAYERS, limits.MAX_SPEC_VALUES) == (
        20_000,
        20_000,
        250_000,
    )
    assert limits.MAX_EXPANDED_VALUES == 2_000_000
    refused = _compare(_chain(80), "--max-layers", "40")  # 7 values a layer
    assert refused.exit_code == 2 and "more than 500 values" in refused.stderr


def test_past_the_default_a_generated_network_is_costed_when_the_user_allows_it() -> None:
    layers = limits.DEFAULT_MAX_LAYERS + 1
    document = {"input": "4x4x1", "layers": [{"name": f"c{i}", "type": "activation"} for i in range(layers)]}
    with pytest.raises(SpecErrors, match="more than 20,000 layers"):
        evaluate(document)
    with limits.allowing(layers):
        assert len(evaluate(document).rows) == layers
    with pytest.raises(SpecErrors):  # the default is back after the block
        evaluate(document)


@pytest.mark.parametrize(
    ("given", "problem"),
    [("0", "positive integer"), ("-3", "positive integer"), ("300001", "at most 300,000"), ("1e5", "")],
)
def test_a_bad_budget_is_one_line_naming_the_flag(given: str, problem: str) -> None:
    result = _compare(_chain(2), "--max-layers", given)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: --max-layers: ") and problem in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_core_reads_the_budget_like_the_flag() -> None:
    assert max_layers(None) == limits.DEFAULT_MAX_LAYERS == 20_000
    assert max_layers("50000") == max_layers(50_000) == 50_000
    with pytest.raises(ConvCostError, match="max_layers"):
        max_layers(True)


def test_plot_compare_takes_the_budget_as_compare_does(tmp_path, matplotlib) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "chain.yaml"
    spec.write_text(_chain(12))
    chart = str(tmp_path / "chart.svg")
    runner = CliRunner()
    refused = runner.invoke(cli, ["plot", "compare", str(spec), "--max-layers", "11", "-o", chart])
    assert refused.exit_code == 2 and "more than 11 layers" in refused.stderr
    bad = runner.invoke(cli, ["plot", "compare", str(spec), "--max-layers", "abc", "-o", chart])
    assert bad.exit_code == 2 and bad.stderr.startswith("Error: --max-layers: ")
    drawn = runner.invoke(cli, ["plot", "compare", str(spec), "--max-layers", "12", "-o", chart])
    assert drawn.exit_code == 0, drawn.stderr
    assert (tmp_path / "chart.svg").read_text().lstrip().startswith("<?xml")
