"""Per-point cost of `convcost sweep` (a benchmark, not a test: run it by hand).

    python benchmarks/bench_sweep.py [--runs 7]

Whole-process medians, run in rotation with `convcost layer … --json` (the same start-up
with one layer). For each sweep: microseconds a point beyond that start-up for `--json`, and
the table's time over its own `--json`. Targets (issue #12): ≤ 50 µs a point for `--json`;
table ≤ 1.5× its `--json`. Prints the range over runs beside each median.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_layer import bench_env, convcost_command

#: Sweeps of 5,000 points: one axis (out), and a product of four axes.
SWEEPS = {
    "out 1..5000, 3×3": (["--in", "56x56x64", "--out", "1..5000", "-k", "3", "--padding", "same"], 5000),
    "in × out × k × stride": (
        [
            "--in", "56x56x64,28x28x128", "--out", "8..2000:8", "-k", "1,3,5,7,9",
            "--stride", "1,2",
        ],
        5000,
    ),
}  # fmt: skip


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    cc = convcost_command()
    env = bench_env(COLUMNS="120")
    commands = {"layer --json": [*cc, "layer", "--in", "56x56x64", "--out", "16", "-k", "3", "--json"]}
    for name, (flags, _points) in SWEEPS.items():
        commands[f"{name} --json"] = [*cc, "sweep", *flags, "--json"]
        commands[f"{name} table"] = [*cc, "sweep", *flags]
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        timed(command, env)  # warm the page cache
    for _ in range(args.runs):
        for name, command in commands.items():
            samples[name].append(timed(command, env))
    start_up = statistics.median(samples["layer --json"])
    print(f"layer --json (start-up)  {start_up * 1000:6.1f} ms")
    for name, (_flags, points) in SWEEPS.items():
        json_runs, table_runs = samples[f"{name} --json"], samples[f"{name} table"]
        per_point = [(t - start_up) / points * 1e6 for t in json_runs]
        ratios = [table / js for table, js in zip(table_runs, json_runs, strict=True)]
        print(
            f"{name:24s} --json {statistics.median(json_runs):5.2f} s: "
            f"{statistics.median(per_point):5.1f} µs a point ({min(per_point):.1f}–{max(per_point):.1f}; "
            f"target ≤ 50)   table / --json {statistics.median(ratios):4.2f}× "
            f"({min(ratios):.2f}–{max(ratios):.2f}; target ≤ 1.5)"
        )

    in_process()


def in_process(rounds: int = 3) -> None:
    """The out sweep's stages per point in one process, beside the least CPython can spend on the
    same output: conv() + compare() (the arithmetic), the point's objects built as one literal
    display (benchmarks/floor.py), json.dumps."""
    import gc
    import json

    from floor import display, leaves

    from convcost import compare, conv
    from convcost.core.options import DEFAULT
    from convcost.model.sweep import sweep
    from convcost.output.json_report import sweep_document
    from convcost.output.summary import sweep_summary

    gc.disable()  # as the sweep command does
    swept, fixed = {"out": "1..5000"}, {"in": "56x56x64", "kernel": "3", "padding": "same"}
    for _ in range(rounds):
        t = time.perf_counter()
        points = sweep(swept, fixed)
        summary = sweep_summary(points, DEFAULT)
        document = sweep_document(summary)
        json.dumps(document, separators=(",", ":"))
        ours = (time.perf_counter() - t) / len(points) * 1e6
        build = display(document["points"][0])
        values = [leaves(point) for point in document["points"]]
        t = time.perf_counter()
        for out in range(1, 5001):
            compare(conv((56, 56, 64), out, 3, padding=1))
        built = [build(point) for point in values]
        json.dumps(built, separators=(",", ":"))
        least = (time.perf_counter() - t) / len(points) * 1e6
        print(
            f"in one process: {ours:5.1f} µs a point; the least CPython can do (arithmetic, "
            f"one display, dumps): {least:5.1f} µs; {ours / least:.2f}×"
        )
        gc.collect()


if __name__ == "__main__":
    main()
