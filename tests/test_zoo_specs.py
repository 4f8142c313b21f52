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
