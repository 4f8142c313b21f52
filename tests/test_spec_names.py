"""A spec that is neither a file nor a shipped spec's name (issue 20): the nearest shipped names
and ``convcost models``, where ``compare mobilenet`` said only "No such file or directory"."""

from __future__ import annotations

import pytest

from convcost.io.builtin_specs import names, nearest, not_found


@pytest.mark.parametrize(
    ("spec", "close"),
    [
        ("mobilenet", ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large"]),  # every name it starts
        ("resnet", ["resnet18", "resnet50"]),
        ("ResNet50", ["resnet50"]),  # case aside, a name
        ("vit", ["vit_b_16"]),
        ("densenet", ["densenet121"]),  # what it starts, not what merely looks alike
        ("mobilenetv2", ["mobilenet_v2", "mobilenet_v1", "mobilenet_v3_large"]),  # a typo: difflib
        ("resnet05", ["resnet50", "resnet18"]),
        ("nets/vgg.yaml", ["vgg16"]),  # a missing file: its name, without folder and suffix
        ("C:\\nets\\efficientnet.json", ["efficientnet_b0"]),
        ("zzz", []),
        ("", []),
        ("x" * 10_000, []),
    ],
)
def test_the_nearest_shipped_names(spec: str, close: list[str]) -> None:
    assert nearest(spec) == close
    assert set(close) <= set(names())


def test_the_message_names_the_nearest_and_convcost_models() -> None:
    assert not_found("mobilenet") == (
        "cannot read 'mobilenet': no such file or built-in spec; "
        "did you mean mobilenet_v1, mobilenet_v2, mobilenet_v3_large? (convcost models lists them)"
    )
    assert not_found("zzz") == (
        "cannot read 'zzz': no such file or built-in spec (convcost models lists the shipped ones)"
    )
    escaped = not_found("a\x1b[31mb\nc")  # a name is data: it adds no line, sends no escape
    assert "\x1b" not in escaped and "\n" not in escaped and "\\x1b" in escaped
