"""Recurrent layers: LSTM, GRU and RNN, forward, reverse or bidirectional, ``layout`` 0 or 1.

Each direction is a product of the whole sequence by W (``linear`` over the input's last dim) and one
by R (``linear`` over the hidden states, the gates' first H columns standing in for them: the same
T positions of H features), their sum the gates: T·B·(gates·H)·(I + H) MACs a direction, W, R and B
counted as params (the two linears' biases are B's two halves), and LSTM's peepholes a parameter of
3·H a direction. The gates' element-wise work is left out (as FlopCounterMode's formula does).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from ....core.errors import ConvCostError
from .. import rules
from ..layout import Shape, axis_map, decode, dims_field, stored_shape, text
from ..read import attributes, label
from ..registry import Attrs, Op, Rule, register
from .opaque import opaque

if TYPE_CHECKING:
    from onnx import NodeProto

    from ..context import Context, Fields


_DIRECTIONS = ("forward", "reverse", "bidirectional")


def _attributes_valid(node: NodeProto, weights: Mapping[str, tuple[int, ...]]) -> None:
    """``direction``, ``layout`` and ``hidden_size`` are values ONNX defines (else onnx's inference
    leaves the outputs' dims unknown, and the model would be refused for that)."""
    a = attributes(node)
    direction = a.get("direction", b"forward")
    if isinstance(direction, bytes) and decode(direction) not in _DIRECTIONS:
        raise ConvCostError(
            label(node), f"has direction {decode(direction)!r}; expected one of {', '.join(_DIRECTIONS)}"
        )
    layout = a.get("layout", 0)
    if isinstance(layout, int) and layout not in (0, 1):
        raise ConvCostError(
            label(node),
            f"has layout {layout}; expected 0 (steps first: T×B×…) or 1 (batch first: B×T×…)",
        )
    hidden = a.get("hidden_size")
    if isinstance(hidden, int) and hidden < 1:
        raise ConvCostError(label(node), f"has hidden_size {hidden}; it must be at least 1")


def _hidden_from_r(node: NodeProto, weights: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    """``hidden_size`` (optional in ONNX) where it is left out: R's last dim, which onnx's inference
    would otherwise leave unknown in every output."""
    names = list(node.input)
    r = weights.get(names[2]) if len(names) > 2 else None
    if "hidden_size" in attributes(node) or r is None or len(r) != 3:
        return {}
    return {"hidden_size": r[-1]}


def _directions(attrs: Attrs) -> int:
    return 2 if decode(attrs.get("direction", b"forward")) == "bidirectional" else 1


def recurrent_shape(dims: list[Shape], attrs: Attrs, gates: int) -> list[Shape]:
    """Y, Y_h (and Y_c) per the ONNX spec: [T, D, B, H] and [D, B, H], or with ``layout`` 1
    [B, T, D, H] and [B, D, H]. ``dims``: X's, W's and R's."""
    x, w, r = dims[:3]
    if len(x) != 3:
        raise ValueError(f"its input is {len(x)}-D ({text(x)}); it needs 3 dims")
    layout = int(attrs.get("layout", 0))
    steps, batch, features = (x[1], x[0], x[2]) if layout else x
    directions = _directions(attrs)
    hidden = int(attrs.get("hidden_size", r[-1] if len(r) == 3 else 0))
    need_w, need_r = (directions, gates * hidden, features), (directions, gates * hidden, hidden)
    if tuple(w) != need_w or tuple(r) != need_r:
        raise ValueError(
            f"its weights W {text(w)} and R {text(r)} do not fit {directions} direction(s) of "
            f"{gates} gate(s) of {hidden} from {features} features: W {text(need_w)}, R {text(need_r)}"
        )
    if layout:
        return [(batch, steps, directions, hidden), (batch, directions, hidden), (batch, directions, hidden)]
    return [(steps, directions, batch, hidden), (directions, batch, hidden), (directions, batch, hidden)]


def recurrent(ctx: Context, node: NodeProto, gates: int, peepholes: int | None = None) -> None:
    """One LSTM, GRU or RNN node (``peepholes``: the input that holds them, LSTM's)."""
    names = [*node.input, *[""] * 8]
    x, w, r, b = names[:4]
    p = names[peepholes] if peepholes is not None else ""
    attrs = ctx.attrs(node)
    try:
        made = recurrent_shape([ctx.dims(node, n) for n in (x, w, r)], attrs, gates)
    except ValueError as exc:
        raise ctx.fail(node, str(exc)) from None
    _check_optional(ctx, node, names, made, gates, peepholes)
    if not ctx.is_static(w) or not ctx.is_static(r) or any(n and not ctx.is_static(n) for n in (b, p)):
        opaque(ctx, node, "computed weight")
        return
    # a W, R or P that another node read first is read again: its rows do the work, with no params
    # (B's halves go with W's and R's rows)
    again = {name: ctx.read_again(name) for name in (w, r, p) if name}
    for name in (w, r, b, p):
        if name:
            ctx.weight(node, name)
    layout = int(attrs.get("layout", 0))
    directions, hidden = made[1][1 if layout else 0], made[0][-1]
    for out, shape in zip(node.output, made, strict=False):
        if out and ctx.shape_of(node, out) != shape:
            raise ctx.fail(
                node,
                f"its output {out!r} is {text(shape)} by the ONNX spec, but the model's shapes say "
                f"{text(ctx.shape_of(node, out))}",
            )
    axis = 0 if layout else 1  # X's batch axis
    if ctx.values[x].batch not in (axis, None):
        note = None
        if not layout and ctx.values[x].batch == 0:  # the dim taken for the batch is the steps
            note = (
                f"{label(node)} reads {x!r} steps first (layout 0: steps × batch × features, here "
                f"{text(ctx.dims(node, x))}): the first dim of the model's input is not a batch of samples, "
                "so the model is costed as one pass over its whole input; the totals are for that"
            )
        x = ctx.unbatched(node, x, "its batch axis is not the recurrence's", note)
    entry, value = ctx.in_layout(node, x, "plain")
    tracked = value.batch is not None
    y_batch = (0 if layout else 2) if tracked else None
    state_batch = (0 if layout else 1) if tracked else None
    lead = value.stored[:-1]
    width = gates * hidden
    linear: Fields = {"out": width, "flatten": False}
    if not b:
        linear["bias"] = False
    one = list(made[0])
    one[2 if layout else 1] = 1  # a direction's Y
    single = stored_shape(tuple(one), "plain", y_batch)
    parts = []
    for d in range(directions):
        tag = ("fwd", "bwd")[d] if directions == 2 else ""
        y = _direction(ctx, node, entry, lead, linear, hidden, p, tag, again)
        if single != (*lead, hidden):
            suffix = f"{tag}_y" if tag else "y"
            y = ctx.emit(node, "reshape", {"shape": dims_field(single)}, [y], single, suffix=suffix)
        parts.append(y)
    rank = len(made[0])
    whole = stored_shape(made[0], "plain", y_batch)
    dirs_axis = axis_map(rank, "plain", y_batch)[2 if layout else 1]
    assert dirs_axis is not None
    y = parts[0]
    if directions == 2:
        fields: Fields = {} if dirs_axis == len(whole) - 1 else {"axis": dirs_axis}
        y = ctx.emit(node, "concat", fields, parts, whole, suffix="y")
    if node.output and node.output[0]:
        ctx.set_value(node, node.output[0], made[0], "plain", y_batch, y)
    states = [o for o in node.output[1:3] if o]
    if not states:
        return
    steps_axis = axis_map(rank, "plain", y_batch)[1 if layout else 0]
    assert steps_axis is not None
    steps = made[0][1 if layout else 0]
    last = list(whole)
    last[steps_axis] = 1
    stored = stored_shape(made[1], "plain", state_batch)
    sliced = ctx.emit(
        node,
        "slice",
        {"start": steps - 1, "stop": steps, "axis": steps_axis},
        [y],
        tuple(last),
        suffix="last",
    )
    state = ctx.emit(node, "reshape", {"shape": dims_field(stored)}, [sliced], stored, suffix="state")
    for out in states:
        ctx.set_value(node, out, made[1], "plain", state_batch, state)


def _check_optional(
    ctx: Context, node: NodeProto, names: list[str], made: list[Shape], gates: int, peepholes: int | None
) -> None:
    """The optional inputs' dims, per the ONNX spec: B [D, 2·gates·H], sequence_lens [B], initial_h
    (and LSTM's initial_c) the shape of Y_h, LSTM's P [D, 3·H]."""
    layout = int(ctx.attrs(node).get("layout", 0))
    directions, batch, hidden = (made[1][1], made[1][0], made[1][2]) if layout else made[1]
    wanted = {
        3: ("bias", (directions, 2 * gates * hidden), f"[num_directions, {2 * gates}·hidden_size]"),
        4: ("sequence_lens", (batch,), "[batch]"),
        5: ("initial_h", made[1], "Y_h's shape"),
    }
    if peepholes is not None:
        wanted[6] = ("initial_c", made[1], "Y_h's shape")
        wanted[peepholes] = ("peepholes P", (directions, 3 * hidden), "[num_directions, 3·hidden_size]")
    for index, (what, need, rule) in wanted.items():
        name = names[index]
        if name and ctx.dims(node, name) != need:
            raise ctx.fail(
                node,
                f"its {what} {name!r} is {text(ctx.dims(node, name))}, but {directions} direction(s) of "
                f"hidden size {hidden} over a batch of {batch} need {text(need)} ({rule})",
            )


def _direction(
    ctx: Context,
    node: NodeProto,
    x: str,
    lead: Shape,
    linear: Fields,
    hidden: int,
    peepholes: str,
    tag: str,
    again: dict[str, bool],
) -> str:
    """One direction's entries, from the input's entry ``x`` to its hidden states (``lead`` × H);
    ``again``: W, R and P by name, whether another node read them first."""

    def named(part: str) -> str:
        return f"{tag}_{part}" if tag else part

    def own(fields: Fields, name: str) -> Fields:
        return {**fields, "learned": False} if again.get(name) else fields

    w, r = list(node.input)[1:3]
    width = int(str(linear["out"]))
    gx = ctx.emit(node, "linear", own(linear, w), [x], (*lead, width), suffix=named("w"))
    h = ctx.emit(node, "slice", {"start": 0, "stop": hidden}, [gx], (*lead, hidden), suffix=named("h"))
    gh = ctx.emit(node, "linear", own(linear, r), [h], (*lead, width), suffix=named("r"))
    cell = ctx.emit(node, "add", {}, [gx, gh], (*lead, width), suffix=named("gates"))
    if peepholes:
        three = (*[1] * len(lead), 3 * hidden)
        name = f"{peepholes}_{tag or 'p'}"
        peep = ctx.emit(node, "parameter", own({"shape": dims_field(three)}, peepholes), [], three, name=name)
        shape = (*lead, 3 * hidden)
        cell = ctx.emit(node, "slice", {"start": 0, "stop": 3 * hidden}, [cell], shape, suffix=named("c"))
        cell = ctx.emit(node, "mul", {}, [cell, peep], shape, suffix=named("peepholes"))
    return ctx.emit(node, "slice", {"start": 0, "stop": hidden}, [cell], (*lead, hidden), suffix=named("y"))


def _shape(gates: int) -> Rule:
    return rules.of_dims(partial(recurrent_shape, gates=gates))


_ENTRY: dict[str, Any] = {"check": _attributes_valid, "complete": _hidden_from_r, "weighted": True}

register(
    Op("LSTM", partial(recurrent, gates=4, peepholes=7), shape=_shape(4), **_ENTRY),
    Op("GRU", partial(recurrent, gates=3), shape=_shape(3), **_ENTRY),
    Op("RNN", partial(recurrent, gates=1), shape=_shape(1), **_ENTRY),
)
