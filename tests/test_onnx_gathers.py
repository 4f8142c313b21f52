"""Data movement and running sums with entries of their own (issue 18): GatherND, GatherElements, a
Gather of computed indices, and CumSum. None is a MAC; each is costed, never listed as unsupported.

Every count is worked out by hand in the comments.
"""

from __future__ import annotations

import pytest

from tests.conftest import optional_module

np = optional_module("numpy", "onnx")

from tests.onnx_build import build, cost, inferred, node, weight  # noqa: E402


def ints(name: str, values, *dims: int):
    from onnx import numpy_helper

    return numpy_helper.from_array(np.array(values, dtype=np.int64).reshape(dims), name)


def head(x: str = "x"):
    """x (1×6×8) through a linear of 8·8 = 64 weights: 6·8·8 = 384 MACs, then the op under test."""
    return node("MatMul", [x, "w"], ["h"], "fc"), weight("w", 8, 8)


def test_gather_nd_picks_rows_and_costs_nothing(onnx) -> None:
    # Swin V2's relative-position bias: rows of a table (6×8) at 10 constant positions → 10×8
    fc, w = head()
    positions = ints("pos", [i % 6 for i in range(10)], 10, 1)
    nodes = [
        fc,
        node("Reshape", ["h", "shape"], ["t"], "table"),
        node("GatherND", ["t", "pos"], ["y"], "bias"),
    ]
    model = build(nodes, [("x", [1, 6, 8])], [("y", None)], [w, ints("shape", [6, 8], 2), positions])
    assert inferred(model)["y"] == [10, 8]
    converted, network = cost(model)
    assert converted.unsupported == {}
    assert network.totals.macs == 384 and network.totals.params == 64
    assert network.rows[-1].output_shape == (10, 8) and network.rows[-1].counts.macs == 0


def test_gather_nd_with_batch_dims_and_pairs_of_indices(onnx) -> None:
    # data 2×3×4×8 (batch_dims 1), indices 2×5×2: each picks a [:, i, j] row of 8 → 2×5×8
    nodes = [
        node("MatMul", ["x", "w"], ["h"], "fc"),
        node("GatherND", ["h", "pos"], ["y"], "picked", batch_dims=1),
    ]
    positions = ints("pos", [[i % 3, i % 4] for i in range(10)], 2, 5, 2)
    model = build(nodes, [("x", [2, 3, 4, 8])], [("y", None)], [weight("w", 8, 8), positions])
    assert inferred(model)["y"] == [2, 5, 8]
    converted, network = cost(model)
    assert converted.unsupported == {}
    assert network.totals.macs == 2 * 3 * 4 * 64 and network.rows[-1].counts.macs == 0


def test_gather_elements_has_its_indices_shape(onnx) -> None:
    # one element of h (1×6×8) per index: indices 1×3×8 → 1×3×8
    fc, w = head()
    nodes = [fc, node("GatherElements", ["h", "idx"], ["y"], "picked", axis=1)]
    model = build(nodes, [("x", [1, 6, 8])], [("y", None)], [w, ints("idx", [1] * 24, 1, 3, 8)])
    converted, network = cost(model)
    assert converted.unsupported == {}
    assert network.totals.macs == 384 and network.totals.other_ops == 0
    assert network.rows[-1].output_shape == (1, 3, 8)  # picked across the batch: its axis is a dim


def test_a_gather_of_computed_indices(onnx) -> None:
    # rows of h (1×6×8) along axis 1 at positions the model computes (ArgMax over the last dim: 1×6)
    fc, w = head()
    nodes = [
        fc,
        node("ArgMax", ["h"], ["i"], "argmax", axis=-1, keepdims=0),
        node("Gather", ["h", "i"], ["y"], "picked", axis=1),
    ]
    model = build(nodes, [("x", [1, 6, 8])], [("y", None)], [w])
    assert inferred(model)["y"] == [1, 1, 6, 8]
    converted, network = cost(model)
    assert not any(op.startswith("Gather") for op in converted.unsupported)
    assert network.totals.macs == 384
    assert network.rows[-1].output_shape == (1, 1, 6, 8)


@pytest.mark.parametrize("exclusive, reverse", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_cumsum_is_one_add_per_element(onnx, exclusive: int, reverse: int) -> None:
    # on an activation: h (1×6×8) summed along axis 1: 48 adds as other ops, no MACs
    fc, w = head()
    nodes = [fc, node("CumSum", ["h", "axis"], ["y"], "running", exclusive=exclusive, reverse=reverse)]
    model = build(nodes, [("x", [1, 6, 8])], [("y", None)], [w, ints("axis", [1])])
    converted, network = cost(model)
    assert converted.unsupported == {}
    assert network.totals.macs == 384 and network.rows[-1].counts.other_ops == 48


def test_the_gather_folds(onnx) -> None:
    from convcost.io.onnx.ops.shape import _gather_elements, _gather_nd
    from convcost.io.onnx.tensor import of_ints

    data = of_ints(list(range(24)), (4, 6))
    (rows,) = _gather_nd([data, of_ints([2, 0], (2, 1))], {})
    assert rows.dims == (2, 6) and list(rows.values) == [*range(12, 18), *range(6)]
    (points,) = _gather_nd([data, of_ints([1, 5, 3, 0], (2, 2))], {})
    assert list(points.values) == [11, 18]
    assert _gather_nd([data, of_ints([1, 2, 3, 0], (4, 1))], {"batch_dims": 1}) is None
    (picked,) = _gather_elements([data, of_ints([5, 0, 1, 1], (2, 2))], {"axis": 1})
    assert picked.dims == (2, 2) and list(picked.values) == [5, 0, 7, 7]
