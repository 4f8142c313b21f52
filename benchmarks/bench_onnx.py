"""`convcost compare MODEL.onnx --json` against a bare `onnx.load` (a benchmark, not a test).

    python benchmarks/bench_onnx.py [MODEL.onnx] [--runs 5]

Whole processes, run alternately: convcost on the model, then
`python -c "import onnx, sys; onnx.load(sys.argv[1])" MODEL`, the floor any ONNX tool pays
(start-up, the onnx import, reading and parsing the file). Prints each one's median wall time,
CPU time (user + system: steadier on a busy machine) and peak RSS with their ranges, and the
convcost / floor ratios, of the medians and the range of the per-pair ones. Without MODEL, a
ConvNeXt-Tiny with its weights (about 114 MB) is exported with the TorchScript exporter into a
temporary folder first (needs torch: the test extra).
Target (issue #12): on a ~100 MB model with weights, ≤ 1.3× the floor's time and peak RSS.

Both run with their bytecode cached (a temporary PYTHONPYCACHEPREFIX, warmed by a first run of
each), as an installed package has it: an editable checkout run with PYTHONDONTWRITEBYTECODE
would compile convcost's sources in every run, a cost no installed convcost pays. Each child's
peak RSS is its own (``os.wait4``), not the maximum over every child so far.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from bench_layer import convcost_command

FLOOR = "import onnx, sys; onnx.load(sys.argv[1])"
EXPORT = (
    "import sys; from tests.torch_nets import export, zoo; model, shape = zoo.convnext_tiny(); "
    "export.randomize(model.eval()); export.export_ts(model, shape, 'convnext_tiny', sys.argv[1])"
)


class Sample(NamedTuple):
    wall: float  # seconds
    cpu: float  # user + system seconds
    peak: float  # peak RSS, MB


def run(command: list[str], env: dict[str, str]) -> Sample:
    """One process's times and peak RSS (its own, from ``wait4``)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert child.stderr is not None
    errors = child.stderr.read()  # empty unless it fails; read before waiting, so a full pipe never blocks
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    child.stderr.close()
    if child.returncode != 0:
        text = errors.decode(errors="replace")
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}):\n{text}")
    return Sample(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)  # KiB on Linux


def export_convnext(folder: Path) -> Path:
    """ConvNeXt-Tiny with its (random, seeded) weights, through the TorchScript exporter.

    In a child process: Linux counts the RSS a process has when it forks into its child's peak, so
    this one must never hold torch."""
    path = folder / "convnext_tiny.onnx"
    subprocess.run([sys.executable, "-c", EXPORT, str(path)], cwd=Path(__file__).parent.parent, check=True)
    return path


def spread(values: list[float], unit: str, digits: int) -> str:
    """The median and the range."""
    low, middle, high = (f"{v:.{digits}f}" for v in (min(values), statistics.median(values), max(values)))
    return f"{middle} {unit} ({low}–{high})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path, help="an ONNX model (default: export ConvNeXt-Tiny)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or export_convnext(Path(tmp))
        size = model.stat().st_size
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        commands = {
            "convcost compare --json": [*convcost_command(), "compare", str(model), "--json"],
            "python: onnx.load": [sys.executable, "-c", FLOOR, str(model)],
        }
        for command in commands.values():
            run(command, env)  # caches the bytecode and the file's pages
        samples: dict[str, list[Sample]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                samples[name].append(run(command, env))
    print(f"{model} ({size / 1e6:.0f} MB), {args.runs} runs each, alternating")
    for name, found in samples.items():
        wall, cpu = spread([s.wall for s in found], "s", 3), spread([s.cpu for s in found], "s", 3)
        print(f"{name:24s} {wall:24s} CPU {cpu:24s} peak RSS {spread([s.peak for s in found], 'MB', 0)}")
    ours, floor = samples["convcost compare --json"], samples["python: onnx.load"]
    for label, field in (("time", "wall"), ("CPU time", "cpu"), ("peak RSS", "peak")):
        ratios = [getattr(o, field) / getattr(f, field) for o, f in zip(ours, floor, strict=True)]
        median = statistics.median(getattr(s, field) for s in ours)
        median /= statistics.median(getattr(s, field) for s in floor)
        target = "" if field == "cpu" else "; target ≤ 1.3×"
        pairs = f"{statistics.median(ratios):.2f}×, {min(ratios):.2f}–{max(ratios):.2f}×"
        print(f"{label + ' ratio':14s} {median:5.2f}× of the medians (pairs: {pairs}{target})")


if __name__ == "__main__":
    main()
