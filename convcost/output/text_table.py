"""Plain-text tables that fit a width without ever cutting a number or a shape.

A view is a list of blocks — :class:`Table`, :class:`Para` — rendered here to lines.
Column widths are computed once per table and every line is written directly, so a
10,000-row table costs about what formatting its cells does. When a table is wider
than the terminal it narrows, in this order, until it fits:

1. the gaps between columns go from three spaces to two; names longer than
   :data:`NAME_KEEP` shorten in the middle (``sep7_…_11.3``), prose at a word;
2. lower-priority columns give way — to a narrower form (``in → out`` to ``output``) or
   entirely — in the order their ``drop`` rank says, and a note under the table names
   them and how to see them (``--wide``; ``--format`` for every field). A column marked
   ``outlives_names`` (compare's shapes) gives way only once names are down to
   :data:`NAME_MIN`: a shortened name still tells rows apart, a missing shape tells nothing;
3. names shorten further, down to :data:`HARD_MIN`;
4. each row becomes a small block of ``label  value`` lines.

Numbers and shapes are never shortened, at any width: a cell that is not a name or prose
is always whole (at a width below even step 4 the line is simply wider than asked).
Lines carry no trailing spaces; ANSI styles only when asked for (a terminal).
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions

Align = Literal["left", "right"]
#: How a column's cells may be shortened: never, in the middle (names), or at a word (prose).
Shrink = Literal["never", "middle", "words"]
Style = Literal["", "dim", "bold"]

ELLIPSIS = "…"
#: Names up to this long stay whole while any column can still give way; longer ones shorten first.
NAME_KEEP = 40
#: Names shorten to this (``layer3…ample.0``) before a column marked ``outlives_names`` gives way:
#: its head and tail still say which stage and which layer a row is.
NAME_MIN = 16
#: Prose (a paper's title, a description) shortens to this before any column gives way.
PROSE_MIN = 20
#: Once every column that can give way has, names and prose shorten down to this.
HARD_MIN = 8

_ANSI = {"dim": "\x1b[2m", "bold": "\x1b[1m"}
_RESET = "\x1b[0m"


# ---------------------------------------------------------------- cells


def cell_len(text: str) -> int:
    """Columns ``text`` takes on a terminal (East Asian wide characters take two, marks none)."""
    if text.isascii() or max(text) < "\u0300":
        return len(text)
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _fit_prefix(text: str, width: int) -> str:
    """The longest prefix of ``text`` that takes at most ``width`` columns."""
    if cell_len(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        w = cell_len(char)
        if used + w > width:
            break
        out.append(char)
        used += w
    return "".join(out)


def _fit_suffix(text: str, width: int) -> str:
    return _fit_prefix(text[::-1], width)[::-1]


#: A cut may not leave a digit, a comma or a point just before the ellipsis, nor start inside a run
#: of digits after it: a shortened name never looks like a cut number.
_NUMBERISH = re.compile(r"[\d,.]")


def _good_cut(text: str, head: int, tail: int) -> bool:
    if head and _NUMBERISH.match(text[head - 1]):
        return False
    start = len(text) - tail
    return not (tail and start > 0 and text[start].isdigit() and text[start - 1].isdigit())


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


#: A name's bracketed note, ``features.3 (add)``, ``stage2.1 (4 layers, 2 calls)``: kept whole.
_NOTE = re.compile(r"(.*\S) (\([^()]*\))")


def shorten_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns, its middle replaced by ``…`` (``sep7_…3.sep``).

    A bracketed note at the end says what the name is and is never cut into: the name before
    it shortens instead, and where that would leave the name under :data:`HARD_MIN` columns
    the note itself becomes ``(…)`` (cut, ``stage2.1 (4 …2 calls)`` read as a range of numbers).
    """
    if cell_len(text) <= width:
        return text
    note = _NOTE.fullmatch(text)
    if note:
        name, said = note.groups()
        for tail in (f" {said}", f" ({ELLIPSIS})"):
            room = width - cell_len(tail)
            if room >= min(cell_len(name), HARD_MIN):
                return _shorten_name(name, room) + tail
    return _shorten_name(text, width)


