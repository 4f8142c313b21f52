"""The network's pictures read back: the per-module chart, the largest layers, the labelled
roofline and its table hold the numbers ``--json`` gives, and their text is readable (at
least 10 px, nothing overlapping)."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from convcost import api
from convcost.cli import cli
from convcost.output import chart_data, charts

A100 = ["--device", "a100", "--dtype", "fp16"]
SVG = "{http://www.w3.org/2000/svg}"


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def charts_of(page: str) -> dict[str, ET.Element]:
    """Each chart's inline SVG, parsed, by the name of its ``chart-`` div."""
    found = {}
    for name, svg in re.findall(r'<div class="chart" id="chart-(\w+)">(<svg.*?</svg>)\s*</div>', page, re.S):
        found[name] = ET.fromstring(svg)
    return found


def hovered(svg: ET.Element) -> list[dict[str, str]]:
    """Every element with a hover title: its data attributes, and the title as ``title``."""
    items = []
    for g in svg.iter(f"{SVG}g"):
        title = g.find(f"{SVG}title")
        if title is not None:
            data = {key[5:]: value for key, value in g.attrib.items() if key.startswith("data-")}
            items.append({**data, "title": title.text or "", "id": g.attrib["id"]})
    return items


class Tables(HTMLParser):
    """The page's tables, each a list of rows of cell texts, after the heading that names them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self._heading: list[str] | None = None
        self._last = ""
        self._cell: list[str] | None = None
        self._rows: list[list[str]] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h2":
            self._heading = []
        elif tag == "table":
            self._rows = self.tables.setdefault(self._last, [])
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._heading is not None:
            self._last, self._heading = "".join(self._heading), None
        elif tag in ("td", "th") and self._cell is not None and self._rows is not None:
            self._rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._rows = None

    def handle_data(self, data: str) -> None:
        for target in (self._heading, self._cell):
            if target is not None:
                target.append(data)


@pytest.fixture(scope="module")
def pages(matplotlib) -> dict[str, tuple[str, dict]]:
    """The ResNet-50 and ViT-B/16 pages and their JSON, made once."""
    made = {}
    for name in ("resnet50", "vit_b_16"):
        made[name] = (
            run("compare", name, *A100, "--format", "html"),
            json.loads(run("compare", name, *A100, "--json")),
        )
    return made


# ------------------------------------------------------------------ the per-module chart


@pytest.mark.parametrize(("name", "depth", "modules"), [("resnet50", 2, 22), ("vit_b_16", 3, 21)])
def test_the_page_charts_modules_at_a_depth_that_fits_and_its_bars_are_the_json_at_that_depth(
    pages, name, depth, modules
) -> None:
    page, _ = pages[name]
    chart = charts_of(page)["modules"]
    segments = [item for item in hovered(chart) if item["id"].startswith("modules-count-")]
    params = [item for item in hovered(chart) if item["id"].startswith("modules-params-")]
    rolled = json.loads(run("compare", name, *A100, "--depth", str(depth), "--json"))["layers"]
    assert len(rolled) == modules
    expected = {
        row["name"]: (row["macs"], row["params"], row["bytes"])
        for row in rolled
        if row["macs"] or row["params"]
    }
    got: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in segments:
        got[item["module"]][0] += int(item["macs"])
    for item in params:
        got[item["module"]][1] += int(item["params"])
    assert {key: tuple(value) for key, value in got.items()} == {k: v[:2] for k, v in expected.items()}
    for item in segments + params:  # each segment also says its module's totals and bytes
        assert (int(item["module-count"]), int(item["module-params"]), int(item["module-bytes"])) == expected[
            item["module"]
        ]
        assert f"{int(item['module-count']):,} MACs" in item["title"] and item["module"] in item["title"]
    # the title counts the modules at that depth and the ones left out for having nothing
    zero = modules - len(expected)
    assert f"depth {depth}: {modules} modules ({zero} with no MACs and no params left out)" in "".join(
        chart.itertext()
    )


@pytest.mark.parametrize("name", ["resnet50", "vit_b_16"])
def test_the_modules_kinds_add_up_to_the_breakdown_by_kind(pages, name) -> None:
    page, data = pages[name]
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in hovered(charts_of(page)["modules"]):
        by_kind[item["kind"]][0 if item["id"].startswith("modules-count-") else 1] += int(
            item["macs"] if item["id"].startswith("modules-count-") else item["params"]
        )
    breakdown = data["breakdown"]
    merged = {"matmul": "linear", "norm": "other"}  # the chart tells these apart; the breakdown does not
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for kind, (macs, params) in by_kind.items():
        totals[merged.get(kind, kind)][0] += macs
        totals[merged.get(kind, kind)][1] += params
    assert dict(totals) == {
        k: [v["macs"], v["params"]] for k, v in breakdown.items() if v["macs"] or v["params"]
    }
    if name == "vit_b_16":  # attention's matmuls are a kind of their own, with no params
        assert by_kind["matmul"][0] == sum(r["macs"] for r in data["layers"] if r["type"] == "matmul") > 0
        assert by_kind["matmul"][1] == 0


def test_depth_given_is_the_charts_depth_and_every_row_is_its_own_bar_when_few(matplotlib) -> None:
    summary = api.cost("resnet50", depth=1)
    chart = chart_data.module_chart(summary)
    assert (chart.depth, chart.chosen) == (1, False)
    assert [bar.label for bar in chart.bars] == ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"]
    assert chart.modules == len(summary.rows) == 10 and chart.zero == 3  # relu, maxpool, avgpool
    assert sum(bar.work.macs for bar in chart.bars) == summary.totals.macs
    small = api.cost("mobilenet_v1")  # 16 rows: each its own bar
    chart = chart_data.module_chart(small)
    assert chart.depth is None and chart.modules == len(small.rows)
    svg = charts.render(charts.charts_for(summary)["modules"](), "svg").decode()
    assert "MACs and params per module at depth 1 (--depth): 10 modules" in svg


# ------------------------------------------------------------------ the largest layers


@pytest.mark.parametrize("name", ["resnet50", "vit_b_16"])
def test_the_largest_layers_are_the_tables_rows_with_macs_and_the_title_counts_the_tables_rows(
    pages, name
) -> None:
    page, data = pages[name]
    chart = charts_of(page)["layers"]
    bars = [item for item in hovered(chart) if item["id"].startswith("layers-count-")]
    by_name = {row["name"]: row for row in data["layers"]}
    with_macs = [row for row in data["layers"] if row["macs"]]
    assert all(int(item["macs"]) > 0 for item in bars)  # zero rows are never "largest"
    for item in bars:
        row = by_name[item["name"]]
        assert (int(item["macs"]), int(item["params"]), int(item["bytes"])) == (
            row["macs"], row["params"], row["bytes"]
        )  # fmt: skip
    smallest_kept = min(int(item["macs"]) for item in bars)
    assert all(
        row["macs"] <= smallest_kept for row in with_macs if row["name"] not in {i["name"] for i in bars}
    )
    table_rows = len(data["layers"])  # the page's table: a row per layer (its own test reads it)
    text = " ".join(chart.itertext())
    if len(with_macs) > chart_data.MAX_BARS:
        assert f"the {chart_data.MAX_BARS} largest of {table_rows} layers" in text
    else:
        assert f"the {len(with_macs)} of {table_rows} layers with any MACs" in text
    assert f"({table_rows - len(with_macs)} with no MACs left out)" in text


def test_a_big_network_charts_its_largest_layers_and_says_of_how_many(matplotlib) -> None:
    layers = [{"name": f"c{i}", "out": 8 + i % 50, "kernel": 3, "padding": "same"} for i in range(2_000)]
    layers.insert(7, {"name": "flat", "type": "activation"})  # a zero row: never among the largest
    summary = api.cost({"input": "16x16x8", "layers": layers})
    figure = charts.layer_bars(summary)
    bars, params = figure.axes[0], figure.axes[1]
    assert len(bars.patches) == len(params.patches) == chart_data.MAX_BARS
    assert "the 60 largest of 2,001 layers (1 with no MACs left out)" in figure.get_suptitle()
    heights = sorted((p.get_width() for p in bars.patches), reverse=True)
    assert heights[-1] >= sorted((row.work.headline for row in summary.rows), reverse=True)[59]


# ------------------------------------------------------------------ the roofline


@pytest.mark.parametrize("name", ["resnet50", "vit_b_16"])
def test_the_roofline_labels_the_longest_memory_bound_rows_and_lists_them_as_the_json_has_them(
    pages, name
) -> None:
    from convcost.output.views import time_text

    page, data = pages[name]
    layers = data["layers"]
    points = hovered(charts_of(page)["roofline"])
    plotted = [row for row in layers if row["arithmetic_intensity"] and row.get("time_s")]
    assert [p["name"] for p in points] == [row["name"] for row in plotted]  # every row with FLOPs
    for p, row in zip(points, plotted, strict=True):
        assert (int(p["flops"]), int(p["bytes"]), float(p["time-s"]), p["bound"]) == (
            row["flops"], row["bytes"], row["time_s"], row["bound"]
        )  # fmt: skip
    (table,) = [
        rows for title, rows in Tables(page).tables.items() if title.startswith("The roofline's labels")
    ]
    header, rows = table[0], table[1:]
    assert header == ["#", "layer", "module", "alike", "MACs", "bytes", "FLOP/B", "time ≥", "bound"]
    by_name = {row["name"]: row for row in layers}
    numbered = sorted((p for p in points if p["label"] != "0"), key=lambda p: int(p["label"]))
    for number, (cells, point) in enumerate(zip(rows, numbered, strict=True), 1):
        row = by_name[cells[1]]
        assert cells[0] == str(number) and point["name"] == cells[1]
        assert cells[2:] == [
            row["module"],
            cells[3],
            f"{row['macs']:,}",
            f"{row['bytes']:,}",
            f"{row['arithmetic_intensity']:.1f}",
            time_text(row["time_s"]),
            row["bound"],
        ]
    # the labels, found again from the JSON: rows at one point are one label (the first row's,
    # "alike" counts them); the memory-bound points that take longest, then the compute-bound
    at: dict[tuple, list[dict]] = defaultdict(list)
    for row in plotted:
        at[(row["macs"], row["flops"], row["bytes"], row["time_s"])].append(row)
    expected = []
    for bound, count in (("memory", chart_data.LABELLED_MEMORY), ("compute", chart_data.LABELLED_COMPUTE)):
        groups = [group for group in at.values() if group[0]["bound"] == bound]
        groups.sort(key=lambda group: -group[0]["time_s"])  # stable: ties in network order
        expected += groups[:count]
    expected.sort(key=lambda group: -group[0]["time_s"])
    assert [(cells[1], cells[3]) for cells in rows] == [
        (group[0]["name"], f"×{len(group)}" if len(group) > 1 else "") for group in expected
    ]
    assert any(cells[8] == "memory" for cells in rows)
    off = [
        row["time_s"] for row in layers if row.get("time_s") is not None and not row["arithmetic_intensity"]
    ]
    total = sum(row["time_s"] for row in layers if row.get("time_s") is not None)
    assert (
        f"Not on the roofline: {len(off):,} rows at 0 FLOP/B (reshapes, norms, activations, merges…), "
        f"{time_text(sum(off))} of the {time_text(total)} in all."
    ) in html.unescape(page)
    text = "".join(charts_of(page)["roofline"].itertext())
    assert all(f"{cells[0]}  " in text for cells in rows)  # each number is drawn beside its point


def test_rows_at_one_point_share_a_label_and_the_table_counts_them() -> None:
    summary = api.cost("vit_b_16", device="a100", dtype="fp16")
    points = chart_data.labelled(chart_data.roof_points(summary))
    first = points[0]
    assert first.row.name == "encoder.1.mlp.fc1" and first.alike == 12  # one per encoder layer
    names = [p.row.name for p in points]
    assert len(set(names)) == len(names) and not any(n.startswith("encoder.2.mlp.fc1") for n in names)


def test_names_in_hover_titles_and_data_are_escaped_and_the_svg_parses(matplotlib) -> None:
    name = 'a<b>&"c$x$\u0007'
    spec = {
        "input": "16x16x8",
        "layers": [{"name": name, "out": 8, "kernel": 3}, {"name": "d'e", "out": 8, "kernel": 3}],
    }
    summary = api.cost(spec, device="a100")
    for chart, draw in charts.charts_for(summary).items():
        svg = ET.fromstring(charts.render(draw(), "svg"))
        items = hovered(svg)
        assert items, chart
        if chart == "kinds":
            continue
        named = [item for item in items if item.get("name", item.get("module")) == 'a<b>&"c$x$\\x07']
        assert named and all(item["title"].startswith('a<b>&"c$x$\\x07') for item in named), chart


# ------------------------------------------------------------------ readable


def _font_sizes(svg: ET.Element) -> list[float]:
    """Every text's font size, in the SVG's units (a text of several pieces, mathtext's ``10⁻¹``,
    has them on its pieces)."""
    sizes = []
    for text in svg.iter(f"{SVG}text"):
        for piece in [text, *text.iter(f"{SVG}tspan")]:
            found = re.search(r"font(?:-size)?:\s*(?:\w+\s+)*?([\d.]+)px", piece.attrib.get("style", ""))
            if found:
                sizes.append(float(found.group(1)))
        assert sizes, ET.tostring(text)[:200]
    return sizes


@pytest.mark.parametrize("name", ["resnet50", "vit_b_16"])
def test_every_chart_label_is_at_least_10_px_at_the_size_the_page_shows_it(pages, name) -> None:
    page, _ = pages[name]
    found = charts_of(page)
    assert set(found) == {"modules", "layers", "kinds", "roofline"}
    for chart, svg in found.items():
        width = float(svg.attrib["width"].removesuffix("pt"))
        view = [float(v) for v in svg.attrib["viewBox"].split()]
        px = 4 / 3 * width / view[2]  # the page shows a chart at its own width: 1 pt = 4/3 px
        assert width * 4 / 3 <= 1200, chart  # so a window 1280 px wide shows it unscaled
        sizes = _font_sizes(svg)
        assert sizes and min(sizes) * px >= 12 - 1e-6, (chart, min(sizes))  # 9 pt: 10 px is the least asked
    assert ".chart svg { max-width: 100%; height: auto; }" in page  # never shrunk below its size but to fit


def test_every_page_with_charts_has_them_at_12_px_and_more(matplotlib) -> None:
    pages = [
        ["layer", "--in", "56x56x64", "--out", "64", "-k", "3", "--padding", "1", *A100],
        ["sweep", "--in", "28x28x8", "--out", "16..1024*2", "-k", "3"],
        ["compare", "mobilenet_v2", "--memory", "--device", "h100"],
        ["compare", "resnet50", "--depth", "1", *A100],
    ]
    for args in pages:
        found = charts_of(run(*args, "--format", "html"))
        assert found, args
        for chart, svg in found.items():
            px = (
                4
                / 3
                * float(svg.attrib["width"].removesuffix("pt"))
                / float(svg.attrib["viewBox"].split()[2])
            )
            assert min(_font_sizes(svg)) * px >= 12 - 1e-6, (args, chart)


def test_the_kinds_bars_say_their_counts(pages) -> None:
    page, data = pages["resnet50"]
    bars = hovered(charts_of(page)["kinds"])
    assert {b["kind"]: (int(b["count"]), int(b["params"])) for b in bars} == {
        kind: (v["macs"], v["params"]) for kind, v in data["breakdown"].items() if v["macs"]
    }
    assert all(f"{int(b['count']):,} MACs" in b["title"] for b in bars)


def _overlaps(figure) -> list[tuple[str, str]]:
    """Pairs of the figure's drawn texts whose boxes overlap, and texts outside the figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    ticks, drawn = set(), []
    for axes in figure.axes:
        for axis, (low, high) in ((axes.xaxis, axes.get_xlim()), (axes.yaxis, axes.get_ylim())):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks.update((id(tick.label1), id(tick.label2)))
                if min(low, high) <= tick.get_loc() <= max(low, high):  # drawn: inside the view
                    drawn += [label for label in (tick.label1, tick.label2) if label.get_visible()]
    drawn += [t for t in figure.findobj(Text) if id(t) not in ticks and t.get_visible()]
    # an annotation's own extent holds its line too: the text's is Text's
    boxes = [(t.get_text(), Text.get_window_extent(t, renderer)) for t in drawn if t.get_text().strip()]
    page = figure.bbox.padded(1)
    found = [
        (text, "outside the figure")
        for text, box in boxes
        if not (page.contains(box.x0, box.y0) and page.contains(box.x1, box.y1))
    ]
    for i, (a, box) in enumerate(boxes):
        for b, other in boxes[i + 1 :]:
            both = box.intersection(box, other)
            if both is not None and both.width > 1 and both.height > 1:
                found.append((a, b))
    return found


