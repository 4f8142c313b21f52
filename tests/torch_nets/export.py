"""Export every structure and zoo model to ONNX fixtures with both torch exporters.

Run from the repository root (one-off; not part of CI, the zoo dynamo exports take minutes):

    .venv/bin/python -m tests.torch_nets.export            # everything
    .venv/bin/python tests/torch_nets/export.py aspp fpn    # only these models

Writes ``tests/fixtures/onnx/<name>.<ts|dynamo>.onnx`` and ``tests/fixtures/onnx/truth.json``
(entries for models not exported in this run are kept from the existing truth.json).

* ``ts``: TorchScript exporter, ``torch.onnx.export(..., dynamo=False, opset_version=17)``; eval mode,
  so BatchNorm after a conv is folded into it (params in the graph then differ from the torch count).
* ``dynamo``: ``torch.onnx.export(..., dynamo=True)`` at its default opset. Of its per-node
  metadata_props only ``pkg.torch.onnx.name_scopes`` (the module path of each node, which
  convcost reads) is kept in fixtures exported since it was added (resnet50); the stack traces
  with local paths, FX text and class names are dropped, and so are value_info entries that only
  repeat an initializer's dims; value_info of computed values is kept.

Before export every parameter and floating buffer is re-drawn at random (seeded; BN running_var
kept positive): with default inits many tensors are identical (LayerNorm/BN ones and zeros, layer
scales), and the TorchScript exporter then de-duplicates identical initializers into ``Identity``
nodes, which trained weights would not trigger. MACs/params do not depend on values.

Weight bytes are stripped: every floating-point initializer with more than one element (except
Resize/Upsample ``roi``/``scales`` inputs, which shape inference needs) is turned into an external
data reference to ``<name>.<exporter>.weights``, a file that is *not* written. Integer initializers
(Reshape shapes, axes, ...) and Constant nodes stay inline. Load a fixture with
``onnx.load(path, load_external_data=False)``; dims/dtypes of every tensor are intact.
"""

from __future__ import annotations

import contextlib
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

import onnx
import torch
from onnx import TensorProto, shape_inference
from torch import nn

from tests.torch_nets import structures, truth, zoo

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"
TS_OPSET = 17
FLOAT_TYPES = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16}
DYNAMIC = {"dynamic": {0: "batch", 2: "height", 3: "width"}}
KEEP_INPUTS = {"Resize": (1, 2, 3), "Upsample": (1,)}  # (roi, scales, sizes) are needed for shapes


def _io_names(model: nn.Module, shape: tuple[int, ...]) -> tuple[list[str], list[str]]:
    with torch.no_grad():
        out = model(torch.zeros(shape))
    n_out = len(out) if isinstance(out, tuple) else 1
    return ["input"], ["output"] if n_out == 1 else [f"output{i}" for i in range(n_out)]


def export_ts(model: nn.Module, shape: tuple[int, ...], name: str, path: Path) -> None:
    inputs, outputs = _io_names(model, shape)
    kwargs = {}
    if name in DYNAMIC:
        kwargs["dynamic_axes"] = {"input": DYNAMIC[name], **{o: {0: "batch"} for o in outputs}}
    torch.onnx.export(
        model,
        (torch.zeros(shape),),
        str(path),
        dynamo=False,
        opset_version=TS_OPSET,
        input_names=inputs,
        output_names=outputs,
        do_constant_folding=True,
        **kwargs,
    )


def export_dynamo(model: nn.Module, shape: tuple[int, ...], name: str, path: Path) -> None:
    inputs, outputs = _io_names(model, shape)
    kwargs = {}
    if name in DYNAMIC:
        kwargs["dynamic_shapes"] = ({axis: torch.export.Dim(dim) for axis, dim in DYNAMIC[name].items()},)
    torch.onnx.export(
        model,
        (torch.zeros(shape),),
        str(path),
        dynamo=True,
        input_names=inputs,
        output_names=outputs,
        verbose=False,
        **kwargs,
    )


def _nbytes(t: TensorProto) -> int:
    return int(onnx.numpy_helper.to_array(t).nbytes)


def strip_weights(m: onnx.ModelProto, location: str) -> tuple[int, int]:
    """Point float initializers at a missing external file; return (stripped numel, stripped tensors)."""
    keep = set()
    for node in m.graph.node:
        for i in KEEP_INPUTS.get(node.op_type, ()):
            if i < len(node.input):
                keep.add(node.input[i])
    offset = numel = count = 0
    for t in m.graph.initializer:
        n = prod(t.dims)
        if t.data_type not in FLOAT_TYPES or n <= 1 or t.name in keep:
            continue
        nbytes = _nbytes(t)
        for field in ("raw_data", "float_data", "double_data", "int32_data", "int64_data"):
            t.ClearField(field)
        t.data_location = TensorProto.EXTERNAL
        del t.external_data[:]
        for k, v in (("location", location), ("offset", str(offset)), ("length", str(nbytes))):
            entry = t.external_data.add()
            entry.key, entry.value = k, v
        offset += (nbytes + 63) // 64 * 64
        numel += n
        count += 1
    return numel, count


