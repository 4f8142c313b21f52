"""One truth per command, for the views people read: the terminal table and the HTML page of
``compare``, ``sweep``, ``models`` and ``devices``, and every flat format of ``models`` and
``devices``, parsed back and held to ``--json``.

A shown number must be exactly the JSON value formatted the way its column formats it: an
integer with thousands separators and nothing lost, a ratio to 4 places, a percentage to 1, a
time or a size to 3 significant digits in its unit. The parsers are strict — a cell in another
form, a digit off, a missing or an unknown column fails — so a view that shows another layer's
numbers (as a groups sweep once showed the regular conv's) cannot pass.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable, Sequence
from html.parser import HTMLParser
from typing import Any

import pytest
from click.testing import CliRunner

from convcost.cli import cli
from convcost.io.builtin_specs import names

# ------------------------------------------------------------------ running


def run(args: Sequence[str]) -> str:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": ""})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def no_charts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages without their charts: the tables are the data, and drawing is slow."""
    from convcost.output import charts

    monkeypatch.setattr(charts, "available", lambda: False)


# ------------------------------------------------------------------ strict cells

Check = Callable[[str, Any], None]


def integer(cell: str, value: Any) -> None:
    assert re.fullmatch(r"-?\d{1,3}(,\d{3})*", cell), f"{cell!r} is not an integer with separators"
    assert int(cell.replace(",", "")) == value, f"{cell!r} shows {int(cell.replace(',', ''))}, JSON {value}"


def fixed(places: int, suffix: str = "") -> Check:
    def check(cell: str, value: Any) -> None:
        assert re.fullmatch(rf"-?\d+\.\d{{{places}}}{re.escape(suffix)}", cell), (
            f"{cell!r}: not {places} places"
        )
        assert cell == f"{value:.{places}f}{suffix}", f"{cell!r} is not {value} to {places} places"

    return check


RATIO = fixed(4)
PCT = fixed(1, " %")
ONE_PLACE = fixed(1)

TIME_UNITS = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "ns": 1e-9}


def significant(units: dict[str, float]) -> Check:
    """``1.28 µs``, ``160 ns``: 3 significant digits in the largest unit the value reaches."""

    def check(cell: str, value: Any) -> None:
        found = re.fullmatch(r"(\d+(?:\.\d+)?) (\S+)", cell)
        assert found and found[2] in units, f"{cell!r}: not a number and a unit"
        scale = units[found[2]]
        larger = [size for size in units.values() if size > scale]
        rounded = float(f"{value:.3g}")  # the unit is the one the 3 digits reach: 999,999 B is 1 MB
        assert rounded >= scale or scale == min(units.values()), f"{cell!r}: {value} is below the unit"
        assert all(rounded < size for size in larger), f"{cell!r}: {value} reaches a larger unit"
        assert found[1] == f"{rounded / scale:.3g}", f"{cell!r} is not {value} to 3 digits"

    return check


TIME = significant(TIME_UNITS)
SIZE = significant({"TB": 1e12, "GB": 1e9, "MB": 1e6, "kB": 1e3, "B": 1.0})


def shape(cell: str, value: Any) -> None:
    assert cell == "×".join(str(v) for v in value), f"{cell!r} is not {value}"


def text(cell: str, value: Any) -> None:
    assert cell == value, f"{cell!r} != {value!r}"


def optional(check: Check, blank: str = "—") -> Check:
    def maybe(cell: str, value: Any) -> None:
        if value is None:
            assert cell == blank, f"{cell!r} stands for nothing"
        else:
            check(cell, value)

    return maybe


# ------------------------------------------------------------------ tables as shown


