"""The command line: build inputs, call :mod:`convcost.api` once, hand the result to the output.

``group`` holds the ``convcost`` group and what every command shares, ``options`` the flags,
``errors`` how every error becomes one line, ``commands`` and ``plot`` the commands.
"""

from __future__ import annotations

from . import commands, plot  # noqa: F401  (registers the commands on the group)
from .group import cli, main

__all__ = ["cli", "main"]