#: The one per-node metadata key fixtures keep: the module path of each node.
NAME_SCOPES = "pkg.torch.onnx.name_scopes"


def strip_metadata(m: onnx.ModelProto) -> None:
    """Drop what only bloats the file: per-node metadata_props/doc strings (the dynamo exporter's stack
    traces with local paths, FX text, class names) but the module scopes, and value_info entries
    that merely repeat an initializer's dims/dtype."""
    for node in _all_nodes(m):
        scopes = [(p.key, p.value) for p in node.metadata_props if p.key == NAME_SCOPES]
        del node.metadata_props[:]
        for key, value in scopes:
            kept = node.metadata_props.add()
            kept.key, kept.value = key, value
        node.doc_string = ""
    inits = {t.name for t in m.graph.initializer}
    keep = [v for v in m.graph.value_info if v.name not in inits]
    del m.graph.value_info[:]
    m.graph.value_info.extend(keep)
    for v in m.graph.value_info:
        del v.metadata_props[:]


def check_model(m: onnx.ModelProto) -> str:
    """onnx.checker (full_check) on a copy whose stripped tensors are filled with zeros."""
    c = onnx.ModelProto()
    c.CopyFrom(m)
    for t in c.graph.initializer:
        if t.data_location == TensorProto.EXTERNAL:
            length = int(next(e.value for e in t.external_data if e.key == "length"))
            t.data_location = TensorProto.DEFAULT
            del t.external_data[:]
            t.raw_data = bytes(length)
    try:
        onnx.checker.check_model(c, full_check=True)
        return "ok"
    except Exception as exc:
        return str(exc).splitlines()[0][:300]


def _all_nodes(m: onnx.ModelProto):
    def walk(graph):
        for node in graph.node:
            yield node
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    yield from walk(attr.g)
                elif attr.type == onnx.AttributeProto.GRAPHS:
                    for g in attr.graphs:
                        yield from walk(g)

    yield from walk(m.graph)
    for f in m.functions:
        yield from f.node


def check_shapes(m: onnx.ModelProto, data_prop: bool) -> dict:
    """Re-infer shapes from scratch (exporter value_info removed); list values lacking a full shape."""
    c = onnx.ModelProto()
    c.CopyFrom(m)
    c.graph.ClearField("value_info")
    for o in c.graph.output:  # keep only elem type of outputs, not their shapes
        o.type.tensor_type.ClearField("shape")
    inferred = shape_inference.infer_shapes(c, strict_mode=True, data_prop=data_prop)
    types = {
        v.name: v.type
        for v in list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input)
    }
    # a dim counts as known if it has a value or is one of the graph inputs' symbols; shape
    # inference invents "unk__N" dim_params for dims it cannot work out, which count as unknown
    symbols = {d.dim_param for i in c.graph.input for d in i.type.tensor_type.shape.dim if d.dim_param}
    no_shape, partial = [], []
    total = 0
    for node in inferred.graph.node:
        for out in node.output:
            if not out:
                continue
            total += 1
            t = types.get(out)
            if t is None or not t.tensor_type.HasField("shape"):
                no_shape.append(f"{node.op_type}:{out}")
            elif any(
                not (d.HasField("dim_value") or d.dim_param in symbols) for d in t.tensor_type.shape.dim
            ):
                partial.append(f"{node.op_type}:{out}")
    return {"values": total, "no_shape": no_shape, "unknown_dims": partial}


