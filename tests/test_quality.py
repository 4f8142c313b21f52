"""The package stays lint-clean and type-checks under mypy --strict (configured in pyproject)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> list[str]:
    exe = Path(sys.executable).parent / name
    if exe.exists():
        return [str(exe)]
    if shutil.which(name):
        return [name]
    if os.environ.get("CI"):
        pytest.fail(f"{name} is required in CI (pip install '.[test]')")
    pytest.skip(f"{name} is not installed")


def test_ruff_is_clean() -> None:
    proc = subprocess.run([*_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_is_clean() -> None:
    proc = subprocess.run([*_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


CORE = [
    "convcost",
    "convcost.conv",
    "convcost.values",
    "convcost.variants",
    "convcost.layers",
    "convcost.network",
    "convcost.memory",
    "convcost.settings",
    "convcost.devices",
    "convcost.report",
    "convcost.sweep",
    "convcost.schema",
    "convcost.formats",
]


def test_the_core_imports_no_click_rich_or_yaml() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {module}\n" for module in CORE)
        + "print(' '.join(m for m in ('click', 'rich', 'yaml') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""
