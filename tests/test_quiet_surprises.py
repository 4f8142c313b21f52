"""Small surprises that used to pass quietly: an --in of another rank re-dimensioned a whole
network, and an empty spec or output name was read as the current folder."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import convcost
from convcost.cli import cli
from convcost.core.errors import ConvCostError


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize(("given", "dims"), [("3x224x224x1", "3 spatial dims"), ("224x224", "1 spatial dim")])
def test_an_input_of_another_rank_than_the_specs_is_refused(given, dims) -> None:
    result = run("compare", "resnet50", "--in", given)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Error: --in: {given} has {dims}, but the spec's input 224x224x3 has 2; "
        "give 2 and the channels, as 224x224x3 does"
    ]
    with pytest.raises(ConvCostError, match=f"^in: {given} has {dims}, but the spec's input 224x224x3"):
        convcost.cost("resnet50", input_shape=given)


def test_the_same_rank_or_a_spec_without_an_input_takes_any_in() -> None:
    assert run("compare", "resnet50", "--in", "160x160x3", "--json").exit_code == 0
    assert run("compare", "resnet50", "--in", "1x3x160x160", "--channels-first", "--json").exit_code == 0
    result = run("compare", "seed_layer", "--in", "28x28")  # a what-if list: no input of its own
    assert result.exit_code == 0 and "1-D input: length 28, 28 channels" in result.stdout


@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_spec_name_says_so(name) -> None:
    result = run("compare", name)
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: SPEC: '") and line.endswith(
        "' names no file; give a spec file, a shipped spec's name (convcost models lists them) or '-' for stdin"
    )
    with pytest.raises(OSError, match="names no file; give a spec file") as error:
        convcost.cost(name)
    assert "folder" not in str(error.value)


@pytest.mark.parametrize(
    "args",
    [
        ["compare", "resnet18"],
        ["layer", "--in", "28x28x8", "--out", "16", "-k", "3"],
        ["sweep", "--in", "28x28x8", "--out", "16,32", "-k", "3"],
        ["models"],
        ["plot", "compare", "resnet18"],
    ],
)
def test_an_empty_output_name_says_so(args) -> None:
    result = run(*args, "-o", "")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: -o/--output: cannot write '': names no file; give a file name, or '-' for stdout"
    ]
