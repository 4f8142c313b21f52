"""The hostile pass of issue 20, for what the other hostile tests leave out: names built to
inject markup, formulas, escape sequences, line breaks and bidirectional or invisible
characters, from a spec and from ONNX node names, through every format; and ``-o`` in its odd
forms. Nothing may print raw, run as markup or formula, or leave a file half-written or lost.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcost.cli import cli

NAMES = [
    "<img src=x onerror=alert(1)>|`x`&amp;",
    '=HYPERLINK("http://x")',
    "\x1b[31mred\x1b[0m\ttab",
    "line\nbreak\rcr",
    "rtl\u202eevil",
    "zero\u200bwidth\ufeff",
    "](javascript:alert(1))",
    "全角名前",
]
#: What a terminal, a spreadsheet or a page must never get raw from a name.
RAW = ["\x1b", "\r", "\u202e", "\u200b", "\ufeff"]
FORMATS = ["table", "csv", "tsv", "markdown", "html", "json"]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), env={"COLUMNS": ""})


def spec_file(tmp_path: Path) -> str:
    layers = [{"name": name, "out": 4, "kernel": 3, "padding": 1} for name in NAMES]
    path = tmp_path / "evil.json"
    path.write_text(json.dumps({"input": "8x8x4", "layers": layers}), encoding="utf-8")
    return str(path)


def onnx_file(tmp_path: Path) -> str:
    pytest.importorskip("onnx")
    from onnx_build import build, node, weight

    nodes, initializers, previous = [], [], "x"
    for i, name in enumerate(NAMES):
        initializers.append(weight(f"w{i}", 4, 4, 3, 3))
        nodes.append(node("Conv", [previous, f"w{i}"], [f"y{i}"], name=name, pads=[1, 1, 1, 1]))
        previous = f"y{i}"
    model = build(nodes, [("x", [1, 4, 8, 8])], [(previous, [1, 4, 8, 8])], initializers)
    path = tmp_path / "evil.onnx"
    path.write_bytes(model.SerializeToString())
    return str(path)


def shown_names(out: str, fmt: str) -> list[str]:
    """The layer-name cells of a compare output, as written."""
    if fmt in ("csv", "tsv"):
        return [row[0] for row in csv.reader(io.StringIO(out), delimiter="\t" if fmt == "tsv" else ",")][1:]
    if fmt == "markdown":
        return [
            re.split(r"(?<!\\)\|", line)[1].strip() for line in out.splitlines()[2:] if line.startswith("|")
        ]
    return []


@pytest.mark.parametrize("source", ["spec", "onnx"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_names_pass_through_every_format_inert(tmp_path, source, fmt) -> None:
    path = spec_file(tmp_path) if source == "spec" else onnx_file(tmp_path)
    result = invoke("compare", path, "--format", fmt)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    if fmt == "json":
        names = [layer["name"] for layer in json.loads(out)["layers"]]
        if source == "spec":
            assert names == NAMES  # the data, exact; JSON's own escaping keeps it inert
        return
    assert not [c for c in RAW if c in out], f"raw {[hex(ord(c)) for c in RAW if c in out]}"
    assert "<img" not in out or fmt in ("table", "csv", "tsv")  # markup only where it is markup
    if source == "onnx":  # the converter makes node names identifiers: inert by construction
        assert not [n for n in shown_names(out, fmt) if not re.fullmatch(r"\w+", n)]
        return
    if fmt == "html":
        assert "&lt;img src=x onerror=alert(1)&gt;" in out and "<script" not in out
    names = shown_names(out, fmt)
    if fmt in ("csv", "tsv", "markdown"):
        assert len(names) == len(NAMES)
        if fmt != "markdown":  # the formula guard, for spreadsheets
            assert not [n for n in names if n.startswith(("=", "+", "-", "@"))]
            assert names[1].startswith("'=HYPERLINK")
        assert "\\x1b[31mred" in names[2] and "\\u202e" in names[4] and "\\u200b" in names[5]
        assert "全角名前" in names
    if fmt == "markdown":
        assert (
            "&lt;img" in names[0] and "\\|" in names[0] and "\\`x\\`" in names[0] and "&amp;amp;" in names[0]
        )
        assert names[6].startswith("]\\(")  # no link
    if fmt == "table":
        lines = out.splitlines()
        assert any("line\\nbreak\\rcr" in line for line in lines)
        assert not any(line.startswith("break") for line in lines)


def test_a_name_cannot_forge_a_line_of_its_own_in_a_pipe(tmp_path) -> None:
    out = invoke("compare", spec_file(tmp_path)).stdout
    assert len([line for line in out.splitlines() if "break" in line]) == 1


# ------------------------------------------------------------------ the environment

ROOT = Path(__file__).resolve().parent.parent


def in_process(args: list[str], env: dict[str, str], stdin: bytes | None = None, cwd: Path | None = None):
    import subprocess
    import sys

    environ = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "convcost", *args],
        capture_output=True,
        input=stdin,
        env=environ,
        cwd=cwd,
        timeout=120,
    )


def test_an_ascii_stdout_loses_no_name(tmp_path) -> None:
    """Characters with no ASCII stand-in are written as escapes, not '?': JSON reads back exact."""
    path = spec_file(tmp_path)
    env = {"PYTHONIOENCODING": "ascii"}
    result = in_process(["compare", path, "--json"], env)
    assert result.returncode == 0 and result.stdout.isascii()
    assert [layer["name"] for layer in json.loads(result.stdout)["layers"]] == NAMES
    result = in_process(["compare", path, "--format", "csv"], env)
    assert result.returncode == 0 and b"?" not in result.stdout
    assert b"\\u5168\\u89d2\\u540d\\u524d," in result.stdout
    table = in_process(["compare", path], env)
    assert table.returncode == 0 and table.stderr == b"" and b"\\u5168\\u89d2" in table.stdout


@pytest.mark.parametrize("columns", ["0", "5", "100000", "-3", "abc"])
def test_any_columns_value_gives_the_table(tmp_path, columns) -> None:
    result = in_process(["compare", spec_file(tmp_path)], {"COLUMNS": columns})
    assert result.returncode == 0 and result.stderr == b""
    assert b"73,728" in result.stdout  # the total, whole


@pytest.mark.parametrize("shell", ["bash_source", "zsh_source", "fish_source"])
def test_shell_completion_scripts_are_written(shell) -> None:
    result = in_process([], {"_CONVCOST_COMPLETE": shell})
    assert result.returncode == 0 and result.stderr == b"" and b"convcost" in result.stdout


# ------------------------------------------------------------------ -o in odd forms


def test_a_loop_of_links_is_refused_and_left_as_it_was(tmp_path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    (tmp_path / "self.svg").symlink_to("self.svg")
    for out, args in (("a", ["compare", "seed_layer"]), ("self.svg", ["plot", "compare", "seed_layer"])):
        result = invoke(*args, "-o", str(tmp_path / out))
        assert result.exit_code == 2
        assert (
            result.stderr.endswith("its symbolic links form a loop\n")
            and len(result.stderr.splitlines()) == 1
        )
    assert os.readlink(tmp_path / "a") == "b" and os.readlink(tmp_path / "self.svg") == "self.svg"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "self.svg"]


def test_stdin_redirected_from_the_output_file_is_the_input_itself(tmp_path) -> None:
    spec = tmp_path / "in.yaml"
    text = (ROOT / "specs" / "seed_layer.yaml").read_bytes()
    spec.write_bytes(text)
    with spec.open("rb") as stdin:
        import subprocess
        import sys

        result = subprocess.run(
            [sys.executable, "-m", "convcost", "compare", "-", "-o", "in.yaml"],
            stdin=stdin,
            capture_output=True,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
        )
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        "Error: -o/--output: 'in.yaml' is the input SPEC itself; writing it would replace what is read; "
        "give another file"
    ]
    assert spec.read_bytes() == text
    piped = in_process(["compare", "-", "-o", "other.txt"], {}, stdin=text, cwd=tmp_path)
    assert piped.returncode == 0 and (tmp_path / "other.txt").read_text().startswith("<stdin>: 2 layers")


@pytest.mark.parametrize("name", ["new.txt/", "page.html/", "x.svg/"])
def test_a_name_ending_in_a_slash_is_never_written_as_a_file(tmp_path, name) -> None:
    args = ["plot", "compare", "seed_layer"] if name.endswith(".svg/") else ["compare", "seed_layer"]
    result = invoke(*args, "-o", f"{tmp_path}/{name}")  # pathlib would drop the slash
    assert result.exit_code == 2 and result.stderr.endswith("is a folder's; give a file name\n")
    assert list(tmp_path.iterdir()) == []


def test_sigterm_leaves_the_old_file_and_no_temp(tmp_path) -> None:
    """A SIGTERM in the middle of writing -o (sent by the run itself as it syncs the temporary file,
    so that it lands there on any machine, never before the handler or after the rename): exit 143,
    nothing on stderr, the old file as it was and no temporary file."""
    import signal
    import subprocess
    import sys

    out = tmp_path / "page.html"
    out.write_text("old\n")
    code = (
        "import os, signal, sys\n"
        "import convcost.output.sink as sink\n"
        "sink.os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGTERM)\n"
        "from convcost.cli import main\n"
        f"sys.argv = ['convcost', 'layer', '--in', '28x28x8', '--out', '16', '-k', '3', '-o', {str(out)!r}]\n"
        "main()\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 128 + signal.SIGTERM and process.stderr == b"", process.stderr
    assert out.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["page.html"]


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"_CONVCOST_COMPLETE": "bogus"}, "'bogus' is no completion instruction; use bash_source"),
        ({"_CONVCOST_COMPLETE": "fish_complete"}, "fish_complete needs COMP_WORDS and COMP_CWORD"),
        (
            {"_CONVCOST_COMPLETE": "bash_complete", "COMP_WORDS": "convcost co", "COMP_CWORD": "x"},
            "needs COMP",
        ),
    ],
)
def test_a_broken_completion_environment_is_one_line(env, needle) -> None:
    result = in_process([], env)
    assert result.returncode == 2 and result.stdout == b""
    (line,) = result.stderr.decode().splitlines()
    assert line.startswith("Error: _CONVCOST_COMPLETE") and needle in line


def test_completion_completes() -> None:
    env = {
        "_CONVCOST_COMPLETE": "bash_complete",
        "COMP_WORDS": "convcost compare --format ",
        "COMP_CWORD": "3",
    }
    result = in_process([], env)
    assert result.returncode == 0 and b"plain,markdown" in result.stdout and result.stderr == b""
