"""Start-up and throughput of `convcost layer` (a benchmark, not a test: run it by hand).

    python benchmarks/bench_layer.py [--runs 41]

Whole-process medians of the JSON and table paths, beside `python -c "import click"`
and `python -c "import click, rich"` measured in the same run, and the Python
API's throughput for single-layer costs on one core. Targets (issue #2):
--json ≤ 2.0× import click; table ≤ 1.6× import click, rich; API ≥ 100,000 layers/s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = ["layer", "--in", "28x28x8", "--out", "16", "-k", "3"]


def convcost_command() -> list[str]:
    script = Path(sys.executable).parent / "convcost"
    found = str(script) if script.exists() else shutil.which("convcost")
    return [found] if found else [sys.executable, "-m", "convcost"]


#: Where the benchmarked processes cache their bytecode, as an installed package has it (this
#: machine sets PYTHONDONTWRITEBYTECODE, so an editable checkout would compile convcost's
#: sources in every run: about 80 ms no installed convcost pays).
PYCACHE = tempfile.mkdtemp(prefix="convcost-bench-pycache-")


def bench_env(**extra: str) -> dict[str, str]:
    """The environment of every benchmarked process: bytecode cached in :data:`PYCACHE`."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": PYCACHE, **extra}


def medians(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Whole-process median seconds of each command, run in rotation so drift hits all alike
    (a first run of each warms the page cache and the bytecode cache)."""
    env = bench_env()
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        subprocess.run(command, capture_output=True, check=True, env=env)  # warm the page cache
    for _ in range(runs):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True, env=env)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def api_throughput(seconds: float = 2.0) -> float:
    from convcost import conv

    shapes = [(28, 28, 8), (56, 56, 64), (14, 14, 512), (224, 224, 3)]
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for shape in shapes:
            for out in (16, 32, 64, 128):
                layer = conv(shape, out, 3, stride=1, padding=1)
                layer.macs  # noqa: B018 — the cost is what is measured
                layer.params  # noqa: B018
        count += 16
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=41)
    args = parser.parse_args()
    cc = convcost_command()
    rows = medians(
        {
            "python -c 'import click'": [sys.executable, "-c", "import click"],
            "python -c 'import click, rich'": [sys.executable, "-c", "import click, rich"],
            "python -c 'import click, rich.console, rich.table'": [
                sys.executable,
                "-c",
                "import click, rich.console, rich.table",
            ],
            "convcost layer … --json": [*cc, *SEED, "--json"],
            "convcost layer … (table)": [*cc, *SEED],
        },
        args.runs,
    )
    for name, value in rows.items():
        print(f"{name:52s} {value * 1000:7.1f} ms")
    json_ratio = rows["convcost layer … --json"] / rows["python -c 'import click'"]
    table_ratio = rows["convcost layer … (table)"] / rows["python -c 'import click, rich'"]
    print(f"--json / import click          {json_ratio:5.2f}×  (target ≤ 2.0×)")
    print(f"table / import click, rich     {table_ratio:5.2f}×  (target ≤ 1.6×)")
    floor = (
        rows["python -c 'import click, rich.console, rich.table'"] / rows["python -c 'import click, rich'"]
    )
    print(f"  floor: rich.console + rich.table alone {floor:5.2f}×")
    rate = api_throughput()
    print(f"API single-layer costs         {rate:,.0f} layers/s  (target ≥ 100,000)")


if __name__ == "__main__":
    main()
