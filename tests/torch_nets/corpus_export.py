"""Export the corpus (tests/torch_nets/corpus.py) to weightless ONNX fixtures with both exporters.

Needs transformers, timm and onnxruntime beside torch 2.13 CPU, onnx and onnxscript (not convcost's
extras; see the README's Development section). Run from the repository root:

    python -m tests.torch_nets.corpus_export             # everything
    python -m tests.torch_nets.corpus_export bert cvt    # only these models

Writes ``tests/fixtures/onnx/corpus/<name>.<ts|dynamo>.onnx`` and ``.../corpus/truth.json`` (entries of
models not exported in this run are kept). Exports, re-drawn weights, weight stripping and metadata
stripping are those of tests/torch_nets/export.py; a model whose export fails gets an entry with
``export_error`` and no file.

Besides the truth of corpus.count (``macs``, ``params``), each entry records the graph's own figures,
from the exported tensors before their bytes are stripped:

* ``params_graph_weights`` — the numbers in initializers read as weights or tables: Conv/ConvTranspose
  weight and bias, Gemm B and C, a MatMul or Einsum operand, LSTM/GRU/RNN W, R and B, a Gather's
  table. A tensor equal to another one, or to its transpose (a tied LM head the exporter transposed),
  counts once. The lower bound for an importer's params (BN folded into convs, unused params pruned).
* ``params_initializers`` — all floating-point initializers with more than one element, deduplicated
  the same way. Where it exceeds ``params``, the exporter has precomputed something larger than the
  model's tensors (a relative-position table gathered out to every pair, a folded position MLP):
  ``expanded`` says by how much.
* ``graph_macs`` — the textbook count of the graph's Conv, ConvTranspose, Gemm, MatMul, Einsum
  (pairwise, in the order given) and LSTM/GRU/RNN nodes, with every shape read from running the
  graph in onnxruntime; ``graph_macs_constant`` is the part whose inputs are all constants.
  ``macs_folded_by_exporter`` = ``macs`` - ``graph_macs``: constant compute the exporter evaluated
  into initializers (dynamo's optimizer folds a position MLP's first layer, a Fourier encoding, the
  recurrent product with the zero initial state). It must lie within ``constant_macs``, the MACs
  FlopCounterMode saw in ops that read no input-derived tensor; otherwise the notes say MISMATCH.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from math import prod
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from tests.torch_nets import corpus
from tests.torch_nets.export import (
    FLOAT_TYPES,
    TS_OPSET,
    _all_nodes,
    _bn_modules,
    check_model,
    check_shapes,
    randomize,
    strip_metadata,
    strip_weights,
)

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "onnx" / "corpus"
WEIGHT_INPUTS = {
    "Conv": (1, 2),
    "ConvTranspose": (1, 2),
    "Gemm": (1, 2),
    "MatMul": (0, 1),
    "Einsum": tuple(range(8)),
    "LSTM": (1, 2, 3),
    "GRU": (1, 2, 3),
    "RNN": (1, 2, 3),
    "Gather": (0,),
}


def _names(model: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> tuple[list[str], list[str]]:
    with torch.no_grad():
        out = model(*inputs)
    n_out = len(out) if isinstance(out, tuple) else 1
    names = ["input_ids" if x.dtype == torch.int64 else "input" for x in inputs]
    return names, ["output"] if n_out == 1 else [f"output{i}" for i in range(n_out)]


def export(model, inputs, exporter: str, path: Path) -> None:
    input_names, output_names = _names(model, inputs)
    options = {"dynamo": False, "opset_version": TS_OPSET, "do_constant_folding": True}
    if exporter == "dynamo":
        options = {"dynamo": True, "verbose": False}
    torch.onnx.export(model, inputs, str(path), input_names=input_names, output_names=output_names, **options)


def _digest(a: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(a).tobytes() + str(a.shape).encode()).hexdigest()


def graph_params(m: onnx.ModelProto) -> tuple[int, int]:
    """(params_graph_weights, params_initializers), each tensor once, before the weights are stripped."""
    inits = {t.name: t for t in m.graph.initializer if t.data_type in FLOAT_TYPES and prod(t.dims) > 1}
    name_key: dict[str, str] = {}
    for name, t in inits.items():
        a = numpy_helper.to_array(t)
        # a matrix and its transpose get the same key
        name_key[name] = min(_digest(a), _digest(a.T)) if a.ndim == 2 else _digest(a)
    weights = {
        name_key[x]: prod(inits[x].dims)
        for node in _all_nodes(m)
        for i, x in enumerate(node.input)
        if x in inits and i in WEIGHT_INPUTS.get(node.op_type, ())
    }
    every = {name_key[n]: prod(t.dims) for n, t in inits.items()}
    return sum(weights.values()), sum(every.values())


def _attr(node: onnx.NodeProto, name: str, default: object = None) -> object:
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _einsum_macs(equation: str, shapes: list[tuple[int, ...]]) -> int:
    """Pairwise, in the order given: each contraction costs the product of its distinct indices."""
    lhs, rhs = equation.replace(" ", "").split("->")
    terms = lhs.split(",")
    if any("..." in t for t in terms):
        raise ValueError(f"ellipsis in einsum {equation!r}")
    size = {c: d for term, shape in zip(terms, shapes, strict=True) for c, d in zip(term, shape, strict=True)}
    total, current = 0, terms[0]
    for i, term in enumerate(terms[1:], 1):
        total += prod(size[c] for c in set(current) | set(term))
        later = set("".join(terms[i + 1 :])) | set(rhs)
        current = "".join(c for c in dict.fromkeys(current + term) if c in later)
    return total


def node_macs(node: onnx.NodeProto, shapes: list[tuple[int, ...]], out: tuple[int, ...]) -> int:
    """The textbook count of one node from its runtime shapes (independent of convcost)."""
    op = node.op_type
    if op == "MatMul":
        return prod(out) * shapes[0][-1]
    if op == "Gemm":
        return prod(out) * shapes[0][0 if _attr(node, "transA", 0) else 1]
    if op == "Conv":
        return prod(out) * prod(shapes[1][1:])
    if op == "ConvTranspose":
        return prod(shapes[0]) * prod(shapes[1][1:])
    if op in ("LSTM", "GRU", "RNN"):
        w, r, x = shapes[1], shapes[2], shapes[0]
        t, b = (x[1], x[0]) if _attr(node, "layout", 0) else (x[0], x[1])
        return w[0] * t * b * w[1] * (w[2] + r[2])
    if op == "Einsum":
        equation = _attr(node, "equation")
        return _einsum_macs(equation.decode() if isinstance(equation, bytes) else str(equation), shapes)
    return 0


def graph_macs(m: onnx.ModelProto, inputs: tuple[torch.Tensor, ...]) -> dict:
    """MACs of the exported graph (weights still in it), shapes from running it in onnxruntime.

    Split into nodes that read the model's input and nodes that read only initializers and
    constants (constant compute the exporter left in the graph).
    """
    import onnxruntime as ort

    if m.functions:
        raise ValueError("graph_macs does not look into local functions")
    run = onnx.ModelProto()
    run.CopyFrom(m)
    listed = {o.name for o in run.graph.output}
    for node in run.graph.node:
        run.graph.output.extend(onnx.ValueInfoProto(name=o) for o in node.output if o and o not in listed)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(run.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feeds = {i.name: x.numpy() for i, x in zip(run.graph.input, inputs, strict=True)}
    shape = {
        o.name: tuple(v.shape) for o, v in zip(session.get_outputs(), session.run(None, feeds), strict=True)
    }
    shape.update({t.name: tuple(t.dims) for t in m.graph.initializer})
    shape.update({i.name: tuple(x.shape) for i, x in zip(run.graph.input, inputs, strict=True)})
    constant = {t.name for t in m.graph.initializer} | {""}
    by_op: Counter[str] = Counter()
    constant_macs = 0
    for node in m.graph.node:
        fixed = all(i in constant for i in node.input)
        if fixed:
            constant.update(node.output)
        macs = node_macs(node, [shape.get(i, ()) for i in node.input], shape.get(node.output[0], ()))
        by_op[node.op_type] += macs
        constant_macs += macs if fixed else 0
    return {
        "total": sum(by_op.values()),
        "constant": constant_macs,
        "by_op": {k: v for k, v in sorted(by_op.items()) if v},
    }


def process(name: str, results: dict) -> None:
    model, inputs = corpus.CORPUS[name]()
    model.eval()
    randomize(model)
    t = corpus.count(model, inputs)
    with torch.no_grad():
        out = model(*inputs)
    out_shapes = [list(o.shape) for o in (out if isinstance(out, tuple) else (out,))]
    for exporter in ("ts", "dynamo"):
        key = f"{name}.{exporter}"
        entry = {
            "model": name,
            "exporter": exporter,
            "input_shapes": [list(x.shape) for x in inputs],
            "input_dtypes": [str(x.dtype).removeprefix("torch.") for x in inputs],
            "output_shapes": out_shapes,
            "batch": int(inputs[0].shape[0]),
            **{
                k: t[k]
                for k in (
                    "macs",
                    "params",
                    "macs_by_op",
                    "hand_added_macs",
                    "constant_macs",
                    "constant_macs_by_op",
                    "shared",
                    "notes",
                )
            },
        }
        target = OUT / f"{key}.onnx"
        start = time.time()
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp) / "model.onnx"
            try:
                log = io.StringIO()
                with (
                    warnings.catch_warnings(),
                    contextlib.redirect_stdout(log),
                    contextlib.redirect_stderr(log),
                ):
                    warnings.simplefilter("ignore")
                    export(model, inputs, exporter, tmp_path)
                m = onnx.load(str(tmp_path), load_external_data=True)
            except Exception as exc:  # record, go on with the next
                msg = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                entry["export_error"] = msg[:2000]
                results[key] = entry
                target.unlink(missing_ok=True)
                print(f"{key}: EXPORT FAILED: {msg.splitlines()[0][:300]}", flush=True)
                continue
        export_s = time.time() - start
        weights, initializers = graph_params(m)
        counted = graph_macs(m, inputs)
        strip_weights(m, f"{key}.weights")
        strip_metadata(m)
        onnx.save_model(m, str(target))
        m = onnx.load(str(target), load_external_data=False)
        ops = Counter(
            n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}::{n.op_type}" for n in _all_nodes(m)
        )
        shapes = check_shapes(m, data_prop=True)
        bn_mod = _bn_modules(model)
        entry.update(
            {
                "opset": next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")),
                "bytes": target.stat().st_size,
                "params_graph_weights": weights,
                "params_initializers": initializers,
                "expanded": max(0, initializers - t["params"]),
                "graph_macs": counted["total"],
                "graph_macs_constant": counted["constant"],
                "graph_macs_by_op": counted["by_op"],
                "macs_folded_by_exporter": t["macs"] - counted["total"],
                "bn_modules": bn_mod,
                "bn_nodes": ops.get("BatchNormalization", 0),
                "checker": check_model(m),
                "shape_inference_complete": not shapes["no_shape"] and not shapes["unknown_dims"],
                "ops": dict(sorted(ops.items())),
            }
        )
        folded = entry["macs_folded_by_exporter"]
        if folded:
            entry["notes"] = "; ".join(
                x
                for x in (
                    entry["notes"],
                    f"the exporter folded {folded} MACs of constant compute into initializers"
                    if 0 < folded <= t["constant_macs"]
                    else f"MISMATCH: graph MACs {counted['total']} against FlopCounterMode {t['macs']}",
                )
                if x
            )
        if weights > t["params"]:
            entry["notes"] = "; ".join(
                x for x in (entry["notes"], f"graph weights {weights} exceed the model's params") if x
            )
        results[key] = entry
        print(
            f"{key}: {entry['bytes']} B, export {export_s:.1f}s, nodes {sum(ops.values())}, "
            f"macs {t['macs']} (graph {counted['total']}, constant {counted['constant']}), params {t['params']} (graph weights {weights}, initializers {initializers}), "
            f"checker {entry['checker'][:80]}",
            flush=True,
        )


def main(argv: list[str]) -> None:
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    names = argv or list(corpus.CORPUS)
    unknown = [n for n in names if n not in corpus.CORPUS]
    if unknown:
        raise SystemExit(f"unknown models: {unknown}; choose from {list(corpus.CORPUS)}")
    print(corpus.TORCHVISION, flush=True)
    truth_path = OUT / "truth.json"
    results = json.loads(truth_path.read_text()) if truth_path.exists() else {}
    for name in names:
        try:
            process(name, results)
        except Exception as exc:  # a model that cannot be built or counted: say so, go on
            print(f"{name}: FAILED before export: {type(exc).__name__}: {str(exc)[:300]}", flush=True)
        truth_path.write_text(json.dumps(dict(sorted(results.items())), indent=1) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("TORCH_LOGS", "")
    main(sys.argv[1:])
