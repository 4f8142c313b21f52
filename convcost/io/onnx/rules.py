"""Shape rules, per the ONNX spec, shared by the ops' entries (each entry names its rule).

A rule reads a node's inputs (:class:`.registry.Given`: dims, and values where known) and its
attributes, and gives its outputs' dims. It raises ValueError in words that follow the node's name
for inputs that do not fit, and :class:`Unknown` where it needs a value not known here (a Reshape's
target computed from data): its outputs' dims are then unknown, as onnx's inference leaves them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from math import prod

from .layout import decode, text
from .registry import Attrs, Given, Rule, ShapeRule
from .tensor import Number, Tensor, broadcast_dims

Shape = tuple[int, ...]


class Unknown(LookupError):
    """A value the rule needs is not known: the outputs' dims are not either."""


def dims_of(given: Given, index: int) -> Shape:
    found = given.dims[index] if index < len(given.dims) else None
    if found is None:
        raise Unknown(f"input {index}")
    return found


def value_of(given: Given, index: int) -> Tensor:
    found = given.values[index] if index < len(given.values) else None
    if found is None:
        raise Unknown(f"the value of input {index}")
    return found


def present(given: Given, index: int) -> bool:
    return index < len(given.dims) and given.dims[index] is not None


def ints_of(given: Given, index: int) -> list[int]:
    return value_of(given, index).ints()


def axis_in(axis: int, rank: int, what: str = "axis") -> int:
    if not -rank <= axis < rank:
        raise ValueError(f"has {what} {axis}, out of range for its {rank}-D input")
    return axis % rank


def of_dims(rule: ShapeRule) -> Rule:
    """A rule of dims alone (the inputs present, in order) as an entry's rule."""

    def shaped(given: Given, attrs: Attrs) -> list[Shape]:
        return rule([d for d in given.dims if d is not None], attrs)

    return shaped


# ---------------------------------------------------------------------------- element-wise


def same(given: Given, attrs: Attrs) -> list[Shape]:
    """Every output has the first input's dims (an activation, a norm, Dropout's mask)."""
    return [dims_of(given, 0)] * 3


def broadcast(given: Given, attrs: Attrs) -> list[Shape]:
    """The inputs broadcast together (numpy's rule)."""
    shapes = [d for d in given.dims if d is not None]
    try:
        return [broadcast_dims(*shapes)]
    except ValueError as exc:
        raise ValueError(f"its inputs {exc}") from None


# ---------------------------------------------------------------------------- reductions


def reduce(given: Given, attrs: Attrs) -> list[Shape]:
    """Reduce*: the axes of the attribute or (opset 13 on for ReduceSum, 18 on for the others) of the
    second input; none: every axis, or none with ``noop_with_empty_axes``."""
    dims = dims_of(given, 0)
    rank = len(dims)
    axes: list[int] | None
    if "axes" in attrs:
        axes = [int(a) for a in attrs["axes"]]
    elif present(given, 1):
        axes = ints_of(given, 1)
    else:
        axes = None
    if not axes:
        if attrs.get("noop_with_empty_axes", 0):
            return [dims]
        axes = list(range(rank))
    picked = {axis_in(a, rank, "axis") for a in axes}
    if attrs.get("keepdims", 1):
        return [tuple(1 if a in picked else d for a, d in enumerate(dims))]
    return [tuple(d for a, d in enumerate(dims) if a not in picked)]


# ---------------------------------------------------------------------------- windows


