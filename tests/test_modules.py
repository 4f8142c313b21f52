"""Every row's ``module``: the dotted module path PyTorch would give it, from the nesting of
blocks and names, or from an entry's ``module`` key."""

from __future__ import annotations

import pytest

from convcost.model.evaluate import evaluate
from convcost.model.spec_check import SpecErrors


def modules(layers: list[dict], **spec: object) -> list[tuple[str, str]]:
    net = evaluate({"input": "8x8x4", "layers": layers, **spec})
    return [(row.name, row.module) for row in net.rows]


def test_without_module_keys_the_module_is_the_name_with_copies_from_0() -> None:
    got = modules(
        [
            {"name": "stem", "out": 4, "kernel": 1},
            {
                "name": "stage",
                "type": "repeat",
                "times": 2,
                "layers": [
                    {
                        "name": "block",
                        "type": "residual",
                        "body": [{"name": "conv", "out": 4, "kernel": 1}],
                        "shortcut": [{"name": "proj", "out": 4, "kernel": 1}],
                    }
                ],
            },
            {
                "name": "fork",
                "type": "branches",
                "branches": [[{"name": "a", "out": 2, "kernel": 1}], [{"name": "b", "out": 2, "kernel": 1}]],
            },
        ]
    )
    assert got == [
        ("stem", "stem"),
        ("stage.1.block.conv", "stage.0.block.conv"),
        ("stage.1.block.shortcut.proj", "stage.0.block.shortcut.proj"),
        ("stage.1.block.add", "stage.0.block"),  # a merge belongs to its block, as forward()'s ops do
        ("stage.2.block.conv", "stage.1.block.conv"),
        ("stage.2.block.shortcut.proj", "stage.1.block.shortcut.proj"),
        ("stage.2.block.add", "stage.1.block"),
        ("fork.0.a", "fork.0.a"),
        ("fork.1.b", "fork.1.b"),
        ("fork.concat", "fork"),
    ]


def test_module_keys_give_torchvision_paths_and_a_shared_module() -> None:
    block = {
        "name": "block",
        "type": "residual",
        "module": "",
        "body": [
            {"name": "conv1", "out": 4, "kernel": 1},
            {"name": "relu1", "type": "activation", "module": "relu"},
            {"name": "conv2", "out": 4, "kernel": 1},
        ],
        "shortcut": [{"name": "proj", "out": 4, "kernel": 1, "module": "downsample.0"}],
    }
    got = modules(
        [
            {
                "name": "layer1",
                "type": "repeat",
                "times": 1,
                "layers": [
                    {**block, "name": "first", "module": "0"},
                    {"name": "relu", "type": "activation", "module": "0.relu"},
                    {
                        "name": "rest",
                        "type": "repeat",
                        "times": 3,
                        "module": "",
                        "first_index": 1,
                        "layers": [block, {"name": "relu", "type": "activation", "module": "relu"}],
                    },
                ],
            }
        ]
    )
    by_name = dict(got)
    assert by_name["layer1.first.conv1"] == "layer1.0.conv1"
    assert by_name["layer1.first.shortcut.proj"] == "layer1.0.downsample.0"
    assert by_name["layer1.first.add"] == "layer1.0"
    assert by_name["layer1.rest.1.block.conv2"] == "layer1.1.conv2"
    assert by_name["layer1.rest.3.block.shortcut.proj"] == "layer1.3.downsample.0"  # a copy of a Run
    # names stay unique; the ReLU module called twice in a block (and once after it) repeats
    assert len({name for name, _ in got}) == len(got)
    assert [name for name, module in got if module == "layer1.2.relu"] == [
        "layer1.rest.2.block.relu1",
        "layer1.rest.2.relu",
    ]


def test_a_repeat_of_one_is_a_group_unless_first_index_numbers_it() -> None:
    body = [{"name": "conv", "out": 4, "kernel": 1}]
    assert modules([{"name": "g", "type": "repeat", "times": 1, "layers": body}]) == [("g.conv", "g.conv")]
    numbered = {"name": "g", "type": "repeat", "times": 1, "first_index": 5, "layers": body}
    assert modules([numbered]) == [("g.conv", "g.5.conv")]


