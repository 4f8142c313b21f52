"""Linear layers and matrix products: MatMul and Gemm.

A product by a static 2-D weight is a ``linear`` layer over the last dim (the bias of an Add right
after it folded in); a product of two activations is a ``matmul`` entry, a static operand a parameter.
A weight counted before (tied, or shared across depth) is such an operand: its params count once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import prod
from typing import TYPE_CHECKING, NamedTuple

from ....core.errors import ConvCostError
from .. import rules
from ..layout import Shape, Static, Value, aligned, decode, dims_field, stored_shape, text
from ..read import attributes, inputs_of, standard
from ..read import label as node_label
from ..registry import Attrs, Op, lookup, register
from .opaque import opaque

if TYPE_CHECKING:
    from onnx import NodeProto

    from ..context import Context, Fields


def bias_after(ctx: Context, out: str, features: int) -> bool:
    """The static bias of an add that is the only reader of ``out``: a linear layer's bias."""
    readers = ctx.consumers.get(out, [])
    if len(readers) != 1 or out in ctx.outputs:
        return False
    add = readers[0]
    op = lookup(add.op_type)
    if op is None or not op.bias_add or not standard(add) or len(inputs_of(add)) != 2:
        return False
    other = next((n for n in add.input if n != out), None)
    if other is None or not ctx.is_static(other):
        return False
    static = ctx.static[other]
    if (
        static.shape is None
        or prod(static.shape) != features
        or (static.shape and static.shape[-1] != features)
    ):
        return False
    if not static.sources or static.sources & ctx.counted:
        return False
    ctx.absorbed[id(add)] = out
    ctx.counted |= static.sources
    return True


def linear(ctx: Context, node: NodeProto, data: str, weight: Shape, bias: bool, out: str) -> None:
    """A product by a 2-D weight: a linear layer over the last dim (its bias an Add after it)."""
    value = ctx.values[data]
    if value.batch is not None and value.batch == len(value.shape) - 1:
        data = ctx.unbatched(node, data, "it sums over the batch axis")
    entry, value = ctx.in_layout(node, data, "plain")
    if value.shape[-1] != weight[0]:
        raise ctx.fail(
            node,
            f"multiplies {text(value.shape)} by a {text(weight)} weight; the inner dims "
            f"({value.shape[-1]} and {weight[0]}) must match",
        )
    if not bias:
        bias = bias_after(ctx, out, weight[1])
    fields: Fields = {"out": weight[1]}
    if not bias:
        fields["bias"] = False
    if len(value.stored) > 1:
        fields["flatten"] = False
    ctx.produce(node, out, "linear", fields, [entry], value.batch, "plain")


def matmul(ctx: Context, node: NodeProto) -> None:
    a, b = node.input[0], node.input[1]
    out = node.output[0]
    # a weight counted before is read as a plain operand: a matmul, of the same MACs and no params
    matrix = ctx.is_static(b) and len(ctx.static[b].shape or ()) == 2
    if a in ctx.values and matrix and not ctx.read_again(b):
        weight = ctx.weight(node, b)
        assert weight is not None
        linear(ctx, node, a, weight, False, out)
        return
    product(ctx, node, a, b, out)


