"""Shared fixtures: golden files with an update switch, and torch that CI requires."""

from __future__ import annotations

import io
import os
from pathlib import Path
from types import ModuleType

import pytest

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_WIDTH = 120


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/golden/*.txt from the current output instead of comparing.",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """Compare text against tests/golden/<name>.txt (or rewrite it with --update-golden)."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / f"{name}.txt"
        if request.config.getoption("--update-golden"):
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"no golden file {path}; run pytest --update-golden"
        assert text == path.read_text(encoding="utf-8")

    return check


def render_plain(renderable: object, width: int = GOLDEN_WIDTH) -> str:
    """Render a rich object (every view block is one, see text_table.Block.__rich_console__) as the
    plain text a pipe would get, at a fixed width."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, highlight=False, markup=False, emoji=False, color_system=None)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


@pytest.fixture(name="render_plain")
def render_plain_fixture():
    """The :func:`render_plain` helper, for tests that render rich objects."""
    return render_plain


def optional_module(name: str, extra: str) -> ModuleType:
    """An optional extra's module: the test is skipped locally without it, and fails in CI."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required in CI (pip install '.[{extra}]'); these checks must run")
        pytest.skip(f"{name} is not installed (pip install '.[{extra}]')")


@pytest.fixture(scope="session")
def torch() -> ModuleType:
    """PyTorch for cross-checks."""
    module = optional_module("torch", "torch")
    module.set_num_threads(1)
    return module


@pytest.fixture(scope="session")
def onnx() -> ModuleType:
    """The onnx package, for reading models."""
    return optional_module("onnx", "onnx")
