"""End-to-end time of `convcost compare --json` on a 10,000-layer spec (a benchmark, not a test).

    python benchmarks/bench_compare.py [--layers 10000] [--runs 5]

Beside it, the same spec's table (written to a pipe), and a bare `yaml.load` of the same file
with libyaml's C loader (and the pure Python SafeLoader), so the cost of the spec format itself
is visible. Targets: ≤ 2 s end to end for 10,000 layers (issue #3); the table ≤ 1.5× its own
`--json` at 10,000 rows (issue #12).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench_layer import convcost_command, medians


def write_spec(path: Path, layers: int, distinct: bool = False) -> None:
    """A chain whose channel counts cycle through 97 values (a few hundred distinct convs, as
    real networks repeat their blocks), or with ``distinct``, grow so that no two convs match."""
    kinds = [
        "  - {{name: c{i}, out: {out}, kernel: 3, padding: same}}\n",
        "  - {{name: s{i}, type: separable, out: {out}, kernel: 3, padding: same}}\n",
        "  - {{name: p{i}, out: {out}, kernel: 1}}\n",
        "  - {{name: b{i}, type: batchnorm}}\n",
    ]
    with path.open("w") as out:
        out.write("input: 56x56x64\nlayers:\n")
        for i in range(layers):
            channels = 32 + i if distinct else 32 + (i * 7) % 97
            out.write(kinds[i % len(kinds)].format(i=i, out=channels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "big.yaml"
        write_spec(spec, args.layers)
        size = spec.stat().st_size
        distinct = Path(tmp) / "distinct.yaml"
        write_spec(distinct, args.layers, distinct=True)
        load = "import yaml, sys; yaml.load(open(sys.argv[1]), Loader=getattr(yaml, sys.argv[2]))"
        rows = medians(
            {
                f"convcost compare --json ({args.layers:,} layers, {size / 1e6:.1f} MB)": [
                    *convcost_command(),
                    "compare",
                    str(spec),
                    "--json",
                ],
                f"convcost compare, table ({args.layers:,} layers)": [
                    *convcost_command(),
                    "compare",
                    str(spec),
                ],
                f"convcost compare --json ({args.layers:,} layers, every conv distinct)": [
                    *convcost_command(),
                    "compare",
                    str(distinct),
                    "--json",
                ],
                "python: yaml.load, CSafeLoader (libyaml)": [
                    sys.executable,
                    "-c",
                    load,
                    str(spec),
                    "CSafeLoader",
                ],
                "python: yaml.load, SafeLoader (pure Python)": [
                    sys.executable,
                    "-c",
                    load,
                    str(spec),
                    "SafeLoader",
                ],
            },
            args.runs,
        )
    for name, seconds in rows.items():
        print(f"{name:60s} {seconds:6.2f} s")
    names = list(rows)
    print(f"table / --json: {rows[names[1]] / rows[names[0]]:.2f}× (target ≤ 1.5×); target: --json ≤ 2 s")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