@pytest.mark.parametrize(
    "args",
    [
        ("resnet50", {"device": "a100", "dtype": "fp16"}),
        ("vit_b_16", {"device": "a100", "dtype": "fp16"}),
        ("mobilenet_v2", {"device": "h100"}),
        ("resnet50", {"depth": 1, "device": "a100"}),
    ],
    ids=lambda a: f"{a[0]}-{'-'.join(f'{k}{v}' for k, v in a[1].items())}",
)
def test_no_two_labels_of_a_network_chart_overlap(matplotlib, args) -> None:
    name, options = args
    summary = api.cost(name, **options)
    for chart, draw in charts.charts_for(summary).items():
        assert _overlaps(draw()) == [], chart


def test_no_two_labels_of_a_layer_roofline_or_a_sweep_overlap(matplotlib) -> None:
    layer = api.cost_layer("56x56x64", 64, 3, padding=1, device="a100", dtype="fp16")
    assert _overlaps(charts.charts_for(layer)["roofline"]()) == []
    sweep = api.cost_sweep({"in": "28x28x8", "out": "16..1024*2", "kernel": "3"}, {})
    assert _overlaps(charts.charts_for(sweep)["saving"]()) == []


# ------------------------------------------------------------------ nothing to draw

NOTHING = {
    "all rows without MACs or params": "input: 16x16x8\nlayers:\n"
    "  - {name: p, type: pool, kernel: 2}\n  - {name: r, type: relu}\n",
    "no layers": "input: 8x8x3\nlayers: []\n",
}


@pytest.mark.parametrize("spec", NOTHING.values(), ids=list(NOTHING))
def test_a_network_with_nothing_to_count_draws_no_empty_bars(matplotlib, tmp_path, spec) -> None:
    """Bars of nothing drew empty axes reading 200m…1 (thousandths of a MAC) or −40m…40m: the
    page leaves those charts out, and plot says in one line why it draws none."""
    path = tmp_path / "nothing.yaml"
    path.write_text(spec, encoding="utf-8")
    page = run("compare", str(path), "--format", "html")
    assert not {"modules", "layers", "kinds"} & set(charts_of(page))
    for chart in ("modules", "layers", "kinds", None):
        asked = ["--chart", chart] if chart else []
        result = CliRunner().invoke(
            cli, ["plot", "compare", str(path), *asked, "-o", str(tmp_path / "c.svg")]
        )
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: --chart: ")
        assert "no MACs and no params" in result.stderr
        assert not (tmp_path / "c.svg").exists()
