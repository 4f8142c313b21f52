"""Issue 23's targets: ONNX costed by convcost's own reader (a benchmark, not a test).

    python benchmarks/bench_onnx_plain.py [--runs 5] [--no-resnet]

Whole processes, run in rotation with their bytecode cached (a temporary PYTHONPYCACHEPREFIX,
warmed by a first run of each, as an installed package has it; see bench_onnx.py):

1. a 100 MB model with weights (ten 512→512 3×3 convs): ``convcost compare --json`` against
   ``python -c "import onnx; onnx.load(f)"`` measured in the same run: the time ratio (target
   ≤ 0.35×) and the peak-RSS ratio (target ≤ 0.7×), per pair, median and range;
2. a ResNet-50 export with its weights (torch's TorchScript exporter; needs the torch extra):
   ``compare --json``'s wall time (target ≤ 0.3 s), and its ratio to onnx-tool's where installed;
3. transformer graphs of 5,000, 10,000 and 20,000 nodes: ``compare --json``'s wall time, its µs
   per node, and the slope between the sizes (linear: the µs per node of the added nodes stay).

Each ``compare`` process also times its own steps (printed to stderr by the child): the whole
conversion in-process (imports included, the interpreter's start-up not), and within it convcost's
own shape inference (``infer.infer``); it also says whether onnx or numpy got imported (neither
should: onnx's inference is only the fallback for an op with no rule here). ``python -c "import
click"`` runs in the same rotation: the start-up floor every CLI pays, whose spread shows the noise.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))

from bench_onnx_proto import BUILD  # noqa: E402

#: ``compare --json`` in a process that times its steps: the whole, and convcost's shape inference.
COMPARE = """
import sys, time
start = time.perf_counter()
import importlib
own = importlib.import_module("convcost.io.onnx.infer")
inference = [0.0]
infer = own.infer
def timed(*args, **kwargs):
    t = time.perf_counter()
    try:
        return infer(*args, **kwargs)
    finally:
        inference[0] += time.perf_counter() - t
own.infer = timed
from convcost.cli import main
sys.argv = ["convcost", "compare", sys.argv[1], "--json", "--max-layers", "100000"]
try:
    main()
except SystemExit as done:
    if done.code:
        raise
finally:
    total = time.perf_counter() - start
    imported = int(any(sys.modules.get(name) is not None for name in ("onnx", "numpy")))
    print(f"steps {total:.4f} {inference[0]:.4f} {imported}", file=sys.stderr)
"""
#: The start-up floor: the interpreter and click, which every run of the CLI imports.
CLICK = "import click"
FLOOR = "import onnx, sys; onnx.load(sys.argv[1])"
ONNX_TOOL = (
    "import onnx_tool, sys; m = onnx_tool.Model(sys.argv[1]); m.graph.shape_infer(); m.graph.profile()"
)
RESNET = (
    "import sys; from tests.torch_nets import export, zoo; model, shape = zoo.resnet50(); "
    "export.randomize(model.eval()); export.export_ts(model, shape, 'resnet50', sys.argv[1])"
)
#: A transformer's kinds of nodes, their weights external (never read), every output typed.
TRANSFORMER = """
import sys, onnx
from onnx import TensorProto, helper
nodes, weights, x, offset = [], [], "x", 0
count = int(sys.argv[2])
for i in range(count):
    op = ("MatMul", "Add", "Relu", "Reshape", "Softmax")[i % 5]
    inputs = [x]
    if op in ("MatMul", "Add"):
        dims = [768, 768] if op == "MatMul" else [768]
        tensor = TensorProto(name=f"w{i}", data_type=TensorProto.FLOAT, dims=dims, data_location=1)
        size = 4 * 768 * (768 if op == "MatMul" else 1)  # each at its own bytes: not tied weights
        for key, value in (("location", "weights.bin"), ("offset", offset), ("length", size)):
            tensor.external_data.add(key=key, value=str(value))
        offset += size
        weights.append(tensor)
        inputs.append(f"w{i}")
    if op == "Reshape":
        weights.append(helper.make_tensor(f"s{i}", TensorProto.INT64, [3], [1, 128, 768]))
        inputs.append(f"s{i}")
    extra = {"axis": -1} if op == "Softmax" else {}
    nodes.append(helper.make_node(op, inputs, [f"t{i}"], name=f"/layers.{i // 5}/{op}", **extra))
    x = f"t{i}"
inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 128, 768])]
outputs = [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)]
graph = helper.make_graph(nodes, "deep", inputs, outputs, weights)
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), sys.argv[1])
"""
SIZES = (5_000, 10_000, 20_000)


class Sample(NamedTuple):
    wall: float  # seconds, the whole process
    peak: float  # MB, its peak RSS
    inside: float  # seconds, the conversion in-process, imports included (0: not convcost)
    inference: float  # seconds, convcost's own shape inference (infer.infer)
    imported: bool  # whether onnx or numpy got imported


def run(command: list[str], env: dict[str, str]) -> Sample:
    """One process's wall time and peak RSS (from ``wait4``), and its own timing of its steps."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    assert child.stderr is not None
    errors = child.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    child.stderr.close()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}):\n{errors}")
    steps = [line.split()[1:] for line in errors.splitlines() if line.startswith("steps ")]
    inside, inference, imported = (float(v) for v in steps[-1]) if steps else (0.0, 0.0, 0.0)
    return Sample(seconds, usage.ru_maxrss / 1024, inside, inference, bool(imported))


