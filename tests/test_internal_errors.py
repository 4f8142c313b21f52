"""A bug caught by a guard is one line; with CONVCOST_DEBUG=1 it keeps its traceback."""

from __future__ import annotations

import traceback

import pytest

from convcost.core.errors import INTERNAL, ConvCostError, debugging, internal_problem


def _guarded() -> None:
    """A converter's guard around a bug: the shape internal errors take in the package."""
    try:
        table: dict[str, int] = {}
        table["missing"]  # the bug: a lookup that fails
    except INTERNAL as exc:
        raise ConvCostError("spec", internal_problem(exc)) from None


def test_an_internal_error_is_one_line_naming_its_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONVCOST_DEBUG", raising=False)
    with pytest.raises(ConvCostError) as caught:
        _guarded()
    assert str(caught.value) == (
        "spec: convcost cannot convert it (an internal error, KeyError: 'missing'); "
        "please report it with the model"
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_the_detail_is_one_line_and_short() -> None:
    problem = internal_problem(ValueError("a\nb\t c" + "x" * 1000), "read it", "the file")
    assert "\n" not in problem and "a b c" in problem
    assert problem.startswith("convcost cannot read it (an internal error, ValueError: a b c")
    assert problem.endswith("); please report it with the file")
    assert len(problem) < 400


@pytest.mark.parametrize("value", ["1", "yes"])
def test_convcost_debug_re_raises_with_the_traceback(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CONVCOST_DEBUG", value)
    assert debugging()
    with pytest.raises(KeyError) as caught:
        _guarded()
    frames = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert "_guarded" in frames  # where the bug happened, not only where it was re-raised


@pytest.mark.parametrize("value", ["", "0"])
def test_convcost_debug_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CONVCOST_DEBUG", value)
    assert not debugging()
    with pytest.raises(ConvCostError):
        _guarded()


def _relu_model():
    from tests.onnx_build import build, node

    return build([node("Relu", ["x"], ["y"], name="act")], [("x", [1, 4, 8, 8])], [("y", [1, 4, 8, 8])])


def test_the_onnx_converters_guard_names_the_node_and_obeys_convcost_debug(
    monkeypatch: pytest.MonkeyPatch, onnx
) -> None:
    import dataclasses

    from convcost.io.onnx import registry
    from tests.onnx_build import cost

    model = _relu_model()
    entry = registry.lookup("Relu")
    assert entry is not None and entry.handler is not None

    def bug(*args: object) -> None:
        raise KeyError("a converter bug")

    monkeypatch.setitem(registry.OPS, "Relu", dataclasses.replace(entry, handler=bug))
    monkeypatch.delenv("CONVCOST_DEBUG", raising=False)
    with pytest.raises(ConvCostError) as caught:
        cost(model)
    assert "act" in str(caught.value) and "internal error, KeyError" in str(caught.value)
    monkeypatch.setenv("CONVCOST_DEBUG", "1")
    with pytest.raises(KeyError):
        cost(model)
