"""Peak activation memory (issue 22): hand-checked small graphs, MobileNetV2 against MCUNet's
figures, the memory-aware order, patch-based inference and fit checks.

Sizes in the hand checks are elements of one sample; int8 makes them bytes.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcost.core.devices import BOARDS, find_board
from convcost.core.errors import ConvCostError
from convcost.model.evaluate import evaluate
from convcost.model.fit import capacity, checks, misfits, parse_size, weight_bytes
from convcost.model.memory import IN_PLACE, NEW, VIEW, memory, plan, simulate
from convcost.model.patches import patched

SPECS = Path(__file__).parents[1] / "convcost" / "specs"
NAS = Path(__file__).parent / "fixtures" / "specs"  # NAS cell stacks (nas_cells.py writes them)


def net(layers: list[dict[str, Any]], shape: str = "4x4x8", **extra: Any) -> Any:
    return evaluate({"input": shape, "layers": layers, **extra})


def live(network: Any, **kw: Any) -> dict[str, int]:
    return dict(memory(network, "int8", best_order=False, **kw).steps)


def builtin(name: str) -> Any:
    return evaluate(yaml.safe_load((SPECS / f"{name}.yaml").read_text()))


# ---------------------------------------------------------------- hand-checked graphs


def test_a_chain_holds_each_layer_s_input_and_output() -> None:
    chain = net([{"name": "a", "out": 8, "kernel": 1}, {"name": "b", "out": 2, "kernel": 1}], "8x8x4")
    # a: input 256 + output 512; b: 512 + 128 (the input is gone once a has read it).
    assert live(chain) == {"a": 768, "b": 640}
    found = memory(chain, "fp32", batch=3)
    assert (found.peak_bytes, found.peak_at) == (768 * 4 * 3, "a")


def test_a_residual_block_keeps_its_input_for_the_add() -> None:
    block = net(
        [
            {
                "name": "r",
                "type": "residual",
                "body": [{"name": "a", "out": 16, "kernel": 1}, {"name": "b", "out": 8, "kernel": 1}],
            }
        ]
    )
    # input 128 lives to the add; a: 128 + 256; b: 128 + 256 + 128; add: 128 + 128 + 128.
    assert live(block) == {"r.a": 384, "r.b": 512, "r.add": 384}


def test_a_concat_block_holds_every_branch_to_the_concat() -> None:
    block = net(
        [
            {
                "name": "blk",
                "type": "branches",
                "branches": [
                    [{"name": "p", "out": 4, "kernel": 1}],
                    [{"name": "q", "out": 16, "kernel": 1}, {"name": "s", "out": 4, "kernel": 1}],
                ],
            }
        ]
    )
    # p: 128 + 64; q: 128 + 64 + 256 (the input's last reader); s: 64 + 256 + 64; concat: 64 + 64 + 128.
    assert live(block) == {"blk.0.p": 192, "blk.1.q": 448, "blk.1.s": 384, "blk.concat": 256}


def test_views_alias_their_input() -> None:
    chain = net(
        [
            {"name": "c", "out": 8, "kernel": 1},
            {"name": "flat", "type": "reshape", "shape": 128},
            {"name": "again", "type": "reshape", "shape": "8x16"},
            {"name": "fc", "type": "linear", "out": 10},
        ]
    )
    p = plan(chain)
    assert p.how == (NEW, VIEW, VIEW, NEW)
    # The conv's 128 elements are the one buffer until the linear layer has read them.
    assert live(chain) == {"c": 256, "flat": 128, "again": 128, "fc": 138}


def test_an_activation_whose_input_a_residual_also_reads_writes_a_new_buffer() -> None:
    block = net(
        [
            {"name": "c0", "out": 8, "kernel": 1},
            {
                "name": "r",
                "type": "residual",
                "body": [
                    {"name": "act", "type": "activation", "fn": "relu"},
                    {"name": "c", "out": 8, "kernel": 1},
                ],
            },
        ]
    )
    assert plan(block).how == (NEW, NEW, NEW, NEW)
    # c0's output feeds the relu and the add: both stay. act: 128 + 128; c: 128 + 128 + 128.
    assert live(block) == {"c0": 256, "r.act": 256, "r.c": 384, "r.add": 384}


def test_batch_norm_and_activations_overwrite_an_input_nothing_else_reads() -> None:
    chain = net(
        [
            {"name": "c", "out": 8, "kernel": 1},
            {"name": "bn", "type": "batchnorm"},
            {"name": "act", "type": "activation", "fn": "ReLU6"},
            {"name": "flat", "type": "reshape", "shape": 128},
            {"name": "gelu", "type": "activation", "fn": "gelu"},
            {"name": "fc", "type": "linear", "out": 4},
        ]
    )
    assert plan(chain).how == (NEW, IN_PLACE, IN_PLACE, VIEW, IN_PLACE, NEW)
    assert live(chain) == {"c": 256, "bn": 128, "act": 128, "flat": 128, "gelu": 128, "fc": 132}


def test_no_step_overwrites_a_graph_input_or_output_or_a_view_read_elsewhere() -> None:
    on_input = net([{"name": "act", "type": "activation"}])
    assert plan(on_input).how == (NEW,) and live(on_input) == {"act": 256}
    output = net(
        [{"name": "c", "out": 8, "kernel": 1}, {"name": "act", "type": "activation"}], outputs=["c", "act"]
    )
    assert plan(output).how == (NEW, NEW)
    assert live(output) == {"c": 256, "act": 256}  # both outputs live to the end
    viewed = net(
        [
            {"name": "c", "out": 8, "kernel": 1},
            {"name": "v", "type": "reshape", "shape": 128},
            {"name": "act", "type": "activation", "inputs": ["c"]},
            {"name": "fc", "type": "linear", "out": 4, "inputs": ["v"]},
        ],
        outputs=["act", "fc"],
    )
    assert plan(viewed).how[2] == NEW  # the relu's input is read through the view too
    elementwise = net(
        [{"name": "c", "out": 8, "kernel": 1}, {"name": "e", "type": "activation", "fn": "exp"}]
    )
    assert plan(elementwise).how == (NEW, NEW)  # not an activation of the list


def test_weights_alone_hold_no_activation() -> None:
    tokens = net(
        [
            {"name": "c", "out": 8, "kernel": 1},
            {"name": "pos", "type": "parameter", "shape": "4x4x8"},
            {"name": "t", "type": "transpose", "perm": [1, 0, 2], "inputs": ["pos"]},
            {"name": "sum", "type": "add", "inputs": ["c", "t"]},
        ]
    )
    assert live(tokens) == {"c": 256, "pos": 128, "t": 128, "sum": 256}
    assert plan(tokens).out[1:3] == (0, 0)


def test_inplace_depthwise_holds_the_larger_tensor_plus_one_output_channel() -> None:
    chain = [
        {"name": "c", "out": 8, "kernel": 1},
        {"name": "dw", "type": "depthwise", "kernel": 3, "padding": 1},
        {"name": "p", "out": 4, "kernel": 1},
    ]
    assert live(net(chain)) == {"c": 256, "dw": 256, "p": 192}
    assert live(net(chain), inplace_depthwise=True) == {"c": 256, "dw": 128 + 16, "p": 192}
    strided = [chain[0], {**chain[1], "stride": 2}, chain[2]]
    assert live(net(strided), inplace_depthwise=True)["dw"] == 128 + 4


@pytest.mark.parametrize(
    ("inplace", "peak", "at"),
    [(True, 1_404_928, "b2.expand"), (False, 1_505_280, "b2.dw")],
)
def test_mobilenet_v2_int8_is_mcunet_s_figure(inplace: bool, peak: int, at: str) -> None:
    # 112·112·16 in + 112·112·96 out = 1,404,928 B = 1,372 KiB (MCUNet); without the in-place
    # depthwise, b2's depthwise holds 112·112·96 in + 56·56·96 out = 1,505,280 B.
    found = memory(builtin("mobilenet_v2"), "int8", inplace_depthwise=inplace)
    assert (found.peak_bytes, found.peak_at) == (peak, at)
    assert found.best_order is not None and found.best_order.peak_bytes == peak
    assert found.best_order.optimal


# ---------------------------------------------------------------- the memory-aware order


def _interleaved() -> Any:
    # Two expand-then-reduce paths from one input, written interleaved: a1, b1, a2, b2.
    return evaluate(
        {
            "input": "10x10x1",
            "layers": [
                {"name": "a1", "out": 4, "kernel": 1},
                {"name": "b1", "out": 4, "kernel": 1, "inputs": ["input"]},
                {"name": "a2", "out": 1, "kernel": 1, "inputs": ["a1"]},
                {"name": "b2", "out": 1, "kernel": 1, "inputs": ["b1"]},
                {"name": "cat", "type": "concat", "inputs": ["a2", "b2"]},
            ],
        }
    )


def test_the_best_order_runs_one_path_at_a_time() -> None:
    found = memory(_interleaved(), "int8")
    # Graph order: b1 holds the input 100, a1's 400 and its own 400.
    assert (found.peak_bytes, found.peak_at) == (900, "b1")
    best = found.best_order
    assert best is not None and best.optimal
    # One path then the other: a1 100 + 400; a2 100 + 400 + 100; b1 100 + 100 + 400.
    assert best.peak_bytes == 600
    assert best.order in (("a1", "a2", "b1", "b2", "cat"), ("b1", "b2", "a1", "a2", "cat"))


def test_past_the_budget_a_greedy_order_is_no_worse() -> None:
    found = memory(_interleaved(), "int8", budget=0)
    best = found.best_order
    assert best is not None and not best.optimal and "greedy" in best.method
    assert best.peak_bytes == 600


def _fixture_networks() -> list[tuple[str, Any]]:
    found = [(path.stem, path) for path in sorted(SPECS.glob("*.yaml"))]
    found += [(path.stem, path) for path in sorted(NAS.glob("*.yaml"))]
    onnx_dir = Path(__file__).parent / "fixtures" / "onnx"
    found += [(path.name, path) for path in sorted(onnx_dir.glob("*.onnx")) if "dynamic" not in path.name]
    return found


@pytest.mark.parametrize(("name", "path"), _fixture_networks(), ids=[n for n, _ in _fixture_networks()])
def test_the_best_order_is_a_topological_order_no_worse_than_the_graph_s(name: str, path: Path) -> None:
    if path.suffix == ".onnx":
        pytest.importorskip("onnx")
        from convcost.io.onnx import load

        network = evaluate(load(path.read_bytes(), str(path)).document)
    else:
        network = evaluate(yaml.safe_load(path.read_text()))
    found = memory(network, "fp32", inplace_depthwise=True)
    best = found.best_order
    assert best is not None
    assert best.peak_bytes <= found.peak_bytes
    p = plan(network, inplace_depthwise=True)
    index = {n: i for i, n in enumerate(p.names)}
    order = [index[n] for n in best.order]
    assert sorted(order) == list(range(len(p.rows)))
    position = {s: k for k, s in enumerate(order)}
    assert all(position[a] < position[s] for s in order for a in p.after[s])
    assert max(simulate(p, order), default=0) * 4 == best.peak_bytes


# ---------------------------------------------------------------- invariants on random graphs


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, Any]:
    layers: list[dict[str, Any]] = []
    channels = {"input": 2}
    for i in range(draw(st.integers(1, 7))):
        name = f"l{i}"
        earlier = list(channels)
        kind = draw(st.sampled_from(["conv", "act", "bn", "concat", "add", "reshape"]))
        src = draw(st.sampled_from(earlier))
        if kind == "conv":
            out = draw(st.integers(1, 6))
            layers.append({"name": name, "out": out, "kernel": 1, "inputs": [src]})
        elif kind in ("act", "bn"):
            out = channels[src]
            entry = {"name": name, "type": "activation" if kind == "act" else "batchnorm", "inputs": [src]}
            layers.append(entry)
        elif kind == "reshape":
            out = channels[src]
            layers.append({"name": name, "type": "reshape", "shape": f"3x3x{out}", "inputs": [src]})
        else:
            other = draw(st.sampled_from(earlier))
            if kind == "add" and channels[other] == channels[src]:
                out = channels[src]
                layers.append({"name": name, "type": "add", "inputs": [src, other]})
            else:
                out = channels[src] + channels[other]
                layers.append({"name": name, "type": "concat", "inputs": [src, other]})
        channels[name] = out
    sinks = draw(st.lists(st.sampled_from(list(channels)[1:]), min_size=1, max_size=2, unique=True))
    return {"input": "3x3x2", "layers": layers, "outputs": sinks}


def _orders(p: Any) -> list[list[int]]:
    n = len(p.rows)
    found = []
    for order in itertools.permutations(range(n)):
        seen: set[int] = set()
        ok = True
        for s in order:
            if any(a not in seen for a in p.after[s]):
                ok = False
                break
            seen.add(s)
        if ok:
            found.append(list(order))
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.booleans())
def test_invariants_on_random_graphs(document: dict[str, Any], inplace_depthwise: bool) -> None:
    network = evaluate(document)
    found = memory(network, "int8", inplace_depthwise=inplace_depthwise)
    p = plan(network, inplace_depthwise)
    for s in range(len(p.rows)):  # a step holds at least what it reads and writes
        if p.how[s] == NEW:
            own = p.out[s] + sum(p.sizes[b] for b in p.reads[s])
            assert found.peak_bytes >= own
            assert dict(found.steps)[p.names[s]] >= own
    best = found.best_order
    assert best is not None and best.peak_bytes <= found.peak_bytes
    if len(p.rows) <= 7:  # the search is exact: no topological order does better
        least = min(max(simulate(p, order)) for order in _orders(p))
        assert best.optimal and best.peak_bytes == least


# ---------------------------------------------------------------- patch-based inference


def test_a_patch_recomputes_its_halo() -> None:
    chain = net(
        [
            {"name": "a", "out": 1, "kernel": 3, "padding": 1},
            {"name": "b", "out": 1, "kernel": 3, "padding": 1},
        ],
        "8x8x1",
    )
    result = patched(chain, "2x2", "int8", split="b")
    # Each 4×4 patch of b needs 5×5 of a (one row and column of halo inside the image): 4·25
    # positions of a instead of 64, 9 MACs each.
    assert result.extra_macs == (4 * 25 - 64) * 9
    assert result.stage_macs == 2 * 64 * 9
    # The input 64 and b's output 64 held whole, and a's 25 for one patch.
    assert result.stage_peak_bytes == 64 + 64 + 25
    assert result.layer_peak_bytes == 128 and result.split == "b" and not result.searched


def test_mobilenet_v2_in_4x4_patches_needs_under_a_quarter_of_the_layer_peak() -> None:
    network = builtin("mobilenet_v2")
    result = patched(network, "4x4", "int8", inplace_depthwise=True)
    assert result.layer_peak_bytes == 1_404_928
    assert result.peak_bytes < result.layer_peak_bytes / 4
    assert (result.split, result.peak_bytes, result.extra_macs) == ("b4.project", 312_816, 27_919_344)
    streamed = patched(network, "4x4", "int8", inplace_depthwise=True, input_whole=False)
    # Read patch by patch the image is never whole: the peak is after the stage, in b5's
    # residual block: 28·28·192 expanded + 28·28·32 shortcut + 28·28·32 projected.
    assert (streamed.peak_bytes, streamed.peak_at) == (200_704, "b5_6.1.block.project")


def test_patches_refuse_what_cannot_be_split() -> None:
    vit = builtin("vit_b_16")  # its patch embedding (14×14 out) can be split, not in 16 rows
    assert patched(vit, "2x2").split == "patches"
    with pytest.raises(ConvCostError, match="patches: no layer can end a patch stage of 16x16"):
        patched(vit, "16x16")
    flat_first = net(
        [{"name": "flat", "type": "reshape", "shape": 128}, {"name": "fc", "type": "linear", "out": 4}]
    )
    with pytest.raises(ConvCostError, match="patches"):
        patched(flat_first, "2x2")
    with pytest.raises(ConvCostError, match="split"):
        patched(builtin("mobilenet_v2"), "4x4", split="classifier")
    with pytest.raises(ConvCostError, match="patches"):
        patched(builtin("mobilenet_v2"), "4x4x4")


# ---------------------------------------------------------------- fit checks


def test_sizes_and_boards() -> None:
    assert parse_size("256KiB", "sram") == 262_144
    assert parse_size("1MB", "flash") == 1_000_000
    assert parse_size("512KB", "sram") == 512_000
    assert parse_size("1.5 MiB", "sram") == 1_572_864
    assert parse_size(4096, "sram") == 4096
    for bad in ("1.5B", "0", "-1", "ten", "1e3", "1XB", True, 2.5):
        with pytest.raises(ConvCostError, match="sram"):
            parse_size(bad, "sram")
    assert capacity("stm32f746", "sram") == (327_680, BOARDS["stm32f746"])
    assert capacity("STM32F746", "flash")[0] == 1_048_576
    assert find_board("alif_e7").name == "alif-e7"
    with pytest.raises(ConvCostError, match="board"):
        capacity("stm32f999", "sram")


def test_fit_checks_and_the_fail_switch() -> None:
    network = builtin("mobilenet_v2")
    found = memory(network, "int8", inplace_depthwise=True)
    weights = weight_bytes(network, "int8")
    assert weights == 3_470_760
    fits = checks(found, weights, 320 * 1024, 4 * 1024 * 1024)
    assert [(f.what, f.fits, f.margin_bytes) for f in fits] == [
        ("peak", False, 327_680 - 1_404_928),
        ("best_order_peak", False, 327_680 - 1_404_928),
        ("weights", True, 4_194_304 - 3_470_760),
    ]
    assert misfits(fits) == [
        "sram: the peak activation memory in graph order needs 1,404,928 B, 1,077,248 B more than its 327,680 B"
    ]
    with_patches = patched(network, "4x4", "int8", inplace_depthwise=True)
    fits = checks(found, weights, 320 * 1024, None, with_patches)
    assert [f.what for f in fits if f.decides] == ["patches_peak"]
    assert misfits(fits) == []  # 312,816 B fits 320 KiB patch by patch
    assert checks(found, weights, None, None) == ()


# ---------------------------------------------------------------- the same from ONNX


def _torch_mobilenet_v2(torch: Any) -> Any:
    """torchvision's MobileNetV2 (width 1.0, 224²): conv-BN-ReLU6, inverted residuals, dropout."""
    nn = torch.nn

    def cbr(c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1, act: bool = True) -> list[Any]:
        layers = [
            nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        return layers + [nn.ReLU6(inplace=True)] if act else layers

    class Block(nn.Module):
        def __init__(self, c_in: int, c_out: int, stride: int, t: int) -> None:
            super().__init__()
            hidden = c_in * t
            layers = cbr(c_in, hidden, 1) if t != 1 else []
            layers += cbr(hidden, hidden, 3, stride, hidden) + cbr(hidden, c_out, 1, act=False)
            self.conv = nn.Sequential(*layers)
            self.residual = stride == 1 and c_in == c_out

        def forward(self, x: Any) -> Any:
            return x + self.conv(x) if self.residual else self.conv(x)

    setting = [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ]
    features: list[Any] = cbr(3, 32, 3, 2)
    c_in = 32
    for t, c, n, s in setting:
        for i in range(n):
            features.append(Block(c_in, c, s if i == 0 else 1, t))
            c_in = c
    features += cbr(c_in, 1280, 1)

    class MobileNetV2(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(*features)
            self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))

        def forward(self, x: Any) -> Any:
            x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
            return self.classifier(torch.flatten(x, 1))

    return MobileNetV2().eval()


