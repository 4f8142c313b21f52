"""Einsum (issue 18): contracted pairwise, left to right; each pair's MACs are the product of the
sizes of every distinct index in it. The shape rule follows the ONNX spec (ellipsis, implicit output).
"""

from __future__ import annotations

import re
from math import prod

import pytest

from tests.conftest import optional_module

onnx = optional_module("onnx", "onnx")
np = optional_module("numpy", "onnx")

from onnx_build import build, cost, inferred, node, weight  # noqa: E402

from convcost.core.errors import ConvCostError  # noqa: E402
from convcost.io.onnx.ops.linear import einsum_labels, einsum_shape  # noqa: E402


def einsum_model(equation: str, *shapes: tuple[int, ...], weights=()):
    """An Einsum of inputs a, b, c… (those named in ``weights`` are initializers)."""
    names = [chr(ord("a") + i) for i in range(len(shapes))]
    inputs = [(n, list(s)) for n, s in zip(names, shapes, strict=True) if n not in weights]
    inits = [weight(n, *s) for n, s in zip(names, shapes, strict=True) if n in weights]
    return build([node("Einsum", names, ["y"], "e1", equation=equation)], inputs, [("y", None)], inits)


@pytest.mark.parametrize(
    ("equation", "shapes", "macs"),
    [
        ("ij,jk->ik", [(1, 6), (6, 5)], 6 * 5),  # a batch of one row: j·k per sample
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)], 3 * 4 * 5),
        ("bhid,bhjd->bhij", [(2, 4, 7, 8), (2, 4, 7, 8)], 4 * 7 * 7 * 8),  # attention scores
        ("bhij,bhjd->bhid", [(2, 4, 7, 7), (2, 4, 7, 8)], 4 * 7 * 7 * 8),
        ("ij,jk", [(1, 6), (6, 5)], 6 * 5),  # implicit output: ik
        ("b...i,b...i->b...", [(2, 3, 5, 6), (2, 3, 5, 6)], 3 * 5 * 6),  # ellipsis
        ("bi,bi->b", [(3, 10), (3, 10)], 10),
        ("bi,bj->bij", [(2, 3), (2, 4)], 3 * 4),  # an outer product
        ("bij,bjk,bkl->bil", [(2, 3, 4), (2, 4, 5), (2, 5, 6)], 3 * 4 * 5 + 3 * 5 * 6),  # left to right
        ("bij,bjk->bk", [(2, 3, 4), (2, 4, 5)], 3 * 4 * 5),  # i summed after the product
    ],
)
def test_macs_per_pair_are_the_product_of_its_indices(equation, shapes, macs) -> None:
    converted, network = cost(einsum_model(equation, *shapes))
    assert converted.unsupported == {}
    assert converted.batch == shapes[0][0]
    assert network.totals.macs == macs
    expected = np.einsum(equation, *(np.zeros(s) for s in shapes)).shape
    assert network.rows[-1].output_shape == (expected[1:] or (1,))


def test_a_static_operand_is_a_weight_counted_once() -> None:
    model = einsum_model("bti,io->bto", (2, 5, 8), (8, 3), weights=("b",))
    converted, network = cost(model)
    assert network.totals.macs == 5 * 8 * 3
    assert network.totals.params == 8 * 3
    assert converted.batch == 2


@pytest.mark.parametrize("equation", ["bi,bj->ij", "bij,bjk"])  # implicit: ik, b summed
def test_the_batch_axis_contracted_is_costed_whole(equation) -> None:
    shapes = [(2, 3), (2, 4)] if "->" in equation else [(2, 3, 4), (2, 4, 5)]
    converted, network = cost(einsum_model(equation, *shapes))
    assert network.totals.macs == prod(shapes[0]) * shapes[1][-1]  # one pass over the whole input
    assert converted.batch == 1
    assert any("mixes the batch axis" in note for note in converted.notes)


