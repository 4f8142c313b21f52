"""Tables that fit the terminal and never cut a number or a shape; what a pipe gets; golden views."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from convcost import compare, conv
from convcost.cli import cli
from convcost.core.options import DEFAULT
from convcost.core.options import settings as make_settings
from convcost.io.builtin_specs import names
from convcost.output import emit
from convcost.output.summary import layer_summary
from convcost.output.text_table import (
    Column,
    Para,
    Table,
    cell_len,
    layout,
    render,
    shorten_middle,
    shorten_words,
)

SPECS = Path(__file__).resolve().parent.parent / "specs"
SHIPPED = names()
#: What a cut number looks like (the screen tool's test): digits, commas or points, then an ellipsis.
CUT = re.compile(r"[\d,.]+…")


def run(*args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def at(width: int, *args: str) -> str:
    """What a pipe gets with COLUMNS set: the tables fitted to ``width``."""
    return run(*args, env={"COLUMNS": str(width)})


# ------------------------------------------------------------------ shortening


def test_names_shorten_in_the_middle_and_never_look_like_a_cut_number() -> None:
    assert shorten_middle("sep7_11.3.sep", 11) == "sep7_…3.sep"
    # the cut that drops the fewest digits: they tell blocks apart (block1 from block2)
    assert shorten_middle("layer2.block1.shortcut.downsample", 20) == "layer2.block1.s…mple"
    assert shorten_middle("layer3.5.downsample.0", 16) == "layer3.5.d…ple.0"
    for width in (12, 14, 16):
        assert len({shorten_middle(f"layer3.{i}.downsample.0", width) for i in range(6)}) == 6
    assert shorten_middle("short", 10) == "short"
    for name in ("conv12345", "1234567890", "a.1.2.3.4.5", "x,1,000,000"):
        for width in range(2, len(name)):
            short = shorten_middle(name, width)
            assert cell_len(short) <= width and "…" in short
            assert not CUT.search(short), (name, width, short)


@given(st.text(st.sampled_from("ab_.1234567890×"), min_size=1, max_size=40), st.integers(1, 40))
@settings(max_examples=300, deadline=None)
def test_shortening_fits_and_keeps_the_ends(text, width) -> None:
    short = shorten_middle(text, width)
    assert cell_len(short) <= max(width, 1)
    if cell_len(text) <= width:
        assert short == text
    else:
        head, _, tail = short.partition("…")
        assert text.startswith(head) and text.endswith(tail)


def test_prose_shortens_at_a_word_and_a_number_stays_whole() -> None:
    assert shorten_words('Howard et al. 2017, "MobileNets"', 24) == "Howard et al. 2017 …"
    assert shorten_words("a long title of a paper", 13) == "a long title…"
    assert not CUT.search(shorten_words("see e.g. the figure", 10))


def test_wide_characters_take_two_columns() -> None:
    assert cell_len("层名") == 4 and cell_len("abc") == 3 and cell_len("e\u0301") == 1
    table = Table([Column("name", ["层名层名层名", "a"]), Column("MACs", ["1,000", "2"], "right")])
    lines = render([table], None).splitlines()
    assert len({cell_len(line) for line in lines[1:4] if line}) == 1  # header, rule, first row align


# ------------------------------------------------------------------ layout


def _table() -> Table:
    return Table(
        [
            Column("layer", ["conv1", "a_rather_long_layer_name.block.7"], shrink="middle"),
            Column("type", ["conv 3×3 /2", "separable 3×3"], drop=3),
            Column(
                "in → out",
                ["224×224×3 → 112×112×32", "14×14×512 → 14×14×512"],
                drop=2,
                what="input shapes",
                narrow=Column("output", ["112×112×32", "14×14×512"], drop=1, what="output shapes"),
            ),
            Column("MACs", ["10,838,016", "52,283,392"], "right", footer="63,121,408"),
        ]
    )


def test_columns_give_way_in_rank_order_and_the_note_says_which() -> None:
    natural = render([_table()], None)
    assert "type" in natural and "in → out" in natural and "Left out" not in natural
    text = render([_table()], 70)
    header = text.splitlines()[1]
    assert "type" not in header and "in → out" in header
    assert "Left out to fit 70 columns: type. See them with --wide" in " ".join(text.split())
    text = render([_table()], 60)
    assert "output" in text and "in → out" not in text and "type, input shapes" in text
    assert "a_rather_long_layer_name.block.7" in text  # names stay whole while a column can go
    plan = layout(_table(), 30)
    assert [c.label for c in plan.columns] == ["layer", "MACs"]
    assert "a_rather….block.7" in render([_table()], 30)


def test_below_every_narrowing_rows_become_label_value_blocks() -> None:
    text = render([_table()], 12)
    lines = text.splitlines()
    assert "conv1" in lines and "a_rat…lock.7" in lines
    assert any(line.split() == ["52,283,392"] for line in lines)  # under its label: it is too wide beside it
    assert all(cell_len(line) <= 12 or " " not in line.strip() for line in lines)  # or one whole shape
    assert not CUT.search(text)
    for number in ("10,838,016", "52,283,392", "63,121,408", "224×224×3", "112×112×32"):
        assert number in text


@pytest.mark.parametrize("width", [20, 24, 33, 40, 57, 64, 80, 99, 120, 200])
def test_no_number_or_shape_is_ever_cut_at_any_width(width) -> None:
    layer = conv("56x56x64", 128, 3, stride=2, padding="same", groups=4, bias=True)
    summary = layer_summary(compare(layer), make_settings(device="a100", dtype="fp16"))
    text = render(emit.blocks(summary), width)
    assert not CUT.search(text), width
    for number in ("57,802,752", "6,874,112", "0.1189", "137/1152"):  # columns that never give way
        assert number in text, (width, number)


@pytest.mark.parametrize("width", [20, 25, 30, 40, 60])
@pytest.mark.parametrize(
    "args",
    [
        ["compare", "resnet18", "--device", "a100"],
        ["layer", "--in", "56x56x64", "--out", "128", "-k", "3", "--groups", "4", "--device", "h100"],
        ["sweep", "--in", "28x28x8", "--out", "16..1024*2", "-k", "3"],
        ["models"],
    ],
    ids=lambda a: a[0],
)
def test_even_a_narrow_terminal_gets_every_number_whole_within_its_width(args, width) -> None:
    text = at(width, *args)
    assert not CUT.search(text), CUT.findall(text)[:3]
    assert max(cell_len(line) for line in text.splitlines()) <= width
    data = json.loads(run(*args, "--json"))
    total = data.get("totals", {}).get("macs") or data.get("macs")
    if total:
        assert f"{total:,}" in text


def test_prose_wraps_at_words_on_a_terminal_and_stays_one_line_in_a_pipe() -> None:
    para = Para("depthwise-separable: 5.76× fewer MACs, 1.54× more bytes; arithmetic intensity 21 → 2 FLOP/B")
    assert render([para], None).count("\n") == 1
    lines = render([para], 40).splitlines()
    assert all(cell_len(line) <= 40 for line in lines) and " ".join(lines) == para.text


# ------------------------------------------------------------------ the shipped specs


def _numbers_whole(text: str, data: dict) -> None:
    lines = text.splitlines()
    rows = data["layers"]
    table = [line for line in lines if line.startswith(" ") and "──" not in line]
    for row in rows:
        found = [line for line in table if f" {row['macs']:,}" in line and f" {row['params']:,}" in line]
        assert found, row["name"]
    total = next(line for line in lines if line.startswith(" total"))
    assert f"{data['totals']['macs']:,}" in total and f"{data['totals']['params']:,}" in total


@pytest.mark.parametrize("spec", SHIPPED)
@pytest.mark.parametrize("device", [False, True], ids=["", "device"])
def test_every_shipped_spec_fits_80_columns_with_every_number_whole(spec, device) -> None:
    extra = ["--device", "a100", "--dtype", "fp16"] if device else []
    text = at(80, "compare", spec, *extra)
    chosen = re.search(r"rows at depth (\d+)", text.splitlines()[0])  # rolled up to fit 50 rows
    depth = ["--depth", chosen[1]] if chosen else []
    data = json.loads(run("compare", spec, "--json", *extra, *depth))
    assert len(data["layers"]) <= 50 or not chosen
    assert not CUT.search(text), CUT.findall(text)[:3]
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    _numbers_whole(text, data)
    lines = text.splitlines()
    header = lines[next(i for i, line in enumerate(lines) if "───" in line) - 1]
    assert "in → out" in header or " output " in header  # shapes outlive names
    for form in data["variants"].values():
        assert f"{form['macs']:,}" in text and f"{form['params']:,}" in text
    if device:
        assert "time ≥" in text


@pytest.mark.parametrize(
    "args",
    [
        ["layer", "--in", "28x28x8", "--out", "16", "-k", "3"],
        ["layer", "--in", "56x56x64", "--out", "64", "-k", "3", "--padding", "1", "--device", "a100"],
        ["sweep", "--in", "28x28x8,56x56x16", "--out", "16..1024*2", "-k", "3,5"],
        ["devices"],
        ["models"],
        ["schema", "--format", "table"],
        ["schema", "output", "--format", "table"],
    ],
    ids=lambda a: " ".join(a)[:30],
)
def test_every_command_fits_80_columns(args) -> None:
    text = at(80, *args)
    assert not CUT.search(text), CUT.findall(text)[:3]
    assert max(cell_len(line) for line in text.splitlines()) <= 80


# ------------------------------------------------------------------ pipes and terminals


def test_a_pipe_gets_the_natural_width_without_padding_or_ansi() -> None:
    text = run("compare", "mobilenet_v1", env={"COLUMNS": ""})
    lines = text.splitlines()
    assert all(line == line.rstrip() for line in lines)
    assert "\x1b" not in text and "Left out" not in text
    assert "RF" in text and "FLOP/B" in text and max(map(cell_len, lines)) > 100


def test_columns_is_honoured_in_a_pipe_and_wide_overrides_it() -> None:
    assert "Left out to fit 80 columns" in at(80, "compare", "mobilenet_v1")
    wide = at(80, "compare", "mobilenet_v1", "--wide")
    assert "Left out" not in wide and "RF" in wide
    assert at(80, "compare", "mobilenet_v1", "--wide") == run("compare", "mobilenet_v1", env={"COLUMNS": ""})


def test_a_file_gets_the_natural_width(tmp_path) -> None:
    out = tmp_path / "t.txt"
    at(80, "compare", "mobilenet_v1", "-o", str(out))
    assert out.read_text() == run("compare", "mobilenet_v1", env={"COLUMNS": ""})


# ------------------------------------------------------------------ golden views


GOLDEN_VIEWS = {
    "compare_mobilenet_v1": ["compare", "mobilenet_v1"],
    "compare_resnet18_a100": ["compare", "resnet18", "--device", "a100", "--dtype", "fp16"],
    "compare_resnet50_depth2": ["compare", "resnet50", "--depth", "2"],
    "compare_resnet50_hide_zero": [
        "compare",
        "resnet50",
        "--hide-zero",
    ],  # rolled up to fit, zero rows hidden
    "compare_vit_b_16": ["compare", "vit_b_16"],  # 285 layers rolled up to fit
    "layer_a100": [
        "layer",
        "--in",
        "56x56x64",
        "--out",
        "64",
        "-k",
        "3",
        "--padding",
        "1",
        "--device",
        "a100",
    ],
    "sweep_seed": ["sweep", "--in", "28x28x8", "--out", "16..1024*2", "-k", "3"],
    "devices": ["devices"],
    "models": ["models"],
}


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("name", list(GOLDEN_VIEWS))
def test_golden_views(golden, name, width) -> None:
    golden(f"{name}_{width}", at(width, *GOLDEN_VIEWS[name]))


def test_at_80_columns_shapes_outlive_names() -> None:
    """ResNet-50 at depth 2 keeps in → out at 80 columns (its golden above); a table whose names
    are long shortens them in the middle before its shapes give way."""
    table = at(80, "compare", "resnet50", "--depth", "2").split("\n\nEvery spatial conv")[0]
    lines = table.splitlines()
    assert "in → out" in lines[2] and all("→" in line for line in lines[4:26])
    long_names = at(80, "compare", "resnet50", "--depth", "4")  # layer1.0.downsample.0: 21 characters
    lines = long_names.splitlines()
    assert "in → out" in lines[2]
    assert any("…" in line.split()[0] for line in lines[4:100])
    assert "56×56×64 → 56×56×256" in long_names


# ------------------------------------------------------------------ speed (pytest -m perf only)


@pytest.mark.perf
def test_a_10000_row_table_renders_faster_than_its_json(tmp_path) -> None:
    """The table path lays out columns once and writes lines: at 10,000 rows it costs at most
    1.5× what the JSON costs to render from the same summary (both share the costing). In CPU
    seconds, best of three: it takes about 0.3× here, so a busy machine has a wide margin."""
    from convcost.model.evaluate import evaluate
    from convcost.output.summary import network_summary

    layers = [
        {"name": f"c{i}", "out": 32 + (i * 7) % 97, "kernel": 3, "padding": "same"} for i in range(10_000)
    ]
    summary = network_summary(evaluate({"input": "56x56x64", "layers": layers}), "big", DEFAULT)

    def best(fmt: str) -> float:
        times = []
        for _ in range(3):
            start = time.process_time()
            emit.text(summary, fmt, emit.RenderOptions(title="big"))  # type: ignore[arg-type]
            times.append(time.process_time() - start)
        return min(times)

    table, as_json = best("table"), best("json")
    assert table <= 1.5 * as_json, (table, as_json)


@pytest.mark.parametrize(
    ("text", "width", "shown"),
    [
        ("stage2.1 (4 layers, 2 calls)", 16, "stage2.1 (…)"),
        ("stage2.0 (2 layers)", 16, "stage2.0 (…)"),
        ("features.10 (add)", 16, "featu…s.10 (add)"),
        ("encoder (add)", 13, "encoder (add)"),
        ("a_very_long_stage_name.10 (4 layers, 2 calls)", 30, None),
    ],
)
def test_a_names_bracketed_note_is_whole_or_stands_as_an_ellipsis(text, width, shown) -> None:
    """A roll-up row's note says what it is; cut in the middle, ``stage2.1 (4 …2 calls)`` read as
    a range of numbers and ``stage2.0 (2 …rs)`` as nothing at all."""
    short = shorten_middle(text, width)
    assert cell_len(short) <= width
    note = re.fullmatch(r"(.*) (\([^()]*\))", short)
    assert note and (note[2] == "(…)" or note[2] in text), short
    if shown is not None:
        assert short == shown


def test_roll_up_names_at_80_columns_keep_their_notes_whole() -> None:
    text = run("compare", "shufflenet_v2_x1_0", "--device", "a100", env={"COLUMNS": "80"})
    rows = [line for line in text.splitlines() if line.startswith(" stage")]
    assert any(row.startswith(" stage2.1 (…) ") for row in rows), rows
    assert not [row for row in rows if re.search(r"\([^()]*[^(]…[^()]*\)", row)]


def test_a_stacked_sweep_row_says_which_value_it_is() -> None:
    """Too narrow for the table, each point is a block headed by its swept value: a bare ``2``
    over ``output …`` read as a point's number, not 2 groups."""
    text = run("sweep", "--in", "28x28x64", "--out", "64", "-k", "3", "--groups", "1..64*2", "--device", "a100",
               env={"COLUMNS": "60"})  # fmt: skip
    heads = [line for line in text.splitlines() if line and not line.startswith(" ") and line[0].isalnum()]
    assert [h for h in heads if h.startswith("groups ")] == [f"groups {g}" for g in (1, 2, 4, 8, 16, 32, 64)]
    assert not [h for h in heads if h.isdigit()]
