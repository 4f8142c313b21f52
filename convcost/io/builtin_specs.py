"""The specs shipped with the package, found by name (``convcost compare resnet50``).

They are package data (``convcost/specs/*.yaml``), so a name works from any directory after
``pip install``. A path to an existing file always wins over a name.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

SPEC_DIR = Path(__file__).resolve().parent.parent / "specs"


class Builtin(NamedTuple):
    name: str
    path: Path
    title: str  # the first line of the spec's header comment: the network and its paper


def names() -> list[str]:
    return sorted(path.stem for path in SPEC_DIR.glob("*.yaml"))


def find(spec: str) -> Path | None:
    """The shipped spec called ``spec`` (with or without ``.yaml``), unless a file of that name exists."""
    if spec == "-" or Path(spec).exists():
        return None
    stem = spec[: -len(".yaml")] if spec.endswith(".yaml") else spec
    if "/" in stem or "\\" in stem or not stem:
        return None
    path = SPEC_DIR / f"{stem}.yaml"
    return path if path.is_file() else None


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