def product(ctx: Context, node: NodeProto, a: str, b: str, out: str) -> None:
    """A matrix product with an activation operand (a static one is a parameter), as NumPy's matmul."""
    shape = ctx.shape_of(node, out)
    rank = len(shape)
    dims = {name: ctx.dims(node, name) for name in (a, b)}
    axes: set[int] = set()
    mixed = False
    for name, first in ((a, True), (b, False)):
        value = ctx.values.get(name)
        if value is None or value.batch is None:
            continue
        r = len(value.shape)
        if r >= 3 and value.batch < r - 2:  # a batch dim of the product
            axes.add(value.batch + rank - r)
        elif first and r == 2 and value.batch == 0:  # the rows of A
            axes.add(rank - 2 if len(dims[b]) >= 2 else rank - 1)
        elif not first and r == 2 and value.batch == 1:  # the columns of B
            axes.add(rank - 1)
        else:
            mixed = True
    batch: int | None = None
    if mixed or len(axes) > 1:
        ctx.lost(node, "it multiplies over the batch axis")
    elif axes:
        batch = axes.pop()
    sources = []
    for name in (a, b):
        shape_of = dims[name]
        if batch is None:
            if name in ctx.values:
                name = ctx.unbatched(node, name, "it multiplies over the batch axis")
            target = shape_of
        elif batch < rank - 2 and len(shape_of) >= 2:
            full = aligned(shape_of, rank)
            target = full[:batch] + full[batch + 1 :]
        elif name in ctx.values:
            target = stored_shape(shape_of, "plain", ctx.values[name].batch)
        else:
            target = shape_of
        sources.append(ctx.conform(node, name, target or (1,), "plain"))
    ctx.produce(node, out, "matmul", {}, sources, batch, "plain")


def gemm(ctx: Context, node: NodeProto) -> None:
    names = [*node.input, ""]
    a_name, b_name, c_name = names[0], names[1], names[2]
    attrs = ctx.attrs(node)
    trans_a, trans_b = bool(attrs.get("transA", 0)), bool(attrs.get("transB", 0))
    beta = float(attrs.get("beta", 1.0))
    out = node.output[0]
    for flag, name, label in ((trans_a, a_name, "A"), (trans_b, b_name, "B")):
        if flag and name in ctx.values:  # an explicit transpose of a 2-D activation
            value = ctx.values[ctx.unbatched(node, name, f"trans{label} moves the batch axis")]
            flipped = value.shape[::-1]
            entry = ctx.emit(
                node, "transpose", {"perm": [1, 0]}, [value.entry], flipped, suffix=f"trans{label}"
            )
            ctx.values[f"{name}#T"] = Value(flipped, "plain", None, entry)
    if trans_a:
        if a_name not in ctx.values:
            ctx.static[f"{a_name}#T"] = Static(
                (ctx.static[a_name].shape or ())[::-1], None, ctx.static[a_name].sources
            )
        a_name = f"{a_name}#T"
    extra = c_name if c_name and beta != 0 else ""
    if a_name in ctx.values and ctx.is_static(b_name) and not ctx.read_again(b_name):
        weight = ctx.weight(node, b_name)
        assert weight is not None
        if trans_b:
            weight = weight[::-1]
        bias = False
        if extra and ctx.is_static(extra):
            c = ctx.static[extra]
            if (
                c.shape is not None
                and prod(c.shape) == weight[1]
                and (not c.shape or c.shape[-1] == weight[1])
            ):
                bias, extra = True, ""
                ctx.counted |= c.sources
        linear(ctx, node, a_name, weight, bias, out)
    else:
        if trans_b:
            if b_name not in ctx.values:
                ctx.static[f"{b_name}#T"] = Static(
                    (ctx.static[b_name].shape or ())[::-1], None, ctx.static[b_name].sources
                )
            b_name = f"{b_name}#T"
        product(ctx, node, a_name, b_name, out)
    if extra:
        sources, batch, layout = ctx.broadcast_inputs(node, [out, extra], out)
        ctx.produce(node, out, "add", {}, sources, batch, layout, suffix="C")


# ---------------------------------------------------------------------------- einsum

_ELLIPSIS = "..."


def einsum_syntax(equation: str) -> None:
    """That an equation is made of letters, at most one ellipsis a term and at most one ``->``: raises
    ValueError where not. Checked before onnx's shape inference, which loops forever on an operand
    term with any other character (a stray ``.`` as in ``..ij``, a ``-``)."""
    text_ = equation.replace(" ", "")
    lhs, arrow, rhs = text_.partition("->")
    if "->" in rhs:
        raise ValueError("it has more than one '->'")
    terms = [*lhs.split(","), *([rhs] if arrow else [])]
    for index, term in enumerate(terms):
        head, _, tail = term.partition(_ELLIPSIS)
        for part in (head, tail):
            if not all(c.isascii() and c.isalpha() for c in part):
                what = "output term" if arrow and index == len(terms) - 1 else "term"
                bad = next(c for c in part if not (c.isascii() and c.isalpha()))
                raise ValueError(
                    f"{what} {term!r} has {bad!r}, which is not a letter (nor part of one '...' ellipsis)"
                )


