"""Reading a 100 MB ONNX model with convcost's own reader against onnx (a benchmark, not a test).

    python benchmarks/bench_onnx_proto.py [--runs 7]

Builds a model of ten 512→512 3×3 convs with their weights (about 94 MB) into a temporary
folder, then runs whole processes in rotation, each timing its own reading step as well:

- ``proto.parse(bytes)``: import convcost's reader, read the file, parse it (the weights stay
  views of the bytes read);
- ``proto.parse(mmap)``: the same over a memory map of the file (no weight page is ever read);
- ``onnx.load``: ``import onnx; onnx.load(f)``, the floor any onnx-based tool pays;
- ``import onnx``: the import alone, and ``python``: the interpreter's start-up.

Prints each one's median wall time, the median of its own reading step, and peak RSS, with
ranges, and the ratios of the reader to onnx.load and to import onnx: of whole processes (the
per-pair range over runs) and of the reading steps alone. Bytecode is cached in a temporary
PYTHONPYCACHEPREFIX, warmed by a first run of each, as an installed package has it (see
bench_layer.py). Target (issue 23): the whole ``compare --json`` process ≤ 0.35× onnx.load;
the reader is the first piece of it.
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

ROOT = Path(__file__).resolve().parent.parent
TIMED = "import sys, time; t = time.perf_counter(); {setup}; {step}; print(time.perf_counter() - t)"
COMMANDS = {
    "proto.parse(bytes)": TIMED.format(
        setup="from convcost.io.onnx import proto",
        step="t = time.perf_counter(); m = proto.parse(open(sys.argv[1], 'rb').read())",
    ),
    "proto.parse(mmap)": TIMED.format(
        setup="import mmap; from convcost.io.onnx import proto",
        step="t = time.perf_counter(); f = open(sys.argv[1], 'rb'); "
        "m = proto.parse(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))",
    ),
    "onnx.load": TIMED.format(
        setup="import onnx", step="t = time.perf_counter(); m = onnx.load(sys.argv[1])"
    ),
    "import onnx": TIMED.format(setup="import onnx", step="pass"),
    "python": TIMED.format(setup="pass", step="pass"),
}
BUILD = """
import sys, numpy as np, onnx
from onnx import TensorProto, helper, numpy_helper
rng = np.random.default_rng(0)
nodes, weights = [], []
for i in range(10):
    w = rng.standard_normal((512, 512, 3, 3), dtype=np.float32)
    b = np.zeros(512, np.float32)
    weights += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
    nodes.append(helper.make_node("Conv", [f"x{i}", f"w{i}", f"b{i}"], [f"x{i + 1}"], pads=[1, 1, 1, 1]))
inputs = [helper.make_tensor_value_info("x0", TensorProto.FLOAT, [1, 512, 14, 14])]
outputs = [helper.make_tensor_value_info("x10", TensorProto.FLOAT, None)]
graph = helper.make_graph(nodes, "convs", inputs, outputs, weights)
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), sys.argv[1])
nodes, infos, x = [], [], "x"  # 20,000 nodes of a transformer's kinds, each output's type given
for i in range(20_000):
    op = ("MatMul", "Add", "Softmax", "Reshape", "Transpose")[i % 5]
    inputs = [x, f"c{i}"] if op in ("MatMul", "Add", "Reshape") else [x]
    attributes = {"perm": [0, 2, 1]} if op == "Transpose" else {}
    nodes.append(helper.make_node(op, inputs, [f"t{i}"], name=f"/layers.{i // 5}/{op}", **attributes))
    infos.append(helper.make_tensor_value_info(f"t{i}", TensorProto.FLOAT, ["batch", 128, 768]))
    x = f"t{i}"
inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 128, 768])]
outputs = [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)]
graph = helper.make_graph(nodes, "deep", inputs, outputs, value_info=infos)
onnx.save(helper.make_model(graph), sys.argv[2])
"""
#: In-process: the best of 5 parses of the 20,000-node graph, by each parser (µs a node).
SCALE = """
import sys, time
from convcost.io.onnx import proto
data = open(sys.argv[1], "rb").read()
if sys.argv[2] == "onnx":
    import onnx
    parse = onnx.load_model_from_string
else:
    parse = proto.parse
best = min(-time.perf_counter() + (parse(data), time.perf_counter())[1] for _ in range(5))
print(best / 20_000 * 1e6)
"""


class Sample(NamedTuple):
    wall: float  # seconds, the whole process
    step: float  # seconds, its reading step (as it times it)
    peak: float  # MB, its peak RSS


def run(command: list[str], env: dict[str, str]) -> Sample:
    """One process's wall time, its own timing of its step, and its peak RSS (from ``wait4``)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    assert child.stdout is not None and child.stderr is not None
    out, errors = child.stdout.read(), child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    child.stdout.close()
    child.stderr.close()
    if child.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed ({child.returncode}):\n{errors.decode(errors='replace')}"
        )
    return Sample(seconds, float(out.split()[-1]), usage.ru_maxrss / 1024)


def spread(values: list[float], unit: str, digits: int) -> str:
    low, middle, high = (f"{v:.{digits}f}" for v in (min(values), statistics.median(values), max(values)))
    return f"{middle} {unit} ({low}–{high})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model, deep = Path(tmp) / "convs.onnx", Path(tmp) / "deep.onnx"
        subprocess.run([sys.executable, "-c", BUILD, str(model), str(deep)], check=True)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        env["PYTHONPATH"] = str(ROOT)
        commands = {name: [sys.executable, "-c", code, str(model)] for name, code in COMMANDS.items()}
        for command in commands.values():
            run(command, env)  # caches the bytecode and the file's pages
        samples: dict[str, list[Sample]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                samples[name].append(run(command, env))
        size = model.stat().st_size
        scale = {
            who: [float(subprocess.run([sys.executable, "-c", SCALE, str(deep), who], env=env, cwd=ROOT,
                                       capture_output=True, check=True, text=True).stdout) for _ in range(3)]
            for who in ("proto", "onnx")
        }  # fmt: skip
    print(f"ten 512→512 3×3 convs with weights ({size / 1e6:.0f} MB), {args.runs} runs each, in rotation")
    for name, found in samples.items():
        wall, step = spread([s.wall for s in found], "s", 3), spread([s.step * 1e3 for s in found], "ms", 1)
        print(
            f"{name:20s} {wall:24s} its step {step:26s} peak RSS {spread([s.peak for s in found], 'MB', 0)}"
        )
    for ours in ("proto.parse(bytes)", "proto.parse(mmap)"):
        for floor in ("onnx.load", "import onnx"):
            pairs = [o.wall / f.wall for o, f in zip(samples[ours], samples[floor], strict=True)]
            medians = statistics.median(s.wall for s in samples[ours]) / statistics.median(
                s.wall for s in samples[floor]
            )
            pair = f"{statistics.median(pairs):.2f}×, {min(pairs):.2f}–{max(pairs):.2f}×"
            print(f"{ours} / {floor:12s} whole process {medians:.2f}× of the medians (pairs: {pair})")
        steps = [o.step / f.step for o, f in zip(samples[ours], samples["onnx.load"], strict=True)]
        peaks = [o.peak / f.peak for o, f in zip(samples[ours], samples["onnx.load"], strict=True)]
        for label, ratios in (("reading step", steps), ("peak RSS", peaks)):
            low, middle, high = min(ratios), statistics.median(ratios), max(ratios)
            print(f"{ours} / onnx.load     {label:13s} {middle:.3f}× ({low:.3f}–{high:.3f}×)")
    for who, found in scale.items():
        print(f"20,000-node graph, {who + ' parse':11s} {spread(found, 'µs a node', 1)} (best of 5, 3 runs)")


if __name__ == "__main__":
    main()
