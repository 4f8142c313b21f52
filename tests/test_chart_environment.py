"""Charts whatever the environment: matplotlib's warnings never reach the terminal, and neither
``PYTHONWARNINGS=error``, a ``MPLBACKEND`` it does not know nor a broken matplotlib give a
traceback: a chart, or one line and exit 2 (the page keeps its tables and says why).

Each case runs in a subprocess, as the environment is read when matplotlib is imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Names a default font has no glyphs for: matplotlib warns once per missing glyph.
SPEC = """\
input: 28x28x3
layers:
  - {name: 全角, type: conv, out: 16, kernel: 3}
  - {name: 全角二, type: conv, out: 16, kernel: 3, stride: 2}
"""

ENVIRONMENTS = {
    "plain": {},
    "warnings are errors": {"PYTHONWARNINGS": "error"},
    "unknown backend": {"MPLBACKEND": "nonexistent"},
    "both": {"PYTHONWARNINGS": "error", "MPLBACKEND": "nonexistent"},
    "a window backend": {"MPLBACKEND": "TkAgg", "DISPLAY": ""},
}


def convcost(args: list[str], env: dict[str, str], path: str = "") -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "MPLBACKEND")}
    environ.update(env, PYTHONPATH=os.pathsep.join(p for p in (path, str(ROOT)) if p))
    return subprocess.run(
        [sys.executable, "-m", "convcost", *args], capture_output=True, text=True, env=environ, timeout=120
    )


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "wide.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.mark.parametrize("env", ENVIRONMENTS.values(), ids=ENVIRONMENTS.keys())
def test_a_page_of_full_width_names_has_its_charts_and_a_silent_stderr(matplotlib, spec, env) -> None:
    result = convcost(["compare", str(spec), "--format", "html"], env)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.count("<svg") >= 2 and "全角二" in result.stdout


PLOTS = [(env, "svg") for env in ENVIRONMENTS] + [("both", "png")]


@pytest.mark.parametrize(("env", "suffix"), PLOTS, ids=[f"{env}-{suffix}" for env, suffix in PLOTS])
def test_plot_draws_whatever_the_environment(matplotlib, spec, tmp_path, env, suffix) -> None:
    out = tmp_path / f"chart.{suffix}"
    result = convcost(["plot", "compare", str(spec), "-o", str(out)], ENVIRONMENTS[env])
    assert result.returncode == 0 and result.stderr == ""
    assert out.read_bytes().startswith(b"<?xml" if suffix == "svg" else b"\x89PNG")


@pytest.fixture
def broken(tmp_path: Path) -> str:
    """A matplotlib whose import fails with something other than ImportError."""
    package = tmp_path / "broken" / "matplotlib"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('raise RuntimeError("this build is broken")\n')
    return str(package.parent)


def test_a_matplotlib_that_fails_to_load_is_one_line_for_plot(spec, tmp_path, broken) -> None:
    out = tmp_path / "chart.svg"
    result = convcost(["plot", "compare", str(spec), "-o", str(out)], {"PYTHONWARNINGS": "error"}, broken)
    assert result.returncode == 2 and not out.exists()
    assert result.stderr.splitlines() == [
        "Error: plot: charts need matplotlib, which failed to load: this build is broken"
    ]


def test_a_page_without_a_loadable_matplotlib_keeps_its_tables_and_says_why(spec, broken) -> None:
    result = convcost(["compare", str(spec), "--format", "html"], {}, broken)
    assert result.returncode == 0 and result.stderr == ""
    assert "<svg" not in result.stdout and "<table" in result.stdout
    assert "failed to load: this build is broken" in result.stdout