def _equation_well_formed(node: NodeProto, weights: Mapping[str, tuple[int, ...]]) -> None:
    """An Einsum's equation parses (whatever its operands' shapes), before onnx's inference reads it."""
    equation = attributes(node).get("equation")
    if not isinstance(equation, bytes):  # none, or not a string: the schema check says so
        return
    shown = equation.decode("utf-8", "replace")
    try:
        einsum_syntax(shown)
    except ValueError as exc:
        raise ConvCostError(node_label(node), f"has equation {shown!r}, which is not valid: {exc}") from None


def einsum_labels(equation: str, ranks: Sequence[int]) -> tuple[list[list[str]], list[str]]:
    """Each operand's index labels and the output's, per the ONNX spec (and numpy's ``einsum``).

    The dims an ellipsis stands for are labelled ``…0``, ``…1``…, right-aligned across operands (they
    broadcast). Without ``->`` the output is the ellipsis dims, then the letters that appear once, in
    alphabetical order. Raises ValueError for an equation that does not fit the operands.
    """
    einsum_syntax(equation)
    text_ = equation.replace(" ", "")
    lhs, arrow, rhs = text_.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ranks):
        raise ValueError(f"{len(terms)} operand term(s) for {len(ranks)} input(s)")
    heads: list[tuple[str, int, str]] = []  # letters before the ellipsis, its dims, letters after
    for term, rank in zip(terms, ranks, strict=True):
        head, dots, tail = term.partition(_ELLIPSIS)
        for part in (head, tail):
            if not all(c.isascii() and c.isalpha() for c in part):
                raise ValueError(f"term {term!r} has a label that is not a letter")
        if not dots and len(head) != rank:
            raise ValueError(f"term {term!r} has {len(head)} labels for an operand of {rank} dims")
        if dots and len(head) + len(tail) > rank:
            raise ValueError(f"term {term!r} has more labels than its operand's {rank} dims")
        heads.append((head, rank - len(head) - len(tail) if dots else 0, tail))
    most = max(dims for _, dims, _ in heads)
    labels = [[*head, *(f"…{most - dims + j}" for j in range(dims)), *tail] for head, dims, tail in heads]
    letters = [label for term in labels for label in term if not label.startswith("…")]
    if arrow:
        head, dots, tail = rhs.partition(_ELLIPSIS)
        if not all(c.isascii() and c.isalpha() for c in head + tail):
            raise ValueError(f"output term {rhs!r} has a label that is not a letter")
        output = [*head, *(f"…{j}" for j in range(most) if dots), *tail]
        if len(set(output)) != len(output):
            raise ValueError(f"output term {rhs!r} repeats a label")
        if set(head + tail) - set(letters):
            raise ValueError(f"output term {rhs!r} has a label no operand has")
    else:
        output = [f"…{j}" for j in range(most)] + sorted(c for c in set(letters) if letters.count(c) == 1)
    return labels, output


def einsum_sizes(labels: list[list[str]], dims: Sequence[Shape]) -> dict[str, int]:
    """Each label's size: the same in every operand, or 1 in some (broadcast)."""
    sizes: dict[str, int] = {}
    for term, shape in zip(labels, dims, strict=True):
        for label, size in zip(term, shape, strict=True):
            known = sizes.setdefault(label, size)
            if known != size and 1 not in (known, size):
                shown = label if not label.startswith("…") else "of the ellipsis"
                raise ValueError(f"index {shown} has sizes {known} and {size}")
            sizes[label] = max(known, size)
    return sizes


