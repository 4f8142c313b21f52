"""Fuzzing spec files (issue 10): random YAML documents through the whole `compare` command.

Two generators: raw YAML (aliases and anchors, tags, deep nesting, odd scalars, block and
flow style), and spec-shaped documents (the spec's own keys and layer types, with values
from a pool of odd and hostile ones, blocks nested, names referring anywhere). The
property, for every example: exit status 0 or 2, never a traceback; with status 2
nothing on stdout and only ``Error:`` lines on stderr. Each run's time is held to the 2 s
budget only in the timed run (``pytest -m perf``, see ``Clock`` in conftest).
"""

from __future__ import annotations

import json
import os
import random

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcost.cli import cli
from convcost.model.kinds import TYPE_NAMES
from tests.conftest import Clock

SECONDS = 2.0  # per example, in-process, timed under -m perf only
CLOCK = Clock()
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("clock")]
#: Examples per fuzzer: sized for CI; CONVCOST_FUZZ_EXAMPLES=5000 fuzzes longer.
EXAMPLES = int(os.environ.get("CONVCOST_FUZZ_EXAMPLES", "1000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_run(args: list[str], stdin: str | bytes) -> None:
    with CLOCK.bound(SECONDS, stdin[:300]):
        result = CliRunner().invoke(cli, args, input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception,
        stdin[:300],
    )
    assert result.exit_code in (0, 2), (result.exit_code, result.output[-500:])
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert lines and all(line.startswith("Error: ") for line in lines), lines
        assert all(ch == "\n" or ch >= " " for ch in result.stderr), repr(result.stderr[:300])


# ------------------------------------------------------------------ raw YAML

ODD_SCALARS = [
    "", "~", "null", "Null", "0x10", "0o17", "010", "1:2", "1:2:3", "1e999", "-1e999", ".inf", "-.inf",
    ".nan", "-0", "+5", "+-5", "1_000", "yes", "no", "on", "off", "y", "true", "True", "FALSE", "3x3",
    "0:1x1:0", "same", "valid", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "=", "<<", "!!int '0x10'",
    "!!int '12'", "!!float 'x'", "!!float '1.5'", "!!bool maybe", "!!bool 'true'", "!!binary aGk=",
    "!foo bar", "!!str 5", "!!null ''", "!!python/object:os.system x", "!!timestamp 2001-12-14",
    "'quoted'", "'it''s'", '"dq\\n"', '"\\x1b[31m"', '"\\u202e"', '"\\ud800"', '"\\0"', "'\t'", "a b",
    "1" * 31, "1" * 5000, "9" * 300 + ".5", "-" + "9" * 40, "0" * 40 + "7", "١٢٣", "５", "³",
    "%", "@x", "`x", "&", "*", "!", "|", ">", "? x", "- x", "#c", "a: b", "a #c",
]  # fmt: skip
KEYS = [
    "input", "layers", "outputs", "name", "type", "in", "out", "kernel", "stride", "padding", "dilation",
    "groups", "bias", "times", "body", "shortcut", "branches", "join", "inputs", "mode", "global",
    "multiplier", "scale", "axis", "parts", "sizes", "index", "start", "stop", "output_padding", "<<",
    "description", "x\ny", "\x1b[31m", "ü", "", "1", "true", "~",
]  # fmt: skip


def _scalar(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.6:
        return rng.choice(ODD_SCALARS)
    if pick < 0.85:
        return str(rng.choice([0, 1, 2, 3, 4, 8, 16, -1, 10**18, 2**63, 10**30, 10**31]))
    return json.dumps("".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(0, 8))))


class _Writer:
    """Random YAML text: nested flow or block collections, anchors and aliases, tags."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.anchors: list[str] = []

    def decorate(self, text: str) -> str:
        rng = self.rng
        if rng.random() < 0.15:
            name = f"a{len(self.anchors)}"
            self.anchors.append(name)
            text = f"&{name} {text}"
        if rng.random() < 0.05:
            text = rng.choice(["!!seq ", "!!map ", "!!str ", "!!set ", "!!omap ", "!x ", "!!int "]) + text
        return text

    def value(self, depth: int) -> str:
        rng = self.rng
        if self.anchors and rng.random() < 0.2:
            return "*" + rng.choice(self.anchors + ["nowhere"])
        if depth <= 0 or rng.random() < 0.35:
            return _scalar(rng)
        items = [self.value(depth - 1) for _ in range(rng.randint(0, 4))]
        if rng.random() < 0.5:
            return self.decorate("[" + ", ".join(items) + "]")
        keys = [rng.choice(KEYS) for _ in items]
        pairs = ", ".join(
            f"{json.dumps(k) if rng.random() < 0.3 else k}: {v}" for k, v in zip(keys, items, strict=True)
        )
        return self.decorate("{" + pairs + "}")

    def block(self, depth: int, indent: int) -> str:
        rng = self.rng
        pad = " " * indent
        lines = []
        for _ in range(rng.randint(1, 4)):
            key = rng.choice(KEYS)
            if depth > 0 and rng.random() < 0.4:
                lines.append(f"{pad}{key}:\n" + self.block(depth - 1, indent + rng.choice([1, 2, 4])))
            elif depth > 0 and rng.random() < 0.3:
                items = "".join(f"{pad}  - {self.value(depth - 1)}\n" for _ in range(rng.randint(1, 3)))
                lines.append(f"{pad}{key}:\n{items}")
            else:
                lines.append(f"{pad}{key}: {self.value(depth)}\n")
        return "".join(lines)


@FUZZ
@given(st.randoms(use_true_random=False), st.sampled_from(["json", "table", "csv", "markdown"]))
def test_random_yaml_documents(rng: random.Random, fmt: str) -> None:
    writer = _Writer(rng)
    pick = rng.random()
    if pick < 0.4:
        text = writer.block(rng.randint(0, 4), 0)
    elif pick < 0.6:
        text = writer.value(rng.randint(0, 6))
    else:  # spec-like at the top, anything below
        layers = "".join(f"  - {writer.value(rng.randint(0, 3))}\n" for _ in range(rng.randint(0, 4)))
        text = f"input: {rng.choice(['8x8x4', _scalar(rng)])}\nlayers:\n{layers}"
        if rng.random() < 0.5:
            text = "description:\n  - " + writer.value(3) + "\n" + text
    if rng.random() < 0.05:
        depth = rng.choice([150, 250, 3000])
        text = "[" * depth + "1" + "]" * depth
    check_run(["compare", "-", "--format", fmt], text)


# ------------------------------------------------------------------ spec-shaped documents

VALUES = st.one_of(
    st.integers(-2, 40),
    st.sampled_from([0, -1, 10**18, 10**29, 10**30, 10**31, 2**64]),
    st.sampled_from(["3x3", "1x2x3", "8x8x4", "0:1x1:0", "same", "valid", "2", "x", "", "3x", "9" * 40]),
    st.sampled_from([True, False, None, 1.5, float("inf"), float("nan"), -0.0]),
    st.lists(st.integers(-1, 9), max_size=4),
    st.lists(st.lists(st.integers(-1, 3), max_size=3), max_size=3),
    st.text(max_size=6),
)
FIELDS = [
    "out", "kernel", "stride", "padding", "dilation", "groups", "bias", "in", "mode", "global",
    "multiplier", "scale", "axis", "parts", "sizes", "index", "start", "stop", "output_padding", "join",
    "times", "name", "bogus",
]  # fmt: skip


def layer_lists(names: list[str]) -> st.SearchStrategy[list[dict]]:
    def layer(children: st.SearchStrategy[list[dict]]) -> st.SearchStrategy[dict]:
        plain = st.fixed_dictionaries(
            {"type": st.sampled_from([*TYPE_NAMES, "conv", "conv", "bogus", 3])},
            optional={
                **{field: VALUES for field in FIELDS},
                "inputs": st.lists(st.sampled_from([*names, "input", "nowhere", "a.b"]), max_size=3),
                "out": st.integers(1, 16),
                "kernel": st.integers(1, 5),
            },
        )
        blocks = st.one_of(
            st.fixed_dictionaries(
                {
                    "type": st.just("repeat"),
                    "times": st.sampled_from([1, 2, 3, 10**6, 10**18, 0]),
                    "layers": children,
                }
            ),
            st.fixed_dictionaries(
                {"type": st.just("residual"), "body": children}, optional={"shortcut": children}
            ),
            st.fixed_dictionaries(
                {"type": st.just("branches"), "branches": st.lists(children, max_size=3)},
                optional={"join": st.sampled_from(["concat", "add", "x"])},
            ),
        )
        return st.one_of(plain, blocks)

    return st.recursive(
        st.lists(st.sampled_from(VALID_LAYERS), max_size=3),
        lambda children: st.lists(layer(children), max_size=4),
        max_leaves=12,
    )


NAMES = ["c1", "c2", "stem", "b.0.conv", "input"]
VALID_LAYERS = [
    {"out": 4, "kernel": 3, "padding": 1},
    {"out": 6, "kernel": 1, "stride": 2},
    {"type": "batchnorm"},
    {"type": "pool", "kernel": 2},
    {"type": "pool", "mode": "avg", "global": True},
    {"type": "depthwise", "kernel": 3, "padding": "same"},
    {"type": "separable", "out": 8, "kernel": 3},
    {"type": "transposed", "out": 4, "kernel": 2, "stride": 2},
    {"type": "upsample"},
    {"type": "linear", "out": 5},
    {"type": "shuffle"},
    {"type": "split"},
    {"type": "add", "inputs": ["input", "c1"]},
    {"type": "concat", "inputs": ["input", "c1"]},
]


@FUZZ
@given(
    st.fixed_dictionaries(
        {"layers": layer_lists(NAMES)},
        optional={
            "input": st.sampled_from(["8x8x4", "8x8x4", "16x16x4", "1x1x1", "4x4", "8x8x8x8", 5, "0x0x0"]),
            "outputs": st.lists(st.sampled_from(NAMES), min_size=1, max_size=2),
        },
    ),
    st.sampled_from(["json", "table", "csv", "markdown"]),
    st.sampled_from(
        [[], ["--as", "separable"], ["--width-mult", "0.5"], ["--in", "6x6x2"], ["--batch", "3"]]
    ),
)
def test_spec_shaped_documents(document: dict, fmt: str, options: list[str]) -> None:
    for index, layer in enumerate(document["layers"][:4]):
        layer.setdefault("name", NAMES[index])
    text = json.dumps(document, allow_nan=True)
    check_run(["compare", "-", "--format", fmt, *options], text)
