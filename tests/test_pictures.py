"""Pictures: the self-contained HTML page, and `convcost plot` to SVG and PNG."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from convcost.cli import cli
from tests.conftest import optional_module

SEED = ["--in", "28x28x8", "--out", "16", "-k", "3"]
A100 = ["--device", "a100", "--dtype", "fp16"]


def run(*args: str):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result


class Page(HTMLParser):
    """What the tests read from a page: tables (rows of cell texts), SVG ids, links and sources."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.svgs = 0
        self.charts: list[str] = []
        self.links: list[str] = []
        self.scripts = 0
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for key, value in attrs:
            if key in ("src", "href", "xlink:href") and value:
                self.links.append(value)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "svg":
            self.svgs += 1
        elif tag == "script" or tag == "link":
            self.scripts += 1
        if tag == "div" and (found.get("id") or "").startswith("chart-"):
            self.charts.append(str(found["id"])[len("chart-") :])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _offline(page: Page, text: str) -> None:
    """Nothing is loaded from anywhere: no script, no stylesheet link, no http(s) source or link."""
    assert page.scripts == 0
    assert not [link for link in page.links if not link.startswith("#")], page.links[:5]
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text)
    assert "@import" not in text and not re.search(r"""url\(\s*['"]?(?!#)""", text)  # url(#clip) only


def _column(table: list[list[str]], label: str) -> list[str]:
    header = table[0]
    index = header.index(label)
    return [row[index] for row in table[1:]]


def test_the_compare_page_has_the_tables_the_charts_and_the_json_numbers(matplotlib) -> None:
    args = ["compare", "mobilenet_v1", *A100]
    text = run(*args, "--format", "html").stdout
    data = json.loads(run(*args, "--json").stdout)
    page = Page(text)
    _offline(page, text)
    # the modules first, the picture of the whole; mobilenet_v1's 16 layers are each a bar of it,
    # so no chart of the largest layers repeats them
    assert text.startswith("<!DOCTYPE html>") and page.svgs == 3
    assert page.charts == ["modules", "kinds", "roofline"]
    layers = page.tables[0]
    names = _column(layers, "layer")
    assert names[:-1] == [row["name"] for row in data["layers"]] and names[-1] == "total"
    macs = _column(layers, "MACs")
    assert macs[:-1] == [f"{row['macs']:,}" for row in data["layers"]]
    assert macs[-1] == f"{data['totals']['macs']:,}"
    assert _column(layers, "params")[-1] == f"{data['totals']['params']:,}"
    assert "224×224×3 → 112×112×32" in _column(layers, "in → out")  # shapes one way, every column shown
    forms = page.tables[1]
    assert _column(forms, "MACs") == [f"{data['variants'][f]['macs']:,}" for f in data["variants"]]


def test_the_layer_page_has_its_variants_steps_and_roofline(matplotlib) -> None:
    args = ["layer", "--in", "56x56x64", "--out", "64", "-k", "3", "--padding", "1", *A100]
    text = run(*args, "--format", "html").stdout
    data = json.loads(run(*args, "--json").stdout)
    page = Page(text)
    _offline(page, text)
    assert page.charts == ["roofline"] and page.svgs == 1
    variants = page.tables[0]
    dws = data["variants"]["depthwise_separable"]
    assert _column(variants, "MACs") == [
        f"{data['variants']['regular']['macs']:,}",
        f"{dws['macs']:,}",
        f"{dws['parts']['depthwise']['macs']:,}",
        f"{dws['parts']['pointwise']['macs']:,}",
    ]
    assert _column(variants, "variant") == ["regular", "depthwise-separable", "depthwise", "pointwise"]
    assert _column(page.tables[1], "bound") == ["compute", "memory", "memory", "memory"]


def test_the_sweep_page_has_the_saving_curve(matplotlib) -> None:
    args = ["sweep", "--in", "28x28x8", "--out", "16..1024*2", "-k", "3"]
    text = run(*args, "--format", "html").stdout
    data = json.loads(run(*args, "--json").stdout)
    page = Page(text)
    _offline(page, text)
    assert page.charts == ["saving"]
    assert _column(page.tables[0], "MACs") == [f"{p['macs']:,}" for p in data["points"]]
    assert _column(page.tables[0], "out") == [str(v) for v in data["swept"]["out"]]


def test_without_a_device_there_is_no_roofline_and_a_layer_page_has_no_chart(matplotlib) -> None:
    page = Page(run("compare", "mobilenet_v1", "--format", "html").stdout)
    assert page.charts == ["modules", "kinds"]
    page = Page(run("compare", "resnet50", "--format", "html").stdout)
    assert page.charts == ["modules", "layers", "kinds"]  # 174 layers: modules at depth 2, then the largest
    page = Page(run("layer", *SEED, "--format", "html").stdout)
    assert page.charts == [] and page.tables


def test_without_matplotlib_the_page_has_its_tables_and_says_how_to_get_charts(monkeypatch) -> None:
    from convcost.output import charts

    monkeypatch.setattr(charts, "available", lambda: False)
    text = run("compare", "mobilenet_v1", "--format", "html").stdout
    page = Page(text)
    assert page.svgs == 0 and page.tables
    assert "pip install &#x27;convcost[plot]&#x27;" in text or "pip install 'convcost[plot]'" in text


