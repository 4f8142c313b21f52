"""DepthToSpace and SpaceToDepth (issue 18's demo of one op, one entry): data moved, no work.

The entries the importer writes (reshape, transpose, reshape on the channels-last tensor) are
replayed on real data and must move every element where onnx's reference puts it.
"""

from __future__ import annotations

import pytest

from tests.conftest import optional_module

onnx = optional_module("onnx", "onnx")
np = optional_module("numpy", "onnx")

from onnx_build import build, cost, inferred, node, weight  # noqa: E402

from convcost.core.errors import ConvCostError  # noqa: E402
from convcost.io.onnx.ops.shape import _depth_to_space_shape, _space_to_depth_shape  # noqa: E402


def model(op: str, shape=(1, 8, 3, 4), **attrs):
    return build([node(op, ["x"], ["y"], "move", **attrs)], [("x", list(shape))], [("y", None)])


def replayed(document: dict, x):
    """The document's entries applied to one sample, channels-last (reshape and transpose only)."""
    data = np.transpose(x[0], (1, 2, 0))
    for layer in document["layers"]:
        if layer["type"] == "reshape":
            data = data.reshape([int(d) for d in str(layer["shape"]).split("x")])
        else:
            assert layer["type"] == "transpose"
            data = np.transpose(data, layer["perm"])
    return data


@pytest.mark.parametrize(
    ("op", "attrs", "shape"),
    [
        ("DepthToSpace", {"blocksize": 2}, (1, 8, 3, 4)),
        ("DepthToSpace", {"blocksize": 2, "mode": "DCR"}, (1, 12, 2, 3)),
        ("DepthToSpace", {"blocksize": 2, "mode": "CRD"}, (1, 12, 2, 3)),
        ("DepthToSpace", {"blocksize": 3, "mode": "CRD"}, (1, 18, 2, 2)),
        ("SpaceToDepth", {"blocksize": 2}, (1, 3, 4, 6)),
    ],
)
def test_the_entries_move_the_data_as_onnx_does(op, attrs, shape) -> None:
    from onnx.reference import ReferenceEvaluator

    m = model(op, shape, **attrs)
    converted, network = cost(m)
    assert converted.unsupported == {}
    assert network.totals.macs == 0 and network.totals.params == 0
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    (expected,) = ReferenceEvaluator(m).run(None, {"x": x})
    np.testing.assert_array_equal(replayed(converted.document, x), np.transpose(expected[0], (1, 2, 0)))
    rule = _depth_to_space_shape if op == "DepthToSpace" else _space_to_depth_shape
    assert rule([shape], attrs) == [tuple(inferred(m)["y"])]


def test_a_pixel_shuffle_upsampler_costs_its_conv_only() -> None:
    """ESPCN's tail: a conv to r²·C channels, then DepthToSpace; batch 2 followed."""
    m = build(
        [
            node("Conv", ["x", "w"], ["c"], "conv", pads=[1, 1, 1, 1]),
            node("DepthToSpace", ["c"], ["y"], "shuffle", blocksize=3, mode="CRD"),
            node("Relu", ["y"], ["z"], "act"),
        ],
        [("x", [2, 8, 10, 10])], [("z", None)], [weight("w", 27, 8, 3, 3)],
    )  # fmt: skip
    converted, network = cost(m)
    assert converted.unsupported == {} and converted.batch == 2
    assert network.totals.macs == 10 * 10 * 27 * 8 * 9
    assert network.rows[-1].output_shape == (30, 30, 3)


def test_channels_or_map_that_do_not_divide_are_refused_by_the_rule() -> None:
    with pytest.raises(ValueError, match="not divisible"):
        _depth_to_space_shape([(1, 6, 2, 2)], {"blocksize": 2})
    with pytest.raises(ValueError, match="not divisible"):
        _space_to_depth_shape([(1, 6, 3, 2)], {"blocksize": 2})


@pytest.mark.parametrize(
    ("op", "shape", "attrs", "problem"),
    [
        (
            "DepthToSpace",
            (1, 8, 3, 4),
            {"blocksize": 2, "mode": "XYZ"},
            "has mode 'XYZ'; expected DCR or CRD",
        ),
        (
            "DepthToSpace",
            (1, 8, 3, 4),
            {"blocksize": 2, "mode": "crd"},
            "has mode 'crd'; expected DCR or CRD",
        ),
        ("DepthToSpace", (1, 8, 3, 4), {"blocksize": 0}, "has blocksize 0; it must be at least 1"),
        ("SpaceToDepth", (1, 8, 4, 4), {"blocksize": -2}, "has blocksize -2; it must be at least 1"),
        # the divisibility, before any reshape of the data is worked out
        (
            "DepthToSpace",
            (1, 16, 4, 4),
            {"blocksize": 3},
            "its 16 channels are not divisible by blocksize² (9)",
        ),
        (
            "DepthToSpace",
            (1, 16, 4, 4),
            {"blocksize": 10**9},
            "its 16 channels are not divisible by blocksize²",
        ),
        ("SpaceToDepth", (1, 16, 4, 6), {"blocksize": 3}, "its 4x6 map is not divisible by blocksize 3"),
        ("SpaceToDepth", (1, 16, 6, 4), {"blocksize": 3}, "its 6x4 map is not divisible by blocksize 3"),
    ],
)
def test_blocks_and_modes_that_do_not_fit_are_one_line(op, shape, attrs, problem) -> None:
    with pytest.raises(ConvCostError) as error:
        cost(model(op, shape, **attrs))
    assert str(error.value).startswith(f"node 'move' ({op}): {problem}")
    assert "shape:" not in str(error.value)  # not the reshape's words