def spread(values: list[float], unit: str, digits: int) -> str:
    low, middle, high = (f"{v:.{digits}f}" for v in (min(values), statistics.median(values), max(values)))
    return f"{middle} {unit} ({low}–{high})"


def ratio(ours: list[Sample], floor: list[Sample], field: str) -> str:
    pairs = [getattr(o, field) / getattr(f, field) for o, f in zip(ours, floor, strict=True)]
    return f"{statistics.median(pairs):.2f}× ({min(pairs):.2f}–{max(pairs):.2f}×)"


def rotate(commands: dict[str, list[str]], env: dict[str, str], runs: int) -> dict[str, list[Sample]]:
    for command in commands.values():
        run(command, env)  # caches the bytecode and the file's pages
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(run(command, env))
    return samples


def show(samples: dict[str, list[Sample]]) -> None:
    for name, found in samples.items():
        wall, peak = spread([s.wall for s in found], "s", 3), spread([s.peak for s in found], "MB", 0)
        line = f"  {name:24s} {wall:24s} peak RSS {peak}"
        if any(s.inside for s in found):
            line += f"; in-process {spread([s.inside for s in found], 's', 3)}, of it inference "
            line += spread([s.inference for s in found], "s", 3)
            line += "; onnx or numpy imported" if any(s.imported for s in found) else "; no onnx, no numpy"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-resnet", action="store_true", help="skip the ResNet-50 export (needs torch)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        env["PYTHONPATH"] = str(ROOT)
        convs = folder / "convs.onnx"
        subprocess.run(
            [sys.executable, "-c", BUILD, str(convs), str(folder / "unused.onnx")], check=True, cwd=ROOT
        )
        compare = [sys.executable, "-c", COMPARE]
        click = [sys.executable, "-c", CLICK]
        samples = rotate(
            {
                "compare --json": [*compare, str(convs)],
                "import onnx; onnx.load": [sys.executable, "-c", FLOOR, str(convs)],
                "import click (floor)": click,
            },
            env,
            args.runs,
        )
        print(
            f"1. ten 512→512 3×3 convs with weights ({convs.stat().st_size / 1e6:.0f} MB), {args.runs} runs"
        )
        show(samples)
        ours, floor = samples["compare --json"], samples["import onnx; onnx.load"]
        print(f"  time ratio {ratio(ours, floor, 'wall')} (target ≤ 0.35×)")
        print(f"  peak RSS ratio {ratio(ours, floor, 'peak')} (target ≤ 0.7×)")
        print(f"  import click to onnx.load {ratio(samples['import click (floor)'], floor, 'wall')}")
        if not args.no_resnet:
            resnet = folder / "resnet50.onnx"
            subprocess.run([sys.executable, "-c", RESNET, str(resnet)], check=True, cwd=ROOT)
            commands = {"compare --json": [*compare, str(resnet)], "import click (floor)": click}
            if importlib.util.find_spec("onnx_tool") is not None:
                commands["onnx-tool"] = [sys.executable, "-c", ONNX_TOOL, str(resnet)]
            samples = rotate(commands, env, args.runs)
            print(f"2. ResNet-50 with weights ({resnet.stat().st_size / 1e6:.0f} MB): target ≤ 0.3 s")
            show(samples)
            if "onnx-tool" in samples:
                print(
                    f"  ratio to onnx-tool {ratio(samples['compare --json'], samples['onnx-tool'], 'wall')}"
                )
            else:
                print("  onnx-tool is not installed: no ratio to it")
        models = {}
        for count in SIZES:
            models[count] = folder / f"deep{count}.onnx"
            subprocess.run([sys.executable, "-c", TRANSFORMER, str(models[count]), str(count)], check=True)
        samples = rotate(
            {f"{count:,} nodes": [*compare, str(models[count])] for count in SIZES}, env, args.runs
        )
        print("3. transformer graphs (linear: the µs per node stay level)")
        show(samples)
        whole = {count: statistics.median(s.wall for s in samples[f"{count:,} nodes"]) for count in SIZES}
        infer = {
            count: statistics.median(s.inference for s in samples[f"{count:,} nodes"]) for count in SIZES
        }
        for count in SIZES:
            print(
                f"  {count:>6,} nodes: {whole[count] / count * 1e6:.0f} µs a node whole, "
                f"{infer[count] / count * 1e6:.1f} µs of shape inference"
            )
        low, high = SIZES[0], SIZES[-1]
        slope = (whole[high] - whole[low]) / (high - low) * 1e6
        infer_slope = (infer[high] - infer[low]) / (high - low) * 1e6
        print(
            f"  the added {high - low:,} nodes: {slope:.0f} µs a node whole, "
            f"{infer_slope:.1f} µs of shape inference"
        )


if __name__ == "__main__":
    main()
