"""Peak-memory costing on a 20,000-layer spec, against `compare` itself (a benchmark, not a test).

    python benchmarks/bench_memory.py [--layers 20000] [--runs 5]

Measured in one process, on the same spec: what `compare --json` does past start-up (load the
YAML, cost every layer, build the summary, write the JSON), then peak memory in graph order,
then with the best-order search, and patch-based inference (4×4) on top. Two specs: a chain
(the bench_compare spec: convs, separable convs, 1×1 convs, batch norms) and the same number of
layers as residual blocks (expand, depthwise, project, add: the search has parts of four steps).
The issue asks memory costing to be linear in the layers and to run in about the time of
`compare` itself: the ratios say how close.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_compare import write_spec


def write_residual_spec(path: Path, layers: int) -> None:
    """Inverted residual blocks of four rows each (expand 1×1, depthwise 3×3, project 1×1, add)."""
    with path.open("w") as out:
        out.write("input: 28x28x32\nlayers:\n")
        for i in range(layers // 4):
            out.write(
                f"  - name: r{i}\n    type: residual\n    body:\n"
                "      - {name: expand, out: 192, kernel: 1}\n"
                "      - {name: dw, type: depthwise, kernel: 3, padding: 1}\n"
                "      - {name: project, out: 32, kernel: 1}\n"
            )


def median_seconds(work: Callable[[], object], runs: int) -> float:
    work()  # warm
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import yaml

    from convcost.core import limits
    from convcost.core.options import settings
    from convcost.model.evaluate import evaluate
    from convcost.model.memory import memory
    from convcost.model.patches import patched
    from convcost.output.json_report import network_dict

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    chosen = settings("int8")
    with tempfile.TemporaryDirectory() as tmp, limits.allowing(max(args.layers, limits.DEFAULT_MAX_LAYERS)):
        for label, writer in (("chain", write_spec), ("residual blocks", write_residual_spec)):
            spec = Path(tmp) / "big.yaml"
            writer(spec, args.layers)
            text = spec.read_text()

            def compare(text: str = text) -> object:
                network = evaluate(yaml.load(text, Loader=loader))
                buffer = io.StringIO()
                json.dump(network_dict(network, "big.yaml", chosen), buffer)
                return buffer

            network = evaluate(yaml.load(text, Loader=loader))
            rows = network.row_count
            base = median_seconds(compare, args.runs)
            timings = {
                "peak, graph order": median_seconds(
                    lambda n=network: memory(n, "int8", best_order=False), args.runs
                ),
                "peak and best order": median_seconds(lambda n=network: memory(n, "int8"), args.runs),
                "patches 4x4 (split searched)": median_seconds(
                    lambda n=network: patched(n, "4x4", "int8"), max(1, args.runs // 2)
                ),
            }
            found = memory(network, "int8")
            assert found.best_order is not None
            print(f"{label}: {rows:,} rows; compare past start-up {base:.3f} s")
            for name, seconds in timings.items():
                print(f"  {name:32} {seconds:7.3f} s  {seconds / base:5.2f}× compare")
            best = found.best_order
            print(
                f"  peak {found.peak_bytes:,} B at {found.peak_at}; best order {best.peak_bytes:,} B "
                f"({best.method}, {best.parts:,} parts)"
            )


if __name__ == "__main__":
    main()
