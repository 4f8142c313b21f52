"""Many convs in one call, for architecture search: (output shape, MACs, params) each.

Each layer is a tuple of :func:`~convcost.core.conv.conv`'s positional arguments, then its
geometry — ``(in_shape, out, kernel[, stride[, padding[, dilation[, groups]]]])`` — and
gives what ``conv(*layer)`` would. Plain ints are costed inline, without building a
:class:`~convcost.core.conv.Conv`; anything else goes through :func:`conv`, so the values
and the errors are the same (an error names the layer: ``layers[3].kernel``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .conv import conv
from .errors import ConvCostError, bad_value

#: Values below this keep every count of a 1-D to 3-D conv far under the result limit.
_PLAIN = 1 << 31
_DEFAULTS = (1, 0, 1, 1)  # stride, padding, dilation, groups

LayerCost = tuple[tuple[int, ...], int, int]


def _general(layer: Sequence[object]) -> LayerCost:
    if not 3 <= len(layer) <= 7:
        raise bad_value(
            "", layer, "expected (in_shape, out, kernel[, stride[, padding[, dilation[, groups]]]])"
        )
    in_shape, out, kernel = layer[0], layer[1], layer[2]
    geometry: list[object] = [*layer[3:], *_DEFAULTS[len(layer) - 3 :]]
    stride, padding, dilation, groups = geometry
    c = conv(in_shape, out, kernel, stride=stride, padding=padding, dilation=dilation, groups=groups)
    return c.output_shape, c.macs, c.params


def cost_many(layers: Iterable[Sequence[object]]) -> list[LayerCost]:
    """(output_shape, MACs, params) for each layer, in order.

    >>> cost_many([((28, 28, 8), 16, 3), ((56, 56, 64), 64, 3, 1, 1, 1, 64)])
    [((26, 26, 16), 778752, 1152), ((56, 56, 64), 1806336, 576)]
    """
    results: list[LayerCost] = []
    append = results.append
    for index, layer in enumerate(layers):
        # The common case inline: a tuple (in_shape, out, kernel, …) of positive ints, an image.
        # (Unpacked by length, not padded with the defaults: no tuple made per layer.)
        if type(layer) is tuple:
            size = len(layer)
            if size == 5:
                in_shape, out, kernel, stride, padding = layer
                dilation = groups = 1
            elif size == 3:
                in_shape, out, kernel = layer
                stride = dilation = groups = 1
                padding = 0
            elif 3 < size <= 7:
                in_shape, out, kernel, stride, padding, dilation, groups = layer + _DEFAULTS[size - 3 :]
            else:
                in_shape = None
            if (
                type(in_shape) is tuple
                and len(in_shape) == 3
                and type(out) is int
                and type(kernel) is int
                and type(stride) is int
                and type(padding) is int
                and type(dilation) is int
                and type(groups) is int
                and 0 < out < _PLAIN
                and 0 < kernel < _PLAIN
                and 0 < stride < _PLAIN
                and 0 <= padding < _PLAIN
                and 0 < dilation < _PLAIN
                and 0 < groups < _PLAIN
            ):
                height, width, channels = in_shape
                span = dilation * (kernel - 1) + 1 - 2 * padding
                if (
                    type(height) is int
                    and type(width) is int
                    and type(channels) is int
                    and 0 < height < _PLAIN
                    and 0 < width < _PLAIN
                    and 0 < channels < _PLAIN
                    and span <= height
                    and span <= width
                    and not channels % groups
                    and not out % groups
                ):
                    rows, cols = (height - span) // stride + 1, (width - span) // stride + 1
                    weights = out * (channels // groups) * kernel * kernel
                    append(((rows, cols, out), rows * cols * weights, weights))
                    continue
        try:
            append(_general(layer))
        except ConvCostError as exc:
            raise exc.within(f"layers[{index}]") from None
        except TypeError:  # not a sequence of arguments at all
            expected = "expected a tuple (in_shape, out, kernel, …)"
            raise bad_value(f"layers[{index}]", layer, expected) from None
    return results
