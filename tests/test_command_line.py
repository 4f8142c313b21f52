"""One consistent command line: help, formats and -o everywhere, stdin, shipped specs by name, sweep's
flags and skipped points, ratios that follow --count, wording, shapes, errors, progress."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from convcost.cli import cli
from convcost.io.builtin_specs import catalogue, names
from convcost.output.json_schema import output_schema
from convcost.output.views import compared
from tests.conftest import HANG_SECONDS

ROOT = Path(__file__).resolve().parent.parent
SEED = ["--in", "28x28x8", "--out", "16", "-k", "3"]
VALIDATOR = jsonschema.Draft202012Validator(output_schema())
ONNX_MODEL = ROOT / "tests" / "fixtures" / "onnx" / "dense_block.ts.onnx"


def run(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None):
    result = CliRunner().invoke(
        cli, list(args), input=input, env=env, catch_exceptions=False, prog_name="convcost"
    )
    assert result.exit_code == 0, result.stderr
    return result


def refused(*args: str, input: str | bytes | None = None) -> str:
    """The one error line of a refused command (exit 2, nothing on stdout)."""
    result = CliRunner().invoke(cli, list(args), input=input, prog_name="convcost")
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    return lines[0]


# ------------------------------------------------------------------ help


def test_bare_convcost_prints_the_help() -> None:
    result = run()
    assert result.stdout.startswith("Usage: convcost [OPTIONS] COMMAND [ARGS]...")
    assert "Commands:" in result.stdout and "Error" not in result.output


COMMANDS = ["layer", "compare", "sweep", "import", "schema", "devices", "models", "plot"]
PLOTS = ["layer", "compare", "sweep"]


def test_top_level_help_summaries_fit_80_columns() -> None:
    text = run("--help", env={"COLUMNS": "80"}).stdout
    listed = text.split("Commands:")[1].strip().splitlines()
    assert sorted(line.split()[0] for line in listed) == sorted(COMMANDS)
    for line in text.splitlines():
        assert len(line) <= 80, line
    for line in listed:
        assert not line.rstrip().endswith("..."), line  # no summary cut mid-phrase
        assert line.rstrip().endswith("."), line


@pytest.mark.parametrize("command", [[c] for c in COMMANDS] + [["plot", c] for c in PLOTS], ids=" ".join)
def test_every_command_has_examples_in_its_help(command) -> None:
    text = run(*command, "--help", env={"COLUMNS": "80"}).stdout
    assert re.search(r"^\s+Examples?:$", text, re.MULTILINE), text
    assert re.search(rf"^\s+convcost {' '.join(command)}\b", text, re.MULTILINE), text
    assert max(len(line) for line in text.splitlines()) <= 80
    if "Commands:" in text:  # plot's subcommands: whole summaries too
        for line in text.split("Commands:")[1].strip().splitlines():
            assert line.rstrip().endswith(".") and not line.rstrip().endswith("..."), line


# ------------------------------------------------------------------ formats and -o

RESULTS = {
    "layer": ["layer", *SEED],
    "compare": ["compare", "mobilenet_v1"],
    "sweep": ["sweep", "--in", "28x28x8", "--out", "16,32", "-k", "1,3"],
    "devices": ["devices"],
    "models": ["models"],
    "schema": ["schema"],
}


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown", "html"])
@pytest.mark.parametrize("command", list(RESULTS))
def test_every_result_command_takes_every_format(command, fmt) -> None:
    text = run(*RESULTS[command], "--format", fmt).stdout
    if fmt == "json":
        data = json.loads(text)
        if command == "schema":
            jsonschema.Draft202012Validator.check_schema(data)
        else:
            VALIDATOR.validate(data)
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) > 1 and len({len(row) for row in rows}) == 1
    elif fmt == "markdown":
        lines = text.splitlines()
        assert lines[1].startswith("|---") and all(line.startswith("|") for line in lines)
    elif fmt == "html":
        assert text.startswith("<!DOCTYPE html>") and "<table>" in text
    else:
        assert "─" in text and "\x1b" not in text


@pytest.mark.parametrize("command", list(RESULTS))
def test_json_is_the_short_form_of_format_json(command) -> None:
    assert run(*RESULTS[command], "--json").stdout == run(*RESULTS[command], "--format", "json").stdout


def test_models_lists_name_paper_input_macs_params() -> None:
    data = json.loads(run("models", "--json").stdout)
    assert list(data["models"]) == names()
    resnet = data["models"]["resnet50"]
    assert resnet["macs"] == 4_089_184_256 and resnet["params"] == 25_557_032
    assert resnet["input_shape"] == [224, 224, 3] and resnet["paper"].startswith("He et al. 2016")
    table = run("models", "--wide").stdout
    line = next(line for line in table.splitlines() if line.split()[:1] == ["mobilenet_v1"])
    cells = ["mobilenet_v1", "Howard et al. 2017", "MobileNets", "224×224×3", "568,740,352", "4,210,088"]
    assert re.split(r"\s{2,}", line.strip()) == cells
    rows = list(csv.DictReader(io.StringIO(run("models", "--format", "csv").stdout)))
    assert [r["name"] for r in rows] == names() and rows[0]["input_shape"] == "224x224x3"


@pytest.mark.parametrize("command", list(RESULTS))
def test_output_file_is_written_atomically(tmp_path, command) -> None:
    out = tmp_path / "out.txt"
    assert run(*RESULTS[command], "-o", str(out)).stdout == ""
    assert out.read_text(encoding="utf-8") == run(*RESULTS[command], env={"COLUMNS": ""}).stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_a_failed_run_leaves_the_old_file_untouched(tmp_path, monkeypatch) -> None:
    out = tmp_path / "report.json"
    out.write_text("old")
    out.chmod(0o640)
    assert "--groups: 3 must divide" in refused("layer", *SEED, "--groups", "3", "--json", "-o", str(out))
    assert out.read_text() == "old"
    # a write that fails half-way (a full disk) leaves the old file and no temp file
    import convcost.output.sink as sink

    def broken(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sink.os, "replace", broken)
    assert "-o/--output: cannot write" in refused("layer", *SEED, "--json", "-o", str(out))
    assert out.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    monkeypatch.undo()
    run("layer", *SEED, "--json", "-o", str(out))
    assert json.loads(out.read_text())["macs"] == 778_752
    assert out.stat().st_mode & 0o777 == 0o640  # an existing file keeps its permissions


def test_a_link_is_followed_and_a_pipe_is_written_in_place(tmp_path) -> None:
    target = tmp_path / "target.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    run("layer", *SEED, "--json", "-o", str(link))
    assert link.is_symlink() and json.loads(target.read_text())["macs"] == 778_752
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    run("layer", *SEED, "--json", "-o", str(fifo))
    assert json.loads(reader.communicate(timeout=HANG_SECONDS)[0])["macs"] == 778_752
    assert fifo.is_fifo()  # never replaced by a file (nor would /dev/null be)


def test_an_unwritable_output_is_refused_before_the_work(tmp_path) -> None:
    assert "there is no folder" in refused("compare", "mobilenet_v1", "-o", str(tmp_path / "no" / "x.txt"))
    assert "it is a folder" in refused("compare", "mobilenet_v1", "-o", str(tmp_path))
    assert run("layer", *SEED, "--json", "-o", "-").stdout.startswith("{")


def test_import_writes_its_yaml_to_a_file(tmp_path, onnx) -> None:
    out = tmp_path / "model.yaml"
    assert run("import", str(ONNX_MODEL), "-o", str(out)).stdout == ""
    assert out.read_text().startswith("# ") and "layers:" in out.read_text()


# ------------------------------------------------------------------ SPEC, MODEL and stdin


@pytest.mark.parametrize(("words", "cword"), [("convcost compare spe", "2"), ("convcost import mod", "2")])
def test_spec_and_model_complete_as_files(words, cword) -> None:
    env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": cword, "_CONVCOST_COMPLETE": "bash_complete"}
    proc = subprocess.run(
        [sys.executable, "-m", "convcost"], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert proc.stdout.splitlines()[0].startswith("file"), proc.stdout


def test_stdin_takes_yaml_json_and_onnx(onnx) -> None:
    yaml_spec = "layers: [{in: 28x28x8, out: 16, kernel: 3}]\n"
    json_spec = json.dumps({"layers": [{"in": "28x28x8", "out": 16, "kernel": 3}]})
    for text in (yaml_spec, json_spec):
        assert json.loads(run("compare", "-", "--json", input=text).stdout)["totals"]["macs"] == 778_752
    model = ONNX_MODEL.read_bytes()
    from_file = json.loads(run("compare", str(ONNX_MODEL), "--json").stdout)
    from_stdin = json.loads(run("compare", "-", "--json", input=model).stdout)
    assert from_stdin["totals"] == from_file["totals"] and from_stdin["source"] == "<stdin>"
    imported = run("import", "-", input=model).stdout
    assert imported.startswith("# <stdin>, converted by convcost") and "layers:" in imported


def test_import_names_its_argument_model(tmp_path) -> None:
    assert refused("import", str(tmp_path / "nope.onnx")).startswith("Error: MODEL: cannot read")
    line = refused("import", str(ROOT / "specs" / "resnet18.yaml"))
    assert line.startswith("Error: MODEL: ") and "is not an ONNX model" in line
    assert refused("import").startswith("Error: MODEL.onnx: missing")


def test_a_shipped_spec_works_by_name_from_an_empty_folder(tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "convcost", "compare", "resnet50", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(proc.stdout)["totals"]["macs"] == 4_089_184_256
    (tmp_path / "mobilenet_v1").write_text("layers: [{in: 28x28x8, out: 16, kernel: 3}]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "convcost", "compare", "mobilenet_v1", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(proc.stdout)["totals"]["macs"] == 778_752  # a file path wins over a name


def test_every_shipped_spec_has_a_paper_or_a_description() -> None:
    for spec in catalogue():
        assert spec.network and (spec.paper or spec.name.startswith("seed")), spec


# ------------------------------------------------------------------ sweep


def test_sweep_takes_every_layer_flag() -> None:
    args = ["sweep", "--in", "28x28x8", "--out", "16,32", "-k", "3", "--dilation", "1,2", "--padding", "same"]
    args += ["--dtype", "fp16", "--batch", "4", "--device", "a100", "--fused", "--count", "flops", "--bias"]
    data = json.loads(run(*args, "--json").stdout)
    VALIDATOR.validate(data)
    assert data["dtype"] == "fp16" and data["batch"] == 4 and data["fused"] is True
    assert data["device"]["name"] == "a100" and data["convention"]["count"] == "flops"
    assert data["swept"] == {"out": [16, 16, 32, 32], "dilation": [1, 2, 1, 2]}
    point = data["points"][0]
    assert point["bias"] is True and point["macs"] == 26 * 0 + 28 * 28 * 16 * 9 * 8 * 4  # same padding
    assert point["time_s"] > 0
    table = run(*args).stdout
    assert "FLOPs ratio" in table and "FLOPs saved" in table
    transposed = json.loads(
        run("sweep", "--in", "7x7x16", "--out", "8", "-k", "3", "--stride", "2", "--transposed",
            "--output-padding", "1", "--peak-tflops", "10", "--bandwidth-gbs", "100", "--json").stdout
    )  # fmt: skip
    assert transposed["points"][0]["output_shape"] == [16, 16, 8] and transposed["points"][0]["transposed"]


def test_sweep_skips_points_that_cannot_exist_and_says_so() -> None:
    args = ["sweep", "--in", "4x4x8,28x28x8", "--out", "16", "-k", "3,7", "--groups", "1..8"]
    data = json.loads(run(*args, "--json").stdout)
    # groups 1, 2, 4, 8 divide 8 and 16 (3, 5, 6, 7 do not); a 7×7 kernel does not fit 4×4
    assert len(data["points"]) == 4 * 3 and data["skipped"] == 8 * 2 * 2 - 12
    table = run(*args, env={"COLUMNS": ""}).stdout
    assert "Sweep: 12 points (20 skipped: they cannot exist)" in table
    note = " ".join(line for line in table.splitlines() if line.startswith("Note:"))
    assert "Skipped 20 of 32 points that cannot exist" in note
    assert "where --groups does not divide the channels" in note
    assert "where the kernel is larger than the (padded) input" in note


def test_a_sweep_of_only_impossible_points_is_an_error() -> None:
    assert "--groups: 3 must divide" in refused("sweep", *SEED, "--groups", "3")
    assert "--groups: 3 must divide" in refused(
        "sweep", "--in", "28x28x8", "--out", "16,32", "-k", "3", "--groups", "3"
    )


def test_a_typo_in_a_sweep_list_is_an_error_not_a_skipped_point() -> None:
    assert refused("sweep", "--in", "28x28x8", "--out", "16", "-k", "3,x").startswith(
        "Error: -k/--kernel: 'x'"
    )


# ------------------------------------------------------------------ counts, words, shapes


def test_ratio_and_saving_columns_follow_the_count() -> None:
    data = json.loads(run("layer", *SEED, "--bias", "--count-bias", "--json").stdout)
    dws = data["variants"]["depthwise_separable"]
    table = run("layer", *SEED, "--bias", "--count-bias").stdout
    line = next(line for line in table.splitlines() if line.startswith(" depthwise-separable"))
    assert "146,016" in line and f"{dws['count_ratio']:.4f}" in line and "0.1736" not in line
    assert "MACs +bias ratio" in table and "MACs +bias saved" in table
    flops = run("compare", "seed_5x5_vs_3x3", "--count", "flops").stdout
    assert "FLOPs ratio" in flops and "% FLOPs" in flops and "MACs ratio" not in flops
    sweep = run("sweep", *SEED, "--count", "ops").stdout
    assert "ops ratio" in sweep and "DWS ops" in sweep


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (SEED, "5.76× fewer MACs, 1.54× more bytes"),
        (["--in", "28x28x8", "--out", "16", "-k", "1"], "1.06× more MACs"),
        (["--in", "56x56x64", "--out", "64", "-k", "3", "--padding", "1", "--dtype", "fp16", "--device", "a100"],
         "7.89× fewer MACs, 1.07× more time"),
        (["--in", "56x56x64", "--out", "64", "-k", "3", "--padding", "1", "--device", "a100"],
         "7.89× fewer MACs, 7.49× less time"),  # fp32: a ridge point of 10
    ],
)  # fmt: skip
def test_fewer_and_more_are_the_right_words(args, words) -> None:
    assert words in " ".join(run("layer", *args, env={"COLUMNS": ""}).stdout.split())


def test_compared_words_never_read_one_times() -> None:
    from convcost.output.summary import change

    assert compared(change(100, 50), "MACs") == "2.00× fewer MACs"
    assert compared(change(50, 100), "MACs") == "2.00× more MACs"
    assert compared(change(100, 100), "MACs") == "as many MACs"
    assert compared(change(1.0, 1.0), "time", "less") == "the same time"
    assert compared(change(1000, 998), "bytes") == "0.2 % fewer bytes"
    assert compared(change(1000, 1003), "bytes") == "0.3 % more bytes"
    assert compared(change(10, 0), "MACs") == "no MACs at all"


def test_shapes_are_written_one_way() -> None:
    table = run("layer", "--in", "28x28x8", "--out", "16", "-k", "3x1", "--stride", "2x1", "--padding", "0:1x1",
                "--dilation", "2x1", env={"COLUMNS": ""}).stdout  # fmt: skip
    assert "conv 3×1, stride 2×1, padding 0:1×1:1, dilation 2×1" in table
    sweep = run("sweep", "--in", "28x28x8,14x14x8", "--out", "16", "-k", "3", env={"COLUMNS": ""}).stdout
    assert "28×28×8" in sweep and "28x28x8" not in sweep
    markdown = run("compare", "mobilenet_v1", "--format", "markdown").stdout
    assert "224×224×3" in markdown and "224x224x3" not in markdown
    assert "224x224x3" in run("compare", "mobilenet_v1", "--format", "csv").stdout  # CSV: as --in takes it
    for text in (table, sweep, run("compare", "mobilenet_v1").stdout):
        assert not re.search(r"\d+x\d+", text)


def test_a_two_token_input_is_1d_and_the_title_says_so() -> None:
    table = run("layer", "--in", "28x28", "--out", "16", "-k", "3").stdout
    assert table.splitlines()[:2] == [
        "28×28 → 26×16",
        "1-D input: length 28, 28 channels (for a 28×28 image give its channels too: --in 28x28x1)",
    ]
    sweep = run("sweep", "--in", "300x16", "--out", "16", "-k", "3", env={"COLUMNS": ""}).stdout
    assert "Note: --in 300x16: 1-D input: length 300, 16 channels" in sweep
    compare = run("compare", "seed_layer", "--in", "28x28", env={"COLUMNS": ""}).stdout
    assert "Note: --in 28x28: 1-D input: length 28, 28 channels" in compare


@pytest.mark.parametrize(
    "args",
    [
        ["layer", "--in", "28x28x8", "--out", "16", "-k", "3", "--groups", "3"],
        ["layer", "--out", "16", "-k", "3"],
        ["layer", *SEED, "--frob"],
        ["layer", *SEED, "--dtype", "fp64"],
        ["layer", *SEED, "--format", "xml"],
        ["compare", "nope.yaml"],
        ["compare"],
        ["import", "nope.onnx"],
        ["frob"],
        ["sweep", *SEED, "--out", "32..16"],
        ["layer", *SEED, "-o", "/no/such/folder/x"],
        ["plot", "layer", *SEED, "-o", "x.svg"],
        ["layer", *SEED, "--json", "--format", "csv"],
    ],
    ids=lambda a: " ".join(a)[:40],
)
def test_one_error_style(args) -> None:
    """``Error: WHERE: what is wrong; what is allowed`` — WHERE a flag, an argument or a command."""
    line = refused(*args)
    assert re.match(r"^Error: (-{1,2}[a-z][\w/-]*|SPEC|MODEL(\.onnx)?|'[^']*'): [a-z0-9'(]", line), line
    assert "Usage:" not in line and "Invalid value" not in line and "Missing" not in line


# ------------------------------------------------------------------ progress


#: convcost with its progress bars shown at once, not after half a second of work: whether a
#: bar shows must not depend on how fast the machine is.
AT_ONCE = (
    "import functools, sys\n"
    "from convcost.output import progress\n"
    "progress.Progress.__init__ = functools.partialmethod(progress.Progress.__init__, delay=0)\n"
    "from convcost.cli import main\n"
    "sys.argv[0] = 'convcost'\n"
    "main()\n"
)


def _in_a_terminal(args: list[str], seconds: float = HANG_SECONDS, *, bar_at_once: bool = False) -> str:
    """Run convcost with stdout and stderr on a pseudo-terminal; all it wrote, as text."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.environ.pop("COLUMNS", None)
        os.environ["TERM"] = "xterm"
        os.environ["PYTHONPATH"] = str(ROOT)
        start = ["-c", AT_ONCE] if bar_at_once else ["-m", "convcost"]
        os.execv(sys.executable, [sys.executable, *start, *args])
    out = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    return out.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def big_spec(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.yaml"
    lines = [
        f"  - {{name: c{i}, out: {32 + (i * 7) % 97}, kernel: 3, padding: same}}\n" for i in range(20_000)
    ]
    path.write_text("input: 56x56x64\nlayers:\n" + "".join(lines))
    return path


def test_a_progress_bar_shows_on_a_terminal_for_long_work(big_spec) -> None:
    out = str(big_spec.with_suffix(".txt"))
    shown = _in_a_terminal(["compare", str(big_spec), "-o", out], bar_at_once=True)
    assert "Costing" in shown and "━" in shown, shown[-500:]
    out = str(big_spec.with_suffix(".csv"))
    args = ["sweep", "--in", "28x28x8", "--out", "1..10000", "-k", "3", "-o", out]
    sweep = _in_a_terminal(args, bar_at_once=True)
    assert "Sweeping" in sweep and "Traceback" not in sweep, sweep[-500:]


def test_a_sweep_reports_each_point_to_its_bar() -> None:
    from convcost.model.sweep import sweep

    seen = []
    points = sweep(
        {"in": "28x28x8", "out": "16..64:16", "kernel": "3,5", "groups": "1,3"}, {}, lambda: seen.append(1)
    )
    assert len(seen) == points.total == 16 and len(points) == 8 and points.skipped == 8


def test_no_progress_bar_for_quick_work_with_json_or_in_a_pipe(big_spec) -> None:
    assert "Costing" not in _in_a_terminal(["layer", *SEED])
    out = str(big_spec.with_suffix(".json"))
    assert "Costing" not in _in_a_terminal(["compare", str(big_spec), "--json", "-o", out])
    proc = subprocess.run(
        [sys.executable, "-m", "convcost", "compare", str(big_spec)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "Costing" not in proc.stderr and proc.stderr == ""
