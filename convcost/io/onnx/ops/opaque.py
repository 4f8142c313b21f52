"""The fallback: an op convcost cannot cost passes the model's shapes on and is listed, never dropped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..layout import dims_field, stored_shape
from ..read import inputs_of, standard

if TYPE_CHECKING:
    from onnx import NodeProto

    from ..context import Context


def opaque(ctx: Context, node: NodeProto, why: str = "") -> None:
    """An ``opaque`` entry per output, in the notes and in ``Converted.unsupported``."""
    label = node.op_type if standard(node) else f"{node.domain}::{node.op_type}"
    ctx.unsupported[label + (f" ({why})" if why else "")] += 1
    sources = []
    batched = False
    for name in dict.fromkeys(inputs_of(node)):
        if name in ctx.values:
            sources.append(ctx.values[name].entry)
            batched = batched or ctx.values[name].batch == 0
    for index, out in enumerate(node.output):
        if not out:
            continue
        if out not in ctx.shapes or None in ctx.shapes[out]:
            raise ctx.fail(
                node,
                f"is an op convcost cannot cost, and shape inference does not know the shape of its "
                f"output {out!r}; give it in the model's value_info",
            )
        shape = ctx.shape_of(node, out)
        batch = 0 if ctx.n is not None and batched and shape and shape[0] == ctx.n else None
        if batch is None and ctx.n is not None and ctx.n > 1:
            ctx.lost(node, f"convcost cannot tell where the batch of its output {out!r} is")
        layout = ctx.layout_for(out, shape, batch)
        stored = stored_shape(shape, layout, batch)
        fields: dict[str, object] = {"op": label, "shape": dims_field(stored)}
        entry = ctx.emit(node, "opaque", fields, sources, stored, suffix=str(index) if index else "")
        ctx.set_value(node, out, shape, layout, batch, entry)
