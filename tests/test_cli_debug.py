"""CONVCOST_DEBUG=1: a guard that turns a bug into one line lets it through, traceback and all."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from convcost import api
from convcost.cli import cli


def _deep(*args, **kwargs):
    raise RecursionError("maximum recursion depth exceeded")


@pytest.mark.parametrize("value", ["", "0"])
def test_a_recursion_is_one_line_without_debug(monkeypatch, value: str) -> None:
    monkeypatch.setattr(api, "cost", _deep)
    result = CliRunner().invoke(cli, ["compare", "resnet18"], env={"CONVCOST_DEBUG": value})
    assert result.exit_code == 2
    assert result.stderr == "Error: the input nests too deeply\n"


def test_debug_re_raises_it_with_its_traceback(monkeypatch) -> None:
    monkeypatch.setattr(api, "cost", _deep)
    result = CliRunner().invoke(cli, ["compare", "resnet18"], env={"CONVCOST_DEBUG": "1"})
    assert isinstance(result.exception, RecursionError)
    assert result.exc_info is not None and result.exc_info[2] is not None  # the traceback is kept
