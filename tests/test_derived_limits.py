"""Limits hold for worked-out shapes as for written ones (issue 20).

A size the user may not write (more than 30 digits, as ``--in 1x1x<2^400>``) may not be
reached by concatenating, padding, upsampling or transposing either: the layer that first
makes it is refused, named by its spec path (or flag), with exit 2 and nothing on stdout.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from convcost.cli import cli
from convcost.core import limits, values
from convcost.core.conv import conv
from convcost.core.errors import ConvCostError
from convcost.model.evaluate import evaluate
from convcost.model.spec_check import SpecErrors

BIG = limits.MAX_INT  # the largest size that may be written: 30 nines


def refused(document: object) -> list[str]:
    with pytest.raises(SpecErrors) as caught:
        evaluate(document)
    return [str(error) for error in caught.value.errors]


def test_doubling_channels_by_concat_400_times_is_refused_as_the_written_size_is(tmp_path) -> None:
    doubling = tmp_path / "doubling.yaml"
    doubling.write_text(
        "input: 1x1x1\nlayers:\n  - type: repeat\n    times: 400\n"
        "    layers: [{name: cat, type: concat, inputs: [input, input]}]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["compare", str(doubling), "--json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    # copy 100 is the first whose output (2^100 channels, 31 digits) is past 30 digits
    assert "layers[0].layers[0]: concat 'repeat1.100.cat': its output" in result.stderr
    assert "channels have 31 digits; at most 30 are allowed in any size" in result.stderr
    written = CliRunner().invoke(cli, ["layer", "--in", f"1x1x{2**400}", "--out", "1", "-k", "1"])
    assert written.exit_code == 2 and "has 121 digits; at most 30 are allowed" in written.stderr


def test_a_derived_size_of_exactly_the_largest_written_one_is_allowed() -> None:
    def merged(channels: int) -> dict[str, object]:
        return {
            "input": f"1x1x{channels}",
            "layers": [
                {"name": "one", "type": "slice", "stop": 1},
                {"name": "cat", "type": "concat", "inputs": ["input", "one"]},
            ],
        }

    assert evaluate(merged(BIG - 1)).output_shape == (1, 1, BIG)
    (error,) = refused(merged(BIG))
    assert error.startswith("layers[1]: ") and "its output 1x1x1000" in error and "31 digits" in error


@pytest.mark.parametrize(
    ("layer", "what"),
    [
        ("{type: pad, pads: 0x0x400000000000000000000000000000}", "channels"),
        ("{type: upsample, scale: 1000}", "spatial dim 1"),
        ("{type: transposed, out: 4, kernel: 1, stride: 1000}", "spatial dim 1"),
        ("{out: 4, kernel: 1, padding: 400000000000000000000000000000}", "spatial dim 1"),
    ],
    ids=["pad", "upsample", "transposed", "padding"],
)
def test_every_kind_of_growth_stops_at_the_written_limit(layer: str, what: str) -> None:
    import yaml

    document = yaml.safe_load(f"input: 4x4x4\nlayers: [{{type: repeat, times: 50, layers: [{layer}]}}]\n")
    (error,) = refused(document)
    assert error.startswith("layers[0].layers[0]"), error
    assert f"{what} ha" in error and "at most 30 are allowed in any size" in error


def test_the_flags_refuse_a_transposed_output_past_the_written_limit() -> None:
    big = str(10**29)
    result = CliRunner().invoke(
        cli, ["layer", "--in", f"{big}x1", "--out", "1", "-k", "1", "--stride", big, "--transposed"]
    )
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: --in: the layer's output ") and "58 digits" in result.stderr
    with pytest.raises(ConvCostError, match="spatial dim 1 has 31 digits"):
        conv((BIG, 1), 1, 1, padding=1)
    assert conv((BIG - 2, 1), 1, 1, padding=1).output_shape == (BIG, 1)


def test_derived_shape_check_names_the_dim_and_counts_its_digits() -> None:
    values.check_derived((BIG, BIG, BIG), "its output")  # nothing past the limit: no error
    with pytest.raises(ConvCostError, match=r"its output 1x10+…x2: spatial dim 2 has 34 digits"):
        values.check_derived((1, 10**33, 2), "its output")
    with pytest.raises(ConvCostError, match=r"has 33 dims; at most 32 are allowed"):
        values.check_derived((1,) * 33, "its output")