def test_one_operand_is_not_a_contraction() -> None:
    converted, _ = cost(build(
        [node("Einsum", ["a"], ["y"], "e1", equation="bij->bji"), node("Relu", ["y"], ["z"])],
        [("a", [1, 3, 4])], [("z", None)],
    ))  # fmt: skip
    assert converted.unsupported == {"Einsum": 1}


@pytest.mark.parametrize(
    ("equation", "shapes"),
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("ij,jk", [(2, 3), (3, 4)]),
        ("ba,cb", [(2, 3), (4, 2)]),  # implicit: the letters once, in alphabetical order: ac
        ("...ij,...jk->...ik", [(5, 2, 3), (5, 3, 4)]),
        ("...ij,...jk", [(1, 5, 2, 3), (6, 1, 3, 4)]),  # broadcast ellipsis dims
        ("i...,i...->...", [(3, 2, 2), (3, 2, 2)]),
        ("ij,ij->", [(2, 3), (2, 3)]),
        ("Ab,bC->AC", [(2, 3), (3, 4)]),
        ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 5)]),
    ],
)
def test_the_shape_rule_is_onnx_inference(equation, shapes) -> None:
    model = einsum_model(equation, *shapes)
    assert einsum_shape(list(shapes), {"equation": equation.encode()}) == [tuple(inferred(model)["y"])]


@pytest.mark.parametrize(
    ("equation", "ranks", "problem"),
    [
        ("ij,jk", [2], "2 operand term(s) for 1 input(s)"),
        ("ijk,jk", [2, 2], "3 labels for an operand of 2 dims"),
        ("i1,jk", [2, 2], "not a letter"),
        ("ij...k,jk", [2, 2], "more labels"),
        ("ij,jk->iz", [2, 2], "no operand has"),
        ("ij,jk->ii", [2, 2], "repeats a label"),
    ],
)
def test_an_equation_that_does_not_fit_is_refused(equation, ranks, problem) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        einsum_labels(equation, ranks)


def test_sizes_that_do_not_broadcast_are_refused() -> None:
    with pytest.raises(ValueError, match="index j has sizes 3 and 4"):
        einsum_shape([(2, 3), (4, 5)], {"equation": b"ij,jk->ik"})


def test_the_output_is_in_the_order_the_equation_gives() -> None:
    """Explicit (any order) and implicit outputs cost the same; a label no operand has is one error."""
    model = einsum_model("bij,bjk->bik", (1, 3, 4), (1, 4, 5))
    model.graph.node[0].attribute[0].s = b"bij,bjk->bki"
    _, _ = cost(model)  # transposed output: still fine
    model.graph.node[0].attribute[0].s = b"bij,bjk"
    converted, network = cost(model)
    assert network.totals.macs == 3 * 4 * 5 and not converted.unsupported
    with pytest.raises(ConvCostError):
        bad = einsum_model("bij,bjk->bik", (1, 3, 4), (1, 4, 5))
        bad.graph.node[0].attribute[0].s = b"bij,bjk->bqk"
        cost(bad)


def test_corpus_style_mixer_matches_numpy_macs() -> None:
    """A token mixer as timm writes it: tokens mixed by a weight, channels by another."""
    model = build(
        [
            node("Einsum", ["x", "wt"], ["t"], "mix_tokens", equation="bnc,nm->bmc"),
            node("Einsum", ["t", "wc"], ["y"], "mix_channels", equation="bmc,cd->bmd"),
        ],
        [("x", [2, 10, 12])], [("y", None)], [weight("wt", 10, 10), weight("wc", 12, 3)],
    )  # fmt: skip
    converted, network = cost(model)
    assert network.totals.macs == 10 * 12 * 10 + 10 * 12 * 3
    assert network.totals.params == 100 + 36
    assert converted.batch == 2
    assert prod(network.rows[-1].output_shape) == 10 * 3


# onnx's C++ inference loops forever on these (an operand term with a character that is not a letter
# nor part of one ellipsis): convcost must refuse them before it runs
_HANGS = ["..ij,jk->ik", "...i...,i->", ".ij,jk", "i.j,jk", "ij.,jk", "....ij,jk", "-ij,jk", "ij,jk-"]