def _shorten_name(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns, its middle replaced by ``…``.

    The end is kept a little longer than the start (it tells rows apart: ``.1``, ``.2``), and
    the cut never splits a run of digits or leaves one just before the ellipsis. Of the cuts
    that fill the width, the one that drops the fewest digits wins: they tell ``layer3.5`` from
    ``layer3.4`` (``layer3.5.d…ple.0``, not ``lay…wnsample.0``).
    """
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    if not text.isascii():  # wide characters: cut by columns, simply
        start = _fit_prefix(text, (width - 1) // 2)
        return start + ELLIPSIS + _fit_suffix(text, width - 1 - cell_len(start))
    budget = width - 1
    best: tuple[int, int] | None = None
    for used in range(budget, 0, -1):
        preferred = used - (used * 11) // 20  # the head gets 45 %
        # the head keeps at least a third: the start says where a row is (sep7_…, not …7_11)
        cuts = [head for head in range(used // 3, used + 1) if _good_cut(text, head, used - head)]
        if cuts:
            drop = len(text) - used  # how many characters the cut takes out
            head = min(cuts, key=lambda h: (_digits(text[h : h + drop]), abs(h - preferred), h))
            best = (head, used - head)
            break
    head, tail = best or (0, budget)
    return text[:head] + ELLIPSIS + (text[len(text) - tail :] if tail else "")


def shorten_words(text: str, width: int) -> str:
    """``text`` cut at a word boundary to at most ``width`` columns, with ``…``; words stay whole."""
    if cell_len(text) <= width:
        return text
    words = text.split(" ")
    kept: list[str] = []
    used = 0
    for word in words:
        extra = cell_len(word) + (1 if kept else 0)
        if used + extra + 1 > width:
            break
        kept.append(word)
        used += extra
    if not kept:
        return shorten_middle(text, width)
    short = " ".join(kept).rstrip(",;:")
    # "2017…" or "e.g.…" would read as a number cut short: the ellipsis stands apart from them.
    if _NUMBERISH.match(short[-1]) and cell_len(short) + 2 <= width:
        return short + " " + ELLIPSIS
    if _NUMBERISH.match(short[-1]):
        return shorten_words(" ".join(kept[:-1]), width) if len(kept) > 1 else shorten_middle(text, width)
    return short + ELLIPSIS


# ---------------------------------------------------------------- blocks


class _RichBlock:
    """Any block also prints through Rich (``Console.print``), laid out at the console's width."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Any]:
        from rich.text import Text

        for line in block_lines(self, options.max_width):  # type: ignore[arg-type]
            yield Text(line, no_wrap=True, overflow="ignore")


@dataclass
class Column:
    """One column: its header, its formatted cells, and how it behaves when space is short."""

    label: str
    cells: list[str]
    align: Align = "left"
    footer: str = ""
    shrink: Shrink = "never"
    #: 0: always shown. Otherwise the column gives way when the table is too wide, highest rank first.
    drop: int = 0
    #: A narrower form shown in this column's place when it gives way (it has its own rank).
    narrow: Column | None = None
    #: What the note calls the column when it is left out (default: its label).
    what: str = ""
    #: Names shorten to :data:`NAME_MIN` before this column gives way (shapes outlive names).
    outlives_names: bool = False

    def natural(self) -> int:
        cells = self.cells
        longest = max(map(cell_len, cells), default=0) if cells else 0
        return max(cell_len(self.label), longest, cell_len(self.footer))


@dataclass
class Table(_RichBlock):
    """A table with a title (lines), a header, a rule, rows and an optional footer row."""

    columns: list[Column]
    title: list[str] = field(default_factory=list)
    row_styles: list[Style] | None = None  # one per row, or None for all plain
    #: Shown in the note when columns were left out: how to see them.
    see_all: str = "See them with --wide; every field with --format csv or json"

    @property
    def rows(self) -> int:
        return len(self.columns[0].cells) if self.columns else 0


@dataclass
class Para(_RichBlock):
    """A line of prose: wrapped at word boundaries on a terminal, never within a word."""

    text: str
    style: Style = ""


@dataclass
class Legend(Para):
    """What some of ``table``'s columns mean (label → meaning), said only of the columns the table
    shows at the width at hand: a column left out to fit needs no legend. ``text`` (what a page,
    which shows every column, prints) says it of every column the table has."""

    table: Table | None = None
    meanings: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.text and self.table is not None:
            self.text = self.said_of({c.label for c in self.table.columns})

    def said_of(self, shown: set[str]) -> str:
        said = [f"{label}: {meaning}" for label, meaning in self.meanings if label in shown]
        return "; ".join(said) + "." if said else ""

    def shown_text(self, width: int | None) -> str:
        if self.table is None:
            return self.text
        return self.said_of({c.label for c in layout(self.table, width).columns})


@dataclass
class Blank(_RichBlock):
    """An empty line."""


@dataclass
class Drawn(_RichBlock):
    """Lines drawn for the width at hand (the sweep's text chart); an HTML page draws its own."""

    draw: Callable[[int | None], list[str]]


Block = Table | Para | Blank | Drawn


# ---------------------------------------------------------------- layout


@dataclass
class Layout:
    columns: list[Column]
    widths: list[int]
    gap: int
    left_out: list[str]  # what the note names
    stacked: bool = False  # rows as blocks of label/value lines


def _total(widths: Sequence[int], gap: int) -> int:
    return 1 + sum(widths) + gap * (len(widths) - 1) if widths else 0


def _fit_shrinkable(
    columns: list[Column], naturals: list[int], gap: int, width: int, names: int, prose: int
) -> list[int] | None:
    """Widths that fit ``width``, names no narrower than ``names`` and prose than ``prose``; None if
    that is impossible."""
    widths = list(naturals)
    excess = _total(widths, gap) - width
    if excess <= 0:
        return widths
    mins = []
    for col, w in zip(columns, widths, strict=True):
        if col.shrink == "never":
            mins.append(w)
        else:
            low = names if col.shrink == "middle" else prose
            mins.append(min(w, max(cell_len(col.label), low)))
    if sum(w - m for w, m in zip(widths, mins, strict=True)) < excess:
        return None
    while excess > 0:  # take a column at a time from the one with the most to give
        index = max((i for i in range(len(widths)) if widths[i] > mins[i]), key=lambda i: widths[i] - mins[i])
        widths[index] -= 1
        excess -= 1
    return widths


def layout(table: Table, width: int | None) -> Layout:
    """Which columns, how wide, and what was left out, for ``width`` columns (None: natural width)."""
    columns = list(table.columns)
    naturals = [c.natural() for c in columns]
    if width is None or _total(naturals, 3) <= width:
        return Layout(columns, naturals, 3, [])
    gap = 2
    left_out: list[str] = []
    names = NAME_KEEP
    while True:
        fitted = _fit_shrinkable(columns, naturals, gap, width, names, PROSE_MIN)
        if fitted is not None:
            return Layout(columns, fitted, gap, left_out)
        ranked = [i for i, c in enumerate(columns) if c.drop]
        if not ranked:
            break
        index = max(ranked, key=lambda i: (columns[i].drop, i))
        gone = columns[index]
        if gone.outlives_names and names > NAME_MIN:
            names = NAME_MIN  # names shorten further before this column goes: try again
            continue
        left_out.append(gone.what or gone.label)
        if gone.narrow is not None:
            columns[index] = gone.narrow
            naturals[index] = gone.narrow.natural()
        else:
            del columns[index]
            del naturals[index]
    fitted = _fit_shrinkable(columns, naturals, gap, width, HARD_MIN, HARD_MIN)
    if fitted is not None:
        return Layout(columns, fitted, gap, left_out)
    return Layout(list(table.columns), [c.natural() for c in table.columns], 3, [], stacked=True)


# ---------------------------------------------------------------- rendering


def _styled(line: str, style: Style, color: bool) -> str:
    return f"{_ANSI[style]}{line}{_RESET}" if color and style and line else line


def _pad(text: str, width: int, align: Align) -> str:
    extra = width - cell_len(text)
    if extra <= 0:
        return text
    return text + " " * extra if align == "left" else " " * extra + text


def _fitted_cells(col: Column, width: int) -> list[str]:
    if col.shrink == "never" or width >= col.natural():
        return col.cells
    cut = shorten_middle if col.shrink == "middle" else shorten_words
    memo: dict[str, str] = {}
    out = []
    for cell in col.cells:
        short = memo.get(cell)
        if short is None:
            short = memo[cell] = cut(cell, width)
        out.append(short)
    return out


def _column_texts(col: Column, width: int) -> list[str]:
    """The cells padded to ``width`` (fast when every cell is one column per character)."""
    cells = _fitted_cells(col, width)
    simple = all(c.isascii() or max(c) < "\u0300" for c in cells)
    if simple:
        if col.align == "left":
            return [c.ljust(width) for c in cells]
        return [c.rjust(width) for c in cells]
    return [_pad(c, width, col.align) for c in cells]


def table_lines(table: Table, width: int | None, color: bool = False) -> list[str]:
    """The table as lines: title, blank, header, rule, rows, [blank, footer], blank, [note]."""
    lines = [_styled(line, "bold", color) for title in table.title for line in wrap(title, width)]
    if not table.columns:
        return lines
    plan = layout(table, width)
    if plan.stacked:
        return lines + _stacked_lines(table, width, color)
    gap = " " * plan.gap
    cols, widths = plan.columns, plan.widths
    lines.append("")
    header = " " + gap.join(_pad(c.label, w, c.align) for c, w in zip(cols, widths, strict=True))
    lines.append(_styled(header.rstrip(), "bold", color))
    lines.append(" " + "─" * (_total(widths, plan.gap) - 1))
    texts = [_column_texts(c, w) for c, w in zip(cols, widths, strict=True)]
    styles = table.row_styles
    for i, parts in enumerate(zip(*texts, strict=True)):
        line = (" " + gap.join(parts)).rstrip()
        lines.append(_styled(line, styles[i], color) if styles else line)
    if any(c.footer for c in cols):
        lines.append("")
        footer = " " + gap.join(_pad(c.footer, w, c.align) for c, w in zip(cols, widths, strict=True))
        lines.append(_styled(footer.rstrip(), "bold", color))
    lines.append("")
    if plan.left_out:
        note = f"Left out to fit {width} columns: {', '.join(plan.left_out)}. {table.see_all}."
        lines.extend(_styled(line, "dim", color) for line in wrap(note, width))
        lines.append("")
    return lines


def _stacked_lines(table: Table, width: int | None, color: bool) -> list[str]:
    """Each row as its first cell, then ``label  value`` lines: nothing is cut at any width
    (a value too long for the line wraps at its spaces, ``224×224×3 →`` then ``112×112×32``)."""
    first, rest = table.columns[0], table.columns[1:]
    pad = max((cell_len(c.label) for c in rest), default=0)

    def pair(label: str, value: str, style: Style) -> list[str]:
        head = f"  {_pad(label, pad, 'left')}  "
        if width is None or cell_len(head + value) <= width:
            return [_styled(head + value, style, color)]
        indent = " " * cell_len(head)
        parts = textwrap.wrap(
            value, max(width - len(indent), 1), break_long_words=False, break_on_hyphens=False
        )
        if any(cell_len(indent + part) > width for part in parts):  # the value under its label
            indent = "    "
            parts = textwrap.wrap(value, max(width - 4, 1), break_long_words=False, break_on_hyphens=False)
            return [_styled(head.rstrip(), style, color)] + [_styled(indent + p, style, color) for p in parts]
        return [_styled((head if i == 0 else indent) + part, style, color) for i, part in enumerate(parts)]

    def name(cell: str) -> str:
        text = cell.strip()
        if first.align == "right":  # a number (a sweep's value): alone, ``2`` reads as a row's index
            return f"{first.label} {text}"
        return shorten_middle(text, width) if width is not None and first.shrink == "middle" else text

    lines = [""]
    for i in range(table.rows):
        style = table.row_styles[i] if table.row_styles else ""
        lines.append(_styled(name(first.cells[i]), style or "bold", color))
        for col in rest:
            if col.cells[i]:
                lines.extend(pair(col.label, col.cells[i], style))
    if any(c.footer for c in table.columns):
        lines.append(_styled(first.footer or "total", "bold", color))
        for col in rest:
            if col.footer:
                lines.extend(pair(col.label, col.footer, ""))
    lines.append("")
    return lines


def wrap(text: str, width: int | None) -> list[str]:
    """``text`` wrapped at spaces to ``width`` (None: one line); a word is never broken."""
    if width is None or cell_len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def block_lines(block: Block, width: int | None, color: bool = False) -> list[str]:
    if isinstance(block, Table):
        return table_lines(block, width, color)
    if isinstance(block, Legend):
        text = block.shown_text(width)
        return [_styled(line, block.style, color) for line in wrap(text, width)] if text else []
    if isinstance(block, Para):
        return [_styled(line, block.style, color) for line in wrap(block.text, width)]
    if isinstance(block, Drawn):
        return [line.rstrip() for line in block.draw(width)]
    return [""]


def render(blocks: Sequence[Block], width: int | None, color: bool = False) -> str:
    """Every block as text, one newline after each line."""
    lines: list[str] = []
    for block in blocks:
        lines.extend(block_lines(block, width, color))
    return "\n".join(lines) + "\n" if lines else ""
