"""-o FILE: the suffix picks the format, a contradicting one is refused, the input is never the
output, and Ctrl-C leaves the old file whole with no temp file beside it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcost.cli import cli

LAYER = ["layer", "--in", "28x28x8", "--out", "16", "-k", "3"]
SPEC = "input: 32x32x3\nlayers:\n  - {out: 8, kernel: 3}\n"


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("suffix", "fmt"),
    [(".json", "json"), (".csv", "csv"), (".tsv", "tsv"), (".md", "markdown"), (".html", "html"),
     (".txt", "table"), (".JSON", "json")],
)  # fmt: skip
def test_the_suffix_picks_the_format(tmp_path: Path, suffix: str, fmt: str) -> None:
    target = tmp_path / f"out{suffix}"
    code, _, err = run([*LAYER, "-o", str(target)])
    assert code == 0 and err == ""
    code, expected, _ = run([*LAYER, "--format", fmt])
    if fmt == "html":  # the page names the command that made it
        assert target.read_text().startswith("<!DOCTYPE html>")
    elif fmt == "json":
        assert json.loads(target.read_text()) == json.loads(expected)
    else:
        assert target.read_text() == expected


def test_a_suffix_names_no_format_or_agrees_with_the_one_given(tmp_path: Path) -> None:
    plain = tmp_path / "out.log"
    assert run([*LAYER, "-o", str(plain)])[0] == 0
    assert plain.read_text() == run(LAYER)[1]  # the table, as before
    assert run([*LAYER, "--format", "csv", "-o", str(tmp_path / "x.csv")])[0] == 0
    assert run([*LAYER, "--format", "markdown", "-o", str(tmp_path / "x.txt")])[0] == 0
    schema = tmp_path / "s.md"
    assert run(["schema", "-o", str(schema)])[0] == 0 and schema.read_text().startswith("|")
    text = tmp_path / "s.txt"  # .txt is any text: the command's default, here schema's JSON
    assert run(["schema", "-o", str(text)])[0] == 0 and json.loads(text.read_text())


@pytest.mark.parametrize(
    ("flags", "name", "message"),
    [
        (["--format", "csv"], "x.json", "'x.json' names json output but --format csv was given"),
        (["--json"], "x.html", "'x.html' names html output but --json was given"),
    ],
)
def test_a_contradicting_suffix_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: list[str], name: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run([*LAYER, *flags, "-o", name])
    assert code == 2 and out == "" and not (tmp_path / name).exists()
    assert err == f"Error: -o/--output: {message}; change the suffix, or leave the format out\n"


def test_the_input_is_never_the_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "in.yaml"
    spec.write_text(SPEC)
    (tmp_path / "link.yaml").symlink_to(spec)
    os.link(spec, tmp_path / "hard.yaml")
    for output in ("in.yaml", "./in.yaml", str(spec), "link.yaml", "hard.yaml"):
        code, out, err = run(["compare", "in.yaml", "-o", output])
        assert code == 2 and out == "", output
        assert err.startswith("Error: -o/--output: '") and " is the input SPEC itself;" in err, err
        assert spec.read_text() == SPEC
    assert run(["compare", "link.yaml", "-o", "in.yaml"])[0] == 2
    assert run(["plot", "compare", "in.yaml", "-o", "in.yaml"])[0] == 2
    assert spec.read_text() == SPEC
    assert run(["compare", "in.yaml", "-o", "out.yaml"])[0] == 0  # another file is fine


def test_import_never_writes_over_its_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    model = tmp_path / "m.onnx"
    model.write_bytes(b"\x08\x07")  # never read: the refusal comes first
    code, _, err = run(["import", "m.onnx", "-o", "./m.onnx"])
    assert code == 2 and err.startswith("Error: -o/--output: './m.onnx' is the input MODEL itself;")
    assert model.read_bytes() == b"\x08\x07"


def test_ctrl_c_exits_130_leaving_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("convcost.output.sink.os.fsync", interrupted)
    code, out, err = run([*LAYER, "-o", str(target)])
    assert code == 130 and out == ""
    assert err == "Interrupted; nothing was written (an -o FILE is left as it was).\n"
    assert target.read_text() == "old\n" and os.listdir(tmp_path) == ["out.csv"]
