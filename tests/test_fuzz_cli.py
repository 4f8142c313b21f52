"""Fuzzing the command line (issue 10): random argument lists for every command.

Arguments are drawn from the real options and from a pool of odd and hostile values (huge
ints, signs, unicode digits, control characters, ranges, paths that are not files). The
property: exit status 0 or 2, never a traceback; with status 2 nothing on stdout and only
``Error:`` lines on stderr, no control character among them. Each run's time is held to
the 2 s budget only in the timed run (``pytest -m perf``, see ``Clock`` in conftest).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcost.cli import cli
from tests.conftest import Clock

ROOT = Path(__file__).resolve().parent.parent
SECONDS = 2.0  # per example, in-process, timed under -m perf only
CLOCK = Clock()
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("clock")]
EXAMPLES = int(os.environ.get("CONVCOST_FUZZ_EXAMPLES", "1000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

COMMANDS = ["layer", "compare", "sweep", "import", "schema", "devices", "bogus", "--version", "--help"]
OPTIONS = [
    "--in", "--out", "-k", "--kernel", "--stride", "--padding", "--dilation", "--groups", "--bias",
    "--no-bias", "--transposed", "--output-padding", "--dtype", "--batch", "--fused", "--count",
    "--count-bias", "--no-count-bias", "--device", "--peak-tflops", "--bandwidth-gbs", "--json",
    "--format", "--as", "--width-mult", "-h", "-", "--bogus",
]  # fmt: skip
VALUES = [
    "28x28x8", "8x8x4", "300x16", "16x56x56x64", "3", "3x5", "1", "0", "-1", "+-5", "++5", "１６", "٣",
    "16..1024*2", "1..100000000", "1..10:0", "3..1", "16,32,64", "1,,2", "same", "valid", "0:1x0:1",
    "1:2:3", "fp16", "int8", "FP32", "ops", "flops", "h100", "H-100", "custom", "1e300", "1e-320", "nan",
    "inf", "-0", "0.75", "3/4", "1/0", "1e999999999", "regular", "separable", "json", "csv", "markdown",
    "table", "x", "", " ", "\n", "\x1b[31m", "\u202e", "a\nError: forged", "9" * 31, "1" + "0" * 5000,
    "x".join(["9" * 30] * 8), "x".join(["1"] * 300), str(ROOT / "specs" / "resnet18.yaml"),
    str(ROOT / "specs" / "mobilenet_v1.yaml"), str(ROOT / "specs"), "/nonexistent.yaml", "/dev/null",
    "/dev/zero", "model.onnx", str(ROOT / "pyproject.toml"), str(ROOT / "README.md"),
]  # fmt: skip
TOKENS = st.one_of(
    st.sampled_from(OPTIONS),
    st.sampled_from(VALUES),
    st.integers(-(10**6), 10**6).map(str),
    st.text(max_size=8),
)


def names_an_output_file(arg: str) -> bool:
    """-o/--output FILE writes where it is told: a fuzzer must never aim it at the repository or /dev."""
    return arg == "--output" or arg.startswith("--output=") or (arg.startswith("-o") and arg[1:2] != "-")


def check_run(args: list[str], stdin: str) -> None:
    args = [arg for arg in args if not names_an_output_file(arg)]
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:  # whatever a run writes lands here
        os.chdir(scratch)
        try:
            with CLOCK.bound(SECONDS, args):
                result = CliRunner().invoke(cli, args, input=stdin)
        finally:
            os.chdir(here)
    assert result.exception is None or isinstance(result.exception, SystemExit), (result.exception, args)
    assert result.exit_code in (0, 2), (result.exit_code, args, result.output[-500:])
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        assert result.stdout == "", args
        lines = result.stderr.splitlines()
        assert lines and all(line.startswith("Error: ") for line in lines), (args, lines)
        assert all(ch == "\n" or ch >= " " for ch in result.stderr), repr(result.stderr[:300])


@FUZZ
@given(st.sampled_from(COMMANDS), st.lists(TOKENS, max_size=12), st.sampled_from(["", "layers: []", "{"]))
def test_random_arguments(command: str, tokens: list[str], stdin: str) -> None:
    check_run([command, *tokens], stdin)


def _mostly(good: list[str]) -> st.SearchStrategy[str]:
    """A good value three times in four; else anything from the pool."""
    return st.one_of(
        st.sampled_from(good), st.sampled_from(good), st.sampled_from(good), st.sampled_from(VALUES)
    )


LAYER_OPTIONS = {
    "--stride": ["1", "2", "2x1", "3"],
    "--padding": ["0", "1", "same", "valid", "0:1x1:0", "2"],
    "--dilation": ["1", "2", "1x2"],
    "--groups": ["1", "2", "4", "8"],
    "--output-padding": ["0", "1"],
    "--batch": ["1", "2", "64", "9" * 30],
    "--dtype": ["fp32", "fp16", "bf16", "int8"],
    "--count": ["macs", "flops", "ops"],
    "--device": ["h100", "a100", "rpi5", "orin"],
    "--format": ["table", "json", "csv", "markdown"],
}
SWEEP_OPTIONS = ("--stride", "--padding", "--dilation", "--groups", "--format")


def _layer_args(sweep: bool) -> st.SearchStrategy[list[str]]:
    """Every required option present, values mostly valid: past the usage errors, into the arithmetic."""
    names = [name for name in LAYER_OPTIONS if not sweep or name in SWEEP_OPTIONS]
    optional = st.lists(
        st.sampled_from(names).flatmap(lambda n: st.tuples(st.just(n), _mostly(LAYER_OPTIONS[n]))), max_size=4
    )
    flags = ["--bias", "--json"] + ([] if sweep else ["--transposed", "--fused", "--count-bias"])
    shapes = ["28x28x8", "8x8x4", "300x16", "16x8x8x8", "5x5x2"] + (["28x28x8,8x8x4"] if sweep else [])
    outs = ["16", "4", "8", "1"] + (["16..64*2", "4..12:4"] if sweep else [])
    return st.builds(
        lambda shape, out, k, opts, fl, roof: [
            "--in", shape, "--out", out, "-k", k, *[x for o in opts for x in o], *fl, *roof
        ],
        _mostly(shapes),
        _mostly(outs),
        _mostly(["3", "1", "3x1", "5"] + (["1,3,5"] if sweep else [])),
        optional,
        st.lists(st.sampled_from(flags), max_size=2),
        st.just([]) if sweep else st.sampled_from(
            [[], [], ["--peak-tflops", "1e3", "--bandwidth-gbs", "1e3"], ["--peak-tflops", "1e300", "--bandwidth-gbs", "1"]]
        ),
    )  # fmt: skip


@FUZZ
@given(st.booleans().flatmap(lambda sweep: st.tuples(st.just(sweep), _layer_args(sweep))))
def test_random_layer_and_sweep_values(case: tuple[bool, list[str]]) -> None:
    sweep, args = case
    check_run(["sweep" if sweep else "layer", *args], "")
