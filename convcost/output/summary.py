"""The one summary every output renders from: built once from the model, formatted elsewhere."""

from __future__ import annotations

from math import prod

from ..core.options import Settings
from ..core.traffic import Traffic, conv_traffic, traffic
from ..model.evaluate import Row
from ..model.kinds import KINDS


def row_traffic(row: Row, settings: Settings) -> Traffic:
    """Minimum memory traffic of one row run on its own (see :mod:`convcost.core.traffic`)."""
    if row.costed is not None and row.costed.convs:
        return conv_traffic(row.costed.convs, settings)
    outputs = prod(row.output_shape)
    if KINDS[row.type].merges:  # reads every input, writes the result
        inputs = sum(prod(shape) for shape in row.input_shapes)
        return traffic(0, inputs, 0, outputs, settings)
    return traffic(row.counts.flops, prod(row.input_shape), row.counts.params, outputs, settings)