def einsum_shape(dims: list[Shape], attrs: Attrs) -> list[Shape]:
    """The output of an Einsum, per the ONNX spec."""
    equation = str(decode(attrs["equation"]))
    labels, output = einsum_labels(equation, [len(d) for d in dims])
    sizes = einsum_sizes(labels, dims)
    return [tuple(sizes[label] for label in output)]


def _one_operand(ctx: Context, node: NodeProto, equation: str) -> None:
    """Where the batch of a one-operand Einsum (left opaque) goes: its equation says, not its output's
    first dim (``ij->ji`` of a square input keeps the size but moves the batch)."""
    name = node.input[0] if node.input else ""
    value = ctx.values.get(name)
    if value is None or value.batch is None:
        return
    try:
        labels, output = einsum_labels(equation, [len(value.shape)])
    except ValueError:  # onnx's inference has checked it: nothing known of it is wrong
        return
    kept = labels[0][value.batch]
    if labels[0].count(kept) == 1 and output[:1] == [kept]:
        return
    done = "sums over" if kept not in output else "moves"
    ctx.lost(node, f"its equation {equation!r} {done} the batch axis")


class _Term(NamedTuple):
    """An operand or partial result of a contraction: its entry and the labels of its stored dims."""

    entry: str
    labels: list[str]


def einsum(ctx: Context, node: NodeProto) -> None:
    """Contracted pairwise, left to right, each pair a ``matmul`` (with free transposes and reshapes):
    its MACs the product of the sizes of every distinct index of the two."""
    names = list(node.input)
    equation = str(decode(ctx.attrs(node).get("equation", b"")))
    if len(names) < 2 or not all(names):  # one operand: a transpose, trace or sum, not a product
        _one_operand(ctx, node, equation)
        opaque(ctx, node)
        return
    dims = [ctx.dims(node, name) for name in names]
    try:
        labels, output = einsum_labels(equation, [len(d) for d in dims])
        sizes = einsum_sizes(labels, dims)
    except ValueError as exc:
        raise ctx.fail(node, f"has equation {equation!r}, which does not fit its inputs: {exc}") from None
    out = node.output[0]
    out_shape = ctx.shape_of(node, out)
    expected = tuple(sizes[label] for label in output)
    if expected != out_shape:
        raise ctx.fail(
            node,
            f"its equation {equation!r} makes it {text(expected)} "
            f"but the model's shapes say {text(out_shape)}",
        )
    if any(len(set(term)) != len(term) for term in labels):
        opaque(ctx, node, "an index repeated in one operand")
        return
    if any(
        size != sizes[label]
        for t, d in zip(labels, dims, strict=True)
        for label, size in zip(t, d, strict=True)
    ):
        opaque(ctx, node, "operands that broadcast")
        return
    batch_label = _batch_label(ctx, names, labels, output)
    if batch_label is None:
        names = [
            ctx.unbatched(node, n, "it contracts the batch axis") if n in ctx.values else n for n in names
        ]
    terms = []
    for name, term in zip(names, labels, strict=True):
        if name in ctx.values:
            entry, value = ctx.in_layout(node, name, "plain")
            kept = [label for axis, label in enumerate(term) if axis != value.batch]
        else:
            kept = term
            entry = ctx.conform(node, name, tuple(sizes[label] for label in term) or (1,), "plain")
        terms.append(_Term(entry, kept))
    current = terms[0]
    for step, other in enumerate(terms[1:], start=1):
        keep = set(output).union(*labels[step + 1 :])
        current = _contract(ctx, node, current, other, keep - {batch_label or ""}, sizes, step)
    target = [label for label in output if label != batch_label]
    entry = current.entry
    if current.labels != target:
        perm = [current.labels.index(label) for label in target]
        shape = tuple(sizes[label] for label in target)
        entry = ctx.emit(node, "transpose", {"perm": perm}, [entry], shape, suffix="out")
    batch = output.index(batch_label) if batch_label is not None else None
    stored = stored_shape(out_shape, "plain", batch)
    if ctx.stored[entry] != stored:
        entry = ctx.emit(node, "reshape", {"shape": dims_field(stored)}, [entry], stored, suffix="out")
    ctx.set_value(node, out, out_shape, "plain", batch, entry)