def test_an_onnx_export_of_torchvision_s_mobilenet_v2_gives_the_same_peaks(torch, onnx, tmp_path) -> None:
    """Batch norm folded into the convs by the exporter, ReLU6 exported as Clip: each Clip runs in
    place on its conv's output, and the peaks are the built-in spec's."""
    import contextlib
    import io
    import warnings

    from convcost.io.onnx import load

    model = _torch_mobilenet_v2(torch)
    path = tmp_path / "mobilenet_v2.onnx"
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), str(path), dynamo=False, opset_version=17)
    network = evaluate(load(path.read_bytes(), str(path)).document)
    assert network.totals.macs == builtin("mobilenet_v2").totals.macs
    kinds = {row.type for row in network.rows}
    assert "batchnorm" not in kinds and "activation" in kinds
    in_place = memory(network, "int8", inplace_depthwise=True, best_order=False)
    assert in_place.peak_bytes == 1_404_928
    # features[4] is block 2 here (the stem's conv, BN and ReLU6 are features[0:3]): its expand
    # conv, then (without in-place depthwise) its depthwise conv.
    assert in_place.peak_at == "features_features_4_conv_conv_0_Conv"
    plain = memory(network, "int8", best_order=False)
    assert (plain.peak_bytes, plain.peak_at) == (1_505_280, "features_features_4_conv_conv_3_Conv")