def terminal_tables(output: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every table of a natural-width terminal view: (header, rows), each cell the text that
    overlaps its header's span (columns align left or right, three spaces apart)."""
    lines = output.splitlines()
    tables = []
    for i, line in enumerate(lines[:-1]):
        if not re.fullmatch(r" ─+", lines[i + 1]):
            continue
        spans = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+(?: \S+)*", line)]
        rows = []
        body = lines[i + 2 :]
        for n, row_line in enumerate(body):
            if not row_line.strip():  # the end, or a blank line before the footer row
                if body[n + 1 : n + 2] and body[n + 1].split()[:1] == ["total"]:
                    continue
                break
            cells = [""] * len(spans)
            for m in re.finditer(r"\S+(?: \S+)*", row_line):
                hits = [j for j, (_, left, right) in enumerate(spans) if m.start() < right and left < m.end()]
                assert len(hits) == 1, f"{m.group()!r} straddles columns in {row_line!r}"
                assert not cells[hits[0]], f"two cells under {spans[hits[0]][0]!r} in {row_line!r}"
                cells[hits[0]] = m.group()
            rows.append(cells)
        tables.append(([name for name, _, _ in spans], rows))
    return tables


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append("".join(self.cell).strip())  # as a browser shows it
            self.cell = None
        elif tag == "tr" and self.row is not None:
            header, rows = self.tables[-1]
            (header.extend(self.row) if not header else rows.append(self.row))
            self.row = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def page_tables(page: str) -> list[tuple[list[str], list[list[str]]]]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def _markdown_text(cell: str) -> str:
    """A Markdown cell as a reader sees it: entities and backslash escapes undone."""
    return html.unescape(re.sub(r"\\(.)", r"\1", cell))


def flat(output: str, fmt: str) -> tuple[list[str], list[list[str]]]:
    if fmt == "markdown":
        lines = [line for line in output.splitlines() if line.startswith("|")]
        cells = [[_markdown_text(c.strip()) for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]
        assert all(set(c) <= set("-:") for c in cells[1]), "no rule under the header"
        return cells[0], cells[2:]
    rows = list(csv.reader(io.StringIO(output), delimiter="\t" if fmt == "tsv" else ","))
    return rows[0], rows[1:]


def hold(
    table: tuple[list[str], list[list[str]]],
    records: Sequence[Any],
    checks: dict[str, tuple[Check, Callable[[Any], Any]]],
    where: str,
) -> None:
    """Every row is its record; every column is known and checked; none is missing."""
    header, rows = table
    unknown = [h for h in header if h not in checks]
    assert not unknown, f"{where}: columns nobody checks: {unknown}"
    assert len(rows) == len(records), f"{where}: {len(rows)} rows for {len(records)} records"
    for row, record in zip(rows, records, strict=True):
        assert len(row) == len(header), f"{where}: {row}"
        for name, cell in zip(header, row, strict=True):
            check, get = checks[name]
            check(cell, get(record))


# ------------------------------------------------------------------ models


def test_models_table_and_page_hold_the_json(no_charts) -> None:
    data = json.loads(run(["models", "--json"]))["models"]
    records = [{"name": k, **v} for k, v in data.items()]

    def cited(record: dict[str, Any]) -> str:
        found = re.match(r'(.+ \d{4}), "', record["paper"])
        return found[1] if found else "—"

    def title(record: dict[str, Any]) -> str:
        found = re.match(r'.+ \d{4}, "(.+)"\Z', record["paper"])
        return found[1] if found else record["network"]

    checks = {
        "name": (text, lambda r: r["name"]),
        "paper": (text, cited),
        "title": (text, title),
        "input": (shape, lambda r: r["input_shape"]),
        "MACs": (integer, lambda r: r["macs"]),
        "params": (integer, lambda r: r["params"]),
    }
    (table,) = terminal_tables(run(["models", "--wide"]))
    hold(table, records, checks, "models table")
    (page,) = page_tables(run(["models", "--format", "html"]))
    hold(page, records, checks, "models page")


@pytest.mark.parametrize("fmt", ["csv", "tsv", "markdown"])
def test_models_flat_formats_hold_the_json(fmt) -> None:
    data = json.loads(run(["models", "--json"]))["models"]
    records = [{"name": k, **v} for k, v in data.items()]
    as_written = integer if fmt == "markdown" else lambda cell, value: text(cell, str(value))
    checks = {
        "name": (text, lambda r: r["name"]),
        "network": (text, lambda r: r["network"]),
        "paper": (text, lambda r: r["paper"]),
        "input_shape": (
            shape if fmt == "markdown" else lambda c, v: text(c, "x".join(map(str, v))),
            lambda r: r["input_shape"],
        ),
        "macs": (as_written, lambda r: r["macs"]),
        "params": (as_written, lambda r: r["params"]),
        "layers": (as_written, lambda r: r["layers"]),
    }
    hold(flat(run(["models", "--format", fmt]), fmt), records, checks, f"models {fmt}")


# ------------------------------------------------------------------ devices

DTYPES = ("fp32", "fp16", "bf16", "int8")


def tera(cell: str, value: Any) -> None:
    """A peak in TFLOP/s or a bandwidth in GB/s, as ``:g`` writes it: every digit the profile has."""
    assert re.fullmatch(r"\d+(\.\d+)?", cell), f"{cell!r}"
    assert cell == f"{value:g}", f"{cell!r} is not {value}"


def test_devices_table_and_page_hold_the_json(no_charts) -> None:
    data = json.loads(run(["devices", "--json"]))["devices"]
    records = list(data.values())
    checks: dict[str, tuple[Check, Callable[[Any], Any]]] = {
        "name": (text, lambda r: r["name"]),
        "device": (text, lambda r: r["title"]),
        "GB/s": (tera, lambda r: r["bandwidth_bytes_per_s"] / 1e9),
    }
    for dtype in DTYPES:
        checks[dtype] = (optional(tera), lambda r, d=dtype: _tera(r["peak_flops"].get(d)))
    (table,) = terminal_tables(run(["devices", "--wide"]))
    hold(table, records, checks, "devices table")
    (page,) = page_tables(run(["devices", "--format", "html"]))
    hold(page, records, checks, "devices page")


def _tera(peak: float | None) -> float | None:
    return None if peak is None else peak / 1e12


def whole_float(cell: str, value: Any) -> None:
    """Markdown's whole floats of a million or more (a peak in FLOP/s): every digit, separated."""
    integer(cell, int(value))
    assert float(cell.replace(",", "")) == value


@pytest.mark.parametrize("fmt", ["csv", "tsv", "markdown"])
def test_devices_flat_formats_hold_the_json(fmt) -> None:
    data = json.loads(run(["devices", "--json"]))["devices"]
    records = list(data.values())
    number = whole_float if fmt == "markdown" else lambda cell, value: text(cell, repr(value))
    checks: dict[str, tuple[Check, Callable[[Any], Any]]] = {
        "name": (text, lambda r: r["name"]),
        "title": (text, lambda r: r["title"]),
        "bandwidth_bytes_per_s": (number, lambda r: r["bandwidth_bytes_per_s"]),
    }
    for dtype in DTYPES:
        checks[f"peak_flops_{dtype}"] = (optional(number, ""), lambda r, d=dtype: r["peak_flops"].get(d))
    hold(flat(run(["devices", "--format", fmt]), fmt), records, checks, f"devices {fmt}")


# ------------------------------------------------------------------ compare


def _in_out(layer: dict[str, Any]) -> str:
    """``28×28×8 → 26×26×16``; a layer without an input (a parameter) shows its output only."""
    shown = "×".join(map(str, layer["input_shape"])) + " → " + "×".join(map(str, layer["output_shape"]))
    return shown.strip()


def kind_words(cell: str, layer: dict[str, Any]) -> None:
    """The type column's words: a conv's shows its kernel (``conv 3×3 /2``, ``depthwise 7×7``)."""
    assert cell, f"{layer['name']}: no type shown"
    if "kernel" in layer and len(set(layer["kernel"])) == 1:
        size = layer["kernel"][0]
        assert re.search(rf"(^| ){size}×{size}( |$)", cell) or (size == 1 and "1×1" in cell), cell
    elif "kernel" in layer:
        assert "×".join(map(str, layer["kernel"])) in cell, cell


def row_name(data: dict[str, Any]) -> Check:
    """A row's name; rolled up, a module's own ops shown among its submodules' rows say what they
    are in brackets, ``encoder (add)``, and nothing else may be added."""
    parents = {
        ".".join(parts[:end])
        for parts in (layer["module"].split(".") for layer in data["layers"])
        for end in range(1, len(parts))
    }
    rolled = any("rows" in layer for layer in data["layers"])

    def check(cell: str, layer: dict[str, Any]) -> None:
        if rolled and layer["module"] in parents:
            found = re.fullmatch(r"(.*) \(([^()]+)\)", cell)
            assert found and found[1] == layer["name"], f"{cell!r} is not {layer['name']!r} (what)"
        else:
            text(cell, layer["name"])

    return check


def compare_checks(
    data: dict[str, Any], live: dict[str, int] | None = None
) -> dict[str, tuple[Check, Callable[[Any], Any]]]:
    label = data["convention"]["label"]
    count = data["convention"]["count"]
    timed = data["device"] is not None
    checks: dict[str, tuple[Check, Callable[[Any], Any]]] = {
        "layer": (row_name(data), lambda r: r),
        "type": (kind_words, lambda r: r),
        "in → out": (text, _in_out),
        label: (integer, lambda r: r[count]),
        "params": (integer, lambda r: r["params"]),
        f"% {label}": (PCT, lambda r: 100 * r[count] / data["totals"][count]),
        "RF": (optional(shape), lambda r: (r.get("receptive_field") or {}).get("size")),
        "FLOP/B": (optional(ONE_PLACE), lambda r: r["arithmetic_intensity"] if r["flops"] else None),
        "in + out": (SIZE, lambda r: r["memory"]["input_bytes"] + r["memory"]["output_bytes"]),
    }
    if live is not None:  # --memory: a row's live bytes, the most of its steps'
        checks["live B"] = (integer, lambda r: live[r["name"]])
    if timed:
        checks["time ≥"] = (TIME, lambda r: r["time_s"])
        checks["bound"] = (text, lambda r: r["bound"] if r["flops"] else "memory")
    return checks


def live_bytes(args: Sequence[str], data: dict[str, Any]) -> dict[str, int]:
    """Each row's live bytes, from the JSON: the most of its layers' steps, a roll-up row's
    layers being those whose module is the row's at its depth (a shared module's calls too)."""
    depth = int(args[args.index("--depth") + 1]) if "--depth" in args else None
    flat = [a for a in args if a not in ("--depth", str(depth))] if depth else list(args)
    module = {
        layer["name"]: layer["module"] for layer in json.loads(run(["compare", *flat, "--json"]))["layers"]
    }

    def at_depth(path: str) -> str:
        return ".".join(path.split(".")[:depth]) if depth else path

    steps = [(module[step["name"]], step["live_bytes"]) for step in data["memory"]["steps"]]
    if not depth:  # one step per row, in order
        return {layer["name"]: live for layer, (_, live) in zip(data["layers"], steps, strict=True)}
    return {
        layer["name"]: max(live for path, live in steps if at_depth(path) == layer["module"])
        for layer in data["layers"]
    }


COMPARES = [[name] for name in names()] + [
    ["resnet18", "--device", "a100", "--dtype", "fp16"],
    ["mobilenet_v2", "--count", "flops", "--batch", "4"],
    ["tests/fixtures/specs/darts_v2_cifar.yaml"],
    # roll-ups: every column of a module's row is its layers' (summed, or the most for live B)
    ["resnet50", "--depth", "1", "--memory"],
    ["vit_b_16", "--depth", "2", "--device", "a100", "--batch", "4"],
    ["mobilenet_v2", "--depth", "1", "--as", "separable", "--memory"],
    ["tests/fixtures/onnx/resnet50.ts.onnx", "--depth", "2", "--device", "a100"],
    ["shufflenet_v2_x1_0", "--depth", "3", "--memory"],  # shared modules: rows of 2 calls
]


@pytest.mark.parametrize("args", COMPARES, ids=[" ".join(a) for a in COMPARES])
def test_compare_table_and_page_hold_the_json(args, no_charts) -> None:
    data = json.loads(run(["compare", *args, "--json"]))
    for layer in data["layers"]:  # the intensity is the layer's own FLOPs over its traffic
        assert layer["arithmetic_intensity"] == (layer["flops"] / layer["bytes"] if layer["bytes"] else 0.0)
    checks = compare_checks(data, live_bytes(args, data) if "--memory" in args else None)
    label, count = data["convention"]["label"], data["convention"]["count"]
    shown = {
        "terminal": terminal_tables(run(["compare", *args, "--wide"])),
        "page": page_tables(run(["compare", *args, "--format", "html"])),
    }
    for where, tables in shown.items():
        layers, forms, kinds = tables[:3]
        header, rows = layers
        *body, total = rows
        hold((header, body), data["layers"], checks, f"compare {where}")
        assert total[0] == "total"
        integer(total[header.index(label)], data["totals"][count])
        integer(total[header.index("params")], data["totals"]["params"])
        form_checks = {
            "network": (text, lambda r: r["label"]),
            label: (integer, lambda r: r[count]),
            "params": (integer, lambda r: r["params"]),
            f"{label} ratio": (RATIO, lambda r: r[count] / data["variants"]["regular"][count]),
            "params ratio": (RATIO, lambda r: r["params_ratio"]),
        }
        labels = {
            "as_written": "as written",
            "regular": "regular convs",
            "depthwise_separable": "depthwise-separable",
        }
        hold(
            forms,
            [{"label": labels[k], **v} for k, v in data["variants"].items()],
            form_checks,
            f"forms {where}",
        )
        kept = [k for k in data["breakdown"].values() if k[count] or k["params"]]
        kind_checks = {
            "kind": (text, lambda r: r["label"]),
            label: (integer, lambda r: r[count]),
            f"% {label}": (PCT, lambda r: 100 * r[count] / data["totals"][count]),
            "params": (integer, lambda r: r["params"]),
            "% params": (PCT, lambda r: 100 * r["params_share"]),
        }
        hold(kinds, kept, kind_checks, f"kinds {where}")


# ------------------------------------------------------------------ sweep

SWEEPS = [
    ["--in", "28x28x64", "--out", "64", "-k", "3", "--groups", "1..64*2"],
    [
        "--in",
        "28x28x64",
        "--out",
        "64",
        "-k",
        "3",
        "--groups",
        "1,4,64",
        "--count",
        "flops",
        "--device",
        "a100",
    ],
    ["--in", "28x28x8", "--out", "16", "-k", "3", "--groups", "1,2", "--transposed", "--stride", "1,2"],
    ["--in", "28x28x8,56x56x8", "--out", "16", "-k", "3"],
    ["--in", "28x28x8", "--out", "16..128*2", "-k", "3", "--device", "h100", "--dtype", "fp16"],
    ["--in", "28x28x8", "--out", "16", "-k", "1,3,5"],
    ["--in", "28x28x8", "--out", "16", "-k", "3", "--stride", "1,2"],
    ["--in", "28x28x8", "--out", "16", "-k", "3", "--dilation", "1,2", "--bias", "--count", "ops"],
]


def _count(work: dict[str, Any], count: str) -> int:
    return int(work["macs"] + work["adds"]) if count == "ops" else int(work[count])


def sweep_checks(data: dict[str, Any]) -> dict[str, tuple[Check, Callable[[Any], Any]]]:
    label, count = data["convention"]["label"], data["convention"]["count"]

    def dws(point: dict[str, Any]) -> dict[str, Any]:
        return point["variants"]["depthwise_separable"]

    def own(point: dict[str, Any]) -> dict[str, Any]:
        return point["variants"].get("grouped", point["variants"]["regular"])

    def swept_value(cell: str, value: Any) -> None:
        (integer if isinstance(value, int) else shape)(cell, value)

    checks: dict[str, tuple[Check, Callable[[Any], Any]]] = {
        key: (swept_value, lambda p, k=key: p["swept"][k]) for key in data["swept"]
    }
    checks |= {
        "output": (shape, lambda p: p["output_shape"]),
        label: (integer, lambda p: _count(p, count)),
        f"{label} saved": (PCT, lambda p: 100 * (1 - own(p)["count_ratio"])),
        f"DWS {label}": (integer, lambda p: _count(dws(p), count)),
        f"DWS {label} ratio": (RATIO, lambda p: dws(p)["count_ratio"]),
        "1/N + 1/D_K²": (RATIO, lambda p: p["theory_ratio"]),
        f"DWS {label} saved": (PCT, lambda p: 100 * (1 - dws(p)["count_ratio"])),
    }
    if data["device"] is not None:
        checks |= {
            "time": (TIME, lambda p: p["time_s"]),
            "bound": (text, lambda p: p["bound"]),
            "DWS time": (TIME, lambda p: dws(p)["time_s"]),
            "DWS bound": (text, lambda p: dws(p)["bound"]),
        }
    return checks


@pytest.mark.parametrize("sweep", SWEEPS, ids=[" ".join(s) for s in SWEEPS])
def test_sweep_table_and_page_hold_the_json(sweep, no_charts) -> None:
    data = json.loads(run(["sweep", *sweep, "--json"]))
    checks = sweep_checks(data)
    grouped = any("grouped" in p["variants"] for p in data["points"])
    for where, tables in (
        ("terminal", terminal_tables(run(["sweep", *sweep, "--wide"]))),
        ("page", page_tables(run(["sweep", *sweep, "--format", "html"]))),
    ):
        header = tables[0][0]
        assert (f"{data['convention']['label']} saved" in header) == grouped, header
        hold(tables[0], data["points"], checks, f"sweep {where}")


def test_a_wrong_number_fails_the_parsers() -> None:
    for check, cell, value in [
        (integer, "12,460,032", 24_920_064),
        (integer, "12460032", 12_460_032),
        (integer, "1,24,60,032", 12_460_032),
        (RATIO, "0.1268", 0.1267361),
        (RATIO, "0.127", 0.1267361),
        (PCT, "50.0 %", 0.0),
        (PCT, "50 %", 50.0),
        (TIME, "1.28 µs", 1.29e-6),
        (TIME, "1280 ns", 1.28e-6),
        (TIME, "1e+03 ns", 999.7e-9),
        (TIME, "1000 ns", 999.7e-9),
        (SIZE, "1e+03 kB", 999_999),
        (SIZE, "1000 kB", 999_999),
        (shape, "26×26×64", [26, 26, 32]),
    ]:
        with pytest.raises(AssertionError):
            check(cell, value)