def _batch_label(ctx: Context, names: list[str], labels: list[list[str]], output: list[str]) -> str | None:
    """The label of the batch axis, where the contraction keeps it one (None: the batch is lost, or none)."""
    found = {
        term[ctx.values[n].batch or 0] for n, term in zip(names, labels, strict=True) if _batched(ctx, n)
    }
    if len(found) != 1:
        return None
    label = found.pop()
    for name, term in zip(names, labels, strict=True):
        if label in term and not (_batched(ctx, name) and term[ctx.values[name].batch or 0] == label):
            return None  # a weight or an unbatched operand has it
    return label if label in output else None


def _batched(ctx: Context, name: str) -> bool:
    return name in ctx.values and ctx.values[name].batch is not None


def _contract(
    ctx: Context, node: NodeProto, x: _Term, y: _Term, keep: set[str], sizes: dict[str, int], step: int
) -> _Term:
    """One pairwise contraction: X as [B, M, K], Y as [B, K, N], a matmul, the indices no one needs summed."""
    shared = [label for label in x.labels if label in y.labels]
    batch = [label for label in shared if label in keep]
    inner = [label for label in shared if label not in keep]
    rows = [label for label in x.labels if label not in y.labels]
    cols = [label for label in y.labels if label not in x.labels]

    def arranged(term: _Term, order: list[str], first: list[str], second: list[str], side: str) -> str:
        entry = term.entry
        if term.labels != order:
            perm = [term.labels.index(label) for label in order]
            entry = ctx.emit(
                node,
                "transpose",
                {"perm": perm},
                [entry],
                tuple(sizes[o] for o in order),
                suffix=f"{side}{step}",
            )
        shape = (*(sizes[b] for b in batch), prod(sizes[f] for f in first), prod(sizes[s] for s in second))
        if ctx.stored[entry] != shape:
            entry = ctx.emit(
                node, "reshape", {"shape": dims_field(shape)}, [entry], shape, suffix=f"{side}{step}"
            )
        return entry

    a = arranged(x, batch + rows + inner, rows, inner, "a")
    b = arranged(y, batch + inner + cols, inner, cols, "b")
    made = (*(sizes[b] for b in batch), prod(sizes[r] for r in rows), prod(sizes[c] for c in cols))
    entry = ctx.emit(node, "matmul", {}, [a, b], made, suffix=f"step{step}" if step > 1 else "")
    result = batch + rows + cols
    if not result:
        return _Term(entry, [])
    shape = tuple(sizes[label] for label in result)
    if ctx.stored[entry] != shape:
        entry = ctx.emit(node, "reshape", {"shape": dims_field(shape)}, [entry], shape, suffix=f"c{step}")
    summed = [axis for axis, label in enumerate(result) if label not in keep]
    if summed:
        kept = [label for label in result if label in keep]
        shape = tuple(sizes[label] for label in kept) or (1,)
        fields: Fields = {"mode": "sum", "axes": summed, "keepdims": False}
        entry = ctx.emit(node, "reduce", fields, [entry], shape, suffix=f"sum{step}")
        result = kept
    return _Term(entry, result)


register(
    Op("MatMul", matmul, arity=(2, 2, "two operands"), any_operand=True, weighted=True, shape=rules.matmul),
    Op("Gemm", gemm, arity=(2, 3, "two matrices (and an optional C)"), any_operand=True, weighted=True,
       shape=rules.gemm),
    Op("Einsum", einsum, check=_equation_well_formed, any_operand=True, shape=rules.of_dims(einsum_shape)),
)
