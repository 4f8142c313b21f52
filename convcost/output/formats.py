"""The output formats, named once: ``--format`` offers these and :mod:`.emit` writes them."""

from __future__ import annotations

from typing import Literal

Format = Literal["table", "json", "csv", "markdown", "html"]
FORMATS: tuple[Format, ...] = ("table", "json", "csv", "markdown", "html")