@pytest.mark.parametrize("exporter", ["ts", "dynamo"])
def test_the_best_order_saves_on_shufflenet_s_downsampling_unit(onnx, exporter: str) -> None:
    """ShuffleNetV2's stride-2 unit, fp32. In graph order branch 1's output is already held when
    branch 2's 1×1 conv runs on the full-size input: 16·16·24 in + 8·8·24 + 16·16·24 out = 55,296 B.
    The best order runs branch 2's 1×1 conv and its (in-place) depthwise conv first, before
    branch 1 has made anything: 16·16·24 + 16·16·24 + one 8×8 channel = 49,408 B."""
    from convcost.io.onnx import load

    path = Path(__file__).parent / "fixtures" / "onnx" / f"shuffle_unit.{exporter}.onnx"
    network = evaluate(load(path.read_bytes(), str(path)).document)
    found = memory(network, "fp32", inplace_depthwise=True)
    assert found.best_order is not None and found.best_order.optimal
    assert (found.peak_bytes, found.best_order.peak_bytes) == (55_296, 49_408)


def _nas(name: str) -> Any:
    return evaluate(yaml.safe_load((NAS / f"{name}.yaml").read_text()))


@pytest.mark.parametrize(
    ("name", "graph_fp32", "at"),
    [("darts_v2_cifar", 786_432, "cell1_out"), ("nasnet_a_cifar", 983_040, "cell1_out")],
)
def test_nas_cell_stacks_peak_at_a_cell_s_concat_in_every_order_found(
    name: str, graph_fp32: int, at: str
) -> None:
    """DARTS V2 and NASNet-A, 8 cells of C = 16 on 32×32. DARTS: cell1's concat holds its four
    16-channel nodes, its own 64 channels and cell0's output (64, kept for cell2's preprocess0):
    192·32·32 = 196,608 elements. NASNet: five nodes, 80 + 80 + 80 = 240·1024. The cells form one
    part (each cell's output skips to the cell after next), past the search budget, and the greedy
    order is no lower, so the best order found is the graph's."""
    network = _nas(name)
    for dtype, scale in (("fp32", 1), ("int8", 4)):
        for inplace in (False, True):
            found = memory(network, dtype, inplace_depthwise=inplace)
            best = found.best_order
            assert best is not None and not best.optimal
            assert best.method == "graph order in the parts past the search budget"
            assert (found.peak_bytes * scale, found.peak_at) == (graph_fp32, at)
            assert best.peak_bytes == found.peak_bytes


