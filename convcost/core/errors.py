"""The one error type of the core: it names the field, the bad value and what is allowed.

Flags, spec files and the Python API all raise it, so the same mistake reads the
same way everywhere; the CLI and the spec loader only change how the field is
named (``--kernel`` or ``layers[3].kernel``).

Values in messages are shown short and escaped (:func:`show_value`), and every message
is escaped again when it is made, so that no name or value from a spec can add a line to
an error or send a terminal an escape sequence.

A bug inside convcost, caught by a guard, becomes one line too (:func:`internal_problem`),
unless ``CONVCOST_DEBUG=1`` is set: then it keeps its traceback, for a report.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from .limits import MAX_RESULT, digits

_MAX_SHOWN = 60
#: Characters rendered before a value is cut, however large or deep it is (an alias bomb's
#: expansion is never turned into text).
_RENDER_BUDGET = 200
_RENDER_DEPTH = 4
#: Longest field path and problem text kept in an error (a line stays readable).
_MAX_FIELD = 300
_MAX_PROBLEM = 1000

#: Control characters (C0, DEL, C1), line and paragraph separators, bidirectional overrides,
#: invisible characters no script needs (zero-width space, word joiner and invisible operators,
#: the byte-order mark: 'conv' and 'conv\u200b' would look the same), and lone surrogates (which
#: no stream can encode). The zero-width joiners (U+200C, U+200D) stay: scripts and emoji need them.
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b\u200e\u200f\u061c\u202a-\u202e\u2060-\u2064"
    "\u2066-\u2069\ufeff\ud800-\udfff]"
)


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_text(text: str) -> str:
    """``text`` with control characters and escape sequences written as ``\\x1b``, ``\\n``…

    Safe to apply twice: the result has no control characters left.
    """
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(_escape_char, text)


def shorten(text: str, limit: int = _MAX_SHOWN) -> str:
    """``text`` escaped and cut to ``limit`` characters (an ellipsis marks the cut)."""
    text = escape_text(text[: limit * 4])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _render(value: object, out: list[str], budget: list[int], depth: int, active: set[int]) -> None:
    """Append a repr-like rendering of ``value`` to ``out``, stopping once ``budget`` is spent."""
    if budget[0] <= 0:
        return
    if isinstance(value, str):
        piece = repr(value[: budget[0]])
    elif isinstance(value, bool) or value is None or isinstance(value, float):
        piece = repr(value)
    elif isinstance(value, int):
        piece = str(value) if -MAX_RESULT <= value <= MAX_RESULT else f"<an int of {digits(value):,} digits>"
    elif isinstance(value, (list, tuple, dict)):
        if id(value) in active or depth >= _RENDER_DEPTH:
            piece = "[...]" if not isinstance(value, dict) else "{...}"
        else:
            _render_container(value, out, budget, depth, active)
            return
    else:
        try:
            piece = repr(value)
        except Exception:  # a hostile object's repr: say what it is instead
            piece = f"<{type(value).__name__}>"
    out.append(piece[: budget[0]])
    budget[0] -= len(piece)


def _render_container(
    value: list[object] | tuple[object, ...] | dict[object, object],
    out: list[str],
    budget: list[int],
    depth: int,
    active: set[int],
) -> None:
    is_dict = isinstance(value, dict)
    opening, closing = ("{", "}") if is_dict else ("(", ")") if isinstance(value, tuple) else ("[", "]")
    out.append(opening)
    budget[0] -= 1
    active.add(id(value))
    pairs: Iterable[tuple[object, object]] = (
        value.items() if isinstance(value, dict) else ((None, item) for item in value)
    )
    for index, (key, item) in enumerate(pairs):
        if budget[0] <= 0:
            break
        if index:
            out.append(", ")
            budget[0] -= 2
        if is_dict:
            _render(key, out, budget, depth + 1, active)
            out.append(": ")
            budget[0] -= 2
        _render(item, out, budget, depth + 1, active)
    active.discard(id(value))
    if isinstance(value, tuple) and len(value) == 1:
        out.append(",")
    out.append(closing)
    budget[0] -= 1


def show_value(value: object) -> str:
    """A short, unambiguous rendering of a user's value for an error message.

    Text is quoted (``'abc'``), anything else shown as Python shows it; at most 60
    characters, control characters escaped. Only the first few hundred characters of a
    value are ever rendered, so a huge or self-referencing value costs nothing.
    """
    out: list[str] = []
    _render(value, out, [_RENDER_BUDGET], 0, set())
    return shorten("".join(out))


class ConvCostError(ValueError):
    """A value the arithmetic cannot accept.

    ``field`` is a path such as ``kernel`` or ``layers[3].body[1].out``;
    ``problem`` says what is wrong with the value and what is allowed.
    """

    def __init__(self, field: str, problem: str, *, line: int | None = None) -> None:
        # escaped here, so that no message, wherever it is printed, carries a control character
        self.field = shorten(str(field), _MAX_FIELD)
        self.problem = shorten(str(problem), _MAX_PROBLEM)
        self.line = line
        super().__init__(f"{self.field}: {self.problem}")

    def within(self, prefix: str, *, line: int | None = None) -> ConvCostError:
        """The same error, its field placed under ``prefix`` (a spec path)."""
        field = f"{prefix}.{self.field}" if self.field else prefix
        return ConvCostError(field, self.problem, line=self.line if self.line is not None else line)


def bad_value(field: str, value: object, allowed: str) -> ConvCostError:
    """The common case: ``field: <value> is not allowed; <allowed>``."""
    return ConvCostError(field, f"{show_value(value)} is not allowed; {allowed}")


#: What a bug in convcost raises, as opposed to a refusal: a guard around a converter catches
#: these and says so in one line (:func:`internal_problem`), never a traceback.
INTERNAL = (ArithmeticError, AssertionError, AttributeError, LookupError, TypeError, ValueError)

#: Set to 1 (any value but empty or 0), internal errors re-raise with their traceback.
DEBUG_VARIABLE = "CONVCOST_DEBUG"


def debugging() -> bool:
    """Whether ``CONVCOST_DEBUG`` asks for internal errors' tracebacks."""
    return os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")


def internal_problem(exc: BaseException, doing: str = "convert it", subject: str = "the model") -> str:
    """The one line a guard puts in a :class:`ConvCostError` for ``exc``, a bug in convcost.

    With ``CONVCOST_DEBUG=1`` it re-raises ``exc`` instead, its traceback intact, so that the
    report can say where the bug is. Call it in the ``except`` block that caught ``exc``::

        except INTERNAL as exc:
            raise ConvCostError("spec", internal_problem(exc)) from None
    """
    if debugging():
        raise exc
    detail = " ".join(str(exc).split())[:300]
    return (
        f"convcost cannot {doing} (an internal error, {type(exc).__name__}: {detail}); "
        f"please report it with {subject}"
    )
