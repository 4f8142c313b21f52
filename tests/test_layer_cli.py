"""`convcost layer`: JSON layout, tables, errors, and what each path imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcost import compare, comparison_dict, conv
from convcost.cli import cli
from convcost.core.options import DEFAULT
from convcost.output.summary import layer_summary
from convcost.output.text_table import render
from convcost.output.views import layer_tables

SEED = ["layer", "--in", "28x28x8", "--out", "16", "-k", "3"]


def run(args: list[str]):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_json_is_one_object_with_the_documented_keys() -> None:
    result = run([*SEED, "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["output_shape"] == [26, 26, 16]
    assert data["macs"] == 778_752 and data["params"] == 1_152
    assert set(data["variants"]) == {"regular", "depthwise_separable"}
    dws = data["variants"]["depthwise_separable"]
    assert dws["macs"] == 135_200 and dws["ratio"] == 135_200 / 778_752
    assert dws["parts"]["depthwise"]["macs"] == 48_672
    assert dws["parts"]["pointwise"]["macs"] == 86_528
    assert dws["ratio_exact"] == "25/144"
    assert data["theory_ratio"] == 25 / 144  # = 1/16 + 1/9, one rounding
    assert data["theory"]["expression"] == "1/16 + 1/9"
    assert set(data["conventions"]) >= {"macs", "flops"}
    assert all(type(data[key]) is int for key in ("macs", "params", "flops", "adds"))


def test_json_grouped_variant_only_when_groups_above_one() -> None:
    data = json.loads(run([*SEED, "--groups", "4", "--json"]).stdout)
    assert list(data["variants"]) == ["regular", "grouped", "depthwise_separable"]
    assert data["macs"] == data["variants"]["grouped"]["macs"] == 778_752 // 4
    assert data["variants"]["grouped"]["ratio"] == 0.25


def test_json_huge_layer_stays_an_exact_integer() -> None:
    result = run(
        ["layer", "--in", "100000x100000x1024", "--out", "4096", "-k", "7", "--padding", "same", "--json"]
    )
    data = json.loads(result.stdout)
    assert data["macs"] == 100000 * 100000 * 4096 * 1024 * 49
    assert f'"macs":{100000 * 100000 * 4096 * 1024 * 49},' in result.stdout  # no exponent, no float


def test_flags_and_python_api_agree() -> None:
    via_cli = json.loads(
        run([*SEED, "--stride", "2x1", "--padding", "0:1x1", "--dilation", "2", "--bias", "--json"]).stdout
    )
    via_api = comparison_dict(
        compare(conv((28, 28, 8), 16, 3, stride=(2, 1), padding=((0, 1), (1, 1)), dilation=2, bias=True))
    )
    assert via_cli == via_api


@pytest.mark.parametrize(
    ("args", "option", "value"),
    [
        (["--in", "28x28x8", "--out", "0", "-k", "3"], "--out", "'0'"),
        (["--in", "28x28x8", "--out", "sixteen", "-k", "3"], "--out", "'sixteen'"),
        (["--in", "28x28x-8", "--out", "16", "-k", "3"], "--in", "'28x28x-8'"),
        (["--in", "28", "--out", "16", "-k", "3"], "--in", "'28'"),
        (["--in", "28x28x8", "--out", "16", "-k", "0"], "-k/--kernel", "'0'"),
        (["--in", "28x28x8", "--out", "16", "-k", "3x3x3"], "-k/--kernel", "'3x3x3'"),
        (["--in", "28x28x8", "--out", "16", "-k", "3", "--stride", "0"], "--stride", "'0'"),
        (["--in", "28x28x8", "--out", "16", "-k", "3", "--dilation", "1x0"], "--dilation", "'1x0'"),
        (["--in", "28x28x8", "--out", "16", "-k", "3", "--padding", "-1"], "--padding", "'-1'"),
        (["--in", "28x28x8", "--out", "16", "-k", "3", "--padding", "full"], "--padding", "'full'"),
        (["--in", "28x28x8", "--out", "16", "-k", "3", "--padding", "1x1x1"], "--padding", "'1x1x1'"),
        (["--in", "28x28x8", "--out", "16", "-k", "3", "--groups", "3"], "--groups", "3"),
        (["--in", "28x28x8", "--out", "16", "-k", "3", "--groups", "0"], "--groups", "'0'"),
        (["--in", "4x4x8", "--out", "16", "-k", "3", "--dilation", "2"], "-k/--kernel", "spans 5"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_bad_values_give_one_line_naming_the_option(args, option, value, as_json) -> None:
    result = CliRunner().invoke(cli, ["layer", *args] + (["--json"] if as_json else []))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {option}: ")
    assert value in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["layer", "--out", "16", "-k", "3"], "Error: --in: missing; it is required"),
        ([*SEED, "--frob"], "Error: --frob: no such option"),
        ([*SEED, "--fused2"], "Error: --fused2: no such option (did you mean --fused?)"),
        ([*SEED, "--format", "xml"], "Error: --format: 'xml' is not allowed; expected one of table, json"),
        (["layer", "--in"], "Error: --in: needs a value"),
        ([*SEED, "extra"], "Error: 'extra': unexpected extra argument"),
        (
            ["frob"],
            "Error: 'frob': no such command; the commands are compare, devices, import, layer, models",
        ),
        (["compare"], "Error: SPEC: missing; give a spec file, a shipped spec's name or '-' for stdin"),
        (["compare", "specs/mobilenet_v1.yaml", "--as", "foo"], "Error: --as: 'foo' is not allowed"),
    ],
)
def test_click_usage_errors_are_one_line_too(args, needle) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and needle in result.stderr


def test_help_states_conventions_and_example() -> None:
    text = " ".join(run(["layer", "--help"]).stdout.split())
    assert "convcost layer --in 28x28x8 --out 16 -k 3" in text
    assert "Off by default" in text
    top = " ".join(run(["--help"]).stdout.split())
    assert "multiply-accumulates" in top and "FLOPs = 2·MACs" in top


def test_version() -> None:
    from convcost import __version__

    assert run(["--version"]).stdout.strip() == f"convcost {__version__}"


@pytest.mark.parametrize("width", [80, 120])
def test_table_golden_seed(golden, width) -> None:
    golden(
        f"layer_seed_{width}",
        render(layer_tables(layer_summary(compare(conv("28x28x8", 16, 3)), DEFAULT)), width),
    )


@pytest.mark.parametrize("width", [80, 120])
def test_table_golden_grouped_bias_same(golden, width) -> None:
    layer = conv("56x56x64", 128, 3, stride=2, padding="same", groups=4, bias=True)
    golden(
        f"layer_grouped_bias_same_{width}",
        render(layer_tables(layer_summary(compare(layer), DEFAULT)), width),
    )


def test_table_shows_theory_line_and_thousands_separators() -> None:
    result = run(SEED)
    assert result.exit_code == 0
    assert "1/N + 1/D_K² = 1/16 + 1/9 = 0.1736" in result.stdout
    assert "778,752" in result.stdout and "135,200" in result.stdout and "82.6 %" in result.stdout
    assert "\x1b[" not in result.stdout


def _python(code: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)


IMPORTS_AFTER = """
import sys
from convcost.cli import cli
try:
    cli.main({args!r}, prog_name="convcost")