def _refusals(tmp_path, models) -> list[str]:
    """Each model loaded in a child with a timeout (a regression would hang the test run, not fail it):
    its error, or 'accepted'."""
    import subprocess
    import sys

    paths = []
    for index, model in enumerate(models):
        paths.append(str(tmp_path / f"m{index}.onnx"))
        (tmp_path / f"m{index}.onnx").write_bytes(model.SerializeToString())
    script = (
        "import sys\nfrom convcost.core.errors import ConvCostError\nfrom convcost.io.onnx import load\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n        load(open(path, 'rb').read(), path)\n        print('accepted')\n"
        "    except ConvCostError as exc:\n        print(str(exc).replace(chr(10), ' '))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *paths], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.splitlines()


def test_a_stray_dot_is_refused_before_onnx_inference_hangs_on_it(tmp_path) -> None:
    lines = _refusals(tmp_path, [einsum_model(equation, (3, 4), (4, 5)) for equation in _HANGS])
    assert len(lines) == len(_HANGS)
    for equation, line in zip(_HANGS, lines, strict=True):
        assert f"node 'e1' (Einsum): has equation {equation!r}, which is not valid" in line
        assert "not a letter" in line


@pytest.mark.parametrize(
    ("equation", "problem"),
    [
        ("..ij,jk->ik", "term '..ij' has '.'"),
        ("ij,jk->i.k", "output term 'i.k' has '.'"),
        ("ij,jk->ik->ik", "more than one '->'"),
        ("ij,j-k", "term 'j-k' has '-'"),
    ],
)
def test_the_equations_syntax_is_checked_first(equation, problem) -> None:
    with pytest.raises(ConvCostError, match=re.escape(problem)):
        cost(einsum_model(equation, (3, 4), (4, 5)))


def test_an_einsum_inside_an_if_branch_is_checked_too(tmp_path) -> None:
    from onnx import TensorProto, helper

    inner = helper.make_node("Einsum", ["a", "a"], ["t"], name="inner", equation=".ij,jk")
    made = helper.make_tensor_value_info("t", TensorProto.FLOAT, None)
    branch = helper.make_graph([inner], "b", [], [made])
    model = build(
        [
            node("ReduceSum", ["a"], ["s"], "s", keepdims=0),
            node("Cast", ["s"], ["c"], "c", to=TensorProto.BOOL),
            node("If", ["c"], ["y"], "if", then_branch=branch, else_branch=branch),
        ],
        [("a", [3, 3])],
        [("y", None)],
    )
    (line,) = _refusals(tmp_path, [model])
    assert "node 'inner' (Einsum): has equation '.ij,jk', which is not valid" in line


@pytest.mark.parametrize(
    ("equation", "shape", "batch", "why"),
    [
        ("bij->bji", (2, 3, 4), 2, None),  # the batch stays first: nothing mixed
        ("bii->bi", (2, 3, 3), 2, None),
        ("ij->ji", (3, 3), 1, "its equation 'ij->ji' moves the batch axis"),  # the same size, moved
        ("ij->ji", (3, 4), 1, "its equation 'ij->ji' moves the batch axis"),
        ("bij->ij", (2, 3, 4), 1, "its equation 'bij->ij' sums over the batch axis"),
    ],
)
def test_one_operand_says_where_its_batch_goes(equation, shape, batch, why) -> None:
    """Opaque, but its equation (not its output's first dim) tells where the batch is."""
    converted, _ = cost(build(
        [node("Einsum", ["a"], ["y"], "e1", equation=equation), node("Relu", ["y"], ["z"])],
        [("a", list(shape))], [("z", None)],
    ))  # fmt: skip
    assert converted.batch == batch
    mixed = [note for note in converted.notes if "mixes the batch axis" in note]
    assert mixed == ([] if why is None else [mixed[0]])
    if why is not None:
        assert f"node 'e1' (Einsum) mixes the batch axis with other dims ({why})" in mixed[0]
