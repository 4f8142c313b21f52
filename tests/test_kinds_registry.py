"""The registry of layer kinds: field kinds, the documented order, and one entry per name."""

from __future__ import annotations

from typing import get_args

import pytest

from convcost.io.schema import DEFINITIONS
from convcost.model import kinds
from convcost.model.kinds import COMMON_FIELDS, KINDS, TYPE_NAMES, FieldKind
from convcost.model.kinds.registry import Kind, put_in_order, register
from convcost.model.spec_check import TOP_LEVEL

#: Field kinds the schema writes inline rather than as a definition.
INLINE = {"bool", "str", "choice", "branches"}


def test_every_field_kind_but_the_inline_ones_has_a_schema_definition() -> None:
    assert set(get_args(FieldKind)) - INLINE == set(DEFINITIONS)


def test_every_field_kind_is_used_by_some_field() -> None:
    fields = [*COMMON_FIELDS.values(), *TOP_LEVEL.values()]
    fields += [field for kind in KINDS.values() for field in kind.fields.values()]
    assert {field.kind for field in fields} == set(get_args(FieldKind))


def test_the_kinds_come_in_the_documented_order() -> None:
    assert TYPE_NAMES[:7] == ("conv", "transposed", "depthwise", "separable", "pool", "linear", "batchnorm")
    assert TYPE_NAMES[14:17] == ("repeat", "residual", "branches")
    assert TYPE_NAMES[-2:] == ("parameter", "opaque")
    assert tuple(KINDS) == TYPE_NAMES


def test_a_kind_the_order_does_not_name_follows_the_named_ones() -> None:
    saved = dict(KINDS)
    try:
        register(Kind("zz_extra", "A kind for this test.", {}))
        register(Kind("aa_extra", "Another.", {}))
        put_in_order(("opaque", "conv"))
        assert list(KINDS)[:2] == ["opaque", "conv"]
        assert list(KINDS)[-2:] == ["zz_extra", "aa_extra"]
        assert set(KINDS) == set(saved) | {"zz_extra", "aa_extra"}
    finally:
        KINDS.clear()
        KINDS.update(saved)


def test_the_order_may_not_name_a_kind_never_registered() -> None:
    with pytest.raises(ValueError, match="unregistered kinds: nothing"):
        put_in_order(("conv", "nothing"))
    assert tuple(KINDS) == TYPE_NAMES


def test_a_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="'conv' is registered twice"):
        register(Kind("conv", "Again.", {}))


def test_every_handler_is_importable_from_the_package() -> None:
    handlers = {kind.handler for kind in KINDS.values() if kind.handler is not None}
    named = {h for h in handlers if h.__name__.startswith("cost_")}
    assert len(named) >= 25  # all but the element-wise merges' shared closure
    for handler in named:
        assert getattr(kinds, handler.__name__) is handler
        assert handler.__name__ in kinds.__all__
    assert all(hasattr(kinds, name) for name in kinds.__all__)