def test_a_lower_order_for_nasnet_a_exists_past_the_search_budget() -> None:
    """Cells 2, 4, 5 and 7 read the output of the cell before last twice: in their ReLU-conv-BN
    preprocess0 and, earlier, in the previous cell's preprocess1. Running that preprocess0 right
    after that preprocess1 frees the 80-channel input before cell 1's concat: 229,376 B int8."""
    network = _nas("nasnet_a_cifar")
    p = plan(network)
    names = list(p.names)
    order = list(range(len(names)))
    for k in (2, 4, 5, 7):
        moved = [s for s in order if names[s].startswith(f"cell{k}_pre0")]
        rest = [s for s in order if s not in moved]
        at = max(i for i, s in enumerate(rest) if names[s].startswith(f"cell{k - 1}_pre1"))
        order = rest[: at + 1] + moved + rest[at + 1 :]
    position = {s: i for i, s in enumerate(order)}
    assert all(position[a] < position[s] for s in order for a in p.after[s])
    found = memory(network, "int8")
    assert found.best_order is not None and not found.best_order.optimal
    assert (max(simulate(p, order)), found.peak_bytes) == (229_376, 245_760)


def test_the_best_order_saves_on_a_two_cell_darts_network() -> None:
    """DARTS's NetworkCIFAR with layers=2: both cells reduce. In graph order cell0's preprocess1
    conv holds the stem (48 ch, kept for cell1's preprocess0), preprocess0's output (32), its own
    ReLU copy (48) and output (32): 160·32·32 = 163,840 B int8. The optimal order runs the two
    stride-2 max pools on preprocess0's output first (16·16·32 each), freeing it: 48 + 8 + 8 + 48
    + 32 = 144 channels' worth, 147,456 B (10 % less)."""
    network = _nas("darts_v2_2cells_cifar")
    for dtype, scale in (("fp32", 4), ("int8", 1)):
        found = memory(network, dtype, inplace_depthwise=True)
        best = found.best_order
        assert best is not None and best.optimal
        assert (found.peak_bytes, found.peak_at) == (163_840 * scale, "cell0_pre1_conv")
        assert (best.peak_bytes, best.peak_at) == (147_456 * scale, "cell0_pre1_conv")
        assert best.order.index("cell0_n2_op1") < best.order.index("cell0_pre1_relu")