def _bn_modules(model: nn.Module) -> int:
    return sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def randomize(model: nn.Module, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if not t.is_floating_point():
                continue
            r = torch.rand(t.shape, generator=g)
            t.copy_(r + 0.5 if name.endswith("running_var") else (r - 0.5) * 0.2)


def process(name: str, builder, exporters: list[str], results: dict, torch_truth: dict) -> None:
    model, shape = builder()
    model.eval()
    randomize(model)
    if name not in torch_truth:
        torch_truth[name] = truth.count(model, shape)
    t = torch_truth[name]
    with torch.no_grad():
        out = model(torch.zeros(shape))
    out_shapes = [list(o.shape) for o in (out if isinstance(out, tuple) else (out,))]
    for exporter in exporters:
        key = f"{name}.{exporter}"
        entry = {
            "model": name,
            "exporter": exporter,
            "input_shape": list(shape),
            "output_shapes": out_shapes,
            "batch": shape[0],
            "macs": t["macs"],
            "params": t["params"],
            "hand_added_macs": t["hand_added_macs"],
            "notes": t["notes"],
        }
        if name == "dynamic":
            entry["notes"] = (
                "symbolic batch/height/width; macs are for input_shape " + entry["notes"]
            ).strip()
        if name == "gemm_transa":
            entry["notes"] = (
                "input is a (K, M) matrix; Gemm(transA=1) in ts, Transpose+Gemm in dynamo " + entry["notes"]
            ).strip()
        target = OUT / f"{key}.onnx"
        start = time.time()
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp) / "model.onnx"
            try:
                log = io.StringIO()
                with warnings.catch_warnings(), contextlib.redirect_stdout(log):
                    warnings.simplefilter("ignore")
                    (export_ts if exporter == "ts" else export_dynamo)(model, shape, name, tmp_path)
                m = onnx.load(str(tmp_path), load_external_data=True)
            except Exception as exc:  # record, don't give up
                msg = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                entry["export_error"] = msg[:2000]
                results[key] = entry
                target.unlink(missing_ok=True)
                print(f"{key}: EXPORT FAILED: {msg.splitlines()[0][:300]}", flush=True)
                continue
        export_s = time.time() - start
        numel, n_tensors = strip_weights(m, f"{key}.weights")
        strip_metadata(m)
        onnx.save_model(m, str(target))
        m = onnx.load(str(target), load_external_data=False)
        checker = check_model(m)
        shapes = check_shapes(m, data_prop=False)
        shapes_dp = check_shapes(m, data_prop=True)
        ops = Counter(
            n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}::{n.op_type}" for n in _all_nodes(m)
        )
        bn_mod = _bn_modules(model)
        entry.update(
            {
                "opset": next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")),
                "bytes": target.stat().st_size,
                "bn_modules": bn_mod,
                "bn_nodes": ops.get("BatchNormalization", 0),
                "params_folded": bool(bn_mod and ops.get("BatchNormalization", 0) < bn_mod),
                "onnx_weight_numel": numel,
                "onnx_weight_tensors": n_tensors,
                "onnx_functions": len(m.functions),
                "checker": checker,
                "shape_inference": {
                    "values": shapes["values"],
                    "complete": not shapes["no_shape"] and not shapes["unknown_dims"],
                    "n_no_shape": len(shapes["no_shape"]),
                    "n_unknown_dims": len(shapes["unknown_dims"]),
                    "no_shape": shapes["no_shape"][:10],
                    "unknown_dims": shapes["unknown_dims"][:10],
                    "complete_with_data_prop": not shapes_dp["no_shape"] and not shapes_dp["unknown_dims"],
                    "n_no_shape_with_data_prop": len(shapes_dp["no_shape"]),
                    "n_unknown_dims_with_data_prop": len(shapes_dp["unknown_dims"]),
                },
                "ops": dict(sorted(ops.items())),
            }
        )
        if entry["params_folded"]:
            folded = f"{bn_mod - entry['bn_nodes']} of {bn_mod} BatchNorm folded into the preceding Conv"
            entry["notes"] = "; ".join(
                x for x in (entry["notes"], folded + " (graph weights != params)") if x
            )
        results[key] = entry
        print(
            f"{key}: {entry['bytes']} B, export {export_s:.1f}s, ops={sum(ops.values())}, "
            f"shape inference complete={entry['shape_inference']['complete']} "
            f"(data_prop {entry['shape_inference']['complete_with_data_prop']}), checker={checker}",
            flush=True,
        )


def main(argv: list[str]) -> None:
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    models = {**structures.STRUCTURES, **zoo.ZOO}
    names = argv or list(models)
    unknown = [n for n in names if n not in models]
    if unknown:
        raise SystemExit(f"unknown models: {unknown}; choose from {list(models)}")
    truth_path = OUT / "truth.json"
    results = json.loads(truth_path.read_text()) if truth_path.exists() else {}
    torch_truth: dict = {}
    for name in names:
        process(name, models[name], ["ts", "dynamo"], results, torch_truth)
        truth_path.write_text(json.dumps(dict(sorted(results.items())), indent=1) + "\n")
    for n in names:
        if n in zoo.TORCHVISION_PARAMS:
            assert torch_truth[n]["params"] == zoo.TORCHVISION_PARAMS[n], n


if __name__ == "__main__":
    os.environ.setdefault("TORCH_LOGS", "")
    main(sys.argv[1:])
