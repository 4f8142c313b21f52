"""`compare --json` stage by stage against its floor, in one process (a benchmark, not a test).

    python benchmarks/bench_compare_stages.py [--layers 10000] [--rounds 5]

The floor is what any tool must do: load the YAML with libyaml's C loader and ``json.dumps``
an object as large as convcost's output. Beside it, convcost's own stages: reading the spec
(line-tracking loader, limits), checking and costing the graph, building the summary,
building the JSON document, dumping it. Target (issue #12): ≤ 1.5× the floor at 10,000
distinct convs; ≤ 2× at 100,000 (``--layers 100000``: past the default layer budget, so run
with ``--max-layers``), with peak memory ≤ 2× the floor's (``--memory``: peak RSS of whole
processes, the floor's holding convcost's output as objects). Prints each round and the range of the ratio.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

import yaml
from bench_compare import write_spec
from bench_layer import convcost_command
from floor import display, leaves, same_shape

from convcost.core import limits
from convcost.core.options import DEFAULT
from convcost.io.spec_file import read
from convcost.model.evaluate import evaluate
from convcost.output.json_report import network_document
from convcost.output.summary import network_summary


def stages(data: bytes) -> dict[str, float]:
    times = {}
    start = time.perf_counter()
    document = read(data)
    times["read"] = time.perf_counter() - start
    start = time.perf_counter()
    network = evaluate(document)
    times["evaluate"] = time.perf_counter() - start
    start = time.perf_counter()
    summary = network_summary(network, "spec", DEFAULT)
    times["summary"] = time.perf_counter() - start
    start = time.perf_counter()
    out = network_document(summary)
    times["document"] = time.perf_counter() - start
    start = time.perf_counter()
    json.dumps(out, separators=(",", ":"))
    times["dumps"] = time.perf_counter() - start
    start = time.perf_counter()
    yaml.load(data, Loader=yaml.CSafeLoader)
    load = time.perf_counter() - start
    start = time.perf_counter()
    json.dumps(out, separators=(",", ":"))
    times["floor"] = load + time.perf_counter() - start
    builders = _builders(out["layers"])
    rows = [leaves(row) for row in out["layers"]]
    start = time.perf_counter()
    for build, row in zip(builders, rows, strict=True):
        build(row)
    times["build"] = time.perf_counter() - start  # the rows' objects made as literal displays
    return times


def _builders(rows: list[dict[str, object]]) -> list[Callable[[list[object]], object]]:
    """One display per row structure (a conv row, a separable row, a batch-norm row…)."""
    made: list[tuple[dict[str, object], Callable[[list[object]], object]]] = []
    chosen = []
    for row in rows:
        build = next((b for template, b in made if same_shape(template, row)), None)
        if build is None:
            build = display(row)
            made.append((row, build))
        chosen.append(build)
    return chosen


#: The floor as a process: load the spec with libyaml, hold convcost's output as objects (read
#: back from its file), dump them. Its peak RSS is the memory any tool needs for that output.
FLOOR = (
    "import json, sys, yaml; spec = yaml.load(open(sys.argv[1], 'rb'), Loader=yaml.CSafeLoader); "
    "out = json.load(open(sys.argv[2])); sys.stdout.write(json.dumps(out, separators=(',', ':')))"
)


def peak_rss(command: list[str]) -> int:
    """Peak RSS (KB) of one process, by GNU time."""
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True
    )
    return int(done.stderr.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--memory", action="store_true", help="also compare whole-process peak memory")
    args = parser.parse_args()
    budget = max(args.layers, limits.DEFAULT_MAX_LAYERS)  # --max-layers, for specs past the default
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "distinct.yaml"
        write_spec(spec, args.layers, distinct=True)
        data = spec.read_bytes()
        gc.disable()  # as compare does while costing
        ratios: list[float] = []
        least: list[float] = []
        with limits.allowing(budget):
            for _ in range(args.rounds):
                t = stages(data)
                ours = t["read"] + t["evaluate"] + t["summary"] + t["document"] + t["dumps"]
                ratios.append(ours / t["floor"])
                least.append((t["floor"] + t["build"]) / t["floor"])
                parts = "  ".join(f"{k} {v:.2f}" for k, v in t.items() if k not in ("floor", "build"))
                print(f"{parts}  | convcost {ours:.2f} s, floor {t['floor']:.2f} s: {ours / t['floor']:.2f}×")
        print(f"{args.layers:,} distinct convs: {min(ratios):.2f}–{max(ratios):.2f}× the load+dump floor")
        print(
            f"  the floor plus building the rows as literal displays (no arithmetic, no checks): "
            f"{min(least):.2f}–{max(least):.2f}× the floor"
        )
        if args.memory:
            gc.enable()
            output = Path(tmp) / "out.json"
            command = [*convcost_command(), "compare", str(spec), "--json", "--max-layers", str(budget)]
            output.write_bytes(subprocess.run(command, capture_output=True, check=True).stdout)
            for _ in range(2):
                ours_kb = peak_rss(command)
                floor_kb = peak_rss([sys.executable, "-c", FLOOR, str(spec), str(output)])
                ratio = ours_kb / floor_kb
                print(f"peak RSS: ours {ours_kb / 1e3:.0f} MB, floor {floor_kb / 1e3:.0f} MB: {ratio:.2f}×")


if __name__ == "__main__":
    main()