def test_rows_of_settled_copies_number_their_modules_like_costed_ones() -> None:
    # copies after the first settle into one shape and are costed once (a Run); their modules
    # still number copy by copy
    got = modules(
        [
            {
                "name": "s",
                "type": "repeat",
                "times": 50,
                "first_index": 2,
                "layers": [{"name": "c", "out": 4, "kernel": 1}],
            }
        ]
    )
    assert [m for _, m in got] == [f"s.{i}.c" for i in range(2, 52)]


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        (
            {"name": "c", "out": 4, "kernel": 1, "module": "a..b"},
            "layers[0].module: 'a..b' is not a module path",
        ),
        ({"name": "c", "out": 4, "kernel": 1, "module": 3}, "layers[0].module: 3 is not a module path"),
        ({"name": "c", "out": 4, "kernel": 1, "module": "a b"}, "is not a module path"),
        (
            {
                "name": "r",
                "type": "repeat",
                "times": 2,
                "first_index": -1,
                "layers": [{"out": 4, "kernel": 1}],
            },
            "layers[0].first_index: -1",
        ),
    ],
)
def test_bad_module_keys_are_refused_naming_the_entry(entry, needle) -> None:
    with pytest.raises(SpecErrors) as caught:
        evaluate({"input": "8x8x4", "layers": [entry]})
    assert needle in str(caught.value)


@pytest.mark.parametrize(
    ("module", "shown"),
    [
        ("a\x00b", "'a\\x00b'"),
        ("a\tb", "'a\\tb'"),
        ("a\u202eb", "'a\\u202eb'"),  # a bidi override: would show one path as another
        ("a\u200bb", "'a\\u200bb'"),  # a zero-width space
        ("a" * 201, "'aaaa"),
        (".".join(["a"] * 101), "'a.a.a"),  # 201 characters of levels
    ],
)
def test_module_keys_are_bounded_and_hold_no_control_characters(module, shown) -> None:
    with pytest.raises(SpecErrors) as caught:
        evaluate({"input": "8x8x4", "layers": [{"name": "c", "out": 4, "kernel": 1, "module": module}]})
    message = str(caught.value)
    assert message.startswith(f"layers[0].module: {shown}") and "at most 200 characters" in message
    assert "\n" not in message and message.isprintable()


def test_a_module_key_of_200_characters_and_unicode_levels_is_kept() -> None:
    longest = ".".join(["ab"] * 66) + ".cd"
    assert len(longest) == 200
    assert modules([{"name": "c", "out": 4, "kernel": 1, "module": longest}]) == [("c", longest)]
    assert modules([{"name": "c", "out": 4, "kernel": 1, "module": "модуль.0"}]) == [("c", "модуль.0")]


def test_a_repeat_module_template_and_step_number_copies_as_torchvision_does() -> None:
    # DenseNet's copies are named denselayer1, denselayer2; VGG's conv copies sit two apart in
    # one nn.Sequential (conv, ReLU)
    dense = {
        "name": "b",
        "type": "repeat",
        "times": 3,
        "module": "features.denseblock1.denselayer{}",
        "first_index": 1,
        "layers": [{"name": "conv1", "out": 4, "kernel": 1}],
    }
    assert [m for _, m in modules([dense])] == [
        f"features.denseblock1.denselayer{i}.conv1" for i in (1, 2, 3)
    ]
    vgg = {
        "name": "block2",
        "type": "repeat",
        "times": 3,
        "module": "features.{}",
        "first_index": 5,
        "index_step": 2,
        "layers": [{"name": "conv", "out": 4, "kernel": 3, "padding": 1, "module": ""}],
    }
    assert [m for _, m in modules([vgg])] == ["features.5", "features.7", "features.9"]


def test_only_a_repeat_module_may_hold_the_copy_number() -> None:
    with pytest.raises(SpecErrors) as caught:
        evaluate({"input": "8x8x4", "layers": [{"name": "c", "out": 4, "kernel": 1, "module": "c{}"}]})
    assert "layers[0].module: 'c{}': only a repeat's module may hold {}" in str(caught.value)


def test_json_rows_carry_their_module() -> None:
    import json

    from click.testing import CliRunner

    from convcost.cli import cli

    data = json.loads(CliRunner().invoke(cli, ["compare", "resnet50", "--json"]).stdout)
    by_name = {row["name"]: row["module"] for row in data["layers"]}
    assert by_name["layer1.block1.conv1"] == "layer1.0.conv1"
    assert by_name["layer2.blocks.3.block.conv3"] == "layer2.3.conv3"
    assert list(data["layers"][0])[:3] == ["name", "module", "type"]
