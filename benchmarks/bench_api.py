"""The Python API against a bare formula timed in the same run (a benchmark, not a test).

    python benchmarks/bench_api.py [--rounds 5]

The floor is a bare function computing the same four ints as ``conv()`` + ``.macs`` +
``.params`` + ``.output_shape`` — output shape, MACs, params, for any rank — with no checks.
Targets (issue #12): one layer through ``conv()`` ≤ 3× the floor; ``cost_many`` (many layers
in one call, for architecture search) ≤ 1.5× the floor per layer. Printed: the ratio of each
round, and their range.
"""

from __future__ import annotations

import argparse
import sys
import time
from math import prod
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from convcost import conv
from convcost.core.batch import cost_many

CASES = [((28, 28, 8), 16), ((56, 56, 64), 32), ((14, 14, 512), 64), ((224, 224, 3), 128), ((7, 7, 160), 960)]


def bare(in_shape: tuple[int, ...], out: int, kernel: int, stride: int, padding: int) -> tuple[object, ...]:
    """The floor: the same ints, any rank, no validation."""
    spatial = tuple((n + 2 * padding - kernel) // stride + 1 for n in in_shape[:-1])
    taps = in_shape[-1] * kernel ** len(spatial)
    return spatial + (out,), prod(spatial) * out * taps, out * taps


def per_layer(run, layers: int) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) / layers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--layers", type=int, default=200_000)
    args = parser.parse_args()
    layers = [(shape, out, 3, 1, 1) for shape, out in CASES] * (args.layers // len(CASES))
    n = len(layers)

    def floor() -> None:
        for shape, out, k, s, p in layers:
            bare(shape, out, k, s, p)

    def single() -> None:
        for shape, out, k, s, p in layers:
            layer = conv(shape, out, k, stride=s, padding=p)
            layer.macs  # noqa: B018 — the cost is what is measured
            layer.params  # noqa: B018
            layer.output_shape  # noqa: B018

    def batch() -> None:
        cost_many(layers)

    single_ratios, batch_ratios = [], []
    for _ in range(args.rounds):  # in rotation, so that drift on a noisy machine hits all alike
        base = per_layer(floor, n)
        one = per_layer(single, n)
        many = per_layer(batch, n)
        single_ratios.append(one / base)
        batch_ratios.append(many / base)
        print(
            f"floor {base * 1e9:6.0f} ns/layer   conv() {one * 1e9:6.0f} ns ({one / base:4.2f}×)   "
            f"cost_many {many * 1e9:6.0f} ns ({many / base:4.2f}×)"
        )
    print(f"conv() single layer: {min(single_ratios):.2f}–{max(single_ratios):.2f}× the floor (target ≤ 3×)")
    print(f"cost_many per layer: {min(batch_ratios):.2f}–{max(batch_ratios):.2f}× the floor (target ≤ 1.5×)")


if __name__ == "__main__":
    main()
