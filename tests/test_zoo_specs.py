"""The modern-network specs: pinned totals, and equal to PyTorch reimplementations under FlopCounterMode."""

from __future__ import annotations

from pathlib import Path

import pytest

from convcost.io.spec_file import read
from convcost.model.evaluate import evaluate

SPECS = Path(__file__).parent.parent / "specs"

#: spec → (MACs, params), torchvision's layout; each also checked against torch below.
ZOO = {
    "efficientnet_b0": (385_814_752, 5_288_548),
    "mobilenet_v3_large": (216_589_760, 5_483_032),
    "densenet121": (2_834_161_664, 7_978_856),
    "shufflenet_v2_x1_0": (144_907_992, 2_278_604),
    "convnext_tiny": (4_455_531_264, 28_589_128),
    "vit_b_16": (17_563_828_224, 86_567_656),
}


def cost(name: str, **what_if):
    from convcost.model.whatif import options

    return evaluate(read((SPECS / f"{name}.yaml").read_bytes()), options(**what_if))


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_spec_totals_are_pinned(name) -> None:
    net = cost(name)
    assert (net.totals.macs, net.totals.params) == ZOO[name]
    assert net.output_shape == (1000,)


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_spec_equals_its_torch_reimplementation(torch, name) -> None:
    from tests.torch_nets import zoo
    from tests.torch_nets.truth import count

    model, shape = getattr(zoo, name)()
    truth = count(model, shape)
    net = cost(name)
    assert (net.totals.macs, net.totals.params) == (truth["macs"], truth["params"])


def test_zoo_specs_take_what_ifs() -> None:
    half = cost("mobilenet_v3_large", width_mult="0.5")
    small = cost("efficientnet_b0", input_shape="160x160x3")
    assert half.totals.macs < ZOO["mobilenet_v3_large"][0] / 2
    assert small.totals.macs < ZOO["efficientnet_b0"][0] * 0.55  # (160/224)² ≈ 0.51
    regular = cost("shufflenet_v2_x1_0", as_form="regular")
    assert regular.totals.macs > ZOO["shufflenet_v2_x1_0"][0]


def test_densenet_channels_grow_copy_by_copy() -> None:
    rows = {row.name: row for row in cost("densenet121").rows}
    assert rows["block1.1.cat"].output_shape == (56, 56, 96)
    assert rows["block1.6.cat"].output_shape == (56, 56, 256)
    assert rows["block4.16.cat"].output_shape == (7, 7, 1024)


def test_vit_attention_matmuls_are_macs() -> None:
    rows = [row for row in cost("vit_b_16").rows if row.type == "matmul"]
    assert len(rows) == 24 and sum(row.counts.macs for row in rows) == 2 * 12 * 197**2 * 768
    assert rows[0].output_shape == (12, 197, 197)


def test_convnext_layer_scale_is_counted_once_per_block_and_keeps_the_receptive_field() -> None:
    net = cost("convnext_tiny")
    gammas = [row for row in net.rows if row.name.endswith(".gamma")]
    assert (
        len(gammas) == 18 and sum(row.counts.params for row in gammas) == 3 * 96 + 3 * 192 + 9 * 384 + 3 * 768
    )
    last_block = next(row for row in net.rows if row.name == "stage4.3.block.add")
    assert last_block.receptive_field is not None and last_block.receptive_field.stride == (32, 32)


#: Every spec that reproduces a torchvision model carries its module names (mobilenet_v1 has
#: no torchvision model).
NAMED_LIKE_TORCHVISION = [
    "resnet18", "resnet50", "vgg16", "mobilenet_v2", "efficientnet_b0", "mobilenet_v3_large",
    "densenet121", "shufflenet_v2_x1_0", "convnext_tiny", "vit_b_16",
]  # fmt: skip


@pytest.mark.parametrize("name", NAMED_LIKE_TORCHVISION)
def test_conv_and_linear_rows_carry_torchvisions_module_names(torch, name) -> None:
    """The rows with weights name the modules that hold them: torch's Conv2d and Linear modules,
    and a MultiheadAttention for ViT's input projection (its weights are the attention's own)."""
    from tests.torch_nets import zoo

    model, _ = getattr(zoo, name)()
    layers = (torch.nn.Conv2d, torch.nn.Linear, torch.nn.MultiheadAttention)
    want = [path for path, module in model.named_modules() if isinstance(module, layers)]
    got = [row.module for row in cost(name).rows if row.type in ("conv", "depthwise", "linear")]
    assert got == want


def test_resnet50_rows_cover_torchvisions_modules(torch) -> None:
    """Every leaf module of torchvision's ResNet-50 (ReLUs included) has rows, and every row
    names a module torchvision has: a block's add, the block itself."""
    from tests.torch_nets import zoo

    model, _ = zoo.resnet50()
    modules = dict(model.named_modules())
    leaves = {path for path, module in modules.items() if not list(module.children())}
    rows = cost("resnet50").rows
    assert {row.module for row in rows} & leaves == leaves
    assert {row.module for row in rows} <= set(modules)
    assert [row.name for row in rows if row.module == "layer1.0.relu"] == [
        "layer1.block1.relu1", "layer1.block1.relu2", "layer1.relu1"
    ]  # fmt: skip
