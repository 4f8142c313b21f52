"""The one error type of the core: it names the field, the bad value and what is allowed.

Flags, spec files and the Python API all raise it, so the same mistake reads the
same way everywhere; the CLI and the spec loader only change how the field is
named (``--kernel`` or ``layers[3].kernel``).
"""

from __future__ import annotations

_MAX_SHOWN = 60


def show_value(value: object) -> str:
    """A short, unambiguous rendering of a user's value for an error message."""
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 1] + "…"
    return text


class ConvCostError(ValueError):
    """A value the arithmetic cannot accept.

    ``field`` is a path such as ``kernel`` or ``layers[3].body[1].out``;
    ``problem`` says what is wrong with the value and what is allowed.
    """

    def __init__(self, field: str, problem: str, *, line: int | None = None) -> None:
        self.field = field
        self.problem = problem
        self.line = line
        super().__init__(f"{field}: {problem}")

    def within(self, prefix: str, *, line: int | None = None) -> ConvCostError:
        """The same error, its field placed under ``prefix`` (a spec path)."""
        field = f"{prefix}.{self.field}" if self.field else prefix
        return ConvCostError(field, self.problem, line=self.line if self.line is not None else line)


def bad_value(field: str, value: object, allowed: str) -> ConvCostError:
    """The common case: ``field: <value> is not allowed; <allowed>``."""
    return ConvCostError(field, f"{show_value(value)} is not allowed; {allowed}")