@pytest.mark.parametrize(
    ("path", "at"),
    [
        (SPECS / "densenet121.yaml", "block1.6.conv1"),
        (
            Path(__file__).parent / "fixtures" / "onnx" / "densenet121.ts.onnx",
            "features_denseblock1_denselayer6_conv1_Conv",
        ),
    ],
)
def test_densenet_ties_because_its_order_is_forced(path: Path, at: str) -> None:
    """Each dense layer is one chain whose input also feeds its concat, so the graph has one
    topological order (of its steps that hold memory). Peak: block 1's layer 6 1×1 conv holds its
    224-channel input (kept for the concat), the batch norm's copy of it (224) and its 128-channel
    output at 56×56: 576·3136 = 1,806,336 B int8."""
    if path.suffix == ".onnx":
        pytest.importorskip("onnx")
        from convcost.io.onnx import load

        network = evaluate(load(path.read_bytes(), str(path)).document)
    else:
        network = evaluate(yaml.safe_load(path.read_text()))
    found = memory(network, "int8")
    assert found.best_order is not None and found.best_order.optimal
    assert (found.peak_bytes, found.peak_at, found.best_order.peak_bytes) == (1_806_336, at, 1_806_336)


def test_one_analysis_for_every_front_end() -> None:
    from convcost.model.memory_report import analyse

    found = analyse(
        builtin("mobilenet_v2"), "int8", inplace_depthwise=True, sram="stm32f746", flash="2MiB", patches="4x4"
    )
    data = found.as_dict()
    assert (data["peak_bytes"], data["peak_at"], data["sram_bytes"], data["boards"]) == (
        1_404_928,
        "b2.expand",
        327_680,
        ["stm32f746"],
    )
    assert data["steps"][3] == {"name": "b2.expand", "live_bytes": 1_404_928}
    assert data["best_order"]["order"][:2] == ["conv1", "b1.dw"]
    assert data["patches"]["split"] == "b4.project" and data["patches"]["peak_bytes"] == 312_816
    assert {f["what"]: f["fits"] for f in data["fits"]} == {
        "peak": False,
        "best_order_peak": False,
        "patches_peak": True,
        "weights": False,
    }
    assert found.misfits() == [
        "flash: the weights' total needs 3,470,760 B, 1,373,608 B more than its 2,097,152 B"
    ]
    text = "\n".join(found.lines())
    assert "Peak activation memory (int8, in-place depthwise): 1,404,928 B at b2.expand." in text
    assert "Patches 4x4 up to b4.project: 312,816 B" in text
    with pytest.raises(ConvCostError, match="sram"):
        analyse(builtin("mobilenet_v2"), sram="lots")
