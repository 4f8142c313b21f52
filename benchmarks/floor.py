"""The least any Python code can spend building a JSON document's objects (for the benchmarks).

`display(template)` turns one object of the output (a layer row, a sweep point) into a function
that builds an object of the same structure from its leaf values as one literal display: the
cheapest construction CPython has. Timing it over every row's leaves gives the cost of making
the output's objects with no computation, no checks and no intermediate objects at all; beside
json.dumps it bounds from below what any implementation of the same output can take.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def display(template: Any) -> Callable[[list[Any]], Any]:
    """A function building ``template``'s structure from a list of its leaves (see :func:`leaves`)."""
    count = 0

    def expression(value: Any) -> str:
        nonlocal count
        if isinstance(value, dict):
            return "{" + ",".join(f"{key!r}: {expression(item)}" for key, item in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ",".join(expression(item) for item in value) + "]"
        count += 1
        return f"a[{count - 1}]"

    namespace: dict[str, Any] = {}
    exec(f"def build(a):\n    return {expression(template)}\n", namespace)
    build: Callable[[list[Any]], Any] = namespace["build"]
    return build


def leaves(value: Any, out: list[Any] | None = None) -> list[Any]:
    """The leaf values of a JSON object, in the order :func:`display`'s function takes them."""
    out = [] if out is None else out
    if isinstance(value, dict):
        for item in value.values():
            leaves(item, out)
    elif isinstance(value, list):
        for item in value:
            leaves(item, out)
    else:
        out.append(value)
    return out


def same_shape(a: Any, b: Any) -> bool:
    """Whether two objects have the same keys and list lengths throughout (one display builds both)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same_shape(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same_shape, a, b))
    return not isinstance(b, (dict, list))
