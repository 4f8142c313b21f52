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


#: Which layers of the package each layer may import (dependencies point one way).
ALLOWED = {
    "core": {"core"},
    "model": {"core", "model"},
    "io": {"core", "model", "io"},
    "output": {"core", "model", "output"},
    "api": {"core", "model", "io", "output", "api"},
    # the command line reads no file and costs nothing itself: it calls the API (see below)
    "cli": {"core", "output", "api", "cli"},
}
#: Third-party packages each layer may import: the core and the model need none.
THIRD_PARTY = {
    "core": set(),
    "model": set(),
    "io": {"yaml", "onnx", "torch"},
    "output": {"rich"},
    "api": set(),
    "cli": {"click", "yaml"},
}


def _imports() -> dict[str, list[tuple[str, bool]]]:
    """Module → (imported module, at top level?) for every module of the package."""
    import ast

    found: dict[str, list[tuple[str, bool]]] = {}
    package = ROOT / "convcost"
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        tree = ast.parse(path.read_text())
        top = {id(node) for node in tree.body}
        here = found.setdefault(module, [])
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
                for _ in range(max(node.level - 1, 0)):
                    base = base.rsplit(".", 1)[0]
                target = (
                    (f"{base}.{node.module}" if node.module else base) if node.level else node.module or ""
                )
                names = [f"{target}.{alias.name}" for alias in node.names]
                here.extend((name if name in _all_modules() else target, id(node) in top) for name in names)
            elif isinstance(node, ast.Import):
                here.extend((alias.name, id(node) in top) for alias in node.names)
    return found


def _all_modules() -> set[str]:
    modules = set()
    for path in (ROOT / "convcost").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def test_dependencies_point_one_way() -> None:
    """cli → output → model → core, and io → model → core; the core and model need no third party."""
    problems = []
    for module, imports in _imports().items():
        if module in ("convcost", "convcost.__main__"):
            continue  # the package's lazy API and the entry point
        layer = module.split(".")[1]
        for target, _ in imports:
            root = target.split(".")[0]
            if root == "convcost":
                if target in ("convcost",):
                    continue  # __version__
                if target.split(".")[1] not in ALLOWED[layer]:
                    problems.append(f"{module} imports {target}")
            elif root in {"click", "rich", "yaml", "onnx", "torch"} and root not in THIRD_PARTY[layer]:
                problems.append(f"{module} imports {target}")
    assert problems == []


def test_the_cli_reads_nothing_itself_and_calls_the_api() -> None:
    """cli/ imports neither the ONNX reader nor the spec reader nor the model: only cost() and friends."""
    readers = ("convcost.io", "convcost.model")
    found = {
        f"{module} imports {target}"
        for module, imports in _imports().items()
        if module.startswith("convcost.cli")
        for target, _ in imports
        if target.startswith(readers)
    }
    assert found == set()
    calls = {t for m, imports in _imports().items() if m.startswith("convcost.cli") for t, _ in imports}
    assert "convcost.api" in calls


def test_no_import_cycles_between_modules() -> None:
    graph = {
        module: {t for t, top in imports if t.startswith("convcost.") and top and t != module}
        for module, imports in _imports().items()
    }
    state: dict[str, int] = {}
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append(
                    " → ".join([*trail[trail.index(target) :], target]) if target in trail else target
                )
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


CORE = [
    "convcost",
    "convcost.api",
    "convcost.core.conv",
    "convcost.core.values",
    "convcost.core.forms",
    "convcost.core.traffic",
    "convcost.core.options",
    "convcost.core.devices",
    "convcost.model.kinds",
    "convcost.model.evaluate",
    "convcost.model.sweep",
    "convcost.io.schema",
    "convcost.output.summary",
    "convcost.output.json_report",
    "convcost.output.flat_tables",
]


def test_the_core_imports_no_click_rich_or_yaml() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {module}\n" for module in CORE)
        + "print(' '.join(m for m in ('click', 'rich', 'yaml') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""