@pytest.mark.parametrize("command", ["layer", "devices", "models", "schema", "sweep"])
def test_every_command_writes_a_page(command) -> None:
    args = {
        "layer": ["layer", *SEED],
        "sweep": ["sweep", *SEED],
        "devices": ["devices"],
        "models": ["models"],
        "schema": ["schema"],
    }[command]
    text = run(*args, "--format", "html").stdout
    page = Page(text)
    _offline(page, text)
    assert page.tables and all(len(row) == len(page.tables[0][0]) for row in page.tables[0])


def test_the_page_is_written_atomically_to_a_file(tmp_path, matplotlib) -> None:
    out = tmp_path / "page.html"
    result = run("compare", "mobilenet_v1", "--format", "html", "-o", str(out))
    assert result.stdout == "" and Page(out.read_text(encoding="utf-8")).svgs == 2
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]  # no temp file left behind


# ------------------------------------------------------------------ convcost plot


@pytest.mark.parametrize(
    ("args", "chart"),
    [
        (["compare", "mobilenet_v1"], "layers"),
        (["compare", "mobilenet_v1", "--chart", "kinds"], "kinds"),
        (["compare", "resnet18", "--chart", "roofline", *A100], "roofline"),
        (["layer", "--in", "56x56x64", "--out", "64", "-k", "3", "--padding", "1", *A100], "roofline"),
        (["sweep", "--in", "28x28x8", "--out", "16..1024*2", "-k", "3"], "saving"),
    ],
    ids=lambda v: v if isinstance(v, str) else " ".join(v)[:30],
)
def test_plot_writes_svg_and_png(tmp_path, matplotlib, args, chart) -> None:
    svg, png = tmp_path / f"{chart}.svg", tmp_path / f"{chart}.png"
    assert run("plot", *args, "-o", str(svg)).stdout == ""
    assert run("plot", *args, "-o", str(png)).stdout == ""
    root = ET.fromstring(svg.read_bytes())
    assert root.tag.endswith("svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = tmp_path / "again.svg"
    run("plot", *args, "-o", str(again))
    assert again.read_bytes() == svg.read_bytes()  # no date, no random ids: the same bytes


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["layer", *SEED, "-o", "x.svg"],
            "--chart: a layer has one chart, the roofline, and it needs --device",
        ),
        (
            ["compare", "mobilenet_v1", "--chart", "roofline", "-o", "x.svg"],
            "--chart: roofline needs --device",
        ),
        (["compare", "mobilenet_v1", "--chart", "saving", "-o", "x.svg"], "--chart: saving is not drawn"),
        (["compare", "mobilenet_v1", "-o", "x.pdf"], "-o/--output: 'x.pdf' is not a .svg or .png file name"),
        (["compare", "mobilenet_v1"], "-o/--output: missing"),
        (["compare", "mobilenet_v1", "-o", "/no/such/folder/x.svg"], "-o/--output: cannot write"),
    ],
)
def test_plot_errors_are_one_line(tmp_path, monkeypatch, args, needle) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["plot", *args])
    assert result.exit_code == 2 and result.stdout == "", result.output
    assert len(result.stderr.splitlines()) == 1 and needle in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_plot_without_matplotlib_says_how_to_get_it(tmp_path, monkeypatch) -> None:
    from convcost.output import charts

    monkeypatch.setattr(charts, "available", lambda: False)
    result = CliRunner().invoke(cli, ["plot", "compare", "mobilenet_v1", "-o", str(tmp_path / "x.svg")])
    assert result.exit_code == 2 and "pip install 'convcost[plot]'" in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no headless browser here")
def test_a_browser_shows_the_module_chart_first_and_the_roofline_below(tmp_path, matplotlib) -> None:
    """Skipped where there is no chromium (CI has none): the page as a browser draws it."""
    from convcost.output.chart_data import KIND_COLOURS

    page = tmp_path / "page.html"
    run("compare", "resnet50", *A100, "--format", "html", "-o", str(page))
    shots = {}
    for height in (1000, 9000):  # the first screen, and the whole page
        shot = tmp_path / f"shot{height}.png"
        subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
             f"--window-size=1280,{height}", page.as_uri()],
            capture_output=True, timeout=90, check=False,
        )  # fmt: skip
        shots[height] = optional_module("matplotlib.image", "plot").imread(str(shot))[:, :, :3]
    assert shots[1000].shape[:2] == (1000, 1280) and shots[9000].shape[:2] == (9000, 1280)

    def pixels(image, colour: str) -> int:
        rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        return int((abs(image - rgb) < 0.02).all(axis=2).sum())

    # ResNet-50's stages are regular and pointwise convs: both kinds' bars are in the first screen
    assert pixels(shots[1000], KIND_COLOURS["conv"]) > 5_000
    assert pixels(shots[1000], KIND_COLOURS["pointwise"]) > 5_000
    # further down, the roofline's memory- and compute-bound points
    assert pixels(shots[9000], "#c44e52") > 100 and pixels(shots[9000], "#4c72b0") > 50
