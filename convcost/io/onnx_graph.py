"""Reading ONNX models into the spec format (needs the optional ``onnx`` package).

The graph is turned into the same plain document a YAML spec gives, so
``compare model.onnx`` and ``compare`` of ``convcost import model.onnx`` agree by
construction. Shapes come from ONNX shape inference (NCHW, turned channels-last).
Residual adds and concats whose inputs are chains from one common value become
``residual`` and ``branches`` blocks; a layer whose input is not the previous
layer's output gets an explicit ``in``. Ops with no multiply-accumulates
(activations, batch norm, reshapes) pass through; any other op is listed in the
notes as unsupported — never silently counted as zero.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ..core.errors import ConvCostError

INSTALL_HINT = "reading ONNX needs the onnx package: pip install 'convcost[onnx]'"

#: Ops that cost no multiply-accumulates and keep their input's shape or only relabel it.
PASS_THROUGH = {
    "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Elu", "Selu", "HardSigmoid", "HardSwish", "Softmax",
    "LogSoftmax", "Dropout", "Identity", "Cast", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Softplus",
    "Mish", "Gelu", "Erf", "Neg", "Abs", "Exp", "Sqrt", "Floor", "Ceil", "Round",
}  # fmt: skip
#: Ops that only compute shapes or constants.
PLUMBING = {"Shape", "Gather", "Constant", "ConstantOfShape", "Slice", "Range", "Expand"}


class Item(NamedTuple):
    """A spec entry and the graph values it reads and writes."""

    entry: dict[str, Any]
    source: str
    output: str


class Converted(NamedTuple):
    document: dict[str, Any]
    notes: list[str]


def load(data: bytes, source: str) -> Converted:
    try:
        import onnx
    except ImportError:
        raise ConvCostError("spec", f"is an ONNX model; {INSTALL_HINT}") from None
    try:
        model = onnx.load_model_from_string(data)
        model = onnx.shape_inference.infer_shapes(model)
    except Exception as exc:  # onnx raises several types for a broken file
        raise ConvCostError(
            "spec", f"is not a readable ONNX model: {' '.join(str(exc).split())[:200]}"
        ) from None
    return _Converter(model, source).run()


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _decode(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


class _Converter:
    def __init__(self, model: Any, source: str) -> None:
        self.graph = model.graph
        self.source = source
        self.weights = {t.name: tuple(t.dims) for t in self.graph.initializer}
        self.shapes: dict[str, tuple[int, ...]] = {}
        for info in [*self.graph.input, *self.graph.value_info, *self.graph.output]:
            dims = info.type.tensor_type.shape.dim
            self.shapes[info.name] = tuple(d.dim_value if d.dim_value > 0 else 1 for d in dims)
        self.alias: dict[str, str] = {}
        self.items: list[Item] = []
        self.notes: list[str] = []
        self.unsupported: dict[str, int] = {}
        # How many costed ops (not activations, which only relabel) read each value so far.
        self.uses: dict[str, int] = {}
        self.counter: dict[str, int] = {}

    # ------------------------------------------------------------------ helpers

    def skip(self, label: str) -> None:
        """An op convcost cannot cost: counted here, listed in the notes, left out of the totals."""
        self.unsupported[label] = self.unsupported.get(label, 0) + 1

    def resolve(self, name: str) -> str:
        while name in self.alias:
            name = self.alias[name]
        return name

    def channels_last(self, name: str) -> tuple[int, ...]:
        shape = self.shapes.get(name)
        if shape is None:
            raise ConvCostError("spec", f"has no inferred shape for {name!r}; export with static input sizes")
        if len(shape) <= 2:
            return (1, shape[-1])  # (N, features) → a 1 × features input
        return shape[2:] + (shape[1],)

    def name_for(self, node: Any, kind: str) -> str:
        raw = node.name or ""
        base = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in raw).strip("_") or kind
        count = self.counter.get(base, 0)
        self.counter[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def emit(self, node: Any, entry: dict[str, Any], data_input: str) -> None:
        entry = {"name": self.name_for(node, entry.get("type", "conv")), **entry}
        source = self.resolve(data_input)
        entry.setdefault("in", "x".join(str(v) for v in self.channels_last(source)))
        self.items.append(Item(entry, source, node.output[0]))

    @staticmethod
    def _spatial_pads(attrs: dict[str, Any], n: int) -> list[tuple[int, int]]:
        pads = list(attrs.get("pads", [0] * (2 * n)))
        return [(pads[i], pads[i + n]) for i in range(n)]

    def padding(
        self,
        attrs: dict[str, Any],
        n: int,
        in_spatial: tuple[int, ...],
        out_spatial: tuple[int, ...],
        kernel: list[int],
        strides: list[int],
        dilations: list[int],
    ) -> str:
        auto = _decode(attrs.get("auto_pad", "NOTSET"))
        if auto == "VALID":
            return "valid"
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            pairs = []
            for size, out, k, s, d in zip(in_spatial, out_spatial, kernel, strides, dilations, strict=True):
                total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
                small, large = total // 2, total - total // 2
                pairs.append((small, large) if auto == "SAME_UPPER" else (large, small))
        else:
            pairs = self._spatial_pads(attrs, n)
        return "x".join(f"{lo}:{hi}" for lo, hi in pairs)

    # ------------------------------------------------------------------ ops

    def conv(self, node: Any, transposed: bool = False) -> None:
        attrs = _attrs(node)
        weight = self.weights.get(node.input[1])
        if weight is None:
            self.skip(f"{node.op_type} with a computed weight")
            return
        n = len(weight) - 2
        kernel = list(attrs.get("kernel_shape", weight[2:]))
        strides = list(attrs.get("strides", [1] * n))
        dilations = list(attrs.get("dilations", [1] * n))
        groups = int(attrs.get("group", 1))
        out = weight[1] * groups if transposed else weight[0]
        in_shape = self.channels_last(self.resolve(node.input[0]))
        out_shape = self.channels_last(node.output[0])
        entry: dict[str, Any] = {
            "type": "transposed" if transposed else "conv",
            "out": out,
            "kernel": "x".join(map(str, kernel)),
            "stride": "x".join(map(str, strides)),
            "dilation": "x".join(map(str, dilations)),
            "groups": groups,
            "bias": len(node.input) > 2 and bool(node.input[2]),
        }
        if transposed:
            ops = list(attrs.get("output_padding", [0] * n))
            if "output_shape" in attrs or _decode(attrs.get("auto_pad", "NOTSET")) != "NOTSET":
                # Padding chosen to give the stated output: total = s·(in−1) + op + d·(k−1) + 1 − out.
                pairs = []
                for size, o, k, s, d, op in zip(
                    in_shape[:-1], out_shape[:-1], kernel, strides, dilations, ops, strict=True
                ):
                    total = s * (size - 1) + op + d * (k - 1) + 1 - o
                    upper = _decode(attrs.get("auto_pad", "NOTSET")) == "SAME_UPPER"
                    first = total // 2 if upper else total - total // 2
                    pairs.append((first, total - first))
                entry["padding"] = "x".join(f"{lo}:{hi}" for lo, hi in pairs)
            else:
                entry["padding"] = "x".join(f"{lo}:{hi}" for lo, hi in self._spatial_pads(attrs, n))
            entry["output_padding"] = "x".join(map(str, ops))
        else:
            entry["padding"] = self.padding(
                attrs, n, in_shape[:-1], out_shape[:-1], kernel, strides, dilations
            )
        self.emit(node, entry, node.input[0])

    def linear(self, node: Any) -> None:
        attrs = _attrs(node)
        weight = self.weights.get(node.input[1])
        if weight is None or len(weight) != 2:
            self.skip(node.op_type)
            return
        transposed = node.op_type == "Gemm" and attrs.get("transB", 0)
        out = weight[0] if transposed else weight[1]
        bias = node.op_type == "Gemm" and len(node.input) > 2 and bool(node.input[2])
        self.emit(node, {"type": "linear", "out": out, "bias": bias}, node.input[0])

    def pool(self, node: Any) -> None:
        attrs = _attrs(node)
        mode = "max" if "Max" in node.op_type else "avg"
        if node.op_type.startswith("Global"):
            self.emit(node, {"type": "pool", "mode": mode, "global": True}, node.input[0])
            return
        if attrs.get("ceil_mode", 0):
            self.notes.append(
                f"{node.name or node.op_type}: ceil_mode pooling is costed as floor (no MACs either way)"
            )
        kernel = list(attrs["kernel_shape"])
        n = len(kernel)
        strides = list(attrs.get("strides", [1] * n))
        in_shape = self.channels_last(self.resolve(node.input[0]))
        out_shape = self.channels_last(node.output[0])
        entry = {
            "type": "pool",
            "mode": mode,
            "kernel": "x".join(map(str, kernel)),
            "stride": "x".join(map(str, strides)),
            "padding": self.padding(attrs, n, in_shape[:-1], out_shape[:-1], kernel, strides, [1] * n),
        }
        self.emit(node, entry, node.input[0])

    def batchnorm(self, node: Any) -> None:
        self.emit(node, {"type": "batchnorm"}, node.input[0])

    def join(self, node: Any) -> None:
        inputs = [name for name in node.input if name and name not in self.weights]
        if len(inputs) < 2:
            if node.op_type == "Add" and inputs:
                self.bias_add(node, inputs[0])
            else:
                self.alias[node.output[0]] = inputs[0] if inputs else node.input[0]
            return
        block = self.block(node, [self.resolve(name) for name in inputs])
        if block is None:
            self.notes.append(
                f"{node.name or node.op_type}: a {node.op_type} whose inputs are not chains from one value "
                "is left out (it has no MACs); the layers after it start from their own input shape"
            )
            self.alias[node.output[0]] = inputs[0]
            return
        self.items.append(block)

    def bias_add(self, node: Any, data: str) -> None:
        """MatMul + Add(bias) is a linear layer with a bias."""
        last = self.items[-1] if self.items else None
        if last and last.output == self.resolve(data) and last.entry.get("type") == "linear":
            last.entry["bias"] = True
        self.alias[node.output[0]] = data

    def block(self, node: Any, inputs: list[str]) -> Item | None:
        """Turn the chains that end in a join into a residual or branches block."""
        chains = [self.chain_to(name) for name in inputs]
        starts = {chain[0] for chain in chains}
        if len(starts) != 1:
            return None
        start = next(iter(starts))
        members = [item for chain in chains for item in chain[1]]
        if any(item not in self.items for item in members):
            return None
        for item in members:
            self.items.remove(item)
        paths = [[item.entry for item in chain[1]] for chain in chains]
        for path in paths:
            for step in path:  # inside the block, each path starts from the block's input
                step.pop("in", None)
        shape = "x".join(str(v) for v in self.channels_last(start))
        name = self.name_for(node, node.op_type.lower())
        entry: dict[str, Any]
        if node.op_type == "Add" and len(paths) == 2:
            body, shortcut = (paths[0], paths[1]) if len(paths[0]) >= len(paths[1]) else (paths[1], paths[0])
            entry = {"name": name, "type": "residual", "in": shape, "body": body}
            if shortcut:
                entry["shortcut"] = shortcut
        else:
            join = "add" if node.op_type in ("Add", "Sum") else "concat"
            entry = {"name": name, "type": "branches", "in": shape, "join": join, "branches": paths}
        return Item(entry, start, node.output[0])

    def chain_to(self, value: str) -> tuple[str, list[Item]]:
        """Walk back from a value through items read by nothing else, to where the chain starts."""
        path: list[Item] = []
        by_output = {item.output: item for item in self.items}
        current = value
        while current in by_output and self.uses.get(current, 0) == 1:
            item = by_output[current]
            path.append(item)
            current = item.source
        return current, list(reversed(path))

    # ------------------------------------------------------------------ run

    def run(self) -> Converted:
        handlers: dict[str, Callable[[Any], None]] = {
            "Conv": self.conv,
            "ConvTranspose": lambda n: self.conv(n, transposed=True),
            "Gemm": self.linear,
            "MatMul": self.linear,
            "MaxPool": self.pool,
            "AveragePool": self.pool,
            "GlobalAveragePool": self.pool,
            "GlobalMaxPool": self.pool,
            "BatchNormalization": self.batchnorm,
            "Add": self.join,
            "Sum": self.join,
            "Concat": self.join,
        }
        for node in self.graph.node:
            handler = handlers.get(node.op_type)
            if handler is not None:
                for name in node.input:
                    if name and name not in self.weights:
                        value = self.resolve(name)
                        self.uses[value] = self.uses.get(value, 0) + 1
                handler(node)
            elif node.op_type in PASS_THROUGH:
                self.alias[node.output[0]] = node.input[0]
            elif node.op_type not in PLUMBING:
                self.skip(node.op_type)
        # Chain entries whose input is the previous entry's output.
        previous: str | None = None
        layers = []
        for item in self.items:
            if previous is not None and item.source == previous:
                item.entry.pop("in", None)
            layers.append(item.entry)
            previous = item.output
        for op, count in sorted(self.unsupported.items()):
            self.notes.append(f"unsupported op {op} ({count}×): not counted — the totals leave it out")
        return Converted({"name": self.source, "layers": layers}, self.notes)