except SystemExit:
    pass
print(" ".join(sorted(m for m in ("rich", "yaml", "torch") if m in sys.modules)), file=sys.stderr)
"""


def test_json_path_never_imports_rich_or_yaml() -> None:
    proc = _python(IMPORTS_AFTER.format(args=[*SEED, "--json"]))
    assert proc.stderr.strip() == ""


def test_table_path_imports_neither_rich_nor_yaml() -> None:
    """Tables are written line by line: Rich is loaded only for a progress bar on a terminal."""
    proc = _python(IMPORTS_AFTER.format(args=SEED))
    assert proc.stderr.strip() == ""


ON_A_TERMINAL = """
import sys
sys.stdout.isatty = lambda: True
from convcost.cli import cli
try:
    cli.main({args!r}, prog_name="convcost")
except SystemExit:
    pass
"""


def test_ansi_styles_only_on_a_terminal_and_never_with_no_color() -> None:
    args = [*SEED]
    colored = _python(
        ON_A_TERMINAL.format(args=args), {"NO_COLOR": "", "TERM": "xterm", "COLUMNS": "120"}
    ).stdout
    plain = _python(
        ON_A_TERMINAL.format(args=args), {"NO_COLOR": "1", "TERM": "xterm", "COLUMNS": "120"}
    ).stdout
    dumb = _python(ON_A_TERMINAL.format(args=args), {"NO_COLOR": "", "TERM": "dumb", "COLUMNS": "120"}).stdout
    piped = _python(IMPORTS_AFTER.format(args=args), {"NO_COLOR": "", "TERM": "xterm", "COLUMNS": ""}).stdout
    assert "\x1b[1m" in colored and "\x1b[2m" in colored
    assert "\x1b" not in plain and "\x1b" not in dumb and "\x1b" not in piped
    strip = __import__("re").compile(r"\x1b\[[0-9;]*m")
    assert strip.sub("", colored) == plain
    assert all(line == line.rstrip() for line in piped.splitlines())  # no padding in a pipe


def test_python_dash_m_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "convcost", *SEED, "--json"], capture_output=True, text=True)
    assert proc.returncode == 0 and json.loads(proc.stdout)["macs"] == 778_752


README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize(
    "command",
    [
        "layer --in 28x28x8 --out 16 -k 3",
        "compare specs/seed_5x5_vs_3x3.yaml",
        "sweep --in 28x28x8 --out 16..1024*2 -k 3",
        "layer --in 28x28x8 --out 16 -k 3 --format markdown",
        "models --wide",
    ],
)
def test_readme_shows_real_output(command, monkeypatch) -> None:
    monkeypatch.chdir(README.parent)
    readme = README.read_text(encoding="utf-8")
    assert f"$ convcost {command}\n" in readme
    output = "\n".join(line.rstrip() for line in run(command.split()).stdout.splitlines())
    assert output.strip() in readme


def test_readme_shows_the_80_column_table() -> None:
    readme = README.read_text(encoding="utf-8")
    assert "$ COLUMNS=80 convcost compare mobilenet_v1\n" in readme
    result = CliRunner().invoke(cli, ["compare", "mobilenet_v1"], env={"COLUMNS": "80"})
    head = result.stdout.split("\n\nEvery spatial conv")[0]
    assert f"$ COLUMNS=80 convcost compare mobilenet_v1\n{head}\n…\n" in readme


def test_readme_shows_the_a100_example_tail() -> None:
    args = [
        "layer",
        "--in",
        "56x56x64",
        "--out",
        "64",
        "-k",
        "3",
        "--padding",
        "1",
        "--dtype",
        "fp16",
        "--device",
        "a100",
    ]
    tail = "\n".join(line.rstrip() for line in run(args).stdout.splitlines()[-14:])
    assert tail.strip() in README.read_text(encoding="utf-8")


def test_ci_runs_the_readme_test_commands() -> None:
    """.ci/run ends with the README's test commands, word for word: install, the suite, the timed checks,
    and the whole suite again in a second venv of the plain install (no onnx, no numpy)."""
    script = (README.parent / ".ci" / "run").read_text()
    commands = script.split("word for word, to the end of this file:\n", 1)[1].strip()
    assert commands.splitlines()[:3] == ["pip install '.[test,torch,onnx,plot]'", "pytest", "pytest -m perf"]
    plain, onnx_free = commands.splitlines()[3:]  # the plain install: every test without onnx or numpy
    assert plain == "python -m venv .ci-plain && .ci-plain/bin/pip install '.[test]'"
    assert onnx_free == "CONVCOST_WITHOUT_ONNX=1 .ci-plain/bin/pytest"
    assert f"```sh\n{commands}\n```" in README.read_text(encoding="utf-8")


def _sessions_with_files(readme: str) -> list[tuple[dict[str, str], list[tuple[str, str]]]]:
    """The README's console examples that show their input (``$ cat bad.yaml``): the files each
    shows, and each ``$ convcost …`` command with the output shown under it."""
    import re

    sessions = []
    for block in re.findall(r"```console\n(.*?)```", readme, re.S):
        if "\n$ cat " not in f"\n{block}":
            continue
        files, commands = {}, []
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, shown = chunk.partition("\n")
            if command.startswith("cat "):
                files[command[len("cat ") :]] = shown
            else:
                commands.append((command, shown))
        sessions.append((files, commands))
    return sessions


def test_readme_examples_that_show_their_input_reproduce(tmp_path, monkeypatch) -> None:
    import shlex

    sessions = _sessions_with_files(README.read_text(encoding="utf-8"))
    assert any("bad.yaml" in files for files, _ in sessions)  # "Errors in specs", reproducible
    monkeypatch.chdir(tmp_path)
    for files, commands in sessions:
        for name, text in files.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        for command, shown in commands:
            words = shlex.split(command)
            assert words[0] == "convcost", command
            result = CliRunner().invoke(cli, words[1:])
            printed = "\n".join(line.rstrip() for line in (result.stdout + result.stderr).splitlines())
            assert printed == shown.rstrip("\n"), command
