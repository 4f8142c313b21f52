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
    """Render a rich object as the plain text a pipe would get, at a fixed width."""
    from convcost.render import make_console

    buffer = io.StringIO()
    make_console(file=buffer, width=width).print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


@pytest.fixture(name="render_plain")
def render_plain_fixture():
    """The :func:`render_plain` helper, for tests that render rich objects."""
    return render_plain


@pytest.fixture(scope="session")
def torch() -> ModuleType:
    """PyTorch for cross-checks: skipped locally when missing, a failure in CI."""
    try:
        import torch as torch_module
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("torch is required in CI (pip install '.[torch]'); the cross-checks must run")
        pytest.skip("torch is not installed (pip install '.[torch]')")
    torch_module.set_num_threads(1)
    return torch_module