def _window(dims: Shape, attrs: Attrs, kernel: Sequence[int], ceil: bool) -> list[int]:
    """The spatial output dims of a window (conv or pool) sliding over ``dims[2:]``."""
    spatial = dims[2:]
    n = len(spatial)
    if len(kernel) != n:
        raise ValueError(f"has a {len(kernel)}-D kernel for its {len(dims)}-D input; it needs {n} dims")
    strides = [int(s) for s in attrs.get("strides", [1] * n)]
    dilations = [int(d) for d in attrs.get("dilations", [1] * n)]
    if len(strides) != n or len(dilations) != n:
        raise ValueError(f"has strides {strides} and dilations {dilations} for {n} spatial dims")
    if any(s < 1 for s in strides) or any(d < 1 for d in dilations):
        raise ValueError(f"has strides {strides} and dilations {dilations}; each must be at least 1")
    auto = decode(attrs.get("auto_pad", b"NOTSET"))
    out: list[int] = []
    pads = [0] * (2 * n) if auto != "NOTSET" else [int(p) for p in attrs.get("pads", [0] * (2 * n))]
    if len(pads) != 2 * n:
        raise ValueError(f"has {len(pads)} pads for {n} spatial dims; it needs {2 * n}")
    if auto in ("SAME_UPPER", "SAME_LOWER"):  # padded for ceil(in / stride), then as any window
        for axis, (size, s) in enumerate(zip(spatial, strides, strict=True)):
            reach = dilations[axis] * (kernel[axis] - 1) + 1
            pads[axis] = max((-(-size // s) - 1) * s + reach - size, 0)
    for axis in range(n):
        reach = dilations[axis] * (kernel[axis] - 1) + 1
        room = spatial[axis] + pads[axis] + pads[axis + n] - reach
        stride = strides[axis]
        if ceil:
            size = -(-room // stride) + 1
        else:
            size = int(room / stride) + 1 if abs(room) < 1 << 52 else room // stride + 1  # C++'s truncation
        out.append(size)
    return out


def _same_rank(dims: Shape, weight: Shape) -> None:
    if len(dims) < 3 or len(weight) != len(dims):
        raise ValueError(
            f"its input's {len(dims)} dimensions ({text(dims)}) and its weight's {len(weight)} "
            f"({text(weight)}) differ; they must have the same rank (N×C×spatial and C_out×C_in×kernel)"
        )


def conv(given: Given, attrs: Attrs, weight: int = 1) -> list[Shape]:
    """Conv (weight at input ``weight``): N × C_out × the window's spatial dims."""
    dims, w = dims_of(given, 0), dims_of(given, weight)
    _same_rank(dims, w)
    kernel = [int(k) for k in attrs.get("kernel_shape", w[2:])]
    return [(dims[0], w[0], *_window(dims, attrs, kernel, False))]


def pool(given: Given, attrs: Attrs) -> list[Shape]:
    """MaxPool, AveragePool, LpPool: N × C × the window's spatial dims (and MaxPool's indices)."""
    dims = dims_of(given, 0)
    if len(dims) < 3:
        raise ValueError(f"its input {text(dims)} is not N×C×…")
    kernel = [int(k) for k in attrs["kernel_shape"]]
    out = (dims[0], dims[1], *_window(dims, attrs, kernel, bool(attrs.get("ceil_mode", 0))))
    return [out, out]


def global_pool(given: Given, attrs: Attrs) -> list[Shape]:
    dims = dims_of(given, 0)
    if len(dims) < 2:
        raise ValueError(f"its input {text(dims)} is not N×C×…")
    return [(dims[0], dims[1], *[1] * (len(dims) - 2))]


def conv_transpose(given: Given, attrs: Attrs) -> list[Shape]:
    """N × C_out·group × per spatial dim: output_shape where given, else the natural size
    stride·(in − 1) + output_padding + dilation·(kernel − 1) + 1 less the pads, or for SAME auto_pad
    in·stride where that is smaller (onnx's inference: the padding is never below 0)."""
    dims, w = dims_of(given, 0), dims_of(given, 1)
    _same_rank(dims, w)
    spatial = dims[2:]
    n = len(spatial)
    channels = w[1] * int(attrs.get("group", 1))
    if "output_shape" in attrs:
        stated = [int(s) for s in attrs["output_shape"]]
        return [(dims[0], channels, *stated[-n:])]
    kernel = [int(k) for k in attrs.get("kernel_shape", w[2:])]
    strides = [int(s) for s in attrs.get("strides", [1] * n)]
    dilations = [int(d) for d in attrs.get("dilations", [1] * n)]
    extra = [int(p) for p in attrs.get("output_padding", [0] * n)]
    auto = decode(attrs.get("auto_pad", b"NOTSET"))
    pads = [0] * (2 * n) if auto != "NOTSET" else [int(p) for p in attrs.get("pads", [0] * (2 * n))]
    if not len(kernel) == len(strides) == len(dilations) == len(extra) == n or len(pads) != 2 * n:
        raise ValueError(f"has kernel, strides, dilations, output_padding or pads not of {n} spatial dims")
    out = []
    for i in range(n):
        natural = strides[i] * (spatial[i] - 1) + extra[i] + dilations[i] * (kernel[i] - 1) + 1
        if auto in ("SAME_UPPER", "SAME_LOWER"):  # padded to in·stride, where that is below natural
            out.append(min(natural, spatial[i] * strides[i]))
        else:
            out.append(natural - pads[i] - pads[i + n])
    return [(dims[0], channels, *out)]


# ---------------------------------------------------------------------------- products


def matmul(given: Given, attrs: Attrs) -> list[Shape]:
    """numpy's matmul: a 1-D operand gets a dim added and removed; the batch dims broadcast."""
    a, b = dims_of(given, 0), dims_of(given, 1)
    if not a or not b:
        raise ValueError("has a scalar operand; MatMul needs at least 1-D ones")
    left = (1, *a) if len(a) == 1 else a
    right = (*b, 1) if len(b) == 1 else b
    if left[-1] != right[-2]:
        raise ValueError(
            f"multiplies {text(a)} by {text(b)}; the inner dims ({left[-1]} and {right[-2]}) differ"
        )
    try:
        batch = broadcast_dims(left[:-2], right[:-2])
    except ValueError:
        raise ValueError(f"multiplies {text(a)} by {text(b)}, whose batch dims do not broadcast") from None
    out = [*batch, left[-2], right[-1]]
    if len(b) == 1:
        del out[-1]
    if len(a) == 1:
        del out[-2 if len(b) != 1 else -1]
    return [tuple(out)]


def gemm(given: Given, attrs: Attrs) -> list[Shape]:
    a, b = dims_of(given, 0), dims_of(given, 1)
    if len(a) != 2 or len(b) != 2:
        raise ValueError(f"multiplies {text(a)} by {text(b)}; Gemm takes 2-D matrices")
    m, k = a[::-1] if attrs.get("transA", 0) else a
    k2, n = b[::-1] if attrs.get("transB", 0) else b
    if k != k2:
        raise ValueError(f"multiplies {text(a)} by {text(b)}; the inner dims ({k} and {k2}) differ")
    return [(m, n)]


# ---------------------------------------------------------------------------- moving data


def reshaped_dims(dims: Sequence[int], target: Sequence[int], allowzero: bool) -> Shape:
    """Reshape's output: 0 copies the input's dim (unless ``allowzero``), one −1 takes the rest."""
    out = list(target)
    for axis, size in enumerate(out):
        if size == 0 and not allowzero:
            if axis >= len(dims):
                raise ValueError(f"its shape {list(target)} copies dim {axis} of a {len(dims)}-D input")
            out[axis] = dims[axis]
        elif size < -1:
            raise ValueError(f"its shape {list(target)} has a dim below -1")
    total = prod(dims)
    if out.count(-1) > 1:
        raise ValueError(f"its shape {list(target)} has more than one -1")
    if -1 in out:
        known = prod(d for d in out if d != -1)
        if known == 0 or total % known:
            raise ValueError(f"cannot reshape {text(dims)} to {list(target)}")
        out[out.index(-1)] = total // known
    if prod(out) != total:
        raise ValueError(f"cannot reshape {text(dims)} ({total} elements) to {list(target)}")
    return tuple(out)


def reshape(given: Given, attrs: Attrs) -> list[Shape]:
    return [reshaped_dims(dims_of(given, 0), ints_of(given, 1), bool(attrs.get("allowzero", 0)))]


def flatten(given: Given, attrs: Attrs) -> list[Shape]:
    dims = dims_of(given, 0)
    axis = int(attrs.get("axis", 1))
    if not -len(dims) <= axis <= len(dims):
        raise ValueError(f"has axis {axis}, out of range for its {len(dims)}-D input")
    axis += len(dims) if axis < 0 else 0
    return [(prod(dims[:axis]), prod(dims[axis:]))]


def squeezed(dims: Sequence[int], axes: Sequence[int] | None) -> Shape:
    if axes is None:
        return tuple(d for d in dims if d != 1)
    picked = {axis_in(a, len(dims)) for a in axes}
    if any(dims[a] != 1 for a in picked):
        raise ValueError(f"squeezes axes {sorted(picked)} of {text(dims)}, not all of size 1")
    return tuple(d for a, d in enumerate(dims) if a not in picked)


def unsqueezed(dims: Sequence[int], axes: Sequence[int]) -> Shape:
    rank = len(dims) + len(axes)
    picked = sorted({axis_in(a, rank) for a in axes})
    if len(picked) != len(axes):
        raise ValueError(f"has axes {list(axes)}, one repeated")
    out = list(dims)
    for axis in picked:
        out.insert(axis, 1)
    return tuple(out)


def _axes(given: Given, attrs: Attrs) -> list[int] | None:
    if "axes" in attrs:
        return [int(a) for a in attrs["axes"]]
    if present(given, 1):
        return ints_of(given, 1)
    return None


def squeeze(given: Given, attrs: Attrs) -> list[Shape]:
    return [squeezed(dims_of(given, 0), _axes(given, attrs))]


def unsqueeze(given: Given, attrs: Attrs) -> list[Shape]:
    axes = _axes(given, attrs)
    if axes is None:
        raise ValueError("has no axes")
    return [unsqueezed(dims_of(given, 0), axes)]


def transpose(given: Given, attrs: Attrs) -> list[Shape]:
    dims = dims_of(given, 0)
    perm = [int(p) for p in attrs.get("perm", range(len(dims) - 1, -1, -1))]
    if sorted(perm) != list(range(len(dims))):
        raise ValueError(f"has perm {perm}, not an order of its input's {len(dims)} axes")
    return [tuple(dims[p] for p in perm)]


def concat(given: Given, attrs: Attrs) -> list[Shape]:
    shapes = [d for d in given.dims if d is not None]
    rank = len(shapes[0])
    axis = axis_in(int(attrs["axis"]), rank)
    for shape in shapes:
        if len(shape) != rank or any(a != axis and d != shapes[0][a] for a, d in enumerate(shape)):
            raise ValueError(f"joins {', '.join(text(s) for s in shapes)}, which differ off axis {axis}")
    return [(*shapes[0][:axis], sum(s[axis] for s in shapes), *shapes[0][axis + 1 :])]


def split(given: Given, attrs: Attrs) -> list[Shape]:
    """Split into ``outputs`` parts: sizes from the attribute (opset < 13) or the second input, else
    ``num_outputs`` (opset 18: the last part smaller) or equal parts."""
    dims = dims_of(given, 0)
    axis = axis_in(int(attrs.get("axis", 0)), len(dims))
    size, outputs = dims[axis], given.outputs
    if "split" in attrs:
        sizes = [int(s) for s in attrs["split"]]
    elif present(given, 1):
        sizes = ints_of(given, 1)
    elif "num_outputs" in attrs:
        parts = int(attrs["num_outputs"])
        chunk = -(-size // parts)
        sizes = [chunk] * (parts - 1) + [size - chunk * (parts - 1)]
    elif given.opset >= 18:
        raise ValueError("has neither a 'split' input nor 'num_outputs'; from opset 18 it needs one of them")
    else:
        if size % outputs:
            raise ValueError(f"splits a dim of {size} into {outputs} equal parts")
        sizes = [size // outputs] * outputs
    if sum(sizes) != size or any(s < 0 for s in sizes):
        raise ValueError(f"splits a dim of {size} into {sizes}")
    return [(*dims[:axis], s, *dims[axis + 1 :]) for s in sizes]


def slice_(given: Given, attrs: Attrs) -> list[Shape]:
    """Each axis sliced as :func:`slice_range` says."""
    dims = dims_of(given, 0)
    if given.opset >= 10:
        starts, ends = ints_of(given, 1), ints_of(given, 2)
        axes = ints_of(given, 3) if present(given, 3) else list(range(len(starts)))
        steps = ints_of(given, 4) if present(given, 4) else [1] * len(starts)
    else:
        starts, ends = [int(s) for s in attrs["starts"]], [int(e) for e in attrs["ends"]]
        axes = [int(a) for a in attrs.get("axes", range(len(starts)))]
        steps = [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise ValueError(
            f"has {len(starts)} starts, {len(ends)} ends, {len(axes)} axes and {len(steps)} steps"
        )
    out = list(dims)
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        if step == 0:
            raise ValueError("has a step of 0")
        a = axis_in(axis, len(dims))
        out[a] = len(slice_range(dims[a], start, end, step))
    return [tuple(out)]


def slice_range(dim: int, start: int, end: int, step: int) -> range:
    """The positions a Slice keeps of a dim, per the ONNX spec: negative bounds count from the end,
    then are clamped to [0, dim] (stepping back: start to [0, dim − 1], end to [−1, dim − 1])."""
    start += dim if start < 0 else 0
    end += dim if end < 0 else 0
    if step < 0:
        start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
    else:
        start, end = min(max(start, 0), dim), min(max(end, 0), dim)
    return range(start, end, step)


def pad(given: Given, attrs: Attrs) -> list[Shape]:
    dims = dims_of(given, 0)
    rank = len(dims)
    if given.opset >= 11:
        pads = ints_of(given, 1)
        axes = [axis_in(a, rank) for a in ints_of(given, 3)] if present(given, 3) else list(range(rank))
    else:
        pads = [int(p) for p in attrs["pads"]]
        axes = list(range(rank))
    if len(pads) != 2 * len(axes):
        raise ValueError(f"has {len(pads)} pads for {len(axes)} axes; it needs {2 * len(axes)}")
    out = list(dims)
    for i, axis in enumerate(axes):
        out[axis] += pads[i] + pads[i + len(axes)]
    return [tuple(out)]


def gather(given: Given, attrs: Attrs) -> list[Shape]:
    data, indices = dims_of(given, 0), dims_of(given, 1)
    axis = axis_in(int(attrs.get("axis", 0)), len(data))
    return [(*data[:axis], *indices, *data[axis + 1 :])]


def gather_elements(given: Given, attrs: Attrs) -> list[Shape]:
    data, indices = dims_of(given, 0), dims_of(given, 1)
    if len(data) != len(indices):
        raise ValueError(f"its data {text(data)} and indices {text(indices)} differ in rank")
    axis_in(int(attrs.get("axis", 0)), len(data))
    return [indices]


def gather_nd(given: Given, attrs: Attrs) -> list[Shape]:
    data, indices = dims_of(given, 0), dims_of(given, 1)
    batch = int(attrs.get("batch_dims", 0))
    if not indices or indices[-1] + batch > len(data):
        raise ValueError(f"its indices {text(indices)} do not fit its data {text(data)}")
    return [(*indices[:-1], *data[batch + indices[-1] :])]


def expand(given: Given, attrs: Attrs) -> list[Shape]:
    dims, target = dims_of(given, 0), ints_of(given, 1)
    try:
        return [broadcast_dims(dims, target)]
    except ValueError:
        raise ValueError(f"cannot expand {text(dims)} to {target}") from None


def _scaled(dims: Shape, scales: Sequence[float]) -> Shape:
    if len(scales) != len(dims):
        raise ValueError(f"has {len(scales)} scales for its {len(dims)}-D input")
    return tuple(math.floor(_float32(d * s)) for d, s in zip(dims, scales, strict=True))


def _float32(value: float) -> float:
    from .tensor import FLOAT, convert

    return float(convert(value, FLOAT))


def resize(given: Given, attrs: Attrs) -> list[Shape]:
    """Resize: ``sizes`` (the 4th input) where given, else ``scales`` (the 3rd; the 2nd before opset
    11); with ``axes`` (opset 18) only those axes."""
    dims = dims_of(given, 0)
    axes = [axis_in(int(a), len(dims)) for a in attrs.get("axes", range(len(dims)))]
    chosen = [dims[a] for a in axes]
    if given.opset >= 11 and present(given, 3) and value_of(given, 3).size:
        made = tuple(ints_of(given, 3))
        if len(made) != len(axes):
            raise ValueError(f"has {len(made)} sizes for {len(axes)} axes")
        policy = decode(attrs.get("keep_aspect_ratio_policy", b"stretch"))
        if policy != "stretch":
            ratios = [m / c for m, c in zip(made, chosen, strict=True)]
            ratio = min(ratios) if policy == "not_larger" else max(ratios)
            made = tuple(math.floor(c * ratio + 0.5) for c in chosen)
    else:
        index = 2 if given.opset >= 11 else 1
        scales = [float(v) for v in value_of(given, index).values]
        made = _scaled(tuple(chosen), scales)
    out = list(dims)
    for axis, size in zip(axes, made, strict=True):
        out[axis] = size
    return [tuple(out)]


def upsample(given: Given, attrs: Attrs) -> list[Shape]:
    dims = dims_of(given, 0)
    scales = (
        [float(s) for s in attrs["scales"]]
        if "scales" in attrs
        else [float(v) for v in value_of(given, 1).values]
    )
    return [_scaled(dims, scales)]


# ---------------------------------------------------------------------------- values


def constant(given: Given, attrs: Attrs) -> list[Shape]:
    """A Constant's dims: its tensor's (never decoded for this), or its list's length."""
    if "value" in attrs:
        return [tuple(int(d) for d in attrs["value"].dims)]
    if "sparse_value" in attrs:
        return [tuple(int(d) for d in attrs["sparse_value"].dims)]
    for key in ("value_floats", "value_ints", "value_strings"):
        if key in attrs:
            return [(len(attrs[key]),)]
    return [()]


def constant_of_shape(given: Given, attrs: Attrs) -> list[Shape]:
    dims = ints_of(given, 0)
    if any(d < 0 for d in dims):
        raise ValueError(f"makes a tensor of dims {dims}, one below 0")
    return [tuple(dims)]


def range_(given: Given, attrs: Attrs) -> list[Shape]:
    """Range: its count of its three scalars, however large (its fold makes the values of small ones)."""
    bounds = [value_of(given, index) for index in range(3)]
    if any(b.size != 1 for b in bounds):
        raise ValueError(f"has bounds of {', '.join(str(b.size) for b in bounds)} elements; each must be one")
    try:
        return [(range_count(*(b.values[0] for b in bounds)),)]
    except ValueError as exc:
        raise ValueError(f"is a Range of {exc}") from None


def range_count(start: Number, limit: Number, delta: Number) -> int:
    """ONNX's (and numpy's) count of a Range: ceil((limit − start) / delta), at least 0."""
    if not delta:
        raise ValueError("step 0")
    if isinstance(start, int) and isinstance(limit, int) and isinstance(delta, int):
        return max(-((start - limit) // delta), 0)
    if not all(math.isfinite(v) for v in (start, limit, delta)):
        raise ValueError("bounds that are not finite")
    return max(math.ceil((limit - start) / delta), 0)


def shape(given: Given, attrs: Attrs) -> list[Shape]:
    dims = dims_of(given, 0)
    return [(len(dims[attrs.get("start", 0) : attrs.get("end", len(dims))]),)]


def scalar(given: Given, attrs: Attrs) -> list[Shape]:
    return [()]
