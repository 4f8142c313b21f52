"""The specs shipped with the package, found by name (``convcost compare resnet50``).

They are package data (``convcost/specs/*.yaml``), so a name works from any directory after
``pip install``. A path to an existing file always wins over a name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

SPEC_DIR = Path(__file__).resolve().parent.parent / "specs"


class Builtin(NamedTuple):
    name: str
    path: Path
    title: str  # the first paragraph of the spec's header comment: the network and its paper

    @property
    def network(self) -> str:
        """The network, as the header names it (``ResNet-50, 224×224``)."""
        head = self.title.split(" — ", 1)[0]
        return head if " — " in self.title else head.split(". ", 1)[0].rstrip(".")

    @property
    def paper(self) -> str:
        """Authors, year and title of the paper the figures come from; empty when there is none."""
        if " — " not in self.title:
            return ""
        source = self.title.split(" — ", 1)[1]
        found = _PAPER.match(source)
        return found.group(1) if found else source.split(", Table")[0].rstrip(".")


#: ``Howard et al. 2017, "MobileNets"``: authors, a year, and the quoted title.
_PAPER = re.compile(r'^(.*?\b\d{4}[a-z]?, "[^"]*")')


def names() -> list[str]:
    return sorted(path.stem for path in SPEC_DIR.glob("*.yaml"))


def find(spec: str) -> Path | None:
    """The shipped spec called ``spec`` (with or without ``.yaml``), unless a file of that name exists."""
    stem = spec[: -len(".yaml")] if spec.endswith(".yaml") else spec
    if spec == "-" or not stem or "/" in stem or "\\" in stem or "\0" in stem or stem not in names():
        return None
    try:
        if Path(spec).exists():
            return None
    except OSError:  # a name the file system refuses (too long, …) is no file; the reader says why
        return None
    return SPEC_DIR / f"{stem}.yaml"


def nearest(spec: str, most: int = 3) -> list[str]:
    """The shipped specs' names nearest ``spec`` (a name or a path; its file name without
    ``.yaml``/``.json`` is compared): those it starts (``mobilenet``), else the closest by
    difflib (``mobilenetv2``)."""
    stem = re.split(r"[/\\]", spec)[-1].lower()
    for suffix in (".yaml", ".yml", ".json"):
        stem = stem.removesuffix(suffix)
    if not stem or len(stem) > 200:  # a long text is no misspelt name, and difflib is quadratic
        return []
    import difflib  # only when there is a mistake to explain

    every = names()
    found = [name for name in every if name.startswith(stem)]
    return (found or difflib.get_close_matches(stem, every, n=most, cutoff=0.6))[:most]


def not_found(spec: str) -> str:
    """What to say when ``spec`` is neither a file nor a shipped spec's name: the nearest names,
    and where to see them all (``convcost compare mobilenet``)."""
    from ..core.errors import show_value

    if not spec.strip():
        return (
            f"{show_value(spec)} names no file; give a spec file, a shipped spec's name "
            "(convcost models lists them) or '-' for stdin"
        )
    close = nearest(spec)
    if close:
        hint = f"; did you mean {', '.join(close)}? (convcost models lists them)"
    else:
        hint = " (convcost models lists the shipped ones)"
    return f"cannot read {show_value(spec)}: no such file or built-in spec{hint}"


def _title(path: Path) -> str:
    """The header comment's first paragraph, joined into one line."""
    words: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if "yaml-language-server" in line:
            continue
        if not line.startswith("#") or (words and not line[1:].strip()):
            break
        words.append(line[1:].strip())
    return " ".join(words)


def catalogue() -> list[Builtin]:
    return [Builtin(name, SPEC_DIR / f"{name}.yaml", _title(SPEC_DIR / f"{name}.yaml")) for name in names()]
