"""PyTorch's C×H×W habit (issue 20): a shape that looks channels-first gets a note saying how it
is read and what to give instead; ``channels_first`` reads PyTorch's order on purpose.

``layer --in 3x224x224`` used to print ``3×224×224 → 2×112×64`` with no word; ``compare resnet50
--in 3x224x224`` a tenth of the true MACs.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from convcost import conv
from convcost.cli import cli
from convcost.core.errors import ConvCostError
from convcost.core.forms import compare
from convcost.core.layout import ChannelsLast, channels_first_note, from_channels_first, looks_channels_first
from convcost.core.options import read_shape, settings
from convcost.io.builtin_specs import find
from convcost.io.spec_file import read
from convcost.model.evaluate import evaluate
from convcost.model.whatif import Options

CHW_NOTE = (
    "--in 3x224x224 is read channels-last: 3×224 positions of 224 channels; "
    "if it is PyTorch's C×H×W, give --in 224x224x3"
)


@pytest.mark.parametrize(
    ("shape", "reading"),
    [
        ((3, 224, 224), ChannelsLast((224, 224, 3), None)),
        ((1, 28, 28), ChannelsLast((28, 28, 1), None)),
        ((4, 16, 16), ChannelsLast((16, 16, 4), None)),
        ((1, 3, 224, 224), ChannelsLast((224, 224, 3), 1)),
        ((2, 64, 56, 56), ChannelsLast((56, 56, 64), 2)),
        ((1, 3, 16, 112, 112), ChannelsLast((16, 112, 112, 3), 1)),
        ((224, 224, 3), None),  # channels-last already
        ((5, 224, 224), None),  # a first dim past 4: no image has 5 channels, nor is it a usual batch
        ((3, 224, 225), None),  # the last two differ
        ((3, 3, 3), None),  # the last two not larger than the first
        ((4, 2, 2), None),
        ((3, 224), None),  # 1-D: L×C
        ((1, 1, 1), None),
    ],
)
def test_a_shape_looks_channels_first_by_the_issues_rule(shape, reading) -> None:
    assert looks_channels_first(shape) == reading
    assert (channels_first_note(shape) is None) == (reading is None)


def test_the_note_says_how_the_shape_is_read_and_what_to_give() -> None:
    assert channels_first_note((3, 224, 224)) == CHW_NOTE
    assert channels_first_note((1, 3, 224, 224), "input:") == (
        "input: 1x3x224x224 is read channels-last: 1×3×224 positions of 224 channels; "
        "if it is PyTorch's N×C×H×W, give input: 224x224x3"
    )
    assert channels_first_note((2, 3, 224, 224)) == (
        "--in 2x3x224x224 is read channels-last: 2×3×224 positions of 224 channels; "
        "if it is PyTorch's N×C×H×W, give --in 224x224x3 with a batch of 2 (--batch 2)"
    )
    assert channels_first_note((1, 3, 8, 32, 32)).endswith("PyTorch's N×C×D×H×W, give --in 8x32x32x3")


def test_layer_keeps_its_answer_and_exit_status_and_notes_the_habit() -> None:
    args = ["layer", "--in", "3x224x224", "--out", "64", "-k", "7", "--stride", "2", "--padding", "3"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["output_shape"] == [2, 112, 64]  # read as written: the note does not change the answer
    assert data["notes"][0] == CHW_NOTE
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0 and f"Note: {CHW_NOTE}\n" in table.stdout
    assert compare(conv("224x224x3", 64, 7, stride=2, padding=3)).notes == ()  # nothing to say


def test_a_network_notes_an_input_that_looks_channels_first() -> None:
    path = find("resnet50")
    assert path is not None
    document = read(path.read_bytes())
    assert evaluate(document).notes == ()  # its own input is 224x224x3
    flagged = evaluate(document, Options(input_shape=(3, 224, 224)))
    assert flagged.notes == (CHW_NOTE,)
    assert flagged.totals.macs == 415_383_552  # the answer as read, which the note explains
    assert evaluate(document, Options(input_shape=(224, 224, 3))).totals.macs == 4_089_184_256
    written = evaluate({"input": "3x64x64", "layers": [{"out": 8, "kernel": 3}]})
    assert written.notes == (
        "input: 3x64x64 is read channels-last: 3×64 positions of 64 channels; "
        "if it is PyTorch's C×H×W, give input: 64x64x3",
    )


def test_channels_first_reads_pytorchs_order() -> None:
    assert from_channels_first("3x224x224") == ((224, 224, 3), None)
    assert from_channels_first([1, 3, 224, 224]) == ((224, 224, 3), 1)
    assert from_channels_first("16x100") == ((100, 16), None)  # C×L
    assert from_channels_first("2x3x16x112x112") == ((16, 112, 112, 3), 2)
    with pytest.raises(ConvCostError, match=r"^in: '3x0x224' is not allowed; expected spatial dims"):
        from_channels_first("3x0x224")


def test_channels_first_is_a_setting_that_reads_in_and_its_batch() -> None:
    plain = settings()
    assert read_shape("3x224x224", plain) == ((3, 224, 224), plain)  # channels-last unless asked
    first = settings(channels_first=True)
    assert first.channels_first and not plain.channels_first
    assert read_shape("3x224x224", first) == ((224, 224, 3), first)
    shape, chosen = read_shape("1x3x224x224", first)
    assert shape == (224, 224, 3) and chosen.batch == 1
    shape, chosen = read_shape("4x3x224x224", settings(channels_first=True, batch=4))
    assert shape == (224, 224, 3) and chosen.batch == 4
    shape, chosen = read_shape("4x3x224x224", first)
    assert chosen.batch == 4 and chosen._replace(batch=1) == first
    with pytest.raises(ConvCostError, match=r"in: '4x3x224x224' holds a batch of 4 .* but the batch is 2"):
        read_shape("4x3x224x224", settings(channels_first=True, batch=2))
    with pytest.raises(ConvCostError, match="channels_first: 'yes' is not allowed"):
        settings(channels_first="yes")  # type: ignore[arg-type]
    layer = conv(read_shape("3x224x224", first)[0], 64, 7, stride=2, padding=3)
    assert layer.output_shape == (112, 112, 64) and layer.macs == 118_013_952
