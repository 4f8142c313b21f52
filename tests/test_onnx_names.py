"""The names an ONNX conversion gives its entries (no onnx needed).

Each entry is named after its node, cleaned to a spec's characters; a name taken already gets the
first free counter (``name_1``, ``name_2``, …). The counter search resumes where the base's last one
stopped (a tied weight read by each of 20,000 layers must not make naming quadratic), which must
give the very names of the plain search from ``_1``, whatever else has been named in between.
"""

from __future__ import annotations

import re
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from convcost.io.onnx import proto
from convcost.io.onnx.context import Context


def plain(taken: set[str], base: str) -> str:
    """The first free of base, base_1, base_2, … (the search from the start, every time)."""
    name, k = base, 1
    while name in taken:
        name = f"{base}_{k}"
        k += 1
    taken.add(name)
    return name


def context() -> Context:
    model = cast(Any, proto.parse(b""))  # convcost's own proto, which Context reads as onnx's
    return Context(model, {}, set(), "model.onnx", 1)


def test_a_taken_name_gets_the_first_free_counter() -> None:
    ctx = context()
    bases = ["a", "a_1", "a", "a", "a_3", "a", "input", "a b", "/a/", "a"]
    names = [ctx.unique(b) for b in bases]
    assert names == ["a", "a_1", "a_2", "a_3", "a_3_1", "a_4", "input_1", "a_b", "a_5", "a_6"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "a_1", "a_2", "a_1_1", "b", "a b", "input", "a_10"]), max_size=40))
def test_names_are_the_plain_search(bases: list[str]) -> None:
    ctx, taken = context(), {"input"}
    for base in bases:
        clean = re.sub(r"[^0-9A-Za-z_-]+", "_", base).strip("_")
        assert ctx.unique(base) == plain(taken, clean)
    assert ctx.names == taken


def test_a_base_named_many_times_is_numbered_in_order() -> None:
    ctx = context()
    names = [ctx.unique("w0") for _ in range(20_000)]
    assert names == ["w0", *(f"w0_{k}" for k in range(1, 20_000))]
