"""Memory traffic, roofline, padding-aware counts, receptive fields, conventions, transposed convs."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convcost import ConvCostError, compare, conv
from convcost.cli import cli
from convcost.core.conv import Conv, effective_macs
from convcost.core.devices import DEVICES
from convcost.core.options import Convention, CountKind, DType
from convcost.core.options import settings as make_settings
from convcost.core.traffic import conv_traffic, estimate
from convcost.io.spec_file import read
from convcost.model.evaluate import evaluate
from convcost.model.whatif import Options

SPECS = Path(__file__).resolve().parent.parent / "specs"


def layer_json(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["layer", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# ------------------------------------------------------------------ memory and intensity


def test_bytes_and_intensity_by_hand() -> None:
    c = compare(conv("28x28x8", 16, 3))
    s = make_settings()
    regular = conv_traffic([c.layer], s)
    assert regular.input_bytes == 28 * 28 * 8 * 4 == 25_088
    assert regular.weight_bytes == 1_152 * 4
    assert regular.output_bytes == 26 * 26 * 16 * 4 == 43_264
    assert regular.bytes == 72_960 and regular.flops == 1_557_504
    assert regular.arithmetic_intensity == 1_557_504 / 72_960
    parts = [p.layer for p in c.variants["depthwise_separable"].parts]
    dws = conv_traffic(parts, s)
    assert dws.intermediate_bytes == 26 * 26 * 8 * 4 == 21_632
    assert dws.bytes == 25_088 + 800 + 43_264 + 2 * 21_632 == 112_416
    assert conv_traffic(parts, make_settings(fused=True)).bytes == 112_416 - 2 * 21_632


def test_batch_scales_work_and_activations_not_weights() -> None:
    one = layer_json("--in", "28x28x8", "--out", "16", "-k", "3", "--dtype", "fp16")
    four = layer_json("--in", "28x28x8", "--out", "16", "-k", "3", "--dtype", "fp16", "--batch", "4")
    assert four["macs"] == 4 * one["macs"] and four["params"] == one["params"]
    m1, m4 = one["memory"], four["memory"]
    assert m4["input_bytes"] == 4 * m1["input_bytes"] == 4 * 28 * 28 * 8 * 2
    assert m4["weight_bytes"] == m1["weight_bytes"] == 1_152 * 2
    assert four["batch"] == 4 and four["dtype"] == "fp16"
    assert four["arithmetic_intensity"] > one["arithmetic_intensity"]  # weights amortised


def test_every_row_with_flops_has_their_intensity() -> None:
    """A row of a merging kind (a matmul of two activations, an add) does its FLOPs too: its
    intensity is FLOPs over the bytes it moves, never 0 beside tens of millions of FLOPs."""
    result = CliRunner().invoke(cli, ["compare", "vit_b_16", "--json", "--device", "a100"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["layers"]
    scores = next(r for r in rows if r["type"] == "matmul")
    assert scores["flops"] == 2 * scores["macs"] > 0
    assert scores["arithmetic_intensity"] == scores["flops"] / scores["bytes"]
    for row in rows:
        assert row["arithmetic_intensity"] == (row["flops"] / row["bytes"] if row["bytes"] else 0.0), row["name"]


def test_roofline_by_hand_with_a_custom_machine() -> None:
    data = layer_json(
        "--in", "28x28x8", "--out", "16", "-k", "3", "--peak-tflops", "1", "--bandwidth-gbs", "10"
    )
    regular = data["variants"]["regular"]
    assert regular["compute_s"] == pytest.approx(1_557_504 / 1e12)
    assert regular["memory_s"] == pytest.approx(72_960 / 10e9)
    assert regular["time_s"] == regular["memory_s"] and regular["bound"] == "memory"
    assert data["device"]["name"] == "custom"


def test_done_when_compute_bound_regular_memory_bound_separable() -> None:
    args = ["--in", "56x56x64", "--out", "64", "-k", "3", "--padding", "1", "--dtype", "fp16"]
    a100 = layer_json(*args, "--device", "a100")
    assert a100["variants"]["regular"]["bound"] == "compute"
    assert a100["variants"]["depthwise_separable"]["bound"] == "memory"
    macs_saving = a100["variants"]["regular"]["macs"] / a100["variants"]["depthwise_separable"]["macs"]
    time_saving = a100["variants"]["regular"]["time_s"] / a100["variants"]["depthwise_separable"]["time_s"]
    assert macs_saving > 7 and time_saving < 1.5  # far less time saved than MACs
    # On the H100 the fp16 ridge point (989.4e12 / 3.35e12 ≈ 295 FLOP/B) lies above this layer's
    # best intensity (~264 FLOP/B at batch 1), so even the regular conv is memory-bound there.
    h100 = layer_json(*args, "--device", "h100")
    assert h100["variants"]["regular"]["arithmetic_intensity"] < 989.4 / 3.35
    assert h100["variants"]["regular"]["bound"] == "memory"
    fp32 = layer_json("--in", "56x56x64", "--out", "64", "-k", "3", "--padding", "1", "--device", "h100")
    assert fp32["variants"]["regular"]["bound"] == "compute"
    assert fp32["variants"]["depthwise_separable"]["bound"] == "memory"


def test_table_shows_time_and_bound_and_says_lower_bound() -> None:
    args = ["layer", "--in", "56x56x64", "--out", "64", "-k", "3", "--padding", "1", "--dtype", "fp16"]
    out = CliRunner().invoke(cli, [*args, "--device", "a100"]).stdout
    assert "compute" in out and "memory" in out and "lower bounds" in out
    assert "7.89× fewer MACs" in out and "more time" in out


def test_every_profile_cites_a_source_and_has_every_dtype() -> None:
    for device in DEVICES.values():
        assert set(device.peak) == set(DType) and device.bandwidth > 0 and len(device.source) > 40
    result = CliRunner().invoke(cli, ["devices", "--json"])
    assert set(json.loads(result.stdout)["devices"]) == set(DEVICES)
    assert "lower bounds" in CliRunner().invoke(cli, ["devices"]).stdout


# ------------------------------------------------------------------ conventions


def test_conventions_switch_in_one_place() -> None:
    counts = conv("28x28x8", 16, 3, bias=True).counts()
    outputs = 26 * 26 * 16
    assert Convention(CountKind.MACS, False).count(counts) == 778_752
    assert Convention(CountKind.MACS, True).count(counts) == 778_752 + outputs  # ptflops, torchinfo
    assert Convention(CountKind.FLOPS, False).count(counts) == 2 * 778_752  # FlopCounterMode
    assert Convention(CountKind.FLOPS, True).count(counts) == 2 * 778_752 + outputs
    mults, adds = 778_752, outputs * (72 - 1)
    assert Convention(CountKind.OPS, False).count(counts) == mults + adds
    assert Convention(CountKind.OPS, True).count(counts) == mults + adds + outputs


def test_convention_shown_in_json_and_table_header() -> None:
    data = layer_json(
        "--in", "28x28x8", "--out", "16", "-k", "3", "--bias", "--count", "flops", "--no-count-bias"
    )
    assert data["convention"] == {
        "count": "flops",
        "bias": False,
        "label": "FLOPs (no bias)",
        "definition": "2 per multiply-accumulate; bias adds not counted",
    }
    assert "count" not in data  # format 2: the counts are macs and flops; the convention says which heads tables
    assert data["flops"] == 2 * data["macs"] + data["output_shape"][0] ** 2 * 16  # bias adds in flops
    table = (
        CliRunner()
        .invoke(cli, ["layer", "--in", "28x28x8", "--out", "16", "-k", "3", "--count", "ops"])
        .stdout
    )
    assert " ops " in table.splitlines()[3] and "Counted here: ops" in table


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--dtype", "fp64"], "--dtype: 'fp64'"),
        (["--batch", "0"], "--batch: '0'"),
        (["--count", "gflops"], "--count: 'gflops'"),
        (["--device", "tpu"], "--device: 'tpu' is not a device profile"),
        (["--peak-tflops", "10"], "--bandwidth-gbs: is needed too"),
        (["--peak-tflops", "-1", "--bandwidth-gbs", "5"], "--peak-tflops: '-1'"),
        (
            ["--device", "h100", "--peak-tflops", "1", "--bandwidth-gbs", "1"],
            "--device: give a device profile",
        ),
        (["--output-padding", "1"], "--output-padding: '1' is not allowed; only a transposed conv"),
        (["--transposed", "--stride", "2", "--output-padding", "2"], "--output-padding: 2 in spatial dim 1"),
        (["--transposed", "--padding", "same"], "--padding: 'same' is not allowed"),
    ],
)
def test_bad_cost_options_are_one_line(args, option) -> None:
    result = CliRunner().invoke(cli, ["layer", "--in", "28x28x8", "--out", "16", "-k", "3", *args, "--json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and option in result.stderr, result.stderr


# ------------------------------------------------------------------ padding-aware MACs


def brute_force_effective(layer: Conv) -> int:
    """Count (output, tap) pairs on real input by visiting every one."""
    real = 0
    for out in itertools.product(*(range(n) for n in layer.output_shape[:-1])):
        for tap in itertools.product(*(range(k) for k in layer.kernel)):
            real += all(
                0 <= o * s + t * d - lo < size
                for o, t, s, d, (lo, _), size in zip(
                    out, tap, layer.stride, layer.dilation, layer.padding, layer.in_shape[:-1], strict=True
                )
            )
    return real * layer.out_channels * (layer.in_channels // layer.groups)


def brute_force_transposed(layer: Conv) -> int:
    kept = 0
    for i in itertools.product(*(range(n) for n in layer.in_shape[:-1])):
        for tap in itertools.product(*(range(k) for k in layer.kernel)):
            kept += all(
                0 <= x * s + t * d - lo < size
                for x, t, s, d, (lo, _), size in zip(
                    i, tap, layer.stride, layer.dilation, layer.padding, layer.output_shape[:-1], strict=True
                )
            )
    return kept * layer.in_channels * (layer.out_channels // layer.groups)


small = st.integers(1, 7)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            small,
            st.integers(1, 4),
            st.integers(1, 3),
            st.integers(1, 2),
            st.integers(0, 3),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=2,
    ),
    st.booleans(),
)
def test_effective_macs_match_a_brute_force_count(dims, transposed) -> None:
    size = tuple(d[0] for d in dims)
    try:
        layer = conv(
            size + (2,),
            3,
            tuple(d[1] for d in dims),
            stride=tuple(d[2] for d in dims),
            dilation=tuple(d[3] for d in dims),
            padding=tuple((d[4], d[5]) for d in dims),
            transposed=transposed,
            output_padding=0,
        )
    except ConvCostError:
        assume(False)
        return
    expected = brute_force_transposed(layer) if transposed else brute_force_effective(layer)
    assert effective_macs(layer) == expected <= layer.macs


def test_effective_macs_in_json() -> None:
    data = layer_json("--in", "5x5x1", "--out", "1", "-k", "3", "--padding", "1")
    # corners see 4 real taps, edges 6, the 9 inner positions 9: 4·4 + 12·6 + 9·9 = 169
    assert data["macs"] == 225 and data["effective_macs"] == 169
    net = evaluate({"input": "5x5x1", "layers": [{"out": 1, "kernel": 3, "padding": 1}]})
    assert net.rows[0].effective_macs == 169


# ------------------------------------------------------------------ receptive fields


def rf_of(spec: str, name: str, **options) -> tuple:
    net = evaluate(read((SPECS / spec).read_bytes()), Options(**options))
    row = {r.name: r for r in net.rows}[name]
    assert row.receptive_field is not None
    return row.receptive_field


def test_receptive_fields_match_the_published_library_table() -> None:
    # Araujo et al. (Distill 2019), library table: VGG-16 212 / 32 / 90, MobileNet v1 315 / 32 / 126
    vgg = rf_of("vgg16.yaml", "pool5")
    assert vgg.size == (212, 212) and vgg.stride == (32, 32) and vgg.start == (-90, -90)
    mobilenet = rf_of("mobilenet_v1.yaml", "sep13")
    assert mobilenet.size == (315, 315) and mobilenet.stride == (32, 32) and mobilenet.start == (-126, -126)


def test_two_stacked_3x3_see_5x5() -> None:
    assert rf_of("seed_5x5_vs_3x3.yaml", "stack_3x3_b").size == (5, 5)
    assert rf_of("seed_5x5_vs_3x3.yaml", "one_5x5").size == (5, 5)


def test_receptive_field_through_blocks_takes_the_largest_path() -> None:
    net = evaluate(
        {
            "input": "32x32x4",
            "layers": [
                {
                    "name": "r",
                    "type": "residual",
                    "body": [{"out": 4, "kernel": 3, "padding": 1}, {"out": 4, "kernel": 3, "padding": 1}],
                },
                {
                    "name": "b",
                    "type": "branches",
                    "branches": [
                        [{"out": 2, "kernel": 1}],
                        [{"out": 2, "kernel": 5, "dilation": 2, "padding": 4}],
                    ],
                },
                {"name": "fc", "type": "linear", "out": 3},
            ],
        }
    )
    rows = {r.name: r.receptive_field for r in net.rows}
    assert rows["r.add"].size == (5, 5) and rows["r.add"].start == (-2, -2)
    assert rows["b.concat"].size == (5 + 8, 5 + 8)
    assert rows["fc"] is None


def test_receptive_field_in_compare_json() -> None:
    result = CliRunner().invoke(cli, ["compare", str(SPECS / "seed_5x5_vs_3x3.yaml"), "--json"])
    layers = {row["name"]: row for row in json.loads(result.stdout)["layers"]}
    assert layers["stack_3x3_b"]["receptive_field"] == {"size": [5, 5], "stride": [1, 1], "start": [0, 0]}


# ------------------------------------------------------------------ transposed


def test_transposed_shape_and_counts_by_hand() -> None:
    layer = conv("7x7x16", 8, 3, stride=2, padding=1, output_padding=1, transposed=True)
    assert layer.output_shape == (14, 14, 8)  # (7−1)·2 − 2 + 2 + 1 + 1
    assert layer.macs == 7 * 7 * 16 * 8 * 9  # per input element: the real multiplications
    assert layer.dense_macs == 14 * 14 * 8 * 16 * 9  # per output element, zeros included (thop)
    assert layer.params == 16 * 8 * 9
    data = layer_json(
        "--in",
        "7x7x16",
        "--out",
        "8",
        "-k",
        "3",
        "--stride",
        "2",
        "--padding",
        "1",
        "--transposed",
        "--output-padding",
        "1",
    )
    assert data["transposed"] and data["macs"] == layer.macs and data["dense_macs"] == layer.dense_macs
    assert data["variants"]["depthwise_separable"]["parts"]["depthwise"]["output_shape"] == [14, 14, 16]


def test_transposed_in_a_spec() -> None:
    net = evaluate(
        {
            "input": "7x7x16",
            "layers": [{"type": "transposed", "out": 8, "kernel": 4, "stride": 2, "padding": 1}],
        }
    )
    assert net.rows[0].output_shape == (14, 14, 8) and net.rows[0].receptive_field is None


def test_transposed_matches_torch(torch) -> None:
    import random

    from torch.utils.flop_counter import FlopCounterMode

    rng = random.Random(99)
    checked = 0
    for _ in range(200):
        nd = rng.choice((1, 2, 3))
        groups = rng.randint(1, 3)
        c_in, out = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
        size = tuple(rng.randint(1, 6) for _ in range(nd))
        k = tuple(rng.randint(1, 4) for _ in range(nd))
        s = tuple(rng.randint(1, 3) for _ in range(nd))
        d = tuple(rng.randint(1, 2) for _ in range(nd))
        p = tuple(rng.randint(0, 2) for _ in range(nd))
        op = tuple(rng.randint(0, max(si, di) - 1) for si, di in zip(s, d, strict=True))
        bias = rng.random() < 0.5
        try:
            layer = conv(
                size + (c_in,),
                out,
                k,
                stride=s,
                dilation=d,
                padding=p,
                groups=groups,
                bias=bias,
                transposed=True,
                output_padding=op,
            )
        except ConvCostError:
            continue
        module = {1: torch.nn.ConvTranspose1d, 2: torch.nn.ConvTranspose2d, 3: torch.nn.ConvTranspose3d}[nd](
            c_in, out, k, stride=s, padding=p, output_padding=op, groups=groups, bias=bias, dilation=d
        )
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            y = module(torch.zeros((1, c_in, *size)))
        assert tuple(y.shape[2:]) + (out,) == layer.output_shape, layer
        assert sum(p.numel() for p in module.parameters()) == layer.params
        assert counter.get_total_flops() == 2 * layer.macs, layer
        checked += 1
    assert checked > 150


def test_dtype_bytes() -> None:
    assert [t.bytes for t in DType] == [4, 2, 2, 1]
    s = make_settings(dtype="int8", device="rpi5")
    work = conv_traffic([conv("28x28x8", 16, 3)], s)
    assert work.weight_bytes == 1_152
    assert estimate(work, DEVICES["rpi5"], DType.INT8).time_s > 0


def test_compare_takes_the_same_cost_options() -> None:
    spec = str(SPECS / "mobilenet_v1.yaml")
    base = json.loads(CliRunner().invoke(cli, ["compare", spec, "--json"]).stdout)
    data = json.loads(
        CliRunner()
        .invoke(cli, ["compare", spec, "--json", "--batch", "2", "--dtype", "fp16", "--device", "orin"])
        .stdout
    )
    assert data["totals"]["macs"] == 2 * base["totals"]["macs"] == 2 * 568_740_352
    assert data["totals"]["params"] == base["totals"]["params"]
    assert data["totals"]["time_s"] > 0 and data["device"]["name"] == "orin"
    assert data["totals"]["bytes"] == sum(row["bytes"] for row in data["layers"])
    sep = {row["name"]: row for row in data["layers"]}["sep1"]
    assert sep["memory"]["intermediate_bytes"] == 2 * 112 * 112 * 32 * 2  # batch 2, fp16
    assert sep["bound"] == "memory" and "time_s" in sep
    fused = json.loads(CliRunner().invoke(cli, ["compare", spec, "--json", "--fused"]).stdout)
    assert fused["totals"]["bytes"] < base["totals"]["bytes"]
    table = CliRunner().invoke(cli, ["compare", spec, "--device", "h100", "--dtype", "fp16"]).stdout
    assert "time ≥" in table and "ridge point" in table and "315×315" in table


@settings(max_examples=100, deadline=None)
@given(small, st.integers(1, 4), st.integers(1, 3), st.integers(1, 2), st.integers(0, 2), st.booleans())
def test_transposed_exact_additions_by_brute_force(size, k, s, d, pad, bias) -> None:
    try:
        layer = conv((size, 2), 3, k, stride=s, dilation=d, padding=pad, transposed=True, bias=bias)
    except ConvCostError:
        assume(False)
        return
    landed = [0] * layer.output_shape[0]
    for i in range(size):
        for j in range(k):
            position = i * s + j * d - pad
            if 0 <= position < len(landed):
                landed[position] += 1
    # per output channel: each output summing p products takes p − 1 additions (products from
    # all 2 input channels), plus its bias add
    per_channel = sum(2 * p - 1 for p in landed if p) + (len(landed) if bias else 0)
    counts = layer.counts()
    assert counts.adds == 3 * per_channel
    assert counts.macs == size * 2 * 3 * k  # per input element, cropped products included
